//! eGFR (knowledge.md 4.1): baricitinib below 30 and upadacitinib below 15 — not recommended
//! (label; do not start). Other agents below 30 (not upadacitinib, whose 15-<30 range is a dose
//! finding, 4.4b): a warning naming their label's renal dosing.

use super::finding::{Finding, Input, Level};
use super::{num, ReasonCode};
use crate::facts::Agent;

pub fn rule(i: &Input) -> Vec<Finding> {
    let Some(egfr) = &i.facts.egfr else {
        return Vec::new();
    };
    let e = &i.kb.thresholds.egfr;
    let v = egfr.value;
    let src = vec![egfr.source.clone()];
    let finding = match i.agent() {
        Agent::Baricitinib if v < e.contraindicated_below => Finding::new(
            Level::DoNotStart,
            ReasonCode::RenalContraindication,
            format!(
                "eGFR {} is below {}: Olumiant label: not recommended",
                num(v),
                num(e.contraindicated_below)
            ),
            src,
        ),
        Agent::Upadacitinib if v < e.upadacitinib_not_recommended_below => Finding::new(
            Level::DoNotStart,
            ReasonCode::RenalContraindication,
            format!(
                "eGFR {} is below {} (end-stage renal disease): Rinvoq label: not recommended",
                num(v),
                num(e.upadacitinib_not_recommended_below)
            ),
            src,
        ),
        Agent::Baricitinib | Agent::Upadacitinib => return Vec::new(),
        other if v < e.contraindicated_below => Finding::new(
            Level::NotRecommended,
            ReasonCode::RenalLabelDosing,
            format!(
                "eGFR {} is below {}: follow the renal dosing of the {} label",
                num(v),
                num(e.contraindicated_below),
                super::finding::label_name(other).unwrap_or("product")
            ),
            src,
        ),
        _ => return Vec::new(),
    };
    vec![finding]
}
