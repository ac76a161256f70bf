//! Discovery, health, routing (404/405, trailing and doubled slashes) and CORS.

mod common;

use common::{assert_spec_conformant_discovery, spawn_app, test_config};
use serde_json::Value;

#[tokio::test]
async fn discovery_lists_every_service_without_internal_fields() {
    let app = spawn_app(test_config()).await;
    let res = app.get("/cds-services").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let body: Value = res.json().await.unwrap();
    assert_spec_conformant_discovery(&body);
    let services = body["services"].as_array().unwrap();
    let pairs: Vec<(&str, &str)> = services
        .iter()
        .map(|s| (s["id"].as_str().unwrap(), s["hook"].as_str().unwrap()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("jak-sle-order-select", "order-select"),
            ("jak-sle-order-sign", "order-sign"),
            ("jak-sle-medication-prescribe", "medication-prescribe"),
            ("jak-sle-monitor", "patient-view"),
        ]
    );
    for s in services {
        assert!(s.get("required").is_none(), "internal key sent: {s}");
        let prefetch = s["prefetch"].as_object().unwrap();
        assert_eq!(
            prefetch["patient"], "Patient/{{context.patientId}}",
            "prefetch templates use CDS Hooks tokens"
        );
        assert!(prefetch.contains_key("conditions") && prefetch.contains_key("medications"));
    }
}

#[tokio::test]
async fn discovery_answers_with_a_trailing_slash_and_refuses_post() {
    let app = spawn_app(test_config()).await;
    assert_eq!(app.get("/cds-services/").await.status(), 200);
    let res = app.post("/cds-services", "{}").await;
    assert_eq!(res.status(), 405);
    assert_eq!(common::error_message(res).await, "method not allowed");
}

#[tokio::test]
async fn health_and_unknown_paths() {
    let app = spawn_app(test_config()).await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(app.get("/nothing-here").await.status(), 404);
    assert_eq!(
        app.get("/cds-services/jak-sle-order-sign").await.status(),
        405
    );
}

#[tokio::test]
async fn cors_preflight_allows_headers_methods_and_private_network() {
    let app = spawn_app(test_config()).await;
    let res = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            app.url("/cds-services/jak-sle-order-select"),
        )
        .header("Origin", "https://sandbox.cds-hooks.org")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization, content-type",
        )
        .header("Access-Control-Request-Private-Network", "true")
        .send()
        .await
        .unwrap();
    assert!(
        res.status().is_success(),
        "preflight status {}",
        res.status()
    );
    let h = res.headers();
    let get = |name: &str| {
        h.get(name)
            .unwrap_or_else(|| panic!("missing {name}"))
            .to_str()
            .unwrap()
            .to_ascii_lowercase()
    };
    assert_eq!(
        get("access-control-allow-origin"),
        "https://sandbox.cds-hooks.org"
    );
    let methods = get("access-control-allow-methods");
    for m in ["get", "post", "options"] {
        assert!(methods.contains(m), "{methods}");
    }
    let headers = get("access-control-allow-headers");
    assert!(headers.contains("authorization") && headers.contains("content-type"));
    assert_eq!(get("access-control-allow-private-network"), "true");
}

#[tokio::test]
async fn cors_headers_on_actual_responses() {
    let app = spawn_app(test_config()).await;
    let res = app
        .client
        .get(app.url("/cds-services"))
        .bearer_auth(common::sandbox_token(&app.url("/cds-services")))
        .header("Origin", "https://ehr.example.org")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://ehr.example.org"
    );
}
