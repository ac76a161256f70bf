//! Evidence sources cited by cards (hooks/evidence.json): citations with links, the figures the
//! cards quote (each flagged verified or not), drug-label links and the codes of the orders
//! the cards suggest.
//!
//! Loading validates the file against what the cards need: every [`Cite`] and [`Figure`] must
//! be present, every URL must be https, and a figure marked unverified must carry a `hedge`
//! (what the card says instead) that holds no number. So an UNVERIFIED figure of
//! knowledge.md can never be stated as fact, whatever the file says. Every label, citation,
//! figure and hedge may reach a clinician, so none may name an internal reference
//! ("knowledge.md", "seed", "unverified", a specification section).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{KnowledgeError, KnowledgeFiles};
use crate::facts::{Agent, Therapy};

const FILE: &str = "evidence.json";

/// The sources the cards cite, by role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cite {
    NoSleApproval,
    Wallace2018,
    BraveI,
    BraveII,
    BravePooled,
    BraveSafety,
    SaeMeta,
    Sleek,
    SelectSle,
    Eular2023,
    Acr2024Ln,
    Gladman2002,
    OlumiantLabel,
    OlumiantSmpc,
    Tyk2Trials,
    RefractoryTrials,
    /// Morand E et al. PAISLEY, deucravacitinib phase 2.
    Paisley,
    /// The US boxed warning of the JAK inhibitors (FDA 2021).
    BoxedWarning,
    /// EMA 2023 Article 20 referral on JAK inhibitors.
    Ema2023,
    Kdigo2024Ln,
    /// REGENCY (obinutuzumab in lupus nephritis).
    Regency,
    GazyvaLabel,
    XeljanzLabel,
    RinvoqLabel,
}

impl Cite {
    pub const ALL: [Cite; 24] = [
        Cite::NoSleApproval,
        Cite::Wallace2018,
        Cite::BraveI,
        Cite::BraveII,
        Cite::BravePooled,
        Cite::BraveSafety,
        Cite::SaeMeta,
        Cite::Sleek,
        Cite::SelectSle,
        Cite::Eular2023,
        Cite::Acr2024Ln,
        Cite::Gladman2002,
        Cite::OlumiantLabel,
        Cite::OlumiantSmpc,
        Cite::Tyk2Trials,
        Cite::RefractoryTrials,
        Cite::Paisley,
        Cite::BoxedWarning,
        Cite::Ema2023,
        Cite::Kdigo2024Ln,
        Cite::Regency,
        Cite::GazyvaLabel,
        Cite::XeljanzLabel,
        Cite::RinvoqLabel,
    ];

    /// The source id in evidence.json.
    pub fn id(self) -> &'static str {
        match self {
            Cite::NoSleApproval => "labels-no-sle-approval",
            Cite::Wallace2018 => "wallace-2018",
            Cite::BraveI => "brave-1",
            Cite::BraveII => "brave-2",
            Cite::BravePooled => "brave-pooled",
            Cite::BraveSafety => "brave-safety",
            Cite::SaeMeta => "sae-meta",
            Cite::Sleek => "sleek",
            Cite::SelectSle => "select-sle",
            Cite::Eular2023 => "eular-2023",
            Cite::Acr2024Ln => "acr-2024-ln",
            Cite::Gladman2002 => "gladman-2002",
            Cite::OlumiantLabel => "olumiant-label",
            Cite::OlumiantSmpc => "olumiant-smpc",
            Cite::Tyk2Trials => "tyk2-trials",
            Cite::RefractoryTrials => "refractory-trials",
            Cite::Paisley => "paisley",
            Cite::BoxedWarning => "boxed-warning",
            Cite::Ema2023 => "ema-2023",
            Cite::Kdigo2024Ln => "kdigo-2024-ln",
            Cite::Regency => "regency",
            Cite::GazyvaLabel => "gazyva-label",
            Cite::XeljanzLabel => "xeljanz-label",
            Cite::RinvoqLabel => "rinvoq-label",
        }
    }
}

/// The figures the cards quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Figure {
    WallaceArthritisRash,
    BraveISri4,
    BraveIISri4,
    PooledSubgroups,
    SafetyInfectionsZoster,
    SaeRelativeRisk,
    SleekPrimary,
    EularRefractory,
    SledaiRange,
    /// Pooled SLE-BRAVE: 1,535 patients (verified).
    PooledSize,
    /// SLEDAI-2K > 10, the pooled SLE-BRAVE subgroup cut-off (not verified: hedged).
    SledaiCutoff,
    /// Morand 2023 integrated safety: MACE and VTE counts.
    SafetyMaceVte,
    SelectSleDesign,
    PaisleyStatus,
    BoxedWarning,
    EmaRiskGroups,
    AcrLnRegimens,
    KdigoCni,
    RegencyApproval,
    OlumiantSmpcDose,
    XeljanzDose,
    RinvoqDose,
}

impl Figure {
    pub const ALL: [Figure; 22] = [
        Figure::WallaceArthritisRash,
        Figure::BraveISri4,
        Figure::BraveIISri4,
        Figure::PooledSubgroups,
        Figure::SafetyInfectionsZoster,
        Figure::SaeRelativeRisk,
        Figure::SleekPrimary,
        Figure::EularRefractory,
        Figure::SledaiRange,
        Figure::PooledSize,
        Figure::SledaiCutoff,
        Figure::SafetyMaceVte,
        Figure::SelectSleDesign,
        Figure::PaisleyStatus,
        Figure::BoxedWarning,
        Figure::EmaRiskGroups,
        Figure::AcrLnRegimens,
        Figure::KdigoCni,
        Figure::RegencyApproval,
        Figure::OlumiantSmpcDose,
        Figure::XeljanzDose,
        Figure::RinvoqDose,
    ];

    /// The source it belongs to and its id inside that source.
    pub fn key(self) -> (Cite, &'static str) {
        match self {
            Figure::WallaceArthritisRash => (Cite::Wallace2018, "arthritis-rash"),
            Figure::BraveISri4 => (Cite::BraveI, "sri4"),
            Figure::BraveIISri4 => (Cite::BraveII, "sri4"),
            Figure::PooledSubgroups => (Cite::BravePooled, "subgroups"),
            Figure::SafetyInfectionsZoster => (Cite::BraveSafety, "infections-zoster"),
            Figure::SaeRelativeRisk => (Cite::SaeMeta, "sae-rr"),
            Figure::SleekPrimary => (Cite::Sleek, "primary"),
            Figure::EularRefractory => (Cite::Eular2023, "refractory"),
            Figure::SledaiRange => (Cite::Gladman2002, "range"),
            Figure::PooledSize => (Cite::BravePooled, "size"),
            Figure::SledaiCutoff => (Cite::BravePooled, "sledai-cutoff"),
            Figure::SafetyMaceVte => (Cite::BraveSafety, "mace-vte"),
            Figure::SelectSleDesign => (Cite::SelectSle, "design"),
            Figure::PaisleyStatus => (Cite::Paisley, "status"),
            Figure::BoxedWarning => (Cite::BoxedWarning, "boxed"),
            Figure::EmaRiskGroups => (Cite::Ema2023, "risk-groups"),
            Figure::AcrLnRegimens => (Cite::Acr2024Ln, "regimens"),
            Figure::KdigoCni => (Cite::Kdigo2024Ln, "cni"),
            Figure::RegencyApproval => (Cite::Regency, "approval"),
            Figure::OlumiantSmpcDose => (Cite::OlumiantSmpc, "dose"),
            Figure::XeljanzDose => (Cite::XeljanzLabel, "dose"),
            Figure::RinvoqDose => (Cite::RinvoqLabel, "dose"),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct FigureEntry {
    pub id: String,
    /// The figure as the source states it (knowledge.md section 5, verbatim numbers).
    pub text: String,
    /// What a card says instead when the figure is not verified (no numbers).
    #[serde(default)]
    pub hedge: Option<String>,
    pub verified: bool,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Source {
    pub id: String,
    /// Short name for links.
    pub label: String,
    pub citation: String,
    /// DOI, PubMed, ClinicalTrials.gov or label URL.
    pub url: String,
    #[serde(default)]
    pub figures: Vec<FigureEntry>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct LabelLink {
    pub label: String,
    pub url: String,
}

/// A standard therapy the cards can propose as a draft MedicationRequest.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct TherapyOrder {
    /// Ingredient name as shown and used as medication text.
    pub text: String,
    /// RxNorm ingredient code, when knowledge.md has a verified one.
    #[serde(default)]
    pub rxnorm: Option<String>,
    /// Dosage instruction text of the proposed order.
    pub instruction: String,
}

/// A coded order (lab test or vaccine) the cards can propose.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct CodedOrder {
    pub system: String,
    pub code: String,
    pub text: String,
}

/// The vaccine the pre-treatment card recommends, and the doses of a complete series.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct VaccineOrder {
    #[serde(flatten)]
    pub code: CodedOrder,
    pub series_doses: usize,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Orders {
    pub therapies: BTreeMap<String, TherapyOrder>,
    pub igra: CodedOrder,
    pub cbc: CodedOrder,
    pub creatinine: CodedOrder,
    pub lipid_panel: CodedOrder,
    pub hbsag: CodedOrder,
    pub anti_hbc: CodedOrder,
    pub hcv_antibody: CodedOrder,
    pub zoster_vaccine: VaccineOrder,
}

#[derive(Debug, Deserialize)]
struct EvidenceFile {
    sources: Vec<Source>,
    labels: BTreeMap<String, LabelLink>,
    orders: Orders,
}

const THERAPIES: [Therapy; 4] = [
    Therapy::Rituximab,
    Therapy::Mycophenolate,
    Therapy::Belimumab,
    Therapy::Cyclophosphamide,
];

/// The validated evidence file.
#[derive(Debug, Clone)]
pub struct EvidenceLibrary {
    sources: Vec<Source>,
    /// Position in `sources` of each [`Cite`], in `Cite::ALL` order.
    cite_index: Vec<usize>,
    /// (source, figure) position of each [`Figure`], in `Figure::ALL` order.
    figure_index: Vec<(usize, usize)>,
    labels: BTreeMap<String, LabelLink>,
    orders: Orders,
}

impl EvidenceLibrary {
    pub fn load(files: &KnowledgeFiles) -> Result<EvidenceLibrary, KnowledgeError> {
        let file: EvidenceFile = files.json(FILE)?;
        EvidenceLibrary::validate(file)
    }

    /// Parse and validate an evidence file's text (tests, tools).
    pub fn from_json(text: &str) -> Result<EvidenceLibrary, KnowledgeError> {
        let file: EvidenceFile = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        EvidenceLibrary::validate(file)
    }

    fn validate(file: EvidenceFile) -> Result<EvidenceLibrary, KnowledgeError> {
        let mut seen = std::collections::HashSet::new();
        for s in &file.sources {
            if !seen.insert(s.id.as_str()) {
                return Err(invalid(format!("source {:?} appears twice", s.id)));
            }
            if s.label.trim().is_empty() || s.citation.trim().is_empty() {
                return Err(invalid(format!(
                    "source {:?}: label and citation are required",
                    s.id
                )));
            }
            check_url(&s.id, &s.url)?;
            let visible = [&s.label, &s.citation].into_iter().chain(
                s.figures
                    .iter()
                    .flat_map(|f| [Some(&f.text), f.hedge.as_ref()])
                    .flatten(),
            );
            for text in visible {
                if let Some(word) = internal_reference(text) {
                    return Err(invalid(format!(
                        "{}: {word:?} is an internal reference, not for clinicians",
                        s.id
                    )));
                }
            }
            for f in &s.figures {
                if f.text.trim().is_empty() {
                    return Err(invalid(format!("{}/{}: empty text", s.id, f.id)));
                }
                if !f.verified {
                    match &f.hedge {
                        Some(h) if !h.trim().is_empty() => {
                            if h.chars().any(|c| c.is_ascii_digit()) {
                                return Err(invalid(format!(
                                    "{}/{}: the hedge of an unverified figure must not state numbers",
                                    s.id, f.id
                                )));
                            }
                        }
                        _ => {
                            return Err(invalid(format!(
                                "{}/{}: an unverified figure needs a hedge",
                                s.id, f.id
                            )))
                        }
                    }
                }
            }
        }
        let position = |id: &str| file.sources.iter().position(|s| s.id == id);
        let mut cite_index = Vec::with_capacity(Cite::ALL.len());
        for c in Cite::ALL {
            cite_index.push(
                position(c.id()).ok_or_else(|| invalid(format!("source {:?} missing", c.id())))?,
            );
        }
        let mut figure_index = Vec::with_capacity(Figure::ALL.len());
        for f in Figure::ALL {
            let (cite, fid) = f.key();
            let si = position(cite.id())
                .ok_or_else(|| invalid(format!("source {:?} missing", cite.id())))?;
            let fi = file.sources[si]
                .figures
                .iter()
                .position(|x| x.id == fid)
                .ok_or_else(|| invalid(format!("figure {}/{fid} missing", cite.id())))?;
            figure_index.push((si, fi));
        }
        for a in Agent::ALL {
            let l = file
                .labels
                .get(a.name())
                .ok_or_else(|| invalid(format!("labels: no entry for {}", a.name())))?;
            check_url(a.name(), &l.url)?;
        }
        if file.orders.zoster_vaccine.series_doses == 0 {
            return Err(invalid(
                "orders.zoster_vaccine.series_doses must be at least 1".into(),
            ));
        }
        for t in THERAPIES {
            if !file.orders.therapies.contains_key(t.name()) {
                return Err(invalid(format!(
                    "orders.therapies: no entry for {}",
                    t.name()
                )));
            }
        }
        Ok(EvidenceLibrary {
            sources: file.sources,
            cite_index,
            figure_index,
            labels: file.labels,
            orders: file.orders,
        })
    }

    /// Every source (for tests and documentation).
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    pub fn source(&self, c: Cite) -> &Source {
        let i = Cite::ALL.iter().position(|x| *x == c).unwrap_or(0);
        &self.sources[self.cite_index[i]]
    }

    pub fn figure(&self, f: Figure) -> &FigureEntry {
        let i = Figure::ALL.iter().position(|x| *x == f).unwrap_or(0);
        let (si, fi) = self.figure_index[i];
        &self.sources[si].figures[fi]
    }

    /// What a card may say about a figure: its text when verified, its hedge otherwise.
    pub fn statement(&self, f: Figure) -> &str {
        let fig = self.figure(f);
        if fig.verified {
            &fig.text
        } else {
            fig.hedge
                .as_deref()
                .unwrap_or("figures not confirmed in the primary publications")
        }
    }

    /// The agent's prescribing-information link.
    pub fn label(&self, agent: Agent) -> Option<&LabelLink> {
        self.labels.get(agent.name())
    }

    pub fn therapy_order(&self, t: Therapy) -> Option<&TherapyOrder> {
        self.orders.therapies.get(t.name())
    }

    pub fn orders(&self) -> &Orders {
        &self.orders
    }
}

/// Words that would show an internal reference to a clinician (case-insensitive).
const INTERNAL: [&str; 4] = ["knowledge.md", "seed", "unverified", "section "];

/// The first internal reference in `text`, if any.
pub fn internal_reference(text: &str) -> Option<&'static str> {
    let lower = text.to_lowercase();
    INTERNAL.into_iter().find(|w| lower.contains(w))
}

fn check_url(id: &str, url: &str) -> Result<(), KnowledgeError> {
    match url::Url::parse(url) {
        Ok(u) if u.scheme() == "https" && u.host_str().is_some() => Ok(()),
        _ => Err(invalid(format!("{id}: url must be an absolute https URL"))),
    }
}

fn invalid(reason: String) -> KnowledgeError {
    KnowledgeError::Invalid {
        file: FILE.into(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn embedded_text() -> String {
        KnowledgeFiles::Embedded
            .read(FILE)
            .expect("embedded")
            .into_owned()
    }

    #[test]
    fn embedded_file_loads_and_resolves_every_cite_and_figure() {
        let lib = EvidenceLibrary::load(&KnowledgeFiles::Embedded).expect("valid");
        for c in Cite::ALL {
            assert_eq!(lib.source(c).id, c.id());
        }
        for f in Figure::ALL {
            assert_eq!(lib.figure(f).id, f.key().1);
        }
        for a in Agent::ALL {
            assert!(lib.label(a).is_some(), "{}", a.name());
        }
    }

    #[test]
    fn unverified_figures_are_hedged_without_numbers() {
        let lib = EvidenceLibrary::load(&KnowledgeFiles::Embedded).expect("valid");
        let s = lib.statement(Figure::PooledSubgroups);
        assert!(!s.contains("52%"), "{s}");
        assert!(s.contains("not confirmed"), "{s}");
        let s = lib.statement(Figure::SledaiCutoff);
        assert!(!s.chars().any(|c| c.is_ascii_digit()), "{s}");
        assert!(s.contains("pooled SLE-BRAVE"), "{s}");
        assert_eq!(
            lib.statement(Figure::BraveISri4),
            lib.figure(Figure::BraveISri4).text
        );
    }

    #[test]
    fn the_safety_figures_are_verified_and_cited_to_their_publications() {
        let lib = EvidenceLibrary::load(&KnowledgeFiles::Embedded).expect("valid");
        let s = lib.statement(Figure::SafetyInfectionsZoster);
        assert!(
            s.contains("4.4% / 3.4% / 1.9%") && s.contains("4.7% / 2.7% / 2.8%"),
            "{s}"
        );
        let s = lib.statement(Figure::SafetyMaceVte);
        assert!(
            s.contains("MACE in 4 / 1 / 0") && s.contains("VTE in 0 / 3 / 2"),
            "{s}"
        );
        assert_eq!(
            lib.source(Cite::BraveSafety).url,
            "https://doi.org/10.1136/rmdopen-2023-003302"
        );
        assert!(lib
            .statement(Figure::SaeRelativeRisk)
            .contains("RR 1.48 (1.07-2.05)"));
        assert!(lib.source(Cite::SaeMeta).citation.contains("Ramadan"));
        assert!(lib.figure(Figure::SaeRelativeRisk).verified);
        // The SLEDAI-2K cut-off is the pooled subgroup's, not the instrument's.
        assert!(!lib.statement(Figure::SledaiRange).contains("> 10"));
        assert!(lib
            .figure(Figure::SledaiCutoff)
            .text
            .contains("pooled SLE-BRAVE"));
        assert_eq!(
            lib.source(Cite::SelectSle).url,
            "https://clinicaltrials.gov/study/NCT05843643"
        );
        assert!(lib.source(Cite::XeljanzLabel).label.starts_with("Xeljanz"));
        assert!(lib
            .statement(Figure::XeljanzDose)
            .contains("5 mg once daily"));
    }

    /// Every agent's card cites "no JAK inhibitor is approved for SLE": its link must not be
    /// one product's label (a tofacitinib card linked Olumiant's).
    #[test]
    fn the_no_approval_source_links_no_single_product_label() {
        let lib = EvidenceLibrary::load(&KnowledgeFiles::Embedded).expect("valid");
        let url = &lib.source(Cite::NoSleApproval).url;
        for a in Agent::ALL {
            assert_ne!(Some(url), lib.label(a).map(|l| &l.url), "{}", a.name());
        }
        for c in [
            Cite::OlumiantLabel,
            Cite::OlumiantSmpc,
            Cite::XeljanzLabel,
            Cite::RinvoqLabel,
        ] {
            assert_ne!(url, &lib.source(c).url, "{c:?}");
        }
    }

    #[test]
    fn no_clinician_visible_text_holds_an_internal_reference() {
        let lib = EvidenceLibrary::load(&KnowledgeFiles::Embedded).expect("valid");
        for s in lib.sources() {
            let texts = [&s.label, &s.citation].into_iter().chain(
                s.figures
                    .iter()
                    .flat_map(|f| [Some(&f.text), f.hedge.as_ref()])
                    .flatten(),
            );
            for t in texts {
                assert_eq!(internal_reference(t), None, "{}: {t}", s.id);
            }
        }
        for f in Figure::ALL {
            assert_eq!(internal_reference(lib.statement(f)), None, "{f:?}");
        }
    }

    /// The embedded file as JSON, edited by `edit`, then validated.
    fn edited(
        edit: impl FnOnce(&mut serde_json::Value),
    ) -> Result<EvidenceLibrary, KnowledgeError> {
        let mut v: serde_json::Value = serde_json::from_str(&embedded_text()).unwrap();
        edit(&mut v);
        EvidenceLibrary::from_json(&v.to_string())
    }

    fn source_mut<'v>(v: &'v mut serde_json::Value, id: &str) -> &'v mut serde_json::Value {
        v["sources"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|s| s["id"] == id)
            .unwrap()
    }

    #[test]
    fn a_hedge_with_a_number_is_rejected() {
        let e = edited(|v| {
            source_mut(v, "brave-pooled")["figures"][0]["hedge"] = "52% in a subgroup".into();
        })
        .unwrap_err();
        assert!(e.to_string().contains("must not state numbers"), "{e}");
    }

    #[test]
    fn an_internal_reference_in_clinician_text_is_rejected() {
        for (field, text) in [
            ("label", "Pooled analysis (seed summary)"),
            ("citation", "see knowledge.md 5"),
        ] {
            let e = edited(|v| source_mut(v, "brave-pooled")[field] = text.into()).unwrap_err();
            assert!(e.to_string().contains("internal reference"), "{e}");
        }
        let e = edited(|v| {
            source_mut(v, "brave-safety")["figures"][0]["text"] = "figures unverified".into();
        })
        .unwrap_err();
        assert!(e.to_string().contains("\"unverified\""), "{e}");
    }

    #[test]
    fn a_missing_source_is_named() {
        let text = embedded_text().replace("\"id\": \"sleek\"", "\"id\": \"sleek-x\"");
        let e = EvidenceLibrary::from_json(&text).unwrap_err();
        assert!(e.to_string().contains("\"sleek\""), "{e}");
    }

    #[test]
    fn a_plain_http_url_is_rejected() {
        let text = embedded_text().replace(
            "https://doi.org/10.1136/ard-2023-224762",
            "http://doi.org/10.1136/ard-2023-224762",
        );
        let e = EvidenceLibrary::from_json(&text).unwrap_err();
        assert!(e.to_string().contains("eular-2023"), "{e}");
    }
}
