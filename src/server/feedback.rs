//! `POST /cds-services/{id}/feedback`: checked against the spec's shape, stored durably;
//! 200 only once the store has it, 503 when it could not be stored.

use actix_web::{web, HttpRequest, HttpResponse};
use tracing::Instrument;

use crate::cds::feedback::FeedbackRequest;

use super::app::AppState;
use super::audience::authorize;
use super::body::read_limited;
use super::error::ApiError;

pub async fn feedback(
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state.verifier, &state.audience)
        .instrument(tracing::info_span!("auth"))
        .await?;
    let service = state
        .pipeline
        .catalog()
        .get(&id)
        .ok_or_else(|| ApiError::NotFound("unknown CDS service".into()))?;
    let body = read_limited(
        &req,
        payload,
        state.config.server.max_body_bytes,
        state.body_deadline(),
    )
    .await?;
    let request = FeedbackRequest::parse(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    match state
        .store
        .save_feedback(&service.id, &request.feedback)
        .instrument(tracing::info_span!("store"))
        .await
    {
        Ok(()) => {
            for item in &request.feedback {
                super::metrics::feedback(item.outcome.as_str());
            }
            tracing::info!(service_id = %service.id, items = request.feedback.len(), "feedback stored");
            Ok(HttpResponse::Ok().finish())
        }
        Err(e) => {
            tracing::error!(service_id = %service.id, error = %e, "feedback not stored");
            Err(ApiError::Unavailable(
                "feedback could not be stored; retry later".into(),
            ))
        }
    }
}
