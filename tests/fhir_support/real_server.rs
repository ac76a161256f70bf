//! Starts the real FHIR test server (tests/fhir-server: Medplum's FHIR router over its
//! in-memory repository) as a child process.
//!
//! Runs `npm ci` in tests/fhir-server when its node_modules is missing (so a plain
//! `cargo test` works on a fresh machine with npm registry access), then starts
//! `server.mjs` with the Node 22 that the npm package `node` installs into
//! node_modules/.bin. The child is killed on drop (and exits by itself when its stdin, held
//! by this process, closes).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// How long the server may take to load the FHIR definitions and the fixture.
const START_TIMEOUT: Duration = Duration::from_secs(120);

pub struct FhirTestServer {
    child: Child,
    stderr: Arc<Mutex<String>>,
    /// FHIR base URL, e.g. "http://127.0.0.1:41234/fhir".
    pub base: String,
}

fn server_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fhir-server")
}

/// Install the server's npm dependencies when they are missing, under the same lock as
/// [`FhirTestServer::start`]. A test that starts the server another way (the demo script,
/// which runs `npm ci` itself when node_modules is missing) calls this first: `npm ci`
/// deletes node_modules before installing, so two at once break each other.
pub fn install() {
    ensure_installed(&server_dir());
}

/// Install the server's npm dependencies once per process when they are missing.
fn ensure_installed(dir: &Path) -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let node = dir.join("node_modules/.bin/node");
    if node.exists() {
        return node;
    }
    let npm = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .output();
    let out = match npm {
        Ok(out) => out,
        Err(e) => panic!(
            "the real FHIR server test needs Node.js and npm on PATH to install \
             tests/fhir-server (npm ci); running `npm` failed: {e}"
        ),
    };
    assert!(
        out.status.success(),
        "`npm ci` in {} failed ({}):\n{}",
        dir.display(),
        out.status,
        tail(&String::from_utf8_lossy(&out.stderr), 4000)
    );
    assert!(
        node.exists(),
        "`npm ci` ran but {} is missing (the npm package `node` provides Node 22)",
        node.display()
    );
    node
}

fn tail(s: &str, n: usize) -> &str {
    let start = s.len().saturating_sub(n);
    let start = (start..s.len())
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(s.len());
    &s[start..]
}

impl FhirTestServer {
    /// Start the server on a free port with `fixture` (a transaction Bundle) loaded.
    /// `extra` are more server.mjs arguments (e.g. `--page-size 2`, `--token t`).
    pub fn start(fixture: &Path, extra: &[&str]) -> FhirTestServer {
        let dir = server_dir();
        let node = ensure_installed(&dir);
        let mut child = Command::new(&node)
            .arg("server.mjs")
            .arg(fixture)
            .args(["--port", "0", "--base", "/fhir"])
            .args(extra)
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {} failed: {e}", node.display()));

        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(mut err) = child.stderr.take() {
            let sink = Arc::clone(&stderr);
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = err.read_to_string(&mut text);
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&text);
                }
            });
        }
        let (tx, rx) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            std::thread::spawn(move || {
                let mut lines = BufReader::new(out).lines();
                let first = lines.next().and_then(Result::ok);
                let _ = tx.send(first);
                for _ in lines {} // keep draining
            });
        }
        let line = rx.recv_timeout(START_TIMEOUT).ok().flatten();
        let port = line
            .as_deref()
            .and_then(|l| l.strip_prefix("port "))
            .and_then(|p| p.trim().parse::<u16>().ok());
        let mut server = FhirTestServer {
            child,
            stderr,
            base: String::new(),
        };
        match port {
            Some(port) => server.base = format!("http://127.0.0.1:{port}/fhir"),
            None => {
                let _ = server.child.kill();
                let _ = server.child.wait();
                std::thread::sleep(Duration::from_millis(200));
                let err = server.stderr.lock().map(|s| s.clone()).unwrap_or_default();
                panic!(
                    "the FHIR test server did not report its port (got {line:?}); stderr:\n{}",
                    tail(&err, 4000)
                );
            }
        }
        server
    }
}

impl FhirTestServer {
    /// The server-assigned id of the fixture patient with MRN `mrn`
    /// (identifier system `http://example.org/fhir/mrn`).
    pub async fn patient_id(&self, token: &str, mrn: &str) -> String {
        let mut url = url::Url::parse(&format!("{}/Patient", self.base)).expect("base URL");
        url.query_pairs_mut()
            .append_pair("identifier", &format!("http://example.org/fhir/mrn|{mrn}"));
        let body: serde_json::Value = reqwest::Client::new()
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .expect("patient search")
            .json()
            .await
            .expect("patient search JSON");
        body["entry"][0]["resource"]["id"]
            .as_str()
            .expect("the fixture patient exists")
            .to_string()
    }
}

impl Drop for FhirTestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
