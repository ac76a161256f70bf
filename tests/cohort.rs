//! The population dry run (issue 11) on a generated Bulk Data export: it finds the SLE
//! patients, reports bad lines by file and line, and its verdicts are those the service gives
//! for the same patients — each patient's resources sent as the prefetch of an order-sign
//! call for baricitinib 4 mg, evaluated by the service's pipeline.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;

mod common;

use chrono::NaiveDate;
use common::generate_export;
use jak_sle_cds::cohort::{self, CohortOptions, HypotheticalOrder};
use jak_sle_cds::config::Config;
use jak_sle_cds::knowledge::Knowledge;
use jak_sle_cds::server::Pipeline;
use serde_json::{json, Value};

const TODAY: &str = "2026-12-02";

/// Every line of every file of the export, by file name.
fn lines(dir: &Path) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut text = String::new();
        let file = std::fs::File::open(&path).unwrap();
        if name.ends_with(".gz") {
            flate2::read::GzDecoder::new(file)
                .read_to_string(&mut text)
                .unwrap();
        } else {
            std::io::BufReader::new(file)
                .read_to_string(&mut text)
                .unwrap();
        }
        out.insert(name, text.lines().map(str::to_string).collect());
    }
    out
}

fn owner(resource: &Value) -> Option<String> {
    if resource["resourceType"] == "Patient" {
        return resource["id"].as_str().map(str::to_string);
    }
    let r = resource["subject"]["reference"]
        .as_str()
        .or(resource["patient"]["reference"].as_str())?;
    r.strip_prefix("Patient/").map(str::to_string)
}

fn searchset(resources: &[Value]) -> Value {
    json!({"resourceType": "Bundle", "type": "searchset",
           "entry": resources.iter().map(|r| json!({"resource": r})).collect::<Vec<_>>()})
}

/// An order-sign call for baricitinib 4 mg once daily with the patient's resources as prefetch.
fn hook_request(patient_id: &str, resources: &[Value]) -> Value {
    let of = |t: &str| -> Vec<Value> {
        resources
            .iter()
            .filter(|r| r["resourceType"] == t)
            .cloned()
            .collect()
    };
    let patient = of("Patient").into_iter().next().unwrap_or(Value::Null);
    json!({
        "hook": "order-sign",
        "hookInstance": format!("check-{patient_id}"),
        "context": {
            "patientId": patient_id,
            "userId": "Practitioner/p",
            "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": {
                "resourceType": "MedicationRequest", "id": "draft-1", "status": "draft",
                "intent": "order", "subject": {"reference": format!("Patient/{patient_id}")},
                "medicationCodeableConcept": {"text": "baricitinib 4 MG Oral Tablet"},
                "dosageInstruction": [{"timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                    "doseAndRate": [{"doseQuantity": {"value": 4, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}}]}]
            }}]}
        },
        "prefetch": {
            "patient": patient,
            "conditions": searchset(&of("Condition")),
            "medications": searchset(&of("MedicationRequest")),
            "statements": searchset(&[]),
            "labs": searchset(&of("Observation")),
            "assessments": searchset(&[]),
            "immunizations": searchset(&of("Immunization")),
        }
    })
}

/// The verdict topics as the cohort names them.
fn verdict_name(topic: &str) -> Option<&'static str> {
    match topic {
        "jaki-sle-contraindicated" => Some("contraindicated"),
        "jaki-sle-not-recommended" => Some("not-recommended"),
        "jaki-sle-conditional" => Some("conditional"),
        _ => None,
    }
}

#[tokio::test]
async fn cohort_verdicts_match_the_service_on_the_same_patients() {
    let dir = tempfile::tempdir().unwrap();
    let bulk = dir.path().join("bulk");
    let out = dir.path().join("out");
    generate_export(&bulk, 500, 0.08, 4);
    let kb = Knowledge::embedded().unwrap();
    let today = NaiveDate::parse_from_str(TODAY, "%Y-%m-%d").unwrap();
    let opts = CohortOptions {
        bulk: bulk.clone(),
        out: out.clone(),
        order: HypotheticalOrder::new("baricitinib", 4.0, &kb).unwrap(),
        today,
        progress: false,
    };
    let run = cohort::run(&opts, &kb).expect("cohort runs");
    assert_eq!(run.patients, 500);
    assert!(
        run.verdicts.len() >= 20,
        "{} SLE patients",
        run.verdicts.len()
    );

    // Bad lines: counted and placed; the line really is not a resource.
    let all = lines(&bulk);
    assert_eq!(run.bad_lines, 4, "{:?}", run.bad_examples);
    for b in &run.bad_examples {
        let line = &all[&b.file][usize::try_from(b.line).unwrap() - 1];
        let parsed: Result<Value, _> = serde_json::from_str(line);
        assert!(
            parsed.map_or(true, |v| v.get("resourceType").is_none()),
            "{b:?} is a resource: {line}"
        );
    }

    // The SLE patients: exactly those with an SLE Condition code of the generator.
    let mut by_patient: HashMap<String, Vec<Value>> = HashMap::new();
    for text in all.values().flatten() {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        if let Some(p) = owner(&v) {
            by_patient.entry(p).or_default().push(v);
        }
    }
    let sle: Vec<&String> = by_patient
        .iter()
        .filter(|(_, rs)| {
            rs.iter().any(|r| {
                r["resourceType"] == "Condition"
                    && r["code"]["coding"][0]["code"]
                        .as_str()
                        .is_some_and(|c| c == "55464009" || c.starts_with("M32"))
            })
        })
        .map(|(p, _)| p)
        .collect();
    assert_eq!(sle.len(), run.verdicts.len());

    // Each verdict is the service's.
    let pipeline = Pipeline::new(&Config::default(), kb.clone()).unwrap();
    let service = pipeline.catalog().get("jak-sle-order-sign").unwrap();
    let mut seen = BTreeMap::new();
    for v in &run.verdicts {
        let req = hook_request(&v.patient_id, &by_patient[&v.patient_id]);
        let mut req = jak_sle_cds::cds::HookRequest::parse(req.to_string().as_bytes()).unwrap();
        let response = pipeline
            .evaluate(service, &mut req, today)
            .await
            .unwrap()
            .response;
        let verdict_card = response
            .cards
            .iter()
            .find(|c| c.topic().and_then(verdict_name).is_some());
        match verdict_card {
            Some(card) => {
                assert_eq!(
                    (v.verdict.as_str(), v.indicator.as_str()),
                    (
                        verdict_name(card.topic().unwrap()).unwrap(),
                        card.indicator.as_str()
                    ),
                    "patient {}",
                    v.patient_id
                );
                assert!(!v.reasons.is_empty());
            }
            None => assert_eq!(v.verdict, "no-advice", "patient {}", v.patient_id),
        }
        let others: Vec<String> = response
            .cards
            .iter()
            .filter(|c| c.topic().and_then(verdict_name).is_none())
            .map(|c| format!("{} ({})", c.topic().unwrap(), c.indicator.as_str()))
            .collect();
        assert_eq!(v.other_cards, others, "patient {}", v.patient_id);
        *seen.entry(v.verdict.clone()).or_insert(0) += 1;
    }
    assert!(
        seen.len() >= 2,
        "the export exercises several verdicts: {seen:?}"
    );

    // verdicts.csv: a header and one row per SLE patient, as returned.
    let mut csv = csv::Reader::from_path(out.join("verdicts.csv")).unwrap();
    let header: Vec<String> = csv.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(header, cohort::output::HEADER);
    let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), run.verdicts.len());
    for (row, v) in rows.iter().zip(&run.verdicts) {
        assert_eq!(&row[0], v.patient_id);
        assert_eq!(&row[1], v.verdict);
        assert_eq!(&row[3], v.reasons.join("; "));
        assert_eq!(&row[4], v.missing.join("; "));
    }
    let summary = std::fs::read_to_string(out.join("summary.html")).unwrap();
    assert!(summary.contains("Verdict distribution") && summary.contains("<svg"));
    assert!(summary.contains("Bad lines"));
}
