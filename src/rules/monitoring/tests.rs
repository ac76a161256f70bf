//! Rule-level checks of the monitoring review on small records (the fixtures in
//! fixtures/monitoring cover each finding end to end).

use chrono::NaiveDate;
use serde_json::{json, Value};

use super::*;
use crate::facts::therapy;
use crate::fhir::PatientRecord;
use crate::rules::testing::kb;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).expect("date")
}

fn record(resources: &[Value]) -> PatientRecord {
    let mut r = PatientRecord::default();
    for v in resources {
        let raw = serde_json::value::to_raw_value(v).expect("raw");
        r.add_raw(&raw);
    }
    r
}

fn bari(mg: u32, status: &str, authored: &str, id: &str) -> Value {
    json!({"resourceType": "MedicationRequest", "id": id, "status": status, "intent": "order",
        "authoredOn": authored, "subject": {"reference": "Patient/p"},
        "medicationCodeableConcept": {"text": format!("baricitinib {mg} MG Oral Tablet")},
        "dosageInstruction": [{"timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
            "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet"}}]}]})
}

fn sle() -> Value {
    json!({"resourceType": "Condition", "id": "sle", "subject": {"reference": "Patient/p"},
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "55464009"}]}})
}

fn egfr(value: f64) -> Value {
    json!({"resourceType": "Observation", "id": "egfr", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "62238-1"}]},
        "effectiveDateTime": "2026-11-01",
        "valueQuantity": {"value": value, "unit": "mL/min/{1.73_m2}", "code": "mL/min/{1.73_m2}"}})
}

#[test]
fn the_start_is_the_earliest_record_of_the_agent() {
    let r = record(&[
        bari(4, "active", "2026-05-01", "now"),
        bari(2, "stopped", "2025-02-01", "first"),
        bari(4, "cancelled", "2024-01-01", "never-given"),
    ]);
    let m = therapy::derive(&r, kb());
    assert_eq!(m.therapies.len(), 1);
    let t = &m.therapies[0];
    assert_eq!(t.start_date(), NaiveDate::from_ymd_opt(2025, 2, 1));
    assert!(t.after_start(NaiveDate::from_ymd_opt(2025, 2, 2)));
    assert!(!t.after_start(NaiveDate::from_ymd_opt(2025, 2, 1)));
    assert!(!t.after_start(None));
    assert_eq!(
        t.order.as_ref().map(|o| o.reference.as_str()),
        Some("MedicationRequest/now")
    );
    // A dose given (an inpatient administration) before the first order is the start; one
    // not given is not.
    let given = |id: &str, status: &str, at: &str| {
        json!({"resourceType": "MedicationAdministration", "id": id, "status": status,
            "subject": {"reference": "Patient/p"}, "effectiveDateTime": at,
            "medicationCodeableConcept": {"text": "baricitinib 4 MG Oral Tablet"}})
    };
    let r = record(&[
        bari(4, "active", "2026-05-01", "now"),
        given("not-given", "not-done", "2024-06-01"),
        given("inpatient", "completed", "2024-09-15"),
    ]);
    let t = &therapy::derive(&r, kb()).therapies[0];
    assert_eq!(t.start_date(), NaiveDate::from_ymd_opt(2024, 9, 15));
    assert_eq!(
        t.start.as_ref().map(|s| s.reference.as_str()),
        Some("MedicationAdministration/inpatient")
    );
}

#[test]
fn monitoring_never_raises_a_dose() {
    // Baricitinib 2 mg without any reason for the lower dose: no dose card (an order card
    // would suggest 4 mg).
    let r = record(&[sle(), bari(2, "active", "2026-05-01", "b"), egfr(90.0)]);
    let facts = crate::facts::derive(&r, kb(), today());
    let m = therapy::derive(&r, kb());
    let r = review(&facts, &m, kb(), today());
    assert!(r.therapies[0].dose.is_none());
    // 4 mg with eGFR 45: lower to 2 mg.
    let r = record(&[sle(), bari(4, "active", "2026-05-01", "b"), egfr(45.0)]);
    let facts = crate::facts::derive(&r, kb(), today());
    let m = therapy::derive(&r, kb());
    let r = review(&facts, &m, kb(), today());
    let change = r.therapies[0].dose.as_ref().expect("dose change");
    assert_eq!(change.target.mg_per_day(), 2.0);
}

#[test]
fn a_therapy_to_stop_gets_no_dose_advice() {
    let r = record(&[sle(), bari(4, "active", "2026-05-01", "b"), egfr(29.0)]);
    let facts = crate::facts::derive(&r, kb(), today());
    let m = therapy::derive(&r, kb());
    let r = review(&facts, &m, kb(), today());
    let t = &r.therapies[0];
    assert_eq!(t.stop[0].code, FindingCode::RenalFunction);
    assert!(t.dose.is_none());
}
