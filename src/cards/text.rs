//! Plain-text rendering of a CDS response for clinical review (`evaluate --format text`).

use std::fmt::Write;

use crate::cds::{Action, ActionType, CdsResponse};

/// "delete MedicationRequest/x", "create ServiceRequest: Order IGRA", "update
/// MedicationRequest/x (status on-hold): Put the baricitinib order on hold".
fn action_line(a: &Action) -> String {
    let r = a.resource.as_ref();
    let rtype = r
        .and_then(|r| r["resourceType"].as_str())
        .unwrap_or("resource");
    match a.action_type {
        ActionType::Delete => format!("delete {}", a.resource_id.as_deref().unwrap_or("?")),
        ActionType::Create => format!("create {rtype}: {}", a.description),
        // What the update does, as the service wrote it ("Put the baricitinib order on
        // hold", "Change the draft order to baricitinib 2 mg once daily"): a dose read back
        // from the resource would be the order's tablets for a status update.
        ActionType::Update => {
            let id = r.and_then(|r| r["id"].as_str()).unwrap_or("?");
            let status = r.and_then(|r| r["status"].as_str()).unwrap_or("?");
            format!("update {rtype}/{id} (status {status}): {}", a.description)
        }
    }
}

/// Render every card: indicator, summary, detail, suggestions and links.
pub fn render(response: &CdsResponse) -> String {
    let mut out = String::new();
    if response.cards.is_empty() {
        out.push_str("(no cards)\n");
    }
    for (i, card) in response.cards.iter().enumerate() {
        let _ = writeln!(
            out,
            "[{}] {} — {}",
            i + 1,
            card.indicator.as_str().to_uppercase(),
            card.summary
        );
        if let Some(topic) = card.topic() {
            let _ = writeln!(out, "    topic: {topic}");
        }
        if let Some(detail) = &card.detail {
            for line in detail.lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
        for s in &card.suggestions {
            let rec = if s.is_recommended == Some(true) {
                " (recommended)"
            } else {
                ""
            };
            let _ = writeln!(out, "    suggestion: {}{rec}", s.label);
            for a in &s.actions {
                let _ = writeln!(out, "      -> {}", action_line(a));
            }
        }
        for r in &card.override_reasons {
            let _ = writeln!(
                out,
                "    override reason: {}",
                r.display.as_deref().unwrap_or(&r.code)
            );
        }
        for l in &card.links {
            let _ = writeln!(out, "    link: {} <{}>", l.label, l.url);
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cds::card::{Card, Indicator, Source, Suggestion};

    #[test]
    fn actions_are_listed_under_their_suggestion() {
        let card = Card {
            uuid: "u".into(),
            summary: "Baricitinib: reduce to 2 mg once daily".into(),
            detail: None,
            indicator: Indicator::Warning,
            source: Source {
                label: "s".into(),
                url: None,
                icon: None,
                topic: None,
            },
            suggestions: vec![Suggestion {
                label: "Change".into(),
                uuid: "s1".into(),
                is_recommended: Some(true),
                actions: vec![
                    Action {
                        action_type: ActionType::Delete,
                        description: "d".into(),
                        resource: None,
                        resource_id: Some("MedicationRequest/a".into()),
                    },
                    Action {
                        action_type: ActionType::Update,
                        description: "Change the draft order to baricitinib 2 mg".into(),
                        resource: Some(
                            serde_json::json!({"resourceType": "MedicationRequest", "id": "a", "status": "draft",
                            "dosageInstruction": [{"doseAndRate": [{"doseQuantity": {"value": 2}}]}]}),
                        ),
                        resource_id: None,
                    },
                ],
            }],
            selection_behavior: None,
            override_reasons: vec![],
            links: vec![],
            extension: None,
        };
        let text = render(&CdsResponse {
            cards: vec![card],
            system_actions: vec![],
        });
        assert!(text.contains("-> delete MedicationRequest/a"), "{text}");
        assert!(
            text.contains(
                "-> update MedicationRequest/a (status draft): Change the draft order to baricitinib 2 mg"
            ),
            "{text}"
        );
        assert!(text.contains("suggestion: Change (recommended)"), "{text}");
    }
}
