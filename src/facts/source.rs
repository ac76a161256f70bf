//! Shared helpers of fact derivation: look-back windows, resource references, coded-concept
//! matching against value sets, and the labels used in `FactSource::what`.

use foldhash::{HashMap, HashMapExt};

use chrono::{Months, NaiveDate};

use crate::fhir::model::{CodeableConcept, Coding};
use crate::knowledge::{Knowledge, Terminology};

/// The first day of a window of `months` calendar months ending today: a value dated on this
/// day is inside the window. End-of-month days clamp (31 May − 3 months = 28/29 February).
pub fn window_start_months(today: NaiveDate, months: u32) -> NaiveDate {
    today
        .checked_sub_months(Months::new(months))
        .unwrap_or(NaiveDate::MIN)
}

/// The first day of a window of `days` days ending today (today − days, inclusive).
pub fn window_start_days(today: NaiveDate, days: u32) -> NaiveDate {
    today
        .checked_sub_days(chrono::Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MIN)
}

/// "Condition/abc", or "Condition/(no id)" for a resource without id.
pub fn reference(resource_type: &str, id: Option<&str>) -> String {
    match id {
        Some(id) if !id.trim().is_empty() => format!("{resource_type}/{id}"),
        _ => format!("{resource_type}/(no id)"),
    }
}

/// The first coding of `concept` that belongs to value set `valueset`.
pub fn coding_in<'c>(
    kb: &Knowledge,
    valueset: &str,
    concept: &'c CodeableConcept,
) -> Option<&'c Coding> {
    concept.coding.iter().find(|c| match (&c.system, &c.code) {
        (Some(s), Some(code)) => kb.terminology.contains(valueset, s, code),
        _ => false,
    })
}

/// Resources grouped by the value sets their concept's codings belong to: one terminology
/// lookup per coding, instead of one per coding and value set. Record order is kept; per
/// value set, a resource appears once, with its first matching coding.
pub struct Index<'k, 'r, T> {
    map: HashMap<&'k str, Vec<(&'r T, &'r Coding)>>,
}

impl<'k, 'r, T> Index<'k, 'r, T> {
    pub fn build(
        kb: &'k Knowledge,
        items: impl Iterator<Item = (&'r T, &'r CodeableConcept)>,
    ) -> Self {
        let mut map: HashMap<&'k str, Vec<(&'r T, &'r Coding)>> = HashMap::new();
        for (item, concept) in items {
            for coding in &concept.coding {
                let (Some(system), Some(code)) = (&coding.system, &coding.code) else {
                    continue;
                };
                for id in kb.terminology.valuesets_of(system, code) {
                    let list = map.entry(id).or_default();
                    if !list.last().is_some_and(|(x, _)| std::ptr::eq(*x, item)) {
                        list.push((item, coding));
                    }
                }
            }
        }
        Index { map }
    }

    /// The resources (with the matching coding) in value set `valueset`.
    pub fn get(&self, valueset: &str) -> &[(&'r T, &'r Coding)] {
        self.map.get(valueset).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// "ICD-10-CM M32.14" for a coding.
pub fn code_label(coding: &Coding) -> String {
    let system = coding
        .system
        .as_deref()
        .map(Terminology::system_label)
        .unwrap_or("code");
    format!("{system} {}", coding.code.as_deref().unwrap_or("?").trim())
}

/// "Lupus nephritis (ICD-10-CM M32.14)": the concept's label (text, display or code) and the
/// matching code.
pub fn concept_what(concept: &CodeableConcept, coding: &Coding) -> String {
    let label = coding
        .display
        .as_deref()
        .or(concept.text.as_deref())
        .or_else(|| concept.label())
        .unwrap_or("(no label)");
    format!("{label} ({})", code_label(coding))
}

/// A number for display: integers without decimals, others with up to 3 significant decimals.
pub fn number(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn windows_are_calendar_months_and_clamp_at_month_end() {
        assert_eq!(window_start_months(d("2026-11-26"), 12), d("2025-11-26"));
        assert_eq!(window_start_months(d("2026-05-31"), 3), d("2026-02-28"));
        assert_eq!(window_start_days(d("2026-11-26"), 30), d("2026-10-27"));
    }

    #[test]
    fn numbers_display_without_noise() {
        assert_eq!(number(45.0), "45");
        assert_eq!(number(29.9), "29.9");
        assert_eq!(number(0.00884), "0.009");
        assert_eq!(number(12.5), "12.5");
    }

    #[test]
    fn references_name_missing_ids() {
        assert_eq!(reference("Condition", Some("c1")), "Condition/c1");
        assert_eq!(reference("Condition", None), "Condition/(no id)");
    }
}
