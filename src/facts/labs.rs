//! Observation facts (knowledge.md 2): eGFR, ALC, ANC, Hb, UPCR, SLEDAI-2K and TB screening
//! (IGRA/TST). Only Observations with status final, amended or corrected and a date count;
//! the latest usable value inside the look-back window is taken (ties: the more cautious
//! value). Values that cannot be used (unknown unit, out of range) are kept for the data gap.

use chrono::NaiveDate;

use super::source::{code_label, number, reference, window_start_months, Index};
use super::units::{convert, shown, Measure, Reading};
use super::{FactSource, Measurement, TbScreen, TbTestResult};
use crate::fhir::model::{CodeableConcept, Coding, FhirDate, Observation};
use crate::fhir::PatientRecord;
use crate::knowledge::terminology::SNOMED;
use crate::knowledge::Knowledge;

/// final, amended or corrected.
pub fn is_usable_status(o: &Observation) -> bool {
    o.status.as_deref().is_some_and(|s| {
        let s = s.trim();
        ["final", "amended", "corrected"]
            .iter()
            .any(|k| s.eq_ignore_ascii_case(k))
    })
}

/// One lab item: the value used, the latest usable value before the window, and values in the
/// window that could not be used.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabItem {
    pub measurement: Option<Measurement>,
    pub stale: Option<FactSource>,
    pub unusable: Vec<FactSource>,
}

/// Which of two same-day values to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tie {
    /// Keep the lower value (eGFR, counts, SLEDAI: the cautious reading).
    Lower,
    /// Keep the higher value (UPCR: nephritis severity).
    Higher,
}

/// How to read one lab item.
struct Spec<'s> {
    valueset: &'s str,
    name: &'s str,
    measure: Measure,
    months: u32,
    tie: Tie,
}

fn source(o: &Observation, date: FhirDate, what: String) -> FactSource {
    FactSource {
        reference: reference("Observation", o.id.as_deref()),
        date: Some(date.0),
        what,
    }
}

fn better(tie: Tie, new: (FhirDate, f64), old: (FhirDate, f64)) -> bool {
    new.0 > old.0
        || (new.0 == old.0
            && match tie {
                Tie::Lower => new.1 < old.1,
                Tie::Higher => new.1 > old.1,
            })
}

/// Collects the latest value in the window, the latest before it, and unusable values.
struct Latest {
    start: NaiveDate,
    tie: Tie,
    best: Option<(FhirDate, f64, FactSource)>,
    stale: Option<(FhirDate, f64, FactSource)>,
    unusable: Vec<(FhirDate, FactSource)>,
}

impl Latest {
    fn new(start: NaiveDate, tie: Tie) -> Latest {
        Latest {
            start,
            tie,
            best: None,
            stale: None,
            unusable: Vec::new(),
        }
    }

    /// Offer a value; its source is built only when it is kept.
    fn value(&mut self, date: FhirDate, value: f64, src: impl FnOnce() -> FactSource) {
        let tie = self.tie;
        let slot = if date.0 >= self.start {
            &mut self.best
        } else {
            &mut self.stale
        };
        if slot
            .as_ref()
            .is_none_or(|(d, v, _)| better(tie, (date, value), (*d, *v)))
        {
            *slot = Some((date, value, src()));
        }
    }

    /// A value that cannot be used: kept when it is inside the window.
    fn unusable(&mut self, date: FhirDate, src: impl FnOnce() -> FactSource) {
        if date.0 >= self.start {
            self.unusable.push((date, src()));
        }
    }

    fn finish(self, unit: &'static str) -> LabItem {
        let unusable = self.unusable;
        let measurement = self.best.map(|(date, value, mut src)| {
            let later = unusable.iter().filter(|(d, _)| *d > date).count();
            if later > 0 {
                src.what
                    .push_str(&format!("; {later} later value(s) could not be used"));
            }
            Measurement {
                value,
                unit,
                source: src,
            }
        });
        LabItem {
            stale: match measurement {
                None => self.stale.map(|(_, _, s)| s),
                Some(_) => None,
            },
            measurement,
            unusable: unusable.into_iter().map(|(_, s)| s).collect(),
        }
    }
}

fn read_item(index: &Index<'_, '_, Observation>, today: NaiveDate, spec: &Spec) -> LabItem {
    let unit = spec.measure.canonical_unit();
    let mut acc = Latest::new(window_start_months(today, spec.months), spec.tie);
    for &(o, coding) in index.get(spec.valueset) {
        let Some(date) = o.date() else {
            continue;
        };
        let Some(q) = o.value_quantity.as_ref() else {
            acc.unusable(date, || {
                let what = format!(
                    "{} (no valueQuantity) ({}): not used, no numeric value",
                    spec.name,
                    code_label(coding)
                );
                source(o, date, what)
            });
            continue;
        };
        let reading = convert(q, spec.measure);
        let label = || code_label(coding);
        match &reading {
            &Reading::Value { value, converted } => acc.value(date, value, || {
                let shown = shown(q, spec.measure, &reading);
                let what = if converted {
                    format!(
                        "{} {shown} = {} {unit} ({})",
                        spec.name,
                        number(value),
                        label()
                    )
                } else {
                    format!("{} {shown} ({})", spec.name, label())
                };
                source(o, date, what)
            }),
            Reading::Unusable { reason } => acc.unusable(date, || {
                let shown = shown(q, spec.measure, &reading);
                let what = format!("{} {shown} ({}): not used, {reason}", spec.name, label());
                source(o, date, what)
            }),
        }
    }
    acc.finish(unit)
}

/// The lab facts of a record.
#[derive(Debug, Default)]
pub struct LabFacts {
    pub egfr: LabItem,
    pub alc: LabItem,
    pub anc: LabItem,
    pub hb: LabItem,
    pub upcr: LabItem,
    pub sledai: LabItem,
    pub tb: TbItem,
}

/// `index` holds the usable Observations (see [`is_usable_status`]) by value set.
pub fn derive(
    record: &PatientRecord,
    index: &Index<'_, '_, Observation>,
    kb: &Knowledge,
    today: NaiveDate,
) -> LabFacts {
    let w = &kb.thresholds.windows;
    let item = |valueset, name, measure, months, tie| {
        read_item(
            index,
            today,
            &Spec {
                valueset,
                name,
                measure,
                months,
                tie,
            },
        )
    };
    LabFacts {
        egfr: item("egfr", "eGFR", Measure::Egfr, w.egfr_months, Tie::Lower),
        alc: item("alc", "ALC", Measure::CellCount, w.cbc_months, Tie::Lower),
        anc: item("anc", "ANC", Measure::CellCount, w.cbc_months, Tie::Lower),
        hb: item("hb", "Hb", Measure::Hemoglobin, w.cbc_months, Tie::Lower),
        upcr: item("upcr", "UPCR", Measure::Upcr, w.upcr_months, Tie::Higher),
        sledai: sledai(record, index, kb, today),
        tb: tb_screening(index, kb, today),
    }
}

// ---------------------------------------------------------------------------------------------
// SLEDAI-2K
// ---------------------------------------------------------------------------------------------

/// The text fallback for SLEDAI-2K: "SLEDAI" (covering "SLEDAI-2K" and "SLEDAI 2K") in
/// code.text or a coding display.
fn sledai_text(code: &CodeableConcept) -> Option<String> {
    let named = code
        .text
        .iter()
        .chain(code.coding.iter().filter_map(|c| c.display.as_ref()))
        .find(|t| contains_ignore_case(t, "SLEDAI"))?;
    Some(format!("text '{}'", named.trim()))
}

/// ASCII case-insensitive substring test without allocating.
fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn sledai_value(o: &Observation) -> Result<f64, String> {
    let raw = if let Some(i) = o.value_integer {
        i as f64
    } else if let Some(v) = o.value_quantity.as_ref().and_then(|q| q.value) {
        v
    } else if let Some(s) = o.value_string.as_deref() {
        s.trim()
            .parse::<f64>()
            .map_err(|_| "value is not a number".to_string())?
    } else {
        return Err("no value".into());
    };
    if !raw.is_finite() || raw.fract() != 0.0 {
        return Err(format!("{} is not a whole score", number(raw)));
    }
    if !(0.0..=105.0).contains(&raw) {
        return Err(format!("{} is outside 0-105", number(raw)));
    }
    Ok(raw)
}

/// SLEDAI-2K Observations: a configured code (value set "sledai-2k"), else the text fallback.
fn sledai(
    record: &PatientRecord,
    index: &Index<'_, '_, Observation>,
    kb: &Knowledge,
    today: NaiveDate,
) -> LabItem {
    let start = window_start_months(today, kb.thresholds.windows.sledai_months);
    let mut acc = Latest::new(start, Tie::Lower);
    let coded = index.get("sledai-2k");
    let by_text = record
        .observations
        .iter()
        .filter(|o| is_usable_status(o))
        .filter(|o| !coded.iter().any(|(x, _)| std::ptr::eq(*x, *o)))
        .filter_map(|o| Some((o, sledai_text(o.code.as_ref()?)?)));
    let all = coded
        .iter()
        .map(|(o, coding)| (*o, code_label(coding)))
        .chain(by_text);
    for (o, label) in all {
        let Some(date) = o.date() else {
            continue;
        };
        match sledai_value(o) {
            Ok(v) => acc.value(date, v, || {
                source(o, date, format!("SLEDAI-2K {} ({label})", number(v)))
            }),
            Err(reason) => acc.unusable(date, || {
                source(o, date, format!("SLEDAI-2K ({label}): not used, {reason}"))
            }),
        }
    }
    acc.finish("points")
}

// ---------------------------------------------------------------------------------------------
// TB screening
// ---------------------------------------------------------------------------------------------

/// The TB screening item: the latest readable IGRA/TST in the window, the latest readable one
/// before it, unreadable ones in the window, and positive IGRAs in the window (for latent TB).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TbItem {
    pub screen: Option<TbScreen>,
    pub stale: Option<FactSource>,
    pub unusable: Vec<FactSource>,
    pub positive_igra: Vec<FactSource>,
}

fn result_from_code(c: &Coding) -> Option<TbTestResult> {
    let code = c.code.as_deref()?.trim();
    let is_snomed = c
        .system
        .as_deref()
        .is_some_and(|s| crate::knowledge::terminology::canonical_system(s) == Some(SNOMED));
    if is_snomed {
        return match code {
            "10828004" => Some(TbTestResult::Positive),
            "260385009" => Some(TbTestResult::Negative),
            "82334004" | "419984006" | "42425007" => Some(TbTestResult::Indeterminate),
            _ => None,
        };
    }
    match code.to_ascii_uppercase().as_str() {
        "POS" | "DET" | "A" | "AA" | "H" | "HH" => Some(TbTestResult::Positive),
        "NEG" | "ND" | "N" => Some(TbTestResult::Negative),
        "IND" | "E" | "EQV" => Some(TbTestResult::Indeterminate),
        _ => None,
    }
}

pub(super) fn result_from_text(t: &str) -> Option<TbTestResult> {
    let words = crate::knowledge::drugs::words(t);
    let has = |w: &str| words.iter().any(|x| x == w);
    if has("indeterminate") || has("inconclusive") || has("equivocal") || has("borderline") {
        Some(TbTestResult::Indeterminate)
    } else if has("negative")
        || has("nonreactive")
        || has("non-reactive")
        || (has("not") && (has("detected") || has("reactive")))
    {
        Some(TbTestResult::Negative)
    } else if has("positive") || has("detected") || has("reactive") {
        Some(TbTestResult::Positive)
    } else {
        None
    }
}

pub(super) fn concept_result(c: &CodeableConcept) -> Option<TbTestResult> {
    c.coding
        .iter()
        .find_map(result_from_code)
        .or_else(|| c.text.as_deref().and_then(result_from_text))
        .or_else(|| {
            c.coding
                .iter()
                .filter_map(|x| x.display.as_deref())
                .find_map(result_from_text)
        })
}

/// The result of an IGRA/TST: coded or text value, else interpretation, else (TST only) the
/// induration in mm against `tst_positive_mm` (thresholds.json `tb_screening`: CDC's 5 mm for
/// immunosuppressed people, which JAK-inhibitor candidates with SLE usually are).
fn tb_result(
    o: &Observation,
    is_tst: bool,
    tst_positive_mm: f64,
) -> Result<(TbTestResult, String), String> {
    if let Some(r) = o.value_codeable_concept.as_ref().and_then(concept_result) {
        return Ok((r, "result".into()));
    }
    if let Some(r) = o.value_string.as_deref().and_then(result_from_text) {
        return Ok((r, "result".into()));
    }
    if let Some(r) = o.interpretation.iter().find_map(concept_result) {
        return Ok((r, "interpretation".into()));
    }
    if let (true, Some(q)) = (is_tst, o.value_quantity.as_ref()) {
        let unit = q
            .code
            .as_deref()
            .or(q.unit.as_deref())
            .map(super::units::normalise_unit);
        if let (Some(v), Some("mm")) = (q.value, unit.as_deref()) {
            let r = if v >= tst_positive_mm {
                TbTestResult::Positive
            } else {
                TbTestResult::Negative
            };
            return Ok((
                r,
                format!(
                    "induration {} mm, positive from {} mm",
                    number(v),
                    number(tst_positive_mm)
                ),
            ));
        }
    }
    Err("result not readable (no coded/text result or interpretation)".into())
}

fn result_name(r: TbTestResult) -> &'static str {
    match r {
        TbTestResult::Positive => "positive",
        TbTestResult::Negative => "negative",
        TbTestResult::Indeterminate => "indeterminate",
    }
}

fn tb_screening(index: &Index<'_, '_, Observation>, kb: &Knowledge, today: NaiveDate) -> TbItem {
    let start = window_start_months(today, kb.thresholds.windows.tb_screening_months);
    let mut best: Option<(FhirDate, TbScreen)> = None;
    let mut stale: Option<(FhirDate, FactSource)> = None;
    let mut item = TbItem::default();
    let igra = index.get("igra");
    let tests = igra.iter().map(|(o, c)| (*o, *c, false, "IGRA")).chain(
        index
            .get("tst")
            .iter()
            .filter(|(o, _)| !igra.iter().any(|(x, _)| std::ptr::eq(*x, *o)))
            .map(|(o, c)| (*o, *c, true, "TST")),
    );
    for (o, coding, is_tst, test) in tests {
        let Some(date) = o.date() else {
            continue;
        };
        let label = code_label(coding);
        match tb_result(
            o,
            is_tst,
            kb.thresholds.tb_screening.tst_positive_at_least_mm,
        ) {
            Ok((result, how)) => {
                let src = source(
                    o,
                    date,
                    format!("{test} {} ({how}; {label})", result_name(result)),
                );
                if date.0 >= start {
                    if !is_tst && result == TbTestResult::Positive {
                        item.positive_igra.push(src.clone());
                    }
                    if best.as_ref().is_none_or(|(d, s)| {
                        date > *d || (date == *d && severity(result) > severity(s.result))
                    }) {
                        best = Some((
                            date,
                            TbScreen {
                                result,
                                source: src,
                            },
                        ));
                    }
                } else if stale.as_ref().is_none_or(|(d, _)| date > *d) {
                    stale = Some((date, src));
                }
            }
            Err(reason) if date.0 >= start => item.unusable.push(source(
                o,
                date,
                format!("{test} ({label}): not used, {reason}"),
            )),
            Err(_) => {}
        }
    }
    item.screen = best.map(|(_, s)| s);
    if item.screen.is_none() {
        item.stale = stale.map(|(_, s)| s);
    }
    item
}

/// Same-day tie-break: positive over indeterminate over negative.
fn severity(r: TbTestResult) -> u8 {
    match r {
        TbTestResult::Positive => 2,
        TbTestResult::Indeterminate => 1,
        TbTestResult::Negative => 0,
    }
}
