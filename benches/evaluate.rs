//! In-process cost of one hook call: parse the request body, gather from prefetch (no
//! network), derive facts, decide and render cards, for the realistic patient of
//! fixtures/perf/ (193 resources, 172 KB) and a minimal one; the realistic call is also split
//! into parsing alone and the pipeline alone. Target (issue 13): realistic ≤ 250 µs median
//! on this 2-core machine.
//!
//! cargo bench --bench evaluate -- --warm-up-time 1 --measurement-time 5

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use jak_sle_cds::cds::HookRequest;
use jak_sle_cds::config::Config;
use jak_sle_cds::server::pipeline::{load_knowledge, Pipeline};

/// The service binary's allocator (src/main.rs), so that the bench measures what it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The day the fixtures were built for (their dates are relative to it).
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).expect("valid date")
}

fn bench(c: &mut Criterion) {
    let config = Config::default();
    let kb = load_knowledge(&config).expect("embedded knowledge");
    let pipeline = Pipeline::new(&config, kb).expect("service catalog");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let today = today();
    let mut group = c.benchmark_group("evaluate");
    for name in ["realistic", "minimal"] {
        let path = format!("fixtures/perf/{name}-order-select.json");
        let body = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        // A bench of an error path measures nothing: the fixture must produce cards.
        let req = HookRequest::parse(&body).expect("fixture parses");
        let service = pipeline.service_for(&req).expect("service").clone();
        let evaluation = rt
            .block_on(pipeline.evaluate(&service, &mut req.clone(), today))
            .expect("fixture evaluates");
        assert!(
            !evaluation.response.cards.is_empty(),
            "{name}: the fixture should produce cards"
        );
        assert_eq!(
            evaluation.unavailable, 0,
            "{name}: everything is prefetched"
        );
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(format!("{name}/full"), |b| {
            b.iter(|| {
                let mut req = HookRequest::parse(&body).expect("parses");
                let evaluation = rt
                    .block_on(pipeline.evaluate(&service, &mut req, today))
                    .expect("evaluates");
                serde_json::to_vec(&evaluation.response).expect("serialises")
            })
        });
        if name == "realistic" {
            group.bench_function(format!("{name}/parse"), |b| {
                b.iter(|| HookRequest::parse(&body).expect("parses"))
            });
            // The floor of any serde_json read of this body: every byte scanned, nothing kept.
            group.bench_function(format!("{name}/scan-only"), |b| {
                b.iter(|| serde_json::from_slice::<serde::de::IgnoredAny>(&body).expect("JSON"))
            });
            // The evaluation takes the prefetched data out of the request: each iteration gets
            // a copy, made outside the measurement.
            group.bench_function(format!("{name}/pipeline"), |b| {
                b.iter_batched(
                    || req.clone(),
                    |mut req| {
                        rt.block_on(pipeline.evaluate(&service, &mut req, today))
                            .expect("evaluates")
                    },
                    BatchSize::SmallInput,
                )
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
