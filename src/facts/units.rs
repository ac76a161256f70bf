//! Unit conversion of laboratory values into the canonical units of [`super::Measurement`].
//! A unit that is not listed here is not guessed: the value is not used and the data gap says
//! so.

use crate::fhir::model::Quantity;

/// The quantity a lab value measures, with its canonical unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// mL/min/1.73m2.
    Egfr,
    /// Cell counts (ALC, ANC) in 10^3/uL.
    CellCount,
    /// g/dL.
    Hemoglobin,
    /// g/g (24-hour urine protein in g/day is taken as equivalent).
    Upcr,
    /// mg/day prednisone-equivalent.
    PrednisoneDose,
}

impl Measure {
    pub fn canonical_unit(self) -> &'static str {
        match self {
            Measure::Egfr => "mL/min/1.73m2",
            Measure::CellCount => "10^3/uL",
            Measure::Hemoglobin => "g/dL",
            Measure::Upcr => "g/g",
            Measure::PrednisoneDose => "mg/day",
        }
    }

    /// Multiplication factors from each accepted unit (in [`normalise_unit`] form).
    fn factors(self) -> &'static [(&'static str, f64)] {
        match self {
            // eGFR LOINC codes are per 1.73 m2 by definition; "mL/min" is the same value with
            // a sloppy unit.
            Measure::Egfr => &[
                ("ml/min/1.73m2", 1.0),
                ("ml/min/1.73sqm", 1.0),
                ("ml/min/1.73", 1.0),
                ("ml/min", 1.0),
            ],
            Measure::CellCount => &[
                ("103/ul", 1.0),
                ("103/mm3", 1.0),
                ("k/ul", 1.0),
                ("thou/ul", 1.0),
                ("thousand/ul", 1.0),
                ("109/l", 1.0),
                ("g/l", 1.0), // giga per litre; in a cell-count context g/L cannot be grams
                ("/ul", 0.001),
                ("cells/ul", 0.001),
                ("/mm3", 0.001),
                ("cells/mm3", 0.001),
                ("106/l", 0.001),
            ],
            Measure::Hemoglobin => &[("g/dl", 1.0), ("g/l", 0.1), ("mmol/l", 1.611)],
            Measure::Upcr => &[
                ("g/g", 1.0),
                ("g/gcreat", 1.0),
                ("mg/mg", 1.0),
                ("mg/mgcreat", 1.0),
                ("mg/g", 0.001),
                ("mg/gcreat", 0.001),
                ("mg/mmol", 0.00884),
                ("mg/mmolcreat", 0.00884),
                ("g/mmol", 8.84),
                ("g/mmolcreat", 8.84),
                ("g/24h", 1.0),
                ("g/24.h", 1.0),
                ("g/d", 1.0),
                ("g/day", 1.0),
                ("mg/24h", 0.001),
                ("mg/24.h", 0.001),
                ("mg/d", 0.001),
                ("mg/day", 0.001),
            ],
            // The dose Observation's code defines a daily dose: "mg" alone is mg/day.
            Measure::PrednisoneDose => &[
                ("mg/d", 1.0),
                ("mg/day", 1.0),
                ("mg/24h", 1.0),
                ("mg/24.h", 1.0),
                ("mg", 1.0),
            ],
        }
    }
}

/// Comparable form of a unit string: lower case, without spaces, braces, brackets, '_', '^',
/// '*', and a leading 'x'; 'µ'/'μ' → 'u', '²' → '2'. "10*3/uL", "10^3/µL" and "x10(3)/uL"
/// all become "103/ul"; "mL/min/{1.73_m2}" becomes "ml/min/1.73m2".
pub fn normalise_unit(unit: &str) -> String {
    with_normalised(unit, str::to_string)
}

/// `f` of [`normalise_unit`]`(unit)`, without an allocation for a short ASCII unit.
fn with_normalised<R>(unit: &str, f: impl FnOnce(&str) -> R) -> R {
    let mut buf = [0u8; SHORT_UNIT];
    match normalise_short(unit, &mut buf) {
        Some(n) => f(n),
        None => f(&normalise_any(unit)),
    }
}

/// Longest ASCII unit normalised on the stack.
const SHORT_UNIT: usize = 32;

/// [`normalise_unit`] of a short ASCII unit, written into `buf` (every lab value's unit is
/// read: no allocation for the usual ones). `None` for other units.
fn normalise_short<'b>(unit: &str, buf: &'b mut [u8; SHORT_UNIT]) -> Option<&'b str> {
    let unit = unit.trim();
    if !unit.is_ascii() || unit.len() > SHORT_UNIT {
        return None;
    }
    let mut n = 0;
    for b in unit.bytes() {
        if !matches!(
            b,
            b' ' | b'{' | b'}' | b'(' | b')' | b'[' | b']' | b'_' | b'^' | b'*'
        ) {
            buf[n] = b.to_ascii_lowercase();
            n += 1;
        }
    }
    let out = &buf[..n];
    let out = match out.strip_prefix(b"x") {
        Some(rest) if rest.first().is_some_and(u8::is_ascii_digit) => rest,
        _ => out,
    };
    std::str::from_utf8(out).ok()
}

/// [`normalise_unit`] of any unit (µ, ², non-ASCII letters).
fn normalise_any(unit: &str) -> String {
    let mut out = String::with_capacity(unit.len());
    for ch in unit.trim().chars() {
        match ch {
            ' ' | '{' | '}' | '(' | ')' | '[' | ']' | '_' | '^' | '*' => {}
            'µ' | 'μ' => out.push('u'),
            '²' => out.push('2'),
            '³' => out.push('3'),
            c => out.extend(c.to_lowercase()),
        }
    }
    match out.strip_prefix('x') {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest.to_string(),
        _ => out,
    }
}

/// The result of reading a quantity ([`shown`] gives its text).
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    /// Value in the canonical unit; `converted` tells whether the number changed.
    Value { value: f64, converted: bool },
    /// Why the value cannot be used ("unit '%' not convertible to 10^3/uL", "no value").
    Unusable { reason: String },
}

/// A value reported with a comparator is a bound, not a measurement: "<0.5" means strictly
/// below 0.5, and must compare below a "< 0.5" cut-off. The value is moved by a negligible
/// amount toward the side the comparator names ("<=" counts as below, the safe reading for
/// the lower-limit cut-offs the rules use); the card still shows the value as reported.
fn bound(value: f64, comparator: &str) -> f64 {
    const NUDGE: f64 = 1e-9;
    match comparator.trim() {
        "<" | "<=" => value - NUDGE,
        ">" => value + NUDGE,
        _ => value,
    }
}

/// Convert a quantity into the canonical unit of `measure`. The UCUM `code` is tried first,
/// then the human `unit`. No text is made here: most readings are not the latest and are
/// never shown ([`shown`] writes the value when a card needs it).
pub fn convert(q: &Quantity, measure: Measure) -> Reading {
    let Some(value) = q.value.filter(|v| v.is_finite()) else {
        return Reading::Unusable {
            reason: "no numeric value".into(),
        };
    };
    let candidates = [q.code.as_deref(), q.unit.as_deref()];
    if candidates
        .iter()
        .all(|c| c.is_none_or(|u| u.trim().is_empty()))
    {
        return Reading::Unusable {
            reason: format!("no unit (expected {})", measure.canonical_unit()),
        };
    }
    for unit in candidates.into_iter().flatten() {
        let factor = with_normalised(unit, |norm| {
            measure
                .factors()
                .iter()
                .find(|(u, _)| *u == norm)
                .map(|(_, f)| f)
        });
        if let Some(f) = factor {
            let comparator = q.comparator.as_deref().unwrap_or("");
            return Reading::Value {
                value: bound(value * f, comparator),
                converted: *f != 1.0,
            };
        }
    }
    Reading::Unusable {
        reason: format!(
            "unit '{}' not convertible to {}",
            unit_text(q),
            measure.canonical_unit()
        ),
    }
}

/// The value of `q` as sent ("79 g/L", "<15 mL/min"), in the canonical unit of `measure`
/// when `reading` needed no conversion ("45 mL/min/1.73m2" for "mL/min/{1.73_m2}").
pub fn shown(q: &Quantity, measure: Measure, reading: &Reading) -> String {
    use super::source::number;
    let comparator = q.comparator.as_deref().unwrap_or("");
    match (reading, q.value) {
        (
            Reading::Value {
                converted: false, ..
            },
            Some(v),
        ) => format!("{comparator}{} {}", number(v), measure.canonical_unit()),
        (_, Some(v)) => format!("{comparator}{} {}", number(v), unit_text(q))
            .trim()
            .to_string(),
        (_, None) => format!("(no value) {}", unit_text(q)).trim().to_string(),
    }
}

/// The unit as sent: the human `unit`, else the UCUM `code`.
fn unit_text(q: &Quantity) -> &str {
    q.unit.as_deref().or(q.code.as_deref()).unwrap_or("").trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(value: f64, unit: &str) -> Quantity {
        Quantity {
            value: Some(value),
            unit: Some(unit.to_owned().into()),
            ..Quantity::default()
        }
    }

    fn value(r: Reading) -> f64 {
        match r {
            Reading::Value { value, .. } => value,
            Reading::Unusable { reason, .. } => panic!("unusable: {reason}"),
        }
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    #[test]
    fn the_stack_normalisation_is_the_general_one() {
        for u in [
            "mL/min/{1.73_m2}",
            "10*3/uL",
            "x10^9/L",
            "X10E3/UL",
            "g/dL",
            " mg/dL ",
            "{tbl}",
            "mL/min/1.73 m2",
            "[IU]/mL",
            "x",
            "xL",
            "",
            "%",
            "mmol/L",
        ] {
            let mut buf = [0u8; SHORT_UNIT];
            assert_eq!(
                normalise_short(u, &mut buf).unwrap(),
                normalise_any(u),
                "{u:?}"
            );
        }
        assert_eq!(normalise_unit("µmol/L"), "umol/l");
        assert_eq!(normalise_unit("mL/min/1.73m²"), "ml/min/1.73m2");
    }

    #[test]
    fn cell_counts_convert_to_thousands_per_microlitre() {
        close(value(convert(&q(0.4, "10*3/uL"), Measure::CellCount)), 0.4);
        close(value(convert(&q(0.4, "10^9/L"), Measure::CellCount)), 0.4);
        close(value(convert(&q(0.4, "x10(9)/L"), Measure::CellCount)), 0.4);
        close(value(convert(&q(450.0, "/uL"), Measure::CellCount)), 0.45);
        close(
            value(convert(&q(950.0, "cells/mm3"), Measure::CellCount)),
            0.95,
        );
        close(value(convert(&q(1.2, "K/µL"), Measure::CellCount)), 1.2);
        assert!(matches!(
            convert(&q(12.0, "%"), Measure::CellCount),
            Reading::Unusable { .. }
        ));
    }

    #[test]
    fn hemoglobin_converts_to_g_per_dl() {
        close(value(convert(&q(7.9, "g/dL"), Measure::Hemoglobin)), 7.9);
        close(value(convert(&q(79.0, "g/L"), Measure::Hemoglobin)), 7.9);
        close(
            value(convert(&q(5.0, "mmol/L"), Measure::Hemoglobin)),
            8.055,
        );
    }

    #[test]
    fn upcr_converts_to_g_per_g() {
        close(value(convert(&q(0.5, "g/g"), Measure::Upcr)), 0.5);
        close(value(convert(&q(500.0, "mg/g"), Measure::Upcr)), 0.5);
        close(value(convert(&q(0.5, "mg/mg"), Measure::Upcr)), 0.5);
        close(value(convert(&q(100.0, "mg/mmol"), Measure::Upcr)), 0.884);
        close(value(convert(&q(500.0, "mg/g{creat}"), Measure::Upcr)), 0.5);
        close(value(convert(&q(3.2, "g/(24.h)"), Measure::Upcr)), 3.2);
    }

    #[test]
    fn egfr_units_and_unknown_units() {
        close(
            value(convert(&q(45.0, "mL/min/{1.73_m2}"), Measure::Egfr)),
            45.0,
        );
        close(
            value(convert(&q(45.0, "mL/min/1.73 m²"), Measure::Egfr)),
            45.0,
        );
        match convert(&q(45.0, "mg/dL"), Measure::Egfr) {
            Reading::Unusable { reason, .. } => assert!(reason.contains("mg/dL"), "{reason}"),
            r => panic!("{r:?}"),
        }
        let no_unit = Quantity {
            value: Some(45.0),
            ..Quantity::default()
        };
        assert!(matches!(
            convert(&no_unit, Measure::Egfr),
            Reading::Unusable { .. }
        ));
    }

    #[test]
    fn ucum_code_is_tried_when_the_unit_text_is_unknown() {
        let qty = Quantity {
            value: Some(79.0),
            unit: Some("grams per litre".into()),
            code: Some("g/L".into()),
            ..Quantity::default()
        };
        close(value(convert(&qty, Measure::Hemoglobin)), 7.9);
    }

    #[test]
    fn a_value_below_a_bound_compares_below_the_cut_off() {
        let q = |comparator: &str| Quantity {
            value: Some(0.5),
            comparator: Some(comparator.to_owned().into()),
            unit: Some("10*3/uL".into()),
            system: None,
            code: None,
        };
        let value = |c| match convert(&q(c), Measure::CellCount) {
            Reading::Value { value, .. } => value,
            other => panic!("{other:?}"),
        };
        assert!(value("<") < 0.5, "ALC <0.5 is below the 0.5 cut-off");
        assert!(value("<=") < 0.5);
        assert!(value(">") > 0.5);
        assert_eq!(value(">="), 0.5);
    }
}
