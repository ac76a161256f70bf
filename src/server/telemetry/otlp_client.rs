//! The OTLP span exporter (HTTP/protobuf; endpoint, headers and timeout from the standard
//! `OTEL_EXPORTER_OTLP_*` variables) over the service's own reqwest, so that no second HTTP
//! stack is built. The batch processor exports from its own thread, outside the async
//! runtime, so the blocking client is used there (created on first use, on that thread).

use std::sync::OnceLock;
use std::time::Duration;

use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig, WithHttpConfig};

/// Longest one export request may take (the trait leaves timeouts to the client).
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// Build the exporter; an error when the variables describe an unusable endpoint.
pub(super) fn exporter() -> Result<SpanExporter, String> {
    SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_http_client(BlockingClient::default())
        .build()
        .map_err(|e| e.to_string())
}

#[derive(Debug, Default)]
struct BlockingClient {
    client: OnceLock<reqwest::blocking::Client>,
}

#[async_trait::async_trait]
impl HttpClient for BlockingClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let client = self.client.get_or_init(|| {
            reqwest::blocking::Client::builder()
                .timeout(EXPORT_TIMEOUT)
                .build()
                .unwrap_or_default()
        });
        let (parts, body) = request.into_parts();
        let mut outgoing = client
            .request(parts.method, parts.uri.to_string())
            .body(body.to_vec());
        for (name, value) in &parts.headers {
            outgoing = outgoing.header(name, value);
        }
        let response = outgoing.send()?;
        let mut builder = Response::builder().status(response.status().as_u16());
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }
        let body = response.bytes()?;
        Ok(builder.body(body)?)
    }
}
