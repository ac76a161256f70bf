//! The off-label bar (knowledge.md 4.2, v2): standard therapies exhausted (rituximab,
//! mycophenolate AND belimumab or anifrolumab, each taken long enough to judge a response)
//! and at least one of: glucocorticoid >= 10 mg/day prednisone-equivalent, SLEDAI-2K > 10,
//! musculoskeletal/cutaneous-predominant disease.

use super::{num, Reason, ReasonCode};
use crate::facts::{FactSource, GapItem, PatientFacts, Therapy, TriedTherapy};
use crate::knowledge::Knowledge;

/// The requirements of the bar: each met by any of its therapies.
pub const REQUIREMENTS: [&[Therapy]; 3] = [
    &[Therapy::Rituximab],
    &[Therapy::Mycophenolate],
    &[Therapy::Belimumab, Therapy::Anifrolumab],
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
    /// Standard therapies on record (any age), each with its first date.
    pub tried: Vec<(Therapy, TriedTherapy)>,
    /// Requirements with no therapy taken long enough ("belimumab or anifrolumab").
    pub untried: Vec<&'static [Therapy]>,
    pub criteria: Vec<Criterion>,
}

/// "belimumab or anifrolumab".
pub fn requirement_name(r: &[Therapy]) -> String {
    r.iter().map(|t| t.name()).collect::<Vec<_>>().join(" or ")
}

/// "rituximab since 2024-01-10", "belimumab started 6 weeks ago — response not yet assessable".
pub fn tried_line(t: Therapy, e: &TriedTherapy) -> String {
    let since = e
        .first
        .map(|d| format!(" since {}", d.format("%Y-%m-%d")))
        .unwrap_or_else(|| " (no date)".into());
    if e.assessable {
        format!("{}{since}", t.name())
    } else {
        match e.weeks {
            Some(w) => format!(
                "{} started {w} weeks ago, response not yet assessable",
                t.name()
            ),
            None => format!("{} (no date: response not assessable)", t.name()),
        }
    }
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

    fn tried_facts(&self) -> Vec<FactSource> {
        self.tried
            .iter()
            .flat_map(|(_, e)| e.sources.iter().take(1).cloned())
            .collect()
    }

    /// The reasons the bar is not met (empty when met).
    pub fn unmet_reasons(&self) -> Vec<Reason> {
        let mut out = Vec::new();
        if !self.untried.is_empty() {
            // "not tried" when no record of the requirement's therapies; "not taken long
            // enough" when one is on record but too recent (or undated) to judge a response.
            let (short, never): (Vec<&[Therapy]>, Vec<&[Therapy]>) = self
                .untried
                .iter()
                .partition(|r| self.tried.iter().any(|(t, _)| r.contains(t)));
            let name_all = |rs: &[&[Therapy]]| -> String {
                rs.iter()
                    .map(|r| requirement_name(r))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut missing = Vec::new();
            if !never.is_empty() {
                missing.push(format!("{} not tried", name_all(&never)));
            }
            if !short.is_empty() {
                missing.push(format!(
                    "{} not taken long enough to judge a response",
                    name_all(&short)
                ));
            }
            let on_record: Vec<String> =
                self.tried.iter().map(|(t, e)| tried_line(*t, e)).collect();
            let tried = if on_record.is_empty() {
                String::new()
            } else {
                format!(" (on record: {})", on_record.join("; "))
            };
            out.push(Reason::new(
                ReasonCode::StandardTherapiesNotExhausted,
                format!(
                    "Standard therapies not exhausted: {}{tried}",
                    missing.join("; ")
                ),
                self.tried_facts(),
            ));
        }
        if !self.severity_met() {
            let parts: Vec<&str> = self.criteria.iter().map(|c| c.text.as_str()).collect();
            out.push(Reason::new(
                ReasonCode::NoSeverityCriterion,
                format!("No refractory-disease criterion met: {}", parts.join("; ")),
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
        let mut facts = self.tried_facts();
        facts.extend(met.iter().flat_map(|c| c.facts.clone()));
        let tried: Vec<String> = self
            .tried
            .iter()
            .filter(|(_, e)| e.assessable)
            .map(|(t, e)| tried_line(*t, e))
            .collect();
        Reason::new(
            ReasonCode::BarMet,
            format!(
                "Refractory disease: tried {}; {}",
                tried.join(", "),
                met.iter()
                    .map(|c| c.text.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            facts,
        )
    }
}

pub fn assess(facts: &PatientFacts, kb: &Knowledge) -> BarAssessment {
    let tried: Vec<(Therapy, TriedTherapy)> = facts
        .therapies_tried
        .iter()
        .filter(|(t, _)| REQUIREMENTS.iter().any(|r| r.contains(t)))
        .map(|(t, e)| (*t, e.clone()))
        .collect();
    let untried = REQUIREMENTS
        .into_iter()
        .filter(|r| {
            !r.iter()
                .any(|t| facts.therapies_tried.get(t).is_some_and(|e| e.assessable))
        })
        .collect();
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
            format!("prednisone-equivalent {} mg/day", num(gc.mg_per_day),),
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
            format!("SLEDAI-2K {}", num(s.value)),
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
