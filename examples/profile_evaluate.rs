//! A fixed amount of work to profile: parse the realistic order-select request, evaluate it
//! (prefetch only, no network) and serialise the cards, N times. Under
//! `valgrind --tool=callgrind` it gives instruction counts that do not change with machine
//! load (docs/perf.md, "Profile").
//!
//! cargo build --release --example profile_evaluate
//! valgrind --tool=callgrind target/release/examples/profile_evaluate \
//!     fixtures/perf/realistic-order-select.json 200

use chrono::NaiveDate;
use jak_sle_cds::cds::HookRequest;
use jak_sle_cds::config::Config;
use jak_sle_cds::server::pipeline::{load_knowledge, Pipeline};

/// The service binary's allocator, so that the profile shows what the service runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(n)) = (args.get(1), args.get(2)) else {
        anyhow::bail!("usage: profile_evaluate REQUEST.json ITERATIONS");
    };
    let iterations: u32 = n.parse()?;
    let body = std::fs::read(path)?;
    let config = Config::default();
    let pipeline = Pipeline::new(&config, load_knowledge(&config)?)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // The day the fixtures were built for (their dates are relative to it).
    let today = NaiveDate::from_ymd_opt(2026, 11, 26).expect("valid date");
    let mut bytes = 0usize;
    for _ in 0..iterations {
        let mut req = HookRequest::parse(&body)?;
        let service = pipeline.service_for(&req)?;
        let evaluation = rt.block_on(pipeline.evaluate(service, &mut req, today))?;
        anyhow::ensure!(!evaluation.response.cards.is_empty(), "no cards");
        bytes += serde_json::to_vec(&evaluation.response)?.len();
    }
    println!("{iterations} evaluations, {bytes} bytes of cards");
    Ok(())
}
