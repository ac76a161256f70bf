//! Suggestions and their FHIR actions (knowledge.md 4.9): delete the draft; create coded
//! orders an EHR can place (MedicationRequest with an RxNorm-coded medication, dosage, status
//! draft, intent order, subject and requester; ServiceRequest with a LOINC code); recommend the
//! zoster vaccine; update the draft's dose keeping its other fields and codings.

use chrono::NaiveDate;
use serde_json::{json, Map, Value};

use crate::cds::{Action, ActionType, DraftOrder, Suggestion};
use crate::knowledge::drugs::{LabOrder, MedicationOrder};
use crate::knowledge::evidence::CodedOrder;
use crate::rules::dose::Regimen;
use crate::rules::num;

pub const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
const UCUM: &str = "http://unitsofmeasure.org";
const RECOMMENDATION_STATUS: &str =
    "http://terminology.hl7.org/CodeSystem/immunization-recommendation-status";

pub fn suggestion(label: impl Into<String>, recommended: bool, actions: Vec<Action>) -> Suggestion {
    Suggestion {
        label: label.into(),
        uuid: uuid::Uuid::new_v4().to_string(),
        is_recommended: Some(recommended),
        actions,
    }
}

/// Delete the draft, by its reference as the client sent it.
pub fn delete_draft(draft: &DraftOrder, what: &str) -> Action {
    Action {
        action_type: ActionType::Delete,
        description: format!("Remove the draft {what} order"),
        resource: None,
        resource_id: Some(draft.reference.clone()),
    }
}

fn create(description: String, resource: Value) -> Action {
    Action {
        action_type: ActionType::Create,
        description,
        resource: Some(resource),
        resource_id: None,
    }
}

/// Who orders: subject from `context.patientId`, requester from `context.userId`.
pub struct Parties<'a> {
    pub patient_id: &'a str,
    pub user_id: Option<&'a str>,
}

impl Parties<'_> {
    fn fill(&self, obj: &mut Map<String, Value>) {
        obj.insert(
            "subject".into(),
            json!({ "reference": format!("Patient/{}", self.patient_id) }),
        );
        if let Some(u) = self.user_id {
            obj.insert("requester".into(), json!({ "reference": u }));
        }
    }
}

fn medication_request(concept: Value, dosage: Value, p: &Parties) -> Value {
    let mut obj = Map::new();
    obj.insert("resourceType".into(), json!("MedicationRequest"));
    obj.insert("status".into(), json!("draft"));
    obj.insert("intent".into(), json!("order"));
    p.fill(&mut obj);
    obj.insert("medicationCodeableConcept".into(), concept);
    obj.insert("dosageInstruction".into(), json!([dosage]));
    Value::Object(obj)
}

fn rxnorm_concept(code: &str, text: &str) -> Value {
    json!({
        "coding": [{ "system": RXNORM, "code": code, "display": text }],
        "text": text
    })
}

/// A coded draft order for a standard therapy or hydroxychloroquine (regimen text).
pub fn create_medication(o: &MedicationOrder, p: &Parties) -> Action {
    create(
        format!("Create a draft order for {}", o.text),
        medication_request(
            rxnorm_concept(&o.rxnorm, &o.text),
            json!({ "text": o.instruction }),
            p,
        ),
    )
}

fn mg_quantity(mg: f64) -> Value {
    let value = if mg.fract() == 0.0 && mg.abs() < 1e9 {
        json!(mg as i64)
    } else {
        json!(mg)
    };
    json!({ "value": value, "unit": "mg", "system": UCUM, "code": "mg" })
}

/// A structured dosage: mg per dose, `per_day` times a day, orally.
fn dosage(agent: &str, r: &Regimen) -> Value {
    json!({
        "text": format!("{agent} {} orally", r.text()),
        "timing": { "repeat": { "frequency": r.per_day, "period": 1, "periodUnit": "d" } },
        "doseAndRate": [{ "doseQuantity": mg_quantity(r.mg) }]
    })
}

/// "baricitinib 2 MG Oral Tablet".
pub fn tablet_text(agent: &str, mg: f64) -> String {
    format!("{agent} {} MG Oral Tablet", num(mg))
}

/// A coded draft baricitinib order (instead of an agent without SLE data): the ingredient
/// code (no verified product code) with the tablet text, `mg` once daily.
pub fn create_baricitinib(o: &MedicationOrder, mg: f64, p: &Parties) -> Action {
    let r = Regimen {
        mg,
        per_day: 1,
        product: None,
    };
    create(
        format!("Create a draft order for baricitinib {}", r.text()),
        medication_request(
            rxnorm_concept(&o.rxnorm, &tablet_text("baricitinib", mg)),
            dosage("baricitinib", &r),
            p,
        ),
    )
}

/// The whole draft at the new regimen: other fields and codings kept; RxNorm codings replaced
/// by the product of the new strength where known, else the ingredient code, and the text
/// changed. None when the draft is not a JSON object.
pub fn update_dose(
    draft: &DraftOrder,
    agent: &str,
    ingredient_rxnorm: Option<&str>,
    r: &Regimen,
) -> Option<Action> {
    let mut resource = draft.raw.clone();
    let obj = resource.as_object_mut()?;
    let dstu2 = obj.get("resourceType").and_then(Value::as_str) == Some("MedicationOrder");
    let mut dosages: Vec<Value> = match obj.get("dosageInstruction") {
        Some(Value::Array(a)) => a.clone(),
        Some(v @ Value::Object(_)) => vec![v.clone()],
        _ => Vec::new(),
    };
    if dosages.is_empty() {
        dosages.push(json!({}));
    }
    dosages.truncate(1);
    let first = dosages[0].as_object_mut()?;
    let new = dosage(agent, r);
    first.insert("text".into(), new["text"].clone());
    first.insert("timing".into(), new["timing"].clone());
    if dstu2 {
        first.insert("doseQuantity".into(), mg_quantity(r.mg));
    } else {
        first.remove("doseQuantity");
        first.insert("doseAndRate".into(), new["doseAndRate"].clone());
    }
    obj.insert("dosageInstruction".into(), Value::Array(dosages));

    let (code, text) = match &r.product {
        Some((code, text)) => (Some(code.clone()), text.clone()),
        None => (
            ingredient_rxnorm.map(str::to_string),
            tablet_text(agent, r.mg),
        ),
    };
    let mut concept = match obj.remove("medicationCodeableConcept") {
        Some(Value::Object(c)) => c,
        _ => Map::new(),
    };
    obj.remove("medicationReference");
    let mut codings: Vec<Value> = match concept.remove("coding") {
        Some(Value::Array(a)) => a
            .into_iter()
            .filter(|c| !c["system"].as_str().is_some_and(|s| s.contains("rxnorm")))
            .collect(),
        _ => Vec::new(),
    };
    if let Some(code) = code {
        codings.insert(
            0,
            json!({ "system": RXNORM, "code": code, "display": text }),
        );
    }
    if !codings.is_empty() {
        concept.insert("coding".into(), Value::Array(codings));
    }
    concept.insert("text".into(), json!(text));
    obj.insert("medicationCodeableConcept".into(), Value::Object(concept));
    Some(Action {
        action_type: ActionType::Update,
        description: format!("Change the draft order to {agent} {}", r.text()),
        resource: Some(resource),
        resource_id: None,
    })
}

/// A draft ServiceRequest for a lab test (LOINC-coded).
pub fn create_lab(system: &str, code: &str, text: &str, p: &Parties, reason: &str) -> Action {
    let mut obj = Map::new();
    obj.insert("resourceType".into(), json!("ServiceRequest"));
    obj.insert("status".into(), json!("draft"));
    obj.insert("intent".into(), json!("order"));
    p.fill(&mut obj);
    obj.insert(
        "code".into(),
        json!({ "coding": [{ "system": system, "code": code, "display": text }], "text": text }),
    );
    obj.insert("reasonCode".into(), json!([{ "text": reason }]));
    create(format!("Order {text}"), Value::Object(obj))
}

pub fn create_coded_lab(o: &CodedOrder, p: &Parties, reason: &str) -> Action {
    create_lab(&o.system, &o.code, &o.text, p, reason)
}

pub fn create_lab_order(o: &LabOrder, p: &Parties, reason: &str) -> Action {
    create_lab(&o.system, &o.code, &o.text, p, reason)
}

/// An ImmunizationRecommendation for the recombinant zoster vaccine (CVX 187).
pub fn create_zoster_recommendation(
    o: &CodedOrder,
    patient_id: &str,
    today: NaiveDate,
    reason: &str,
) -> Action {
    create(
        format!("Recommend {}", o.text),
        json!({
            "resourceType": "ImmunizationRecommendation",
            "patient": { "reference": format!("Patient/{patient_id}") },
            "date": today.format("%Y-%m-%d").to_string(),
            "recommendation": [{
                "vaccineCode": [{ "coding": [{ "system": o.system, "code": o.code }], "text": o.text }],
                "forecastStatus": { "coding": [{ "system": RECOMMENDATION_STATUS, "code": "due" }] },
                "description": reason
            }]
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{draft, kb};

    fn parties() -> Parties<'static> {
        Parties {
            patient_id: "p1",
            user_id: Some("Practitioner/u1"),
        }
    }

    #[test]
    fn dose_update_keeps_the_draft_and_sets_mg_once_daily() {
        let mut d = draft("upd").clone();
        d.raw["medicationCodeableConcept"] = json!({
            "coding": [
                {"system": RXNORM, "code": "1741046", "display": "tofacitinib 11 MG XR"},
                {"system": "http://www.whocc.no/atc", "code": "L04AF01"}
            ],
            "text": "tofacitinib 11 MG 24HR Extended Release Oral Tablet"
        });
        d.raw["note"] = json!([{"text": "keep me"}]);
        let r = Regimen {
            mg: 5.0,
            per_day: 1,
            product: Some(("1357541".into(), "tofacitinib 5 MG Oral Tablet".into())),
        };
        let a = update_dose(&d, "tofacitinib", Some("1357536"), &r).expect("update");
        let res = a.resource.expect("resource");
        assert_eq!(res["id"], "upd");
        assert_eq!(res["note"][0]["text"], "keep me");
        let c = &res["medicationCodeableConcept"];
        assert_eq!(c["coding"][0]["code"], "1357541");
        assert_eq!(c["coding"][1]["code"], "L04AF01", "other codings kept");
        assert_eq!(c["coding"].as_array().map(Vec::len), Some(2));
        assert_eq!(c["text"], "tofacitinib 5 MG Oral Tablet");
        let q = &res["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"];
        assert_eq!(q["value"].as_f64(), Some(5.0));
        assert_eq!(
            res["dosageInstruction"][0]["timing"]["repeat"]["frequency"],
            1
        );
    }

    #[test]
    fn dstu2_orders_get_the_top_level_dose() {
        let mut d = draft("old").clone();
        d.raw["resourceType"] = json!("MedicationOrder");
        let r = Regimen {
            mg: 4.0,
            per_day: 1,
            product: None,
        };
        let res = update_dose(&d, "baricitinib", Some("2047232"), &r)
            .and_then(|a| a.resource)
            .expect("resource");
        assert_eq!(
            res["dosageInstruction"][0]["doseQuantity"]["value"].as_f64(),
            Some(4.0)
        );
    }

    #[test]
    fn dose_update_without_a_product_uses_the_ingredient_code() {
        let d = draft("b");
        let r = Regimen {
            mg: 2.0,
            per_day: 1,
            product: None,
        };
        let res = update_dose(d, "baricitinib", Some("2047232"), &r)
            .and_then(|a| a.resource)
            .expect("resource");
        assert_eq!(
            res["medicationCodeableConcept"]["coding"][0]["code"],
            "2047232"
        );
        assert_eq!(
            res["medicationCodeableConcept"]["text"],
            "baricitinib 2 MG Oral Tablet"
        );
    }

    #[test]
    fn created_orders_are_coded_with_subject_and_requester() {
        let o = kb().drugs.medication_order("mycophenolate").expect("mmf");
        let r = create_medication(o, &parties()).resource.expect("resource");
        assert_eq!(r["medicationCodeableConcept"]["coding"][0]["code"], "68149");
        assert_eq!(r["status"], "draft");
        assert_eq!(r["intent"], "order");
        assert_eq!(r["subject"]["reference"], "Patient/p1");
        assert_eq!(r["requester"]["reference"], "Practitioner/u1");
        let b = kb().drugs.medication_order("baricitinib").expect("bari");
        let r = create_baricitinib(b, 2.0, &parties())
            .resource
            .expect("resource");
        assert_eq!(
            r["medicationCodeableConcept"]["coding"][0]["code"],
            "2047232"
        );
        assert_eq!(
            r["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"].as_f64(),
            Some(2.0)
        );
    }
}
