//! Condition facts (knowledge.md 2): SLE, VTE history, active and latent TB, active lupus
//! nephritis, CNS lupus, musculoskeletal/cutaneous disease, herpes zoster, pregnancy.
//!
//! Conditions whose verificationStatus is refuted or entered-in-error are ignored everywhere.
//! "Active" means clinicalStatus active, recurrence or relapse; a Condition without
//! clinicalStatus counts as active unless it has an abatement date (conservative: an
//! unqualified problem-list entry is taken at its word).

use super::source::{coding_in, concept_what, reference};
use super::FactSource;
use crate::fhir::model::{CodeableConcept, Condition, Observation};
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

fn status_text(c: &Condition) -> String {
    match (
        clinical(c),
        c.clinical_status.as_ref().and_then(|s| s.label()),
    ) {
        (Clinical::Unstated, _) => "clinical status not stated (taken as active)".into(),
        (_, Some(label)) => label.trim().to_string(),
        (Clinical::NotActive, None) => "abated".into(),
        (Clinical::Active, None) => "active".into(),
    }
}

fn condition_date(c: &Condition) -> Option<chrono::NaiveDate> {
    c.onset_date_time
        .or_else(|| c.onset_period.as_ref().and_then(|p| p.start))
        .or(c.recorded_date)
        .map(|d| d.0)
}

/// The source of a Condition that matched `valueset`, or `None`.
fn matched(kb: &Knowledge, valueset: &str, c: &Condition) -> Option<FactSource> {
    let code = c.code.as_ref()?;
    let coding = coding_in(kb, valueset, code)?;
    Some(FactSource {
        reference: reference("Condition", c.id.as_deref()),
        date: condition_date(c),
        what: format!("{}, {}", concept_what(code, coding), status_text(c)),
    })
}

/// Which clinical statuses a fact accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Any clinical status (history counts).
    Any,
    /// Active, recurrence, relapse (or unstated).
    Active,
}

fn collect(
    kb: &Knowledge,
    conditions: &[&Condition],
    valueset: &str,
    need: Need,
) -> Vec<FactSource> {
    conditions
        .iter()
        .filter(|c| need == Need::Any || clinical(c) != Clinical::NotActive)
        .filter_map(|c| matched(kb, valueset, c))
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
    pub pregnancy: Vec<FactSource>,
}

pub fn derive(
    conditions: &[Condition],
    observations: &[Observation],
    kb: &Knowledge,
) -> ConditionFacts {
    let credible: Vec<&Condition> = conditions.iter().filter(|c| is_credible(c)).collect();
    let mut vte_history = collect(kb, &credible, "vte", Need::Any);
    vte_history.extend(vte_observations(observations, kb));
    ConditionFacts {
        sle: collect(kb, &credible, "sle", Need::Any),
        vte_history,
        active_tb: collect(kb, &credible, "active-tb", Need::Active),
        latent_tb_untreated: collect(kb, &credible, "latent-tb", Need::Active),
        latent_tb_treated: !collect(kb, &credible, "latent-tb-treated", Need::Any).is_empty(),
        active_lupus_nephritis: collect(kb, &credible, "lupus-nephritis", Need::Active),
        cns_lupus: collect(kb, &credible, "cns-lupus", Need::Active),
        msk_cutaneous: collect(kb, &credible, "msk-cutaneous", Need::Active),
        herpes_zoster: collect(kb, &credible, "herpes-zoster", Need::Any),
        pregnancy: collect(kb, &credible, "pregnancy", Need::Active),
    }
}

/// Observations coding a VTE (or history of VTE) in their code or coded value, final/amended/
/// corrected, unless the value says no (valueBoolean false, or a "No"/"Negative" concept).
fn vte_observations(observations: &[Observation], kb: &Knowledge) -> Vec<FactSource> {
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
    observations
        .iter()
        .filter(|o| super::labs::is_usable_status(o))
        .filter_map(|o| {
            let hit = o
                .code
                .as_ref()
                .and_then(|c| coding_in(kb, "vte", c).map(|x| (c, x)))
                .filter(|_| !negative(o))
                .or_else(|| {
                    o.value_codeable_concept
                        .as_ref()
                        .and_then(|c| coding_in(kb, "vte", c).map(|x| (c, x)))
                })?;
            Some(FactSource {
                reference: reference("Observation", o.id.as_deref()),
                date: o.date().map(|d| d.0),
                what: concept_what(hit.0, hit.1),
            })
        })
        .collect()
}
