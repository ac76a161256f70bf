//! Probes: `/livez` and `/healthz` answer without checking dependencies; `/readyz` is 503 and
//! names the failed check when the store is unreachable (a TCP proxy in front of PostgreSQL is
//! cut, then restored) or an issuer's key set cannot be loaded, and 200 otherwise.

mod common;
mod store_support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{shared, spawn_app, test_config, SANDBOX_ISS};
use jak_sle_cds::config::IssuerSettings;
use serde_json::Value;
use store_support::TestDb;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A TCP proxy that can be cut (every connection dropped, nothing accepted) and restored.
struct Proxy {
    port: u16,
    target: SocketAddr,
    task: Option<JoinHandle<()>>,
}

impl Proxy {
    async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut proxy = Proxy {
            port,
            target,
            task: None,
        };
        proxy.task = Some(tokio::spawn(forward(listener, target)));
        proxy
    }

    fn cut(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    async fn restore(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.task = Some(tokio::spawn(forward(listener, self.target)));
    }
}

/// Accept and forward until aborted; aborting drops the listener and every connection.
async fn forward(listener: TcpListener, target: SocketAddr) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            continue;
        };
        connections.spawn(async move {
            if let Ok(mut outbound) = TcpStream::connect(target).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}

async fn readyz(app: &common::TestApp) -> (u16, Value) {
    let res = app.client.get(app.url("/readyz")).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

#[tokio::test]
async fn liveness_checks_nothing_and_healthz_is_its_alias() {
    let app = spawn_app(test_config()).await;
    for p in ["/livez", "/healthz"] {
        let res = app.client.get(app.url(p)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{p}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["status"], "ok");
    }
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["failed"], serde_json::json!([]));
    let names: Vec<&str> = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["store", "knowledge", &format!("jwks {SANDBOX_ISS}")],
        "{body}"
    );
}

#[tokio::test]
async fn readiness_fails_while_the_store_is_unreachable_and_recovers() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let mut url = url::Url::parse(&db.url).unwrap();
    let target: SocketAddr = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432))
        .parse()
        .unwrap();
    let mut proxy = Proxy::start(target).await;
    url.set_port(Some(proxy.port)).unwrap();
    let mut config = test_config();
    config.store.url = url.to_string();
    let app = spawn_app(config).await;

    let (status, body) = readyz(&app).await;
    assert_eq!(status, 200, "{body}");

    proxy.cut();
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["failed"], serde_json::json!(["store"]), "{body}");
    assert_eq!(body["checks"][0]["ok"], false);
    assert!(body["checks"][0]["reason"].is_string(), "{body}");
    // Liveness does not depend on the store.
    let live = app.client.get(app.url("/livez")).send().await.unwrap();
    assert_eq!(live.status(), 200);

    proxy.restore().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = readyz(&app).await;
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "still not ready: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.stop().await;
    db.cleanup().await;
}

#[tokio::test]
async fn readiness_names_an_issuer_whose_key_set_cannot_be_loaded() {
    let jwks_server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/broken.json"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&jwks_server)
        .await;
    let jwks = std::fs::read_to_string(shared("sandbox-keys/jwks.json")).unwrap();
    Mock::given(method("GET"))
        .and(path("/jwks.json"))
        .respond_with(ResponseTemplate::new(200).set_body_string(jwks))
        .mount(&jwks_server)
        .await;
    let issuer = |iss: &str, file: &str| IssuerSettings {
        iss: iss.into(),
        jwks_file: None,
        jwks_url: Some(format!("{}/{file}", jwks_server.uri())),
        jku: Vec::new(),
    };

    let mut config = test_config();
    config.auth.issuers = vec![
        issuer("https://good.example", "jwks.json"),
        issuer("https://broken.example", "broken.json"),
    ];
    let app = spawn_app(config).await;
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        body["failed"],
        serde_json::json!(["jwks https://broken.example"]),
        "{body}"
    );

    let mut config = test_config();
    config.auth.issuers = vec![issuer("https://good.example", "jwks.json")];
    let app = spawn_app(config).await;
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 200, "{body}");
}
