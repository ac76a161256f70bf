//! Progress of a cohort pass over the export's bytes on disk: an indicatif bar when stderr
//! is a terminal, otherwise a plain line at every tenth (logs and CI stay readable).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
    label: String,
    total: u64,
    done: AtomicU64,
    /// Tenths already reported as plain lines.
    tenths: AtomicU64,
    plain: bool,
}

impl Progress {
    /// Progress of `label` over `total` bytes, drawn on stderr.
    pub fn new(label: &str, total: u64) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let bar = terminal.then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg:>12} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_message(label.to_string());
            bar
        });
        Progress {
            bar,
            label: label.to_string(),
            total,
            done: AtomicU64::new(0),
            tenths: AtomicU64::new(0),
            plain: !terminal,
        }
    }

    /// No output at all (tests).
    pub fn quiet() -> Progress {
        Progress {
            bar: None,
            label: String::new(),
            total: 0,
            done: AtomicU64::new(0),
            tenths: AtomicU64::new(0),
            plain: false,
        }
    }

    /// `n` more bytes read.
    pub fn advance(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
            return;
        }
        let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
        if !self.plain || self.total == 0 {
            return;
        }
        let tenth = (done * 10 / self.total).min(10);
        let seen = self.tenths.fetch_max(tenth, Ordering::Relaxed);
        if tenth > seen {
            eprintln!(
                "{}: {}% ({:.1} of {:.1} MB)",
                self.label,
                tenth * 10,
                done as f64 / 1e6,
                self.total as f64 / 1e6
            );
        }
    }

    /// Close the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}
