//! Only the hook's patient feeds the rules (issue 9, failures 3 and 4), over HTTP.
//!
//! 3. A pulmonary embolism whose subject is not exactly this patient's literal reference
//!    (`" Patient/x"`, `"patient/x"`, `"Patient/<this>/../other"`, another server's URL, ...)
//!    must not drive the critical card it drives when it is this patient's.
//! 4. When the patient filter empties a required key (a FHIR server that ignores `patient=`,
//!    a prefetch of the wrong patient), the call must not answer 200 with no cards: the key is
//!    fetched, and 412 when it cannot be; the removal is counted in the audit record.

mod common;

use common::{eventually, spawn_app, store_sql, test_config, TestApp};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SERVICE: &str = "jak-sle-order-sign";
const PATIENT: &str = "pat-contra-vte-active";

/// The clinical fixture with an active pulmonary embolism (critical card when it counts).
fn vte_request() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/patients/contra-vte-active.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The conditions' entries of `req`, to alter.
fn conditions(req: &mut Value) -> &mut Vec<Value> {
    req["prefetch"]["conditions"]["entry"]
        .as_array_mut()
        .unwrap()
}

fn set_pe_subject(req: &mut Value, reference: &str) {
    let pe = conditions(req)
        .iter_mut()
        .find(|e| e["resource"]["id"] == "pe")
        .expect("the fixture has the PE");
    pe["resource"]["subject"] = json!({ "reference": reference });
}

/// (status, topic/indicator pairs) of one call.
async fn call(app: &TestApp, req: &Value) -> (u16, Vec<(String, String)>, Value) {
    let res = app.call(SERVICE, req.to_string()).await;
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    let cards = body["cards"]
        .as_array()
        .map(|cards| {
            cards
                .iter()
                .map(|c| {
                    (
                        c["source"]["topic"]["code"]
                            .as_str()
                            .unwrap_or("")
                            .to_string(),
                        c["indicator"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (status, cards, body)
}

fn is_critical(cards: &[(String, String)]) -> bool {
    cards.iter().any(|(_, indicator)| indicator == "critical")
}

#[tokio::test]
async fn a_resource_not_exactly_of_this_patient_never_drives_a_card() {
    let app = spawn_app(test_config()).await;
    // The control: this patient's PE gives the critical card.
    let (status, cards, _) = call(&app, &vte_request()).await;
    assert_eq!(status, 200);
    assert!(is_critical(&cards), "{cards:?}");
    for reference in [
        " Patient/other-patient".to_string(),
        "patient/other-patient".to_string(),
        format!("Patient/{PATIENT}/../other-patient"),
        format!(" Patient/{PATIENT}"),
        format!("patient/{PATIENT}"),
        format!("Patient/{PATIENT}/_history/1/../../other"),
        format!("https://other-ehr.example/fhir/Patient/{PATIENT}"),
        format!("Patient/{PATIENT}?x=1"),
        "Patient/other-patient".to_string(),
        "urn:uuid:5b0e9d1c-0000-4000-8000-000000000001".to_string(),
    ] {
        let mut req = vte_request();
        set_pe_subject(&mut req, &reference);
        let (status, cards, body) = call(&app, &req).await;
        assert_eq!(status, 200, "{reference:?}: {body}");
        assert!(!is_critical(&cards), "{reference:?} drove {cards:?}");
    }
    // This patient's reference with a version, or as an absolute URL on the request's own
    // FHIR server, is this patient's.
    let mut req = vte_request();
    req["fhirServer"] = json!("https://ehr.example/fhir");
    set_pe_subject(
        &mut req,
        &format!("https://ehr.example/fhir/Patient/{PATIENT}"),
    );
    let (status, cards, _) = call(&app, &req).await;
    assert_eq!(status, 200);
    assert!(is_critical(&cards), "{cards:?}");
    let mut req = vte_request();
    set_pe_subject(&mut req, &format!("Patient/{PATIENT}/_history/2"));
    assert!(is_critical(&call(&app, &req).await.1));
}

/// Every Condition of the fixture given to another patient.
fn only_other_patients_conditions(mut req: Value) -> Value {
    for entry in conditions(&mut req) {
        entry["resource"]["subject"] = json!({"reference": "Patient/other-patient"});
    }
    req
}

async fn removed_in_audit(app_config: &jak_sle_cds::config::Config, hook_instance: &str) -> i64 {
    let pool = store_sql(app_config).await;
    let hi = hook_instance.to_string();
    eventually("the audit record", || {
        let (pool, hi) = (pool.clone(), hi.clone());
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT removed_other_patients FROM audit WHERE hook_instance = $1",
            )
            .bind(hi)
            .fetch_optional(&pool)
            .await
            .expect("audit query")
        }
    })
    .await
}

#[tokio::test]
async fn a_required_key_emptied_by_the_filter_is_fetched_or_412() {
    // The FHIR server answers the conditions query with this patient's conditions.
    let fhir = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/fhir/Condition"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(vte_request()["prefetch"]["conditions"].clone()),
        )
        .mount(&fhir)
        .await;
    // This one ignores `patient=` and answers with another patient's conditions.
    let careless = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/fhir/Condition"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            only_other_patients_conditions(vte_request())["prefetch"]["conditions"].clone(),
        ))
        .mount(&careless)
        .await;

    let mut config = test_config();
    config.fhir.allowed_servers = vec!["http://127.0.0.1:*".into()];
    let app = spawn_app(config.clone()).await;

    // No fhirServer: the emptied key cannot be fetched.
    let mut req = only_other_patients_conditions(vte_request());
    req["hookInstance"] = json!("scope-412-no-server");
    let (status, cards, body) = call(&app, &req).await;
    assert_eq!(status, 412, "{cards:?} {body}");
    let msg = body["error"].as_str().unwrap();
    assert!(msg.starts_with("conditions:"), "{msg}");
    assert!(msg.contains("other patients"), "{msg}");
    assert!(!msg.contains("other-patient"), "{msg}");
    assert_eq!(removed_in_audit(&config, "scope-412-no-server").await, 2);

    // A usable FHIR server: the key is fetched and the patient's own PE counts.
    let mut req = only_other_patients_conditions(vte_request());
    req["hookInstance"] = json!("scope-refetched");
    req["fhirServer"] = json!(format!("{}/fhir", fhir.uri()));
    let (status, cards, body) = call(&app, &req).await;
    assert_eq!(status, 200, "{body}");
    assert!(is_critical(&cards), "{cards:?}");
    assert_eq!(fhir.received_requests().await.unwrap().len(), 1);
    assert_eq!(removed_in_audit(&config, "scope-refetched").await, 2);

    // A FHIR server that ignores patient= as well: 412.
    let mut req = only_other_patients_conditions(vte_request());
    req["hookInstance"] = json!("scope-412-careless");
    req["fhirServer"] = json!(format!("{}/fhir", careless.uri()));
    let (status, _, body) = call(&app, &req).await;
    assert_eq!(status, 412, "{body}");
    assert_eq!(removed_in_audit(&config, "scope-412-careless").await, 4);

    // Nothing removed: 0 in the audit.
    let mut req = vte_request();
    req["hookInstance"] = json!("scope-clean");
    assert_eq!(call(&app, &req).await.0, 200);
    assert_eq!(removed_in_audit(&config, "scope-clean").await, 0);
}
