//! The HTTP side of the fallback fetch: one GET per page against an allowed FHIR server,
//! and the paging of searchset Bundles.
//!
//! Redirects are never followed (a 3xx is a failure), every request has its own timeout,
//! bodies are size-capped, and a page must be a FHIR resource (an OperationOutcome counts as
//! a failure). Failures are logged with the prefetch key, HTTP status and elapsed time only:
//! never the URL (its query holds the patient id), the token or the body.

use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{HeaderValue, ACCEPT};
use serde_json::value::RawValue;
use url::Url;

use super::allow::{has_userinfo, same_origin, AllowList};
use super::model::Resource;
use super::parse_resource;

/// Largest page body accepted, bytes.
const MAX_BODY_BYTES: usize = 20 * 1024 * 1024;

/// Why a query (or one page of it) was not obtained. Short, without patient data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FetchFailure {
    #[error("timeout")]
    Timeout,
    #[error("gather budget exceeded")]
    BudgetExceeded,
    #[error("HTTP {0}")]
    Status(u16),
    #[error("connection failed")]
    Transport,
    #[error("body too large")]
    TooLarge,
    #[error("body is not JSON")]
    NotJson,
    #[error("body is not a FHIR resource")]
    NotFhir,
    #[error("server answered with an OperationOutcome")]
    OperationOutcome,
    #[error("HTTP client unavailable")]
    NoClient,
    #[error("request URL not on the allowed server")]
    OffServer,
}

impl FetchFailure {
    fn status(self) -> Option<u16> {
        match self {
            FetchFailure::Status(s) => Some(s),
            _ => None,
        }
    }
}

/// Why paging stopped before the last page (the data obtained is kept but partial).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Incomplete {
    #[error("more pages than max_pages")]
    PageCap,
    #[error("next link leaves the FHIR server")]
    ForeignNextLink,
    #[error("a later page failed: {0}")]
    PageFailed(FetchFailure),
}

/// What one query returned: every page's resource (Bundles unflattened), and whether paging
/// stopped early.
#[derive(Debug, Default)]
pub struct Fetched {
    pub resources: Vec<Resource>,
    /// The pages as received (see [`crate::fhir::originals`]).
    pub texts: Vec<Bytes>,
    pub incomplete: Option<Incomplete>,
}

/// Where requests may go for one hook call: the checked `fhirServer`, the allow-list (for
/// next links) and the bearer token.
#[derive(Clone, Copy)]
pub struct Target<'a> {
    pub base: &'a Url,
    pub allow: &'a AllowList,
    pub token: Option<&'a str>,
}

impl Target<'_> {
    /// `base` + "/" + `relative`, when the result is still on the allowed server.
    pub fn url(&self, relative: &str) -> Option<Url> {
        let joined = format!(
            "{}/{}",
            self.base.as_str().trim_end_matches('/'),
            relative.trim_start_matches('/')
        );
        let url = Url::parse(&joined).ok()?;
        self.on_server(&url).then_some(url)
    }

    /// True when `url` may be requested with this target's token.
    pub fn on_server(&self, url: &Url) -> bool {
        !has_userinfo(url) && same_origin(url, self.base) && self.allow.permits(url)
    }
}

/// The FHIR HTTP client, built once.
#[derive(Debug, Clone)]
pub struct FhirClient {
    http: Option<reqwest::Client>,
    timeout: Duration,
    max_pages: usize,
}

impl FhirClient {
    /// Build the client (rustls, no redirects). If it cannot be built the error is logged and
    /// every fetch fails with [`FetchFailure::NoClient`] (fail closed).
    pub fn new(timeout: Duration, max_pages: usize) -> FhirClient {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("jak-sle-cds/", env!("CARGO_PKG_VERSION")))
            .build();
        let http = match http {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::error!(error = %e, "FHIR HTTP client could not be built; fallback fetch disabled");
                None
            }
        };
        FhirClient {
            http,
            timeout,
            max_pages,
        }
    }

    pub fn is_available(&self) -> bool {
        self.http.is_some()
    }

    /// GET one page and parse it as one FHIR resource; the page's text is returned with it.
    pub async fn get(
        &self,
        url: &Url,
        token: Option<&str>,
    ) -> Result<(Resource, Bytes), FetchFailure> {
        let http = self.http.as_ref().ok_or(FetchFailure::NoClient)?;
        let mut request = http
            .get(url.clone())
            .header(ACCEPT, HeaderValue::from_static("application/fhir+json"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        // The caller's trace goes on to the FHIR server.
        for (name, value) in crate::server::telemetry::outgoing_headers() {
            request = request.header(name, value);
        }
        let exchange = async {
            let mut response = request.send().await.map_err(|_| FetchFailure::Transport)?;
            let status = response.status();
            if !status.is_success() {
                return Err(FetchFailure::Status(status.as_u16()));
            }
            if response
                .content_length()
                .is_some_and(|n| n > MAX_BODY_BYTES as u64)
            {
                return Err(FetchFailure::TooLarge);
            }
            let mut body = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|_| FetchFailure::Transport)?
            {
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(FetchFailure::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(body)
        };
        let body = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| FetchFailure::Timeout)??;
        let raw: Box<RawValue> =
            serde_json::from_slice(&body).map_err(|_| FetchFailure::NotJson)?;
        match parse_resource(&raw) {
            Ok(Resource::OperationOutcome(_)) => Err(FetchFailure::OperationOutcome),
            Ok(resource) => Ok((resource, Bytes::from(body))),
            Err(_) => Err(FetchFailure::NotFhir),
        }
    }

    /// Run one query and follow its `next` links (at most `max_pages` of them, only on the
    /// same allowed server). Logs a failure or an early stop with the key only.
    pub async fn fetch(
        &self,
        key: &str,
        first: Url,
        target: Target<'_>,
    ) -> Result<Fetched, FetchFailure> {
        let started = Instant::now();
        let mut out = Fetched::default();
        let mut url = first;
        let mut followed = 0usize;
        loop {
            let page_started = Instant::now();
            let page = self.get(&url, target.token).await;
            crate::server::metrics::fhir_request(key, page_started);
            let resource = match page {
                Ok((r, text)) => {
                    out.texts.push(text);
                    r
                }
                Err(failure) if out.resources.is_empty() => {
                    log_failure(key, failure, started);
                    return Err(failure);
                }
                Err(failure) => {
                    log_failure(key, failure, started);
                    out.incomplete = Some(Incomplete::PageFailed(failure));
                    break;
                }
            };
            let next = match &resource {
                Resource::Bundle(b) => b.next_link().map(str::to_owned),
                _ => None,
            };
            out.resources.push(resource);
            let Some(next) = next else { break };
            if followed >= self.max_pages {
                out.incomplete = Some(Incomplete::PageCap);
                break;
            }
            match url.join(&next) {
                Ok(n) if target.on_server(&n) => url = n,
                _ => {
                    out.incomplete = Some(Incomplete::ForeignNextLink);
                    break;
                }
            }
            followed += 1;
        }
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match out.incomplete {
            Some(why) => {
                tracing::warn!(key, pages = out.resources.len(), elapsed_ms, reason = %why, "FHIR query incomplete")
            }
            None => tracing::debug!(
                key,
                pages = out.resources.len(),
                elapsed_ms,
                "FHIR query done"
            ),
        }
        Ok(out)
    }
}

/// Log a failed query: key, status, reason and elapsed time — nothing else.
pub fn log_failure(key: &str, failure: FetchFailure, started: Instant) {
    tracing::warn!(
        key,
        status = failure.status(),
        reason = %failure,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "FHIR query failed"
    );
}
