//! Fuzzing the untrusted-input path: request body → `HookRequest` → prefetch values into a
//! `PatientRecord` → facts (`facts::derive`), order classification and the engine — asserting
//! that nothing panics. Inputs are the seed corpus in `fuzz/corpus/*.json`, mutated
//! structurally (JSON values replaced deep inside) and byte-wise, plus arbitrary bytes.
//!
//! Bounded for CI: 256 cases per strategy by default, `PROPTEST_CASES=n` to change it.

use std::sync::OnceLock;

use chrono::NaiveDate;
use jak_sle_cds::cds::request::{Hook, HookRequest, OrderContext};
use jak_sle_cds::facts::{self, order::classify_orders};
use jak_sle_cds::fhir::PatientRecord;
use jak_sle_cds::knowledge::Knowledge;
use proptest::prelude::*;
use serde_json::{Map, Value};

fn knowledge() -> &'static Knowledge {
    static KB: OnceLock<Knowledge> = OnceLock::new();
    KB.get_or_init(|| Knowledge::embedded().expect("embedded knowledge loads"))
}

fn corpus() -> &'static [Vec<u8>] {
    static CORPUS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("fuzz/corpus exists")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files.iter().map(|p| std::fs::read(p).unwrap()).collect()
    })
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// The path under test; must not panic whatever the bytes.
fn pipeline(body: &[u8]) {
    let Ok(req) = HookRequest::parse(body) else {
        return;
    };
    let kb = knowledge();
    let record = PatientRecord::from_prefetch(req.prefetch.clone());
    let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    let facts = facts::derive(&record, kb, today);
    assert_eq!(facts.today, Some(today));
    let hook = Hook::parse(&req.hook).unwrap_or(Hook::OrderSign);
    let Ok(ctx) = OrderContext::from_request(&req, hook) else {
        return;
    };
    let orders = classify_orders(&ctx, &record, kb);
    assert!(orders.len() <= ctx.orders.len());
    let _ = jak_sle_cds::engine::evaluate(&ctx, &record, kb, today);
}

/// Keys and strings FHIR resources are made of, so generated values reach deep code.
const KEYS: &[&str] = &[
    "resourceType",
    "id",
    "entry",
    "resource",
    "code",
    "coding",
    "system",
    "text",
    "display",
    "value",
    "unit",
    "valueQuantity",
    "valueString",
    "valueInteger",
    "effectiveDateTime",
    "effectivePeriod",
    "start",
    "end",
    "status",
    "clinicalStatus",
    "verificationStatus",
    "dosageInstruction",
    "doseAndRate",
    "doseQuantity",
    "timing",
    "repeat",
    "frequency",
    "period",
    "periodUnit",
    "medicationCodeableConcept",
    "medicationReference",
    "reference",
    "category",
    "onsetDateTime",
    "abatementDateTime",
    "component",
    "interpretation",
];
const STRINGS: &[&str] = &[
    "Bundle",
    "Condition",
    "Observation",
    "MedicationRequest",
    "MedicationStatement",
    "Medication",
    "Immunization",
    "Patient",
    "OperationOutcome",
    "MedicationOrder",
    "active",
    "draft",
    "final",
    "entered-in-error",
    "refuted",
    "55464009",
    "33914-3",
    "731-0",
    "718-7",
    "2047232",
    "1357541",
    "http://loinc.org",
    "http://snomed.info/sct",
    "mg",
    "d",
    "h",
    "2026-11-26",
    "2026-02-30",
    "0000-01-01T00:00:00Z",
    "9999",
    "",
    "baricitinib 4 mg",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop_oneof![any::<f64>(), Just(f64::MAX), Just(-0.0), Just(1e-300)]
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        proptest::sample::select(STRINGS).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((proptest::sample::select(KEYS), inner), 0..6).prop_map(
                |pairs| Value::Object(
                    pairs
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect::<Map<_, _>>()
                )
            ),
        ]
    })
}

/// Replace the value found by following `path` (child indexes, modulo) with `new`.
fn replace_at(node: &mut Value, path: &[usize], new: Value) {
    let len = match node {
        Value::Object(map) => map.len(),
        Value::Array(items) => items.len(),
        _ => 0,
    };
    let Some((step, rest)) = path.split_first().filter(|_| len > 0) else {
        *node = new;
        return;
    };
    let child = match node {
        Value::Object(map) => map.values_mut().nth(step % len),
        Value::Array(items) => items.get_mut(step % len),
        _ => None,
    };
    if let Some(child) = child {
        replace_at(child, rest, new);
    }
}

fn seed() -> impl Strategy<Value = usize> {
    0..corpus().len()
}

#[test]
fn the_seed_corpus_runs_through_the_pipeline() {
    assert!(corpus().len() >= 5, "fuzz/corpus has its seeds");
    for body in corpus() {
        let parsed = HookRequest::parse(body);
        assert!(parsed.is_ok(), "seed does not parse: {parsed:?}");
        pipeline(body);
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn structurally_mutated_requests_never_panic(
        which in seed(),
        edits in proptest::collection::vec(
            (0..10u8, proptest::collection::vec(any::<usize>(), 1..10), json_value()), 1..4),
    ) {
        let mut value: Value = serde_json::from_slice(&corpus()[which]).unwrap();
        for (target, path, new) in edits {
            // Mostly inside prefetch and context, where resources are; sometimes anywhere.
            let subtree = match target {
                0..=5 => value.get_mut("prefetch"),
                6..=8 => value.get_mut("context"),
                _ => None,
            };
            match subtree {
                Some(node) => replace_at(node, &path, new),
                None => replace_at(&mut value, &path, new),
            }
        }
        pipeline(value.to_string().as_bytes());
    }

    #[test]
    fn byte_mutated_requests_never_panic(
        which in seed(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), 0..3u8), 1..8),
    ) {
        let mut body = corpus()[which].clone();
        for (at, byte, kind) in edits {
            let at = at % (body.len() + 1);
            match kind {
                0 if at < body.len() => body[at] = byte,
                1 => body.insert(at, byte),
                _ if at < body.len() => { body.remove(at); }
                _ => {}
            }
        }
        pipeline(&body);
    }

    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        pipeline(&body);
    }
}
