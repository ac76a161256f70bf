//! Windows and cut-offs (`hooks/thresholds.json`): nothing clinical is hard-coded.

use serde::Deserialize;

use super::KnowledgeError;

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Windows {
    pub egfr_months: u32,
    pub cbc_months: u32,
    pub sledai_months: u32,
    pub upcr_months: u32,
    pub tb_screening_months: u32,
    pub glucocorticoid_observation_days: u32,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct EgfrCutoffs {
    /// eGFR below this (mL/min/1.73m2): baricitinib contraindicated (label: not recommended).
    pub contraindicated_below: f64,
    /// eGFR below this (and at or above `contraindicated_below`): reduced baricitinib dose.
    pub reduce_dose_below: f64,
    /// Upadacitinib: not recommended below this (end-stage renal disease).
    pub upadacitinib_not_recommended_below: f64,
    /// Upadacitinib: 15 mg below this.
    pub upadacitinib_reduce_below: f64,
    /// Tofacitinib: 5 mg once daily at or below this.
    pub tofacitinib_reduce_at_or_below: f64,
}

/// Minimum weeks since the first qualifying record for a standard therapy to count as tried.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct TriedMinWeeks {
    pub rituximab: u32,
    pub mycophenolate: u32,
    pub belimumab: u32,
    pub anifrolumab: u32,
    pub cyclophosphamide: u32,
}

/// Windows and cut-offs of the version 2 facts (knowledge.md 2).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct V2Windows {
    pub infection_active_days: u32,
    pub recurrent_infection_months: u32,
    pub recurrent_infection_count: usize,
    pub pregnancy_weeks: u32,
    pub positive_hcg_days: u32,
    pub negative_pregnancy_test_days: u32,
    pub lactation_condition_months: u32,
    pub breastfeeding_observation_months: u32,
    pub live_vaccine_days: u32,
    pub boxed_warning_age: u32,
    pub reproductive_age_min: u32,
    pub reproductive_age_max: u32,
    pub select_sle_age_min: u32,
    pub select_sle_age_max: u32,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct CytopeniaCutoffs {
    pub alc_below_10e3_per_ul: f64,
    pub anc_below_10e3_per_ul: f64,
    pub hb_below_g_dl: f64,
    pub hb_below_g_dl_tofacitinib: f64,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct OffLabelBar {
    pub glucocorticoid_at_least_mg_per_day: f64,
    /// SLEDAI-2K strictly above this counts as high activity.
    pub sledai_above: u32,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct UpcrCutoffs {
    pub active_at_least_g_per_g: f64,
    pub nephrotic_at_least_g_per_g: f64,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct TbScreeningCutoffs {
    /// TST induration (mm) at or above which a TST without a coded result is positive.
    pub tst_positive_at_least_mm: f64,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Thresholds {
    pub windows: Windows,
    pub egfr: EgfrCutoffs,
    pub cytopenia: CytopeniaCutoffs,
    pub offlabel_bar: OffLabelBar,
    pub upcr: UpcrCutoffs,
    pub tb_screening: TbScreeningCutoffs,
    pub tried_min_weeks: TriedMinWeeks,
    pub v2: V2Windows,
}

impl Thresholds {
    /// Weeks a standard therapy must have been taken to count as tried.
    pub fn tried_min_weeks(&self, t: crate::facts::Therapy) -> u32 {
        use crate::facts::Therapy;
        let w = &self.tried_min_weeks;
        match t {
            Therapy::Rituximab => w.rituximab,
            Therapy::Mycophenolate => w.mycophenolate,
            Therapy::Belimumab => w.belimumab,
            Therapy::Anifrolumab => w.anifrolumab,
            Therapy::Cyclophosphamide => w.cyclophosphamide,
        }
    }

    pub fn validate(&self) -> Result<(), KnowledgeError> {
        let bad = |entry: &str, why: &str| {
            Err(KnowledgeError::Invalid {
                file: "thresholds.json".into(),
                reason: format!("{entry}: {why}"),
            })
        };
        if self.egfr.contraindicated_below >= self.egfr.reduce_dose_below {
            return bad(
                "egfr",
                "contraindicated_below must be below reduce_dose_below",
            );
        }
        if self.upcr.active_at_least_g_per_g >= self.upcr.nephrotic_at_least_g_per_g {
            return bad(
                "upcr",
                "active_at_least_g_per_g must be below nephrotic_at_least_g_per_g",
            );
        }
        let w = &self.windows;
        for (name, v) in [
            ("windows.egfr_months", w.egfr_months),
            ("windows.cbc_months", w.cbc_months),
            ("windows.sledai_months", w.sledai_months),
            ("windows.upcr_months", w.upcr_months),
            ("windows.tb_screening_months", w.tb_screening_months),
            (
                "windows.glucocorticoid_observation_days",
                w.glucocorticoid_observation_days,
            ),
        ] {
            if v == 0 {
                return bad(name, "must be greater than zero");
            }
        }
        let tst = self.tb_screening.tst_positive_at_least_mm;
        if tst.is_nan() || tst <= 0.0 {
            return bad(
                "tb_screening.tst_positive_at_least_mm",
                "must be greater than zero",
            );
        }
        if self.offlabel_bar.sledai_above > 105 {
            return bad("offlabel_bar.sledai_above", "SLEDAI-2K ranges 0-105");
        }
        Ok(())
    }
}
