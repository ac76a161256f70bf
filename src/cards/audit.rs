//! Card self-check: the invariants every card of this service keeps (summary length and
//! drug name, topic, suggestions with selection behaviour, override reasons with display,
//! every number in the evidence section traceable to a verified figure or a citation of
//! hooks/evidence.json) and the card-text rules of knowledge.md 4.10 (detail length, evidence
//! bullets, links, no internal references, FHIR ids or code-system codes in any string a
//! clinician reads). Used by the tests; cheap enough for a debug check at runtime.

use std::collections::HashSet;

use super::links::EVIDENCE_HEADING;
use super::{
    Topic, DETAIL_MAX_CHARS, EVIDENCE_BULLETS_MAX, LINKS_MAX, SUMMARY_MAX_CHARS, TOPIC_SYSTEM,
};
use crate::cds::Card;
use crate::facts::Agent;
use crate::knowledge::Knowledge;

/// Number tokens of a text: "57%", "1.57", "1,535", "2018;392:222-31" → "2018", "392", ...
pub fn numbers(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let next_digit = chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
        if c.is_ascii_digit() || ((c == '.' || c == ',') && !cur.is_empty() && next_digit) {
            cur.push(c);
        } else {
            if !cur.is_empty() {
                if c == '%' {
                    cur.push('%');
                }
                out.push(std::mem::take(&mut cur));
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The lines of the detail's evidence section.
pub fn evidence_section(detail: &str) -> Vec<&str> {
    section_lines(detail, EVIDENCE_HEADING)
}

/// The lines of the detail's section headed `heading`, up to the next heading.
pub fn section_lines<'a>(detail: &'a str, heading: &str) -> Vec<&'a str> {
    let heading = format!("**{heading}**");
    detail
        .lines()
        .skip_while(|l| l.trim() != heading)
        .skip(1)
        .take_while(|l| !l.starts_with("**"))
        .filter(|l| !l.trim().is_empty())
        .collect()
}

/// Problems with one card about `agent`; empty when the card is sound.
pub fn audit(card: &Card, agent: Agent, kb: &Knowledge) -> Vec<String> {
    let mut problems = Vec::new();
    if card.summary.chars().count() >= SUMMARY_MAX_CHARS {
        problems.push(format!(
            "summary has {} characters",
            card.summary.chars().count()
        ));
    }
    if !card.summary.to_lowercase().contains(agent.name()) {
        problems.push(format!("summary does not name {}", agent.name()));
    }
    if uuid::Uuid::parse_str(&card.uuid).map(|u| u.get_version_num()) != Ok(4) {
        problems.push("uuid is not a v4 uuid".into());
    }
    match &card.source.topic {
        Some(t) if t.system == TOPIC_SYSTEM && t.display.is_some() => {
            if !Topic::ALL.iter().any(|k| k.code() == t.code) {
                problems.push(format!("unknown topic {}", t.code));
            }
        }
        _ => problems.push("source.topic missing or not in TOPIC_SYSTEM".into()),
    }
    if card.source.url.is_none() {
        problems.push("source.url missing".into());
    }
    if !card.suggestions.is_empty() && card.selection_behavior.is_none() {
        problems.push("suggestions without selectionBehavior".into());
    }
    for s in &card.suggestions {
        if s.actions.is_empty() || uuid::Uuid::parse_str(&s.uuid).is_err() {
            problems.push(format!("suggestion {:?} lacks actions or uuid", s.label));
        }
    }
    for r in &card.override_reasons {
        if r.display.as_deref().is_none_or(str::is_empty) {
            problems.push(format!("override reason {} has no display", r.code));
        }
    }
    if card.links.is_empty() || card.links.iter().any(|l| l.link_type != "absolute") {
        problems.push("links missing or not absolute".into());
    }
    let detail = card.detail.as_deref().unwrap_or("");
    problems.extend(text_problems(card));
    let (allowed, unverified_only) = evidence_numbers(kb);
    for line in evidence_section(detail) {
        for n in numbers(line) {
            if !allowed.contains(&n) {
                problems.push(format!(
                    "evidence number {n} is not a verified figure: {line}"
                ));
            }
        }
    }
    for n in numbers(detail).into_iter().chain(numbers(&card.summary)) {
        if n.ends_with('%') && unverified_only.contains(&n) {
            problems.push(format!("unverified figure {n} stated"));
        }
    }
    problems
}

/// Every string of a card a clinician reads: summary, detail, suggestion labels, link
/// labels, override-reason displays.
pub fn clinician_strings(card: &Card) -> Vec<&str> {
    let mut out = vec![card.summary.as_str()];
    out.extend(card.detail.as_deref());
    out.extend(card.suggestions.iter().map(|s| s.label.as_str()));
    out.extend(card.links.iter().map(|l| l.label.as_str()));
    out.extend(
        card.override_reasons
            .iter()
            .filter_map(|r| r.display.as_deref()),
    );
    out
}

/// Words that betray an internal reference (knowledge.md 4.10), case-insensitive.
const INTERNAL: [&str; 9] = [
    "knowledge.md",
    "section 4",
    "section 2",
    "profile",
    "seed",
    "unverified",
    "us-label",
    "(v2)",
    "4.4b",
];

/// Code-system names and FHIR resource references that must not reach a clinician.
const CODES: [&str; 14] = [
    "ICD-10-CM",
    "SNOMED",
    "LOINC",
    "RxNorm",
    "CVX ",
    "ATC ",
    "Condition/",
    "Observation/",
    "MedicationRequest/",
    "MedicationStatement/",
    "MedicationAdministration/",
    "Immunization/",
    "Patient/",
    "(no id)",
];

/// The card-text rules of knowledge.md 4.10.
pub fn text_problems(card: &Card) -> Vec<String> {
    let mut problems = Vec::new();
    let detail = card.detail.as_deref().unwrap_or("");
    let n = detail.chars().count();
    if n > DETAIL_MAX_CHARS {
        problems.push(format!(
            "detail has {n} characters (max {DETAIL_MAX_CHARS})"
        ));
    }
    if card.links.len() > LINKS_MAX {
        problems.push(format!("{} links (max {LINKS_MAX})", card.links.len()));
    }
    let bullets = evidence_section(detail).len();
    if bullets > EVIDENCE_BULLETS_MAX {
        problems.push(format!(
            "{bullets} evidence bullets (max {EVIDENCE_BULLETS_MAX})"
        ));
    }
    for text in clinician_strings(card) {
        let lower = text.to_lowercase();
        for w in INTERNAL {
            if lower.contains(w) {
                problems.push(format!("internal reference {w:?} in {text:?}"));
            }
        }
        // Links' URLs are not clinician text; a label or detail naming a code system is.
        let without_urls: String = text
            .split(['(', ')'])
            .filter(|part| !part.starts_with("http"))
            .collect::<Vec<_>>()
            .join(" ");
        for c in CODES {
            if without_urls.contains(c) {
                problems.push(format!("code or FHIR id {c:?} in {text:?}"));
            }
        }
    }
    if card.topic() == Some(Topic::Contraindicated.code())
        && detail.to_lowercase().contains("off-label bar")
    {
        problems.push("contraindicated card prints the off-label bar".into());
    }
    let lines: Vec<&str> = detail
        .lines()
        .map(str::trim)
        .filter(|l| l.len() > 20)
        .collect();
    for (i, l) in lines.iter().enumerate() {
        if lines[..i].contains(l) {
            problems.push(format!("said twice: {l}"));
        }
    }
    problems
}

/// Numbers a card may cite (verified figures, citations, labels, URLs) and the numbers only
/// unverified figures hold.
fn evidence_numbers(kb: &Knowledge) -> (HashSet<String>, HashSet<String>) {
    let mut allowed = HashSet::new();
    let mut unverified = HashSet::new();
    for s in kb.evidence.sources() {
        for text in [&s.citation, &s.label, &s.url] {
            allowed.extend(numbers(text));
        }
        for f in &s.figures {
            if f.verified {
                allowed.extend(numbers(&f.text));
            } else {
                unverified.extend(numbers(&f.text));
            }
        }
    }
    let unverified_only = unverified.difference(&allowed).cloned().collect();
    (allowed, unverified_only)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_tokenised_with_percent_and_separators() {
        assert_eq!(
            numbers("4 mg 67% (OR 1.8, p=0.041), 1,535 pts; 2018;392:222-31."),
            vec!["4", "67%", "1.8", "0.041", "1,535", "2018", "392", "222", "31"]
        );
    }

    #[test]
    fn an_unverified_figure_a_long_summary_or_an_internal_reference_is_flagged() {
        use crate::cards::{render, RenderContext};
        use crate::rules::decide;
        use crate::rules::testing::{eligible, kb, order, today};
        let f = eligible();
        let o = order(Agent::Baricitinib, Some(4.0));
        let rc = RenderContext {
            kb: kb(),
            facts: &f,
            order: &o,
            patient_id: "p1",
            user_id: None,
            today: today(),
        };
        let mut card = render(&decide(&f, &o, kb(), &[Agent::Baricitinib]), &rc).remove(0);
        assert!(
            audit(&card, Agent::Baricitinib, kb()).is_empty(),
            "{:?}",
            audit(&card, Agent::Baricitinib, kb())
        );
        assert!(!audit(&card, Agent::Tofacitinib, kb()).is_empty());
        let detail = card.detail.take().unwrap_or_default();
        card.detail = Some(format!(
            "{detail}\n**Evidence**\n- Pooled SLE-BRAVE SRI-4 52%\n"
        ));
        let problems = audit(&card, Agent::Baricitinib, kb());
        assert!(problems.iter().any(|p| p.contains("52%")), "{problems:?}");
        card.summary = format!("Baricitinib {}", "x".repeat(140));
        let problems = audit(&card, Agent::Baricitinib, kb());
        assert!(
            problems.iter().any(|p| p.contains("characters")),
            "{problems:?}"
        );
        for bad in [
            "see knowledge.md",
            "eGFR 45 (LOINC 33914-3)",
            "Observation/egfr-1",
            "the 'trial' profile",
            "x".repeat(1501).as_str(),
        ] {
            let mut c = card.clone();
            c.summary = "Baricitinib".into();
            c.detail = Some(bad.to_string());
            assert!(!text_problems(&c).is_empty(), "{bad}");
        }
    }

    #[test]
    fn the_evidence_section_ends_at_the_next_heading() {
        let d = "**Why**\n\n- a 5\n\n**Evidence**\n\n- b 57%\n- c\n\n**Other**\n- d 9\n";
        assert_eq!(evidence_section(d), vec!["- b 57%", "- c"]);
    }
}
