//! The monitoring cards (knowledge.md 4.11, `patient-view`): per active therapy one card per
//! finding group — stop or hold (critical), reassess (warning), dose (warning) — and one
//! combined monitoring-due card (info). Each names the drug, lists the facts it used as a
//! clinician writes them (value, date; no resource ids or codes), and offers a FHIR action
//! where one fits: hold or stop as an update of the active MedicationRequest, a lower dose as
//! an update, lab orders as ServiceRequests with their LOINC code.

use chrono::NaiveDate;
use serde_json::json;

use super::actions::{
    create_coded_lab, create_zoster_recommendation, suggestion, update_dose, Parties,
};
use super::links::{evidence, EVIDENCE_HEADING};
use super::{drug, override_reason, section, summary, unique, TOPIC_SYSTEM};
use crate::cds::card::SelectionBehavior;
use crate::cds::{
    Action, ActionType, Card, Coding, DraftOrder, Indicator, Link, Source, Suggestion,
};
use crate::facts::therapy::ActiveTherapy;
use crate::facts::{Agent, FactSource};
use crate::knowledge::evidence::Cite;
use crate::knowledge::Knowledge;
use crate::rules::monitoring::{Finding, FindingCode, Review, TherapyReview};
use crate::rules::num;

/// The monitoring topics ([`TOPIC_SYSTEM`] codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonitoringTopic {
    Stop,
    Reassess,
    Dose,
    Due,
}

impl MonitoringTopic {
    pub fn code(self) -> &'static str {
        match self {
            MonitoringTopic::Stop => "jaki-monitoring-stop",
            MonitoringTopic::Reassess => "jaki-monitoring-reassess",
            MonitoringTopic::Dose => "jaki-monitoring-dose",
            MonitoringTopic::Due => "jaki-monitoring-due",
        }
    }

    fn display(self) -> &'static str {
        match self {
            MonitoringTopic::Stop => "JAK inhibitor to stop or hold",
            MonitoringTopic::Reassess => "JAK inhibitor to reassess",
            MonitoringTopic::Dose => "JAK inhibitor dose to lower",
            MonitoringTopic::Due => "JAK inhibitor monitoring due",
        }
    }
}

/// Code-system labels that [`clinical`] removes from a fact's text.
const CODE_LABELS: [&str; 7] = [
    "ICD-10-CM ",
    "SNOMED ",
    "LOINC ",
    "RxNorm ",
    "ATC ",
    "CVX ",
    "local ",
];

/// A fact as a clinician writes it: "Deep vein thrombosis, 2026-09-01" — the parenthesised
/// codes of the fact's text removed, no resource id.
pub fn clinical(f: &FactSource) -> String {
    let mut text = f.what.clone();
    let is_code =
        |rest: &str| CODE_LABELS.iter().any(|l| rest.starts_with(l)) || rest.starts_with("code ");
    while let Some(open) = text
        .match_indices(" (")
        .map(|(i, _)| i)
        .find(|&i| is_code(&text[i + 2..]))
    {
        let Some(close) = text[open..].find(')') else {
            break;
        };
        text.replace_range(open..open + close + 1, "");
    }
    format!("{text}, {}", super::fact_date(f))
}

fn topic(t: MonitoringTopic) -> Coding {
    Coding {
        system: TOPIC_SYSTEM.into(),
        code: t.code().into(),
        display: Some(t.display().into()),
    }
}

/// The agent's own label as the card's source (Olumiant's label when the library has none).
fn source(kb: &Knowledge, agent: Agent, t: MonitoringTopic) -> Source {
    let (label, url) = match kb.evidence.label(agent) {
        Some(l) => (l.label.clone(), l.url.clone()),
        None => {
            let s = kb.evidence.source(Cite::OlumiantLabel);
            (s.label.clone(), s.url.clone())
        }
    };
    Source {
        label: format!("JAK inhibitors in SLE (jak-sle-cds): {label}"),
        url: Some(url),
        icon: None,
        topic: Some(topic(t)),
    }
}

fn links(kb: &Knowledge, agents: &[Agent]) -> Vec<Link> {
    let mut out: Vec<Link> = Vec::new();
    for l in agents.iter().filter_map(|a| kb.evidence.label(*a)) {
        if !out.iter().any(|o| o.url == l.url) {
            out.push(Link::absolute(l.label.clone(), l.url.clone()));
        }
    }
    out
}

fn start_line(t: &ActiveTherapy) -> String {
    match &t.start {
        Some(s) => format!(
            "{}: started {}",
            t.label,
            clinical(s).rsplit(", ").next().unwrap_or("")
        ),
        None => format!("{}: start date not on record", t.label),
    }
}

fn findings_section(out: &mut String, findings: &[Finding]) {
    for f in findings {
        out.push_str(&format!("- {}", f.text));
        let facts: Vec<String> = unique(f.facts.iter().map(|fact| {
            if super::states_value_of(&f.text, fact) {
                super::fact_date(fact)
            } else {
                clinical(fact)
            }
        }));
        if !facts.is_empty() {
            out.push_str(&format!(" ({})", facts.join("; ")));
        }
        out.push('\n');
    }
}

/// What differs between the monitoring cards.
struct Parts {
    topic: MonitoringTopic,
    indicator: Indicator,
    summary: String,
    detail: String,
    suggestions: Vec<Suggestion>,
    override_reasons: Vec<Coding>,
}

fn card(kb: &Knowledge, agent: Agent, p: Parts) -> Card {
    Card {
        uuid: uuid::Uuid::new_v4().to_string(),
        summary: summary(p.summary),
        detail: Some(p.detail),
        indicator: p.indicator,
        source: source(kb, agent, p.topic),
        selection_behavior: (!p.suggestions.is_empty()).then_some(SelectionBehavior::AtMostOne),
        suggestions: p.suggestions,
        override_reasons: p.override_reasons,
        links: links(kb, &[agent]),
        extension: None,
    }
}

/// An update of the active order, as sent, to `status` (on-hold, stopped).
fn status_update(sent: Option<&DraftOrder>, status: &str, description: String) -> Option<Action> {
    let mut resource = sent?.raw.clone();
    resource
        .as_object_mut()?
        .insert("status".into(), json!(status));
    Some(Action {
        action_type: ActionType::Update,
        description,
        resource: Some(resource),
        resource_id: None,
    })
}

/// When the active order was read but not received as sent (`sent` is None), the card offers
/// no update (it would replace the whole order with what the service kept of it) and says so.
fn not_received_line(detail: &mut String, t: &ActiveTherapy, sent: Option<&DraftOrder>) {
    if t.order.is_some() && sent.is_none() {
        detail.push_str("\nChange the order in the EHR: it was not received in full.\n");
    }
}

fn joined_short(findings: &[Finding]) -> String {
    unique(findings.iter().map(|f| f.short.clone())).join(", ")
}

fn stop_card(kb: &Knowledge, r: &TherapyReview) -> Option<Card> {
    if r.stop.is_empty() {
        return None;
    }
    let t = r.therapy;
    let name = drug(t.agent);
    let discontinue = r.stop.iter().any(|f| f.discontinue);
    let verb = if discontinue { "stop" } else { "hold" };
    let mut detail = format!(
        "**{} {} now**: the record shows what the labels name as a reason to {}.\n\n",
        if discontinue { "Stop" } else { "Hold" },
        t.agent.name(),
        if discontinue {
            "discontinue (or at least interrupt)"
        } else {
            "interrupt treatment"
        },
    );
    findings_section(&mut detail, &r.stop);
    detail.push_str(&format!("\n{}.\n", start_line(t)));
    let sent = t.order_as_sent();
    let mut suggestions = Vec::new();
    if let Some(a) = status_update(
        sent.as_ref(),
        "on-hold",
        format!("Put the {} order on hold", t.agent.name()),
    ) {
        suggestions.push(suggestion(
            format!("Hold {}", t.agent.name()),
            !discontinue,
            vec![a],
        ));
    }
    if let Some(a) = status_update(
        sent.as_ref(),
        "stopped",
        format!("Stop the {} order", t.agent.name()),
    ) {
        suggestions.push(suggestion(
            format!("Stop {}", t.agent.name()),
            discontinue,
            vec![a],
        ));
    }
    if t.order.is_none() {
        detail.push_str(
            "\nKnown from the medication list only (no active order): update it there.\n",
        );
    }
    not_received_line(&mut detail, t, sent.as_ref());
    Some(card(
        kb,
        t.agent,
        Parts {
            topic: MonitoringTopic::Stop,
            indicator: Indicator::Critical,
            summary: format!("{name}: {verb} — {}", joined_short(&r.stop)),
            detail,
            suggestions,
            override_reasons: vec![
                override_reason("finding-resolved", "Finding resolved or already acted on"),
                override_reason("record-incorrect", "Record incorrect"),
                override_reason(
                    "benefit-outweighs-risk",
                    "Benefit outweighs risk (specialist decision)",
                ),
            ],
        },
    ))
}

fn reassess_card(kb: &Knowledge, r: &TherapyReview) -> Option<Card> {
    if r.reassess.is_empty() {
        return None;
    }
    let t = r.therapy;
    let mut detail = format!(
        "**Reassess {}**: weigh the benefit and risk of continuing it.\n\n",
        t.agent.name()
    );
    findings_section(&mut detail, &r.reassess);
    detail.push_str(&format!("\n{}.\n", start_line(t)));
    Some(card(
        kb,
        t.agent,
        Parts {
            topic: MonitoringTopic::Reassess,
            indicator: Indicator::Warning,
            summary: format!(
                "{}: reassess — {}",
                drug(t.agent),
                joined_short(&r.reassess)
            ),
            detail,
            suggestions: Vec::new(),
            override_reasons: vec![
                override_reason("reassessed", "Reassessed: continue"),
                override_reason("record-incorrect", "Record incorrect"),
            ],
        },
    ))
}

fn dose_card(kb: &Knowledge, r: &TherapyReview) -> Option<Card> {
    let change = r.dose.as_ref()?;
    let t = r.therapy;
    let target = change.target.text();
    let mut detail = format!(
        "**Lower {} to {target}** (now {} mg/day): the record now gives a reason for the lower \
         dose.\n\n",
        t.agent.name(),
        num(change.current_mg_per_day)
    );
    findings_section(&mut detail, &change.reasons);
    detail.push_str(&format!("\n{}.\n", start_line(t)));
    if t.agent == Agent::Baricitinib && change.reasons.iter().any(|f| f.short.starts_with("eGFR")) {
        detail.push_str(&format!("\n{}.\n", super::dose::EU_RENAL_STEP));
    }
    let sent = t.order_as_sent();
    not_received_line(&mut detail, t, sent.as_ref());
    // The dose steps come from the agent's label (for baricitinib the EU SmPC: age 65 and
    // the risk factors are not steps of the US label): its figure and link, as the order
    // services' dose card gives them.
    let (figure, cite) = super::dose::label_dose(t.agent);
    let ev = evidence(
        kb,
        &figure.into_iter().collect::<Vec<_>>(),
        &cite.into_iter().collect::<Vec<_>>(),
        t.agent,
    );
    section(&mut detail, EVIDENCE_HEADING, ev.bullets);
    let suggestions = sent
        .as_ref()
        .and_then(|o| {
            update_dose(
                o,
                t.agent.name(),
                kb.drugs.ingredient_rxcui(t.agent),
                &change.target,
            )
        })
        .map(|mut a| {
            a.description = format!("Change the {} order to {target}", t.agent.name());
            vec![suggestion(
                format!("Change to {} {target}", t.agent.name()),
                true,
                vec![a],
            )]
        })
        .unwrap_or_default();
    let mut dose = card(
        kb,
        t.agent,
        Parts {
            topic: MonitoringTopic::Dose,
            indicator: Indicator::Warning,
            summary: format!(
                "{}: lower to {target} ({})",
                drug(t.agent),
                joined_short(&change.reasons)
            ),
            detail,
            suggestions,
            override_reasons: vec![
                override_reason(
                    "higher-dose-needed",
                    "Lower dose did not control the disease",
                ),
                override_reason("record-incorrect", "Record incorrect"),
            ],
        },
    );
    for l in ev.links {
        if !dose.links.iter().any(|o| o.url == l.url) {
            dose.links.push(l);
        }
    }
    Some(dose)
}

/// The one monitoring-due card of the response.
fn due_card(kb: &Knowledge, review: &Review, patient_id: &str, today: NaiveDate) -> Option<Card> {
    let mut items: Vec<(&Finding, Option<Agent>)> = review.due.iter().map(|f| (f, None)).collect();
    for r in &review.therapies {
        items.extend(r.due.iter().map(|f| (f, Some(r.therapy.agent))));
    }
    if items.is_empty() {
        return None;
    }
    let agents: Vec<Agent> = review.therapies.iter().map(|r| r.therapy.agent).collect();
    let names = agents
        .iter()
        .map(|a| a.name())
        .collect::<Vec<_>>()
        .join(" and ");
    let mut detail = format!("**Monitoring due** on {names}:\n\n");
    let findings: Vec<Finding> = items.iter().map(|(f, _)| (*f).clone()).collect();
    findings_section(&mut detail, &findings);
    for r in &review.therapies {
        detail.push_str(&format!("\n{}.\n", start_line(r.therapy)));
    }
    let orders = kb.evidence.orders();
    let parties = Parties {
        patient_id,
        user_id: None,
    };
    let mut suggestions = Vec::new();
    let mut seen = Vec::new();
    for (f, _) in &items {
        if seen.contains(&f.code) {
            continue;
        }
        seen.push(f.code);
        let reason = format!("Monitoring of {names}");
        let action = match f.code {
            FindingCode::CbcDue => Some(create_coded_lab(&orders.cbc, &parties, &reason)),
            FindingCode::LipidsDue => {
                Some(create_coded_lab(&orders.lipid_panel, &parties, &reason))
            }
            FindingCode::TbScreeningDue => Some(create_coded_lab(&orders.igra, &parties, &reason)),
            FindingCode::ZosterVaccineDue => Some(create_zoster_recommendation(
                &orders.zoster_vaccine.code,
                patient_id,
                today,
                &reason,
            )),
            _ => None,
        };
        if let Some(a) = action {
            let label = match a.description.strip_prefix("Order ") {
                Some(rest) => format!("Order {rest}"),
                None => a.description.clone(),
            };
            suggestions.push(suggestion(label, true, vec![a]));
        }
    }
    let first = agents.first().copied().unwrap_or(Agent::Baricitinib);
    let mut c = card(
        kb,
        first,
        Parts {
            topic: MonitoringTopic::Due,
            indicator: Indicator::Info,
            summary: format!("Monitoring due on {names}: {}", joined_short(&findings)),
            detail,
            suggestions,
            override_reasons: vec![
                override_reason("done-elsewhere", "Done elsewhere"),
                override_reason("not-needed", "Not needed for this patient"),
            ],
        },
    );
    c.selection_behavior = (!c.suggestions.is_empty()).then_some(SelectionBehavior::Any);
    c.links = links(kb, &agents);
    Some(c)
}

/// All monitoring cards: per therapy stop, reassess and dose, then the one due card.
pub fn render(review: &Review, kb: &Knowledge, patient_id: &str, today: NaiveDate) -> Vec<Card> {
    let mut cards = Vec::new();
    for r in &review.therapies {
        cards.extend(stop_card(kb, r));
        cards.extend(reassess_card(kb, r));
        cards.extend(dose_card(kb, r));
    }
    cards.extend(due_card(kb, review, patient_id, today));
    cards
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clinical_text_drops_codes_and_ids() {
        let f = FactSource {
            reference: "Condition/c1".into(),
            date: NaiveDate::from_ymd_opt(2026, 9, 1),
            what: "Deep vein thrombosis (ICD-10-CM I82.401), active".into(),
        };
        assert_eq!(clinical(&f), "Deep vein thrombosis, active, 2026-09-01");
        let g = FactSource {
            reference: "Observation/o1".into(),
            date: None,
            what: "eGFR 29 mL/min/1.73m2 (LOINC 62238-1)".into(),
        };
        assert_eq!(clinical(&g), "eGFR 29 mL/min/1.73m2, no date");
        let h = FactSource {
            what: "Non-ST elevation (NSTEMI) myocardial infarction (ICD-10-CM I21.4)".into(),
            ..g
        };
        assert_eq!(
            clinical(&h),
            "Non-ST elevation (NSTEMI) myocardial infarction, no date"
        );
    }
}
