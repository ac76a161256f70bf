//! Active lupus nephritis (knowledge.md 4.1): excluded from the SLE trials; treat per lupus
//! nephritis guidance (ACR 2024, KDIGO 2024). UPCR grades it when available.

use super::finding::{Finding, Input, Level};
use super::{num, ReasonCode};

pub fn rule(i: &Input) -> Vec<Finding> {
    let facts = i.facts;
    if facts.active_lupus_nephritis.is_empty() {
        return Vec::new();
    }
    let u = &i.kb.thresholds.upcr;
    let mut sources = facts.active_lupus_nephritis.clone();
    let severity = match &facts.upcr {
        Some(m) => {
            sources.push(m.source.clone());
            if m.value >= u.nephrotic_at_least_g_per_g {
                format!("; UPCR {} g/g, nephrotic range", num(m.value))
            } else if m.value >= u.active_at_least_g_per_g {
                format!("; UPCR {} g/g", num(m.value))
            } else {
                format!(
                    "; UPCR {} g/g does not corroborate activity: if in remission, update the diagnosis",
                    num(m.value)
                )
            }
        }
        None => String::new(),
    };
    vec![Finding::new(
        Level::DoNotStart,
        ReasonCode::ActiveLupusNephritis,
        format!("Active lupus nephritis: excluded from the SLE trials, treat per nephritis guidelines (local policy){severity}"),
        sources,
    )]
}
