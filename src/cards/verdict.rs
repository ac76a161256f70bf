//! The verdict card (knowledge.md 4.1-4.3b, 4.5, 4.7, 4.8): do not start (critical), not
//! recommended (warning), conditionally permitted (info, or warning with boxed-warning risk
//! factors); exactly one per in-scope order. Deucravacitinib's TYK2 message is on this card.

use super::actions::{
    create_baricitinib, create_coded_lab, create_medication, delete_draft, suggestion, Parties,
};
use super::links::{evidence_max, EVIDENCE_HEADING};
use super::{
    agent_source, build, drug, override_reason, section, with_facts, CardSpec, RenderContext, Topic,
};
use crate::cds::card::SelectionBehavior;
use crate::cds::{Card, Coding, Indicator, Suggestion};
use crate::facts::{Agent, PatientFacts};
use crate::knowledge::evidence::{Cite, Figure};
use crate::rules::alternatives::Take;
use crate::rules::{AgentEvidence, Decision, PreTreatmentItem, ReasonCode, VerdictKind};

/// The reminder of a not-recommended card (knowledge.md 4.2).
pub const ADHERENCE: &str =
    "Verify adherence to current therapy before calling the disease refractory.";

fn short(code: ReasonCode) -> &'static str {
    match code {
        ReasonCode::VteHistory => "VTE history",
        ReasonCode::ThrombosisRisk => "thrombosis risk",
        ReasonCode::ActiveTb => "active TB",
        ReasonCode::ActiveInfection => "active serious infection",
        ReasonCode::Pregnancy => "pregnancy",
        ReasonCode::Breastfeeding => "breast-feeding",
        ReasonCode::ActiveHepatitis => "active hepatitis",
        ReasonCode::SevereHepaticImpairment => "severe hepatic impairment",
        ReasonCode::ActiveLupusNephritis => "active lupus nephritis",
        ReasonCode::CnsLupus => "CNS lupus",
        ReasonCode::RenalContraindication => "eGFR too low",
        ReasonCode::LowLymphocytes => "low lymphocytes",
        ReasonCode::LowNeutrophils => "low neutrophils",
        ReasonCode::LowHaemoglobin => "low haemoglobin",
        ReasonCode::RenalLabelDosing => "low eGFR",
        ReasonCode::Combination => "combination with another JAK inhibitor",
        ReasonCode::StandardTherapiesNotExhausted => "standard therapies not exhausted",
        ReasonCode::NoSeverityCriterion => "no refractory-disease criterion",
        ReasonCode::NoSleEvidence => "no SLE efficacy data",
        ReasonCode::Investigational => "investigational in SLE",
        ReasonCode::UnreadableData => "unreadable data",
        ReasonCode::UnavailableData => "data unavailable",
        ReasonCode::EgfrUnknown => "eGFR missing",
        ReasonCode::CbcUnknown => "CBC missing",
        ReasonCode::BarMet => "criteria met",
        ReasonCode::BoxedWarningRisk => "boxed-warning risk",
        ReasonCode::ModerateRenalImpairment => "reduced eGFR",
        ReasonCode::Oat3Inhibitor => "probenecid",
        ReasonCode::Cyp3a4Inhibitor => "CYP3A4 inhibitor",
        ReasonCode::ModerateHepaticImpairment => "moderate hepatic impairment",
    }
}

/// The fail-safe reasons' one line: what is missing is listed once, under "Missing data".
pub const DATA_MISSING_LINE: &str =
    "A contraindication cannot be excluded: data missing or unreadable (below)";

/// The "Why" bullets: each reason with the facts it rests on, the fail-safe ones (data
/// missing, unobtainable, unreadable) as one line, then the boxed-warning risk factors.
fn why_lines(d: &Decision) -> Vec<String> {
    let mut out = Vec::new();
    for r in &d.verdict.reasons {
        let line = match r.code {
            ReasonCode::BarMet
            | ReasonCode::StandardTherapiesNotExhausted
            | ReasonCode::NoSeverityCriterion => r.text.clone(),
            ReasonCode::UnreadableData
            | ReasonCode::UnavailableData
            | ReasonCode::EgfrUnknown
            | ReasonCode::CbcUnknown => DATA_MISSING_LINE.to_string(),
            _ => with_facts(&r.text, &r.facts),
        };
        if !out.contains(&line) {
            out.push(line);
        }
    }
    out.extend(risk_lines(d));
    out
}

/// "{lead}: part, part, ..." within the summary limit; "+N more" when they do not all fit.
pub fn summary_with(lead: &str, parts: &[String]) -> String {
    let fits = |s: &String| s.chars().count() < super::SUMMARY_MAX_CHARS;
    let all = format!("{lead}: {}", parts.join(", "));
    if parts.is_empty() {
        return lead.to_string();
    }
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

fn reason_parts(d: &Decision) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    for r in &d.verdict.reasons {
        let s = short(r.code).to_string();
        if r.code != ReasonCode::BarMet && !parts.contains(&s) {
            parts.push(s);
        }
    }
    parts
}

fn risk_names(d: &Decision) -> Vec<String> {
    d.risk.iter().map(|r| r.text.clone()).collect()
}

/// The boxed-warning lines of 4.3b (class information for deucravacitinib).
fn risk_lines(d: &Decision) -> Vec<String> {
    // A risk factor resting on the same record as a reason of the verdict is said once, as
    // that reason (an arterial thrombosis is the thrombosis reason, not also "cardiovascular
    // disease").
    let in_reasons = |r: &crate::rules::Reason| {
        !r.facts.is_empty()
            && r.facts
                .iter()
                .all(|f| d.verdict.reasons.iter().any(|v| v.facts.contains(f)))
    };
    let risk: Vec<String> = d
        .risk
        .iter()
        .filter(|r| !in_reasons(r))
        .map(|r| with_facts(&r.text, &r.facts))
        .collect();
    if risk.is_empty() {
        return Vec::new();
    }
    let whose = if d.agent == Agent::Deucravacitinib {
        "JAK-class information, not its own label"
    } else {
        "US labels, 2021-22"
    };
    let mut warning = format!(
        "Boxed warning ({whose}): serious infections, mortality, malignancy, MACE, thrombosis"
    );
    // "Use only if no suitable alternative, at the lower dose" is advice for a start; on a
    // "do not start" card it would read as a way to start.
    if d.verdict.kind != VerdictKind::Contraindicated {
        warning.push_str("; EMA 2023: use only if no suitable alternative, at the lower dose");
    }
    vec![
        format!("Boxed-warning risk factors: {}", risk.join("; ")),
        warning,
    ]
}

pub fn card(d: &Decision, rc: &RenderContext) -> Card {
    let kb = rc.kb;
    let name = drug(d.agent);
    let risk_warning = d.verdict.kind == VerdictKind::Conditional && !d.risk.is_empty();
    let unclear = unclear_statuses(rc.facts);
    // An unclear status is never reported as checked: the permissive card becomes a warning
    // that names it "to confirm" (docs/clinical-decisions.md).
    let to_confirm = d.verdict.kind == VerdictKind::Conditional && !unclear.is_empty();
    let (topic, indicator, summary, advice) = match d.verdict.kind {
        VerdictKind::Contraindicated => (
            Topic::Contraindicated,
            Indicator::Critical,
            summary_with(&format!("{name}: do not start"), &reason_parts(d)),
            format!("Do not start {} in this patient.", d.agent.name()),
        ),
        VerdictKind::NotRecommended => {
            let mut parts = reason_parts(d);
            parts.extend(risk_names(d));
            (
                Topic::NotRecommended,
                Indicator::Warning,
                summary_with(&format!("{name} not recommended"), &parts),
                format!(
                    "Off-label {} is not recommended for this patient now (no JAK inhibitor is approved for SLE).",
                    d.agent.name()
                ),
            )
        }
        VerdictKind::Conditional if risk_warning => (
            Topic::Conditional,
            Indicator::Warning,
            summary_with(
                &format!("{name} may be considered only if no alternative"),
                &risk_names(d),
            ),
            format!(
                "Off-label {} only if no suitable alternative exists: boxed-warning risk factors present.",
                d.agent.name()
            ),
        ),
        VerdictKind::Conditional if to_confirm => (
            Topic::Conditional,
            Indicator::Warning,
            format!("{name} may be considered once {} is confirmed", unclear.join(" and ")),
            format!(
                "Off-label {} may be considered for refractory SLE only once {} is confirmed: the criteria are met and none of the other checks argues against it.",
                d.agent.name(),
                unclear.join(" and ")
            ),
        ),
        VerdictKind::Conditional => (
            Topic::Conditional,
            Indicator::Info,
            format!("{name} off-label for refractory SLE may be considered: criteria met, conditions apply"),
            format!(
                "Off-label {} may be considered for refractory SLE: the criteria are met and none of the checks below argues against it.",
                d.agent.name()
            ),
        ),
    };

    let mut detail = format!("**{advice}**\n");
    section(&mut detail, "Why", why_lines(d));
    if d.verdict.kind == VerdictKind::Conditional {
        section(
            &mut detail,
            "Checked",
            checked_lines(rc.facts, &d.pretreatment),
        );
        section(&mut detail, "Conditions", d.conditions.iter().cloned());
    }
    let mut options: Vec<String> = d
        .alternatives
        .iter()
        .filter(|a| a.take == Take::Named)
        .map(|a| a.label.clone())
        .collect();
    if d.verdict.has(ReasonCode::StandardTherapiesNotExhausted)
        || d.verdict.has(ReasonCode::NoSeverityCriterion)
    {
        options.push(ADHERENCE.to_string());
    }
    if d.refractory_referral {
        options.push("Rapidly progressive disease: refer to a specialist centre; consider clinical trials, incl. anti-CD19 CAR-T".into());
    }
    section(&mut detail, "Options", options);
    section(&mut detail, "Missing data", d.missing.iter().cloned());
    let (figures, cites) = evidence_for(d);
    // One bullet on verdict cards keeps them short (knowledge.md 4.10: median detail <= 900);
    // the other sources are links.
    let max_bullets = 1;
    let ev = evidence_max(kb, &figures, &cites, d.agent, max_bullets);
    let bullets = ev.bullets.into_iter().map(|b| {
        if d.agent != Agent::Baricitinib && b.starts_with("SLE-BRAVE") {
            format!("For the suggested baricitinib: {b}")
        } else {
            b
        }
    });
    section(&mut detail, EVIDENCE_HEADING, bullets);

    let suggestions = suggestions(d, rc);
    let override_reasons = match d.verdict.kind {
        VerdictKind::Conditional if !risk_warning => Vec::new(),
        _ => override_reasons(d),
    };
    build(CardSpec {
        topic,
        indicator,
        summary,
        detail,
        source: agent_source(kb, d.agent),
        suggestions,
        selection: SelectionBehavior::AtMostOne,
        override_reasons,
        links: ev.links,
    })
}

/// The statuses that are unclear (knowledge.md 1 "Dates", 2): named, never reported as
/// checked.
fn unclear_statuses(facts: &PatientFacts) -> Vec<&'static str> {
    let r = &facts.risk;
    [
        ("pregnancy status", &r.pregnancy.unclear),
        ("breast-feeding status", &r.breastfeeding.unclear),
        ("infection status", &r.infection.unclear),
    ]
    .into_iter()
    .filter(|(_, u)| !u.is_empty())
    .map(|(n, _)| n)
    .collect()
}

/// What the permissive verdict rests on (4.3: never "nothing contraindicates it" without it).
/// Only what was actually checked is listed: an unclear status is named as such, and
/// hepatitis without any screening result is "none recorded", not "no hepatitis".
fn checked_lines(facts: &PatientFacts, pretreatment: &[PreTreatmentItem]) -> Vec<String> {
    let r = &facts.risk;
    let h = &r.hepatitis;
    let screened = h.hbsag.is_some() && h.anti_hbc.is_some() && h.hcv_antibody.is_some();
    let mut no: Vec<&str> = vec!["VTE", "thrombosis risk", "active TB"];
    no.extend(
        r.infection
            .unclear
            .is_empty()
            .then_some("serious infection"),
    );
    no.extend(r.pregnancy.unclear.is_empty().then_some("pregnancy"));
    no.extend(
        r.breastfeeding
            .unclear
            .is_empty()
            .then_some("breast-feeding"),
    );
    no.push(if screened {
        "active hepatitis"
    } else {
        "hepatitis recorded (screening incomplete)"
    });
    no.push("severe liver disease");
    // A raised UPCR without a nephritis diagnosis: nephritis is not excluded (the
    // pre-treatment card asks to exclude it).
    let upcr = pretreatment
        .iter()
        .any(|p| matches!(p, PreTreatmentItem::UpcrWithoutNephritis { .. }));
    if !upcr {
        no.push("active nephritis");
    }
    no.push("CNS lupus");
    let last = no.pop().unwrap_or_default();
    // What the record shows, not a statement about the patient; "cut-offs": the eGFR may still
    // call for the lower dose (the Dose line says so).
    let mut out = vec![format!(
        "None recorded: {} or {last}; eGFR and blood counts above the labels' cut-offs",
        no.join(", ")
    )];
    if upcr {
        out.push("Active nephritis not excluded: see the pre-treatment card".to_string());
    }
    let unclear = unclear_statuses(facts);
    if !unclear.is_empty() {
        out.push(format!(
            "Not checked, status unclear: {}",
            unclear.join(", ")
        ));
    }
    out
}

/// The card proposes baricitinib instead of the ordered agent.
fn suggests_baricitinib(d: &Decision) -> bool {
    d.alternatives
        .iter()
        .any(|a| matches!(a.take, Take::Baricitinib(_)))
}

fn evidence_for(d: &Decision) -> (Vec<Figure>, Vec<Cite>) {
    let mut figures = Vec::new();
    let mut cites = Vec::new();
    if !d.risk.is_empty() && d.verdict.kind != VerdictKind::Contraindicated {
        // 4.3b: MACE in the integrated SLE safety analysis; the boxed warning and EMA 2023.
        figures.push(Figure::SafetyMaceVte);
        cites.extend([Cite::BoxedWarning, Cite::Ema2023]);
    }
    match d.evidence {
        AgentEvidence::Upadacitinib => {
            figures.push(Figure::SleekPrimary);
            cites.push(Cite::SelectSle);
        }
        AgentEvidence::Tyk2Investigational => {
            figures.push(Figure::PaisleyStatus);
            cites.push(Cite::Tyk2Trials);
        }
        AgentEvidence::Baricitinib | AgentEvidence::NoSleData { .. } => {}
    }
    match d.verdict.kind {
        VerdictKind::Contraindicated => {
            if d.verdict.has(ReasonCode::ActiveLupusNephritis) {
                figures.push(Figure::AcrLnRegimens);
                cites.extend([Cite::Kdigo2024Ln, Cite::Regency]);
            }
            if d.verdict.has(ReasonCode::VteHistory) || d.verdict.has(ReasonCode::ThrombosisRisk) {
                cites.push(Cite::BoxedWarning);
            }
            cites.push(Cite::Eular2023);
        }
        VerdictKind::NotRecommended => {
            if d.verdict.has(ReasonCode::StandardTherapiesNotExhausted) {
                figures.push(Figure::EularRefractory);
            }
            // Another agent's card quotes SLE-BRAVE only as the evidence of the baricitinib
            // it suggests (labelled so in the card), never as its own (knowledge.md 4.10).
            if d.agent == Agent::Baricitinib
                || (matches!(d.evidence, AgentEvidence::NoSleData { .. })
                    && suggests_baricitinib(d))
            {
                figures.extend([Figure::BraveISri4, Figure::BraveIISri4]);
            }
            if d.agent == Agent::Baricitinib {
                // Its URL is the Olumiant label: another agent's card cites its own label.
                cites.push(Cite::NoSleApproval);
            }
        }
        VerdictKind::Conditional => {
            if d.agent == Agent::Baricitinib {
                // The integrated safety analysis is of baricitinib: another agent's card
                // leaves it to its own label, which carries the zoster warning.
                figures.extend([Figure::BraveISri4, Figure::SafetyInfectionsZoster]);
                // Its URL is the Olumiant label: another agent's card cites its own label.
                cites.push(Cite::NoSleApproval);
            }
        }
    }
    if d.refractory_referral {
        cites.push(Cite::RefractoryTrials);
    }
    (figures, cites)
}

fn suggestions(d: &Decision, rc: &RenderContext) -> Vec<Suggestion> {
    let risk_warning = d.verdict.kind == VerdictKind::Conditional && !d.risk.is_empty();
    if d.verdict.kind == VerdictKind::Conditional && !risk_warning {
        return Vec::new();
    }
    let what = d.agent.name();
    let draft = rc.order.draft;
    let parties = Parties {
        patient_id: rc.patient_id,
        user_id: rc.user_id,
    };
    // Removal is the recommended choice unless only missing data, or only risk, stands in
    // the way.
    let recommended = d.verdict.kind != VerdictKind::Conditional && !d.verdict.only_data_reasons();
    let mut out = vec![suggestion(
        format!("Remove the {what} order"),
        recommended,
        vec![delete_draft(draft, what)],
    )];
    let reason = format!("Instead of {what}");
    for a in &d.alternatives {
        let action = match &a.take {
            Take::Named => continue,
            Take::Medication(key) => match rc.kb.drugs.medication_order(key) {
                Some(o) => create_medication(o, &parties),
                None => continue,
            },
            Take::Baricitinib(mg) => match rc.kb.drugs.medication_order("baricitinib") {
                Some(o) => create_baricitinib(o, *mg, &parties),
                None => continue,
            },
            Take::Lab(_) => {
                let o = &rc.kb.evidence.orders().cbc;
                out.push(suggestion(
                    a.label.clone(),
                    false,
                    vec![create_coded_lab(o, &parties, &reason)],
                ));
                continue;
            }
        };
        out.push(suggestion(
            format!("Replace with {}", a.label),
            false,
            vec![delete_draft(draft, what), action],
        ));
    }
    out
}

fn override_reasons(d: &Decision) -> Vec<Coding> {
    let mut out = vec![
        override_reason(
            "specialist-decision",
            "Specialist decision: expected benefit outweighs the risk for this patient",
        ),
        override_reason(
            "record-incorrect",
            "The patient data shown is outdated or incorrect",
        ),
    ];
    if d.verdict.has(ReasonCode::StandardTherapiesNotExhausted) {
        out.push(override_reason(
            "therapies-tried-elsewhere",
            "Standard therapies tried or not tolerated but not recorded here",
        ));
    }
    out.push(override_reason(
        "clinical-trial",
        "Ordered within a clinical trial or research protocol",
    ));
    out
}
