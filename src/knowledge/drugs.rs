//! RxNorm/ATC/name tables of JAK inhibitors, glucocorticoids and the other agents the rules name (hooks/medications.json).
//!
//! A medication concept is identified by its codes first (RxNorm ingredient, SCD or SBD; ATC)
//! and, only when no code is known, by an ingredient or brand name in its text or displays
//! (whole words, case-insensitive). Product strengths come from the table or from the text
//! ("baricitinib 2 MG Oral Tablet", "Olumiant 4 mg").

use std::borrow::Cow;

use foldhash::{HashMap, HashSet, HashSetExt};

use serde::Deserialize;

use super::terminology::{canonical_system, ATC, RXNORM};
use super::{KnowledgeError, KnowledgeFiles};
use crate::facts::order::Agent;
use crate::facts::{CoTherapyClass, Therapy};
use crate::fhir::model::CodeableConcept;

const FILE: &str = "medications.json";

// ---------------------------------------------------------------------------------------------
// File format
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MedicationsFile {
    #[serde(rename = "_comment", default)]
    _comment: serde_json::Value,
    #[serde(rename = "source", default)]
    _source: Option<String>,
    jak_inhibitors: Vec<JakEntry>,
    out_of_scope: NamesSection,
    non_systemic: NonSystemicSection,
    glucocorticoids: GlucocorticoidSection,
    other_agents: OtherSection,
    orders: OrdersSection,
}

#[derive(Debug, Deserialize)]
struct OrdersSection {
    #[serde(rename = "_comment", default)]
    _comment: serde_json::Value,
    medications: HashMap<String, MedicationOrder>,
    labs: HashMap<String, LabOrder>,
}

/// A medication the cards may propose as a coded draft order (knowledge.md 4.9).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct MedicationOrder {
    /// RxNorm code (ingredient, or product).
    pub rxnorm: String,
    /// Medication text of the order.
    pub text: String,
    /// Dosage instruction text.
    pub instruction: String,
}

/// A lab test the cards may propose as a ServiceRequest.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct LabOrder {
    pub system: String,
    pub code: String,
    pub text: String,
}

#[derive(Debug, Deserialize)]
struct JakEntry {
    agent: String,
    ingredient_rxcui: Option<String>,
    #[serde(default)]
    atc: Vec<String>,
    names: Vec<String>,
    #[serde(default)]
    products: Vec<ProductEntry>,
    #[serde(default)]
    unverified: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct ProductEntry {
    rxcui: String,
    text: String,
    strength_mg: Option<f64>,
    mg_per_ml: Option<f64>,
    /// Glucocorticoid products name their ingredient; JAK products belong to their entry.
    ingredient: Option<String>,
    #[serde(default)]
    unverified: bool,
}

#[derive(Debug, Deserialize)]
struct NamesSection {
    names: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct NonSystemicSection {
    terms: Vec<String>,
    route_codes: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct GlucocorticoidSection {
    ingredients: Vec<GlucocorticoidEntry>,
    #[serde(default)]
    excluded_names: Vec<String>,
    products: Vec<ProductEntry>,
}

#[derive(Debug, Deserialize)]
struct GlucocorticoidEntry {
    ingredient: String,
    rxcui: Option<String>,
    factor: f64,
    names: Vec<String>,
    #[serde(default)]
    unverified: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct OtherSection {
    agents: Vec<OtherEntry>,
}

#[derive(Debug, Deserialize)]
struct OtherEntry {
    ingredient: String,
    rxcui: Option<String>,
    names: Vec<String>,
    therapy: Option<String>,
    co_therapy: Option<String>,
    #[serde(default)]
    oat3_inhibitor: bool,
    /// A latent-TB regimen drug (isoniazid, rifampin, rifapentine: knowledge.md 2).
    #[serde(default)]
    latent_tb_regimen: bool,
    class: Option<String>,
    recent_months: Option<u32>,
}

// ---------------------------------------------------------------------------------------------
// Loaded table
// ---------------------------------------------------------------------------------------------

/// What an ingredient means to the rules. One drug may have several roles (rituximab is a
/// standard therapy and a biologic co-therapy).
#[derive(Debug, Clone, PartialEq)]
pub struct Drug {
    /// Ingredient name, lower case ("baricitinib", "mycophenolate mofetil").
    pub name: String,
    pub agent: Option<Agent>,
    /// Prednisone-equivalence factor (mg of this drug × factor = mg prednisone).
    pub glucocorticoid_factor: Option<f64>,
    pub therapy: Option<Therapy>,
    pub co_therapy: Option<CoTherapyClass>,
    pub oat3_inhibitor: bool,
    /// Part of a latent-TB regimen (isoniazid, rifampin, rifapentine).
    pub latent_tb_regimen: bool,
    /// Interaction or risk class of knowledge.md 2 (v2).
    pub class: Option<DrugClass>,
    /// As a co-therapy: counts while active or when last given within this many months.
    pub recent_months: Option<u32>,
    /// Which of this entry's codes or figures knowledge.md marks UNVERIFIED ("atc", "rxcui", "factor").
    pub unverified: Vec<String>,
}

/// The v2 medication classes of knowledge.md 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DrugClass {
    Cyp3a4StrongInhibitor,
    /// Fluconazole: moderate CYP3A4 and strong CYP2C19 inhibitor.
    Cyp3a4ModerateCyp2c19Strong,
    Cyp3a4StrongInducer,
    /// Combined hormonal contraceptive or estrogen HRT.
    HormonalVte,
    Hydroxychloroquine,
}

impl DrugClass {
    fn parse(s: &str) -> Option<DrugClass> {
        Some(match s.trim() {
            "cyp3a4-strong-inhibitor" => DrugClass::Cyp3a4StrongInhibitor,
            "cyp3a4-moderate-cyp2c19-strong" => DrugClass::Cyp3a4ModerateCyp2c19Strong,
            "cyp3a4-strong-inducer" => DrugClass::Cyp3a4StrongInducer,
            "hormonal-vte" => DrugClass::HormonalVte,
            "hydroxychloroquine" => DrugClass::Hydroxychloroquine,
            _ => return None,
        })
    }
}

/// A product (SCD/SBD) with its strength.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub rxcui: String,
    pub text: String,
    pub strength: Option<Strength>,
    pub unverified: bool,
}

/// Strength of one unit of a product.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Strength {
    /// mg per tablet/capsule/unit.
    PerUnit(f64),
    /// mg per mL (solutions).
    PerMl(f64),
}

impl Strength {
    pub fn per_unit_mg(self) -> Option<f64> {
        match self {
            Strength::PerUnit(mg) => Some(mg),
            Strength::PerMl(_) => None,
        }
    }
}

/// One drug recognised in a medication concept.
#[derive(Debug, Clone)]
pub struct DrugMatch<'a> {
    pub drug: &'a Drug,
    /// "RxNorm 1357541", "ATC L04AF02", "text 'Olumiant'" (written only when shown).
    pub matched_by: MatchedBy<'a>,
    /// The product, when a product code matched.
    pub product: Option<&'a Product>,
}

/// How a drug was recognised: the code or the name that matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedBy<'a> {
    RxNorm(&'a str),
    /// The ATC code as sent (shown upper case).
    Atc(&'a str),
    /// The name's words, as the name index holds them.
    Text(&'a [String]),
}

impl std::fmt::Display for MatchedBy<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MatchedBy::RxNorm(code) => write!(f, "RxNorm {code}"),
            MatchedBy::Atc(code) => write!(f, "ATC {}", code.to_ascii_uppercase()),
            MatchedBy::Text(words) => write!(f, "text '{}'", words.join(" ")),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum CodeTarget {
    Ingredient(usize),
    Product(usize),
}

/// Name lists split into lower-case words, indexed by their first word.
#[derive(Debug, Clone, Default)]
struct NameIndex {
    by_first: HashMap<String, Vec<(Vec<String>, usize)>>,
}

impl NameIndex {
    fn insert(&mut self, name: &str, target: usize) {
        let words = words(name);
        if let Some(first) = words.first().cloned() {
            let list = self.by_first.entry(first).or_default();
            list.push((words, target));
            // Longest names first, so "mycophenolate mofetil" wins over "mycophenolate".
            list.sort_by_key(|(w, _)| std::cmp::Reverse(w.len()));
        }
    }

    /// Every (target, matched name) found in `text`, in text order, without repeats.
    fn find(&self, text: &str) -> Vec<(usize, &[String])> {
        let ws: Vec<Cow<'_, str>> = lower_words(text).collect();
        let mut out: Vec<(usize, &[String])> = Vec::new();
        for i in 0..ws.len() {
            let Some(cands) = self.by_first.get(ws[i].as_ref()) else {
                continue;
            };
            for (name, target) in cands {
                if ws.len() - i >= name.len() && ws[i..i + name.len()] == name[..] {
                    if !out.iter().any(|(t, _)| t == target) {
                        out.push((*target, name.as_slice()));
                    }
                    break;
                }
            }
        }
        out
    }

    fn any(&self, text: &str) -> bool {
        !self.find(text).is_empty()
    }
}

/// Lower-case words of a text: runs of letters, digits and '-' (so "Solu-Medrol" and
/// "intra-articular" stay one word); everything else separates.
pub fn words(text: &str) -> Vec<String> {
    lower_words(text).map(Cow::into_owned).collect()
}

/// The words of [`words`], borrowed from the text when already in lower case (the usual
/// case: no allocation per word on the request path).
fn lower_words(text: &str) -> impl Iterator<Item = Cow<'_, str>> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .map(|w| w.trim_matches('-'))
        .filter(|w| !w.is_empty())
        .map(|w| {
            if w.chars().any(char::is_uppercase) {
                Cow::Owned(w.to_lowercase())
            } else {
                Cow::Borrowed(w)
            }
        })
}

/// A set of one-word terms, found in a text as whole [`words`]. An ASCII text is searched in
/// one pass (Aho-Corasick, ASCII case-insensitive), each hit kept only when it is a whole word
/// (the run of letters, digits and '-' around it, '-' trimmed, is the term); other texts are
/// split into words. Both give the same answer (tested); the pass is ~10x cheaper than the
/// split on the drug texts of every medication record.
#[derive(Debug, Clone, Default)]
struct Terms {
    words: HashSet<String>,
    finder: Option<aho_corasick::AhoCorasick>,
}

impl Terms {
    fn build(&mut self) {
        let mut words: Vec<&String> = self.words.iter().collect();
        words.sort();
        self.finder = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(words)
            .ok();
    }

    fn any_in(&self, text: &str) -> bool {
        match &self.finder {
            Some(finder) if text.is_ascii() => finder
                .find_iter(text)
                .any(|m| is_whole_word(text.as_bytes(), m.start(), m.end())),
            _ => lower_words(text).any(|w| self.words.contains(w.as_ref())),
        }
    }
}

/// True when `text[start..end]` is a whole word of [`words`]: the run of ASCII letters,
/// digits and '-' around it, with its leading and trailing '-' trimmed, is exactly that span.
fn is_whole_word(text: &[u8], start: usize, end: usize) -> bool {
    let in_word = |b: u8| b.is_ascii_alphanumeric() || b == b'-';
    let mut first = start;
    while first > 0 && in_word(text[first - 1]) {
        first -= 1;
    }
    let mut last = end;
    while last < text.len() && in_word(text[last]) {
        last += 1;
    }
    text[first..start].iter().all(|b| *b == b'-') && text[end..last].iter().all(|b| *b == b'-')
}

/// The medication tables.
#[derive(Debug, Clone, Default)]
pub struct DrugTable {
    drugs: Vec<Drug>,
    products: Vec<Product>,
    product_drug: Vec<usize>,
    rxcui: HashMap<String, CodeTarget>,
    atc: HashMap<String, usize>,
    names: NameIndex,
    out_of_scope: NameIndex,
    non_systemic_terms: Terms,
    non_systemic_routes: HashSet<String>,
    medication_orders: HashMap<String, MedicationOrder>,
    lab_orders: HashMap<String, LabOrder>,
}

impl DrugTable {
    pub fn load(files: &KnowledgeFiles) -> Result<DrugTable, KnowledgeError> {
        let text = files.read(FILE)?;
        DrugTable::from_json(&text)
    }

    /// Parse and validate the text of medications.json.
    pub fn from_json(text: &str) -> Result<DrugTable, KnowledgeError> {
        let bad = |reason: String| KnowledgeError::Invalid {
            file: FILE.into(),
            reason,
        };
        let file: MedicationsFile = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        let mut t = DrugTable::default();

        let mut seen_agents = HashSet::new();
        for (i, e) in file.jak_inhibitors.iter().enumerate() {
            let entry = format!("jak_inhibitors[{i}] ({})", e.agent);
            let agent = parse_agent(&e.agent)
                .ok_or_else(|| bad(format!("{entry}: unknown agent name {:?}", e.agent)))?;
            if !seen_agents.insert(agent) {
                return Err(bad(format!("{entry}: agent listed twice")));
            }
            let d = t.add_drug(
                Drug {
                    name: agent.name().to_string(),
                    agent: Some(agent),
                    glucocorticoid_factor: None,
                    therapy: None,
                    co_therapy: Some(CoTherapyClass::JakInhibitor),
                    oat3_inhibitor: false,
                    latent_tb_regimen: false,
                    class: None,
                    recent_months: None,
                    unverified: e.unverified.clone(),
                },
                &e.names,
                &entry,
            )?;
            if let Some(code) = &e.ingredient_rxcui {
                t.add_rxcui(code, CodeTarget::Ingredient(d), &entry)?;
            }
            for code in &e.atc {
                t.add_atc(code, d, &entry)?;
            }
            for (j, p) in e.products.iter().enumerate() {
                let pentry = format!("{entry}.products[{j}] ({})", p.rxcui);
                if p.ingredient.is_some() {
                    return Err(bad(format!(
                        "{pentry}: JAK products take their entry's agent"
                    )));
                }
                t.add_product(p, d, &pentry)?;
            }
        }
        for agent in Agent::ALL {
            if !seen_agents.contains(&agent) {
                return Err(bad(format!(
                    "jak_inhibitors: agent {:?} is missing",
                    agent.name()
                )));
            }
        }

        for (i, e) in file.glucocorticoids.ingredients.iter().enumerate() {
            let entry = format!("glucocorticoids.ingredients[{i}] ({})", e.ingredient);
            if !(e.factor.is_finite() && e.factor > 0.0) {
                return Err(bad(format!(
                    "{entry}: factor must be greater than zero, got {}",
                    e.factor
                )));
            }
            let d = t.add_drug(
                Drug {
                    name: e.ingredient.to_lowercase(),
                    agent: None,
                    glucocorticoid_factor: Some(e.factor),
                    therapy: None,
                    co_therapy: None,
                    oat3_inhibitor: false,
                    latent_tb_regimen: false,
                    class: None,
                    recent_months: None,
                    unverified: e.unverified.clone(),
                },
                &e.names,
                &entry,
            )?;
            if let Some(code) = &e.rxcui {
                t.add_rxcui(code, CodeTarget::Ingredient(d), &entry)?;
            }
        }
        for name in &file.glucocorticoids.excluded_names {
            if !t.names.find(name).is_empty() {
                return Err(bad(format!(
                    "glucocorticoids.excluded_names: {name:?} is also listed as an ingredient"
                )));
            }
        }
        for (j, p) in file.glucocorticoids.products.iter().enumerate() {
            let pentry = format!("glucocorticoids.products[{j}] ({})", p.rxcui);
            let ing = p
                .ingredient
                .as_deref()
                .ok_or_else(|| bad(format!("{pentry}: ingredient is required")))?;
            let d = t
                .drugs
                .iter()
                .position(|d| d.glucocorticoid_factor.is_some() && d.name == ing.to_lowercase())
                .ok_or_else(|| bad(format!("{pentry}: unknown ingredient {ing:?}")))?;
            t.add_product(p, d, &pentry)?;
        }

        for (i, e) in file.other_agents.agents.iter().enumerate() {
            let entry = format!("other_agents.agents[{i}] ({})", e.ingredient);
            let therapy = match e.therapy.as_deref() {
                None => None,
                Some(s) => Some(
                    parse_therapy(s)
                        .ok_or_else(|| bad(format!("{entry}: unknown therapy {s:?}")))?,
                ),
            };
            let co_therapy = match e.co_therapy.as_deref() {
                None => None,
                Some(s) => Some(
                    parse_co_therapy(s)
                        .ok_or_else(|| bad(format!("{entry}: unknown co_therapy class {s:?}")))?,
                ),
            };
            let class = match e.class.as_deref() {
                None => None,
                Some(s) => Some(
                    DrugClass::parse(s)
                        .ok_or_else(|| bad(format!("{entry}: unknown class {s:?}")))?,
                ),
            };
            if therapy.is_none()
                && co_therapy.is_none()
                && !e.oat3_inhibitor
                && !e.latent_tb_regimen
                && class.is_none()
            {
                return Err(bad(format!(
                    "{entry}: has no role (therapy, co_therapy, oat3_inhibitor, latent_tb_regimen or class)"
                )));
            }
            let d = t.add_drug(
                Drug {
                    name: e.ingredient.to_lowercase(),
                    agent: None,
                    glucocorticoid_factor: None,
                    therapy,
                    co_therapy,
                    oat3_inhibitor: e.oat3_inhibitor,
                    latent_tb_regimen: e.latent_tb_regimen,
                    class,
                    recent_months: e.recent_months,
                    unverified: Vec::new(),
                },
                &e.names,
                &entry,
            )?;
            if let Some(code) = &e.rxcui {
                t.add_rxcui(code, CodeTarget::Ingredient(d), &entry)?;
            }
        }

        if file.out_of_scope.names.is_empty() {
            return Err(bad("out_of_scope.names: empty".into()));
        }
        for (i, n) in file.out_of_scope.names.iter().enumerate() {
            if words(n).is_empty() {
                return Err(bad(format!("out_of_scope.names[{i}]: empty name")));
            }
            t.out_of_scope.insert(n, 0);
        }
        for (i, term) in file.non_systemic.terms.iter().enumerate() {
            let w = words(term);
            if w.len() != 1 {
                return Err(bad(format!(
                    "non_systemic.terms[{i}]: {term:?} must be exactly one word"
                )));
            }
            t.non_systemic_terms.words.extend(w);
        }
        for (key, o) in &file.orders.medications {
            if o.rxnorm.trim().is_empty() || !o.rxnorm.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad(format!(
                    "orders.medications.{key}: RxNorm code required"
                )));
            }
        }
        t.non_systemic_terms.build();
        t.medication_orders = file.orders.medications.clone();
        t.lab_orders = file.orders.labs.clone();
        t.non_systemic_routes = file
            .non_systemic
            .route_codes
            .iter()
            .map(|c| c.trim().to_string())
            .collect();
        Ok(t)
    }

    fn add_drug(
        &mut self,
        drug: Drug,
        names: &[String],
        entry: &str,
    ) -> Result<usize, KnowledgeError> {
        let bad = |reason: String| KnowledgeError::Invalid {
            file: FILE.into(),
            reason,
        };
        if names.is_empty() {
            return Err(bad(format!("{entry}: names is empty")));
        }
        let idx = self.drugs.len();
        for name in names {
            if words(name).is_empty() {
                return Err(bad(format!("{entry}: empty name")));
            }
            if let Some((other, _)) = self
                .names
                .find(name)
                .into_iter()
                .find(|(d, n)| *n == words(name).as_slice() && *d != idx)
            {
                return Err(bad(format!(
                    "{entry}: name {name:?} already names {:?}",
                    self.drugs[other].name
                )));
            }
            self.names.insert(name, idx);
        }
        self.drugs.push(drug);
        Ok(idx)
    }

    fn add_rxcui(
        &mut self,
        code: &str,
        target: CodeTarget,
        entry: &str,
    ) -> Result<(), KnowledgeError> {
        let code = code.trim();
        if code.is_empty() || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(KnowledgeError::Invalid {
                file: FILE.into(),
                reason: format!("{entry}: RxCUI {code:?} is not a number"),
            });
        }
        if self.rxcui.insert(code.to_string(), target).is_some() {
            return Err(KnowledgeError::Invalid {
                file: FILE.into(),
                reason: format!("{entry}: RxCUI {code} is listed twice"),
            });
        }
        Ok(())
    }

    fn add_atc(&mut self, code: &str, drug: usize, entry: &str) -> Result<(), KnowledgeError> {
        let code = code.trim().to_ascii_uppercase();
        if code.len() != 7 {
            return Err(KnowledgeError::Invalid {
                file: FILE.into(),
                reason: format!("{entry}: ATC {code:?} is not a 7-character substance code"),
            });
        }
        if let Some(prev) = self.atc.insert(code.clone(), drug) {
            if prev != drug {
                return Err(KnowledgeError::Invalid {
                    file: FILE.into(),
                    reason: format!("{entry}: ATC {code} is listed twice"),
                });
            }
        }
        Ok(())
    }

    fn add_product(
        &mut self,
        p: &ProductEntry,
        drug: usize,
        entry: &str,
    ) -> Result<(), KnowledgeError> {
        let bad = |reason: String| KnowledgeError::Invalid {
            file: FILE.into(),
            reason,
        };
        let strength = match (p.strength_mg, p.mg_per_ml) {
            (Some(mg), None) => Strength::PerUnit(mg),
            (None, Some(mg)) => Strength::PerMl(mg),
            (None, None) => {
                return Err(bad(format!(
                    "{entry}: strength_mg or mg_per_ml is required"
                )))
            }
            (Some(_), Some(_)) => {
                return Err(bad(format!(
                    "{entry}: give strength_mg or mg_per_ml, not both"
                )))
            }
        };
        let mg = match strength {
            Strength::PerUnit(v) | Strength::PerMl(v) => v,
        };
        if !(mg.is_finite() && mg > 0.0) {
            return Err(bad(format!(
                "{entry}: strength must be greater than zero, got {mg}"
            )));
        }
        // The product text must name the drug it is filed under.
        let named = self.names.find(&p.text);
        if !named.iter().any(|(d, _)| *d == drug) {
            return Err(bad(format!(
                "{entry}: text {:?} does not name {:?}",
                p.text, self.drugs[drug].name
            )));
        }
        let idx = self.products.len();
        self.products.push(Product {
            rxcui: p.rxcui.trim().to_string(),
            text: p.text.clone(),
            strength: Some(strength),
            unverified: p.unverified,
        });
        self.product_drug.push(drug);
        self.add_rxcui(&p.rxcui, CodeTarget::Product(idx), entry)
    }

    /// A coded medication order the cards may propose ("rituximab", "baricitinib", ...).
    pub fn medication_order(&self, key: &str) -> Option<&MedicationOrder> {
        self.medication_orders.get(key)
    }

    /// A coded lab order ("creatinine", "hbsag", "anti_hbc", "hcv_antibody", "lipids").
    pub fn lab_order(&self, key: &str) -> Option<&LabOrder> {
        self.lab_orders.get(key)
    }

    /// The product of `agent` with this strength per unit, when the table has one (the first
    /// listed, the generic immediate-release tablet).
    pub fn product_of(&self, agent: Agent, mg: f64) -> Option<&Product> {
        self.products.iter().enumerate().find_map(|(i, p)| {
            let d = &self.drugs[self.product_drug[i]];
            (d.agent == Some(agent)
                && p.strength.and_then(Strength::per_unit_mg) == Some(mg)
                && !p.text.contains("Extended")
                && !p.text.contains('['))
            .then_some(p)
        })
    }

    /// The RxNorm ingredient code of a JAK/TYK2 agent, when listed.
    pub fn ingredient_rxcui(&self, agent: Agent) -> Option<&str> {
        let d = self.drugs.iter().position(|d| d.agent == Some(agent))?;
        self.rxcui.iter().find_map(|(code, t)| match t {
            CodeTarget::Ingredient(i) if *i == d => Some(code.as_str()),
            _ => None,
        })
    }

    /// All drugs in the table.
    pub fn drugs(&self) -> &[Drug] {
        &self.drugs
    }

    /// The drug (and product, for a product code) of an RxNorm code.
    pub fn by_rxcui<'a>(&'a self, code: &'a str) -> Option<DrugMatch<'a>> {
        let code = code.trim();
        match self.rxcui.get(code)? {
            CodeTarget::Ingredient(d) => Some(DrugMatch {
                drug: &self.drugs[*d],
                matched_by: MatchedBy::RxNorm(code),
                product: None,
            }),
            CodeTarget::Product(p) => Some(DrugMatch {
                drug: &self.drugs[self.product_drug[*p]],
                matched_by: MatchedBy::RxNorm(code),
                product: Some(&self.products[*p]),
            }),
        }
    }

    /// The drug of an ATC code.
    pub fn by_atc<'a>(&'a self, code: &'a str) -> Option<DrugMatch<'a>> {
        let code = code.trim();
        let d = *self.atc.get(&code.to_ascii_uppercase())?;
        Some(DrugMatch {
            drug: &self.drugs[d],
            matched_by: MatchedBy::Atc(code),
            product: None,
        })
    }

    /// Every drug named in a free text, in text order.
    pub fn in_text(&self, text: &str) -> Vec<DrugMatch<'_>> {
        self.names
            .find(text)
            .into_iter()
            .map(|(d, name)| DrugMatch {
                drug: &self.drugs[d],
                matched_by: MatchedBy::Text(name),
                product: None,
            })
            .collect()
    }

    /// The drugs of a medication concept: by RxNorm/ATC codes when any code is known, else by
    /// the names in its text and displays.
    pub fn identify<'a>(&'a self, concept: &'a CodeableConcept) -> Vec<DrugMatch<'a>> {
        let mut out: Vec<DrugMatch<'_>> = Vec::new();
        for c in &concept.coding {
            let (Some(system), Some(code)) = (c.system.as_deref(), c.code.as_deref()) else {
                continue;
            };
            let m = match canonical_system(system) {
                Some(RXNORM) => self.by_rxcui(code),
                Some(ATC) => self.by_atc(code),
                _ => None,
            };
            if let Some(m) = m {
                push_match(&mut out, m);
            }
        }
        if !out.is_empty() {
            return out;
        }
        for text in concept_texts(concept) {
            for m in self.in_text(text) {
                push_match(&mut out, m);
            }
        }
        out
    }

    /// True when a text names a product that is out of scope (topical JAK inhibitors).
    pub fn names_out_of_scope(&self, text: &str) -> bool {
        self.out_of_scope.any(text)
    }

    /// True when a text (product name, form or route) says the product acts locally.
    pub fn is_non_systemic_text(&self, text: &str) -> bool {
        self.non_systemic_terms.any_in(text)
    }

    /// True when a route or form concept is local (by SNOMED code or by its words).
    pub fn is_non_systemic_concept(&self, concept: &CodeableConcept) -> bool {
        concept.coding.iter().any(|c| {
            c.code
                .as_deref()
                .is_some_and(|code| self.non_systemic_routes.contains(code.trim()))
        }) || concept_texts(concept).any(|t| self.is_non_systemic_text(t))
    }
}

/// Add a match unless its drug is already there (a product match replaces an ingredient one).
fn push_match<'a>(out: &mut Vec<DrugMatch<'a>>, m: DrugMatch<'a>) {
    if let Some(prev) = out.iter_mut().find(|x| std::ptr::eq(x.drug, m.drug)) {
        if prev.product.is_none() && m.product.is_some() {
            *prev = m;
        }
    } else {
        out.push(m);
    }
}

/// The text and the displays of a concept.
pub fn concept_texts(concept: &CodeableConcept) -> impl Iterator<Item = &str> {
    concept
        .text
        .as_deref()
        .into_iter()
        .chain(concept.coding.iter().filter_map(|c| c.display.as_deref()))
}

fn parse_agent(s: &str) -> Option<Agent> {
    Agent::ALL
        .iter()
        .copied()
        .find(|a| a.name().eq_ignore_ascii_case(s.trim()))
}

fn parse_therapy(s: &str) -> Option<Therapy> {
    [
        Therapy::Rituximab,
        Therapy::Mycophenolate,
        Therapy::Belimumab,
        Therapy::Anifrolumab,
        Therapy::Cyclophosphamide,
    ]
    .into_iter()
    .find(|t| t.name().eq_ignore_ascii_case(s.trim()))
}

fn parse_co_therapy(s: &str) -> Option<CoTherapyClass> {
    match s.trim() {
        "jak-inhibitor" => Some(CoTherapyClass::JakInhibitor),
        "biologic" => Some(CoTherapyClass::Biologic),
        "potent-immunosuppressant" => Some(CoTherapyClass::PotentImmunosuppressant),
        _ => None,
    }
}

/// The first strength in mg in a text: "baricitinib 2 MG Oral Tablet" → 2 mg per unit,
/// "prednisone 5 MG/ML Oral Solution" → 5 mg/mL, "Olumiant 4mg" → 4 mg. Numbers followed by
/// anything but mg (pack counts, "24HR") are skipped; "MG/MG" and other ratios give `None`
/// for that number.
pub fn parse_strength(text: &str) -> Option<Strength> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let starts_number = b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_alphanumeric());
        if !starts_number {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
            i += 1;
        }
        let number = text[start..i].trim_end_matches('.');
        let mut j = i;
        while j < b.len() && b[j] == b' ' {
            j += 1;
        }
        let is_mg = j + 2 <= b.len()
            && b[j..j + 2].eq_ignore_ascii_case(b"mg")
            && (j + 2 == b.len() || !b[j + 2].is_ascii_alphanumeric());
        if !is_mg {
            continue;
        }
        let Ok(value) = number.parse::<f64>() else {
            continue;
        };
        if !(value.is_finite() && value > 0.0) {
            continue;
        }
        let rest = text[j + 2..].trim_start();
        if let Some(after) = rest.strip_prefix('/') {
            let unit = words(after).into_iter().next().unwrap_or_default();
            if unit == "ml" {
                return Some(Strength::PerMl(value));
            }
            i = j + 2;
            continue;
        }
        return Some(Strength::PerUnit(value));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> DrugTable {
        DrugTable::load(&KnowledgeFiles::Embedded).expect("embedded medications.json loads")
    }

    fn concept(json: &str) -> CodeableConcept {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn local_terms_are_found_as_whole_words_as_the_word_split_finds_them() {
        let t = table();
        let terms = &t.non_systemic_terms;
        let by_words = |text: &str| lower_words(text).any(|w| terms.words.contains(w.as_ref()));
        let mut cases = 0;
        for text in [
            "Hydrocortisone 1 % Topical Cream",
            "prednisone 5 MG Oral Tablet",
            "EYE DROPS",
            "eyedrops",
            "Solu-Medrol -cream- gel,foam",
            "gelatin capsule",
            "ear-gel",
            "Intra-articular injection",
            "intraarticular",
            "intranasal spray",
            "Nasal",
            "x-ear",
            "--ear--",
            "cream",
            "",
            "Oral route",
            "Crème topique",
            "Betamethasone dipropionate 0.05 % Topical Ointment;OPHTHALMIC",
        ] {
            assert_eq!(terms.any_in(text), by_words(text), "{text:?}");
            cases += usize::from(by_words(text));
        }
        assert!(cases >= 8, "too few local texts in the cases: {cases}");
    }

    #[test]
    fn words_are_the_lower_case_runs_of_letters_digits_and_hyphens() {
        // The reference: a char split, each run trimmed of '-' and lower-cased.
        let reference = |t: &str| -> Vec<String> {
            t.split(|c: char| !(c.is_alphanumeric() || c == '-'))
                .map(|w| w.trim_matches('-'))
                .filter(|w| !w.is_empty())
                .map(str::to_lowercase)
                .collect()
        };
        for t in [
            "Solu-Medrol 40 MG/mL Injectable Solution",
            "intra-articular  -- Eye drops, 0.5%",
            "ÉPHÉDRINE crème 1 %; Çà",
            "",
            "--",
            "a,b;c",
            "ONE-very-LONG-word-that-does-not-fit-the-inline-buffer-at-all",
            "Straße Œstradiol",
            "x\u{2014}y",
        ] {
            assert_eq!(words(t), reference(t), "{t:?}");
        }
    }

    #[test]
    fn strength_is_read_from_text() {
        assert_eq!(
            parse_strength("baricitinib 2 MG Oral Tablet"),
            Some(Strength::PerUnit(2.0))
        );
        assert_eq!(parse_strength("Olumiant 4mg"), Some(Strength::PerUnit(4.0)));
        assert_eq!(
            parse_strength("{21 (prednisolone 5 MG Oral Tablet) } Pack"),
            Some(Strength::PerUnit(5.0))
        );
        assert_eq!(
            parse_strength("tofacitinib 11 MG 24HR Extended Release Oral Tablet"),
            Some(Strength::PerUnit(11.0))
        );
        assert_eq!(
            parse_strength("prednisone 5 MG/ML Oral Solution"),
            Some(Strength::PerMl(5.0))
        );
        assert_eq!(
            parse_strength("prednisone 2.5 MG"),
            Some(Strength::PerUnit(2.5))
        );
        assert_eq!(parse_strength("triamcinolone 0.001 MG/MG Oral Paste"), None);
        assert_eq!(parse_strength("baricitinib tablet"), None);
        assert_eq!(parse_strength("B12 MG"), None);
    }

    #[test]
    fn sandbox_product_code_gives_tofacitinib_5_mg() {
        let t = table();
        let m = t.by_rxcui("1357541").unwrap();
        assert_eq!(m.drug.agent, Some(Agent::Tofacitinib));
        assert_eq!(
            m.product.and_then(|p| p.strength),
            Some(Strength::PerUnit(5.0))
        );
        assert_eq!(m.matched_by.to_string(), "RxNorm 1357541");
    }

    #[test]
    fn ingredient_atc_and_text_lookups() {
        let t = table();
        assert_eq!(
            t.by_rxcui("2047232").unwrap().drug.agent,
            Some(Agent::Baricitinib)
        );
        assert_eq!(
            t.by_atc("l04af07").unwrap().drug.agent,
            Some(Agent::Deucravacitinib)
        );
        let found = t.in_text("OLUMIANT 4 mg tablets");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].drug.agent, Some(Agent::Baricitinib));
        // Word boundaries: no match inside another word.
        assert!(t
            .in_text("hydrocortisone 10 MG")
            .iter()
            .all(|m| m.drug.name != "cortisone"));
        assert!(t.in_text("xbaricitinib").is_empty());
        let mmf = t.in_text("Mycophenolate Mofetil 500 MG");
        assert_eq!(mmf[0].drug.name, "mycophenolate mofetil");
        assert_eq!(mmf[0].drug.therapy, Some(Therapy::Mycophenolate));
        assert!(
            t.in_text("colchicine 0.5 MG / probenecid 500 MG")[0]
                .drug
                .oat3_inhibitor
        );
    }

    #[test]
    fn identify_prefers_codes_over_text() {
        let t = table();
        let c = concept(
            r#"{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"1193339"}],"text":"baricitinib"}"#,
        );
        let m = t.identify(&c);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].drug.agent, Some(Agent::Ruxolitinib));
        let c = concept(
            r#"{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"999"}],"text":"Rinvoq 15 mg"}"#,
        );
        assert_eq!(t.identify(&c)[0].drug.agent, Some(Agent::Upadacitinib));
    }

    #[test]
    fn glucocorticoid_products_and_factors() {
        let t = table();
        let m = t.by_rxcui("312617").unwrap();
        assert_eq!(m.drug.name, "prednisone");
        assert_eq!(m.drug.glucocorticoid_factor, Some(1.0));
        assert_eq!(m.product.unwrap().strength, Some(Strength::PerUnit(5.0)));
        let pack = t.by_rxcui("1013114").unwrap();
        assert_eq!(pack.drug.name, "prednisolone");
        assert_eq!(pack.product.unwrap().strength, Some(Strength::PerUnit(5.0)));
        assert_eq!(
            t.by_rxcui("6902").unwrap().drug.glucocorticoid_factor,
            Some(1.25)
        );
        assert!(t.in_text("budesonide 9 MG").is_empty());
    }

    #[test]
    fn non_systemic_and_out_of_scope_markers() {
        let t = table();
        assert!(t.names_out_of_scope("Opzelura 1.5 % Topical Cream"));
        assert!(t.is_non_systemic_text("ruxolitinib 15 MG/GM Topical Cream"));
        assert!(!t.is_non_systemic_text("methotrexate 25 MG/ML Subcutaneous Solution"));
        assert!(!t.is_non_systemic_text("tofacitinib 11 MG 24HR Extended Release Oral Tablet"));
        assert!(t.is_non_systemic_concept(&concept(
            r#"{"coding":[{"system":"http://snomed.info/sct","code":"6064005"}]}"#
        )));
    }

    // ---- validation: one test per error --------------------------------------------------

    fn embedded_json() -> serde_json::Value {
        let text = KnowledgeFiles::Embedded.read(FILE).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn load_err(v: serde_json::Value) -> String {
        DrugTable::from_json(&v.to_string())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn factor_zero_is_rejected() {
        let mut v = embedded_json();
        v["glucocorticoids"]["ingredients"][0]["factor"] = 0.0.into();
        let e = load_err(v);
        assert!(
            e.contains("medications.json") && e.contains("prednisone") && e.contains("factor"),
            "{e}"
        );
    }

    #[test]
    fn unknown_agent_is_rejected() {
        let mut v = embedded_json();
        v["jak_inhibitors"][0]["agent"] = "baricitinob".into();
        let e = load_err(v);
        assert!(
            e.contains("unknown agent name") && e.contains("baricitinob"),
            "{e}"
        );
    }

    #[test]
    fn missing_agent_is_rejected() {
        let mut v = embedded_json();
        v["jak_inhibitors"].as_array_mut().unwrap().pop();
        let e = load_err(v);
        assert!(
            e.contains("deucravacitinib") && e.contains("missing"),
            "{e}"
        );
    }

    #[test]
    fn duplicate_rxcui_is_rejected() {
        let mut v = embedded_json();
        v["other_agents"]["agents"][0]["rxcui"] = "8640".into();
        let e = load_err(v);
        assert!(
            e.contains("RxCUI 8640 is listed twice") && e.contains("rituximab"),
            "{e}"
        );
    }

    #[test]
    fn duplicate_atc_with_other_meaning_is_rejected() {
        let mut v = embedded_json();
        v["jak_inhibitors"][1]["atc"] = serde_json::json!(["L04AF02"]);
        let e = load_err(v);
        assert!(e.contains("ATC L04AF02 is listed twice"), "{e}");
    }

    #[test]
    fn name_naming_two_drugs_is_rejected() {
        let mut v = embedded_json();
        v["other_agents"]["agents"][2]["names"] = serde_json::json!(["mycophenolate mofetil"]);
        let e = load_err(v);
        assert!(e.contains("already names"), "{e}");
    }

    #[test]
    fn product_strength_must_be_positive() {
        let mut v = embedded_json();
        v["jak_inhibitors"][1]["products"][0]["strength_mg"] = (-5.0).into();
        let e = load_err(v);
        assert!(
            e.contains("1357541") && e.contains("greater than zero"),
            "{e}"
        );
    }

    #[test]
    fn product_with_unknown_ingredient_is_rejected() {
        let mut v = embedded_json();
        v["glucocorticoids"]["products"][0]["ingredient"] = "budesonide".into();
        let e = load_err(v);
        assert!(e.contains("unknown ingredient"), "{e}");
    }

    #[test]
    fn product_text_must_name_its_drug() {
        let mut v = embedded_json();
        v["jak_inhibitors"][1]["products"][0]["text"] = "ruxolitinib 5 MG Oral Tablet".into();
        let e = load_err(v);
        assert!(e.contains("does not name"), "{e}");
    }

    #[test]
    fn empty_names_are_rejected() {
        let mut v = embedded_json();
        v["other_agents"]["agents"][0]["names"] = serde_json::json!([]);
        let e = load_err(v);
        assert!(e.contains("names is empty"), "{e}");
    }

    #[test]
    fn unknown_therapy_and_roleless_agents_are_rejected() {
        let mut v = embedded_json();
        v["other_agents"]["agents"][0]["therapy"] = "rituximob".into();
        assert!(load_err(v).contains("unknown therapy"));
        let mut v = embedded_json();
        let a = &mut v["other_agents"]["agents"][7];
        a["co_therapy"] = serde_json::Value::Null;
        assert!(load_err(v).contains("has no role"));
    }

    #[test]
    fn non_numeric_rxcui_is_rejected() {
        let mut v = embedded_json();
        v["jak_inhibitors"][0]["ingredient_rxcui"] = "20472x".into();
        assert!(load_err(v).contains("not a number"));
    }
}
