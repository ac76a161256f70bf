//! One evaluation: facts from the record, a decision per in-scope order (order hooks) or a
//! monitoring review of the active JAK/TYK2 therapies (patient-view), cards out (critical
//! first, then warning, then info; order of the drafts within each), each card carrying
//! the knowledge version as a CDS Hooks `extension`.

use chrono::NaiveDate;

use crate::cards::{self, RenderContext};
use crate::cds::{CdsResponse, Hook, OrderContext};
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
    if ctx.hook == Hook::PatientView {
        return monitor(ctx, record, kb, today);
    }
    let orders = facts::order::classify_orders(ctx, record, kb);
    if orders.is_empty() {
        return CdsResponse::default();
    }
    let mut patient_facts = facts::derive(record, kb, today);
    if patient_facts.sle.is_empty() {
        return CdsResponse::default();
    }
    patient_facts
        .risk
        .live_vaccines
        .extend(facts::risk::drafted_live_vaccines(ctx, kb, today));
    let drafted: Vec<facts::Agent> = orders.iter().map(|o| o.agent).collect();
    let mut cards = Vec::new();
    // Each pre-treatment item once per response (knowledge.md 4.6).
    let mut said: Vec<&'static str> = Vec::new();
    let mut referred = false;
    for order in &orders {
        let mut decision = rules::decide(&patient_facts, order, kb, &drafted);
        // The specialist-centre referral once per response, not on every order's card.
        if referred {
            decision.refractory_referral = false;
        }
        referred |= decision.refractory_referral;
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
    sorted(cards, kb)
}

/// patient-view: the same facts, the monitoring rules and cards (knowledge.md 4.11). Silent
/// without an active JAK/TYK2 therapy, without SLE, or without a finding.
fn monitor(
    ctx: &OrderContext,
    record: &PatientRecord,
    kb: &Knowledge,
    today: NaiveDate,
) -> CdsResponse {
    let monitoring = facts::therapy::derive(record, kb);
    if monitoring.therapies.is_empty() {
        return CdsResponse::default();
    }
    let patient_facts = facts::derive(record, kb, today);
    if patient_facts.sle.is_empty() {
        return CdsResponse::default();
    }
    let review = rules::monitoring::review(&patient_facts, &monitoring, kb, today);
    sorted(
        cards::monitoring::render(&review, kb, &ctx.patient_id, today),
        kb,
    )
}

/// Every card names the knowledge that produced it (so feedback joins to it); critical
/// first, then warning, then info; stable within one indicator.
fn sorted(mut cards: Vec<crate::cds::Card>, kb: &Knowledge) -> CdsResponse {
    let extension = kb.version.extension();
    for card in &mut cards {
        card.extension = Some(extension.clone());
    }
    cards.sort_by_key(|c| std::cmp::Reverse(c.indicator));
    CdsResponse {
        cards,
        system_actions: Vec::new(),
    }
}
