//! One patient's line of the dry run, read from the cards the engine returned: the verdict
//! card's topic and indicator, its reasons, the missing data and risk factors it lists (the
//! detail's Markdown sections), and the other cards' topics. Only card fields are read, so
//! the rules' internal types stay free to change.

use crate::cards::Topic;
use crate::cds::{Card, CdsResponse};

/// Verdict of a patient for whom the engine returned no card (e.g. SLE not credible).
pub const NO_ADVICE: &str = "no-advice";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientVerdict {
    pub patient_id: String,
    /// "contraindicated", "not-recommended", "conditional" or [`NO_ADVICE`].
    pub verdict: String,
    /// The verdict card's indicator ("critical", "warning", "info"; empty without a card).
    pub indicator: String,
    pub reasons: Vec<String>,
    pub missing: Vec<String>,
    pub risk_factors: Vec<String>,
    /// "topic (indicator)" of the other cards (dose, screening, TYK2).
    pub other_cards: Vec<String>,
}

const VERDICTS: [(Topic, &str); 3] = [
    (Topic::Contraindicated, "contraindicated"),
    (Topic::NotRecommended, "not-recommended"),
    (Topic::Conditional, "conditional"),
];

/// Read the verdict of `patient_id` from the engine's response.
pub fn read(patient_id: &str, response: &CdsResponse) -> PatientVerdict {
    let verdict_of = |card: &Card| {
        VERDICTS
            .iter()
            .find(|(t, _)| card.topic() == Some(t.code()))
            .map(|(_, name)| *name)
    };
    let main = response
        .cards
        .iter()
        .find_map(|c| verdict_of(c).map(|v| (c, v)));
    let other_cards = response
        .cards
        .iter()
        .filter(|c| verdict_of(c).is_none())
        .map(|c| format!("{} ({})", c.topic().unwrap_or("?"), c.indicator.as_str()))
        .collect();
    let Some((card, verdict)) = main else {
        return PatientVerdict {
            patient_id: patient_id.to_string(),
            verdict: NO_ADVICE.to_string(),
            indicator: String::new(),
            reasons: Vec::new(),
            missing: Vec::new(),
            risk_factors: Vec::new(),
            other_cards,
        };
    };
    let sections = sections(card.detail.as_deref().unwrap_or(""));
    let find = |pred: &dyn Fn(&str) -> bool| -> Vec<String> {
        sections
            .iter()
            .filter(|(h, _)| pred(&h.to_lowercase()))
            .flat_map(|(_, items)| items.iter().cloned())
            .collect()
    };
    let mut reasons = find(&|h| h == "why" || h.starts_with("reasons"));
    if reasons.is_empty() {
        reasons.push(card.summary.clone());
    }
    PatientVerdict {
        patient_id: patient_id.to_string(),
        verdict: verdict.to_string(),
        indicator: card.indicator.as_str().to_string(),
        reasons,
        missing: find(&|h| h.starts_with("missing")),
        risk_factors: find(&|h| h.contains("risk factor")),
        other_cards,
    }
}

/// The detail's sections: a bold line ("**Why**") and the bullets under it, "none" left out.
fn sections(detail: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in detail.lines().map(str::trim) {
        if let Some(h) = line
            .strip_prefix("**")
            .and_then(|l| l.strip_suffix("**"))
            .filter(|h| !h.contains("**"))
        {
            out.push((h.trim_end_matches(':').trim().to_string(), Vec::new()));
        } else if let (Some(item), Some((_, items))) = (line.strip_prefix("- "), out.last_mut()) {
            if item.trim() != "none" {
                items.push(item.trim().to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_read_from_the_markdown_detail() {
        let s = sections(
            "**Do not start it.**\n\n**Why**\n\n- eGFR 25\n- VTE\n\n**Missing data**\n\n- none\n",
        );
        assert_eq!(
            s[1],
            (
                "Why".to_string(),
                vec!["eGFR 25".to_string(), "VTE".to_string()]
            )
        );
        assert_eq!(s[2], ("Missing data".to_string(), Vec::<String>::new()));
    }
}
