//! Medication facts (knowledge.md 2). Every MedicationRequest, MedicationStatement and
//! MedicationAdministration is classified ONCE ([`classify`]: drug, status, first and last
//! date, dose) into one list of [`MedicationUse`]; every medication fact (glucocorticoid dose,
//! standard therapies tried, OAT3 and CYP3A4 modulators, co-therapies, hormonal VTE risk,
//! hydroxychloroquine) is derived from that list. Also the resolution of a medication concept
//! (`medicationCodeableConcept`, or the Medication its `medicationReference` points to),
//! shared with the draft-order reading.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::dose;
use super::source::{number, reference, window_start_days, window_start_months, Index};
use super::units::{convert, shown, Measure, Reading};
use super::{CoTherapy, FactSource, GlucocorticoidDose, Therapy, TriedTherapy};
use crate::facts::order::DoseReading;
use crate::fhir::model::{
    CodeableConcept, Dosage, FhirDate, Medication, MedicationAdministration, MedicationRequest,
    MedicationStatement, Observation, Period, Reference,
};
use crate::fhir::PatientRecord;
use crate::knowledge::drugs::{
    concept_texts, parse_strength, Drug, DrugClass, DrugMatch, Strength,
};
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

/// A medication record (order, statement, administration): the medication it names, seen
/// through [`view`] in the record.
pub trait RecordedMedication {
    fn medication_view<'a>(&'a self, record: &'a PatientRecord) -> MedicationView<'a>;
}

macro_rules! recorded_medication {
    ($($t:ty),*) => {$(
        impl RecordedMedication for $t {
            fn medication_view<'a>(&'a self, record: &'a PatientRecord) -> MedicationView<'a> {
                view(
                    self.medication_codeable_concept.as_ref(),
                    self.medication_reference.as_ref(),
                    &self.contained,
                    &[],
                    record,
                )
            }
        }
    )*};
}

recorded_medication!(
    MedicationRequest,
    MedicationStatement,
    MedicationAdministration
);

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

/// Which resource a medication record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    Request,
    Statement,
    Administration,
}

/// One medication resource naming one drug, classified once.
#[derive(Debug, Clone)]
pub struct MedicationUse<'k> {
    pub drug: &'k Drug,
    pub kind: RecordKind,
    /// Status, trimmed and lower case ("" when absent).
    pub status: String,
    /// Earliest and latest date of the record (authoredOn; effective start/end or
    /// dateAsserted; administration time).
    pub first: Option<NaiveDate>,
    pub last: Option<NaiveDate>,
    /// Requests only: the daily dose, as far as it can be read.
    pub dose: Option<DoseReading>,
    /// False for local products (creams, eye drops, inhalers...).
    pub systemic: bool,
    /// The medication as recorded, for card text ("rituximab").
    pub label: String,
    pub reference: String,
}

impl MedicationUse<'_> {
    /// An active order (MedicationRequest status active).
    pub fn is_active_order(&self) -> bool {
        self.kind == RecordKind::Request && self.status == "active"
    }

    /// Active order, or active statement, or an infusion in progress.
    pub fn is_current(&self) -> bool {
        match self.kind {
            RecordKind::Request | RecordKind::Statement => self.status == "active",
            RecordKind::Administration => self.status == "in-progress",
        }
    }

    /// The record means the drug was taken (knowledge.md 2, "standard therapies tried", v2):
    /// requests active/on-hold/completed/stopped; statements active/completed/stopped;
    /// administrations completed/in-progress.
    pub fn means_taken(&self) -> bool {
        let s = self.status.as_str();
        match self.kind {
            RecordKind::Request => matches!(s, "active" | "on-hold" | "completed" | "stopped"),
            RecordKind::Statement => matches!(s, "active" | "completed" | "stopped"),
            RecordKind::Administration => matches!(s, "completed" | "in-progress"),
        }
    }

    /// The record as card detail shows it: "rituximab, completed".
    pub fn source(&self) -> FactSource {
        let verb = match self.kind {
            RecordKind::Request => "ordered",
            RecordKind::Statement => "reported",
            RecordKind::Administration => "given",
        };
        let status = if self.status.is_empty() {
            "status unknown"
        } else {
            self.status.as_str()
        };
        FactSource {
            reference: self.reference.clone(),
            date: self.first,
            what: format!("{} {verb}, {status}", self.label),
        }
    }
}

fn status_of(s: Option<&str>) -> String {
    s.map(|s| s.trim().to_ascii_lowercase()).unwrap_or_default()
}

/// One record's entries, one per drug it names.
#[allow(clippy::too_many_arguments)]
fn push_uses<'a>(
    out: &mut Vec<MedicationUse<'a>>,
    kb: &'a Knowledge,
    v: MedicationView<'a>,
    kind: RecordKind,
    status: String,
    dates: (Option<NaiveDate>, Option<NaiveDate>),
    dosages: &[Dosage],
    reference: String,
) {
    if status == "entered-in-error" {
        return;
    }
    let systemic = !v.is_non_systemic(kb, dosages);
    for m in v.identify(kb) {
        let dose = (kind == RecordKind::Request).then(|| dose::read(dosages, v.strength(&m)));
        out.push(MedicationUse {
            drug: m.drug,
            kind,
            status: status.clone(),
            first: dates.0,
            last: dates.1.or(dates.0),
            dose,
            systemic,
            label: v.label(),
            reference: reference.clone(),
        });
    }
}

/// First and last day of a statement's or administration's `effective[x]`: the start is the
/// dateTime, else the period's start, else `fallback` (dateAsserted); the end is the period's
/// end, else the start.
pub(super) fn effective_span(
    date_time: Option<FhirDate>,
    period: Option<&Period>,
    fallback: Option<FhirDate>,
) -> (Option<NaiveDate>, Option<NaiveDate>) {
    let start = date_time
        .or_else(|| period.and_then(|p| p.start))
        .or(fallback)
        .map(|d| d.0);
    let end = period.and_then(|p| p.end).map(|d| d.0).or(start);
    (start, end)
}

/// Classify every medication record of the patient (entered-in-error left out): one entry
/// per record and drug named.
pub fn classify<'a>(record: &'a PatientRecord, kb: &'a Knowledge) -> Vec<MedicationUse<'a>> {
    let mut out = Vec::new();
    for r in &record.medication_requests {
        let v = r.medication_view(record);
        let d = r.authored_on.map(|d| d.0);
        push_uses(
            &mut out,
            kb,
            v,
            RecordKind::Request,
            status_of(r.status.as_deref()),
            (d, d),
            &r.dosage_instruction,
            reference("MedicationRequest", r.id.as_deref()),
        );
    }
    for s in &record.medication_statements {
        let v = s.medication_view(record);
        let (start, end) = effective_span(
            s.effective_date_time,
            s.effective_period.as_ref(),
            s.date_asserted,
        );
        push_uses(
            &mut out,
            kb,
            v,
            RecordKind::Statement,
            status_of(s.status.as_deref()),
            (start, end),
            &s.dosage,
            reference("MedicationStatement", s.id.as_deref()),
        );
    }
    for a in &record.medication_administrations {
        let v = a.medication_view(record);
        let (start, end) = effective_span(a.effective_date_time, a.effective_period.as_ref(), None);
        push_uses(
            &mut out,
            kb,
            v,
            RecordKind::Administration,
            status_of(a.status.as_deref()),
            (start, end),
            &[],
            reference("MedicationAdministration", a.id.as_deref()),
        );
    }
    out
}

fn use_source(u: &MedicationUse<'_>, what: String) -> FactSource {
    FactSource {
        reference: u.reference.clone(),
        date: u.first,
        what,
    }
}

/// Current glucocorticoid exposure: the sum over active systemic glucocorticoid orders, or,
/// when no order dose can be read, the latest "prednisone-equivalent dose" Observation within
/// its window. `None` when neither exists.
pub fn glucocorticoid(
    uses: &[MedicationUse<'_>],
    observations: &Index<'_, '_, Observation>,
    kb: &Knowledge,
    today: NaiveDate,
) -> Option<GlucocorticoidDose> {
    let mut total = 0.0;
    let mut sources = Vec::new();
    let mut unreadable = Vec::new();
    for u in uses.iter().filter(|u| u.is_active_order() && u.systemic) {
        let Some(factor) = u.drug.glucocorticoid_factor else {
            continue;
        };
        match u.dose.as_ref() {
            Some(DoseReading::Known { mg_per_day, .. }) => {
                let pred = mg_per_day * factor;
                total += pred;
                sources.push(use_source(
                    u,
                    format!(
                        "{} {} mg/day (prednisone-equivalent {} mg/day)",
                        u.drug.name,
                        number(*mg_per_day),
                        number(pred),
                    ),
                ));
            }
            Some(DoseReading::Unknown { reason }) => unreadable.push(use_source(
                u,
                format!("{}: dose not read ({reason})", u.label),
            )),
            None => {}
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
    today: NaiveDate,
) -> Option<(f64, FactSource)> {
    let start = window_start_days(today, kb.thresholds.windows.glucocorticoid_observation_days);
    let mut best: Option<(FhirDate, f64, FactSource)> = None;
    for &(obs, _) in index.get("prednisone-equivalent-dose") {
        let Some(date) = obs.date().filter(|d| d.0 >= start) else {
            continue;
        };
        let Some(q) = obs.value_quantity.as_ref() else {
            continue;
        };
        let reading = convert(q, Measure::PrednisoneDose);
        let Reading::Value { value, .. } = reading else {
            continue;
        };
        if best.as_ref().is_none_or(|(d, _, _)| date > *d) {
            let shown = shown(q, Measure::PrednisoneDose, &reading);
            best = Some((
                date,
                value,
                FactSource {
                    reference: reference("Observation", obs.id.as_deref()),
                    date: Some(date.0),
                    what: format!("Current prednisone-equivalent dose {shown}"),
                },
            ));
        }
    }
    best.map(|(_, v, s)| (v, s))
}

/// Standard therapies tried (knowledge.md 2 and 4.2, v2): records that mean the drug was
/// taken; each agent with its first and last date, and whether the first record is old enough
/// to judge a response (`thresholds.tried_min_weeks`).
pub fn therapies_tried(
    uses: &[MedicationUse<'_>],
    kb: &Knowledge,
    today: NaiveDate,
) -> BTreeMap<Therapy, TriedTherapy> {
    let mut out: BTreeMap<Therapy, TriedTherapy> = BTreeMap::new();
    for u in uses.iter().filter(|u| u.means_taken()) {
        let Some(t) = u.drug.therapy else { continue };
        let e = out.entry(t).or_insert_with(|| TriedTherapy {
            first: None,
            last: None,
            weeks: None,
            assessable: false,
            sources: Vec::new(),
        });
        if let Some(d) = u.first {
            e.first = Some(e.first.map_or(d, |f| f.min(d)));
        }
        if let Some(d) = u.last {
            e.last = Some(e.last.map_or(d, |l| l.max(d)));
        }
        e.sources.push(u.source());
    }
    for (t, e) in out.iter_mut() {
        let min = kb.thresholds.tried_min_weeks(*t);
        e.weeks = e.first.map(|f| ((today - f).num_days().max(0) / 7) as u32);
        e.assessable = e.weeks.is_some_and(|w| w >= min);
    }
    out
}

/// Active orders for an OAT3 inhibitor (probenecid, alone or in combination).
pub fn oat3_inhibitors(uses: &[MedicationUse<'_>]) -> Vec<FactSource> {
    uses.iter()
        .filter(|u| u.is_active_order() && u.drug.oat3_inhibitor)
        .map(|u| u.source())
        .collect()
}

/// Active systemic orders of a drug class (CYP3A4 modulators, hormonal VTE risk); for
/// hydroxychloroquine an active statement counts too.
pub fn of_class(uses: &[MedicationUse<'_>], class: DrugClass) -> Vec<FactSource> {
    let mut out: Vec<FactSource> = Vec::new();
    for u in uses
        .iter()
        .filter(|u| u.drug.class == Some(class) && u.systemic)
    {
        let current = if class == DrugClass::Hydroxychloroquine {
            u.is_current()
        } else {
            u.is_active_order()
        };
        if current && !out.iter().any(|s| s.reference == u.reference) {
            out.push(u.source());
        }
    }
    out
}

/// Co-therapies of the label limitation of use: active systemic orders for another JAK
/// inhibitor, a biologic or a potent immunosuppressant; for agents with `recent_months`
/// (rituximab, obinutuzumab 6; cyclophosphamide 3) also any record that means the drug was
/// given, dated within that window (knowledge.md 4.12: latest administration, else order or
/// statement date).
pub fn co_therapies(uses: &[MedicationUse<'_>], today: NaiveDate) -> Vec<CoTherapy> {
    let mut out: Vec<CoTherapy> = Vec::new();
    for u in uses.iter().filter(|u| u.systemic) {
        let Some(class) = u.drug.co_therapy else {
            continue;
        };
        let recent = u.drug.recent_months.is_some_and(|m| {
            u.means_taken() && u.last.is_some_and(|d| d >= window_start_months(today, m))
        });
        if !(u.is_active_order() || recent) {
            continue;
        }
        if out
            .iter()
            .any(|c| c.agent == u.drug.name && c.source.reference == u.reference)
        {
            continue;
        }
        let mut source = u.source();
        let mut given_within_months = None;
        if recent && !u.is_active_order() {
            source.date = u.last;
            source.what = format!("{} last given", u.label);
            given_within_months = u.drug.recent_months;
        }
        out.push(CoTherapy {
            class,
            agent: u.drug.name.clone(),
            source,
            given_within_months,
        });
    }
    out
}

/// Ingredient names of the drugs currently active (orders, statements, infusions).
pub fn active_drugs(uses: &[MedicationUse<'_>]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for u in uses.iter().filter(|u| u.is_current()) {
        if !out.contains(&u.drug.name) {
            out.push(u.drug.name.clone());
        }
    }
    out
}

/// Ingredient names of the drugs whose latest record (by date) has status stopped, and that
/// are not active now.
pub fn stopped_drugs(uses: &[MedicationUse<'_>]) -> Vec<String> {
    let active = active_drugs(uses);
    let mut latest: BTreeMap<&str, &MedicationUse<'_>> = BTreeMap::new();
    for u in uses {
        let e = latest.entry(u.drug.name.as_str()).or_insert(u);
        if u.last > e.last {
            *e = u;
        }
    }
    latest
        .into_iter()
        .filter(|(n, u)| u.status == "stopped" && !active.iter().any(|a| a == n))
        .map(|(n, _)| n.to_string())
        .collect()
}
