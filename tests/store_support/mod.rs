//! Shared store test scenarios, run against SQLite (always, in a temporary directory) and
//! PostgreSQL (when JAK_SLE_CDS_TEST_POSTGRES_URL is set; each test in its own schema).

#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use jak_sle_cds::cds::card::{Card, Coding, Indicator, Source};
use jak_sle_cds::cds::feedback::{AcceptedSuggestion, FeedbackItem, Outcome, OverrideReason};
use jak_sle_cds::config::StoreSettings;
use jak_sle_cds::store::{AuditRecord, Store};
use sqlx::{AnyPool, AssertSqlSafe, Executor, Row};

pub const PATIENT: &str = "smart-1288992";
pub const POSTGRES_ENV: &str = "JAK_SLE_CDS_TEST_POSTGRES_URL";

/// A database for one test.
pub struct TestDb {
    pub url: String,
    pub salt: Option<String>,
    dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/data/cds.db", dir.path().display());
        TestDb {
            url,
            salt: None,
            dir: Some(dir),
            postgres: None,
        }
    }

    /// A fresh schema in the test PostgreSQL, or None (with a notice) when not configured.
    pub async fn postgres() -> Option<TestDb> {
        let Ok(base) = std::env::var(POSTGRES_ENV) else {
            eprintln!("skipping PostgreSQL store tests: {POSTGRES_ENV} not set");
            return None;
        };
        sqlx::any::install_default_drivers();
        let schema = format!("jak_test_{}", uuid::Uuid::new_v4().simple());
        let admin = AnyPool::connect(&base)
            .await
            .expect("connect to test PostgreSQL");
        admin
            .execute(AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .await
            .unwrap();
        admin.close().await;
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        Some(TestDb {
            url,
            salt: None,
            dir: None,
            postgres: Some((base, schema)),
        })
    }

    pub fn with_salt(mut self, salt: &str) -> TestDb {
        self.salt = Some(salt.to_string());
        self
    }

    pub async fn open(&self) -> Store {
        Store::open(&StoreSettings {
            url: self.url.clone(),
            audit_salt: self.salt.clone(),
        })
        .await
        .expect("store opens")
    }

    /// Direct access, to look at what is really stored.
    pub async fn raw(&self) -> AnyPool {
        sqlx::any::install_default_drivers();
        AnyPool::connect(&self.url).await.unwrap()
    }

    pub fn sqlite_dir(&self) -> Option<&std::path::Path> {
        self.dir.as_ref().map(|d| d.path())
    }

    pub async fn cleanup(self) {
        if let Some((base, schema)) = &self.postgres {
            let admin = AnyPool::connect(base).await.unwrap();
            admin
                .execute(AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .await
                .unwrap();
            admin.close().await;
        }
    }
}

pub fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
}

pub fn accepted(card: &str, when: &str) -> FeedbackItem {
    FeedbackItem {
        card: card.into(),
        outcome: Outcome::Accepted,
        accepted_suggestions: vec![AcceptedSuggestion { id: "s1".into() }],
        override_reason: None,
        outcome_timestamp: when.into(),
    }
}

pub fn overridden(card: &str, when: &str, reason: Option<&str>) -> FeedbackItem {
    FeedbackItem {
        card: card.into(),
        outcome: Outcome::Overridden,
        accepted_suggestions: Vec::new(),
        override_reason: Some(OverrideReason {
            reason: reason.map(|code| Coding {
                system: "http://example.org/override-reasons".into(),
                code: code.into(),
                display: Some(format!("Reason {code}")),
            }),
            user_comment: Some("comment".into()),
        }),
        outcome_timestamp: when.into(),
    }
}

pub fn card(uuid: &str, topic: &str, indicator: Indicator) -> Card {
    Card {
        uuid: uuid.into(),
        summary: "summary".into(),
        detail: None,
        indicator,
        source: Source {
            label: "jak-sle-cds".into(),
            url: None,
            icon: None,
            topic: Some(Coding {
                system: "http://example.org/topics".into(),
                code: topic.into(),
                display: None,
            }),
        },
        suggestions: Vec::new(),
        selection_behavior: None,
        override_reasons: Vec::new(),
        links: Vec::new(),
        extension: None,
    }
}

pub fn call(when: DateTime<Utc>, patient: Option<&str>) -> AuditRecord {
    AuditRecord {
        at: when,
        service_id: "jak-order-sign".into(),
        hook: "order-sign".into(),
        hook_instance: uuid::Uuid::new_v4().to_string(),
        patient_id: patient.map(str::to_string),
        cards: Vec::new(),
        latency_ms: 42,
        removed_other_patients: 0,
        status: 200,
        mode: jak_sle_cds::config::ServiceMode::Live,
        knowledge_version: "1.0.0".into(),
    }
}

/// Every text column of every audit row, concatenated.
pub async fn audit_text(db: &TestDb) -> String {
    let raw = db.raw().await;
    let rows = sqlx::query(
        "SELECT id, at, service_id, hook, hook_instance, COALESCE(patient_hash, ''), cards FROM audit",
    )
    .fetch_all(&raw)
    .await
    .unwrap();
    let mut out = String::new();
    for row in rows {
        for i in 0..7 {
            out.push_str(&row.get::<String, _>(i));
            out.push('|');
        }
    }
    raw.close().await;
    out
}

pub async fn feedback_rows(db: &TestDb) -> i64 {
    rows(db, "SELECT COUNT(*) FROM feedback").await
}

pub async fn audit_rows(db: &TestDb) -> i64 {
    rows(db, "SELECT COUNT(*) FROM audit").await
}

async fn rows(db: &TestDb, count: &'static str) -> i64 {
    let raw = db.raw().await;
    let n: (i64,) = sqlx::query_as(count).fetch_one(&raw).await.unwrap();
    raw.close().await;
    n.0
}

// ---- scenarios ------------------------------------------------------------------------

pub async fn feedback_survives_a_restart(db: &TestDb) {
    let store = db.open().await;
    store
        .record_call(
            &call(Utc::now(), Some(PATIENT)),
            &[card("c1", "topic-a", Indicator::Critical)],
        )
        .await
        .unwrap();
    store
        .save_feedback(
            "jak-order-sign",
            &[overridden("c1", "2026-11-20T10:00:00Z", Some("r1"))],
        )
        .await
        .unwrap();
    store.close().await;
    let reopened = db.open().await;
    let report = reopened.report(None).await.unwrap();
    let a = report.topic("topic-a").expect("topic-a reported");
    assert_eq!((a.shown, a.overridden), (1, 1));
}

pub async fn a_burst_of_1000_concurrent_posts_loses_none(db: &TestDb) {
    let store = db.open().await;
    let tasks: Vec<_> = (0..1000)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .save_feedback(
                        "jak-order-sign",
                        &[accepted(&format!("card-{i}"), "2026-11-20T10:00:00Z")],
                    )
                    .await
            })
        })
        .collect();
    let mut failures = 0;
    for t in tasks {
        if !matches!(t.await, Ok(Ok(()))) {
            failures += 1;
        }
    }
    let stored = feedback_rows(db).await;
    assert_eq!((failures, stored), (0, 1000));
}

pub async fn repeats_are_stored_once(db: &TestDb) {
    let store = db.open().await;
    let item = accepted("c1", "2026-11-20T10:00:00Z");
    store
        .save_feedback("jak-order-sign", &[item.clone(), item.clone()])
        .await
        .unwrap();
    store
        .save_feedback("jak-order-sign", std::slice::from_ref(&item))
        .await
        .unwrap();
    // Another timestamp is another decision.
    store
        .save_feedback("jak-order-sign", &[accepted("c1", "2026-11-20T10:05:00Z")])
        .await
        .unwrap();
    assert_eq!(feedback_rows(db).await, 2);
}

pub async fn the_audit_keeps_no_patient_id_in_clear(db: &TestDb) {
    let store = db.open().await;
    let mut record = call(Utc::now(), Some(PATIENT));
    record.cards = vec![("topic-a".into(), "critical".into())];
    store.record_audit(&record).await.unwrap();
    let text = audit_text(db).await;
    assert!(
        !text.contains(PATIENT) && text.contains(&store.patient_hash(PATIENT)),
        "{text}"
    );
}

pub async fn a_configured_salt_gives_the_documented_hash(db: &TestDb) {
    use sha2::{Digest, Sha256};
    let store = db.open().await;
    store
        .record_audit(&call(Utc::now(), Some(PATIENT)))
        .await
        .unwrap();
    let expected = hex::encode(Sha256::digest(format!("pepper{PATIENT}").as_bytes()));
    assert!(audit_text(db).await.contains(&expected));
}

pub async fn the_generated_salt_is_kept_across_restarts(db: &TestDb) {
    let first = db.open().await.patient_hash(PATIENT);
    let second = db.open().await.patient_hash(PATIENT);
    assert_eq!(first, second);
}

pub async fn the_report_counts_per_topic(db: &TestDb) {
    let store = db.open().await;
    let old = call(at(2026, 1, 10), Some(PATIENT));
    store
        .record_call(&old, &[card("old", "topic-a", Indicator::Critical)])
        .await
        .unwrap();
    let recent = call(at(2026, 11, 10), Some(PATIENT));
    store
        .record_call(
            &recent,
            &[
                card("a1", "topic-a", Indicator::Critical),
                card("a2", "topic-a", Indicator::Critical),
                card("b1", "topic-b", Indicator::Info),
            ],
        )
        .await
        .unwrap();
    store
        .save_feedback(
            "jak-order-sign",
            &[
                accepted("a1", "2026-11-10T12:01:00Z"),
                overridden("a2", "2026-11-10T12:02:00Z", Some("r1")),
                overridden("b1", "2026-11-10T12:03:00Z", None),
                overridden("old", "2026-01-10T12:03:00Z", Some("r2")),
                accepted("never-issued", "2026-11-10T12:04:00+01:00"),
            ],
        )
        .await
        .unwrap();
    let since = chrono::NaiveDate::from_ymd_opt(2026, 6, 1);
    let report = store.report(since).await.unwrap();
    let a = report.topic("topic-a").unwrap();
    let b = report.topic("topic-b").unwrap();
    let unknown = report.topic("(unknown card)").unwrap();
    let reasons: Vec<(Option<&str>, u64)> = a
        .override_reasons
        .iter()
        .map(|r| (r.code.as_deref(), r.count))
        .collect();
    assert_eq!(
        (
            a.shown,
            a.accepted,
            a.overridden,
            reasons,
            b.overridden,
            b.override_reasons[0].code.clone(),
            unknown.accepted
        ),
        (2, 1, 1, vec![(Some("r1"), 1)], 1, None, 1)
    );
    let everything = store.report(None).await.unwrap();
    assert_eq!(everything.topic("topic-a").unwrap().shown, 3);
}

pub async fn replicas_starting_together_share_one_salt(db: &TestDb) {
    let (a, b, c) = tokio::join!(db.open(), db.open(), db.open());
    let hashes = [a, b, c].map(|s| s.patient_hash(PATIENT));
    assert!(hashes.iter().all(|h| *h == hashes[0]), "{hashes:?}");
}

/// Calls queued for the background writer are all stored, with their cards, once the store
/// is closed (close flushes the queue); the report counts them like directly recorded calls.
pub async fn queued_calls_are_all_written_by_close(db: &TestDb) {
    let store = db.open().await;
    let n = 1500; // more than one batch
    for i in 0..n {
        let cards = [
            card(&format!("q{i}-a"), "topic-q", Indicator::Warning),
            card(&format!("q{i}-b"), "topic-r", Indicator::Info),
        ];
        assert!(store.queue_call(call(Utc::now(), Some(PATIENT)), &cards));
    }
    store.close().await;
    assert_eq!(store.audit_dropped(), 0);
    let raw = db.raw().await;
    let counts: (i64, i64) =
        sqlx::query_as("SELECT (SELECT COUNT(*) FROM audit), (SELECT COUNT(*) FROM card_issued)")
            .fetch_one(&raw)
            .await
            .unwrap();
    raw.close().await;
    assert_eq!(counts, (n, 2 * n));
    let report = db.open().await.report(None).await.unwrap();
    assert_eq!(report.topic("topic-q").map(|t| t.shown), Some(n as u64));
}
