//! The committee report as plain text for the terminal (`report`, the default format).

use std::fmt::Write;

use crate::store::Report;

/// Per knowledge version: a table of topics (shown live, would-have-shown silent, accepted,
/// overridden, override reasons), then call latency percentiles.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let period = match report.since {
        Some(d) => format!("since {d}"),
        None => "all time".to_string(),
    };
    let _ = writeln!(out, "Card feedback, {period}");
    if report.topics.is_empty() && report.latency.is_empty() {
        let _ = writeln!(out, "(no cards shown and no feedback received)");
        return out;
    }
    let width = report
        .topics
        .iter()
        .map(|t| t.topic.len())
        .max()
        .unwrap_or(0)
        .max("topic".len());
    for version in report.versions() {
        let _ = writeln!(out, "\nKnowledge version {version}");
        let topics: Vec<_> = report
            .topics
            .iter()
            .filter(|t| t.knowledge_version == version)
            .collect();
        if !topics.is_empty() {
            let _ = writeln!(
                out,
                "{:<width$}  {:>8}  {:>8}  {:>8}  {:>10}",
                "topic", "shown", "silent", "accepted", "overridden"
            );
        }
        for t in topics {
            let _ = writeln!(
                out,
                "{:<width$}  {:>8}  {:>8}  {:>8}  {:>10}",
                t.topic, t.shown, t.silent, t.accepted, t.overridden
            );
            for r in &t.override_reasons {
                let _ = writeln!(
                    out,
                    "{:width$}    {:>6}  override: {}",
                    "",
                    r.count,
                    r.label()
                );
            }
        }
        for l in report
            .latency
            .iter()
            .filter(|l| l.knowledge_version == version)
        {
            let _ = writeln!(
                out,
                "latency ({}, {} calls): p50 {} ms, p90 {} ms, p99 {} ms, max {} ms",
                l.mode, l.calls, l.p50, l.p90, l.p99, l.max
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{LatencyReport, ReasonCount, TopicReport};
    use chrono::NaiveDate;

    #[test]
    fn the_text_names_each_version_topic_and_reason_and_counts_silent_apart() {
        let r = Report {
            since: NaiveDate::from_ymd_opt(2026, 11, 1),
            topics: vec![
                TopicReport {
                    knowledge_version: "1.0.0".into(),
                    topic: "jak-sle-contraindicated".into(),
                    shown: 12,
                    silent: 0,
                    accepted: 3,
                    overridden: 5,
                    override_reasons: vec![
                        ReasonCount {
                            system: None,
                            code: Some("benefit-outweighs-risk".into()),
                            display: Some("Benefit outweighs risk".into()),
                            count: 4,
                        },
                        ReasonCount {
                            system: None,
                            code: None,
                            display: None,
                            count: 1,
                        },
                    ],
                },
                TopicReport {
                    knowledge_version: "1.1.0".into(),
                    topic: "jak-sle-contraindicated".into(),
                    shown: 0,
                    silent: 7,
                    ..TopicReport::default()
                },
            ],
            weekly: Vec::new(),
            latency: vec![LatencyReport {
                knowledge_version: "1.1.0".into(),
                mode: "silent".into(),
                calls: 7,
                p50: 12,
                p90: 30,
                p99: 41,
                max: 41,
            }],
        };
        let text = render(&r);
        assert!(text.contains("since 2026-11-01"), "{text}");
        assert!(text.contains("Knowledge version 1.0.0"), "{text}");
        assert!(text.contains("Knowledge version 1.1.0"), "{text}");
        assert!(
            text.contains("4  override: benefit-outweighs-risk (Benefit outweighs risk)"),
            "{text}"
        );
        assert!(text.contains("1  override: (no reason given)"), "{text}");
        assert!(
            text.contains("jak-sle-contraindicated         0         7"),
            "{text}"
        );
        assert!(
            text.contains("latency (silent, 7 calls): p50 12 ms, p90 30 ms, p99 41 ms"),
            "{text}"
        );
    }
}
