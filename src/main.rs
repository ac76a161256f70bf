//! The `jak-sle-cds` command: `serve` (the default) runs the CDS Hooks service, `evaluate`
//! answers one hook request from a file without a server, `report` summarises stored
//! feedback and audit records (text, or an HTML page with charts), `cohort` runs a
//! population dry run over a FHIR Bulk Data export (docs/governance.md).
//!
//! Logs go to stderr: the filter comes from `RUST_LOG` (default `info`), the format from
//! `JAK_SLE_LOG_FORMAT` (`json` for one JSON object per line, otherwise human-readable);
//! traces are exported when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (docs/operations.md).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};

use jak_sle_cds::cds::HookRequest;
use jak_sle_cds::config::Config;
use jak_sle_cds::server::pipeline::load_knowledge;
use jak_sle_cds::server::{Application, Pipeline};

/// mimalloc instead of the system allocator: parsing a hook request allocates thousands of
/// small strings, and glibc's malloc took ~20% of the evaluation (README, Performance).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "jak-sle-cds", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the CDS Hooks service (the default).
    Serve {
        /// TOML configuration file; every key is optional.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Address to listen on, overriding [server] listen (e.g. 0.0.0.0:8080).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Print the CDS response for one hook request (no server; network only for a fallback
    /// fetch from an allowed fhirServer).
    Evaluate {
        /// The hook request (JSON, as a CDS client would POST it).
        #[arg(long)]
        request: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        /// Service id; default: the service for the request's hook.
        #[arg(long)]
        service: Option<String>,
        #[arg(long)]
        config: Option<PathBuf>,
        /// Evaluate as of this day (YYYY-MM-DD) instead of today.
        #[arg(long)]
        today: Option<NaiveDate>,
    },
    /// Print the effective configuration (file, then `JAK_SLE_CDS__…` variables over it)
    /// with secrets masked; exit non-zero when it is invalid.
    CheckConfig {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Summarise stored feedback and audit records for the CDS committee, per knowledge
    /// version (live and silent cards apart).
    Report {
        /// Only records on or after this day (YYYY-MM-DD).
        #[arg(long)]
        since: Option<NaiveDate>,
        #[arg(long)]
        config: Option<PathBuf>,
        /// text (default) or html (one self-contained page with charts; needs --out).
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
        /// Write the report to this file instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Population dry run: evaluate a hypothetical order for every SLE patient of a FHIR Bulk
    /// Data export; writes verdicts.csv and summary.html into --out.
    Cohort {
        /// The export folder (*.ndjson and *.ndjson.gz files).
        #[arg(long)]
        bulk: PathBuf,
        /// Output folder (created if needed).
        #[arg(long)]
        out: PathBuf,
        /// The agent ordered (a JAK or TYK2 inhibitor).
        #[arg(long, default_value = "baricitinib")]
        agent: String,
        /// Daily dose, mg.
        #[arg(long, default_value_t = 4.0)]
        dose_mg: f64,
        /// Evaluate as of this day (YYYY-MM-DD) instead of today.
        #[arg(long)]
        today: Option<NaiveDate>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Json,
    Text,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum ReportFormat {
    Text,
    Html,
}

#[tokio::main]
async fn main() -> ExitCode {
    let _telemetry = jak_sle_cds::server::telemetry::init();
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Serve {
        config: None,
        listen: None,
    }) {
        Command::Serve { config, listen } => serve(config.as_deref(), listen).await,
        Command::Evaluate {
            request,
            format,
            service,
            config,
            today,
        } => {
            evaluate(
                &request,
                format,
                service.as_deref(),
                config.as_deref(),
                today,
            )
            .await
        }
        Command::Report {
            since,
            config,
            format,
            out,
        } => report(config.as_deref(), since, format, out.as_deref()).await,
        Command::Cohort {
            bulk,
            out,
            agent,
            dose_mg,
            today,
            config,
        } => cohort(&bulk, &out, &agent, dose_mg, today, config.as_deref()),
        Command::CheckConfig { config } => check_config(config.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jak-sle-cds: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The file's configuration (or the defaults) with the environment's over it.
fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    Ok(Config::load_from_environment(path)?.config)
}

fn check_config(path: Option<&Path>) -> anyhow::Result<()> {
    let loaded = Config::load_from_environment(path)?;
    load_knowledge(&loaded.config)?;
    print!("{}", loaded.masked_toml()?);
    Ok(())
}

async fn serve(config: Option<&Path>, listen: Option<std::net::SocketAddr>) -> anyhow::Result<()> {
    let mut config = load_config(config)?;
    if let Some(addr) = listen {
        config.server.listen = addr;
    }
    let knowledge = load_knowledge(&config)?;
    let app = Application::build(config, knowledge).await?;
    app.run_until_stopped().await?;
    Ok(())
}

async fn evaluate(
    request: &Path,
    format: Format,
    service: Option<&str>,
    config: Option<&Path>,
    today: Option<NaiveDate>,
) -> anyhow::Result<()> {
    let config = load_config(config)?;
    let pipeline = Pipeline::new(&config, load_knowledge(&config)?)?;
    let body = std::fs::read(request)
        .with_context(|| format!("cannot read request file {}", request.display()))?;
    let mut req =
        HookRequest::from_body(body.into()).with_context(|| format!("{}", request.display()))?;
    let service = match service {
        Some(id) => pipeline
            .catalog()
            .get(id)
            .with_context(|| format!("no service with id {id:?}"))?,
        None => pipeline.service_for(&req)?,
    };
    let today = today.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let evaluation = pipeline.evaluate(service, &mut req, today).await?;
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&evaluation.response)?),
        Format::Text => print!("{}", jak_sle_cds::cards::text::render(&evaluation.response)),
    }
    Ok(())
}

async fn report(
    config: Option<&Path>,
    since: Option<NaiveDate>,
    format: ReportFormat,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    if format == ReportFormat::Html && out.is_none() {
        anyhow::bail!("report --format html needs --out FILE");
    }
    let config = load_config(config)?;
    let store = jak_sle_cds::store::Store::open(&config.store).await?;
    let report = store.report(since).await?;
    let text = match format {
        ReportFormat::Text => jak_sle_cds::report::text::render(&report),
        ReportFormat::Html => {
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            jak_sle_cds::report::committee::render(&report, &now)?
        }
    };
    match out {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(())
}

fn cohort(
    bulk: &Path,
    out: &Path,
    agent: &str,
    dose_mg: f64,
    today: Option<NaiveDate>,
    config: Option<&Path>,
) -> anyhow::Result<()> {
    use jak_sle_cds::cohort::{self, CohortOptions, HypotheticalOrder};
    let config = load_config(config)?;
    let kb = load_knowledge(&config)?;
    let order = HypotheticalOrder::new(agent, dose_mg, &kb).map_err(anyhow::Error::msg)?;
    let opts = CohortOptions {
        bulk: bulk.to_path_buf(),
        out: out.to_path_buf(),
        order,
        today: today.unwrap_or_else(|| chrono::Utc::now().date_naive()),
        progress: true,
    };
    let run = cohort::run(&opts, &kb)?;
    let secs = run.elapsed.as_secs_f64().max(1e-9);
    eprintln!(
        "cohort: {} patients, {} with SLE, {:.1} MB of NDJSON in {secs:.1} s \
         ({:.0} patients/s, {:.1} SLE patients/s, {:.1} MB/s); {} bad line(s)",
        run.patients,
        run.verdicts.len(),
        run.bytes as f64 / 1e6,
        run.patients as f64 / secs,
        run.verdicts.len() as f64 / secs,
        run.bytes as f64 / 1e6 / secs,
        run.bad_lines,
    );
    for b in run.bad_examples.iter().take(20) {
        eprintln!("cohort: bad line {}:{}: {}", b.file, b.line, b.reason);
    }
    if run.bad_examples.len() > 20 {
        eprintln!("cohort: … more bad lines in summary.html");
    }
    println!("{}", out.join("verdicts.csv").display());
    println!("{}", out.join("summary.html").display());
    Ok(())
}
