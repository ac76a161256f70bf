//! Before starting (knowledge.md 4.6, v2): TB screening and latent TB, hepatitis B/C screening
//! and HBV reactivation, pregnancy test and contraception, pregnancy or breast-feeding status
//! unclear, recombinant zoster vaccine, CBC and creatinine, concurrent immunosuppression, live
//! vaccines, hormonal VTE risk, diverticular disease, strong CYP3A4 inducers, UPCR without a
//! nephritis diagnosis, hydroxychloroquine background. Warning items make the card a warning.

use super::finding::Input;
use crate::facts::{Agent, CoTherapy, CoTherapyClass, FactSource, GapItem, TbTestResult};

#[derive(Debug, Clone, PartialEq)]
pub enum PreTreatmentItem {
    /// No IGRA/TST within the window (`stale`: the latest, older one).
    TbScreening {
        months: u32,
        stale: Option<FactSource>,
    },
    /// Untreated latent TB, or a positive screening test: treat before starting.
    LatentTb {
        facts: Vec<FactSource>,
    },
    /// Latent TB with its regimen being taken (info).
    LatentTbOnTreatment {
        facts: Vec<FactSource>,
    },
    /// A positive test that the facts do not count as untreated latent TB: confirm.
    TbPositiveReview {
        source: FactSource,
    },
    /// Indeterminate screening test: repeat.
    TbIndeterminate {
        source: FactSource,
    },
    /// Hepatitis screening results missing (names of the tests).
    HepatitisScreening {
        missing: Vec<&'static str>,
    },
    /// anti-HBc positive with HBsAg negative: HBV DNA before starting and monitoring.
    HbvReactivation {
        source: FactSource,
    },
    /// HCV antibody positive without HCV RNA.
    HcvRna {
        source: FactSource,
    },
    /// Female of reproductive potential without a recent negative pregnancy test.
    PregnancyTest {
        contraception_weeks: u32,
    },
    PregnancyUnclear {
        facts: Vec<FactSource>,
    },
    BreastfeedingUnclear {
        facts: Vec<FactSource>,
    },
    /// Recombinant zoster vaccine: none (`doses` 0) or the series incomplete.
    ZosterVaccine {
        doses: usize,
    },
    /// No CBC within the window.
    Cbc {
        months: u32,
    },
    /// No eGFR within the window: order a creatinine.
    Creatinine {
        months: u32,
    },
    /// Label limitation of use: active at the same time (or rituximab recently).
    Combination {
        with: Vec<CoTherapy>,
    },
    LiveVaccine {
        facts: Vec<FactSource>,
    },
    HormonalVte {
        facts: Vec<FactSource>,
    },
    Diverticular {
        facts: Vec<FactSource>,
    },
    /// Strong CYP3A4 inducer with tofacitinib or upadacitinib: loss of effect.
    Cyp3a4Inducer {
        facts: Vec<FactSource>,
    },
    /// UPCR at or above the activity cut-off without a lupus nephritis Condition.
    UpcrWithoutNephritis {
        source: FactSource,
    },
    /// No hydroxychloroquine on record (EULAR 2023: for all patients).
    Hydroxychloroquine,
}

impl PreTreatmentItem {
    /// True for items that make the card a warning rather than info.
    pub fn is_warning(&self) -> bool {
        !matches!(
            self,
            PreTreatmentItem::PregnancyTest { .. }
                | PreTreatmentItem::ZosterVaccine { .. }
                | PreTreatmentItem::Cbc { .. }
                | PreTreatmentItem::Creatinine { .. }
                | PreTreatmentItem::TbIndeterminate { .. }
                | PreTreatmentItem::TbPositiveReview { .. }
                | PreTreatmentItem::LatentTbOnTreatment { .. }
                | PreTreatmentItem::Hydroxychloroquine
        )
    }

    /// True for items that are facts to weigh, with no step to take before the first dose
    /// (latent TB already on treatment, an estrogen, diverticular disease): the card lists
    /// them apart from its "To do".
    pub fn is_note(&self) -> bool {
        matches!(
            self,
            PreTreatmentItem::LatentTbOnTreatment { .. }
                | PreTreatmentItem::HormonalVte { .. }
                | PreTreatmentItem::Diverticular { .. }
        )
    }

    /// A stable key: each item is said once per response.
    pub fn key(&self) -> &'static str {
        match self {
            PreTreatmentItem::TbScreening { .. } => "tb-screening",
            PreTreatmentItem::LatentTb { .. } => "latent-tb",
            PreTreatmentItem::LatentTbOnTreatment { .. } => "latent-tb-on-treatment",
            PreTreatmentItem::TbPositiveReview { .. } => "tb-positive-review",
            PreTreatmentItem::TbIndeterminate { .. } => "tb-indeterminate",
            PreTreatmentItem::HepatitisScreening { .. } => "hepatitis-screening",
            PreTreatmentItem::HbvReactivation { .. } => "hbv-reactivation",
            PreTreatmentItem::HcvRna { .. } => "hcv-rna",
            PreTreatmentItem::PregnancyTest { .. } => "pregnancy-test",
            PreTreatmentItem::PregnancyUnclear { .. } => "pregnancy-unclear",
            PreTreatmentItem::BreastfeedingUnclear { .. } => "breastfeeding-unclear",
            PreTreatmentItem::ZosterVaccine { .. } => "zoster-vaccine",
            PreTreatmentItem::Cbc { .. } => "cbc",
            PreTreatmentItem::Creatinine { .. } => "creatinine",
            PreTreatmentItem::Combination { .. } => "combination",
            PreTreatmentItem::LiveVaccine { .. } => "live-vaccine",
            PreTreatmentItem::HormonalVte { .. } => "hormonal-vte",
            PreTreatmentItem::Diverticular { .. } => "diverticular",
            PreTreatmentItem::Cyp3a4Inducer { .. } => "cyp3a4-inducer",
            PreTreatmentItem::UpcrWithoutNephritis { .. } => "upcr-without-nephritis",
            PreTreatmentItem::Hydroxychloroquine => "hydroxychloroquine",
        }
    }
}

/// What to do before starting the ordered agent. An active order for the same agent is the
/// drug being renewed or re-dosed, not a combination.
pub fn items(i: &Input) -> Vec<PreTreatmentItem> {
    let facts = i.facts;
    let kb = i.kb;
    let agent = i.agent();
    let w = &kb.thresholds.windows;
    let v2 = &kb.thresholds.v2;
    let mut out = Vec::new();
    let stale = |item| {
        facts
            .gaps
            .iter()
            .find(|g| g.item == item)
            .and_then(|g| g.stale.clone())
    };
    let latent = facts.latent_tb_untreated.clone();
    let on_treatment = facts.latent_tb_on_treatment.clone();
    match &facts.tb_screening {
        None => out.push(PreTreatmentItem::TbScreening {
            months: w.tb_screening_months,
            stale: stale(GapItem::TbScreening),
        }),
        Some(s) if s.result == TbTestResult::Positive => {
            if !latent.contains(&s.source) && !on_treatment.contains(&s.source) {
                out.push(PreTreatmentItem::TbPositiveReview {
                    source: s.source.clone(),
                })
            }
        }
        Some(s) if s.result == TbTestResult::Indeterminate => {
            out.push(PreTreatmentItem::TbIndeterminate {
                source: s.source.clone(),
            })
        }
        Some(_) => {}
    }
    if !latent.is_empty() {
        out.push(PreTreatmentItem::LatentTb { facts: latent });
    }
    if !on_treatment.is_empty() {
        out.push(PreTreatmentItem::LatentTbOnTreatment {
            facts: on_treatment,
        });
    }
    let h = &facts.risk.hepatitis;
    let missing: Vec<&'static str> = [
        ("HBsAg", h.hbsag.is_none()),
        ("anti-HBc", h.anti_hbc.is_none()),
        ("HCV antibody", h.hcv_antibody.is_none()),
    ]
    .into_iter()
    .filter(|(_, m)| *m)
    .map(|(n, _)| n)
    .collect();
    if !missing.is_empty() {
        out.push(PreTreatmentItem::HepatitisScreening { missing });
    }
    if let Some(s) = &h.resolved_hbv {
        out.push(PreTreatmentItem::HbvReactivation { source: s.clone() });
    }
    if let Some(s) = &h.hcv_rna_needed {
        out.push(PreTreatmentItem::HcvRna { source: s.clone() });
    }
    let reproductive = facts.risk.female
        && facts.risk.age.as_ref().is_some_and(|a| {
            a.years >= v2.reproductive_age_min && a.years <= v2.reproductive_age_max
        });
    if reproductive && facts.risk.negative_pregnancy_test.is_none() {
        out.push(PreTreatmentItem::PregnancyTest {
            contraception_weeks: if agent == Agent::Baricitinib { 1 } else { 4 },
        });
    }
    if !facts.risk.pregnancy.unclear.is_empty() {
        out.push(PreTreatmentItem::PregnancyUnclear {
            facts: facts.risk.pregnancy.unclear.clone(),
        });
    }
    if !facts.risk.breastfeeding.unclear.is_empty() {
        out.push(PreTreatmentItem::BreastfeedingUnclear {
            facts: facts.risk.breastfeeding.unclear.clone(),
        });
    }
    if facts.zoster_vaccine.len() < kb.evidence.orders().zoster_vaccine.series_doses {
        out.push(PreTreatmentItem::ZosterVaccine {
            doses: facts.zoster_vaccine.len(),
        });
    }
    if facts.alc.is_none() || facts.anc.is_none() || facts.hb.is_none() {
        out.push(PreTreatmentItem::Cbc {
            months: w.cbc_months,
        });
    }
    if facts.egfr.is_none() {
        out.push(PreTreatmentItem::Creatinine {
            months: w.egfr_months,
        });
    }
    let combined: Vec<CoTherapy> = facts
        .co_therapies
        .iter()
        .filter(|c| !(c.class == CoTherapyClass::JakInhibitor && c.agent == agent.name()))
        .cloned()
        .collect();
    if !combined.is_empty() {
        out.push(PreTreatmentItem::Combination { with: combined });
    }
    for (item, f) in [
        (
            PreTreatmentItem::LiveVaccine {
                facts: facts.risk.live_vaccines.clone(),
            },
            &facts.risk.live_vaccines,
        ),
        (
            PreTreatmentItem::HormonalVte {
                facts: facts.hormonal_vte.clone(),
            },
            &facts.hormonal_vte,
        ),
        (
            PreTreatmentItem::Diverticular {
                facts: facts.risk.diverticular.clone(),
            },
            &facts.risk.diverticular,
        ),
    ] {
        if !f.is_empty() {
            out.push(item);
        }
    }
    if matches!(agent, Agent::Tofacitinib | Agent::Upadacitinib)
        && !facts.cyp3a4_inducers.is_empty()
    {
        out.push(PreTreatmentItem::Cyp3a4Inducer {
            facts: facts.cyp3a4_inducers.clone(),
        });
    }
    if let Some(u) = facts.upcr.as_ref() {
        if u.value >= kb.thresholds.upcr.active_at_least_g_per_g
            && facts.active_lupus_nephritis.is_empty()
        {
            out.push(PreTreatmentItem::UpcrWithoutNephritis {
                source: u.source.clone(),
            });
        }
    }
    if facts.hydroxychloroquine.is_empty() {
        out.push(PreTreatmentItem::Hydroxychloroquine);
    }
    out
}
