//! The off-label bar (knowledge.md 4.2): standard therapies exhausted (rituximab,
//! mycophenolate AND belimumab all tried) and at least one of: glucocorticoid >= 10 mg/day
//! prednisone-equivalent, SLEDAI-2K > 10, musculoskeletal/cutaneous-predominant disease.

use super::{num, Reason, ReasonCode};
use crate::facts::{FactSource, GapItem, PatientFacts, Therapy};
use crate::knowledge::Knowledge;

/// The therapies that must all have been tried.
pub const REQUIRED_THERAPIES: [Therapy; 3] = [
    Therapy::Rituximab,
    Therapy::Mycophenolate,
    Therapy::Belimumab,
];

/// The standard options a not-recommended card may propose, in knowledge.md order.
const STANDARD_OPTIONS: [Therapy; 4] = [
    Therapy::Rituximab,
    Therapy::Mycophenolate,
    Therapy::Belimumab,
    Therapy::Cyclophosphamide,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CriterionKind {
    Glucocorticoid,
    Sledai,
    MskCutaneous,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CriterionStatus {
    Met,
    Unmet,
    /// The data that would decide it is missing or incomplete.
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Criterion {
    pub kind: CriterionKind,
    pub status: CriterionStatus,
    /// "glucocorticoid 15 mg/day prednisone-equivalent (>= 10)".
    pub text: String,
    pub facts: Vec<FactSource>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BarAssessment {
    pub tried: Vec<(Therapy, Vec<FactSource>)>,
    /// Required therapies with no record of use.
    pub untried: Vec<Therapy>,
    pub criteria: Vec<Criterion>,
}

impl BarAssessment {
    pub fn severity_met(&self) -> bool {
        self.criteria
            .iter()
            .any(|c| c.status == CriterionStatus::Met)
    }

    pub fn met(&self) -> bool {
        self.untried.is_empty() && self.severity_met()
    }

    /// The reasons the bar is not met (empty when met).
    pub fn unmet_reasons(&self) -> Vec<Reason> {
        let mut out = Vec::new();
        if !self.untried.is_empty() {
            let tried: Vec<&str> = self.tried.iter().map(|(t, _)| t.name()).collect();
            let tried = if tried.is_empty() {
                "none recorded".to_string()
            } else {
                tried.join(", ")
            };
            out.push(Reason::new(
                ReasonCode::StandardTherapiesNotExhausted,
                format!(
                    "Standard therapies not exhausted: no record of {} (tried: {tried})",
                    names(&self.untried)
                ),
                self.tried.iter().flat_map(|(_, f)| f.clone()).collect(),
            ));
        }
        if !self.severity_met() {
            let parts: Vec<&str> = self.criteria.iter().map(|c| c.text.as_str()).collect();
            out.push(Reason::new(
                ReasonCode::NoSeverityCriterion,
                format!(
                    "None of the refractory-disease criteria is met: {}",
                    parts.join("; ")
                ),
                self.criteria.iter().flat_map(|c| c.facts.clone()).collect(),
            ));
        }
        out
    }

    /// The reason stating the bar is met (for the conditional verdict).
    pub fn met_reason(&self) -> Reason {
        let met: Vec<&Criterion> = self
            .criteria
            .iter()
            .filter(|c| c.status == CriterionStatus::Met)
            .collect();
        let mut facts: Vec<FactSource> = self.tried.iter().flat_map(|(_, f)| f.clone()).collect();
        facts.extend(met.iter().flat_map(|c| c.facts.clone()));
        Reason::new(
            ReasonCode::BarMet,
            format!(
                "Off-label bar met: {} all tried; {}",
                names(&REQUIRED_THERAPIES),
                met.iter()
                    .map(|c| c.text.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            facts,
        )
    }
}

pub fn names(ts: &[Therapy]) -> String {
    ts.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
}

pub fn assess(facts: &PatientFacts, kb: &Knowledge) -> BarAssessment {
    let mut tried = Vec::new();
    let mut untried = Vec::new();
    for t in REQUIRED_THERAPIES {
        match facts.therapies_tried.get(&t).filter(|v| !v.is_empty()) {
            Some(src) => tried.push((t, src.clone())),
            None => untried.push(t),
        }
    }
    BarAssessment {
        tried,
        untried,
        criteria: vec![
            glucocorticoid(facts, kb),
            sledai(facts, kb),
            msk_cutaneous(facts),
        ],
    }
}

fn unavailable(facts: &PatientFacts, key: &str) -> bool {
    facts.unavailable.iter().any(|k| k == key)
}

fn glucocorticoid(facts: &PatientFacts, kb: &Knowledge) -> Criterion {
    let cut = kb
        .thresholds
        .offlabel_bar
        .glucocorticoid_at_least_mg_per_day;
    let (status, text, sources) = match &facts.glucocorticoid {
        Some(gc) if gc.mg_per_day >= cut => (
            CriterionStatus::Met,
            format!(
                "glucocorticoid {} mg/day prednisone-equivalent (at least {})",
                num(gc.mg_per_day),
                num(cut)
            ),
            gc.sources.clone(),
        ),
        Some(gc) if !gc.unreadable.is_empty() => (
            CriterionStatus::Unknown,
            if gc.mg_per_day > 0.0 {
                format!(
                    "glucocorticoid dose unknown: {} mg/day prednisone-equivalent readable, and the dose of {} more active glucocorticoid order(s) could not be read",
                    num(gc.mg_per_day),
                    gc.unreadable.len()
                )
            } else {
                format!(
                    "glucocorticoid dose unknown: the dose of {} active glucocorticoid order(s) could not be read",
                    gc.unreadable.len()
                )
            },
            gc.sources.iter().chain(&gc.unreadable).cloned().collect(),
        ),
        Some(gc) => (
            CriterionStatus::Unmet,
            format!(
                "glucocorticoid {} mg/day prednisone-equivalent (below {})",
                num(gc.mg_per_day),
                num(cut)
            ),
            gc.sources.clone(),
        ),
        None if unavailable(facts, "medications") => (
            CriterionStatus::Unknown,
            "glucocorticoid dose unknown (medication orders could not be obtained)".to_string(),
            vec![],
        ),
        None => (
            CriterionStatus::Unmet,
            format!(
                "no current systemic glucocorticoid recorded (at least {} mg/day needed)",
                num(cut)
            ),
            vec![],
        ),
    };
    Criterion {
        kind: CriterionKind::Glucocorticoid,
        status,
        text,
        facts: sources,
    }
}

fn sledai(facts: &PatientFacts, kb: &Knowledge) -> Criterion {
    let above = kb.thresholds.offlabel_bar.sledai_above;
    let months = kb.thresholds.windows.sledai_months;
    let (status, text, sources) = match &facts.sledai {
        Some(s) if s.value > f64::from(above) => (
            CriterionStatus::Met,
            format!("SLEDAI-2K {} (above {above})", num(s.value)),
            vec![s.source.clone()],
        ),
        Some(s) => (
            CriterionStatus::Unmet,
            format!("SLEDAI-2K {} (not above {above})", num(s.value)),
            vec![s.source.clone()],
        ),
        None => {
            let stale = facts
                .gaps
                .iter()
                .find(|g| g.item == GapItem::Sledai)
                .and_then(|g| g.stale.clone());
            let text = match &stale {
                Some(_) => format!("SLEDAI-2K unknown (latest is older than {months} months)"),
                None => format!("SLEDAI-2K unknown (none within {months} months)"),
            };
            (CriterionStatus::Unknown, text, stale.into_iter().collect())
        }
    };
    Criterion {
        kind: CriterionKind::Sledai,
        status,
        text,
        facts: sources,
    }
}

fn msk_cutaneous(facts: &PatientFacts) -> Criterion {
    let (status, text) = if !facts.msk_cutaneous.is_empty() {
        (
            CriterionStatus::Met,
            "musculoskeletal/cutaneous-predominant disease".to_string(),
        )
    } else if unavailable(facts, "conditions") {
        (
            CriterionStatus::Unknown,
            "musculoskeletal/cutaneous disease unknown (conditions could not be obtained)"
                .to_string(),
        )
    } else {
        (
            CriterionStatus::Unmet,
            "no active SLE arthritis or cutaneous lupus recorded".to_string(),
        )
    };
    Criterion {
        kind: CriterionKind::MskCutaneous,
        status,
        text,
        facts: facts.msk_cutaneous.clone(),
    }
}

/// Standard options with no record of use, to propose instead (4.2).
pub fn untried_options(facts: &PatientFacts) -> Vec<Therapy> {
    STANDARD_OPTIONS
        .into_iter()
        .filter(|t| facts.therapies_tried.get(t).is_none_or(|v| v.is_empty()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::facts::{DataGap, GlucocorticoidDose};

    type Row = (&'static str, Option<f64>, Option<f64>, bool, bool);

    fn gc(mg: f64) -> Option<GlucocorticoidDose> {
        Some(GlucocorticoidDose {
            mg_per_day: mg,
            sources: vec![src("MedicationRequest/p", "prednisone")],
            unreadable: vec![],
        })
    }

    /// Only one criterion can be met at a time in these rows: the others are unmet.
    #[test]
    fn severity_criteria_boundaries() {
        let rows: [Row; 6] = [
            ("gc 9.9", Some(9.9), Some(4.0), false, false),
            ("gc 10", Some(10.0), Some(4.0), false, true),
            ("sledai 10", Some(5.0), Some(10.0), false, false),
            ("sledai 11", Some(5.0), Some(11.0), false, true),
            ("msk", Some(5.0), Some(4.0), true, true),
            ("none", None, Some(4.0), false, false),
        ];
        for (name, mg, sledai_v, msk, expect) in rows {
            let mut f = eligible();
            f.glucocorticoid = mg.and_then(gc);
            f.sledai = sledai_v.map(|v| m(v, "points", "SLEDAI-2K"));
            if msk {
                f.msk_cutaneous = vec![src("Condition/a", "SLE arthritis")];
            }
            let bar = assess(&f, kb());
            assert_eq!(bar.met(), expect, "{name}");
            let reasons: Vec<ReasonCode> = bar.unmet_reasons().iter().map(|r| r.code).collect();
            assert_eq!(
                reasons.contains(&ReasonCode::NoSeverityCriterion),
                !expect,
                "{name}"
            );
        }
    }

    #[test]
    fn each_required_therapy_must_be_tried() {
        for missing in REQUIRED_THERAPIES {
            let mut f = eligible();
            f.therapies_tried.remove(&missing);
            let bar = assess(&f, kb());
            assert!(!bar.met());
            assert_eq!(bar.untried, vec![missing]);
            let r = &bar.unmet_reasons()[0];
            assert_eq!(r.code, ReasonCode::StandardTherapiesNotExhausted);
            assert!(r.text.contains(missing.name()), "{}", r.text);
        }
        // Cyclophosphamide is not part of the bar.
        let mut f = eligible();
        f.therapies_tried.remove(&Therapy::Cyclophosphamide);
        assert!(assess(&f, kb()).met());
    }

    #[test]
    fn unknown_data_is_named_not_counted() {
        let mut f = eligible();
        f.glucocorticoid = Some(GlucocorticoidDose {
            mg_per_day: 5.0,
            sources: vec![],
            unreadable: vec![src("MedicationRequest/q", "prednisolone, dose unreadable")],
        });
        f.sledai = None;
        f.gaps = vec![DataGap {
            item: GapItem::Sledai,
            stale: Some(src("Observation/s", "SLEDAI-2K 14")),
            unusable: vec![],
        }];
        let bar = assess(&f, kb());
        assert!(!bar.met());
        let statuses: Vec<CriterionStatus> = bar.criteria.iter().map(|c| c.status).collect();
        assert_eq!(
            statuses,
            vec![
                CriterionStatus::Unknown,
                CriterionStatus::Unknown,
                CriterionStatus::Unmet
            ]
        );
        let text = &bar.unmet_reasons()[0].text;
        assert!(text.contains("older than 6 months"), "{text}");
        assert!(text.contains("could not be read"), "{text}");
        assert!(
            !text.contains("at least 0"),
            "no meaningless lower bound: {text}"
        );
    }

    #[test]
    fn untried_options_exclude_what_was_tried() {
        let mut f = eligible();
        f.therapies_tried.remove(&Therapy::Belimumab);
        assert_eq!(
            untried_options(&f),
            vec![Therapy::Belimumab, Therapy::Cyclophosphamide]
        );
    }
}
