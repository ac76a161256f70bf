//! The route table: discovery, services, feedback, probes; 404 and 405 as JSON errors.

use actix_web::{web, HttpResponse, ResponseError};

use super::error::ApiError;
use super::{discovery, feedback, hooks, probes};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/cds-services")
            .route(web::get().to(discovery::discovery))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/cds-services/{id}")
            .route(web::post().to(hooks::call_service))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/cds-services/{id}/feedback")
            .route(web::post().to(feedback::feedback))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource(["/livez", "/healthz"])
            .route(web::get().to(probes::livez))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/readyz")
            .route(web::get().to(probes::readyz))
            .default_service(web::to(method_not_allowed)),
    )
    .default_service(web::to(not_found));
}

async fn method_not_allowed() -> HttpResponse {
    ApiError::MethodNotAllowed.error_response()
}

async fn not_found() -> HttpResponse {
    ApiError::NotFound("no such endpoint".into()).error_response()
}
