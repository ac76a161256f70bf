//! `POST /cds-services/{id}`: one hook call. Auth → body → parse → gather → engine → 200 with
//! cards (none for a silent service, whose would-be cards are audited); every call to a known service is queued for the audit writer (status and latency)
//! and logged with hookInstance, service id, status, latency and counts only.

use std::time::Instant;

use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use tracing::Instrument;

use crate::cds::{HookRequest, ServiceDefinition};
use crate::store::AuditRecord;

use super::app::AppState;
use super::audience::authorize;
use super::body::read_limited;
use super::error::ApiError;
use super::pipeline::Evaluation;

/// What is known about a call so far, for the audit record and the log line.
#[derive(Default)]
struct CallTrace {
    hook_instance: String,
    patient_id: Option<String>,
    evaluation: Option<Evaluation>,
    /// Resources of other patients removed, also when the call failed.
    removed_other_patients: usize,
}

pub async fn call_service(
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let started = Instant::now();
    let Some(service) = state.pipeline.catalog().get(&id) else {
        // Not a call to one of our services: authenticated like any call, then 404, and
        // not audited (the id is the caller's text).
        if let Err(e) = authorize(&req, &state.verifier, &state.audience).await {
            return e.error_response();
        }
        tracing::info!(status = 404, "call to an unknown CDS service");
        return ApiError::NotFound("unknown CDS service".into()).error_response();
    };
    let mut trace = CallTrace::default();
    let response = match handle(&req, payload, &state, service, &mut trace).await {
        Ok(resp) => resp,
        Err(e) => e.error_response(),
    };
    let status = response.status().as_u16();
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let mode = state.pipeline.mode(&service.id);
    let (cards, orders, unavailable) = match &trace.evaluation {
        Some(ev) => (
            ev.response
                .cards
                .iter()
                .map(|c| {
                    (
                        c.topic().unwrap_or_default().to_string(),
                        c.indicator.as_str().to_string(),
                    )
                })
                .collect(),
            ev.orders,
            ev.unavailable,
        ),
        None => (Vec::new(), 0, 0),
    };
    let removed = trace
        .evaluation
        .as_ref()
        .map_or(trace.removed_other_patients, |e| e.removed_other_patients);
    tracing::info!(
        hook_instance = %trace.hook_instance,
        service_id = %service.id,
        mode = mode.as_str(),
        status,
        latency_ms,
        orders,
        unavailable,
        removed_other_patients = removed,
        cards = cards.len(),
        "hook call"
    );
    let record = AuditRecord {
        at: chrono::Utc::now(),
        service_id: service.id.clone(),
        hook: service.hook.as_str().to_string(),
        hook_instance: trace.hook_instance,
        patient_id: trace.patient_id,
        cards,
        latency_ms,
        status,
        removed_other_patients: u64::try_from(removed).unwrap_or(u64::MAX),
        mode,
        knowledge_version: state.pipeline.knowledge().version.label(),
    };
    // The cards issued (or, silent, that would have been), so that feedback can be joined to
    // their topics in the report.
    let issued = trace
        .evaluation
        .map(|e| e.response.cards)
        .unwrap_or_default();
    // Queued for the background audit writer: a slow or failing store never delays or
    // fails the answer (a full queue drops the record and counts it).
    tracing::info_span!("store").in_scope(|| state.store.queue_call(record, &issued));
    response
}

async fn handle(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    service: &ServiceDefinition,
    trace: &mut CallTrace,
) -> Result<HttpResponse, ApiError> {
    authorize(req, &state.verifier, &state.audience)
        .instrument(tracing::info_span!("auth"))
        .await?;
    let body = read_limited(
        req,
        payload,
        state.config.server.max_body_bytes,
        state.body_deadline(),
    )
    .await?;
    let mut request =
        HookRequest::from_body(body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    trace.hook_instance = request.hook_instance.clone();
    trace.patient_id = request.patient_id().ok().map(str::to_string);
    let today = chrono::Utc::now().date_naive();
    let evaluation = state
        .pipeline
        .evaluate(service, &mut request, today)
        .await
        .map_err(|e| {
            trace.removed_other_patients = e.removed_other_patients();
            tracing::info!(hook_instance = %request.hook_instance, service_id = %service.id,
                prefetch_keys = request.prefetch_keys(), reason = %e, "hook call refused");
            ApiError::from(e)
        })?;
    super::metrics::cards(
        &service.id,
        &evaluation.response.cards,
        evaluation.mode.as_str(),
    );
    let response = HttpResponse::Ok().json(evaluation.answer());
    trace.evaluation = Some(evaluation);
    Ok(response)
}
