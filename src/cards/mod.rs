//! Facts and decisions rendered as CDS Hooks cards, suggestions and links: one verdict card
//! per in-scope order, plus at most one dose card, one pre-treatment card and one TYK2 card.
//!
//! Every card has a random v4 uuid, a summary under 140 characters that names the drug, a
//! Markdown detail listing the facts used ("value unit (date; Resource/id)") and what was
//! missing, a `source` with a link to the evidence and a stable `topic` code
//! ([`TOPIC_SYSTEM`]), and links to the cited sources.

pub mod actions;
pub mod audit;
pub mod dose;
pub mod links;
pub mod pretreatment;
pub mod text;
pub mod tyk2;
pub mod verdict;

use chrono::NaiveDate;

use crate::cds::card::SelectionBehavior;
use crate::cds::{Card, Coding, Indicator, Link, Source, Suggestion};
use crate::facts::{Agent, FactSource, JakOrder, PatientFacts};
use crate::knowledge::evidence::Cite;
use crate::knowledge::Knowledge;
use crate::rules::Decision;

/// Code system of the cards' `source.topic` (stable codes; EHR analytics key on them).
pub const TOPIC_SYSTEM: &str = "https://jak-sle-cds.github.io/fhir/CodeSystem/card-topic";
/// Code system of the override reasons the cards offer.
pub const OVERRIDE_REASON_SYSTEM: &str =
    "https://jak-sle-cds.github.io/fhir/CodeSystem/override-reason";

/// Cards' summaries are shorter than this (CDS Hooks: < 140 characters).
pub const SUMMARY_MAX_CHARS: usize = 140;

/// The card topics ([`TOPIC_SYSTEM`] codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    Contraindicated,
    NotRecommended,
    Conditional,
    DoseAdjustment,
    PreTreatment,
    Tyk2Investigational,
}

impl Topic {
    pub fn code(self) -> &'static str {
        match self {
            Topic::Contraindicated => "jaki-sle-contraindicated",
            Topic::NotRecommended => "jaki-sle-not-recommended",
            Topic::Conditional => "jaki-sle-conditional",
            Topic::DoseAdjustment => "jaki-dose-adjustment",
            Topic::PreTreatment => "jaki-pre-treatment-screening",
            Topic::Tyk2Investigational => "jaki-tyk2-investigational",
        }
    }

    pub fn display(self) -> &'static str {
        match self {
            Topic::Contraindicated => "JAK inhibitor contraindicated in SLE",
            Topic::NotRecommended => "JAK inhibitor not recommended in SLE",
            Topic::Conditional => "JAK inhibitor conditionally permitted in SLE",
            Topic::DoseAdjustment => "JAK inhibitor dose adjustment",
            Topic::PreTreatment => "Screening before starting a JAK inhibitor",
            Topic::Tyk2Investigational => "TYK2 inhibitor investigational in SLE",
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
    pub today: NaiveDate,
}

/// All cards for one decided order: verdict first, then dose, pre-treatment, TYK2.
pub fn render(decision: &Decision, rc: &RenderContext) -> Vec<Card> {
    let mut cards = vec![verdict::card(decision, rc)];
    cards.extend(dose::card(decision, rc));
    cards.extend(pretreatment::card(decision, rc));
    cards.extend(tyk2::card(decision, rc));
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

pub use crate::rules::fact_line;

/// Facts in first-seen order without repeats.
pub fn dedup_facts<'a>(facts: impl IntoIterator<Item = &'a FactSource>) -> Vec<&'a FactSource> {
    let mut out: Vec<&FactSource> = Vec::new();
    for f in facts {
        if !out
            .iter()
            .any(|o| o.reference == f.reference && o.what == f.what)
        {
            out.push(f);
        }
    }
    out
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

/// The order as card detail lists it.
pub fn order_line(rc: &RenderContext) -> String {
    format!(
        "Order: {} (recognised by {}; {})",
        rc.order.label, rc.order.matched_by, rc.order.draft.reference
    )
}

/// A Markdown section: a bold heading and one bullet per line ("none" when empty).
pub fn section(out: &mut String, heading: &str, lines: impl IntoIterator<Item = String>) {
    out.push_str(&format!("\n**{heading}**\n\n"));
    let mut any = false;
    for l in lines {
        out.push_str(&format!("- {l}\n"));
        any = true;
    }
    if !any {
        out.push_str("- none\n");
    }
}

/// A card with the common fields filled.
pub struct CardSpec {
    pub topic: Topic,
    pub indicator: Indicator,
    pub summary: String,
    pub detail: String,
    /// The source whose URL `source.url` points to.
    pub primary: Cite,
    pub suggestions: Vec<Suggestion>,
    pub selection: SelectionBehavior,
    pub override_reasons: Vec<Coding>,
    pub links: Vec<Link>,
}

pub fn build(spec: CardSpec, kb: &Knowledge) -> Card {
    let primary = kb.evidence.source(spec.primary);
    Card {
        uuid: uuid::Uuid::new_v4().to_string(),
        summary: summary(spec.summary),
        detail: Some(spec.detail),
        indicator: spec.indicator,
        source: Source {
            label: format!("JAK inhibitors in SLE (jak-sle-cds): {}", primary.label),
            url: Some(primary.url.clone()),
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

    #[test]
    fn long_summaries_are_cut_below_the_limit() {
        let s = summary(format!("Baricitinib {}", "x".repeat(200)));
        assert!(s.chars().count() < SUMMARY_MAX_CHARS);
        assert!(s.starts_with("Baricitinib"));
        assert_eq!(summary("Short".into()), "Short");
    }

    use crate::cds::ActionType;
    use crate::facts::{Agent, PatientFacts};
    use crate::rules::testing::*;
    use crate::rules::{decide, num};

    fn cards_for(f: &PatientFacts, agent: Agent, mg: Option<f64>) -> Vec<Card> {
        let o = order(agent, mg);
        let d = decide(f, &o, kb());
        let rc = RenderContext {
            kb: kb(),
            facts: f,
            order: &o,
            patient_id: "p1",
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
        let cards = cards_for(&f, Agent::Tofacitinib, Some(10.0));
        let s = &cards[0].summary;
        assert!(s.chars().count() < SUMMARY_MAX_CHARS, "{s}");
        assert!(!s.contains('…'), "no reason cut in half: {s}");
        assert!(
            s.starts_with("Tofacitinib not recommended in this SLE patient: no SLE efficacy data"),
            "{s}"
        );
        assert!(s.ends_with("more"), "the other reasons are counted: {s}");
    }

    #[test]
    fn conditional_card_states_conditions_and_verified_figures_only() {
        let cards = cards_for(&eligible(), Agent::Baricitinib, Some(4.0));
        assert_eq!(
            topics(&cards),
            vec![("jaki-sle-conditional", Indicator::Info)]
        );
        let d = cards[0].detail.as_deref().unwrap_or("");
        assert!(d.contains("67% (OR 1.8, p=0.041)"), "{d}");
        assert!(d.contains("figures unverified"), "{d}");
        assert!(!d.contains("4.4%"), "{d}");
        assert!(cards[0].override_reasons.is_empty());
        assert!(cards[0].suggestions.is_empty());
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
        let labels: Vec<&str> = c.suggestions.iter().map(|s| s.label.as_str()).collect();
        assert!(
            labels.iter().any(|l| l.contains("Mycophenolate")),
            "{labels:?}"
        );
        assert!(
            labels.iter().any(|l| l.contains("Cyclophosphamide")),
            "{labels:?}"
        );
        assert!(!c.override_reasons.is_empty());
        assert!(c.links.iter().any(|l| l.url.contains("acr.25528")));
        assert!(c.links.iter().any(|l| l.url.contains("CAR-T")));
    }

    #[test]
    fn not_recommended_card_reminds_adherence_and_offers_untried_options() {
        let mut f = eligible();
        f.therapies_tried.remove(&crate::facts::Therapy::Rituximab);
        let cards = cards_for(&f, Agent::Baricitinib, Some(4.0));
        assert_eq!(
            topics(&cards),
            vec![("jaki-sle-not-recommended", Indicator::Warning)]
        );
        let d = cards[0].detail.as_deref().unwrap_or("");
        assert!(d.contains(verdict::ADHERENCE), "{d}");
        assert!(d.contains("no record of rituximab"), "{d}");
        assert!(cards[0]
            .suggestions
            .iter()
            .any(|s| s.label.contains("Rituximab")));
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
        let a = &cards[1].suggestions[0].actions[0];
        assert_eq!(a.action_type, ActionType::Update);
        let r = a.resource.as_ref().expect("resource");
        let mg = r["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"].as_f64();
        assert_eq!(mg, Some(2.0));
        assert_eq!(r["id"], "d1");
        assert!(!cards[1].override_reasons.is_empty());
        assert!(cards[1].summary.contains(&format!("{} mg", num(2.0))));
    }

    #[test]
    fn pretreatment_and_tyk2_cards() {
        let mut f = eligible();
        f.tb_screening = None;
        f.zoster_vaccine.clear();
        let cards = cards_for(&f, Agent::Deucravacitinib, Some(6.0));
        assert_eq!(
            topics(&cards),
            vec![
                ("jaki-sle-not-recommended", Indicator::Warning),
                ("jaki-pre-treatment-screening", Indicator::Info),
                ("jaki-tyk2-investigational", Indicator::Info)
            ]
        );
        let pre = &cards[1];
        assert_eq!(pre.selection_behavior, Some(SelectionBehavior::Any));
        let types: Vec<&str> = pre
            .suggestions
            .iter()
            .filter_map(|s| s.actions[0].resource.as_ref())
            .filter_map(|r| r["resourceType"].as_str())
            .collect();
        assert_eq!(types, vec!["ServiceRequest", "ImmunizationRecommendation"]);
    }

    #[test]
    fn other_agents_are_offered_baricitinib_when_it_would_be_permitted() {
        let cards = cards_for(&eligible(), Agent::Tofacitinib, Some(5.0));
        assert_eq!(
            topics(&cards),
            vec![("jaki-sle-not-recommended", Indicator::Warning)]
        );
        let s = cards[0]
            .suggestions
            .iter()
            .find(|s| s.label.contains("baricitinib 4 mg"))
            .expect("switch suggestion");
        let r = s.actions[1].resource.as_ref().expect("resource");
        assert_eq!(
            r["medicationCodeableConcept"]["text"],
            "baricitinib 4 MG Oral Tablet"
        );
    }

    #[test]
    fn upadacitinib_mentions_sleek_without_pushing_a_switch() {
        let cards = cards_for(&eligible(), Agent::Upadacitinib, Some(30.0));
        assert_eq!(
            topics(&cards),
            vec![("jaki-sle-conditional", Indicator::Info)]
        );
        let d = cards[0].detail.as_deref().unwrap_or("");
        assert!(d.contains("54.8% vs 37.3% (p=0.028)"), "{d}");
        assert!(d.contains("SELECT-SLE"), "{d}");
        assert!(!d.contains("Replace with baricitinib"));
    }

    #[test]
    fn drug_names_are_capitalised() {
        assert_eq!(drug(Agent::Deucravacitinib), "Deucravacitinib");
    }
}
