//! Feedback over HTTP is durable (issue 2): a burst of concurrent POSTs is answered 200 only
//! once stored and every item is in the store afterwards; feedback survives a restart of the
//! service; repeats of the same items are acknowledged and stored once.

mod common;

use common::{open_store, sandbox_token, spawn_app, store_sql, test_config};
use futures::future::join_all;
use serde_json::json;

const PATH: &str = "/cds-services/jak-sle-order-sign/feedback";

/// One overridden-card feedback item for card `card`.
fn item(card: &str) -> serde_json::Value {
    json!({"card": card, "outcome": "overridden",
        "overrideReason": {"reason": {"system": "https://jak-sle-cds.github.io/fhir/CodeSystem/override-reason",
            "code": "benefit-outweighs-risk", "display": "Benefit outweighs risk"}},
        "outcomeTimestamp": "2026-11-26T10:06:00Z"})
}

async fn feedback_rows(pool: &sqlx::SqlitePool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM feedback")
        .fetch_one(pool)
        .await
        .expect("count feedback")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_1000_concurrent_feedback_posts_is_all_stored() {
    const N: usize = 1000;
    let config = test_config();
    let app = spawn_app(config.clone()).await;
    // Each call has its own token (unique jti), signed before the burst starts.
    let calls: Vec<(String, String)> = (0..N)
        .map(|i| {
            let body = json!({"feedback": [item(&format!("burst-card-{i:04}"))]}).to_string();
            (sandbox_token(&app.url(PATH)), body)
        })
        .collect();
    let app = &app;
    let statuses = join_all(calls.into_iter().map(|(token, body)| async move {
        app.post_with_token(PATH, &token, body)
            .await
            .map_or(0, |r| r.status().as_u16())
    }))
    .await;
    let not_ok: Vec<(usize, u16)> = statuses
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, s)| *s != 200)
        .collect();
    assert!(
        not_ok.is_empty(),
        "{} of {N} not 200, e.g. {:?}",
        not_ok.len(),
        &not_ok[..not_ok.len().min(5)]
    );

    // 200 means stored: every row is there without waiting.
    let sql = store_sql(&config).await;
    assert_eq!(feedback_rows(&sql).await, N as i64);
    let distinct: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT card_uuid) FROM feedback")
        .fetch_one(&sql)
        .await
        .unwrap();
    assert_eq!(distinct, N as i64);
    // And the committee report counts them (cards this store never issued).
    let report = open_store(&config).await.report(None).await.unwrap();
    let unknown = report
        .topic("(unknown card)")
        .expect("feedback for unknown cards is reported");
    assert_eq!(unknown.overridden, N as u64);
    assert_eq!(unknown.override_reasons.len(), 1);
    assert_eq!(unknown.override_reasons[0].count, N as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_survives_a_restart_and_repeats_are_stored_once() {
    let config = test_config();
    let body = json!({"feedback": [
        item("restart-card-1"),
        {"card": "restart-card-2", "outcome": "accepted",
         "acceptedSuggestions": [{"id": "e56e1945-20b3-4393-8503-a1a20fd73152"}],
         "outcomeTimestamp": "2026-11-26T10:05:31Z"}]})
    .to_string();

    let first = spawn_app(config.clone()).await;
    assert_eq!(first.post(PATH, body.clone()).await.status(), 200);
    // A repeat (a client retrying after a lost answer) is acknowledged again.
    assert_eq!(first.post(PATH, body.clone()).await.status(), 200);
    first.stop().await;
    assert!(
        first
            .client
            .get(first.url("/healthz"))
            .send()
            .await
            .is_err(),
        "the first server still answers after stop"
    );

    // With the service down, the file holds both items, once each.
    {
        let sql = store_sql(&config).await;
        assert_eq!(feedback_rows(&sql).await, 2);
        sql.close().await;
    }

    // A new service on the same store: the items are still there, a repeat adds nothing,
    // new feedback is added.
    let second = spawn_app(config.clone()).await;
    assert_eq!(second.post(PATH, body.clone()).await.status(), 200);
    let more = json!({"feedback": [item("restart-card-3")]}).to_string();
    assert_eq!(second.post(PATH, more).await.status(), 200);
    let sql = store_sql(&config).await;
    assert_eq!(feedback_rows(&sql).await, 3);
    let outcomes: Vec<(String, String)> =
        sqlx::query_as("SELECT card_uuid, outcome FROM feedback ORDER BY card_uuid")
            .fetch_all(&sql)
            .await
            .unwrap();
    assert_eq!(
        outcomes,
        [
            ("restart-card-1".into(), "overridden".into()),
            ("restart-card-2".into(), "accepted".into()),
            ("restart-card-3".into(), "overridden".into()),
        ]
    );
    let report = open_store(&config).await.report(None).await.unwrap();
    let unknown = report.topic("(unknown card)").expect("reported");
    assert_eq!((unknown.accepted, unknown.overridden), (1, 2));
}
