//! Reading a request body with a size bound and a deadline: 413 as soon as the bound is
//! passed (from `Content-Length` when given, otherwise while streaming), 408 when the whole
//! body has not arrived within the deadline. The buffer grows with the bytes received, never
//! with what `Content-Length` announces: a client declaring 5 MB and sending a byte a second
//! holds a few KB, and only until the deadline.

use std::time::Duration;

use actix_web::http::header::CONTENT_LENGTH;
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::HttpRequest;
use futures::StreamExt;

use super::error::ApiError;

pub async fn read_limited(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
    deadline: Duration,
) -> Result<Bytes, ApiError> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    match tokio::time::timeout(deadline, read_all(payload, limit)).await {
        Ok(body) => body,
        Err(_) => {
            tracing::info!(
                deadline_ms = u64::try_from(deadline.as_millis()).unwrap_or(u64::MAX),
                "request body not received within the deadline"
            );
            Err(ApiError::RequestTimeout)
        }
    }
}

async fn read_all(mut payload: web::Payload, limit: usize) -> Result<Bytes, ApiError> {
    // Chunks are kept as received and joined once at the end: a buffer grown chunk by chunk
    // copied a 172 KB body five times over (the HTTP profile, docs/perf.md).
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut len = 0;
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::BadRequest(format!("request body unreadable: {e}")))?;
        if len + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        len += chunk.len();
        chunks.push(chunk);
    }
    if chunks.len() == 1 {
        return Ok(chunks.pop().unwrap_or_default());
    }
    let mut body = BytesMut::with_capacity(len);
    for chunk in &chunks {
        body.extend_from_slice(chunk);
    }
    Ok(body.freeze())
}
