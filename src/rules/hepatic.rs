//! Severe hepatic impairment (knowledge.md 2, 4.1): labels: not recommended (Xeljanz EU:
//! contraindicated). Moderate impairment is a tofacitinib dose finding (4.4b).

use super::finding::{attributed, Finding, Input, Level};
use super::ReasonCode;
use crate::facts::HepaticSeverity;

pub fn rule(i: &Input) -> Vec<Finding> {
    let Some(h) = i
        .facts
        .risk
        .hepatic
        .as_ref()
        .filter(|h| h.severity == HepaticSeverity::Severe)
    else {
        return Vec::new();
    };
    vec![Finding::new(
        Level::DoNotStart,
        ReasonCode::SevereHepaticImpairment,
        format!(
            "Severe hepatic impairment ({})",
            attributed(i.agent(), "not recommended")
        ),
        h.sources.clone(),
    )]
}
