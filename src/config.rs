//! Typed configuration (TOML); every key optional with a safe default. See README
//! "Configuration" for the file format.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerSettings,
    pub auth: AuthSettings,
    pub fhir: FhirSettings,
    pub store: StoreSettings,
    pub knowledge: KnowledgeSettings,
}

#[derive(Debug, Clone, Deserialize)]
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

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    pub required: bool,
    pub issuers: Vec<IssuerSettings>,
    /// Allowed clock skew for `exp`/`iat`, seconds.
    pub leeway_seconds: u64,
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
        }
    }
}

/// A trusted CDS client.
#[derive(Debug, Clone, Deserialize)]
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

#[derive(Debug, Clone, Deserialize)]
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

#[derive(Debug, Clone, Deserialize)]
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

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KnowledgeSettings {
    /// A directory replacing the embedded hooks/ files.
    pub dir: Option<PathBuf>,
    /// Dose profile: "trial" (default) or "us-label".
    pub profile: Option<String>,
}

impl Config {
    /// Parse a TOML text; errors name the key.
    pub fn from_toml(text: &str) -> Result<Config, toml::de::Error> {
        toml::from_str(text)
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
    fn unknown_keys_are_rejected() {
        assert!(Config::from_toml("[server]\nlisten_on = \"x\"").is_err());
    }
}
