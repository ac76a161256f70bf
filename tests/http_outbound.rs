//! The fallback fetch seen from the edge (issue 4): the outbound guard refuses servers that
//! are not allowed before any request and never follows a redirect; prefetch values mean what
//! CDS Hooks 2.0.1 says (null: no data, no fetch; OperationOutcome or absent: fetched with the
//! request's bearer token); a required key that cannot be fetched is a 412 with a short
//! reason, answered within the configured timeout even when the FHIR server is down or hangs.

mod common;

use std::time::{Duration, Instant};

use common::{error_message, fixture_json, spawn_app, test_config, TestApp};
use serde_json::{json, Value};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SERVICE: &str = "jak-sle-order-select";
const PATIENT: &str = "smart-1288992";
const TOKEN: &str = "outbound-test-access-token-9d2f";

/// The order-select fixture with `fhirServer` and a fhirAuthorization token; `edit` changes
/// its prefetch object.
fn request(fhir_server: &str, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    let mut req = fixture_json("sandbox-r4-order-select.json");
    req["fhirServer"] = json!(fhir_server);
    req["fhirAuthorization"] = json!({"access_token": TOKEN, "token_type": "Bearer",
        "expires_in": 300, "scope": "patient/*.read", "subject": "jak-sle-cds"});
    edit(req["prefetch"].as_object_mut().unwrap());
    req
}

/// The fixture's own prefetched conditions, served as a FHIR search result.
fn conditions_bundle() -> Value {
    fixture_json("sandbox-r4-order-select.json")["prefetch"]["conditions"].clone()
}

fn operation_outcome() -> Value {
    json!({"resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "timeout", "diagnostics": "prefetch timed out"}]})
}

async fn app_allowing_loopback(timeout_ms: u64, budget_ms: u64) -> TestApp {
    let mut config = test_config();
    config.fhir.allowed_servers = vec!["http://127.0.0.1:*".into()];
    config.fhir.timeout_ms = timeout_ms;
    config.fhir.budget_ms = budget_ms;
    spawn_app(config).await
}

async fn requests_seen(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

/// A Condition search for the fixture patient, only with the request's bearer token.
async fn serve_conditions(server: &MockServer, times: u64) {
    Mock::given(method("GET"))
        .and(path("/fhir/Condition"))
        .and(query_param("patient", PATIENT))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(conditions_bundle()))
        .expect(times)
        .mount(server)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_off_the_allow_list_are_refused_before_any_request() {
    // A long timeout: an attempted connection to the metadata address would show as a wait.
    let app = app_allowing_loopback(5000, 10_000).await;
    let listener = MockServer::start().await;
    let port = listener.address().port();
    for server in [
        "http://169.254.169.254/fhir".to_string(),
        "http://169.254.169.254/latest/meta-data".to_string(),
        format!("http://localhost:{port}/fhir"),
        format!("http://user:pw@127.0.0.1:{port}/fhir"),
        format!("ftp://127.0.0.1:{port}/fhir"),
    ] {
        let req = request(&server, |p| {
            p.remove("conditions");
        });
        let started = Instant::now();
        let res = app.call(SERVICE, req.to_string()).await;
        let status = res.status().as_u16();
        assert!(
            (400..500).contains(&status) && status != 412,
            "{server}: {status}"
        );
        let msg = error_message(res).await;
        assert!(msg.contains("fhirServer"), "{server}: {msg}");
        assert!(
            started.elapsed() < Duration::from_millis(4000),
            "{server}: the refusal waited for a network timeout"
        );
    }
    assert_eq!(
        requests_seen(&listener).await,
        0,
        "a refused server was called"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_from_an_allowed_server_is_not_followed() {
    let app = app_allowing_loopback(1500, 3000).await;
    let target = MockServer::start().await;
    serve_conditions(&target, 0).await;
    let allowed = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(302).insert_header(
            "location",
            format!("{}/fhir/Condition", target.uri()).as_str(),
        ))
        .mount(&allowed)
        .await;

    let req = request(&format!("{}/fhir", allowed.uri()), |p| {
        p.remove("conditions");
    });
    let res = app.call(SERVICE, req.to_string()).await;
    assert_eq!(res.status(), 412);
    assert_eq!(
        error_message(res).await,
        "conditions: not prefetched and the FHIR query failed (HTTP 302)"
    );
    assert_eq!(requests_seen(&allowed).await, 1);
    assert_eq!(
        requests_seen(&target).await,
        0,
        "the redirect target was called"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn null_is_no_data_and_is_not_fetched() {
    let app = app_allowing_loopback(1500, 3000).await;
    let fhir = MockServer::start().await;
    let req = request(&format!("{}/fhir", fhir.uri()), |p| {
        p.insert("conditions".into(), Value::Null);
        p.insert("immunizations".into(), Value::Null);
    });
    let res = app.call(SERVICE, req.to_string()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(requests_seen(&fhir).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operation_outcome_or_an_absent_key_is_fetched_with_the_bearer_token() {
    let app = app_allowing_loopback(1500, 3000).await;
    for absent in [false, true] {
        let fhir = MockServer::start().await;
        serve_conditions(&fhir, 1).await;
        let req = request(&format!("{}/fhir", fhir.uri()), |p| {
            if absent {
                p.remove("conditions");
            } else {
                p.insert("conditions".into(), operation_outcome());
            }
        });
        let res = app.call(SERVICE, req.to_string()).await;
        assert_eq!(res.status(), 200, "absent: {absent}");
        let seen = fhir.received_requests().await.unwrap();
        assert_eq!(seen.len(), 1, "absent: {absent}: only the missing key");
        assert_eq!(seen[0].url.path(), "/fhir/Condition");
        // `expect(1)` of the token-matching mock is verified when `fhir` drops.
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_fetch_of_a_required_key_is_412_with_a_short_reason() {
    let app = app_allowing_loopback(1500, 3000).await;
    let fhir = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/fhir/Condition"))
        .respond_with(ResponseTemplate::new(500).set_body_json(operation_outcome()))
        .expect(1)
        .mount(&fhir)
        .await;
    let req = request(&format!("{}/fhir", fhir.uri()), |p| {
        p.remove("conditions");
    });
    let res = app.call(SERVICE, req.to_string()).await;
    assert_eq!(res.status(), 412);
    let msg = error_message(res).await;
    assert_eq!(
        msg,
        "conditions: not prefetched and the FHIR query failed (HTTP 500)"
    );
    assert!(!msg.contains(PATIENT) && !msg.contains(TOKEN));

    // A key that is not required only withholds the facts it carries: still 200.
    let fhir = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/fhir/Immunization"))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&fhir)
        .await;
    let req = request(&format!("{}/fhir", fhir.uri()), |p| {
        p.remove("immunizations");
    });
    assert_eq!(app.call(SERVICE, req.to_string()).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_or_hanging_fhir_server_gets_a_bounded_412() {
    let app = app_allowing_loopback(500, 1000).await;

    // A closed port: connection refused.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let req = request(&format!("http://127.0.0.1:{closed}/fhir"), |p| {
        p.remove("conditions");
        p.remove("medications");
    });
    let started = Instant::now();
    let res = app.call(SERVICE, req.to_string()).await;
    assert_eq!(res.status(), 412);
    assert_eq!(
        error_message(res).await,
        "conditions: not prefetched and the FHIR query failed (connection failed)"
    );
    assert!(started.elapsed() < Duration::from_secs(4));

    // A server that accepts and never answers: bounded by timeout_ms.
    let hanging = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&hanging)
        .await;
    let req = request(&format!("{}/fhir", hanging.uri()), |p| {
        p.remove("conditions");
    });
    let started = Instant::now();
    let res = app.call(SERVICE, req.to_string()).await;
    let elapsed = started.elapsed();
    assert_eq!(res.status(), 412);
    assert_eq!(
        error_message(res).await,
        "conditions: not prefetched and the FHIR query failed (timeout)"
    );
    assert!(
        elapsed >= Duration::from_millis(450) && elapsed < Duration::from_millis(4000),
        "answered after {elapsed:?}"
    );
}
