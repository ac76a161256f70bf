//! Facts about the draft orders: which JAK/TYK2 inhibitor, which strength, which daily dose.

use super::{dose, medications};
use crate::cds::{DraftOrder, OrderContext};
use crate::fhir::PatientRecord;
use crate::knowledge::drugs::MatchedBy;
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
    /// Every agent, in the order of knowledge.md 3a (knowledge files are checked against it).
    pub const ALL: [Agent; 12] = [
        Agent::Baricitinib,
        Agent::Tofacitinib,
        Agent::Upadacitinib,
        Agent::Ruxolitinib,
        Agent::Abrocitinib,
        Agent::Ritlecitinib,
        Agent::Deuruxolitinib,
        Agent::Filgotinib,
        Agent::Fedratinib,
        Agent::Pacritinib,
        Agent::Momelotinib,
        Agent::Deucravacitinib,
    ];

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
    /// Why the dose could not be read ("no dose on the order", "dose in tablets but the
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
///
/// The agent is recognised by RxNorm ingredient/SCD/SBD code or ATC code, else by ingredient or
/// brand name in the text or displays. A `medicationReference` is resolved among the Medications
/// sent with the draft orders, the order's contained resources ("#id") and the record's
/// Medications. Orders naming a topical product (Opzelura, delgocitinib) or with a topical form
/// or route are out of scope.
pub fn classify_orders<'a>(
    ctx: &'a OrderContext,
    record: &PatientRecord,
    kb: &Knowledge,
) -> Vec<JakOrder<'a>> {
    ctx.orders
        .iter()
        .filter_map(|draft| classify(draft, &ctx.draft_medications, record, kb))
        .collect()
}

fn classify<'a>(
    draft: &'a DraftOrder,
    draft_medications: &[crate::fhir::model::Medication],
    record: &PatientRecord,
    kb: &Knowledge,
) -> Option<JakOrder<'a>> {
    let req = &draft.request;
    let view = medications::view(
        req.medication_codeable_concept.as_ref(),
        req.medication_reference.as_ref(),
        &req.contained,
        draft_medications,
        record,
    );
    let found = view.identify(kb);
    let m = found.iter().find(|m| m.drug.agent.is_some())?;
    let agent = m.drug.agent?;
    if view.texts().iter().any(|t| kb.drugs.names_out_of_scope(t))
        || view.is_non_systemic(kb, &req.dosage_instruction)
    {
        return None;
    }
    let strength = view.strength(m);
    let mut matched_by = m.matched_by.to_string();
    let unverified_code = |kind: &str| m.drug.unverified.iter().any(|u| u == kind);
    let unverified = m.product.is_some_and(|p| p.unverified)
        || match m.matched_by {
            MatchedBy::Atc(_) => unverified_code("atc"),
            MatchedBy::RxNorm(_) => unverified_code("rxcui"),
            MatchedBy::Text(_) => false,
        };
    if unverified {
        matched_by.push_str(" (code UNVERIFIED)");
    }
    Some(JakOrder {
        draft,
        agent,
        matched_by,
        label: view.label(),
        strength_mg: strength.and_then(|s| s.per_unit_mg()),
        dose: dose::read(&req.dosage_instruction, strength),
    })
}
