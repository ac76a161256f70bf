//! Feedback (`POST /cds-services/{id}/feedback`): what the clinician did with a card.

use serde::{Deserialize, Serialize};

use super::card::Coding;
use super::request::redact_quoted;

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

/// Why a feedback body was refused (HTTP 400). Messages name the item and field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FeedbackError {
    #[error("request body: {0}")]
    Malformed(String),
    #[error("{0}")]
    Invalid(String),
}

impl FeedbackRequest {
    /// Parse and check a feedback body against the CDS Hooks 2.0.1 shape: `card` a non-empty
    /// string, `outcome` accepted|overridden, `acceptedSuggestions` (each with an `id`) required
    /// for accepted, `outcomeTimestamp` an RFC 3339 date-time.
    pub fn parse(body: &[u8]) -> Result<FeedbackRequest, FeedbackError> {
        let req: FeedbackRequest = serde_json::from_slice(body)
            .map_err(|e| FeedbackError::Malformed(redact_quoted(&e.to_string())))?;
        if req.feedback.is_empty() {
            return Err(FeedbackError::Invalid("feedback must not be empty".into()));
        }
        for (i, item) in req.feedback.iter().enumerate() {
            item.check()
                .map_err(|reason| FeedbackError::Invalid(format!("feedback[{i}].{reason}")))?;
        }
        Ok(req)
    }
}

impl FeedbackItem {
    fn check(&self) -> Result<(), String> {
        if self.card.trim().is_empty() {
            return Err("card: must be the card's uuid".into());
        }
        if self.outcome == Outcome::Accepted {
            if self.accepted_suggestions.is_empty() {
                return Err("acceptedSuggestions: required when outcome is accepted".into());
            }
            if self
                .accepted_suggestions
                .iter()
                .any(|s| s.id.trim().is_empty())
            {
                return Err("acceptedSuggestions: every id must be non-empty".into());
            }
        }
        chrono::DateTime::parse_from_rfc3339(&self.outcome_timestamp)
            .map_err(|_| "outcomeTimestamp: must be an RFC 3339 date-time".to_string())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: serde_json::Value) -> Result<FeedbackRequest, FeedbackError> {
        FeedbackRequest::parse(v.to_string().as_bytes())
    }

    #[test]
    fn spec_examples_are_accepted() {
        let accepted = serde_json::json!({"feedback": [{"card": "4e0a3a1e-3283-4575-ab82-028d55fe2719",
            "outcome": "accepted", "acceptedSuggestions": [{"id": "e56e1945-20b3-4393-8503-a1a20fd73152"}],
            "outcomeTimestamp": "2021-12-11T10:05:31Z"}]});
        let overridden = serde_json::json!({"feedback": [{"card": "9368d37b-283f-44a0-93ea-547cebab93ed",
            "outcome": "overridden", "overrideReason": {"reason": {"code": "reason-code-provided-by-service",
            "system": "http://example.org/cds-services/fhir/CodeSystem/override-reasons",
            "display": "Patient refused"}, "userComment": "Patient is in hospice"},
            "outcomeTimestamp": "2020-12-11T00:00:00.52Z"}]});
        assert!(parse(accepted).is_ok());
        let r = parse(overridden).unwrap();
        assert_eq!(r.feedback[0].outcome, Outcome::Overridden);
    }

    #[test]
    fn wrong_shapes_are_refused_with_the_field_named() {
        let cases = [
            (
                serde_json::json!({"feedback": [{"card": "c", "outcome": "accepted",
                "outcomeTimestamp": "2021-12-11T10:05:31Z"}]}),
                "acceptedSuggestions",
            ),
            (
                serde_json::json!({"feedback": [{"card": "c", "outcome": "ignored",
                "outcomeTimestamp": "2021-12-11T10:05:31Z"}]}),
                "unknown variant",
            ),
            (
                serde_json::json!({"feedback": [{"card": "c", "outcome": "overridden",
                "outcomeTimestamp": "yesterday"}]}),
                "outcomeTimestamp",
            ),
            (
                serde_json::json!({"feedback": [{"outcome": "overridden",
                "outcomeTimestamp": "2021-12-11T10:05:31Z"}]}),
                "card",
            ),
            (serde_json::json!({"feedback": []}), "empty"),
            (serde_json::json!({"feedback": {"card": "c"}}), "sequence"),
        ];
        for (body, needle) in cases {
            let e = parse(body.clone()).unwrap_err().to_string();
            assert!(e.contains(needle), "{body}: {e}");
        }
    }
}
