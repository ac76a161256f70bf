//! Agents other than baricitinib (knowledge.md 4.5, 4.7): upadacitinib is treated like
//! baricitinib for the verdict (SLEek phase 2 positive, SELECT-SLE ongoing; no switch pushed);
//! tofacitinib, ruxolitinib and the rest have no SLE efficacy data of note, so baricitinib is
//! proposed instead — at the dose for this patient — when baricitinib itself would be
//! conditionally permitted, is not drafted or active, and the card is not about a cytopenia;
//! deucravacitinib is investigational.

use super::finding::{Input, Level};
use super::{dose, BarAssessment, Reason, ReasonCode, RULES};
use crate::facts::Agent;

#[derive(Debug, Clone, PartialEq)]
pub enum AgentEvidence {
    /// Phase 2 signal, mixed phase 3 (the reference agent).
    Baricitinib,
    /// SLEek phase 2 positive; SELECT-SLE ongoing.
    Upadacitinib,
    /// No SLE efficacy data of note. `switch_to_baricitinib` holds the baricitinib dose (mg
    /// once daily) and its reduce reasons, when baricitinib may be proposed.
    NoSleData {
        switch_to_baricitinib: Option<(f64, Vec<Reason>)>,
    },
    /// Deucravacitinib (TYK2): investigational in SLE.
    Tyk2Investigational,
}

impl AgentEvidence {
    /// The reason this agent cannot get the permissive verdict, if any.
    pub fn blocking_reason(&self) -> Option<Reason> {
        match self {
            AgentEvidence::Baricitinib | AgentEvidence::Upadacitinib => None,
            AgentEvidence::NoSleData { .. } => Some(Reason::new(
                ReasonCode::NoSleEvidence,
                "No SLE efficacy data of note for this JAK inhibitor",
                vec![],
            )),
            AgentEvidence::Tyk2Investigational => Some(Reason::new(
                ReasonCode::Investigational,
                "Investigational in SLE: phase 2 PAISLEY positive, phase 3 (POETYK SLE-1/2) without published results",
                vec![],
            )),
        }
    }
}

/// The evidence class of the ordered agent and, for agents without SLE data, whether
/// baricitinib may be proposed.
pub fn evidence(i: &Input, bar: &BarAssessment, data_blockers: &[Reason]) -> AgentEvidence {
    match i.agent() {
        Agent::Baricitinib => AgentEvidence::Baricitinib,
        Agent::Upadacitinib => AgentEvidence::Upadacitinib,
        Agent::Deucravacitinib => AgentEvidence::Tyk2Investigational,
        _ => {
            let mut bari_order = i.order.clone();
            bari_order.agent = Agent::Baricitinib;
            let bari = Input {
                facts: i.facts,
                order: &bari_order,
                kb: i.kb,
                drafted: &[],
            };
            let blocked = RULES
                .iter()
                .flat_map(|r| r(&bari))
                .any(|f| f.level != Level::Risk);
            let own_blocked = RULES
                .iter()
                .flat_map(|r| r(i))
                .any(|f| f.level == Level::DoNotStart);
            let already = i.drafted.contains(&Agent::Baricitinib)
                || i.facts.active_drugs.iter().any(|d| d == "baricitinib");
            let ok = !blocked && !own_blocked && !already && bar.met() && data_blockers.is_empty();
            AgentEvidence::NoSleData {
                switch_to_baricitinib: ok.then(|| dose::baricitinib_target(i.facts, i.order, i.kb)),
            }
        }
    }
}
