//! Before starting (knowledge.md 4.6): TB screening within its window and latent TB treated,
//! recombinant zoster vaccine, a recent CBC, no combination with another JAK inhibitor, a
//! biologic or a potent immunosuppressant, and pregnancy.

use crate::facts::{
    Agent, CoTherapy, CoTherapyClass, FactSource, GapItem, PatientFacts, TbTestResult,
};
use crate::knowledge::Knowledge;

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
    /// A positive screening test that the facts do not count as untreated latent TB (latent TB
    /// recorded as treated, or a TST): confirm before starting.
    TbPositiveReview {
        source: FactSource,
    },
    /// Indeterminate screening test: repeat.
    TbIndeterminate {
        source: FactSource,
    },
    /// Recombinant zoster vaccine: none (`doses` 0) or the series incomplete (1 dose).
    ZosterVaccine {
        doses: usize,
        facts: Vec<FactSource>,
    },
    /// No CBC within the window.
    Cbc {
        months: u32,
        stale: Option<FactSource>,
    },
    /// Label limitation of use: active at the same time.
    Combination {
        with: Vec<CoTherapy>,
    },
    Pregnancy {
        facts: Vec<FactSource>,
    },
}

impl PreTreatmentItem {
    /// True for items that make the card a warning rather than info.
    pub fn is_warning(&self) -> bool {
        matches!(
            self,
            PreTreatmentItem::LatentTb { .. }
                | PreTreatmentItem::Combination { .. }
                | PreTreatmentItem::Pregnancy { .. }
        )
    }
}

/// What to do before starting `agent` (4.6). An active order for the same agent is the drug
/// being renewed or re-dosed, not a combination.
pub fn items(facts: &PatientFacts, agent: Agent, kb: &Knowledge) -> Vec<PreTreatmentItem> {
    let w = &kb.thresholds.windows;
    let mut out = Vec::new();
    let stale = |item| {
        facts
            .gaps
            .iter()
            .find(|g| g.item == item)
            .and_then(|g| g.stale.clone())
    };
    let latent = facts.latent_tb_untreated.clone();
    match &facts.tb_screening {
        None => out.push(PreTreatmentItem::TbScreening {
            months: w.tb_screening_months,
            stale: stale(GapItem::TbScreening),
        }),
        Some(s) if s.result == TbTestResult::Positive => {
            if !latent.contains(&s.source) {
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
    if facts.zoster_vaccine.len() < kb.evidence.orders().zoster_vaccine.series_doses {
        out.push(PreTreatmentItem::ZosterVaccine {
            doses: facts.zoster_vaccine.len(),
            facts: facts.zoster_vaccine.clone(),
        });
    }
    if facts.alc.is_none() || facts.anc.is_none() || facts.hb.is_none() {
        out.push(PreTreatmentItem::Cbc {
            months: w.cbc_months,
            stale: stale(GapItem::Cbc),
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
    if !facts.pregnancy.is_empty() {
        out.push(PreTreatmentItem::Pregnancy {
            facts: facts.pregnancy.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::facts::{CoTherapyClass, TbScreen};

    fn kinds(f: &PatientFacts) -> Vec<&'static str> {
        items(f, Agent::Baricitinib, kb())
            .iter()
            .map(|i| match i {
                PreTreatmentItem::TbScreening { .. } => "tb",
                PreTreatmentItem::LatentTb { .. } => "latent",
                PreTreatmentItem::TbIndeterminate { .. } => "indeterminate",
                PreTreatmentItem::TbPositiveReview { .. } => "positive-review",
                PreTreatmentItem::ZosterVaccine { .. } => "zoster",
                PreTreatmentItem::Cbc { .. } => "cbc",
                PreTreatmentItem::Combination { .. } => "combination",
                PreTreatmentItem::Pregnancy { .. } => "pregnancy",
            })
            .collect()
    }

    #[test]
    fn each_item_alone() {
        type Edit = fn(&mut PatientFacts);
        let cases: [(&str, Edit); 9] = [
            ("tb", |f| f.tb_screening = None),
            ("latent", |f| {
                f.latent_tb_untreated = vec![src("Condition/l", "latent TB")]
            }),
            ("latent", |f| {
                // facts count a positive IGRA as untreated latent TB, listing it in both places
                let s = src("Observation/i", "IGRA positive");
                f.latent_tb_untreated = vec![s.clone()];
                f.tb_screening = Some(TbScreen {
                    result: TbTestResult::Positive,
                    source: s,
                })
            }),
            ("positive-review", |f| {
                f.tb_screening = Some(TbScreen {
                    result: TbTestResult::Positive,
                    source: src("Observation/t", "TST positive"),
                })
            }),
            ("indeterminate", |f| {
                f.tb_screening = Some(TbScreen {
                    result: TbTestResult::Indeterminate,
                    source: src("Observation/i", "IGRA indeterminate"),
                })
            }),
            ("zoster", |f| f.zoster_vaccine.truncate(1)),
            ("cbc", |f| f.hb = None),
            ("combination", |f| {
                f.co_therapies = vec![CoTherapy {
                    class: CoTherapyClass::PotentImmunosuppressant,
                    agent: "azathioprine".into(),
                    source: src("MedicationRequest/aza", "azathioprine"),
                }]
            }),
            ("pregnancy", |f| {
                f.pregnancy = vec![src("Condition/preg", "pregnant")]
            }),
        ];
        assert!(kinds(&eligible()).is_empty());
        for (expect, edit) in cases {
            let mut f = eligible();
            edit(&mut f);
            assert_eq!(kinds(&f), vec![expect]);
        }
    }

    #[test]
    fn the_same_jak_inhibitor_already_active_is_not_a_combination() {
        let mut f = eligible();
        let active = |agent: &str, class| CoTherapy {
            class,
            agent: agent.into(),
            source: src("MedicationRequest/active", agent),
        };
        f.co_therapies = vec![active("baricitinib", CoTherapyClass::JakInhibitor)];
        assert!(
            kinds(&f).is_empty(),
            "renewing baricitinib is not a combination"
        );
        f.co_therapies
            .push(active("tofacitinib", CoTherapyClass::JakInhibitor));
        assert_eq!(kinds(&f), vec!["combination"]);
    }
}
