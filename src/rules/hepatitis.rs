//! Active hepatitis B or C (knowledge.md 2, 4.1): Rinvoq: not recommended; the other agents'
//! trials excluded it (local policy).

use super::finding::{Finding, Input, Level};
use super::ReasonCode;
use crate::facts::Agent;

pub fn rule(i: &Input) -> Vec<Finding> {
    let h = &i.facts.risk.hepatitis;
    let facts: Vec<_> = h.active_hbv.iter().chain(&h.active_hcv).cloned().collect();
    if facts.is_empty() {
        return Vec::new();
    }
    let who = if i.agent() == Agent::Upadacitinib {
        "Rinvoq label: not recommended"
    } else {
        "local policy: excluded from the trials"
    };
    vec![Finding::new(
        Level::DoNotStart,
        ReasonCode::ActiveHepatitis,
        format!("Active hepatitis B or C ({who}); refer to hepatology"),
        facts,
    )]
}
