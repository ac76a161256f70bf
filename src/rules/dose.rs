//! Dose (knowledge.md 4.4, 4.4b) for baricitinib, upadacitinib and tofacitinib: the dose for
//! this patient, the reasons for a reduced one, and orders above the label's highest daily
//! dose. Baricitinib follows the active dose profile (`kb.profile`); upadacitinib 30 mg (the
//! dose studied in SLE) or 15 mg; tofacitinib 5 mg twice daily / 11 mg extended-release, or
//! 5 mg once daily (switching an 11 mg extended-release order to the 5 mg tablet).

use super::finding::Input;
use super::{boxed_warning, num, Reason, ReasonCode};
use crate::facts::{Agent, DoseReading, HepaticSeverity, JakOrder, PatientFacts};
use crate::knowledge::Knowledge;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DoseAdviceKind {
    /// More than the dose for this patient, with a reason to reduce.
    Reduce,
    /// Less than the standard dose ordered without a reason to reduce (baricitinib).
    RaiseToStandard,
    /// Another regimen: above the label's highest dose, or not the advised frequency.
    Adjust,
    /// The ordered dose could not be read.
    Unreadable,
}

/// A regimen: mg per dose, doses per day, and the product to order when it changes.
#[derive(Debug, Clone, PartialEq)]
pub struct Regimen {
    pub mg: f64,
    pub per_day: u32,
    /// RxNorm code and text of the product for this strength, when known.
    pub product: Option<(String, String)>,
}

impl Regimen {
    pub fn mg_per_day(&self) -> f64 {
        self.mg * f64::from(self.per_day)
    }

    /// "5 mg once daily", "5 mg twice daily".
    pub fn text(&self) -> String {
        let freq = match self.per_day {
            1 => "once daily".to_string(),
            2 => "twice daily".to_string(),
            n => format!("{n} times daily"),
        };
        format!("{} mg {freq}", num(self.mg))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DoseAdvice {
    pub kind: DoseAdviceKind,
    pub target: Regimen,
    pub ordered: DoseReading,
    /// Why the reduced dose applies (empty: standard dose).
    pub reduce_reasons: Vec<Reason>,
}

fn egfr_reason(facts: &PatientFacts, from: f64, below: f64, inclusive_top: bool) -> Option<Reason> {
    let egfr = facts.egfr.as_ref()?;
    let v = egfr.value;
    let inside = v >= from && if inclusive_top { v <= below } else { v < below };
    inside.then(|| {
        Reason::new(
            ReasonCode::ModerateRenalImpairment,
            format!("eGFR {}", num(v)),
            vec![egfr.source.clone()],
        )
    })
}

fn class_reason(code: ReasonCode, name: &str, f: &[crate::facts::FactSource]) -> Option<Reason> {
    (!f.is_empty()).then(|| Reason::new(code, name, f.to_vec()))
}

fn risk_reasons(i: &Input) -> Vec<Reason> {
    boxed_warning::factors(i)
        .into_iter()
        .map(|(name, facts)| Reason::new(ReasonCode::BoxedWarningRisk, name, facts))
        .collect()
}

/// Reasons for the reduced dose of the ordered agent (empty for agents without a dose rule).
pub fn reduce_reasons(i: &Input) -> Vec<Reason> {
    let f = i.facts;
    let e = &i.kb.thresholds.egfr;
    let mut out = Vec::new();
    match i.agent() {
        Agent::Baricitinib => {
            if i.kb.profile.risk_step {
                out.extend(risk_reasons(i));
            }
            out.extend(egfr_reason(
                f,
                e.contraindicated_below,
                e.reduce_dose_below,
                false,
            ));
            out.extend(class_reason(
                ReasonCode::Oat3Inhibitor,
                "probenecid",
                &f.oat3_inhibitor,
            ));
        }
        Agent::Upadacitinib => {
            out.extend(risk_reasons(i));
            out.extend(egfr_reason(
                f,
                e.upadacitinib_not_recommended_below,
                e.upadacitinib_reduce_below,
                false,
            ));
            out.extend(class_reason(
                ReasonCode::Cyp3a4Inhibitor,
                "strong CYP3A4 inhibitor",
                &f.cyp3a4_inhibitors,
            ));
        }
        Agent::Tofacitinib => {
            out.extend(class_reason(
                ReasonCode::Cyp3a4Inhibitor,
                "strong CYP3A4 inhibitor",
                &f.cyp3a4_inhibitors,
            ));
            out.extend(class_reason(
                ReasonCode::Cyp3a4Inhibitor,
                "fluconazole",
                &f.cyp2c19_cyp3a4_inhibitors,
            ));
            out.extend(egfr_reason(f, 0.0, e.tofacitinib_reduce_at_or_below, true));
            if let Some(h) = f
                .risk
                .hepatic
                .as_ref()
                .filter(|h| h.severity == HepaticSeverity::Moderate)
            {
                out.push(Reason::new(
                    ReasonCode::ModerateHepaticImpairment,
                    "moderate hepatic impairment",
                    h.sources.clone(),
                ));
            }
        }
        _ => {}
    }
    out
}

fn regimen(kb: &Knowledge, agent: Agent, mg: f64, per_day: u32) -> Regimen {
    Regimen {
        mg,
        per_day,
        product: kb
            .drugs
            .product_of(agent, mg)
            .map(|p| (p.rxcui.clone(), p.text.clone())),
    }
}

/// True when the order is an extended-release product (tofacitinib 11 mg XR).
fn extended_release(order: &JakOrder) -> bool {
    let l = order.label.to_lowercase();
    l.contains("extended")
        || l.contains(" xr")
        || l.contains("24 hr")
        || l.contains("24hr")
        || order.strength_mg == Some(11.0)
}

/// The dose for this patient and the highest daily dose the label allows without a reason.
fn target(i: &Input, reduced: bool) -> Option<(Regimen, f64)> {
    let kb = i.kb;
    let p = &kb.profile;
    Some(match i.agent() {
        Agent::Baricitinib => {
            let mg = if reduced {
                p.baricitinib_reduced_mg
            } else {
                p.baricitinib_standard_mg
            };
            (regimen(kb, Agent::Baricitinib, mg, 1), mg)
        }
        Agent::Upadacitinib => {
            let mg = if reduced { 15.0 } else { 30.0 };
            (regimen(kb, Agent::Upadacitinib, mg, 1), mg)
        }
        Agent::Tofacitinib => {
            if reduced {
                (regimen(kb, Agent::Tofacitinib, 5.0, 1), 5.0)
            } else if extended_release(i.order) {
                (regimen(kb, Agent::Tofacitinib, 11.0, 1), 11.0)
            } else {
                (regimen(kb, Agent::Tofacitinib, 5.0, 2), 10.0)
            }
        }
        _ => return None,
    })
}

const EPS: f64 = 1e-6;

/// Dose advice for the order; None when it already matches, or for agents without a dose rule.
pub fn advise(i: &Input) -> Option<DoseAdvice> {
    let reasons = reduce_reasons(i);
    let (target, highest) = target(i, !reasons.is_empty())?;
    let kind = match &i.order.dose {
        DoseReading::Unknown { .. } => DoseAdviceKind::Unreadable,
        DoseReading::Known {
            mg_per_day,
            doses_per_day,
            ..
        } => {
            let same_frequency = (doses_per_day - f64::from(target.per_day)).abs() < EPS;
            let matches = (mg_per_day - target.mg_per_day()).abs() < EPS && same_frequency;
            if matches {
                return None;
            }
            if !reasons.is_empty() && *mg_per_day > target.mg_per_day() + EPS {
                DoseAdviceKind::Reduce
            } else if *mg_per_day > highest + EPS {
                DoseAdviceKind::Adjust
            } else if i.agent() == Agent::Baricitinib
                && reasons.is_empty()
                && *mg_per_day < highest - EPS
            {
                // Fail safe: with eGFR unknown the low dose may be deliberate.
                i.facts.egfr.as_ref()?;
                DoseAdviceKind::RaiseToStandard
            } else if i.agent() == Agent::Baricitinib && !same_frequency {
                DoseAdviceKind::Adjust
            } else {
                return None;
            }
        }
    };
    Some(DoseAdvice {
        kind,
        target,
        ordered: i.order.dose.clone(),
        reduce_reasons: reasons,
    })
}

/// The baricitinib dose for this patient (mg once daily), for proposing a switch to it.
pub fn baricitinib_target(
    facts: &PatientFacts,
    order: &JakOrder,
    kb: &Knowledge,
) -> (f64, Vec<Reason>) {
    let mut o = order.clone();
    o.agent = Agent::Baricitinib;
    let i = Input {
        facts,
        order: &o,
        kb,
        drafted: &[],
    };
    let reasons = reduce_reasons(&i);
    let mg = if reasons.is_empty() {
        kb.profile.baricitinib_standard_mg
    } else {
        kb.profile.baricitinib_reduced_mg
    };
    (mg, reasons)
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::facts::{Age, PatientFacts};

    fn advise_for(
        f: &PatientFacts,
        agent: Agent,
        mg: Option<f64>,
        per_day: f64,
    ) -> Option<(DoseAdviceKind, f64, u32)> {
        let mut o = order(agent, mg);
        if let (Some(mg), DoseReading::Known { .. }) = (mg, &o.dose) {
            o.dose = DoseReading::Known {
                mg_per_dose: mg,
                doses_per_day: per_day,
                mg_per_day: mg * per_day,
            };
        }
        let i = Input {
            facts: f,
            order: &o,
            kb: kb(),
            drafted: &[agent],
        };
        advise(&i).map(|a| (a.kind, a.target.mg, a.target.per_day))
    }

    fn with_egfr(v: f64) -> PatientFacts {
        let mut f = eligible();
        f.egfr = Some(m(v, "mL/min/1.73m2", "eGFR"));
        f
    }

    fn aged(years: u32) -> PatientFacts {
        let mut f = eligible();
        f.risk.age = Some(Age {
            years,
            source: src("Patient/p", "age"),
        });
        f
    }

    #[test]
    fn baricitinib_table() {
        use DoseAdviceKind::*;
        let b = Agent::Baricitinib;
        assert_eq!(advise_for(&eligible(), b, Some(4.0), 1.0), None);
        assert_eq!(
            advise_for(&eligible(), b, Some(2.0), 1.0),
            Some((RaiseToStandard, 4.0, 1))
        );
        assert_eq!(
            advise_for(&with_egfr(59.9), b, Some(4.0), 1.0),
            Some((Reduce, 2.0, 1))
        );
        assert_eq!(advise_for(&with_egfr(60.0), b, Some(4.0), 1.0), None);
        assert_eq!(advise_for(&with_egfr(45.0), b, Some(2.0), 1.0), None);
        assert_eq!(
            advise_for(&eligible(), b, Some(8.0), 1.0),
            Some((Adjust, 4.0, 1))
        );
        assert_eq!(
            advise_for(&eligible(), b, Some(2.0), 2.0),
            Some((Adjust, 4.0, 1))
        );
        assert_eq!(
            advise_for(&eligible(), b, None, 1.0),
            Some((Unreadable, 4.0, 1))
        );
        assert_eq!(advise_for(&aged(64), b, Some(4.0), 1.0), None);
        assert_eq!(
            advise_for(&aged(65), b, Some(4.0), 1.0),
            Some((Reduce, 2.0, 1))
        );
        assert_eq!(
            advise_for(&aged(65), b, Some(2.0), 1.0),
            None,
            "no upward card with a reason"
        );
        let mut f = eligible();
        f.oat3_inhibitor = vec![src("MedicationRequest/prob", "probenecid")];
        assert_eq!(advise_for(&f, b, Some(4.0), 1.0), Some((Reduce, 2.0, 1)));
    }

    #[test]
    fn upadacitinib_table() {
        use DoseAdviceKind::*;
        let u = Agent::Upadacitinib;
        assert_eq!(advise_for(&eligible(), u, Some(30.0), 1.0), None);
        assert_eq!(advise_for(&eligible(), u, Some(15.0), 1.0), None);
        assert_eq!(
            advise_for(&eligible(), u, Some(45.0), 1.0),
            Some((Adjust, 30.0, 1))
        );
        assert_eq!(
            advise_for(&with_egfr(29.9), u, Some(30.0), 1.0),
            Some((Reduce, 15.0, 1))
        );
        assert_eq!(advise_for(&with_egfr(30.0), u, Some(30.0), 1.0), None);
        assert_eq!(
            advise_for(&aged(65), u, Some(30.0), 1.0),
            Some((Reduce, 15.0, 1))
        );
        let mut f = eligible();
        f.cyp3a4_inhibitors = vec![src("MedicationRequest/k", "ketoconazole")];
        assert_eq!(advise_for(&f, u, Some(30.0), 1.0), Some((Reduce, 15.0, 1)));
    }

    #[test]
    fn tofacitinib_table() {
        use DoseAdviceKind::*;
        let t = Agent::Tofacitinib;
        assert_eq!(advise_for(&eligible(), t, Some(5.0), 2.0), None);
        assert_eq!(
            advise_for(&eligible(), t, Some(10.0), 2.0),
            Some((Adjust, 5.0, 2))
        );
        assert_eq!(
            advise_for(&with_egfr(50.0), t, Some(5.0), 2.0),
            Some((Reduce, 5.0, 1))
        );
        assert_eq!(advise_for(&with_egfr(51.0), t, Some(5.0), 2.0), None);
        let mut f = eligible();
        f.cyp2c19_cyp3a4_inhibitors = vec![src("MedicationRequest/f", "fluconazole")];
        assert_eq!(advise_for(&f, t, Some(5.0), 2.0), Some((Reduce, 5.0, 1)));
        let mut o = order(t, Some(11.0));
        o.label = "tofacitinib 11 MG 24HR Extended Release Oral Tablet".into();
        o.strength_mg = Some(11.0);
        let i = Input {
            facts: &f,
            order: &o,
            kb: kb(),
            drafted: &[t],
        };
        let a = advise(&i).expect("advice");
        assert_eq!(
            a.target.product.as_ref().map(|p| p.0.as_str()),
            Some("1357541")
        );
        let i = Input {
            facts: &eligible(),
            order: &o,
            kb: kb(),
            drafted: &[t],
        };
        assert!(
            advise(&i).is_none(),
            "11 mg XR once daily is within the label"
        );
    }

    #[test]
    fn us_label_profile_has_no_age_step() {
        let kb = crate::knowledge::Knowledge::load(
            &crate::knowledge::KnowledgeFiles::Embedded,
            Some("us-label"),
        )
        .expect("profile");
        let f = aged(70);
        let o = order(Agent::Baricitinib, Some(2.0));
        let i = Input {
            facts: &f,
            order: &o,
            kb: &kb,
            drafted: &[],
        };
        assert!(advise(&i).is_none());
        let f = with_egfr(45.0);
        let i = Input {
            facts: &f,
            order: &o,
            kb: &kb,
            drafted: &[],
        };
        assert_eq!(advise(&i).map(|a| a.target.mg), Some(1.0));
    }
}
