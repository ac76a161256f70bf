//! Data reach (issue 8, item 9): every Observation and Condition code a rule reads can be
//! returned by the prefetch templates of hooks/services.json — and so by the fallback
//! queries, which are the same templates (`Gatherer::gather` fetches `service.prefetch`).
//!
//! The codes come from the shipped value sets themselves. Each value set is classified once
//! below by where the facts read it; a new value set that is not classified fails the test,
//! so a rule cannot start reading codes that nothing fetches.

use std::collections::{BTreeMap, BTreeSet};

use jak_sle_cds::cds::discovery::ServiceCatalog;
use jak_sle_cds::knowledge::terminology::{canonical_system, ICD10CM};
use jak_sle_cds::knowledge::{KnowledgeFiles, Terminology};

/// Value sets the facts look for in `Observation.code`.
const OBSERVATION_CODE: &[&str] = &[
    "egfr",
    "upcr",
    "alc",
    "anc",
    "hb",
    "igra",
    "tst",
    "sledai-2k",
    "prednisone-equivalent-dose",
    "vte",
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
];

/// Value sets the facts look for in `Condition.code`.
const CONDITION_CODE: &[&str] = &[
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
    "ascvd",
    "malignancy",
    "myocardial-infarction",
    "stroke",
    "diverticular",
];

/// Value sets read from `Immunization.vaccineCode`.
const IMMUNIZATION_CODE: &[&str] = &["zoster-vaccine", "live-vaccine"];

/// Value sets of an Observation's *value*, with the value set of the Observation code that
/// carries it: reached when that code is.
const OBSERVATION_VALUE: &[(&str, &str)] = &[("smoking-status", "smoking-status-code")];

/// Longest patient id the length check allows for (FHIR ids are at most 64 characters).
const LONGEST_ID: &str = "p123456789012345678901234567890123456789012345678901234567890123";

/// A rendered prefetch/fallback query stays at or below this length: the public CDS Hooks
/// sandbox has trouble with very long prefetch URLs.
const MAX_QUERY: usize = 1500;

fn terminology() -> Terminology {
    Terminology::load(&KnowledgeFiles::Embedded).expect("value sets load")
}

fn catalog() -> ServiceCatalog {
    ServiceCatalog::load(&KnowledgeFiles::Embedded).expect("services.json loads")
}

/// The resource type and the search parameters of a template ("Observation?patient=..&code=..").
fn parse(template: &str) -> (&str, Vec<(&str, &str)>) {
    let (path, query) = template.split_once('?').unwrap_or((template, ""));
    let params = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    (path, params)
}

/// What a service's templates can return: whole resource types (a search by patient alone)
/// and, per type, the `system|code` tokens of code-filtered searches. Observation searches by
/// patient alone are reported as errors: years of vitals are not fetched.
#[derive(Debug, Default)]
struct Reach {
    unfiltered: BTreeSet<String>,
    codes: BTreeMap<String, BTreeSet<(String, String)>>,
    errors: Vec<String>,
}

fn reach(prefetch: &BTreeMap<String, String>) -> Reach {
    let mut r = Reach::default();
    for (key, template) in prefetch {
        let (kind, params) = parse(template);
        if kind.contains('/') {
            continue; // a read (Patient/{{context.patientId}})
        }
        let names: Vec<&str> = params.iter().map(|(n, _)| *n).collect();
        if !names.contains(&"patient") {
            r.errors.push(format!("{key}: not limited to the patient"));
        }
        if names == ["patient"] {
            if kind == "Observation" {
                r.errors
                    .push(format!("{key}: an unfiltered Observation query"));
            }
            r.unfiltered.insert(kind.to_string());
            continue;
        }
        for (name, value) in &params {
            if *name != "code" {
                continue;
            }
            for token in value.split(',') {
                let Some((system, code)) = token.split_once('|') else {
                    r.errors.push(format!("{key}: code {token} has no system"));
                    continue;
                };
                let system = canonical_system(system).unwrap_or(system);
                r.codes
                    .entry(kind.to_string())
                    .or_default()
                    .insert((system.to_string(), code.to_string()));
            }
        }
    }
    r
}

impl Reach {
    fn returns(&self, kind: &str, system: &str, code: &str) -> bool {
        self.unfiltered.contains(kind)
            || self
                .codes
                .get(kind)
                .is_some_and(|c| c.contains(&(system.to_string(), code.to_string())))
    }
}

/// Every code a rule reads that `prefetch` cannot return, and every template error.
fn gaps(t: &Terminology, prefetch: &BTreeMap<String, String>) -> Vec<String> {
    let r = reach(prefetch);
    let mut out = r.errors.clone();
    for vs in OBSERVATION_CODE {
        for m in t.members(vs) {
            // ICD-10-CM codes are diagnosis codes: read from Conditions (asserted below),
            // not searched for in Observation.code.
            if m.system != ICD10CM && !r.returns("Observation", m.system, &m.code) {
                out.push(format!("Observation {vs}: {}|{}", m.system, m.code));
            }
        }
    }
    for vs in CONDITION_CODE {
        let enumerated = t.members(vs).iter().map(|m| (m.system, m.code.as_str()));
        let by_root = t.roots(vs).into_iter().map(|r| (ICD10CM, r));
        for (system, code) in enumerated.chain(by_root) {
            if !r.returns("Condition", system, code) {
                out.push(format!("Condition {vs}: {system}|{code}"));
            }
        }
    }
    for vs in IMMUNIZATION_CODE {
        for m in t.members(vs) {
            if !r.returns("Immunization", m.system, &m.code) {
                out.push(format!("Immunization {vs}: {}|{}", m.system, m.code));
            }
        }
    }
    out
}

#[test]
fn every_value_set_is_classified_by_where_the_facts_read_it() {
    let t = terminology();
    let classified: BTreeSet<&str> = OBSERVATION_CODE
        .iter()
        .chain(CONDITION_CODE)
        .chain(IMMUNIZATION_CODE)
        .copied()
        .chain(OBSERVATION_VALUE.iter().map(|(v, _)| *v))
        .collect();
    let loaded: BTreeSet<&str> = t.ids().iter().map(String::as_str).collect();
    let unclassified: Vec<_> = loaded.difference(&classified).collect();
    assert!(
        unclassified.is_empty(),
        "value sets not classified in tests/data_reach.rs: {unclassified:?}"
    );
    let unknown: Vec<_> = classified.difference(&loaded).collect();
    assert!(
        unknown.is_empty(),
        "classified but not shipped: {unknown:?}"
    );
    for (value, carrier) in OBSERVATION_VALUE {
        assert!(
            OBSERVATION_CODE.contains(carrier),
            "{value}: its Observation code set {carrier} must be fetched"
        );
    }
}

#[test]
fn every_code_a_rule_reads_is_returned_by_every_service_s_templates() {
    let t = terminology();
    let catalog = catalog();
    assert!(!catalog.services().is_empty());
    for service in catalog.services() {
        let missing = gaps(&t, &service.prefetch);
        assert!(
            missing.is_empty(),
            "{}: {} code(s) no template returns, e.g. {:?}",
            service.id,
            missing.len(),
            &missing[..missing.len().min(10)]
        );
        let r = reach(&service.prefetch);
        // Conditions and Immunizations are searched by patient alone: every code reaches.
        assert!(r.unfiltered.contains("Condition"), "{}", service.id);
        assert!(r.unfiltered.contains("Immunization"), "{}", service.id);
        // Infused agents (rituximab, cyclophosphamide, belimumab...) are administrations.
        assert!(
            r.unfiltered.contains("MedicationAdministration"),
            "{}",
            service.id
        );
        assert!(
            !service.required.iter().any(|k| k == "administrations"),
            "administrations are read where the server has them, never required"
        );
    }
}

#[test]
fn the_v2_observations_of_the_issue_are_reached() {
    let t = terminology();
    for service in catalog().services() {
        let r = reach(&service.prefetch);
        for (system, code) in [
            ("http://snomed.info/sct", "161512003"), // history of VTE, filed with no category
            ("http://loinc.org", "82810-3"),         // pregnancy status
            ("http://loinc.org", "72166-2"),         // smoking status
            ("http://loinc.org", "63895-7"),         // breast-feeding status
            ("http://loinc.org", "2118-8"),          // serum hCG
            (
                "https://jak-sle-cds.github.io/fhir/CodeSystem/sle-assessment",
                "sledai-2k",
            ),
            (
                "https://jak-sle-cds.github.io/fhir/CodeSystem/sle-assessment",
                "prednisone-equivalent-dose",
            ),
        ] {
            assert!(
                r.returns("Observation", system, code),
                "{}: {system}|{code}",
                service.id
            );
        }
        assert!(t.contains("vte", "http://snomed.info/sct", "161512003"));
    }
}

#[test]
fn every_template_stays_short_enough_for_the_sandbox() {
    for service in catalog().services() {
        for (key, template) in &service.prefetch {
            let rendered = template.replace("{{context.patientId}}", LONGEST_ID);
            assert!(
                rendered.len() <= MAX_QUERY,
                "{}: {key} is {} characters",
                service.id,
                rendered.len()
            );
        }
    }
}

/// The check itself: it finds a code that no template returns, an unfiltered Observation
/// query, and a Condition query that filters.
#[test]
fn the_check_fails_when_a_rule_reads_a_code_nothing_fetches() {
    let t = terminology();
    let service = catalog()
        .get("jak-sle-order-sign")
        .expect("order-sign service")
        .clone();
    assert!(gaps(&t, &service.prefetch).is_empty());

    let mut p = service.prefetch.clone();
    for template in p.values_mut() {
        *template = template
            .replace("http://snomed.info/sct|161512003,", "")
            .replace(",http://snomed.info/sct|161512003", "");
    }
    assert_eq!(
        gaps(&t, &p),
        ["Observation vte: http://snomed.info/sct|161512003"]
    );

    let mut p = service.prefetch.clone();
    p.insert(
        "conditions".into(),
        "Condition?patient={{context.patientId}}&clinical-status=active".into(),
    );
    let g = gaps(&t, &p);
    assert!(
        g.iter()
            .any(|m| m == "Condition vte: http://hl7.org/fhir/sid/icd-10-cm|Z86.718"),
        "{g:?}"
    );
    assert!(
        g.iter()
            .any(|m| m == "Condition malignancy: http://hl7.org/fhir/sid/icd-10-cm|C50"),
        "{g:?}"
    );

    let mut p = service.prefetch.clone();
    p.insert(
        "everything".into(),
        "Observation?patient={{context.patientId}}".into(),
    );
    assert_eq!(
        gaps(&t, &p),
        ["everything: an unfiltered Observation query"]
    );
}
