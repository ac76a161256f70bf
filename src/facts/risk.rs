//! The version 2 facts of knowledge.md 2 that come from Conditions, Observations,
//! Immunizations and the Patient: age and sex, thrombosis risk (antiphospholipid syndrome,
//! arterial thrombosis), active serious infection and recurrent serious infections, pregnancy
//! and breast-feeding (present or unclear), the boxed-warning risk factors (smoking, ASCVD,
//! malignancy), hepatitis B/C (screening, active, resolved, RNA needed), hepatic impairment,
//! diverticular disease, the latest pregnancy test and recent live vaccines.
//!
//! Value-set ids are those of hooks/valuesets (knowledge.md 3c/3d). Conditions count with any
//! clinical status where history is the point (risk factors, thrombosis, diverticular disease;
//! 4.12), otherwise only active ones (active, recurrence, relapse, or unstated).

use chrono::NaiveDate;

use super::conditions::{clinical, condition_date, matched, Clinical};
use super::labs::concept_result;
use super::source::{coding_in, reference, window_start_days, window_start_months, Index};
use super::{FactSource, TbTestResult};
use crate::fhir::model::{Condition, Immunization, Observation, Patient};
use crate::knowledge::Knowledge;

/// Age in whole years at today, from `Patient.birthDate`.
#[derive(Debug, Clone, PartialEq)]
pub struct Age {
    pub years: u32,
    pub source: FactSource,
}

/// Present findings and those whose status is unclear (a date outside the window).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Status {
    pub present: Vec<FactSource>,
    pub unclear: Vec<FactSource>,
}

/// Hepatitis B/C (knowledge.md 2, v2).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hepatitis {
    pub hbsag: Option<FactSource>,
    pub anti_hbc: Option<FactSource>,
    pub hcv_antibody: Option<FactSource>,
    pub active_hbv: Vec<FactSource>,
    pub active_hcv: Vec<FactSource>,
    /// anti-HBc positive with HBsAg negative: check HBV DNA and monitor.
    pub resolved_hbv: Option<FactSource>,
    /// HCV antibody positive without an HCV RNA result.
    pub hcv_rna_needed: Option<FactSource>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HepaticSeverity {
    Moderate,
    Severe,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HepaticImpairment {
    pub severity: HepaticSeverity,
    pub sources: Vec<FactSource>,
}

/// Every v2 fact of this module.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RiskFacts {
    pub age: Option<Age>,
    pub female: bool,
    pub thrombosis_risk: Vec<FactSource>,
    pub infection: Status,
    pub recurrent_infections: Vec<FactSource>,
    pub pregnancy: Status,
    pub breastfeeding: Status,
    /// The latest negative hCG test within its window.
    pub negative_pregnancy_test: Option<FactSource>,
    pub smoking: Vec<FactSource>,
    pub ascvd: Vec<FactSource>,
    pub malignancy: Vec<FactSource>,
    pub hepatitis: Hepatitis,
    pub hepatic: Option<HepaticImpairment>,
    pub diverticular: Vec<FactSource>,
    pub live_vaccines: Vec<FactSource>,
}

fn any_status(index: &Index<'_, '_, Condition>, vs: &str) -> Vec<FactSource> {
    index.get(vs).iter().map(|(c, k)| matched(c, k)).collect()
}

fn active_sources(index: &Index<'_, '_, Condition>, vs: &str) -> Vec<FactSource> {
    index
        .get(vs)
        .iter()
        .filter(|(c, _)| clinical(c) != Clinical::NotActive)
        .map(|(c, k)| matched(c, k))
        .collect()
}

/// Active Conditions of `vs`: dated on or after `start` are present; older ones are unclear;
/// undated ones are `undated_present` ? present : unclear.
fn dated(
    index: &Index<'_, '_, Condition>,
    vs: &str,
    start: NaiveDate,
    undated_present: bool,
) -> Status {
    let mut s = Status::default();
    for (c, k) in index.get(vs) {
        if clinical(c) == Clinical::NotActive {
            continue;
        }
        let src = matched(c, k);
        match condition_date(c) {
            Some(d) if d >= start => s.present.push(src),
            None if undated_present => s.present.push(src),
            _ => s.unclear.push(src),
        }
    }
    s
}

fn obs_source(o: &Observation, what: String) -> FactSource {
    FactSource {
        reference: reference("Observation", o.id.as_deref()),
        date: o.date().map(|d| d.0),
        what,
    }
}

/// The latest Observation of a value set (dated), optionally on or after `start`.
fn latest<'r>(
    index: &Index<'_, 'r, Observation>,
    vs: &str,
    start: Option<NaiveDate>,
) -> Option<&'r Observation> {
    index
        .get(vs)
        .iter()
        .map(|(o, _)| *o)
        .filter(|o| o.date().is_some_and(|d| start.is_none_or(|s| d.0 >= s)))
        .max_by_key(|o| o.date())
}

/// A qualitative result: coded or text value, interpretation; for quantitative viral loads
/// a value above zero is "detected".
fn result(o: &Observation) -> Option<TbTestResult> {
    o.value_codeable_concept
        .as_ref()
        .and_then(concept_result)
        .or_else(|| {
            o.value_string
                .as_deref()
                .and_then(super::labs::result_from_text)
        })
        .or_else(|| o.interpretation.iter().find_map(concept_result))
        .or_else(|| {
            o.value_quantity.as_ref().and_then(|q| q.value).map(|v| {
                if v > 0.0 {
                    TbTestResult::Positive
                } else {
                    TbTestResult::Negative
                }
            })
        })
}

fn result_word(r: Option<TbTestResult>) -> &'static str {
    match r {
        Some(TbTestResult::Positive) => "positive",
        Some(TbTestResult::Negative) => "negative",
        Some(TbTestResult::Indeterminate) => "indeterminate",
        None => "result not readable",
    }
}

fn value_is(o: &Observation, codes: &[&str]) -> bool {
    o.value_codeable_concept.as_ref().is_some_and(|v| {
        v.coding
            .iter()
            .any(|c| c.code.as_deref().is_some_and(|x| codes.contains(&x.trim())))
    })
}

/// Age in whole years at `today`.
fn age(patient: Option<&Patient>, today: NaiveDate) -> Option<Age> {
    let p = patient?;
    let born = p.birth_date?.0;
    let years = today.years_since(born)?;
    Some(Age {
        years,
        source: FactSource {
            reference: reference("Patient", p.id.as_deref()),
            date: Some(born),
            what: format!("age {years}"),
        },
    })
}

/// Inputs of [`derive`].
pub struct Inputs<'a, 'k, 'r> {
    pub patient: Option<&'r Patient>,
    pub conditions: &'a Index<'k, 'r, Condition>,
    pub observations: &'a Index<'k, 'r, Observation>,
    pub immunizations: &'r [Immunization],
}

pub fn derive(i: &Inputs<'_, '_, '_>, kb: &Knowledge, today: NaiveDate) -> RiskFacts {
    let v = &kb.thresholds.v2;
    let c = i.conditions;
    let o = i.observations;
    let days = |n: u32| window_start_days(today, n);
    let months = |n: u32| window_start_months(today, n);

    let mut thrombosis_risk = any_status(c, "antiphospholipid");
    thrombosis_risk.extend(any_status(c, "arterial-thrombosis"));

    let mut infection = dated(
        c,
        "serious-infection-acute",
        days(v.infection_active_days),
        true,
    );
    infection
        .present
        .extend(active_sources(c, "serious-infection-chronic"));
    let recent_start = months(v.recurrent_infection_months);
    let recurrent: Vec<FactSource> = ["serious-infection-acute", "serious-infection-chronic"]
        .iter()
        .flat_map(|vs| c.get(vs).iter())
        .filter(|(x, _)| condition_date(x).is_some_and(|d| d >= recent_start))
        .map(|(x, k)| matched(x, k))
        .collect();
    let recurrent_infections = if recurrent.len() >= v.recurrent_infection_count {
        recurrent
    } else {
        Vec::new()
    };

    let pregnancy_start = days(v.pregnancy_weeks * 7);
    let mut pregnancy = dated(c, "pregnancy", pregnancy_start, false);
    if let Some(ob) = latest(o, "pregnancy-status", Some(pregnancy_start)) {
        if value_is(ob, &["77386006", "LA15173-0"]) {
            pregnancy
                .present
                .push(obs_source(ob, "pregnancy status: pregnant".into()));
        }
    }
    let hcg_start = days(v.positive_hcg_days.max(v.negative_pregnancy_test_days));
    let mut negative_pregnancy_test = None;
    if let Some(ob) = latest(o, "hcg", Some(hcg_start)) {
        match result(ob) {
            Some(TbTestResult::Positive) => pregnancy
                .present
                .push(obs_source(ob, "pregnancy test (hCG) positive".into())),
            Some(TbTestResult::Negative) => {
                negative_pregnancy_test =
                    Some(obs_source(ob, "pregnancy test (hCG) negative".into()))
            }
            _ => {}
        }
    }

    let mut breastfeeding = dated(c, "lactation", months(v.lactation_condition_months), false);
    if let Some(ob) = latest(
        o,
        "breastfeeding-status",
        Some(months(v.breastfeeding_observation_months)),
    ) {
        if value_is(ob, &["LA29252-6", "169750002", "413712001"]) {
            breastfeeding
                .present
                .push(obs_source(ob, "breast-feeding".into()));
        }
    }

    let mut smoking = any_status(c, "smoking-condition");
    if let Some(ob) = latest(o, "smoking-status-code", None) {
        if let Some(coding) = ob
            .value_codeable_concept
            .as_ref()
            .and_then(|val| coding_in(kb, "smoking-status", val))
        {
            let label = coding
                .display
                .clone()
                .or_else(|| ob.value_codeable_concept.as_ref()?.text.clone())
                .unwrap_or_else(|| "current or former smoker".into());
            smoking.push(obs_source(ob, format!("smoking status: {label}")));
        }
    }

    let hepatitis = hepatitis(c, o);
    let hepatic = hepatic(c);

    let live_start = days(v.live_vaccine_days);
    let live_vaccines = i
        .immunizations
        .iter()
        .filter(|im| {
            im.status
                .as_deref()
                .is_some_and(|s| s.trim().eq_ignore_ascii_case("completed"))
                && im.was_not_given != Some(true)
        })
        .filter_map(|im| {
            let code = im.vaccine_code.as_ref()?;
            coding_in(kb, "live-vaccine", code)?;
            let date = im.occurrence_date_time.or(im.recorded).map(|d| d.0)?;
            (date >= live_start).then(|| FactSource {
                reference: reference("Immunization", im.id.as_deref()),
                date: Some(date),
                what: format!("live vaccine: {}", code.label().unwrap_or("vaccine")),
            })
        })
        .collect();

    RiskFacts {
        age: age(i.patient, today),
        female: i
            .patient
            .and_then(|p| p.gender.as_deref())
            .is_some_and(|g| g.trim().eq_ignore_ascii_case("female")),
        thrombosis_risk,
        infection,
        recurrent_infections,
        pregnancy,
        breastfeeding,
        negative_pregnancy_test,
        smoking,
        ascvd: any_status(c, "ascvd"),
        malignancy: any_status(c, "malignancy"),
        hepatitis,
        hepatic,
        diverticular: any_status(c, "diverticular"),
        live_vaccines,
    }
}

fn hepatitis(c: &Index<'_, '_, Condition>, o: &Index<'_, '_, Observation>) -> Hepatitis {
    let test = |vs: &str, name: &str| {
        latest(o, vs, None).map(|ob| {
            let r = result(ob);
            (r, obs_source(ob, format!("{name} {}", result_word(r))))
        })
    };
    let hbsag = test("hbsag", "HBsAg");
    let anti_hbc = test("anti-hbc", "anti-HBc");
    let hcv_ab = test("hcv-antibody", "HCV antibody");
    let hbv_dna = test("hbv-dna", "HBV DNA");
    let hcv_rna = test("hcv-rna", "HCV RNA");
    let pos = |t: &Option<(Option<TbTestResult>, FactSource)>| {
        t.as_ref()
            .filter(|(r, _)| *r == Some(TbTestResult::Positive))
            .map(|(_, s)| s.clone())
    };
    let neg = |t: &Option<(Option<TbTestResult>, FactSource)>| {
        t.as_ref()
            .is_some_and(|(r, _)| *r == Some(TbTestResult::Negative))
    };
    let mut active_hbv = active_sources(c, "hepatitis-b");
    active_hbv.extend(pos(&hbsag));
    active_hbv.extend(pos(&hbv_dna));
    let mut active_hcv = active_sources(c, "hepatitis-c");
    active_hcv.extend(pos(&hcv_rna));
    let resolved_hbv = pos(&anti_hbc).filter(|_| neg(&hbsag) && active_hbv.is_empty());
    let hcv_rna_needed = pos(&hcv_ab).filter(|_| hcv_rna.is_none() && active_hcv.is_empty());
    Hepatitis {
        hbsag: hbsag.map(|(_, s)| s),
        anti_hbc: anti_hbc.map(|(_, s)| s),
        hcv_antibody: hcv_ab.map(|(_, s)| s),
        active_hbv,
        active_hcv,
        resolved_hbv,
        hcv_rna_needed,
    }
}

/// Severe: hepatic failure, or cirrhosis with a sign of decompensation; moderate: cirrhosis.
fn hepatic(c: &Index<'_, '_, Condition>) -> Option<HepaticImpairment> {
    let failure = active_sources(c, "hepatic-failure");
    let cirrhosis = active_sources(c, "cirrhosis");
    let decompensation = active_sources(c, "hepatic-decompensation");
    if !failure.is_empty() {
        return Some(HepaticImpairment {
            severity: HepaticSeverity::Severe,
            sources: failure,
        });
    }
    if cirrhosis.is_empty() {
        return None;
    }
    let severity = if decompensation.is_empty() {
        HepaticSeverity::Moderate
    } else {
        HepaticSeverity::Severe
    };
    let mut sources = cirrhosis;
    sources.extend(decompensation);
    Some(HepaticImpairment { severity, sources })
}
