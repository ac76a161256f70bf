//! Medication facts (knowledge.md 2): current glucocorticoid dose, standard therapies tried,
//! OAT3 inhibitor (probenecid), and co-therapies of the label limitation of use. Also the
//! resolution of a medication order to its concept (`medicationCodeableConcept`, or the
//! Medication its `medicationReference` points to), shared with the draft-order reading.

use super::dose;
use super::source::{number, reference, window_start_days, Index};
use super::units::{convert, Measure, Reading};
use super::{CoTherapy, FactSource, GlucocorticoidDose, Therapy};
use crate::facts::order::DoseReading;
use crate::fhir::model::{
    CodeableConcept, Dosage, FhirDate, Medication, MedicationRequest, MedicationStatement,
    Observation, Reference,
};
use crate::fhir::PatientRecord;
use crate::knowledge::drugs::{concept_texts, parse_strength, DrugMatch, Strength};
use crate::knowledge::Knowledge;

/// What a medication order or statement names: its concept and, for a reference, the
/// Medication resource (which may carry a form).
#[derive(Debug, Clone, Copy, Default)]
pub struct MedicationView<'a> {
    pub concept: Option<&'a CodeableConcept>,
    pub medication: Option<&'a Medication>,
    /// `medicationReference.display`, used as a last text fallback.
    pub reference_display: Option<&'a str>,
}

/// Resolve `medicationCodeableConcept` / `medicationReference`. A reference "#id" is looked up
/// in `contained`; any other reference first in `drafts` (Medications sent with the draft
/// orders), then in `contained` and in the record's Medications.
pub fn view<'a>(
    concept: Option<&'a CodeableConcept>,
    med_ref: Option<&'a Reference>,
    contained: &'a [Medication],
    drafts: &'a [Medication],
    record: &'a PatientRecord,
) -> MedicationView<'a> {
    let mut v = MedicationView {
        concept,
        medication: None,
        reference_display: med_ref.and_then(|r| r.display.as_deref()),
    };
    if let Some(r) = med_ref.and_then(|r| r.reference.as_deref()) {
        let r = r.trim();
        v.medication = if let Some(local) = r.strip_prefix('#') {
            contained.iter().find(|m| m.id.as_deref() == Some(local))
        } else {
            let id = r.rsplit('/').next().unwrap_or(r);
            drafts
                .iter()
                .chain(contained.iter())
                .find(|m| m.id.as_deref() == Some(id))
                .or_else(|| record.medication(r))
        };
    }
    v
}

impl<'a> MedicationView<'a> {
    /// The drugs named: by codes of the concept or the Medication's code, else by the names in
    /// their texts, else by the Medication's ingredients, else by the reference display.
    pub fn identify(&self, kb: &'a Knowledge) -> Vec<DrugMatch<'a>> {
        let drugs = &kb.drugs;
        for c in self
            .concept
            .into_iter()
            .chain(self.medication.and_then(|m| m.code.as_ref()))
        {
            let found = drugs.identify(c);
            if !found.is_empty() {
                return found;
            }
        }
        if let Some(m) = self.medication {
            for ing in m
                .ingredient
                .iter()
                .filter_map(|i| i.item_codeable_concept.as_ref())
            {
                let found = drugs.identify(ing);
                if !found.is_empty() {
                    return found;
                }
            }
        }
        self.reference_display
            .map(|t| drugs.in_text(t))
            .unwrap_or_default()
    }

    /// Every text naming the medication (concept text and displays, Medication code, reference
    /// display).
    pub fn texts(&self) -> Vec<&'a str> {
        let mut out: Vec<&'a str> = Vec::new();
        if let Some(c) = self.concept {
            out.extend(concept_texts(c));
        }
        if let Some(c) = self.medication.and_then(|m| m.code.as_ref()) {
            out.extend(concept_texts(c));
        }
        out.extend(self.reference_display);
        out
    }

    /// The medication as ordered, for card text.
    pub fn label(&self) -> String {
        self.concept
            .and_then(|c| c.label())
            .or_else(|| {
                self.medication
                    .and_then(|m| m.code.as_ref())
                    .and_then(|c| c.label())
            })
            .or(self.reference_display)
            .unwrap_or("(unnamed medication)")
            .to_string()
    }

    /// True when the product, its form or a dosage route is local (cream, inhaler, eye drops…).
    pub fn is_non_systemic(&self, kb: &Knowledge, dosages: &[Dosage]) -> bool {
        self.texts()
            .iter()
            .any(|t| kb.drugs.is_non_systemic_text(t))
            || self
                .medication
                .and_then(|m| m.form.as_ref())
                .is_some_and(|f| kb.drugs.is_non_systemic_concept(f))
            || dosages
                .iter()
                .filter_map(|d| d.route.as_ref())
                .any(|r| kb.drugs.is_non_systemic_concept(r))
    }

    /// The product strength: from the matched product, else the first strength in a text.
    pub fn strength(&self, m: &DrugMatch<'_>) -> Option<Strength> {
        m.product
            .and_then(|p| p.strength)
            .or_else(|| self.texts().into_iter().find_map(parse_strength))
    }
}

fn is_active(status: Option<&str>) -> bool {
    status.is_some_and(|s| s.trim().eq_ignore_ascii_case("active"))
}

fn is_entered_in_error(status: Option<&str>) -> bool {
    status.is_some_and(|s| s.trim().eq_ignore_ascii_case("entered-in-error"))
}

fn order_source(req: &MedicationRequest, what: String) -> FactSource {
    FactSource {
        reference: reference("MedicationRequest", req.id.as_deref()),
        date: req.authored_on.map(|d| d.0),
        what,
    }
}

fn order_view<'a>(req: &'a MedicationRequest, record: &'a PatientRecord) -> MedicationView<'a> {
    view(
        req.medication_codeable_concept.as_ref(),
        req.medication_reference.as_ref(),
        &req.contained,
        &[],
        record,
    )
}

/// Active orders with their medication view.
fn active_orders<'a>(
    record: &'a PatientRecord,
) -> impl Iterator<Item = (&'a MedicationRequest, MedicationView<'a>)> {
    record
        .medication_requests
        .iter()
        .filter(|r| is_active(r.status.as_deref()))
        .map(move |r| (r, order_view(r, record)))
}

/// Current glucocorticoid exposure: the sum over active systemic glucocorticoid orders, or,
/// when no order dose can be read, the latest "prednisone-equivalent dose" Observation within
/// its window. `None` when neither exists.
pub fn glucocorticoid(
    record: &PatientRecord,
    observations: &Index<'_, '_, Observation>,
    kb: &Knowledge,
    today: chrono::NaiveDate,
) -> Option<GlucocorticoidDose> {
    let mut total = 0.0;
    let mut sources = Vec::new();
    let mut unreadable = Vec::new();
    for (req, v) in active_orders(record) {
        let found = v.identify(kb);
        let Some(m) = found
            .iter()
            .find(|m| m.drug.glucocorticoid_factor.is_some())
        else {
            continue;
        };
        if v.is_non_systemic(kb, &req.dosage_instruction) {
            continue;
        }
        let factor = m.drug.glucocorticoid_factor.unwrap_or(1.0);
        match dose::read(&req.dosage_instruction, v.strength(m)) {
            DoseReading::Known { mg_per_day, .. } => {
                let pred = mg_per_day * factor;
                total += pred;
                let flag = if m.drug.unverified.iter().any(|u| u == "factor") {
                    "; factor UNVERIFIED"
                } else {
                    ""
                };
                sources.push(order_source(
                    req,
                    format!(
                        "{} {} mg/day x {} = {} mg/day prednisone-equivalent ({}{flag})",
                        m.drug.name,
                        number(mg_per_day),
                        number(factor),
                        number(pred),
                        m.matched_by
                    ),
                ));
            }
            DoseReading::Unknown { reason } => unreadable.push(order_source(
                req,
                format!("{} ({}): dose not read: {reason}", v.label(), m.matched_by),
            )),
        }
    }
    if !sources.is_empty() {
        return Some(GlucocorticoidDose {
            mg_per_day: total,
            sources,
            unreadable,
        });
    }
    if let Some(obs) = dose_observation(observations, kb, today) {
        return Some(GlucocorticoidDose {
            mg_per_day: obs.0,
            sources: vec![obs.1],
            unreadable,
        });
    }
    if unreadable.is_empty() {
        None
    } else {
        Some(GlucocorticoidDose {
            mg_per_day: 0.0,
            sources,
            unreadable,
        })
    }
}

/// The latest usable "prednisone-equivalent dose" Observation within its window.
fn dose_observation(
    index: &Index<'_, '_, Observation>,
    kb: &Knowledge,
    today: chrono::NaiveDate,
) -> Option<(f64, FactSource)> {
    let start = window_start_days(today, kb.thresholds.windows.glucocorticoid_observation_days);
    let mut best: Option<(FhirDate, f64, FactSource)> = None;
    for &(obs, coding) in index.get("prednisone-equivalent-dose") {
        let Some(date) = obs.date().filter(|d| d.0 >= start) else {
            continue;
        };
        let Some(q) = obs.value_quantity.as_ref() else {
            continue;
        };
        let Reading::Value { value, shown, .. } = convert(q, Measure::PrednisoneDose) else {
            continue;
        };
        if best.as_ref().is_none_or(|(d, _, _)| date > *d) {
            best = Some((
                date,
                value,
                FactSource {
                    reference: reference("Observation", obs.id.as_deref()),
                    date: Some(date.0),
                    what: format!(
                        "Current prednisone-equivalent dose {shown} ({})",
                        super::source::code_label(coding)
                    ),
                },
            ));
        }
    }
    best.map(|(_, v, s)| (v, s))
}

fn statement_date(s: &MedicationStatement) -> Option<chrono::NaiveDate> {
    s.effective_date_time
        .or_else(|| s.effective_period.as_ref().and_then(|p| p.start.or(p.end)))
        .or(s.date_asserted)
        .map(|d| d.0)
}

/// Standard therapies ever ordered (any status but entered-in-error) or stated (not
/// entered-in-error, not not-taken).
pub fn therapies_tried(
    record: &PatientRecord,
    kb: &Knowledge,
) -> std::collections::BTreeMap<Therapy, Vec<FactSource>> {
    let mut out: std::collections::BTreeMap<Therapy, Vec<FactSource>> = Default::default();
    for req in &record.medication_requests {
        if is_entered_in_error(req.status.as_deref()) {
            continue;
        }
        let v = order_view(req, record);
        for m in v.identify(kb) {
            if let Some(t) = m.drug.therapy {
                out.entry(t).or_default().push(order_source(
                    req,
                    format!(
                        "{} ordered, status {} ({})",
                        v.label(),
                        req.status.as_deref().unwrap_or("unknown"),
                        m.matched_by
                    ),
                ));
            }
        }
    }
    for st in &record.medication_statements {
        let status = st.status.as_deref().map(str::trim).unwrap_or("");
        if status.eq_ignore_ascii_case("entered-in-error")
            || status.eq_ignore_ascii_case("not-taken")
        {
            continue;
        }
        let v = view(
            st.medication_codeable_concept.as_ref(),
            st.medication_reference.as_ref(),
            &st.contained,
            &[],
            record,
        );
        for m in v.identify(kb) {
            if let Some(t) = m.drug.therapy {
                out.entry(t).or_default().push(FactSource {
                    reference: reference("MedicationStatement", st.id.as_deref()),
                    date: statement_date(st),
                    what: format!(
                        "{} stated, status {} ({})",
                        v.label(),
                        if status.is_empty() { "unknown" } else { status },
                        m.matched_by
                    ),
                });
            }
        }
    }
    out
}

/// Active orders for an OAT3 inhibitor (probenecid, alone or in combination).
pub fn oat3_inhibitors(record: &PatientRecord, kb: &Knowledge) -> Vec<FactSource> {
    let mut out = Vec::new();
    for (req, v) in active_orders(record) {
        if let Some(m) = v.identify(kb).into_iter().find(|m| m.drug.oat3_inhibitor) {
            out.push(order_source(
                req,
                format!("{} active ({})", v.label(), m.matched_by),
            ));
        }
    }
    out
}

/// Active systemic orders for another JAK inhibitor, a biologic or a potent immunosuppressant.
pub fn co_therapies(record: &PatientRecord, kb: &Knowledge) -> Vec<CoTherapy> {
    let mut out = Vec::new();
    for (req, v) in active_orders(record) {
        if v.is_non_systemic(kb, &req.dosage_instruction) {
            continue;
        }
        for m in v.identify(kb) {
            if let Some(class) = m.drug.co_therapy {
                out.push(CoTherapy {
                    class,
                    agent: m.drug.name.clone(),
                    source: order_source(req, format!("{} active ({})", v.label(), m.matched_by)),
                });
            }
        }
    }
    out
}
