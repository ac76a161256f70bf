//! Windows and cut-offs of the monitoring service (`hooks/monitoring.json`; knowledge.md 4.11).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::KnowledgeError;
use crate::facts::Agent;

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct LipidWindows {
    pub first_check_after_weeks: u32,
    pub due_after_weeks: u32,
    pub due_after_weeks_tofacitinib: u32,
    pub therapy_started_within_months: u32,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct OnTreatmentCytopenia {
    pub alc_below_10e3_per_ul: f64,
    pub anc_below_10e3_per_ul: f64,
    pub hb_below_g_dl: f64,
    pub hb_fall_more_than_g_dl_tofacitinib: f64,
    pub anc_discontinue_below_10e3_per_ul_tofacitinib: f64,
    pub alc_discontinue_below_10e3_per_ul_tofacitinib: f64,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Monitoring {
    pub cbc_within_days: u32,
    pub lipids: LipidWindows,
    pub tb_screening_first_months: u32,
    pub cytopenia: OnTreatmentCytopenia,
    /// eGFR below which the agent is stopped (mL/min/1.73m2), per agent.
    pub egfr_stop_below: BTreeMap<Agent, f64>,
}

impl Monitoring {
    pub fn validate(&self) -> Result<(), KnowledgeError> {
        let invalid = |reason: &str| KnowledgeError::Invalid {
            file: "monitoring.json".into(),
            reason: reason.into(),
        };
        let l = &self.lipids;
        if self.cbc_within_days == 0 || l.due_after_weeks == 0 || l.due_after_weeks_tofacitinib == 0
        {
            return Err(invalid("windows must be positive"));
        }
        if l.first_check_after_weeks > l.due_after_weeks.min(l.due_after_weeks_tofacitinib) {
            return Err(invalid(
                "lipids.first_check_after_weeks must not exceed the due windows",
            ));
        }
        let c = &self.cytopenia;
        if c.anc_discontinue_below_10e3_per_ul_tofacitinib > c.anc_below_10e3_per_ul {
            return Err(invalid(
                "cytopenia: the ANC discontinue cut-off must not exceed the interrupt cut-off",
            ));
        }
        Ok(())
    }
}
