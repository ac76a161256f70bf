//! One evaluation: facts from the record, a decision per in-scope order, cards out
//! (critical first, then warning, then info; order of the drafts within each).

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
    let drafted: Vec<facts::Agent> = orders.iter().map(|o| o.agent).collect();
    let mut cards = Vec::new();
    // Each pre-treatment item once per response (knowledge.md 4.6).
    let mut said: Vec<&'static str> = Vec::new();
    for order in &orders {
        let mut decision = rules::decide(&patient_facts, order, kb, &drafted);
        decision.pretreatment.retain(|i| !said.contains(&i.key()));
        said.extend(decision.pretreatment.iter().map(|i| i.key()));
        let rc = RenderContext {
            kb,
            facts: &patient_facts,
            order,
            patient_id: &ctx.patient_id,
            user_id: ctx.user_id.as_deref(),
            today,
        };
        cards.extend(cards::render(&decision, &rc));
    }
    // Stable: within one indicator the cards keep their order.
    cards.sort_by_key(|c| std::cmp::Reverse(c.indicator));
    CdsResponse {
        cards,
        system_actions: Vec::new(),
    }
}
