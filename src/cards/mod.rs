//! Facts and decisions rendered as CDS Hooks cards, suggestions and links.

pub mod text;

/// Code system of the cards' `source.topic` (stable codes; EHR analytics key on them).
pub const TOPIC_SYSTEM: &str = "https://jak-sle-cds.github.io/fhir/CodeSystem/card-topic";
/// Code system of the override reasons the cards offer.
pub const OVERRIDE_REASON_SYSTEM: &str =
    "https://jak-sle-cds.github.io/fhir/CodeSystem/override-reason";
