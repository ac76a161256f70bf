//! The outbound guard: which FHIR servers the service may call (`[fhir] allowed_servers`).
//!
//! A `fhirServer` from a hook request is attacker-influenced input. Before any outbound
//! request its URL must match one of the configured patterns:
//!
//! * `https://fhir.example.org/*` — scheme and host exact (host case-insensitive), the
//!   scheme's default port, any path;
//! * `http://127.0.0.1:*` — any port;
//! * `https://ehr.example.org:8443/fhir/*` or `https://ehr.example.org/fhir` — that port, and a
//!   path equal to `/fhir` or below `/fhir/`.
//!
//! URLs carrying userinfo (`https://user:pw@host/`) never match. Only `http` and `https` are
//! accepted. Paths are compared after the `url` crate's normalisation (dot segments removed),
//! so `/fhir/../admin` does not pass as `/fhir/`.

use url::Url;

/// One allowed-server pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerPattern {
    scheme: String,
    host: String,
    port: PortPattern,
    /// Path prefix without a trailing slash; empty = any path.
    path_prefix: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PortPattern {
    Any,
    Exact(u16),
}

/// Why a pattern in the configuration is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("allowed_servers pattern {pattern:?}: {reason}")]
pub struct PatternError {
    pub pattern: String,
    pub reason: &'static str,
}

impl ServerPattern {
    /// Parse one pattern ("scheme://host[:port|:*][/path[/*]]").
    pub fn parse(pattern: &str) -> Result<ServerPattern, PatternError> {
        let err = |reason| PatternError {
            pattern: pattern.to_string(),
            reason,
        };
        let (scheme, rest) = pattern
            .split_once("://")
            .ok_or_else(|| err("expected scheme://host"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(err("scheme must be http or https"));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err(err("userinfo is not allowed"));
        }
        let (host_port, any_port) = match authority.strip_suffix(":*") {
            Some(h) => (h, true),
            None => (authority, false),
        };
        if host_port.is_empty() || host_port.contains('*') {
            return Err(err("the host must be given exactly (no wildcard)"));
        }
        if path.contains(['?', '#']) {
            return Err(err("no query or fragment allowed"));
        }
        let path_prefix = path.strip_suffix('*').unwrap_or(path);
        if path_prefix.contains('*') {
            return Err(err(
                "'*' is only allowed as the port or at the end of the path",
            ));
        }
        // Let the url crate normalise host (case, IDNA, IPv4 forms) and the default port.
        let parsed = Url::parse(&format!("{scheme}://{host_port}{path_prefix}"))
            .map_err(|_| err("not a valid URL"))?;
        let host = parsed
            .host_str()
            .ok_or_else(|| err("no host"))?
            .to_ascii_lowercase();
        let port = if any_port {
            PortPattern::Any
        } else {
            PortPattern::Exact(
                parsed
                    .port_or_known_default()
                    .ok_or_else(|| err("no port"))?,
            )
        };
        let path_prefix = if path_prefix.is_empty() {
            String::new()
        } else {
            parsed.path().trim_end_matches('/').to_string()
        };
        Ok(ServerPattern {
            scheme,
            host,
            port,
            path_prefix,
        })
    }

    /// True when `url` is on this server (and below the path prefix, if any).
    pub fn matches(&self, url: &Url) -> bool {
        if has_userinfo(url) || url.scheme() != self.scheme {
            return false;
        }
        let Some(host) = url.host_str() else {
            return false;
        };
        if !host.eq_ignore_ascii_case(&self.host) {
            return false;
        }
        let port_ok = match self.port {
            PortPattern::Any => true,
            PortPattern::Exact(p) => url.port_or_known_default() == Some(p),
        };
        if !port_ok {
            return false;
        }
        let path = url.path();
        self.path_prefix.is_empty()
            || path == self.path_prefix
            || path
                .strip_prefix(self.path_prefix.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
    }
}

/// The configured allow-list. Empty: no outbound FHIR request at all.
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    patterns: Vec<ServerPattern>,
}

impl AllowList {
    /// Parse every pattern; the first bad one is an error (for configuration checks).
    pub fn parse(patterns: &[String]) -> Result<AllowList, PatternError> {
        let patterns = patterns
            .iter()
            .map(|p| ServerPattern::parse(p))
            .collect::<Result<_, _>>()?;
        Ok(AllowList { patterns })
    }

    /// Parse the patterns, dropping (and logging) unusable ones: a bad pattern allows nothing.
    pub fn parse_lenient(patterns: &[String]) -> AllowList {
        let mut out = Vec::with_capacity(patterns.len());
        for p in patterns {
            match ServerPattern::parse(p) {
                Ok(sp) => out.push(sp),
                Err(e) => tracing::error!(error = %e, "ignoring unusable allowed_servers pattern"),
            }
        }
        AllowList { patterns: out }
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// True when some pattern matches `url`.
    pub fn permits(&self, url: &Url) -> bool {
        self.patterns.iter().any(|p| p.matches(url))
    }

    /// Parse a `fhirServer` value and check it: `Some(url)` only when it is an absolute
    /// http(s) URL without userinfo that the list permits.
    pub fn check_server(&self, fhir_server: &str) -> Option<Url> {
        let url = Url::parse(fhir_server).ok()?;
        (self.permits(&url) && url.query().is_none() && url.fragment().is_none()).then_some(url)
    }
}

/// True when the URL carries a user name or password.
pub fn has_userinfo(url: &Url) -> bool {
    !url.username().is_empty() || url.password().is_some()
}

/// True when both URLs are on the same server: scheme, host and effective port.
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str().map(str::to_ascii_lowercase) == b.host_str().map(str::to_ascii_lowercase)
        && a.port_or_known_default() == b.port_or_known_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(p: &[&str]) -> AllowList {
        AllowList::parse(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn ok(l: &AllowList, u: &str) -> bool {
        l.check_server(u).is_some()
    }

    #[test]
    fn host_pattern_with_any_path() {
        let l = list(&["https://fhir.example.org/*"]);
        assert!(ok(&l, "https://fhir.example.org/r4"));
        assert!(ok(&l, "https://FHIR.Example.org:443/r4/"));
        assert!(ok(&l, "https://fhir.example.org"));
        assert!(!ok(&l, "http://fhir.example.org/r4"), "scheme");
        assert!(!ok(&l, "https://fhir.example.org:8443/r4"), "port");
        assert!(
            !ok(&l, "https://fhir.example.org.evil.com/r4"),
            "suffix host"
        );
        assert!(!ok(&l, "https://evilfhir.example.org/r4"));
        assert!(!ok(&l, "https://user:pw@fhir.example.org/r4"), "userinfo");
        assert!(
            !ok(&l, "https://fhir.example.org@evil.com/r4"),
            "userinfo trick"
        );
        assert!(!ok(&l, "https://fhir.example.org/r4?x=1"), "query");
    }

    #[test]
    fn any_port_pattern() {
        let l = list(&["http://127.0.0.1:*"]);
        assert!(ok(&l, "http://127.0.0.1:8080/fhir"));
        assert!(ok(&l, "http://127.0.0.1/fhir"));
        assert!(!ok(&l, "http://localhost:8080/fhir"), "other host name");
        assert!(!ok(&l, "https://127.0.0.1:8080/fhir"), "scheme");
        assert!(!ok(&l, "http://169.254.169.254/latest"));
    }

    #[test]
    fn path_prefix_is_segment_aligned_and_normalised() {
        let l = list(&["https://ehr.example.org:8443/fhir/*"]);
        assert!(ok(&l, "https://ehr.example.org:8443/fhir"));
        assert!(ok(&l, "https://ehr.example.org:8443/fhir/r4"));
        assert!(!ok(&l, "https://ehr.example.org:8443/fhirx"));
        assert!(!ok(&l, "https://ehr.example.org:8443/admin"));
        assert!(!ok(&l, "https://ehr.example.org:8443/fhir/../admin"));
        assert!(!ok(&l, "https://ehr.example.org:8443/fhir/%2e%2e/admin"));
        assert!(
            !ok(&l, "https://ehr.example.org/fhir"),
            "default port differs"
        );
        let exact = list(&["https://ehr.example.org/fhir"]);
        assert!(ok(&exact, "https://ehr.example.org/fhir/"));
        assert!(!ok(&exact, "https://ehr.example.org/other"));
    }

    #[test]
    fn ipv6_and_upper_case_patterns() {
        let l = list(&["http://[::1]:*", "https://FHIR.Example.org/*"]);
        assert!(ok(&l, "http://[::1]:8080/fhir"));
        assert!(!ok(&l, "http://[::2]:8080/fhir"));
        assert!(ok(&l, "https://fhir.example.org/r4"));
    }

    #[test]
    fn default_port_written_out_is_the_same_server() {
        let l = list(&["http://fhir.local:80/*"]);
        assert!(ok(&l, "http://fhir.local/r4"));
    }

    #[test]
    fn bad_patterns_are_rejected() {
        for p in [
            "fhir.example.org",
            "ftp://fhir.example.org/*",
            "https://*.example.org/*",
            "https://u:p@fhir.example.org/*",
            "https://fhir.example.org/a*b",
            "https://fhir.example.org:99999/",
        ] {
            assert!(ServerPattern::parse(p).is_err(), "{p}");
        }
        let l = AllowList::parse_lenient(&["nonsense".into(), "https://ok.example/*".into()]);
        assert!(ok(&l, "https://ok.example/x"));
    }

    #[test]
    fn empty_list_permits_nothing() {
        let l = AllowList::default();
        assert!(l.is_empty());
        assert!(!ok(&l, "https://fhir.example.org/r4"));
    }

    #[test]
    fn same_origin_compares_effective_port() {
        let a = Url::parse("https://h.example/fhir").unwrap();
        assert!(same_origin(
            &a,
            &Url::parse("https://H.example:443/x").unwrap()
        ));
        assert!(!same_origin(
            &a,
            &Url::parse("https://h.example:444/x").unwrap()
        ));
        assert!(!same_origin(&a, &Url::parse("http://h.example/x").unwrap()));
    }
}
