//! The patient's gathered FHIR data, by resource type, deduplicated, with what could not be
//! read or obtained. Facts are derived from this and nothing else.

use std::collections::HashSet;

use bytes::Bytes;

use crate::cds::HookRequest;

use super::model::{
    Bundle, Condition, Immunization, Medication, MedicationAdministration, MedicationRequest,
    MedicationStatement, Observation, ParseFailure, Patient, Resource, Text,
};
use super::originals::Originals;
use super::parse_resource;
use super::prefetch::{Missing, Prefetch, Prefetched};

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
    /// The texts the resources were read from, to give a recorded resource back as sent.
    pub originals: Originals,
    /// (type, id) of the resources added, to ignore repeats. foldhash: ids come from the
    /// request, and its per-process seed keeps them from being chosen to collide.
    seen: HashSet<(&'static str, Text), foldhash::fast::RandomState>,
}

impl PatientRecord {
    /// Add one parsed resource. A resource already present (same type and id) is ignored;
    /// Bundles are flattened; OperationOutcomes and types the rules do not read are dropped.
    pub fn add(&mut self, resource: Resource) {
        self.add_where(resource, &mut |_| true);
    }

    /// Add one parsed resource as [`add`] does, Bundles flattened, leaving out each resource
    /// (never a Bundle) for which `keep` says no.
    ///
    /// [`add`]: PatientRecord::add
    pub fn add_where(&mut self, resource: Resource, keep: &mut dyn FnMut(&Resource) -> bool) {
        if let Resource::Bundle(b) = resource {
            let Bundle {
                resources, entry, ..
            } = b;
            self.seen.reserve(resources.len());
            for resource in resources {
                self.add_where(resource, keep);
            }
            for raw in entry.iter().filter_map(|e| e.resource.as_deref()) {
                match parse_resource(raw) {
                    Ok(r) => self.add_where(r, keep),
                    Err(e) => self.unreadable.push(e),
                }
            }
            return;
        }
        if !keep(&resource) {
            return;
        }
        let seen = &mut self.seen;
        let mut fresh = |kind: &'static str, id: &Option<Text>| match id {
            Some(id) => seen.insert((kind, id.clone())),
            None => true,
        };
        match resource {
            Resource::Patient(p) => {
                if self.patient.is_none() {
                    self.patient = Some(p);
                }
            }
            Resource::Condition(c) => {
                if fresh("Condition", &c.id) {
                    self.conditions.push(*c);
                }
            }
            Resource::Observation(o) => {
                if fresh("Observation", &o.id) {
                    self.observations.push(*o);
                }
            }
            Resource::MedicationRequest(m) => {
                if fresh("MedicationRequest", &m.id) {
                    self.medication_requests.push(*m);
                }
            }
            Resource::MedicationStatement(m) => {
                if fresh("MedicationStatement", &m.id) {
                    self.medication_statements.push(*m);
                }
            }
            Resource::MedicationAdministration(m) => {
                if fresh("MedicationAdministration", &m.id) {
                    self.medication_administrations.push(*m);
                }
            }
            Resource::Medication(m) => {
                if fresh("Medication", &m.id) {
                    self.medications.push(m);
                }
            }
            Resource::Immunization(i) => {
                if fresh("Immunization", &i.id) {
                    self.immunizations.push(*i);
                }
            }
            Resource::Bundle(_) | Resource::OperationOutcome(_) | Resource::Other(_) => {}
        }
    }

    /// Parse and add one raw resource (a prefetch value or a fetched page).
    pub fn add_raw(&mut self, raw: &serde_json::value::RawValue) {
        match parse_resource(raw) {
            Ok(r) => self.add(r),
            Err(e) => self.unreadable.push(e),
        }
    }

    /// The record of a prefetch taken as it is, with no fetch and no check of whose data it
    /// is (tests and fixture tools; the service gathers with [`crate::fhir::gather`]): data
    /// added, unreadable values recorded, OperationOutcome keys listed as unavailable.
    pub fn from_prefetch(prefetch: Prefetch) -> PatientRecord {
        Self::from_parts(prefetch, None)
    }

    /// [`PatientRecord::from_prefetch`] of a request, keeping its body (when it was parsed
    /// with [`HookRequest::from_body`]) for updates of a recorded order.
    pub fn from_request(req: HookRequest) -> PatientRecord {
        Self::from_parts(req.prefetch, req.source)
    }

    fn from_parts(prefetch: Prefetch, source: Option<Bytes>) -> PatientRecord {
        let mut record = PatientRecord::default();
        for (key, state) in prefetch {
            match state {
                Prefetched::Data(resource) => record.add(*resource),
                Prefetched::Missing(Missing::OperationOutcome) => record.unavailable.push(key),
                Prefetched::Missing(Missing::Unreadable(failure)) => {
                    record.unreadable.push(failure)
                }
                Prefetched::NoData | Prefetched::Missing(Missing::Absent) => {}
            }
        }
        record.unavailable.sort();
        if let Some(body) = source {
            record.originals.push(body);
        }
        record
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
