//! The pre-treatment card (knowledge.md 4.6): TB screening, latent TB, zoster vaccine, CBC,
//! combination therapy and pregnancy, with orders the clinician may take (any of them).

use super::actions::{create_service_request, create_zoster_recommendation, suggestion};
use super::links::{evidence_lines, links, EVIDENCE_HEADING};
use super::{build, drug, fact_line, order_line, section, unique, CardSpec, RenderContext, Topic};
use crate::cds::card::SelectionBehavior;
use crate::cds::{Card, Indicator};
use crate::facts::CoTherapyClass;
use crate::knowledge::evidence::{Cite, Figure};
use crate::rules::{Decision, PreTreatmentItem};

fn short(item: &PreTreatmentItem) -> &'static str {
    match item {
        PreTreatmentItem::TbScreening { .. } => "TB screening",
        PreTreatmentItem::LatentTb { .. } => "treat latent TB",
        PreTreatmentItem::TbIndeterminate { .. } => "repeat TB test",
        PreTreatmentItem::TbPositiveReview { .. } => "review positive TB test",
        PreTreatmentItem::ZosterVaccine { .. } => "zoster vaccine",
        PreTreatmentItem::Cbc { .. } => "CBC",
        PreTreatmentItem::Combination { .. } => "stop combination",
        PreTreatmentItem::Pregnancy { .. } => "pregnancy",
    }
}

fn class_name(c: CoTherapyClass) -> &'static str {
    match c {
        CoTherapyClass::JakInhibitor => "another JAK inhibitor",
        CoTherapyClass::Biologic => "a biologic",
        CoTherapyClass::PotentImmunosuppressant => "a potent immunosuppressant",
    }
}

fn line(item: &PreTreatmentItem, agent: &str) -> String {
    let stale_note = |s: &Option<crate::facts::FactSource>| match s {
        Some(s) => format!("; latest: {}", fact_line(s)),
        None => String::new(),
    };
    match item {
        PreTreatmentItem::TbScreening { months, stale } => format!(
            "No IGRA or TST within {months} months: screen for tuberculosis before starting{}",
            stale_note(stale)
        ),
        PreTreatmentItem::LatentTb { facts } => format!(
            "Latent TB not treated, or a positive screening test: treat before starting ({})",
            facts.iter().map(fact_line).collect::<Vec<_>>().join("; ")
        ),
        PreTreatmentItem::TbPositiveReview { source } => format!(
            "Positive TB screening test on record ({}): latent TB is recorded as treated or the test was a TST; confirm before starting",
            fact_line(source)
        ),
        PreTreatmentItem::TbIndeterminate { source } => format!(
            "Indeterminate TB screening test: repeat it ({})",
            fact_line(source)
        ),
        PreTreatmentItem::ZosterVaccine { doses: 0, .. } => {
            "No recombinant zoster vaccine recorded: counsel on herpes zoster and offer it".to_string()
        }
        PreTreatmentItem::ZosterVaccine { doses, facts } => format!(
            "Recombinant zoster vaccine series incomplete ({doses} dose recorded: {}): offer the next dose",
            facts.iter().map(fact_line).collect::<Vec<_>>().join("; ")
        ),
        PreTreatmentItem::Cbc { months, stale } => format!(
            "No complete blood count within {months} months: order one (ALC, ANC, Hb){}",
            stale_note(stale)
        ),
        PreTreatmentItem::Combination { with } => format!(
            "Label limitation of use: {agent} is not to be combined with {}",
            with.iter()
                .map(|c| format!("{} ({}; {})", c.agent, class_name(c.class), fact_line(&c.source)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        PreTreatmentItem::Pregnancy { facts } => format!(
            "Pregnancy recorded: JAK inhibitors are to be avoided in pregnancy ({})",
            facts.iter().map(fact_line).collect::<Vec<_>>().join("; ")
        ),
    }
}

pub fn card(d: &Decision, rc: &RenderContext) -> Option<Card> {
    if d.pretreatment.is_empty() {
        return None;
    }
    let kb = rc.kb;
    let agent = d.agent.name();
    let mut parts: Vec<&str> = Vec::new();
    for i in &d.pretreatment {
        if !parts.contains(&short(i)) {
            parts.push(short(i));
        }
    }
    let summary = format!("Before starting {agent}: {}", parts.join(", "));
    let warning = d.pretreatment.iter().any(PreTreatmentItem::is_warning);
    let mut detail = format!("**Check before the first dose of {}.**\n", drug(d.agent));
    section(
        &mut detail,
        "To do",
        d.pretreatment.iter().map(|i| line(i, agent)),
    );
    let f = rc.facts;
    let used = unique(
        std::iter::once(order_line(rc))
            .chain(f.tb_screening.iter().map(|t| fact_line(&t.source)))
            .chain(f.latent_tb_untreated.iter().map(fact_line))
            .chain(f.zoster_vaccine.iter().map(fact_line))
            .chain(f.herpes_zoster.iter().map(fact_line))
            .chain(
                [&f.alc, &f.anc, &f.hb]
                    .into_iter()
                    .filter_map(|m| m.as_ref().map(|m| fact_line(&m.source))),
            )
            .chain(f.co_therapies.iter().map(|c| fact_line(&c.source)))
            .chain(f.pregnancy.iter().map(fact_line)),
    );
    section(&mut detail, "Facts used", used);
    section(&mut detail, "Missing data", d.missing.iter().cloned());
    let figures = [Figure::SafetyInfectionsZoster];
    let cites = [Cite::OlumiantLabel];
    section(
        &mut detail,
        EVIDENCE_HEADING,
        evidence_lines(kb, &figures, &cites),
    );

    let orders = kb.evidence.orders();
    let reason = format!("Before starting {agent}");
    let mut suggestions = Vec::new();
    let wants = |f: fn(&PreTreatmentItem) -> bool| d.pretreatment.iter().any(f);
    if wants(|i| {
        matches!(
            i,
            PreTreatmentItem::TbScreening { .. } | PreTreatmentItem::TbIndeterminate { .. }
        )
    }) {
        suggestions.push(suggestion(
            format!("Order {}", orders.igra.text),
            true,
            vec![create_service_request(&orders.igra, rc.patient_id, &reason)],
        ));
    }
    if wants(|i| matches!(i, PreTreatmentItem::ZosterVaccine { .. })) {
        suggestions.push(suggestion(
            format!("Recommend {}", orders.zoster_vaccine.code.text),
            true,
            vec![create_zoster_recommendation(
                &orders.zoster_vaccine.code,
                rc.patient_id,
                rc.today,
                &reason,
            )],
        ));
    }
    if wants(|i| matches!(i, PreTreatmentItem::Cbc { .. })) {
        suggestions.push(suggestion(
            format!("Order {}", orders.cbc.text),
            true,
            vec![create_service_request(&orders.cbc, rc.patient_id, &reason)],
        ));
    }
    Some(build(
        CardSpec {
            topic: Topic::PreTreatment,
            indicator: if warning {
                Indicator::Warning
            } else {
                Indicator::Info
            },
            summary,
            detail,
            primary: Cite::OlumiantLabel,
            suggestions,
            selection: SelectionBehavior::Any,
            override_reasons: Vec::new(),
            links: links(kb, &figures, &cites, Some(d.agent)),
        },
        kb,
    ))
}
