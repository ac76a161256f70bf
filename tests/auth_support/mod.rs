//! Shared helpers of the authentication tests: signing keys (the public sandbox key and the
//! committed test-only keys), token building, and a verifier configured like production plus a
//! test RSA issuer.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use jak_sle_cds::config::{AuthSettings, IssuerSettings};
use jak_sle_cds::server::auth::{Verifier, VerifierOptions};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

pub const SANDBOX_ISS: &str = "https://sandbox.cds-hooks.org";
pub const SANDBOX_KID: &str = "44823f3d-0b01-4a6c-a80e-b9d3e8a7226f";
pub const SANDBOX_JKU: &str = "https://sandbox.cds-hooks.org/.well-known/jwks.json";
pub const EHR_ISS: &str = "https://ehr.example.org/oauth2";
pub const EHR_KID: &str = "test-only-rsa-1";
pub const SECOND_EC_KID: &str = "test-only-ec384-2";
pub const CALLED: &str = "https://cds.example.org/cds-services/jak-order-sign";

pub fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn read(rel: &str) -> Vec<u8> {
    let p = repo_path(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The public sandbox's private key (../shared/reference/sandbox-keys/ecprivkey.pem).
pub fn sandbox_key() -> EncodingKey {
    EncodingKey::from_ec_pem(&read("../shared/reference/sandbox-keys/ecprivkey.pem")).unwrap()
}

pub fn rsa_key() -> EncodingKey {
    EncodingKey::from_rsa_pem(&read("tests/keys/test-only-rsa-private.pem")).unwrap()
}

pub fn ec256_key() -> EncodingKey {
    EncodingKey::from_ec_pem(&read("tests/keys/test-only-ec256-private.pem")).unwrap()
}

pub fn second_ec_key() -> EncodingKey {
    EncodingKey::from_ec_pem(&read("tests/keys/test-only-ec384-private.pem")).unwrap()
}

pub fn second_ec_jwks() -> Value {
    serde_json::from_slice(&read("tests/keys/test-only-ec384-jwks.json")).unwrap()
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Claims as the sandbox sends them: a fresh jti, 5 minutes of life.
pub fn claims(iss: &str, aud: &str) -> Value {
    let t = now();
    json!({"iss": iss, "aud": aud, "iat": t, "exp": t + 300, "jti": uuid::Uuid::new_v4().to_string()})
}

pub fn sign(
    alg: Algorithm,
    kid: &str,
    jku: Option<&str>,
    claims: &Value,
    key: &EncodingKey,
) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_string());
    header.jku = jku.map(str::to_string);
    encode(&header, claims, key).unwrap()
}

pub fn sandbox_token(claims: &Value) -> String {
    sign(
        Algorithm::ES384,
        SANDBOX_KID,
        Some(SANDBOX_JKU),
        claims,
        &sandbox_key(),
    )
}

pub fn ehr_token(claims: &Value) -> String {
    sign(Algorithm::RS384, EHR_KID, None, claims, &rsa_key())
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// base64url without padding, for hand-made tokens.
pub fn b64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// The default configuration (sandbox issuer) plus an Epic-style RSA issuer.
pub fn settings() -> AuthSettings {
    let mut s = AuthSettings::default();
    s.issuers.push(IssuerSettings {
        iss: EHR_ISS.into(),
        jwks_file: Some(repo_path("tests/keys/test-only-ehr-jwks.json")),
        jwks_url: None,
        jku: Vec::new(),
    });
    s
}

pub fn options() -> VerifierOptions {
    VerifierOptions {
        refresh_interval: Duration::from_secs(60),
        base_dir: repo_path(""),
        ..VerifierOptions::default()
    }
}

pub async fn verifier() -> Verifier {
    Verifier::with_options(&settings(), options())
        .await
        .unwrap()
}
