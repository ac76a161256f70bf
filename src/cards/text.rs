//! Plain-text rendering of a CDS response for clinical review (`evaluate --format text`).

use std::fmt::Write;

use crate::cds::CdsResponse;

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
