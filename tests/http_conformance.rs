//! The response validator in `tests/common` (used by the HTTP and engine tests) accepts a
//! fully featured spec-conformant response built from the crate's card types, and rejects
//! each Service-side violation it is meant to catch. And the conformance map in docs/conformance.md
//! covers every Service-side SHALL of the requirements CSV with tests that exist.

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
        extension: None,
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

/// The records of a CSV text (RFC 4180: quoted fields with doubled quotes and line breaks).
fn csv_records(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

/// Whether `fn name(` is defined, and not `#[ignore]`d, in one of `files`.
fn defined(files: &[std::path::PathBuf], name: &str) -> bool {
    let needle = format!("fn {name}(");
    files.iter().any(|f| {
        let Ok(text) = std::fs::read_to_string(f) else {
            return false;
        };
        text.match_indices(&needle).any(|(i, _)| {
            let before = &text[..i];
            let attrs = &before[before.len().saturating_sub(120)..];
            !attrs.contains("#[ignore")
        })
    })
}

/// Every test a "Covered by" cell names that does not exist.
fn missing_tests(cell: &str) -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut missing = Vec::new();
    let tokens = cell.split(|c: char| !(c.is_ascii_alphanumeric() || "_/.:".contains(c)));
    for token in tokens.map(|t| t.trim_end_matches(['.', ':'])) {
        if let Some(rest) = token.strip_prefix("tests/") {
            let Some((file, name)) = rest.split_once(".rs::") else {
                continue;
            };
            if !defined(&[root.join(format!("tests/{file}.rs"))], name) {
                missing.push(token.to_string());
            }
        } else if let Some((module, name)) = token.split_once("::tests::") {
            let base = root.join("src").join(module.replace("::", "/"));
            let files = [
                base.with_extension("rs"),
                base.join("mod.rs"),
                base.join("tests.rs"),
            ];
            if !defined(&files, name) {
                missing.push(token.to_string());
            }
        }
    }
    missing
}

/// Whether a "Covered by" cell names at least one test.
fn names_a_test(cell: &str) -> bool {
    cell.contains(".rs::") || cell.contains("::tests::")
}

#[test]
fn every_conformance_map_row_names_existing_tests() {
    let csv = std::fs::read_to_string(common::shared("cds-hooks-requirements.csv"))
        .expect("requirements CSV");
    let records = csv_records(&csv);
    let header = &records[0];
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("CSV column {name}"))
    };
    let (set, id, conformance, actors) =
        (col("Req Set"), col("ID"), col("Conformance"), col("Actors"));
    let service_side: Vec<(String, String)> = records[1..]
        .iter()
        .filter(|r| r.len() == header.len())
        .filter(|r| ["Service", "Server", "Client, Service"].contains(&r[actors].as_str()))
        .filter(|r| ["SHALL", "SHALL NOT"].contains(&r[conformance].as_str()))
        .map(|r| (r[set].clone(), r[id].clone()))
        .collect();
    assert!(service_side.len() >= 70, "{} rows", service_side.len());

    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/conformance.md"))
        .expect("docs/conformance.md");
    let not_applicable = doc
        .split("## Not applicable to this service")
        .nth(1)
        .expect("docs/conformance.md has a section 'Not applicable to this service'");
    let rows: Vec<Vec<&str>> = doc
        .lines()
        .filter(|l| l.starts_with("| cds-hooks"))
        .map(|l| l.trim_matches('|').split(" | ").map(str::trim).collect())
        .collect();
    let mut problems = Vec::new();
    for (set, id) in &service_side {
        let Some(row) = rows.iter().find(|r| r[0] == set && r[1] == id) else {
            problems.push(format!("{set} {id}: not in the map"));
            continue;
        };
        let cell = row.last().copied().unwrap_or_default();
        if cell.starts_with("not applicable") {
            if !cell.contains(':') {
                problems.push(format!("{set} {id}: not applicable without a reason"));
            }
            if !not_applicable.contains(&format!("| {set} | {id} |")) {
                problems.push(format!(
                    "{set} {id}: not applicable but not listed under 'Not applicable to this service'"
                ));
            }
        } else if !names_a_test(cell) {
            problems.push(format!("{set} {id}: names no test"));
        }
        for t in missing_tests(cell) {
            problems.push(format!("{set} {id}: {t} does not exist (or is ignored)"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The checker itself: a made-up test is caught, a real one is found.
    assert_eq!(
        missing_tests("tests/http_hooks.rs::no_such_test, `cds::discovery::tests::nope`"),
        [
            "tests/http_hooks.rs::no_such_test",
            "cds::discovery::tests::nope"
        ]
    );
    assert!(missing_tests("tests/http_conformance.rs::violations_are_rejected").is_empty());
}
