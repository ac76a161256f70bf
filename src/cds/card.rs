//! CDS Hooks response: cards, their source, suggestions with FHIR actions, and links.
//! Optional fields are skipped when empty: the spec forbids null or empty JSON elements.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CdsResponse {
    pub cards: Vec<Card>,
    #[serde(
        rename = "systemActions",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub system_actions: Vec<Action>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Indicator {
    Info,
    Warning,
    Critical,
}

impl Indicator {
    pub fn as_str(self) -> &'static str {
        match self {
            Indicator::Info => "info",
            Indicator::Warning => "warning",
            Indicator::Critical => "critical",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, Hash)]
pub struct Coding {
    pub system: String,
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Source {
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<Coding>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ActionType {
    Create,
    Update,
    Delete,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Action {
    #[serde(rename = "type")]
    pub action_type: ActionType,
    pub description: String,
    /// The full resource for create/update; never used for delete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<Value>,
    /// "ResourceType/id" of the resource to delete.
    #[serde(rename = "resourceId", skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Suggestion {
    pub label: String,
    pub uuid: String,
    #[serde(rename = "isRecommended", skip_serializing_if = "Option::is_none")]
    pub is_recommended: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum SelectionBehavior {
    #[serde(rename = "at-most-one")]
    AtMostOne,
    #[serde(rename = "any")]
    Any,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Link {
    pub label: String,
    pub url: String,
    /// "absolute" (all links of this service).
    #[serde(rename = "type")]
    pub link_type: String,
}

impl Link {
    pub fn absolute(label: impl Into<String>, url: impl Into<String>) -> Link {
        Link {
            label: label.into(),
            url: url.into(),
            link_type: "absolute".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Card {
    pub uuid: String,
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub indicator: Indicator,
    pub source: Source,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suggestions: Vec<Suggestion>,
    #[serde(rename = "selectionBehavior", skip_serializing_if = "Option::is_none")]
    pub selection_behavior: Option<SelectionBehavior>,
    #[serde(
        rename = "overrideReasons",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub override_reasons: Vec<Coding>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// CDS Hooks extension: the knowledge version that produced the card (set by the engine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<Value>,
}

impl Card {
    /// The card's topic code (`source.topic.code`), the stable key analytics use.
    pub fn topic(&self) -> Option<&str> {
        self.source.topic.as_ref().map(|t| t.code.as_str())
    }
}
