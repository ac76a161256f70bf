//! Trusting CDS clients: JWT bearer verification (CDS Hooks 2.0 "Trusting CDS Clients").
//!
//! A call is accepted when its `Authorization: Bearer <JWT>` is signed (ES256, ES384, RS256 or
//! RS384 — never `none` or HMAC) by a key of a configured issuer, names that issuer in `iss`
//! and the URL called in `aud`, is within its lifetime (`exp` in the future, `iat` not in the
//! future, both with the configured leeway), lives no longer than
//! `auth.max_token_lifetime_seconds` (`exp - iat` and `exp - now`, plus the leeway) and
//! carries a `jti` not seen before. The reason of a refusal goes to the log (never the
//! token); the client sees only 401.

mod jwks;
mod refusal;
mod replay;
mod replay_shared;

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::dangerous::insecure_decode_claims;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{decode, decode_header};
use serde::Deserialize;

use crate::config::AuthSettings;
use jwks::{Fetcher, IssuerKeys, ALLOWED_ALGORITHMS};
use replay::{MemoryReplayCache, ReplayCache, ReplayRefusal};
use replay_shared::SharedReplayCache;

pub use replay::ReplayCounters;

/// Longest token considered (a real one is well under 2 KB).
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Verified tokens per second the replay cache is sized for: each token id is kept at most
/// the max lifetime plus twice the leeway, so at the defaults (900 + 120 s) about 1 M entries
/// (~50 MB at most), above the service's measured authenticated throughput of 2,800 calls/s
/// on 2 cores only for bursts; beyond it the cache evicts (see `replay`).
pub const REPLAY_RATE_PER_SECOND: usize = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum AuthSetupError {
    #[error("auth configuration: {0}")]
    Invalid(String),
}

/// Why a token was refused. Logged; the client only sees 401.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    Rejected(String),
}

/// The verified claims the service uses.
#[derive(Debug, Clone, Default)]
pub struct Claims {
    pub iss: String,
    pub jti: Option<String>,
}

/// Tuning knobs that are not part of the configuration file.
#[derive(Debug, Clone)]
pub struct VerifierOptions {
    /// Least time between two fetches of the same key-set URL (refresh on unknown `kid`).
    pub refresh_interval: Duration,
    /// Most token ids remembered at once by the replay cache; `None`: sized from the
    /// longest token lifetime, [`REPLAY_RATE_PER_SECOND`] × (max lifetime + 2 × leeway).
    pub replay_capacity: Option<usize>,
    /// Timeout of one key-set fetch.
    pub fetch_timeout: Duration,
    /// Directory relative `jwks_file` paths are resolved against (default: the working
    /// directory); `hooks/...` paths missing there come from the embedded files.
    pub base_dir: PathBuf,
    /// The store's jti table shared by replicas (PostgreSQL); `None`: the in-memory cache.
    pub replay_table: Option<crate::store::ReplayTable>,
}

impl Default for VerifierOptions {
    fn default() -> Self {
        VerifierOptions {
            refresh_interval: Duration::from_secs(30),
            replay_capacity: None,
            fetch_timeout: Duration::from_secs(3),
            base_dir: PathBuf::from("."),
            replay_table: None,
        }
    }
}

/// Verifies `Authorization: Bearer <JWT>` headers against the configured issuers.
/// Cheap to clone (shared state).
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    required: bool,
    leeway: i64,
    /// `auth.max_token_lifetime_seconds`.
    max_lifetime: i64,
    issuers: HashMap<String, IssuerKeys>,
    replay: ReplayCache,
    fetcher: Fetcher,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut issuers: Vec<&String> = self.inner.issuers.keys().collect();
        issuers.sort();
        f.debug_struct("Verifier")
            .field("required", &self.inner.required)
            .field("issuers", &issuers)
            .finish_non_exhaustive()
    }
}

/// The claims read from a token (unknown claims are ignored).
#[derive(Deserialize)]
struct TokenClaims {
    iss: String,
    aud: Audience,
    exp: f64,
    iat: Option<f64>,
    jti: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct IssuerOnly {
    iss: String,
}

impl Verifier {
    /// Build the verifier at start-up: reads JWKS files, fetches `jwks_url`s (a failed fetch
    /// is logged and retried on demand). Logs a warning when authentication is switched off.
    pub async fn from_settings(settings: &AuthSettings) -> Result<Verifier, AuthSetupError> {
        Verifier::with_options(settings, VerifierOptions::default()).await
    }

    pub async fn with_options(
        settings: &AuthSettings,
        options: VerifierOptions,
    ) -> Result<Verifier, AuthSetupError> {
        let invalid = AuthSetupError::Invalid;
        if !settings.required {
            tracing::warn!(
                "auth.required = false: calls are NOT authenticated; use this for local \
                 development only"
            );
        } else if settings.issuers.is_empty() {
            return Err(invalid(
                "auth.required is true but no issuer is configured".into(),
            ));
        }
        let leeway = i64::try_from(settings.leeway_seconds)
            .ok()
            .filter(|l| *l <= 86_400)
            .ok_or_else(|| invalid("leeway_seconds is too large".into()))?;
        let max_lifetime = i64::try_from(settings.max_token_lifetime_seconds)
            .ok()
            .filter(|l| (1..=86_400).contains(l))
            .ok_or_else(|| {
                invalid("max_token_lifetime_seconds must be between 1 and 86400".into())
            })?;
        let replay_capacity = options.replay_capacity.unwrap_or_else(|| {
            let window = usize::try_from(max_lifetime + 2 * leeway).unwrap_or(usize::MAX);
            REPLAY_RATE_PER_SECOND.saturating_mul(window)
        });
        let mut issuers = HashMap::new();
        for issuer in &settings.issuers {
            let keys =
                IssuerKeys::from_settings(issuer, settings.leeway_seconds, &options.base_dir)
                    .map_err(invalid)?;
            if issuers.insert(issuer.iss.clone(), keys).is_some() {
                return Err(invalid(format!("issuer {:?} is listed twice", issuer.iss)));
            }
        }
        let client = reqwest::Client::builder()
            .timeout(options.fetch_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| invalid(format!("HTTP client: {e}")))?;
        let fetcher = Fetcher {
            client,
            refresh_interval: options.refresh_interval,
        };
        if settings.required {
            for keys in issuers.values() {
                keys.fetch_all(&fetcher).await;
            }
        }
        Ok(Verifier {
            inner: Arc::new(Inner {
                required: settings.required,
                leeway,
                max_lifetime,
                issuers,
                replay: match options.replay_table {
                    Some(table) => ReplayCache::Shared(SharedReplayCache::new(table)),
                    None => ReplayCache::Memory(MemoryReplayCache::new(replay_capacity)),
                },
                fetcher,
            }),
        })
    }

    pub fn required(&self) -> bool {
        self.inner.required
    }

    /// Readiness of each issuer's keys (issuer, Ok or why not), in issuer order; empty when
    /// authentication is off.
    pub async fn key_sets_ready(&self) -> Vec<(String, Result<(), String>)> {
        if !self.inner.required {
            return Vec::new();
        }
        let mut issuers: Vec<(&String, &IssuerKeys)> = self.inner.issuers.iter().collect();
        issuers.sort_by_key(|(iss, _)| *iss);
        let mut out = Vec::with_capacity(issuers.len());
        for (iss, keys) in issuers {
            out.push((iss.clone(), keys.ready(&self.inner.fetcher).await));
        }
        out
    }

    /// What the replay cache has done since start (accepted, replayed, evicted when full).
    pub fn replay_counters(&self) -> ReplayCounters {
        self.inner.replay.counters()
    }

    /// Verify the header value for a call to `audience_url` (the exact URL called, built from
    /// `server.public_url` behind a proxy). When authentication is not required every call is
    /// accepted with empty claims. A refusal is logged here with its reason.
    pub async fn verify(
        &self,
        authorization: Option<&str>,
        audience_url: &str,
    ) -> Result<Claims, AuthError> {
        if !self.inner.required {
            return Ok(Claims::default());
        }
        let now = chrono::Utc::now().timestamp();
        match self.check(authorization, audience_url, now).await {
            Ok(claims) => Ok(claims),
            Err(reason) => {
                crate::server::metrics::auth_failure(refusal::refusal_code(&reason));
                tracing::warn!(reason = %reason, "bearer token rejected");
                Err(AuthError::Rejected(reason.into_owned()))
            }
        }
    }

    async fn check(
        &self,
        authorization: Option<&str>,
        audience_url: &str,
        now: i64,
    ) -> Result<Claims, Cow<'static, str>> {
        let token = bearer_token(authorization)?;
        let header = decode_header(token).map_err(|_| "malformed token header")?;
        if !ALLOWED_ALGORITHMS.contains(&header.alg) {
            return Err(format!("algorithm {:?} not allowed", header.alg).into());
        }
        if header.crit.as_ref().is_some_and(|c| !c.is_empty()) {
            return Err("token header has crit parameters".into());
        }
        let kid = header.kid.as_deref().ok_or("token header has no kid")?;
        // Only to choose the issuer's keys: nothing read here is trusted until `decode` below
        // has checked the signature and `iss` again.
        let peek: IssuerOnly =
            insecure_decode_claims(token).map_err(|_| "malformed token payload")?;
        let issuer = self
            .inner
            .issuers
            .get(&peek.iss)
            .ok_or_else(|| format!("issuer {:?} not trusted", clip(&peek.iss)))?;
        let jku = header.jku.as_deref().filter(|u| issuer.allows_jku(u));
        if header.jku.is_some() && jku.is_none() {
            tracing::debug!("jku header not allow-listed for the issuer: ignored");
        }
        let key = issuer
            .key(kid, jku, &self.inner.fetcher)
            .await
            .ok_or("unknown kid for the issuer")?;
        let data = decode::<TokenClaims>(token, &key.decoding, &key.validation)
            .map_err(|e| refusal_of(e.kind()))?;
        let claims = data.claims;
        if !audience_matches(&claims.aud, audience_url) {
            return Err(format!(
                "aud is not the URL called ({:?}; called {:?})",
                clip_audience(&claims.aud),
                clip(audience_url)
            )
            .into());
        }
        let iat = claims.iat.ok_or("no iat claim")?;
        if iat > (now + self.inner.leeway) as f64 {
            return Err("iat is in the future".into());
        }
        // A long-lived token would be remembered (and replayable) for as long: refused.
        let longest = (self.inner.max_lifetime + self.inner.leeway) as f64;
        if claims.exp - iat > longest || claims.exp - now as f64 > longest {
            return Err(format!(
                "token lifetime exceeds auth.max_token_lifetime_seconds ({} s)",
                self.inner.max_lifetime
            )
            .into());
        }
        let jti = claims.jti.filter(|j| !j.is_empty()).ok_or("no jti claim")?;
        // Remember the id while the token could still be accepted (exp + leeway).
        let until = (claims.exp as i64).saturating_add(self.inner.leeway);
        match self
            .inner
            .replay
            .check_and_insert(&claims.iss, &jti, until, now)
            .await
        {
            Ok(()) => Ok(Claims {
                iss: claims.iss,
                jti: Some(jti),
            }),
            Err(ReplayRefusal::Replayed) => Err("jti replayed".into()),
            Err(ReplayRefusal::Unavailable) => Err("replay cache unavailable".into()),
        }
    }
}

fn bearer_token(authorization: Option<&str>) -> Result<&str, &'static str> {
    let value = authorization.ok_or("no Authorization header")?.trim();
    let (scheme, token) = value
        .split_once(' ')
        .ok_or("Authorization is not a Bearer token")?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err("Authorization is not a Bearer token");
    }
    let token = token.trim();
    if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
        return Err("bearer token empty or too long");
    }
    Ok(token)
}

fn refusal_of(kind: &ErrorKind) -> Cow<'static, str> {
    match kind {
        ErrorKind::InvalidSignature => "bad signature".into(),
        ErrorKind::ExpiredSignature => "token expired".into(),
        ErrorKind::ImmatureSignature => "nbf is in the future".into(),
        ErrorKind::InvalidIssuer => "iss mismatch".into(),
        ErrorKind::InvalidAlgorithm => "alg does not match the key".into(),
        ErrorKind::MissingRequiredClaim(c) => format!("no {c} claim").into(),
        ErrorKind::Json(_) | ErrorKind::InvalidClaimFormat(_) => "claims malformed".into(),
        _ => "token invalid".into(),
    }
}

/// A client-supplied value shortened for the log (the log escapes it with `{:?}`).
fn clip(s: &str) -> &str {
    match s.char_indices().nth(120) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The token's audience for the log: enough to fix a misconfigured client (scheme, host,
/// path), without a query or fragment, where a client could have put an identifier.
fn clip_audience(aud: &Audience) -> Vec<&str> {
    fn origin_and_path(a: &str) -> &str {
        let end = a.find(['?', '#']).unwrap_or(a.len());
        clip(&a[..end])
    }
    match aud {
        Audience::One(a) => vec![origin_and_path(a)],
        Audience::Many(list) => list.iter().take(5).map(|a| origin_and_path(a)).collect(),
    }
}

fn audience_matches(aud: &Audience, called: &str) -> bool {
    let called = normalise_url(called);
    match aud {
        Audience::One(a) => normalise_url(a) == called,
        Audience::Many(list) => list.iter().any(|a| normalise_url(a) == called),
    }
}

/// Collapse runs of `/` after the scheme's `://` (the sandbox builds service URLs as
/// discovery URL + "/" + id, so a trailing slash in the registered URL yields `//`).
fn normalise_url(url: &str) -> Cow<'_, str> {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, url),
    };
    if !rest.contains("//") {
        return Cow::Borrowed(url);
    }
    let mut out = String::with_capacity(url.len());
    if let Some(s) = scheme {
        out.push_str(s);
        out.push_str("://");
    }
    let mut previous_slash = false;
    for c in rest.chars() {
        if c == '/' && previous_slash {
            continue;
        }
        previous_slash = c == '/';
        out.push(c);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubled_slashes_in_the_path_are_collapsed() {
        assert_eq!(
            normalise_url("https://cds.example.org//cds-services//jak-order-sign"),
            "https://cds.example.org/cds-services/jak-order-sign"
        );
        assert!(matches!(
            normalise_url("https://cds.example.org/cds-services"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn audience_may_be_a_string_or_an_array() {
        let called = "https://x.org/cds-services/a";
        assert!(audience_matches(&Audience::One(called.into()), called));
        assert!(audience_matches(
            &Audience::Many(vec!["https://other".into(), called.into()]),
            called
        ));
        assert!(!audience_matches(
            &Audience::Many(vec!["https://other".into()]),
            called
        ));
    }

    #[test]
    fn only_bearer_authorization_is_read() {
        assert_eq!(bearer_token(Some("Bearer abc")), Ok("abc"));
        assert_eq!(bearer_token(Some("bearer  abc ")), Ok("abc"));
        assert!(bearer_token(Some("Basic abc")).is_err());
        assert!(bearer_token(Some("Bearer ")).is_err());
        assert!(bearer_token(None).is_err());
    }

    #[test]
    fn the_logged_audience_has_no_query_or_fragment() {
        let aud = Audience::Many(vec![
            "https://cds.example.org/cds-services/x?patient=12345".into(),
            "https://cds.example.org/cds-services/y#12345".into(),
        ]);
        assert_eq!(
            clip_audience(&aud),
            vec![
                "https://cds.example.org/cds-services/x",
                "https://cds.example.org/cds-services/y"
            ]
        );
    }
}
