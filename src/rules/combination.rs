//! Two JAK/TYK2 inhibitors drafted in the same call (knowledge.md 4.2): each such order is not
//! recommended, reason "combination" (labels: not in combination with other JAK inhibitors).

use super::finding::{Finding, Input, Level};
use super::ReasonCode;

pub fn rule(i: &Input) -> Vec<Finding> {
    let me = i.agent();
    let mut others: Vec<&str> = Vec::new();
    let mut own = 0;
    for a in i.drafted {
        if *a == me {
            own += 1;
        } else if !others.contains(&a.name()) {
            others.push(a.name());
        }
    }
    if own > 1 && !others.contains(&me.name()) {
        others.push(me.name());
    }
    if others.is_empty() {
        return Vec::new();
    }
    vec![Finding::new(
        Level::NotRecommended,
        ReasonCode::Combination,
        format!(
            "Combination: {} drafted in the same order set (labels: not with other JAK inhibitors)",
            others.join(", ")
        ),
        Vec::new(),
    )]
}
