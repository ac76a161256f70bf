//! Agents other than baricitinib (knowledge.md 4.5, 4.7): upadacitinib is treated like
//! baricitinib for the verdict (SLEek phase 2 positive, SELECT-SLE ongoing; no switch pushed);
//! tofacitinib, ruxolitinib and the rest have no SLE efficacy data of note, so baricitinib is
//! proposed instead when baricitinib itself would be conditionally permitted; deucravacitinib
//! is investigational.

use super::{contraindications, dose, BarAssessment, Reason, ReasonCode};
use crate::facts::{Agent, PatientFacts};
use crate::knowledge::Knowledge;

#[derive(Debug, Clone, PartialEq)]
pub enum AgentEvidence {
    /// Phase 2 signal, mixed phase 3 (the reference agent).
    Baricitinib,
    /// SLEek phase 2 positive; SELECT-SLE ongoing.
    Upadacitinib,
    /// No SLE efficacy data of note. `switch_to_baricitinib_mg` holds the baricitinib dose to
    /// propose when baricitinib would be conditionally permitted for this patient.
    NoSleData {
        switch_to_baricitinib_mg: Option<f64>,
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
                "No SLE efficacy data of note for this JAK inhibitor; baricitinib is the agent studied in SLE",
                vec![],
            )),
            AgentEvidence::Tyk2Investigational => Some(Reason::new(
                ReasonCode::Investigational,
                "Deucravacitinib is investigational in SLE: no published phase 3 efficacy; approved only for psoriasis",
                vec![],
            )),
        }
    }
}

/// The evidence class of `agent`; for agents without SLE data, whether baricitinib could be
/// proposed (no baricitinib contraindication or renal warning, bar met, data complete).
pub fn evidence(
    agent: Agent,
    facts: &PatientFacts,
    kb: &Knowledge,
    bar: &BarAssessment,
    data_blockers: &[Reason],
) -> AgentEvidence {
    match agent {
        Agent::Baricitinib => AgentEvidence::Baricitinib,
        Agent::Upadacitinib => AgentEvidence::Upadacitinib,
        Agent::Deucravacitinib => AgentEvidence::Tyk2Investigational,
        _ => {
            let bari = contraindications::assess(facts, Agent::Baricitinib, kb);
            let ok = bari.critical.is_empty()
                && bari.warnings.is_empty()
                && bar.met()
                && data_blockers.is_empty();
            AgentEvidence::NoSleData {
                switch_to_baricitinib_mg: ok.then(|| dose::target_mg(facts, kb)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{decide, VerdictKind};
    use super::*;

    #[test]
    fn verdict_by_agent_for_an_eligible_patient() {
        let rows = [
            (Agent::Baricitinib, VerdictKind::Conditional),
            (Agent::Upadacitinib, VerdictKind::Conditional),
            (Agent::Tofacitinib, VerdictKind::NotRecommended),
            (Agent::Ruxolitinib, VerdictKind::NotRecommended),
            (Agent::Filgotinib, VerdictKind::NotRecommended),
            (Agent::Deucravacitinib, VerdictKind::NotRecommended),
        ];
        for (agent, kind) in rows {
            let d = decide(&eligible(), &order(agent, Some(5.0)), kb());
            assert_eq!(d.verdict.kind, kind, "{}", agent.name());
        }
    }

    #[test]
    fn baricitinib_is_proposed_only_when_it_would_be_permitted() {
        let d = decide(&eligible(), &order(Agent::Tofacitinib, Some(5.0)), kb());
        assert_eq!(
            d.evidence,
            AgentEvidence::NoSleData {
                switch_to_baricitinib_mg: Some(4.0)
            }
        );
        let mut f = eligible();
        f.egfr = Some(m(45.0, "mL/min/1.73m2", "eGFR"));
        let d = decide(&f, &order(Agent::Tofacitinib, Some(5.0)), kb());
        assert_eq!(
            d.evidence,
            AgentEvidence::NoSleData {
                switch_to_baricitinib_mg: Some(2.0)
            }
        );
        f.egfr = Some(m(25.0, "mL/min/1.73m2", "eGFR"));
        let d = decide(&f, &order(Agent::Tofacitinib, Some(5.0)), kb());
        assert_eq!(
            d.evidence,
            AgentEvidence::NoSleData {
                switch_to_baricitinib_mg: None
            }
        );
        assert!(d.verdict.has(ReasonCode::RenalLabelDosing));
    }
}
