//! The uniform shape of a finding rule: facts and the order in ([`Input`]), typed findings
//! with their reasons and facts out ([`Finding`]). Each rule is one file under `src/rules/`
//! exposing `pub fn rule(input: &Input) -> Vec<Finding>`, wired once in [`super::RULES`].

use super::{Reason, ReasonCode};
use crate::facts::{Agent, FactSource, JakOrder, PatientFacts};
use crate::knowledge::Knowledge;

/// What a rule sees.
pub struct Input<'a> {
    pub facts: &'a PatientFacts,
    pub order: &'a JakOrder<'a>,
    pub kb: &'a Knowledge,
    /// The agents of every in-scope draft of the same call (this order's included).
    pub drafted: &'a [Agent],
}

impl Input<'_> {
    pub fn agent(&self) -> Agent {
        self.order.agent
    }
}

/// How a finding bears on the verdict (knowledge.md "What changed": label wording to severity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Do not start (critical): contraindicated, do not start, avoid, safety-driven "not
    /// recommended".
    DoNotStart,
    /// Not recommended (warning): withholds the permissive verdict.
    NotRecommended,
    /// Boxed-warning risk: the permissive verdict becomes a warning that names it.
    Risk,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub level: Level,
    pub reason: Reason,
}

impl Finding {
    pub fn new(level: Level, code: ReasonCode, text: String, facts: Vec<FactSource>) -> Finding {
        Finding {
            level,
            reason: Reason::new(code, text, facts),
        }
    }
}

/// A finding rule.
pub type Rule = fn(&Input) -> Vec<Finding>;

/// The brand of the agent's label, for attribution ("Olumiant label").
pub fn label_name(agent: Agent) -> Option<&'static str> {
    match agent {
        Agent::Baricitinib => Some("Olumiant"),
        Agent::Tofacitinib => Some("Xeljanz"),
        Agent::Upadacitinib => Some("Rinvoq"),
        Agent::Ruxolitinib => Some("Jakafi"),
        Agent::Abrocitinib => Some("Cibinqo"),
        Agent::Ritlecitinib => Some("Litfulo"),
        Agent::Deuruxolitinib => Some("Leqselvi"),
        Agent::Filgotinib => Some("Jyseleca"),
        Agent::Fedratinib => Some("Inrebic"),
        Agent::Pacritinib => Some("Vonjo"),
        Agent::Momelotinib => Some("Ojjaara"),
        Agent::Deucravacitinib => Some("Sotyktu"),
    }
}

/// Who says so: "Olumiant label: {what}" for the three JAK inhibitors with the cited labels
/// (baricitinib, tofacitinib, upadacitinib), else "local policy (JAK-inhibitor class)".
/// Deucravacitinib's label has no JAK boxed warning: always local policy (knowledge.md 4.7).
pub fn attributed(agent: Agent, label_says: &str) -> String {
    match agent {
        Agent::Baricitinib | Agent::Tofacitinib | Agent::Upadacitinib => {
            format!("{} label: {label_says}", label_name(agent).unwrap_or("the"))
        }
        _ => "local policy (JAK-inhibitor class labels)".to_string(),
    }
}
