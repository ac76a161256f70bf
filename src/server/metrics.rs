//! Prometheus metrics, exposed in the text format on their own listener (`[metrics] listen`,
//! off by default; never on the API port). Names and units follow the OpenTelemetry semantic
//! conventions as Prometheus renders them (seconds, `_total` counters). No label ever holds
//! patient data: services, topics, indicators and prefetch keys come from the service's own
//! files, reasons and outcomes from fixed lists.
//!
//! | family | type | labels |
//! | --- | --- | --- |
//! | `http_server_request_duration_seconds` | histogram | `http_route`, `http_request_method`, `http_response_status_code` |
//! | `cds_cards_total` | counter | `service`, `topic`, `indicator`, `mode` |
//! | `cds_prefetch_keys_total` | counter | `key`, `outcome` (prefetched, null, fetched, failed) |
//! | `cds_fhir_request_duration_seconds` | histogram | `query` (the prefetch key) |
//! | `cds_auth_failures_total` | counter | `reason` |
//! | `cds_audit_dropped_total` | counter | |
//! | `cds_feedback_total` | counter | `outcome` |
//!
//! One registry for the process (the instruments are recorded from deep in the call path).

use std::sync::LazyLock;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry, TextEncoder,
};

use crate::cds::Card;

/// The OpenTelemetry recommended buckets for `http.server.request.duration`, seconds.
const DURATION_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// `http_route` of a request no route matched (the path itself is never a label).
const UNMATCHED_ROUTE: &str = "unmatched";

/// How a prefetch key of a hook call was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrefetchOutcome {
    /// Usable data in the request's prefetch.
    Prefetched,
    /// Prefetched as `null`: the client says there is no data.
    Null,
    /// Fetched from the FHIR server.
    Fetched,
    /// Not obtained (fetch failed, not allowed, no server, template unfillable).
    Failed,
}

impl PrefetchOutcome {
    fn as_str(self) -> &'static str {
        match self {
            PrefetchOutcome::Prefetched => "prefetched",
            PrefetchOutcome::Null => "null",
            PrefetchOutcome::Fetched => "fetched",
            PrefetchOutcome::Failed => "failed",
        }
    }
}

struct Metrics {
    registry: Registry,
    http_duration: HistogramVec,
    cards: IntCounterVec,
    prefetch_keys: IntCounterVec,
    fhir_duration: HistogramVec,
    auth_failures: IntCounterVec,
    audit_dropped: IntCounter,
    feedback: IntCounterVec,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

impl Metrics {
    fn new() -> Metrics {
        let registry = Registry::new();
        let histogram = |name: &str, help: &str, labels: &[&str]| {
            let h = HistogramVec::new(
                HistogramOpts::new(name, help).buckets(DURATION_BUCKETS.to_vec()),
                labels,
            )
            .expect("valid histogram");
            registry
                .register(Box::new(h.clone()))
                .expect("registered once");
            h
        };
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid counter");
            registry
                .register(Box::new(c.clone()))
                .expect("registered once");
            c
        };
        let audit_dropped = IntCounter::new(
            "cds_audit_dropped_total",
            "Audit records dropped because the audit queue was full.",
        )
        .expect("valid counter");
        registry
            .register(Box::new(audit_dropped.clone()))
            .expect("registered once");
        Metrics {
            http_duration: histogram(
                "http_server_request_duration_seconds",
                "Duration of HTTP server requests.",
                &[
                    "http_route",
                    "http_request_method",
                    "http_response_status_code",
                ],
            ),
            cards: counter(
                "cds_cards_total",
                "Cards returned (or, in silent mode, that would have been).",
                &["service", "topic", "indicator", "mode"],
            ),
            prefetch_keys: counter(
                "cds_prefetch_keys_total",
                "Prefetch keys of hook calls by how they were obtained.",
                &["key", "outcome"],
            ),
            fhir_duration: histogram(
                "cds_fhir_request_duration_seconds",
                "Duration of FHIR fallback requests (one per page).",
                &["query"],
            ),
            auth_failures: counter(
                "cds_auth_failures_total",
                "Bearer tokens refused, by reason.",
                &["reason"],
            ),
            audit_dropped,
            feedback: counter(
                "cds_feedback_total",
                "Feedback items stored, by outcome.",
                &["outcome"],
            ),
            registry,
        }
    }
}

/// Count the cards of one hook call of `service` (`mode`: "live", or "silent").
pub fn cards(service: &str, cards: &[Card], mode: &str) {
    for card in cards {
        METRICS
            .cards
            .with_label_values(&[
                service,
                card.topic().unwrap_or("(no topic)"),
                card.indicator.as_str(),
                mode,
            ])
            .inc();
    }
}

/// Count one prefetch key of a hook call.
pub fn prefetch_key(key: &str, outcome: PrefetchOutcome) {
    METRICS
        .prefetch_keys
        .with_label_values(&[key, outcome.as_str()])
        .inc();
}

/// Time one FHIR request of the query `query` (a prefetch key, or `medicationReference`).
pub fn fhir_request(query: &str, started: Instant) {
    METRICS
        .fhir_duration
        .with_label_values(&[query])
        .observe(started.elapsed().as_secs_f64());
}

/// Count one refused token; `reason` is a fixed code (see `auth::refusal_code`).
pub fn auth_failure(reason: &str) {
    METRICS.auth_failures.with_label_values(&[reason]).inc();
}

/// Count one audit record dropped.
pub fn audit_dropped() {
    METRICS.audit_dropped.inc();
}

/// Count one stored feedback item by its outcome (`accepted`, `overridden`).
pub fn feedback(outcome: &str) {
    METRICS.feedback.with_label_values(&[outcome]).inc();
}

/// Middleware: time every request of the API server by route template, method and status.
pub async fn record_http(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let result = next.call(req).await;
    let (route, status) = match &result {
        Ok(res) => (
            res.request().match_pattern(),
            res.response().status().as_u16(),
        ),
        Err(e) => (None, e.as_response_error().status_code().as_u16()),
    };
    METRICS
        .http_duration
        .with_label_values(&[
            route.as_deref().unwrap_or(UNMATCHED_ROUTE),
            method.as_str(),
            &status.to_string(),
        ])
        .observe(started.elapsed().as_secs_f64());
    result
}

/// The text exposition of every metric.
pub fn render() -> String {
    let mut out = Vec::new();
    if let Err(e) = TextEncoder::new().encode(&METRICS.registry.gather(), &mut out) {
        tracing::error!(error = %e, "metrics could not be encoded");
    }
    String::from_utf8(out).unwrap_or_default()
}

/// `GET /metrics` of the metrics listener.
async fn exposition() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(render())
}

/// The metrics listener's routes: `/metrics` only.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(exposition));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_is_named_as_documented() {
        prefetch_key("conditions", PrefetchOutcome::Null);
        fhir_request("conditions", Instant::now());
        auth_failure("expired");
        feedback("accepted");
        let text = render();
        for family in [
            "cds_prefetch_keys_total{key=\"conditions\",outcome=\"null\"}",
            "cds_fhir_request_duration_seconds_bucket{query=\"conditions\",le=\"0.005\"}",
            "cds_auth_failures_total{reason=\"expired\"}",
            "cds_feedback_total{outcome=\"accepted\"}",
            "cds_audit_dropped_total ",
        ] {
            assert!(text.contains(family), "{family} missing in\n{text}");
        }
    }
}
