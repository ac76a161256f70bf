//! Issuers whose keys are fetched: `jwks_url` (fetched at start, refreshed on an unknown kid,
//! rate-limited) and `jku` (honoured only when allow-listed for the issuer).

mod auth_support;

use std::time::Duration;

use auth_support::*;
use jak_sle_cds::config::{AuthSettings, IssuerSettings};
use jak_sle_cds::server::auth::{Verifier, VerifierOptions};
use jsonwebtoken::Algorithm;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ISS: &str = "https://ehr.example.org/fetched";

fn issuer(jwks_url: Option<String>, jku: Vec<String>) -> AuthSettings {
    AuthSettings {
        required: true,
        issuers: vec![IssuerSettings {
            iss: ISS.into(),
            jwks_file: None,
            jwks_url,
            jku,
        }],
        leeway_seconds: 60,
        ..AuthSettings::default()
    }
}

fn every(seconds: u64) -> VerifierOptions {
    VerifierOptions {
        refresh_interval: Duration::from_secs(seconds),
        ..options()
    }
}

/// Serve `body` as JSON at `at` (GET), any number of times; returns the full URL.
async fn serve(server: &MockServer, at: &str, body: serde_json::Value) -> String {
    Mock::given(method("GET"))
        .and(path(at))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
    format!("{}{at}", server.uri())
}

/// `/jwks` serving first (at start-up) a set without the new key, afterwards the set with
/// it, after `delay`; returns the URL.
async fn rotating_key_set(server: &MockServer, delay: Duration) -> String {
    Mock::given(method("GET"))
        .and(path("/jwks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"keys": []})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/jwks"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(second_ec_jwks())
                .set_delay(delay),
        )
        .with_priority(2)
        .mount(server)
        .await;
    format!("{}/jwks", server.uri())
}

fn second_ec_token(jku: Option<&str>) -> String {
    sign(
        Algorithm::ES384,
        SECOND_EC_KID,
        jku,
        &claims(ISS, CALLED),
        &second_ec_key(),
    )
}

#[tokio::test]
async fn a_rotated_key_is_found_by_refreshing_the_jwks_url() {
    let server = MockServer::start().await;
    let url = rotating_key_set(&server, Duration::ZERO).await;
    let s = issuer(Some(url), Vec::new());
    let v = Verifier::with_options(&s, every(0)).await.unwrap();
    let t = second_ec_token(None);
    assert!(v.verify(Some(&bearer(&t)), CALLED).await.is_ok());
}

#[tokio::test]
async fn unknown_kids_refresh_at_most_once_per_interval() {
    let server = MockServer::start().await;
    let url = serve(&server, "/jwks", json!({"keys": []})).await;
    let s = issuer(Some(url), Vec::new());
    let v = Verifier::with_options(&s, every(3600)).await.unwrap();
    let a = v
        .verify(Some(&bearer(&second_ec_token(None))), CALLED)
        .await;
    let b = v
        .verify(Some(&bearer(&second_ec_token(None))), CALLED)
        .await;
    let fetches = server.received_requests().await.map_or(0, |r| r.len());
    // One fetch at start-up; the unknown kids come within the interval: no more fetches.
    assert!(
        a.is_err() && b.is_err() && fetches == 1,
        "fetches: {fetches}"
    );
}

#[tokio::test]
async fn an_allow_listed_jku_is_honoured() {
    let server = MockServer::start().await;
    let allowed = serve(&server, "/allowed.json", second_ec_jwks()).await;
    let v = Verifier::with_options(&issuer(None, vec![allowed.clone()]), every(60))
        .await
        .unwrap();
    let t = second_ec_token(Some(&allowed));
    assert!(v.verify(Some(&bearer(&t)), CALLED).await.is_ok());
}

#[tokio::test]
async fn a_jku_that_is_not_allow_listed_is_never_fetched() {
    let server = MockServer::start().await;
    serve(&server, "/allowed.json", second_ec_jwks()).await;
    Mock::given(method("GET"))
        .and(path("/attacker.json"))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            std::fs::read_to_string(repo_path("tests/keys/test-only-ehr-jwks.json")).unwrap(),
        ))
        .expect(0)
        .mount(&server)
        .await;
    let allowed = format!("{}/allowed.json", server.uri());
    let attacker = format!("{}/attacker.json", server.uri());
    let v = Verifier::with_options(&issuer(None, vec![allowed]), every(60))
        .await
        .unwrap();
    let t = sign(
        Algorithm::RS384,
        EHR_KID,
        Some(&attacker),
        &claims(ISS, CALLED),
        &rsa_key(),
    );
    assert!(v.verify(Some(&bearer(&t)), CALLED).await.is_err());
}

#[tokio::test]
async fn a_plain_http_key_url_off_loopback_is_a_configuration_error() {
    let s = issuer(Some("http://keys.example.org/jwks".into()), Vec::new());
    assert!(Verifier::with_options(&s, every(60)).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_with_a_new_kid_wait_for_one_fetch() {
    let server = MockServer::start().await;
    let url = rotating_key_set(&server, Duration::from_millis(300)).await;
    let s = issuer(Some(url), Vec::new());
    let v = Verifier::with_options(&s, every(0)).await.unwrap();
    let calls: Vec<_> = (0..10)
        .map(|_| {
            let v = v.clone();
            let header = bearer(&second_ec_token(None));
            tokio::spawn(async move { v.verify(Some(&header), CALLED).await.is_ok() })
        })
        .collect();
    let mut accepted = 0;
    for c in calls {
        accepted += usize::from(c.await.unwrap());
    }
    let fetches = server.received_requests().await.map_or(0, |r| r.len());
    assert_eq!((accepted, fetches), (10, 2));
}
