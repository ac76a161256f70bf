//! Monitoring of patients already on a JAK/TYK2 inhibitor (knowledge.md 4.11, `patient-view`):
//! per active therapy, the findings that call for action, in four groups — stop or hold
//! (critical), reassess (warning), dose (warning; never a higher dose), and monitoring due
//! (info). Pure: facts in, findings out; windows and cut-offs from `kb.monitoring`.

mod dose;
mod due;
mod stop;

use chrono::NaiveDate;

use crate::facts::therapy::{ActiveTherapy, MonitoringFacts};
use crate::facts::{FactSource, PatientFacts};
use crate::knowledge::Knowledge;

/// What a finding is about, stable for tests and analytics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FindingCode {
    Vte,
    ArterialEvent,
    SeriousInfection,
    Pregnancy,
    BreastFeeding,
    Hepatitis,
    ActiveTb,
    Cytopenia,
    RenalFunction,
    Malignancy,
    TwoJakInhibitors,
    Dose,
    CbcDue,
    LipidsDue,
    TbScreeningDue,
    ZosterVaccineDue,
}

/// One finding with the facts it rests on.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub code: FindingCode,
    /// Short, for the summary ("VTE after the start").
    pub short: String,
    /// One sentence for the detail.
    pub text: String,
    pub facts: Vec<FactSource>,
    /// Stop-group findings for which the label says discontinue (not only interrupt).
    pub discontinue: bool,
}

impl Finding {
    pub fn new(code: FindingCode, short: impl Into<String>, text: impl Into<String>) -> Finding {
        Finding {
            code,
            short: short.into(),
            text: text.into(),
            facts: Vec::new(),
            discontinue: false,
        }
    }

    pub fn with_facts(mut self, facts: Vec<FactSource>) -> Finding {
        self.facts = facts;
        self
    }
}

/// The lower dose a therapy should now have.
#[derive(Debug, Clone, PartialEq)]
pub struct DoseChange {
    pub target: crate::rules::dose::Regimen,
    pub current_mg_per_day: f64,
    pub reasons: Vec<Finding>,
}

/// The findings for one active therapy.
#[derive(Debug, Clone)]
pub struct TherapyReview<'a> {
    pub therapy: &'a ActiveTherapy,
    pub stop: Vec<Finding>,
    pub reassess: Vec<Finding>,
    pub dose: Option<DoseChange>,
    /// Per-therapy monitoring due (lipids); the patient-level items are in [`Review::due`].
    pub due: Vec<Finding>,
}

/// Everything monitoring found for one patient.
#[derive(Debug, Clone)]
pub struct Review<'a> {
    pub therapies: Vec<TherapyReview<'a>>,
    /// Monitoring due for the patient (blood count, TB screening, zoster vaccine).
    pub due: Vec<Finding>,
}

impl Review<'_> {
    /// No finding at all: the service returns no cards.
    pub fn is_empty(&self) -> bool {
        self.due.is_empty()
            && self.therapies.iter().all(|t| {
                t.stop.is_empty() && t.reassess.is_empty() && t.dose.is_none() && t.due.is_empty()
            })
    }
}

/// Review every active therapy of an SLE patient (the caller has checked SLE).
pub fn review<'a>(
    facts: &PatientFacts,
    m: &'a MonitoringFacts,
    kb: &Knowledge,
    today: NaiveDate,
) -> Review<'a> {
    let therapies = m
        .therapies
        .iter()
        .map(|t| {
            let stop = stop::findings(facts, m, t, kb);
            let reassess = stop::reassess(facts, m, t);
            // A therapy to stop gets no dose advice.
            let dose = if stop.is_empty() {
                dose::change(facts, m, t, kb)
            } else {
                None
            };
            TherapyReview {
                therapy: t,
                due: due::for_therapy(m, t, kb, today),
                stop,
                reassess,
                dose,
            }
        })
        .collect();
    Review {
        therapies,
        due: if m.therapies.is_empty() {
            Vec::new()
        } else {
            due::for_patient(facts, m, kb, today)
        },
    }
}

#[cfg(test)]
mod tests;
