//! The command line: `evaluate` on a fixture (JSON and text), its refusals, and start-up
//! refusing a broken configuration.

mod common;

use std::ffi::OsStr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::fixture_path;

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jak-sle-cds"));
    cmd.env("RUST_LOG", "warn");
    cmd
}

/// Run the binary with `args`; it must fail within 30 s. Returns its stderr.
fn fails(args: &[&std::ffi::OsStr]) -> String {
    let mut child = bin()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("{args:?} did not stop");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success(), "{args:?} succeeded");
    assert!(out.stdout.is_empty(), "{args:?} printed a response");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn evaluate_prints_a_conformant_json_response() {
    for name in [
        "sandbox-r4-order-select.json",
        "sandbox-dstu2-order-select.json",
        "epic-order-sign.json",
        "legacy-medication-prescribe.json",
    ] {
        let out = bin()
            .args(["evaluate", "--request"])
            .arg(fixture_path(name))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let body: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{name}: stdout is not JSON: {e}"));
        common::assert_spec_conformant_response(&body);
    }
}

#[test]
fn evaluate_text_format_uses_the_text_renderer() {
    let out = bin()
        .args([
            "evaluate",
            "--format",
            "text",
            "--today",
            "2026-11-26",
            "--request",
        ])
        .arg(fixture_path("sandbox-r4-order-sign.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json_out = bin()
        .args(["evaluate", "--today", "2026-11-26", "--request"])
        .arg(fixture_path("sandbox-r4-order-sign.json"))
        .output()
        .unwrap();
    let response: jak_sle_cds::cds::CdsResponse = serde_json::from_slice(&json_out.stdout).unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        jak_sle_cds::cards::text::render(&response)
    );
}

#[test]
fn evaluate_refuses_bad_input_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"hook": "order-sign", "context": {"patientId": "p"}}"#,
    )
    .unwrap();
    let sign = fixture_path("sandbox-r4-order-sign.json");
    let os = |s: &'static str| OsStr::new(s);
    let err = fails(&[os("evaluate"), os("--request"), bad.as_os_str()]);
    assert!(err.contains("hookInstance"), "{err}");
    let err = fails(&[
        os("evaluate"),
        os("--service"),
        os("no-such"),
        os("--request"),
        sign.as_os_str(),
    ]);
    assert!(err.contains("no-such"), "{err}");
    let err = fails(&[
        os("evaluate"),
        os("--service"),
        os("jak-sle-order-select"),
        os("--request"),
        sign.as_os_str(),
    ]);
    assert!(err.contains("does not match"), "{err}");
}

#[test]
fn serve_refuses_a_broken_config_naming_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("broken.toml");
    std::fs::write(&cfg, "[server]\nlisten = \"127.0.0.1:0\"\nmax_body = 5\n").unwrap();
    let err = fails(&[OsStr::new("serve"), OsStr::new("--config"), cfg.as_os_str()]);
    assert!(
        err.contains("broken.toml") && err.contains("max_body"),
        "{err}"
    );
}

#[test]
fn serve_refuses_a_broken_services_file() {
    let dir = tempfile::tempdir().unwrap();
    let hooks = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("hooks");
    copy_dir(&hooks, dir.path());
    let services = dir.path().join("services.json");
    let text = std::fs::read_to_string(&services).unwrap().replacen(
        "Patient/{{context.patientId}}",
        "Patient/{{context.draftOrders}}",
        1,
    );
    std::fs::write(&services, text).unwrap();
    let cfg = dir.path().join("c.toml");
    let toml = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n[auth]\nrequired = false\n[knowledge]\ndir = {:?}\n",
        dir.path().display().to_string()
    );
    std::fs::write(&cfg, toml).unwrap();
    let err = fails(&[OsStr::new("serve"), OsStr::new("--config"), cfg.as_os_str()]);
    assert!(
        err.contains("services.json") && err.contains("draftOrders"),
        "{err}"
    );
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn report_arguments_are_parsed() {
    let err = fails(&[
        OsStr::new("report"),
        OsStr::new("--since"),
        OsStr::new("last week"),
    ]);
    assert!(err.contains("--since"), "{err}");
    let help = bin().args(["report", "--help"]).output().unwrap();
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        text.contains("--since") && text.contains("--config"),
        "{text}"
    );
}

#[test]
fn evaluate_answers_a_patient_view_request_with_the_monitoring_cards() {
    let out = bin()
        .args([
            "evaluate",
            "--today",
            "2026-11-26",
            "--format",
            "text",
            "--request",
        ])
        .arg(fixture_path("sandbox-patient-view.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // Tofacitinib since 2025-03-01, a DVT on 2026-09-01: stop (critical), named by the
    // monitoring service's topic.
    assert!(
        text.contains("CRITICAL") && text.contains("Tofacitinib: stop — VTE after the start"),
        "{text}"
    );
    assert!(text.contains("jaki-monitoring-stop"), "{text}");
}
