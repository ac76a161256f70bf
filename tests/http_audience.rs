//! The JWT audience never comes from what the caller says (issue 9, failure 1): a token the
//! EHR minted for another CDS service, sent with `Host`, `X-Forwarded-Host`/`-Proto` or
//! `Forwarded` naming that service, is refused. Forwarded headers count only from a
//! configured trusted proxy; a reachable listener without `public_url` does not start.

mod common;

use common::{fixture, sandbox_token, spawn_app, test_config, TestApp};

const SERVICE: &str = "/cds-services/jak-sle-order-select";
const OTHER: &str = "https://other-cds.example/cds-services/jak-sle-order-select";

/// POST the order-select fixture with `token` and extra headers; the status.
async fn status(app: &TestApp, token: &str, headers: &[(&str, &str)]) -> u16 {
    let mut req = app
        .client
        .post(app.url(SERVICE))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(fixture("sandbox-r4-order-select.json"));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn a_token_for_another_service_is_refused_whatever_the_headers_say() {
    let app = spawn_app(test_config()).await;
    let attempts: [(&str, &[(&str, &str)]); 5] = [
        ("https", &[("host", "other-cds.example")]),
        ("http", &[("host", "other-cds.example")]),
        (
            "https",
            &[
                ("x-forwarded-host", "other-cds.example"),
                ("x-forwarded-proto", "https"),
            ],
        ),
        (
            "https",
            &[("forwarded", "proto=https;host=other-cds.example")],
        ),
        (
            "https",
            &[
                ("host", "other-cds.example"),
                (
                    "forwarded",
                    "for=10.0.0.1;proto=https;host=other-cds.example",
                ),
                ("x-forwarded-host", "other-cds.example"),
                ("x-forwarded-proto", "https"),
            ],
        ),
    ];
    for (scheme, headers) in attempts {
        let aud = OTHER.replacen("https", scheme, 1);
        assert_eq!(
            status(&app, &sandbox_token(&aud), headers).await,
            401,
            "{headers:?}"
        );
    }
    // The URL actually called, and its loopback name, still work.
    assert_eq!(
        status(&app, &sandbox_token(&app.url(SERVICE)), &[]).await,
        200
    );
    let localhost = format!("http://localhost:{}{SERVICE}", app.port);
    assert_eq!(
        status(
            &app,
            &sandbox_token(&localhost),
            &[("host", &format!("localhost:{}", app.port))]
        )
        .await,
        200
    );
}

#[tokio::test]
async fn forwarded_headers_count_from_a_trusted_proxy() {
    let mut config = test_config();
    config.proxy.trusted = vec!["127.0.0.1".into()];
    let app = spawn_app(config).await;
    let headers = [
        ("x-forwarded-host", "cds.hospital.example"),
        ("x-forwarded-proto", "https"),
    ];
    let behind = "https://cds.hospital.example/cds-services/jak-sle-order-select";
    assert_eq!(status(&app, &sandbox_token(behind), &headers).await, 200);
    assert_eq!(
        status(&app, &sandbox_token(&app.url(SERVICE)), &headers).await,
        401
    );
}

#[tokio::test]
async fn a_reachable_listener_without_public_url_does_not_start() {
    let mut config = test_config();
    config.server.listen = "0.0.0.0:0".parse().unwrap();
    let knowledge = jak_sle_cds::server::pipeline::load_knowledge(&config).unwrap();
    let e = jak_sle_cds::server::Application::build(config.clone(), knowledge)
        .await
        .err()
        .expect("refused");
    assert!(e.to_string().contains("server.public_url"), "{e}");
    config.server.public_url = Some("https://cds.hospital.example".into());
    let knowledge = jak_sle_cds::server::pipeline::load_knowledge(&config).unwrap();
    assert!(jak_sle_cds::server::Application::build(config, knowledge)
        .await
        .is_ok());
}
