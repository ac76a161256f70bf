//! Stop or hold (critical) and reassess (warning) findings of knowledge.md 4.11.

use super::{Finding, FindingCode};
use crate::facts::therapy::{ActiveTherapy, MonitoringFacts};
use crate::facts::{Agent, FactSource, PatientFacts};
use crate::knowledge::Knowledge;
use crate::rules::num;

fn after(t: &ActiveTherapy, facts: &[FactSource]) -> Vec<FactSource> {
    facts
        .iter()
        .filter(|f| t.after_start(f.date))
        .cloned()
        .collect()
}

/// A finding on the events of `facts` recorded after the start, if any.
fn dated(
    out: &mut Vec<Finding>,
    t: &ActiveTherapy,
    facts: &[FactSource],
    code: FindingCode,
    short: &str,
    text: &str,
    discontinue: bool,
) {
    let hits = after(t, facts);
    if !hits.is_empty() {
        let mut f = Finding::new(code, short, text).with_facts(hits);
        f.discontinue = discontinue;
        out.push(f);
    }
}

pub fn findings(
    facts: &PatientFacts,
    m: &MonitoringFacts,
    t: &ActiveTherapy,
    kb: &Knowledge,
) -> Vec<Finding> {
    let mut out = Vec::new();
    dated(
        &mut out,
        t,
        &facts.vte_history,
        FindingCode::Vte,
        "VTE after the start",
        "Venous thromboembolism recorded after the start (labels: promptly evaluate, and \
         discontinue in patients with suspected thrombosis).",
        true,
    );
    dated(
        &mut out,
        t,
        &m.arterial_events,
        FindingCode::ArterialEvent,
        "arterial event after the start",
        "Myocardial infarction, stroke or arterial thrombosis recorded after the start (US \
         labels: discontinue).",
        true,
    );
    // Active serious infections (acute ones within their window, chronic ones while active).
    dated(
        &mut out,
        t,
        &facts.risk.infection.present,
        FindingCode::SeriousInfection,
        "active serious infection",
        "Active serious infection (or active zoster) recorded after the start (labels: \
         interrupt until the infection is controlled).",
        false,
    );
    dated(
        &mut out,
        t,
        &facts.risk.pregnancy.present,
        FindingCode::Pregnancy,
        "pregnancy",
        "Pregnancy recorded after the start (EU labels: contraindicated; US labels: may cause \
         fetal harm).",
        false,
    );
    dated(
        &mut out,
        t,
        &facts.risk.breastfeeding.present,
        FindingCode::BreastFeeding,
        "breast-feeding",
        "Breast-feeding recorded after the start (EU labels: not during breast-feeding).",
        false,
    );
    let hepatitis: Vec<FactSource> = facts
        .risk
        .hepatitis
        .active_hbv
        .iter()
        .chain(&facts.risk.hepatitis.active_hcv)
        .cloned()
        .collect();
    dated(
        &mut out,
        t,
        &hepatitis,
        FindingCode::Hepatitis,
        "active hepatitis",
        "Active hepatitis B or C recorded after the start (labels: not recommended).",
        false,
    );
    if !facts.active_tb.is_empty() {
        out.push(
            Finding::new(
                FindingCode::ActiveTb,
                "active TB",
                "Active tuberculosis (labels: do not use during active TB).",
            )
            .with_facts(facts.active_tb.clone()),
        );
    }
    out.extend(cytopenia(facts, t, kb));
    if let (Some(egfr), Some(below)) = (&facts.egfr, kb.monitoring.egfr_stop_below.get(&t.agent)) {
        if egfr.value < *below {
            out.push(
                Finding::new(
                    FindingCode::RenalFunction,
                    format!("eGFR {}", num(egfr.value)),
                    format!(
                        "eGFR {} mL/min/1.73 m², below {} (label: not recommended).",
                        num(egfr.value),
                        num(*below)
                    ),
                )
                .with_facts(vec![egfr.source.clone()]),
            );
        }
    }
    out
}

/// On-treatment cytopenia (knowledge.md 2): the latest counts within the CBC window.
fn cytopenia(facts: &PatientFacts, t: &ActiveTherapy, kb: &Knowledge) -> Vec<Finding> {
    let c = &kb.monitoring.cytopenia;
    let mut out = Vec::new();
    let mut push = |short: String, text: String, facts: Vec<FactSource>, discontinue: bool| {
        let mut f = Finding::new(FindingCode::Cytopenia, short, text).with_facts(facts);
        f.discontinue = discontinue;
        out.push(f);
    };
    let tofacitinib = t.agent == Agent::Tofacitinib;
    if let Some(alc) = &facts.alc {
        let below = if tofacitinib {
            c.alc_discontinue_below_10e3_per_ul_tofacitinib
        } else {
            c.alc_below_10e3_per_ul
        };
        if alc.value < below {
            push(
                format!("lymphocytes {}", num(alc.value)),
                format!(
                    "Lymphocytes {} x10³/µL, below {} ({}).",
                    num(alc.value),
                    num(below),
                    if tofacitinib {
                        "label: discontinue"
                    } else {
                        "label: interrupt"
                    }
                ),
                vec![alc.source.clone()],
                tofacitinib,
            );
        }
    }
    if let Some(anc) = &facts.anc {
        if tofacitinib && anc.value < c.anc_discontinue_below_10e3_per_ul_tofacitinib {
            push(
                format!("neutrophils {}", num(anc.value)),
                format!(
                    "Neutrophils {} x10³/µL, below {} (label: discontinue).",
                    num(anc.value),
                    num(c.anc_discontinue_below_10e3_per_ul_tofacitinib)
                ),
                vec![anc.source.clone()],
                true,
            );
        } else if anc.value < c.anc_below_10e3_per_ul {
            push(
                format!("neutrophils {}", num(anc.value)),
                format!(
                    "Neutrophils {} x10³/µL, below {} (label: interrupt).",
                    num(anc.value),
                    num(c.anc_below_10e3_per_ul)
                ),
                vec![anc.source.clone()],
                false,
            );
        }
    }
    if let Some(hb) = &facts.hb {
        if hb.value < c.hb_below_g_dl {
            push(
                format!("Hb {}", num(hb.value)),
                format!(
                    "Haemoglobin {} g/dL, below {} (label: interrupt).",
                    num(hb.value),
                    num(c.hb_below_g_dl)
                ),
                vec![hb.source.clone()],
                false,
            );
        } else if tofacitinib {
            if let Some((base, src)) = t.hb_before_start.clone() {
                let fall = base - hb.value;
                if fall > c.hb_fall_more_than_g_dl_tofacitinib + 1e-9 {
                    push(
                        format!("Hb fell {} g/dL", num(fall)),
                        format!(
                            "Haemoglobin fell {} g/dL since before the start ({} to {} g/dL), \
                             more than {} (label: interrupt).",
                            num(fall),
                            num(base),
                            num(hb.value),
                            num(c.hb_fall_more_than_g_dl_tofacitinib)
                        ),
                        vec![src, hb.source.clone()],
                        false,
                    );
                }
            }
        }
    }
    out
}

/// Reassess (warning): a malignancy recorded after the start; two JAK inhibitors at once.
pub fn reassess(facts: &PatientFacts, m: &MonitoringFacts, t: &ActiveTherapy) -> Vec<Finding> {
    let mut out = Vec::new();
    let malignancy = after(t, &facts.risk.malignancy);
    if !malignancy.is_empty() {
        out.push(
            Finding::new(
                FindingCode::Malignancy,
                "malignancy after the start",
                "Malignancy recorded after the start (labels: consider the benefit and risk of \
                 continuing; ask for oncology input).",
            )
            .with_facts(malignancy),
        );
    }
    let others: Vec<FactSource> = m
        .therapies
        .iter()
        .filter(|o| o.agent != t.agent)
        .map(|o| o.current.clone())
        .collect();
    if !others.is_empty() {
        out.push(
            Finding::new(
                FindingCode::TwoJakInhibitors,
                "another JAK inhibitor active",
                "Another JAK or TYK2 inhibitor is active at the same time (labels: not in \
                 combination with other JAK inhibitors).",
            )
            .with_facts(others),
        );
    }
    out
}
