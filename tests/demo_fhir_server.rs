//! The sandbox demo mode of the test FHIR server (scripts/demo-fhir-server.sh, docs/sandbox.md)
//! is what a browser-based EHR like the CDS Hooks sandbox needs: CORS for any origin (the
//! preflight too, with Private Network Access), an R4 CapabilityStatement at `/metadata`, the
//! demo patients loaded with the names and birth dates the sandbox's patient dialog lists, and
//! a server that keeps running when its standard input closes. Also: the test server accepts a
//! bundle without entries. Needs python3 and Node.js/npm (the script runs `npm ci` when needed).

mod fhir_support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use fhir_support::real_server::FhirTestServer;
use serde_json::Value;

const ORIGIN: &str = "https://sandbox.cds-hooks.org";

/// The demo script as a newcomer starts it, with its standard input closed from the start.
struct Demo {
    child: Child,
    base: String,
}

impl Demo {
    fn start() -> Demo {
        // Installed here, not by the script: the other test's server installs under a lock
        // this process holds, and two `npm ci` at once break each other.
        fhir_support::real_server::install();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/demo-fhir-server.sh");
        let mut child = Command::new(&script)
            .args(["--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {} failed: {e}", script.display()));
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(out).lines();
            let _ = tx.send(lines.next().and_then(Result::ok));
            for _ in lines {}
        });
        let line = rx.recv_timeout(Duration::from_secs(300)).ok().flatten();
        let port = line
            .as_deref()
            .and_then(|l| l.strip_prefix("port "))
            .and_then(|p| p.trim().parse::<u16>().ok());
        let Some(port) = port else {
            let _ = child.kill();
            panic!("the demo script did not report its port (got {line:?})");
        };
        Demo {
            child,
            base: format!("http://127.0.0.1:{port}/fhir"),
        }
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        // The script `exec`s the server: this is the server's pid.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_mode_serves_a_browser_and_runs_until_stopped() {
    let mut demo = Demo::start();
    // Its stdin was closed from the start: the test server's default is to exit then.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        demo.child.try_wait().expect("child status").is_none(),
        "the demo server exited when its standard input closed"
    );
    let client = reqwest::Client::new();

    // The browser's preflight before a GET with an Authorization header, from a public page to
    // localhost (Chromium's Private Network Access).
    let res = client
        .request(reqwest::Method::OPTIONS, format!("{}/Patient", demo.base))
        .header("Origin", ORIGIN)
        .header("Access-Control-Request-Method", "GET")
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type",
        )
        .header("Access-Control-Request-Private-Network", "true")
        .send()
        .await
        .expect("preflight");
    assert!(res.status().is_success(), "preflight: {}", res.status());
    assert_eq!(header(&res, "access-control-allow-origin"), ORIGIN);
    assert_eq!(header(&res, "access-control-allow-private-network"), "true");
    assert!(header(&res, "access-control-allow-methods").contains("GET"));
    let allowed = header(&res, "access-control-allow-headers").to_ascii_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("content-type"));

    // /metadata: an R4 CapabilityStatement (the sandbox reads fhirVersion from it), with CORS.
    let res = client
        .get(format!("{}/metadata", demo.base))
        .header("Origin", ORIGIN)
        .header("Accept", "application/json+fhir")
        .send()
        .await
        .expect("metadata");
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "access-control-allow-origin"), ORIGIN);
    let cap: Value = res.json().await.expect("metadata JSON");
    assert_eq!(cap["resourceType"], "CapabilityStatement");
    assert_eq!(cap["fhirVersion"], "4.0.1");
    assert_eq!(cap["kind"], "instance");
    assert_eq!(cap["rest"][0]["mode"], "server");

    // The patient dialog: `GET Patient` lists the demo patients with name and birth date.
    let res = client
        .get(format!("{}/Patient", demo.base))
        .header("Origin", "http://localhost:3000")
        .send()
        .await
        .expect("patient search");
    assert_eq!(
        header(&res, "access-control-allow-origin"),
        "http://localhost:3000"
    );
    let bundle: Value = res.json().await.expect("search JSON");
    let patients: Vec<(String, String)> = bundle["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            let p = &e["resource"];
            (
                p["id"].as_str().unwrap_or_default().to_string(),
                p["birthDate"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    for id in ["jak-demo-vte", "jak-demo-early", "jak-demo-refrac"] {
        assert!(
            patients
                .iter()
                .any(|(p, birth)| p == id && !birth.is_empty()),
            "{id} in {patients:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_server_accepts_an_empty_bundle_and_answers_metadata() {
    let dir = tempfile::tempdir().expect("temp dir");
    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, r#"{"resourceType":"Bundle","type":"transaction"}"#).expect("write");
    let server = FhirTestServer::start(&empty, &[]);
    let client = reqwest::Client::new();
    let bundle: Value = client
        .get(format!("{}/Patient", server.base))
        .send()
        .await
        .expect("search")
        .json()
        .await
        .expect("search JSON");
    assert_eq!(bundle["resourceType"], "Bundle");
    assert!(bundle["entry"].as_array().is_none_or(|e| e.is_empty()));
    let cap: Value = client
        .get(format!("{}/metadata", server.base))
        .send()
        .await
        .expect("metadata")
        .json()
        .await
        .expect("metadata JSON");
    assert_eq!(cap["resourceType"], "CapabilityStatement");
    // Outside demo mode: no CORS headers.
    let res = client
        .get(format!("{}/metadata", server.base))
        .header("Origin", ORIGIN)
        .send()
        .await
        .expect("metadata");
    assert!(res.headers().get("access-control-allow-origin").is_none());
}
