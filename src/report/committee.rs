//! The committee report as one HTML page (`report --format html --out FILE`): per knowledge
//! version, cards per week by topic and indicator (live and silent apart), the override rate
//! per topic with the reasons chosen, and call latency percentiles.

use std::collections::BTreeSet;

use super::charts::{self, ChartError, Series};
use super::html;
use crate::store::Report;

/// The page for `report`, generated at `generated` (shown in its header).
pub fn render(report: &Report, generated: &str) -> Result<String, ChartError> {
    let period = match report.since {
        Some(d) => format!("since {d}"),
        None => "all time".to_string(),
    };
    let mut body = String::new();
    let versions = report.versions();
    if versions.is_empty() {
        body.push_str("<p class=\"no-data\">No cards shown and no feedback received.</p>\n");
    }
    for version in versions {
        body.push_str(&format!(
            "<h2>Knowledge version {}</h2>\n",
            html::escape(version)
        ));
        for mode in ["live", "silent"] {
            body.push_str(&weekly_chart(report, version, mode)?);
        }
        body.push_str(&topic_table(report, version));
        body.push_str(&override_charts(report, version)?);
        body.push_str(&latency_chart(report, version)?);
    }
    Ok(html::page(
        "CDS committee report: JAK inhibitors in SLE",
        &format!("Cards, feedback and latency {period}; generated {generated}."),
        &body,
    ))
}

fn weekly_chart(report: &Report, version: &str, mode: &str) -> Result<String, ChartError> {
    let rows: Vec<_> = report
        .weekly
        .iter()
        .filter(|w| w.knowledge_version == version && w.mode == mode)
        .collect();
    let weeks: Vec<_> = rows
        .iter()
        .map(|w| w.week)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let keys: BTreeSet<(&str, &str)> = rows
        .iter()
        .map(|w| (w.topic.as_str(), w.indicator.as_str()))
        .collect();
    let series: Vec<Series> = keys
        .into_iter()
        .map(|(topic, indicator)| Series {
            name: format!("{topic} · {indicator}"),
            values: weeks
                .iter()
                .map(|week| {
                    rows.iter()
                        .filter(|w| w.week == *week && w.topic == topic && w.indicator == indicator)
                        .map(|w| w.count as f64)
                        .sum()
                })
                .collect(),
        })
        .collect();
    let title = match mode {
        "silent" => "Cards per week that silent services would have shown",
        _ => "Cards shown per week (live)",
    };
    let categories: Vec<String> = weeks.iter().map(|w| format!("week of {w}")).collect();
    charts::stacked_columns(title, "cards", &categories, &series)
}

fn topic_table(report: &Report, version: &str) -> String {
    let rows: Vec<Vec<String>> = report
        .topics
        .iter()
        .filter(|t| t.knowledge_version == version)
        .map(|t| {
            vec![
                t.topic.clone(),
                t.shown.to_string(),
                t.silent.to_string(),
                t.accepted.to_string(),
                t.overridden.to_string(),
                t.override_rate()
                    .map(|r| format!("{:.0}%", r * 100.0))
                    .unwrap_or_else(|| "–".into()),
            ]
        })
        .collect();
    html::table(
        &[
            "topic",
            "shown (live)",
            "would have shown (silent)",
            "accepted",
            "overridden",
            "override rate",
        ],
        &rows,
    )
}

fn override_charts(report: &Report, version: &str) -> Result<String, ChartError> {
    let topics: Vec<_> = report
        .topics
        .iter()
        .filter(|t| t.knowledge_version == version)
        .collect();
    let rates: Vec<(String, f64)> = topics
        .iter()
        .filter_map(|t| Some((t.topic.clone(), t.override_rate()?)))
        .collect();
    let mut reasons: Vec<(String, f64)> = topics
        .iter()
        .flat_map(|t| {
            t.override_reasons
                .iter()
                .map(|r| (format!("{}: {}", t.topic, r.label()), r.count as f64))
        })
        .collect();
    reasons.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut out = charts::bars(
        "Override rate per topic (overridden / feedback received)",
        "override rate",
        &rates,
        &|v| format!("{:.0}%", v * 100.0),
    )?;
    out.push_str(&charts::bars(
        "Override reasons chosen",
        "overrides",
        &reasons,
        &charts::whole_number,
    )?);
    Ok(out)
}

fn latency_chart(report: &Report, version: &str) -> Result<String, ChartError> {
    let items: Vec<(String, f64)> = report
        .latency
        .iter()
        .filter(|l| l.knowledge_version == version)
        .flat_map(|l| {
            [
                ("p50", l.p50),
                ("p90", l.p90),
                ("p99", l.p99),
                ("max", l.max),
            ]
            .map(|(name, ms)| (format!("{} ({} calls) {name}", l.mode, l.calls), ms as f64))
        })
        .collect();
    charts::bars("Call latency percentiles", "milliseconds", &items, &|v| {
        format!("{v:.0} ms")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{LatencyReport, TopicReport, WeeklyCount};
    use chrono::NaiveDate;

    #[test]
    fn the_page_has_a_section_per_version_with_live_and_silent_charts() {
        let week = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let weekly = |version: &str, mode: &str, count| WeeklyCount {
            week,
            knowledge_version: version.into(),
            mode: mode.into(),
            topic: "jaki-sle-contraindicated".into(),
            indicator: "critical".into(),
            count,
        };
        let report = Report {
            since: None,
            topics: vec![TopicReport {
                knowledge_version: "1.0.0".into(),
                topic: "jaki-sle-contraindicated".into(),
                shown: 4,
                silent: 2,
                accepted: 1,
                overridden: 3,
                override_reasons: Vec::new(),
            }],
            weekly: vec![weekly("1.0.0", "live", 4), weekly("1.0.0", "silent", 2)],
            latency: vec![LatencyReport {
                knowledge_version: "1.0.0".into(),
                mode: "live".into(),
                calls: 6,
                p50: 10,
                p90: 20,
                p99: 30,
                max: 31,
            }],
        };
        let page = render(&report, "2026-12-02T12:00:00Z").unwrap();
        assert!(page.contains("<h2>Knowledge version 1.0.0</h2>"), "{page}");
        assert!(page.contains("Cards shown per week (live)"));
        assert!(page.contains("silent services would have shown"));
        assert!(page.contains("75%"), "override rate 3/4");
        assert_eq!(page.matches("<svg").count(), 4, "weekly ×2, rate, latency");
        assert!(page.contains("Override reasons chosen</strong>: no data"));
    }
}
