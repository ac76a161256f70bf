//! The HTML outputs in a real browser (issue 11): the committee report (`report --format
//! html`) and the cohort's summary.html are rendered by headless Chromium, which must draw
//! their charts (SVG elements in the rendered DOM) without a console message; a screenshot of
//! each is written under target/browser/ for review. Needs the Debian package `chromium`
//! (installed by .ci/run).

mod common;
mod store_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{Duration, TimeZone, Utc};
use jak_sle_cds::cds::feedback::{FeedbackItem, Outcome, OverrideReason};
use jak_sle_cds::cds::{Card, Coding, Indicator};
use jak_sle_cds::config::ServiceMode;
use jak_sle_cds::store::{AuditRecord, Store};

const BIN: &str = env!("CARGO_BIN_EXE_jak-sle-cds");

fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(out) = Command::new("which").arg(name).output() {
            if out.status.success() {
                return PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            }
        }
    }
    panic!("headless Chromium is needed: apt-get install -y chromium (see .ci/run)");
}

/// What Chromium made of a page: the rendered DOM and its console messages.
struct Rendered {
    dom: String,
    console: Vec<String>,
}

fn render(page: &Path, screenshot: Option<&Path>) -> Rendered {
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", page.display());
    let common = |c: &mut Command| {
        c.args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()));
    };
    let mut dump = Command::new(chromium());
    common(&mut dump);
    let out = dump
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let console = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    if let Some(png) = screenshot {
        let mut shot = Command::new(chromium());
        common(&mut shot);
        let out = shot
            .arg("--window-size=1000,2600")
            .arg(format!("--screenshot={}", png.display()))
            .arg(&url)
            .output()
            .expect("chromium runs");
        assert!(out.status.success() && png.exists(), "no screenshot");
    }
    Rendered {
        dom: String::from_utf8_lossy(&out.stdout).into_owned(),
        console,
    }
}

fn shots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Check one page: `charts` SVG charts drawn with bars, no console message.
fn check(page: &Path, charts: usize, screenshot: &str) {
    let png = shots().join(screenshot);
    let r = render(page, Some(&png));
    assert!(
        r.console.is_empty(),
        "console messages for {}: {:?}",
        page.display(),
        r.console
    );
    let svgs = r.dom.matches("<svg").count();
    assert!(svgs >= charts, "{svgs} SVG charts drawn, expected {charts}");
    assert!(r.dom.matches("<rect").count() > svgs, "bars drawn");
    assert!(r.dom.contains("<text"), "labels drawn");
}

#[test]
fn the_console_check_sees_console_errors() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("error.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><script>console.error('broken chart')</script></body></html>",
    )
    .unwrap();
    let r = render(&page, None);
    assert!(
        r.console.iter().any(|l| l.contains("broken chart")),
        "{:?}",
        r.console
    );
}

/// Run a command that must succeed.
fn run_ok(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().expect("command runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Six weeks of calls: a silent fortnight, then live; overrides with reasons.
async fn fill(store: &Store) {
    let topics = [
        ("jaki-sle-contraindicated", Indicator::Critical),
        ("jaki-sle-not-recommended", Indicator::Warning),
        ("jaki-sle-conditional", Indicator::Info),
        ("jaki-dose-adjustment", Indicator::Warning),
        ("jaki-pre-treatment-screening", Indicator::Info),
    ];
    let start = Utc.with_ymd_and_hms(2026, 10, 19, 9, 0, 0).unwrap();
    let reasons = [
        ("benefit-outweighs-risk", "Benefit outweighs risk"),
        ("already-addressed", "Already addressed"),
        ("patient-declined", "Patient declined"),
    ];
    for i in 0..180_i64 {
        let at = start + Duration::hours(i * 5);
        let silent = i < 60;
        let picked: Vec<usize> = (0..1 + (i % 3) as usize)
            .map(|k| (i as usize * 7 + k * 3) % topics.len())
            .collect();
        let cards: Vec<Card> = picked
            .iter()
            .map(|&j| {
                store_support::card(&uuid::Uuid::new_v4().to_string(), topics[j].0, topics[j].1)
            })
            .collect();
        let record = AuditRecord {
            at,
            service_id: "jak-sle-order-sign".into(),
            hook: "order-sign".into(),
            hook_instance: uuid::Uuid::new_v4().to_string(),
            patient_id: Some(format!("p{i}")),
            cards: Vec::new(),
            latency_ms: 8 + (i * 37 % 90) as u64,
            status: 200,
            removed_other_patients: 0,
            mode: if silent {
                ServiceMode::Silent
            } else {
                ServiceMode::Live
            },
            knowledge_version: if i < 120 { "1.0.0" } else { "1.1.0" }.into(),
        };
        store.record_call(&record, &cards).await.unwrap();
        if !silent {
            let feedback: Vec<FeedbackItem> = cards
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    // Override rates differ per topic (30%, 60%, 10%, 50%, 20%).
                    let overridden = (i as usize * 13 + k * 7) % 10 < [3, 6, 1, 5, 2][picked[k]];
                    let (code, display) = reasons[(i as usize + k) % reasons.len()];
                    FeedbackItem {
                        card: c.uuid.clone(),
                        outcome: if overridden {
                            Outcome::Overridden
                        } else {
                            Outcome::Accepted
                        },
                        accepted_suggestions: Vec::new(),
                        override_reason: overridden.then(|| OverrideReason {
                            reason: Some(Coding {
                                system: jak_sle_cds::cards::OVERRIDE_REASON_SYSTEM.into(),
                                code: code.into(),
                                display: Some(display.into()),
                            }),
                            user_comment: None,
                        }),
                        outcome_timestamp: (at + Duration::minutes(1)).to_rfc3339(),
                    }
                })
                .collect();
            store
                .save_feedback("jak-sle-order-sign", &feedback)
                .await
                .unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_committee_report_and_the_cohort_summary_draw_their_charts_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    let db = dir.path().join("report.db");
    std::fs::write(
        &config,
        format!("[store]\nurl = \"sqlite://{}\"\n", db.display()),
    )
    .unwrap();
    let store = Store::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    fill(&store).await;
    store.close().await;

    let report = dir.path().join("committee.html");
    run_ok(
        Command::new(BIN)
            .args(["report", "--format", "html", "--out"])
            .arg(&report)
            .arg("--config")
            .arg(&config),
    );
    // Two versions × (2 weekly charts, override rate, reasons, latency).
    check(&report, 8, "committee-report.png");

    let bulk = dir.path().join("bulk");
    let cohort_out = dir.path().join("cohort");
    common::generate_export(&bulk, 400, 0.1, 2);
    let out = run_ok(
        Command::new(BIN)
            .args(["cohort", "--today", "2026-12-02", "--bulk"])
            .arg(&bulk)
            .arg("--out")
            .arg(&cohort_out),
    );
    // Plain progress lines when stderr is not a terminal.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("pass 2/2: 100%"), "{stderr}");
    assert!(stderr.contains("bad line "), "{stderr}");
    check(&cohort_out.join("summary.html"), 3, "cohort-summary.png");
}
