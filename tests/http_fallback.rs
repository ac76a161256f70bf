//! The whole hook call against a FHIR server: a draft order whose `medicationReference`
//! points to a Medication that is neither in draftOrders nor contained is read from the
//! client's FHIR server (with its bearer token) before the engine runs.

mod common;

use common::{fixture_json, spawn_app, test_config};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn medication_reference_is_read_from_the_fhir_server() {
    let fhir = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/fhir/Medication/med-bari"))
        .and(header("authorization", "Bearer fhir-token-abc"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "resourceType": "Medication", "id": "med-bari",
            "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                  "code": "2047232", "display": "baricitinib"}],
                     "text": "baricitinib 4 MG Oral Tablet"}
        })))
        .expect(1)
        .mount(&fhir)
        .await;

    let mut config = test_config();
    config.fhir.allowed_servers = vec!["http://127.0.0.1:*".into()];
    let app = spawn_app(config).await;

    let mut req = fixture_json("sandbox-r4-order-sign.json");
    req["fhirServer"] = json!(format!("{}/fhir", fhir.uri()));
    req["fhirAuthorization"] = json!({"access_token": "fhir-token-abc", "token_type": "Bearer",
        "expires_in": 300, "scope": "user/Medication.read", "subject": "jak-sle-cds"});
    let draft = &mut req["context"]["draftOrders"]["entry"][0]["resource"];
    draft
        .as_object_mut()
        .unwrap()
        .remove("medicationCodeableConcept");
    draft["medicationReference"] = json!({"reference": "Medication/med-bari"});

    let res = app.call("jak-sle-order-sign", req.to_string()).await;
    assert_eq!(res.status(), 200);
    // `expect(1)` is verified when the mock server drops: the Medication was read once.
}
