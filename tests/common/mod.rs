//! Shared helpers for the integration tests: spawn the service on a free port, sign tokens as
//! the CDS Hooks sandbox does, load fixtures, and check responses against the CDS Hooks
//! 2.0.1 rules a service must follow (reusable by the engine's tests).
#![allow(dead_code)]

use std::collections::HashSet;
use std::path::PathBuf;

use jak_sle_cds::config::{Config, IssuerSettings};
use jak_sle_cds::server::pipeline::load_knowledge;
use jak_sle_cds::server::Application;
use serde_json::Value;

/// Whether the spawned service checks tokens. Every request sends a sandbox token either way,
/// so turning authentication on in all HTTP tests is this one line.
pub const AUTH_REQUIRED: bool = true;

pub const SANDBOX_ISS: &str = "https://sandbox.cds-hooks.org";
pub const SANDBOX_KID: &str = "44823f3d-0b01-4a6c-a80e-b9d3e8a7226f";
pub const SANDBOX_JKU: &str = "https://sandbox.cds-hooks.org/.well-known/jwks.json";

/// `../shared/reference/...` beside the repository.
pub fn shared(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/reference")
        .join(path)
}

pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/requests")
        .join(name)
}

/// A request fixture's text.
pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixture_path(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// A request fixture as JSON, for tests that alter it.
pub fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// A configuration for tests: a free port on 127.0.0.1, the sandbox as the only issuer
/// (its published JWKS), a throw-away SQLite store, no FHIR fallback.
pub fn test_config() -> Config {
    let mut config = Config::default();
    config.server.listen = "127.0.0.1:0".parse().expect("socket address");
    config.auth.required = AUTH_REQUIRED;
    config.auth.issuers = vec![IssuerSettings {
        iss: SANDBOX_ISS.into(),
        jwks_file: Some(shared("sandbox-keys/jwks.json")),
        jwks_url: None,
        jku: vec![SANDBOX_JKU.into()],
    }];
    let dir = tempfile::tempdir().expect("temp dir").keep();
    config.store.url = format!("sqlite://{}/test.db", dir.display());
    config
}

pub struct TestApp {
    /// "http://127.0.0.1:PORT"
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    /// Stops the server (see [`TestApp::stop`]).
    pub handle: actix_web::dev::ServerHandle,
}

/// Build the application from `config` (knowledge per its [knowledge] section), run it in
/// the background and return its address.
pub async fn spawn_app(config: Config) -> TestApp {
    let knowledge = load_knowledge(&config).expect("knowledge loads");
    let app = Application::build(config, knowledge)
        .await
        .expect("application builds");
    let port = app.port();
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        client: reqwest::Client::new(),
        handle,
    }
}

/// The SQLite store of a [`test_config`], opened directly (another connection pool on the
/// same file, as a second replica or the `report` command would).
pub async fn open_store(config: &Config) -> jak_sle_cds::store::Store {
    jak_sle_cds::store::Store::open(&config.store)
        .await
        .expect("store opens")
}

/// The SQLite file behind a [`test_config`]'s `store.url`.
pub fn store_file(config: &Config) -> PathBuf {
    PathBuf::from(
        config
            .store
            .url
            .trim_start_matches("sqlite://")
            .split('?')
            .next()
            .unwrap_or_default(),
    )
}

impl TestApp {
    /// Stop the server gracefully: requests in flight are answered first.
    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// GET with a sandbox token for the exact URL.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        let url = self.url(path);
        self.client
            .get(&url)
            .bearer_auth(sandbox_token(&url))
            .send()
            .await
            .expect("request sent")
    }

    /// POST a JSON text with a sandbox token for the exact URL.
    pub async fn post(&self, path: &str, body: impl Into<String>) -> reqwest::Response {
        let token = sandbox_token(&self.url(path));
        self.post_with_token(path, &token, body)
            .await
            .expect("request sent")
    }

    /// POST a JSON text with the given bearer token.
    pub async fn post_with_token(
        &self,
        path: &str,
        token: &str,
        body: impl Into<String>,
    ) -> reqwest::Result<reqwest::Response> {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.into())
            .send()
            .await
    }

    /// POST to a service: `/cds-services/{id}`.
    pub async fn call(&self, service_id: &str, body: impl Into<String>) -> reqwest::Response {
        self.post(&format!("/cds-services/{service_id}"), body)
            .await
    }
}

/// A JWT signed exactly as the sandbox signs its calls: ES384 with its published key,
/// header typ/kid/jku, claims iss/aud/iat/exp (= iat + 300)/jti.
pub fn sandbox_token(audience_url: &str) -> String {
    let pem = std::fs::read(shared("sandbox-keys/ecprivkey.pem")).expect("sandbox private key");
    let key = jsonwebtoken::EncodingKey::from_ec_pem(&pem).expect("EC PEM key");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES384);
    header.typ = Some("JWT".into());
    header.kid = Some(SANDBOX_KID.into());
    header.jku = Some(SANDBOX_JKU.into());
    let iat = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({
        "iss": SANDBOX_ISS,
        "aud": audience_url,
        "iat": iat,
        "exp": iat + 300,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    jsonwebtoken::encode(&header, &claims, &key).expect("token signs")
}

/// The body of a JSON error response: `{"error": "<non-empty message>"}`.
pub async fn error_message(res: reqwest::Response) -> String {
    let body: Value = res.json().await.expect("JSON error body");
    let msg = body["error"]
        .as_str()
        .expect("error is a string")
        .to_string();
    assert!(!msg.is_empty(), "empty error message");
    msg
}

// ---------------------------------------------------------------------------------------------
// Conformance validators (CDS Hooks 2.0.1, Service-side rules)
// ---------------------------------------------------------------------------------------------

/// JSON elements SHALL NOT be null or empty (req 3): no `null`, `""`, `[]` or `{}` anywhere,
/// except the paths listed in `may_be_empty` (e.g. `/cards`).
pub fn assert_no_null_or_empty(value: &Value, path: &str, may_be_empty: &[&str]) {
    let empty_ok = may_be_empty.contains(&path);
    match value {
        Value::Null => panic!("{path}: null element"),
        Value::String(s) => assert!(!s.is_empty() || empty_ok, "{path}: empty string"),
        Value::Array(a) => {
            assert!(!a.is_empty() || empty_ok, "{path}: empty array");
            for (i, v) in a.iter().enumerate() {
                assert_no_null_or_empty(v, &format!("{path}/{i}"), may_be_empty);
            }
        }
        Value::Object(o) => {
            assert!(!o.is_empty() || empty_ok, "{path}: empty object");
            for (k, v) in o {
                assert_no_null_or_empty(v, &format!("{path}/{k}"), may_be_empty);
            }
        }
        Value::Bool(_) | Value::Number(_) => {}
    }
}

fn is_absolute_url(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

fn str_field<'a>(obj: &'a Value, key: &str, path: &str) -> &'a str {
    obj.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{path}.{key}: required string missing or not a string"))
}

fn assert_coding(c: &Value, path: &str, display_required: bool) {
    str_field(c, "system", path);
    str_field(c, "code", path);
    if display_required {
        str_field(c, "display", path);
    } else if let Some(d) = c.get("display") {
        assert!(d.is_string(), "{path}.display: not a string");
    }
}

fn assert_action(a: &Value, path: &str) {
    let kind = str_field(a, "type", path);
    str_field(a, "description", path);
    match kind {
        "create" | "update" => {
            let resource = a
                .get("resource")
                .unwrap_or_else(|| panic!("{path}: {kind} action without resource"));
            assert!(
                resource.get("resourceType").is_some_and(Value::is_string),
                "{path}.resource: not a FHIR resource"
            );
        }
        "delete" => {
            assert!(
                a.get("resource").is_none(),
                "{path}: delete action SHALL NOT carry a resource"
            );
            let id = str_field(a, "resourceId", path);
            assert!(id.contains('/'), "{path}.resourceId: expected Type/id");
        }
        other => panic!("{path}.type: {other:?} is not create|update|delete"),
    }
    if let Some(id) = a.get("resourceId") {
        assert!(id.is_string(), "{path}.resourceId: not a string");
    }
}

/// Every protocol-level rule a CDS service response must meet (CDS Hooks 2.0.1 "CDS Service
/// Response"): a `cards` array (and optional `systemActions`), no null/empty elements, and
/// per card: uuid (unique; optional in the spec, required by this service because feedback
/// and the sandbox's Dismiss need it), summary < 140 characters, indicator info|warning|critical, source
/// with label (absolute url/icon, topic Coding), suggestions with label and actions and then
/// selectionBehavior at-most-one|any, overrideReasons as Codings with display, links with
/// label, absolute url, type absolute|smart and no appContext on absolute links.
pub fn assert_spec_conformant_response(body: &Value) {
    let obj = body.as_object().expect("response is a JSON object");
    for key in obj.keys() {
        assert!(
            key == "cards" || key == "systemActions",
            "unexpected top-level key {key:?}"
        );
    }
    assert_no_null_or_empty(body, "", &["/cards"]);
    let cards = obj
        .get("cards")
        .and_then(Value::as_array)
        .expect("cards array");
    let mut uuids = HashSet::new();
    for (i, card) in cards.iter().enumerate() {
        let p = format!("cards[{i}]");
        let uuid = str_field(card, "uuid", &p);
        assert!(uuids.insert(uuid.to_string()), "{p}.uuid: not unique");
        let summary = str_field(card, "summary", &p);
        assert!(
            summary.chars().count() < 140,
            "{p}.summary: {} characters (must be < 140)",
            summary.chars().count()
        );
        if let Some(d) = card.get("detail") {
            assert!(d.is_string(), "{p}.detail: not a string");
        }
        let indicator = str_field(card, "indicator", &p);
        assert!(
            ["info", "warning", "critical"].contains(&indicator),
            "{p}.indicator: {indicator:?}"
        );
        let source = card
            .get("source")
            .unwrap_or_else(|| panic!("{p}.source: required"));
        str_field(source, "label", &format!("{p}.source"));
        for key in ["url", "icon"] {
            if let Some(u) = source.get(key) {
                assert!(
                    u.as_str().is_some_and(is_absolute_url),
                    "{p}.source.{key}: not an absolute URL"
                );
            }
        }
        if let Some(topic) = source.get("topic") {
            assert_coding(topic, &format!("{p}.source.topic"), false);
        }
        if let Some(suggestions) = card.get("suggestions") {
            let suggestions = suggestions
                .as_array()
                .unwrap_or_else(|| panic!("{p}.suggestions: not an array"));
            let behavior = card
                .get("selectionBehavior")
                .and_then(Value::as_str)
                .unwrap_or_else(|| {
                    panic!("{p}.selectionBehavior: required when suggestions are present")
                });
            assert!(
                ["at-most-one", "any"].contains(&behavior),
                "{p}.selectionBehavior: {behavior:?}"
            );
            for (j, s) in suggestions.iter().enumerate() {
                let sp = format!("{p}.suggestions[{j}]");
                str_field(s, "label", &sp);
                if let Some(u) = s.get("uuid") {
                    assert!(u.is_string(), "{sp}.uuid: not a string");
                }
                if let Some(r) = s.get("isRecommended") {
                    assert!(r.is_boolean(), "{sp}.isRecommended: not a boolean");
                }
                if let Some(actions) = s.get("actions") {
                    let actions = actions
                        .as_array()
                        .unwrap_or_else(|| panic!("{sp}.actions: not an array"));
                    for (k, a) in actions.iter().enumerate() {
                        assert_action(a, &format!("{sp}.actions[{k}]"));
                    }
                }
            }
        }
        if let Some(reasons) = card.get("overrideReasons") {
            let reasons = reasons
                .as_array()
                .unwrap_or_else(|| panic!("{p}.overrideReasons: not an array"));
            for (j, r) in reasons.iter().enumerate() {
                assert_coding(r, &format!("{p}.overrideReasons[{j}]"), true);
            }
        }
        if let Some(links) = card.get("links") {
            let links = links
                .as_array()
                .unwrap_or_else(|| panic!("{p}.links: not an array"));
            for (j, l) in links.iter().enumerate() {
                let lp = format!("{p}.links[{j}]");
                str_field(l, "label", &lp);
                let url = str_field(l, "url", &lp);
                assert!(is_absolute_url(url), "{lp}.url: not an absolute URL");
                let kind = str_field(l, "type", &lp);
                assert!(["absolute", "smart"].contains(&kind), "{lp}.type: {kind:?}");
                if kind == "absolute" {
                    assert!(
                        l.get("appContext").is_none(),
                        "{lp}: appContext is not valid on absolute links"
                    );
                } else if let Some(c) = l.get("appContext") {
                    assert!(c.is_string(), "{lp}.appContext: not a string");
                }
            }
        }
    }
    if let Some(actions) = obj.get("systemActions") {
        let actions = actions.as_array().expect("systemActions: array");
        for (i, a) in actions.iter().enumerate() {
            assert_action(a, &format!("systemActions[{i}]"));
        }
    }
}

/// The discovery document: `{"services": [...]}`, each with hook, id, description (and
/// title), prefetch an object of string templates, nothing internal, nothing null or empty.
pub fn assert_spec_conformant_discovery(body: &Value) {
    assert_no_null_or_empty(body, "", &[]);
    let services = body["services"].as_array().expect("services array");
    let mut ids = HashSet::new();
    for (i, s) in services.iter().enumerate() {
        let p = format!("services[{i}]");
        for key in s.as_object().expect("service object").keys() {
            assert!(
                [
                    "hook",
                    "title",
                    "description",
                    "id",
                    "prefetch",
                    "usageRequirements",
                    "extension"
                ]
                .contains(&key.as_str()),
                "{p}: unexpected key {key:?}"
            );
        }
        if let Some(ext) = s.get("extension") {
            // CDS Hooks 2.0.1 "Extensions": a JSON object.
            assert!(ext.is_object(), "{p}.extension: not an object");
        }
        str_field(s, "hook", &p);
        str_field(s, "description", &p);
        str_field(s, "title", &p);
        assert!(
            ids.insert(str_field(s, "id", &p).to_string()),
            "{p}.id: not unique"
        );
        if let Some(prefetch) = s.get("prefetch") {
            for (k, t) in prefetch.as_object().expect("prefetch object") {
                assert!(t.is_string(), "{p}.prefetch.{k}: not a string");
            }
        }
    }
}

/// A read-only SQL connection to a [`test_config`]'s SQLite store, to look at the rows the
/// service wrote (the store's API has no row-level reads).
pub async fn store_sql(config: &Config) -> sqlx::SqlitePool {
    let url = format!("sqlite://{}?mode=ro", store_file(config).display());
    sqlx::SqlitePool::connect(&url)
        .await
        .expect("store file opens read-only")
}

/// Wait (bounded) until `probe` returns `Some`: for what the service writes in the
/// background, such as audit records.
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after 15 s waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Generate a synthetic Bulk Data export with scripts/gen-bulk-export.py (seeded).
pub fn generate_export(dir: &std::path::Path, patients: u32, sle_prevalence: f64, bad_lines: u32) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/gen-bulk-export.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .args(["--patients", &patients.to_string()])
        .args(["--sle-prevalence", &sle_prevalence.to_string()])
        .args(["--gzip", "Observation", "--seed", "11"])
        .args(["--bad-lines", &bad_lines.to_string()])
        .arg("--out")
        .arg(dir)
        .output()
        .expect("python3 runs the generator");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// (indicator, topic code, summary) of every card of a CDS response, in order.
pub fn cards_of(response: &Value) -> Vec<(String, String, String)> {
    response["cards"]
        .as_array()
        .expect("cards array")
        .iter()
        .map(|c| {
            (
                c["indicator"].as_str().unwrap_or_default().to_string(),
                c["source"]["topic"]["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                c["summary"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}
