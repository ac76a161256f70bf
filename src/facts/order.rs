//! Facts about the draft orders: which JAK/TYK2 inhibitor, which strength, which daily dose.

use crate::cds::{DraftOrder, OrderContext};
use crate::fhir::PatientRecord;
use crate::knowledge::Knowledge;

/// Systemic JAK inhibitors and the TYK2 inhibitor deucravacitinib (knowledge.md 3a).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Agent {
    Baricitinib,
    Tofacitinib,
    Upadacitinib,
    Ruxolitinib,
    Abrocitinib,
    Ritlecitinib,
    Deuruxolitinib,
    Filgotinib,
    Fedratinib,
    Pacritinib,
    Momelotinib,
    Deucravacitinib,
}

impl Agent {
    pub fn name(self) -> &'static str {
        match self {
            Agent::Baricitinib => "baricitinib",
            Agent::Tofacitinib => "tofacitinib",
            Agent::Upadacitinib => "upadacitinib",
            Agent::Ruxolitinib => "ruxolitinib",
            Agent::Abrocitinib => "abrocitinib",
            Agent::Ritlecitinib => "ritlecitinib",
            Agent::Deuruxolitinib => "deuruxolitinib",
            Agent::Filgotinib => "filgotinib",
            Agent::Fedratinib => "fedratinib",
            Agent::Pacritinib => "pacritinib",
            Agent::Momelotinib => "momelotinib",
            Agent::Deucravacitinib => "deucravacitinib",
        }
    }

    pub fn is_tyk2(self) -> bool {
        self == Agent::Deucravacitinib
    }
}

/// The ordered dose, as far as it could be read.
#[derive(Debug, Clone, PartialEq)]
pub enum DoseReading {
    Known {
        mg_per_dose: f64,
        doses_per_day: f64,
        mg_per_day: f64,
    },
    /// Why the dose could not be read ("no dosageInstruction", "dose in tablets but the
    /// product strength is unknown", ...).
    Unknown { reason: String },
}

/// One in-scope draft order.
#[derive(Debug, Clone)]
pub struct JakOrder<'a> {
    pub draft: &'a DraftOrder,
    pub agent: Agent,
    /// How the agent was recognised: "RxNorm 1357541", "ATC L04AF02", "text 'Olumiant'".
    pub matched_by: String,
    /// The medication as ordered (text or display), for card text.
    pub label: String,
    /// Product strength in mg per unit, when known (product table or text).
    pub strength_mg: Option<f64>,
    pub dose: DoseReading,
}

/// The in-scope orders of the context (systemic JAK or TYK2 inhibitors; topical products are
/// out of scope), in context order.
pub fn classify_orders<'a>(
    ctx: &'a OrderContext,
    record: &PatientRecord,
    kb: &Knowledge,
) -> Vec<JakOrder<'a>> {
    let _ = (ctx, record, kb);
    Vec::new()
}
