//! One hook call from parsed request to response, shared by the HTTP handler and the
//! `evaluate` command: hook check → order context → gather → engine.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;

use crate::cds::{
    CdsResponse, Hook, HookRequest, OrderContext, RequestError, ServiceCatalog, ServiceDefinition,
};
use crate::config::{Config, ServiceMode};
use crate::engine;
use crate::fhir::gather::{GatherError, Gatherer};
use crate::fhir::PatientRecord;
use crate::knowledge::{Knowledge, KnowledgeFiles};

use super::error::ApiError;

/// Why a hook call produced no cards.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error("hook {got:?} does not match this service's hook {expected}")]
    HookMismatch { expected: &'static str, got: String },
    #[error(transparent)]
    Gather(#[from] GatherError),
    #[error(
        "{count} draft orders in scope; at most {max} are evaluated per call \
         (limits.max_orders_per_call): send fewer orders per call"
    )]
    TooManyOrders { count: usize, max: usize },
}

impl From<HookError> for ApiError {
    fn from(e: HookError) -> ApiError {
        match e {
            HookError::Request(_)
            | HookError::HookMismatch { .. }
            | HookError::TooManyOrders { .. } => ApiError::BadRequest(e.to_string()),
            HookError::Gather(GatherError::ServerNotAllowed) => ApiError::Forbidden(e.to_string()),
            HookError::Gather(GatherError::PreconditionFailed(reason))
            | HookError::Gather(GatherError::OnlyOtherPatients { reason, .. }) => {
                ApiError::PreconditionFailed(reason)
            }
        }
    }
}

impl HookError {
    /// Resources of other patients removed before the call failed (for the audit).
    pub fn removed_other_patients(&self) -> usize {
        match self {
            HookError::Gather(e) => e.removed_other_patients(),
            _ => 0,
        }
    }
}

/// The result of one call, with counts for logs and audit (no patient data).
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The cards the engine produced: what a live service returns, and what a silent one
    /// would have returned (see [`Evaluation::answer`]).
    pub response: CdsResponse,
    /// The service's mode when the call was evaluated.
    pub mode: ServiceMode,
    pub orders: usize,
    pub unavailable: usize,
    /// Resources removed from the gathered data as not clearly the hook's patient's.
    pub removed_other_patients: usize,
}

impl Evaluation {
    /// What the client is answered: the cards, or none for a silent service.
    pub fn answer(&self) -> CdsResponse {
        match self.mode {
            ServiceMode::Silent => CdsResponse::default(),
            _ => self.response.clone(),
        }
    }
}

/// The parts of the service that answer hooks, loaded once at start-up.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// The services not switched off.
    catalog: Arc<ServiceCatalog>,
    /// Service id → mode, for services configured other than live.
    modes: Arc<BTreeMap<String, ServiceMode>>,
    knowledge: Arc<Knowledge>,
    gatherer: Gatherer,
    /// `limits.max_orders_per_call`.
    max_orders: usize,
}

/// Where the knowledge and service files come from for `config`.
pub fn knowledge_files(config: &Config) -> KnowledgeFiles {
    match &config.knowledge.dir {
        Some(dir) => KnowledgeFiles::Dir(dir.clone()),
        None => KnowledgeFiles::Embedded,
    }
}

/// Load the knowledge named by `config` (`[knowledge] dir` and `profile`).
pub fn load_knowledge(config: &Config) -> Result<Knowledge, crate::knowledge::KnowledgeError> {
    Knowledge::load(
        &knowledge_files(config),
        config.knowledge.profile.as_deref(),
    )
}

impl Pipeline {
    /// Load and validate the service catalog and apply `[services."<id>"] mode`; a broken
    /// `services.json` or a mode for an unknown service is an error. Services switched off
    /// are left out of the catalog (absent from discovery, 404 on their endpoints).
    pub fn new(
        config: &Config,
        knowledge: Knowledge,
    ) -> Result<Pipeline, crate::cds::discovery::DiscoveryError> {
        let mut catalog = ServiceCatalog::load(&knowledge_files(config))?;
        if let Some(id) = config
            .services
            .keys()
            .find(|id| catalog.get(id.as_str()).is_none())
        {
            return Err(crate::cds::discovery::DiscoveryError::UnknownService(
                id.clone(),
            ));
        }
        let modes: BTreeMap<String, ServiceMode> = config
            .services
            .iter()
            .filter(|(_, s)| s.mode != ServiceMode::Live)
            .map(|(id, s)| (id.clone(), s.mode))
            .collect();
        catalog.remove(|s| modes.get(&s.id) == Some(&ServiceMode::Off));
        Ok(Pipeline {
            catalog: Arc::new(catalog),
            modes: Arc::new(modes),
            knowledge: Arc::new(knowledge),
            gatherer: Gatherer::new(&config.fhir),
            max_orders: config.limits.max_orders_per_call,
        })
    }

    pub fn catalog(&self) -> &ServiceCatalog {
        &self.catalog
    }

    /// The knowledge the engine uses.
    pub fn knowledge(&self) -> &Knowledge {
        &self.knowledge
    }

    /// The mode of a service (live unless configured otherwise).
    pub fn mode(&self, service_id: &str) -> ServiceMode {
        self.modes
            .get(service_id)
            .copied()
            .unwrap_or(ServiceMode::Live)
    }

    /// Log each service's mode and the knowledge version (at start-up).
    pub fn log_modes(&self) {
        let version = &self.knowledge.version;
        tracing::info!(
            knowledge_version = %version.label(),
            content_hash = %version.content_hash,
            recorded = version.recorded,
            "knowledge loaded"
        );
        if !version.recorded {
            tracing::warn!(
                knowledge_version = %version.label(),
                "the knowledge files differ from those their recorded version was made for"
            );
        }
        for s in self.catalog.services() {
            tracing::info!(service_id = %s.id, mode = self.mode(&s.id).as_str(), "service mode");
        }
        for (id, mode) in self.modes.iter().filter(|(_, m)| **m == ServiceMode::Off) {
            tracing::info!(service_id = %id, mode = mode.as_str(), "service mode");
        }
    }

    /// The service to use for a request when none is named: the first one for its hook.
    pub fn service_for(&self, req: &HookRequest) -> Result<&ServiceDefinition, HookError> {
        Hook::parse(&req.hook)
            .and_then(|h| self.catalog.for_hook(h))
            .ok_or_else(|| {
                HookError::Request(RequestError::Invalid(format!(
                    "no service answers hook {:?}",
                    req.hook
                )))
            })
    }

    /// Evaluate one parsed request for `service` as of `today`. The request's prefetched data
    /// moves into the patient's record (its `prefetch` is left empty).
    pub async fn evaluate(
        &self,
        service: &ServiceDefinition,
        req: &mut HookRequest,
        today: NaiveDate,
    ) -> Result<Evaluation, HookError> {
        if req.hook != service.hook.as_str() {
            return Err(HookError::HookMismatch {
                expected: service.hook.as_str(),
                got: req.hook.chars().take(64).collect(),
            });
        }
        let ctx = OrderContext::from_request(req, service.hook)?;
        // Each order makes cards: unbounded, one call could make an answer of tens of MB.
        if ctx.orders.len() > self.max_orders {
            return Err(HookError::TooManyOrders {
                count: ctx.orders.len(),
                max: self.max_orders,
            });
        }
        let gather_started = tokio::time::Instant::now();
        let mut record = self
            .gatherer
            .gather(req, &service.prefetch, &service.required)
            .await?;
        let unresolved = unresolved_medication_references(&ctx, &record);
        if !unresolved.is_empty() {
            // Within the same budget as the gather.
            let fetched = self
                .gatherer
                .fetch_medications_since(req, &unresolved, gather_started)
                .await;
            for medication in fetched {
                record.add(crate::fhir::Resource::Medication(medication));
            }
        }
        // Skipped resources are counted on the cards; the log says why (the field path and the
        // type expected there, never the value: no patient data).
        for failure in ctx.unreadable_drafts.iter().chain(&record.unreadable) {
            tracing::warn!(
                hook_instance = %req.hook_instance,
                resource_type = failure.resource_type.as_deref().unwrap_or("unknown"),
                reason = %failure.reason,
                "resource skipped: could not be read"
            );
        }
        let response = tracing::info_span!("evaluate")
            .in_scope(|| engine::evaluate(&ctx, &record, &self.knowledge, today));
        Ok(Evaluation {
            response,
            mode: self.mode(&service.id),
            orders: ctx.orders.len(),
            unavailable: record.unavailable.len(),
            removed_other_patients: record.removed_other_patients,
        })
    }
}

/// `medicationReference`s of the orders that the facts cannot resolve (not in draftOrders, not
/// contained, not gathered; the same lookup `classify_orders` uses): these are read from the
/// FHIR server.
fn unresolved_medication_references(ctx: &OrderContext, record: &PatientRecord) -> Vec<String> {
    ctx.orders
        .iter()
        .filter_map(|o| {
            let req = &o.request;
            let reference = req
                .medication_reference
                .as_ref()?
                .reference
                .as_deref()?
                .trim();
            let view = crate::facts::medications::view(
                None,
                req.medication_reference.as_ref(),
                &req.contained,
                &ctx.draft_medications,
                record,
            );
            (view.medication.is_none() && !reference.starts_with('#'))
                .then(|| reference.to_string())
        })
        .collect()
}
