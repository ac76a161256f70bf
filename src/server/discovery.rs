//! `GET /cds-services`: the discovery document (authenticated like every endpoint).

use actix_web::{web, HttpRequest, HttpResponse};

use super::app::AppState;
use super::audience::authorize;
use super::error::ApiError;

pub async fn discovery(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state.verifier, &state.audience).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(state.discovery.clone()))
}
