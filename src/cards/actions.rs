//! Suggestions and their FHIR actions: delete the draft, create an alternative order, create
//! screening orders and the zoster vaccine recommendation, update the draft's dose.

use chrono::NaiveDate;
use serde_json::{json, Map, Value};

use crate::cds::{Action, ActionType, DraftOrder, Suggestion};
use crate::facts::Therapy;
use crate::knowledge::evidence::CodedOrder;
use crate::knowledge::Knowledge;
use crate::rules::num;

const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
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

fn subject(patient_id: &str) -> Value {
    json!({ "reference": format!("Patient/{patient_id}") })
}

/// A draft MedicationRequest for a standard therapy (RxNorm code when verified).
pub fn create_therapy(t: Therapy, kb: &Knowledge, patient_id: &str) -> Option<Action> {
    let o = kb.evidence.therapy_order(t)?;
    let mut concept = Map::new();
    if let Some(code) = &o.rxnorm {
        concept.insert(
            "coding".into(),
            json!([{ "system": RXNORM, "code": code, "display": o.text }]),
        );
    }
    concept.insert("text".into(), json!(o.text));
    Some(create(
        format!("Create a draft order for {}", o.text),
        json!({
            "resourceType": "MedicationRequest",
            "status": "draft",
            "intent": "order",
            "subject": subject(patient_id),
            "medicationCodeableConcept": concept,
            "dosageInstruction": [{ "text": o.instruction }]
        }),
    ))
}

fn mg_quantity(mg: f64) -> Value {
    let value = if mg.fract() == 0.0 && mg.abs() < 1e9 {
        json!(mg as i64)
    } else {
        json!(mg)
    };
    json!({ "value": value, "unit": "mg", "system": UCUM, "code": "mg" })
}

fn baricitinib_text(mg: f64) -> String {
    format!("baricitinib {} MG Oral Tablet", num(mg))
}

fn once_daily(mg: f64) -> Value {
    json!({
        "text": format!("baricitinib {} mg orally once daily", num(mg)),
        "timing": { "repeat": { "frequency": 1, "period": 1, "periodUnit": "d" } },
        "doseAndRate": [{ "doseQuantity": mg_quantity(mg) }]
    })
}

/// A draft baricitinib order (4.5: instead of an agent without SLE data).
pub fn create_baricitinib(mg: f64, patient_id: &str) -> Action {
    create(
        format!(
            "Create a draft order for baricitinib {} mg once daily",
            num(mg)
        ),
        json!({
            "resourceType": "MedicationRequest",
            "status": "draft",
            "intent": "order",
            "subject": subject(patient_id),
            "medicationCodeableConcept": { "text": baricitinib_text(mg) },
            "dosageInstruction": [once_daily(mg)]
        }),
    )
}

/// The whole draft with its first dosage set to `mg` once daily (and, for baricitinib, the
/// product text of that strength). None when the draft is not a JSON object.
pub fn update_dose(draft: &DraftOrder, mg: f64, baricitinib: bool) -> Option<Action> {
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
    let first = dosages[0].as_object_mut()?;
    let new = once_daily(mg);
    first.insert("text".into(), new["text"].clone());
    first.insert("timing".into(), new["timing"].clone());
    if dstu2 {
        first.insert("doseQuantity".into(), mg_quantity(mg));
    } else {
        first.remove("doseQuantity");
        first.insert("doseAndRate".into(), new["doseAndRate"].clone());
    }
    obj.insert("dosageInstruction".into(), Value::Array(dosages));
    if baricitinib {
        obj.remove("medicationReference");
        obj.insert(
            "medicationCodeableConcept".into(),
            json!({ "text": baricitinib_text(mg) }),
        );
    }
    Some(Action {
        action_type: ActionType::Update,
        description: format!("Change the draft order to {} mg once daily", num(mg)),
        resource: Some(resource),
        resource_id: None,
    })
}

fn concept(o: &CodedOrder) -> Value {
    json!({ "coding": [{ "system": o.system, "code": o.code }], "text": o.text })
}

/// A draft ServiceRequest for a lab test (IGRA, CBC).
pub fn create_service_request(o: &CodedOrder, patient_id: &str, reason: &str) -> Action {
    create(
        format!("Order {}", o.text),
        json!({
            "resourceType": "ServiceRequest",
            "status": "draft",
            "intent": "order",
            "subject": subject(patient_id),
            "code": concept(o),
            "reasonCode": [{ "text": reason }]
        }),
    )
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
            "patient": subject(patient_id),
            "date": today.format("%Y-%m-%d").to_string(),
            "recommendation": [{
                "vaccineCode": [concept(o)],
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

    #[test]
    fn dose_update_keeps_the_draft_and_sets_mg_once_daily() {
        let d = draft("upd");
        let a = update_dose(d, 2.0, true).expect("update");
        let r = a.resource.expect("resource");
        assert_eq!(r["id"], "upd");
        assert_eq!(r["status"], "draft");
        let q = &r["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"];
        assert_eq!(q["value"].as_f64(), Some(2.0));
        assert_eq!(q["code"], "mg");
        assert_eq!(q["system"], UCUM);
        assert_eq!(
            r["medicationCodeableConcept"]["text"],
            "baricitinib 2 MG Oral Tablet"
        );
        assert_eq!(
            r["dosageInstruction"][0]["timing"]["repeat"]["frequency"],
            1
        );
    }

    #[test]
    fn dstu2_orders_get_the_top_level_dose() {
        let mut d = draft("old").clone();
        d.raw["resourceType"] = json!("MedicationOrder");
        let r = update_dose(&d, 4.0, true)
            .and_then(|a| a.resource)
            .expect("resource");
        assert_eq!(
            r["dosageInstruction"][0]["doseQuantity"]["value"].as_f64(),
            Some(4.0)
        );
    }

    #[test]
    fn therapies_carry_rxnorm_only_when_known() {
        let a = create_therapy(Therapy::Mycophenolate, kb(), "p1").expect("mmf");
        let r = a.resource.expect("resource");
        assert_eq!(r["medicationCodeableConcept"]["coding"][0]["code"], "68149");
        assert_eq!(r["subject"]["reference"], "Patient/p1");
        let b = create_therapy(Therapy::Belimumab, kb(), "p1")
            .and_then(|a| a.resource)
            .expect("belimumab");
        assert!(b["medicationCodeableConcept"].get("coding").is_none());
    }
}
