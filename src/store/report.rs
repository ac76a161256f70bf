//! The monthly review report (`jak-sle-cds report [--since DATE]`): per card topic, how often
//! the cards were shown, accepted and overridden, and the override reasons given.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::NaiveDate;
use sqlx::AnyPool;

use super::StoreError;

/// Topic under which feedback for a card this store never issued is counted.
const UNKNOWN_CARD: &str = "(unknown card)";

/// The report: one entry per topic, sorted by topic code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub since: Option<NaiveDate>,
    pub topics: Vec<TopicReport>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicReport {
    pub topic: String,
    pub shown: u64,
    pub accepted: u64,
    pub overridden: u64,
    /// Most frequent first.
    pub override_reasons: Vec<ReasonCount>,
}

/// One override reason (absent code: overridden without a reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonCount {
    pub system: Option<String>,
    pub code: Option<String>,
    pub display: Option<String>,
    pub count: u64,
}

impl Report {
    /// The topic's entry, if it had any activity.
    pub fn topic(&self, code: &str) -> Option<&TopicReport> {
        self.topics.iter().find(|t| t.topic == code)
    }

    /// Plain-text table for the terminal.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let period = match self.since {
            Some(d) => format!("since {d}"),
            None => "all time".to_string(),
        };
        let _ = writeln!(out, "Card feedback, {period}");
        if self.topics.is_empty() {
            let _ = writeln!(out, "(no cards shown and no feedback received)");
            return out;
        }
        let width = self
            .topics
            .iter()
            .map(|t| t.topic.len())
            .max()
            .unwrap_or(0)
            .max("topic".len());
        let _ = writeln!(
            out,
            "{:<width$}  {:>8}  {:>8}  {:>10}",
            "topic", "shown", "accepted", "overridden"
        );
        for t in &self.topics {
            let _ = writeln!(
                out,
                "{:<width$}  {:>8}  {:>8}  {:>10}",
                t.topic, t.shown, t.accepted, t.overridden
            );
            for r in &t.override_reasons {
                let label = match (&r.code, &r.display) {
                    (None, _) => "(no reason given)".to_string(),
                    (Some(c), Some(d)) => format!("{c} ({d})"),
                    (Some(c), None) => c.clone(),
                };
                let _ = writeln!(out, "{:width$}    {:>6}  override: {label}", "", r.count);
            }
        }
        out
    }
}

type FeedbackRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
);

pub(super) async fn build(pool: &AnyPool, since: Option<NaiveDate>) -> Result<Report, StoreError> {
    // Timestamps are fixed-width UTC text: "YYYY-MM-DD" sorts before every time of that day.
    let from = since.map(|d| d.to_string()).unwrap_or_default();
    let shown: Vec<(String, i64)> = sqlx::query_as(
        "SELECT topic, COUNT(*) FROM card_issued WHERE issued_at >= $1 GROUP BY topic",
    )
    .bind(&from)
    .fetch_all(pool)
    .await?;
    let feedback: Vec<FeedbackRow> = sqlx::query_as(
        "SELECT topic, outcome, reason_system, reason_code, MAX(reason_display), COUNT(*) \
         FROM (SELECT COALESCE((SELECT c.topic FROM card_issued c \
                                WHERE c.card_uuid = f.card_uuid \
                                ORDER BY c.issued_at LIMIT 1), $2) AS topic, \
                      f.outcome, f.reason_system, f.reason_code, f.reason_display \
               FROM feedback f WHERE f.outcome_at >= $1) AS x \
         GROUP BY topic, outcome, reason_system, reason_code",
    )
    .bind(&from)
    .bind(UNKNOWN_CARD)
    .fetch_all(pool)
    .await?;

    let mut topics: BTreeMap<String, TopicReport> = BTreeMap::new();
    for (topic, n) in shown {
        slot(&mut topics, topic).shown += count(n);
    }
    for (topic, outcome, system, code, display, n) in feedback {
        let t = slot(&mut topics, topic);
        let n = count(n);
        if outcome == "accepted" {
            t.accepted += n;
        } else {
            t.overridden += n;
            t.override_reasons.push(ReasonCount {
                system,
                code,
                display,
                count: n,
            });
        }
    }
    let mut topics: Vec<TopicReport> = topics.into_values().collect();
    for t in &mut topics {
        t.override_reasons
            .sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.code.cmp(&b.code)));
    }
    Ok(Report { since, topics })
}

fn slot(topics: &mut BTreeMap<String, TopicReport>, topic: String) -> &mut TopicReport {
    topics.entry(topic.clone()).or_insert_with(|| TopicReport {
        topic,
        ..TopicReport::default()
    })
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_names_each_topic_and_its_reasons() {
        let r = Report {
            since: NaiveDate::from_ymd_opt(2026, 11, 1),
            topics: vec![TopicReport {
                topic: "jak-sle-contraindicated".into(),
                shown: 12,
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
            }],
        };
        let text = r.to_text();
        assert!(text.contains("since 2026-11-01"), "{text}");
        assert!(text.contains("jak-sle-contraindicated"), "{text}");
        assert!(
            text.contains("4  override: benefit-outweighs-risk (Benefit outweighs risk)"),
            "{text}"
        );
        assert!(text.contains("1  override: (no reason given)"), "{text}");
    }
}
