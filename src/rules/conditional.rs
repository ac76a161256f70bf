//! The permissive verdict (knowledge.md 4.3) and what withholds it: the off-label bar, the
//! agent's evidence (4.5, 4.7), renal warnings, and — fail safe — data that is unreadable,
//! unobtainable, or an eGFR/CBC that is unknown within its window (then a contraindication
//! cannot be excluded).

use super::{num, AgentEvidence, BarAssessment, Reason, ReasonCode, Verdict, VerdictKind};
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
                "{} resource(s) could not be read; a contraindication cannot be excluded",
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
            ReasonCode::SafetyDataMissing,
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
            ReasonCode::SafetyDataMissing,
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
            "{total} resource(s) could not be read ({} of a type that can hold a contraindication)",
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

/// The conditions of the permissive verdict (4.3), stated for this patient: the dose that
/// applies to them (4.4), and whether TB screening and zoster vaccination are already on
/// record (4.6; the pre-treatment card asks for what is missing).
pub fn conditions(agent: Agent, facts: &PatientFacts, kb: &Knowledge) -> Vec<String> {
    let mut out = Vec::new();
    match agent {
        Agent::Upadacitinib => out.push(
            "Upadacitinib 30 mg daily was the dose studied in SLEek (phase 2); consider enrolment in the SELECT-SLE phase 3 trials".to_string(),
        ),
        _ => {
            let reduce = super::dose::reduce_reasons(facts, kb);
            if reduce.is_empty() {
                out.push(format!(
                    "Dose: baricitinib {} mg once daily ({})",
                    num(kb.profile.baricitinib_standard_mg),
                    kb.profile.label
                ));
            } else {
                let why: Vec<&str> = reduce.iter().map(|r| r.text.as_str()).collect();
                out.push(format!(
                    "Dose: baricitinib {} mg once daily for this patient ({}); {} mg is the standard dose ({})",
                    num(kb.profile.baricitinib_reduced_mg),
                    why.join("; "),
                    num(kb.profile.baricitinib_standard_mg),
                    kb.profile.label
                ));
            }
        }
    }
    out.push(match &facts.tb_screening {
        Some(s) if s.result == TbTestResult::Negative => format!(
            "Tuberculosis screening on record: {}{}; treat latent TB before starting if a new test is positive",
            s.source.what,
            s.source.date.map(|d| format!(" ({d})")).unwrap_or_default()
        ),
        _ => "Screen for tuberculosis first (IGRA or TST); treat latent TB before starting".into(),
    });
    out.push(if facts.zoster_vaccine.is_empty() {
        "Counsel on herpes zoster and offer the recombinant zoster vaccine".into()
    } else {
        format!(
            "Counsel on herpes zoster (recombinant zoster vaccine doses on record: {})",
            facts.zoster_vaccine.len()
        )
    });
    out.push("No efficacy shown for severe renal or CNS disease (excluded from the trials)".into());
    out.push("Response is not assured: the phase 3 results are mixed".into());
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{decide, VerdictKind};
    use super::*;

    #[test]
    fn fail_safe_downgrades_the_permissive_verdict() {
        type Edit = fn(&mut PatientFacts);
        let cases: [(&str, Edit, ReasonCode); 6] = [
            (
                "unreadable",
                |f| f.unreadable_relevant = 2,
                ReasonCode::UnreadableData,
            ),
            (
                "unavailable",
                |f| f.unavailable = vec!["labs".into()],
                ReasonCode::UnavailableData,
            ),
            ("no egfr", |f| f.egfr = None, ReasonCode::SafetyDataMissing),
            ("no alc", |f| f.alc = None, ReasonCode::SafetyDataMissing),
            ("no anc", |f| f.anc = None, ReasonCode::SafetyDataMissing),
            ("no hb", |f| f.hb = None, ReasonCode::SafetyDataMissing),
        ];
        for (name, edit, code) in cases {
            let mut f = eligible();
            edit(&mut f);
            let d = decide(&f, &order(Agent::Baricitinib, Some(4.0)), kb());
            assert_eq!(d.verdict.kind, VerdictKind::NotRecommended, "{name}");
            assert_eq!(d.verdict.reasons.len(), 1, "{name}");
            assert!(d.verdict.has(code), "{name}");
            assert!(
                d.verdict.reasons[0].text.contains("cannot be excluded"),
                "{name}: {}",
                d.verdict.reasons[0].text
            );
        }
    }

    #[test]
    fn unreadable_data_does_not_hide_a_contraindication() {
        let mut f = eligible();
        f.unreadable_relevant = 1;
        f.active_tb = vec![src("Condition/tb", "TB")];
        let d = decide(&f, &order(Agent::Baricitinib, Some(4.0)), kb());
        assert_eq!(d.verdict.kind, VerdictKind::Contraindicated);
        assert!(d.missing.iter().any(|m| m.contains("could not be read")));
    }

    #[test]
    fn conditions_follow_the_profile_dose() {
        let f = eligible();
        let c = conditions(Agent::Baricitinib, &f, kb());
        assert!(c[0].contains("baricitinib 4 mg once daily"), "{}", c[0]);
        assert!(conditions(Agent::Upadacitinib, &f, kb())[0].contains("SELECT-SLE"));
    }

    #[test]
    fn conditions_state_this_patients_dose_and_screening() {
        let mut f = eligible();
        f.egfr = Some(crate::facts::Measurement {
            value: 45.0,
            unit: "mL/min/1.73m2",
            source: src("Observation/egfr", "eGFR 45 mL/min/1.73m2"),
        });
        f.tb_screening = Some(crate::facts::TbScreen {
            result: TbTestResult::Negative,
            source: src("Observation/igra", "IGRA negative"),
        });
        f.zoster_vaccine = vec![src("Immunization/rzv", "RZV")];
        let c = conditions(Agent::Baricitinib, &f, kb());
        assert!(
            c[0].starts_with("Dose: baricitinib 2 mg once daily for this patient (eGFR 45"),
            "{}",
            c[0]
        );
        assert!(
            c[1].starts_with("Tuberculosis screening on record: IGRA negative"),
            "{}",
            c[1]
        );
        assert!(c[2].contains("doses on record: 1"), "{}", c[2]);
        f.tb_screening = None;
        f.zoster_vaccine.clear();
        let c = conditions(Agent::Baricitinib, &f, kb());
        assert!(
            c[1].starts_with("Screen for tuberculosis first"),
            "{}",
            c[1]
        );
        assert!(
            c[2].contains("offer the recombinant zoster vaccine"),
            "{}",
            c[2]
        );
    }

    #[test]
    fn conditions_give_the_reduced_dose_the_dose_card_advises() {
        let mut f = eligible();
        f.egfr = Some(m(50.0, "mL/min/1.73m2", "eGFR"));
        let d = decide(&f, &order(Agent::Baricitinib, Some(2.0)), kb());
        assert_eq!(d.verdict.kind, VerdictKind::Conditional);
        assert!(d.dose.is_none(), "2 mg once daily is already the target");
        assert!(
            d.conditions[0]
                .starts_with("Dose: baricitinib 2 mg once daily for this patient (eGFR 50"),
            "{}",
            d.conditions[0]
        );
        let d = decide(&f, &order(Agent::Tofacitinib, Some(10.0)), kb());
        assert!(d.conditions.is_empty(), "not conditional: no conditions");
    }
}
