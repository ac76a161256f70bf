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

use super::model::Reference;
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

/// Remove from `record` every resource that is not clearly this patient's; returns how many
/// were removed.
pub fn keep_this_patient(record: &mut PatientRecord, patient: &ThisPatient<'_>) -> usize {
    let mut removed = 0;
    if record
        .patient
        .as_ref()
        .is_some_and(|p| p.id.as_deref() != Some(patient.id))
    {
        record.patient = None;
        removed += 1;
    }
    removed += retain_own(&mut record.conditions, |c| patient.owns(&c.subject));
    removed += retain_own(&mut record.observations, |o| patient.owns(&o.subject));
    removed += retain_own(&mut record.medication_requests, |m| {
        patient.owns(&m.subject)
    });
    removed += retain_own(&mut record.medication_statements, |m| {
        patient.owns(&m.subject)
    });
    removed += retain_own(&mut record.medication_administrations, |m| {
        patient.owns(&m.subject)
    });
    removed += retain_own(&mut record.immunizations, |i| patient.owns(&i.subject));
    removed
}

/// How many patient-scoped resources `record` holds (a Patient and resources with a
/// subject; Medications do not count).
pub fn patient_resources(record: &PatientRecord) -> usize {
    usize::from(record.patient.is_some())
        + record.conditions.len()
        + record.observations.len()
        + record.medication_requests.len()
        + record.medication_statements.len()
        + record.medication_administrations.len()
        + record.immunizations.len()
}

fn retain_own<T>(resources: &mut Vec<T>, own: impl Fn(&T) -> bool) -> usize {
    let before = resources.len();
    resources.retain(own);
    before - resources.len()
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
        let mut rec = PatientRecord::default();
        rec.add(
            parse_resource_str(
                r#"{"resourceType":"Bundle","entry":[
                {"resource":{"resourceType":"Condition","id":"mine","subject":{"reference":"Patient/p1"}}},
                {"resource":{"resourceType":"Condition","id":"theirs","subject":{"reference":"Patient/p2"}}},
                {"resource":{"resourceType":"Condition","id":"display","subject":{"display":"x"}}},
                {"resource":{"resourceType":"Condition","id":"space","subject":{"reference":" Patient/p1"}}},
                {"resource":{"resourceType":"Observation","id":"o","subject":{"reference":"urn:uuid:9"}}},
                {"resource":{"resourceType":"Medication","id":"m"}},
                {"resource":{"resourceType":"Immunization","id":"i","patient":{"reference":"Patient/p2"}}}]}"#,
            )
            .unwrap(),
        );
        let removed = keep_this_patient(&mut rec, &ThisPatient::new("p1", None));
        assert_eq!(removed, 5);
        let ids: Vec<_> = rec
            .conditions
            .iter()
            .filter_map(|c| c.id.as_deref())
            .collect();
        assert_eq!(ids, ["mine"]);
        assert!(rec.observations.is_empty() && rec.immunizations.is_empty());
        assert_eq!(rec.medications.len(), 1);
        assert_eq!(patient_resources(&rec), 1);

        let mut rec = PatientRecord::default();
        rec.add(parse_resource_str(r#"{"resourceType":"Patient","id":"p2"}"#).unwrap());
        assert_eq!(
            keep_this_patient(&mut rec, &ThisPatient::new("p1", None)),
            1
        );
        assert!(rec.patient.is_none());
    }
}
