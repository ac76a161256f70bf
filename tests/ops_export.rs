//! Trace export through the real binary: with `OTEL_EXPORTER_OTLP_ENDPOINT` set, the spans of
//! a request (continuing the caller's trace) reach the collector over OTLP HTTP/protobuf by
//! the time the service has stopped; log lines written to a pipe have no ANSI colour codes.

use std::io::Read;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BIN: &str = env!("CARGO_BIN_EXE_jak-sle-cds");
const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";

#[tokio::test]
async fn spans_are_exported_over_otlp_and_logs_to_a_pipe_are_plain() {
    let collector = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/traces"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&collector)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(BIN)
        .arg("serve")
        .env("JAK_SLE_CDS__SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "JAK_SLE_CDS__STORE__URL",
            format!("sqlite://{}/cds.db", dir.path().display()),
        )
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", collector.uri())
        .env("RUST_LOG", "info")
        .env_remove("JAK_SLE_LOG_FORMAT")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let res = loop {
        let sent = client
            .get(format!("http://127.0.0.1:{port}/livez"))
            .header("traceparent", format!("00-{TRACE_ID}-b7ad6b7169203331-01"))
            .send()
            .await;
        match sent {
            Ok(res) => break res,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(e) => panic!("service did not start: {e}"),
        }
    };
    assert_eq!(res.status(), 200);
    // SIGTERM: a graceful stop flushes the spans not yet exported.
    let status = Command::new("kill")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    child.wait().unwrap();

    let exports = collector.received_requests().await.unwrap();
    assert!(!exports.is_empty(), "no OTLP export; log:\n{log}");
    assert_eq!(
        exports[0].headers.get("content-type").unwrap(),
        "application/x-protobuf"
    );
    let trace_bytes: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&TRACE_ID[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    assert!(
        exports
            .iter()
            .any(|r| r.body.windows(16).any(|w| w == trace_bytes.as_slice())),
        "the caller's trace id is not in the exported spans"
    );
    assert!(log.contains("listening"), "{log}");
    assert!(!log.contains('\u{1b}'), "ANSI codes in a piped log:\n{log}");
}
