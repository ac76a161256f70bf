//! The CDS Hooks sandbox demo (docs/sandbox.md), end to end, so the cards the documentation
//! promises are the cards the service gives.
//!
//! The demo Bundle is rebuilt for today (`python3 scripts/build-demo.py <today> --out …`, the
//! same script as the committed fixtures/demo/jak-sle-demo.json), loaded into the real FHIR
//! test server (tests/fhir-server, as a PUT transaction), and the service is called over HTTP
//! exactly as the sandbox calls it: a sandbox-signed JWT, a sandbox-shaped draft
//! MedicationRequest of tofacitinib 5 MG (RxNorm 1357541) or ruxolitinib 5 MG (1193339),
//! order-select without prefetch or with only the patient, order-sign without prefetch or with
//! every key filled. Each patient × drug must give the documented cards (indicator, topic,
//! summary) in every variant, and every documented summary must appear verbatim in
//! docs/sandbox.md. Needs Node.js/npm (see
//! tests/fhir_server_real.rs) and python3.

mod common;
mod fhir_support;

use std::path::{Path, PathBuf};

use common::{assert_spec_conformant_response, cards_of, spawn_app, test_config, TestApp};
use fhir_support::real_server::FhirTestServer;
use fhir_support::{build_demo_bundle, full_prefetch};
use serde_json::{json, Value};

const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
const DOC_HEADING: &str = "# Try it in the CDS Hooks sandbox";

/// A drug as the sandbox's medication list offers it.
struct SandboxDrug {
    code: &'static str,
    text: &'static str,
}

const TOFACITINIB: SandboxDrug = SandboxDrug {
    code: "1357541",
    text: "tofacitinib 5 MG Oral Tablet",
};
const RUXOLITINIB: SandboxDrug = SandboxDrug {
    code: "1193339",
    text: "ruxolitinib 5 MG Oral Tablet",
};

/// One expected card: indicator, topic code, summary (verbatim).
type Expected = (&'static str, &'static str, &'static str);

/// What docs/sandbox.md promises for each demo patient and sandbox drug.
fn expected(patient: &str, drug: &SandboxDrug) -> Vec<Expected> {
    let tofa = drug.code == TOFACITINIB.code;
    match patient {
        "jak-demo-vte" => vec![(
            "critical",
            "jaki-sle-contraindicated",
            if tofa {
                "Tofacitinib: do not start: VTE history"
            } else {
                "Ruxolitinib: do not start: VTE history"
            },
        )],
        "jak-demo-early" => vec![
            (
                "warning",
                "jaki-sle-not-recommended",
                if tofa {
                    "Tofacitinib not recommended: no SLE efficacy data, standard therapies not exhausted, no refractory-disease criterion"
                } else {
                    "Ruxolitinib not recommended: no SLE efficacy data, standard therapies not exhausted, no refractory-disease criterion"
                },
            ),
            (
                "warning",
                "jaki-pre-treatment-screening",
                if tofa {
                    "Before starting tofacitinib: TB screening, hepatitis screening, pregnancy test, zoster vaccine"
                } else {
                    "Before starting ruxolitinib: TB screening, hepatitis screening, pregnancy test, zoster vaccine"
                },
            ),
        ],
        "jak-demo-refrac" => vec![
            (
                "warning",
                "jaki-sle-not-recommended",
                if tofa {
                    "Tofacitinib not recommended: no SLE efficacy data"
                } else {
                    "Ruxolitinib not recommended: no SLE efficacy data"
                },
            ),
            (
                "warning",
                "jaki-pre-treatment-screening",
                if tofa {
                    "Before starting tofacitinib: hepatitis screening, pregnancy test, zoster vaccine"
                } else {
                    "Before starting ruxolitinib: hepatitis screening, pregnancy test, zoster vaccine"
                },
            ),
        ],
        other => panic!("no expectation for {other}"),
    }
}

/// The baricitinib order of fixtures/demo/refrac-baricitinib-order-select.json (not in the
/// sandbox's medication list; shown with `evaluate`).
const BARICITINIB_REFRAC: [Expected; 3] = [
    (
        "warning",
        "jaki-dose-adjustment",
        "Baricitinib: reduce to 2 mg once daily (eGFR 50)",
    ),
    (
        "warning",
        "jaki-pre-treatment-screening",
        "Before starting baricitinib: hepatitis screening, pregnancy test, zoster vaccine",
    ),
    (
        "info",
        "jaki-sle-conditional",
        "Baricitinib off-label for refractory SLE may be considered: criteria met, conditions apply",
    ),
];

/// Suggestion labels docs/sandbox.md names, per patient (same for both sandbox drugs).
fn expected_suggestions(patient: &str) -> &'static [&'static str] {
    match patient {
        "jak-demo-refrac" => &["Replace with baricitinib 2 mg once daily (eGFR 50)"],
        "jak-demo-early" => &[
            "Replace with Rituximab for refractory SLE (regimen per specialist)",
            "Replace with Mycophenolate mofetil 2-3 g/day in divided doses",
        ],
        _ => &[],
    }
}

const PATIENTS: [&str; 3] = ["jak-demo-vte", "jak-demo-early", "jak-demo-refrac"];

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The draft order exactly as the sandbox's Rx View builds it for an R4 server (default dose:
/// 1 tablet daily).
fn sandbox_draft(patient: &str, drug: &SandboxDrug) -> Value {
    json!({
        "resourceType": "MedicationRequest", "id": "request-123", "status": "draft",
        "intent": "order", "subject": {"reference": format!("Patient/{patient}")},
        "medicationCodeableConcept": {"text": drug.text,
            "coding": [{"system": RXNORM, "code": drug.code, "display": drug.text}]},
        "dosageInstruction": [{"timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
            "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet",
                "system": "http://unitsofmeasure.org", "code": "{pill}"}}]}]
    })
}

/// A sandbox-shaped hook request (order-sign has no `selections`; no fhirAuthorization).
fn sandbox_request(hook: &str, fhir: &str, patient: &str, draft: Value, prefetch: Value) -> Value {
    let mut context = json!({
        "patientId": patient,
        "userId": "Practitioner/COREPRACTITIONER1",
        "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": draft}]},
    });
    if hook == "order-select" {
        context["selections"] = json!(["MedicationRequest/request-123"]);
    }
    let mut req = json!({
        "hookInstance": uuid::Uuid::new_v4().to_string(),
        "hook": hook,
        "fhirServer": fhir,
        "context": context,
    });
    if prefetch.as_object().is_some_and(|p| !p.is_empty()) {
        req["prefetch"] = prefetch;
    }
    req
}

async fn call(app: &TestApp, service: &str, req: &Value) -> Value {
    let res = app.call(service, req.to_string()).await;
    let status = res.status();
    let body = res.text().await.expect("response body");
    assert_eq!(status, 200, "{service}: {body}");
    let response: Value = serde_json::from_str(&body).expect("JSON response");
    assert_spec_conformant_response(&response);
    response
}

fn assert_cards(response: &Value, expected: &[Expected], what: &str) {
    let want: Vec<(String, String, String)> = expected
        .iter()
        .map(|(i, t, s)| (i.to_string(), t.to_string(), s.to_string()))
        .collect();
    assert_eq!(cards_of(response), want, "{what}");
}

fn suggestion_labels(response: &Value) -> Vec<String> {
    response["cards"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["suggestions"].as_array().into_iter().flatten())
        .filter_map(|s| s["label"].as_str().map(str::to_string))
        .collect()
}

/// A card's detail by topic code.
fn detail<'a>(response: &'a Value, topic: &str) -> &'a str {
    response["cards"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["source"]["topic"]["code"] == topic)
        .and_then(|c| c["detail"].as_str())
        .unwrap_or_else(|| panic!("no {topic} card"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_calls_on_the_demo_patients_give_the_documented_cards() {
    let today = chrono::Utc::now().date_naive();
    let dir = tempfile::tempdir().expect("temp dir");
    let bundle = build_demo_bundle(today, dir.path());
    let server = FhirTestServer::start(&bundle, &[]);

    let mut config = test_config();
    config.fhir.allowed_servers = vec!["http://127.0.0.1:*".into()];
    config.fhir.timeout_ms = 10_000;
    config.fhir.budget_ms = 30_000;
    let app = spawn_app(config).await;

    for patient in PATIENTS {
        let full = full_prefetch(&server.base, "jak-sle-order-sign", patient).await;
        let patient_only = json!({"patient": full["patient"].clone()});
        for drug in [&TOFACITINIB, &RUXOLITINIB] {
            let want = expected(patient, drug);
            let variants = [
                ("order-select", "jak-sle-order-select", json!({})),
                ("order-select", "jak-sle-order-select", patient_only.clone()),
                ("order-sign", "jak-sle-order-sign", json!({})),
                ("order-sign", "jak-sle-order-sign", full.clone()),
            ];
            for (hook, service, prefetch) in variants {
                let keys: Vec<String> = prefetch
                    .as_object()
                    .map(|p| p.keys().cloned().collect())
                    .unwrap_or_default();
                let what = format!("{patient}, {}, {hook}, prefetch {keys:?}", drug.text);
                let req = sandbox_request(
                    hook,
                    &server.base,
                    patient,
                    sandbox_draft(patient, drug),
                    prefetch,
                );
                let res = call(&app, service, &req).await;
                assert_cards(&res, &want, &what);
                let labels = suggestion_labels(&res);
                for s in expected_suggestions(patient) {
                    assert!(
                        labels.iter().any(|l| l == s),
                        "{what}: no {s:?} in {labels:?}"
                    );
                }
                if patient != "jak-demo-refrac" {
                    assert!(
                        !labels.iter().any(|l| l.contains("baricitinib")),
                        "{what}: baricitinib offered: {labels:?}"
                    );
                }
            }
        }
    }

    // Entering Rx View (or typing) sends a draft with no medication yet: no cards.
    let mut draft = sandbox_draft("jak-demo-refrac", &TOFACITINIB);
    let fields = draft.as_object_mut().expect("draft object");
    fields.remove("medicationCodeableConcept");
    fields.remove("dosageInstruction");
    let req = sandbox_request(
        "order-select",
        &server.base,
        "jak-demo-refrac",
        draft,
        json!({}),
    );
    let res = call(&app, "jak-sle-order-select", &req).await;
    assert_eq!(
        res["cards"],
        json!([]),
        "a draft without a drug gets no cards"
    );

    // The baricitinib request of docs/sandbox.md (`evaluate` in the docs; the same pipeline here).
    let mut req = read_json(&repo("fixtures/demo/refrac-baricitinib-order-select.json"));
    assert_eq!(req["fhirServer"], "http://localhost:8090/fhir");
    req["fhirServer"] = json!(server.base);
    let res = call(&app, "jak-sle-order-select", &req).await;
    assert_cards(
        &res,
        &BARICITINIB_REFRAC,
        "jak-demo-refrac, baricitinib 4 mg",
    );
    assert!(
        detail(&res, "jaki-dose-adjustment").contains("Change baricitinib to 2 mg once daily"),
        "the dose card states the dose"
    );
    assert!(
        !detail(&res, "jaki-sle-conditional").contains("mg once daily"),
        "the conditional card does not repeat the dose the dose card states"
    );
    // The same order for the other two: contraindicated, not recommended.
    for (patient, indicator, topic) in [
        ("jak-demo-vte", "critical", "jaki-sle-contraindicated"),
        ("jak-demo-early", "warning", "jaki-sle-not-recommended"),
    ] {
        let mut other = req.clone();
        other["context"]["patientId"] = json!(patient);
        other["context"]["draftOrders"]["entry"][0]["resource"]["subject"]["reference"] =
            json!(format!("Patient/{patient}"));
        let res = call(&app, "jak-sle-order-select", &other).await;
        let cards = cards_of(&res);
        assert_eq!(
            (cards[0].0.as_str(), cards[0].1.as_str()),
            (indicator, topic),
            "{patient}, baricitinib: {cards:?}"
        );
    }
}

/// Every summary and suggestion the test expects is written verbatim (up to line wrapping) in
/// docs/sandbox.md.
#[test]
fn the_documentation_lists_the_cards_the_service_gives() {
    let mut summaries: Vec<&str> = BARICITINIB_REFRAC.iter().map(|(_, _, s)| *s).collect();
    for patient in PATIENTS {
        for drug in [&TOFACITINIB, &RUXOLITINIB] {
            summaries.extend(expected(patient, drug).into_iter().map(|(_, _, s)| s));
        }
        summaries.extend(expected_suggestions(patient).iter().copied());
    }
    let guide = repo("docs/sandbox.md");
    assert!(
        std::fs::read_to_string(&guide).is_ok_and(|t| t.starts_with(DOC_HEADING)),
        "docs/sandbox.md starts with {DOC_HEADING:?}"
    );
    for doc in [guide] {
        // Markdown wraps lines: compare with runs of whitespace as one space.
        let text = std::fs::read_to_string(&doc)
            .expect("doc readable")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        for s in &summaries {
            assert!(
                text.contains(s),
                "{} does not show {s:?}: update it to what the service says",
                doc.display()
            );
        }
        for id in PATIENTS {
            assert!(text.contains(id), "{} does not name {id}", doc.display());
        }
    }
}

/// The committed bundle is what scripts/build-demo.py builds for its Bundle.timestamp, so the
/// checks above (on a fresh build) hold for the file users load.
#[test]
fn the_committed_demo_bundle_is_the_script_output() {
    let committed = read_json(&repo("fixtures/demo/jak-sle-demo.json"));
    assert_eq!(committed["type"], "transaction");
    let stamp = committed["timestamp"]
        .as_str()
        .and_then(|t| t.get(..10))
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .expect("Bundle.timestamp holds the day the dates are relative to");
    let dir = tempfile::tempdir().expect("temp dir");
    let rebuilt = read_json(&build_demo_bundle(stamp, dir.path()));
    assert!(
        committed == rebuilt,
        "fixtures/demo/jak-sle-demo.json differs from scripts/build-demo.py {stamp}: regenerate it"
    );
    let entries = committed["entry"].as_array().expect("entries");
    for e in entries {
        let r = &e["resource"];
        let url = format!(
            "{}/{}",
            r["resourceType"].as_str().unwrap_or_default(),
            r["id"].as_str().unwrap_or_default()
        );
        assert_eq!(e["request"]["method"], "PUT", "{url}");
        assert_eq!(e["request"]["url"], url.as_str());
    }
    for id in PATIENTS {
        assert!(
            entries
                .iter()
                .any(|e| e["resource"]["resourceType"] == "Patient" && e["resource"]["id"] == id),
            "patient {id}"
        );
    }
}
