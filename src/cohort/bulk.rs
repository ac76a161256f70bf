//! Reading a FHIR Bulk Data export folder: its `*.ndjson` and `*.ndjson.gz` files, line by
//! line with one reused buffer, several files at a time (one thread per core). A line that is
//! not a readable resource is counted and kept (file, line number, reason: never its
//! content) for the report; it never stops the run.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::progress::Progress;

/// Bad lines kept with their place; beyond, they are only counted.
const MAX_BAD_KEPT: usize = 1000;

/// One file of the export.
#[derive(Debug, Clone)]
pub struct ExportFile {
    pub path: PathBuf,
    /// The file name, as reports show it.
    pub name: String,
    pub gzip: bool,
    /// Bytes on disk (compressed for .gz).
    pub size: u64,
}

impl ExportFile {
    /// Whether the file is named for `resource_type` ("Condition.ndjson",
    /// "Condition.000.ndjson.gz", "Condition-2.ndjson").
    pub fn holds(&self, resource_type: &str) -> bool {
        self.name
            .strip_prefix(resource_type)
            .is_some_and(|rest| rest.starts_with(['.', '-', '_']))
    }
}

/// A line that could not be read as a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub file: String,
    /// 1-based.
    pub line: u64,
    pub reason: String,
}

/// What scanning some files found, besides each file's own result.
#[derive(Debug, Default)]
pub struct ScanTotals {
    /// Uncompressed NDJSON bytes read.
    pub bytes: u64,
    pub lines: u64,
    pub bad: u64,
    /// The first [`MAX_BAD_KEPT`] bad lines, in file order.
    pub bad_kept: Vec<BadLine>,
}

/// The `*.ndjson` and `*.ndjson.gz` files directly in `dir`, sorted by name.
pub fn list(dir: &Path) -> std::io::Result<Vec<ExportFile>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let gzip = name.ends_with(".ndjson.gz");
        if !(gzip || name.ends_with(".ndjson")) || !entry.file_type()?.is_file() {
            continue;
        }
        files.push(ExportFile {
            path: entry.path(),
            name,
            gzip,
            size: entry.metadata()?.len(),
        });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

/// Per-file scanning state handed to the line visitor.
pub struct FileScan<'a> {
    pub file: &'a ExportFile,
    bad: Vec<BadLine>,
    bad_count: u64,
}

impl FileScan<'_> {
    /// Record a bad line (its reason must not quote the line).
    pub fn bad(&mut self, line: u64, reason: impl Into<String>) {
        self.bad_count += 1;
        if self.bad.len() < MAX_BAD_KEPT {
            self.bad.push(BadLine {
                file: self.file.name.clone(),
                line,
                reason: reason.into(),
            });
        }
    }
}

/// Visit every non-blank line of `files` (several files at once), giving each line's number
/// and text to `visit`, which returns what it keeps from that line, if anything. Returns
/// what was kept, per file in file order, and the totals. An unreadable file is reported as
/// a bad line 0 of that file.
pub fn scan<T, F>(files: &[ExportFile], progress: &Progress, visit: F) -> (Vec<Vec<T>>, ScanTotals)
where
    T: Send,
    F: Fn(&mut FileScan<'_>, u64, &str) -> Option<T> + Sync,
{
    /// What one file gave: kept items, its bad lines, bytes, lines.
    type Done<'f, T> = Option<(Vec<T>, FileScan<'f>, u64, u64)>;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Done<'_, T>>> = Mutex::new((0..files.len()).map(|_| None).collect());
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(files.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(file) = files.get(i) else { break };
                let mut fs = FileScan {
                    file,
                    bad: Vec::new(),
                    bad_count: 0,
                };
                let mut kept = Vec::new();
                let (bytes, lines) = match read_lines(file, progress, |n, line| {
                    if let Some(t) = visit(&mut fs, n, line) {
                        kept.push(t);
                    }
                }) {
                    Ok(counts) => counts,
                    Err((counts, e)) => {
                        fs.bad(counts.1 + 1, format!("file unreadable from here: {e}"));
                        counts
                    }
                };
                results.lock().unwrap_or_else(|p| p.into_inner())[i] =
                    Some((kept, fs, bytes, lines));
            });
        }
    });
    let mut totals = ScanTotals::default();
    let mut out = Vec::with_capacity(files.len());
    for (kept, fs, bytes, lines) in results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .flatten()
    {
        totals.bytes += bytes;
        totals.lines += lines;
        totals.bad += fs.bad_count;
        let room = MAX_BAD_KEPT.saturating_sub(totals.bad_kept.len());
        totals.bad_kept.extend(fs.bad.into_iter().take(room));
        out.push(kept);
    }
    (out, totals)
}

/// Counts on-disk bytes for the progress display.
struct Counting<'p, R> {
    inner: R,
    progress: &'p Progress,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

type Counts = (u64, u64);

/// Call `each(line_number, text)` for every non-blank line; (uncompressed bytes, lines).
fn read_lines(
    file: &ExportFile,
    progress: &Progress,
    mut each: impl FnMut(u64, &str),
) -> Result<Counts, (Counts, std::io::Error)> {
    let opened = File::open(&file.path).map_err(|e| ((0, 0), e))?;
    let counting = Counting {
        inner: opened,
        progress,
    };
    let reader: Box<dyn Read> = if file.gzip {
        Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
            1 << 16,
            counting,
        )))
    } else {
        Box::new(counting)
    };
    let mut reader = BufReader::with_capacity(1 << 18, reader);
    let mut buf = Vec::with_capacity(1 << 14);
    let (mut bytes, mut number) = (0_u64, 0_u64);
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| ((bytes, number), e))?;
        if n == 0 {
            return Ok((bytes, number));
        }
        bytes += n as u64;
        number += 1;
        match std::str::from_utf8(&buf) {
            Ok(text) if text.trim().is_empty() => {}
            Ok(text) => each(number, text.trim_end()),
            // Not UTF-8: NDJSON must be; handed on as text the visitor cannot parse.
            Err(_) => each(number, "\u{FFFD}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_gzip_files_are_read_line_by_line_and_named_by_type() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("Patient.ndjson"),
            "{\"a\":1}\n\n{\"b\":2}\n",
        )
        .unwrap();
        let gz = File::create(dir.path().join("Condition.000.ndjson.gz")).unwrap();
        let mut enc = flate2::write::GzEncoder::new(gz, flate2::Compression::fast());
        std::io::Write::write_all(&mut enc, b"x\ny\nz").unwrap();
        enc.finish().unwrap();
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        let files = list(dir.path()).unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["Condition.000.ndjson.gz", "Patient.ndjson"]);
        assert!(files[0].holds("Condition") && !files[0].holds("Cond"));
        let progress = Progress::quiet();
        let (kept, totals) = scan(&files, &progress, |fs, n, line| {
            if line == "y" {
                fs.bad(n, "not JSON");
            }
            Some(format!("{}:{n}:{line}", fs.file.name))
        });
        assert_eq!(
            kept[0],
            [
                "Condition.000.ndjson.gz:1:x",
                "Condition.000.ndjson.gz:2:y",
                "Condition.000.ndjson.gz:3:z"
            ]
        );
        assert_eq!(
            kept[1],
            ["Patient.ndjson:1:{\"a\":1}", "Patient.ndjson:3:{\"b\":2}"]
        );
        assert_eq!((totals.lines, totals.bad), (6, 1));
        assert_eq!(totals.bytes, 5 + 8 + 1 + 8);
        assert_eq!(
            totals.bad_kept,
            [BadLine {
                file: "Condition.000.ndjson.gz".into(),
                line: 2,
                reason: "not JSON".into()
            }]
        );
    }
}
