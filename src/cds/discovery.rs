//! The CDS services this server offers, as data (`hooks/services.json`), checked at start-up,
//! and the discovery document (`GET /cds-services`) built from them.
//!
//! A service definition carries an internal `required` list (prefetch keys without which the
//! service answers 412); it is never sent in discovery. Prefetch templates are checked against
//! CDS Hooks 2.0.1: tokens are `{{context.X}}` for a root-level primitive context field of the
//! service's hook, or one of the four user tokens, and no query parameter is repeated (the
//! sandbox merges repeated parameters into one comma-joined value).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::{json, Value};

use super::request::Hook;
use crate::knowledge::{KnowledgeError, KnowledgeFiles};

/// The file, relative to `hooks/`, holding the service definitions.
pub const SERVICES_FILE: &str = "services.json";

/// User-identifier prefetch tokens of CDS Hooks 2.0.1.
const USER_TOKENS: [&str; 4] = [
    "userPractitionerId",
    "userPractitionerRoleId",
    "userPatientId",
    "userRelatedPersonId",
];

/// One CDS service, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceDefinition {
    pub id: String,
    pub hook: Hook,
    pub title: String,
    pub description: String,
    /// Human-friendly preconditions for using the service (optional in discovery).
    pub usage_requirements: Option<String>,
    /// Prefetch key → template.
    pub prefetch: BTreeMap<String, String>,
    /// Prefetch keys without which the service answers 412 (internal, never in discovery).
    pub required: BTreeSet<String>,
}

/// All services, in file order. Built only through [`ServiceCatalog::from_json`], so every
/// instance has passed validation.
#[derive(Debug, Clone)]
pub struct ServiceCatalog {
    services: Vec<ServiceDefinition>,
}

#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error(transparent)]
    File(#[from] KnowledgeError),
    #[error("{SERVICES_FILE}: {0}")]
    Invalid(String),
    #[error("config [services.{0:?}]: no service with this id in {SERVICES_FILE}")]
    UnknownService(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServicesFile {
    #[serde(default, rename = "_comment")]
    _comment: Option<String>,
    services: Vec<RawService>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    id: String,
    hook: String,
    title: String,
    description: String,
    #[serde(default, rename = "usageRequirements")]
    usage_requirements: Option<String>,
    #[serde(default)]
    prefetch: BTreeMap<String, String>,
    #[serde(default)]
    required: BTreeSet<String>,
}

impl ServiceCatalog {
    /// Load `services.json` from the knowledge files (embedded or a directory).
    pub fn load(files: &KnowledgeFiles) -> Result<ServiceCatalog, DiscoveryError> {
        let text = files.read(SERVICES_FILE)?;
        ServiceCatalog::from_json(&text)
    }

    /// Parse and validate the services file text.
    pub fn from_json(text: &str) -> Result<ServiceCatalog, DiscoveryError> {
        let file: ServicesFile =
            serde_json::from_str(text).map_err(|e| DiscoveryError::Invalid(e.to_string()))?;
        if file.services.is_empty() {
            return Err(DiscoveryError::Invalid("no services defined".into()));
        }
        let mut ids = BTreeSet::new();
        let mut services = Vec::with_capacity(file.services.len());
        for raw in file.services {
            let service = validate_service(raw).map_err(DiscoveryError::Invalid)?;
            if !ids.insert(service.id.clone()) {
                return Err(DiscoveryError::Invalid(format!(
                    "service {}: id used twice",
                    service.id
                )));
            }
            services.push(service);
        }
        Ok(ServiceCatalog { services })
    }

    pub fn get(&self, id: &str) -> Option<&ServiceDefinition> {
        self.services.iter().find(|s| s.id == id)
    }

    /// The first service answering `hook` (used by the CLI when no service id is given).
    pub fn for_hook(&self, hook: Hook) -> Option<&ServiceDefinition> {
        self.services.iter().find(|s| s.hook == hook)
    }

    pub fn services(&self) -> &[ServiceDefinition] {
        &self.services
    }

    /// Drop the services for which `off` is true (switched off by configuration).
    pub fn remove(&mut self, off: impl Fn(&ServiceDefinition) -> bool) {
        self.services.retain(|s| !off(s));
    }

    /// The discovery document: `{"services": [...]}` without the internal `required` lists
    /// and without empty elements; each service carries `extension` (the knowledge version).
    pub fn discovery_document(&self, extension: &Value) -> Value {
        let services: Vec<Value> = self
            .services
            .iter()
            .map(|s| {
                let mut entry = json!({
                    "hook": s.hook.as_str(),
                    "id": s.id,
                    "title": s.title,
                    "description": s.description,
                    "extension": extension,
                });
                if !s.prefetch.is_empty() {
                    entry["prefetch"] = json!(s.prefetch);
                }
                if let Some(usage) = &s.usage_requirements {
                    entry["usageRequirements"] = json!(usage);
                }
                entry
            })
            .collect();
        json!({ "services": services })
    }
}

fn validate_service(raw: RawService) -> Result<ServiceDefinition, String> {
    let id = raw.id;
    let valid_id = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid_id {
        return Err(format!(
            "service id {id:?}: must be non-empty and use only letters, digits, '-', '_', '.'"
        ));
    }
    let hook = Hook::parse(&raw.hook)
        .ok_or_else(|| format!("service {id}: unknown hook {:?}", raw.hook))?;
    if raw.title.trim().is_empty() || raw.description.trim().is_empty() {
        return Err(format!(
            "service {id}: title and description must not be empty"
        ));
    }
    for (key, template) in &raw.prefetch {
        if key.is_empty() {
            return Err(format!("service {id}: empty prefetch key"));
        }
        check_template(hook, template)
            .map_err(|reason| format!("service {id}: prefetch {key}: {reason}"))?;
    }
    if let Some(key) = raw.required.iter().find(|k| !raw.prefetch.contains_key(*k)) {
        return Err(format!(
            "service {id}: required key {key:?} is not a prefetch key"
        ));
    }
    if raw
        .usage_requirements
        .as_ref()
        .is_some_and(|u| u.trim().is_empty())
    {
        return Err(format!("service {id}: usageRequirements must not be empty"));
    }
    Ok(ServiceDefinition {
        id,
        hook,
        title: raw.title,
        description: raw.description,
        usage_requirements: raw.usage_requirements,
        prefetch: raw.prefetch,
        required: raw.required,
    })
}

/// Root-level context fields with a primitive value, per hook: the only fields a prefetch
/// token may name.
fn primitive_context_fields(hook: Hook) -> &'static [&'static str] {
    match hook {
        // order-select: selections (array) and draftOrders (Bundle) are not primitive.
        Hook::OrderSelect | Hook::OrderSign => &["userId", "patientId", "encounterId"],
        // CDS Hooks 1.0 medication-prescribe: medications is an array.
        Hook::MedicationPrescribe => &["userId", "patientId", "encounterId"],
        // patient-view: all three are primitive.
        Hook::PatientView => &["userId", "patientId", "encounterId"],
    }
}

/// Check one prefetch template: tokens well formed and allowed, no repeated query parameter.
pub fn check_template(hook: Hook, template: &str) -> Result<(), String> {
    if template.trim().is_empty() {
        return Err("empty template".into());
    }
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| "a token opened with {{ is not closed with }}".to_string())?;
        let token = &after[..end];
        check_token(hook, token)?;
        rest = &after[end + 2..];
    }
    if rest.contains("}}") || template.matches("}}").count() != template.matches("{{").count() {
        return Err("unbalanced }} outside a token".into());
    }
    if let Some((_, query)) = template.split_once('?') {
        let mut seen = BTreeSet::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let name = pair.split_once('=').map_or(pair, |(n, _)| n);
            if !seen.insert(name) {
                return Err(format!(
                    "query parameter {name:?} is repeated (clients may merge it into one OR list)"
                ));
            }
        }
    }
    Ok(())
}

fn check_token(hook: Hook, token: &str) -> Result<(), String> {
    if USER_TOKENS.contains(&token) {
        return Ok(());
    }
    match token.strip_prefix("context.") {
        Some(field) if primitive_context_fields(hook).contains(&field) => Ok(()),
        Some(field) => Err(format!(
            "token {{{{context.{field}}}}} is not a root-level primitive field of {} (allowed: {})",
            hook.as_str(),
            primitive_context_fields(hook).join(", ")
        )),
        None => Err(format!(
            "token {{{{{token}}}}} is neither context.<field> nor a user token ({})",
            USER_TOKENS.join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(template: &str, required: &str) -> String {
        format!(
            r#"{{"services":[{{"id":"s","hook":"order-sign","title":"t","description":"d",
            "prefetch":{{"k":{}}},"required":[{required}]}}]}}"#,
            serde_json::to_string(template).unwrap()
        )
    }

    #[test]
    fn shipped_services_load_and_discovery_hides_required() {
        let catalog = ServiceCatalog::load(&KnowledgeFiles::Embedded).expect("services.json");
        let ids: Vec<&str> = catalog.services().iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "jak-sle-order-select",
                "jak-sle-order-sign",
                "jak-sle-medication-prescribe",
                "jak-sle-monitor"
            ]
        );
        let doc = catalog.discovery_document(&json!({})).to_string();
        assert!(!doc.contains("required"), "{doc}");
        assert!(doc.contains("{{context.patientId}}"));
        assert_eq!(
            catalog.for_hook(Hook::OrderSign).map(|s| s.id.as_str()),
            Some("jak-sle-order-sign")
        );
    }

    #[test]
    fn allowed_tokens_pass() {
        for t in [
            "Patient/{{context.patientId}}",
            "Practitioner/{{userPractitionerId}}",
            "Encounter/{{context.encounterId}}",
            "Observation?patient={{context.patientId}}&code=1,2&_count=5",
        ] {
            check_template(Hook::OrderSelect, t).unwrap_or_else(|e| panic!("{t}: {e}"));
        }
    }

    #[test]
    fn non_primitive_and_unknown_tokens_fail() {
        for t in [
            "MedicationRequest/{{context.selections}}",
            "X?y={{context.draftOrders}}",
            "Patient/{{context.medication.id}}",
            "Patient/{{patientId}}",
            "Patient/{{context.patientId",
            "Patient/context.patientId}}",
        ] {
            assert!(check_template(Hook::OrderSelect, t).is_err(), "{t}");
        }
    }

    #[test]
    fn repeated_query_parameter_fails() {
        let e = check_template(
            Hook::OrderSign,
            "Observation?patient={{context.patientId}}&code=a&code=b",
        )
        .unwrap_err();
        assert!(e.contains("code"), "{e}");
    }

    #[test]
    fn broken_files_are_refused_with_the_service_named() {
        let e = ServiceCatalog::from_json(&file_with("Patient/{{context.draftOrders}}", ""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("service s") && e.contains("prefetch k"), "{e}");
        let e = ServiceCatalog::from_json(&file_with("Patient/{{context.patientId}}", "\"x\""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("required key"), "{e}");
        assert!(ServiceCatalog::from_json(r#"{"services":[]}"#).is_err());
        assert!(ServiceCatalog::from_json("{").is_err());
        let twice = r#"{"services":[
            {"id":"a","hook":"order-sign","title":"t","description":"d"},
            {"id":"a","hook":"order-select","title":"t","description":"d"}]}"#;
        assert!(ServiceCatalog::from_json(twice).is_err());
        let bad_hook =
            r#"{"services":[{"id":"a","hook":"encounter-start","title":"t","description":"d"}]}"#;
        assert!(ServiceCatalog::from_json(bad_hook).is_err());
    }
}
