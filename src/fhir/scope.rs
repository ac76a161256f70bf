//! Keeping the record to the hook's patient.
//!
//! A FHIR server that does not support a search parameter may ignore it and answer with
//! every patient's resources; a client may mix up prefetch values. Each prefetch key's data
//! is therefore filtered before the rules see it: a resource is kept only when its subject
//! (`subject`, or `patient` in DSTU2 and Immunization) is a literal reference to *this*
//! patient, read strictly by FHIR's literal reference grammar:
//!
//! * `Patient/<id>` or `Patient/<id>/_history/<version>`, byte for byte (no spaces, no other
//!   case, no `..` segments, no query or fragment), `<id>` being `context.patientId`;
//! * the same after the request's `fhirServer` base (`<fhirServer>/Patient/<id>`), and only
//!   that base.
//!
//! Anything else — another patient, `" Patient/x"`, `"patient/x"`, `"Patient/<id>/../other"`,
//! an absolute URL on another server, `urn:uuid:…`, a display or identifier without a
//! reference, no subject at all — is not this patient's and never feeds a fact. A Patient
//! resource is kept only when its `id` is the patient id. Medications (no subject) are kept.
//! The caller counts what was removed, and treats a key that held only other patients'
//! resources as not obtained.

use super::model::{Reference, Resource};
use super::PatientRecord;

/// The hook's patient, as a literal reference may name them.
#[derive(Debug, Clone, Copy)]
pub struct ThisPatient<'a> {
    id: &'a str,
    /// `fhirServer` without its trailing slashes, when the request has one.
    base: Option<&'a str>,
}

impl<'a> ThisPatient<'a> {
    pub fn new(id: &'a str, fhir_server: Option<&'a str>) -> ThisPatient<'a> {
        ThisPatient {
            id,
            base: fhir_server
                .map(|b| b.trim_end_matches('/'))
                .filter(|b| !b.is_empty()),
        }
    }

    /// Whether `reference` is exactly a literal reference to this patient.
    pub fn is_named_by(&self, reference: &str) -> bool {
        let relative = if reference.starts_with("Patient/") {
            reference
        } else {
            match self.base.and_then(|b| reference.strip_prefix(b)) {
                Some(rest) => match rest.strip_prefix('/') {
                    Some(r) => r,
                    None => return false,
                },
                None => return false,
            }
        };
        let Some(rest) = relative
            .strip_prefix("Patient/")
            .and_then(|r| r.strip_prefix(self.id))
        else {
            return false;
        };
        rest.is_empty() || rest.strip_prefix("/_history/").is_some_and(is_fhir_id)
    }

    fn owns(&self, subject: &Option<Reference>) -> bool {
        subject
            .as_ref()
            .and_then(|s| s.reference.as_deref())
            .is_some_and(|r| self.is_named_by(r))
    }
}

/// FHIR's `id` grammar: `[A-Za-z0-9\-\.]{1,64}`.
fn is_fhir_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// Whose data a resource is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// This patient's: the Patient itself, or a resource whose subject names them.
    ThisPatient,
    /// Not clearly this patient's: never feeds a fact.
    Other,
    /// Not about a patient (a Medication; types the record does not keep).
    Unscoped,
}

impl ThisPatient<'_> {
    /// Whose `resource` is (a Bundle is [`Owner::Unscoped`]: its entries are judged one by
    /// one as the record adds them).
    pub fn owner(&self, resource: &Resource) -> Owner {
        let owned = |subject: &Option<Reference>| {
            if self.owns(subject) {
                Owner::ThisPatient
            } else {
                Owner::Other
            }
        };
        match resource {
            Resource::Patient(p) if p.id.as_deref() == Some(self.id) => Owner::ThisPatient,
            Resource::Patient(_) => Owner::Other,
            Resource::Condition(c) => owned(&c.subject),
            Resource::Observation(o) => owned(&o.subject),
            Resource::MedicationRequest(m) => owned(&m.subject),
            Resource::MedicationStatement(m) => owned(&m.subject),
            Resource::MedicationAdministration(m) => owned(&m.subject),
            Resource::Immunization(i) => owned(&i.subject),
            Resource::Medication(_)
            | Resource::OperationOutcome(_)
            | Resource::Bundle(_)
            | Resource::Other(_) => Owner::Unscoped,
        }
    }
}

/// What adding one prefetch key's (or query's) data kept and removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scoping {
    /// Resources of this patient's (the Patient, resources with a subject), duplicates
    /// included.
    pub kept: usize,
    /// Resources not clearly this patient's, left out of the record.
    pub removed: usize,
}

impl Scoping {
    /// The data held other patients' resources and none of this patient's.
    pub fn emptied(&self) -> bool {
        self.removed > 0 && self.kept == 0
    }
}

/// Add `resources` to `record`, leaving out every resource that is not clearly this
/// patient's (Bundles are flattened first).
pub fn add_own(
    record: &mut PatientRecord,
    resources: Vec<Resource>,
    patient: &ThisPatient<'_>,
) -> Scoping {
    let mut scoping = Scoping::default();
    let mut keep = |r: &Resource| match patient.owner(r) {
        Owner::ThisPatient => {
            scoping.kept += 1;
            true
        }
        Owner::Other => {
            scoping.removed += 1;
            false
        }
        Owner::Unscoped => true,
    };
    for resource in resources {
        record.add_where(resource, &mut keep);
    }
    scoping
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::parse_resource_str;

    #[test]
    fn only_exact_literal_references_to_this_patient_match() {
        let p = ThisPatient::new("p1", Some("https://ehr.example/fhir/"));
        for ok in [
            "Patient/p1",
            "Patient/p1/_history/3",
            "https://ehr.example/fhir/Patient/p1",
            "https://ehr.example/fhir/Patient/p1/_history/2",
        ] {
            assert!(p.is_named_by(ok), "{ok}");
        }
        for other in [
            "Patient/p2",
            " Patient/p1",
            "Patient/p1 ",
            "patient/p1",
            "Patient/P1",
            "Patient/p1/../p2",
            "Patient/p1/_history/1/../../p2",
            "Patient/p1/_history/",
            "Patient/p1x",
            "Patient/p1?x=1",
            "Patient/p1#x",
            "Patient//p1",
            "https://other.example/fhir/Patient/p1",
            "https://ehr.example/fhir/Patient/p1/../p2",
            "https://ehr.example/fhirx/Patient/p1",
            "https://ehr.example/Patient/p1",
            "urn:uuid:1234",
            "#p1",
            "Group/p1",
            "p1",
            "",
        ] {
            assert!(!p.is_named_by(other), "{other:?}");
        }
        // Without fhirServer, no absolute reference is this patient's.
        let p = ThisPatient::new("p1", None);
        assert!(!p.is_named_by("https://ehr.example/fhir/Patient/p1"));
    }

    #[test]
    fn everything_not_clearly_this_patients_is_removed() {
        let bundle = parse_resource_str(
            r#"{"resourceType":"Bundle","entry":[
            {"resource":{"resourceType":"Condition","id":"mine","subject":{"reference":"Patient/p1"}}},
            {"resource":{"resourceType":"Condition","id":"theirs","subject":{"reference":"Patient/p2"}}},
            {"resource":{"resourceType":"Condition","id":"display","subject":{"display":"x"}}},
            {"resource":{"resourceType":"Condition","id":"space","subject":{"reference":" Patient/p1"}}},
            {"resource":{"resourceType":"Observation","id":"o","subject":{"reference":"urn:uuid:9"}}},
            {"resource":{"resourceType":"Medication","id":"m"}},
            {"resource":{"resourceType":"Immunization","id":"i","patient":{"reference":"Patient/p2"}}}]}"#,
        )
        .unwrap();
        let mut rec = PatientRecord::default();
        let p1 = ThisPatient::new("p1", None);
        let scoping = add_own(&mut rec, vec![bundle], &p1);
        assert_eq!(
            scoping,
            Scoping {
                kept: 1,
                removed: 5
            }
        );
        assert!(!scoping.emptied());
        let ids: Vec<_> = rec
            .conditions
            .iter()
            .filter_map(|c| c.id.as_deref())
            .collect();
        assert_eq!(ids, ["mine"]);
        assert!(rec.observations.is_empty() && rec.immunizations.is_empty());
        assert_eq!(rec.medications.len(), 1);

        let mut rec = PatientRecord::default();
        let other = parse_resource_str(r#"{"resourceType":"Patient","id":"p2"}"#).unwrap();
        let scoping = add_own(&mut rec, vec![other], &p1);
        assert!(scoping.emptied());
        assert!(rec.patient.is_none());
        let mine = parse_resource_str(r#"{"resourceType":"Patient","id":"p1"}"#).unwrap();
        assert_eq!(add_own(&mut rec, vec![mine], &p1).kept, 1);
        assert!(rec.patient.is_some());
    }
}
