//! Helpers shared by the FHIR gather tests: hook requests, settings, templates and a log
//! capture to check that nothing sensitive is logged.

#![allow(dead_code)]

pub mod real_server;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use jak_sle_cds::cds::request::HookRequest;
use jak_sle_cds::config::FhirSettings;
use jak_sle_cds::fhir::gather::GatherError;
use jak_sle_cds::fhir::PatientRecord;
use serde_json::{json, Value};

/// A hook request for `patient_id` with the given fhirServer, token and prefetch object.
pub fn request(
    patient_id: &str,
    fhir_server: Option<&str>,
    token: Option<&str>,
    prefetch: Value,
) -> HookRequest {
    let mut body = json!({
        "hook": "order-sign",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {"patientId": patient_id, "userId": "Practitioner/prac-1", "draftOrders": {"resourceType": "Bundle", "entry": []}},
        "prefetch": prefetch,
    });
    if let Some(s) = fhir_server {
        body["fhirServer"] = json!(s);
    }
    if let Some(t) = token {
        body["fhirAuthorization"] = json!({"access_token": t, "token_type": "Bearer", "expires_in": 300, "scope": "patient/*.read", "subject": "cds-service"});
    }
    HookRequest::parse(body.to_string().as_bytes()).expect("valid hook request")
}

pub fn settings(allowed: &[&str]) -> FhirSettings {
    FhirSettings {
        allowed_servers: allowed.iter().map(|s| s.to_string()).collect(),
        timeout_ms: 1500,
        budget_ms: 3000,
        max_pages: 10,
    }
}

pub fn templates(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn keys(keys: &[&str]) -> BTreeSet<String> {
    keys.iter().map(|s| s.to_string()).collect()
}

/// The reason of a 412; panics on anything else.
pub fn precondition(result: Result<PatientRecord, GatherError>) -> String {
    match result {
        Err(GatherError::PreconditionFailed(reason)) => reason,
        other => panic!("expected 412 (PreconditionFailed), got {other:?}"),
    }
}

/// Templates "<Type>?patient={{context.patientId}}" for (key, Type) pairs.
pub fn by_patient(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, t)| {
            (
                k.to_string(),
                format!("{t}?patient={{{{context.patientId}}}}"),
            )
        })
        .collect()
}

/// The prefetch templates and required keys of one service in hooks/services.json.
pub fn service_templates(id: &str) -> (BTreeMap<String, String>, BTreeSet<String>) {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/hooks/services.json"))
        .expect("hooks/services.json");
    let v: Value = serde_json::from_str(&text).expect("services.json is JSON");
    let service = v["services"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["id"] == id))
        .expect("service in services.json");
    let templates = serde_json::from_value(service["prefetch"].clone()).expect("prefetch map");
    let required = serde_json::from_value(service["required"].clone()).expect("required list");
    (templates, required)
}

/// A searchset Bundle of the given resources, with an optional next link.
pub fn searchset(resources: &[Value], next: Option<&str>) -> Value {
    let mut b = json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": resources.iter().map(|r| json!({"resource": r})).collect::<Vec<_>>(),
    });
    if let Some(n) = next {
        b["link"] = json!([{"relation": "next", "url": n}]);
    }
    b
}

/// Log lines written while the returned guard lives (this thread only; use
/// current-thread tokio tests).
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        let sink = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log lock")).into_owned()
    }
}

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Prefetch as a client that fills every template of service `service_id` would send it, read
/// from the FHIR server at `fhir` for `patient`.
pub async fn full_prefetch(fhir: &str, service_id: &str, patient: &str) -> Value {
    let (templates, _) = service_templates(service_id);
    let client = reqwest::Client::new();
    let mut out = serde_json::Map::new();
    for (key, template) in templates {
        let query = template.replace("{{context.patientId}}", patient);
        let body: Value = client
            .get(format!("{fhir}/{query}"))
            .send()
            .await
            .expect("prefetch query")
            .json()
            .await
            .expect("prefetch JSON");
        out.insert(key, body);
    }
    Value::Object(out)
}

/// Run scripts/build-demo.py for `day` into `dir` and return the Bundle's path.
pub fn build_demo_bundle(day: chrono::NaiveDate, dir: &std::path::Path) -> std::path::PathBuf {
    let out = dir.join("jak-sle-demo.json");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/build-demo.py");
    let run = std::process::Command::new("python3")
        .arg(script)
        .arg(day.to_string())
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap_or_else(|e| panic!("the demo test needs python3 on PATH: {e}"));
    assert!(
        run.status.success(),
        "scripts/build-demo.py failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    out
}
