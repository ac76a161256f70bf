//! HTTP errors of the edge and their responses: a JSON body `{"error": "..."}` naming the
//! problem (never patient data), except 401 which says nothing.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed JSON or a wrong shape; the message names the problem.
    #[error("{0}")]
    BadRequest(String),
    /// Authentication failed; the reason is logged, never sent.
    #[error("unauthorized")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// The request body did not arrive within `limits.body_timeout_ms`.
    #[error("request body not received in time")]
    RequestTimeout,
    /// Required data could not be obtained (CDS Hooks 412).
    #[error("{0}")]
    PreconditionFailed(String),
    /// A dependency (the store) failed; the client may retry.
    #[error("{0}")]
    Unavailable(String),
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        match self {
            ApiError::Unauthorized => res.finish(),
            other => res.json(serde_json::json!({ "error": other.to_string() })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    #[test]
    fn bodies_are_json_except_401() {
        let body = ApiError::PreconditionFailed("prefetch conditions missing".into())
            .error_response()
            .into_body()
            .try_into_bytes()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"], "prefetch conditions missing");
        let unauthorized = ApiError::Unauthorized.error_response();
        assert_eq!(unauthorized.status(), StatusCode::UNAUTHORIZED);
        assert!(unauthorized
            .into_body()
            .try_into_bytes()
            .unwrap()
            .is_empty());
    }
}
