//! Go-live governance over HTTP (issue 11): a silent service answers `{"cards": []}` while its
//! audit row holds the cards it would have shown (mode silent); a service switched off is
//! absent from discovery and answers 404; the knowledge version is in discovery, in every
//! card and in every audit row; the report counts silent cards apart from live ones, per
//! knowledge version, in text and in HTML.

mod common;

use common::{eventually, fixture, open_store, spawn_app, store_sql, test_config};
use jak_sle_cds::config::{ServiceMode, ServiceSettings};
use jak_sle_cds::knowledge::version::EXTENSION_KEY;
use jak_sle_cds::knowledge::Knowledge;
use serde_json::{json, Value};

const SILENT: &str = "jak-sle-order-select";
const LIVE: &str = "jak-sle-order-sign";
const OFF: &str = "jak-sle-medication-prescribe";

#[derive(Debug, sqlx::FromRow)]
struct Row {
    cards: String,
    mode: String,
    knowledge_version: String,
    status: i64,
}

async fn audit_row(pool: &sqlx::SqlitePool, hook_instance: &str) -> Row {
    eventually(&format!("the audit record of {hook_instance}"), || async {
        sqlx::query_as::<_, Row>(
            "SELECT cards, mode, knowledge_version, status FROM audit WHERE hook_instance = $1",
        )
        .bind(hook_instance)
        .fetch_optional(pool)
        .await
        .expect("audit query")
    })
    .await
}

fn request(name: &str, hook_instance: &str) -> String {
    let mut req: Value = serde_json::from_str(&fixture(name)).unwrap();
    req["hookInstance"] = json!(hook_instance);
    req.to_string()
}

fn topics(cards: &Value) -> Vec<(String, String)> {
    cards
        .as_array()
        .expect("cards")
        .iter()
        .map(|c| {
            (
                c["source"]["topic"]["code"].as_str().unwrap().to_string(),
                c["indicator"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_off_services_and_the_knowledge_version_everywhere() {
    let mut config = test_config();
    for (id, mode) in [(SILENT, ServiceMode::Silent), (OFF, ServiceMode::Off)] {
        config
            .services
            .insert(id.to_string(), ServiceSettings { mode });
    }
    let version = Knowledge::embedded().unwrap().version;
    let label = version.label();
    let app = spawn_app(config.clone()).await;
    let sql = store_sql(&config).await;

    // Discovery: the off service is absent; each service names the knowledge version.
    let doc: Value = app.get("/cds-services").await.json().await.unwrap();
    let services = doc["services"].as_array().unwrap();
    let ids: Vec<&str> = services.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&SILENT) && ids.contains(&LIVE), "{ids:?}");
    assert!(!ids.contains(&OFF), "{ids:?}");
    for s in services {
        assert_eq!(
            s["extension"][EXTENSION_KEY]["version"],
            json!(label),
            "{s}"
        );
        assert_eq!(
            s["extension"][EXTENSION_KEY]["contentHash"],
            json!(version.content_hash)
        );
    }

    // Silent: no cards answered, the would-have-shown cards audited with mode silent.
    let silent_instance = "7c1e0b9a-0000-4000-8000-0000000051e0";
    let res = app
        .call(
            SILENT,
            request("sandbox-r4-order-select.json", silent_instance),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, json!({"cards": []}));
    let row = audit_row(&sql, silent_instance).await;
    assert_eq!((row.mode.as_str(), row.status), ("silent", 200));
    assert_eq!(row.knowledge_version, label);
    let would_have: Vec<(String, String)> = serde_json::from_str(&row.cards).unwrap();
    assert!(
        would_have
            .iter()
            .any(|(t, _)| t == "jaki-sle-not-recommended"
                || t == "jaki-sle-contraindicated"
                || t == "jaki-sle-conditional"),
        "the silent call's verdict is audited: {would_have:?}"
    );

    // Live: the same patient's cards are answered, each carrying the knowledge version.
    let live_instance = "7c1e0b9a-0000-4000-8000-00000000011e";
    let res = app
        .call(LIVE, request("sandbox-r4-order-sign.json", live_instance))
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let shown = topics(&body["cards"]);
    assert!(!shown.is_empty(), "{body}");
    for card in body["cards"].as_array().unwrap() {
        assert_eq!(card["extension"][EXTENSION_KEY]["version"], json!(label));
        assert_eq!(
            card["extension"][EXTENSION_KEY]["contentHash"],
            json!(version.content_hash)
        );
    }
    let row = audit_row(&sql, live_instance).await;
    assert_eq!(
        (row.mode.as_str(), row.knowledge_version.as_str()),
        ("live", label.as_str())
    );
    let audited: Vec<(String, String)> = serde_json::from_str(&row.cards).unwrap();
    assert_eq!(audited, shown);

    // Off: 404 on the hook and feedback endpoints.
    let res = app
        .call(OFF, fixture("legacy-medication-prescribe.json"))
        .await;
    assert_eq!(res.status(), 404);
    let res = app
        .post(
            &format!("/cds-services/{OFF}/feedback"),
            json!({"feedback": []}).to_string(),
        )
        .await;
    assert_eq!(res.status(), 404);

    // The report counts silent cards apart from live ones, under the knowledge version.
    let store = open_store(&config).await;
    let report = store.report(None).await.unwrap();
    let mut silent_total = 0;
    for (topic, _) in &would_have {
        let t = report.topic_in(&label, topic).expect("topic reported");
        assert!(t.silent >= 1, "{t:?}");
        silent_total += 1;
    }
    for (topic, _) in &shown {
        assert!(report.topic_in(&label, topic).unwrap().shown >= 1);
    }
    let reported_silent: u64 = report.topics.iter().map(|t| t.silent).sum();
    let reported_live: u64 = report.topics.iter().map(|t| t.shown).sum();
    assert_eq!(reported_silent, silent_total);
    assert_eq!(reported_live, shown.len() as u64);
    assert!(report
        .weekly
        .iter()
        .any(|w| w.mode == "silent" && w.knowledge_version == label));
    let modes: Vec<&str> = report.latency.iter().map(|l| l.mode.as_str()).collect();
    assert_eq!(modes, ["live", "silent"]);
    let text = jak_sle_cds::report::text::render(&report);
    assert!(
        text.contains(&format!("Knowledge version {label}")),
        "{text}"
    );
    let html = jak_sle_cds::report::committee::render(&report, "now").unwrap();
    assert!(html.contains("silent services would have shown"));
    assert!(html.contains(&format!("Knowledge version {label}")));
    app.stop().await;
}

#[tokio::test]
async fn a_mode_for_an_unknown_service_stops_start_up() {
    let mut config = test_config();
    config
        .services
        .insert("no-such-service".into(), ServiceSettings::default());
    let knowledge = Knowledge::embedded().unwrap();
    let e = jak_sle_cds::server::Application::build(config, knowledge)
        .await
        .err()
        .expect("refused");
    assert!(e.to_string().contains("no-such-service"), "{e}");
}
