//! The audit trail over HTTP (issue 2): every call to a known service — answered 200, 400 or
//! 412 — leaves one audit record with the service, hook, hookInstance, a salted hash of the
//! patient id (never the id in clear, not even somewhere in the database file), the cards'
//! topics and indicators, the latency and the status. Records are written in the background,
//! so the test polls with a bounded wait.

mod common;

use std::time::Instant;

use common::{
    eventually, fixture, open_store, spawn_app, store_file, store_sql, test_config, TestApp,
};
use serde_json::{json, Value};

/// A patient id that occurs nowhere else, so it can be searched for in the raw file.
const PATIENT: &str = "audit-patient-5c1f9e27";
const FIXTURE_PATIENT: &str = "smart-1288992";

#[derive(Debug, sqlx::FromRow)]
struct AuditRow {
    service_id: String,
    hook: String,
    hook_instance: String,
    patient_hash: Option<String>,
    cards: String,
    latency_ms: i64,
    status: i64,
}

/// The order-select fixture for [`PATIENT`] with its own hookInstance.
fn request(hook_instance: &str) -> Value {
    let text = fixture("sandbox-r4-order-select.json").replace(FIXTURE_PATIENT, PATIENT);
    let mut req: Value = serde_json::from_str(&text).unwrap();
    req["hookInstance"] = json!(hook_instance);
    req
}

async fn audit_row(pool: &sqlx::SqlitePool, hook_instance: &str) -> AuditRow {
    let hi = hook_instance.to_string();
    eventually(&format!("the audit record of {hook_instance}"), || {
        let hi = hi.clone();
        async move {
            sqlx::query_as::<_, AuditRow>(
                "SELECT service_id, hook, hook_instance, patient_hash, cards, latency_ms, status \
                 FROM audit WHERE hook_instance = $1",
            )
            .bind(hi)
            .fetch_optional(pool)
            .await
            .expect("audit query")
        }
    })
    .await
}

/// Call and measure the round trip (an upper bound of the latency the service records).
async fn timed_call(app: &TestApp, service: &str, body: String) -> (u16, Value, u64) {
    let started = Instant::now();
    let res = app.call(service, body).await;
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    (status, body, started.elapsed().as_millis() as u64)
}

fn all_bytes_of_the_store(config: &jak_sle_cds::config::Config) -> Vec<u8> {
    let file = store_file(config);
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let path = format!("{}{suffix}", file.display());
        if let Ok(b) = std::fs::read(&path) {
            bytes.extend(b);
        }
    }
    assert!(!bytes.is_empty(), "no store file at {}", file.display());
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_call_is_audited_with_a_hashed_patient_id_cards_latency_and_status() {
    let config = test_config();
    let app = spawn_app(config.clone()).await;
    let store = open_store(&config).await;
    let sql = store_sql(&config).await;
    let hash = store.patient_hash(PATIENT);
    assert_eq!(hash.len(), 64);

    // 200 with cards.
    let ok_instance = "0b9a7c1e-0000-4000-8000-00000000a200";
    let (status, body, elapsed) = timed_call(
        &app,
        "jak-sle-order-select",
        request(ok_instance).to_string(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let returned: Vec<(String, String)> = body["cards"]
        .as_array()
        .expect("cards")
        .iter()
        .map(|c| {
            (
                c["source"]["topic"]["code"].as_str().unwrap().to_string(),
                c["indicator"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(!returned.is_empty(), "the fixture gets cards: {body}");
    let row = audit_row(&sql, ok_instance).await;
    assert_eq!(row.service_id, "jak-sle-order-select");
    assert_eq!(row.hook, "order-select");
    assert_eq!(row.hook_instance, ok_instance);
    assert_eq!(row.patient_hash.as_deref(), Some(hash.as_str()));
    let cards: Vec<(String, String)> = serde_json::from_str(&row.cards).expect("cards JSON");
    assert_eq!(cards, returned);
    assert_eq!(row.status, 200);
    assert!(
        (0..=elapsed as i64).contains(&row.latency_ms),
        "latency {} ms recorded, round trip {elapsed} ms",
        row.latency_ms
    );
    // Each card issued is recorded by uuid, so feedback can be joined to its topic.
    let uuids: Vec<String> = sqlx::query_scalar(
        "SELECT card_uuid FROM card_issued WHERE hook_instance = $1 ORDER BY ordinal",
    )
    .bind(ok_instance)
    .fetch_all(&sql)
    .await
    .unwrap();
    let sent: Vec<String> = body["cards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["uuid"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(uuids, sent);

    // 400: the body is an order-sign request sent to the order-select service.
    let bad_instance = "0b9a7c1e-0000-4000-8000-00000000a400";
    let mut wrong_hook = request(bad_instance);
    wrong_hook["hook"] = json!("order-sign");
    let (status, _, _) = timed_call(&app, "jak-sle-order-select", wrong_hook.to_string()).await;
    assert_eq!(status, 400);
    let row = audit_row(&sql, bad_instance).await;
    assert_eq!(
        (row.service_id.as_str(), row.hook.as_str(), row.status),
        ("jak-sle-order-select", "order-select", 400)
    );
    assert_eq!(row.patient_hash.as_deref(), Some(hash.as_str()));
    assert_eq!(row.cards, "[]");

    // 412: required conditions neither prefetched nor obtainable (no fhirServer).
    let pre_instance = "0b9a7c1e-0000-4000-8000-00000000a412";
    let mut missing = request(pre_instance);
    missing.as_object_mut().unwrap().remove("fhirServer");
    missing["prefetch"]
        .as_object_mut()
        .unwrap()
        .remove("conditions");
    let (status, _, _) = timed_call(&app, "jak-sle-order-select", missing.to_string()).await;
    assert_eq!(status, 412);
    let row = audit_row(&sql, pre_instance).await;
    assert_eq!((row.status, row.cards.as_str()), (412, "[]"));
    assert_eq!(row.patient_hash.as_deref(), Some(hash.as_str()));
    assert_eq!(row.hook, "order-select");

    // A body that is not JSON at all is still audited (status 400, nothing known about it).
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit")
        .fetch_one(&sql)
        .await
        .unwrap();
    let (status, _, _) = timed_call(&app, "jak-sle-order-sign", "{".into()).await;
    assert_eq!(status, 400);
    eventually("the audit record of the malformed call", || async {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit")
            .fetch_one(&sql)
            .await
            .unwrap();
        (n > before).then_some(())
    })
    .await;
    let (status, patient): (i64, Option<String>) = sqlx::query_as(
        "SELECT status, patient_hash FROM audit WHERE service_id = 'jak-sle-order-sign'",
    )
    .fetch_one(&sql)
    .await
    .unwrap();
    assert_eq!((status, patient), (400, None));

    // The patient id is nowhere in the database file, its WAL or its index.
    let bytes = all_bytes_of_the_store(&config);
    let found = bytes
        .windows(PATIENT.len())
        .any(|w| w == PATIENT.as_bytes());
    assert!(!found, "the patient id is stored in clear");
    // (The search itself works: the hash is there.)
    assert!(bytes.windows(hash.len()).any(|w| w == hash.as_bytes()));
}
