//! `verdicts.csv`: one row per SLE patient, lists joined with "; ".

use std::path::Path;

use super::verdict::PatientVerdict;

pub const HEADER: [&str; 7] = [
    "patient_id",
    "verdict",
    "indicator",
    "reasons",
    "missing_data",
    "risk_factors",
    "other_cards",
];

/// Write the verdicts to `path` (RFC 4180 quoting).
pub fn write_csv(path: &Path, verdicts: &[PatientVerdict]) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record(HEADER)?;
    for v in verdicts {
        w.write_record([
            v.patient_id.as_str(),
            v.verdict.as_str(),
            v.indicator.as_str(),
            &v.reasons.join("; "),
            &v.missing.join("; "),
            &v.risk_factors.join("; "),
            &v.other_cards.join("; "),
        ])?;
    }
    w.flush()?;
    Ok(())
}
