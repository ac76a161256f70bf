//! The fallback fetch against a real FHIR server: Medplum's FHIR router over its in-memory
//! repository (tests/fhir-server), loaded with fixtures/fhir-server/two-patients.json.
//!
//! All prefetch keys are missing, so every template of hooks/services.json is fetched; the
//! server pages every 2 results and requires the bearer token. The gather must return the
//! SLE patient's resources and none of the other patient's. Needs Node.js and npm (the
//! harness runs `npm ci` in tests/fhir-server when node_modules is missing).

mod fhir_support;

use std::path::Path;

use fhir_support::real_server::FhirTestServer;
use fhir_support::{precondition, request, service_templates, settings};
use jak_sle_cds::fhir::gather::Gatherer;
use jak_sle_cds::fhir::model::CodeableConcept;
use jak_sle_cds::fhir::PatientRecord;
use serde_json::json;

const TOKEN: &str = "real-server-test-token";

/// Every subject/patient reference in the record.
fn subjects(rec: &PatientRecord) -> Vec<String> {
    let r = |s: &Option<jak_sle_cds::fhir::model::Reference>| {
        s.as_ref()
            .and_then(|s| s.reference.as_deref())
            .unwrap_or_default()
            .to_string()
    };
    rec.conditions
        .iter()
        .map(|c| r(&c.subject))
        .chain(rec.observations.iter().map(|o| r(&o.subject)))
        .chain(rec.medication_requests.iter().map(|m| r(&m.subject)))
        .chain(rec.medication_statements.iter().map(|m| r(&m.subject)))
        .chain(rec.immunizations.iter().map(|i| r(&i.subject)))
        .collect()
}

/// The code of a concept's first coding.
fn first_code(c: &CodeableConcept) -> Option<String> {
    c.coding.first()?.code.as_ref().map(ToString::to_string)
}

fn codes(rec: &PatientRecord) -> Vec<String> {
    let mut out: Vec<String> = rec
        .conditions
        .iter()
        .filter_map(|c| c.code.as_ref())
        .chain(rec.observations.iter().filter_map(|o| o.code.as_ref()))
        .chain(
            rec.medication_requests
                .iter()
                .filter_map(|m| m.medication_codeable_concept.as_ref()),
        )
        .chain(
            rec.immunizations
                .iter()
                .filter_map(|i| i.vaccine_code.as_ref()),
        )
        .filter_map(first_code)
        .collect();
    out.sort();
    out
}

/// Gather and require that every key was obtained.
async fn gather_all(
    g: &Gatherer,
    req: &mut jak_sle_cds::cds::request::HookRequest,
    templates: &std::collections::BTreeMap<String, String>,
    required: &std::collections::BTreeSet<String>,
) -> PatientRecord {
    let rec = g.gather(req, templates, required).await.expect("gather");
    assert!(
        rec.unavailable.is_empty(),
        "unavailable: {:?}",
        rec.unavailable
    );
    rec
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fallback_gather_from_a_real_fhir_server() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fhir-server/two-patients.json");
    let server = FhirTestServer::start(&fixture, &["--page-size", "2", "--token", TOKEN]);
    let sle = server.patient_id(TOKEN, "sle-0001").await;
    let other = server.patient_id(TOKEN, "other-0002").await;
    assert_ne!(sle, other);

    let (templates, required) = service_templates("jak-sle-order-sign");
    let mut s = settings(&["http://127.0.0.1:*"]);
    s.timeout_ms = 10_000;
    s.budget_ms = 30_000;
    let g = Gatherer::new(&s);

    let mut req = request(&sle, Some(&server.base), Some(TOKEN), json!({}));
    let rec = gather_all(&g, &mut req, &templates, &required).await;
    assert!(
        rec.unreadable.is_empty(),
        "unreadable: {:?}",
        rec.unreadable
    );
    assert_eq!(
        rec.patient.as_ref().and_then(|p| p.id.as_deref()),
        Some(sle.as_str())
    );
    assert_eq!(
        rec.patient.as_ref().and_then(|p| p.gender.as_deref()),
        Some("female")
    );
    // Paged at 2 per page: 3 conditions, 3 orders and 4 labs need a second page.
    assert_eq!(rec.conditions.len(), 3);
    assert_eq!(rec.medication_requests.len(), 3);
    assert_eq!(
        rec.observations.len(),
        5,
        "4 labs + 1 survey; not the heart rate"
    );
    assert_eq!(rec.immunizations.len(), 1);
    assert!(rec.medication_statements.is_empty(), "empty searchset");
    let own = format!("Patient/{sle}");
    assert!(
        subjects(&rec).iter().all(|s| *s == own),
        "{:?}",
        subjects(&rec)
    );
    assert_eq!(
        codes(&rec),
        [
            "128053003",
            "187",
            "312617",
            "33914-3",
            "4485-9",
            "55464009",
            "68815009",
            "718-7",
            "731-0",
            "979092",
            "99999-0"
        ]
    );

    // The draft order's medicationReference, read by reference.
    let bari = rec
        .medication_requests
        .iter()
        .find_map(|m| {
            m.medication_reference
                .as_ref()?
                .reference
                .as_deref()
                .map(str::to_string)
        })
        .expect("the fixture's draft order has a medicationReference");
    let meds = g.fetch_medications(&req, &[bari]).await;
    assert_eq!(meds.len(), 1);
    assert_eq!(
        meds[0]
            .code
            .as_ref()
            .and_then(|c| c.coding.first()?.code.clone())
            .as_deref(),
        Some("2047232")
    );

    // The other patient: only their own data.
    let mut req = request(&other, Some(&server.base), Some(TOKEN), json!({}));
    let rec = gather_all(&g, &mut req, &templates, &required).await;
    assert_eq!(rec.conditions.len(), 1);
    assert_eq!(rec.observations.len(), 2);
    let own = format!("Patient/{other}");
    assert!(subjects(&rec).iter().all(|s| *s == own));
    assert_eq!(
        codes(&rec),
        ["1357536", "141", "33914-3", "69896004", "99999-0"]
    );

    // A wrong token: the server answers 401, so the required keys fail with 412.
    let mut req = request(&sle, Some(&server.base), Some("wrong"), json!({}));
    assert_eq!(
        precondition(g.gather(&mut req, &templates, &required).await),
        "conditions: not prefetched and the FHIR query failed (HTTP 401)"
    );
}

/// The LOINC code (or first code) of every gathered Observation, sorted.
fn observation_codes(rec: &PatientRecord) -> Vec<String> {
    let mut out: Vec<String> = rec
        .observations
        .iter()
        .filter_map(|o| first_code(o.code.as_ref()?))
        .collect();
    out.sort();
    out
}

/// Data reach (issue 8): a history-of-VTE Observation (SNOMED 161512003) and a
/// pregnancy-status Observation (LOINC 82810-3, pregnant), both filed with no category, and a
/// smoking-status Observation under social-history reach the record through the fallback
/// queries (the templates of hooks/services.json); the VTE one becomes the VTE-history fact.
/// The version-1 templates (a lab code list and `category=survey`) missed all three.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observations_a_rule_reads_reach_the_record_whatever_their_category() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fhir-server/data-reach.json");
    let server = FhirTestServer::start(&fixture, &["--page-size", "2", "--token", TOKEN]);
    let patient = server.patient_id(TOKEN, "reach-0001").await;
    let mut s = settings(&["http://127.0.0.1:*"]);
    s.timeout_ms = 10_000;
    s.budget_ms = 30_000;
    let g = Gatherer::new(&s);
    let mut req = request(&patient, Some(&server.base), Some(TOKEN), json!({}));

    let (templates, required) = service_templates("jak-sle-order-sign");
    assert!(templates.contains_key("administrations"));
    let rec = gather_all(&g, &mut req, &templates, &required).await;
    assert!(rec.unreadable.is_empty(), "{:?}", rec.unreadable);
    assert_eq!(
        observation_codes(&rec),
        ["161512003", "72166-2", "82810-3"],
        "the VTE history, smoking and pregnancy status; not the heart rate"
    );
    let pregnancy = rec
        .observations
        .iter()
        .find(|o| {
            o.code.as_ref().is_some_and(|c| {
                c.coding
                    .iter()
                    .any(|c| c.code.as_deref() == Some("82810-3"))
            })
        })
        .expect("pregnancy-status Observation");
    assert_eq!(
        pregnancy
            .value_codeable_concept
            .as_ref()
            .and_then(|v| v.coding.first()?.code.as_deref()),
        Some("77386006")
    );

    let kb = jak_sle_cds::knowledge::Knowledge::embedded().expect("knowledge");
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 2).expect("date");
    let facts = jak_sle_cds::facts::derive(&rec, &kb, today);
    assert_eq!(facts.vte_history.len(), 1, "{:?}", facts.vte_history);
    assert!(
        facts.vte_history[0].reference.starts_with("Observation/"),
        "{:?}",
        facts.vte_history
    );
    assert_eq!(facts.sle.len(), 1);

    // The same server with the version-1 Observation templates: none of them arrives.
    let mut v1 = templates.clone();
    v1.retain(|_, t| !t.starts_with("Observation?"));
    v1.insert(
        "labs".into(),
        "Observation?patient={{context.patientId}}&code=http://loinc.org|33914-3,http://loinc.org|718-7".into(),
    );
    v1.insert(
        "assessments".into(),
        "Observation?patient={{context.patientId}}&category=survey".into(),
    );
    let rec = gather_all(&g, &mut req, &v1, &required).await;
    assert!(
        observation_codes(&rec).is_empty(),
        "{:?}",
        observation_codes(&rec)
    );
    assert!(jak_sle_cds::facts::derive(&rec, &kb, today)
        .vte_history
        .is_empty());
}
