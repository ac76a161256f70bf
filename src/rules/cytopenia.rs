//! Cytopenia before starting (knowledge.md 2, 4.1): ALC < 0.5, ANC < 1.0 x10^3/uL, Hb < 8 g/dL
//! (tofacitinib: Hb < 9) — do not start.

use super::finding::{attributed, Finding, Input, Level};
use super::{num, ReasonCode};
use crate::facts::Agent;

pub fn rule(i: &Input) -> Vec<Finding> {
    let c = &i.kb.thresholds.cytopenia;
    let f = i.facts;
    let hb_cut = if i.agent() == Agent::Tofacitinib {
        c.hb_below_g_dl_tofacitinib
    } else {
        c.hb_below_g_dl
    };
    let mut out = Vec::new();
    for (code, name, value, cut, unit) in [
        (
            ReasonCode::LowLymphocytes,
            "Lymphocytes",
            &f.alc,
            c.alc_below_10e3_per_ul,
            "x10³/µL",
        ),
        (
            ReasonCode::LowNeutrophils,
            "Neutrophils",
            &f.anc,
            c.anc_below_10e3_per_ul,
            "x10³/µL",
        ),
        (
            ReasonCode::LowHaemoglobin,
            "Haemoglobin",
            &f.hb,
            hb_cut,
            "g/dL",
        ),
    ] {
        if let Some(m) = value.as_ref().filter(|m| m.value < cut) {
            out.push(Finding::new(
                Level::DoNotStart,
                code,
                format!(
                    "{name} {} {unit}, below {} ({})",
                    num(m.value),
                    num(cut),
                    attributed(i.agent(), "do not start")
                ),
                vec![m.source.clone()],
            ));
        }
    }
    out
}
