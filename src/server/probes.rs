//! Kubernetes-style probes. `GET /livez` (and its alias `/healthz`): the process answers, no
//! dependency is checked. `GET /readyz`: 200 when the store answers, the knowledge is loaded
//! and every trusted issuer has verification keys (cached, or fetched now), else 503; the
//! JSON body lists each check with `ok` and, when failed, a short reason (no secrets).

use std::time::Duration;

use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::app::AppState;

/// Longest a readiness check of the store may take (a probe times out after a few seconds).
const STORE_TIMEOUT: Duration = Duration::from_secs(2);

/// One readiness check in the `/readyz` body.
#[derive(Debug, Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Check {
    fn of(name: impl Into<String>, result: Result<(), String>) -> Check {
        let (ok, reason) = match result {
            Ok(()) => (true, None),
            Err(r) => (false, Some(r)),
        };
        Check {
            name: name.into(),
            ok,
            reason,
        }
    }
}

/// Liveness: the process serves requests.
pub async fn livez() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// Readiness: the dependencies a hook call needs.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let checks = readiness(&state).await;
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| c.name.as_str())
        .collect();
    let body = serde_json::json!({
        "status": if failed.is_empty() { "ready" } else { "not ready" },
        "failed": failed,
        "checks": checks,
    });
    if failed.is_empty() {
        HttpResponse::Ok().json(body)
    } else {
        tracing::warn!(failed = ?failed, "not ready");
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Run every readiness check.
pub async fn readiness(state: &AppState) -> Vec<Check> {
    let store = match tokio::time::timeout(STORE_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: store unreachable");
            Err("store unreachable".to_string())
        }
        Err(_) => Err(format!(
            "store did not answer within {} s",
            STORE_TIMEOUT.as_secs()
        )),
    };
    let catalog = state.pipeline.catalog();
    let knowledge = if !catalog.services().is_empty() {
        Ok(())
    } else {
        Err("no CDS service loaded".to_string())
    };
    let mut checks = vec![Check::of("store", store), Check::of("knowledge", knowledge)];
    for (iss, result) in state.verifier.key_sets_ready().await {
        checks.push(Check::of(format!("jwks {iss}"), result));
    }
    checks
}
