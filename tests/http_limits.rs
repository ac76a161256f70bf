//! Bounds on what one call can make the service hold (issue 9, failure 5), over HTTP: the
//! number of in-scope orders evaluated per call (`limits.max_orders_per_call`, default 50:
//! beyond it 400 saying so).

mod common;

use common::{error_message, spawn_app, test_config};
use serde_json::{json, Value};

const SERVICE: &str = "jak-sle-order-sign";

/// The conditional-baricitinib fixture (order-sign) with `n` baricitinib drafts.
fn with_orders(n: usize) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/patients/conditional-baricitinib.json");
    let mut req: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let entries = req["context"]["draftOrders"]["entry"]
        .as_array_mut()
        .unwrap();
    let draft = entries[0].clone();
    entries.clear();
    for i in 0..n {
        let mut d = draft.clone();
        d["resource"]["id"] = json!(format!("jak-draft-{i}"));
        entries.push(d);
    }
    req
}

#[tokio::test]
async fn more_orders_than_the_cap_are_refused_with_400() {
    let app = spawn_app(test_config()).await;
    let res = app.call(SERVICE, with_orders(50).to_string()).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert!(!body["cards"].as_array().unwrap().is_empty());

    let res = app.call(SERVICE, with_orders(51).to_string()).await;
    assert_eq!(res.status(), 400);
    let msg = error_message(res).await;
    assert!(msg.contains("51 draft orders"), "{msg}");
    assert!(msg.contains("limits.max_orders_per_call"), "{msg}");

    let mut config = test_config();
    config.limits.max_orders_per_call = 2;
    let app = spawn_app(config).await;
    assert_eq!(
        app.call(SERVICE, with_orders(2).to_string()).await.status(),
        200
    );
    assert_eq!(
        app.call(SERVICE, with_orders(3).to_string()).await.status(),
        400
    );
}
