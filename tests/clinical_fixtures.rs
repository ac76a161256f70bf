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
                let concept = card.suggestions[0].actions[0]
                    .resource
                    .as_ref()
                    .map(|r| r["medicationCodeableConcept"].clone())
                    .unwrap_or_default();
                let text = concept["text"].as_str().unwrap_or("");
                if !text.ends_with(&format!(" {mg} MG Oral Tablet")) {
                    failures.push(format!("{name}: product text {text:?}"));
                }
                if !concept["coding"][0]["code"].is_string() {
                    failures.push(format!("{name}: dose update without an RxNorm coding"));
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

/// knowledge.md 4.10 over every fixture: detail at most 1,500 characters and median at most
/// 900, at most 5 links, and no internal reference, FHIR id or code-system code in any string
/// a clinician reads (summary, detail, suggestion labels, link labels, override reasons).
#[test]
fn card_text_is_short_and_clean_across_all_fixtures() {
    let kb = Knowledge::embedded().expect("knowledge");
    let mut lengths = Vec::new();
    let mut failures = Vec::new();
    for name in expected().keys() {
        let (resp, _) = evaluate(name, &kb);
        for card in &resp.cards {
            let n = card.detail.as_deref().unwrap_or("").chars().count();
            lengths.push(n);
            for p in jak_sle_cds::cards::audit::text_problems(card) {
                failures.push(format!("{name}: {}: {p}", card.summary));
            }
        }
    }
    lengths.sort_unstable();
    let max = lengths.last().copied().unwrap_or(0);
    let median = lengths[lengths.len() / 2];
    assert!(max <= 1500, "longest detail {max} characters");
    assert!(median <= 900, "median detail {median} characters");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Each v2 rule is pinned by its fixture: the verdict card names the decisive reason.
#[test]
fn v2_fixtures_name_their_reason() {
    let kb = Knowledge::embedded().expect("knowledge");
    let rows = [
        ("v2-age-65", "age 65"),
        ("v2-smoker", "smoker"),
        ("v2-infection-89-days", "active serious infection"),
        ("v2-infection-chronic", "active serious infection"),
        ("v2-pregnancy-41-weeks", "pregnancy"),
        ("v2-breastfeeding", "breast-feeding"),
        ("v2-antiphospholipid", "thrombosis risk"),
        ("v2-hepatitis-b-active", "active hepatitis"),
        ("v2-hepatic-severe", "severe hepatic impairment"),
        ("v2-upadacitinib-egfr-14", "eGFR too low"),
        ("v2-two-jak-drafts", "combination"),
        ("v2-tried-cancelled", "standard therapies not exhausted"),
        ("v2-rituximab-23-weeks", "standard therapies not exhausted"),
    ];
    for (name, reason) in rows {
        let (resp, _) = evaluate(name, &kb);
        assert!(
            resp.cards[0].summary.contains(reason),
            "{name}: {}",
            resp.cards[0].summary
        );
    }
    let (resp, _) = evaluate("v2-infection-91-days", &kb);
    let detail = resp.cards[0].detail.as_deref().unwrap_or("");
    assert!(detail.contains("Infection status unclear"), "{detail}");
    let (resp, _) = evaluate("v2-rituximab-23-weeks", &kb);
    let detail = resp.cards[0].detail.as_deref().unwrap_or("");
    assert!(detail.contains("started 23 weeks ago"), "{detail}");
    let (resp, _) = evaluate("v2-tofacitinib-xr-egfr-45", &kb);
    let dose = resp
        .cards
        .iter()
        .find(|c| c.topic() == Some("jaki-dose-adjustment"))
        .expect("dose card");
    let r = dose.suggestions[0].actions[0]
        .resource
        .as_ref()
        .expect("update");
    assert_eq!(
        r["medicationCodeableConcept"]["coding"][0]["code"],
        "1357541"
    );
}
