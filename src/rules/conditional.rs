//! The permissive verdict (knowledge.md 4.3, 4.3b) and what withholds it: the off-label bar,
//! the agent's evidence (4.5, 4.7), renal warnings, combination, and — fail safe — data that
//! is unreadable, unobtainable, or an eGFR/CBC that is unknown within its window (then a
//! contraindication cannot be excluded).

use super::finding::Input;
use super::{AgentEvidence, BarAssessment, Reason, ReasonCode, Verdict, VerdictKind};
use crate::facts::{Agent, GapItem, PatientFacts, TbTestResult};
use crate::knowledge::Knowledge;

/// The reasons missing or unreadable data withholds the permissive verdict.
pub fn data_blockers(facts: &PatientFacts, kb: &Knowledge) -> Vec<Reason> {
    let w = &kb.thresholds.windows;
    let mut out = Vec::new();
    if facts.unreadable_relevant > 0 {
        out.push(Reason::new(
            ReasonCode::UnreadableData,
            format!(
                "{} record(s) could not be read; a contraindication cannot be excluded",
                facts.unreadable_relevant
            ),
            vec![],
        ));
    }
    if !facts.unavailable.is_empty() {
        out.push(Reason::new(
            ReasonCode::UnavailableData,
            format!(
                "Data could not be obtained ({}); a contraindication cannot be excluded",
                facts.unavailable.join(", ")
            ),
            vec![],
        ));
    }
    if facts.egfr.is_none() {
        out.push(Reason::new(
            ReasonCode::EgfrUnknown,
            format!(
                "No eGFR within {} months: renal impairment cannot be excluded",
                w.egfr_months
            ),
            stale(facts, GapItem::Egfr),
        ));
    }
    let cbc_missing: Vec<&str> = [
        ("ALC", facts.alc.is_none()),
        ("ANC", facts.anc.is_none()),
        ("Hb", facts.hb.is_none()),
    ]
    .into_iter()
    .filter(|(_, missing)| *missing)
    .map(|(n, _)| n)
    .collect();
    if !cbc_missing.is_empty() {
        out.push(Reason::new(
            ReasonCode::CbcUnknown,
            format!(
                "No {} within {} months: cytopenia cannot be excluded",
                cbc_missing.join(", "),
                w.cbc_months
            ),
            stale(facts, GapItem::Cbc),
        ));
    }
    out
}

fn stale(facts: &PatientFacts, item: GapItem) -> Vec<crate::facts::FactSource> {
    facts
        .gaps
        .iter()
        .filter(|g| g.item == item)
        .filter_map(|g| g.stale.clone())
        .collect()
}

/// What the card lists as missing: gaps (with the stale value when there is one),
/// unobtainable data and unreadable resources.
pub fn missing_data(facts: &PatientFacts, kb: &Knowledge) -> Vec<String> {
    let w = &kb.thresholds.windows;
    let mut out = Vec::new();
    for g in &facts.gaps {
        let (name, months) = match g.item {
            GapItem::Sledai => ("SLEDAI-2K", w.sledai_months),
            GapItem::Egfr => ("eGFR", w.egfr_months),
            GapItem::Cbc => ("CBC (ALC, ANC, Hb)", w.cbc_months),
            GapItem::TbScreening => ("TB screening (IGRA/TST)", w.tb_screening_months),
        };
        out.push(match &g.stale {
            Some(s) => format!(
                "{name}: latest is older than {months} months ({})",
                super::fact_line(s)
            ),
            None if g.unusable.is_empty() => format!("{name}: none within {months} months"),
            None => format!("{name}: no usable value within {months} months"),
        });
        for u in &g.unusable {
            out.push(format!("{name}: {}", super::fact_line(u)));
        }
    }
    for key in &facts.unavailable {
        out.push(format!("{key}: could not be obtained"));
    }
    let total = facts.unreadable_total.max(facts.unreadable_relevant);
    if total > 0 {
        out.push(format!(
            "{total} record(s) could not be read ({} of a kind that can show a contraindication)",
            facts.unreadable_relevant
        ));
    }
    if let Some(gc) = &facts.glucocorticoid {
        for u in &gc.unreadable {
            out.push(format!(
                "glucocorticoid dose unreadable: {}",
                super::fact_line(u)
            ));
        }
    }
    if facts.risk.age.is_none() {
        out.push("Age: no birth date recorded".to_string());
    }
    for u in &facts.risk.infection.unclear {
        out.push(format!(
            "Infection status unclear (recorded active, dated more than {} days ago): {}",
            kb.thresholds.v2.infection_active_days,
            super::fact_line(u)
        ));
    }
    out
}

/// The verdict when nothing is contraindicated: conditional only with nothing in the way.
pub fn verdict(
    bar: &BarAssessment,
    warnings: &[Reason],
    data: &[Reason],
    evidence: &AgentEvidence,
) -> Verdict {
    let mut blockers: Vec<Reason> = Vec::new();
    blockers.extend(evidence.blocking_reason());
    blockers.extend(warnings.iter().cloned());
    blockers.extend(bar.unmet_reasons());
    blockers.extend(data.iter().cloned());
    if blockers.is_empty() {
        Verdict {
            kind: VerdictKind::Conditional,
            reasons: vec![bar.met_reason()],
        }
    } else {
        Verdict {
            kind: VerdictKind::NotRecommended,
            reasons: blockers,
        }
    }
}

/// The conditions of the permissive verdict (4.3), stated for this patient and the ordered
/// agent. The dose line is left out when a dose card states it.
pub fn conditions(i: &Input, dose_card: bool) -> Vec<String> {
    let facts = i.facts;
    let agent = i.agent();
    let mut out = Vec::new();
    if !dose_card {
        let reasons = super::dose::reduce_reasons(i);
        let why: Vec<&str> = reasons.iter().map(|r| r.text.as_str()).collect();
        let dose = match agent {
            Agent::Baricitinib if why.is_empty() => format!(
                "Dose: baricitinib {} mg once daily",
                super::num(i.kb.profile.baricitinib_standard_mg)
            ),
            Agent::Baricitinib => format!(
                "Dose: baricitinib {} mg once daily ({})",
                super::num(i.kb.profile.baricitinib_reduced_mg),
                why.join(", ")
            ),
            Agent::Upadacitinib if why.is_empty() => {
                "Dose: upadacitinib 30 mg once daily, the dose studied in SLE (above the 15 mg of its rheumatology labels)".to_string()
            }
            Agent::Upadacitinib => format!("Dose: upadacitinib 15 mg once daily ({})", why.join(", ")),
            _ => String::new(),
        };
        if !dose.is_empty() {
            out.push(dose);
        }
    }
    // A negative test is no reassurance when latent TB is recorded (the pre-treatment card
    // says what to do about it).
    let latent_tb =
        !facts.latent_tb_untreated.is_empty() || !facts.latent_tb_on_treatment.is_empty();
    if let Some(s) = facts
        .tb_screening
        .as_ref()
        .filter(|s| s.result == TbTestResult::Negative && !latent_tb)
    {
        out.push(format!(
            "TB screening negative ({}); counsel on herpes zoster",
            s.source.date.map(|d| d.to_string()).unwrap_or_default()
        ));
    } else {
        out.push("Counsel on herpes zoster".to_string());
    }
    let phase3 = match agent {
        Agent::Upadacitinib => "phase 3 (SELECT-SLE) is ongoing",
        _ => "the phase 3 results are mixed",
    };
    out.push(format!(
        "Response not assured: {phase3}; no efficacy in severe renal or CNS disease"
    ));
    out.push("Lipids about 12 weeks after starting".to_string());
    if agent == Agent::Upadacitinib && select_sle_eligible(i) {
        out.push("Before starting, consider enrolment in SELECT-SLE (ages 18-63, no prior JAK or TYK2 inhibitor)".to_string());
    }
    out
}

/// SELECT-SLE enrolment is mentioned for a patient aged 18-63 with no JAK/TYK2 inhibitor on
/// record (knowledge.md 4.5).
pub fn select_sle_eligible(i: &Input) -> bool {
    let v = &i.kb.thresholds.v2;
    let age_ok = i
        .facts
        .risk
        .age
        .as_ref()
        .is_some_and(|a| a.years >= v.select_sle_age_min && a.years <= v.select_sle_age_max);
    age_ok && !i.facts.prior_jak
}

/// The verdict when nothing is contraindicated is decided in [`verdict`]; this says whether
/// the permissive verdict carries boxed-warning risk (4.3b).
pub fn is_risk_warning(kind: VerdictKind, risk: &[Reason]) -> bool {
    kind == VerdictKind::Conditional && !risk.is_empty()
}
