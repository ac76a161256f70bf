//! The committee report's figures (`jak-sle-cds report [--since DATE]`), queried from the
//! audit and feedback tables: per knowledge version and card topic, how often the cards were
//! shown (live) or would have been (silent), accepted and overridden, with the override
//! reasons; cards per week; call latency percentiles. Presentation is in [`crate::report`].

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use sqlx::AnyPool;

use super::StoreError;

/// Topic under which feedback for a card this store never issued is counted.
const UNKNOWN_CARD: &str = "(unknown card)";
/// Knowledge version of such feedback.
const UNKNOWN_VERSION: &str = "(unknown)";

/// The report's figures, every one split by knowledge version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub since: Option<NaiveDate>,
    /// Sorted by knowledge version, then topic code.
    pub topics: Vec<TopicReport>,
    /// Cards per week (Monday), version, mode, topic and indicator; sorted.
    pub weekly: Vec<WeeklyCount>,
    /// Call latency per knowledge version and mode; sorted.
    pub latency: Vec<LatencyReport>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicReport {
    pub knowledge_version: String,
    pub topic: String,
    /// Cards shown (live services).
    pub shown: u64,
    /// Cards a silent service would have shown.
    pub silent: u64,
    pub accepted: u64,
    pub overridden: u64,
    /// Most frequent first.
    pub override_reasons: Vec<ReasonCount>,
}

impl TopicReport {
    /// Overridden / (accepted + overridden), when there was feedback.
    pub fn override_rate(&self) -> Option<f64> {
        let answered = self.accepted + self.overridden;
        (answered > 0).then(|| self.overridden as f64 / answered as f64)
    }
}

/// One override reason (absent code: overridden without a reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonCount {
    pub system: Option<String>,
    pub code: Option<String>,
    pub display: Option<String>,
    pub count: u64,
}

impl ReasonCount {
    /// "code (display)", or "(no reason given)".
    pub fn label(&self) -> String {
        match (&self.code, &self.display) {
            (None, _) => "(no reason given)".to_string(),
            (Some(c), Some(d)) => format!("{c} ({d})"),
            (Some(c), None) => c.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct WeeklyCount {
    /// The Monday starting the (ISO) week.
    pub week: NaiveDate,
    pub knowledge_version: String,
    /// "live" or "silent".
    pub mode: String,
    pub topic: String,
    pub indicator: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatencyReport {
    pub knowledge_version: String,
    pub mode: String,
    pub calls: u64,
    /// Milliseconds (nearest-rank percentiles).
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub max: u64,
}

impl Report {
    /// The topic's entry (the first knowledge version that has it), if it had any activity.
    pub fn topic(&self, code: &str) -> Option<&TopicReport> {
        self.topics.iter().find(|t| t.topic == code)
    }

    /// The topic's entry for one knowledge version.
    pub fn topic_in(&self, knowledge_version: &str, code: &str) -> Option<&TopicReport> {
        self.topics
            .iter()
            .find(|t| t.topic == code && t.knowledge_version == knowledge_version)
    }

    /// The knowledge versions the report covers, sorted.
    pub fn versions(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .topics
            .iter()
            .map(|t| t.knowledge_version.as_str())
            .chain(self.latency.iter().map(|l| l.knowledge_version.as_str()))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

type ShownRow = (String, String, String, String, String, i64);
type FeedbackRow = (
    String,
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
    let shown: Vec<ShownRow> = sqlx::query_as(
        "SELECT knowledge_version, mode, topic, indicator, SUBSTR(issued_at, 1, 10), COUNT(*) \
         FROM card_issued WHERE issued_at >= $1 \
         GROUP BY knowledge_version, mode, topic, indicator, SUBSTR(issued_at, 1, 10)",
    )
    .bind(&from)
    .fetch_all(pool)
    .await?;
    let feedback: Vec<FeedbackRow> = sqlx::query_as(
        "SELECT version, topic, outcome, reason_system, reason_code, MAX(reason_display), \
                COUNT(*) \
         FROM (SELECT COALESCE((SELECT c.topic FROM card_issued c \
                                WHERE c.card_uuid = f.card_uuid \
                                ORDER BY c.issued_at LIMIT 1), $2) AS topic, \
                      COALESCE((SELECT c.knowledge_version FROM card_issued c \
                                WHERE c.card_uuid = f.card_uuid \
                                ORDER BY c.issued_at LIMIT 1), $3) AS version, \
                      f.outcome, f.reason_system, f.reason_code, f.reason_display \
               FROM feedback f WHERE f.outcome_at >= $1) AS x \
         GROUP BY version, topic, outcome, reason_system, reason_code",
    )
    .bind(&from)
    .bind(UNKNOWN_CARD)
    .bind(UNKNOWN_VERSION)
    .fetch_all(pool)
    .await?;
    let latencies: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT knowledge_version, mode, latency_ms FROM audit WHERE at >= $1")
            .bind(&from)
            .fetch_all(pool)
            .await?;

    let mut topics: BTreeMap<(String, String), TopicReport> = BTreeMap::new();
    let mut weekly: BTreeMap<(NaiveDate, String, String, String, String), u64> = BTreeMap::new();
    for (version, mode, topic, indicator, day, n) in shown {
        let n = count(n);
        let t = slot(&mut topics, &version, &topic);
        if mode == "silent" {
            t.silent += n;
        } else {
            t.shown += n;
        }
        if let Ok(day) = NaiveDate::parse_from_str(&day, "%Y-%m-%d") {
            let monday = day - chrono::Days::new(u64::from(day.weekday().num_days_from_monday()));
            *weekly
                .entry((monday, version, mode, topic, indicator))
                .or_default() += n;
        }
    }
    for (version, topic, outcome, system, code, display, n) in feedback {
        let t = slot(&mut topics, &version, &topic);
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
    let weekly = weekly
        .into_iter()
        .map(
            |((week, knowledge_version, mode, topic, indicator), count)| WeeklyCount {
                week,
                knowledge_version,
                mode,
                topic,
                indicator,
                count,
            },
        )
        .collect();
    Ok(Report {
        since,
        topics,
        weekly,
        latency: latency_reports(latencies),
    })
}

/// Percentiles per (version, mode).
fn latency_reports(rows: Vec<(String, String, i64)>) -> Vec<LatencyReport> {
    let mut groups: BTreeMap<(String, String), Vec<u64>> = BTreeMap::new();
    for (version, mode, ms) in rows {
        groups.entry((version, mode)).or_default().push(count(ms));
    }
    groups
        .into_iter()
        .map(|((knowledge_version, mode), mut ms)| {
            ms.sort_unstable();
            LatencyReport {
                knowledge_version,
                mode,
                calls: ms.len() as u64,
                p50: percentile(&ms, 50),
                p90: percentile(&ms, 90),
                p99: percentile(&ms, 99),
                max: ms.last().copied().unwrap_or(0),
            }
        })
        .collect()
}

/// Nearest-rank percentile of sorted values (0 for none).
fn percentile(sorted: &[u64], p: usize) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

fn slot<'a>(
    topics: &'a mut BTreeMap<(String, String), TopicReport>,
    version: &str,
    topic: &str,
) -> &'a mut TopicReport {
    topics
        .entry((version.to_string(), topic.to_string()))
        .or_insert_with(|| TopicReport {
            knowledge_version: version.to_string(),
            topic: topic.to_string(),
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
    fn nearest_rank_percentiles() {
        let ms: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&ms, 50), 50);
        assert_eq!(percentile(&ms, 99), 99);
        assert_eq!(percentile(&[7], 90), 7);
        assert_eq!(percentile(&[], 50), 0);
        let r = latency_reports(vec![
            ("1.0.0".into(), "live".into(), 10),
            ("1.0.0".into(), "live".into(), 30),
            ("1.0.0".into(), "silent".into(), 5),
        ]);
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].calls, r[0].p50, r[0].max), (2, 10, 30));
        assert_eq!(r[1].mode, "silent");
    }
}
