//! One evaluation: facts from the record, a decision per in-scope order, cards out
//! (critical first, then warning, then info; order of the drafts within each), each card
//! carrying the knowledge version as a CDS Hooks `extension`.

use chrono::NaiveDate;

use crate::cards::{self, RenderContext};
use crate::cds::{CdsResponse, OrderContext};
use crate::facts;
use crate::fhir::PatientRecord;
use crate::knowledge::Knowledge;
use crate::rules;

/// Evaluate one hook call whose data has been gathered. Pure: no I/O, no clock.
pub fn evaluate(
    ctx: &OrderContext,
    record: &PatientRecord,
    kb: &Knowledge,
    today: NaiveDate,
) -> CdsResponse {
    let orders = facts::order::classify_orders(ctx, record, kb);
    if orders.is_empty() {
        return CdsResponse::default();
    }
    let patient_facts = facts::derive(record, kb, today);
    if patient_facts.sle.is_empty() {
        return CdsResponse::default();
    }
    let mut cards = Vec::new();
    for order in &orders {
        let decision = rules::decide(&patient_facts, order, kb);
        let rc = RenderContext {
            kb,
            facts: &patient_facts,
            order,
            patient_id: &ctx.patient_id,
            today,
        };
        cards.extend(cards::render(&decision, &rc));
    }
    // Every card names the knowledge that produced it, so feedback joins to it.
    let extension = kb.version.extension();
    for card in &mut cards {
        card.extension = Some(extension.clone());
    }
    // Stable: within one indicator the cards keep their order.
    cards.sort_by_key(|c| std::cmp::Reverse(c.indicator));
    CdsResponse {
        cards,
        system_actions: Vec::new(),
    }
}
