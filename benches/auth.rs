//! Cost of trusting a CDS client: one ES384 (P-384) signature check alone — jsonwebtoken's
//! `decode` with the public sandbox key — which bounds authenticated throughput at
//! cores ÷ its time; and the service's full `Verifier::verify` path (header, issuer, key,
//! signature, claims, replay cache) with a distinct pre-signed token per call, as real
//! clients send (tokens are signed outside the timed loop).
//!
//! cargo bench --bench auth -- --warm-up-time 1 --measurement-time 5

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use jak_sle_cds::config::AuthSettings;
use jak_sle_cds::server::auth::Verifier;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::Value;

const SANDBOX_KEY: &str = "../shared/reference/sandbox-keys/ecprivkey.pem";
const SANDBOX_JWKS: &str = "hooks/keys/sandbox-jwks.json";
const SANDBOX_ISS: &str = "https://sandbox.cds-hooks.org";
const SANDBOX_KID: &str = "44823f3d-0b01-4a6c-a80e-b9d3e8a7226f";
const SANDBOX_JKU: &str = "https://sandbox.cds-hooks.org/.well-known/jwks.json";
const CALLED: &str = "http://127.0.0.1:18080/cds-services/jak-sle-order-select";

/// A sandbox-style token for `CALLED` with a fresh jti, valid for 5 minutes.
fn token(key: &EncodingKey) -> String {
    let mut header = Header::new(Algorithm::ES384);
    header.kid = Some(SANDBOX_KID.into());
    header.jku = Some(SANDBOX_JKU.into());
    let now = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({
        "iss": SANDBOX_ISS, "aud": CALLED, "iat": now, "exp": now + 300,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    encode(&header, &claims, key).expect("signing with the sandbox key")
}

fn bench(c: &mut Criterion) {
    let pem = std::fs::read(SANDBOX_KEY).unwrap_or_else(|e| panic!("{SANDBOX_KEY}: {e}"));
    let key = EncodingKey::from_ec_pem(&pem).expect("sandbox private key");
    let jwks: JwkSet =
        serde_json::from_slice(&std::fs::read(SANDBOX_JWKS).expect("sandbox JWKS")).expect("JWKS");
    let decoding = DecodingKey::from_jwk(&jwks.keys[0]).expect("sandbox public key");
    let mut validation = Validation::new(Algorithm::ES384);
    validation.set_issuer(&[SANDBOX_ISS]);
    validation.set_audience(&[CALLED]);
    let one = token(&key);
    decode::<Value>(&one, &decoding, &validation).expect("the token verifies");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let verifier = rt
        .block_on(Verifier::from_settings(&AuthSettings::default()))
        .expect("verifier with the sandbox key");
    let header = format!("Bearer {}", token(&key));
    rt.block_on(verifier.verify(Some(&header), CALLED))
        .expect("the full path accepts a sandbox token");
    assert!(
        rt.block_on(verifier.verify(Some(&header), CALLED)).is_err(),
        "a replayed jti is refused"
    );

    let mut group = c.benchmark_group("auth");
    group.bench_function("es384_signature_check", |b| {
        b.iter(|| decode::<Value>(&one, &decoding, &validation).expect("verifies"))
    });
    group.bench_function("verifier_full_unique_jti", |b| {
        b.iter_batched(
            || format!("Bearer {}", token(&key)),
            |header| {
                rt.block_on(verifier.verify(Some(&header), CALLED))
                    .expect("accepted")
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
