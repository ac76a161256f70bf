//! The verdict card (knowledge.md 4.1-4.3, 4.5, 4.8): contraindicated (critical), not
//! recommended (warning) or conditionally permitted (info); exactly one per in-scope order.

use super::actions::{create_baricitinib, create_therapy, delete_draft, suggestion};
use super::links::{evidence_lines, links, EVIDENCE_HEADING};
use super::{
    build, dedup_facts, drug, fact_line, order_line, override_reason, section, CardSpec,
    RenderContext, Topic,
};
use crate::cds::card::SelectionBehavior;
use crate::cds::{Card, Coding, Indicator, Suggestion};
use crate::facts::Agent;
use crate::knowledge::evidence::{Cite, Figure};
use crate::rules::{
    num, refractory, AgentEvidence, CriterionKind, CriterionStatus, Decision, ReasonCode,
    VerdictKind,
};

/// The reminder every not-recommended card carries (knowledge.md 4.2).
pub const ADHERENCE: &str =
    "Verify adherence to current therapy before calling the disease refractory.";

fn short(code: ReasonCode) -> &'static str {
    match code {
        ReasonCode::VteHistory => "VTE history",
        ReasonCode::ActiveTb => "active TB",
        ReasonCode::ActiveLupusNephritis => "active lupus nephritis",
        ReasonCode::CnsLupus => "CNS lupus",
        ReasonCode::RenalContraindication => "eGFR below cut-off",
        ReasonCode::LowLymphocytes => "low ALC",
        ReasonCode::LowNeutrophils => "low ANC",
        ReasonCode::LowHaemoglobin => "low Hb",
        ReasonCode::RenalLabelDosing => "low eGFR, see label renal dosing",
        ReasonCode::StandardTherapiesNotExhausted => "standard therapies not exhausted",
        ReasonCode::NoSeverityCriterion => "no refractory-disease criterion met",
        ReasonCode::NoSleEvidence => "no SLE efficacy data",
        ReasonCode::Investigational => "investigational in SLE",
        ReasonCode::UnreadableData => "unreadable data",
        ReasonCode::UnavailableData => "data unavailable",
        ReasonCode::SafetyDataMissing => "eGFR/CBC missing",
        ReasonCode::BarMet => "off-label bar met",
        ReasonCode::ModerateRenalImpairment => "reduced renal function",
        ReasonCode::Oat3Inhibitor => "OAT3 inhibitor",
    }
}

/// "{lead}: reason, reason, ..." within the summary limit: when all the reasons do not fit,
/// as many as fit and "+N more" (the detail lists them all), never a word cut in half.
fn summary_with_reasons(lead: &str, d: &Decision) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for r in &d.verdict.reasons {
        let s = short(r.code);
        if !parts.contains(&s) {
            parts.push(s);
        }
    }
    let fits = |s: &String| s.chars().count() < super::SUMMARY_MAX_CHARS;
    let all = format!("{lead}: {}", parts.join(", "));
    if fits(&all) {
        return all;
    }
    for keep in (1..parts.len()).rev() {
        let s = format!(
            "{lead}: {} +{} more",
            parts[..keep].join(", "),
            parts.len() - keep
        );
        if fits(&s) {
            return s;
        }
    }
    format!("{lead} (reasons in detail)")
}

pub fn card(d: &Decision, rc: &RenderContext) -> Card {
    let kb = rc.kb;
    let name = drug(d.agent);
    let (topic, indicator, primary, summary, headline) = match d.verdict.kind {
        VerdictKind::Contraindicated => (
            Topic::Contraindicated,
            Indicator::Critical,
            Cite::OlumiantLabel,
            summary_with_reasons(&format!("{name} contraindicated in this SLE patient"), d),
            format!("Do not start {} in this patient.", d.agent.name()),
        ),
        VerdictKind::NotRecommended => (
            Topic::NotRecommended,
            Indicator::Warning,
            Cite::Eular2023,
            summary_with_reasons(&format!("{name} not recommended in this SLE patient"), d),
            format!(
                "Off-label {} is not recommended for this patient now. No JAK inhibitor is approved for SLE.",
                d.agent.name()
            ),
        ),
        VerdictKind::Conditional => (
            Topic::Conditional,
            Indicator::Info,
            Cite::BraveI,
            format!("{name} off-label for refractory SLE may be considered: criteria met, conditions apply"),
            format!(
                "Off-label {} may be considered: the refractory-disease bar is met and nothing contraindicates it. No JAK inhibitor is approved for SLE.",
                d.agent.name()
            ),
        ),
    };

    let mut detail = format!("**{headline}**\n");
    section(
        &mut detail,
        "Why",
        d.verdict.reasons.iter().map(|r| r.text.clone()),
    );
    if !d.conditions.is_empty() {
        section(&mut detail, "Conditions", d.conditions.iter().cloned());
    }
    section(
        &mut detail,
        "Off-label bar (knowledge.md 4.2)",
        bar_lines(d),
    );
    section(&mut detail, "Facts used", facts_used(d, rc));
    section(&mut detail, "Missing data", d.missing.iter().cloned());
    let mut notes = Vec::new();
    if let AgentEvidence::NoSleData {
        switch_to_baricitinib_mg: Some(mg),
    } = d.evidence
    {
        notes.push(format!(
            "If a JAK inhibitor is still wanted, baricitinib {} mg once daily is the agent studied in SLE.",
            num(mg)
        ));
    }
    if d.agent == Agent::Upadacitinib {
        notes
            .push("Upadacitinib: consider enrolment in the SELECT-SLE phase 3 trials.".to_string());
    }
    if d.verdict.kind == VerdictKind::NotRecommended {
        notes.push(ADHERENCE.to_string());
    }
    if d.refractory_referral {
        notes.push(format!("{}.", refractory::STATEMENT));
    }
    if !notes.is_empty() {
        section(&mut detail, "Also", notes);
    }
    let (figures, cites) = evidence_for(d);
    section(
        &mut detail,
        EVIDENCE_HEADING,
        evidence_lines(kb, &figures, &cites),
    );

    let suggestions = suggestions(d, rc);
    let override_reasons = match d.verdict.kind {
        VerdictKind::Conditional => Vec::new(),
        _ => verdict_override_reasons(),
    };
    build(
        CardSpec {
            topic,
            indicator,
            summary,
            detail,
            primary,
            suggestions,
            selection: SelectionBehavior::AtMostOne,
            override_reasons,
            links: links(kb, &figures, &cites, Some(d.agent)),
        },
        kb,
    )
}

fn bar_lines(d: &Decision) -> Vec<String> {
    let mut out = Vec::new();
    let tried: Vec<&str> = d.bar.tried.iter().map(|(t, _)| t.name()).collect();
    let untried: Vec<&str> = d.bar.untried.iter().map(|t| t.name()).collect();
    out.push(if untried.is_empty() {
        format!("[met] standard therapies tried: {}", tried.join(", "))
    } else {
        format!(
            "[not met] standard therapies: no record of {}",
            untried.join(", ")
        )
    });
    for c in &d.bar.criteria {
        let status = match c.status {
            CriterionStatus::Met => "[met]",
            CriterionStatus::Unmet => "[not met]",
            CriterionStatus::Unknown => "[unknown]",
        };
        out.push(format!("{status} {}", c.text));
    }
    out
}

fn facts_used(d: &Decision, rc: &RenderContext) -> Vec<String> {
    let f = rc.facts;
    let measured = [&f.egfr, &f.alc, &f.anc, &f.hb, &f.upcr, &f.sledai]
        .into_iter()
        .filter_map(|m| m.as_ref().map(|m| &m.source));
    let all = d
        .verdict
        .reasons
        .iter()
        .flat_map(|r| r.facts.iter())
        .chain(d.bar.tried.iter().flat_map(|(_, s)| s.iter()))
        .chain(d.bar.criteria.iter().flat_map(|c| c.facts.iter()))
        .chain(measured)
        .chain(f.sle.iter());
    let mut lines = vec![order_line(rc)];
    lines.extend(dedup_facts(all).into_iter().map(fact_line));
    lines
}

fn evidence_for(d: &Decision) -> (Vec<Figure>, Vec<Cite>) {
    let mut figures = Vec::new();
    let mut cites = Vec::new();
    match d.verdict.kind {
        VerdictKind::Contraindicated => {
            figures.push(Figure::SafetyInfectionsZoster);
            cites.extend([Cite::OlumiantLabel, Cite::NoSleApproval]);
            if d.verdict.has(ReasonCode::ActiveLupusNephritis) {
                cites.push(Cite::Acr2024Ln);
            }
            if d.verdict.has(ReasonCode::CnsLupus)
                || d.verdict.has(ReasonCode::ActiveLupusNephritis)
            {
                figures.push(Figure::EularRefractory);
            }
        }
        VerdictKind::NotRecommended => {
            figures.extend([
                Figure::BraveISri4,
                Figure::BraveIISri4,
                Figure::PooledSubgroups,
                Figure::EularRefractory,
            ]);
            cites.push(Cite::NoSleApproval);
        }
        VerdictKind::Conditional => {
            figures.extend([
                Figure::WallaceArthritisRash,
                Figure::BraveISri4,
                Figure::BraveIISri4,
                Figure::PooledSubgroups,
                Figure::SafetyInfectionsZoster,
                Figure::SaeRelativeRisk,
            ]);
            if d.bar
                .criteria
                .iter()
                .any(|c| c.kind == CriterionKind::Sledai && c.status == CriterionStatus::Met)
            {
                figures.push(Figure::SledaiRange);
            }
            cites.push(Cite::OlumiantLabel);
        }
    }
    match d.evidence {
        AgentEvidence::Upadacitinib => {
            figures.push(Figure::SleekPrimary);
            cites.push(Cite::SelectSle);
        }
        AgentEvidence::NoSleData { .. } => figures.push(Figure::WallaceArthritisRash),
        AgentEvidence::Tyk2Investigational => cites.push(Cite::Tyk2Trials),
        AgentEvidence::Baricitinib => {}
    }
    if d.refractory_referral {
        cites.push(Cite::RefractoryTrials);
    }
    figures.dedup();
    (figures, cites)
}

fn suggestions(d: &Decision, rc: &RenderContext) -> Vec<Suggestion> {
    if d.verdict.kind == VerdictKind::Conditional {
        return Vec::new();
    }
    let what = d.agent.name();
    let draft = rc.order.draft;
    // Removal is the recommended choice unless only missing data stands in the way.
    let data_only = d.verdict.only_data_reasons();
    let mut out = vec![suggestion(
        format!("Remove the {what} order"),
        !data_only,
        vec![delete_draft(draft, what)],
    )];
    if let AgentEvidence::NoSleData {
        switch_to_baricitinib_mg: Some(mg),
    } = d.evidence
    {
        out.push(suggestion(
            format!("Replace with baricitinib {} mg once daily", num(mg)),
            false,
            vec![
                delete_draft(draft, what),
                create_baricitinib(mg, rc.patient_id),
            ],
        ));
    }
    for t in &d.alternatives {
        if let (Some(create), Some(o)) = (
            create_therapy(*t, rc.kb, rc.patient_id),
            rc.kb.evidence.therapy_order(*t),
        ) {
            out.push(suggestion(
                format!("Replace with {}", o.instruction),
                false,
                vec![delete_draft(draft, what), create],
            ));
        }
    }
    out
}

fn verdict_override_reasons() -> Vec<Coding> {
    vec![
        override_reason(
            "specialist-decision",
            "Specialist decision: expected benefit outweighs the risk for this patient",
        ),
        override_reason(
            "record-incorrect",
            "The patient data shown is outdated or incorrect",
        ),
        override_reason(
            "therapies-tried-elsewhere",
            "Standard therapies tried or not tolerated but not recorded here",
        ),
        override_reason(
            "clinical-trial",
            "Ordered within a clinical trial or research protocol",
        ),
    ]
}
