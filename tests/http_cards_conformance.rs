//! Every card the engine produces, checked against CDS Hooks 2.0.1 at the HTTP level: each
//! clinical fixture (fixtures/patients, one per rule and boundary) is sent to the order-sign
//! service and its response must pass `assert_spec_conformant_response`. So that the
//! card-level checks are known to be exercised, the responses together must contain every
//! optional element the validator checks: suggestions (with uuid, isRecommended,
//! selectionBehavior), create, update and delete actions, override reasons, links, and a
//! source with url and topic. (The service sends no source icon and no SMART links, so their
//! checks apply to nothing it produces.)
//!
//! Two rules that shape alone cannot show are checked on the same responses: a suggestion's
//! actions are meant together (CDS Hooks: AND) — every multi-action suggestion replaces a draft
//! order of the request (delete it and create the alternative); and `detail` is GitHub
//! Flavored Markdown written without raw HTML, whose links are absolute.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{assert_spec_conformant_response, spawn_app, test_config};
use serde_json::Value;

/// The elements of `card` (optional elements the validator checks when present).
fn elements(card: &Value, seen: &mut BTreeSet<String>) {
    let mut add = |s: &str| {
        seen.insert(s.to_string());
    };
    for key in ["detail", "overrideReasons", "links", "selectionBehavior"] {
        if card.get(key).is_some() {
            add(key);
        }
    }
    for key in ["url", "icon", "topic"] {
        if card["source"].get(key).is_some() {
            add(&format!("source.{key}"));
        }
    }
    for link in card["links"].as_array().into_iter().flatten() {
        add(&format!(
            "link.{}",
            link["type"].as_str().unwrap_or_default()
        ));
    }
    for s in card["suggestions"].as_array().into_iter().flatten() {
        add("suggestions");
        for key in ["uuid", "isRecommended"] {
            if s.get(key).is_some() {
                add(&format!("suggestion.{key}"));
            }
        }
        for a in s["actions"].as_array().into_iter().flatten() {
            add(&format!(
                "action.{}",
                a["type"].as_str().unwrap_or_default()
            ));
        }
    }
}

/// The multi-action suggestions of `card` are replacements of one of `drafts`: delete the
/// draft, create the alternative; returns how many there were.
fn check_multi_action_suggestions(card: &Value, drafts: &[String], name: &str) -> usize {
    let mut n = 0;
    for s in card["suggestions"].as_array().into_iter().flatten() {
        let actions = s["actions"].as_array().cloned().unwrap_or_default();
        if actions.len() < 2 {
            continue;
        }
        n += 1;
        let label = s["label"].as_str().unwrap_or_default();
        let kinds: Vec<&str> = actions.iter().filter_map(|a| a["type"].as_str()).collect();
        assert!(
            label.starts_with("Replace with") && kinds == ["delete", "create"],
            "{name}: {label:?} has actions {kinds:?}"
        );
        let deleted = actions[0]["resourceId"].as_str().unwrap_or_default();
        assert!(
            drafts.iter().any(|d| d == deleted),
            "{name}: {label:?} deletes {deleted:?}, not a draft of the request"
        );
    }
    n
}

/// `detail` is Markdown without raw HTML; every inline link target is an absolute URL.
fn check_markdown(detail: &str, name: &str) {
    let html = detail.match_indices('<').any(|(i, _)| {
        detail[i + 1..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '/')
    });
    assert!(!html, "{name}: raw HTML in detail:\n{detail}");
    for (i, _) in detail.match_indices("](") {
        let target = &detail[i + 2..];
        assert!(
            target.starts_with("https://") || target.starts_with("http://"),
            "{name}: relative link target {:?}",
            target.chars().take(40).collect::<String>()
        );
    }
}

/// "MedicationRequest/<id>" (or MedicationOrder) of each draft order of a request.
fn draft_references(request: &Value) -> Vec<String> {
    request["context"]["draftOrders"]["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let r = &e["resource"];
            Some(format!(
                "{}/{}",
                r["resourceType"].as_str()?,
                r["id"].as_str()?
            ))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_clinical_fixture_gets_a_conformant_response_over_http() {
    let app = spawn_app(test_config()).await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/patients");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures/patients")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json") && n != "expected.json")
        .collect();
    names.sort();
    assert!(names.len() >= 40, "only {} fixtures", names.len());

    let mut seen = BTreeSet::new();
    let mut cards = 0;
    let mut replacements = 0;
    for name in &names {
        let body = std::fs::read_to_string(dir.join(name)).expect("fixture");
        let drafts = draft_references(&serde_json::from_str(&body).expect("fixture JSON"));
        let res = app.call("jak-sle-order-sign", body).await;
        let status = res.status();
        let json: Value = res.json().await.expect("JSON body");
        assert_eq!(status, 200, "{name}: {json}");
        assert_spec_conformant_response(&json);
        for card in json["cards"].as_array().expect("cards") {
            cards += 1;
            elements(card, &mut seen);
            replacements += check_multi_action_suggestions(card, &drafts, name);
            if let Some(detail) = card["detail"].as_str() {
                check_markdown(detail, name);
            }
        }
    }
    assert!(
        cards >= names.len(),
        "{cards} cards for {} fixtures",
        names.len()
    );
    let expected = [
        "action.create",
        "action.delete",
        "action.update",
        "detail",
        "link.absolute",
        "overrideReasons",
        "selectionBehavior",
        "source.topic",
        "source.url",
        "suggestion.isRecommended",
        "suggestion.uuid",
        "suggestions",
    ];
    let missing: Vec<&str> = expected
        .iter()
        .copied()
        .filter(|e| !seen.contains(*e))
        .collect();
    assert!(
        missing.is_empty(),
        "never produced: {missing:?}; seen {seen:?}"
    );
    assert!(replacements > 0, "no replacement suggestion was produced");
    // Absolute links only: no link could carry an appContext.
    assert!(
        !seen.contains("link.smart"),
        "a SMART link appeared: {seen:?}"
    );
}
