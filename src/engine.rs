//! One evaluation: facts from the record, a decision per in-scope order, cards out.

use chrono::NaiveDate;

use crate::cds::{CdsResponse, OrderContext};
use crate::fhir::PatientRecord;
use crate::knowledge::Knowledge;

/// Evaluate one hook call whose data has been gathered. Pure: no I/O, no clock.
pub fn evaluate(
    ctx: &OrderContext,
    record: &PatientRecord,
    kb: &Knowledge,
    today: NaiveDate,
) -> CdsResponse {
    let _ = (ctx, record, kb, today);
    CdsResponse::default()
}
