//! The verification keys of one trusted issuer: read from a JWKS file (a `hooks/` path is also
//! found in the embedded knowledge), fetched from its `jwks_url`, or from an allow-listed `jku`.
//! Keys are converted once into ready-to-use verifiers, cached by `kid`, and re-fetched when a
//! token names an unknown `kid` — at most once per refresh interval per URL.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use crate::config::IssuerSettings;
use crate::knowledge::KnowledgeFiles;

/// The only signature algorithms accepted, whatever a token or key set says.
pub(crate) const ALLOWED_ALGORITHMS: [Algorithm; 4] = [
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::RS256,
    Algorithm::RS384,
];

/// Largest JWKS document accepted from the network.
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// One usable public key: the decoding key plus the validation rules bound to it (the
/// algorithms its JWK permits, the issuer, required claims, leeway).
pub(crate) struct VerifyKey {
    pub(crate) decoding: DecodingKey,
    pub(crate) validation: Validation,
}

/// Where a key came from: keys of a URL are replaced when that URL is fetched again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    File,
    Remote(usize),
}

struct Remote {
    url: String,
    /// Fetched only when a token's `jku` header names it (otherwise: the issuer's jwks_url).
    only_on_jku: bool,
    last_attempt: Mutex<Option<Instant>>,
    /// Held during a fetch: requests needing this URL wait for the fetch in flight and then
    /// find its keys, rather than failing or fetching again.
    in_flight: tokio::sync::Mutex<()>,
}

/// Everything needed to fetch key sets.
#[derive(Clone)]
pub(crate) struct Fetcher {
    pub(crate) client: reqwest::Client,
    pub(crate) refresh_interval: Duration,
}

/// The keys of one issuer.
pub(crate) struct IssuerKeys {
    iss: String,
    leeway: u64,
    keys: RwLock<HashMap<String, (Origin, Arc<VerifyKey>)>>,
    remotes: Vec<Remote>,
}

impl IssuerKeys {
    /// Build from configuration: validates URLs and reads the JWKS file (a broken or missing
    /// file is an error); remote sets are fetched by [`IssuerKeys::fetch_all`].
    pub(crate) fn from_settings(
        settings: &IssuerSettings,
        leeway: u64,
        base_dir: &Path,
    ) -> Result<IssuerKeys, String> {
        let iss = &settings.iss;
        if settings.jwks_file.is_none() && settings.jwks_url.is_none() && settings.jku.is_empty() {
            return Err(format!(
                "issuer {iss:?} has no key source (jwks_file, jwks_url or jku)"
            ));
        }
        let mut remotes = Vec::new();
        if let Some(url) = &settings.jwks_url {
            check_key_url(url).map_err(|e| format!("issuer {iss:?} jwks_url: {e}"))?;
            remotes.push(Remote::new(url, false));
        }
        for url in &settings.jku {
            check_key_url(url).map_err(|e| format!("issuer {iss:?} jku: {e}"))?;
            if !remotes.iter().any(|r| r.url == *url) {
                remotes.push(Remote::new(url, true));
            }
        }
        let this = IssuerKeys {
            iss: iss.clone(),
            leeway,
            keys: RwLock::new(HashMap::new()),
            remotes,
        };
        if let Some(path) = &settings.jwks_file {
            let text = read_jwks_file(path, base_dir)?;
            let set: JwkSet = serde_json::from_str(&text)
                .map_err(|e| format!("JWKS file {}: {e}", path.display()))?;
            let installed = this.install(Origin::File, &set);
            if installed == 0 {
                return Err(format!(
                    "JWKS file {}: no usable signing key (ES256/ES384/RS256/RS384 with a kid)",
                    path.display()
                ));
            }
        }
        Ok(this)
    }

    /// Fetch every `jwks_url` (not the jku-only URLs); failures are logged, not fatal: the
    /// next unknown `kid` retries after the refresh interval.
    pub(crate) async fn fetch_all(&self, fetcher: &Fetcher) {
        for (i, remote) in self.remotes.iter().enumerate() {
            // Counts as an attempt: the refresh interval starts now.
            if !remote.only_on_jku && remote.may_fetch(Duration::ZERO) {
                self.refresh(i, fetcher).await;
            }
        }
    }

    /// The key for `kid`; on a miss, re-fetch the issuer's `jwks_url` and, when the token's
    /// `jku` header is allow-listed for this issuer, that URL (each rate-limited).
    pub(crate) async fn key(
        &self,
        kid: &str,
        jku: Option<&str>,
        fetcher: &Fetcher,
    ) -> Option<Arc<VerifyKey>> {
        if let Some(k) = self.cached(kid) {
            return Some(k);
        }
        for (i, remote) in self.remotes.iter().enumerate() {
            let wanted = !remote.only_on_jku || jku == Some(remote.url.as_str());
            if !wanted {
                continue;
            }
            let _fetching = remote.in_flight.lock().await;
            if let Some(k) = self.cached(kid) {
                return Some(k);
            }
            if remote.may_fetch(fetcher.refresh_interval) {
                self.refresh(i, fetcher).await;
                if let Some(k) = self.cached(kid) {
                    return Some(k);
                }
            }
        }
        None
    }

    /// Readiness: Ok when a key is cached; otherwise each key URL is fetched (rate-limited
    /// like any refresh) and Ok when that gave a key.
    pub(crate) async fn ready(&self, fetcher: &Fetcher) -> Result<(), String> {
        if self.has_keys() {
            return Ok(());
        }
        for (i, remote) in self.remotes.iter().enumerate() {
            let _fetching = remote.in_flight.lock().await;
            if !self.has_keys() && remote.may_fetch(fetcher.refresh_interval) {
                self.refresh(i, fetcher).await;
            }
        }
        if self.has_keys() {
            Ok(())
        } else {
            Err("no verification key: the key set could not be loaded".into())
        }
    }

    fn has_keys(&self) -> bool {
        !self
            .keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
    }

    /// Whether `jku` is one of this issuer's allow-listed key URLs.
    pub(crate) fn allows_jku(&self, jku: &str) -> bool {
        self.remotes.iter().any(|r| r.url == jku)
    }

    fn cached(&self, kid: &str) -> Option<Arc<VerifyKey>> {
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        keys.get(kid).map(|(_, k)| Arc::clone(k))
    }

    async fn refresh(&self, index: usize, fetcher: &Fetcher) {
        let Some(remote) = self.remotes.get(index) else {
            return;
        };
        match fetch_jwks(&fetcher.client, &remote.url).await {
            Ok(set) => {
                let n = self.install(Origin::Remote(index), &set);
                tracing::info!(issuer = %self.iss, url = %remote.url, keys = n, "fetched key set");
            }
            Err(reason) => {
                tracing::warn!(issuer = %self.iss, url = %remote.url, %reason, "key set fetch failed");
            }
        }
    }

    /// Replace the keys of `origin` with the usable keys of `set`; returns how many.
    fn install(&self, origin: Origin, set: &JwkSet) -> usize {
        let mut fresh = Vec::new();
        for jwk in &set.keys {
            match verify_key(jwk, &self.iss, self.leeway) {
                Ok(entry) => fresh.push(entry),
                Err(reason) => {
                    tracing::warn!(issuer = %self.iss, %reason, "key in key set skipped")
                }
            }
        }
        let n = fresh.len();
        let mut keys = self.keys.write().unwrap_or_else(|p| p.into_inner());
        keys.retain(|_, (o, _)| *o != origin);
        for (kid, key) in fresh {
            // A file key is never replaced by a fetched one with the same kid.
            if keys.get(&kid).is_none_or(|(o, _)| *o != Origin::File) {
                keys.insert(kid, (origin, Arc::new(key)));
            }
        }
        n
    }
}

impl Remote {
    fn new(url: &str, only_on_jku: bool) -> Remote {
        Remote {
            url: url.to_string(),
            only_on_jku,
            last_attempt: Mutex::new(None),
            in_flight: tokio::sync::Mutex::new(()),
        }
    }

    /// Claim the right to fetch now (false if the last attempt is more recent than `interval`).
    fn may_fetch(&self, interval: Duration) -> bool {
        let mut last = self.last_attempt.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match *last {
            Some(t) if now.duration_since(t) < interval => false,
            _ => {
                *last = Some(now);
                true
            }
        }
    }
}

/// Key URLs must be https; plain http only to a loopback host (tests, local development).
fn check_key_url(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(format!("{url:?} must be an https URL")),
    }
}

/// Read a JWKS file: from disk (relative paths against `base_dir`); a path under `hooks/`
/// that is not on disk is read from the knowledge files embedded in the binary.
fn read_jwks_file(path: &Path, base_dir: &Path) -> Result<String, String> {
    let on_disk: PathBuf = if path.is_absolute() {
        path.to_path_buf()
    } else {
        base_dir.join(path)
    };
    match std::fs::read_to_string(&on_disk) {
        Ok(text) => Ok(text),
        Err(disk_error) => match path.strip_prefix("hooks") {
            Ok(inner) if path.is_relative() => {
                let name = inner.to_string_lossy().replace('\\', "/");
                KnowledgeFiles::Embedded
                    .read(&name)
                    .map(|t| t.into_owned())
                    .map_err(|e| format!("JWKS file {}: {disk_error}; {e}", path.display()))
            }
            _ => Err(format!("JWKS file {}: {disk_error}", path.display())),
        },
    }
}

async fn fetch_jwks(client: &reqwest::Client, url: &str) -> Result<JwkSet, String> {
    let response = client.get(url).send().await.map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("HTTP {}", response.status()));
    }
    if response
        .content_length()
        .is_some_and(|n| n > MAX_JWKS_BYTES as u64)
    {
        return Err("key set too large".into());
    }
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    if body.len() > MAX_JWKS_BYTES {
        return Err("key set too large".into());
    }
    serde_json::from_slice(&body).map_err(|e| format!("not a JWKS: {e}"))
}

/// Turn one JWK into a verifier bound to the algorithms its type, curve and `alg` agree on.
fn verify_key(jwk: &Jwk, iss: &str, leeway: u64) -> Result<(String, VerifyKey), String> {
    let kid = jwk.common.key_id.clone().ok_or("key without kid")?;
    if matches!(&jwk.common.public_key_use, Some(u) if *u != PublicKeyUse::Signature) {
        return Err(format!("key {kid:?} is not a signing key"));
    }
    let by_type: &[Algorithm] = match &jwk.algorithm {
        AlgorithmParameters::EllipticCurve(p) => match p.curve {
            EllipticCurve::P256 => &[Algorithm::ES256],
            EllipticCurve::P384 => &[Algorithm::ES384],
            _ => return Err(format!("key {kid:?}: curve not allowed")),
        },
        AlgorithmParameters::RSA(_) => &[Algorithm::RS256, Algorithm::RS384],
        _ => return Err(format!("key {kid:?}: key type not allowed")),
    };
    let algorithms: Vec<Algorithm> = match jwk.common.key_algorithm {
        None => by_type.to_vec(),
        Some(declared) => match Algorithm::try_from(declared) {
            Ok(a) if by_type.contains(&a) && ALLOWED_ALGORITHMS.contains(&a) => vec![a],
            _ => {
                return Err(format!(
                    "key {kid:?}: alg {declared} disagrees with its key type or is not allowed"
                ))
            }
        },
    };
    let decoding = DecodingKey::from_jwk(jwk).map_err(|e| format!("key {kid:?}: {e}"))?;
    let mut validation = Validation::new(algorithms[0]);
    validation.algorithms = algorithms;
    validation.leeway = leeway;
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    validation.set_issuer(&[iss]);
    // The audience is compared by the verifier itself, after URL normalisation.
    validation.validate_aud = false;
    validation.validate_nbf = true;
    Ok((
        kid,
        VerifyKey {
            decoding,
            validation,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwk(json: &str) -> Jwk {
        serde_json::from_str(json).unwrap()
    }

    const P384: &str = r#""kty":"EC","crv":"P-384","x":"dw_JGR8nB2I6XveNxUOl2qk699ZPLM2nYI5STSdiEl9avAkrm3CkfYMbrrjr8laB","y":"Sm3mLE-n1zYNla_aiE3cb3nZsL51RbC7ysw3q8aJLxGm-hx79RPMYpITDjp7kgzy""#;

    #[test]
    fn an_ec_key_permits_only_its_curve_algorithm() {
        let (_, k) = verify_key(&jwk(&format!(r#"{{{P384},"kid":"a"}}"#)), "i", 0).unwrap();
        assert_eq!(k.validation.algorithms, vec![Algorithm::ES384]);
    }

    #[test]
    fn a_key_whose_alg_disagrees_with_its_type_is_skipped() {
        let e = verify_key(
            &jwk(&format!(r#"{{{P384},"kid":"a","alg":"RS384"}}"#)),
            "i",
            0,
        );
        assert!(e.is_err());
    }

    #[test]
    fn symmetric_keys_are_never_used() {
        let e = verify_key(
            &jwk(r#"{"kty":"oct","k":"c2VjcmV0","kid":"h","alg":"HS256"}"#),
            "i",
            0,
        );
        assert!(e.is_err());
    }

    #[test]
    fn encryption_keys_are_skipped() {
        let e = verify_key(
            &jwk(&format!(r#"{{{P384},"kid":"a","use":"enc"}}"#)),
            "i",
            0,
        );
        assert!(e.is_err());
    }

    #[test]
    fn a_hooks_path_missing_on_disk_is_read_from_the_embedded_files() {
        let empty = tempfile::tempdir().unwrap();
        let text = read_jwks_file(Path::new("hooks/keys/sandbox-jwks.json"), empty.path())
            .expect("embedded sandbox key set");
        assert!(text.contains("44823f3d-0b01-4a6c-a80e-b9d3e8a7226f"));
    }

    #[test]
    fn other_missing_paths_are_an_error() {
        let empty = tempfile::tempdir().unwrap();
        assert!(read_jwks_file(Path::new("keys/none.json"), empty.path()).is_err());
    }

    #[test]
    fn key_urls_must_be_https_except_on_loopback() {
        assert!(check_key_url("https://ehr.example.org/jwks").is_ok());
        assert!(check_key_url("http://127.0.0.1:8080/jwks").is_ok());
        assert!(check_key_url("http://ehr.example.org/jwks").is_err());
        assert!(check_key_url("file:///etc/passwd").is_err());
    }
}
