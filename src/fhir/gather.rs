//! Gathering: prefetch values as the spec defines them, and the fallback fetch from the
//! client's FHIR server for what prefetch lacks.
//!
//! For each prefetch key of the service: usable prefetch data is taken as is; `null` means no
//! data; a key that is absent, an OperationOutcome or not a resource is fetched from
//! `fhirServer` — all such queries concurrently, the whole gather bounded by `budget_ms`.
//! A key that cannot be obtained fails the call with 412 when it is required, and is listed
//! in [`PatientRecord::unavailable`] otherwise (also when paging stopped early: the partial
//! data is kept, but it cannot prove an absence).
//!
//! The outbound guard: a fetch is only made when `fhirServer` matches
//! `FhirSettings::allowed_servers`. When a fetch is needed and `fhirServer` is not allowed the
//! call is refused ([`GatherError::ServerNotAllowed`]) before any request; when everything
//! was prefetched the `fhirServer` is never contacted, so it is not judged. An empty
//! allow-list disables the fallback fetch (missing keys are handled as if there were no
//! `fhirServer`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use futures::future::join_all;
use tracing::Instrument;
use url::Url;

use crate::cds::request::HookRequest;
use crate::config::FhirSettings;

use super::allow::AllowList;
use super::client::{log_failure, FetchFailure, Fetched, FhirClient, Target};
use super::model::{Medication, Resource};
use super::prefetch::{Missing, Prefetched};
use super::scope::{add_own, ThisPatient};
use super::template::{encode_component, render, TemplateError};
use super::PatientRecord;
use crate::server::metrics::{prefetch_key, PrefetchOutcome};

/// Most Medication references fetched for one call.
const MAX_MEDICATION_REFERENCES: usize = 20;

/// The queries stop this long before `budget_ms` runs out, so that the gather itself (a
/// timer fires up to 1 ms late, then the record is assembled) ends within the budget: without
/// it a hanging server made a 300 ms budget return after 302 ms (benches/gather.rs).
const FINISH_MARGIN: Duration = Duration::from_millis(5);

#[derive(Debug, thiserror::Error)]
pub enum GatherError {
    /// `fhirServer` is not allowed by configuration: refused before any request (HTTP 4xx).
    #[error("fhirServer is not an allowed FHIR server")]
    ServerNotAllowed,
    /// Required data could not be obtained (HTTP 412), with a short reason without PHI.
    #[error("{0}")]
    PreconditionFailed(String),
    /// Required data held only other patients' resources (HTTP 412); `removed` resources
    /// were removed by the patient filter (for the audit).
    #[error("{reason}")]
    OnlyOtherPatients { reason: String, removed: usize },
}

impl GatherError {
    /// Resources of other patients removed before the call failed (0 when none).
    pub fn removed_other_patients(&self) -> usize {
        match self {
            GatherError::OnlyOtherPatients { removed, .. } => *removed,
            _ => 0,
        }
    }
}

/// Gathers a patient's data for one hook call. Cheap to clone; holds the HTTP client.
#[derive(Debug, Clone)]
pub struct Gatherer {
    settings: FhirSettings,
    allow: AllowList,
    client: FhirClient,
}

/// Why a key could not be obtained (short, no PHI; becomes the 412 reason).
#[derive(Debug, Clone)]
enum Unobtainable {
    NoServer,
    FetchDisabled,
    Token(String),
    BadTemplate,
    Failed(FetchFailure),
    /// Its data (prefetched, or fetched when the prefetch held only other patients') held
    /// no resource of this patient but some of others.
    OnlyOtherPatients,
}

impl std::fmt::Display for Unobtainable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unobtainable::NoServer => f.write_str("not prefetched and no fhirServer"),
            Unobtainable::FetchDisabled => {
                f.write_str("not prefetched and the FHIR fallback fetch is disabled")
            }
            Unobtainable::Token(t) => write!(f, "not prefetched and no value for {{{{{t}}}}}"),
            Unobtainable::BadTemplate => f.write_str("not prefetched and its template is invalid"),
            Unobtainable::Failed(e) => write!(f, "not prefetched and the FHIR query failed ({e})"),
            Unobtainable::OnlyOtherPatients => {
                f.write_str("the data received held only other patients' resources")
            }
        }
    }
}

/// The server this call may fetch from, when a fetch is needed.
enum Server {
    Usable(Url),
    Unusable(Unobtainable),
}

impl Gatherer {
    /// Build the gatherer and its HTTP client. Unusable `allowed_servers` patterns are logged
    /// and ignored (they allow nothing); use [`AllowList::parse`] to reject them at start-up.
    pub fn new(settings: &FhirSettings) -> Gatherer {
        Gatherer {
            settings: settings.clone(),
            allow: AllowList::parse_lenient(&settings.allowed_servers),
            client: FhirClient::new(
                Duration::from_millis(settings.timeout_ms),
                settings.max_pages,
            ),
        }
    }

    /// Gather the data described by `templates` (prefetch key → template) for `req`. The
    /// prefetched data moves out of `req.prefetch` into the record (no copy).
    /// Keys in `required` that cannot be obtained fail with 412; other keys that cannot be
    /// obtained are listed in `PatientRecord::unavailable`.
    pub async fn gather(
        &self,
        req: &mut HookRequest,
        templates: &BTreeMap<String, String>,
        required: &BTreeSet<String>,
    ) -> Result<PatientRecord, GatherError> {
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + self.budget();
        let mut record = PatientRecord::default();
        let mut lost: Vec<(&str, Unobtainable)> = Vec::new();
        let mut to_fetch: Vec<(&str, String)> = Vec::new();

        let patient = req
            .context
            .get("patientId")
            .and_then(|v| v.as_str())
            .map(|id| ThisPatient::new(id, req.fhir_server.as_deref()));
        // Prefetch keys whose data held only other patients' resources: fetched instead.
        let mut emptied: BTreeSet<&str> = BTreeSet::new();

        for (key, template) in templates {
            let why = match req.prefetch.take(key) {
                Prefetched::Data(resource) => {
                    match keep_to_patient(key, vec![*resource], patient.as_ref(), &mut record) {
                        Scoped::Kept => {
                            prefetch_key(key, PrefetchOutcome::Prefetched);
                            continue;
                        }
                        Scoped::Emptied => {
                            emptied.insert(key.as_str());
                            Missing::Absent
                        }
                    }
                }
                Prefetched::NoData => {
                    prefetch_key(key, PrefetchOutcome::Null);
                    continue;
                }
                Prefetched::Missing(why) => why,
            };
            if let Missing::Unreadable(failure) = why {
                record.unreadable.push(failure);
            }
            match render(template, &req.context) {
                Ok(relative) => to_fetch.push((key, relative)),
                Err(TemplateError::Unfillable(t)) => lost.push((key, Unobtainable::Token(t))),
                Err(e @ TemplateError::Unterminated) => {
                    tracing::error!(key = key.as_str(), error = %e, "bad prefetch template");
                    lost.push((key, Unobtainable::BadTemplate))
                }
            }
        }

        // The body the prefetched resources came from, for updates of a recorded order.
        if let Some(body) = req.source.take() {
            record.originals.push(body);
        }

        if !to_fetch.is_empty() {
            match self.server(req)? {
                Server::Usable(base) => {
                    // Nothing is fetched when a required key is already lost.
                    fail_if_required(&lost, required, record.removed_other_patients)
                        .inspect_err(|_| count_failed(&lost))?;
                    let target = self.target(&base, req);
                    for (key, result) in self.fetch_all(&to_fetch, target, deadline).await {
                        match result {
                            Ok(fetched) => {
                                for page in fetched.texts {
                                    record.originals.push(page);
                                }
                                let scoped = keep_to_patient(
                                    key,
                                    fetched.resources,
                                    patient.as_ref(),
                                    &mut record,
                                );
                                if scoped == Scoped::Emptied {
                                    lost.push((key, Unobtainable::OnlyOtherPatients));
                                    continue;
                                }
                                prefetch_key(key, PrefetchOutcome::Fetched);
                                if fetched.incomplete.is_some() {
                                    record.unavailable.push(key.to_string());
                                }
                            }
                            Err(e) => lost.push((key, Unobtainable::Failed(e))),
                        }
                    }
                }
                Server::Unusable(why) => {
                    lost.extend(to_fetch.iter().map(|(key, _)| {
                        let why = if emptied.contains(key) {
                            Unobtainable::OnlyOtherPatients
                        } else {
                            why.clone()
                        };
                        (*key, why)
                    }));
                }
            }
        }

        lost.sort_by(|a, b| a.0.cmp(b.0));
        count_failed(&lost);
        fail_if_required(&lost, required, record.removed_other_patients)?;
        record
            .unavailable
            .extend(lost.iter().map(|(key, _)| key.to_string()));
        record.unavailable.sort();
        record.unavailable.dedup();
        tracing::debug!(
            fetched = to_fetch.len(),
            unavailable = record.unavailable.len(),
            unreadable = record.unreadable.len(),
            removed_other_patients = record.removed_other_patients,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "gather done"
        );
        Ok(record)
    }

    /// Run the queries of `to_fetch` (key, relative URL) concurrently, each bounded by
    /// `deadline`.
    async fn fetch_all<'k>(
        &self,
        to_fetch: &[(&'k str, String)],
        target: Target<'_>,
        deadline: tokio::time::Instant,
    ) -> Vec<(&'k str, Result<Fetched, FetchFailure>)> {
        let queries = to_fetch.iter().map(|&(key, ref relative)| async move {
            let started = Instant::now();
            let Some(url) = target.url(relative) else {
                log_failure(key, FetchFailure::OffServer, started);
                return (key, Err(FetchFailure::OffServer));
            };
            let query = self
                .client
                .fetch(key, url, target)
                .instrument(tracing::info_span!("gather", query = key));
            match tokio::time::timeout_at(deadline, query).await {
                Ok(result) => (key, result),
                Err(_) => {
                    log_failure(key, FetchFailure::BudgetExceeded, started);
                    (key, Err(FetchFailure::BudgetExceeded))
                }
            }
        });
        join_all(queries).await
    }

    /// Read the Medications behind `references` (targets of draft orders'
    /// `medicationReference` that are neither in draftOrders nor contained) from
    /// `fhirServer`, concurrently, within the gather budget.
    ///
    /// Accepted references: "Medication/<id>" and absolute URLs of a Medication on the same
    /// allowed server; contained ("#id") and any other references are skipped. Nothing is
    /// requested when `fhirServer` is absent or not allowed. Medications that could not be
    /// read are simply absent from the result: the caller treats such an order's drug as
    /// unknown.
    pub async fn fetch_medications(
        &self,
        req: &HookRequest,
        references: &[String],
    ) -> Vec<Medication> {
        self.fetch_medications_since(req, references, tokio::time::Instant::now())
            .await
    }

    /// [`Gatherer::fetch_medications`] within what is left of the budget of a gather that
    /// started at `gather_started`: the gather and these reads together stay within
    /// `budget_ms` (with a hanging server they took up to `budget_ms` + `timeout_ms`).
    pub async fn fetch_medications_since(
        &self,
        req: &HookRequest,
        references: &[String],
        gather_started: tokio::time::Instant,
    ) -> Vec<Medication> {
        let Ok(Server::Usable(base)) = self.server(req) else {
            return Vec::new();
        };
        let target = self.target(&base, req);
        let mut urls: Vec<Url> = references
            .iter()
            .filter_map(|r| medication_url(r, target))
            .collect();
        urls.sort();
        urls.dedup();
        urls.truncate(MAX_MEDICATION_REFERENCES);
        let deadline = gather_started + self.budget();
        let reads = urls.iter().map(|url| async move {
            let started = Instant::now();
            let read = self
                .client
                .get(url, target.token)
                .instrument(tracing::info_span!("gather", query = "medicationReference"));
            let result = tokio::time::timeout_at(deadline, read)
                .await
                .unwrap_or(Err(FetchFailure::BudgetExceeded));
            crate::server::metrics::fhir_request("medicationReference", started);
            if let Err(e) = result {
                log_failure("medicationReference", e, started);
            }
            result.ok()
        });
        join_all(reads)
            .await
            .into_iter()
            .filter_map(|r| match r {
                Some((Resource::Medication(m), _)) => Some(m),
                _ => None,
            })
            .collect()
    }

    /// The request target: the checked server, the allow-list and the request's token.
    fn target<'a>(&'a self, base: &'a Url, req: &'a HookRequest) -> Target<'a> {
        Target {
            base,
            allow: &self.allow,
            token: req
                .fhir_authorization
                .as_ref()
                .map(|a| a.access_token.as_str()),
        }
    }

    /// How long the queries of one gather may run: `budget_ms` less [`FINISH_MARGIN`].
    fn budget(&self) -> Duration {
        Duration::from_millis(self.settings.budget_ms).saturating_sub(FINISH_MARGIN)
    }

    /// Decide where this call may fetch from. `Err` when the request names a server that is
    /// not allowed (refused: no request is made).
    fn server(&self, req: &HookRequest) -> Result<Server, GatherError> {
        let Some(fhir_server) = req.fhir_server.as_deref() else {
            return Ok(Server::Unusable(Unobtainable::NoServer));
        };
        if self.allow.is_empty() {
            return Ok(Server::Unusable(Unobtainable::FetchDisabled));
        }
        let Some(base) = self.allow.check_server(fhir_server) else {
            tracing::warn!("fhirServer is not allowed; request refused before any fetch");
            return Err(GatherError::ServerNotAllowed);
        };
        if !self.client.is_available() {
            return Ok(Server::Unusable(Unobtainable::FetchDisabled));
        }
        Ok(Server::Usable(base))
    }
}

/// Count the keys that could not be obtained (metrics).
fn count_failed(lost: &[(&str, Unobtainable)]) {
    for (key, _) in lost {
        prefetch_key(key, PrefetchOutcome::Failed);
    }
}

/// 412 for the first required key that could not be obtained; `removed` resources of other
/// patients were removed so far.
fn fail_if_required(
    lost: &[(&str, Unobtainable)],
    required: &BTreeSet<String>,
    removed: usize,
) -> Result<(), GatherError> {
    match lost.iter().find(|(key, _)| required.contains(*key)) {
        Some((key, why @ Unobtainable::OnlyOtherPatients)) => Err(GatherError::OnlyOtherPatients {
            reason: format!("{key}: {why}"),
            removed,
        }),
        Some((key, why)) => Err(GatherError::PreconditionFailed(format!("{key}: {why}"))),
        None => Ok(()),
    }
}

/// What the patient filter left of one key's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scoped {
    /// Some of this patient's resources, or nothing removed: usable (marked unavailable when
    /// something was removed, since a removed resource may have been mislabelled).
    Kept,
    /// Something was removed and none of this patient's resources is left.
    Emptied,
}

/// Add the data of `key` to `record`, without the resources that are not clearly this
/// patient's. Removals are counted in the record and logged (key and count only).
fn keep_to_patient(
    key: &str,
    resources: Vec<Resource>,
    patient: Option<&ThisPatient<'_>>,
    record: &mut PatientRecord,
) -> Scoped {
    let Some(patient) = patient else {
        resources.into_iter().for_each(|r| record.add(r));
        return Scoped::Kept;
    };
    let scoping = add_own(record, resources, patient);
    let emptied = scoping.emptied();
    if scoping.removed > 0 {
        tracing::warn!(
            key,
            removed = scoping.removed,
            emptied,
            "resources not clearly of the hook's patient removed from the record"
        );
        record.removed_other_patients += scoping.removed;
        if !emptied {
            record.unavailable.push(key.to_string());
        }
    }
    if emptied {
        Scoped::Emptied
    } else {
        Scoped::Kept
    }
}

/// The read URL of a Medication reference, when it is one this service may fetch.
fn medication_url(reference: &str, target: Target<'_>) -> Option<Url> {
    let valid_id = |id: &str| {
        (1..=64).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    };
    if let Some(id) = reference.strip_prefix("Medication/") {
        let id = id.split("/_history/").next().unwrap_or(id);
        return valid_id(id)
            .then(|| target.url(&format!("Medication/{}", encode_component(id))))
            .flatten();
    }
    let url = Url::parse(reference).ok()?;
    let mut segments = url.path_segments()?.rev();
    let (id, kind) = (segments.next()?, segments.next()?);
    (kind == "Medication" && valid_id(id) && url.query().is_none() && target.on_server(&url))
        .then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target_parts() -> (Url, AllowList) {
        (
            Url::parse("https://ehr.example/fhir").unwrap(),
            AllowList::parse(&["https://ehr.example/fhir/*".to_string()]).unwrap(),
        )
    }

    #[test]
    fn medication_references_are_checked() {
        let (base, allow) = target_parts();
        let t = Target {
            base: &base,
            allow: &allow,
            token: None,
        };
        let url = |r: &str| medication_url(r, t).map(|u| u.to_string());
        assert_eq!(
            url("Medication/m-1").as_deref(),
            Some("https://ehr.example/fhir/Medication/m-1")
        );
        assert_eq!(
            url("https://ehr.example/fhir/Medication/m2").as_deref(),
            Some("https://ehr.example/fhir/Medication/m2")
        );
        for bad in [
            "#med1",
            "Medication/../Patient/x",
            "Medication/a b",
            "https://evil.example/fhir/Medication/m2",
            "https://ehr.example/other/Medication/m2",
            "https://ehr.example/fhir/Patient/p",
            "Patient/p",
        ] {
            assert_eq!(url(bad), None, "{bad}");
        }
    }

    #[test]
    fn reasons_name_the_key_not_the_data() {
        let lost = vec![
            ("labs", Unobtainable::Failed(FetchFailure::Timeout)),
            ("conditions", Unobtainable::NoServer),
        ];
        let required: BTreeSet<String> = ["conditions".to_string()].into();
        let Err(GatherError::PreconditionFailed(msg)) = fail_if_required(&lost, &required, 0)
        else {
            panic!("expected 412")
        };
        assert_eq!(msg, "conditions: not prefetched and no fhirServer");
        assert!(fail_if_required(&lost[..1], &required, 0).is_ok());
    }
}
