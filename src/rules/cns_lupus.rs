//! Neuropsychiatric (CNS) lupus (knowledge.md 4.1): excluded from the SLE trials, no efficacy
//! data; local policy.

use super::finding::{Finding, Input, Level};
use super::ReasonCode;

pub fn rule(i: &Input) -> Vec<Finding> {
    if i.facts.cns_lupus.is_empty() {
        return Vec::new();
    }
    vec![Finding::new(
        Level::DoNotStart,
        ReasonCode::CnsLupus,
        "Neuropsychiatric lupus: excluded from the SLE trials, no efficacy data (local policy)"
            .into(),
        i.facts.cns_lupus.clone(),
    )]
}
