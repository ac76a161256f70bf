//! VTE history (knowledge.md 4.1): do not start. Local policy: the SLE trials excluded it; the
//! US labels say avoid in patients at increased risk of thrombosis, the EU SmPCs use caution.

use super::finding::{Finding, Input, Level};
use super::ReasonCode;

pub fn rule(i: &Input) -> Vec<Finding> {
    if i.facts.vte_history.is_empty() {
        return Vec::new();
    }
    vec![Finding::new(
        Level::DoNotStart,
        ReasonCode::VteHistory,
        "Venous thromboembolism on record (a resolved one counts): local policy, as the SLE trials excluded it; US labels: avoid with increased thrombosis risk".into(),
        i.facts.vte_history.clone(),
    )]
}
