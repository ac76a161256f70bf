//! Dose (warning): the current dose no longer matches the dose rules (knowledge.md 4.4, 4.4b)
//! — the order rules' reduce reasons, plus age — and monitoring never suggests a higher dose.

use super::{DoseChange, Finding, FindingCode};
use crate::facts::therapy::{ActiveTherapy, MonitoringFacts};
use crate::facts::{Agent, DoseReading, PatientFacts};
use crate::knowledge::Knowledge;
use crate::rules::{dose as order_dose, DoseAdviceKind};

const EPS: f64 = 1e-6;

/// The reduced dose of upadacitinib (mg once daily; Rinvoq label, 30 mg indications).
const UPADACITINIB_REDUCED_MG: f64 = 15.0;

pub fn change(
    facts: &PatientFacts,
    m: &MonitoringFacts,
    t: &ActiveTherapy,
    kb: &Knowledge,
) -> Option<DoseChange> {
    let order = t.as_order()?;
    let DoseReading::Known { mg_per_day, .. } = t.dose else {
        return None;
    };
    let (reduced, mut reasons) = match t.agent {
        Agent::Baricitinib => {
            let advice = order_dose::advise(facts, &order, kb);
            let reasons: Vec<Finding> = advice
                .filter(|a| a.kind == DoseAdviceKind::Reduce)
                .map(|a| {
                    a.reduce_reasons
                        .into_iter()
                        .map(|r| {
                            Finding::new(FindingCode::Dose, short(&r.text), r.text)
                                .with_facts(r.facts)
                        })
                        .collect()
                })
                .unwrap_or_default();
            (kb.profile.baricitinib_reduced_mg, reasons)
        }
        Agent::Upadacitinib => (UPADACITINIB_REDUCED_MG, Vec::new()),
        _ => return None,
    };
    if mg_per_day <= reduced + EPS {
        return None;
    }
    if let Some((years, src)) = &m.age {
        if *years >= kb.monitoring.age_reduced_dose_at_least {
            reasons.push(
                Finding::new(
                    FindingCode::Dose,
                    format!("age {years}"),
                    format!(
                        "Age {years} (from {}: lower dose, EMA 2023)",
                        kb.monitoring.age_reduced_dose_at_least
                    ),
                )
                .with_facts(vec![src.clone()]),
            );
        }
    }
    if reasons.is_empty() {
        return None;
    }
    Some(DoseChange {
        target_mg: reduced,
        current_mg_per_day: mg_per_day,
        reasons,
    })
}

/// The reason's head for the summary: "eGFR 45", "strong OAT3 inhibitor (probenecid) active".
fn short(text: &str) -> String {
    if let Some(rest) = text.strip_prefix("eGFR ") {
        let value = rest.split_whitespace().next().unwrap_or_default();
        return format!("eGFR {value}");
    }
    if text.contains("probenecid") {
        return "probenecid".into();
    }
    text.split(['(', ';'])
        .next()
        .unwrap_or(text)
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::num;

    #[test]
    fn summaries_use_the_head_of_a_reason() {
        assert_eq!(
            short("eGFR 45 mL/min/1.73m2 (from 30 to below 60)"),
            "eGFR 45"
        );
        assert_eq!(
            short("strong OAT3 inhibitor (probenecid) active"),
            "probenecid"
        );
        assert_eq!(num(2.0), "2");
    }
}
