//! Monitoring facts (knowledge.md 4.11): the JAK/TYK2 therapies the patient is on now (an
//! active MedicationRequest or MedicationStatement), each with its start date — the earliest
//! record of that agent — and the record's events dated after that start. The other facts of
//! section 2 (eGFR, blood counts, VTE, TB, pregnancy, probenecid …) come from
//! [`super::derive`]; this module adds only what monitoring needs besides them.

use chrono::NaiveDate;
use serde_json::Value;

use super::conditions::is_credible;
use super::labs::is_usable_status;
use super::medications::{effective_span, MedicationView, RecordedMedication};
use super::source::{code_label, coding_in, concept_what, number, reference};
use super::units::{convert, shown, Measure, Reading};
use super::{dose, Agent, DoseReading, FactSource, JakOrder};
use crate::cds::DraftOrder;
use crate::fhir::model::{MedicationRequest, MedicationStatement};
use crate::fhir::originals::Originals;
use crate::fhir::PatientRecord;
use crate::knowledge::drugs::Strength;
use crate::knowledge::Knowledge;

/// One JAK/TYK2 inhibitor the patient is on.
#[derive(Debug, Clone)]
pub struct ActiveTherapy {
    pub agent: Agent,
    /// How the agent was recognised ("RxNorm 2047232", "text 'Olumiant'").
    pub matched_by: String,
    /// The medication as recorded, for card text.
    pub label: String,
    /// The earliest record of the agent (order authored, statement effective, any status that
    /// means it was prescribed or taken); None when no record of it carries a date.
    pub start: Option<FactSource>,
    /// The active MedicationRequest as read (its `raw` is `Null`: the JSON as sent is looked up
    /// by [`ActiveTherapy::order_as_sent`] only when a card offers an update). None: the
    /// therapy is known only from a MedicationStatement (its cards carry no action).
    pub order: Option<DraftOrder>,
    /// The texts the record was read from (reference-counted), for [`Self::order_as_sent`].
    pub originals: Originals,
    /// The record the therapy was found in (the active order, else the statement).
    pub current: FactSource,
    pub strength_mg: Option<f64>,
    pub dose: DoseReading,
    /// The latest haemoglobin (g/dL) before the start: the baseline of an on-treatment fall.
    pub hb_before_start: Option<(f64, FactSource)>,
}

impl ActiveTherapy {
    /// The active order exactly as the EHR sent it, the base of an update (an update replaces
    /// the whole order, so one rebuilt from the typed view would lose what the view does not
    /// keep). Parses the texts the record was read from: call it only for a card that offers
    /// an update, once per card. None when the order or its text is not at hand.
    pub fn order_as_sent(&self) -> Option<DraftOrder> {
        let order = self.order.as_ref()?;
        let sent = self
            .originals
            .find(ORDER_TYPES, order.request.id.as_deref()?)?;
        Some(DraftOrder {
            raw: Value::Object(sent),
            ..order.clone()
        })
    }

    pub fn start_date(&self) -> Option<NaiveDate> {
        self.start.as_ref().and_then(|s| s.date)
    }

    /// True when `date` is after the start date (a fact without a date, or a therapy without
    /// a start date, is not "after the start").
    pub fn after_start(&self, date: Option<NaiveDate>) -> bool {
        matches!((self.start_date(), date), (Some(s), Some(d)) if d > s)
    }

    /// The therapy as an order, for the rules that read one (dose). None without an active
    /// MedicationRequest.
    pub fn as_order(&self) -> Option<JakOrder<'_>> {
        Some(JakOrder {
            draft: self.order.as_ref()?,
            agent: self.agent,
            matched_by: self.matched_by.clone(),
            label: self.label.clone(),
            strength_mg: self.strength_mg,
            dose: self.dose.clone(),
        })
    }
}

fn status_is(status: Option<&str>, any: &[&str]) -> bool {
    status.is_some_and(|s| any.iter().any(|k| s.trim().eq_ignore_ascii_case(k)))
}

/// The in-scope agent a medication view names (systemic JAK/TYK2 inhibitors only), with how it
/// was matched and the product strength.
fn agent_of(
    v: &MedicationView<'_>,
    kb: &Knowledge,
    dosages: &[crate::fhir::model::Dosage],
) -> Option<(Agent, String, Option<Strength>)> {
    let found = v.identify(kb);
    let m = found.iter().find(|m| m.drug.agent.is_some())?;
    if v.texts().iter().any(|t| kb.drugs.names_out_of_scope(t)) || v.is_non_systemic(kb, dosages) {
        return None;
    }
    Some((m.drug.agent?, m.matched_by.to_string(), v.strength(m)))
}

fn statement_start(s: &MedicationStatement) -> Option<NaiveDate> {
    s.effective_period
        .as_ref()
        .and_then(|p| p.start)
        .or(s.effective_date_time)
        .or_else(|| s.effective_period.as_ref().and_then(|p| p.end))
        .or(s.date_asserted)
        .map(|d| d.0)
}

/// The resource types a recorded medication order is sent as (R4, and DSTU2 as the sandbox
/// sends it).
const ORDER_TYPES: &[&str] = &["MedicationRequest", "MedicationOrder"];

/// The JAK/TYK2 therapies the patient is on now, in record order, one per agent: the latest
/// active MedicationRequest of the agent, else an active MedicationStatement.
pub fn active_therapies(record: &PatientRecord, kb: &Knowledge) -> Vec<ActiveTherapy> {
    let mut out: Vec<ActiveTherapy> = Vec::new();
    let mut active: Vec<&MedicationRequest> = record
        .medication_requests
        .iter()
        .filter(|r| status_is(r.status.as_deref(), &["active"]))
        .collect();
    // Latest authored first, so the kept order per agent is the newest.
    active.sort_by_key(|r| std::cmp::Reverse(r.authored_on.map(|d| d.0)));
    for r in active {
        let v = r.medication_view(record);
        let Some((agent, matched_by, strength)) = agent_of(&v, kb, &r.dosage_instruction) else {
            continue;
        };
        if out.iter().any(|t| t.agent == agent) {
            continue;
        }
        let draft = DraftOrder {
            reference: reference("MedicationRequest", r.id.as_deref()),
            request: r.clone(),
            raw: Value::Null,
        };
        out.push(ActiveTherapy {
            agent,
            matched_by,
            label: v.label(),
            start: None,
            current: FactSource {
                reference: draft.reference.clone(),
                date: r.authored_on.map(|d| d.0),
                what: format!("{} active", v.label()),
            },
            order: Some(draft),
            originals: record.originals.clone(),
            strength_mg: strength.and_then(Strength::per_unit_mg),
            dose: dose::read(&r.dosage_instruction, strength),
            hb_before_start: None,
        });
    }
    for s in &record.medication_statements {
        if !status_is(s.status.as_deref(), &["active"]) {
            continue;
        }
        let v = s.medication_view(record);
        let Some((agent, matched_by, strength)) = agent_of(&v, kb, &s.dosage) else {
            continue;
        };
        if out.iter().any(|t| t.agent == agent) {
            continue;
        }
        out.push(ActiveTherapy {
            agent,
            matched_by,
            label: v.label(),
            start: None,
            current: FactSource {
                reference: reference("MedicationStatement", s.id.as_deref()),
                date: statement_start(s),
                what: format!("{} taken (medication statement)", v.label()),
            },
            order: None,
            originals: record.originals.clone(),
            strength_mg: strength.and_then(Strength::per_unit_mg),
            dose: dose::read(&s.dosage, strength),
            hb_before_start: None,
        });
    }
    for t in &mut out {
        t.start = start_of(t.agent, record, kb);
        t.hb_before_start = t.start_date().and_then(|s| hb_before(record, kb, s));
    }
    out
}

/// The earliest record of `agent` (knowledge.md 4.8): an order that was placed (active,
/// on-hold, completed, stopped) by its authoredOn, a statement that it was taken (active,
/// completed, stopped, intended) by its effective start, or an administration (completed, in
/// progress) by its time.
fn start_of(agent: Agent, record: &PatientRecord, kb: &Knowledge) -> Option<FactSource> {
    let is_agent = |v: &MedicationView<'_>, dosages| {
        agent_of(v, kb, dosages).is_some_and(|(a, _, _)| a == agent)
    };
    let ordered = record
        .medication_requests
        .iter()
        .filter(|r| {
            status_is(
                r.status.as_deref(),
                &["active", "on-hold", "completed", "stopped"],
            )
        })
        .filter_map(|r| {
            let v = r.medication_view(record);
            is_agent(&v, &r.dosage_instruction).then(|| FactSource {
                reference: reference("MedicationRequest", r.id.as_deref()),
                date: r.authored_on.map(|d| d.0),
                what: format!("{} first ordered", v.label()),
            })
        });
    let taken = record
        .medication_statements
        .iter()
        .filter(|s| {
            status_is(
                s.status.as_deref(),
                &["active", "completed", "stopped", "intended"],
            )
        })
        .filter_map(|s| {
            let v = s.medication_view(record);
            is_agent(&v, &s.dosage).then(|| FactSource {
                reference: reference("MedicationStatement", s.id.as_deref()),
                date: statement_start(s),
                what: format!("{} taken since", v.label()),
            })
        });
    let given = record
        .medication_administrations
        .iter()
        .filter(|a| status_is(a.status.as_deref(), &["completed", "in-progress"]))
        .filter_map(|a| {
            let v = a.medication_view(record);
            is_agent(&v, &[]).then(|| FactSource {
                reference: reference("MedicationAdministration", a.id.as_deref()),
                date: effective_span(a.effective_date_time, a.effective_period.as_ref(), None).0,
                what: format!("{} first given", v.label()),
            })
        });
    // The first of equally early records wins (min_by_key keeps the first minimum).
    ordered
        .chain(taken)
        .chain(given)
        .filter(|s| s.date.is_some())
        .min_by_key(|s| s.date)
}

/// Credible Conditions in value set `valueset` (any clinical status), with their date (onset,
/// else recordedDate).
pub fn conditions_in(record: &PatientRecord, kb: &Knowledge, valueset: &str) -> Vec<FactSource> {
    record
        .conditions
        .iter()
        .filter(|c| is_credible(c))
        .filter_map(|c| {
            let code = c.code.as_ref()?;
            let coding = coding_in(kb, valueset, code)?;
            let date = c
                .onset_date_time
                .or_else(|| c.onset_period.as_ref().and_then(|p| p.start))
                .or(c.recorded_date)
                .map(|d| d.0);
            Some(FactSource {
                reference: reference("Condition", c.id.as_deref()),
                date,
                what: concept_what(code, coding),
            })
        })
        .collect()
}

/// Usable Observations (final, amended, corrected; dated) in value set `valueset`.
pub fn observations_in(record: &PatientRecord, kb: &Knowledge, valueset: &str) -> Vec<FactSource> {
    record
        .observations
        .iter()
        .filter(|o| is_usable_status(o))
        .filter_map(|o| {
            let code = o.code.as_ref()?;
            let coding = coding_in(kb, valueset, code)?;
            let date = o.date()?.0;
            // The value with its unit as sent ("Hb 12.8 g/dL"); the short clinical name where
            // there is one (a LOINC long name such as "Hemoglobin [Mass/volume] in Blood" is not
            // card text).
            let value = o
                .value_quantity
                .as_ref()
                .and_then(|q| {
                    let unit = q.unit.as_deref().or(q.code.as_deref()).unwrap_or("").trim();
                    let v = q.value?;
                    Some(format!(" {} {unit}", number(v)).trim_end().to_string())
                })
                .unwrap_or_default();
            let name = short_name(valueset).or(code.label()).unwrap_or("result");
            Some(FactSource {
                reference: reference("Observation", o.id.as_deref()),
                date: Some(date),
                what: format!("{name}{value} ({})", code_label(coding)),
            })
        })
        .collect()
}

/// The short name clinicians use for the results of a monitoring value set.
fn short_name(valueset: &str) -> Option<&'static str> {
    Some(match valueset {
        "alc" => "ALC",
        "anc" => "ANC",
        "hb" => "Hb",
        "igra" => "IGRA",
        "tst" => "TST",
        _ => return None,
    })
}

/// The latest haemoglobin (g/dL) dated before `start`: the baseline of an on-treatment fall.
pub fn hb_before(
    record: &PatientRecord,
    kb: &Knowledge,
    start: NaiveDate,
) -> Option<(f64, FactSource)> {
    let mut best: Option<(NaiveDate, f64, FactSource)> = None;
    for o in record.observations.iter().filter(|o| is_usable_status(o)) {
        let (Some(code), Some(date), Some(q)) =
            (o.code.as_ref(), o.date(), o.value_quantity.as_ref())
        else {
            continue;
        };
        let Some(coding) = coding_in(kb, "hb", code) else {
            continue;
        };
        if date.0 >= start || best.as_ref().is_some_and(|(d, _, _)| *d >= date.0) {
            continue;
        }
        let reading = convert(q, Measure::Hemoglobin);
        if let Reading::Value { value, .. } = reading {
            let shown = shown(q, Measure::Hemoglobin, &reading);
            let src = FactSource {
                reference: reference("Observation", o.id.as_deref()),
                date: Some(date.0),
                what: format!("Hb {shown} before the start ({})", code_label(coding)),
            };
            best = Some((date.0, value, src));
        }
    }
    best.map(|(_, v, s)| (v, s))
}

/// Recombinant zoster vaccinations declined: status not-done with a reason (knowledge.md 2:
/// counts as addressed).
pub fn zoster_declined(record: &PatientRecord, kb: &Knowledge) -> Vec<FactSource> {
    record
        .immunizations
        .iter()
        .filter(|i| status_is(i.status.as_deref(), &["not-done"]) && i.status_reason.is_some())
        .filter_map(|i| {
            let code = i.vaccine_code.as_ref()?;
            let coding = coding_in(kb, "zoster-vaccine", code)?;
            let reason = i
                .status_reason
                .as_ref()
                .and_then(|r| r.label())
                .unwrap_or("reason recorded");
            Some(FactSource {
                reference: reference("Immunization", i.id.as_deref()),
                date: i.occurrence_date_time.or(i.recorded).map(|d| d.0),
                what: format!(
                    "{} ({}) declined: {reason}",
                    code.label().unwrap_or("Recombinant zoster vaccine"),
                    code_label(coding)
                ),
            })
        })
        .collect()
}

/// Everything monitoring reads besides [`super::PatientFacts`] (which holds the v2 facts it
/// also uses: VTE, infection, pregnancy, breast-feeding, hepatitis, malignancy, cytopenia,
/// eGFR, age and the dose reasons).
#[derive(Debug, Clone, Default)]
pub struct MonitoringFacts {
    pub therapies: Vec<ActiveTherapy>,
    /// Myocardial infarction, stroke, arterial thrombosis (any clinical status).
    pub arterial_events: Vec<FactSource>,
    /// Blood counts (ALC, ANC, Hb) on record, any date.
    pub blood_counts: Vec<FactSource>,
    /// Lipid results on record, any date.
    pub lipids: Vec<FactSource>,
    /// IGRA and TST results on record, any date.
    pub tb_screens: Vec<FactSource>,
    pub zoster_declined: Vec<FactSource>,
}

/// Derive the monitoring facts of a record.
pub fn derive(record: &PatientRecord, kb: &Knowledge) -> MonitoringFacts {
    let obs = |vs: &[&str]| -> Vec<FactSource> {
        vs.iter()
            .flat_map(|v| observations_in(record, kb, v))
            .collect()
    };
    MonitoringFacts {
        therapies: active_therapies(record, kb),
        arterial_events: ["myocardial-infarction", "stroke", "arterial-thrombosis"]
            .iter()
            .flat_map(|v| conditions_in(record, kb, v))
            .collect(),
        blood_counts: obs(&["alc", "anc", "hb"]),
        lipids: obs(&["lipids"]),
        tb_screens: obs(&["igra", "tst"]),
        zoster_declined: zoster_declined(record, kb),
    }
}
