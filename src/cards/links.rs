//! Evidence bullets in card detail and the card links (knowledge.md 4.10): at most three
//! bullets — verified figures verbatim with their citation, unverified ones not stated — and
//! the remaining sources as links, the ordered agent's label first, at most five, none
//! repeating a bullet's source.

use super::{EVIDENCE_BULLETS_MAX, LINKS_MAX};
use crate::cds::Link;
use crate::facts::Agent;
use crate::knowledge::evidence::{Cite, Figure};
use crate::knowledge::Knowledge;

/// The heading of the evidence section in card detail.
pub const EVIDENCE_HEADING: &str = "Evidence";

/// Evidence bullets and links of one card.
pub struct Evidence {
    pub bullets: Vec<String>,
    pub links: Vec<Link>,
}

/// `figures` in order of importance become bullets (verified ones only, at most three); their
/// sources, then `cites`, then the agent's label become links (the label first).
pub fn evidence(kb: &Knowledge, figures: &[Figure], cites: &[Cite], agent: Agent) -> Evidence {
    evidence_max(kb, figures, cites, agent, EVIDENCE_BULLETS_MAX)
}

/// As [`evidence`], with at most `max_bullets` bullets (long cards keep fewer).
pub fn evidence_max(
    kb: &Knowledge,
    figures: &[Figure],
    cites: &[Cite],
    agent: Agent,
    max_bullets: usize,
) -> Evidence {
    let mut bullets = Vec::new();
    let mut bullet_urls: Vec<String> = Vec::new();
    for f in figures {
        if bullets.len() >= max_bullets.min(EVIDENCE_BULLETS_MAX) {
            break;
        }
        if !kb.evidence.figure(*f).verified {
            continue;
        }
        let s = kb.evidence.source(f.key().0);
        let line = format!(
            "{} ([{}]({}))",
            kb.evidence.statement(*f),
            clean_label(&s.label),
            s.url
        );
        if !bullets.contains(&line) {
            bullets.push(line);
            bullet_urls.push(s.url.clone());
        }
    }
    let mut links: Vec<Link> = Vec::new();
    // The agent's own label is always linked (it is the card's source), even when a bullet
    // quotes it.
    if let Some(l) = kb.evidence.label(agent) {
        links.push(Link::absolute(clean_label(&l.label), l.url.clone()));
    }
    let mut push = |label: &str, url: &str| {
        if links.len() < LINKS_MAX
            && !bullet_urls.iter().any(|u| u == url)
            && !links.iter().any(|l| l.url == url)
        {
            links.push(Link::absolute(clean_label(label), url));
        }
    };

    for c in cites {
        let s = kb.evidence.source(*c);
        push(&s.label, &s.url);
    }
    for f in figures {
        let s = kb.evidence.source(f.key().0);
        push(&s.label, &s.url);
    }
    Evidence { bullets, links }
}

/// A link label without bookkeeping notes meant for maintainers ("(citation unverified)",
/// "(seed summary)"): a clinician reads it.
fn clean_label(label: &str) -> String {
    let mut out = String::new();
    let mut rest = label;
    while let Some(open) = rest.find(" (") {
        let after = &rest[open + 2..];
        let Some(close) = after.find(')') else { break };
        let inner = after[..close].to_lowercase();
        out.push_str(&rest[..open]);
        if !(inner.contains("unverified") || inner.contains("seed")) {
            out.push_str(&rest[open..open + 2 + close + 1]);
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::kb;

    #[test]
    fn links_are_absolute_unique_and_at_most_five() {
        let e = evidence(
            kb(),
            &[Figure::BraveISri4, Figure::SafetyInfectionsZoster],
            &[
                Cite::BraveI,
                Cite::Eular2023,
                Cite::NoSleApproval,
                Cite::Acr2024Ln,
                Cite::RefractoryTrials,
                Cite::Tyk2Trials,
            ],
            Agent::Tofacitinib,
        );
        assert!(e.links.len() <= LINKS_MAX);
        assert!(e.links.iter().all(|x| x.link_type == "absolute"));
        assert!(e.links[0].url.contains("tofacitinib"), "{:?}", e.links);
        for b in &e.bullets {
            assert!(!e.links.iter().skip(1).any(|l| b.contains(&l.url)), "{b}");
        }
    }
}
