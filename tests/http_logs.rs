//! What a hook call writes to the log, through the whole HTTP path (issue 2): the service's
//! own events at TRACE and every dependency at DEBUG are captured while calls carrying a
//! client JWT, a fhirAuthorization access token and a patient id are answered 200, 400, 401,
//! 412 (FHIR server answering 500, and down) and 403, and feedback is stored. None of the
//! token strings, the JWT (or any of its parts), the fhirServer URL query or the patient id
//! may appear.
//!
//! The subscriber is process-global (the server's workers run on their own threads), so this
//! file holds exactly one test.

mod auth_support;
mod common;
mod ops_support;

use common::{fixture, sandbox_token, spawn_app, test_config, SANDBOX_ISS};
use ops_support::Captured;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const FIXTURE_PATIENT: &str = "smart-1288992";
const PATIENT: &str = "log-patient-8e41b0d2";
const ACCESS_TOKEN: &str = "fhir-access-token-71c0a9e35d";
/// Patient data inside a resource that cannot be read.
const UNREADABLE_VALUE: &str = "Jane Unreadable-Doe";
/// Canary values of the wrong JSON type (serde quotes such values in its messages): a date
/// as a number, a numeric `valueString`, a numeric subject reference, a numeric code.
const CANARIES: [&str; 4] = ["19111111", "48151623", "31415926", "27182818"];
const OTHER_PATIENT: &str = "other-patient-3f9a61";
const SERVICE: &str = "/cds-services/jak-sle-order-select";

/// The order-select fixture for [`PATIENT`] against `fhir_server` with the access token;
/// `missing` prefetch keys removed.
fn request(fhir_server: &str, missing: &[&str]) -> Value {
    let text = fixture("sandbox-r4-order-select.json").replace(FIXTURE_PATIENT, PATIENT);
    let mut req: Value = serde_json::from_str(&text).unwrap();
    req["fhirServer"] = json!(fhir_server);
    req["fhirAuthorization"] = json!({"access_token": ACCESS_TOKEN, "token_type": "Bearer",
        "expires_in": 300, "scope": "patient/*.read", "subject": "jak-sle-cds"});
    for key in missing {
        req["prefetch"].as_object_mut().unwrap().remove(*key);
    }
    req
}

/// A JWT as the sandbox signs it, with extra claims.
fn jwt_with(aud: &str, extra: Value) -> String {
    let mut c = auth_support::claims(SANDBOX_ISS, aud);
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    auth_support::sandbox_token(&c)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_jwt_or_patient_id_reaches_the_log_on_any_path() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "debug,jak_sle_cds=trace",
        ))
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("first subscriber");

    let ok_fhir = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/fhir/Condition"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                // This patient's conditions (another patient's would be removed: 412).
                serde_json::from_str::<Value>(
                    &fixture("sandbox-r4-order-select.json").replace(FIXTURE_PATIENT, PATIENT),
                )
                .unwrap()["prefetch"]["conditions"]
                    .clone(),
            ),
        )
        .mount(&ok_fhir)
        .await;
    let failing_fhir = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500).set_body_string(format!(
            "{{\"resourceType\":\"OperationOutcome\",\"issue\":[{{\"severity\":\"error\",\
             \"code\":\"exception\",\"diagnostics\":\"no such patient {PATIENT}\"}}]}}"
        )))
        .mount(&failing_fhir)
        .await;
    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };

    let mut config = test_config();
    config.fhir.allowed_servers = vec!["http://127.0.0.1:*".into()];
    let app = spawn_app(config).await;
    let url = app.url(SERVICE);
    let first = sandbox_token(&url);
    let ok_server = format!("{}/fhir", ok_fhir.uri());
    let calls = [
        // 200, conditions fetched from the FHIR server with the access token.
        (
            first.clone(),
            request(&ok_server, &["conditions"]).to_string(),
        ),
        // 200 with an unreadable Observation whose bad value holds patient data: skipped,
        // counted on the cards, and logged with its reason but without the value.
        (sandbox_token(&url), {
            let mut r = request(&ok_server, &[]);
            r["prefetch"]["labs"] = json!({"resourceType": "Bundle", "type": "searchset",
                "entry": [{"resource": {"resourceType": "Observation", "id": "bad-obs",
                    "status": "final", "subject": {"reference": format!("Patient/{PATIENT}")},
                    "valueQuantity": {"value": format!("{UNREADABLE_VALUE} {PATIENT}")}}},
                    {"resource": {"resourceType": "Observation", "id": "bad-date",
                    "status": "final", "effectiveDateTime": 19111111}},
                    {"resource": {"resourceType": "Observation", "id": "bad-string",
                    "status": "final", "valueString": 48151623}},
                    {"resource": {"resourceType": "Observation", "id": "bad-subject",
                    "status": "final", "subject": {"reference": 31415926}}},
                    {"resource": {"resourceType": "Observation", "id": "bad-code",
                    "status": "final", "code": {"coding": [{"code": 27182818}]}}},
                    // Another patient's: removed, counted and logged without its ids.
                    {"resource": {"resourceType": "Observation", "id": "theirs",
                    "status": "final", "subject": {"reference": format!("Patient/{OTHER_PATIENT}")}}}]});
            r.to_string()
        }),
        // 412: the FHIR server answers 500 (its body names the patient).
        (
            sandbox_token(&url),
            request(&format!("{}/fhir", failing_fhir.uri()), &["conditions"]).to_string(),
        ),
        // 412: the FHIR server is down.
        (
            sandbox_token(&url),
            request(
                &format!("http://127.0.0.1:{closed_port}/fhir"),
                &["conditions"],
            )
            .to_string(),
        ),
        // 403: not an allowed server; the patient id in its query.
        (
            sandbox_token(&url),
            request(
                &format!("http://169.254.169.254/fhir?patient={PATIENT}"),
                &["conditions"],
            )
            .to_string(),
        ),
        // 400: wrong hook for the service.
        (sandbox_token(&url), {
            let mut r = request(&ok_server, &[]);
            r["hook"] = json!("order-sign");
            r.to_string()
        }),
        // 400: fhirAuthorization of the wrong shape (the token as a bare string).
        (sandbox_token(&url), {
            let mut r = request(&ok_server, &[]);
            r["fhirAuthorization"] = json!(ACCESS_TOKEN);
            r.to_string()
        }),
        // 400: patientId of the wrong type, and a body that is cut off after the patient id.
        (sandbox_token(&url), {
            let mut r = request(&ok_server, &[]);
            r["context"]["patientId"] = json!([PATIENT]);
            r.to_string()
        }),
        (
            sandbox_token(&url),
            format!("{{\"hook\":\"order-select\",\"context\":{{\"patientId\":\"{PATIENT}\""),
        ),
        // 401: expired, for another URL, with the patient id as subject, tampered, garbage.
        (
            jwt_with(&url, json!({"exp": 1_000_000_000, "sub": PATIENT})),
            request(&ok_server, &[]).to_string(),
        ),
        (
            // (The refusal names the wrong aud to help fix a misconfigured client: it is
            // the client's service URL, not patient data.)
            jwt_with(
                "https://elsewhere.example.org/cds-services/jak-sle-order-select",
                json!({"sub": PATIENT, "patient": PATIENT}),
            ),
            request(&ok_server, &[]).to_string(),
        ),
        (
            {
                let t = sandbox_token(&url);
                let mut parts: Vec<&str> = t.split('.').collect();
                let forged = auth_support::b64url(
                    json!({"iss": SANDBOX_ISS, "aud": url,
                    "sub": PATIENT, "exp": 4_000_000_000_i64, "iat": 1, "jti": "x"})
                    .to_string()
                    .as_bytes(),
                );
                parts[1] = &forged;
                parts.join(".")
            },
            request(&ok_server, &[]).to_string(),
        ),
        (
            format!("{PATIENT}.{ACCESS_TOKEN}.{PATIENT}"),
            request(&ok_server, &[]).to_string(),
        ),
        // 401: the first JWT replayed.
        (first, request(&ok_server, &[]).to_string()),
    ];
    let mut jwts: Vec<String> = Vec::new();
    let mut statuses = Vec::new();
    for (token, body) in calls {
        let res = app.post_with_token(SERVICE, &token, body).await.unwrap();
        statuses.push(res.status().as_u16());
        jwts.push(token);
    }
    assert_eq!(
        statuses,
        [200, 200, 412, 412, 403, 400, 400, 400, 400, 401, 401, 401, 401, 401]
    );

    // Feedback with a token.
    let feedback = format!("{SERVICE}/feedback");
    let token = sandbox_token(&app.url(&feedback));
    let body = json!({"feedback": [{"card": "c1", "outcome": "overridden",
        "outcomeTimestamp": "2026-11-26T10:00:00Z"}]});
    let res = app
        .post_with_token(&feedback, &token, body.to_string())
        .await
        .unwrap();
    jwts.push(token);
    assert_eq!(res.status(), 200);
    // Let the background audit writes finish and log.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    let log = captured.text();
    if std::env::var_os("SHOW_LOG").is_some() {
        eprintln!("{log}");
    }
    // The capture works: the service's own events are there.
    for expected in [
        "hook call",
        "hook call refused",
        "bearer token rejected",
        "feedback stored",
        "resource skipped: could not be read",
        // The field path and the expected type, instead of the value.
        "Observation.effectiveDateTime: expected a string",
        "Observation.valueString: expected a string",
        "Observation.subject.reference: expected a string",
        "Observation.code.coding[0].code: expected a string",
        "resources not clearly of the hook's patient removed",
    ] {
        assert!(log.contains(expected), "{expected:?} not logged:\n{log}");
    }
    let mut secrets: Vec<String> =
        vec![PATIENT.into(), ACCESS_TOKEN.into(), UNREADABLE_VALUE.into()];
    secrets.extend(CANARIES.iter().map(|c| c.to_string()));
    secrets.push(OTHER_PATIENT.into());
    for jwt in &jwts {
        secrets.push(jwt.clone());
        secrets.extend(
            jwt.split('.')
                .filter(|p| p.len() > 8)
                .map(|p| p.chars().take(24).collect::<String>()),
        );
    }
    let leaked: Vec<&String> = secrets
        .iter()
        .filter(|s| log.contains(s.as_str()))
        .collect();
    assert!(leaked.is_empty(), "leaked {leaked:?} in:\n{log}");
}
