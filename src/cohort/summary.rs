//! `summary.html`: the dry run for the committee, one self-contained page: what was read,
//! the verdict distribution, the most frequent reasons, missing-data rates and risk factors
//! (charts by plotters), and the bad lines with their file and line number.

use std::collections::BTreeMap;

use super::CohortRun;
use crate::report::charts::{self, ChartError};
use crate::report::html;

/// Most items shown per bar chart.
const TOP: usize = 15;

/// A reason or missing item without its patient-specific figures and dates, so that equal
/// reasons count together: "(…)" parts holding a digit are dropped, other digit runs become
/// "#".
pub fn theme(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('(') {
        let Some(close) = rest[open..].find(')') else {
            break;
        };
        let inner = &rest[open..open + close + 1];
        out.push_str(&rest[..open]);
        if !inner.chars().any(|c| c.is_ascii_digit()) {
            out.push_str(inner);
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    let mut themed = String::with_capacity(out.len());
    let mut in_number = false;
    for c in out.chars() {
        let numeric = c.is_ascii_digit() || (in_number && matches!(c, '.' | ','));
        if numeric {
            if !in_number {
                themed.push('#');
            }
        } else {
            themed.push(c);
        }
        in_number = numeric;
    }
    themed
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches([',', ';', ':', '.'])
        .to_string()
}

/// (label, patients) most frequent first, at most [`TOP`].
fn top(counts: BTreeMap<String, usize>) -> Vec<(String, f64)> {
    let mut v: Vec<(String, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.into_iter()
        .take(TOP)
        .map(|(l, n)| (l, n as f64))
        .collect()
}

/// Patients per theme of `items` (each patient counted once per theme).
fn per_patient<'a>(lists: impl Iterator<Item = &'a Vec<String>>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for list in lists {
        let mut themes: Vec<String> = list.iter().map(|i| theme(i)).collect();
        themes.sort();
        themes.dedup();
        for t in themes {
            *counts.entry(t).or_insert(0) += 1;
        }
    }
    counts
}

pub fn render(run: &CohortRun) -> Result<String, ChartError> {
    let verdicts = &run.verdicts;
    let n = verdicts.len().max(1) as f64;
    let mut body = String::new();
    let mb = run.bytes as f64 / 1e6;
    let secs = run.elapsed.as_secs_f64().max(1e-9);
    body.push_str(&html::table(
        &["Run", ""],
        &[
            vec!["Export files".into(), run.files.to_string()],
            vec!["NDJSON read (uncompressed)".into(), format!("{mb:.1} MB")],
            vec!["Lines".into(), run.lines.to_string()],
            vec!["Patients in the export".into(), run.patients.to_string()],
            vec![
                "Patients with an SLE diagnosis code".into(),
                verdicts.len().to_string(),
            ],
            vec!["Bad lines (skipped)".into(), run.bad_lines.to_string()],
            vec![
                "Time".into(),
                format!("{secs:.1} s ({:.0} MB/s)", mb / secs),
            ],
        ],
    ));

    let mut distribution: BTreeMap<String, usize> = BTreeMap::new();
    for v in verdicts {
        let label = if v.indicator.is_empty() {
            v.verdict.clone()
        } else {
            format!("{} ({})", v.verdict, v.indicator)
        };
        *distribution.entry(label).or_insert(0) += 1;
    }
    body.push_str("<h2>Verdicts</h2>\n");
    body.push_str(&charts::bars(
        "Verdict distribution",
        "patients",
        &top(distribution),
        &|v| format!("{v:.0} ({:.0}%)", 100.0 * v / n),
    )?);
    body.push_str("<h2>Why</h2>\n");
    body.push_str(&charts::bars(
        "Most frequent reasons",
        "patients",
        &top(per_patient(verdicts.iter().map(|v| &v.reasons))),
        &|v| format!("{v:.0}"),
    )?);
    body.push_str("<h2>Data</h2>\n");
    let missing: Vec<(String, f64)> = top(per_patient(verdicts.iter().map(|v| &v.missing)))
        .into_iter()
        .map(|(l, c)| (l, c / n))
        .collect();
    body.push_str(&charts::bars(
        "Missing data (share of SLE patients)",
        "patients",
        &missing,
        &|v| format!("{:.0}%", v * 100.0),
    )?);
    body.push_str(&charts::bars(
        "Risk factors",
        "patients",
        &top(per_patient(verdicts.iter().map(|v| &v.risk_factors))),
        &|v| format!("{v:.0}"),
    )?);
    if run.bad_lines > 0 {
        body.push_str(&format!(
            "<h2>Bad lines</h2>\n<p>{} line(s) could not be read and were skipped{}.</p>\n",
            run.bad_lines,
            if run.bad_lines as usize > run.bad_examples.len() {
                format!("; the first {} are listed", run.bad_examples.len())
            } else {
                String::new()
            }
        ));
        let rows: Vec<Vec<String>> = run
            .bad_examples
            .iter()
            .map(|b| vec![b.file.clone(), b.line.to_string(), b.reason.clone()])
            .collect();
        body.push_str(&html::table(&["file", "line", "reason"], &rows));
    }
    Ok(html::page(
        &format!(
            "Population dry run: {} {} mg",
            run.order.agent, run.order.dose_mg
        ),
        &format!(
            "A hypothetical order of {} {} mg once daily for every SLE patient of the export, \
             evaluated as of {} with knowledge version {}.",
            run.order.agent, run.order.dose_mg, run.today, run.knowledge_version
        ),
        &body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn themes_drop_patient_figures() {
        assert_eq!(
            theme("eGFR 25 mL/min/1.73 m² (2026-10-02) is below 30."),
            "eGFR # mL/min/# m² is below #"
        );
        assert_eq!(theme("Active TB (Condition)"), "Active TB (Condition)");
        assert_eq!(theme("ALC 0.4 ×10⁹/L"), "ALC # ×#⁹/L");
    }
}
