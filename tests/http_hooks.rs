//! Service calls: each hook with the protocol fixtures, and every refusal the edge makes
//! (400, 404, 412, 413) with a JSON error naming the problem.

mod common;

use common::{
    assert_spec_conformant_response, error_message, fixture, fixture_json, spawn_app, test_config,
};
use serde_json::Value;

const FIXTURES: [(&str, &str); 7] = [
    ("jak-sle-order-select", "sandbox-r4-order-select.json"),
    ("jak-sle-order-select", "sandbox-dstu2-order-select.json"),
    ("jak-sle-order-sign", "sandbox-r4-order-sign.json"),
    ("jak-sle-order-select", "epic-order-select.json"),
    ("jak-sle-order-sign", "epic-order-sign.json"),
    (
        "jak-sle-medication-prescribe",
        "legacy-medication-prescribe.json",
    ),
    ("jak-sle-monitor", "sandbox-patient-view.json"),
];

#[tokio::test]
async fn every_fixture_gets_200_with_a_conformant_cards_response() {
    let app = spawn_app(test_config()).await;
    for (service, name) in FIXTURES {
        let res = app.call(service, fixture(name)).await;
        assert_eq!(res.status(), 200, "{name}");
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"));
        let body: Value = res.json().await.unwrap();
        assert!(body["cards"].is_array(), "{name}: {body}");
        assert_spec_conformant_response(&body);
    }
}

#[tokio::test]
async fn doubled_slash_in_the_service_url_is_accepted() {
    let app = spawn_app(test_config()).await;
    let res = app
        .post(
            "/cds-services//jak-sle-order-sign",
            fixture("sandbox-r4-order-sign.json"),
        )
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn missing_required_prefetch_without_fhir_server_is_412() {
    let app = spawn_app(test_config()).await;
    let mut req = fixture_json("sandbox-r4-order-select.json");
    let obj = req.as_object_mut().unwrap();
    obj.remove("fhirServer");
    obj["prefetch"]
        .as_object_mut()
        .unwrap()
        .remove("conditions");
    let res = app.call("jak-sle-order-select", req.to_string()).await;
    assert_eq!(res.status(), 412);
    error_message(res).await;
}

#[tokio::test]
async fn malformed_and_wrongly_shaped_requests_are_400_naming_the_problem() {
    let app = spawn_app(test_config()).await;
    let base = fixture_json("sandbox-r4-order-sign.json");
    let with = |f: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut v = base.clone();
        f(v.as_object_mut().unwrap());
        v.to_string()
    };
    let cases: Vec<(String, &str)> = vec![
        ("{\"hook\": ".to_string(), "line 1"),
        ("[1, 2]".to_string(), "request body"),
        (
            with(&|o| {
                o.remove("hookInstance");
            }),
            "hookInstance",
        ),
        (
            with(&|o| {
                o.insert("hookInstance".into(), Value::from(42));
            }),
            "line",
        ),
        (
            with(&|o| {
                o.remove("hook");
            }),
            "hook",
        ),
        (
            with(&|o| {
                o.insert("context".into(), Value::from("patient"));
            }),
            "line",
        ),
        (
            with(&|o| {
                o.remove("context");
            }),
            "context",
        ),
        (
            with(&|o| {
                o.insert("hook".into(), Value::from("order-select"));
            }),
            "does not match",
        ),
        (
            with(&|o| {
                o["context"].as_object_mut().unwrap().remove("patientId");
            }),
            "context.patientId",
        ),
        (
            with(&|o| {
                o["context"]["patientId"] = Value::from(12);
            }),
            "context.patientId",
        ),
        (
            with(&|o| {
                o["context"]["draftOrders"] = Value::from(true);
            }),
            "context.draftOrders",
        ),
        (
            with(&|o| {
                o.remove("fhirServer");
                o.insert(
                    "fhirAuthorization".into(),
                    serde_json::json!({"access_token": "t"}),
                );
            }),
            "fhirServer",
        ),
    ];
    for (body, needle) in cases {
        let res = app.call("jak-sle-order-sign", body.clone()).await;
        assert_eq!(res.status(), 400, "{body:.120}");
        let msg = error_message(res).await;
        assert!(msg.contains(needle), "{needle:?} not in {msg:?}");
    }
}

#[tokio::test]
async fn order_select_selections_must_be_strings() {
    let app = spawn_app(test_config()).await;
    let mut req = fixture_json("sandbox-r4-order-select.json");
    req["context"]["selections"] =
        serde_json::json!([{"reference": "MedicationRequest/request-123"}]);
    let res = app.call("jak-sle-order-select", req.to_string()).await;
    assert_eq!(res.status(), 400);
    assert!(error_message(res).await.contains("context.selections"));
}

#[tokio::test]
async fn error_messages_do_not_echo_patient_data() {
    let app = spawn_app(test_config()).await;
    let mut req = fixture_json("sandbox-r4-order-sign.json");
    req["hookInstance"] = Value::from(["Jane Doe"].as_slice());
    let res = app.call("jak-sle-order-sign", req.to_string()).await;
    assert_eq!(res.status(), 400);
    assert!(!error_message(res).await.contains("Jane"));
}

#[tokio::test]
async fn body_over_max_body_bytes_is_413() {
    let mut config = test_config();
    config.server.max_body_bytes = 4_000;
    let app = spawn_app(config).await;
    let res = app
        .call("jak-sle-order-sign", fixture("sandbox-r4-order-sign.json"))
        .await;
    assert_eq!(res.status(), 413);
    let small = r#"{"hook":"order-sign","hookInstance":"h","context":{"patientId":"p"},
        "prefetch":{"conditions":null,"medications":null}}"#;
    assert_eq!(app.call("jak-sle-order-sign", small).await.status(), 200);
}

#[tokio::test]
async fn unknown_service_is_404() {
    let app = spawn_app(test_config()).await;
    let res = app
        .call("no-such-service", fixture("sandbox-r4-order-sign.json"))
        .await;
    assert_eq!(res.status(), 404);
    assert!(error_message(res).await.contains("unknown CDS service"));
}

#[tokio::test]
async fn unknown_fields_extensions_and_null_prefetch_are_tolerated() {
    let app = spawn_app(test_config()).await;
    let mut req = fixture_json("sandbox-r4-order-sign.json");
    req["extension"] = serde_json::json!({"org.example.flag": true});
    req["context"]["org.example.something"] = serde_json::json!([1, 2]);
    req["prefetch"]["labs"] = Value::Null;
    // The sandbox clears the drug while the user types: a draft without medication[x].
    req["context"]["draftOrders"]["entry"][0]["resource"]
        .as_object_mut()
        .unwrap()
        .remove("medicationCodeableConcept");
    let res = app.call("jak-sle-order-sign", req.to_string()).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_spec_conformant_response(&body);
}
