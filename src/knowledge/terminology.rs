//! Value sets (hooks/valuesets/*.json, FHIR ValueSet with expansion.contains) and code matching.

use super::{KnowledgeError, KnowledgeFiles};

/// Placeholder until this module is implemented (see the issue tracker).
#[derive(Debug, Clone, Default)]
pub struct Terminology {}

impl Terminology {
    pub fn load(_files: &KnowledgeFiles) -> Result<Terminology, KnowledgeError> {
        Ok(Terminology {})
    }
}
