//! Clinical decisions, one module per section of knowledge.md 4.x: pure functions from facts
//! to a typed [`Decision`] for one in-scope order. No I/O, no clock, nothing clinical
//! hard-coded: cut-offs and windows come from `kb.thresholds`, doses from `kb.profile`.
//!
//! Fail safe: the permissive verdict ([`VerdictKind::Conditional`]) needs everything that
//! could contraindicate the order to be known. Unreadable resources, data that could not be
//! obtained, or a missing eGFR or CBC downgrade it to [`VerdictKind::NotRecommended`].

pub mod conditional;
pub mod contraindications;
pub mod dose;
pub mod monitoring;
pub mod offlabel_bar;
pub mod other_agents;
pub mod pretreatment;
pub mod refractory;
pub mod tyk2;

use crate::facts::{Agent, FactSource, JakOrder, PatientFacts, Therapy};
use crate::knowledge::Knowledge;

pub use dose::{DoseAdvice, DoseAdviceKind};
pub use offlabel_bar::{BarAssessment, Criterion, CriterionKind, CriterionStatus};
pub use other_agents::AgentEvidence;
pub use pretreatment::PreTreatmentItem;

/// The three verdicts of knowledge.md 4.1-4.3; exactly one per in-scope order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VerdictKind {
    /// 4.1 (critical).
    Contraindicated,
    /// 4.2 (warning): off-label bar not met, no SLE evidence for the agent, or data missing.
    NotRecommended,
    /// 4.3 (info): bar met and nothing contraindicated.
    Conditional,
}

/// Why a verdict was reached, stable enough for tests and analytics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReasonCode {
    VteHistory,
    ActiveTb,
    ActiveLupusNephritis,
    CnsLupus,
    /// Baricitinib with eGFR below the contraindication cut-off.
    RenalContraindication,
    LowLymphocytes,
    LowNeutrophils,
    LowHaemoglobin,
    /// Another agent with eGFR below the cut-off: its label's renal dosing applies (warning).
    RenalLabelDosing,
    StandardTherapiesNotExhausted,
    NoSeverityCriterion,
    /// 4.5: no SLE efficacy data of note for this agent.
    NoSleEvidence,
    /// 4.7: deucravacitinib is investigational in SLE.
    Investigational,
    /// Resources that could not be read (fail safe).
    UnreadableData,
    /// Data the service could not obtain (fail safe).
    UnavailableData,
    /// eGFR or CBC unknown within its window: a contraindication cannot be excluded.
    SafetyDataMissing,
    /// 4.3: the off-label bar is met.
    BarMet,
    /// 4.4: eGFR in the reduced-dose range.
    ModerateRenalImpairment,
    /// 4.4: a strong OAT3 inhibitor (probenecid) is active.
    Oat3Inhibitor,
}

/// One reason with the facts it rests on.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    pub code: ReasonCode,
    /// One sentence for the card ("VTE history: ...").
    pub text: String,
    pub facts: Vec<FactSource>,
}

impl Reason {
    pub fn new(code: ReasonCode, text: impl Into<String>, facts: Vec<FactSource>) -> Reason {
        Reason {
            code,
            text: text.into(),
            facts,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub kind: VerdictKind,
    /// Never empty.
    pub reasons: Vec<Reason>,
}

impl Verdict {
    pub fn has(&self, code: ReasonCode) -> bool {
        self.reasons.iter().any(|r| r.code == code)
    }

    /// True when only missing or unreadable data stands in the way (fail safe).
    pub fn only_data_reasons(&self) -> bool {
        self.reasons.iter().all(|r| {
            matches!(
                r.code,
                ReasonCode::UnreadableData
                    | ReasonCode::UnavailableData
                    | ReasonCode::SafetyDataMissing
            )
        })
    }
}

/// Everything decided for one in-scope order.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub agent: Agent,
    pub verdict: Verdict,
    /// The off-label bar (4.2), assessed for every order so cards can show it.
    pub bar: BarAssessment,
    /// What is known about the agent's SLE evidence (4.5, 4.7).
    pub evidence: AgentEvidence,
    /// Data the rules would have used but is missing, stale or unreadable (card detail).
    pub missing: Vec<String>,
    /// 4.3: the conditions of the permissive verdict (empty unless conditional).
    pub conditions: Vec<String>,
    /// 4.4 (baricitinib only; not when contraindicated).
    pub dose: Option<DoseAdvice>,
    /// 4.6 (not when contraindicated).
    pub pretreatment: Vec<PreTreatmentItem>,
    /// Standard therapies to propose instead of the order (4.1 / 4.2).
    pub alternatives: Vec<Therapy>,
    /// 4.8: link to specialist referral and clinical trials.
    pub refractory_referral: bool,
}

impl Decision {
    /// 4.7: the order is the TYK2 inhibitor deucravacitinib.
    pub fn is_tyk2(&self) -> bool {
        matches!(self.evidence, AgentEvidence::Tyk2Investigational)
    }
}

/// Decide one in-scope order.
pub fn decide(facts: &PatientFacts, order: &JakOrder, kb: &Knowledge) -> Decision {
    let agent = order.agent;
    let contra = contraindications::assess(facts, agent, kb);
    let bar = offlabel_bar::assess(facts, kb);
    let gaps = conditional::data_blockers(facts, kb);
    let evidence = other_agents::evidence(agent, facts, kb, &bar, &gaps);
    let missing = conditional::missing_data(facts, kb);

    let verdict = if contra.critical.is_empty() {
        conditional::verdict(&bar, &contra.warnings, &gaps, &evidence)
    } else {
        Verdict {
            kind: VerdictKind::Contraindicated,
            reasons: contra.critical.clone(),
        }
    };
    let contraindicated = verdict.kind == VerdictKind::Contraindicated;
    let dose = if contraindicated {
        None
    } else {
        dose::advise(facts, order, kb)
    };
    let pretreatment = if contraindicated {
        Vec::new()
    } else {
        pretreatment::items(facts, agent, kb)
    };
    let alternatives = match verdict.kind {
        VerdictKind::Contraindicated => contraindications::alternatives(&verdict),
        // When only data is missing the order may be right: no replacement is pushed.
        VerdictKind::NotRecommended if verdict.only_data_reasons() => Vec::new(),
        VerdictKind::NotRecommended => offlabel_bar::untried_options(facts),
        VerdictKind::Conditional => Vec::new(),
    };
    let conditions = if verdict.kind == VerdictKind::Conditional {
        conditional::conditions(agent, facts, kb)
    } else {
        Vec::new()
    };
    let refractory_referral = refractory::applies(&verdict);
    Decision {
        agent,
        verdict,
        bar,
        evidence,
        missing,
        conditions,
        dose,
        pretreatment,
        alternatives,
        refractory_referral,
    }
}

/// A fact as card detail lists it: "what (date; Resource/id)".
pub fn fact_line(s: &FactSource) -> String {
    match s.date {
        Some(d) => format!("{} ({}; {})", s.what, d.format("%Y-%m-%d"), s.reference),
        None => format!("{} (no date; {})", s.what, s.reference),
    }
}

/// A number as a card shows it: at most two decimals, no trailing zeros.
pub fn num(v: f64) -> String {
    let r = (v * 100.0).round() / 100.0;
    format!("{r}")
}

#[cfg(test)]
pub(crate) mod testing {
    //! Hand-built facts and orders for the rule tests.

    use std::sync::OnceLock;

    use chrono::NaiveDate;
    use serde_json::json;

    use crate::cds::DraftOrder;
    use crate::facts::{
        Agent, DoseReading, FactSource, GlucocorticoidDose, JakOrder, Measurement, PatientFacts,
        Therapy,
    };
    use crate::fhir::model::MedicationRequest;
    use crate::knowledge::Knowledge;

    pub fn kb() -> &'static Knowledge {
        static KB: OnceLock<Knowledge> = OnceLock::new();
        KB.get_or_init(|| Knowledge::embedded().expect("embedded knowledge"))
    }

    pub fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).expect("date")
    }

    pub fn src(reference: &str, what: &str) -> FactSource {
        FactSource {
            reference: reference.into(),
            date: NaiveDate::from_ymd_opt(2026, 10, 1),
            what: what.into(),
        }
    }

    pub fn m(value: f64, unit: &'static str, what: &str) -> Measurement {
        Measurement {
            value,
            unit,
            source: src("Observation/x", what),
        }
    }

    /// A patient who meets the off-label bar with complete, normal safety data.
    pub fn eligible() -> PatientFacts {
        let mut f = PatientFacts {
            today: Some(today()),
            sle: vec![src("Condition/sle", "SLE")],
            egfr: Some(m(90.0, "mL/min/1.73m2", "eGFR 90 mL/min/1.73m2")),
            alc: Some(m(1.5, "10^3/uL", "ALC 1.5 10^3/uL")),
            anc: Some(m(4.0, "10^3/uL", "ANC 4 10^3/uL")),
            hb: Some(m(12.5, "g/dL", "Hb 12.5 g/dL")),
            sledai: Some(m(12.0, "points", "SLEDAI-2K 12")),
            glucocorticoid: Some(GlucocorticoidDose {
                mg_per_day: 15.0,
                sources: vec![src("MedicationRequest/pred", "prednisone 15 mg/day")],
                unreadable: vec![],
            }),
            ..PatientFacts::default()
        };
        for t in [
            Therapy::Rituximab,
            Therapy::Mycophenolate,
            Therapy::Belimumab,
        ] {
            f.therapies_tried
                .insert(t, vec![src("MedicationRequest/t", t.name())]);
        }
        f.tb_screening = Some(crate::facts::TbScreen {
            result: crate::facts::TbTestResult::Negative,
            source: src("Observation/igra", "IGRA negative"),
        });
        f.zoster_vaccine = vec![
            src("Immunization/z1", "RZV dose 1"),
            src("Immunization/z2", "RZV dose 2"),
        ];
        f
    }

    pub fn draft(id: &str) -> &'static DraftOrder {
        let raw = json!({
            "resourceType": "MedicationRequest", "id": id, "status": "draft", "intent": "proposal",
            "subject": {"reference": "Patient/p1"},
            "medicationCodeableConcept": {"text": "baricitinib 4 MG Oral Tablet"},
            "dosageInstruction": [{"timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet"}}]}]
        });
        let request: MedicationRequest = serde_json::from_value(raw.clone()).expect("request");
        Box::leak(Box::new(DraftOrder {
            reference: format!("MedicationRequest/{id}"),
            request,
            raw,
        }))
    }

    pub fn order(agent: Agent, mg: Option<f64>) -> JakOrder<'static> {
        JakOrder {
            draft: draft("d1"),
            agent,
            matched_by: "test".into(),
            label: format!("{} test", agent.name()),
            strength_mg: mg,
            dose: match mg {
                Some(mg) => DoseReading::Known {
                    mg_per_dose: mg,
                    doses_per_day: 1.0,
                    mg_per_day: mg,
                },
                None => DoseReading::Unknown {
                    reason: "no dosageInstruction".into(),
                },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn eligible_patient_gets_the_conditional_verdict_with_no_dose_card() {
        let d = decide(&eligible(), &order(Agent::Baricitinib, Some(4.0)), kb());
        assert_eq!(d.verdict.kind, VerdictKind::Conditional);
        assert!(d.verdict.has(ReasonCode::BarMet));
        assert!(d.dose.is_none());
        assert!(d.pretreatment.is_empty(), "{:?}", d.pretreatment);
        assert!(!d.refractory_referral);
    }

    #[test]
    fn contraindicated_orders_get_no_dose_or_pretreatment_advice() {
        let mut f = eligible();
        f.vte_history = vec![src("Condition/vte", "DVT")];
        f.tb_screening = None;
        let d = decide(&f, &order(Agent::Baricitinib, Some(2.0)), kb());
        assert_eq!(d.verdict.kind, VerdictKind::Contraindicated);
        assert!(d.dose.is_none());
        assert!(d.pretreatment.is_empty());
        assert!(d.refractory_referral);
    }

    #[test]
    fn missing_data_alone_proposes_no_replacement() {
        let mut f = eligible();
        f.therapies_tried.remove(&Therapy::Cyclophosphamide);
        f.egfr = None;
        let d = decide(&f, &order(Agent::Baricitinib, Some(4.0)), kb());
        assert_eq!(d.verdict.kind, VerdictKind::NotRecommended);
        assert!(d.alternatives.is_empty());
        f.egfr = Some(m(90.0, "mL/min/1.73m2", "eGFR"));
        f.therapies_tried.remove(&Therapy::Belimumab);
        let d = decide(&f, &order(Agent::Baricitinib, Some(4.0)), kb());
        assert_eq!(
            d.alternatives,
            vec![Therapy::Belimumab, Therapy::Cyclophosphamide]
        );
    }

    #[test]
    fn numbers_are_shown_without_float_noise() {
        assert_eq!(num(30.0), "30");
        assert_eq!(num(29.9), "29.9");
        assert_eq!(num(12.5 * 1.25), "15.63");
    }
}
