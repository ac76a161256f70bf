//! Life-threatening refractory disease (knowledge.md 4.8): where the verdict advises against
//! the order, point to specialist referral and clinical trials (including anti-CD19 CAR-T)
//! for rapidly progressive disease.

use super::{Verdict, VerdictKind};

/// True when the card links to specialist referral and clinical trials.
pub fn applies(verdict: &Verdict) -> bool {
    matches!(
        verdict.kind,
        VerdictKind::Contraindicated | VerdictKind::NotRecommended
    )
}

/// What the card says about it.
pub const STATEMENT: &str = "For rapidly progressive or life-threatening refractory disease, refer to a specialist centre and consider clinical trials, including anti-CD19 CAR-T cell therapy";

#[cfg(test)]
mod tests {
    use super::super::{Reason, ReasonCode};
    use super::*;

    #[test]
    fn referral_only_when_advising_against() {
        let v = |kind| Verdict {
            kind,
            reasons: vec![Reason::new(ReasonCode::BarMet, "x", vec![])],
        };
        assert!(applies(&v(VerdictKind::Contraindicated)));
        assert!(applies(&v(VerdictKind::NotRecommended)));
        assert!(!applies(&v(VerdictKind::Conditional)));
    }
}
