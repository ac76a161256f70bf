//! The response validator in `tests/common` (used by the HTTP and engine tests) accepts a
//! fully featured spec-conformant response built from the crate's card types, and rejects
//! each Service-side violation it is meant to catch.

mod common;

use common::assert_spec_conformant_response;
use jak_sle_cds::cds::card::SelectionBehavior;
use jak_sle_cds::cds::{
    Action, ActionType, Card, CdsResponse, Coding, Indicator, Link, Source, Suggestion,
};
use serde_json::{json, Value};

fn full_card() -> Card {
    Card {
        uuid: "0b7d4d1e-1f43-4a1e-9c2e-4c3b4a8e2f10".into(),
        summary: "Baricitinib: reduce to 2 mg once daily (eGFR 45)".into(),
        detail: Some("**Why**: eGFR 30-60.".into()),
        indicator: Indicator::Warning,
        source: Source {
            label: "jak-sle-cds".into(),
            url: Some("https://jak-sle-cds.github.io/".into()),
            icon: None,
            topic: Some(Coding {
                system: jak_sle_cds::cards::TOPIC_SYSTEM.into(),
                code: "dose".into(),
                display: None,
            }),
        },
        suggestions: vec![Suggestion {
            label: "Change to 2 mg daily".into(),
            uuid: "5b1c7c4e-8f2d-4b6a-9a3e-1d2c3b4a5f60".into(),
            is_recommended: Some(true),
            actions: vec![
                Action {
                    action_type: ActionType::Update,
                    description: "Update the draft order".into(),
                    resource: Some(json!({"resourceType": "MedicationRequest", "id": "r1"})),
                    resource_id: None,
                },
                Action {
                    action_type: ActionType::Delete,
                    description: "Remove the draft order".into(),
                    resource: None,
                    resource_id: Some("MedicationRequest/r1".into()),
                },
            ],
        }],
        selection_behavior: Some(SelectionBehavior::AtMostOne),
        override_reasons: vec![Coding {
            system: jak_sle_cds::cards::OVERRIDE_REASON_SYSTEM.into(),
            code: "benefit-outweighs-risk".into(),
            display: Some("Benefit outweighs risk".into()),
        }],
        links: vec![Link::absolute("Label", "https://www.example.org/label.pdf")],
    }
}

fn response_json(card: Card) -> Value {
    serde_json::to_value(CdsResponse {
        cards: vec![card],
        system_actions: Vec::new(),
    })
    .unwrap()
}

#[test]
fn a_full_card_from_the_crate_types_is_conformant() {
    assert_spec_conformant_response(&response_json(full_card()));
    assert_spec_conformant_response(&json!({"cards": []}));
}

/// Apply `edit` to a conformant response and expect the validator to reject it.
fn rejects(edit: impl FnOnce(&mut Value)) {
    let mut v = response_json(full_card());
    edit(&mut v);
    let result = std::panic::catch_unwind(|| assert_spec_conformant_response(&v));
    assert!(result.is_err(), "accepted a non-conformant response: {v}");
}

#[test]
fn violations_are_rejected() {
    rejects(|v| v["cards"][0]["summary"] = Value::from("x".repeat(140)));
    rejects(|v| v["cards"][0]["detail"] = Value::Null);
    rejects(|v| v["cards"][0]["links"] = json!([]));
    rejects(|v| v["cards"][0]["indicator"] = Value::from("hard-stop"));
    rejects(|v| {
        v["cards"][0]
            .as_object_mut()
            .unwrap()
            .remove("selectionBehavior");
    });
    rejects(|v| v["cards"][0]["selectionBehavior"] = Value::from("all"));
    rejects(|v| {
        v["cards"][0].as_object_mut().unwrap().remove("source");
    });
    rejects(|v| v["cards"][0]["source"]["url"] = Value::from("/relative"));
    rejects(|v| {
        v["cards"][0]["overrideReasons"][0]
            .as_object_mut()
            .unwrap()
            .remove("display");
    });
    rejects(|v| v["cards"][0]["links"][0]["appContext"] = Value::from("x"));
    rejects(|v| v["cards"][0]["links"][0]["type"] = Value::from("relative"));
    rejects(|v| {
        v["cards"][0]["suggestions"][0]["actions"][1]["resource"] =
            Value::from("MedicationRequest/r1")
    });
    rejects(|v| {
        v["cards"][0]["suggestions"][0]["actions"][0]
            .as_object_mut()
            .unwrap()
            .remove("resource");
    });
    rejects(|v| v["cards"][0]["suggestions"][0]["isRecommended"] = Value::from("yes"));
    rejects(|v| {
        let card = v["cards"][0].clone();
        v["cards"].as_array_mut().unwrap().push(card);
    });
    rejects(|v| v["extra"] = Value::from(1));
}
