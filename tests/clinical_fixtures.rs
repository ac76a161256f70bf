//! End-to-end clinical fixtures: every fixtures/patients/*.json request (one per rule of
//! knowledge.md 4.1-4.8 and per boundary) is evaluated as of 2026-11-26 and must produce
//! exactly the cards of fixtures/patients/expected.json (topics and indicators in order, the
//! proposed dose, a required link), and every card must pass the card audit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;

use jak_sle_cds::cards::audit::audit;
use jak_sle_cds::cds::request::HookRequest;
use jak_sle_cds::cds::{ActionType, Card, CdsResponse, DraftOrder, Hook, OrderContext};
use jak_sle_cds::engine;
use jak_sle_cds::facts::order::classify_orders;
use jak_sle_cds::fhir::model::Resource;
use jak_sle_cds::fhir::{parse_resource, PatientRecord};
use jak_sle_cds::knowledge::Knowledge;

#[derive(Debug, Deserialize)]
struct Expected {
    rule: String,
    cards: Vec<(String, String)>,
    dose_mg: Option<f64>,
    link: Option<String>,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/patients")
}

fn expected() -> BTreeMap<String, Expected> {
    let text = std::fs::read_to_string(dir().join("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("expected.json parses")
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).expect("date")
}

/// The order context and record of one fixture request, built the way the service would:
/// draft MedicationRequests (and Medications) from `context.draftOrders`, every prefetch value
/// added to the record, an OperationOutcome counting as data that could not be obtained.
fn load(name: &str) -> (OrderContext, PatientRecord) {
    let text = std::fs::read_to_string(dir().join(format!("{name}.json"))).expect("fixture");
    let req: HookRequest = serde_json::from_str(&text).expect("fixture is a hook request");
    let drafts: Vec<Value> = req.context["draftOrders"]["entry"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut orders = Vec::new();
    let mut draft_medications = Vec::new();
    for entry in drafts {
        let raw_value = entry["resource"].clone();
        let raw = serde_json::value::to_raw_value(&raw_value).expect("raw");
        match parse_resource(&raw).expect("draft parses") {
            Resource::MedicationRequest(request) => orders.push(DraftOrder {
                reference: format!(
                    "MedicationRequest/{}",
                    request.id.clone().unwrap_or_default()
                ),
                request,
                raw: raw_value,
            }),
            Resource::Medication(m) => draft_medications.push(m),
            other => panic!("unexpected draft {}", other.type_name()),
        }
    }
    let ctx = OrderContext {
        hook: Hook::parse(&req.hook).expect("hook"),
        patient_id: req.context["patientId"].as_str().expect("patientId").into(),
        user_id: req.context["userId"].as_str().map(String::from),
        orders,
        draft_medications,
        unreadable_drafts: Vec::new(),
    };
    let mut record = PatientRecord::default();
    for (key, value) in &req.prefetch {
        let Some(raw) = value else { continue };
        match parse_resource(raw) {
            Ok(Resource::OperationOutcome(_)) => record.unavailable.push(key.clone()),
            _ => record.add_raw(raw),
        }
    }
    (ctx, record)
}

fn evaluate(name: &str, kb: &Knowledge) -> (CdsResponse, Vec<jak_sle_cds::facts::Agent>) {
    let (ctx, record) = load(name);
    let agents = classify_orders(&ctx, &record, kb)
        .iter()
        .map(|o| o.agent)
        .collect();
    (engine::evaluate(&ctx, &record, kb, today()), agents)
}

fn proposed_dose(card: &Card) -> Option<f64> {
    let action = card
        .suggestions
        .iter()
        .flat_map(|s| &s.actions)
        .find(|a| a.action_type == ActionType::Update)?;
    let r = action.resource.as_ref()?;
    let q = &r["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"];
    assert_eq!(q["unit"], "mg");
    assert_eq!(q["code"], "mg");
    assert_eq!(q["system"], "http://unitsofmeasure.org");
    q["value"].as_f64()
}

#[test]
fn every_fixture_produces_its_expected_cards() {
    let kb = Knowledge::embedded().expect("knowledge");
    let mut failures = Vec::new();
    for (name, exp) in expected() {
        let (resp, agents) = evaluate(&name, &kb);
        let got: Vec<(String, String)> = resp
            .cards
            .iter()
            .map(|c| {
                (
                    c.topic().unwrap_or("").to_string(),
                    c.indicator.as_str().to_string(),
                )
            })
            .collect();
        if got != exp.cards {
            failures.push(format!(
                "{name} ({}): expected {:?}, got {:?}\n{}",
                exp.rule,
                exp.cards,
                got,
                jak_sle_cds::cards::text::render(&resp)
            ));
            continue;
        }
        let dose_card = resp
            .cards
            .iter()
            .find(|c| c.topic() == Some("jaki-dose-adjustment"));
        match (exp.dose_mg, dose_card) {
            (Some(mg), Some(card)) => {
                if proposed_dose(card) != Some(mg) {
                    failures.push(format!(
                        "{name}: proposed dose {:?}, expected {mg}",
                        proposed_dose(card)
                    ));
                }
                let text = card.suggestions[0].actions[0]
                    .resource
                    .as_ref()
                    .and_then(|r| r["medicationCodeableConcept"]["text"].as_str())
                    .unwrap_or("");
                if text != format!("baricitinib {mg} MG Oral Tablet") {
                    failures.push(format!("{name}: product text {text:?}"));
                }
            }
            (None, None) => {}
            (mg, card) => failures.push(format!(
                "{name}: dose {mg:?} but dose card present: {}",
                card.is_some()
            )),
        }
        if let Some(link) = &exp.link {
            if !resp
                .cards
                .iter()
                .flat_map(|c| &c.links)
                .any(|l| l.url.contains(link.as_str()))
            {
                failures.push(format!("{name}: no link containing {link}"));
            }
        }
        for card in &resp.cards {
            // The card's drug: the order whose agent its summary names (audit checks it).
            let summary = card.summary.to_lowercase();
            let Some(agent) = agents
                .iter()
                .find(|a| summary.contains(a.name()))
                .or(agents.first())
            else {
                failures.push(format!("{name}: cards without an in-scope order"));
                break;
            };
            for p in audit(card, *agent, &kb) {
                failures.push(format!("{name}: {}: {p}", card.summary));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn fixtures_and_expectations_match_one_to_one_and_cover_every_rule() {
    let exp = expected();
    let mut files: Vec<String> = std::fs::read_dir(dir())
        .expect("fixtures dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json") && n != "expected.json")
        .map(|n| n.trim_end_matches(".json").to_string())
        .collect();
    files.sort();
    let names: Vec<String> = exp.keys().cloned().collect();
    assert_eq!(files, names);
    for rule in ["4.1", "4.2", "4.3", "4.4", "4.5", "4.6", "4.7"] {
        assert!(
            exp.values().any(|e| e.rule.starts_with(rule)),
            "no fixture for {rule}"
        );
    }
    // 4.8: referral links on contraindicated and not-recommended cards.
    assert!(exp
        .values()
        .any(|e| e.link.as_deref() == Some("CAR-T") && e.cards[0].0 == "jaki-sle-contraindicated"));
    assert!(exp
        .values()
        .any(|e| e.link.as_deref() == Some("CAR-T") && e.cards[0].0 == "jaki-sle-not-recommended"));
}

#[test]
fn unverified_figures_never_appear_in_any_fixture_card() {
    let kb = Knowledge::embedded().expect("knowledge");
    for name in expected().keys() {
        let (resp, _) = evaluate(name, &kb);
        for card in &resp.cards {
            let text = format!("{} {}", card.summary, card.detail.as_deref().unwrap_or(""));
            // Version 2: the safety figures, the SAE meta-analysis and the pooled trial size are
            // verified; the pooled SRI-4 and subgroup figures are not.
            for fragment in [
                "52% / 48%",
                "SRI-4 52%",
                "prednisone >= 10 mg/day and SLEDAI-2K > 10",
            ] {
                assert!(!text.contains(fragment), "{name}: {fragment} in {text}");
            }
        }
    }
}
