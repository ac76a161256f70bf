//! Bounds on what one call can make the service hold (issue 9, failures 5 and 6), over HTTP:
//! the number of in-scope orders evaluated per call (`limits.max_orders_per_call`, default
//! 50: beyond it 400 saying so) and the deadline on reading a request body
//! (`limits.body_timeout_ms`: 408 when a client drips its body).

mod common;

use std::time::{Duration, Instant};

use common::{error_message, sandbox_token, spawn_app, test_config};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SERVICE: &str = "jak-sle-order-sign";

/// The conditional-baricitinib fixture (order-sign) with `n` baricitinib drafts.
fn with_orders(n: usize) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/patients/conditional-baricitinib.json");
    let mut req: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let entries = req["context"]["draftOrders"]["entry"]
        .as_array_mut()
        .unwrap();
    let draft = entries[0].clone();
    entries.clear();
    for i in 0..n {
        let mut d = draft.clone();
        d["resource"]["id"] = json!(format!("jak-draft-{i}"));
        entries.push(d);
    }
    req
}

#[tokio::test]
async fn more_orders_than_the_cap_are_refused_with_400() {
    let app = spawn_app(test_config()).await;
    let res = app.call(SERVICE, with_orders(50).to_string()).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert!(!body["cards"].as_array().unwrap().is_empty());

    let res = app.call(SERVICE, with_orders(51).to_string()).await;
    assert_eq!(res.status(), 400);
    let msg = error_message(res).await;
    assert!(msg.contains("51 draft orders"), "{msg}");
    assert!(msg.contains("limits.max_orders_per_call"), "{msg}");

    let mut config = test_config();
    config.limits.max_orders_per_call = 2;
    let app = spawn_app(config).await;
    assert_eq!(
        app.call(SERVICE, with_orders(2).to_string()).await.status(),
        200
    );
    assert_eq!(
        app.call(SERVICE, with_orders(3).to_string()).await.status(),
        400
    );
}

/// Send the headers of a POST declaring `declared` bytes, then one byte every 100 ms; the
/// status line the service answers with and how long it took.
async fn drip(port: u16, path: &str, declared: usize) -> (String, Duration) {
    let url = format!("http://127.0.0.1:{port}{path}");
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n",
        sandbox_token(&url)
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while started.elapsed() < Duration::from_secs(10) {
        // Drip a byte (ignore a refused write: the service may have answered and closed).
        let _ = stream.write_all(b" ").await;
        match tokio::time::timeout(Duration::from_millis(100), stream.read(&mut buf)).await {
            Ok(Ok(0)) => break,
            Ok(Ok(n)) => {
                answer.extend_from_slice(&buf[..n]);
                if answer.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            Ok(Err(_)) => break,
            Err(_) => {}
        }
    }
    let text = String::from_utf8_lossy(&answer);
    (
        text.lines().next().unwrap_or("(no answer)").to_string(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn a_dripped_body_is_cut_off_at_the_deadline_with_408() {
    let mut config = test_config();
    config.limits.body_timeout_ms = 500;
    let app = spawn_app(config).await;
    for path in [
        format!("/cds-services/{SERVICE}"),
        format!("/cds-services/{SERVICE}/feedback"),
    ] {
        let (status, took) = drip(app.port, &path, 4_000_000).await;
        assert!(status.starts_with("HTTP/1.1 408"), "{path}: {status:?}");
        assert!(
            took < Duration::from_secs(3),
            "{path}: answered after {took:?}"
        );
    }
    // A body that arrives in time is read as usual.
    let res = app.call(SERVICE, with_orders(1).to_string()).await;
    assert_eq!(res.status(), 200);
}
