//! Condition facts (knowledge.md 2): SLE, VTE history, active and latent TB, active lupus
//! nephritis, CNS lupus, musculoskeletal/cutaneous disease, herpes zoster, pregnancy.
//!
//! Conditions whose verificationStatus is refuted or entered-in-error are ignored everywhere.
//! "Active" means clinicalStatus active, recurrence or relapse; a Condition without
//! clinicalStatus counts as active unless it has an abatement date (conservative: an
//! unqualified problem-list entry is taken at its word).

use super::source::{code_label, coding_in, concept_what, reference, Index};
use super::FactSource;
use crate::fhir::model::{CodeableConcept, Coding, Condition, Observation};
use crate::knowledge::Knowledge;

/// How a Condition's clinical status reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clinical {
    Active,
    /// inactive, remission, resolved.
    NotActive,
    /// No clinicalStatus and no abatement: treated as active.
    Unstated,
}

pub fn clinical(c: &Condition) -> Clinical {
    match &c.clinical_status {
        Some(s)
            if ["active", "recurrence", "relapse"]
                .iter()
                .any(|k| has(s, k)) =>
        {
            Clinical::Active
        }
        Some(s) if s.coding.iter().any(|c| c.code.is_some()) || s.text.is_some() => {
            Clinical::NotActive
        }
        _ if c.abatement_date_time.is_some() => Clinical::NotActive,
        _ => Clinical::Unstated,
    }
}

fn has(concept: &CodeableConcept, code: &str) -> bool {
    concept.coding.iter().any(|c| {
        c.code
            .as_deref()
            .is_some_and(|x| x.trim().eq_ignore_ascii_case(code))
    }) || concept
        .text
        .as_deref()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case(code))
}

/// False for refuted and entered-in-error Conditions.
pub fn is_credible(c: &Condition) -> bool {
    match &c.verification_status {
        Some(v) => !(has(v, "refuted") || has(v, "entered-in-error")),
        None => true,
    }
}

/// The clinical status as the fact shows it, when it needs saying. An active record goes
/// unsaid: "Latent tuberculosis, active" read as active TB, and "history of venous
/// thrombosis, active" contradicted itself. A status other than active is shown as recorded
/// ("relapse", "resolved", "remission"), and a missing one says how it was counted.
fn status_text(c: &Condition) -> Option<String> {
    match (
        clinical(c),
        c.clinical_status.as_ref().and_then(|s| s.label()),
    ) {
        (Clinical::Active, Some(label)) if !label.trim().eq_ignore_ascii_case("active") => {
            Some(label.trim().to_string())
        }
        (Clinical::Active, _) => None,
        (Clinical::Unstated, _) => Some("status not stated, counted as current".into()),
        (Clinical::NotActive, Some(label)) => Some(label.trim().to_string()),
        (Clinical::NotActive, None) => Some("abated".into()),
    }
}

pub(super) fn condition_date(c: &Condition) -> Option<chrono::NaiveDate> {
    c.onset_date_time
        .or_else(|| c.onset_period.as_ref().and_then(|p| p.start))
        .or(c.recorded_date)
        .map(|d| d.0)
}

/// The source of a Condition that matched with `coding`.
pub(super) fn matched(c: &Condition, coding: &Coding) -> FactSource {
    let what = match &c.code {
        Some(code) => concept_what(code, coding),
        None => code_label(coding),
    };
    FactSource {
        reference: reference("Condition", c.id.as_deref()),
        date: condition_date(c),
        what: match status_text(c) {
            Some(status) => format!("{what}, {status}"),
            None => what,
        },
    }
}

/// Which clinical statuses a fact accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Any clinical status (history counts).
    Any,
    /// Active, recurrence, relapse (or unstated).
    Active,
}

fn collect(index: &Index<'_, '_, Condition>, valueset: &str, need: Need) -> Vec<FactSource> {
    index
        .get(valueset)
        .iter()
        .filter(|(c, _)| need == Need::Any || clinical(c) != Clinical::NotActive)
        .map(|(c, coding)| matched(c, coding))
        .collect()
}

/// The condition facts of a record.
#[derive(Debug, Default)]
pub struct ConditionFacts {
    pub sle: Vec<FactSource>,
    pub vte_history: Vec<FactSource>,
    pub active_tb: Vec<FactSource>,
    pub latent_tb_untreated: Vec<FactSource>,
    /// A treated latent TB history (Z86.15) exists.
    pub latent_tb_treated: bool,
    pub active_lupus_nephritis: Vec<FactSource>,
    pub cns_lupus: Vec<FactSource>,
    pub msk_cutaneous: Vec<FactSource>,
    pub herpes_zoster: Vec<FactSource>,
}

/// `conditions` indexes the credible Conditions (see [`is_credible`]); `observations` the
/// usable Observations by code.
pub fn derive(
    conditions: &Index<'_, '_, Condition>,
    observations: &Index<'_, '_, Observation>,
    all_observations: &[Observation],
    kb: &Knowledge,
) -> ConditionFacts {
    let mut vte_history = collect(conditions, "vte", Need::Any);
    vte_history.extend(vte_observations(observations, all_observations, kb));
    ConditionFacts {
        sle: collect(conditions, "sle", Need::Any),
        vte_history,
        active_tb: collect(conditions, "active-tb", Need::Active),
        latent_tb_untreated: collect(conditions, "latent-tb", Need::Active),
        latent_tb_treated: !conditions.get("latent-tb-treated").is_empty(),
        active_lupus_nephritis: collect(conditions, "lupus-nephritis", Need::Active),
        cns_lupus: collect(conditions, "cns-lupus", Need::Active),
        msk_cutaneous: collect(conditions, "msk-cutaneous", Need::Active),
        herpes_zoster: collect(conditions, "herpes-zoster", Need::Any),
    }
}

/// Observations coding a VTE (or history of VTE) in their code or coded value, final/amended/
/// corrected, unless the value says no (valueBoolean false, or a "No"/"Negative" concept).
fn vte_observations(
    index: &Index<'_, '_, Observation>,
    all: &[Observation],
    kb: &Knowledge,
) -> Vec<FactSource> {
    let negative = |o: &Observation| {
        o.value_boolean == Some(false)
            || o.value_codeable_concept.as_ref().is_some_and(|v| {
                v.coding.iter().any(|c| {
                    matches!(
                        c.code.as_deref().map(str::trim),
                        Some("373067005" | "260385009" | "N" | "NEG")
                    )
                }) || v.text.as_deref().is_some_and(|t| {
                    ["no", "negative", "absent"].contains(&t.trim().to_lowercase().as_str())
                })
            })
    };
    let source = |o: &Observation, concept: &CodeableConcept, coding: &Coding| FactSource {
        reference: reference("Observation", o.id.as_deref()),
        date: o.date().map(|d| d.0),
        what: concept_what(concept, coding),
    };
    let mut out: Vec<(&Observation, FactSource)> = index
        .get("vte")
        .iter()
        .filter(|(o, _)| !negative(o))
        .filter_map(|(o, coding)| Some((*o, source(o, o.code.as_ref()?, coding))))
        .collect();
    // A coded value naming a VTE ("past history: pulmonary embolism").
    for o in all.iter().filter(|o| super::labs::is_usable_status(o)) {
        if out.iter().any(|(x, _)| std::ptr::eq(*x, o)) {
            continue;
        }
        if let Some(v) = o.value_codeable_concept.as_ref() {
            if let Some(coding) = coding_in(kb, "vte", v) {
                out.push((o, source(o, v, coding)));
            }
        }
    }
    out.into_iter().map(|(_, s)| s).collect()
}
