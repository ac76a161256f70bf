//! Clinical decisions, one module per section of knowledge.md 4.x: pure functions from facts
//! to a typed [`Decision`] for one in-scope order. No I/O, no clock, nothing clinical
//! hard-coded: cut-offs and windows come from `kb.thresholds`, doses from `kb.profile`.
//!
//! Fail safe: the permissive verdict ([`VerdictKind::Conditional`]) needs everything that
//! could contraindicate the order to be known. Unreadable resources, data that could not be
//! obtained, or a missing eGFR or CBC downgrade it to [`VerdictKind::NotRecommended`].

pub mod active_tb;
pub mod alternatives;
pub mod boxed_warning;
pub mod breastfeeding;
pub mod cns_lupus;
pub mod combination;
pub mod conditional;
pub mod cytopenia;
pub mod dose;
pub mod finding;
pub mod hepatic;
pub mod hepatitis;
pub mod infection;
pub mod lupus_nephritis;
pub mod monitoring;
pub mod offlabel_bar;
pub mod other_agents;
pub mod pregnancy;
pub mod pretreatment;
pub mod refractory;
pub mod renal;
pub mod thrombosis;
pub mod vte;

use crate::facts::{Agent, FactSource, JakOrder, PatientFacts};
use crate::knowledge::Knowledge;

pub use alternatives::Alternative;
pub use dose::{DoseAdvice, DoseAdviceKind};
pub use finding::{Finding, Input, Level, Rule};
pub use offlabel_bar::{BarAssessment, Criterion, CriterionKind, CriterionStatus};
pub use other_agents::AgentEvidence;
pub use pretreatment::PreTreatmentItem;

/// Every finding rule, in the order their reasons are shown (do-not-start first).
pub const RULES: &[Rule] = &[
    vte::rule,
    thrombosis::rule,
    active_tb::rule,
    infection::rule,
    pregnancy::rule,
    breastfeeding::rule,
    hepatitis::rule,
    hepatic::rule,
    lupus_nephritis::rule,
    cns_lupus::rule,
    renal::rule,
    cytopenia::rule,
    combination::rule,
    boxed_warning::rule,
];

/// The three verdicts of knowledge.md 4.1-4.3; exactly one per in-scope order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VerdictKind {
    /// 4.1 (critical).
    Contraindicated,
    /// 4.2 (warning): off-label bar not met, no SLE evidence for the agent, combination, or
    /// data missing.
    NotRecommended,
    /// 4.3 (info), or 4.3b (warning) with boxed-warning risk factors.
    Conditional,
}

/// Why a verdict was reached, stable enough for tests and analytics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReasonCode {
    VteHistory,
    /// Antiphospholipid syndrome or arterial thrombosis.
    ThrombosisRisk,
    ActiveTb,
    ActiveInfection,
    Pregnancy,
    Breastfeeding,
    ActiveHepatitis,
    SevereHepaticImpairment,
    ActiveLupusNephritis,
    CnsLupus,
    /// eGFR below the agent's do-not-start cut-off (baricitinib 30, upadacitinib 15).
    RenalContraindication,
    LowLymphocytes,
    LowNeutrophils,
    LowHaemoglobin,
    /// Another agent with eGFR below 30: its label's renal dosing applies (warning).
    RenalLabelDosing,
    /// Two JAK/TYK2 inhibitors drafted together.
    Combination,
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
    /// No eGFR within its window: renal impairment cannot be excluded.
    EgfrUnknown,
    /// No ALC, ANC or Hb within the CBC window: cytopenia cannot be excluded.
    CbcUnknown,
    /// 4.3: the off-label bar is met.
    BarMet,
    /// 4.3b / 4.4: a boxed-warning risk factor (age, smoking, ASCVD, malignancy, recurrent
    /// serious infections).
    BoxedWarningRisk,
    /// 4.4: eGFR in the reduced-dose range.
    ModerateRenalImpairment,
    /// 4.4: a strong OAT3 inhibitor (probenecid) is active.
    Oat3Inhibitor,
    /// 4.4b: a strong CYP3A4 inhibitor (or fluconazole).
    Cyp3a4Inhibitor,
    /// 4.4b: moderate hepatic impairment (tofacitinib).
    ModerateHepaticImpairment,
}

/// One reason with the facts it rests on.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    pub code: ReasonCode,
    /// One sentence for the card.
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
                    | ReasonCode::EgfrUnknown
                    | ReasonCode::CbcUnknown
            )
        })
    }

    /// True when a cytopenia is among the reasons (no JAK-to-JAK switch is proposed).
    pub fn has_cytopenia(&self) -> bool {
        self.has(ReasonCode::LowLymphocytes)
            || self.has(ReasonCode::LowNeutrophils)
            || self.has(ReasonCode::LowHaemoglobin)
    }
}

/// Everything decided for one in-scope order.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub agent: Agent,
    pub verdict: Verdict,
    /// 4.3b: boxed-warning risk factors (a conditional verdict becomes a warning; a
    /// not-recommended card names them too).
    pub risk: Vec<Reason>,
    /// The off-label bar (4.2), assessed for every order so cards can show it.
    pub bar: BarAssessment,
    /// What is known about the agent's SLE evidence (4.5, 4.7).
    pub evidence: AgentEvidence,
    /// Data the rules would have used but is missing, stale, unclear or unreadable.
    pub missing: Vec<String>,
    /// 4.3: the conditions of the permissive verdict (empty unless conditional).
    pub conditions: Vec<String>,
    /// 4.4 / 4.4b (not when contraindicated).
    pub dose: Option<DoseAdvice>,
    /// 4.6 (not when contraindicated).
    pub pretreatment: Vec<PreTreatmentItem>,
    /// What to propose instead of the order (4.1, 4.2, 4.5).
    pub alternatives: Vec<Alternative>,
    /// 4.8: link to specialist referral and clinical trials.
    pub refractory_referral: bool,
}

impl Decision {
    /// 4.7: the order is the TYK2 inhibitor deucravacitinib.
    pub fn is_tyk2(&self) -> bool {
        matches!(self.evidence, AgentEvidence::Tyk2Investigational)
    }
}

/// Decide one in-scope order. `drafted` holds the agents of every in-scope draft of the call.
pub fn decide(
    facts: &PatientFacts,
    order: &JakOrder,
    kb: &Knowledge,
    drafted: &[Agent],
) -> Decision {
    let agent = order.agent;
    let input = Input {
        facts,
        order,
        kb,
        drafted,
    };
    let findings: Vec<Finding> = RULES.iter().flat_map(|rule| rule(&input)).collect();
    let of = |level: Level| -> Vec<Reason> {
        findings
            .iter()
            .filter(|f| f.level == level)
            .map(|f| f.reason.clone())
            .collect()
    };
    let critical = of(Level::DoNotStart);
    let warnings = of(Level::NotRecommended);
    let risk = of(Level::Risk);
    let bar = offlabel_bar::assess(facts, kb);
    let gaps = conditional::data_blockers(facts, kb);
    let evidence = other_agents::evidence(&input, &bar, &gaps);
    let missing = conditional::missing_data(facts, kb);

    let verdict = if critical.is_empty() {
        conditional::verdict(&bar, &warnings, &gaps, &evidence)
    } else {
        Verdict {
            kind: VerdictKind::Contraindicated,
            reasons: critical,
        }
    };
    let contraindicated = verdict.kind == VerdictKind::Contraindicated;
    let dose = if contraindicated {
        None
    } else {
        dose::advise(&input)
    };
    let pretreatment = if contraindicated {
        Vec::new()
    } else {
        pretreatment::items(&input)
    };
    let alternatives = alternatives::propose(&input, &verdict, &evidence);
    let conditions = if verdict.kind == VerdictKind::Conditional {
        conditional::conditions(&input, dose.is_some())
    } else {
        Vec::new()
    };
    let refractory_referral = refractory::applies(&verdict);
    Decision {
        agent,
        verdict,
        risk,
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

/// A fact as a clinician reads it: "eGFR 45 mL/min/1.73 m², 2026-10-02". Code-system codes
/// and FHIR ids stay out (they are in the audit record and `evaluate --format text`).
pub fn fact_line(s: &FactSource) -> String {
    format!("{}, {}", plain(&s.what), fact_date(s))
}

/// A fact's date as cards show it: "2026-10-02", or "no date".
pub fn fact_date(s: &FactSource) -> String {
    match s.date {
        Some(d) => d.format("%Y-%m-%d").to_string(),
        None => "no date".to_string(),
    }
}

/// `what` without code-system parentheticals ("(ICD-10-CM M32.14)", "(LOINC 33914-3)",
/// "(text 'Olumiant')") and with units as clinicians write them.
pub fn plain(what: &str) -> String {
    const SYSTEMS: [&str; 9] = [
        "ICD-10-CM",
        "SNOMED",
        "LOINC",
        "RxNorm",
        "ATC",
        "CVX",
        "local",
        "code ",
        "text '",
    ];
    let mut out = String::new();
    let mut rest = what;
    while let Some(open) = rest.find(" (") {
        let after = &rest[open + 2..];
        let Some(close) = after.find(')') else { break };
        let inner = &after[..close];
        out.push_str(&rest[..open]);
        let coded = SYSTEMS.iter().any(|s| inner.starts_with(s))
            || ["ICD-10-CM", "SNOMED", "LOINC", "RxNorm", "CVX"]
                .iter()
                .any(|s| inner.contains(s));
        if !coded {
            out.push_str(&rest[open..open + 2 + close + 1]);
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out.replace("mL/min/1.73m2", "mL/min/1.73 m²")
        .replace("10^3/uL", "x10³/µL")
        .replace("x x10³", "x10³")
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
        Therapy, TriedTherapy,
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
            f.therapies_tried.insert(t, tried(t, 52));
        }
        f.hydroxychloroquine = vec![src("MedicationRequest/hcq", "hydroxychloroquine")];
        f.risk.hepatitis.hbsag = Some(src("Observation/hbsag", "HBsAg negative"));
        f.risk.hepatitis.anti_hbc = Some(src("Observation/hbc", "anti-HBc negative"));
        f.risk.hepatitis.hcv_antibody = Some(src("Observation/hcv", "HCV antibody negative"));
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

    /// A standard therapy first taken `weeks` ago.
    pub fn tried(t: Therapy, weeks: u32) -> TriedTherapy {
        let first = today() - chrono::Days::new(u64::from(weeks) * 7);
        TriedTherapy {
            first: Some(first),
            last: Some(first),
            weeks: Some(weeks),
            assessable: weeks >= kb().thresholds.tried_min_weeks(t),
            sources: vec![FactSource {
                reference: "MedicationRequest/t".into(),
                date: Some(first),
                what: format!("{} ordered, completed", t.name()),
            }],
        }
    }

    /// Decide an order alone in its call.
    pub fn decide1(f: &PatientFacts, o: &JakOrder) -> crate::rules::Decision {
        crate::rules::decide(f, o, kb(), &[o.agent])
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
    use crate::facts::Therapy;

    #[test]
    fn eligible_patient_gets_the_conditional_verdict_with_no_dose_card() {
        let d = decide1(&eligible(), &order(Agent::Baricitinib, Some(4.0)));
        assert_eq!(d.verdict.kind, VerdictKind::Conditional);
        assert!(d.verdict.has(ReasonCode::BarMet));
        assert!(d.risk.is_empty());
        assert!(d.dose.is_none());
        assert!(d.pretreatment.is_empty(), "{:?}", d.pretreatment);
        assert!(!d.refractory_referral);
    }

    #[test]
    fn contraindicated_orders_get_no_dose_or_pretreatment_advice() {
        let mut f = eligible();
        f.vte_history = vec![src("Condition/vte", "DVT")];
        f.tb_screening = None;
        let d = decide1(&f, &order(Agent::Baricitinib, Some(2.0)));
        assert_eq!(d.verdict.kind, VerdictKind::Contraindicated);
        assert!(d.dose.is_none());
        assert!(d.pretreatment.is_empty());
        assert!(d.refractory_referral);
    }

    #[test]
    fn each_v2_do_not_start_finding_is_found_alone() {
        type Edit = fn(&mut PatientFacts);
        let cases: [(&str, Edit, ReasonCode); 8] = [
            (
                "aps",
                |f| f.risk.thrombosis_risk = vec![src("Condition/a", "APS")],
                ReasonCode::ThrombosisRisk,
            ),
            (
                "infection",
                |f| f.risk.infection.present = vec![src("Condition/i", "sepsis")],
                ReasonCode::ActiveInfection,
            ),
            (
                "pregnancy",
                |f| f.risk.pregnancy.present = vec![src("Condition/p", "pregnant")],
                ReasonCode::Pregnancy,
            ),
            (
                "breastfeeding",
                |f| f.risk.breastfeeding.present = vec![src("Condition/l", "lactating")],
                ReasonCode::Breastfeeding,
            ),
            (
                "hbv",
                |f| f.risk.hepatitis.active_hbv = vec![src("Condition/h", "HBV")],
                ReasonCode::ActiveHepatitis,
            ),
            (
                "hcv",
                |f| f.risk.hepatitis.active_hcv = vec![src("Condition/h", "HCV")],
                ReasonCode::ActiveHepatitis,
            ),
            (
                "hepatic",
                |f| {
                    f.risk.hepatic = Some(crate::facts::HepaticImpairment {
                        severity: crate::facts::HepaticSeverity::Severe,
                        sources: vec![src("Condition/k", "hepatic failure")],
                    })
                },
                ReasonCode::SevereHepaticImpairment,
            ),
            (
                "vte",
                |f| f.vte_history = vec![src("Condition/v", "DVT")],
                ReasonCode::VteHistory,
            ),
        ];
        for (name, edit, code) in cases {
            for agent in [
                Agent::Baricitinib,
                Agent::Upadacitinib,
                Agent::Tofacitinib,
                Agent::Deucravacitinib,
            ] {
                let mut f = eligible();
                edit(&mut f);
                let d = decide1(&f, &order(agent, Some(4.0)));
                assert_eq!(
                    d.verdict.kind,
                    VerdictKind::Contraindicated,
                    "{name} {agent:?}"
                );
                assert_eq!(d.verdict.reasons.len(), 1, "{name}");
                assert!(d.verdict.has(code), "{name}");
                let text = &d.verdict.reasons[0].text;
                if agent == Agent::Deucravacitinib
                    && code != ReasonCode::VteHistory
                    && code != ReasonCode::ActiveHepatitis
                {
                    assert!(text.contains("local policy"), "{name}: {text}");
                    assert!(!text.contains("Sotyktu"), "{name}: {text}");
                }
            }
        }
    }

    #[test]
    fn findings_are_attributed_to_the_ordered_agents_label() {
        let mut f = eligible();
        f.risk.pregnancy.present = vec![src("Condition/p", "pregnant")];
        let d = decide1(&f, &order(Agent::Tofacitinib, Some(5.0)));
        assert!(
            d.verdict.reasons[0].text.contains("Xeljanz"),
            "{}",
            d.verdict.reasons[0].text
        );
        let d = decide1(&f, &order(Agent::Upadacitinib, Some(15.0)));
        assert!(d.verdict.reasons[0].text.contains("Rinvoq"));
        f = eligible();
        f.vte_history = vec![src("Condition/v", "DVT")];
        let d = decide1(&f, &order(Agent::Baricitinib, Some(4.0)));
        assert!(d.verdict.reasons[0].text.contains("local policy"));
    }

    #[test]
    fn boxed_warning_risk_makes_the_permissive_verdict_a_warning() {
        let mut f = eligible();
        f.risk.smoking = vec![src("Observation/s", "former smoker")];
        let d = decide1(&f, &order(Agent::Baricitinib, Some(2.0)));
        assert_eq!(d.verdict.kind, VerdictKind::Conditional);
        assert_eq!(d.risk.len(), 1);
        assert!(d.dose.is_none(), "2 mg is the dose with a risk factor");
        let d = decide1(&f, &order(Agent::Baricitinib, Some(4.0)));
        assert_eq!(d.dose.as_ref().map(|a| a.target.mg), Some(2.0));
    }

    #[test]
    fn two_jak_drafts_are_a_combination_but_a_contraindication_wins() {
        let f = eligible();
        let o = order(Agent::Baricitinib, Some(4.0));
        let d = decide(&f, &o, kb(), &[Agent::Baricitinib, Agent::Tofacitinib]);
        assert_eq!(d.verdict.kind, VerdictKind::NotRecommended);
        assert!(d.verdict.has(ReasonCode::Combination));
        let mut f = eligible();
        f.active_tb = vec![src("Condition/tb", "TB")];
        let d = decide(&f, &o, kb(), &[Agent::Baricitinib, Agent::Tofacitinib]);
        assert_eq!(d.verdict.kind, VerdictKind::Contraindicated);
        assert!(!d.verdict.has(ReasonCode::Combination));
    }

    #[test]
    fn tried_therapies_must_be_old_enough_and_anifrolumab_counts_for_belimumab() {
        let mut f = eligible();
        f.therapies_tried
            .insert(Therapy::Rituximab, tried(Therapy::Rituximab, 23));
        let d = decide1(&f, &order(Agent::Baricitinib, Some(4.0)));
        assert!(d.verdict.has(ReasonCode::StandardTherapiesNotExhausted));
        let text = &d.verdict.reasons[0].text;
        assert!(text.contains("23 weeks ago"), "{text}");
        f.therapies_tried
            .insert(Therapy::Rituximab, tried(Therapy::Rituximab, 25));
        f.therapies_tried.remove(&Therapy::Belimumab);
        f.therapies_tried
            .insert(Therapy::Anifrolumab, tried(Therapy::Anifrolumab, 30));
        let d = decide1(&f, &order(Agent::Baricitinib, Some(4.0)));
        assert_eq!(d.verdict.kind, VerdictKind::Conditional);
    }

    #[test]
    fn a_therapy_started_too_recently_is_not_proposed_again() {
        let mut f = eligible();
        f.therapies_tried
            .insert(Therapy::Rituximab, tried(Therapy::Rituximab, 10));
        let d = decide1(&f, &order(Agent::Baricitinib, Some(4.0)));
        assert!(d.verdict.has(ReasonCode::StandardTherapiesNotExhausted));
        assert!(
            d.alternatives
                .iter()
                .all(|a| !a.label.contains("Rituximab")),
            "{:?}",
            d.alternatives
        );
        f.therapies_tried.remove(&Therapy::Rituximab);
        let d = decide1(&f, &order(Agent::Baricitinib, Some(4.0)));
        assert!(d.alternatives.iter().any(|a| a.label.contains("Rituximab")));
    }

    #[test]
    fn severity_criteria_boundaries() {
        use crate::facts::GlucocorticoidDose;
        let gc = |mg: f64| GlucocorticoidDose {
            mg_per_day: mg,
            sources: vec![src("MedicationRequest/p", "prednisone")],
            unreadable: vec![],
        };
        for (name, mg, sledai, msk, met) in [
            ("gc 9.9", 9.9, 4.0, false, false),
            ("gc 10", 10.0, 4.0, false, true),
            ("sledai 10", 5.0, 10.0, false, false),
            ("sledai 11", 5.0, 11.0, false, true),
            ("msk", 5.0, 4.0, true, true),
        ] {
            let mut f = eligible();
            f.glucocorticoid = Some(gc(mg));
            f.sledai = Some(m(sledai, "points", "SLEDAI-2K"));
            if msk {
                f.msk_cutaneous = vec![src("Condition/a", "SLE arthritis")];
            }
            assert_eq!(offlabel_bar::assess(&f, kb()).met(), met, "{name}");
        }
    }

    #[test]
    fn missing_data_alone_proposes_no_replacement() {
        let mut f = eligible();
        f.egfr = None;
        let d = decide1(&f, &order(Agent::Baricitinib, Some(4.0)));
        assert_eq!(d.verdict.kind, VerdictKind::NotRecommended);
        assert!(d.alternatives.is_empty());
    }

    #[test]
    fn no_cyclophosphamide_for_an_unmet_bar_and_no_jak_switch_on_cytopenia() {
        let mut f = eligible();
        f.therapies_tried.clear();
        let d = decide1(&f, &order(Agent::Baricitinib, Some(4.0)));
        assert!(d
            .alternatives
            .iter()
            .all(|a| !a.label.to_lowercase().contains("cyclophosphamide")));
        let mut f = eligible();
        f.anc = Some(m(0.8, "10^3/uL", "ANC"));
        let d = decide1(&f, &order(Agent::Tofacitinib, Some(5.0)));
        assert!(d
            .alternatives
            .iter()
            .all(|a| !a.label.to_lowercase().contains("baricitinib")));
    }

    #[test]
    fn facts_are_shown_without_codes_or_ids() {
        let s = FactSource {
            reference: "Observation/egfr-1".into(),
            date: chrono::NaiveDate::from_ymd_opt(2026, 10, 2),
            what: "eGFR 45 mL/min/1.73m2 (LOINC 33914-3)".into(),
        };
        assert_eq!(fact_line(&s), "eGFR 45 mL/min/1.73 m², 2026-10-02");
        assert_eq!(
            plain("Lupus nephritis (ICD-10-CM M32.14), active"),
            "Lupus nephritis, active"
        );
        assert_eq!(plain("ALC 0.4 10^3/uL (LOINC 731-0)"), "ALC 0.4 x10³/µL");
    }

    #[test]
    fn numbers_are_shown_without_float_noise() {
        assert_eq!(num(30.0), "30");
        assert_eq!(num(29.9), "29.9");
        assert_eq!(num(12.5 * 1.25), "15.63");
    }
}
