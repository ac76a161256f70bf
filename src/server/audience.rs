//! The exact URL a client called, which a CDS client's JWT must name as its `aud`, and the
//! authorization check every endpoint (discovery, service, feedback) runs first.
//!
//! The URL's scheme and host never come from what an arbitrary caller says (its `Host`,
//! `X-Forwarded-*` or `Forwarded` headers): otherwise a token minted for another CDS service
//! is accepted by sending that service's host name. They come from, in order:
//!
//! 1. `server.public_url`, when set (behind a reverse proxy: the URL clients call);
//! 2. the forwarded headers (or `Host`), only when the peer is one of `proxy.trusted`;
//! 3. the listen address: on a loopback listener `http://127.0.0.1:<port>` — or the
//!    `Host` the client sent when it is itself a loopback name with that port
//!    (`localhost:<port>`, `127.0.0.1:<port>`, `[::1]:<port>`), since only this machine can
//!    call it. Start-up refuses a non-loopback listener with authentication on and neither
//!    `public_url` nor trusted proxies ([`check_audience_source`]).

use std::net::{IpAddr, SocketAddr};

use actix_web::http::header::{AUTHORIZATION, HOST};
use actix_web::{HttpMessage, HttpRequest};
use ipnet::IpNet;

use super::auth::Verifier;
use super::error::ApiError;
use crate::config::Config;

/// The request path as the client sent it, before routing normalised it (a trailing slash
/// is part of the URL the client signed). Stored by [`remember_original_path`].
#[derive(Debug, Clone)]
pub struct OriginalPath(pub String);

/// Middleware function (`App::wrap_fn`, outside `NormalizePath`): keep the path as sent.
pub fn remember_original_path(req: &actix_web::dev::ServiceRequest) {
    let path = req.path().to_string();
    req.extensions_mut().insert(OriginalPath(path));
}

/// Where the scheme and host of the URL called come from (see the module documentation).
#[derive(Debug, Clone)]
pub struct AudienceSource {
    public_url: Option<String>,
    trusted_proxies: Vec<IpNet>,
    /// The bound address (the port resolved when 0 was configured).
    listen: SocketAddr,
}

impl AudienceSource {
    pub fn new(
        public_url: Option<&str>,
        trusted_proxies: Vec<IpNet>,
        listen: SocketAddr,
    ) -> AudienceSource {
        AudienceSource {
            public_url: public_url.map(str::to_string),
            trusted_proxies,
            listen,
        }
    }

    fn trusts(&self, peer: Option<SocketAddr>) -> bool {
        peer.is_some_and(|p| self.trusted_proxies.iter().any(|n| n.contains(&p.ip())))
    }

    /// `scheme://host[:port]` from the listen address, or the client's loopback `Host`.
    fn listen_origin(&self, req: &HttpRequest) -> String {
        let host = req
            .headers()
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| self.listen.ip().is_loopback() && is_loopback_host(h, self.listen.port()));
        match host {
            Some(h) => format!("http://{h}"),
            None => format!("http://{}", self.listen),
        }
    }
}

/// Start-up check: with authentication on, a listener other machines can reach needs
/// `server.public_url` (or trusted proxies), else no caller could be told the URL tokens
/// must name.
pub fn check_audience_source(config: &Config, listen: SocketAddr) -> Result<(), String> {
    if config.auth.required
        && config.server.public_url.is_none()
        && config.proxy.trusted.is_empty()
        && !listen.ip().is_loopback()
    {
        return Err(format!(
            "server.listen {listen} is not a loopback address and auth.required is true: set \
             server.public_url to the URL clients call (tokens must name it as aud), or list \
             the reverse proxies in proxy.trusted"
        ));
    }
    Ok(())
}

/// `localhost:<port>`, `127.x.y.z:<port>` or `[::1]:<port>` (port 80 may be left out).
fn is_loopback_host(host: &str, port: u16) -> bool {
    let (name, given_port) = match host.rsplit_once(':') {
        Some((n, p)) if !n.is_empty() && !p.contains(']') => (n, p.parse::<u16>().ok()),
        _ => (host, Some(80)),
    };
    if given_port != Some(port) {
        return false;
    }
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The URL called: `public_url` + path when a public URL is configured (the service runs
/// behind a proxy); else the scheme and host forwarded by a trusted proxy; else the listen
/// address (see the module documentation). The path is the one the client sent, with
/// doubled slashes collapsed (the sandbox builds `{discovery url}/{id}`, so a discovery URL
/// with a trailing slash gives `//`).
pub fn called_url(req: &HttpRequest, source: &AudienceSource) -> String {
    let path = match req.extensions().get::<OriginalPath>() {
        Some(OriginalPath(p)) => collapse_slashes(p),
        None => collapse_slashes(req.path()),
    };
    match &source.public_url {
        Some(base) => format!("{}{path}", base.trim_end_matches('/')),
        None if source.trusts(req.peer_addr()) => {
            let info = req.connection_info();
            format!("{}://{}{path}", info.scheme(), info.host())
        }
        None => format!("{}{path}", source.listen_origin(req)),
    }
}

fn collapse_slashes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for ch in path.chars() {
        if ch == '/' && out.ends_with('/') {
            continue;
        }
        out.push(ch);
    }
    out
}

/// Verify the bearer token when authentication is required. A failure is logged with its
/// reason (never the token) and answered 401 without detail.
pub async fn authorize(
    req: &HttpRequest,
    verifier: &Verifier,
    source: &AudienceSource,
) -> Result<(), ApiError> {
    if !verifier.required() {
        return Ok(());
    }
    let audience = called_url(req, source);
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match verifier.verify(header, &audience).await {
        Ok(claims) => {
            tracing::debug!(iss = %claims.iss, "client authenticated");
            Ok(())
        }
        Err(e) => {
            tracing::warn!(reason = %e, endpoint = %req.match_pattern().unwrap_or_default(),
                "authorization refused");
            Err(ApiError::Unauthorized)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn source(public_url: Option<&str>, trusted: &[&str]) -> AudienceSource {
        AudienceSource::new(
            public_url,
            crate::config::ProxySettings {
                trusted: trusted.iter().map(|t| t.to_string()).collect(),
            }
            .networks()
            .unwrap(),
            "127.0.0.1:8080".parse().unwrap(),
        )
    }

    #[test]
    fn public_url_wins_and_slashes_are_normalised() {
        let req = TestRequest::post()
            .uri("/cds-services//jak-sle-order-sign")
            .insert_header(("host", "internal:8080"))
            .to_http_request();
        assert_eq!(
            called_url(&req, &source(Some("https://cds.example.org/jak/"), &[])),
            "https://cds.example.org/jak/cds-services/jak-sle-order-sign"
        );
        assert_eq!(
            called_url(&req, &source(None, &[])),
            "http://127.0.0.1:8080/cds-services/jak-sle-order-sign"
        );
    }

    #[test]
    fn the_path_as_sent_wins_over_the_normalised_one() {
        let req = TestRequest::get()
            .uri("/cds-services")
            .insert_header(("host", "localhost:8080"))
            .to_http_request();
        req.extensions_mut()
            .insert(OriginalPath("/cds-services/".into()));
        assert_eq!(
            called_url(&req, &source(None, &[])),
            "http://localhost:8080/cds-services/"
        );
    }

    #[test]
    fn client_headers_count_only_from_trusted_proxies() {
        let forwarded = || {
            TestRequest::get()
                .uri("/cds-services")
                .insert_header(("host", "other-cds.example"))
                .insert_header(("x-forwarded-host", "other-cds.example"))
                .insert_header(("x-forwarded-proto", "https"))
                .peer_addr("10.0.0.5:4000".parse().unwrap())
                .to_http_request()
        };
        assert_eq!(
            called_url(&forwarded(), &source(None, &[])),
            "http://127.0.0.1:8080/cds-services"
        );
        assert_eq!(
            called_url(&forwarded(), &source(None, &["10.0.0.0/8"])),
            "https://other-cds.example/cds-services"
        );
        assert_eq!(
            called_url(&forwarded(), &source(None, &["10.0.0.6"])),
            "http://127.0.0.1:8080/cds-services"
        );
    }

    #[test]
    fn only_loopback_host_names_with_the_listen_port_are_taken() {
        assert!(is_loopback_host("localhost:8080", 8080));
        assert!(is_loopback_host("127.0.0.1:8080", 8080));
        assert!(is_loopback_host("[::1]:8080", 8080));
        assert!(is_loopback_host("localhost", 80));
        assert!(!is_loopback_host("localhost", 8080));
        assert!(!is_loopback_host("localhost:8081", 8080));
        assert!(!is_loopback_host("other-cds.example:8080", 8080));
        assert!(!is_loopback_host("10.0.0.1:8080", 8080));
        assert!(!is_loopback_host("[::1]", 8080));
    }

    #[test]
    fn a_reachable_listener_needs_a_public_url_when_auth_is_on() {
        let mut config = Config::default();
        let open: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert!(check_audience_source(&config, "127.0.0.1:8080".parse().unwrap()).is_ok());
        let e = check_audience_source(&config, open).unwrap_err();
        assert!(e.contains("server.public_url"), "{e}");
        config.server.public_url = Some("https://cds.example.org".into());
        assert!(check_audience_source(&config, open).is_ok());
        config.server.public_url = None;
        config.auth.required = false;
        assert!(check_audience_source(&config, open).is_ok());
    }
}
