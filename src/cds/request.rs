//! The hook request as the engine sees it: which hook, which patient, and the draft
//! medication orders in scope (for order-select only the selected ones; none on patient-view,
//! whose context is patientId, userId and encounterId).

use std::collections::HashMap;

use bytes::Bytes;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::fhir::model::{parse_resource, Medication, MedicationRequest, ParseFailure, Resource};
use crate::fhir::prefetch::Prefetch;

/// The hooks this service answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hook {
    OrderSelect,
    OrderSign,
    /// Legacy CDS Hooks 1.0 hook the public sandbox may still send.
    MedicationPrescribe,
    /// Opening a patient's chart: the monitoring service (patients already on a JAK inhibitor).
    PatientView,
}

impl Hook {
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::OrderSelect => "order-select",
            Hook::OrderSign => "order-sign",
            Hook::MedicationPrescribe => "medication-prescribe",
            Hook::PatientView => "patient-view",
        }
    }

    pub fn parse(s: &str) -> Option<Hook> {
        match s {
            "order-select" => Some(Hook::OrderSelect),
            "order-sign" => Some(Hook::OrderSign),
            "medication-prescribe" => Some(Hook::MedicationPrescribe),
            "patient-view" => Some(Hook::PatientView),
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
    /// Immunizations drafted in the same call (a live vaccine is a pre-treatment warning).
    pub draft_immunizations: Vec<crate::fhir::model::Immunization>,
}

/// The request body as sent (`POST /cds-services/{id}`), before hook-specific parsing.
/// `prefetch` holds each key's value typed and classified (see [`Prefetch`]): a key that is
/// absent was not prefetched, a key whose value is JSON `null` means "no data", and anything
/// else is a FHIR resource (an OperationOutcome counts as not prefetched).
#[derive(Debug, Clone)]
pub struct HookRequest {
    pub hook: String,
    pub hook_instance: String,
    pub fhir_server: Option<String>,
    pub fhir_authorization: Option<FhirAuthorization>,
    pub context: serde_json::Map<String, Value>,
    pub prefetch: Prefetch,
    /// The body as received, when the caller handed it over ([`HookRequest::from_body`]): the
    /// record keeps it so that an update of a prefetched order starts from the order as sent.
    pub source: Option<Bytes>,
}

/// The body's members, generic over how the prefetch is read: typed in the same pass
/// ([`Prefetch`]), or kept raw for the tolerant read.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound = "P: serde::Deserialize<'de> + Default")]
struct Envelope<P> {
    hook: String,
    hook_instance: String,
    fhir_server: Option<String>,
    fhir_authorization: Option<FhirAuthorization>,
    context: serde_json::Map<String, Value>,
    #[serde(default, deserialize_with = "null_as_empty")]
    prefetch: P,
}

/// Prefetch values kept raw, each to be parsed on its own.
type RawPrefetch = HashMap<String, Option<Box<RawValue>>>;

impl<P> Envelope<P> {
    /// The request, its prefetch made by `read` from what was deserialized.
    fn into_request(self, read: impl FnOnce(P) -> Prefetch) -> HookRequest {
        HookRequest {
            hook: self.hook,
            hook_instance: self.hook_instance,
            fhir_server: self.fhir_server,
            fhir_authorization: self.fhir_authorization,
            context: self.context,
            prefetch: read(self.prefetch),
            source: None,
        }
    }
}

/// Read the body in one pass, prefetch typed as it streams; when that fails (a resource that
/// does not parse, malformed JSON), read it again with the prefetch raw, so that a bad
/// resource is only skipped and a bad body gets the error of the tolerant read.
///
/// The body's UTF-8 is checked once, up front: parsing from a `&str` then skips the check
/// of every string (a tenth of the parse, in the profile), and invalid UTF-8 gets the
/// tolerant read's error.
fn read_body(body: &[u8]) -> Result<HookRequest, serde_json::Error> {
    if let Ok(text) = std::str::from_utf8(body) {
        if let Ok(envelope) = serde_json::from_str::<Envelope<Prefetch>>(text) {
            return Ok(envelope.into_request(|prefetch| prefetch));
        }
    }
    let envelope = serde_json::from_slice::<Envelope<RawPrefetch>>(body)?;
    Ok(envelope.into_request(Prefetch::from_raw))
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

/// Why a hook request was refused (HTTP 400). Messages name the field, never its value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RequestError {
    /// Not JSON, or JSON of the wrong shape: serde's message with line and column.
    #[error("request body: {0}")]
    Malformed(String),
    #[error("{0}")]
    Invalid(String),
}

/// Most characters accepted in `hookInstance` (a UUID has 36): it is logged.
const MAX_HOOK_INSTANCE_LEN: usize = 128;

impl HookRequest {
    /// Parse a request body. Strict where the spec is firm (`hook`, `hookInstance` and
    /// `context` present and well typed, `context.patientId` a non-empty string); permissive
    /// elsewhere (unknown fields and extensions are ignored).
    pub fn parse(body: &[u8]) -> Result<HookRequest, RequestError> {
        Self::parse_body(body)
    }

    /// [`HookRequest::parse`], keeping the body (a reference count, no copy) in
    /// [`HookRequest::source`]. What the service answers a hook call with.
    pub fn from_body(body: Bytes) -> Result<HookRequest, RequestError> {
        let mut req = Self::parse_body(&body)?;
        req.source = Some(body);
        Ok(req)
    }

    fn parse_body(body: &[u8]) -> Result<HookRequest, RequestError> {
        let req =
            read_body(body).map_err(|e| RequestError::Malformed(redact_quoted(&e.to_string())))?;
        if req.hook.is_empty() {
            return Err(RequestError::Invalid("hook must not be empty".into()));
        }
        if req.hook_instance.is_empty()
            || req.hook_instance.len() > MAX_HOOK_INSTANCE_LEN
            || req.hook_instance.chars().any(|c| c.is_control())
        {
            return Err(RequestError::Invalid(format!(
                "hookInstance must be a non-empty string of at most {MAX_HOOK_INSTANCE_LEN} \
                 printable characters (a UUID)"
            )));
        }
        if req.fhir_authorization.is_some() && req.fhir_server.is_none() {
            return Err(RequestError::Invalid(
                "fhirServer is required when fhirAuthorization is given".into(),
            ));
        }
        req.patient_id()?;
        Ok(req)
    }

    /// `context.patientId`, required by every hook this service answers.
    pub fn patient_id(&self) -> Result<&str, RequestError> {
        match self.context.get("patientId") {
            Some(Value::String(s)) if !s.is_empty() => Ok(s),
            Some(_) => Err(RequestError::Invalid(
                "context.patientId must be a non-empty string".into(),
            )),
            None => Err(RequestError::Invalid(
                "context.patientId is required".into(),
            )),
        }
    }

    /// Counts for logs: prefetch keys sent (values are never logged).
    pub fn prefetch_keys(&self) -> usize {
        self.prefetch.keys_sent()
    }
}

/// serde_json messages may quote input ("invalid type: string \"Jane\""): cut quoted parts so
/// no patient data is echoed or logged.
pub(crate) fn redact_quoted(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut in_quote = false;
    for ch in msg.chars() {
        if ch == '"' {
            in_quote = !in_quote;
            if in_quote {
                out.push_str("\"…\"");
            }
            continue;
        }
        if !in_quote {
            out.push(ch);
        }
    }
    out
}

/// Medication-order resource types: R4 and the DSTU2 one the sandbox sends.
const ORDER_TYPES: [&str; 2] = ["MedicationRequest", "MedicationOrder"];

/// One resource found in the context, not yet typed.
struct ContextResource<'a> {
    resource_type: Option<&'a str>,
    id: Option<&'a str>,
    full_url: Option<&'a str>,
    value: &'a Value,
}

impl OrderContext {
    /// Build the engine's view of the request for `hook` (the service's hook; the caller has
    /// checked it equals `req.hook`).
    ///
    /// - order-select: the orders named in `context.selections` ("MedicationRequest/id";
    ///   a MedicationOrder with that id matches too, and the other way round). Without
    ///   `selections` every draft medication order is in scope.
    /// - order-sign: every MedicationRequest/MedicationOrder of `context.draftOrders`.
    /// - medication-prescribe (1.0): `context.medications`, an array of resources or a Bundle.
    /// - patient-view: no orders (the context has no draft orders; `encounterId`, when sent,
    ///   must be a string).
    ///
    /// Medications inside the drafts go to `draft_medications`; in-scope drafts that fail to
    /// parse go to `unreadable_drafts`.
    pub fn from_request(req: &HookRequest, hook: Hook) -> Result<OrderContext, RequestError> {
        let patient_id = req.patient_id()?.to_string();
        let user_id = match req.context.get("userId") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                return Err(RequestError::Invalid(
                    "context.userId must be a string".into(),
                ))
            }
        };
        let (field, selections) = match hook {
            Hook::OrderSelect => (Some("draftOrders"), selections(req)?),
            Hook::OrderSign => (Some("draftOrders"), None),
            Hook::MedicationPrescribe => (Some("medications"), None),
            // No draft orders on patient-view, whatever else the context holds.
            Hook::PatientView => {
                if !matches!(
                    req.context.get("encounterId"),
                    None | Some(Value::Null) | Some(Value::String(_))
                ) {
                    return Err(RequestError::Invalid(
                        "context.encounterId must be a string".into(),
                    ));
                }
                (None, None)
            }
        };
        let resources = match field.and_then(|f| req.context.get(f).map(|v| (f, v))) {
            None | Some((_, Value::Null)) => Vec::new(),
            Some((field, v)) => context_resources(v).ok_or_else(|| {
                RequestError::Invalid(format!(
                    "context.{field} must be a Bundle or an array of resources"
                ))
            })?,
        };
        let mut ctx = OrderContext {
            hook,
            patient_id,
            user_id,
            orders: Vec::new(),
            draft_medications: Vec::new(),
            unreadable_drafts: Vec::new(),
            draft_immunizations: Vec::new(),
        };
        for r in resources {
            match r.resource_type {
                Some(t) if ORDER_TYPES.contains(&t) => {
                    if let Some(sel) = &selections {
                        if !r.id.is_some_and(|id| sel.iter().any(|s| s == id)) {
                            continue;
                        }
                    }
                    match parse_typed(r.value) {
                        Ok(Resource::MedicationRequest(request)) => ctx.orders.push(DraftOrder {
                            reference: reference_of(&r, t),
                            request: *request,
                            raw: r.value.clone(),
                        }),
                        Ok(_) => {}
                        Err(e) => ctx.unreadable_drafts.push(e),
                    }
                }
                Some("Medication") => match parse_typed(r.value) {
                    Ok(Resource::Medication(m)) => ctx.draft_medications.push(m),
                    Ok(_) => {}
                    Err(e) => ctx.unreadable_drafts.push(e),
                },
                Some("Immunization") => match parse_typed(r.value) {
                    Ok(Resource::Immunization(m)) => ctx.draft_immunizations.push(*m),
                    Ok(_) => {}
                    Err(e) => ctx.unreadable_drafts.push(e),
                },
                Some(_) => {}
                None => ctx.unreadable_drafts.push(ParseFailure {
                    resource_type: None,
                    reason: format!(
                        "a resource in context.{} has no resourceType",
                        field.unwrap_or("draftOrders")
                    ),
                }),
            }
        }
        Ok(ctx)
    }
}

/// The ids named by `context.selections` whose type is a medication order. `None` when the
/// field is absent.
fn selections(req: &HookRequest) -> Result<Option<Vec<String>>, RequestError> {
    let invalid = || RequestError::Invalid("context.selections must be an array of strings".into());
    let items = match req.context.get("selections") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items,
        // A single reference where an array belongs: the same tolerance as for FHIR arrays.
        Some(v @ Value::String(_)) => std::slice::from_ref(v),
        Some(_) => return Err(invalid()),
    };
    let mut ids = Vec::new();
    for item in items {
        let s = item.as_str().ok_or_else(invalid)?;
        let mut parts = s.trim_end_matches('/').rsplit('/');
        let (id, rtype) = (parts.next(), parts.next());
        if let (Some(id), Some(rtype)) = (id, rtype) {
            if ORDER_TYPES.contains(&rtype) && !id.is_empty() {
                ids.push(id.to_string());
            }
        }
    }
    Ok(Some(ids))
}

/// The resources of a draftOrders/medications value: a Bundle (entry may be one object), an
/// array of resources, or a single resource. `None` for anything else.
fn context_resources(v: &Value) -> Option<Vec<ContextResource<'_>>> {
    // A value that is not an object has no resourceType: it is reported as unreadable.
    fn entry<'a>(value: &'a Value, full_url: Option<&'a str>) -> ContextResource<'a> {
        ContextResource {
            resource_type: value.get("resourceType").and_then(Value::as_str),
            id: value.get("id").and_then(Value::as_str),
            full_url,
            value,
        }
    }
    match v {
        Value::Object(o) if o.get("resourceType").and_then(Value::as_str) == Some("Bundle") => {
            let entries: Vec<&Value> = match o.get("entry") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(a)) => a.iter().collect(),
                Some(one @ Value::Object(_)) => vec![one],
                Some(_) => return None,
            };
            let mut out = Vec::new();
            for e in entries {
                let full_url = e.get("fullUrl").and_then(Value::as_str);
                match e.get("resource") {
                    Some(r) => out.push(entry(r, full_url)),
                    None => continue,
                }
            }
            Some(out)
        }
        Value::Object(_) => Some(vec![entry(v, None)]),
        Value::Array(a) => Some(a.iter().map(|r| entry(r, None)).collect()),
        _ => None,
    }
}

fn parse_typed(value: &Value) -> Result<Resource, ParseFailure> {
    let raw = serde_json::value::to_raw_value(value).map_err(|e| ParseFailure {
        resource_type: None,
        reason: redact_quoted(&e.to_string()),
    })?;
    parse_resource(&raw)
}

fn reference_of(r: &ContextResource<'_>, resource_type: &str) -> String {
    match (r.id, r.full_url) {
        (Some(id), _) => format!("{resource_type}/{id}"),
        (None, Some(url)) => url.to_string(),
        (None, None) => resource_type.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(hook: &str, context: Value) -> HookRequest {
        let body = serde_json::json!({"hook": hook, "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea", "context": context});
        HookRequest::parse(body.to_string().as_bytes()).expect("valid request")
    }

    fn med_request(id: &str, text: &str) -> Value {
        serde_json::json!({"resourceType": "MedicationRequest", "id": id, "status": "draft",
            "intent": "order", "category": {"text": "outpatient"},
            "medicationCodeableConcept": {"text": text}})
    }

    #[test]
    fn order_select_keeps_only_selected_orders_and_matches_medication_order() {
        let dstu2 = serde_json::json!({"resourceType": "MedicationOrder", "id": "order-123",
            "patient": {"reference": "Patient/p"}, "dateWritten": "2024-01-02",
            "medicationCodeableConcept": {"text": "tofacitinib 5 MG Oral Tablet"}});
        let req = request(
            "order-select",
            serde_json::json!({"patientId": "p", "userId": "Practitioner/u",
                "selections": ["MedicationRequest/order-123"],
                "draftOrders": {"resourceType": "Bundle", "entry": [
                    {"resource": med_request("other", "aspirin")},
                    {"resource": dstu2}]}}),
        );
        let ctx = OrderContext::from_request(&req, Hook::OrderSelect).unwrap();
        assert_eq!(ctx.orders.len(), 1);
        assert_eq!(ctx.orders[0].reference, "MedicationOrder/order-123");
        assert_eq!(ctx.user_id.as_deref(), Some("Practitioner/u"));
        assert!(ctx.orders[0].request.authored_on.is_some());
    }

    #[test]
    fn order_sign_takes_all_orders_medications_and_records_unreadable_ones() {
        let bad = serde_json::json!({"resourceType": "MedicationRequest", "id": "bad",
            "authoredOn": "not a date"});
        let req = request(
            "order-sign",
            serde_json::json!({"patientId": "p", "draftOrders": {"resourceType": "Bundle",
                "entry": [{"resource": med_request("a", "x")}, {"resource": med_request("b", "y")},
                  {"resource": {"resourceType": "Medication", "id": "m1"}},
                  {"resource": {"resourceType": "ServiceRequest", "id": "s1"}},
                  {"resource": "not a resource"},
                  {"resource": bad}]}}),
        );
        let ctx = OrderContext::from_request(&req, Hook::OrderSign).unwrap();
        assert_eq!(ctx.orders.len(), 2);
        assert_eq!(ctx.draft_medications.len(), 1);
        assert_eq!(ctx.unreadable_drafts.len(), 2);
        assert!(ctx.unreadable_drafts[0].reason.contains("no resourceType"));
        assert!(!ctx.unreadable_drafts[1].reason.contains("not a date"));
    }

    #[test]
    fn medication_prescribe_accepts_array_or_bundle() {
        let as_array = request(
            "medication-prescribe",
            serde_json::json!({"patientId": "p", "medications": [med_request("a", "x")]}),
        );
        let as_bundle = request(
            "medication-prescribe",
            serde_json::json!({"patientId": "p", "medications": {"resourceType": "Bundle",
                "entry": {"resource": med_request("a", "x")}}}),
        );
        for req in [as_array, as_bundle] {
            let ctx = OrderContext::from_request(&req, Hook::MedicationPrescribe).unwrap();
            assert_eq!(ctx.orders.len(), 1);
        }
    }

    #[test]
    fn patient_view_has_no_orders_and_ignores_draft_fields() {
        let req = request(
            "patient-view",
            serde_json::json!({"patientId": "p", "userId": "Practitioner/u", "encounterId": "e1",
                "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": med_request("a", "x")}]}}),
        );
        let ctx = OrderContext::from_request(&req, Hook::PatientView).unwrap();
        assert_eq!(ctx.hook, Hook::PatientView);
        assert_eq!(ctx.patient_id, "p");
        assert_eq!(ctx.user_id.as_deref(), Some("Practitioner/u"));
        assert!(ctx.orders.is_empty() && ctx.unreadable_drafts.is_empty());
        assert_eq!(Hook::parse("patient-view"), Some(Hook::PatientView));
        assert_eq!(Hook::PatientView.as_str(), "patient-view");
        let bad = request(
            "patient-view",
            serde_json::json!({"patientId": "p", "encounterId": 5}),
        );
        let e = OrderContext::from_request(&bad, Hook::PatientView).unwrap_err();
        assert!(e.to_string().contains("encounterId"), "{e}");
    }

    #[test]
    fn firm_fields_are_checked() {
        let parse = |v: Value| HookRequest::parse(v.to_string().as_bytes());
        assert!(matches!(
            parse(serde_json::json!({"hook": "order-sign", "context": {"patientId": "p"}})),
            Err(RequestError::Malformed(_))
        ));
        assert!(parse(
            serde_json::json!({"hook": "order-sign", "hookInstance": "x", "context": []})
        )
        .is_err());
        let e = parse(
            serde_json::json!({"hook": "order-sign", "hookInstance": "x",
            "context": {"patientId": 7}}),
        )
        .unwrap_err();
        assert!(e.to_string().contains("context.patientId"), "{e}");
        let e = parse(
            serde_json::json!({"hook": "order-sign", "hookInstance": "x",
            "fhirAuthorization": {"access_token": "t"}, "context": {"patientId": "p"}}),
        )
        .unwrap_err();
        assert!(e.to_string().contains("fhirServer"), "{e}");
        let req = request(
            "order-select",
            serde_json::json!({"patientId": "p", "selections": {}}),
        );
        assert!(OrderContext::from_request(&req, Hook::OrderSelect).is_err());
        let req = request(
            "order-sign",
            serde_json::json!({"patientId": "p", "draftOrders": 3}),
        );
        assert!(OrderContext::from_request(&req, Hook::OrderSign).is_err());
    }

    #[test]
    fn malformed_messages_do_not_echo_values() {
        let e = HookRequest::parse(
            br#"{"hook": "order-sign", "hookInstance": 5, "context": {"patientId": "Jane Doe"}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 1"), "{e}");
        let e = HookRequest::parse(br#"{"hook": ["Jane Doe"]}"#)
            .unwrap_err()
            .to_string();
        assert!(!e.contains("Jane"), "{e}");
    }
}

#[cfg(test)]
mod fixture_tests {
    //! The protocol fixtures in `fixtures/requests/` build the expected order context.
    use super::*;

    fn context(text: &str) -> OrderContext {
        let req = HookRequest::parse(text.as_bytes()).expect("fixture parses");
        let hook = Hook::parse(&req.hook).expect("known hook");
        OrderContext::from_request(&req, hook).expect("fixture context")
    }

    #[test]
    fn sandbox_fixtures() {
        let r4 = context(include_str!(
            "../../fixtures/requests/sandbox-r4-order-select.json"
        ));
        assert_eq!(r4.orders.len(), 1);
        assert_eq!(r4.orders[0].reference, "MedicationRequest/request-123");
        assert!(r4.orders[0].request.medication_codeable_concept.is_some());
        let dstu2 = context(include_str!(
            "../../fixtures/requests/sandbox-dstu2-order-select.json"
        ));
        assert_eq!(dstu2.orders.len(), 1);
        let dose = dstu2.orders[0].request.dosage_instruction[0].dose();
        assert_eq!(dose.and_then(|q| q.value), Some(1.0));
        let sign = context(include_str!(
            "../../fixtures/requests/sandbox-r4-order-sign.json"
        ));
        assert_eq!(sign.orders.len(), 2);
        let legacy = context(include_str!(
            "../../fixtures/requests/legacy-medication-prescribe.json"
        ));
        assert_eq!(legacy.hook, Hook::MedicationPrescribe);
        assert_eq!(legacy.orders.len(), 1);
    }

    #[test]
    fn epic_fixtures() {
        let select = context(include_str!(
            "../../fixtures/requests/epic-order-select.json"
        ));
        assert_eq!(select.orders.len(), 1);
        assert_eq!(select.orders[0].request.reason_code.len(), 1);
        assert!(select.unreadable_drafts.is_empty());
        let sign = context(include_str!("../../fixtures/requests/epic-order-sign.json"));
        assert_eq!(sign.orders.len(), 2);
        let req = HookRequest::parse(
            include_str!("../../fixtures/requests/epic-order-sign.json").as_bytes(),
        )
        .unwrap();
        assert!(!format!("{req:?}").contains("example-token-not-real"));
    }
}

#[cfg(test)]
mod one_pass_tests {
    //! The one-pass read of the body (prefetch typed as it streams) gives what the tolerant
    //! read (each value raw, parsed on its own) gives, and hands over to it when it must.
    use std::collections::BTreeMap;

    use super::*;
    use crate::fhir::prefetch::{Missing, Prefetched};

    /// Each key's state, printed (resources in full), in key order.
    fn states(prefetch: Prefetch) -> BTreeMap<String, String> {
        prefetch
            .into_iter()
            .map(|(key, state)| (key, format!("{state:?}")))
            .collect()
    }

    fn tolerant(body: &[u8]) -> Prefetch {
        let envelope: Envelope<RawPrefetch> = serde_json::from_slice(body).expect("JSON");
        Prefetch::from_raw(envelope.prefetch)
    }

    fn one_pass(body: &[u8]) -> Option<Prefetch> {
        serde_json::from_slice::<Envelope<Prefetch>>(body)
            .ok()
            .map(|e| e.prefetch)
    }

    #[test]
    fn both_reads_agree_on_every_fixture() {
        let mut read_in_one_pass = Vec::new();
        for dir in ["fixtures/patients", "fixtures/monitoring", "fixtures/perf"] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
            for entry in std::fs::read_dir(&dir).expect("fixture folder") {
                let path = entry.expect("entry").path();
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                if !name.ends_with(".json") || name == "expected.json" {
                    continue;
                }
                let body = std::fs::read(&path).expect("fixture");
                let expected = states(tolerant(&body));
                // Whichever read it took, parse gives the tolerant read's result.
                let parsed = HookRequest::parse(&body).expect("fixture parses");
                assert_eq!(states(parsed.prefetch), expected, "{name}");
                if let Some(fast) = one_pass(&body) {
                    assert_eq!(states(fast), expected, "{name}");
                    read_in_one_pass.push(name);
                }
            }
        }
        assert!(read_in_one_pass.len() > 100, "{read_in_one_pass:?}");
        assert!(read_in_one_pass
            .iter()
            .any(|n| n == "realistic-order-select.json"));
    }

    fn body(prefetch: &str) -> String {
        format!(
            r#"{{"hook":"order-select","hookInstance":"i-1",
                "context":{{"patientId":"p1"}},"prefetch":{prefetch}}}"#
        )
    }

    #[test]
    fn a_bad_resource_is_skipped_not_fatal() {
        let text = body(
            r#"{"conditions":{"resourceType":"Bundle","entry":[
                 {"resource":{"resourceType":"Condition","id":"c1"}},
                 {"resource":{"resourceType":"Condition","id":"c2","onsetDateTime":7}}]},
               "patient":{"resourceType":"Patient","id":"p1","birthDate":true},
               "labs":null,
               "late":{"id":"o1","resourceType":"Observation"},
               "oo":{"resourceType":"OperationOutcome","issue":[]},
               "junk":[1,2]}"#,
        );
        assert!(one_pass(text.as_bytes()).is_none());
        let mut req = HookRequest::parse(text.as_bytes()).expect("parses");
        assert_eq!(req.prefetch_keys(), 6);
        let Prefetched::Data(conditions) = req.prefetch.take("conditions") else {
            panic!("conditions are data")
        };
        let Resource::Bundle(b) = *conditions else {
            panic!("a Bundle")
        };
        // Read entry by entry: one Condition kept, one unreadable.
        assert_eq!(b.entry.len(), 2);
        let record = crate::fhir::PatientRecord::from_prefetch(std::mem::take(&mut req.prefetch));
        assert_eq!(record.observations.len(), 1, "resourceType not first");
        assert_eq!(record.unreadable.len(), 2, "{:?}", record.unreadable);
        assert_eq!(record.unavailable, ["oo"]);
        assert!(matches!(
            req.prefetch.take("labs"),
            Prefetched::Missing(Missing::Absent)
        ));
        // The one-pass read, when it can, types everything the same way.
        let good = body(
            r#"{"conditions":{"resourceType":"Bundle","entry":[
                 {"resource":{"resourceType":"Condition","id":"c1"}}]},"labs":null}"#,
        );
        let fast = one_pass(good.as_bytes()).expect("one pass");
        assert!(matches!(fast.clone().take("labs"), Prefetched::NoData));
        assert_eq!(states(fast), states(tolerant(good.as_bytes())));
    }

    #[test]
    fn a_malformed_body_gets_the_tolerant_reads_error() {
        let e = HookRequest::parse(body(r#"{"x": {"resourceType": "Patient",}}"#).as_bytes())
            .unwrap_err();
        assert!(matches!(e, RequestError::Malformed(_)), "{e}");
        assert!(e.to_string().contains("line"), "{e}");
    }
}
