//! Deucravacitinib, the TYK2 inhibitor (knowledge.md 4.7): investigational in SLE, no
//! published phase 3 efficacy, approved only for psoriasis. Its verdict is never permissive
//! (see [`super::other_agents`]); it also gets its own card pointing to clinical trials.

use super::Decision;

/// True when the order gets the investigational-TYK2 card.
pub fn applies(decision: &Decision) -> bool {
    decision.is_tyk2()
}

/// What the TYK2 card states.
pub const STATEMENTS: [&str; 3] = [
    "Deucravacitinib is a TYK2 inhibitor, approved only for plaque psoriasis",
    "It is investigational in SLE: no published phase 3 efficacy",
    "Consider enrolment in a clinical trial rather than off-label use",
];

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{decide, ReasonCode};
    use super::*;
    use crate::facts::Agent;

    #[test]
    fn only_deucravacitinib_gets_the_tyk2_card() {
        let d = decide(&eligible(), &order(Agent::Deucravacitinib, Some(6.0)), kb());
        assert!(applies(&d));
        assert!(d.verdict.has(ReasonCode::Investigational));
        let d = decide(&eligible(), &order(Agent::Baricitinib, Some(4.0)), kb());
        assert!(!applies(&d));
    }
}
