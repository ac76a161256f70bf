//! Prometheus metrics on their own listener: after a hook call (one prefetch key fetched from
//! a FHIR server), a refused token and a feedback item, `/metrics` on the metrics port shows
//! every family with its labels and no patient data; the API port has no `/metrics`.

mod common;
mod ops_support;

use common::test_config;
use jak_sle_cds::server::pipeline::load_knowledge;
use jak_sle_cds::server::Application;
use ops_support::{fhir_serving_conditions, request_fetching_conditions};
use serde_json::json;

const SERVICE: &str = "jak-sle-order-select";
const PATIENT: &str = "smart-1288992";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_families_on_their_own_port_only() {
    let fhir = fhir_serving_conditions().await;
    let mut config = test_config();
    config.fhir.allowed_servers = vec!["http://127.0.0.1:*".into()];
    config.metrics.listen = Some("127.0.0.1:0".parse().unwrap());
    let knowledge = load_knowledge(&config).unwrap();
    let app = Application::build(config, knowledge).await.unwrap();
    let api = format!("http://127.0.0.1:{}", app.port());
    let metrics_port = app.metrics_port().expect("metrics listener");
    assert_ne!(metrics_port, app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let url = |p: &str| format!("{api}{p}");

    // A hook call whose conditions are fetched.
    let req = request_fetching_conditions(&fhir);
    let call = url(&format!("/cds-services/{SERVICE}"));
    let res = client
        .post(&call)
        .bearer_auth(common::sandbox_token(&call))
        .json(&req)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cards: serde_json::Value = res.json().await.unwrap();
    let card = cards["cards"][0]["uuid"]
        .as_str()
        .expect("a card")
        .to_string();
    // A refused token.
    let res = client.post(&call).json(&req).send().await.unwrap();
    assert_eq!(res.status(), 401);
    // Feedback on the card.
    let feedback = url(&format!("/cds-services/{SERVICE}/feedback"));
    let res = client
        .post(&feedback)
        .bearer_auth(common::sandbox_token(&feedback))
        .json(&json!({"feedback": [{"card": card, "outcome": "overridden",
            "outcomeTimestamp": "2026-12-02T10:00:00Z"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let text = client
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for expected in [
        "# TYPE http_server_request_duration_seconds histogram",
        "http_server_request_duration_seconds_count{http_request_method=\"POST\",http_response_status_code=\"200\",http_route=\"/cds-services/{id}\"}",
        "http_response_status_code=\"401\",http_route=\"/cds-services/{id}\"",
        "cds_cards_total{indicator=",
        &format!("mode=\"live\",service=\"{SERVICE}\",topic="),
        "cds_prefetch_keys_total{key=\"conditions\",outcome=\"fetched\"} ",
        "cds_prefetch_keys_total{key=\"medications\",outcome=\"prefetched\"} ",
        "cds_fhir_request_duration_seconds_count{query=\"conditions\"} ",
        "cds_auth_failures_total{reason=\"missing_token\"} ",
        "cds_audit_dropped_total 0",
        "cds_feedback_total{outcome=\"overridden\"} 1",
    ] {
        assert!(text.contains(expected), "{expected} missing in\n{text}");
    }
    assert!(!text.contains(PATIENT), "patient id in a label:\n{text}");
    assert!(!text.contains(&fhir.uri()), "FHIR URL in a label:\n{text}");

    // Not on the API port.
    let res = client.get(url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 404);
}
