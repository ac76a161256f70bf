//! Clinical facts derived from the gathered FHIR data (knowledge.md section 2). Every fact
//! keeps its source (resource, date, value with unit) so that cards can show what they used.

pub mod order;

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::fhir::PatientRecord;
use crate::knowledge::Knowledge;

pub use order::{Agent, DoseReading, JakOrder};

/// Where a fact came from: shown in card detail as "what (date; reference)".
#[derive(Debug, Clone, PartialEq)]
pub struct FactSource {
    /// "Observation/egfr-1"; "Condition/(no id)" when the resource had none.
    pub reference: String,
    pub date: Option<NaiveDate>,
    /// Human-readable value: "eGFR 45 mL/min/1.73m2", "Lupus nephritis (ICD-10-CM M32.14), active".
    pub what: String,
}

/// A number in canonical units, with its source.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// In the canonical unit: eGFR mL/min/1.73m2; ALC and ANC 10^3/uL; Hb g/dL; UPCR g/g;
    /// SLEDAI-2K points; glucocorticoid mg/day prednisone-equivalent.
    pub value: f64,
    pub unit: &'static str,
    pub source: FactSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TbTestResult {
    Positive,
    Negative,
    Indeterminate,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TbScreen {
    pub result: TbTestResult,
    pub source: FactSource,
}

/// Standard therapies whose exhaustion is part of the off-label bar (knowledge.md 4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Therapy {
    Rituximab,
    Mycophenolate,
    Belimumab,
    Cyclophosphamide,
}

impl Therapy {
    pub fn name(self) -> &'static str {
        match self {
            Therapy::Rituximab => "rituximab",
            Therapy::Mycophenolate => "mycophenolate",
            Therapy::Belimumab => "belimumab",
            Therapy::Cyclophosphamide => "cyclophosphamide",
        }
    }
}

/// Label limitation of use (knowledge.md 4.6): agents not to combine with a JAK inhibitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CoTherapyClass {
    JakInhibitor,
    Biologic,
    PotentImmunosuppressant,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CoTherapy {
    pub class: CoTherapyClass,
    /// Ingredient name, e.g. "azathioprine".
    pub agent: String,
    pub source: FactSource,
}

/// Current glucocorticoid exposure in prednisone-equivalent mg/day.
#[derive(Debug, Clone, PartialEq)]
pub struct GlucocorticoidDose {
    pub mg_per_day: f64,
    /// The orders (or the dose Observation) summed, each with its own mg/day in `what`.
    pub sources: Vec<FactSource>,
    /// Active glucocorticoid orders whose dose could not be read (the sum may be too low).
    pub unreadable: Vec<FactSource>,
}

/// Data the rules would use but that is missing or older than its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GapItem {
    Sledai,
    Egfr,
    Cbc,
    TbScreening,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DataGap {
    pub item: GapItem,
    /// The latest value found, when there is one but it is older than the window.
    pub stale: Option<FactSource>,
}

/// Everything the rules know about the patient.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatientFacts {
    pub today: Option<NaiveDate>,
    /// SLE Conditions (not refuted / entered-in-error). Empty: no SLE, the service is silent.
    pub sle: Vec<FactSource>,
    pub vte_history: Vec<FactSource>,
    pub active_tb: Vec<FactSource>,
    pub latent_tb_untreated: Vec<FactSource>,
    pub active_lupus_nephritis: Vec<FactSource>,
    /// Latest UPCR within its window (g/g), corroborating nephritis severity.
    pub upcr: Option<Measurement>,
    pub cns_lupus: Vec<FactSource>,
    pub egfr: Option<Measurement>,
    pub alc: Option<Measurement>,
    pub anc: Option<Measurement>,
    pub hb: Option<Measurement>,
    pub glucocorticoid: Option<GlucocorticoidDose>,
    pub sledai: Option<Measurement>,
    pub msk_cutaneous: Vec<FactSource>,
    pub therapies_tried: BTreeMap<Therapy, Vec<FactSource>>,
    pub oat3_inhibitor: Vec<FactSource>,
    pub tb_screening: Option<TbScreen>,
    pub zoster_vaccine: Vec<FactSource>,
    pub co_therapies: Vec<CoTherapy>,
    pub pregnancy: Vec<FactSource>,
    pub gaps: Vec<DataGap>,
    /// Resources that could not be read and could have held a contraindication
    /// (Conditions, Observations, medication resources, or of unknown type).
    pub unreadable_relevant: usize,
    /// All resources that could not be read.
    pub unreadable_total: usize,
    /// Data the service could not obtain at all (prefetch keys), e.g. "observations".
    pub unavailable: Vec<String>,
}

/// Derive the facts from the gathered record as of `today`.
pub fn derive(record: &PatientRecord, kb: &Knowledge, today: NaiveDate) -> PatientFacts {
    let _ = (record, kb);
    PatientFacts {
        today: Some(today),
        ..PatientFacts::default()
    }
}
