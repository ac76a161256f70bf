//! Clinical facts derived from the gathered FHIR data (knowledge.md section 2). Every fact
//! keeps its source (resource, date, value with unit) so that cards can show what they used.

mod conditions;
pub mod dose;
mod gaps;
mod immunizations;
mod labs;
pub mod medications;
pub mod order;
pub mod risk;
pub mod source;
pub mod therapy;
pub mod units;

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::fhir::PatientRecord;
use crate::knowledge::Knowledge;

pub use order::{Agent, DoseReading, JakOrder};
pub use risk::{Age, HepaticImpairment, HepaticSeverity, Hepatitis, Status};

/// Where a fact came from: shown in card detail as "what (date; reference)".
#[derive(Debug, Clone, PartialEq)]
pub struct FactSource {
    /// "Observation/egfr-1"; "Condition/(no id)" when the resource had none.
    pub reference: String,
    pub date: Option<NaiveDate>,
    /// Human-readable value: "eGFR 45 mL/min/1.73m2", "Lupus nephritis (ICD-10-CM M32.14)", "Deep vein thrombosis, resolved".
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
    Anifrolumab,
    Cyclophosphamide,
}

impl Therapy {
    pub fn name(self) -> &'static str {
        match self {
            Therapy::Rituximab => "rituximab",
            Therapy::Mycophenolate => "mycophenolate",
            Therapy::Belimumab => "belimumab",
            Therapy::Anifrolumab => "anifrolumab",
            Therapy::Cyclophosphamide => "cyclophosphamide",
        }
    }
}

/// A standard therapy on record (knowledge.md 2 and 4.2, v2).
#[derive(Debug, Clone, PartialEq)]
pub struct TriedTherapy {
    /// First and last date of the records that mean the drug was taken.
    pub first: Option<NaiveDate>,
    pub last: Option<NaiveDate>,
    /// Whole weeks since the first record.
    pub weeks: Option<u32>,
    /// The first record is old enough to judge a response (12 or 24 weeks by agent).
    pub assessable: bool,
    pub sources: Vec<FactSource>,
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
    /// Some(months) when it counts because it was given within that window (rituximab 6,
    /// cyclophosphamide 3), not because an order is active.
    pub given_within_months: Option<u32>,
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
    /// Values inside the window that could not be used, each `what` saying why ("ALC 12 %
    /// (LOINC 731-0): not used, unit '%' not convertible to 10^3/uL").
    pub unusable: Vec<FactSource>,
}

impl DataGap {
    /// A gap with nothing found at all.
    pub fn missing(item: GapItem) -> DataGap {
        DataGap {
            item,
            stale: None,
            unusable: Vec::new(),
        }
    }
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
    /// Latent TB (code or positive IGRA) with a latent-TB regimen being taken: the regimen's
    /// records, then the evidence.
    pub latent_tb_on_treatment: Vec<FactSource>,
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
    pub therapies_tried: BTreeMap<Therapy, TriedTherapy>,
    pub oat3_inhibitor: Vec<FactSource>,
    /// Active strong CYP3A4 inhibitors.
    pub cyp3a4_inhibitors: Vec<FactSource>,
    /// Active fluconazole (moderate CYP3A4 + strong CYP2C19 inhibitor).
    pub cyp2c19_cyp3a4_inhibitors: Vec<FactSource>,
    /// Active strong CYP3A4 inducers.
    pub cyp3a4_inducers: Vec<FactSource>,
    /// Active combined hormonal contraceptive or estrogen HRT.
    pub hormonal_vte: Vec<FactSource>,
    /// A JAK or TYK2 inhibitor was ever taken (SELECT-SLE excludes prior use).
    pub prior_jak: bool,
    /// Ingredient names of the drugs currently active (orders, statements, infusions in
    /// progress): no suggestion creates an order for one of them.
    pub active_drugs: Vec<String>,
    /// Ingredient names of the drugs whose latest record is stopped ("previously stopped").
    pub stopped_drugs: Vec<String>,
    /// Active hydroxychloroquine (order or statement).
    pub hydroxychloroquine: Vec<FactSource>,
    pub tb_screening: Option<TbScreen>,
    pub zoster_vaccine: Vec<FactSource>,
    pub co_therapies: Vec<CoTherapy>,
    /// Age, sex, thrombosis risk, infection, pregnancy, breast-feeding, boxed-warning risk
    /// factors, hepatitis, hepatic impairment, diverticular disease, live vaccines (v2).
    pub risk: risk::RiskFacts,
    /// Herpes zoster Conditions in any clinical status (history of zoster, for counselling).
    pub herpes_zoster: Vec<FactSource>,
    pub gaps: Vec<DataGap>,
    /// Resources that could not be read and could have held a contraindication
    /// (Conditions, Observations, medication resources, or of unknown type).
    pub unreadable_relevant: usize,
    /// All resources that could not be read.
    pub unreadable_total: usize,
    /// Data the service could not obtain at all (prefetch keys), e.g. "observations".
    pub unavailable: Vec<String>,
}

/// Resource types whose unreadable instances could have held a contraindication.
const RELEVANT_TYPES: &[&str] = &[
    "Condition",
    "Observation",
    "MedicationRequest",
    "MedicationOrder",
    "MedicationStatement",
    "MedicationAdministration",
    "Medication",
    "Immunization",
];

/// Derive the facts from the gathered record as of `today`.
pub fn derive(record: &PatientRecord, kb: &Knowledge, today: NaiveDate) -> PatientFacts {
    let condition_index = source::Index::build(
        kb,
        record
            .conditions
            .iter()
            .filter(|c| conditions::is_credible(c))
            .filter_map(|c| Some((c, c.code.as_ref()?))),
    );
    let observation_index = source::Index::build(
        kb,
        record
            .observations
            .iter()
            .filter(|o| labs::is_usable_status(o))
            .filter_map(|o| Some((o, o.code.as_ref()?))),
    );
    let c = conditions::derive(
        &condition_index,
        &observation_index,
        &record.observations,
        kb,
    );
    let labs = labs::derive(record, &observation_index, kb, today);
    let gaps = gaps::derive(&labs);
    let uses = medications::classify(record, kb);
    let risk = risk::derive(
        &risk::Inputs {
            patient: record.patient.as_ref(),
            conditions: &condition_index,
            observations: &observation_index,
            immunizations: &record.immunizations,
        },
        kb,
        today,
    );
    use crate::knowledge::drugs::DrugClass;
    // Latent TB is not "untreated" when treated latent TB is recorded (Z86.15), or a latent-TB
    // regimen was completed or is being taken; a regimen being taken is "latent TB on
    // treatment" (knowledge.md 2).
    let regimen = uses
        .iter()
        .filter(|u| u.drug.latent_tb_regimen && u.systemic);
    let current_regimen: Vec<FactSource> = regimen
        .clone()
        .filter(|u| u.is_current())
        .map(|u| u.source())
        .collect();
    let regimen_completed = regimen.clone().any(|u| u.status == "completed");
    let mut latent_tb = c.latent_tb_untreated;
    if !c.latent_tb_treated {
        latent_tb.extend(labs.tb.positive_igra.iter().cloned());
    }
    let latent_tb_on_treatment = if latent_tb.is_empty() || current_regimen.is_empty() {
        Vec::new()
    } else {
        current_regimen
            .iter()
            .cloned()
            .chain(latent_tb.iter().cloned())
            .collect()
    };
    let latent_tb_untreated =
        if c.latent_tb_treated || regimen_completed || !current_regimen.is_empty() {
            Vec::new()
        } else {
            latent_tb
        };
    PatientFacts {
        today: Some(today),
        sle: c.sle,
        vte_history: c.vte_history,
        active_tb: c.active_tb,
        latent_tb_untreated,
        latent_tb_on_treatment,
        active_lupus_nephritis: c.active_lupus_nephritis,
        upcr: labs.upcr.measurement,
        cns_lupus: c.cns_lupus,
        egfr: labs.egfr.measurement,
        alc: labs.alc.measurement,
        anc: labs.anc.measurement,
        hb: labs.hb.measurement,
        glucocorticoid: medications::glucocorticoid(&uses, &observation_index, kb, today),
        sledai: labs.sledai.measurement,
        msk_cutaneous: c.msk_cutaneous,
        therapies_tried: medications::therapies_tried(&uses, kb, today),
        oat3_inhibitor: medications::oat3_inhibitors(&uses),
        cyp3a4_inhibitors: medications::of_class(&uses, DrugClass::Cyp3a4StrongInhibitor),
        cyp2c19_cyp3a4_inhibitors: medications::of_class(
            &uses,
            DrugClass::Cyp3a4ModerateCyp2c19Strong,
        ),
        cyp3a4_inducers: medications::of_class(&uses, DrugClass::Cyp3a4StrongInducer),
        hormonal_vte: medications::of_class(&uses, DrugClass::HormonalVte),
        hydroxychloroquine: medications::of_class(&uses, DrugClass::Hydroxychloroquine),
        tb_screening: labs.tb.screen,
        zoster_vaccine: immunizations::zoster_vaccine(&record.immunizations, kb),
        co_therapies: medications::co_therapies(&uses, today),
        prior_jak: uses
            .iter()
            .any(|u| u.drug.agent.is_some() && u.means_taken()),
        active_drugs: medications::active_drugs(&uses),
        stopped_drugs: medications::stopped_drugs(&uses),
        risk,
        herpes_zoster: c.herpes_zoster,
        gaps,
        unreadable_relevant: record
            .unreadable
            .iter()
            .filter(|f| {
                f.resource_type
                    .as_deref()
                    .is_none_or(|t| RELEVANT_TYPES.contains(&t))
            })
            .count(),
        unreadable_total: record.unreadable.len(),
        unavailable: record.unavailable.clone(),
    }
}

#[cfg(test)]
mod tests;
