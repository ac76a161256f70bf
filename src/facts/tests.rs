//! Tests of fact derivation and draft-order reading against the embedded knowledge, with
//! hand-written FHIR resources. "Today" is 2026-11-26 throughout.

use chrono::NaiveDate;
use serde_json::{json, Value};

use super::order::{classify_orders, Agent, DoseReading};
use super::*;
use crate::cds::{DraftOrder, Hook, OrderContext};
use crate::fhir::model::{parse_resource_str, Medication, Resource};
use crate::fhir::ParseFailure;

fn kb() -> Knowledge {
    Knowledge::embedded().expect("embedded knowledge")
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

fn record(resources: &[Value]) -> PatientRecord {
    let mut r = PatientRecord::default();
    for v in resources {
        r.add(parse_resource_str(&v.to_string()).expect("test resource parses"));
    }
    r
}

fn facts(resources: &[Value]) -> PatientFacts {
    derive(&record(resources), &kb(), today())
}

const ICD: &str = "http://hl7.org/fhir/sid/icd-10-cm";
const SCT: &str = "http://snomed.info/sct";
const LOINC: &str = "http://loinc.org";
const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";

fn condition(
    id: &str,
    system: &str,
    code: &str,
    clinical: Option<&str>,
    verification: &str,
) -> Value {
    let mut c = json!({
        "resourceType": "Condition", "id": id,
        "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": verification}]},
        "code": {"coding": [{"system": system, "code": code, "display": format!("test {code}")}]},
        "onsetDateTime": "2020-01-01"
    });
    if let Some(s) = clinical {
        c["clinicalStatus"] = json!({"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": s}]});
    }
    c
}

fn active(id: &str, system: &str, code: &str) -> Value {
    condition(id, system, code, Some("active"), "confirmed")
}

fn obs(id: &str, loinc: &str, date: &str, value: f64, unit: &str) -> Value {
    json!({
        "resourceType": "Observation", "id": id, "status": "final",
        "code": {"coding": [{"system": LOINC, "code": loinc}]},
        "effectiveDateTime": date,
        "valueQuantity": {"value": value, "unit": unit}
    })
}

fn med_request(id: &str, status: &str, medication: Value, dosage: Value) -> Value {
    json!({
        "resourceType": "MedicationRequest", "id": id, "status": status, "intent": "order",
        "authoredOn": "2026-10-01",
        "medicationCodeableConcept": medication,
        "dosageInstruction": dosage
    })
}

fn rx(code: &str, text: &str) -> Value {
    json!({"coding": [{"system": RXNORM, "code": code, "display": text}], "text": text})
}

fn daily(times: u32, dose: Value) -> Value {
    json!([{"timing": {"repeat": {"frequency": times, "period": 1, "periodUnit": "d"}},
            "doseAndRate": [{"doseQuantity": dose}]}])
}

// ---- conditions ---------------------------------------------------------------------------

#[test]
fn sle_counts_in_remission_but_not_refuted_or_entered_in_error() {
    let f = facts(&[
        condition("a", SCT, "55464009", Some("remission"), "confirmed"),
        condition("b", ICD, "M32.9", Some("active"), "refuted"),
        condition("c", ICD, "M3214", Some("active"), "entered-in-error"),
    ]);
    assert_eq!(f.sle.len(), 1);
    assert_eq!(f.sle[0].reference, "Condition/a");
    assert_eq!(f.sle[0].date, NaiveDate::from_ymd_opt(2020, 1, 1));
    assert!(
        f.sle[0].what.contains("SNOMED 55464009"),
        "{}",
        f.sle[0].what
    );
}

#[test]
fn drug_induced_lupus_is_not_sle() {
    let f = facts(&[active("a", ICD, "M32.0"), active("b", SCT, "201436003")]);
    assert!(f.sle.is_empty());
}

#[test]
fn resolved_vte_counts_refuted_does_not() {
    let f = facts(&[
        condition("dvt", ICD, "I82.401", Some("resolved"), "confirmed"),
        condition("pe", SCT, "59282003", Some("active"), "refuted"),
        condition("hist", ICD, "Z86.718", Some("inactive"), "confirmed"),
        active("superficial", ICD, "I80.00"),
    ]);
    let refs: Vec<&str> = f.vte_history.iter().map(|s| s.reference.as_str()).collect();
    assert_eq!(refs, ["Condition/dvt", "Condition/hist"]);
}

#[test]
fn vte_observation_counts_unless_it_says_no() {
    let f = facts(&[
        json!({"resourceType": "Observation", "id": "o1", "status": "final",
               "code": {"coding": [{"system": SCT, "code": "161512003"}]}, "effectiveDateTime": "2019-05-01"}),
        json!({"resourceType": "Observation", "id": "o2", "status": "final",
               "code": {"coding": [{"system": SCT, "code": "161511005"}]}, "valueBoolean": false}),
        json!({"resourceType": "Observation", "id": "o3", "status": "preliminary",
               "code": {"coding": [{"system": SCT, "code": "59282003"}]}}),
    ]);
    assert_eq!(f.vte_history.len(), 1);
    assert_eq!(f.vte_history[0].reference, "Observation/o1");
}

#[test]
fn lupus_nephritis_in_remission_is_excluded() {
    let f = facts(&[
        condition("ln1", ICD, "M32.14", Some("remission"), "confirmed"),
        condition("ln2", SCT, "36402006", Some("resolved"), "confirmed"),
        condition("ln3", SCT, "68815009", Some("inactive"), "confirmed"),
    ]);
    assert!(f.active_lupus_nephritis.is_empty());
    let f = facts(&[condition("ln", ICD, "M32.14", Some("relapse"), "confirmed")]);
    assert_eq!(f.active_lupus_nephritis.len(), 1);
    assert!(f.active_lupus_nephritis[0].what.contains("relapse"));
}

#[test]
fn condition_without_clinical_status_counts_as_active_unless_abated() {
    let f = facts(&[condition("ln", ICD, "M32.14", None, "confirmed")]);
    assert_eq!(f.active_lupus_nephritis.len(), 1);
    assert!(f.active_lupus_nephritis[0].what.contains("not stated"));
    let mut abated = condition("tb", ICD, "A15.0", None, "confirmed");
    abated["abatementDateTime"] = json!("2021-01-01");
    assert!(facts(&[abated]).active_tb.is_empty());
}

#[test]
fn dstu2_string_statuses_are_read() {
    let f = facts(&[
        json!({"resourceType": "Condition", "id": "c", "clinicalStatus": "active",
        "verificationStatus": "confirmed", "code": {"coding": [{"system": SCT, "code": "95644001"}]}}),
    ]);
    assert_eq!(f.cns_lupus.len(), 1);
}

#[test]
fn active_tb_needs_active_status() {
    let f = facts(&[
        active("tb1", ICD, "A15.0"),
        condition("tb2", ICD, "A16.2", Some("resolved"), "confirmed"),
    ]);
    assert_eq!(f.active_tb.len(), 1);
}

#[test]
fn latent_tb_codes_positive_igra_and_treated_history() {
    assert_eq!(
        facts(&[active("l", ICD, "Z22.7")])
            .latent_tb_untreated
            .len(),
        1
    );
    assert!(facts(&[active("l", ICD, "Z86.15")])
        .latent_tb_untreated
        .is_empty());
    let igra = json!({"resourceType": "Observation", "id": "igra", "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "71773-6"}]}, "effectiveDateTime": "2026-06-01",
        "valueCodeableConcept": {"coding": [{"system": SCT, "code": "10828004", "display": "Positive"}]}});
    let f = facts(std::slice::from_ref(&igra));
    assert_eq!(f.latent_tb_untreated.len(), 1);
    assert_eq!(f.latent_tb_untreated[0].reference, "Observation/igra");
    assert_eq!(
        f.tb_screening.as_ref().unwrap().result,
        TbTestResult::Positive
    );
    let f = facts(&[
        igra.clone(),
        condition("t", ICD, "Z86.15", Some("resolved"), "confirmed"),
    ]);
    assert!(f.latent_tb_untreated.is_empty());
    // A latent-TB regimen completed, or being taken, means the latent TB is not untreated; a
    // cancelled one does not.
    for (status, untreated) in [("completed", 0), ("active", 0), ("cancelled", 1)] {
        let inh = med_request(
            "inh",
            status,
            rx("6038", "isoniazid 300 MG Oral Tablet"),
            json!([]),
        );
        let f = facts(&[igra.clone(), active("l", ICD, "Z22.7"), inh]);
        assert_eq!(
            f.latent_tb_untreated.is_empty(),
            untreated == 0,
            "isoniazid {status}: {:?}",
            f.latent_tb_untreated
        );
        // Only the regimen being taken is "on treatment": the regimen, then the evidence.
        let on_treatment: Vec<_> = f
            .latent_tb_on_treatment
            .iter()
            .map(|s| s.reference.as_str())
            .collect();
        if status == "active" {
            assert_eq!(
                on_treatment,
                ["MedicationRequest/inh", "Condition/l", "Observation/igra"]
            );
        } else {
            assert!(
                on_treatment.is_empty(),
                "isoniazid {status}: {on_treatment:?}"
            );
        }
    }
}

#[test]
fn msk_cutaneous_and_zoster_conditions() {
    let f = facts(&[
        active("skin", ICD, "L93.1"),
        condition("arth", SCT, "95408003", Some("inactive"), "confirmed"),
        condition("hz", ICD, "B02.9", Some("resolved"), "confirmed"),
    ]);
    assert_eq!(f.msk_cutaneous.len(), 1);
    assert_eq!(f.herpes_zoster.len(), 1);
}

// ---- labs ---------------------------------------------------------------------------------

#[test]
fn egfr_boundary_values_are_stored_as_measured() {
    for v in [29.9, 30.0, 59.9, 60.0] {
        let f = facts(&[obs("e", "62238-1", "2026-11-01", v, "mL/min/{1.73_m2}")]);
        let e = f.egfr.expect("eGFR");
        assert_eq!(e.value, v);
        assert_eq!(e.unit, "mL/min/1.73m2");
    }
    let f = facts(&[obs("e", "62238-1", "2026-11-01", 45.0, "mL/min/{1.73_m2}")]);
    assert_eq!(
        f.egfr.unwrap().source.what,
        "eGFR 45 mL/min/1.73m2 (LOINC 62238-1)"
    );
}

#[test]
fn window_first_day_is_inside_the_day_before_is_stale() {
    // 12 months before 2026-11-26 is 2025-11-26.
    let f = facts(&[obs("in", "62238-1", "2025-11-26", 50.0, "mL/min/1.73m2")]);
    assert_eq!(f.egfr.unwrap().value, 50.0);
    assert!(!f.gaps.iter().any(|g| g.item == GapItem::Egfr));
    let f = facts(&[obs("out", "62238-1", "2025-11-25", 50.0, "mL/min/1.73m2")]);
    assert!(f.egfr.is_none());
    let gap = f.gaps.iter().find(|g| g.item == GapItem::Egfr).unwrap();
    assert_eq!(gap.stale.as_ref().unwrap().reference, "Observation/out");
}

#[test]
fn latest_value_wins_and_non_final_statuses_are_ignored() {
    let mut prelim = obs("p", "62238-1", "2026-11-20", 20.0, "mL/min/1.73m2");
    prelim["status"] = json!("preliminary");
    let mut eie = obs("x", "62238-1", "2026-11-21", 15.0, "mL/min/1.73m2");
    eie["status"] = json!("entered-in-error");
    let f = facts(&[
        obs("old", "62238-1", "2026-01-01", 80.0, "mL/min/1.73m2"),
        obs("new", "62238-1", "2026-10-01", 55.0, "mL/min/1.73m2"),
        prelim,
        eie,
    ]);
    assert_eq!(f.egfr.unwrap().source.reference, "Observation/new");
}

#[test]
fn cbc_units_convert() {
    let f = facts(&[
        obs("alc", "731-0", "2026-11-01", 450.0, "/uL"),
        obs("anc", "751-8", "2026-11-01", 0.9, "10*9/L"),
        obs("hb", "59260-0", "2026-11-01", 5.0, "mmol/L"),
        obs("upcr", "2890-2", "2026-11-01", 100.0, "mg/mmol"),
    ]);
    let alc = f.alc.unwrap();
    assert!((alc.value - 0.45).abs() < 1e-9);
    assert_eq!(alc.source.what, "ALC 450 /uL = 0.45 10^3/uL (LOINC 731-0)");
    assert!((f.anc.unwrap().value - 0.9).abs() < 1e-9);
    assert!((f.hb.unwrap().value - 8.055).abs() < 1e-9);
    assert!((f.upcr.unwrap().value - 0.884).abs() < 1e-9);
    assert!(!f.gaps.iter().any(|g| g.item == GapItem::Cbc));
}

#[test]
fn unknown_unit_is_not_used_and_the_gap_says_so() {
    let f = facts(&[
        obs("alc", "731-0", "2026-11-01", 12.0, "%"),
        obs("anc", "751-8", "2026-11-01", 2.0, "10*3/uL"),
        obs("hb", "718-7", "2026-11-01", 12.0, "g/dL"),
    ]);
    assert!(f.alc.is_none());
    let gap = f.gaps.iter().find(|g| g.item == GapItem::Cbc).unwrap();
    assert_eq!(gap.unusable.len(), 1);
    assert!(
        gap.unusable[0].what.contains("unit '%'"),
        "{}",
        gap.unusable[0].what
    );
}

#[test]
fn cbc_older_than_three_months_is_a_gap() {
    let f = facts(&[
        obs("alc", "731-0", "2026-08-25", 1.0, "10*3/uL"),
        obs("anc", "751-8", "2026-08-26", 2.0, "10*3/uL"),
        obs("hb", "718-7", "2026-08-26", 12.0, "g/dL"),
    ]);
    assert!(f.alc.is_none() && f.anc.is_some() && f.hb.is_some());
    let gap = f.gaps.iter().find(|g| g.item == GapItem::Cbc).unwrap();
    assert_eq!(gap.stale.as_ref().unwrap().reference, "Observation/alc");
}

fn sledai_obs(id: &str, date: &str, value: Value) -> Value {
    let mut o = json!({"resourceType": "Observation", "id": id, "status": "final",
        "category": [{"coding": [{"code": "survey"}]}],
        "code": {"coding": [{"system": "https://jak-sle-cds.github.io/fhir/CodeSystem/sle-assessment", "code": "sledai-2k"}]},
        "effectiveDateTime": date});
    o["valueInteger"] = value;
    o
}

#[test]
fn sledai_scores_boundaries_range_and_window() {
    for v in [10, 11] {
        let f = facts(&[sledai_obs("s", "2026-06-01", json!(v))]);
        assert_eq!(f.sledai.unwrap().value, f64::from(v));
    }
    let f = facts(&[sledai_obs("s", "2026-11-01", json!(106))]);
    assert!(f.sledai.is_none());
    let gap = f.gaps.iter().find(|g| g.item == GapItem::Sledai).unwrap();
    assert!(gap.unusable[0].what.contains("outside 0-105"));
    // Six months before 2026-11-26 is 2026-05-26.
    assert!(facts(&[sledai_obs("s", "2026-05-26", json!(12))])
        .sledai
        .is_some());
    let f = facts(&[sledai_obs("s", "2026-05-25", json!(12))]);
    assert!(f.sledai.is_none());
    assert!(f
        .gaps
        .iter()
        .any(|g| g.item == GapItem::Sledai && g.stale.is_some()));
}

#[test]
fn sledai_text_fallback() {
    let f = facts(&[
        json!({"resourceType": "Observation", "id": "s", "status": "final",
        "code": {"text": "SLEDAI 2K total"}, "effectiveDateTime": "2026-10-01",
        "valueQuantity": {"value": 8}}),
    ]);
    assert_eq!(f.sledai.unwrap().value, 8.0);
}

#[test]
fn tst_induration_and_interpretation() {
    let tst = |id: &str, mm: f64| {
        json!({"resourceType": "Observation", "id": id, "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "39263-9"}]}, "effectiveDateTime": "2026-10-01",
            "valueQuantity": {"value": mm, "unit": "mm"}})
    };
    assert_eq!(
        facts(&[tst("t", 5.0)]).tb_screening.unwrap().result,
        TbTestResult::Positive
    );
    assert_eq!(
        facts(&[tst("t", 4.0)]).tb_screening.unwrap().result,
        TbTestResult::Negative
    );
    let f = facts(&[
        json!({"resourceType": "Observation", "id": "i", "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "46217-6"}]}, "effectiveDateTime": "2026-10-01",
        "interpretation": [{"coding": [{"code": "NEG"}]}]}),
    ]);
    assert_eq!(f.tb_screening.unwrap().result, TbTestResult::Negative);
    assert!(!f.gaps.iter().any(|g| g.item == GapItem::TbScreening));
    let f = facts(&[
        json!({"resourceType": "Observation", "id": "i", "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "46217-6"}]}, "effectiveDateTime": "2026-10-01",
        "valueString": "Not detected"}),
    ]);
    assert_eq!(f.tb_screening.unwrap().result, TbTestResult::Negative);
}

#[test]
fn missing_tb_screening_is_a_gap() {
    let f = facts(&[]);
    let items: Vec<GapItem> = f.gaps.iter().map(|g| g.item).collect();
    assert_eq!(
        items,
        [
            GapItem::Sledai,
            GapItem::Egfr,
            GapItem::Cbc,
            GapItem::TbScreening
        ]
    );
}

// ---- medications --------------------------------------------------------------------------

#[test]
fn prednisone_equivalent_boundary_and_tablets_times_strength() {
    // methylprednisolone 8 mg once daily x 1.25 = 10 mg.
    let f = facts(&[med_request(
        "m",
        "active",
        rx("6902", "methylprednisolone"),
        daily(1, json!({"value": 8, "unit": "mg"})),
    )]);
    assert!((f.glucocorticoid.unwrap().mg_per_day - 10.0).abs() < 1e-9);
    // prednisone 4.95 mg twice daily = 9.9 mg.
    let f = facts(&[med_request(
        "p",
        "active",
        rx("8640", "prednisone"),
        daily(2, json!({"value": 4.95, "unit": "mg"})),
    )]);
    assert!((f.glucocorticoid.unwrap().mg_per_day - 9.9).abs() < 1e-9);
    // 2 tablets of prednisone 5 MG Oral Tablet (312617) once daily = 10 mg.
    let f = facts(&[med_request(
        "t",
        "active",
        rx("312617", "prednisone 5 MG Oral Tablet"),
        daily(1, json!({"value": 2, "unit": "tablet", "code": "{pill}"})),
    )]);
    let gc = f.glucocorticoid.unwrap();
    assert!((gc.mg_per_day - 10.0).abs() < 1e-9);
    assert!(
        gc.sources[0]
            .what
            .contains("prednisone-equivalent 10 mg/day"),
        "{}",
        gc.sources[0].what
    );
}

#[test]
fn glucocorticoid_orders_sum_and_skip_inactive_and_local_products() {
    let f = facts(&[
        med_request(
            "a",
            "active",
            json!({"text": "dexamethasone 1 MG Oral Tablet"}),
            daily(1, json!({"value": 1, "unit": "tablet"})),
        ),
        med_request(
            "b",
            "active",
            rx("8640", "prednisone"),
            daily(1, json!({"value": 5, "unit": "mg"})),
        ),
        med_request(
            "c",
            "stopped",
            rx("8640", "prednisone"),
            daily(1, json!({"value": 40, "unit": "mg"})),
        ),
        med_request(
            "d",
            "active",
            json!({"text": "hydrocortisone 1 % Topical Cream"}),
            daily(2, json!({"value": 1, "unit": "g"})),
        ),
        med_request(
            "e",
            "active",
            json!({"text": "budesonide 9 MG Oral Capsule"}),
            daily(1, json!({"value": 9, "unit": "mg"})),
        ),
        med_request(
            "f",
            "active",
            rx("8640", "prednisone"),
            json!([{"doseAndRate": [{"doseQuantity": {"value": 5, "unit": "mg"}}]}]),
        ),
    ]);
    let gc = f.glucocorticoid.unwrap();
    assert!((gc.mg_per_day - 11.67).abs() < 1e-9, "{}", gc.mg_per_day);
    assert_eq!(gc.sources.len(), 2);
    assert_eq!(gc.unreadable.len(), 1);
    assert_eq!(gc.unreadable[0].reference, "MedicationRequest/f");
}

#[test]
fn dose_observation_used_only_without_a_readable_order() {
    let dose_obs = json!({"resourceType": "Observation", "id": "pd", "status": "final",
        "code": {"coding": [{"system": "https://jak-sle-cds.github.io/fhir/CodeSystem/sle-assessment", "code": "prednisone-equivalent-dose"}]},
        "effectiveDateTime": "2026-11-01", "valueQuantity": {"value": 15, "unit": "mg/d"}});
    let f = facts(std::slice::from_ref(&dose_obs));
    assert_eq!(f.glucocorticoid.unwrap().mg_per_day, 15.0);
    let f = facts(&[
        dose_obs.clone(),
        med_request(
            "b",
            "active",
            rx("8640", "prednisone"),
            daily(1, json!({"value": 5, "unit": "mg"})),
        ),
    ]);
    assert_eq!(f.glucocorticoid.unwrap().mg_per_day, 5.0);
    let mut old = dose_obs;
    old["effectiveDateTime"] = json!("2026-10-26"); // 31 days before today
    assert!(facts(&[old]).glucocorticoid.is_none());
}

#[test]
fn standard_therapies_only_from_records_that_mean_the_drug_was_taken() {
    let f = facts(&[
        med_request("r", "completed", rx("121191", "rituximab"), json!([])),
        med_request("c", "cancelled", json!({"text": "Saphnelo"}), json!([])),
        json!({"resourceType": "MedicationAdministration", "id": "cy", "status": "completed",
            "medicationCodeableConcept": {"text": "cyclophosphamide 500 mg"}, "effectiveDateTime": "2026-09-01"}),
        med_request(
            "x",
            "entered-in-error",
            json!({"text": "Benlysta 200 mg/mL"}),
            json!([]),
        ),
        json!({"resourceType": "MedicationStatement", "id": "s", "status": "completed",
            "medicationCodeableConcept": {"text": "CellCept 500 mg"}, "effectiveDateTime": "2024-01-01"}),
        json!({"resourceType": "MedicationStatement", "id": "n", "status": "not-taken",
            "medicationCodeableConcept": {"text": "cyclophosphamide"}}),
    ]);
    let tried: Vec<Therapy> = f.therapies_tried.keys().copied().collect();
    assert_eq!(
        tried,
        [
            Therapy::Rituximab,
            Therapy::Mycophenolate,
            Therapy::Cyclophosphamide
        ]
    );
    let mmf = &f.therapies_tried[&Therapy::Mycophenolate];
    assert_eq!(mmf.sources[0].reference, "MedicationStatement/s");
    assert_eq!(mmf.first, NaiveDate::from_ymd_opt(2024, 1, 1));
    assert!(mmf.assessable);
    // An undated order cannot show that the drug was taken long enough.
    assert!(!f.therapies_tried[&Therapy::Rituximab].assessable);
    // Cyclophosphamide counts at any age (given, via MedicationAdministration).
    assert!(f.therapies_tried[&Therapy::Cyclophosphamide].assessable);
}

#[test]
fn oat3_and_co_therapies_need_active_systemic_orders() {
    let f = facts(&[
        med_request(
            "p",
            "active",
            json!({"text": "probenecid 500 MG Oral Tablet"}),
            json!([]),
        ),
        med_request(
            "p2",
            "stopped",
            json!({"text": "probenecid 500 MG Oral Tablet"}),
            json!([]),
        ),
        med_request("a", "active", rx("1256", "azathioprine"), json!([])),
        med_request(
            "c",
            "active",
            json!({"text": "cyclosporine 0.05 % Ophthalmic Emulsion"}),
            json!([]),
        ),
        med_request(
            "t",
            "active",
            rx("1357541", "tofacitinib 5 MG Oral Tablet"),
            json!([]),
        ),
        med_request("b", "on-hold", json!({"text": "belimumab"}), json!([])),
    ]);
    assert_eq!(f.oat3_inhibitor.len(), 1);
    assert!(f.active_drugs.contains(&"azathioprine".to_string()));
    assert_eq!(
        f.stopped_drugs,
        Vec::<String>::new(),
        "probenecid is active too"
    );
    let co: Vec<(CoTherapyClass, &str)> = f
        .co_therapies
        .iter()
        .map(|c| (c.class, c.agent.as_str()))
        .collect();
    assert_eq!(
        co,
        [
            (CoTherapyClass::PotentImmunosuppressant, "azathioprine"),
            (CoTherapyClass::JakInhibitor, "tofacitinib")
        ]
    );
}

#[test]
fn medication_reference_to_a_record_medication() {
    let f = facts(&[
        json!({"resourceType": "Medication", "id": "m1", "code": {"coding": [{"system": RXNORM, "code": "121191"}]}}),
        json!({"resourceType": "MedicationRequest", "id": "r", "status": "completed",
            "medicationReference": {"reference": "Medication/m1"}}),
    ]);
    assert!(f.therapies_tried.contains_key(&Therapy::Rituximab));
}

#[test]
fn rituximab_within_six_months_is_a_co_therapy_from_its_last_administration() {
    let give = |id: &str, date: &str| {
        json!({"resourceType": "MedicationAdministration", "id": id, "status": "completed",
            "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "121191"}]},
            "effectiveDateTime": date})
    };
    // today is 2026-11-26: 6 months back is 2026-05-26.
    let f = facts(&[give("a", "2026-05-26")]);
    assert_eq!(f.co_therapies.len(), 1);
    assert_eq!(f.co_therapies[0].agent, "rituximab");
    let f = facts(&[give("a", "2026-05-25")]);
    assert!(f.co_therapies.is_empty());
}

#[test]
fn cyp3a4_hormonal_and_hydroxychloroquine_classes() {
    let f = facts(&[
        med_request(
            "k",
            "active",
            json!({"text": "ketoconazole 200 MG Oral Tablet"}),
            json!([]),
        ),
        med_request("f", "active", json!({"text": "Diflucan 150 mg"}), json!([])),
        med_request("r", "active", json!({"text": "rifampin 300 MG"}), json!([])),
        med_request(
            "e",
            "active",
            json!({"text": "estradiol 0.1 MG/ACTUAT Vaginal Cream"}),
            json!([]),
        ),
        med_request(
            "o",
            "active",
            json!({"text": "ethinyl estradiol / norethindrone"}),
            json!([]),
        ),
        json!({"resourceType": "MedicationStatement", "id": "h", "status": "active",
            "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "5521"}]}}),
    ]);
    assert_eq!(f.cyp3a4_inhibitors.len(), 1);
    assert_eq!(f.cyp2c19_cyp3a4_inhibitors.len(), 1);
    assert_eq!(f.cyp3a4_inducers.len(), 1);
    assert_eq!(f.hormonal_vte.len(), 1, "the vaginal cream is local");
    assert_eq!(f.hydroxychloroquine.len(), 1);
}

#[test]
fn age_from_birth_date_and_female_sex() {
    let f = facts(&[
        json!({"resourceType": "Patient", "id": "p", "gender": "female", "birthDate": "1961-11-26"}),
    ]);
    assert_eq!(f.risk.age.as_ref().map(|a| a.years), Some(65));
    assert!(f.risk.female);
    let f = facts(&[json!({"resourceType": "Patient", "id": "p", "birthDate": "1961-11-27"})]);
    assert_eq!(f.risk.age.as_ref().map(|a| a.years), Some(64));
    assert!(!f.risk.female);
}

// ---- immunizations and bookkeeping --------------------------------------------------------

#[test]
fn zoster_vaccine_doses_completed_only() {
    let imm = |id: &str, status: &str| {
        json!({"resourceType": "Immunization", "id": id, "status": status,
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "187"}]},
            "occurrenceDateTime": "2025-03-01"})
    };
    let f = facts(&[
        imm("a", "completed"),
        imm("b", "not-done"),
        imm("c", "entered-in-error"),
    ]);
    assert_eq!(f.zoster_vaccine.len(), 1);
    assert_eq!(f.zoster_vaccine[0].reference, "Immunization/a");
}

#[test]
fn unreadable_relevant_counts_clinical_and_unknown_types() {
    let mut r = PatientRecord::default();
    let fail = |t: Option<&str>| ParseFailure {
        resource_type: t.map(String::from),
        reason: "test".into(),
    };
    r.unreadable = vec![
        fail(Some("Condition")),
        fail(Some("MedicationOrder")),
        fail(None),
        fail(Some("Patient")),
        fail(Some("Encounter")),
    ];
    r.unavailable = vec!["labs".into()];
    let f = derive(&r, &kb(), today());
    assert_eq!(f.unreadable_relevant, 3);
    assert_eq!(f.unreadable_total, 5);
    assert_eq!(f.unavailable, ["labs"]);
}

// ---- draft orders -------------------------------------------------------------------------

fn ctx(orders: &[Value], draft_medications: &[Value]) -> OrderContext {
    let orders = orders
        .iter()
        .map(|v| {
            let Ok(Resource::MedicationRequest(request)) = parse_resource_str(&v.to_string())
            else {
                panic!("not an order")
            };
            DraftOrder {
                reference: format!(
                    "{}/{}",
                    v["resourceType"].as_str().unwrap_or("MedicationRequest"),
                    v["id"].as_str().unwrap_or("")
                ),
                request: *request,
                raw: v.clone(),
            }
        })
        .collect();
    let draft_medications: Vec<Medication> = draft_medications
        .iter()
        .map(|v| match parse_resource_str(&v.to_string()) {
            Ok(Resource::Medication(m)) => m,
            _ => panic!("not a Medication"),
        })
        .collect();
    OrderContext {
        hook: Hook::OrderSign,
        patient_id: "p".into(),
        user_id: None,
        orders,
        draft_medications,
        unreadable_drafts: Vec::new(),
        draft_immunizations: Vec::new(),
    }
}

fn known(d: &DoseReading) -> (f64, f64, f64) {
    match d {
        DoseReading::Known {
            mg_per_dose,
            doses_per_day,
            mg_per_day,
        } => (*mg_per_dose, *doses_per_day, *mg_per_day),
        DoseReading::Unknown { reason } => panic!("unknown dose: {reason}"),
    }
}

#[test]
fn sandbox_product_1357541_is_tofacitinib_5_mg() {
    let c = ctx(
        &[
            json!({"resourceType": "MedicationRequest", "id": "request-123", "status": "draft", "intent": "order",
            "medicationCodeableConcept": {"text": "tofacitinib 5 MG Oral Tablet",
                "coding": [{"system": RXNORM, "code": "1357541", "display": "tofacitinib 5 MG Oral Tablet"}]},
            "dosageInstruction": [{"timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet", "system": "http://unitsofmeasure.org", "code": "{pill}"}}]}]}),
        ],
        &[],
    );
    let o = classify_orders(&c, &PatientRecord::default(), &kb());
    assert_eq!(o.len(), 1);
    assert_eq!(o[0].agent, Agent::Tofacitinib);
    assert_eq!(o[0].matched_by, "RxNorm 1357541");
    assert_eq!(o[0].strength_mg, Some(5.0));
    assert_eq!(known(&o[0].dose), (5.0, 2.0, 10.0));
}

#[test]
fn dstu2_medication_order_is_read() {
    let c = ctx(
        &[
            json!({"resourceType": "MedicationOrder", "id": "order-123", "patient": {"reference": "Patient/p"},
            "dateWritten": "2026-11-26", "medicationCodeableConcept": {"text": "tofacitinib 5 MG Oral Tablet",
                "coding": [{"system": RXNORM, "code": "1357541"}]},
            "dosageInstruction": [{"doseQuantity": {"value": 2, "unit": "tablet"},
                "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}}]}),
        ],
        &[],
    );
    let o = classify_orders(&c, &PatientRecord::default(), &kb());
    assert_eq!(o[0].draft.reference, "MedicationOrder/order-123");
    assert_eq!(known(&o[0].dose).2, 10.0);
}

#[test]
fn text_only_baricitinib_2_mg_tablet() {
    let c = ctx(
        &[
            json!({"resourceType": "MedicationRequest", "id": "b", "status": "draft",
            "medicationCodeableConcept": {"text": "baricitinib 2 MG Oral Tablet"},
            "dosageInstruction": [{"timing": {"code": {"coding": [{"code": "QD"}]}},
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet"}}]}]}),
        ],
        &[],
    );
    let o = classify_orders(&c, &PatientRecord::default(), &kb());
    assert_eq!(o[0].agent, Agent::Baricitinib);
    assert_eq!(o[0].matched_by, "text 'baricitinib'");
    assert_eq!(o[0].strength_mg, Some(2.0));
    assert_eq!(known(&o[0].dose), (2.0, 1.0, 2.0));
}

#[test]
fn brand_with_mg_dose_and_missing_timing() {
    let c = ctx(
        &[
            json!({"resourceType": "MedicationRequest", "id": "o", "status": "draft",
                "medicationCodeableConcept": {"text": "Olumiant 4 mg"},
                "dosageInstruction": [{"timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                    "doseAndRate": [{"doseQuantity": {"value": 4, "unit": "mg"}}]}]}),
            json!({"resourceType": "MedicationRequest", "id": "n", "status": "draft",
                "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "2196092"}], "text": "upadacitinib"},
                "dosageInstruction": [{"doseAndRate": [{"doseQuantity": {"value": 15, "unit": "mg"}}]}]}),
            json!({"resourceType": "MedicationRequest", "id": "x", "status": "draft",
                "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "8640"}], "text": "prednisone"}}),
        ],
        &[],
    );
    let o = classify_orders(&c, &PatientRecord::default(), &kb());
    assert_eq!(o.len(), 2);
    assert_eq!(known(&o[0].dose).2, 4.0);
    assert_eq!(o[1].agent, Agent::Upadacitinib);
    assert!(
        matches!(&o[1].dose, DoseReading::Unknown { reason } if reason.contains("no frequency"))
    );
    assert_eq!(o[1].strength_mg, None);
}

#[test]
fn topical_ruxolitinib_and_delgocitinib_are_out_of_scope() {
    let c = ctx(
        &[
            json!({"resourceType": "MedicationRequest", "id": "a", "status": "draft",
                "medicationCodeableConcept": {"text": "Opzelura 1.5 % cream"}}),
            json!({"resourceType": "MedicationRequest", "id": "b", "status": "draft",
                "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "1193326"}], "text": "ruxolitinib"},
                "dosageInstruction": [{"route": {"coding": [{"system": SCT, "code": "6064005", "display": "Topical route"}]}}]}),
            json!({"resourceType": "MedicationRequest", "id": "c", "status": "draft",
                "medicationCodeableConcept": {"text": "delgocitinib 20 MG/G cream"}}),
            json!({"resourceType": "MedicationRequest", "id": "d", "status": "draft",
                "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "1193339"}]}}),
        ],
        &[],
    );
    let o = classify_orders(&c, &PatientRecord::default(), &kb());
    assert_eq!(o.len(), 1);
    assert_eq!(o[0].draft.reference, "MedicationRequest/d");
    assert_eq!(o[0].strength_mg, Some(5.0));
}

#[test]
fn medication_references_resolve_to_drafts_and_contained() {
    let c = ctx(
        &[
            json!({"resourceType": "MedicationRequest", "id": "a", "status": "draft",
                "medicationReference": {"reference": "Medication/med-1"}}),
            json!({"resourceType": "MedicationRequest", "id": "b", "status": "draft",
                "contained": [{"resourceType": "Medication", "id": "c1",
                    "code": {"coding": [{"system": "http://www.whocc.no/atc", "code": "L04AF02"}], "text": "Olumiant 2 mg tablet"}}],
                "medicationReference": {"reference": "#c1"}}),
        ],
        &[json!({"resourceType": "Medication", "id": "med-1", "code": {"text": "Sotyktu 6 mg"}})],
    );
    let o = classify_orders(&c, &PatientRecord::default(), &kb());
    assert_eq!(o.len(), 2);
    assert_eq!(o[0].agent, Agent::Deucravacitinib);
    assert!(o[0].agent.is_tyk2());
    assert_eq!(o[0].label, "Sotyktu 6 mg");
    assert_eq!(o[1].agent, Agent::Baricitinib);
    assert_eq!(o[1].matched_by, "ATC L04AF02");
    assert_eq!(o[1].strength_mg, Some(2.0));
}

#[test]
fn unverified_codes_are_flagged() {
    let c = ctx(
        &[
            json!({"resourceType": "MedicationRequest", "id": "a", "status": "draft",
            "medicationCodeableConcept": {"coding": [{"system": "http://www.whocc.no/atc", "code": "D11AH08"}]}}),
        ],
        &[],
    );
    let o = classify_orders(&c, &PatientRecord::default(), &kb());
    assert_eq!(o[0].agent, Agent::Abrocitinib);
    assert!(o[0].matched_by.contains("UNVERIFIED"));
}

/// A 200-resource patient: conditions, labs over two years, orders and immunizations.
fn big_record() -> PatientRecord {
    let mut v = Vec::new();
    for i in 0..40 {
        let (sys, code) = [
            (SCT, "55464009"),
            (ICD, "M32.14"),
            (ICD, "I10"),
            (SCT, "38341003"),
        ][i % 4];
        v.push(active(&format!("c{i}"), sys, code));
    }
    for i in 0..120 {
        let code = ["62238-1", "731-0", "751-8", "718-7", "2890-2", "2160-0"][i % 6];
        let date = format!("20{}-{:02}-15", 25 + i % 2, 1 + i % 12);
        v.push(obs(
            &format!("o{i}"),
            code,
            &date,
            1.0 + i as f64,
            "10*3/uL",
        ));
    }
    for i in 0..30 {
        let (code, text) = [
            ("8640", "prednisone"),
            ("1256", "azathioprine"),
            ("197361", "amlodipine 5 MG Oral Tablet"),
        ][i % 3];
        v.push(med_request(
            &format!("m{i}"),
            "active",
            rx(code, text),
            daily(1, json!({"value": 5, "unit": "mg"})),
        ));
    }
    for i in 0..10 {
        v.push(
            json!({"resourceType": "Immunization", "id": format!("i{i}"), "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "187"}]}}),
        );
    }
    record(&v)
}

/// Speed is measured by `benches/evaluate.rs`, never timed here; this checks that a large
/// record derives completely.
#[test]
fn derive_reads_a_200_resource_patient() {
    let kb = kb();
    let rec = big_record();
    let f = derive(&rec, &kb, today());
    assert_eq!((f.sle.len(), f.co_therapies.len()), (20, 10));
}

#[test]
fn an_active_condition_reads_without_its_status_and_others_with_theirs() {
    // "Latent tuberculosis, active" read as active TB: an active record goes unsaid.
    let f = facts(&[
        active("ltbi", ICD, "Z22.7"),
        condition("vte", ICD, "I82.401", Some("resolved"), "confirmed"),
    ]);
    assert_eq!(
        f.latent_tb_untreated[0].what,
        "test Z22.7 (ICD-10-CM Z22.7)"
    );
    assert!(
        f.vte_history[0].what.ends_with(", resolved"),
        "{}",
        f.vte_history[0].what
    );
    let unstated = facts(&[condition("ltbi", ICD, "Z22.7", None, "confirmed")]);
    assert!(
        unstated.latent_tb_untreated[0]
            .what
            .ends_with(", status not stated, counted as current"),
        "{}",
        unstated.latent_tb_untreated[0].what
    );
}
