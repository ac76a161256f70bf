//! Keeping the record to the hook's patient.
//!
//! A FHIR server that does not support a search parameter may ignore it and answer with
//! every patient's resources; a client may mix up prefetch values. A resource whose subject
//! (or the Patient itself) names *another* patient is removed before the rules see the
//! record, and the resource types concerned are reported so that the keys holding them can
//! be marked unavailable. Only clear references (`Patient/<id>`, relative or absolute, with
//! or without `_history`) are judged; a missing or unusual reference is kept, because
//! dropping a real finding (say, a thrombosis) would be worse than keeping it.

use super::model::Reference;
use super::PatientRecord;

/// Remove resources of other patients from `record`; returns the FHIR types from which
/// something was removed (each once).
pub fn drop_other_patients(record: &mut PatientRecord, patient_id: &str) -> Vec<&'static str> {
    let mut dropped = Vec::new();
    if record
        .patient
        .as_ref()
        .and_then(|p| p.id.as_deref())
        .is_some_and(|id| id != patient_id)
    {
        record.patient = None;
        dropped.push("Patient");
    }
    let checks = [
        (
            "Condition",
            retain_own(&mut record.conditions, |c| &c.subject, patient_id),
        ),
        (
            "Observation",
            retain_own(&mut record.observations, |o| &o.subject, patient_id),
        ),
        (
            "MedicationRequest",
            retain_own(&mut record.medication_requests, |m| &m.subject, patient_id),
        ),
        (
            "MedicationStatement",
            retain_own(
                &mut record.medication_statements,
                |m| &m.subject,
                patient_id,
            ),
        ),
        (
            "MedicationAdministration",
            retain_own(
                &mut record.medication_administrations,
                |m| &m.subject,
                patient_id,
            ),
        ),
        (
            "Immunization",
            retain_own(&mut record.immunizations, |i| &i.subject, patient_id),
        ),
    ];
    dropped.extend(
        checks
            .iter()
            .filter(|(_, removed)| *removed)
            .map(|(t, _)| *t),
    );
    dropped
}

/// Keep the resources whose subject is not clearly another patient; true if any was removed.
fn retain_own<T>(
    resources: &mut Vec<T>,
    subject: impl Fn(&T) -> &Option<Reference>,
    patient_id: &str,
) -> bool {
    let before = resources.len();
    resources.retain(|r| {
        subject(r)
            .as_ref()
            .and_then(|s| s.reference.as_deref())
            .and_then(referenced_patient)
            .is_none_or(|id| id == patient_id)
    });
    resources.len() < before
}

/// The Patient id of a reference "Patient/<id>" (relative or absolute, `_history` ignored).
fn referenced_patient(reference: &str) -> Option<&str> {
    let path = reference.split(['?', '#']).next().unwrap_or(reference);
    let path = path.split("/_history/").next().unwrap_or(path);
    let mut segments = path.trim_end_matches('/').rsplit('/');
    let id = segments.next()?;
    (segments.next()? == "Patient" && !id.is_empty()).then_some(id)
}

/// The resource type a prefetch template queries ("Observation?..." → "Observation").
pub fn template_type(template: &str) -> &str {
    let end = template.find(['?', '/']).unwrap_or(template.len());
    &template[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::parse_resource_str;

    #[test]
    fn references_are_read_strictly() {
        assert_eq!(referenced_patient("Patient/p1"), Some("p1"));
        assert_eq!(
            referenced_patient("https://ehr.example/fhir/Patient/p1/_history/3"),
            Some("p1")
        );
        assert_eq!(referenced_patient("urn:uuid:1234"), None);
        assert_eq!(referenced_patient("#p"), None);
        assert_eq!(referenced_patient("Group/g"), None);
        assert_eq!(template_type("Observation?patient=1"), "Observation");
        assert_eq!(template_type("Patient/{{context.patientId}}"), "Patient");
    }

    #[test]
    fn other_patients_resources_are_removed() {
        let mut rec = PatientRecord::default();
        rec.add(
            parse_resource_str(
                r#"{"resourceType":"Bundle","entry":[
                {"resource":{"resourceType":"Condition","id":"mine","subject":{"reference":"Patient/p1"}}},
                {"resource":{"resourceType":"Condition","id":"theirs","subject":{"reference":"Patient/p2"}}},
                {"resource":{"resourceType":"Condition","id":"unknown","subject":{"display":"x"}}},
                {"resource":{"resourceType":"Observation","id":"o","subject":{"reference":"urn:uuid:9"}}},
                {"resource":{"resourceType":"Immunization","id":"i","patient":{"reference":"Patient/p2"}}}]}"#,
            )
            .unwrap(),
        );
        let dropped = drop_other_patients(&mut rec, "p1");
        assert_eq!(dropped, ["Condition", "Immunization"]);
        let ids: Vec<_> = rec
            .conditions
            .iter()
            .filter_map(|c| c.id.as_deref())
            .collect();
        assert_eq!(ids, ["mine", "unknown"]);
        assert_eq!(rec.observations.len(), 1);
        assert!(rec.immunizations.is_empty());

        let mut rec = PatientRecord::default();
        rec.add(parse_resource_str(r#"{"resourceType":"Patient","id":"p2"}"#).unwrap());
        assert_eq!(drop_other_patients(&mut rec, "p1"), ["Patient"]);
        assert!(rec.patient.is_none());
    }
}
