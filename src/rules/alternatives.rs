//! What to propose instead of the order (knowledge.md 4.1, 4.2, 4.5, 4.9): per do-not-start
//! finding (lupus nephritis regimens per ACR 2024 / KDIGO 2024, CNS lupus, cytopenia,
//! infection, pregnancy or breast-feeding, hepatitis), the untried standard options on a
//! not-recommended card (never cyclophosphamide there), and baricitinib instead of an agent
//! without SLE data. Never an agent already drafted or active; an agent the record shows as
//! stopped is named "previously stopped".

use super::finding::Input;
use super::{num, AgentEvidence, ReasonCode, Verdict, VerdictKind};
use crate::facts::Therapy;

/// How an alternative can be taken up.
#[derive(Debug, Clone, PartialEq)]
pub enum Take {
    /// A coded draft MedicationRequest (hooks/medications.json `orders.medications` key).
    Medication(&'static str),
    /// Baricitinib at this dose, mg once daily.
    Baricitinib(f64),
    /// A lab ServiceRequest (`orders.labs` key, or "cbc").
    Lab(&'static str),
    /// Named in the card only (a regimen, a referral, or an agent without a verified code).
    Named,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alternative {
    /// As the card shows it ("Mycophenolate mofetil 2-3 g/day (previously stopped)").
    pub label: String,
    pub take: Take,
}

fn named(label: impl Into<String>) -> Alternative {
    Alternative {
        label: label.into(),
        take: Take::Named,
    }
}

pub fn propose(i: &Input, verdict: &Verdict, evidence: &AgentEvidence) -> Vec<Alternative> {
    let f = i.facts;
    let active = |name: &str| f.active_drugs.iter().any(|d| d == name);
    let stopped = |name: &str| {
        if f.stopped_drugs.iter().any(|d| d == name) {
            " (previously stopped)"
        } else {
            ""
        }
    };
    let med = |key: &'static str, ingredient: &str| -> Option<Alternative> {
        let o = i.kb.drugs.medication_order(key)?;
        (!active(ingredient)).then(|| Alternative {
            label: format!("{}{}", o.instruction, stopped(ingredient)),
            take: Take::Medication(key),
        })
    };
    let mut out: Vec<Alternative> = Vec::new();
    match verdict.kind {
        VerdictKind::Conditional => {}
        VerdictKind::Contraindicated => {
            if verdict.has(ReasonCode::ActiveLupusNephritis) {
                let egfr_ok = f.egfr.as_ref().map(|e| e.value > 45.0);
                let nephrotic = f
                    .upcr
                    .as_ref()
                    .is_some_and(|u| u.value >= i.kb.thresholds.upcr.nephrotic_at_least_g_per_g);
                out.extend(med("mycophenolate", "mycophenolate mofetil"));
                out.push(named(format!(
                    "Lupus nephritis: glucocorticoids + mycophenolate + belimumab{}",
                    stopped("belimumab")
                )));
                match egfr_ok {
                    Some(false) => {}
                    _ => {
                        let pref = if nephrotic {
                            ", preferred with UPCR of 3 g/g or more"
                        } else {
                            ""
                        };
                        let only = if egfr_ok.is_none() {
                            " (only with eGFR above 45)"
                        } else {
                            ""
                        };
                        out.push(named(format!(
                            "Lupus nephritis: glucocorticoids + mycophenolate + voclosporin or tacrolimus{pref}{only}"
                        )));
                        if egfr_ok == Some(true) {
                            out.extend(med("tacrolimus", "tacrolimus"));
                        }
                    }
                }
                out.push(named(
                    "Lupus nephritis: glucocorticoids + low-dose IV cyclophosphamide (± belimumab)",
                ));
                out.push(named(format!(
                    "Obinutuzumab added to standard therapy{}",
                    stopped("obinutuzumab")
                )));
                out.push(named("Nephrology referral"));
            }
            if verdict.has(ReasonCode::CnsLupus) {
                out.extend(med("rituximab", "rituximab"));
                out.push(named(format!(
                    "Neuropsychiatric lupus: cyclophosphamide or rituximab, with specialist referral{}",
                    stopped("cyclophosphamide")
                )));
            }
            if verdict.has_cytopenia() {
                out.push(Alternative {
                    label: "Repeat the CBC and evaluate the cytopenia".into(),
                    take: Take::Lab("cbc"),
                });
            }
            if verdict.has(ReasonCode::ActiveInfection) {
                out.push(named(
                    "Treat the infection; reconsider once it has resolved",
                ));
            }
            if verdict.has(ReasonCode::Pregnancy) || verdict.has(ReasonCode::Breastfeeding) {
                out.extend(med("hydroxychloroquine", "hydroxychloroquine"));
                // The same three are compatible with breast-feeding (knowledge.md 4.1 names
                // them for both); the card says which the patient needs.
                out.push(named(if verdict.has(ReasonCode::Pregnancy) {
                    "No JAK inhibitor: pregnancy-compatible options (hydroxychloroquine, azathioprine, tacrolimus) with the specialist"
                } else {
                    "No JAK inhibitor: options compatible with breast-feeding (hydroxychloroquine, azathioprine, tacrolimus) with the specialist"
                }));
            }
            if verdict.has(ReasonCode::ActiveHepatitis) {
                out.push(named("Hepatology referral"));
            }
        }
        VerdictKind::NotRecommended if verdict.only_data_reasons() => {}
        VerdictKind::NotRecommended => {
            if let AgentEvidence::NoSleData {
                switch_to_baricitinib: Some((mg, reasons)),
            } = evidence
            {
                let why: Vec<&str> = reasons.iter().map(|r| r.text.as_str()).collect();
                let why = if why.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", why.join(", "))
                };
                out.push(Alternative {
                    label: format!("baricitinib {} mg once daily{why}", num(*mg)),
                    take: Take::Baricitinib(*mg),
                });
            }
            // Only agents with no record of use: one started too recently to judge is waiting
            // for its response, not to be ordered again.
            let untried = |t: Therapy| !i.facts.therapies_tried.contains_key(&t);
            if untried(Therapy::Rituximab) {
                out.extend(med("rituximab", "rituximab"));
            }
            if untried(Therapy::Mycophenolate) {
                out.extend(med("mycophenolate", "mycophenolate mofetil"));
            }
            if untried(Therapy::Belimumab)
                && untried(Therapy::Anifrolumab)
                && !active("belimumab")
                && !active("anifrolumab")
            {
                out.push(named(format!(
                    "Belimumab or anifrolumab added to standard therapy{}",
                    stopped("belimumab")
                )));
            }
        }
    }
    out
}
