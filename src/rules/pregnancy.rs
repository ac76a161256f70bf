//! Pregnancy (knowledge.md 2, 4.1): EU SmPCs of baricitinib, tofacitinib and upadacitinib:
//! contraindicated; US labels: may cause fetal harm.

use super::finding::{attributed, Finding, Input, Level};
use super::ReasonCode;

pub fn rule(i: &Input) -> Vec<Finding> {
    let f = &i.facts.risk.pregnancy.present;
    if f.is_empty() {
        return Vec::new();
    }
    vec![Finding::new(
        Level::DoNotStart,
        ReasonCode::Pregnancy,
        format!(
            "Pregnancy ({})",
            attributed(i.agent(), "contraindicated in pregnancy (EU)")
        ),
        f.clone(),
    )]
}
