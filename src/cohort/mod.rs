//! The population dry run (`jak-sle-cds cohort`, docs/governance.md): a FHIR Bulk Data
//! export in, a hypothetical order of one agent evaluated for every SLE patient by the
//! service's own engine ([`crate::engine::evaluate`]), `verdicts.csv` and `summary.html` out.
//!
//! It streams: pass 1 reads the Condition files for the SLE patients, pass 2 reads every file
//! and keeps only those patients' resources, so memory follows the SLE cohort, not the export.
//! Bad lines are counted and reported with their file and line number, never fatal.

pub mod bulk;
pub mod order;
pub mod output;
pub mod progress;
pub mod select;
pub mod summary;
pub mod verdict;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::NaiveDate;

use crate::engine;
use crate::knowledge::Knowledge;

pub use bulk::BadLine;
pub use order::HypotheticalOrder;
pub use verdict::PatientVerdict;

#[derive(Debug, thiserror::Error)]
pub enum CohortError {
    #[error("{0}")]
    Usage(String),
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> CohortError {
    CohortError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct CohortOptions {
    pub bulk: PathBuf,
    pub out: PathBuf,
    pub order: HypotheticalOrder,
    pub today: NaiveDate,
    /// Draw progress on stderr.
    pub progress: bool,
}

/// The result of a run (also what `summary.html` shows).
#[derive(Debug, Clone)]
pub struct CohortRun {
    pub order: HypotheticalOrder,
    pub today: NaiveDate,
    pub knowledge_version: String,
    pub files: usize,
    /// Uncompressed NDJSON bytes of the whole export (pass 2).
    pub bytes: u64,
    pub lines: u64,
    /// Patient resources in the export.
    pub patients: u64,
    /// One per patient with an SLE-coded Condition, sorted by patient id.
    pub verdicts: Vec<PatientVerdict>,
    pub bad_lines: u64,
    pub bad_examples: Vec<BadLine>,
    pub elapsed: Duration,
}

/// Run the dry run and write `verdicts.csv` and `summary.html` into `opts.out`.
pub fn run(opts: &CohortOptions, kb: &Knowledge) -> Result<CohortRun, CohortError> {
    let started = Instant::now();
    let files = bulk::list(&opts.bulk).map_err(|e| io_error(&opts.bulk, e))?;
    if files.is_empty() {
        return Err(CohortError::Usage(format!(
            "{}: no *.ndjson or *.ndjson.gz file",
            opts.bulk.display()
        )));
    }
    std::fs::create_dir_all(&opts.out).map_err(|e| io_error(&opts.out, e))?;
    let progress = |label: &str, files: &[bulk::ExportFile]| {
        if opts.progress {
            progress::Progress::new(label, files.iter().map(|f| f.size).sum())
        } else {
            progress::Progress::quiet()
        }
    };

    let conditions: Vec<bulk::ExportFile> = files
        .iter()
        .filter(|f| f.holds("Condition"))
        .cloned()
        .collect();
    let p1 = progress("pass 1/2", &conditions);
    let (cohort, pass1) = select::sle_patients(&files, kb, &p1);
    p1.finish();
    let p2 = progress("pass 2/2", &files);
    let (found, pass2) = select::records(&files, &cohort, &p2);
    p2.finish();

    let mut verdicts = Vec::with_capacity(found.records.len());
    for (id, record) in &found.records {
        let ctx = opts
            .order
            .context(id)
            .map_err(|e| CohortError::Usage(format!("patient id {id:?}: {e}")))?;
        let response = engine::evaluate(&ctx, record, kb, opts.today);
        verdicts.push(verdict::read(id, &response));
    }

    // Pass 2 reads every file (Condition files again): a line bad in both passes is
    // reported once; pass 1 alone sees Conditions that are JSON but not readable Conditions.
    let mut bad_examples = pass2.bad_kept;
    let mut bad_lines = pass2.bad;
    for b in pass1.bad_kept {
        if !bad_examples
            .iter()
            .any(|k| k.file == b.file && k.line == b.line)
        {
            bad_lines += 1;
            bad_examples.push(b);
        }
    }
    bad_examples.sort_by(|a, b| a.file.cmp(&b.file).then(a.line.cmp(&b.line)));
    let run = CohortRun {
        order: opts.order.clone(),
        today: opts.today,
        knowledge_version: kb.version.label(),
        files: files.len(),
        bytes: pass2.bytes,
        lines: pass2.lines,
        patients: found.patients_seen,
        verdicts,
        bad_lines,
        bad_examples,
        elapsed: started.elapsed(),
    };
    let csv = opts.out.join("verdicts.csv");
    output::write_csv(&csv, &run.verdicts).map_err(|e| io_error(&csv, e))?;
    let page = summary::render(&run).map_err(|e| CohortError::Usage(e.to_string()))?;
    let html = opts.out.join("summary.html");
    std::fs::write(&html, page).map_err(|e| io_error(&html, e))?;
    Ok(run)
}
