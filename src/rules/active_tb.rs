//! Active tuberculosis (knowledge.md 4.1): do not start.

use super::finding::{attributed, Finding, Input, Level};
use super::ReasonCode;

pub fn rule(i: &Input) -> Vec<Finding> {
    if i.facts.active_tb.is_empty() {
        return Vec::new();
    }
    vec![Finding::new(
        Level::DoNotStart,
        ReasonCode::ActiveTb,
        format!(
            "Active tuberculosis ({})",
            attributed(i.agent(), "do not start during active tuberculosis")
        ),
        i.facts.active_tb.clone(),
    )]
}
