//! The sandbox's Patient View with the demo data (docs/sandbox.md, "Patient View"): the
//! monitoring service `jak-sle-monitor` called as the sandbox calls it on opening a chart —
//! patient-view, without prefetch or with every key filled — gives the documented cards for
//! the demo patient on a JAK inhibitor, and nothing for the demo patients who are not on one.
//! Every documented summary appears verbatim in docs/sandbox.md. Needs Node.js/npm and python3.

mod common;
mod fhir_support;

use std::path::{Path, PathBuf};

use common::{assert_spec_conformant_response, cards_of, spawn_app, test_config, TestApp};
use fhir_support::real_server::FhirTestServer;
use fhir_support::{build_demo_bundle, full_prefetch};
use serde_json::{json, Value};

const MONITORED: &str = "jak-demo-monitor";
const EXPECTED: [(&str, &str, &str); 2] = [
    (
        "warning",
        "jaki-monitoring-dose",
        "Baricitinib: lower to 2 mg once daily (eGFR 45)",
    ),
    (
        "info",
        "jaki-monitoring-due",
        "Monitoring due on baricitinib: zoster vaccine",
    ),
];

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

async fn cards(
    app: &TestApp,
    fhir: &str,
    patient: &str,
    prefetch: Option<Value>,
) -> Vec<(String, String, String)> {
    let mut req = json!({
        "hookInstance": uuid::Uuid::new_v4().to_string(),
        "hook": "patient-view",
        "fhirServer": fhir,
        "context": {"patientId": patient, "userId": "Practitioner/COREPRACTITIONER1"},
    });
    if let Some(p) = prefetch {
        req["prefetch"] = p;
    }
    let res = app.call("jak-sle-monitor", req.to_string()).await;
    let status = res.status();
    let body: Value = res.json().await.expect("JSON");
    assert_eq!(status, 200, "{patient}: {body}");
    assert_spec_conformant_response(&body);
    cards_of(&body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patient_view_on_the_demo_patients_gives_the_documented_cards() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = FhirTestServer::start(
        &build_demo_bundle(chrono::Utc::now().date_naive(), dir.path()),
        &[],
    );
    let mut config = test_config();
    config.fhir.allowed_servers = vec!["http://127.0.0.1:*".into()];
    config.fhir.timeout_ms = 10_000;
    config.fhir.budget_ms = 30_000;
    let app = spawn_app(config).await;

    let want: Vec<(String, String, String)> = EXPECTED
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    let full = full_prefetch(&server.base, "jak-sle-monitor", MONITORED).await;
    let patient_only = json!({"patient": full["patient"].clone()});
    for p in [None, Some(patient_only), Some(full)] {
        let got = cards(&app, &server.base, MONITORED, p).await;
        assert_eq!(got, want);
    }
    for other in ["jak-demo-vte", "jak-demo-early", "jak-demo-refrac"] {
        assert!(
            cards(&app, &server.base, other, None).await.is_empty(),
            "{other}"
        );
    }
}

#[test]
fn the_sandbox_guide_shows_the_patient_view_cards() {
    let text = std::fs::read_to_string(repo("docs/sandbox.md"))
        .expect("docs/sandbox.md")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for (_, _, summary) in EXPECTED {
        assert!(
            text.contains(summary),
            "docs/sandbox.md does not show {summary:?}"
        );
    }
    assert!(text.contains(MONITORED));
}
