//! The token matrix of issue 4: what passes and what is refused (each refusal is a 401 at the
//! edge). Keys: the public sandbox key (ES384) and the committed test-only RSA key (RS384).

mod auth_support;

use auth_support::*;
use jak_sle_cds::config::AuthSettings;
use jak_sle_cds::server::auth::{AuthError, Claims, Verifier};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::json;

/// Refused, for the expected reason (the reason only reaches the log; the client sees 401).
#[track_caller]
fn assert_refused(result: Result<Claims, AuthError>, reason: &str) {
    match result {
        Ok(_) => panic!("accepted; expected refusal: {reason}"),
        Err(AuthError::Rejected(r)) => {
            assert!(r.contains(reason), "refused for {r:?}, expected {reason:?}")
        }
    }
}

#[tokio::test]
async fn a_valid_sandbox_es384_token_passes() {
    let v = verifier().await;
    let t = sandbox_token(&claims(SANDBOX_ISS, CALLED));
    let c = v.verify(Some(&bearer(&t)), CALLED).await.expect("accepted");
    assert_eq!(c.iss, SANDBOX_ISS);
}

#[tokio::test]
async fn a_valid_rs384_token_passes() {
    let v = verifier().await;
    let t = ehr_token(&claims(EHR_ISS, CALLED));
    assert!(v.verify(Some(&bearer(&t)), CALLED).await.is_ok());
}

#[tokio::test]
async fn valid_es256_and_rs256_tokens_pass() {
    let v = verifier().await;
    let es = sign(
        Algorithm::ES256,
        "test-only-ec256-1",
        None,
        &claims(EHR_ISS, CALLED),
        &ec256_key(),
    );
    let rs = sign(
        Algorithm::RS256,
        "test-only-rsa-noalg",
        None,
        &claims(EHR_ISS, CALLED),
        &rsa_key(),
    );
    let es = v.verify(Some(&bearer(&es)), CALLED).await;
    let rs = v.verify(Some(&bearer(&rs)), CALLED).await;
    assert!(es.is_ok() && rs.is_ok(), "{es:?} {rs:?}");
}

#[tokio::test]
async fn the_default_configuration_trusts_the_sandbox_out_of_the_box() {
    let v = Verifier::from_settings(&AuthSettings::default())
        .await
        .unwrap();
    let t = sandbox_token(&claims(SANDBOX_ISS, CALLED));
    assert!(v.verify(Some(&bearer(&t)), CALLED).await.is_ok());
}

#[tokio::test]
async fn an_audience_array_and_a_doubled_slash_are_accepted() {
    let v = verifier().await;
    let mut c = claims(SANDBOX_ISS, "x");
    c["aud"] = json!([
        "https://other.example.org",
        "https://cds.example.org/cds-services//jak-order-sign"
    ]);
    assert!(v
        .verify(Some(&bearer(&sandbox_token(&c))), CALLED)
        .await
        .is_ok());
}

#[tokio::test]
async fn unknown_claims_are_tolerated() {
    let v = verifier().await;
    let mut c = claims(EHR_ISS, CALLED);
    c["sub"] = json!("some-client");
    c["nbf"] = c["iat"].clone();
    c["tenant"] = json!("t1");
    assert!(v
        .verify(Some(&bearer(&ehr_token(&c))), CALLED)
        .await
        .is_ok());
}

#[tokio::test]
async fn wrong_aud_is_refused() {
    let v = verifier().await;
    let t = sandbox_token(&claims(
        SANDBOX_ISS,
        "https://cds.example.org/cds-services/other",
    ));
    assert_refused(
        v.verify(Some(&bearer(&t)), CALLED).await,
        "aud is not the URL called",
    );
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let v = verifier().await;
    let mut c = claims(SANDBOX_ISS, CALLED);
    c["iat"] = json!(now() - 4000);
    c["exp"] = json!(now() - 3700);
    assert_refused(
        v.verify(Some(&bearer(&sandbox_token(&c))), CALLED).await,
        "token expired",
    );
}

#[tokio::test]
async fn an_iat_in_the_future_is_refused() {
    let v = verifier().await;
    let mut c = claims(SANDBOX_ISS, CALLED);
    c["iat"] = json!(now() + 3600);
    c["exp"] = json!(now() + 3900);
    assert_refused(
        v.verify(Some(&bearer(&sandbox_token(&c))), CALLED).await,
        "iat is in the future",
    );
}

#[tokio::test]
async fn an_unknown_issuer_is_refused() {
    let v = verifier().await;
    let t = sandbox_token(&claims("https://evil.example.org", CALLED));
    assert_refused(v.verify(Some(&bearer(&t)), CALLED).await, "not trusted");
}

#[tokio::test]
async fn an_unknown_kid_is_refused() {
    let v = verifier().await;
    let t = sign(
        Algorithm::ES384,
        "no-such-kid",
        None,
        &claims(SANDBOX_ISS, CALLED),
        &sandbox_key(),
    );
    assert_refused(v.verify(Some(&bearer(&t)), CALLED).await, "unknown kid");
}

#[tokio::test]
async fn alg_none_is_refused() {
    let v = verifier().await;
    let header = json!({"alg": "none", "typ": "JWT", "kid": SANDBOX_KID});
    let t = format!(
        "{}.{}.",
        b64url(header.to_string().as_bytes()),
        b64url(claims(SANDBOX_ISS, CALLED).to_string().as_bytes())
    );
    assert_refused(
        v.verify(Some(&bearer(&t)), CALLED).await,
        "malformed token header",
    );
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    let v = verifier().await;
    let public = std::fs::read(repo_path("hooks/keys/sandbox-jwks.json")).unwrap();
    let t = sign(
        Algorithm::HS256,
        SANDBOX_KID,
        None,
        &claims(SANDBOX_ISS, CALLED),
        &EncodingKey::from_secret(&public),
    );
    assert_refused(
        v.verify(Some(&bearer(&t)), CALLED).await,
        "algorithm HS256 not allowed",
    );
}

#[tokio::test]
async fn a_tampered_payload_is_refused() {
    let v = verifier().await;
    let genuine = sandbox_token(&claims(
        SANDBOX_ISS,
        "https://cds.example.org/cds-services/other",
    ));
    let parts: Vec<&str> = genuine.split('.').collect();
    let forged_payload = b64url(claims(SANDBOX_ISS, CALLED).to_string().as_bytes());
    let t = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    assert_refused(v.verify(Some(&bearer(&t)), CALLED).await, "bad signature");
}

#[tokio::test]
async fn a_replayed_jti_is_refused() {
    let v = verifier().await;
    let t = sandbox_token(&claims(SANDBOX_ISS, CALLED));
    let first = v.verify(Some(&bearer(&t)), CALLED).await;
    let second = v.verify(Some(&bearer(&t)), CALLED).await;
    assert!(first.is_ok() && matches!(second, Err(AuthError::Rejected(r)) if r == "jti replayed"));
}

#[tokio::test]
async fn a_missing_header_is_refused() {
    let v = verifier().await;
    assert_refused(v.verify(None, CALLED).await, "no Authorization header");
}

#[tokio::test]
async fn a_token_without_jti_is_refused() {
    let v = verifier().await;
    let mut c = claims(SANDBOX_ISS, CALLED);
    c.as_object_mut().unwrap().remove("jti");
    assert_refused(
        v.verify(Some(&bearer(&sandbox_token(&c))), CALLED).await,
        "no jti claim",
    );
}

#[tokio::test]
async fn a_token_without_iat_is_refused() {
    let v = verifier().await;
    let mut c = claims(SANDBOX_ISS, CALLED);
    c.as_object_mut().unwrap().remove("iat");
    assert_refused(
        v.verify(Some(&bearer(&sandbox_token(&c))), CALLED).await,
        "no iat claim",
    );
}

#[tokio::test]
async fn another_scheme_than_bearer_is_refused() {
    let v = verifier().await;
    let t = sandbox_token(&claims(SANDBOX_ISS, CALLED));
    assert_refused(
        v.verify(Some(&format!("Basic {t}")), CALLED).await,
        "not a Bearer token",
    );
}

#[tokio::test]
async fn an_algorithm_the_key_does_not_declare_is_refused() {
    // The test RSA key declares RS384: an RS256 signature with it is not accepted.
    let v = verifier().await;
    let t = sign(
        Algorithm::RS256,
        EHR_KID,
        None,
        &claims(EHR_ISS, CALLED),
        &rsa_key(),
    );
    assert_refused(
        v.verify(Some(&bearer(&t)), CALLED).await,
        "alg does not match the key",
    );
}

#[tokio::test]
async fn a_key_of_one_issuer_does_not_sign_for_another() {
    // Signed with the RSA issuer's key and kid, but claiming to be the sandbox.
    let v = verifier().await;
    let t = ehr_token(&claims(SANDBOX_ISS, CALLED));
    assert_refused(v.verify(Some(&bearer(&t)), CALLED).await, "unknown kid");
}

#[tokio::test]
async fn without_auth_required_every_call_is_accepted() {
    let s = AuthSettings {
        required: false,
        ..AuthSettings::default()
    };
    let v = Verifier::from_settings(&s).await.unwrap();
    assert!(v.verify(None, CALLED).await.is_ok());
}

#[tokio::test]
async fn required_auth_without_issuers_is_a_configuration_error() {
    let s = AuthSettings {
        issuers: Vec::new(),
        ..AuthSettings::default()
    };
    assert!(Verifier::from_settings(&s).await.is_err());
}

#[tokio::test]
async fn a_trusted_kid_with_a_signature_by_another_key_is_refused() {
    let v = verifier().await;
    let c = claims(SANDBOX_ISS, CALLED);
    let t = sign(Algorithm::ES384, SANDBOX_KID, None, &c, &second_ec_key());
    assert_refused(v.verify(Some(&bearer(&t)), CALLED).await, "bad signature");
}

#[tokio::test]
async fn a_header_with_critical_extensions_is_refused() {
    let v = verifier().await;
    let mut header = jsonwebtoken::Header::new(Algorithm::ES384);
    header.kid = Some(SANDBOX_KID.into());
    header.crit = Some(vec!["b64".into()]);
    let t = jsonwebtoken::encode(&header, &claims(SANDBOX_ISS, CALLED), &sandbox_key()).unwrap();
    assert_refused(v.verify(Some(&bearer(&t)), CALLED).await, "crit");
}
