//! Baricitinib dose (knowledge.md 4.4), per the active dose profile (`kb.profile`): the
//! standard dose, or the reduced one when eGFR is in the reduced-dose range or a strong OAT3
//! inhibitor (probenecid) is active. Once daily in both profiles.

use super::{num, Reason, ReasonCode};
use crate::facts::{Agent, DoseReading, JakOrder, PatientFacts};
use crate::knowledge::Knowledge;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DoseAdviceKind {
    /// Standard (or more) ordered with a reason to reduce.
    Reduce,
    /// Less than the standard dose ordered without a reason to reduce.
    RaiseToStandard,
    /// Another regimen (above the target, or not once daily).
    Adjust,
    /// The ordered dose could not be read.
    Unreadable,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DoseAdvice {
    pub kind: DoseAdviceKind,
    /// The proposed dose, mg once daily.
    pub target_mg: f64,
    pub ordered: DoseReading,
    /// Why the reduced dose applies (empty: standard dose).
    pub reduce_reasons: Vec<Reason>,
}

/// Reasons for the reduced dose (eGFR in range, OAT3 inhibitor).
pub fn reduce_reasons(facts: &PatientFacts, kb: &Knowledge) -> Vec<Reason> {
    let e = &kb.thresholds.egfr;
    let mut out = Vec::new();
    if let Some(egfr) = &facts.egfr {
        if egfr.value >= e.contraindicated_below && egfr.value < e.reduce_dose_below {
            out.push(Reason::new(
                ReasonCode::ModerateRenalImpairment,
                format!(
                    "eGFR {} mL/min/1.73m2 (from {} to below {})",
                    num(egfr.value),
                    num(e.contraindicated_below),
                    num(e.reduce_dose_below)
                ),
                vec![egfr.source.clone()],
            ));
        }
    }
    if !facts.oat3_inhibitor.is_empty() {
        out.push(Reason::new(
            ReasonCode::Oat3Inhibitor,
            "strong OAT3 inhibitor (probenecid) active",
            facts.oat3_inhibitor.clone(),
        ));
    }
    out
}

/// The baricitinib dose for this patient, mg once daily.
pub fn target_mg(facts: &PatientFacts, kb: &Knowledge) -> f64 {
    if reduce_reasons(facts, kb).is_empty() {
        kb.profile.baricitinib_standard_mg
    } else {
        kb.profile.baricitinib_reduced_mg
    }
}

const EPS: f64 = 1e-6;

/// Dose advice for a baricitinib order; None when the order already matches, or for
/// other agents.
pub fn advise(facts: &PatientFacts, order: &JakOrder, kb: &Knowledge) -> Option<DoseAdvice> {
    if order.agent != Agent::Baricitinib {
        return None;
    }
    let reasons = reduce_reasons(facts, kb);
    let target = target_mg(facts, kb);
    let kind = match &order.dose {
        DoseReading::Unknown { .. } => DoseAdviceKind::Unreadable,
        DoseReading::Known {
            mg_per_day,
            doses_per_day,
            ..
        } => {
            let once_daily = (doses_per_day - 1.0).abs() < EPS;
            if (mg_per_day - target).abs() < EPS && once_daily {
                return None;
            }
            if *mg_per_day > target + EPS && !reasons.is_empty() {
                DoseAdviceKind::Reduce
            } else if *mg_per_day < target - EPS && reasons.is_empty() {
                // Fail safe: with eGFR unknown the low dose may be deliberate.
                facts.egfr.as_ref()?;
                DoseAdviceKind::RaiseToStandard
            } else {
                DoseAdviceKind::Adjust
            }
        }
    };
    Some(DoseAdvice {
        kind,
        target_mg: target,
        ordered: order.dose.clone(),
        reduce_reasons: reasons,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::facts::DoseReading;

    type Row = (
        &'static str,
        Option<f64>,
        bool,
        Option<f64>,
        Option<(DoseAdviceKind, f64)>,
    );

    fn advise_for(egfr: Option<f64>, oat3: bool, mg: Option<f64>) -> Option<DoseAdvice> {
        let mut f = eligible();
        f.egfr = egfr.map(|v| m(v, "mL/min/1.73m2", "eGFR"));
        if oat3 {
            f.oat3_inhibitor = vec![src("MedicationRequest/prob", "probenecid")];
        }
        advise(&f, &order(Agent::Baricitinib, mg), kb())
    }

    #[test]
    fn dose_table() {
        use DoseAdviceKind::*;
        let rows: [Row; 10] = [
            ("4 mg, normal eGFR", Some(90.0), false, Some(4.0), None),
            (
                "2 mg without reason",
                Some(90.0),
                false,
                Some(2.0),
                Some((RaiseToStandard, 4.0)),
            ),
            (
                "4 mg, eGFR 59.9",
                Some(59.9),
                false,
                Some(4.0),
                Some((Reduce, 2.0)),
            ),
            ("4 mg, eGFR 60", Some(60.0), false, Some(4.0), None),
            (
                "4 mg, eGFR 30",
                Some(30.0),
                false,
                Some(4.0),
                Some((Reduce, 2.0)),
            ),
            ("2 mg, eGFR 45", Some(45.0), false, Some(2.0), None),
            (
                "4 mg, probenecid",
                Some(90.0),
                true,
                Some(4.0),
                Some((Reduce, 2.0)),
            ),
            (
                "8 mg, normal eGFR",
                Some(90.0),
                false,
                Some(8.0),
                Some((Adjust, 4.0)),
            ),
            (
                "unreadable",
                Some(90.0),
                false,
                None,
                Some((Unreadable, 4.0)),
            ),
            ("2 mg, eGFR unknown", None, false, Some(2.0), None),
        ];
        for (name, egfr, oat3, mg, expect) in rows {
            let got = advise_for(egfr, oat3, mg).map(|a| (a.kind, a.target_mg));
            assert_eq!(got, expect, "{name}");
        }
    }

    #[test]
    fn twice_daily_split_is_adjusted_to_once_daily() {
        let f = eligible();
        let mut o = order(Agent::Baricitinib, Some(2.0));
        o.dose = DoseReading::Known {
            mg_per_dose: 2.0,
            doses_per_day: 2.0,
            mg_per_day: 4.0,
        };
        let a = advise(&f, &o, kb()).expect("advice");
        assert_eq!((a.kind, a.target_mg), (DoseAdviceKind::Adjust, 4.0));
    }

    #[test]
    fn other_agents_get_no_dose_advice() {
        assert!(advise(&eligible(), &order(Agent::Tofacitinib, Some(5.0)), kb()).is_none());
    }

    #[test]
    fn us_label_profile_halves_the_doses() {
        let kb = crate::knowledge::Knowledge::load(
            &crate::knowledge::KnowledgeFiles::Embedded,
            Some("us-label"),
        )
        .expect("profile");
        let mut f = eligible();
        f.egfr = Some(m(45.0, "mL/min/1.73m2", "eGFR"));
        let a = advise(&f, &order(Agent::Baricitinib, Some(2.0)), &kb).expect("advice");
        assert_eq!((a.kind, a.target_mg), (DoseAdviceKind::Reduce, 1.0));
    }
}
