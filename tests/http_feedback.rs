//! `POST /cds-services/{id}/feedback`: the spec's shape is enforced before anything is stored.

mod common;

use common::{error_message, spawn_app, test_config};
use serde_json::json;

fn feedback(item: serde_json::Value) -> String {
    json!({ "feedback": [item] }).to_string()
}

#[tokio::test]
async fn invalid_feedback_is_400_naming_the_field() {
    let app = spawn_app(test_config()).await;
    let path = "/cds-services/jak-sle-order-sign/feedback";
    let cases = [
        ("{".to_string(), "request body"),
        (json!({"items": []}).to_string(), "feedback"),
        (json!({"feedback": []}).to_string(), "empty"),
        (
            feedback(json!({"outcome": "overridden", "outcomeTimestamp": "2026-11-26T10:00:00Z"})),
            "card",
        ),
        (
            feedback(
                json!({"card": "c1", "outcome": "dismissed", "outcomeTimestamp": "2026-11-26T10:00:00Z"}),
            ),
            "unknown variant",
        ),
        (
            feedback(
                json!({"card": "c1", "outcome": "accepted", "outcomeTimestamp": "2026-11-26T10:00:00Z"}),
            ),
            "feedback[0].acceptedSuggestions",
        ),
        (
            feedback(
                json!({"card": "c1", "outcome": "accepted", "acceptedSuggestions": [{}],
                "outcomeTimestamp": "2026-11-26T10:00:00Z"}),
            ),
            "id",
        ),
        (
            feedback(
                json!({"card": "c1", "outcome": "overridden", "outcomeTimestamp": "26/11/2026"}),
            ),
            "feedback[0].outcomeTimestamp",
        ),
        (
            feedback(json!({"card": "c1", "outcome": "overridden"})),
            "outcomeTimestamp",
        ),
        (
            feedback(
                json!({"card": "c1", "outcome": "overridden", "outcomeTimestamp": "2026-11-26T10:00:00Z",
                "overrideReason": {"reason": {"display": "no code"}}}),
            ),
            "line",
        ),
    ];
    for (body, needle) in cases {
        let res = app.post(path, body.clone()).await;
        assert_eq!(res.status(), 400, "{body}");
        let msg = error_message(res).await;
        assert!(msg.contains(needle), "{needle:?} not in {msg:?}");
    }
}

#[tokio::test]
async fn feedback_for_an_unknown_service_is_404_and_get_is_405() {
    let app = spawn_app(test_config()).await;
    let body = feedback(json!({"card": "c1", "outcome": "overridden",
        "outcomeTimestamp": "2026-11-26T10:00:00Z"}));
    let res = app.post("/cds-services/nope/feedback", body).await;
    assert_eq!(res.status(), 404);
    let res = app.get("/cds-services/jak-sle-order-sign/feedback").await;
    assert_eq!(res.status(), 405);
}

/// Valid feedback is acknowledged only once stored (the rows and the restart:
/// tests/http_feedback_store.rs).
#[tokio::test]
async fn valid_feedback_is_stored_and_acknowledged() {
    let app = spawn_app(test_config()).await;
    let body = json!({"feedback": [
        {"card": "4e0a3a1e-3283-4575-ab82-028d55fe2719", "outcome": "accepted",
         "acceptedSuggestions": [{"id": "e56e1945-20b3-4393-8503-a1a20fd73152"}],
         "outcomeTimestamp": "2026-11-26T10:05:31Z"},
        {"card": "9368d37b-283f-44a0-93ea-547cebab93ed", "outcome": "overridden",
         "overrideReason": {"reason": {"system": "https://jak-sle-cds.github.io/fhir/CodeSystem/override-reason",
           "code": "benefit-outweighs-risk", "display": "Benefit outweighs risk"}, "userComment": "discussed"},
         "outcomeTimestamp": "2026-11-26T10:06:00.52Z"}]});
    // Feedback is idempotent: the same items sent again are acknowledged again.
    for _ in 0..2 {
        let url = "/cds-services/jak-sle-order-sign/feedback";
        assert_eq!(app.post(url, body.to_string()).await.status(), 200);
    }
}
