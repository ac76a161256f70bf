//! The dose card (knowledge.md 4.4): baricitinib's dose for this patient, with an update
//! suggestion carrying the whole draft at the new dose.

use super::actions::{suggestion, update_dose};
use super::links::{evidence_lines, links, EVIDENCE_HEADING};
use super::{
    build, drug, fact_line, order_line, override_reason, section, unique, CardSpec, RenderContext,
    Topic,
};
use crate::cds::card::SelectionBehavior;
use crate::cds::{Card, Indicator};
use crate::facts::{Agent, DoseReading};
use crate::knowledge::evidence::{Cite, Figure};
use crate::rules::{num, Decision, DoseAdviceKind};

/// The ordered dose as text: "4 mg/day (2 mg x 2/day)".
pub fn ordered_text(dose: &DoseReading) -> String {
    match dose {
        DoseReading::Known {
            mg_per_dose,
            doses_per_day,
            mg_per_day,
        } => format!(
            "{} mg/day ({} mg x {}/day)",
            num(*mg_per_day),
            num(*mg_per_dose),
            num(*doses_per_day)
        ),
        DoseReading::Unknown { reason } => format!("unreadable ({reason})"),
    }
}

pub fn card(d: &Decision, rc: &RenderContext) -> Option<Card> {
    let advice = d.dose.as_ref()?;
    let kb = rc.kb;
    let name = drug(d.agent);
    let target = num(advice.target_mg);
    let why = if advice.reduce_reasons.is_empty() {
        format!(
            "no reason to reduce: the standard dose of the '{}' profile applies",
            kb.profile_name
        )
    } else {
        advice
            .reduce_reasons
            .iter()
            .map(|r| r.text.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let summary = match (&advice.kind, &advice.ordered) {
        (DoseAdviceKind::Unreadable, _) => {
            format!("{name} dose could not be read: {target} mg once daily is the dose for this patient")
        }
        (DoseAdviceKind::Reduce, _) => format!(
            "{name}: reduce to {target} mg once daily ({})",
            advice
                .reduce_reasons
                .iter()
                .map(|r| short_reduce(r.code))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        (DoseAdviceKind::RaiseToStandard, _) => format!(
            "{name}: {target} mg once daily advised; no reason to reduce the dose (see phase 2 evidence)"
        ),
        (DoseAdviceKind::Adjust, _) => format!("{name}: {target} mg once daily advised for this patient"),
    };
    let mut detail = format!(
        "**Ordered:** {}. **Advised:** {} {target} mg once daily ({}).\n",
        ordered_text(&advice.ordered),
        d.agent.name(),
        kb.profile.label
    );
    section(&mut detail, "Why", [why]);
    section(
        &mut detail,
        "Facts used",
        unique(
            std::iter::once(order_line(rc))
                .chain(
                    advice
                        .reduce_reasons
                        .iter()
                        .flat_map(|r| r.facts.iter())
                        .map(fact_line),
                )
                .chain(rc.facts.egfr.iter().map(|m| fact_line(&m.source)))
                .chain(rc.facts.oat3_inhibitor.iter().map(fact_line)),
        ),
    );
    let egfr_note = rc.facts.egfr.is_none().then(|| {
        format!(
            "eGFR: none within {} months; the reduced dose may be needed",
            kb.thresholds.windows.egfr_months
        )
    });
    section(&mut detail, "Missing data", egfr_note);
    let figures = [Figure::WallaceArthritisRash];
    let cites = [Cite::OlumiantLabel, Cite::OlumiantSmpc];
    section(
        &mut detail,
        EVIDENCE_HEADING,
        evidence_lines(kb, &figures, &cites),
    );

    let suggestions = update_dose(
        rc.order.draft,
        advice.target_mg,
        d.agent == Agent::Baricitinib,
    )
    .map(|a| {
        vec![suggestion(
            format!("Change to {} {target} mg once daily", d.agent.name()),
            true,
            vec![a],
        )]
    })
    .unwrap_or_default();
    Some(build(
        CardSpec {
            topic: Topic::DoseAdjustment,
            indicator: Indicator::Warning,
            summary,
            detail,
            primary: Cite::OlumiantLabel,
            suggestions,
            selection: SelectionBehavior::AtMostOne,
            override_reasons: vec![
                override_reason(
                    "dose-intended",
                    "Dose chosen deliberately by the prescriber",
                ),
                override_reason(
                    "record-incorrect",
                    "Renal function or co-medication data shown is outdated or incorrect",
                ),
                override_reason(
                    "other-dose-profile",
                    "Following another dose profile (e.g. the US label)",
                ),
            ],
            links: links(kb, &figures, &cites, None),
        },
        kb,
    ))
}

fn short_reduce(code: crate::rules::ReasonCode) -> &'static str {
    match code {
        crate::rules::ReasonCode::Oat3Inhibitor => "OAT3 inhibitor",
        _ => "reduced eGFR",
    }
}
