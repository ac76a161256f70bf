//! Reading an ordered dose from FHIR dosage instructions: mg per dose (a dose in mg, or a
//! number of tablets times the product strength, or mL times mg/mL) times doses per day (from
//! `timing.repeat` frequency/period/periodUnit, or `timing.code`).
//!
//! Nothing is assumed: no timing, several dosage instructions, or an unknown unit give
//! [`DoseReading::Unknown`] with the reason.

use super::order::DoseReading;
use super::source::number;
use super::units::normalise_unit;
use crate::fhir::model::{Dosage, Timing};
use crate::knowledge::drugs::Strength;

/// Read the daily dose of an order. `strength` is the product strength (table or text).
pub fn read(instructions: &[Dosage], strength: Option<Strength>) -> DoseReading {
    let dosage = match instructions {
        [] => return unknown("no dose on the order"),
        [one] => one,
        many => {
            return unknown(&format!(
                "{} dose lines (split dose or taper): not added up",
                many.len()
            ))
        }
    };
    let mg_per_dose = match mg_per_dose(dosage, strength) {
        Ok(mg) => mg,
        Err(reason) => return unknown(&reason),
    };
    let doses_per_day = match dosage.timing.as_ref().map(doses_per_day) {
        Some(Ok(n)) => n,
        Some(Err(reason)) => return unknown(&reason),
        None => return unknown("no frequency on the order"),
    };
    DoseReading::Known {
        mg_per_dose,
        doses_per_day,
        mg_per_day: mg_per_dose * doses_per_day,
    }
}

fn unknown(reason: &str) -> DoseReading {
    DoseReading::Unknown {
        reason: reason.to_string(),
    }
}

/// Units meaning "one tablet/capsule/unit of the product".
const UNIT_DOSE: &[&str] = &[
    "{pill}",
    "pill",
    "pills",
    "tablet",
    "tablets",
    "tab",
    "tabs",
    "{tbl}",
    "tbl",
    "{tablet}",
    "capsule",
    "capsules",
    "cap",
    "caps",
    "{capsule}",
    "1",
    "{unit}",
    "unit",
    "each",
    "ea",
];

fn mg_per_dose(dosage: &Dosage, strength: Option<Strength>) -> Result<f64, String> {
    let q = dosage
        .dose()
        .ok_or_else(|| "no dose amount on the order".to_string())?;
    let value = q
        .value
        .filter(|v| v.is_finite() && *v > 0.0)
        .ok_or_else(|| "dose amount missing or zero".to_string())?;
    let units: Vec<String> = [q.code.as_deref(), q.unit.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_lowercase)
        .collect();
    let is = |list: &[&str]| units.iter().any(|u| list.contains(&u.as_str()));
    if is(&["mg", "milligram", "milligrams", "mg/dose"]) {
        return Ok(value);
    }
    if is(&["g", "gram", "grams"]) {
        return Ok(value * 1000.0);
    }
    if is(&["ug", "mcg", "microgram", "micrograms", "µg"]) {
        return Ok(value / 1000.0);
    }
    if units.is_empty() || is(UNIT_DOSE) {
        return match strength {
            Some(Strength::PerUnit(mg)) => Ok(value * mg),
            Some(Strength::PerMl(_)) => Err(format!(
                "dose of {} unit(s) but the product is a solution (mg/mL)",
                number(value)
            )),
            None => Err(format!(
                "dose of {} tablet(s) but the product strength is unknown",
                number(value)
            )),
        };
    }
    if units.iter().any(|u| normalise_unit(u) == "ml") {
        return match strength {
            Some(Strength::PerMl(mg)) => Ok(value * mg),
            _ => Err(format!(
                "dose of {} mL but the product concentration (mg/mL) is unknown",
                number(value)
            )),
        };
    }
    Err(format!(
        "dose unit '{}' is not mg, tablets or mL",
        q.unit.as_deref().or(q.code.as_deref()).unwrap_or("")
    ))
}

/// Doses per day from a timing.
pub fn doses_per_day(timing: &Timing) -> Result<f64, String> {
    if let Some(r) = &timing.repeat {
        if r.period.is_some() || r.frequency.is_some() {
            let frequency = r.frequency.unwrap_or(1.0);
            let period = r.period.unwrap_or(1.0);
            if !(frequency.is_finite() && frequency > 0.0 && period.is_finite() && period > 0.0) {
                return Err("frequency not a positive number".into());
            }
            let days = match r.period_unit.as_deref().map(str::trim) {
                Some("d") => period,
                Some("h") => period / 24.0,
                Some("wk") => period * 7.0,
                Some("min") => period / 1440.0,
                Some(other) => return Err(format!("frequency per '{other}' not read")),
                None => return Err("frequency without a time unit".into()),
            };
            return Ok(frequency / days);
        }
    }
    if let Some(code) = &timing.code {
        for c in &code.coding {
            if let Some(n) = c.code.as_deref().and_then(timing_code) {
                return Ok(n);
            }
        }
        if let Some(n) = code.text.as_deref().and_then(timing_code) {
            return Ok(n);
        }
        return Err(format!(
            "frequency '{}' not read",
            code.label().unwrap_or("?")
        ));
    }
    Err("no frequency on the order".into())
}

/// HL7 timing abbreviations (GTSAbbreviation) and common variants, in doses per day.
fn timing_code(code: &str) -> Option<f64> {
    let c = code.trim().to_ascii_uppercase().replace(['.', ' '], "");
    Some(match c.as_str() {
        "QD" | "DAILY" | "OD" | "Q24H" | "AM" | "PM" | "QAM" | "QPM" | "BED" | "HS" | "QHS" => 1.0,
        "BID" | "Q12H" => 2.0,
        "TID" | "Q8H" => 3.0,
        "QID" | "Q6H" => 4.0,
        "Q4H" => 6.0,
        "Q3H" => 8.0,
        "Q2H" => 12.0,
        "Q1H" | "QH" => 24.0,
        "QOD" | "Q48H" => 0.5,
        "WK" | "QW" | "QWK" => 1.0 / 7.0,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dosage(json: &str) -> Vec<Dosage> {
        serde_json::from_str(json).unwrap()
    }

    fn known(r: DoseReading) -> (f64, f64, f64) {
        match r {
            DoseReading::Known {
                mg_per_dose,
                doses_per_day,
                mg_per_day,
            } => (mg_per_dose, doses_per_day, mg_per_day),
            DoseReading::Unknown { reason } => panic!("unknown: {reason}"),
        }
    }

    fn reason(r: DoseReading) -> String {
        match r {
            DoseReading::Unknown { reason } => reason,
            k => panic!("known: {k:?}"),
        }
    }

    #[test]
    fn tablets_times_strength_times_frequency() {
        let d = dosage(
            r#"[{"timing":{"repeat":{"frequency":2,"period":1,"periodUnit":"d"}},
                "doseAndRate":[{"doseQuantity":{"value":1,"unit":"tablet","code":"{pill}"}}]}]"#,
        );
        assert_eq!(
            known(read(&d, Some(Strength::PerUnit(5.0)))),
            (5.0, 2.0, 10.0)
        );
        assert!(reason(read(&d, None)).contains("strength is unknown"));
    }

    #[test]
    fn mg_doses_and_timing_codes() {
        let d = dosage(
            r#"[{"timing":{"code":{"coding":[{"code":"QD"}]}},
                "doseAndRate":[{"doseQuantity":{"value":4,"unit":"mg"}}]}]"#,
        );
        assert_eq!(known(read(&d, None)), (4.0, 1.0, 4.0));
        let d = dosage(
            r#"[{"timing":{"repeat":{"frequency":1,"period":12,"periodUnit":"h"}},
                "doseAndRate":[{"doseQuantity":{"value":5,"code":"mg"}}]}]"#,
        );
        assert_eq!(known(read(&d, None)), (5.0, 2.0, 10.0));
        let d = dosage(
            r#"[{"timing":{"repeat":{"frequency":1,"period":1,"periodUnit":"wk"}},
                "doseAndRate":[{"doseQuantity":{"value":14,"unit":"mg"}}]}]"#,
        );
        assert_eq!(known(read(&d, None)).2, 2.0);
    }

    #[test]
    fn dstu2_top_level_dose_and_unitless_count() {
        let d = dosage(
            r#"[{"doseQuantity":{"value":2},"timing":{"repeat":{"frequency":1,"period":1,"periodUnit":"d"}}}]"#,
        );
        assert_eq!(known(read(&d, Some(Strength::PerUnit(2.0)))).2, 4.0);
    }

    #[test]
    fn millilitres_times_concentration() {
        let d = dosage(
            r#"[{"doseQuantity":{"value":4,"unit":"mL"},"timing":{"code":{"text":"BID"}}}]"#,
        );
        assert_eq!(known(read(&d, Some(Strength::PerMl(5.0)))).2, 40.0);
    }

    #[test]
    fn unreadable_doses_say_why() {
        assert!(reason(read(&[], None)).contains("no dose on the order"));
        let d = dosage(r#"[{"doseAndRate":[{"doseQuantity":{"value":4,"unit":"mg"}}]}]"#);
        assert!(reason(read(&d, None)).contains("no frequency"));
        let d = dosage(
            r#"[{"doseAndRate":[{"doseQuantity":{"value":4,"unit":"puff"}}],"timing":{"code":{"text":"QD"}}}]"#,
        );
        assert!(reason(read(&d, None)).contains("puff"));
        let d = dosage(
            r#"[{"doseAndRate":[{"doseQuantity":{"value":4,"unit":"mg"}}],"timing":{"code":{"text":"QD"}}},
                {"doseAndRate":[{"doseQuantity":{"value":2,"unit":"mg"}}],"timing":{"code":{"text":"QD"}}}]"#,
        );
        assert!(reason(read(&d, None)).contains("2 dose lines"));
        let d = dosage(
            r#"[{"doseAndRate":[{"doseQuantity":{"value":4,"unit":"mg"}}],"timing":{"code":{"text":"as directed"}}}]"#,
        );
        assert!(reason(read(&d, None)).contains("not read"));
    }
}
