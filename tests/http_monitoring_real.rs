//! The monitoring service (`jak-sle-monitor`, patient-view) over HTTP with no prefetch, against
//! the real FHIR test server (tests/fhir-server, loaded with patients of fixtures/monitoring):
//! every datum is fetched with the request's bearer token, the cards are those of
//! fixtures/monitoring/expected.json, and each call answers within the gather budget. The
//! fixtures' dates are moved to today, so the windows hold whatever day the test runs.
//! Needs Node.js and npm (the harness runs `npm ci` in tests/fhir-server when needed).

mod common;
mod fhir_support;

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use common::{assert_spec_conformant_response, cards_of, spawn_app, test_config};
use fhir_support::real_server::FhirTestServer;
use serde_json::{json, Value};

const TOKEN: &str = "http-monitoring-token";
const BUDGET_MS: u64 = 10_000;
const CASES: [&str; 5] = [
    "ok-everything-in-order",
    "stop-vte-after-start",
    "dose-egfr-31",
    "ok-no-sle-ra",
    "reassess-two-jak",
];

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/monitoring")
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("readable")).expect("JSON")
}

/// Every "YYYY-MM-DD" value (but birth dates) moved by `shift` days.
fn shift_dates(v: &mut Value, shift: i64) {
    match v {
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                if k == "birthDate" {
                    continue;
                }
                if let Some(d) = x
                    .as_str()
                    .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                {
                    *x = json!((d + chrono::Duration::days(shift))
                        .format("%Y-%m-%d")
                        .to_string());
                } else {
                    shift_dates(x, shift);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| shift_dates(x, shift)),
        _ => {}
    }
}

/// One batch Bundle (PUT, ids prefixed per case) with the prefetch data of the cases.
fn transaction(shift: i64) -> Value {
    let mut entries = Vec::new();
    for case in CASES {
        let req = read(&fixtures().join(format!("{case}.json")));
        for (key, value) in req["prefetch"].as_object().expect("prefetch") {
            let resources: Vec<Value> = if key == "patient" {
                vec![value.clone()]
            } else {
                value["entry"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|e| e["resource"].clone())
                    .collect()
            };
            for mut r in resources {
                if r["resourceType"] != "Patient" {
                    r["id"] = json!(format!("{case}-{}", r["id"].as_str().expect("id")));
                }
                shift_dates(&mut r, shift);
                let url = format!(
                    "{}/{}",
                    r["resourceType"].as_str().expect("type"),
                    r["id"].as_str().expect("id")
                );
                entries.push(json!({"fullUrl": url, "resource": r,
                    "request": {"method": "PUT", "url": url}}));
            }
        }
    }
    // A batch: the router refuses transactions of more than 50 updates.
    json!({"resourceType": "Bundle", "type": "batch", "entry": entries})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitoring_without_prefetch_reads_the_real_server_within_the_budget() {
    let fixture_day = NaiveDate::from_ymd_opt(2026, 11, 26).expect("date");
    let shift = (chrono::Utc::now().date_naive() - fixture_day).num_days();
    let dir = tempfile::tempdir().expect("temp dir");
    let bundle = dir.path().join("monitoring.json");
    std::fs::write(&bundle, transaction(shift).to_string()).expect("write bundle");
    let server = FhirTestServer::start(&bundle, &["--page-size", "3", "--token", TOKEN]);

    let mut config = test_config();
    config.fhir.allowed_servers = vec!["http://127.0.0.1:*".into()];
    config.fhir.timeout_ms = BUDGET_MS;
    config.fhir.budget_ms = BUDGET_MS;
    let app = spawn_app(config).await;
    let expected = read(&fixtures().join("expected.json"));

    for case in CASES {
        let body = json!({
            "hook": "patient-view",
            "hookInstance": uuid::Uuid::new_v4().to_string(),
            "fhirServer": server.base,
            "fhirAuthorization": {"access_token": TOKEN, "token_type": "Bearer",
                "expires_in": 300, "scope": "patient/*.read", "subject": "jak-sle-cds"},
            "context": {"patientId": format!("mon-{case}"), "userId": "Practitioner/prac-1"},
        });
        let started = Instant::now();
        let res = app.call("jak-sle-monitor", body.to_string()).await;
        let elapsed = started.elapsed();
        let status = res.status();
        let got: Value = res.json().await.expect("JSON body");
        assert_eq!(status, 200, "{case}: {got}");
        assert_spec_conformant_response(&got);
        assert!(
            elapsed <= Duration::from_millis(BUDGET_MS),
            "{case}: {elapsed:?} is over the gather budget"
        );
        let cards: Vec<(String, String)> = cards_of(&got)
            .into_iter()
            .map(|(indicator, topic, _)| (indicator, topic))
            .collect();
        let want: Vec<(String, String)> =
            serde_json::from_value(expected[case]["cards"].clone()).expect("expected cards");
        assert_eq!(cards, want, "{case}: {got}");
        if case == "stop-vte-after-start" {
            // The hold/stop action updates the patient's own active order, read from the server.
            let action = &got["cards"][0]["suggestions"][0]["actions"][0];
            assert_eq!(action["type"], "update");
            assert_eq!(action["resource"]["id"], "stop-vte-after-start-jak");
        }
    }
}
