//! The monitoring fixtures (fixtures/monitoring, built by scripts/build-monitoring-fixtures.py):
//! every patient-view request, evaluated as of 2026-11-26, must give exactly the cards of
//! expected.json (indicator and topic in order), the first card's summary must hold the
//! expected words and its suggestion the expected FHIR action; every finding of knowledge.md
//! 4.11 has a fixture; the patient whose monitoring is up to date gets no cards. Card text
//! follows 4.10: summary under 140 characters naming the drug, no resource ids in the text.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;

use jak_sle_cds::cds::request::HookRequest;
use jak_sle_cds::cds::{ActionType, Card, CdsResponse, Hook, OrderContext};
use jak_sle_cds::engine;
use jak_sle_cds::fhir::PatientRecord;
use jak_sle_cds::knowledge::Knowledge;

#[derive(Debug, Deserialize)]
struct Expected {
    finding: String,
    cards: Vec<(String, String)>,
    summary_words: Vec<String>,
    action: Option<String>,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/monitoring")
}

fn expected() -> BTreeMap<String, Expected> {
    let text = std::fs::read_to_string(dir().join("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("expected.json parses")
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).expect("date")
}

fn evaluate(name: &str, kb: &Knowledge) -> CdsResponse {
    let text = std::fs::read_to_string(dir().join(format!("{name}.json"))).expect("fixture");
    let req = HookRequest::from_body(text.into()).expect("fixture is a hook request");
    assert_eq!(req.hook, "patient-view", "{name}");
    let ctx = OrderContext::from_request(&req, Hook::PatientView).expect("context");
    let record = PatientRecord::from_request(req);
    engine::evaluate(&ctx, &record, kb, today())
}

/// Does the card carry the expected action ("status on-hold", "dose 2", "ServiceRequest
/// 57021-8", "ImmunizationRecommendation 187", "none")?
fn has_action(card: &Card, want: &str) -> bool {
    let actions: Vec<_> = card.suggestions.iter().flat_map(|s| &s.actions).collect();
    let (kind, value) = want.split_once(' ').unwrap_or((want, ""));
    match kind {
        "none" => actions.is_empty(),
        "status" => actions.iter().any(|a| {
            a.action_type == ActionType::Update
                && a.resource.as_ref().is_some_and(|r| {
                    r["resourceType"] == "MedicationRequest" && r["status"] == value
                })
        }),
        "dose" => actions.iter().any(|a| {
            a.action_type == ActionType::Update
                && a.resource.as_ref().is_some_and(|r| {
                    let q = &r["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"];
                    q["value"].as_f64() == value.parse::<f64>().ok()
                        && q["unit"] == "mg"
                        && r["status"] == "active"
                })
        }),
        resource_type => actions.iter().any(|a| {
            a.action_type == ActionType::Create
                && a.resource.as_ref().is_some_and(|r| {
                    let code = if resource_type == "ServiceRequest" {
                        &r["code"]["coding"][0]["code"]
                    } else {
                        &r["recommendation"][0]["vaccineCode"][0]["coding"][0]["code"]
                    };
                    r["resourceType"] == resource_type && code == value
                })
        }),
    }
}

#[test]
fn every_fixture_gives_its_expected_cards() {
    let kb = Knowledge::embedded().expect("knowledge");
    let mut failures = Vec::new();
    for (name, exp) in expected() {
        let resp = evaluate(&name, &kb);
        let got: Vec<(String, String)> = resp
            .cards
            .iter()
            .map(|c| {
                (
                    c.indicator.as_str().to_string(),
                    c.topic().unwrap_or_default().to_string(),
                )
            })
            .collect();
        if got != exp.cards {
            failures.push(format!(
                "{name} ({}): cards {got:?}, expected {:?}\n{}",
                exp.finding,
                exp.cards,
                resp.cards
                    .iter()
                    .map(|c| format!("  {}", c.summary))
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
            continue;
        }
        let Some(first) = resp.cards.first() else {
            continue;
        };
        for w in &exp.summary_words {
            if !first.summary.contains(w.as_str()) {
                failures.push(format!("{name}: summary {:?} lacks {w:?}", first.summary));
            }
        }
        if let Some(action) = &exp.action {
            if !has_action(first, action) {
                failures.push(format!(
                    "{name}: no action {action:?} in {}",
                    serde_json::to_string(&first.suggestions).unwrap_or_default()
                ));
            }
        }
        for c in &resp.cards {
            let detail = c.detail.as_deref().unwrap_or_default();
            let text = format!("{}\n{detail}", c.summary);
            if c.summary.chars().count() >= 140 || detail.chars().count() > 1500 {
                failures.push(format!("{name}: card too long: {}", c.summary));
            }
            for id in [
                "Condition/",
                "Observation/",
                "MedicationRequest/",
                "LOINC ",
                "ICD-10-CM ",
            ] {
                if text.contains(id) {
                    failures.push(format!("{name}: {id:?} in the card text:\n{text}"));
                }
            }
            let drug_named = ["Baricitinib", "Tofacitinib", "Upadacitinib"]
                .iter()
                .any(|d| c.summary.to_lowercase().contains(&d.to_lowercase()));
            if !drug_named {
                failures.push(format!("{name}: the summary names no drug: {}", c.summary));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Each finding of knowledge.md 4.11 (and each boundary the issue names) has its fixture.
#[test]
fn every_finding_has_a_fixture() {
    let exp = expected();
    for name in [
        "ok-everything-in-order",
        "ok-no-sle-ra",
        "stop-vte-after-start",
        "ok-vte-before-start",
        "stop-mi-after-start",
        "stop-infection-after-start",
        "stop-pregnancy-after-start",
        "stop-active-tb",
        "stop-lymphocytes",
        "stop-tofacitinib-hb-7_9",
        "ok-tofacitinib-hb-8_1",
        "stop-tofacitinib-hb-fall-2_1",
        "stop-egfr-29",
        "dose-egfr-31",
        "stop-upadacitinib-egfr-14",
        "reassess-malignancy-after-start",
        "reassess-two-jak",
        "dose-probenecid-after-start",
        "ok-age-64",
        "dose-age-65",
        "due-cbc-91-days",
        "ok-cbc-89-days",
        "due-lipids-9-weeks",
        "ok-lipids-7-weeks",
        "due-tb-screening",
        "ok-tb-screening-before-start",
        "due-zoster-vaccine",
        "ok-zoster-declined",
        "combined-due",
    ] {
        assert!(exp.contains_key(name), "no fixture {name}");
    }
    assert!(exp["ok-everything-in-order"].cards.is_empty());
}

#[test]
fn the_everything_in_order_patient_gets_an_empty_card_list() {
    let kb = Knowledge::embedded().expect("knowledge");
    let resp = evaluate("ok-everything-in-order", &kb);
    assert_eq!(
        serde_json::to_value(&resp).expect("json"),
        serde_json::json!({"cards": []})
    );
}

#[test]
fn monitoring_due_items_are_one_combined_card() {
    let kb = Knowledge::embedded().expect("knowledge");
    let resp = evaluate("combined-due", &kb);
    assert_eq!(resp.cards.len(), 1);
    let c = &resp.cards[0];
    let codes: Vec<String> = c
        .suggestions
        .iter()
        .flat_map(|s| &s.actions)
        .filter_map(|a| a.resource.as_ref())
        .map(|r| r["resourceType"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        codes,
        ["ServiceRequest", "ImmunizationRecommendation"],
        "{codes:?}"
    );
}

#[test]
fn the_committed_fixtures_are_the_script_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/build-monitoring-fixtures.py");
    let copy = dir.path().join("scripts");
    std::fs::create_dir_all(&copy).expect("mkdir");
    std::fs::copy(&script, copy.join("build.py")).expect("copy");
    let out = std::process::Command::new("python3")
        .arg(copy.join("build.py"))
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let built = dir.path().join("fixtures/monitoring");
    for entry in std::fs::read_dir(&built).expect("built fixtures") {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("name").to_owned();
        let committed = std::fs::read(self::dir().join(&name)).unwrap_or_default();
        let rebuilt = std::fs::read(&path).expect("rebuilt");
        assert!(
            committed == rebuilt,
            "fixtures/monitoring/{} differs from the script output: run python3 scripts/build-monitoring-fixtures.py",
            name.to_string_lossy()
        );
    }
    let value: Value =
        serde_json::from_slice(&std::fs::read(built.join("expected.json")).expect("expected"))
            .expect("json");
    assert!(value.as_object().is_some_and(|o| o.len() >= 29));
}

/// The recorded orders of a fixture, by id, exactly as the fixture holds them.
fn orders_as_sent(name: &str) -> BTreeMap<String, Value> {
    let text = std::fs::read_to_string(dir().join(format!("{name}.json"))).expect("fixture");
    let body: Value = serde_json::from_str(&text).expect("json");
    let mut out = BTreeMap::new();
    for bundle in body["prefetch"].as_object().expect("prefetch").values() {
        for entry in bundle["entry"].as_array().into_iter().flatten() {
            let r = &entry["resource"];
            if r["resourceType"] == "MedicationRequest" {
                out.insert(r["id"].as_str().expect("id").to_string(), r.clone());
            }
        }
    }
    out
}

#[test]
fn updates_give_back_every_member_the_order_was_sent_with() {
    // An update replaces the whole order: what the service does not read (requester,
    // dispenseRequest, note, the dosage text) must come back unchanged, and only the members
    // the suggestion is about may differ.
    let kb = Knowledge::embedded().expect("knowledge");
    let mut updates = 0;
    for name in expected().keys() {
        let sent = orders_as_sent(name);
        let resp = evaluate(name, &kb);
        let actions = resp
            .cards
            .iter()
            .flat_map(|c| &c.suggestions)
            .flat_map(|s| &s.actions)
            .filter(|a| a.action_type == ActionType::Update);
        for a in actions {
            updates += 1;
            let resource = a.resource.as_ref().expect("an update carries its resource");
            let id = resource["id"].as_str().expect("the update names the order");
            let original = &sent[id];
            assert_eq!(original["dispenseRequest"]["numberOfRepeatsAllowed"], 2);
            let changed: &[&str] = match resource["status"].as_str() {
                Some("on-hold" | "stopped") if resource["status"] != original["status"] => {
                    &["status"]
                }
                _ => &["dosageInstruction", "medicationCodeableConcept"],
            };
            for (member, value) in original.as_object().expect("object") {
                if !changed.contains(&member.as_str()) {
                    assert_eq!(&resource[member], value, "{name}: {member} changed");
                }
            }
            let extra: Vec<_> = resource
                .as_object()
                .expect("object")
                .keys()
                .filter(|k| original.get(k.as_str()).is_none() && !changed.contains(&k.as_str()))
                .collect();
            assert!(extra.is_empty(), "{name}: members added: {extra:?}");
        }
    }
    assert!(updates >= 10, "only {updates} updates checked");
}

#[test]
fn an_order_not_received_as_sent_gets_no_update() {
    // A record without the request's text (the order cannot be given back whole): the card
    // still says what to do, but offers no one-click update that would drop members.
    let kb = Knowledge::embedded().expect("knowledge");
    let text = std::fs::read_to_string(dir().join("stop-egfr-29.json")).expect("fixture");
    let req = HookRequest::parse(text.as_bytes()).expect("request");
    let ctx = OrderContext::from_request(&req, Hook::PatientView).expect("context");
    let record = PatientRecord::from_prefetch(req.prefetch);
    let resp = engine::evaluate(&ctx, &record, &kb, today());
    let card = resp.cards.first().expect("the stop card");
    assert!(card.summary.contains("aricitinib"), "{}", card.summary);
    assert!(card.suggestions.iter().all(|s| s.actions.is_empty()));
    assert!(card.suggestions.is_empty(), "labels without actions");
    let detail = card.detail.as_deref().unwrap_or_default();
    assert!(detail.contains("Change the order in the EHR"), "{detail}");
}

/// The service's own path (the pipeline's gather, as a hook call runs it): the request body
/// moves into the record, so the update carries the order as sent.
#[tokio::test]
async fn the_service_path_gives_the_update_the_order_as_sent() {
    use jak_sle_cds::config::Config;
    use jak_sle_cds::server::pipeline::Pipeline;
    let kb = Knowledge::embedded().expect("knowledge");
    let pipeline = Pipeline::new(&Config::default(), kb).expect("pipeline");
    let service = pipeline.catalog().get("jak-sle-monitor").expect("service");
    let text = std::fs::read_to_string(dir().join("stop-egfr-29.json")).expect("fixture");
    let mut req = HookRequest::from_body(text.into()).expect("request");
    let response = pipeline
        .evaluate(service, &mut req, today())
        .await
        .expect("evaluated")
        .response;
    let update = response
        .cards
        .iter()
        .flat_map(|c| &c.suggestions)
        .flat_map(|s| &s.actions)
        .find(|a| a.action_type == ActionType::Update)
        .and_then(|a| a.resource.as_ref())
        .expect("an update of the active order");
    let id = update["id"].as_str().expect("id");
    assert_eq!(update["note"], orders_as_sent("stop-egfr-29")[id]["note"]);
    assert_eq!(update["dispenseRequest"]["numberOfRepeatsAllowed"], 2);
}

/// A dose step on a monitoring card shows its source: for baricitinib the EU SmPC (age 65 and
/// the risk factors are not steps of the US label), whose renal step uses creatinine clearance.
#[test]
fn monitoring_dose_steps_cite_the_label_that_has_them() {
    let kb = Knowledge::embedded().expect("knowledge");
    for name in ["dose-age-65", "dose-egfr-31"] {
        let resp = evaluate(name, &kb);
        let card = resp.cards.first().expect("the dose card");
        let detail = card.detail.as_deref().unwrap_or_default();
        assert!(detail.contains("Olumiant EU SmPC"), "{name}: {detail}");
        assert!(detail.contains("ema.europa.eu"), "{name}: {detail}");
    }
    let resp = evaluate("dose-egfr-31", &kb);
    let detail = resp.cards[0].detail.as_deref().unwrap_or_default();
    assert!(
        detail.contains("The EU renal step uses creatinine clearance"),
        "{detail}"
    );
}

/// Results are named as clinicians write them, with their unit ("Hb 12.8 g/dL", not the LOINC
/// long name); a number in a non-result fact is never taken for a value the text already gave.
#[test]
fn results_read_as_clinicians_write_them() {
    let kb = Knowledge::embedded().expect("knowledge");
    let detail = |name: &str| {
        evaluate(name, &kb).cards[0]
            .detail
            .clone()
            .unwrap_or_default()
    };
    let cbc = detail("due-cbc-91-days");
    assert!(cbc.contains("Hb 12.8 g/dL"), "{cbc}");
    assert!(!cbc.contains("[Mass/volume]"), "{cbc}");
    let lipids = detail("due-lipids-9-weeks");
    assert!(
        lipids.contains("4 MG Oral Tablet first ordered"),
        "{lipids}"
    );
}
