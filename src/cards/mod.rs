//! Facts and decisions rendered as CDS Hooks cards, suggestions and links: one verdict card
//! per in-scope order, plus at most one dose card and one pre-treatment card.
//!
//! Card text (knowledge.md 4.10): a summary under 140 characters naming the drug and the
//! decisive reasons; a detail of at most 1,500 characters — the advice in one sentence, the
//! reasons with their facts ("eGFR 45 mL/min/1.73 m², 2026-10-02"), missing data, at most
//! three evidence bullets — and at most five links. The source and evidence are the ordered
//! agent's own. No FHIR ids, code-system codes or internal references in clinician text.

pub mod actions;
pub mod audit;
pub mod dose;
pub mod links;
pub mod monitoring;
pub mod pretreatment;
pub mod text;
pub mod verdict;

use chrono::NaiveDate;

use crate::cds::card::SelectionBehavior;
use crate::cds::{Card, Coding, Indicator, Link, Source, Suggestion};
use crate::facts::{Agent, FactSource, JakOrder, PatientFacts};
use crate::knowledge::Knowledge;
use crate::rules::Decision;

/// Code system of the cards' `source.topic` (stable codes; EHR analytics key on them).
pub const TOPIC_SYSTEM: &str = "https://jak-sle-cds.github.io/fhir/CodeSystem/card-topic";
/// Code system of the override reasons the cards offer.
pub const OVERRIDE_REASON_SYSTEM: &str =
    "https://jak-sle-cds.github.io/fhir/CodeSystem/override-reason";

/// Cards' summaries are shorter than this (CDS Hooks: < 140 characters).
pub const SUMMARY_MAX_CHARS: usize = 140;
/// Card detail is at most this long (knowledge.md 4.10).
pub const DETAIL_MAX_CHARS: usize = 1500;
/// At most this many evidence bullets; the rest go to links.
pub const EVIDENCE_BULLETS_MAX: usize = 3;
/// At most this many links.
pub const LINKS_MAX: usize = 5;

/// The card topics ([`TOPIC_SYSTEM`] codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    Contraindicated,
    NotRecommended,
    Conditional,
    DoseAdjustment,
    PreTreatment,
}

impl Topic {
    pub const ALL: [Topic; 5] = [
        Topic::Contraindicated,
        Topic::NotRecommended,
        Topic::Conditional,
        Topic::DoseAdjustment,
        Topic::PreTreatment,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Topic::Contraindicated => "jaki-sle-contraindicated",
            Topic::NotRecommended => "jaki-sle-not-recommended",
            Topic::Conditional => "jaki-sle-conditional",
            Topic::DoseAdjustment => "jaki-dose-adjustment",
            Topic::PreTreatment => "jaki-pre-treatment-screening",
        }
    }

    pub fn display(self) -> &'static str {
        match self {
            Topic::Contraindicated => "JAK inhibitor contraindicated in SLE",
            Topic::NotRecommended => "JAK inhibitor not recommended in SLE",
            Topic::Conditional => "JAK inhibitor conditionally permitted in SLE",
            Topic::DoseAdjustment => "JAK inhibitor dose adjustment",
            Topic::PreTreatment => "Screening before starting a JAK inhibitor",
        }
    }

    pub fn coding(self) -> Coding {
        Coding {
            system: TOPIC_SYSTEM.into(),
            code: self.code().into(),
            display: Some(self.display().into()),
        }
    }
}

/// What rendering needs besides the decision.
pub struct RenderContext<'a> {
    pub kb: &'a Knowledge,
    pub facts: &'a PatientFacts,
    pub order: &'a JakOrder<'a>,
    /// `context.patientId`, for the subject of proposed orders.
    pub patient_id: &'a str,
    /// `context.userId`, for the requester of proposed orders.
    pub user_id: Option<&'a str>,
    pub today: NaiveDate,
}

/// All cards for one decided order: verdict first, then dose, pre-treatment.
pub fn render(decision: &Decision, rc: &RenderContext) -> Vec<Card> {
    let mut cards = vec![verdict::card(decision, rc)];
    cards.extend(dose::card(decision, rc));
    cards.extend(pretreatment::card(decision, rc));
    cards
}

/// The agent's name as a sentence starts with it: "Baricitinib".
pub fn drug(agent: Agent) -> String {
    let name = agent.name();
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A summary cut to fit (the drug name leads, so it survives the cut).
pub fn summary(text: String) -> String {
    if text.chars().count() < SUMMARY_MAX_CHARS {
        return text;
    }
    let mut cut: String = text.chars().take(SUMMARY_MAX_CHARS - 2).collect();
    cut.push('…');
    cut
}

pub use crate::rules::{fact_date, fact_line};

/// "reason text (fact, date; fact, date)": at most two facts, not already in the text.
pub fn with_facts(text: &str, facts: &[FactSource]) -> String {
    let mut shown: Vec<String> = Vec::new();
    for f in facts {
        let l = if states_value_of(text, f) {
            fact_date(f)
        } else {
            fact_line(f)
        };
        if !shown.contains(&l) {
            shown.push(l);
        }
    }
    let more = shown.len().saturating_sub(2);
    shown.truncate(2);
    if more > 0 {
        shown.push(format!("{more} more"));
    }
    // "eGFR 45" with the fact "eGFR 45 mL/min/1.73 m², 2026-10-15": the fact alone.
    if shown.len() == 1 && shown[0].starts_with(text) {
        return shown.remove(0);
    }
    if shown.is_empty() {
        text.to_string()
    } else {
        format!("{text} ({})", shown.join("; "))
    }
}

/// True when `text` already gives the measured value of the fact `f` ("Lymphocytes 0.4
/// x10³/µL, below 0.5" for the result "ALC 0.4 x10^3/uL"): the card then adds only the fact's
/// date, not the value a second time. Results only (Observations): a number in another fact
/// ("baricitinib 4 MG Oral Tablet") is not a value the text could be giving.
pub fn states_value_of(text: &str, f: &FactSource) -> bool {
    if !f.reference.starts_with("Observation/") {
        return false;
    }
    let what = f.what.as_str();
    let number = |t: &&str| t.starts_with(|c: char| c.is_ascii_digit());
    let Some(value) = what.split_whitespace().find(number) else {
        return false;
    };
    let value = value.trim_end_matches([',', ';', ')']);
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .any(|t| t.trim_end_matches('.') == value)
}

/// Lines in first-seen order without repeats.
pub fn unique(lines: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in lines {
        if !out.contains(&l) {
            out.push(l);
        }
    }
    out
}

/// A Markdown section: a bold heading and one bullet per line (nothing when empty).
pub fn section(out: &mut String, heading: &str, lines: impl IntoIterator<Item = String>) {
    let lines: Vec<String> = lines.into_iter().collect();
    if lines.is_empty() {
        return;
    }
    out.push_str(&format!("\n**{heading}**\n"));
    for l in lines {
        out.push_str(&format!("- {l}\n"));
    }
}

/// A card with the common fields filled.
pub struct CardSpec {
    pub topic: Topic,
    pub indicator: Indicator,
    pub summary: String,
    pub detail: String,
    /// The card's source: label and URL (the ordered agent's label where it has one).
    pub source: (String, String),
    pub suggestions: Vec<Suggestion>,
    pub selection: SelectionBehavior,
    pub override_reasons: Vec<Coding>,
    pub links: Vec<Link>,
}

pub fn build(spec: CardSpec) -> Card {
    Card {
        uuid: uuid::Uuid::new_v4().to_string(),
        summary: summary(spec.summary),
        detail: Some(spec.detail),
        indicator: spec.indicator,
        source: Source {
            label: format!("JAK inhibitors in SLE (jak-sle-cds): {}", spec.source.0),
            url: Some(spec.source.1),
            icon: None,
            topic: Some(spec.topic.coding()),
        },
        selection_behavior: (!spec.suggestions.is_empty()).then_some(spec.selection),
        suggestions: spec.suggestions,
        override_reasons: spec.override_reasons,
        links: spec.links,
        extension: None,
    }
}

/// The ordered agent's label (label, URL), else the Olumiant label as the reference source.
pub fn agent_source(kb: &Knowledge, agent: Agent) -> (String, String) {
    match kb.evidence.label(agent) {
        Some(l) => (l.label.clone(), l.url.clone()),
        None => {
            let s = kb
                .evidence
                .source(crate::knowledge::evidence::Cite::NoSleApproval);
            (s.label.clone(), s.url.clone())
        }
    }
}

/// An override reason of [`OVERRIDE_REASON_SYSTEM`].
pub fn override_reason(code: &str, display: &str) -> Coding {
    Coding {
        system: OVERRIDE_REASON_SYSTEM.into(),
        code: code.into(),
        display: Some(display.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cds::ActionType;
    use crate::facts::{Agent, PatientFacts};
    use crate::rules::decide;
    use crate::rules::testing::*;

    #[test]
    fn long_summaries_are_cut_below_the_limit() {
        let s = summary(format!("Baricitinib {}", "x".repeat(200)));
        assert!(s.chars().count() < SUMMARY_MAX_CHARS);
        assert!(s.starts_with("Baricitinib"));
        assert_eq!(summary("Short".into()), "Short");
    }

    fn cards_for(f: &PatientFacts, agent: Agent, mg: Option<f64>) -> Vec<Card> {
        let o = order(agent, mg);
        let d = decide(f, &o, kb(), &[agent]);
        let rc = RenderContext {
            kb: kb(),
            facts: f,
            order: &o,
            patient_id: "p1",
            user_id: Some("Practitioner/u1"),
            today: today(),
        };
        let cards = render(&d, &rc);
        for c in &cards {
            let problems = audit::audit(c, agent, kb());
            assert!(
                problems.is_empty(),
                "{problems:?}\n{}",
                c.detail.as_deref().unwrap_or("")
            );
        }
        cards
    }

    fn topics(cards: &[Card]) -> Vec<(&str, Indicator)> {
        cards
            .iter()
            .map(|c| (c.topic().unwrap_or(""), c.indicator))
            .collect()
    }

    #[test]
    fn a_verdict_with_many_reasons_keeps_whole_reasons_in_its_summary() {
        let mut f = eligible();
        f.therapies_tried.clear();
        f.glucocorticoid = None;
        f.sledai = None;
        f.msk_cutaneous.clear();
        let cards = cards_for(&f, Agent::Tofacitinib, Some(5.0));
        let s = &cards[0].summary;
        assert!(s.chars().count() < SUMMARY_MAX_CHARS, "{s}");
        assert!(!s.contains('…'), "no reason cut in half: {s}");
        assert!(
            s.starts_with("Tofacitinib not recommended: no SLE efficacy data"),
            "{s}"
        );
    }

    #[test]
    fn conditional_card_states_conditions_and_no_suggestions() {
        let cards = cards_for(&eligible(), Agent::Baricitinib, Some(4.0));
        assert_eq!(
            topics(&cards),
            vec![("jaki-sle-conditional", Indicator::Info)]
        );
        let d = cards[0].detail.as_deref().unwrap_or("");
        assert!(d.contains("Lipids"), "{d}");
        assert!(cards[0].override_reasons.is_empty());
        assert!(cards[0].suggestions.is_empty());
    }

    #[test]
    fn risk_factors_make_the_conditional_card_a_warning_that_names_them() {
        let mut f = eligible();
        f.risk.malignancy = vec![src("Condition/c", "Breast cancer")];
        let cards = cards_for(&f, Agent::Baricitinib, Some(2.0));
        assert_eq!(
            topics(&cards),
            vec![("jaki-sle-conditional", Indicator::Warning)]
        );
        assert!(
            cards[0].summary.contains("malignancy"),
            "{}",
            cards[0].summary
        );
        let d = cards[0].detail.as_deref().unwrap_or("");
        assert!(d.contains("Boxed warning"), "{d}");
    }

    #[test]
    fn contraindicated_card_deletes_the_draft_and_offers_alternatives() {
        let mut f = eligible();
        f.active_lupus_nephritis = vec![src("Condition/ln", "Lupus nephritis, active")];
        let cards = cards_for(&f, Agent::Baricitinib, Some(4.0));
        assert_eq!(
            topics(&cards),
            vec![("jaki-sle-contraindicated", Indicator::Critical)]
        );
        let c = &cards[0];
        let first = &c.suggestions[0].actions[0];
        assert_eq!(first.action_type, ActionType::Delete);
        assert_eq!(first.resource_id.as_deref(), Some("MedicationRequest/d1"));
        for s in &c.suggestions[1..] {
            let r = s.actions[1].resource.as_ref().expect("resource");
            assert!(
                r["medicationCodeableConcept"]["coding"][0]["code"].is_string(),
                "{r}"
            );
            assert_eq!(r["requester"]["reference"], "Practitioner/u1");
        }
        let d = c.detail.as_deref().unwrap_or("");
        assert!(d.contains("Obinutuzumab"), "{d}");
        assert!(d.contains("voclosporin or tacrolimus"), "{d}");
        assert!(!d.to_lowercase().contains("off-label bar"), "{d}");
    }

    #[test]
    fn dose_card_carries_the_whole_draft_at_the_new_dose() {
        let mut f = eligible();
        f.egfr = Some(m(45.0, "mL/min/1.73m2", "eGFR 45 mL/min/1.73m2"));
        let cards = cards_for(&f, Agent::Baricitinib, Some(4.0));
        assert_eq!(
            topics(&cards),
            vec![
                ("jaki-sle-conditional", Indicator::Info),
                ("jaki-dose-adjustment", Indicator::Warning)
            ]
        );
        let s = &cards[1].suggestions[0];
        assert!(s.label.contains("2 mg once daily (eGFR 45)"), "{}", s.label);
        let r = s.actions[0].resource.as_ref().expect("resource");
        let mg = r["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"].as_f64();
        assert_eq!(mg, Some(2.0));
        assert_eq!(r["id"], "d1");
        assert_eq!(
            r["medicationCodeableConcept"]["coding"][0]["code"],
            "2047232"
        );
    }

    #[test]
    fn deucravacitinib_gets_one_verdict_card() {
        let mut f = eligible();
        f.zoster_vaccine.clear();
        let cards = cards_for(&f, Agent::Deucravacitinib, Some(6.0));
        assert_eq!(
            topics(&cards),
            vec![
                ("jaki-sle-not-recommended", Indicator::Warning),
                ("jaki-pre-treatment-screening", Indicator::Info),
            ]
        );
        assert!(
            cards[0]
                .links
                .iter()
                .any(|l| l.url.contains("NCT05617677") || l.label.to_lowercase().contains("trial")),
            "{:?}",
            cards[0].links
        );
    }

    #[test]
    fn other_agents_are_offered_coded_baricitinib_when_it_would_be_permitted() {
        let cards = cards_for(&eligible(), Agent::Tofacitinib, Some(5.0));
        assert_eq!(
            topics(&cards)[0],
            ("jaki-sle-not-recommended", Indicator::Warning)
        );
        let s = cards[0]
            .suggestions
            .iter()
            .find(|s| s.label.contains("baricitinib 4 mg once daily"))
            .expect("switch suggestion");
        let r = s.actions[1].resource.as_ref().expect("resource");
        assert_eq!(
            r["medicationCodeableConcept"]["text"],
            "baricitinib 4 MG Oral Tablet"
        );
        assert_eq!(
            r["medicationCodeableConcept"]["coding"][0]["code"],
            "2047232"
        );
        assert!(
            cards[0].source.label.contains("Xeljanz"),
            "{}",
            cards[0].source.label
        );
    }

    #[test]
    fn upadacitinib_says_phase_3_is_ongoing() {
        let cards = cards_for(&eligible(), Agent::Upadacitinib, Some(30.0));
        assert_eq!(
            topics(&cards),
            vec![("jaki-sle-conditional", Indicator::Info)]
        );
        let d = cards[0].detail.as_deref().unwrap_or("");
        assert!(d.contains("ongoing"), "{d}");
        assert!(!d.contains("phase 3 results are mixed"), "{d}");
    }

    #[test]
    fn drug_names_are_capitalised() {
        assert_eq!(drug(Agent::Deucravacitinib), "Deucravacitinib");
    }
}
