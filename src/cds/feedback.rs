//! Feedback (`POST /cds-services/{id}/feedback`): what the clinician did with a card.

use serde::{Deserialize, Serialize};

use super::card::Coding;

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct FeedbackRequest {
    pub feedback: Vec<FeedbackItem>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Accepted,
    Overridden,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Overridden => "overridden",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct AcceptedSuggestion {
    pub id: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OverrideReason {
    pub reason: Option<Coding>,
    pub user_comment: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FeedbackItem {
    /// The card's uuid.
    pub card: String,
    pub outcome: Outcome,
    #[serde(default)]
    pub accepted_suggestions: Vec<AcceptedSuggestion>,
    pub override_reason: Option<OverrideReason>,
    /// RFC 3339 UTC timestamp, kept as sent (validated on receipt).
    pub outcome_timestamp: String,
}
