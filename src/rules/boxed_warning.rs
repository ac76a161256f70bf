//! The boxed-warning / EMA risk profile (knowledge.md 2, 4.3b): age >= 65, current or former
//! smoking, atherosclerotic cardiovascular disease, malignancy (any history), and recurrent
//! serious infections. The permissive verdict becomes a warning naming them.

use super::finding::{Finding, Input, Level};
use super::ReasonCode;

/// Short names of the risk factors present ("age 68", "smoker", ...), with their facts.
pub fn factors(i: &Input) -> Vec<(String, Vec<crate::facts::FactSource>)> {
    let r = &i.facts.risk;
    let mut out = Vec::new();
    if let Some(a) = r
        .age
        .as_ref()
        .filter(|a| a.years >= i.kb.thresholds.v2.boxed_warning_age)
    {
        // The age says it all; its source (Patient.birthDate) stays in the facts for the audit.
        out.push((format!("age {}", a.years), Vec::new()));
    }
    for (name, f) in [
        ("current or former smoker", &r.smoking),
        ("cardiovascular disease", &r.ascvd),
        ("malignancy", &r.malignancy),
        ("recurrent serious infections", &r.recurrent_infections),
    ] {
        if !f.is_empty() {
            out.push((name.to_string(), f.clone()));
        }
    }
    out
}

pub fn rule(i: &Input) -> Vec<Finding> {
    factors(i)
        .into_iter()
        .map(|(name, facts)| Finding::new(Level::Risk, ReasonCode::BoxedWarningRisk, name, facts))
        .collect()
}
