//! Breast-feeding (knowledge.md 2, 4.1): Xeljanz SmPC: contraindicated; Olumiant and Rinvoq
//! SmPCs: should not be used.

use super::finding::{attributed, Finding, Input, Level};
use super::ReasonCode;
use crate::facts::Agent;

pub fn rule(i: &Input) -> Vec<Finding> {
    let f = &i.facts.risk.breastfeeding.present;
    if f.is_empty() {
        return Vec::new();
    }
    let says = if i.agent() == Agent::Tofacitinib {
        "contraindicated during breast-feeding (EU)"
    } else {
        "should not be used during breast-feeding (EU)"
    };
    vec![Finding::new(
        Level::DoNotStart,
        ReasonCode::Breastfeeding,
        format!("Breast-feeding ({})", attributed(i.agent(), says)),
        f.clone(),
    )]
}
