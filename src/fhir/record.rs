//! The patient's gathered FHIR data, by resource type, deduplicated, with what could not be
//! read or obtained. Facts are derived from this and nothing else.

use std::collections::HashSet;

use super::model::{
    Bundle, Condition, Immunization, Medication, MedicationRequest, MedicationStatement,
    Observation, ParseFailure, Patient, Resource,
};
use super::parse_resource;

#[derive(Debug, Clone, Default)]
pub struct PatientRecord {
    pub patient: Option<Patient>,
    pub conditions: Vec<Condition>,
    pub observations: Vec<Observation>,
    pub medication_requests: Vec<MedicationRequest>,
    pub medication_statements: Vec<MedicationStatement>,
    pub medications: Vec<Medication>,
    pub immunizations: Vec<Immunization>,
    /// Resources present in the data that could not be parsed (type and reason only).
    pub unreadable: Vec<ParseFailure>,
    /// Data the service asked for but could not obtain (prefetch key names, e.g.
    /// "observations"): the rules treat what it would have held as unknown.
    pub unavailable: Vec<String>,
    seen: HashSet<(String, String)>,
}

impl PatientRecord {
    /// Add one parsed resource. A resource already present (same type and id) is ignored;
    /// Bundles are flattened; OperationOutcomes and types the rules do not read are dropped.
    pub fn add(&mut self, resource: Resource) {
        let key = |id: &Option<String>, t: &str| id.as_ref().map(|i| (t.to_string(), i.clone()));
        let fresh = |seen: &mut HashSet<(String, String)>, k: Option<(String, String)>| match k {
            Some(k) => seen.insert(k),
            None => true,
        };
        match resource {
            Resource::Patient(p) => {
                if self.patient.is_none() {
                    self.patient = Some(p);
                }
            }
            Resource::Condition(c) => {
                if fresh(&mut self.seen, key(&c.id, "Condition")) {
                    self.conditions.push(c);
                }
            }
            Resource::Observation(o) => {
                if fresh(&mut self.seen, key(&o.id, "Observation")) {
                    self.observations.push(o);
                }
            }
            Resource::MedicationRequest(m) => {
                if fresh(&mut self.seen, key(&m.id, "MedicationRequest")) {
                    self.medication_requests.push(m);
                }
            }
            Resource::MedicationStatement(m) => {
                if fresh(&mut self.seen, key(&m.id, "MedicationStatement")) {
                    self.medication_statements.push(m);
                }
            }
            Resource::Medication(m) => {
                if fresh(&mut self.seen, key(&m.id, "Medication")) {
                    self.medications.push(m);
                }
            }
            Resource::Immunization(i) => {
                if fresh(&mut self.seen, key(&i.id, "Immunization")) {
                    self.immunizations.push(i);
                }
            }
            Resource::Bundle(b) => self.add_bundle(&b),
            Resource::OperationOutcome(_) | Resource::Other(_) => {}
        }
    }

    /// Add every entry of a Bundle, each parsed on its own; failures are recorded.
    pub fn add_bundle(&mut self, bundle: &Bundle) {
        for entry in &bundle.entry {
            if let Some(raw) = &entry.resource {
                match parse_resource(raw) {
                    Ok(r) => self.add(r),
                    Err(e) => self.unreadable.push(e),
                }
            }
        }
    }

    /// Parse and add one raw resource (a prefetch value or a fetched page).
    pub fn add_raw(&mut self, raw: &serde_json::value::RawValue) {
        match parse_resource(raw) {
            Ok(r) => self.add(r),
            Err(e) => self.unreadable.push(e),
        }
    }

    /// Find a Medication by a reference ("Medication/x", "x", or a full URL ending in it).
    pub fn medication(&self, reference: &str) -> Option<&Medication> {
        let id = reference.rsplit('/').next().unwrap_or(reference);
        self.medications
            .iter()
            .find(|m| m.id.as_deref() == Some(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::parse_resource_str;

    #[test]
    fn bundle_entries_parse_one_by_one_and_dedupe() {
        let b = parse_resource_str(
            r#"{"resourceType":"Bundle","entry":[
              {"resource":{"resourceType":"Condition","id":"c1"}},
              {"resource":{"resourceType":"Condition","id":"c1"}},
              {"resource":{"resourceType":"Observation","id":"o1","valueQuantity":{"value":"x"}}},
              {"resource":{"resourceType":"Observation","id":"o2","status":"final"}}]}"#,
        )
        .unwrap();
        let mut rec = PatientRecord::default();
        rec.add(b);
        assert_eq!(rec.conditions.len(), 1);
        assert_eq!(rec.observations.len(), 1);
        assert_eq!(rec.unreadable.len(), 1);
        assert_eq!(
            rec.unreadable[0].resource_type.as_deref(),
            Some("Observation")
        );
    }
}
