//! Contraindications (knowledge.md 4.1): VTE history, active TB, active lupus nephritis, CNS
//! lupus, eGFR below the cut-off (baricitinib; a renal-dosing warning for other agents) and
//! cytopenia (ALC, ANC, Hb; tofacitinib has its own Hb cut-off).

use super::{num, Reason, ReasonCode, Verdict};
use crate::facts::{Agent, FactSource, Measurement, PatientFacts, Therapy};
use crate::knowledge::Knowledge;

/// Critical findings (contraindications) and warnings that block the permissive verdict.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Assessment {
    pub critical: Vec<Reason>,
    pub warnings: Vec<Reason>,
}

pub fn assess(facts: &PatientFacts, agent: Agent, kb: &Knowledge) -> Assessment {
    let t = &kb.thresholds;
    let mut a = Assessment::default();
    let mut present = |code, text: &str, facts: &[FactSource]| {
        if !facts.is_empty() {
            a.critical.push(Reason::new(code, text, facts.to_vec()));
        }
    };
    present(
        ReasonCode::VteHistory,
        "History of venous thromboembolism (boxed warning: thrombosis); a resolved VTE still counts",
        &facts.vte_history,
    );
    present(
        ReasonCode::ActiveTb,
        "Active tuberculosis: do not start a JAK inhibitor",
        &facts.active_tb,
    );
    present(
        ReasonCode::CnsLupus,
        "Neuropsychiatric (CNS) lupus: excluded from the SLE trials, no efficacy data",
        &facts.cns_lupus,
    );
    if !facts.active_lupus_nephritis.is_empty() {
        a.critical.push(nephritis(facts, kb));
    }

    if let Some(egfr) = &facts.egfr {
        if egfr.value < t.egfr.contraindicated_below {
            let cut = num(t.egfr.contraindicated_below);
            if agent == Agent::Baricitinib {
                a.critical.push(Reason::new(
                    ReasonCode::RenalContraindication,
                    format!(
                        "eGFR {} mL/min/1.73m2 is below {cut}: baricitinib is not recommended (label)",
                        num(egfr.value)
                    ),
                    vec![egfr.source.clone()],
                ));
            } else {
                let label = kb
                    .evidence
                    .label(agent)
                    .map(|l| l.label.as_str())
                    .unwrap_or("prescribing information");
                a.warnings.push(Reason::new(
                    ReasonCode::RenalLabelDosing,
                    format!(
                        "eGFR {} mL/min/1.73m2 is below {cut}: follow the renal dosing of the {label}",
                        num(egfr.value)
                    ),
                    vec![egfr.source.clone()],
                ));
            }
        }
    }

    let c = &t.cytopenia;
    let hb_cut = if agent == Agent::Tofacitinib {
        c.hb_below_g_dl_tofacitinib
    } else {
        c.hb_below_g_dl
    };
    for (code, name, value, cut, unit) in [
        (
            ReasonCode::LowLymphocytes,
            "Lymphocytes (ALC)",
            &facts.alc,
            c.alc_below_10e3_per_ul,
            "x10^3/uL",
        ),
        (
            ReasonCode::LowNeutrophils,
            "Neutrophils (ANC)",
            &facts.anc,
            c.anc_below_10e3_per_ul,
            "x10^3/uL",
        ),
        (
            ReasonCode::LowHaemoglobin,
            "Haemoglobin",
            &facts.hb,
            hb_cut,
            "g/dL",
        ),
    ] {
        if let Some(m) = value.as_ref().filter(|m| m.value < cut) {
            a.critical.push(cytopenia(code, name, m, cut, unit, agent));
        }
    }
    a
}

fn cytopenia(
    code: ReasonCode,
    name: &str,
    m: &Measurement,
    cut: f64,
    unit: &str,
    agent: Agent,
) -> Reason {
    Reason::new(
        code,
        format!(
            "{name} {} {unit} is below {} {unit}: do not start {} (label)",
            num(m.value),
            num(cut),
            agent.name()
        ),
        vec![m.source.clone()],
    )
}

fn nephritis(facts: &PatientFacts, kb: &Knowledge) -> Reason {
    let u = &kb.thresholds.upcr;
    let months = kb.thresholds.windows.upcr_months;
    let mut sources = facts.active_lupus_nephritis.clone();
    let severity = match &facts.upcr {
        Some(m) => {
            sources.push(m.source.clone());
            if m.value >= u.nephrotic_at_least_g_per_g {
                format!("UPCR {} g/g is in the nephrotic range", num(m.value))
            } else if m.value >= u.active_at_least_g_per_g {
                format!(
                    "UPCR {} g/g (at least {}) corroborates activity",
                    num(m.value),
                    num(u.active_at_least_g_per_g)
                )
            } else {
                format!(
                    "UPCR {} g/g is below {} g/g and does not corroborate activity; if the nephritis is in remission, update the Condition's clinical status",
                    num(m.value),
                    num(u.active_at_least_g_per_g)
                )
            }
        }
        None => format!("no UPCR within {months} months to grade severity"),
    };
    Reason::new(
        ReasonCode::ActiveLupusNephritis,
        format!("Active lupus nephritis: excluded from the SLE trials; treat per lupus nephritis guidance ({severity})"),
        sources,
    )
}

/// Alternatives where fitting (4.1): nephritis → mycophenolate or cyclophosphamide; CNS →
/// cyclophosphamide or rituximab.
pub fn alternatives(verdict: &Verdict) -> Vec<Therapy> {
    let mut out = Vec::new();
    let mut add = |t| {
        if !out.contains(&t) {
            out.push(t);
        }
    };
    if verdict.has(ReasonCode::ActiveLupusNephritis) {
        add(Therapy::Mycophenolate);
        add(Therapy::Cyclophosphamide);
    }
    if verdict.has(ReasonCode::CnsLupus) {
        add(Therapy::Cyclophosphamide);
        add(Therapy::Rituximab);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn codes(a: &[Reason]) -> Vec<ReasonCode> {
        a.iter().map(|r| r.code).collect()
    }

    #[test]
    fn each_contraindication_is_found_alone() {
        type Edit = fn(&mut PatientFacts);
        let cases: [(&str, Edit, ReasonCode); 7] = [
            (
                "vte",
                |f| f.vte_history = vec![src("Condition/v", "DVT")],
                ReasonCode::VteHistory,
            ),
            (
                "tb",
                |f| f.active_tb = vec![src("Condition/t", "TB")],
                ReasonCode::ActiveTb,
            ),
            (
                "ln",
                |f| f.active_lupus_nephritis = vec![src("Condition/n", "LN")],
                ReasonCode::ActiveLupusNephritis,
            ),
            (
                "cns",
                |f| f.cns_lupus = vec![src("Condition/c", "NPSLE")],
                ReasonCode::CnsLupus,
            ),
            (
                "alc",
                |f| f.alc = Some(m(0.49, "10^3/uL", "ALC")),
                ReasonCode::LowLymphocytes,
            ),
            (
                "anc",
                |f| f.anc = Some(m(0.99, "10^3/uL", "ANC")),
                ReasonCode::LowNeutrophils,
            ),
            (
                "hb",
                |f| f.hb = Some(m(7.9, "g/dL", "Hb")),
                ReasonCode::LowHaemoglobin,
            ),
        ];
        for (name, edit, code) in cases {
            let mut f = eligible();
            edit(&mut f);
            let a = assess(&f, Agent::Baricitinib, kb());
            assert_eq!(codes(&a.critical), vec![code], "{name}");
        }
        assert!(assess(&eligible(), Agent::Baricitinib, kb())
            .critical
            .is_empty());
    }

    #[test]
    fn cytopenia_cut_offs_are_strict() {
        let mut f = eligible();
        f.alc = Some(m(0.5, "10^3/uL", "ALC"));
        f.anc = Some(m(1.0, "10^3/uL", "ANC"));
        f.hb = Some(m(8.0, "g/dL", "Hb"));
        assert!(assess(&f, Agent::Baricitinib, kb()).critical.is_empty());
    }

    #[test]
    fn tofacitinib_has_its_own_haemoglobin_cut_off() {
        let mut f = eligible();
        f.hb = Some(m(8.5, "g/dL", "Hb"));
        assert!(assess(&f, Agent::Baricitinib, kb()).critical.is_empty());
        assert_eq!(
            codes(&assess(&f, Agent::Tofacitinib, kb()).critical),
            vec![ReasonCode::LowHaemoglobin]
        );
    }

    #[test]
    fn egfr_below_30_is_critical_for_baricitinib_and_a_warning_for_others() {
        for (egfr, bari_critical) in [(29.9, true), (30.0, false), (59.9, false)] {
            let mut f = eligible();
            f.egfr = Some(m(egfr, "mL/min/1.73m2", "eGFR"));
            let bari = assess(&f, Agent::Baricitinib, kb());
            assert_eq!(
                codes(&bari.critical) == vec![ReasonCode::RenalContraindication],
                bari_critical,
                "{egfr}"
            );
            let upa = assess(&f, Agent::Upadacitinib, kb());
            assert!(upa.critical.is_empty());
            assert_eq!(
                codes(&upa.warnings) == vec![ReasonCode::RenalLabelDosing],
                bari_critical,
                "{egfr}"
            );
        }
    }

    #[test]
    fn nephritis_names_upcr_severity() {
        let mut f = eligible();
        f.active_lupus_nephritis = vec![src("Condition/n", "LN")];
        f.upcr = Some(m(3.2, "g/g", "UPCR 3.2 g/g"));
        let a = assess(&f, Agent::Baricitinib, kb());
        assert!(
            a.critical[0].text.contains("nephrotic range"),
            "{}",
            a.critical[0].text
        );
        assert_eq!(a.critical[0].facts.len(), 2);
    }

    #[test]
    fn alternatives_follow_the_reason() {
        let v = Verdict {
            kind: super::super::VerdictKind::Contraindicated,
            reasons: vec![Reason::new(ReasonCode::CnsLupus, "x", vec![])],
        };
        assert_eq!(
            alternatives(&v),
            vec![Therapy::Cyclophosphamide, Therapy::Rituximab]
        );
    }
}
