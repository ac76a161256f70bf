//! Typed configuration (TOML); every key optional with a safe default. See README
//! "Configuration" for the file format; every key can also be set from the environment
//! ([`env`], docs/operations.md).

pub mod env;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerSettings,
    pub auth: AuthSettings,
    pub fhir: FhirSettings,
    pub store: StoreSettings,
    pub knowledge: KnowledgeSettings,
    pub limits: LimitSettings,
    pub proxy: ProxySettings,
    pub metrics: MetricsSettings,
    /// Per-service settings by service id (`[services."jak-sle-order-sign"] mode = "silent"`).
    pub services: BTreeMap<String, ServiceSettings>,
}

/// How a service takes part (docs/governance.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceMode {
    /// Cards are returned (the default).
    #[default]
    Live,
    /// Evaluated and audited as usual, but answered with no cards (shadow mode).
    Silent,
    /// Absent from discovery; its endpoints answer 404.
    Off,
}

impl ServiceMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceMode::Live => "live",
            ServiceMode::Silent => "silent",
            ServiceMode::Off => "off",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceSettings {
    pub mode: ServiceMode,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    /// Public base URL (scheme, host, optional path prefix) used to check the JWT `aud`
    /// behind a proxy. Default: derived from the request.
    pub public_url: Option<String>,
    pub max_body_bytes: usize,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            max_body_bytes: 5_000_000,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    pub required: bool,
    pub issuers: Vec<IssuerSettings>,
    /// Allowed clock skew for `exp`/`iat`, seconds.
    pub leeway_seconds: u64,
    /// Longest token lifetime accepted, seconds: `exp - iat` and `exp - now` may not exceed
    /// it (plus `leeway_seconds`). Also sizes the replay cache (see docs/trust.md).
    pub max_token_lifetime_seconds: u64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            required: true,
            issuers: vec![IssuerSettings {
                iss: "https://sandbox.cds-hooks.org".into(),
                jwks_file: Some(PathBuf::from("hooks/keys/sandbox-jwks.json")),
                jwks_url: None,
                jku: vec!["https://sandbox.cds-hooks.org/.well-known/jwks.json".into()],
            }],
            leeway_seconds: 60,
            max_token_lifetime_seconds: 900,
        }
    }
}

/// A trusted CDS client.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerSettings {
    pub iss: String,
    /// A JWKS file (a path under hooks/ is also found in the embedded knowledge).
    #[serde(default)]
    pub jwks_file: Option<PathBuf>,
    /// A JWKS URL, fetched and cached, refreshed on an unknown `kid`.
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// `jku` header values accepted for this issuer (the header is otherwise ignored).
    #[serde(default)]
    pub jku: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct FhirSettings {
    /// Patterns for `fhirServer`: "https://fhir.example.org/*", "http://127.0.0.1:*".
    /// Empty: no fallback fetch at all (prefetch only).
    pub allowed_servers: Vec<String>,
    /// Timeout of one FHIR request, milliseconds.
    pub timeout_ms: u64,
    /// Bound on the whole gather (all queries and pages), milliseconds.
    pub budget_ms: u64,
    /// Most `next` pages followed per query.
    pub max_pages: usize,
}

impl Default for FhirSettings {
    fn default() -> Self {
        FhirSettings {
            allowed_servers: Vec::new(),
            timeout_ms: 1500,
            budget_ms: 3000,
            max_pages: 10,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSettings {
    /// "sqlite://data/jak-sle-cds.db" or "postgres://user@host/db".
    pub url: String,
    /// Salt for the patient-id hash in audit records. Default: a per-store random salt kept
    /// in the database.
    pub audit_salt: Option<String>,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            url: "sqlite://data/jak-sle-cds.db".into(),
            audit_salt: None,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct KnowledgeSettings {
    /// A directory replacing the embedded hooks/ files.
    pub dir: Option<PathBuf>,
    /// Dose profile: "trial" (default) or "us-label".
    pub profile: Option<String>,
}

/// The Prometheus metrics listener (docs/operations.md).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    /// Address of the `/metrics` listener, e.g. "0.0.0.0:9464". Default: no metrics
    /// listener. Never the API listener.
    pub listen: Option<SocketAddr>,
}

/// Bounds on what one call may make the service do (issue 9).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitSettings {
    /// Most in-scope draft orders evaluated in one hook call; a call with more is refused
    /// with 400.
    pub max_orders_per_call: usize,
    /// Deadline on reading a whole request body, milliseconds; 408 when it passes.
    pub body_timeout_ms: u64,
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            max_orders_per_call: 50,
            body_timeout_ms: 10_000,
        }
    }
}

/// Reverse proxies whose forwarded headers (`Forwarded`, `X-Forwarded-Host`,
/// `X-Forwarded-Proto`) are believed when `server.public_url` is not set.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProxySettings {
    /// Peer addresses of trusted proxies: IP addresses or CIDR networks ("10.0.0.0/8").
    pub trusted: Vec<String>,
}

impl ProxySettings {
    /// The trusted networks (an address is a network of one).
    pub fn networks(&self) -> Result<Vec<ipnet::IpNet>, String> {
        self.trusted
            .iter()
            .map(|t| {
                let t = t.trim();
                t.parse::<ipnet::IpNet>()
                    .or_else(|_| t.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| format!("proxy.trusted: {t:?} is not an IP address or network"))
            })
            .collect()
    }
}

/// Why a configuration file could not be used. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {file}: cannot be read: {reason}")]
    Read { file: String, reason: String },
    #[error("config file {file}: {reason}")]
    Invalid { file: String, reason: String },
    /// A `JAK_SLE_CDS__…` variable is unusable, or the configuration it makes is invalid.
    #[error("configuration from the environment: {0}")]
    Environment(String),
}

/// The effective configuration and the environment variables that went into it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub overrides: Vec<env::Override>,
}

impl Loaded {
    /// The effective configuration as TOML, secrets masked (`check-config`).
    pub fn masked_toml(&self) -> Result<String, ConfigError> {
        let tree = toml::Table::try_from(&self.config)
            .map_err(|e| ConfigError::Environment(format!("cannot print: {e}")))?;
        Ok(env::masked(tree, &self.overrides))
    }
}

impl Config {
    /// Parse a TOML text; errors name the key.
    pub fn from_toml(text: &str) -> Result<Config, toml::de::Error> {
        toml::from_str(text)
    }

    /// Read, parse and check a TOML file. Errors name the file, and the key (with its line
    /// and column) when the content is wrong.
    pub fn load(path: &std::path::Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            file: file.clone(),
            reason: e.to_string(),
        })?;
        let config = Config::from_toml(&text).map_err(|e| ConfigError::Invalid {
            file: file.clone(),
            reason: e.to_string().trim_end().to_string(),
        })?;
        config
            .check()
            .map_err(|reason| ConfigError::Invalid { file, reason })?;
        Ok(config)
    }

    /// The configuration of the file at `path` (or the defaults) with the process's
    /// `JAK_SLE_CDS__…` variables over it, checked.
    pub fn load_from_environment(path: Option<&Path>) -> Result<Loaded, ConfigError> {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
        Config::load_with_env(path, vars)
    }

    /// [`Config::load_from_environment`] with the variables given.
    pub fn load_with_env(
        path: Option<&Path>,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Loaded, ConfigError> {
        let from_file = match path {
            Some(p) => Config::load(p)?,
            None => Config::default(),
        };
        let defaults = toml::Table::try_from(Config::default()).unwrap_or_default();
        let overrides = env::overrides(vars, &defaults).map_err(ConfigError::Environment)?;
        if overrides.is_empty() {
            return Ok(Loaded {
                config: from_file,
                overrides,
            });
        }
        // Over the file as written (not its defaults), so that absent keys keep serde's.
        let mut tree = match path {
            Some(p) => std::fs::read_to_string(p)
                .ok()
                .and_then(|t| t.parse::<toml::Table>().ok())
                .unwrap_or_default(),
            None => toml::Table::new(),
        };
        env::apply(&mut tree, &overrides).map_err(ConfigError::Environment)?;
        let names: Vec<&str> = overrides.iter().map(|o| o.var.as_str()).collect();
        let named = |reason: String| {
            ConfigError::Environment(format!("{reason} (variables: {})", names.join(", ")))
        };
        let config: Config = toml::Value::Table(tree)
            .try_into()
            .map_err(|e: toml::de::Error| named(e.to_string().trim_end().to_string()))?;
        config.check().map_err(named)?;
        Ok(Loaded { config, overrides })
    }

    /// Checks serde cannot express: values that parse but cannot work.
    pub fn check(&self) -> Result<(), String> {
        if self.server.max_body_bytes == 0 {
            return Err("server.max_body_bytes: must be greater than 0".into());
        }
        if let Some(public) = &self.server.public_url {
            let parsed = url::Url::parse(public)
                .map_err(|e| format!("server.public_url: not a URL ({e})"))?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
                return Err("server.public_url: must be an http(s) URL with a host".into());
            }
            if parsed.query().is_some() || parsed.fragment().is_some() {
                return Err("server.public_url: must not have a query or fragment".into());
            }
        }
        for (i, issuer) in self.auth.issuers.iter().enumerate() {
            if issuer.iss.is_empty() {
                return Err(format!("auth.issuers[{i}].iss: must not be empty"));
            }
            if issuer.jwks_file.is_none() && issuer.jwks_url.is_none() && issuer.jku.is_empty() {
                return Err(format!(
                    "auth.issuers[{i}]: needs jwks_file, jwks_url or jku (issuer {})",
                    issuer.iss
                ));
            }
        }
        if self.auth.max_token_lifetime_seconds == 0 {
            return Err("auth.max_token_lifetime_seconds: must be greater than 0".into());
        }
        if self.limits.max_orders_per_call == 0 || self.limits.body_timeout_ms == 0 {
            return Err(
                "limits.max_orders_per_call and limits.body_timeout_ms: must be greater than 0"
                    .into(),
            );
        }
        self.proxy.networks()?;
        if self.fhir.timeout_ms == 0 || self.fhir.budget_ms == 0 {
            return Err("fhir.timeout_ms and fhir.budget_ms: must be greater than 0".into());
        }
        if let Some(metrics) = self.metrics.listen {
            if metrics.port() != 0 && metrics.port() == self.server.listen.port() {
                return Err("metrics.listen: must not be the API port (server.listen)".into());
            }
        }
        crate::fhir::allow::AllowList::parse(&self.fhir.allowed_servers)
            .map_err(|e| format!("fhir.allowed_servers: {e}"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_safe_defaults() {
        let c = Config::from_toml("").unwrap();
        assert!(c.auth.required);
        assert!(c.fhir.allowed_servers.is_empty());
        assert_eq!(c.server.max_body_bytes, 5_000_000);
    }

    #[test]
    fn load_names_the_file_and_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "[server]\nmax_body_bytes = \"big\"\n").unwrap();
        let e = Config::load(&path).unwrap_err().to_string();
        assert!(e.contains("bad.toml"), "{e}");
        assert!(e.contains("max_body_bytes"), "{e}");
    }

    #[test]
    fn load_reads_a_full_file_and_checks_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ok.toml");
        std::fs::write(
            &path,
            r#"
[server]
listen = "0.0.0.0:9000"
public_url = "https://cds.example.org/jak"
max_body_bytes = 1000

[auth]
required = false

[[auth.issuers]]
iss = "https://ehr.example.org"
jwks_url = "https://ehr.example.org/jwks.json"

[fhir]
allowed_servers = ["https://fhir.example.org/*"]
timeout_ms = 800

[store]
url = "sqlite://tmp/x.db"

[knowledge]
profile = "us-label"
"#,
        )
        .unwrap();
        let c = Config::load(&path).unwrap();
        assert_eq!(c.server.listen.port(), 9000);
        assert!(!c.auth.required);
        assert_eq!(c.auth.issuers.len(), 1);
        assert_eq!(c.fhir.timeout_ms, 800);
        assert_eq!(c.fhir.budget_ms, 3000);

        std::fs::write(&path, "[server]\npublic_url = \"not a url\"\n").unwrap();
        let e = Config::load(&path).unwrap_err().to_string();
        assert!(e.contains("server.public_url"), "{e}");
        let missing = Config::load(&dir.path().join("absent.toml")).unwrap_err();
        assert!(missing.to_string().contains("absent.toml"));
    }

    #[test]
    fn limits_and_proxies_are_read_and_checked() {
        let c = Config::from_toml("").unwrap();
        assert_eq!(c.limits.max_orders_per_call, 50);
        assert_eq!(c.auth.max_token_lifetime_seconds, 900);
        assert!(c.proxy.trusted.is_empty());
        let c = Config::from_toml(
            "[proxy]\ntrusted = [\"10.0.0.0/8\", \"::1\"]\n[limits]\nbody_timeout_ms = 500",
        )
        .unwrap();
        assert!(c.check().is_ok());
        assert_eq!(c.proxy.networks().unwrap().len(), 2);
        assert_eq!(c.limits.body_timeout_ms, 500);
        let bad = Config::from_toml("[proxy]\ntrusted = [\"proxy.internal\"]").unwrap();
        assert!(bad.check().unwrap_err().starts_with("proxy.trusted:"));
    }

    #[test]
    fn service_modes_default_to_live_and_reject_unknown_values() {
        let c = Config::from_toml(
            "[services.\"jak-sle-order-sign\"]\nmode = \"silent\"\n[services.x]\nmode = \"off\"",
        )
        .unwrap();
        assert_eq!(c.services["jak-sle-order-sign"].mode, ServiceMode::Silent);
        assert_eq!(c.services["x"].mode, ServiceMode::Off);
        assert_eq!(ServiceSettings::default().mode, ServiceMode::Live);
        let e = Config::from_toml("[services.x]\nmode = \"shadow\"").unwrap_err();
        assert!(e.to_string().contains("shadow"), "{e}");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert!(Config::from_toml("[server]\nlisten_on = \"x\"").is_err());
    }

    #[test]
    fn an_unusable_allowed_server_pattern_stops_start_up() {
        let c =
            Config::from_toml("[fhir]\nallowed_servers = [\"ftp://fhir.example.org/*\"]").unwrap();
        let e = c.check().unwrap_err();
        assert!(e.starts_with("fhir.allowed_servers:"), "{e}");
        let ok = Config::from_toml("[fhir]\nallowed_servers = [\"https://fhir.example.org/*\"]")
            .unwrap();
        assert!(ok.check().is_ok());
    }
}
