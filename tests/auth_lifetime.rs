//! Bounded token lifetime and a replay cache that cannot be pinned (issue 9, failure 2).
//!
//! Tokens with `exp` a day or 75 years ahead were accepted and their `jti` kept until then;
//! a full cache shard then refused every fresh token hashing to it ("replay cache full"),
//! with the public sandbox key enough to cause it. Now a token may live at most
//! `auth.max_token_lifetime_seconds` (+ leeway), and a full cache evicts (counted) instead of
//! refusing.

mod auth_support;
mod common;

use auth_support::*;
use jak_sle_cds::server::auth::{AuthError, Verifier, VerifierOptions};
use serde_json::{json, Value};

fn with_lifetime(iat: i64, exp: i64) -> Value {
    json!({"iss": SANDBOX_ISS, "aud": CALLED, "iat": iat, "exp": exp,
        "jti": uuid::Uuid::new_v4().to_string()})
}

#[tokio::test]
async fn long_lived_tokens_are_refused_over_http() {
    let app = common::spawn_app(common::test_config()).await;
    let path = "/cds-services/jak-sle-order-select";
    let url = app.url(path);
    let body = common::fixture("sandbox-r4-order-select.json");
    let t = now();
    for (iat, exp, expected) in [
        (t, t + 300, 200),               // the sandbox's 5 minutes
        (t, t + 900, 200),               // Epic's 15 minutes
        (t, t + 86_400, 401),            // a day
        (t, t + 75 * 365 * 86_400, 401), // 75 years
        (t - 86_400, t + 300, 401),      // issued a day ago, valid 5 more minutes
    ] {
        let mut claims = with_lifetime(iat, exp);
        claims["aud"] = json!(url);
        let token = sandbox_token(&claims);
        let res = app
            .post_with_token(path, &token, body.clone())
            .await
            .unwrap();
        assert_eq!(res.status(), expected, "iat {iat} exp {exp}");
    }
}

#[tokio::test]
async fn the_lifetime_bound_is_configurable_and_has_the_leeway() {
    let mut settings = settings();
    settings.max_token_lifetime_seconds = 60;
    let v = Verifier::with_options(&settings, options()).await.unwrap();
    let t = now();
    // 60 s + 60 s leeway.
    let ok = sandbox_token(&with_lifetime(t, t + 120));
    assert!(v.verify(Some(&bearer(&ok)), CALLED).await.is_ok());
    let long = sandbox_token(&with_lifetime(t, t + 121));
    match v.verify(Some(&bearer(&long)), CALLED).await {
        Err(AuthError::Rejected(r)) => assert!(r.contains("lifetime"), "{r}"),
        Ok(_) => panic!("a token longer than the bound was accepted"),
    }
}

#[tokio::test]
async fn a_full_replay_cache_never_locks_out_a_valid_token() {
    let v = Verifier::with_options(
        &settings(),
        VerifierOptions {
            replay_capacity: Some(32),
            ..options()
        },
    )
    .await
    .unwrap();
    let t = now();
    // Fill the cache with the longest tokens allowed (what an attacker with the public
    // sandbox key would send), then keep sending fresh ones: every one is accepted.
    for _ in 0..200 {
        let token = sandbox_token(&with_lifetime(t, t + 900));
        assert!(v.verify(Some(&bearer(&token)), CALLED).await.is_ok());
    }
    for _ in 0..50 {
        let token = sandbox_token(&claims(SANDBOX_ISS, CALLED));
        v.verify(Some(&bearer(&token)), CALLED)
            .await
            .expect("a fresh valid token is accepted when the cache is full");
    }
    let counters = v.replay_counters();
    assert_eq!(counters.accepted, 250);
    assert!(counters.evicted >= 200, "{counters:?}");
    // The most recent token is still remembered: its replay is refused.
    let last = sandbox_token(&claims(SANDBOX_ISS, CALLED));
    assert!(v.verify(Some(&bearer(&last)), CALLED).await.is_ok());
    assert!(v.verify(Some(&bearer(&last)), CALLED).await.is_err());
    assert_eq!(v.replay_counters().replayed, 1);
}
