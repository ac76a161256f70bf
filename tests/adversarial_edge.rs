//! Adversarial checks that passed in issue 9's round and must keep passing (see
//! docs/adversarial-checks.md), where no other test covered them: SSRF forms of the metadata
//! address, a FHIR answer over the size cap, a gzip bomb from the FHIR server, deeply nested
//! JSON, slowloris on the request headers, and kill -9 while feedback is being stored.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{fixture, sandbox_token, spawn_app, test_config};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SERVICE: &str = "jak-sle-order-select";

/// The order-select fixture against `fhir_server`, without its `conditions` (a required key,
/// so it must be fetched).
fn needing_conditions(fhir_server: &str) -> String {
    let mut req: Value = serde_json::from_str(&fixture("sandbox-r4-order-select.json")).unwrap();
    req["fhirServer"] = json!(fhir_server);
    req["prefetch"]
        .as_object_mut()
        .unwrap()
        .remove("conditions");
    req.to_string()
}

#[tokio::test]
async fn ssrf_forms_of_the_metadata_address_are_refused() {
    let mut config = test_config();
    config.fhir.allowed_servers = vec!["https://fhir.example.org/*".into()];
    let app = spawn_app(config).await;
    for server in [
        "http://169.254.169.254/fhir",
        "http://2852039166/fhir",
        "http://0xA9FEA9FE/fhir",
        "http://0251.0376.0251.0376/fhir",
        "http://[::ffff:169.254.169.254]/fhir",
        "https://fhir.example.org@169.254.169.254/fhir",
        "https://user:pw@fhir.example.org/fhir",
        "https://fhir.example.org.169.254.169.254.nip.io/fhir",
    ] {
        let res = app.call(SERVICE, needing_conditions(server)).await;
        assert_eq!(res.status(), 403, "{server}");
    }
}

#[tokio::test]
async fn an_oversized_or_gzip_bomb_fhir_answer_is_not_used() {
    // 25 MB of JSON (over the 20 MB cap), and a gzip-encoded valid Bundle: the client never
    // inflates (reqwest is built without decompression), so a bomb stays a small body that
    // is not JSON.
    let big = MockServer::start().await;
    let padding = "x".repeat(25 * 1024 * 1024);
    Mock::given(method("GET"))
        .and(path("/fhir/Condition"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            format!("{{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"id\":\"{padding}\"}}"),
            "application/fhir+json",
        ))
        .mount(&big)
        .await;
    let bomb = MockServer::start().await;
    let conditions: Value = serde_json::from_str::<Value>(&fixture("sandbox-r4-order-select.json"))
        .unwrap()["prefetch"]["conditions"]
        .clone();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(conditions.to_string().as_bytes()).unwrap();
    Mock::given(method("GET"))
        .and(path("/fhir/Condition"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-encoding", "gzip")
                .set_body_raw(gz.finish().unwrap(), "application/fhir+json"),
        )
        .mount(&bomb)
        .await;
    let mut config = test_config();
    config.fhir.allowed_servers = vec!["http://127.0.0.1:*".into()];
    let app = spawn_app(config).await;
    for server in [&big, &bomb] {
        let res = app
            .call(
                SERVICE,
                needing_conditions(&format!("{}/fhir", server.uri())),
            )
            .await;
        assert_eq!(res.status(), 412, "{}", server.uri());
    }
}

#[tokio::test]
async fn deeply_nested_json_is_a_400_not_a_crash() {
    let app = spawn_app(test_config()).await;
    let depth = 100_000;
    let mut req: Value = serde_json::from_str(&fixture("sandbox-r4-order-select.json")).unwrap();
    req["prefetch"]["labs"] = json!("PLACEHOLDER");
    let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let body = req.to_string().replace("\"PLACEHOLDER\"", &nested);
    // Refused (400), or the value is skipped as unreadable (200): never a crash or a 5xx.
    let status = app.call(SERVICE, body).await.status();
    assert!(status == 400 || status == 200, "{status}");
    // Nested objects inside one prefetch resource.
    let deep_object = format!(
        "{{\"resourceType\":\"Observation\",\"code\":{}{}}}",
        "{\"a\":".repeat(5_000),
        "1".to_string() + &"}".repeat(5_000)
    );
    let body = req.to_string().replace("\"PLACEHOLDER\"", &deep_object);
    let status = app.call(SERVICE, body).await.status();
    assert!(status == 400 || status == 200, "{status}");
    // The service is still there.
    let res = app
        .call(SERVICE, fixture("sandbox-r4-order-select.json"))
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn slowloris_on_the_headers_is_cut_off() {
    let app = spawn_app(test_config()).await;
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    stream
        .write_all(b"POST /cds-services/jak-sle-order-select HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 512];
    let mut closed = false;
    while started.elapsed() < Duration::from_secs(15) {
        // One header byte at a time, never finishing the headers.
        if stream.write_all(b"X").await.is_err() {
            closed = true;
            break;
        }
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await {
            Ok(Ok(_)) | Ok(Err(_)) => {
                // An answer (408) or a closed connection: cut off.
                closed = true;
                break;
            }
            Err(_) => {}
        }
    }
    assert!(
        closed,
        "headers still being read after {:?}",
        started.elapsed()
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

/// A free port on 127.0.0.1 (closed again: the service binds it next).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_feedback_loses_no_acknowledged_item() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cds.db");
    let cfg = dir.path().join("cds.toml");
    std::fs::write(
        &cfg,
        format!(
            "[store]\nurl = \"sqlite://{}\"\n[[auth.issuers]]\niss = \"{}\"\njwks_file = {:?}\njku = [\"{}\"]\n",
            db.display(),
            common::SANDBOX_ISS,
            common::shared("sandbox-keys/jwks.json"),
            common::SANDBOX_JKU,
        ),
    )
    .unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_jak-sle-cds"))
        .args(["serve", "--config"])
        .arg(&cfg)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let up = Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            up.elapsed() < Duration::from_secs(30),
            "service did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let path = "/cds-services/jak-sle-order-select/feedback";
    let url = format!("{base}{path}");
    // Post continuously from 8 tasks; kill -9 once 200 items were acknowledged.
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut tasks = Vec::new();
    for t in 0..8 {
        let (client, url, acknowledged) = (client.clone(), url.clone(), acknowledged.clone());
        tasks.push(tokio::spawn(async move {
            for n in 0.. {
                let card = format!("kill9-{t}-{n}");
                let body = json!({"feedback": [{"card": card, "outcome": "overridden",
                    "outcomeTimestamp": "2026-12-02T10:00:00Z"}]});
                let res = client
                    .post(&url)
                    .bearer_auth(sandbox_token(&url))
                    .header("content-type", "application/json")
                    .body(body.to_string())
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status() == 200 => acknowledged.lock().unwrap().push(card),
                    Ok(r) => panic!("feedback answered {}", r.status()),
                    Err(_) => break,
                }
            }
        }));
    }
    let posting = Instant::now();
    while acknowledged.lock().unwrap().len() < 200 {
        assert!(
            posting.elapsed() < Duration::from_secs(120),
            "feedback too slow"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    for t in tasks {
        let _ = t.await;
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let stored: Vec<String> = sqlx::query_scalar("SELECT card_uuid FROM feedback")
        .fetch_all(&pool)
        .await
        .unwrap();
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|c| !stored.contains(c))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged items lost",
        lost.len(),
        acknowledged.len()
    );
}
