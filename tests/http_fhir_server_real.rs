//! Each hook (order-select, order-sign, legacy medication-prescribe) through HTTP with no
//! prefetch at all, against a real FHIR server (Medplum's router over its in-memory
//! repository, loaded with fixtures/fhir-server/two-patients.json; see
//! tests/fhir_support/real_server.rs): everything is fetched with the request's bearer
//! token, and the cards speak of the SLE patient's own record — never of the other patient's.
//! Needs Node.js and npm (the harness runs `npm ci` in tests/fhir-server when needed).

mod common;
mod fhir_support;

use std::path::Path;

use common::{assert_spec_conformant_response, spawn_app, test_config, TestApp};
use fhir_support::real_server::FhirTestServer;
use serde_json::{json, Value};

const TOKEN: &str = "http-real-server-token";

/// A hook call for `patient` with one draft order of `drug` (RxNorm code, text), no prefetch.
fn call(hook: &str, patient: &str, fhir_server: &str, drug: (&str, &str)) -> Value {
    let draft = json!({
        "resourceType": "MedicationRequest", "id": "draft-jak-1", "status": "draft",
        "intent": "order", "subject": {"reference": format!("Patient/{patient}")},
        "authoredOn": "2026-11-26",
        "medicationCodeableConcept": {"text": drug.1, "coding": [{
            "system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": drug.0, "display": drug.1}]},
        "dosageInstruction": [{"timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
            "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet",
                "system": "http://unitsofmeasure.org", "code": "{tbl}"}}]}]
    });
    let mut context = json!({"userId": "Practitioner/prac-1", "patientId": patient});
    if hook == "medication-prescribe" {
        // CDS Hooks 1.0: the orders in `context.medications`.
        context["medications"] = json!([draft]);
    } else {
        context["draftOrders"] = json!({"resourceType": "Bundle", "type": "collection",
                                        "entry": [{"resource": draft}]});
    }
    if hook == "order-select" {
        context["selections"] = json!(["MedicationRequest/draft-jak-1"]);
    }
    json!({
        "hook": hook,
        "hookInstance": uuid::Uuid::new_v4().to_string(),
        "fhirServer": fhir_server,
        "fhirAuthorization": {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 300,
            "scope": "patient/*.read", "subject": "jak-sle-cds"},
        "context": context,
    })
}

async fn cards(app: &TestApp, service: &str, body: &Value) -> Vec<Value> {
    let res = app.call(service, body.to_string()).await;
    let status = res.status();
    let body: Value = res.json().await.expect("JSON body");
    assert_eq!(status, 200, "{service}: {body}");
    assert_spec_conformant_response(&body);
    body["cards"].as_array().cloned().unwrap_or_default()
}

fn all_text(cards: &[Value]) -> String {
    cards
        .iter()
        .map(|c| {
            format!(
                "{}\n{}",
                c["summary"],
                c["detail"].as_str().unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// "Type/id" of every resource of `patient` on the server.
async fn references_of(server: &FhirTestServer, patient: &str) -> Vec<String> {
    let client = reqwest::Client::new();
    let mut out = Vec::new();
    for kind in [
        "Condition",
        "Observation",
        "MedicationRequest",
        "Immunization",
    ] {
        let url = format!("{}/{kind}?patient={patient}&_count=100", server.base);
        let bundle: Value = client
            .get(url)
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("search")
            .json()
            .await
            .expect("search JSON");
        for entry in bundle["entry"].as_array().into_iter().flatten() {
            let id = entry["resource"]["id"].as_str().expect("resource id");
            out.push(format!("{kind}/{id}"));
        }
    }
    assert!(!out.is_empty(), "no resources for the patient");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_hook_without_prefetch_reads_the_real_server_for_the_right_patient() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fhir-server/two-patients.json");
    let server = FhirTestServer::start(&fixture, &["--page-size", "2", "--token", TOKEN]);
    let sle = server.patient_id(TOKEN, "sle-0001").await;
    let other = server.patient_id(TOKEN, "other-0002").await;
    let own = references_of(&server, &sle).await;
    let others = references_of(&server, &other).await;

    let mut config = test_config();
    config.fhir.allowed_servers = vec!["http://127.0.0.1:*".into()];
    config.fhir.timeout_ms = 10_000;
    config.fhir.budget_ms = 30_000;
    let app = spawn_app(config).await;

    for (service, hook) in [
        ("jak-sle-order-select", "order-select"),
        ("jak-sle-order-sign", "order-sign"),
        ("jak-sle-medication-prescribe", "medication-prescribe"),
    ] {
        for (code, text, name) in [
            ("2047232", "baricitinib 4 MG Oral Tablet", "Baricitinib"),
            ("1357536", "tofacitinib 5 MG Oral Tablet", "Tofacitinib"),
        ] {
            let label = format!("{service} {text}");
            let got = cards(&app, service, &call(hook, &sle, &server.base, (code, text))).await;
            // The SLE patient's DVT (resolved, still VTE history) contraindicates the JAKi.
            assert_eq!(got[0]["indicator"], "critical", "{label}");
            assert_eq!(
                got[0]["source"]["topic"]["code"], "jaki-sle-contraindicated",
                "{label}"
            );
            let summary = got[0]["summary"].as_str().unwrap();
            assert!(
                summary.starts_with(name) && summary.contains("VTE history"),
                "{label}: {summary}"
            );
            // The detail names the patient's own records, read from the server (by what they
            // say: since knowledge.md v2 no FHIR id appears where a clinician reads).
            let text = all_text(&got);
            assert!(
                text.contains("Deep venous thrombosis") && text.contains("eGFR 52"),
                "{label}: {text}"
            );
            let ids: Vec<&String> = own.iter().filter(|r| text.contains(r.as_str())).collect();
            assert!(ids.is_empty(), "{label}: FHIR ids in the card text {ids:?}");
            // ... and nothing of the other patient's.
            let leaked: Vec<&String> = others
                .iter()
                .filter(|r| text.contains(r.as_str()))
                .collect();
            assert!(leaked.is_empty(), "{label}: cites {leaked:?}");
            for theirs in ["Rheumatoid", "eGFR 95", "Influenza"] {
                assert!(!text.contains(theirs), "{label}: {theirs:?} in\n{text}");
            }
        }
        // The other patient has no SLE: no cards, whatever is ordered.
        let got = cards(
            &app,
            service,
            &call(hook, &other, &server.base, ("2047232", "baricitinib")),
        )
        .await;
        assert!(got.is_empty(), "{service}: {got:?}");
    }
}
