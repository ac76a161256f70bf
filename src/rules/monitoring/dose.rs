//! Dose (warning): the current dose no longer matches the dose rules (knowledge.md 4.4, 4.4b:
//! eGFR, probenecid, CYP3A4/CYP2C19 inhibitors, age, boxed-warning risk factors) — the order
//! rule itself, applied to the active order — and monitoring never suggests a higher dose.

use super::{DoseChange, Finding, FindingCode};
use crate::facts::therapy::{ActiveTherapy, MonitoringFacts};
use crate::facts::{DoseReading, PatientFacts};
use crate::knowledge::Knowledge;
use crate::rules::dose::{advise, DoseAdviceKind};
use crate::rules::finding::Input;

const EPS: f64 = 1e-6;

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
    let active: Vec<_> = m.therapies.iter().map(|x| x.agent).collect();
    let advice = advise(&Input {
        facts,
        order: &order,
        kb,
        drafted: &active,
    })?;
    // Only a lower dose with a reason: never a higher one.
    if advice.kind != DoseAdviceKind::Reduce || advice.target.mg_per_day() >= mg_per_day - EPS {
        return None;
    }
    let reasons = advice
        .reduce_reasons
        .into_iter()
        .map(|r| Finding::new(FindingCode::Dose, short(&r.text), r.text).with_facts(r.facts))
        .collect();
    Some(DoseChange {
        target: advice.target,
        current_mg_per_day: mg_per_day,
        reasons,
    })
}

/// The reason's head for the summary: "eGFR 45", "probenecid", "age 65".
fn short(text: &str) -> String {
    if let Some(rest) = text.strip_prefix("eGFR ") {
        let value = rest.split_whitespace().next().unwrap_or_default();
        return format!("eGFR {value}");
    }
    if text.contains("probenecid") {
        return "probenecid".into();
    }
    text.split(['(', ';', ':'])
        .next()
        .unwrap_or(text)
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
