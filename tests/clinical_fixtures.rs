//! End-to-end clinical fixtures: every fixtures/patients/*.json request (one per rule of
//! knowledge.md 4.1-4.8 and per boundary) is evaluated as of 2026-11-26 and must produce
//! exactly the cards of fixtures/patients/expected.json (topics and indicators in order, the
//! proposed dose, a required link), and every card must pass the card audit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;

use jak_sle_cds::cards::audit::{audit, section_lines};
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
    load_text(&text)
}

fn load_text(text: &str) -> (OrderContext, PatientRecord) {
    let req = HookRequest::parse(text.as_bytes()).expect("fixture is a hook request");
    let drafts: Vec<Value> = req.context["draftOrders"]["entry"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut orders = Vec::new();
    let mut draft_medications = Vec::new();
    let mut draft_immunizations = Vec::new();
    for entry in drafts {
        let raw_value = entry["resource"].clone();
        let raw = serde_json::value::to_raw_value(&raw_value).expect("raw");
        match parse_resource(&raw).expect("draft parses") {
            Resource::MedicationRequest(request) => orders.push(DraftOrder {
                reference: format!(
                    "MedicationRequest/{}",
                    request.id.clone().unwrap_or_default()
                ),
                request: *request,
                raw: raw_value,
            }),
            Resource::Medication(m) => draft_medications.push(m),
            Resource::Immunization(i) => draft_immunizations.push(*i),
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
        draft_immunizations,
    };
    let record = PatientRecord::from_prefetch(req.prefetch);
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

/// The detail of the card with `topic` of a fixture's response.
fn detail_of(name: &str, topic: &str, kb: &Knowledge) -> String {
    let (resp, _) = evaluate(name, kb);
    card_by_topic(&resp, topic)
        .detail
        .clone()
        .unwrap_or_default()
}

fn card_by_topic<'a>(resp: &'a CdsResponse, topic: &str) -> &'a Card {
    resp.cards
        .iter()
        .find(|c| c.topic() == Some(topic))
        .unwrap_or_else(|| panic!("no {topic} card"))
}

/// An unclear pregnancy or infection status is never reported as checked (knowledge.md 1
/// "Dates", 2): the permissive card is a warning naming it, and "Checked" leaves it out.
#[test]
fn an_unclear_status_is_named_never_listed_as_checked() {
    let kb = Knowledge::embedded().expect("knowledge");
    for (name, what, word) in [
        ("v2-pregnancy-43-weeks", "pregnancy status", "pregnancy"),
        (
            "v2-infection-91-days",
            "infection status",
            "serious infection",
        ),
    ] {
        let (resp, _) = evaluate(name, &kb);
        let c = card_by_topic(&resp, "jaki-sle-conditional");
        assert_eq!(c.indicator.as_str(), "warning", "{name}");
        assert!(
            c.summary.contains(&format!("once {what} is confirmed")),
            "{}",
            c.summary
        );
        let detail = c.detail.as_deref().unwrap_or("");
        let checked = detail
            .lines()
            .find(|l| l.starts_with("- None recorded: VTE"))
            .expect("checked line");
        assert!(!checked.contains(word), "{name}: {checked}");
        assert!(
            detail.contains(&format!("status unclear: {what}")),
            "{detail}"
        );
    }
    // A clear record still lists them as checked.
    let (resp, _) = evaluate("v2-pregnancy-41-weeks", &kb);
    assert!(!resp.cards.iter().any(|c| c
        .detail
        .as_deref()
        .unwrap_or("")
        .contains("status unclear")));
}

/// A fail-safe card names each missing item once: the summary names what is missing, "Why"
/// says what follows from it in one line, and "Missing data" lists the items with their dates.
#[test]
fn a_fail_safe_card_names_each_missing_item_once() {
    let kb = Knowledge::embedded().expect("knowledge");
    for (name, summary_words, items) in [
        (
            "failsafe-labs-unavailable",
            &["data unavailable", "eGFR missing", "CBC missing"][..],
            &["eGFR:", "CBC", "labs"][..],
        ),
        ("failsafe-egfr-stale", &["eGFR missing"][..], &["eGFR:"][..]),
        ("failsafe-cbc-missing", &["CBC missing"][..], &["CBC"][..]),
        (
            "failsafe-unreadable-lab",
            &["unreadable data"][..],
            &["could not be read"][..],
        ),
    ] {
        let (resp, _) = evaluate(name, &kb);
        let c = card_by_topic(&resp, "jaki-sle-not-recommended");
        for w in summary_words {
            assert!(c.summary.contains(w), "{name}: {}", c.summary);
        }
        if !summary_words.iter().any(|w| w.contains("CBC")) {
            assert!(!c.summary.contains("CBC"), "{name}: {}", c.summary);
        }
        let detail = c.detail.as_deref().unwrap_or("");
        for item in items {
            assert_eq!(
                detail.matches(item).count(),
                1,
                "{name}: {item} in {detail}"
            );
        }
        let why: Vec<&str> = detail
            .split("**Why**")
            .nth(1)
            .and_then(|rest| rest.split("\n\n**").next())
            .expect("a Why section")
            .lines()
            .filter(|l| l.starts_with("- "))
            .collect();
        assert_eq!(why.len(), 1, "{name}: {why:?}");
        assert!(why[0].contains("cannot be excluded"), "{name}: {why:?}");
    }
}

/// When the labs could not be obtained, the pre-treatment card does not claim a result is
/// absent ("No IGRA or TST within 12 months"): it says the result is not known, and still asks
/// for the test.
#[test]
fn results_that_could_not_be_obtained_are_not_known_not_absent() {
    let kb = Knowledge::embedded().expect("knowledge");
    let detail = detail_of(
        "failsafe-labs-unavailable",
        "jaki-pre-treatment-screening",
        &kb,
    );
    for absent in ["No IGRA", "No HBsAg", "No blood count", "No eGFR"] {
        assert!(!detail.contains(absent), "{absent}: {detail}");
    }
    for unknown in [
        "TB screening not known",
        "Blood count not known",
        "eGFR not known",
    ] {
        assert!(detail.contains(unknown), "{unknown}: {detail}");
    }
    // With the labs obtained and none found, the card says they are absent.
    let detail = detail_of("failsafe-cbc-missing", "jaki-pre-treatment-screening", &kb);
    assert!(detail.contains("No blood count"), "{detail}");
}

/// "Not tried" only when the therapy is not on record; one on record but too recent to judge
/// is "not taken long enough".
#[test]
fn untried_and_too_recent_therapies_are_told_apart() {
    let kb = Knowledge::embedded().expect("knowledge");
    for (name, want, not) in [
        (
            "bar-belimumab-untried",
            "belimumab or anifrolumab not tried",
            "long enough",
        ),
        (
            "v2-rituximab-23-weeks",
            "rituximab not taken long enough to judge a response",
            "rituximab not tried",
        ),
    ] {
        let detail = detail_of(name, "jaki-sle-not-recommended", &kb);
        assert!(detail.contains(want), "{name}: {detail}");
        assert!(!detail.contains(not), "{name}: {detail}");
    }
}

/// A value the reason already states is not repeated with its fact (only the date is added),
/// and breast-feeding gets its own wording for the compatible options.
#[test]
fn a_reason_states_its_value_once_and_breast_feeding_has_its_own_options() {
    let kb = Knowledge::embedded().expect("knowledge");
    let why = detail_of("contra-alc-low", "jaki-sle-contraindicated", &kb)
        .lines()
        .find(|l| l.contains("Lymphocytes"))
        .expect("the lymphocyte line")
        .to_string();
    assert_eq!(why.matches("0.4").count(), 1, "{why}");
    assert!(why.contains("2026-10-15"), "{why}");
    let (resp, _) = evaluate("v2-breastfeeding", &kb);
    let text: String = resp
        .cards
        .iter()
        .map(|c| c.detail.as_deref().unwrap_or(""))
        .collect();
    assert!(text.contains("compatible with breast-feeding"), "{text}");
    assert!(!text.contains("pregnancy-compatible"), "{text}");
}

/// The permissive card does not reassure where another card raises the point: no "TB
/// screening negative" when latent TB is recorded, no "active nephritis" among the checked
/// items when a raised UPCR has no nephritis diagnosis.
#[test]
fn the_permissive_card_does_not_reassure_on_what_another_card_raises() {
    let kb = Knowledge::embedded().expect("knowledge");
    let detail = detail_of("pre-latent-tb", "jaki-sle-conditional", &kb);
    assert!(!detail.contains("TB screening negative"), "{detail}");
    let detail = detail_of("v2-upcr-without-nephritis", "jaki-sle-conditional", &kb);
    let checked = detail
        .lines()
        .find(|l| l.starts_with("- None recorded:"))
        .expect("checked line");
    assert!(!checked.contains("nephritis"), "{checked}");
    assert!(detail.contains("Active nephritis not excluded"), "{detail}");
    // Elsewhere both stay.
    let (resp, _) = evaluate("v2-pregnancy-test-missing", &kb);
    let detail = card_by_topic(&resp, "jaki-sle-conditional")
        .detail
        .clone()
        .unwrap_or_default();
    assert!(detail.contains("TB screening negative") && detail.contains("active nephritis"));
}

/// Beside a verdict against the order, the dose card is what to give if the order is kept:
/// it says so and its change is not the recommended suggestion; beside a permissive verdict it
/// is the advice.
#[test]
fn a_dose_beside_advice_against_the_order_is_for_if_it_is_kept() {
    let kb = Knowledge::embedded().expect("knowledge");
    for (name, against) in [
        ("v2-risk-not-recommended", true),
        ("v2-tofacitinib-egfr-50", true),
        ("v2-age-65", false),
    ] {
        let (resp, _) = evaluate(name, &kb);
        let c = card_by_topic(&resp, "jaki-dose-adjustment");
        assert_eq!(
            c.summary.contains("if kept"),
            against,
            "{name}: {}",
            c.summary
        );
        let recommended = c.suggestions.iter().any(|s| s.is_recommended == Some(true));
        assert_eq!(recommended, !against, "{name}");
    }
}

/// A "do not start" card never says how to start ("use only if no suitable alternative, at
/// the lower dose"), and a risk factor resting on the record of a reason is said once.
#[test]
fn a_do_not_start_card_gives_no_way_to_start_and_names_each_record_once() {
    let kb = Knowledge::embedded().expect("knowledge");
    let details: Vec<(String, String)> = expected()
        .keys()
        .flat_map(|name| {
            let (resp, _) = evaluate(name, &kb);
            resp.cards
                .into_iter()
                .filter(|c| c.topic() == Some("jaki-sle-contraindicated"))
                .map(|c| (name.clone(), c.detail.unwrap_or_default()))
                .collect::<Vec<_>>()
        })
        .collect();
    let contraindicated = details.len();
    for (name, detail) in &details {
        assert!(
            !detail.contains("use only if no suitable alternative"),
            "{name}: {detail}"
        );
    }
    assert!(
        contraindicated >= 10,
        "only {contraindicated} contraindicated cards"
    );
    let detail = detail_of("v2-arterial-thrombosis", "jaki-sle-contraindicated", &kb);
    assert_eq!(
        detail
            .matches("Embolism and thrombosis of arteries")
            .count(),
        1,
        "{detail}"
    );
}

/// Rituximab given within 6 months (no active order) is named as such: its effect lasts; an
/// active order is named as the order.
#[test]
fn a_drug_given_within_its_window_is_named_as_such() {
    let kb = Knowledge::embedded().expect("knowledge");
    let ritux = detail_of("v2-rituximab-25-weeks", "jaki-pre-treatment-screening", &kb);
    assert!(ritux.contains("rituximab given within 6 months"), "{ritux}");
    let aza = detail_of(
        "pre-combination-azathioprine",
        "jaki-pre-treatment-screening",
        &kb,
    );
    assert!(
        aza.contains("Not with azathioprine (") && !aza.contains("given within"),
        "{aza}"
    );
}

/// Latent TB whose regimen is being taken is an info line naming the regimen (knowledge.md 2,
/// 4.6), not "treat latent TB" and not "positive TB test: confirm".
#[test]
fn latent_tb_on_treatment_is_an_info_line() {
    let kb = Knowledge::embedded().expect("knowledge");
    let (resp, _) = evaluate("pre-latent-tb-on-treatment", &kb);
    let c = card_by_topic(&resp, "jaki-pre-treatment-screening");
    assert_eq!(c.indicator.as_str(), "info");
    let detail = c.detail.as_deref().unwrap_or("");
    let line = detail
        .lines()
        .find(|l| l.contains("Latent TB on treatment"))
        .unwrap_or_else(|| panic!("no on-treatment line: {detail}"));
    assert!(line.contains("isoniazid"), "{line}");
    assert!(!detail.contains("Latent TB not treated"), "{detail}");
    assert!(!detail.contains("Positive TB test"), "{detail}");
    // Without the regimen the same patient is "treat latent TB" (a warning).
    let (resp, _) = evaluate("pre-latent-tb", &kb);
    let c = card_by_topic(&resp, "jaki-pre-treatment-screening");
    assert_eq!(c.indicator.as_str(), "warning");
    assert!(!c.detail.as_deref().unwrap_or("").contains("on treatment"));
}

/// Only an 11 mg extended-release tofacitinib order is "switched to the 5 mg immediate-release
/// tablet"; the update keeps the draft's other fields and replaces the product coding.
#[test]
fn only_an_extended_release_order_is_switched_and_the_update_keeps_the_draft() {
    let kb = Knowledge::embedded().expect("knowledge");
    const SWITCH: &str = "extended-release order is switched";
    let (resp, _) = evaluate("v2-tofacitinib-egfr-50", &kb);
    let dose = card_by_topic(&resp, "jaki-dose-adjustment");
    assert!(!dose.detail.as_deref().unwrap_or("").contains(SWITCH));
    let (resp, _) = evaluate("v2-tofacitinib-xr-egfr-45", &kb);
    let dose = card_by_topic(&resp, "jaki-dose-adjustment");
    assert!(dose.detail.as_deref().unwrap_or("").contains(SWITCH));
    let updated = dose.suggestions[0].actions[0]
        .resource
        .as_ref()
        .expect("update");
    let (ctx, _) = load("v2-tofacitinib-xr-egfr-45");
    let draft = &ctx
        .orders
        .iter()
        .find(|d| d.raw["id"] == updated["id"])
        .expect("the updated draft")
        .raw;
    let coding = &updated["medicationCodeableConcept"]["coding"][0];
    assert_eq!(coding["code"], "1357541");
    assert_ne!(
        draft["medicationCodeableConcept"]["coding"][0]["code"],
        "1357541"
    );
    for key in [
        "id",
        "status",
        "intent",
        "subject",
        "authoredOn",
        "requester",
    ] {
        assert_eq!(updated[key], draft[key], "{key} kept");
    }
}

/// knowledge.md 4.6: a live vaccine drafted in the same call, as an Immunization or as a
/// MedicationRequest coded with a live-vaccine CVX code, raises the live-vaccine warning.
#[test]
fn a_live_vaccine_drafted_in_the_same_call_is_a_warning() {
    let kb = Knowledge::embedded().expect("knowledge");
    let live = |resp: &CdsResponse| {
        let c = card_by_topic(resp, "jaki-pre-treatment-screening");
        c.indicator.as_str() == "warning"
            && c.detail
                .as_deref()
                .unwrap_or("")
                .contains("Zoster vaccine live, drafted in this call")
    };
    let (resp, _) = evaluate("v2-live-vaccine-drafted", &kb);
    assert!(live(&resp), "{}", jak_sle_cds::cards::text::render(&resp));
    // The same vaccine drafted as a MedicationRequest.
    let text =
        std::fs::read_to_string(dir().join("v2-live-vaccine-drafted.json")).expect("fixture");
    let mut req: Value = serde_json::from_str(&text).expect("json");
    for e in req["context"]["draftOrders"]["entry"]
        .as_array_mut()
        .expect("entries")
    {
        let r = &mut e["resource"];
        if r["resourceType"] == "Immunization" {
            *r = serde_json::json!({
                "resourceType": "MedicationRequest", "id": "zvl-draft", "status": "draft",
                "intent": "order", "subject": r["patient"].clone(),
                "medicationCodeableConcept": r["vaccineCode"].clone()
            });
        }
    }
    let (ctx, record) = load_text(&req.to_string());
    let resp = engine::evaluate(&ctx, &record, &kb, today());
    assert!(live(&resp), "{}", jak_sle_cds::cards::text::render(&resp));
    // Without the draft: no live-vaccine line.
    let (resp, _) = evaluate("v2-pregnancy-41-weeks", &kb);
    assert!(!resp.cards.iter().any(|c| c
        .detail
        .as_deref()
        .unwrap_or("")
        .contains("drafted in this call")));
}

/// knowledge.md 4.10: a card cites its ordered agent's evidence; SLE-BRAVE (baricitinib) on
/// another agent's card only as the evidence of the baricitinib it suggests, labelled so.
#[test]
fn another_agents_card_quotes_brave_only_for_its_baricitinib_suggestion() {
    let kb = Knowledge::embedded().expect("knowledge");
    let mut seen = 0;
    for name in expected().keys() {
        let (resp, _) = evaluate(name, &kb);
        for c in &resp.cards {
            if c.summary.to_lowercase().contains("baricitinib") {
                continue;
            }
            for line in
                jak_sle_cds::cards::audit::evidence_section(c.detail.as_deref().unwrap_or(""))
            {
                if line.contains("SLE-BRAVE") {
                    seen += 1;
                    assert!(
                        line.starts_with("- For the suggested baricitinib"),
                        "{name}: {line}"
                    );
                    assert!(
                        c.suggestions
                            .iter()
                            .any(|s| s.label.contains("baricitinib")),
                        "{name}"
                    );
                }
            }
        }
    }
    assert!(
        seen > 0,
        "no labelled baricitinib evidence on another agent's card"
    );
}

/// Nothing said twice across the cards of one response: the specialist-centre referral
/// (4.8) appears on one card even with two orders (v2-two-jak-drafts, multi-order).
#[test]
fn the_referral_is_said_once_per_response() {
    let kb = Knowledge::embedded().expect("knowledge");
    for name in expected().keys() {
        let (resp, _) = evaluate(name, &kb);
        let n = resp
            .cards
            .iter()
            .filter(|c| {
                c.detail
                    .as_deref()
                    .unwrap_or("")
                    .contains("Rapidly progressive disease")
            })
            .count();
        assert!(n <= 1, "{name}: the referral on {n} cards");
    }
}

/// The integrated SLE safety analysis (Morand 2023) is of baricitinib: an upadacitinib card
/// links its own label and trials, never that analysis, unless it quotes baricitinib's MACE.
#[test]
fn a_permissive_card_links_only_the_ordered_agents_evidence() {
    let kb = Knowledge::embedded().expect("knowledge");
    let safety = "rmdopen-2023-003302";
    let links = |name: &str| -> Vec<String> {
        let (resp, _) = evaluate(name, &kb);
        card_by_topic(&resp, "jaki-sle-conditional")
            .links
            .iter()
            .map(|l| l.url.clone())
            .collect()
    };
    let upa = links("other-upadacitinib");
    assert!(upa.iter().any(|u| u.contains("upadacitinib")), "{upa:?}");
    assert!(!upa.iter().any(|u| u.contains(safety)), "{upa:?}");
    let bari = links("conditional-baricitinib");
    assert!(bari.iter().any(|u| u.contains(safety)), "{bari:?}");
}

/// "1 week after the last dose" is the Olumiant EU SmPC's figure (the US PI, the label link,
/// has none): the pre-treatment card that says it links the SmPC.
#[test]
fn the_contraception_period_links_the_label_that_gives_it() {
    let kb = Knowledge::embedded().expect("knowledge");
    let (resp, _) = evaluate("v2-pregnancy-test-missing", &kb);
    let c = card_by_topic(&resp, "jaki-pre-treatment-screening");
    assert!(
        c.detail
            .as_deref()
            .unwrap_or("")
            .contains("1 week after the last dose"),
        "{:?}",
        c.detail
    );
    assert!(
        c.links
            .iter()
            .any(|l| l.url.contains("ema.europa.eu") && l.url.contains("olumiant")),
        "{:?}",
        c.links
    );
}

/// A pre-treatment item with no step to take (latent TB already treated, an estrogen,
/// diverticular disease) is listed under "Noted", never under "To do".
#[test]
fn facts_to_weigh_are_noted_apart_from_the_steps_to_take() {
    let kb = Knowledge::embedded().expect("knowledge");
    for (name, words) in [
        ("pre-latent-tb-on-treatment", "Latent TB on treatment"),
        ("v2-hormonal-vte", "Estrogen-containing therapy"),
        ("v2-diverticular", "Diverticular disease"),
    ] {
        let detail = detail_of(name, "jaki-pre-treatment-screening", &kb);
        let noted = section_lines(&detail, "Noted");
        assert!(noted.iter().any(|l| l.contains(words)), "{name}: {detail}");
        let todo = section_lines(&detail, "To do");
        assert!(!todo.iter().any(|l| l.contains(words)), "{name}: {detail}");
    }
    // A step to take stays under "To do".
    let detail = detail_of("pre-latent-tb", "jaki-pre-treatment-screening", &kb);
    assert!(
        section_lines(&detail, "To do")
            .iter()
            .any(|l| l.contains("Latent TB not treated")),
        "{detail}"
    );
}
