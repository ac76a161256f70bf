//! The exact URL a client called, which a CDS client's JWT must name as its `aud`, and the
//! authorization check every endpoint (discovery, service, feedback) runs first.

use actix_web::http::header::AUTHORIZATION;
use actix_web::{HttpMessage, HttpRequest};

use super::auth::Verifier;
use super::error::ApiError;

/// The request path as the client sent it, before routing normalised it (a trailing slash
/// is part of the URL the client signed). Stored by [`remember_original_path`].
#[derive(Debug, Clone)]
pub struct OriginalPath(pub String);

/// Middleware function (`App::wrap_fn`, outside `NormalizePath`): keep the path as sent.
pub fn remember_original_path(req: &actix_web::dev::ServiceRequest) {
    let path = req.path().to_string();
    req.extensions_mut().insert(OriginalPath(path));
}

/// The URL called: `public_url` + path when a public URL is configured (the service runs
/// behind a proxy), else scheme://host + path from the request. The path is the one the
/// client sent, with doubled slashes collapsed (the sandbox builds `{discovery url}/{id}`, so
/// a discovery URL with a trailing slash gives `//`).
pub fn called_url(req: &HttpRequest, public_url: Option<&str>) -> String {
    let path = match req.extensions().get::<OriginalPath>() {
        Some(OriginalPath(p)) => collapse_slashes(p),
        None => collapse_slashes(req.path()),
    };
    match public_url {
        Some(base) => format!("{}{path}", base.trim_end_matches('/')),
        None => {
            let info = req.connection_info();
            format!("{}://{}{path}", info.scheme(), info.host())
        }
    }
}

fn collapse_slashes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for ch in path.chars() {
        if ch == '/' && out.ends_with('/') {
            continue;
        }
        out.push(ch);
    }
    out
}

/// Verify the bearer token when authentication is required. A failure is logged with its
/// reason (never the token) and answered 401 without detail.
pub async fn authorize(
    req: &HttpRequest,
    verifier: &Verifier,
    public_url: Option<&str>,
) -> Result<(), ApiError> {
    if !verifier.required() {
        return Ok(());
    }
    let audience = called_url(req, public_url);
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match verifier.verify(header, &audience).await {
        Ok(claims) => {
            tracing::debug!(iss = %claims.iss, "client authenticated");
            Ok(())
        }
        Err(e) => {
            tracing::warn!(reason = %e, endpoint = %req.match_pattern().unwrap_or_default(),
                "authorization refused");
            Err(ApiError::Unauthorized)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn public_url_wins_and_slashes_are_normalised() {
        let req = TestRequest::post()
            .uri("/cds-services//jak-sle-order-sign")
            .insert_header(("host", "internal:8080"))
            .to_http_request();
        assert_eq!(
            called_url(&req, Some("https://cds.example.org/jak/")),
            "https://cds.example.org/jak/cds-services/jak-sle-order-sign"
        );
        assert_eq!(
            called_url(&req, None),
            "http://internal:8080/cds-services/jak-sle-order-sign"
        );
    }

    #[test]
    fn the_path_as_sent_wins_over_the_normalised_one() {
        let req = TestRequest::get()
            .uri("/cds-services")
            .insert_header(("host", "h"))
            .to_http_request();
        req.extensions_mut()
            .insert(OriginalPath("/cds-services/".into()));
        assert_eq!(called_url(&req, None), "http://h/cds-services/");
    }
}
