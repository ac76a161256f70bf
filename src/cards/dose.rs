//! The dose card (knowledge.md 4.4, 4.4b): the dose of baricitinib, upadacitinib or
//! tofacitinib for this patient, naming the reasons, with an update suggestion carrying the
//! whole draft at the new dose and product.

use super::actions::{suggestion, update_dose};
use super::links::{evidence, EVIDENCE_HEADING};
use super::{
    agent_source, build, drug, override_reason, section, with_facts, CardSpec, RenderContext, Topic,
};
use crate::cds::card::SelectionBehavior;
use crate::cds::{Card, Indicator};
use crate::facts::{Agent, DoseReading};
use crate::knowledge::evidence::{Cite, Figure};
use crate::rules::{num, Decision, DoseAdviceKind, ReasonCode, VerdictKind};

/// The ordered dose as text: "4 mg/day (2 mg twice daily)".
pub fn ordered_text(dose: &DoseReading) -> String {
    match dose {
        DoseReading::Known {
            mg_per_dose,
            doses_per_day,
            mg_per_day,
        } => {
            let freq = match *doses_per_day {
                n if (n - 1.0).abs() < 1e-6 => "once daily".to_string(),
                n if (n - 2.0).abs() < 1e-6 => "twice daily".to_string(),
                n => format!("{} times daily", num(n)),
            };
            format!(
                "{} mg/day ({} mg {freq})",
                num(*mg_per_day),
                num(*mg_per_dose)
            )
        }
        DoseReading::Unknown { reason } => format!("dose not readable ({reason})"),
    }
}

/// The note on baricitinib's renal dose step (the service reads eGFR).
pub const EU_RENAL_STEP: &str =
    "The EU renal step uses creatinine clearance; eGFR is used here, as in the US label";

/// The label figure that gives an agent's dose steps, and the source to cite beside it (for
/// baricitinib the EU SmPC: its age and risk-factor steps are not in the US label).
pub fn label_dose(agent: Agent) -> (Option<Figure>, Option<Cite>) {
    match agent {
        Agent::Baricitinib => (Some(Figure::OlumiantSmpcDose), Some(Cite::OlumiantSmpc)),
        Agent::Upadacitinib => (Some(Figure::RinvoqDose), None),
        Agent::Tofacitinib => (Some(Figure::XeljanzDose), None),
        _ => (None, None),
    }
}

pub fn card(d: &Decision, rc: &RenderContext) -> Option<Card> {
    let advice = d.dose.as_ref()?;
    let kb = rc.kb;
    let name = drug(d.agent);
    let agent = d.agent.name();
    let target = advice.target.text();
    let why: Vec<String> = advice
        .reduce_reasons
        .iter()
        .map(|r| r.text.clone())
        .collect();
    let why_short = why.join(", ");
    let summary = match advice.kind {
        DoseAdviceKind::Unreadable => {
            format!("{name} dose could not be read: {target} is the dose for this patient")
        }
        DoseAdviceKind::Reduce => format!("{name}: reduce to {target} ({why_short})"),
        DoseAdviceKind::RaiseToStandard => {
            format!("{name}: {target} advised; no reason for the lower dose recorded")
        }
        DoseAdviceKind::Adjust => {
            format!("{name}: {target} advised (ordered dose above the usual)")
        }
    };
    // Beside a verdict against the order (remove it, or take another agent), the dose is
    // what to give if the prescriber keeps the order anyway: said so, and not recommended.
    let against = d.verdict.kind == VerdictKind::NotRecommended;
    let summary = if against {
        summary.replacen(": ", ": if kept, ", 1)
    } else {
        summary
    };
    let lead = if against {
        format!("If {agent} is kept despite the advice against it: change it to {target}.")
    } else {
        format!("Change {agent} to {target}.")
    };
    let mut detail = format!("**{lead}** Ordered: {}.\n", ordered_text(&advice.ordered));
    let mut lines: Vec<String> = advice
        .reduce_reasons
        .iter()
        .map(|r| with_facts(&r.text, &r.facts))
        .collect();
    match (d.agent, advice.kind) {
        (Agent::Baricitinib, DoseAdviceKind::RaiseToStandard) => lines.push(format!(
            "No reason for {} mg recorded; in phase 2, 2 mg did not separate from placebo",
            num(kb.profile.baricitinib_reduced_mg)
        )),
        (_, DoseAdviceKind::Adjust) => lines.push(format!(
            "{target} is the highest dose advised for this patient"
        )),
        _ => {}
    }
    if d.agent == Agent::Baricitinib
        && d.dose.as_ref().is_some_and(|a| {
            a.reduce_reasons
                .iter()
                .any(|r| r.code == ReasonCode::ModerateRenalImpairment)
        })
    {
        lines.push(EU_RENAL_STEP.into());
    }
    if d.agent == Agent::Upadacitinib && advice.reduce_reasons.is_empty() {
        lines.push("30 mg once daily is the dose studied in SLE (SLEek), above the 15 mg of the rheumatology labels".into());
    }
    // Only an 11 mg extended-release order is switched (a twice-daily 5 mg order is not).
    if d.agent == Agent::Tofacitinib
        && crate::rules::dose::extended_release(rc.order)
        && advice
            .target
            .product
            .as_ref()
            .is_some_and(|(c, _)| c == "1357541")
        && advice.target.per_day == 1
    {
        lines.push(
            "An extended-release order is switched to the 5 mg immediate-release tablet".into(),
        );
    }
    section(&mut detail, "Why", lines);
    if rc.facts.egfr.is_none() {
        section(
            &mut detail,
            "Missing data",
            [format!(
                "eGFR: none within {} months; a lower dose may be needed",
                kb.thresholds.windows.egfr_months
            )],
        );
    }
    let (label_figure, label_cite) = label_dose(d.agent);
    let figures: Vec<Figure> = match (d.agent, advice.kind) {
        (Agent::Baricitinib, DoseAdviceKind::RaiseToStandard) => vec![Figure::WallaceArthritisRash],
        _ => label_figure.into_iter().collect(),
    };
    let cites: Vec<Cite> = match d.agent {
        Agent::Upadacitinib => vec![Cite::Sleek],
        _ => label_cite.into_iter().collect(),
    };
    let ev = evidence(kb, &figures, &cites, d.agent);
    section(&mut detail, EVIDENCE_HEADING, ev.bullets);
    let ingredient = kb.drugs.ingredient_rxcui(d.agent);
    let label = if why.is_empty() {
        format!("Change to {agent} {target}")
    } else {
        format!("Change to {agent} {target} ({why_short})")
    };
    let suggestions = update_dose(rc.order.draft, agent, ingredient, &advice.target)
        .map(|a| vec![suggestion(label, !against, vec![a])])
        .unwrap_or_default();
    Some(build(CardSpec {
        topic: Topic::DoseAdjustment,
        indicator: Indicator::Warning,
        summary,
        detail,
        source: agent_source(kb, d.agent),
        suggestions,
        selection: SelectionBehavior::AtMostOne,
        override_reasons: vec![
            override_reason(
                "dose-intended",
                "Dose chosen deliberately by the prescriber",
            ),
            override_reason(
                "record-incorrect",
                "Renal function, age or co-medication shown is outdated or incorrect",
            ),
            override_reason(
                "other-dosing-reference",
                "Following another dosing reference (e.g. the US label)",
            ),
        ],
        links: ev.links,
    }))
}
