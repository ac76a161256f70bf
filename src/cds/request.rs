//! The hook request as the engine sees it: which hook, which patient, and the draft
//! medication orders in scope (for order-select only the selected ones).

use serde_json::Value;

use crate::fhir::model::{Medication, MedicationRequest, ParseFailure};

/// The hooks this service answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hook {
    OrderSelect,
    OrderSign,
    /// Legacy CDS Hooks 1.0 hook the public sandbox may still send.
    MedicationPrescribe,
}

impl Hook {
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::OrderSelect => "order-select",
            Hook::OrderSign => "order-sign",
            Hook::MedicationPrescribe => "medication-prescribe",
        }
    }

    pub fn parse(s: &str) -> Option<Hook> {
        match s {
            "order-select" => Some(Hook::OrderSelect),
            "order-sign" => Some(Hook::OrderSign),
            "medication-prescribe" => Some(Hook::MedicationPrescribe),
            _ => None,
        }
    }
}

/// One draft medication order from `context.draftOrders` (or the legacy `medications`).
#[derive(Debug, Clone)]
pub struct DraftOrder {
    /// "MedicationRequest/request-123" (or "MedicationOrder/order-123" as the client sent it).
    pub reference: String,
    /// The typed view (a DSTU2 MedicationOrder is normalised into it).
    pub request: MedicationRequest,
    /// The resource exactly as sent: update suggestions modify a copy of it.
    pub raw: Value,
}

/// What the engine needs from the hook context.
#[derive(Debug, Clone)]
pub struct OrderContext {
    pub hook: Hook,
    pub patient_id: String,
    pub user_id: Option<String>,
    /// The orders the service looks at: the selected ones on order-select, all MedicationRequests
    /// (or MedicationOrders) on order-sign and medication-prescribe.
    pub orders: Vec<DraftOrder>,
    /// Medications that came inside draftOrders (targets of `medicationReference`).
    pub draft_medications: Vec<Medication>,
    /// Draft resources that could not be read.
    pub unreadable_drafts: Vec<ParseFailure>,
}

/// The request body as sent (`POST /cds-services/{id}`), before hook-specific parsing.
/// `prefetch` keeps each value raw: a key that is absent was not prefetched, a key whose
/// value is JSON `null` means "no data", and anything else is a FHIR resource (possibly an
/// OperationOutcome, which counts as not prefetched).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookRequest {
    pub hook: String,
    pub hook_instance: String,
    pub fhir_server: Option<String>,
    pub fhir_authorization: Option<FhirAuthorization>,
    pub context: serde_json::Map<String, Value>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub prefetch: std::collections::HashMap<String, Option<Box<serde_json::value::RawValue>>>,
}

fn null_as_empty<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de> + Default,
{
    use serde::Deserialize;
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `fhirAuthorization`: the bearer token for the FHIR server. Its `Debug` never prints the
/// token, so it cannot reach a log by accident.
#[derive(Clone, serde::Deserialize)]
pub struct FhirAuthorization {
    pub access_token: String,
    pub token_type: Option<String>,
    pub expires_in: Option<i64>,
    pub scope: Option<String>,
    pub subject: Option<String>,
    pub patient: Option<String>,
}

impl std::fmt::Debug for FhirAuthorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FhirAuthorization")
            .field("access_token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}
