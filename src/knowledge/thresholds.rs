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
}

impl Thresholds {
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
