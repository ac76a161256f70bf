//! Value sets (hooks/valuesets/*.json, FHIR ValueSet with expansion.contains) and code matching.
//!
//! All value sets are merged into one index `(system, code) → value sets`, so testing a coding
//! against every set costs one hash lookup. A value set may also name ICD-10-CM categories
//! as `compose.include` filters `concept is-a <code>` (the code and every descendant; in
//! ICD-10-CM a descendant's code starts with its ancestor's) and `compose.exclude` filters or
//! concepts; those are matched by code prefix, a few more lookups per ICD-10-CM code. Systems are normalised for known aliases
//! (`urn:oid:…`, `https://`, a trailing slash, letter case); ICD-10-CM codes are compared
//! without the dot and in upper case ("m3214" = "M32.14"). Codings without a system never match.

use foldhash::{HashMap, HashSet, HashSetExt};
use std::borrow::Cow;

use serde::Deserialize;

use super::{KnowledgeError, KnowledgeFiles};

pub const SNOMED: &str = "http://snomed.info/sct";
pub const ICD10CM: &str = "http://hl7.org/fhir/sid/icd-10-cm";
pub const LOINC: &str = "http://loinc.org";
pub const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
pub const ATC: &str = "http://www.whocc.no/atc";
pub const CVX: &str = "http://hl7.org/fhir/sid/cvx";
pub const UCUM: &str = "http://unitsofmeasure.org";
/// The project's own code system (SLEDAI-2K, prednisone-equivalent dose).
pub const SLE_ASSESSMENT: &str = "https://jak-sle-cds.github.io/fhir/CodeSystem/sle-assessment";
/// Canonical base of the project's value sets.
pub const VALUESET_BASE: &str = "https://jak-sle-cds.github.io/fhir/ValueSet/";

/// Value sets the facts read: start-up fails when one is missing.
pub const REQUIRED: &[&str] = &[
    // version 2 (knowledge.md sections 2, 3b, 3c, 3d)
    "serious-infection-acute",
    "serious-infection-chronic",
    "antiphospholipid",
    "arterial-thrombosis",
    "lactation",
    "hepatitis-b",
    "hepatitis-c",
    "hepatic-failure",
    "cirrhosis",
    "hepatic-decompensation",
    "smoking-condition",
    "smoking-status",
    "ascvd",
    "malignancy",
    "myocardial-infarction",
    "stroke",
    "diverticular",
    "live-vaccine",
    "pregnancy-status",
    "hcg",
    "breastfeeding-status",
    "smoking-status-code",
    "hbsag",
    "anti-hbc",
    "hcv-antibody",
    "hbv-dna",
    "hcv-rna",
    "lipids",
    // version 1
    "sle",
    "lupus-nephritis",
    "cns-lupus",
    "msk-cutaneous",
    "vte",
    "active-tb",
    "latent-tb",
    "latent-tb-treated",
    "herpes-zoster",
    "pregnancy",
    "egfr",
    "upcr",
    "alc",
    "anc",
    "hb",
    "igra",
    "tst",
    "sledai-2k",
    "prednisone-equivalent-dose",
    "zoster-vaccine",
];

/// Canonical system URI and the aliases accepted for it (compared case-insensitively, after
/// removing a trailing slash).
const ALIASES: &[(&str, &[&str])] = &[
    (
        SNOMED,
        &[
            "http://snomed.info/sct",
            "https://snomed.info/sct",
            "urn:oid:2.16.840.1.113883.6.96",
            "snomed",
            "snomedct",
            "snomed-ct",
        ],
    ),
    (
        ICD10CM,
        &[
            "http://hl7.org/fhir/sid/icd-10-cm",
            "https://hl7.org/fhir/sid/icd-10-cm",
            "urn:oid:2.16.840.1.113883.6.90",
            "icd-10-cm",
            "icd10cm",
        ],
    ),
    (
        LOINC,
        &[
            "http://loinc.org",
            "https://loinc.org",
            "urn:oid:2.16.840.1.113883.6.1",
            "loinc",
        ],
    ),
    (
        RXNORM,
        &[
            "http://www.nlm.nih.gov/research/umls/rxnorm",
            "https://www.nlm.nih.gov/research/umls/rxnorm",
            "urn:oid:2.16.840.1.113883.6.88",
            "rxnorm",
        ],
    ),
    (
        ATC,
        &[
            "http://www.whocc.no/atc",
            "https://www.whocc.no/atc",
            "urn:oid:2.16.840.1.113883.6.73",
            "atc",
        ],
    ),
    (
        CVX,
        &[
            "http://hl7.org/fhir/sid/cvx",
            "https://hl7.org/fhir/sid/cvx",
            "urn:oid:2.16.840.1.113883.12.292",
            "cvx",
        ],
    ),
    (SLE_ASSESSMENT, &[SLE_ASSESSMENT]),
];

/// The canonical URI of a known code system, or `None` for a system this service does not know.
pub fn canonical_system(system: &str) -> Option<&'static str> {
    // Fast path: the canonical URI as sent.
    if let Some((canon, _)) = ALIASES.iter().find(|(c, _)| *c == system) {
        return Some(canon);
    }
    let s = system.trim().trim_end_matches('/');
    ALIASES.iter().find_map(|(canon, aliases)| {
        aliases
            .iter()
            .any(|a| a.eq_ignore_ascii_case(s))
            .then_some(*canon)
    })
}

/// The prefixes of a normalised ICD-10-CM code that can be `is-a` roots, shortest first
/// ("I7401" → "I74", "I740", "I7401").
fn prefixes(code: &str) -> impl Iterator<Item = &str> {
    (MIN_ROOT..=code.len()).filter_map(|k| code.get(..k))
}

/// Longest code kept in the stack buffer used for ICD normalisation.
const MAX_CODE: usize = 24;

/// The comparable form of a code: ICD-10-CM without dots and upper case, others trimmed.
/// Writes into `buf` to avoid an allocation per lookup; `None` when the code is too long or
/// empty.
fn normalise<'b>(system: &str, code: &'b str, buf: &'b mut [u8; MAX_CODE]) -> Option<&'b str> {
    let code = code.trim();
    if code.is_empty() {
        return None;
    }
    if system != ICD10CM {
        return Some(code);
    }
    let mut n = 0;
    for b in code.bytes().filter(|b| *b != b'.') {
        if n == MAX_CODE {
            return None;
        }
        buf[n] = b.to_ascii_uppercase();
        n += 1;
    }
    std::str::from_utf8(&buf[..n]).ok()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ValueSetFile {
    resource_type: String,
    id: String,
    url: String,
    #[serde(default)]
    compose: Compose,
    expansion: Expansion,
}

/// The part of `ValueSet.compose` this service reads: ICD-10-CM `is-a` filters (include and
/// exclude) and excluded concepts. Enumerated members belong in `expansion.contains`.
#[derive(Debug, Default, Deserialize)]
struct Compose {
    #[serde(default)]
    include: Vec<ComposeSet>,
    #[serde(default)]
    exclude: Vec<ComposeSet>,
}

#[derive(Debug, Deserialize)]
struct ComposeSet {
    system: Option<String>,
    #[serde(default)]
    concept: Vec<ComposeConcept>,
    #[serde(default)]
    filter: Vec<ComposeFilter>,
}

#[derive(Debug, Deserialize)]
struct ComposeConcept {
    code: String,
}

#[derive(Debug, Deserialize)]
struct ComposeFilter {
    property: String,
    op: String,
    value: String,
}

#[derive(Debug, Deserialize)]
struct Expansion {
    #[serde(default)]
    contains: Vec<ContainsEntry>,
}

#[derive(Debug, Deserialize)]
struct ContainsEntry {
    system: Option<String>,
    code: Option<String>,
    display: Option<String>,
}

/// One value set member, for displays and tests.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub system: &'static str,
    pub code: String,
    pub display: String,
}

/// All value sets, indexed by code.
#[derive(Debug, Clone, Default)]
pub struct Terminology {
    /// Value set ids, in load order; positions are the indices used in `index`.
    ids: Vec<String>,
    /// id → position in `ids`.
    positions: HashMap<String, usize>,
    /// canonical system → normalised code → value set positions.
    index: HashMap<&'static str, HashMap<String, Vec<usize>>>,
    /// Members per value set, in file order.
    members: Vec<Vec<Member>>,
    /// Normalised ICD-10-CM `is-a` root → value set positions including it with descendants.
    roots: HashMap<String, Vec<usize>>,
    /// Normalised ICD-10-CM `is-a` root → value set positions excluding it with descendants.
    excluded_roots: HashMap<String, Vec<usize>>,
    /// Normalised ICD-10-CM code → value set positions excluding exactly that code.
    excluded_codes: HashMap<String, Vec<usize>>,
}

/// Shortest ICD-10-CM `is-a` root: a three-character category.
const MIN_ROOT: usize = 3;

/// Where a compose entry sits, for error messages.
fn compose_entry(kind: &str, i: usize) -> String {
    format!("compose.{kind}[{i}]")
}

impl Terminology {
    /// Load every `valuesets/*.json` and check that the value sets the facts need exist.
    pub fn load(files: &KnowledgeFiles) -> Result<Terminology, KnowledgeError> {
        let mut texts = Vec::new();
        for name in files.list("valuesets")? {
            if name.ends_with(".json") {
                let text = files.read(&name)?;
                texts.push((name, text.into_owned()));
            }
        }
        let t = Terminology::from_texts(&texts)?;
        t.require(REQUIRED)?;
        Ok(t)
    }

    /// Build from `(file name, JSON text)` pairs, validating each file.
    pub fn from_texts(texts: &[(String, String)]) -> Result<Terminology, KnowledgeError> {
        let mut t = Terminology::default();
        for (file, text) in texts {
            let bad = |reason: String| KnowledgeError::Invalid {
                file: file.clone(),
                reason,
            };
            let vs: ValueSetFile =
                serde_json::from_str(text).map_err(|e| bad(format!("not a ValueSet: {e}")))?;
            if vs.resource_type != "ValueSet" {
                return Err(bad(format!(
                    "resourceType is {:?}, expected \"ValueSet\"",
                    vs.resource_type
                )));
            }
            let stem = file
                .rsplit('/')
                .next()
                .unwrap_or(file)
                .trim_end_matches(".json");
            if vs.id != stem {
                return Err(bad(format!(
                    "id {:?} does not match the file name {stem:?}",
                    vs.id
                )));
            }
            if vs.url != format!("{VALUESET_BASE}{}", vs.id) {
                return Err(bad(format!(
                    "url {:?} is not {VALUESET_BASE}{}",
                    vs.url, vs.id
                )));
            }
            if t.ids.contains(&vs.id) {
                return Err(bad(format!("value set {:?} defined twice", vs.id)));
            }
            let pos = t.ids.len();
            let roots = t.add_compose(pos, &vs.compose).map_err(bad)?;
            if vs.expansion.contains.is_empty() && roots == 0 {
                return Err(bad(format!(
                    "value set {:?}: expansion.contains is empty and compose includes nothing",
                    vs.id
                )));
            }
            let mut seen = HashSet::new();
            let mut members = Vec::with_capacity(vs.expansion.contains.len());
            for (i, entry) in vs.expansion.contains.iter().enumerate() {
                let (Some(system), Some(code)) = (&entry.system, &entry.code) else {
                    return Err(bad(format!(
                        "expansion.contains[{i}]: system and code are required"
                    )));
                };
                let canon = canonical_system(system).ok_or_else(|| {
                    bad(format!(
                        "expansion.contains[{i}] (code {code:?}): unknown system {system:?}"
                    ))
                })?;
                let mut buf = [0u8; MAX_CODE];
                let norm = normalise(canon, code, &mut buf)
                    .ok_or_else(|| bad(format!("expansion.contains[{i}]: empty or overlong code")))?
                    .to_string();
                if !seen.insert((canon, norm.clone())) {
                    return Err(bad(format!(
                        "expansion.contains[{i}]: code {code:?} ({system}) listed twice"
                    )));
                }
                t.index
                    .entry(canon)
                    .or_default()
                    .entry(norm)
                    .or_default()
                    .push(pos);
                members.push(Member {
                    system: canon,
                    code: code.trim().to_string(),
                    display: entry.display.clone().unwrap_or_default(),
                });
            }
            t.positions.insert(vs.id.clone(), pos);
            t.ids.push(vs.id);
            t.members.push(members);
        }
        Ok(t)
    }

    /// Index the ICD-10-CM `is-a` filters and excluded concepts of `compose` for the value set
    /// at `pos`; the number of included roots, or why the compose is not understood.
    fn add_compose(&mut self, pos: usize, compose: &Compose) -> Result<usize, String> {
        let icd_root = |set: &ComposeSet, kind: &str, i: usize| -> Result<(), String> {
            match set.system.as_deref().and_then(canonical_system) {
                Some(ICD10CM) => Ok(()),
                _ => Err(format!(
                    "{}: only ICD-10-CM filters are supported, system is {:?}",
                    compose_entry(kind, i),
                    set.system
                )),
            }
        };
        let norm_root = |value: &str, kind: &str, i: usize| -> Result<String, String> {
            let mut buf = [0u8; MAX_CODE];
            match normalise(ICD10CM, value, &mut buf) {
                Some(n) if n.len() >= MIN_ROOT => Ok(n.to_string()),
                _ => Err(format!(
                    "{}: {value:?} is not an ICD-10-CM category or code",
                    compose_entry(kind, i)
                )),
            }
        };
        let filter_roots =
            |set: &ComposeSet, kind: &str, i: usize| -> Result<Vec<String>, String> {
                set.filter
                    .iter()
                    .map(|f| {
                        if f.property != "concept" || f.op != "is-a" {
                            return Err(format!(
                                "{}: filter {} {} is not supported (only concept is-a)",
                                compose_entry(kind, i),
                                f.property,
                                f.op
                            ));
                        }
                        norm_root(&f.value, kind, i)
                    })
                    .collect()
            };
        let mut included = 0;
        for (i, set) in compose.include.iter().enumerate() {
            icd_root(set, "include", i)?;
            if !set.concept.is_empty() || set.filter.len() != 1 {
                return Err(format!(
                    "{}: expected exactly one is-a filter (list enumerated codes in expansion.contains)",
                    compose_entry("include", i)
                ));
            }
            for root in filter_roots(set, "include", i)? {
                let list = self.roots.entry(root.clone()).or_default();
                if list.contains(&pos) {
                    return Err(format!(
                        "{}: {root} included twice",
                        compose_entry("include", i)
                    ));
                }
                list.push(pos);
                included += 1;
            }
        }
        for (i, set) in compose.exclude.iter().enumerate() {
            icd_root(set, "exclude", i)?;
            for root in filter_roots(set, "exclude", i)? {
                self.excluded_roots.entry(root).or_default().push(pos);
            }
            for c in &set.concept {
                let code = norm_root(&c.code, "exclude", i)?;
                self.excluded_codes.entry(code).or_default().push(pos);
            }
        }
        Ok(included)
    }

    /// True when the normalised ICD-10-CM `code` is excluded from the value set at `pos`.
    fn excluded(&self, pos: usize, code: &str) -> bool {
        let has =
            |m: &HashMap<String, Vec<usize>>, k: &str| m.get(k).is_some_and(|v| v.contains(&pos));
        has(&self.excluded_codes, code) || prefixes(code).any(|p| has(&self.excluded_roots, p))
    }

    /// Positions of the value sets that include the normalised ICD-10-CM `code` through an
    /// `is-a` root, exclusions applied.
    fn by_root<'s>(&'s self, code: &'s str) -> impl Iterator<Item = usize> + 's {
        prefixes(code)
            .filter_map(|p| self.roots.get(p))
            .flatten()
            .copied()
            .filter(move |pos| !self.excluded(*pos, code))
    }

    /// Fail when one of `ids` is not loaded.
    pub fn require(&self, ids: &[&str]) -> Result<(), KnowledgeError> {
        for id in ids {
            if !self.ids.iter().any(|i| i == id) {
                return Err(KnowledgeError::Invalid {
                    file: format!("valuesets/{id}.json"),
                    reason: format!("value set {id:?} is required but missing"),
                });
            }
        }
        Ok(())
    }

    fn position(&self, valueset: &str) -> Option<usize> {
        self.positions.get(valueset).copied()
    }

    /// The positions of the value sets holding `(system, code)`: enumerated members, then
    /// ICD-10-CM `is-a` roots (exclusions applied), each position once. Borrowed (no
    /// allocation) unless a root adds a value set.
    fn lookup(&self, system: &str, code: &str) -> Cow<'_, [usize]> {
        let Some(canon) = canonical_system(system) else {
            return Cow::Borrowed(&[]);
        };
        let mut buf = [0u8; MAX_CODE];
        let Some(norm) = normalise(canon, code, &mut buf) else {
            return Cow::Borrowed(&[]);
        };
        let listed: &[usize] = self
            .index
            .get(canon)
            .and_then(|m| m.get(norm))
            .map_or(&[], Vec::as_slice);
        if canon != ICD10CM || self.roots.is_empty() {
            return Cow::Borrowed(listed);
        }
        let mut found = Cow::Borrowed(listed);
        for pos in self.by_root(norm) {
            if !found.contains(&pos) {
                found.to_mut().push(pos);
            }
        }
        found
    }

    /// True when `(system, code)` is a member of the value set `valueset`.
    pub fn contains(&self, valueset: &str, system: &str, code: &str) -> bool {
        let (Some(pos), Some(canon)) = (self.position(valueset), canonical_system(system)) else {
            return false;
        };
        let mut buf = [0u8; MAX_CODE];
        let Some(norm) = normalise(canon, code, &mut buf) else {
            return false;
        };
        let listed = self
            .index
            .get(canon)
            .and_then(|m| m.get(norm))
            .is_some_and(|v| v.contains(&pos));
        listed || (canon == ICD10CM && self.by_root(norm).any(|p| p == pos))
    }

    /// The ids of every value set holding `(system, code)`.
    pub fn valuesets_of(&self, system: &str, code: &str) -> impl Iterator<Item = &str> + '_ {
        let found = self.lookup(system, code);
        (0..found.len()).map(move |i| self.ids[found[i]].as_str())
    }

    /// The ICD-10-CM `is-a` roots of a value set (normalised: no dot, upper case), sorted.
    pub fn roots(&self, valueset: &str) -> Vec<&str> {
        let Some(pos) = self.position(valueset) else {
            return Vec::new();
        };
        let mut r: Vec<&str> = self
            .roots
            .iter()
            .filter(|(_, v)| v.contains(&pos))
            .map(|(k, _)| k.as_str())
            .collect();
        r.sort_unstable();
        r
    }

    /// The members of a value set (empty for an unknown id).
    pub fn members(&self, valueset: &str) -> &[Member] {
        self.position(valueset)
            .map(|p| self.members[p].as_slice())
            .unwrap_or(&[])
    }

    /// The loaded value set ids.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// A short label for a coding: "ICD-10-CM M32.14", "SNOMED 55464009", "LOINC 62238-1".
    pub fn system_label(system: &str) -> &'static str {
        match canonical_system(system) {
            Some(SNOMED) => "SNOMED",
            Some(ICD10CM) => "ICD-10-CM",
            Some(LOINC) => "LOINC",
            Some(RXNORM) => "RxNorm",
            Some(ATC) => "ATC",
            Some(CVX) => "CVX",
            Some(SLE_ASSESSMENT) => "local",
            _ => "code",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vs(id: &str, contains: &str) -> (String, String) {
        (
            format!("valuesets/{id}.json"),
            format!(
                r#"{{"resourceType":"ValueSet","id":"{id}","url":"{VALUESET_BASE}{id}","expansion":{{"contains":[{contains}]}}}}"#
            ),
        )
    }

    fn err(texts: &[(String, String)]) -> String {
        Terminology::from_texts(texts).unwrap_err().to_string()
    }

    #[test]
    fn icd_codes_match_with_or_without_dot_in_any_case() {
        let t = Terminology::from_texts(&[vs(
            "x",
            r#"{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"M32.14"}"#,
        )])
        .unwrap();
        for code in ["M32.14", "M3214", "m32.14", " m3214 "] {
            assert!(t.contains("x", ICD10CM, code), "{code}");
        }
        assert!(t.contains("x", "urn:oid:2.16.840.1.113883.6.90", "M32.14"));
        assert!(!t.contains("x", ICD10CM, "M32.1"));
        assert!(!t.contains("x", "", "M32.14"));
        assert!(!t.contains("y", ICD10CM, "M32.14"));
    }

    #[test]
    fn system_aliases_are_normalised_but_snomed_codes_are_exact() {
        let t = Terminology::from_texts(&[vs(
            "x",
            r#"{"system":"http://snomed.info/sct","code":"55464009"}"#,
        )])
        .unwrap();
        assert!(t.contains("x", "http://snomed.info/sct/", "55464009"));
        assert!(t.contains("x", "HTTPS://SNOMED.INFO/SCT", "55464009"));
        assert!(t.contains("x", "urn:oid:2.16.840.1.113883.6.96", "55464009"));
        assert!(!t.contains("x", ICD10CM, "55464009"));
        assert!(!t.contains("x", SNOMED, "5546400"));
        assert_eq!(
            t.valuesets_of(SNOMED, "55464009").collect::<Vec<_>>(),
            ["x"]
        );
    }

    fn vs_compose(id: &str, compose: &str, contains: &str) -> (String, String) {
        (
            format!("valuesets/{id}.json"),
            format!(
                r#"{{"resourceType":"ValueSet","id":"{id}","url":"{VALUESET_BASE}{id}","compose":{compose},"expansion":{{"contains":[{contains}]}}}}"#
            ),
        )
    }

    const ICD_ISA: &str = r#"{"system":"http://hl7.org/fhir/sid/icd-10-cm","filter":[{"property":"concept","op":"is-a","value":"#;

    #[test]
    fn is_a_roots_match_the_category_and_its_descendants_minus_exclusions() {
        let compose = format!(
            r#"{{"include":[{ICD_ISA}"C43"}}]}},{ICD_ISA}"C44"}}]}},{ICD_ISA}"Z85"}}]}}],"exclude":[{ICD_ISA}"C44.1"}}]}},{{"system":"http://hl7.org/fhir/sid/icd-10-cm","concept":[{{"code":"Z85.828"}}]}}]}}"#
        );
        let t = Terminology::from_texts(&[
            vs_compose("x", &compose, ""),
            vs(
                "y",
                r#"{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"C43.9"}"#,
            ),
        ])
        .unwrap();
        for code in ["C43", "C43.9", "c4311", "C44.01", "Z85.3", "Z85.820"] {
            assert!(t.contains("x", ICD10CM, code), "{code}");
        }
        for code in ["C4", "C42", "C44.1", "C44.102", "Z85.828", "D43.0"] {
            assert!(!t.contains("x", ICD10CM, code), "{code}");
        }
        // SNOMED codes never match an ICD-10-CM root.
        assert!(!t.contains("x", SNOMED, "C43"));
        assert_eq!(
            t.valuesets_of(ICD10CM, "C43.9").collect::<Vec<_>>(),
            ["y", "x"]
        );
        assert!(t.valuesets_of(ICD10CM, "C44.12").next().is_none());
        assert_eq!(t.roots("x"), ["C43", "C44", "Z85"]);
    }

    #[test]
    fn unsupported_compose_is_rejected() {
        let e = err(&[vs_compose(
            "x",
            r#"{"include":[{"system":"http://snomed.info/sct","filter":[{"property":"concept","op":"is-a","value":"1"}]}]}"#,
            "",
        )]);
        assert!(e.contains("only ICD-10-CM"), "{e}");
        let e = err(&[vs_compose(
            "x",
            r#"{"include":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","filter":[{"property":"concept","op":"regex","value":"C.*"}]}]}"#,
            "",
        )]);
        assert!(e.contains("not supported"), "{e}");
        let e = err(&[vs_compose(
            "x",
            &format!(r#"{{"include":[{ICD_ISA}"C4"}}]}}]}}"#),
            "",
        )]);
        assert!(e.contains("not an ICD-10-CM category"), "{e}");
    }

    #[test]
    fn empty_value_set_is_rejected() {
        assert!(err(&[vs("x", "")]).contains("empty"));
    }

    #[test]
    fn duplicate_code_is_rejected_naming_file_and_code() {
        let e = err(&[vs(
            "x",
            r#"{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"M32.14"},{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"M3214"}"#,
        )]);
        assert!(
            e.contains("valuesets/x.json") && e.contains("listed twice"),
            "{e}"
        );
    }

    #[test]
    fn unknown_system_is_rejected() {
        let e = err(&[vs("x", r#"{"system":"http://snomed.org","code":"1"}"#)]);
        assert!(e.contains("unknown system"), "{e}");
    }

    #[test]
    fn missing_code_is_rejected() {
        let e = err(&[vs("x", r#"{"system":"http://snomed.info/sct"}"#)]);
        assert!(e.contains("contains[0]"), "{e}");
    }

    #[test]
    fn id_must_match_file_name_and_url() {
        let (_, text) = vs("x", r#"{"system":"http://snomed.info/sct","code":"1"}"#);
        let e = err(&[("valuesets/y.json".into(), text.clone())]);
        assert!(e.contains("file name"), "{e}");
        let e = err(&[(
            "valuesets/x.json".into(),
            text.replace("ValueSet/x", "ValueSet/z"),
        )]);
        assert!(e.contains("url"), "{e}");
        let e = err(&[(
            "valuesets/x.json".into(),
            text.replace("\"ValueSet\"", "\"CodeSystem\""),
        )]);
        assert!(e.contains("resourceType"), "{e}");
    }

    #[test]
    fn missing_required_value_set_is_named() {
        let t = Terminology::from_texts(&[vs(
            "sle",
            r#"{"system":"http://snomed.info/sct","code":"55464009"}"#,
        )])
        .unwrap();
        let e = t.require(&["sle", "vte"]).unwrap_err().to_string();
        assert!(e.contains("vte"), "{e}");
    }
}

/// Coverage of the shipped value sets against knowledge.md 3c/3d.
#[cfg(test)]
mod coverage {
    use super::*;

    fn t() -> Terminology {
        Terminology::load(&KnowledgeFiles::Embedded).expect("embedded value sets load")
    }

    fn all_in(t: &Terminology, vs: &str, system: &str, codes: &[&str]) {
        for c in codes {
            assert!(t.contains(vs, system, c), "{vs} lacks {c}");
        }
    }

    fn none_in(t: &Terminology, vs: &str, system: &str, codes: &[&str]) {
        for c in codes {
            assert!(!t.contains(vs, system, c), "{vs} must not hold {c}");
        }
    }

    #[test]
    fn a_broken_file_in_a_knowledge_dir_stops_loading_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("valuesets")).unwrap();
        let embedded = KnowledgeFiles::Embedded;
        for name in embedded.list("valuesets").unwrap() {
            let text = embedded.read(&name).unwrap();
            std::fs::write(dir.path().join(&name), text.as_bytes()).unwrap();
        }
        let files = KnowledgeFiles::Dir(dir.path().to_path_buf());
        assert!(Terminology::load(&files).is_ok());
        let vte = dir.path().join("valuesets/vte.json");
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&vte).unwrap()).unwrap();
        v["expansion"]["contains"] = serde_json::json!([]);
        std::fs::write(&vte, v.to_string()).unwrap();
        let e = Terminology::load(&files).unwrap_err().to_string();
        assert!(
            e.contains("valuesets/vte.json") && e.contains("empty"),
            "{e}"
        );
        std::fs::remove_file(&vte).unwrap();
        let e = Terminology::load(&files).unwrap_err().to_string();
        assert!(e.contains("\"vte\" is required"), "{e}");
    }

    #[test]
    fn every_required_value_set_is_shipped() {
        let t = t();
        for id in REQUIRED {
            assert!(!t.members(id).is_empty() || !t.roots(id).is_empty(), "{id}");
        }
    }

    #[test]
    fn sle_is_m32_and_snomed_lupus_without_drug_induced() {
        let t = t();
        all_in(
            &t,
            "sle",
            ICD10CM,
            &["M32.10", "M32.14", "M32.15", "M32.19", "M32.8", "M32.9"],
        );
        all_in(
            &t,
            "sle",
            SNOMED,
            &["55464009", "68815009", "95644001", "773333003"],
        );
        none_in(&t, "sle", ICD10CM, &["M32.0", "L93.0"]);
        none_in(
            &t,
            "sle",
            SNOMED,
            &["201436003", "80258006", "200936003", "239886003"],
        );
    }

    #[test]
    fn lupus_nephritis_cns_and_msk_codes() {
        let t = t();
        all_in(&t, "lupus-nephritis", ICD10CM, &["M32.14", "M32.15"]);
        all_in(
            &t,
            "lupus-nephritis",
            SNOMED,
            &[
                "68815009",
                "73286009",
                "4676006",
                "76521009",
                "36402006",
                "52042003",
                "11013005",
                "1144973003",
                "308751000119106",
                "295101000119105",
                "295111000119108",
                "295121000119101",
            ],
        );
        none_in(&t, "lupus-nephritis", ICD10CM, &["M32.19", "M32.9"]);
        all_in(
            &t,
            "cns-lupus",
            SNOMED,
            &[
                "1144942002",
                "95644001",
                "1263491001",
                "1263518006",
                "724781003",
                "1259517005",
                "724767000",
                "230307005",
            ],
        );
        none_in(&t, "cns-lupus", ICD10CM, &["M32.19"]);
        all_in(
            &t,
            "msk-cutaneous",
            SNOMED,
            &[
                "95408003",
                "1144970000",
                "200938002",
                "239891002",
                "403502003",
                "95332009",
                "239888002",
            ],
        );
        all_in(&t, "msk-cutaneous", ICD10CM, &["L93.0", "L93.1", "L93.2"]);
    }

    #[test]
    fn vte_ranges_follow_knowledge_md() {
        let t = t();
        all_in(
            &t,
            "vte",
            ICD10CM,
            &[
                "I26.01", "I26.99", "I80.10", "I80.13", "I80.201", "I80.239", "I80.299", "I80.3",
                "I80.9", "I82.210", "I82.220", "I82.291", "I82.401", "I82.4Y9", "I82.4Z1",
                "I82.501", "I82.5Z9", "I82.601", "I82.629", "I82.A11", "I82.B29", "I82.C29",
                "I82.890", "I82.90", "O22.30", "O22.33", "O87.1", "O88.211", "O88.23", "Z86.711",
                "Z86.718",
            ],
        );
        none_in(
            &t,
            "vte",
            ICD10CM,
            &[
                "I80.0", "I80.00", "I80.8", "I82.0", "I82.1", "I82.3", "I82.701", "I82.811",
                "I82.891", "I82.91", "O22.50", "O88.012", "Z86.72", "T80.0XXA",
            ],
        );
        all_in(
            &t,
            "vte",
            SNOMED,
            &[
                "128053003",
                "59282003",
                "233935004",
                "404223003",
                "429098002",
                "444325005",
                "161512003",
                "161511005",
            ],
        );
    }

    #[test]
    fn tuberculosis_zoster_and_pregnancy_codes() {
        let t = t();
        all_in(
            &t,
            "active-tb",
            ICD10CM,
            &["A15.0", "A16.2", "A17.0", "A18.01", "A19.9"],
        );
        all_in(
            &t,
            "active-tb",
            SNOMED,
            &["56717001", "427099000", "25629007", "154283005"],
        );
        none_in(&t, "active-tb", ICD10CM, &["Z22.7", "Z86.11", "R76.11"]);
        all_in(&t, "latent-tb", ICD10CM, &["Z22.7", "R76.11", "R76.12"]);
        none_in(&t, "latent-tb", ICD10CM, &["Z86.15", "R76.0", "Z22.8"]);
        all_in(&t, "latent-tb-treated", ICD10CM, &["Z86.15"]);
        all_in(&t, "herpes-zoster", ICD10CM, &["B02.0", "B02.9", "B02.29"]);
        all_in(&t, "herpes-zoster", SNOMED, &["4740000"]);
        all_in(&t, "pregnancy", ICD10CM, &["Z33.1"]);
        all_in(&t, "pregnancy", SNOMED, &["77386006"]);
        none_in(&t, "pregnancy", ICD10CM, &["Z33.2"]);
    }

    #[test]
    fn v2_infection_sets_follow_knowledge_md() {
        let t = t();
        let acute = "serious-infection-acute";
        all_in(
            &t,
            acute,
            ICD10CM,
            &[
                "A04.71", "A04.72", "A40", "A40.0", "A41.9", "A41.51", "A81.2", "B00.3", "B00.4",
                "B00.7", "B02.0", "B02.1", "B02.30", "B02.39", "B02.7", "B02.8", "B02.9", "B25.0",
                "B37.7", "B37.81", "B38.4", "B39.9", "B44.0", "B45.1", "B46.5", "B59", "G00.9",
                "G01", "G02", "G06.0", "I30.1", "I33.0", "I40.0", "J09.X1", "J10.00", "J11.08",
                "J12.82", "J13", "J15.211", "J18.9", "J85.1", "J86.9", "K65.0", "K65.1", "K65.2",
                "L03.115", "M00.9", "M46.20", "M46.59", "M86.00", "M86.28", "N10", "T81.40XA",
                "T81.44XA", "U07.1",
            ],
        );
        none_in(
            &t,
            acute,
            ICD10CM,
            &[
                "B02.2", "B02.21", "B02.29", "K65.3", "K65.4", "K65.8", "A04.6", "B37.0", "B37.82",
                "G03.9", "J09.X2", "J10.1", "J19", "M46.1", "M46.6", "M86.3", "M86.60", "N11.9",
                "I30.0", "T81.30XA", "A31.0",
            ],
        );
        all_in(
            &t,
            acute,
            SNOMED,
            &[
                "91302008",
                "233604007",
                "128045006",
                "4740000",
                "7180009",
                "45816000",
            ],
        );
        let chronic = "serious-infection-chronic";
        all_in(
            &t,
            chronic,
            ICD10CM,
            &[
                "A31.0", "A31.9", "M86.30", "M86.40", "M86.59", "M86.69", "T84.50XA", "T84.54XD",
            ],
        );
        none_in(&t, chronic, ICD10CM, &["M86.2", "M86.8X9", "T84.6"]);
        all_in(&t, chronic, SNOMED, &["60168000"]);
        all_in(&t, "antiphospholipid", ICD10CM, &["D68.61", "D68.62"]);
        none_in(&t, "antiphospholipid", ICD10CM, &["D68.69", "D68.6"]);
        all_in(&t, "antiphospholipid", SNOMED, &["26843008", "402865003"]);
        all_in(
            &t,
            "arterial-thrombosis",
            ICD10CM,
            &["I74", "I74.01", "I74.3", "I74.9"],
        );
        none_in(&t, "arterial-thrombosis", ICD10CM, &["I73.9", "I75.01"]);
    }

    #[test]
    fn v2_pregnancy_hepatic_and_risk_sets_follow_knowledge_md() {
        let t = t();
        all_in(
            &t,
            "pregnancy",
            ICD10CM,
            &[
                "Z33.1", "Z33.3", "O09.00", "O09.A3", "Z34.00", "Z34.93", "Z3A.01", "Z3A.40",
            ],
        );
        none_in(
            &t,
            "pregnancy",
            ICD10CM,
            &["Z33.2", "O10.0", "Z39.1", "Z36.0"],
        );
        all_in(&t, "pregnancy", SNOMED, &["77386006", "72892002"]);
        all_in(&t, "lactation", ICD10CM, &["Z39.1"]);
        none_in(&t, "lactation", ICD10CM, &["Z39.0", "Z39.2"]);
        all_in(
            &t,
            "hepatitis-b",
            ICD10CM,
            &[
                "B16.0", "B16.9", "B17.0", "B18.0", "B18.1", "B19.10", "B19.11", "Z22.51",
            ],
        );
        none_in(
            &t,
            "hepatitis-b",
            ICD10CM,
            &["B17.10", "B18.2", "B19.20", "Z22.52"],
        );
        all_in(
            &t,
            "hepatitis-c",
            ICD10CM,
            &["B17.10", "B17.11", "B18.2", "B19.20", "B19.21", "Z22.52"],
        );
        none_in(
            &t,
            "hepatitis-c",
            ICD10CM,
            &["B17.0", "B18.1", "B19.10", "Z22.51"],
        );
        all_in(
            &t,
            "hepatic-failure",
            ICD10CM,
            &["K72.00", "K72.10", "K72.90", "K72.91"],
        );
        all_in(
            &t,
            "cirrhosis",
            ICD10CM,
            &["K70.30", "K70.31", "K74.60", "K74.69"],
        );
        none_in(&t, "cirrhosis", ICD10CM, &["K70.40", "K74.0", "K74.5"]);
        all_in(
            &t,
            "hepatic-decompensation",
            ICD10CM,
            &[
                "R18.0", "R18.8", "I85.00", "I85.11", "K76.82", "K72.90", "K72.91",
            ],
        );
        none_in(&t, "hepatic-decompensation", ICD10CM, &["K72.00", "K76.81"]);
        all_in(
            &t,
            "smoking-condition",
            ICD10CM,
            &["F17.210", "F17.218", "F17.290", "F17.299", "Z87.891"],
        );
        none_in(
            &t,
            "smoking-condition",
            ICD10CM,
            &["F17.200", "F17.220", "Z87.890"],
        );
        all_in(
            &t,
            "smoking-status",
            SNOMED,
            &[
                "449868002",
                "428041000124106",
                "77176002",
                "428071000124103",
                "428061000124105",
                "8517006",
                "230063004",
                "230060001",
            ],
        );
        none_in(&t, "smoking-status", SNOMED, &["266919005", "266927001"]);
        all_in(
            &t,
            "smoking-status",
            LOINC,
            &[
                "LA18976-3",
                "LA18977-1",
                "LA18979-7",
                "LA18981-3",
                "LA18982-1",
                "LA15920-4",
            ],
        );
        none_in(&t, "smoking-status", LOINC, &["LA18978-9", "LA18980-5"]);
        all_in(
            &t,
            "ascvd",
            ICD10CM,
            &[
                "I20.0", "I21.4", "I22.9", "I23.0", "I24.9", "I25.10", "I25.2", "I63.9", "I65.21",
                "I66.03", "I69.351", "I70.211", "I73.9", "I74.3", "G45.9", "Z86.73", "Z95.1",
                "Z95.5", "Z98.61",
            ],
        );
        none_in(
            &t,
            "ascvd",
            ICD10CM,
            &["I26.99", "I64", "I67.2", "I69.1", "I70.0", "I73.0"],
        );
        all_in(
            &t,
            "malignancy",
            ICD10CM,
            &[
                "C00.0", "C18.9", "C34.90", "C4A.9", "C50.911", "C7A.010", "C7B.00", "C79.51",
                "C91.10", "C96.9", "D45", "D46.9", "D46.Z", "D47.1", "D47.3", "D47.Z1", "Z85.3",
                "Z85.820", "Z85.038",
            ],
        );
        none_in(
            &t,
            "malignancy",
            ICD10CM,
            &[
                "C44.91", "C44.01", "Z85.828", "D47.0", "D47.2", "D47.4", "D47.9", "D48.5", "C97",
            ],
        );
        all_in(
            &t,
            "myocardial-infarction",
            ICD10CM,
            &["I21.09", "I21.4", "I22.9"],
        );
        none_in(
            &t,
            "myocardial-infarction",
            ICD10CM,
            &["I20.0", "I25.2", "I23.0"],
        );
        all_in(&t, "stroke", ICD10CM, &["I63", "I63.9", "I63.512"]);
        none_in(&t, "stroke", ICD10CM, &["I64", "I69.3", "G45.9"]);
        all_in(&t, "diverticular", ICD10CM, &["K57.30", "K57.92"]);
        none_in(&t, "diverticular", ICD10CM, &["K56.0", "K58.0"]);
    }

    #[test]
    fn v2_vaccine_and_observation_code_sets_follow_knowledge_md() {
        let t = t();
        all_in(
            &t,
            "live-vaccine",
            CVX,
            &[
                "121", "03", "94", "04", "05", "06", "07", "38", "21", "37", "183", "184", "25",
                "111", "125", "149", "151", "19", "02", "182", "54", "55", "143", "75", "174",
            ],
        );
        none_in(&t, "live-vaccine", CVX, &["187", "188", "141", "3"]);
        all_in(&t, "pregnancy-status", LOINC, &["82810-3"]);
        all_in(&t, "hcg", LOINC, &["2106-3", "2118-8"]);
        all_in(&t, "breastfeeding-status", LOINC, &["63895-7"]);
        all_in(&t, "smoking-status-code", LOINC, &["72166-2"]);
        all_in(&t, "hbsag", LOINC, &["5196-1", "5195-3"]);
        all_in(&t, "anti-hbc", LOINC, &["16933-4", "13952-7"]);
        all_in(&t, "hcv-antibody", LOINC, &["16128-1", "13955-0"]);
        all_in(&t, "hbv-dna", LOINC, &["29615-2", "42595-9"]);
        all_in(&t, "hcv-rna", LOINC, &["11259-9", "11011-4", "38180-6"]);
        all_in(
            &t,
            "lipids",
            LOINC,
            &[
                "24331-1", "57698-3", "2093-3", "14647-2", "2571-8", "14927-8", "2085-9",
                "14646-4", "13457-7", "18262-6", "22748-8", "39469-2",
            ],
        );
    }

    #[test]
    fn loinc_sets_follow_knowledge_md() {
        let t = t();
        all_in(
            &t,
            "egfr",
            LOINC,
            &[
                "33914-3", "48642-3", "48643-1", "50044-7", "70969-1", "77147-7", "62238-1",
                "88293-6", "88294-4", "98979-8", "94677-2", "98980-6", "50210-4", "69405-9",
            ],
        );
        none_in(&t, "egfr", LOINC, &["2160-0"]);
        all_in(&t, "upcr", LOINC, &["2890-2", "34366-5", "2889-4"]);
        all_in(&t, "alc", LOINC, &["731-0", "732-8", "26474-7"]);
        all_in(&t, "anc", LOINC, &["751-8", "753-4", "26499-4"]);
        all_in(&t, "hb", LOINC, &["718-7", "59260-0"]);
        none_in(&t, "hb", LOINC, &["24360-0", "35183-3"]);
        all_in(&t, "igra", LOINC, &["71773-6", "46217-6", "71775-1"]);
        all_in(&t, "tst", LOINC, &["39263-9"]);
        all_in(&t, "sledai-2k", SLE_ASSESSMENT, &["sledai-2k"]);
        all_in(
            &t,
            "prednisone-equivalent-dose",
            SLE_ASSESSMENT,
            &["prednisone-equivalent-dose"],
        );
        all_in(&t, "zoster-vaccine", CVX, &["187"]);
        none_in(&t, "zoster-vaccine", CVX, &["121"]);
    }
}
