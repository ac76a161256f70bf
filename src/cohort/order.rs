//! The hypothetical order evaluated for each patient: an order-sign call with one draft
//! MedicationRequest of the agent at the dose, once daily, built as a CDS client would send
//! it and read by the same code as a real call ([`OrderContext::from_request`]).

use serde_json::json;

use crate::cds::{Hook, HookRequest, OrderContext, RequestError};
use crate::knowledge::Knowledge;

/// The agent and dose ordered for every patient.
#[derive(Debug, Clone, PartialEq)]
pub struct HypotheticalOrder {
    /// Ingredient name as the medication table knows it ("baricitinib").
    pub agent: String,
    pub dose_mg: f64,
}

impl HypotheticalOrder {
    /// Check that `agent` names a JAK or TYK2 inhibitor of the knowledge and the dose is
    /// positive.
    pub fn new(agent: &str, dose_mg: f64, kb: &Knowledge) -> Result<HypotheticalOrder, String> {
        let agent = agent.trim().to_lowercase();
        let known = kb
            .drugs
            .drugs()
            .iter()
            .any(|d| d.agent.is_some() && d.name == agent);
        if !known {
            let names: Vec<&str> = kb
                .drugs
                .drugs()
                .iter()
                .filter(|d| d.agent.is_some())
                .map(|d| d.name.as_str())
                .collect();
            return Err(format!(
                "--agent {agent:?}: not a JAK or TYK2 inhibitor of the knowledge (known: {})",
                names.join(", ")
            ));
        }
        if !(dose_mg.is_finite() && dose_mg > 0.0) {
            return Err(format!("--dose-mg {dose_mg}: must be a positive number"));
        }
        Ok(HypotheticalOrder { agent, dose_mg })
    }

    /// The engine's view of the order for one patient.
    pub fn context(&self, patient_id: &str) -> Result<OrderContext, RequestError> {
        let text = format!("{} {} MG Oral Tablet", self.agent, self.dose_mg);
        let request = json!({
            "hook": Hook::OrderSign.as_str(),
            "hookInstance": "cohort-dry-run",
            "context": {
                "patientId": patient_id,
                "userId": "Practitioner/cohort-dry-run",
                "draftOrders": {
                    "resourceType": "Bundle",
                    "type": "collection",
                    "entry": [{"resource": {
                        "resourceType": "MedicationRequest",
                        "id": "cohort-order",
                        "status": "draft",
                        "intent": "order",
                        "subject": {"reference": format!("Patient/{patient_id}")},
                        "medicationCodeableConcept": {"text": text},
                        "dosageInstruction": [{
                            "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                            "doseAndRate": [{"doseQuantity": {
                                "value": self.dose_mg, "unit": "mg",
                                "system": "http://unitsofmeasure.org", "code": "mg"
                            }}]
                        }]
                    }}]
                }
            }
        });
        let req = HookRequest::parse(request.to_string().as_bytes())?;
        OrderContext::from_request(&req, Hook::OrderSign)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_is_recognised_and_unknown_agents_are_refused() {
        let kb = Knowledge::embedded().unwrap();
        let order = HypotheticalOrder::new("Baricitinib", 4.0, &kb).unwrap();
        let ctx = order.context("p-1").unwrap();
        assert_eq!(ctx.patient_id, "p-1");
        assert_eq!(ctx.orders.len(), 1);
        let e = HypotheticalOrder::new("aspirin", 4.0, &kb).unwrap_err();
        assert!(e.contains("baricitinib"), "{e}");
        assert!(HypotheticalOrder::new("baricitinib", 0.0, &kb).is_err());
    }
}
