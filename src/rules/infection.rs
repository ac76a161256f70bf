//! Active serious infection, incl. herpes zoster and chronic infections (knowledge.md 2, 4.1):
//! labels: do not start during an active serious infection, including localised and chronic
//! ones.

use super::finding::{attributed, Finding, Input, Level};
use super::ReasonCode;

pub fn rule(i: &Input) -> Vec<Finding> {
    let f = &i.facts.risk.infection.present;
    if f.is_empty() {
        return Vec::new();
    }
    vec![Finding::new(
        Level::DoNotStart,
        ReasonCode::ActiveInfection,
        format!(
            "Active serious infection ({})",
            attributed(
                i.agent(),
                "do not start during an active serious infection, incl. localised or chronic"
            )
        ),
        f.clone(),
    )]
}
