//! The pre-treatment card (knowledge.md 4.6, v2): one per order, each item once per response,
//! a warning when any warning item is present; the orders the clinician may take (any of
//! them): IGRA, hepatitis serology, CBC, creatinine, the zoster vaccine, hydroxychloroquine.

use super::actions::{
    create_coded_lab, create_lab_order, create_medication, create_zoster_recommendation,
    suggestion, Parties,
};
use super::links::{evidence, EVIDENCE_HEADING};
use super::{agent_source, build, fact_line, section, CardSpec, RenderContext, Topic};
use crate::cds::card::SelectionBehavior;
use crate::cds::{Card, Indicator};
use crate::facts::{Agent, CoTherapyClass, FactSource};
use crate::knowledge::evidence::Cite;
use crate::rules::{Decision, PreTreatmentItem};

fn short(item: &PreTreatmentItem) -> &'static str {
    use PreTreatmentItem::*;
    match item {
        TbScreening { .. } => "TB screening",
        LatentTb { .. } => "treat latent TB",
        LatentTbOnTreatment { .. } => "latent TB on treatment",
        TbIndeterminate { .. } => "repeat TB test",
        TbPositiveReview { .. } => "positive TB test",
        HepatitisScreening { .. } => "hepatitis screening",
        HbvReactivation { .. } => "HBV DNA",
        HcvRna { .. } => "HCV RNA",
        PregnancyTest { .. } => "pregnancy test",
        PregnancyUnclear { .. } => "pregnancy status",
        BreastfeedingUnclear { .. } => "breast-feeding status",
        ZosterVaccine { .. } => "zoster vaccine",
        Cbc { .. } => "CBC",
        Creatinine { .. } => "creatinine",
        Combination { .. } => "immunosuppressant combination",
        LiveVaccine { .. } => "live vaccine",
        HormonalVte { .. } => "estrogen VTE risk",
        Diverticular { .. } => "diverticular disease",
        Cyp3a4Inducer { .. } => "CYP3A4 inducer",
        UpcrWithoutNephritis { .. } => "exclude nephritis",
        Hydroxychloroquine => "hydroxychloroquine",
    }
}

fn facts(f: &[FactSource]) -> String {
    f.iter()
        .take(2)
        .map(fact_line)
        .collect::<Vec<_>>()
        .join("; ")
}

fn line(item: &PreTreatmentItem, agent: &str) -> String {
    use PreTreatmentItem::*;
    match item {
        TbScreening { months, stale } => format!(
            "No IGRA or TST within {months} months: screen for tuberculosis first{}",
            stale
                .as_ref()
                .map(|s| format!(" (latest: {})", fact_line(s)))
                .unwrap_or_default()
        ),
        LatentTb { facts: f } => format!("Latent TB not treated: treat before starting ({})", facts(f)),
        LatentTbOnTreatment { facts: f } => format!("Latent TB on treatment ({})", facts(f)),
        TbPositiveReview { source } => format!(
            "Positive TB test ({}) with latent TB recorded as treated, or a TST: confirm before starting",
            fact_line(source)
        ),
        TbIndeterminate { source } => format!("Indeterminate TB test: repeat it ({})", fact_line(source)),
        HepatitisScreening { missing } => format!(
            "No {} result on record: screen for hepatitis B and C first",
            missing.join(", ")
        ),
        HbvReactivation { source } => format!(
            "HBsAg negative ({}): check HBV DNA before starting and monitor it (reactivation risk, higher after rituximab)",
            fact_line(source)
        ),
        HcvRna { source } => format!("HCV antibody positive ({}): check HCV RNA", fact_line(source)),
        PregnancyTest { contraception_weeks } => format!(
            "No negative pregnancy test within 30 days: {}",
            pregnancy_todo(*contraception_weeks)
        ),
        PregnancyUnclear { facts: f } => format!(
            "Pregnancy recorded but not recent ({}): confirm the status before starting",
            facts(f)
        ),
        BreastfeedingUnclear { facts: f } => format!(
            "Breast-feeding recorded but not recent ({}): confirm before starting",
            facts(f)
        ),
        ZosterVaccine { doses: 0 } => "No recombinant zoster vaccine recorded: offer it".to_string(),
        ZosterVaccine { doses } => format!(
            "Recombinant zoster vaccine: {doses} dose recorded; offer the next"
        ),
        Cbc { months } => format!("No blood count within {months} months: order a CBC"),
        Creatinine { months } => format!("No eGFR within {months} months: order a creatinine"),
        Combination { with } => format!(
            "Not with {} (labels: not with biologics or potent immunosuppressants; the SLE trials allowed one background agent)",
            with.iter()
                .map(|c| match c.given_within_months {
                    // Not a current order: the drug's effect lasts (B-cell depletion).
                    Some(m) => format!(
                        "{} given within {m} months ({}, {})",
                        c.agent,
                        class_name(c.class),
                        fact_line(&c.source)
                    ),
                    None => format!("{} ({}, {})", c.agent, class_name(c.class), fact_line(&c.source)),
                })
                .collect::<Vec<_>>()
                .join("; ")
        ),
        LiveVaccine { facts: f } => format!(
            "Live vaccine within 4 weeks or drafted now ({}): do not combine with {agent}",
            facts(f)
        ),
        HormonalVte { facts: f } => format!(
            "Estrogen-containing therapy ({}): an added VTE risk factor",
            facts(f)
        ),
        Diverticular { facts: f } => format!(
            "Diverticular disease ({}): risk of gastrointestinal perforation, higher with glucocorticoids or NSAIDs",
            facts(f)
        ),
        Cyp3a4Inducer { facts: f } => format!(
            "Strong CYP3A4 inducer ({}): not recommended with {agent}, loss of effect",
            facts(f)
        ),
        UpcrWithoutNephritis { source } => format!(
            "{} without a lupus nephritis diagnosis: exclude active lupus nephritis",
            fact_line(source)
        ),
        Hydroxychloroquine => "No hydroxychloroquine on record: EULAR 2023 recommends it for all patients unless contraindicated".to_string(),
    }
}

/// What to do without a recent negative pregnancy test.
fn pregnancy_todo(contraception_weeks: u32) -> String {
    let weeks = if contraception_weeks == 1 {
        "1 week".to_string()
    } else {
        format!("{contraception_weeks} weeks")
    };
    format!("verify pregnancy status before starting; counsel effective contraception during treatment and for {weeks} after the last dose")
}

/// An item that says a result is absent, when the data that would hold it could not be
/// obtained: "not known", never "no result on record" (the service did not see the record).
fn not_obtained(item: &PreTreatmentItem, unavailable: &[String]) -> Option<String> {
    use PreTreatmentItem::*;
    let (key, what, todo) = match item {
        TbScreening { .. } => (
            "labs",
            "TB screening",
            "screen for tuberculosis first".to_string(),
        ),
        HepatitisScreening { .. } => (
            "labs",
            "Hepatitis B and C serology",
            "screen for hepatitis B and C first".to_string(),
        ),
        Cbc { .. } => ("labs", "Blood count", "order a CBC".to_string()),
        Creatinine { .. } => ("labs", "eGFR", "order a creatinine".to_string()),
        PregnancyTest {
            contraception_weeks,
        } => (
            "status",
            "Pregnancy test",
            pregnancy_todo(*contraception_weeks),
        ),
        _ => return None,
    };
    unavailable
        .iter()
        .any(|k| k == key)
        .then(|| format!("{what} not known (results could not be obtained): {todo}"))
}

fn class_name(c: CoTherapyClass) -> &'static str {
    match c {
        CoTherapyClass::JakInhibitor => "JAK inhibitor",
        CoTherapyClass::Biologic => "biologic",
        CoTherapyClass::PotentImmunosuppressant => "potent immunosuppressant",
    }
}

/// The sources linked beside the agent's label: the contraception period after the last dose
/// is an EU SmPC figure, and baricitinib's label link is its US PI, so its SmPC is added.
fn cites(d: &Decision) -> Vec<Cite> {
    let contraception = d
        .pretreatment
        .iter()
        .any(|i| matches!(i, PreTreatmentItem::PregnancyTest { .. }));
    if contraception && d.agent == Agent::Baricitinib {
        vec![Cite::OlumiantSmpc, Cite::Eular2023]
    } else {
        vec![Cite::Eular2023]
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
    let summary = super::verdict::summary_with(
        &format!("Before starting {agent}"),
        &parts.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    );
    let warning = d.pretreatment.iter().any(PreTreatmentItem::is_warning);
    let mut detail = format!("**Before the first dose of {}:**\n", d.agent.name());
    section(
        &mut detail,
        "To do",
        d.pretreatment
            .iter()
            .filter(|i| !i.is_note())
            .map(|i| not_obtained(i, &rc.facts.unavailable).unwrap_or_else(|| line(i, agent))),
    );
    section(
        &mut detail,
        "Noted",
        d.pretreatment
            .iter()
            .filter(|i| i.is_note())
            .map(|i| line(i, agent)),
    );
    let ev = evidence(kb, &[], &cites(d), d.agent);
    section(&mut detail, EVIDENCE_HEADING, ev.bullets);

    let orders = kb.evidence.orders();
    let reason = format!("Before starting {agent}");
    let parties = Parties {
        patient_id: rc.patient_id,
        user_id: rc.user_id,
    };
    let mut suggestions = Vec::new();
    let has = |f: fn(&PreTreatmentItem) -> bool| d.pretreatment.iter().any(f);
    if has(|i| {
        matches!(
            i,
            PreTreatmentItem::TbScreening { .. } | PreTreatmentItem::TbIndeterminate { .. }
        )
    }) {
        suggestions.push(suggestion(
            format!("Order {}", orders.igra.text),
            true,
            vec![create_coded_lab(&orders.igra, &parties, &reason)],
        ));
    }
    for item in &d.pretreatment {
        if let PreTreatmentItem::HepatitisScreening { missing } = item {
            for (name, key) in [
                ("HBsAg", "hbsag"),
                ("anti-HBc", "anti_hbc"),
                ("HCV antibody", "hcv_antibody"),
            ] {
                if let (true, Some(o)) = (missing.contains(&name), kb.drugs.lab_order(key)) {
                    suggestions.push(suggestion(
                        format!("Order {}", o.text),
                        true,
                        vec![create_lab_order(o, &parties, &reason)],
                    ));
                }
            }
        }
    }
    if has(|i| matches!(i, PreTreatmentItem::Cbc { .. })) {
        suggestions.push(suggestion(
            format!("Order {}", orders.cbc.text),
            true,
            vec![create_coded_lab(&orders.cbc, &parties, &reason)],
        ));
    }
    if let (true, Some(o)) = (
        has(|i| matches!(i, PreTreatmentItem::Creatinine { .. })),
        kb.drugs.lab_order("creatinine"),
    ) {
        suggestions.push(suggestion(
            format!("Order {}", o.text),
            true,
            vec![create_lab_order(o, &parties, &reason)],
        ));
    }
    if has(|i| matches!(i, PreTreatmentItem::ZosterVaccine { .. })) {
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
    if let (true, Some(o)) = (
        has(|i| matches!(i, PreTreatmentItem::Hydroxychloroquine)),
        kb.drugs.medication_order("hydroxychloroquine"),
    ) {
        suggestions.push(suggestion(
            format!("Order {}", o.instruction.to_lowercase()),
            false,
            vec![create_medication(o, &parties)],
        ));
    }
    Some(build(CardSpec {
        topic: Topic::PreTreatment,
        indicator: if warning {
            Indicator::Warning
        } else {
            Indicator::Info
        },
        summary,
        detail,
        source: agent_source(kb, d.agent),
        suggestions,
        selection: SelectionBehavior::Any,
        override_reasons: Vec::new(),
        links: ev.links,
    }))
}
