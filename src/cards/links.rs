//! Evidence citations in card detail and the card links to the cited sources (DOI, PubMed,
//! ClinicalTrials.gov, labels). Figures are quoted only as the evidence library allows:
//! verified ones verbatim, unverified ones by their hedge.

use crate::cds::Link;
use crate::facts::Agent;
use crate::knowledge::evidence::{Cite, Figure};
use crate::knowledge::Knowledge;

/// The heading of the evidence section in card detail.
pub const EVIDENCE_HEADING: &str = "Evidence";

/// One line per figure: the statement and its citation with a link.
pub fn evidence_lines(kb: &Knowledge, figures: &[Figure], cites: &[Cite]) -> Vec<String> {
    let mut out: Vec<String> = figures
        .iter()
        .map(|f| {
            let s = kb.evidence.source(f.key().0);
            format!(
                "{} ([{}]({}))",
                kb.evidence.statement(*f),
                s.citation,
                s.url
            )
        })
        .collect();
    for c in cites {
        let s = kb.evidence.source(*c);
        out.push(format!("[{}]({})", s.citation, s.url));
    }
    out
}

/// Links to every cited source (figures' sources first), without repeats, plus the agent's
/// label when given.
pub fn links(
    kb: &Knowledge,
    figures: &[Figure],
    cites: &[Cite],
    agent: Option<Agent>,
) -> Vec<Link> {
    let mut out: Vec<Link> = Vec::new();
    let mut push = |label: &str, url: &str| {
        if !out.iter().any(|l| l.url == url) {
            out.push(Link::absolute(label, url));
        }
    };
    for c in figures
        .iter()
        .map(|f| f.key().0)
        .chain(cites.iter().copied())
    {
        let s = kb.evidence.source(c);
        push(&s.label, &s.url);
    }
    if let Some(l) = agent.and_then(|a| kb.evidence.label(a)) {
        push(&l.label, &l.url);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::kb;

    #[test]
    fn links_are_absolute_and_unique() {
        let l = links(
            kb(),
            &[Figure::BraveISri4, Figure::SafetyInfectionsZoster],
            &[Cite::BraveI, Cite::Eular2023],
            Some(Agent::Tofacitinib),
        );
        // The safety figures have their own publication (Morand, RMD Open 2023).
        assert_eq!(l.len(), 4, "{l:?}");
        assert!(l.iter().all(|x| x.link_type == "absolute"));
        assert!(l.iter().any(|x| x.url.contains("tofacitinib")));
        let l = links(
            kb(),
            &[Figure::BraveISri4, Figure::SafetyMaceVte],
            &[Cite::BraveI, Cite::BraveSafety],
            None,
        );
        // The same source cited twice gives one link.
        assert_eq!(l.len(), 2, "{l:?}");
    }

    #[test]
    fn unverified_figures_are_hedged_in_lines() {
        let lines = evidence_lines(kb(), &[Figure::PooledSubgroups], &[]);
        assert!(!lines[0].contains("52%"), "{}", lines[0]);
        assert!(lines[0].contains("not confirmed"), "{}", lines[0]);
    }
}
