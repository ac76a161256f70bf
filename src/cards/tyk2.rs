//! The TYK2 card (knowledge.md 4.7): deucravacitinib is investigational in SLE; points to
//! clinical trials.

use super::links::{evidence_lines, links, EVIDENCE_HEADING};
use super::{build, order_line, section, CardSpec, RenderContext, Topic};
use crate::cds::card::SelectionBehavior;
use crate::cds::{Card, Indicator};
use crate::knowledge::evidence::Cite;
use crate::rules::{tyk2, Decision};

pub fn card(d: &Decision, rc: &RenderContext) -> Option<Card> {
    if !tyk2::applies(d) {
        return None;
    }
    let kb = rc.kb;
    let mut detail = "**Deucravacitinib in SLE is investigational.**\n".to_string();
    section(
        &mut detail,
        "Status",
        tyk2::STATEMENTS.iter().map(|s| s.to_string()),
    );
    section(&mut detail, "Facts used", [order_line(rc)]);
    section(&mut detail, "Missing data", d.missing.iter().cloned());
    let cites = [Cite::Tyk2Trials];
    section(
        &mut detail,
        EVIDENCE_HEADING,
        evidence_lines(kb, &[], &cites),
    );
    Some(build(
        CardSpec {
            topic: Topic::Tyk2Investigational,
            indicator: Indicator::Info,
            summary: "Deucravacitinib (TYK2 inhibitor) is investigational in SLE: consider a clinical trial".into(),
            detail,
            primary: Cite::Tyk2Trials,
            suggestions: Vec::new(),
            selection: SelectionBehavior::AtMostOne,
            override_reasons: Vec::new(),
            links: links(kb, &[], &cites, Some(d.agent)),
        },
        kb,
    ))
}
