//! Value sets (hooks/valuesets/*.json, FHIR ValueSet with expansion.contains) and code matching.
//!
//! All value sets are merged into one index `(system, code) → value sets`, so testing a coding
//! against every set costs one hash lookup. Systems are normalised for known aliases
//! (`urn:oid:…`, `https://`, a trailing slash, letter case); ICD-10-CM codes are compared
//! without the dot and in upper case ("m3214" = "M32.14"). Codings without a system never match.

use std::collections::{HashMap, HashSet};

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
    expansion: Expansion,
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
            if vs.expansion.contains.is_empty() {
                return Err(bad(format!(
                    "value set {:?}: expansion.contains is empty",
                    vs.id
                )));
            }
            let pos = t.ids.len();
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

    fn lookup(&self, system: &str, code: &str) -> Option<&[usize]> {
        let canon = canonical_system(system)?;
        let mut buf = [0u8; MAX_CODE];
        let norm = normalise(canon, code, &mut buf)?;
        self.index.get(canon)?.get(norm).map(|v| v.as_slice())
    }

    /// True when `(system, code)` is a member of the value set `valueset`.
    pub fn contains(&self, valueset: &str, system: &str, code: &str) -> bool {
        match (self.position(valueset), self.lookup(system, code)) {
            (Some(p), Some(sets)) => sets.contains(&p),
            _ => false,
        }
    }

    /// The ids of every value set holding `(system, code)`.
    pub fn valuesets_of(&self, system: &str, code: &str) -> impl Iterator<Item = &str> + '_ {
        self.lookup(system, code)
            .unwrap_or(&[])
            .iter()
            .map(|p| self.ids[*p].as_str())
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
            assert!(!t.members(id).is_empty(), "{id}");
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
