//! Logs and traces. [`init`] installs the process's subscriber: log lines on stderr (filter
//! from `RUST_LOG`, default `info`; `JAK_SLE_LOG_FORMAT=json` for JSON lines; ANSI colours only
//! when stderr is a terminal) and OpenTelemetry spans, exported over OTLP (HTTP/protobuf) only
//! when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
//!
//! Every API request runs in a `request` span that continues the caller's W3C `traceparent`
//! ([`trace_request`]) and carries `trace_id`, so each log line of the request names its
//! trace; the FHIR fallback requests carry the trace on ([`outgoing_headers`]). Inner spans:
//! `auth`, `gather` (one per query), `evaluate`, `store`.

use std::collections::HashMap;
use std::io::IsTerminal;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::field::Empty;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

mod otlp_client;

/// The exporter's switch: the standard OpenTelemetry variable.
pub const OTLP_ENDPOINT_VAR: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

/// Keeps the tracer provider; dropping it (at exit) flushes the spans not yet exported.
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Err(e) = self.provider.shutdown() {
            eprintln!("jak-sle-cds: trace export shutdown: {e}");
        }
    }
}

/// Install the process's logging (on stderr) and tracing. Call once, early (a second call
/// leaves the first subscriber in place). Keep the returned value alive until exit.
pub fn init() -> Telemetry {
    init_with_writer(std::io::stderr, std::io::stderr().is_terminal())
}

/// [`init`] with the log lines written to `writer`, with ANSI colours when `ansi` (tests
/// capture the log this way).
pub fn init_with_writer<W>(writer: W, ansi: bool) -> Telemetry
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let mut builder = SdkTracerProvider::builder().with_resource(
        opentelemetry_sdk::Resource::builder()
            .with_service_name(env!("CARGO_PKG_NAME"))
            .build(),
    );
    let mut export_error = None;
    if std::env::var_os(OTLP_ENDPOINT_VAR).is_some_and(|v| !v.is_empty()) {
        match otlp_client::exporter() {
            Ok(exporter) => builder = builder.with_batch_exporter(exporter),
            Err(e) => export_error = Some(e),
        }
    }
    let provider = builder.build();
    let tracer = provider.tracer(env!("CARGO_PKG_NAME"));
    // Spans are made at info and above whatever RUST_LOG says: the trace context must flow
    // even when the log is quiet.
    let otel = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(LevelFilter::INFO);
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("JAK_SLE_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(ansi);
    let fmt = if json {
        fmt.json().boxed()
    } else {
        fmt.boxed()
    };
    let installed = tracing_subscriber::registry()
        .with(otel)
        .with(fmt.with_filter(filter))
        .try_init()
        .is_ok();
    if installed {
        match export_error {
            Some(e) => tracing::error!(error = %e, "OTLP trace export not started"),
            None if std::env::var_os(OTLP_ENDPOINT_VAR).is_some() => {
                tracing::info!("exporting traces over OTLP (HTTP/protobuf)")
            }
            None => {}
        }
    }
    Telemetry { provider }
}

/// The request headers as an OpenTelemetry carrier.
struct RequestHeaders<'a>(&'a actix_web::http::header::HeaderMap);

impl Extractor for RequestHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// Middleware: run the request in a `request` span continuing the caller's `traceparent`
/// (a malformed one is ignored: a new trace starts), with the trace id as a log field.
pub async fn trace_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let parent = TraceContextPropagator::new().extract(&RequestHeaders(req.headers()));
    let span = tracing::info_span!(
        "request",
        otel.kind = "server",
        otel.name = %req.method(),
        http.request.method = %req.method(),
        http.route = Empty,
        http.response.status_code = Empty,
        trace_id = Empty,
    );
    let _ = span.set_parent(parent);
    let span_context = span.context().span().span_context().clone();
    if span_context.is_valid() {
        span.record("trace_id", tracing::field::display(span_context.trace_id()));
    }
    let result = next.call(req).instrument(span.clone()).await;
    if let Ok(res) = &result {
        if let Some(route) = res.request().match_pattern() {
            span.record("otel.name", format!("{} {route}", res.request().method()));
            span.record("http.route", route);
        }
        span.record("http.response.status_code", res.status().as_u16());
    }
    result
}

/// The trace headers (`traceparent`, and `tracestate` when there is one) of the current span,
/// for an outgoing request. Empty outside a trace.
pub fn outgoing_headers() -> HashMap<String, String> {
    let mut headers = HashMap::new();
    let cx = tracing::Span::current().context();
    if cx.span().span_context().is_valid() {
        TraceContextPropagator::new().inject_context(&cx, &mut headers);
    }
    headers
}
