//! The patient's gathered FHIR data, by resource type, deduplicated, with what could not be
//! read or obtained. Facts are derived from this and nothing else.

use std::collections::HashSet;

use super::model::{
    Bundle, BundleEntry, Condition, Immunization, Medication, MedicationAdministration,
    MedicationRequest, MedicationStatement, Observation, ParseFailure, Patient, Resource,
};
use super::parse_resource;

#[derive(Debug, Clone, Default)]
pub struct PatientRecord {
    pub patient: Option<Patient>,
    pub conditions: Vec<Condition>,
    pub observations: Vec<Observation>,
    pub medication_requests: Vec<MedicationRequest>,
    pub medication_statements: Vec<MedicationStatement>,
    pub medication_administrations: Vec<MedicationAdministration>,
    pub medications: Vec<Medication>,
    pub immunizations: Vec<Immunization>,
    /// Resources present in the data that could not be parsed (type and reason only).
    pub unreadable: Vec<ParseFailure>,
    /// Data the service asked for but could not obtain (prefetch key names, e.g.
    /// "observations"): the rules treat what it would have held as unknown.
    pub unavailable: Vec<String>,
    /// Resources removed because they were not clearly this patient's (see
    /// [`crate::fhir::scope`]): counted in the audit, never used.
    pub removed_other_patients: usize,
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
            Resource::MedicationAdministration(m) => {
                if fresh(&mut self.seen, key(&m.id, "MedicationAdministration")) {
                    self.medication_administrations.push(m);
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
            Resource::Bundle(b) => {
                let Bundle {
                    resources, entry, ..
                } = b;
                for resource in resources {
                    self.add(resource);
                }
                self.add_entries(&entry);
            }
            Resource::OperationOutcome(_) | Resource::Other(_) => {}
        }
    }

    /// Move everything `other` holds into this record (duplicates ignored as in [`add`]).
    ///
    /// [`add`]: PatientRecord::add
    pub fn merge(&mut self, other: PatientRecord) {
        let PatientRecord {
            patient,
            conditions,
            observations,
            medication_requests,
            medication_statements,
            medication_administrations,
            medications,
            immunizations,
            unreadable,
            unavailable,
            removed_other_patients,
            seen: _,
        } = other;
        let resources = patient
            .map(Resource::Patient)
            .into_iter()
            .chain(conditions.into_iter().map(Resource::Condition))
            .chain(observations.into_iter().map(Resource::Observation))
            .chain(
                medication_requests
                    .into_iter()
                    .map(Resource::MedicationRequest),
            )
            .chain(
                medication_statements
                    .into_iter()
                    .map(Resource::MedicationStatement),
            )
            .chain(
                medication_administrations
                    .into_iter()
                    .map(Resource::MedicationAdministration),
            )
            .chain(medications.into_iter().map(Resource::Medication))
            .chain(immunizations.into_iter().map(Resource::Immunization));
        for resource in resources {
            self.add(resource);
        }
        self.unreadable.extend(unreadable);
        self.unavailable.extend(unavailable);
        self.removed_other_patients += removed_other_patients;
    }

    /// Add every entry of a Bundle: those already typed by the one-pass read, and the raw
    /// ones, each parsed on its own (failures are recorded).
    pub fn add_bundle(&mut self, bundle: &Bundle) {
        for resource in &bundle.resources {
            self.add(resource.clone());
        }
        self.add_entries(&bundle.entry);
    }

    /// Parse and add raw Bundle entries, each on its own; failures are recorded.
    fn add_entries(&mut self, entries: &[BundleEntry]) {
        for entry in entries {
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

    /// The record of a Bundle text, and whether the one-pass read took it.
    fn record_of(text: &str) -> (PatientRecord, bool) {
        let Ok(Resource::Bundle(b)) = parse_resource_str(text) else {
            panic!("not a Bundle")
        };
        let one_pass = b.entry.is_empty() && !b.resources.is_empty();
        let mut rec = PatientRecord::default();
        rec.add(Resource::Bundle(b));
        (rec, one_pass)
    }

    #[test]
    fn the_one_pass_read_gives_what_the_entry_by_entry_read_gives() {
        let entries = r#"
          {"fullUrl":"urn:x","resource":{"resourceType":"Patient","id":"p","birthDate":"1980"}},
          {"resource":{"resourceType":"Condition","id":"c1","clinicalStatus":"active",
            "code":{"coding":{"system":"http://snomed.info/sct","code":"55464009"}}}},
          {"resource":{"resourceType":"Condition","id":"c1"}},
          {"resource":{"resourceType":"MedicationOrder","id":"m1","status":"active",
            "contained":[{"resourceType":"Medication","id":"med","code":{"text":"x"}}]}},
          {"resource":{"resourceType":"Observation","id":"o1","status":"final",
            "valueQuantity":{"value":4.5,"unit":"g/dL"}}},
          {"resource":{"resourceType":"OperationOutcome","issue":[]}},
          {"resource":{"resourceType":"Encounter","id":"e1","status":{"nested":[1,2]}}},
          {"search":{"mode":"match"}}"#;
        let (fast, one_pass) = record_of(&format!(
            r#"{{"resourceType":"Bundle","entry":[{entries}]}}"#
        ));
        assert!(one_pass);
        // The same entries plus one that is unreadable: read entry by entry.
        let (slow, one_pass) = record_of(&format!(
            r#"{{"resourceType":"Bundle","entry":[{entries},
              {{"resource":{{"resourceType":"Observation","id":"bad","status":3}}}}]}}"#
        ));
        assert!(!one_pass);
        assert_eq!(slow.unreadable.len(), 1);
        assert!(fast.unreadable.is_empty());
        assert_eq!(format!("{:?}", fast.patient), format!("{:?}", slow.patient));
        assert_eq!(
            format!("{:?}", fast.conditions),
            format!("{:?}", slow.conditions)
        );
        assert_eq!(
            format!("{:?}", fast.medication_requests),
            format!("{:?}", slow.medication_requests)
        );
        assert_eq!(
            format!("{:?}", fast.observations),
            format!("{:?}", slow.observations)
        );
        assert_eq!(fast.conditions.len(), 1);
        assert_eq!(fast.medication_requests[0].contained.len(), 1);
    }

    #[test]
    fn entries_the_one_pass_read_does_not_take_are_read_one_by_one() {
        for entry in [
            r#"{"id":"late","resourceType":"Condition"}"#,
            r#"{"resourceType":"Cond\u0069tion","id":"late"}"#,
            r#"{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Condition","id":"late"}}]}"#,
        ] {
            let (rec, one_pass) = record_of(&format!(
                r#"{{"resourceType":"Bundle","entry":[
                  {{"resource":{{"resourceType":"Condition","id":"c1"}}}},
                  {{"resource":{entry}}}]}}"#
            ));
            assert!(!one_pass, "{entry}");
            let ids: Vec<_> = rec.conditions.iter().map(|c| c.id.clone()).collect();
            assert_eq!(ids, [Some("c1".into()), Some("late".into())], "{entry}");
        }
    }
}
