//! The two passes over the export. Pass 1 reads the Condition files and collects the
//! patients with a Condition coded in the knowledge's `sle` value set (any status: the
//! engine itself decides whether the SLE counts). Pass 2 reads every file and keeps only
//! the resources of those patients, plus the Medications they reference; everything else is
//! skimmed (resource type and patient reference) and dropped.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;

use super::bulk::{scan, ExportFile, FileScan, ScanTotals};
use super::progress::Progress;
use crate::fhir::model::{Medication, Reference};
use crate::fhir::{parse_resource_str, PatientRecord, Resource};
use crate::knowledge::Knowledge;

/// Value set of the SLE diagnoses (hooks/valuesets/sle.json).
const SLE_VALUESET: &str = "sle";

/// The patient id a reference points to: "Patient/123", ".../Patient/123" or
/// "urn:uuid:123" give "123".
pub fn patient_id(reference: &str) -> Option<&str> {
    let id = match reference.rfind("Patient/") {
        Some(i) => &reference[i + "Patient/".len()..],
        None => reference.strip_prefix("urn:uuid:")?,
    };
    let id = id.split('/').next().unwrap_or(id);
    (!id.is_empty()).then_some(id)
}

/// Pass 1: the ids of the patients with an SLE-coded Condition.
pub fn sle_patients(
    files: &[ExportFile],
    kb: &Knowledge,
    progress: &Progress,
) -> (HashSet<String>, ScanTotals) {
    let conditions: Vec<ExportFile> = files
        .iter()
        .filter(|f| f.holds("Condition"))
        .cloned()
        .collect();
    let (found, totals) = scan(&conditions, progress, |fs, n, line| {
        let condition = match parse_resource_str(line) {
            Ok(Resource::Condition(c)) => c,
            Ok(_) => return None,
            Err(e) => {
                fs.bad(n, e.to_string());
                return None;
            }
        };
        let sle = condition.code.as_ref().is_some_and(|code| {
            code.coding.iter().any(|c| match (&c.system, &c.code) {
                (Some(system), Some(code)) => kb.terminology.contains(SLE_VALUESET, system, code),
                _ => false,
            })
        });
        if !sle {
            return None;
        }
        let reference = condition.subject.as_ref()?.reference.as_deref()?;
        patient_id(reference).map(str::to_string)
    });
    (found.into_iter().flatten().collect(), totals)
}

/// The first fields of a line: enough to know whose it is.
#[derive(Deserialize)]
struct Skim<'a> {
    #[serde(rename = "resourceType", borrow)]
    resource_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    subject: Option<SkimRef<'a>>,
    #[serde(borrow)]
    patient: Option<SkimRef<'a>>,
}

#[derive(Deserialize)]
struct SkimRef<'a> {
    #[serde(borrow)]
    reference: Option<Cow<'a, str>>,
}

enum Kept {
    Owned(String, Box<Resource>),
    Medication(Box<Medication>),
}

/// What pass 2 found.
pub struct Cohort {
    /// Patient id → record, sorted by id.
    pub records: BTreeMap<String, PatientRecord>,
    /// Patient resources seen in the whole export.
    pub patients_seen: u64,
}

/// Pass 2: the records of `cohort` (every resource of theirs that the engine reads).
pub fn records(
    files: &[ExportFile],
    cohort: &HashSet<String>,
    progress: &Progress,
) -> (Cohort, ScanTotals) {
    let patients_seen = std::sync::atomic::AtomicU64::new(0);
    let (kept, totals) = scan(files, progress, |fs: &mut FileScan<'_>, n, line| {
        let skim: Skim = match serde_json::from_str(line) {
            Ok(s) => s,
            Err(e) => {
                fs.bad(n, format!("not a JSON resource: {}", scrubbed(&e)));
                return None;
            }
        };
        let Some(resource_type) = skim.resource_type.as_deref() else {
            fs.bad(n, "no resourceType");
            return None;
        };
        let owner = match resource_type {
            "Patient" => {
                patients_seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                skim.id.as_deref().map(Cow::Borrowed)
            }
            "Medication" => None,
            _ => skim
                .subject
                .as_ref()
                .or(skim.patient.as_ref())
                .and_then(|r| r.reference.as_deref())
                .and_then(patient_id)
                .map(Cow::Borrowed),
        };
        match (resource_type, owner) {
            ("Medication", _) => match parse_resource_str(line) {
                Ok(Resource::Medication(m)) => Some(Kept::Medication(Box::new(m))),
                Ok(_) => None,
                Err(e) => {
                    fs.bad(n, e.to_string());
                    None
                }
            },
            (_, Some(owner)) if cohort.contains(owner.as_ref()) => match parse_resource_str(line) {
                Ok(r) => Some(Kept::Owned(owner.into_owned(), Box::new(r))),
                Err(e) => {
                    fs.bad(n, e.to_string());
                    None
                }
            },
            _ => None,
        }
    });
    let mut records: BTreeMap<String, PatientRecord> = cohort
        .iter()
        .map(|id| (id.clone(), PatientRecord::default()))
        .collect();
    let mut medications = Vec::new();
    for k in kept.into_iter().flatten() {
        match k {
            Kept::Owned(id, r) => {
                if let Some(record) = records.get_mut(&id) {
                    record.add(*r);
                }
            }
            Kept::Medication(m) => medications.push(*m),
        }
    }
    // Each record gets the Medications its requests and statements reference.
    for record in records.values_mut() {
        let wanted: HashSet<&str> = record
            .medication_requests
            .iter()
            .filter_map(|m| m.medication_reference.as_ref())
            .chain(
                record
                    .medication_statements
                    .iter()
                    .filter_map(|m| m.medication_reference.as_ref()),
            )
            .filter_map(|r: &Reference| r.reference.as_deref())
            .map(|r| r.rsplit('/').next().unwrap_or(r))
            .collect();
        let add: Vec<Medication> = medications
            .iter()
            .filter(|m| m.id.as_deref().is_some_and(|id| wanted.contains(id)))
            .cloned()
            .collect();
        for m in add {
            record.add(Resource::Medication(m));
        }
    }
    (
        Cohort {
            records,
            patients_seen: patients_seen.into_inner(),
        },
        totals,
    )
}

/// serde's message without any quoted input (no patient data in reports).
fn scrubbed(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let mut parts = msg.split('"');
    let mut out = parts.next().unwrap_or_default().to_string();
    for (i, part) in parts.enumerate() {
        // Odd parts were inside quotes.
        if i % 2 == 1 {
            out.push_str("\"…\"");
            out.push_str(part);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patient_ids_are_read_from_every_reference_form() {
        assert_eq!(patient_id("Patient/p-1"), Some("p-1"));
        assert_eq!(
            patient_id("https://fhir.example.org/r4/Patient/p-1/_history/2"),
            Some("p-1")
        );
        assert_eq!(patient_id("urn:uuid:abc"), Some("abc"));
        assert_eq!(patient_id("Group/g"), None);
        assert_eq!(patient_id("Patient/"), None);
    }

    #[test]
    fn scrubbed_messages_quote_nothing_from_the_line() {
        let e = serde_json::from_str::<u8>("\"secret\"").unwrap_err();
        let s = scrubbed(&e);
        assert!(!s.contains("secret"), "{s}");
    }
}
