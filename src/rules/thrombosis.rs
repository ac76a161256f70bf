//! Antiphospholipid syndrome or arterial thrombosis, any clinical status (knowledge.md 4.1,
//! 4.12): increased thrombosis risk; US labels: avoid.

use super::finding::{attributed, Finding, Input, Level};
use super::ReasonCode;

pub fn rule(i: &Input) -> Vec<Finding> {
    let f = &i.facts.risk.thrombosis_risk;
    if f.is_empty() {
        return Vec::new();
    }
    vec![Finding::new(
        Level::DoNotStart,
        ReasonCode::ThrombosisRisk,
        format!(
            "Antiphospholipid syndrome or arterial thrombosis: increased thrombosis risk ({})",
            attributed(i.agent(), "avoid")
        ),
        f.clone(),
    )]
}
