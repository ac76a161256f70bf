//! Traces: a caller's W3C `traceparent` is continued — the FHIR fallback request carries the
//! same trace id with this service's span as parent — and the request's log lines name the
//! trace id; without a `traceparent` a new trace starts and is propagated the same way.
//!
//! The subscriber is process-global, so this file holds exactly one test.

mod common;
mod ops_support;

use common::{spawn_app, test_config, TestApp};
use jak_sle_cds::server::telemetry;
use ops_support::{fhir_serving_conditions, request_fetching_conditions, Captured};
use serde_json::Value;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

/// (trace id, parent id, flags) of a well-formed version-00 traceparent.
fn parse(traceparent: &str) -> (String, String, String) {
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    assert_eq!(parts[0], "00");
    assert!(
        parts[1].len() == 32 && parts[2].len() == 16,
        "{traceparent}"
    );
    assert!(traceparent[3..]
        .chars()
        .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    assert_ne!(parts[1], "0".repeat(32));
    assert_ne!(parts[2], "0".repeat(16));
    (parts[1].into(), parts[2].into(), parts[3].into())
}

/// POST the request to order-select, with a `traceparent` when given; the status.
async fn call(app: &TestApp, req: &Value, traceparent: Option<&str>) -> u16 {
    let url = app.url("/cds-services/jak-sle-order-select");
    let mut post = app
        .client
        .post(&url)
        .bearer_auth(common::sandbox_token(&url))
        .json(req);
    if let Some(t) = traceparent {
        post = post.header("traceparent", t);
    }
    post.send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callers_trace_reaches_the_fhir_server_and_the_log() {
    let captured = Captured::default();
    let writer = captured.clone();
    let _telemetry = telemetry::init_with_writer(move || writer.clone(), false);

    let fhir = fhir_serving_conditions().await;
    let mut config = test_config();
    config.fhir.allowed_servers = vec!["http://127.0.0.1:*".into()];
    let app = spawn_app(config).await;
    let req = request_fetching_conditions(&fhir);
    let traceparent = format!("00-{TRACE_ID}-{CALLER_SPAN}-01");
    assert_eq!(call(&app, &req, Some(&traceparent)).await, 200);
    let seen = fhir.received_requests().await.unwrap();
    assert_eq!(seen.len(), 1);
    let traceparent = seen[0]
        .headers
        .get("traceparent")
        .expect("the FHIR request carries a traceparent")
        .to_str()
        .unwrap();
    let (trace, parent, flags) = parse(traceparent);
    assert_eq!(trace, TRACE_ID, "the caller's trace is continued");
    assert_ne!(parent, CALLER_SPAN, "this service's own span is the parent");
    assert_eq!(flags, "01");

    // The request's log lines name the trace.
    let log = captured.text();
    let line = log
        .lines()
        .find(|l| l.contains("hook call"))
        .unwrap_or_else(|| panic!("no hook call line in\n{log}"));
    assert!(line.contains(&format!("trace_id={TRACE_ID}")), "{line}");

    // Without a traceparent: a new trace, propagated too.
    assert_eq!(call(&app, &req, None).await, 200);
    let seen = fhir.received_requests().await.unwrap();
    let fresh = seen[1].headers.get("traceparent").expect("traceparent");
    let (trace, _, _) = parse(fresh.to_str().unwrap());
    assert_ne!(trace, TRACE_ID);
}
