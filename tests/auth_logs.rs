//! What reaches the log: refusal reasons, never the bearer token, and never a patient id —
//! captured from a tracing subscriber at TRACE level while tokens are verified and hook calls
//! and feedback are stored.

mod auth_support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use auth_support::*;
use jak_sle_cds::cds::feedback::{FeedbackItem, Outcome, OverrideReason};
use jak_sle_cds::store::{AuditRecord, Store};
use serde_json::json;

const PATIENT: &str = "smart-1288992";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn tokens_and_patient_ids_never_reach_the_log() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let v = verifier().await;
    let good = sandbox_token(&claims(SANDBOX_ISS, CALLED));
    let mut c = claims(SANDBOX_ISS, CALLED);
    c["exp"] = json!(now() - 3600);
    c["sub"] = json!(PATIENT);
    let expired = sandbox_token(&c);
    let wrong_aud = ehr_token(&claims(EHR_ISS, "https://elsewhere.example.org/x"));
    let mut tokens = vec![good.clone(), expired, wrong_aud];
    for t in &tokens {
        let _ = v.verify(Some(&bearer(t)), CALLED).await;
    }
    let _ = v.verify(Some(&bearer(&good)), CALLED).await; // replay
    let garbage = format!("{PATIENT}.{PATIENT}.{PATIENT}");
    let _ = v.verify(Some(&bearer(&garbage)), CALLED).await;
    tokens.push(garbage);

    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}/cds.db", dir.path().display()))
        .await
        .unwrap();
    store
        .record_audit(&AuditRecord {
            at: chrono::Utc::now(),
            service_id: "jak-order-sign".into(),
            hook: "order-sign".into(),
            hook_instance: "f0e1d2c3-0000-4000-8000-000000000001".into(),
            patient_id: Some(PATIENT.into()),
            cards: vec![("topic".into(), "critical".into())],
            latency_ms: 12,
            status: 200,
            removed_other_patients: 0,
            mode: jak_sle_cds::config::ServiceMode::Live,
            knowledge_version: "1.0.0".into(),
        })
        .await
        .unwrap();
    store
        .save_feedback(
            "jak-order-sign",
            &[FeedbackItem {
                card: "c1".into(),
                outcome: Outcome::Overridden,
                accepted_suggestions: Vec::new(),
                override_reason: Some(OverrideReason {
                    reason: None,
                    user_comment: Some("discussed with patient".into()),
                }),
                outcome_timestamp: "2026-11-20T10:00:00Z".into(),
            }],
        )
        .await
        .unwrap();

    let log = captured.text();
    if std::env::var_os("SHOW_LOG").is_some() {
        eprintln!("{log}");
    }
    let leaked: Vec<&str> = tokens
        .iter()
        .flat_map(|t| t.split('.'))
        .filter(|part| part.len() > 8 && log.contains(part))
        .collect();
    assert!(
        log.contains("bearer token rejected")
            && log.contains("jti replayed")
            && leaked.is_empty()
            && !log.contains(PATIENT),
        "leaked {leaked:?} in:\n{log}"
    );
}
