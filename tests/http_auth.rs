//! Authentication at the edge (auth.required = true): discovery, service and feedback calls
//! without a valid token get 401 with no detail; the sandbox's signed calls get through.

mod auth_support;
mod common;

use common::{fixture, sandbox_token, spawn_app, test_config, TestApp};

/// Discovery, a service and its feedback endpoint, each with a body it would accept.
fn protected_calls() -> Vec<(reqwest::Method, &'static str, String)> {
    vec![
        (reqwest::Method::GET, "/cds-services", String::new()),
        (
            reqwest::Method::POST,
            "/cds-services/jak-sle-order-sign",
            fixture("sandbox-r4-order-sign.json"),
        ),
        (
            reqwest::Method::POST,
            "/cds-services/jak-sle-order-sign/feedback",
            r#"{"feedback":[{"card":"c","outcome":"overridden","outcomeTimestamp":"2026-11-26T10:00:00Z"}]}"#
                .to_string(),
        ),
    ]
}

/// The status of one call with `token`.
async fn status_with(
    app: &TestApp,
    method: &reqwest::Method,
    url: &str,
    token: &str,
    body: &str,
) -> u16 {
    app.client
        .request(method.clone(), url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn app_with_auth() -> TestApp {
    let mut config = test_config();
    config.auth.required = true;
    spawn_app(config).await
}

#[tokio::test]
async fn calls_without_a_token_are_401_without_detail() {
    let app = app_with_auth().await;
    let mut calls = protected_calls();
    calls.push((
        reqwest::Method::POST,
        "/cds-services/no-such-service",
        fixture("sandbox-r4-order-sign.json"),
    ));
    for (method, path, body) in calls {
        let res = app
            .client
            .request(method, app.url(path))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{path}");
        assert!(
            res.bytes().await.unwrap().is_empty(),
            "{path}: 401 body not empty"
        );
    }
}

#[tokio::test]
async fn a_token_for_another_url_is_401() {
    let app = app_with_auth().await;
    let res = app
        .client
        .get(app.url("/cds-services"))
        .bearer_auth(sandbox_token("https://elsewhere.example.org/cds-services"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

/// Tokens signed as the sandbox signs them pass, with the audience as the client built it.
#[tokio::test]
async fn sandbox_signed_calls_are_accepted() {
    let app = app_with_auth().await;
    // The token's aud is the URL as sent, trailing slash included.
    for path in ["/cds-services", "/cds-services/"] {
        assert_eq!(app.get(path).await.status(), 200, "{path}");
    }
    // The sandbox builds "{discovery url}/{id}"; with a trailing slash the path has "//".
    for path in [
        "/cds-services/jak-sle-order-sign",
        "/cds-services//jak-sle-order-sign",
    ] {
        let res = app.post(path, fixture("sandbox-r4-order-sign.json")).await;
        assert_eq!(res.status(), 200, "{path}");
    }
}

/// CDS Hooks 2.0.1: JWTs SHALL NOT be unsecured (`alg: none`) nor signed with a symmetric
/// algorithm; the service refuses them at every endpoint, even with valid claims and the
/// sandbox's kid (an HS key made of the published public key is the classic confusion).
#[tokio::test]
async fn unsecured_and_symmetric_tokens_are_401_at_every_endpoint() {
    use auth_support::{b64url, claims, sign};
    use jsonwebtoken::{Algorithm, EncodingKey};

    let app = app_with_auth().await;
    let public = std::fs::read(common::shared("sandbox-keys/jwks.json")).unwrap();
    let calls = protected_calls();
    for (method, path, body) in calls {
        let url = app.url(path);
        let header = serde_json::json!({"alg": "none", "typ": "JWT", "kid": common::SANDBOX_KID});
        let mut tokens = vec![(
            "none".to_string(),
            format!(
                "{}.{}.",
                b64url(header.to_string().as_bytes()),
                b64url(claims(common::SANDBOX_ISS, &url).to_string().as_bytes())
            ),
        )];
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let t = sign(
                alg,
                common::SANDBOX_KID,
                None,
                &claims(common::SANDBOX_ISS, &url),
                &EncodingKey::from_secret(&public),
            );
            tokens.push((format!("{alg:?}"), t));
        }
        for (alg, token) in tokens {
            let status = status_with(&app, &method, &url, &token, &body).await;
            assert_eq!(status, 401, "{alg} at {path}");
        }
        // The same call with a genuine ES384 token gets through.
        let status = status_with(&app, &method, &url, &sandbox_token(&url), &body).await;
        assert_eq!(status, 200, "ES384 at {path}");
    }
}
