//! A fixed code for each reason a token is refused: the `reason` label of
//! `cds_auth_failures_total` (the logged reason can hold client text; the code never does).

/// The code of a refusal reason as `check` words it (unknown wording: `other`).
pub(crate) fn refusal_code(reason: &str) -> &'static str {
    const CODES: [(&str, &str); 21] = [
        ("no Authorization header", "missing_token"),
        ("Authorization is not a Bearer token", "not_bearer"),
        ("bearer token empty or too long", "malformed"),
        ("malformed token", "malformed"),
        ("claims malformed", "malformed"),
        ("token header has", "malformed"),
        ("algorithm ", "algorithm"),
        ("alg does not match the key", "algorithm"),
        ("issuer ", "untrusted_issuer"),
        ("iss mismatch", "untrusted_issuer"),
        ("unknown kid", "unknown_kid"),
        ("bad signature", "bad_signature"),
        ("token expired", "expired"),
        ("nbf is in the future", "not_yet_valid"),
        ("iat is in the future", "not_yet_valid"),
        ("no iat claim", "missing_claim"),
        ("no jti claim", "missing_claim"),
        ("aud is not the URL called", "audience"),
        ("jti replayed", "replayed"),
        ("replay cache", "replay_cache"),
        ("token lifetime", "lifetime"),
    ];
    if reason.starts_with("no ") && reason.ends_with(" claim") {
        return "missing_claim";
    }
    CODES
        .iter()
        .find(|(prefix, _)| reason.starts_with(prefix))
        .map_or("other", |(_, code)| code)
}

#[cfg(test)]
mod tests {
    use super::refusal_code;

    #[test]
    fn each_refusal_has_a_fixed_code() {
        for (reason, code) in [
            ("no Authorization header", "missing_token"),
            ("malformed token header", "malformed"),
            ("algorithm HS256 not allowed", "algorithm"),
            ("issuer \"https://evil\" not trusted", "untrusted_issuer"),
            ("unknown kid for the issuer", "unknown_kid"),
            ("bad signature", "bad_signature"),
            ("token expired", "expired"),
            ("no exp claim", "missing_claim"),
            ("aud is not the URL called (...)", "audience"),
            ("jti replayed", "replayed"),
            ("replay cache full", "replay_cache"),
            ("something new", "other"),
        ] {
            assert_eq!(refusal_code(reason), code, "{reason}");
        }
    }
}
