//! Pre-sign CDS Hooks client tokens as the public sandbox does (ES384, its published key),
//! one per line, each with its own `jti`: input for the authenticated load test
//! (scripts/load.sh), where every request must carry a fresh token.
//!
//! cargo run --release --example sign_tokens -- AUD COUNT OUT [KEY_PEM]

use std::io::Write;

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};

const DEFAULT_KEY: &str = "../shared/reference/sandbox-keys/ecprivkey.pem";
const SANDBOX_ISS: &str = "https://sandbox.cds-hooks.org";
const SANDBOX_KID: &str = "44823f3d-0b01-4a6c-a80e-b9d3e8a7226f";
const SANDBOX_JKU: &str = "https://sandbox.cds-hooks.org/.well-known/jwks.json";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        anyhow::bail!("usage: sign_tokens AUD COUNT OUT [KEY_PEM]");
    }
    let aud = args[1].clone();
    let count: usize = args[2].parse()?;
    let out = &args[3];
    let pem = std::fs::read(args.get(4).map(String::as_str).unwrap_or(DEFAULT_KEY))?;
    let key = EncodingKey::from_ec_pem(&pem)?;
    let mut header = Header::new(Algorithm::ES384);
    header.kid = Some(SANDBOX_KID.into());
    header.jku = Some(SANDBOX_JKU.into());
    // Valid for 10 minutes from now: generate just before the run.
    let iat = chrono::Utc::now().timestamp();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunks: Vec<Vec<String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (key, header, aud) = (&key, &header, &aud);
                s.spawn(move || {
                    (t..count)
                        .step_by(threads)
                        .map(|_| {
                            let claims = serde_json::json!({
                                "iss": SANDBOX_ISS, "aud": aud, "iat": iat, "exp": iat + 600,
                                "jti": uuid::Uuid::new_v4().to_string(),
                            });
                            encode(header, &claims, key).expect("signing with a valid key")
                        })
                        .collect::<Vec<String>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("signer thread"))
            .collect()
    });
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    for token in chunks.iter().flatten() {
        writeln!(file, "{token}")?;
    }
    file.flush()?;
    eprintln!("{count} tokens for {aud} written to {out}");
    Ok(())
}
