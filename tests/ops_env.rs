//! Configuration from the environment, through the real binary: a `JAK_SLE_CDS__…` variable
//! overrides the TOML file's key, `…_FILE` reads a secret, and `check-config` prints the
//! effective configuration with secrets masked and fails on an error.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_jak-sle-cds");

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A config file listening on `port`, with a throw-away SQLite store, auth off.
fn config_file(dir: &std::path::Path, port: u16) -> std::path::PathBuf {
    let path = dir.join("cds.toml");
    std::fs::write(
        &path,
        format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\n[auth]\nrequired = false\n\
             [store]\nurl = \"sqlite://{}/cds.db\"\n",
            dir.display()
        ),
    )
    .unwrap();
    path
}

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn an_environment_variable_overrides_the_files_key() {
    let dir = tempfile::tempdir().unwrap();
    let (file_port, env_port) = (free_port(), free_port());
    let config = config_file(dir.path(), file_port);
    let mut child = Child(
        Command::new(BIN)
            .args(["serve", "--config", config.to_str().unwrap()])
            .env(
                "JAK_SLE_CDS__SERVER__LISTEN",
                format!("127.0.0.1:{env_port}"),
            )
            .env("RUST_LOG", "info")
            .env("JAK_SLE_LOG_FORMAT", "json")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // The "listening" line; stderr is drained until the child exits (a closed pipe would
    // make its later log writes fail).
    let stderr = child.0.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("listening") {
                let _ = tx.send(line);
            }
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the service logs that it listens");
    assert!(line.contains(&env_port.to_string()), "{line}");
    let client = reqwest::Client::new();
    let ok = client
        .get(format!("http://127.0.0.1:{env_port}/livez"))
        .send()
        .await
        .expect("the service listens on the environment's port");
    assert_eq!(ok.status(), 200);
    assert!(
        client
            .get(format!("http://127.0.0.1:{file_port}/livez"))
            .send()
            .await
            .is_err(),
        "nothing listens on the file's port"
    );
}

#[test]
fn check_config_masks_secrets_from_files_and_fails_on_errors() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), 8080);
    let secret = dir.path().join("salt");
    std::fs::write(&secret, "very-secret-salt\n").unwrap();
    let out = Command::new(BIN)
        .args(["check-config", "--config", config.to_str().unwrap()])
        .env("JAK_SLE_CDS__STORE__AUDIT_SALT_FILE", &secret)
        .env("JAK_SLE_CDS__FHIR__TIMEOUT_MS", "750")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("timeout_ms = 750"), "{stdout}");
    assert!(stdout.contains("audit_salt = \"********\""), "{stdout}");
    assert!(!stdout.contains("very-secret-salt"), "{stdout}");
    assert!(stdout.contains("listen = \"127.0.0.1:8080\""), "{stdout}");

    let bad = Command::new(BIN)
        .args(["check-config", "--config", config.to_str().unwrap()])
        .env("JAK_SLE_CDS__FHIR__TIMEOUT_MS", "0")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("JAK_SLE_CDS__FHIR__TIMEOUT_MS"), "{stderr}");

    let typo = Command::new(BIN)
        .args(["check-config"])
        .env("JAK_SLE_CDS__SERVER__LISTN", "127.0.0.1:1")
        .output()
        .unwrap();
    assert!(!typo.status.success());
    assert!(String::from_utf8_lossy(&typo.stderr).contains("listn"));
}
