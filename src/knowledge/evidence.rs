//! Evidence sources cited by cards (hooks/evidence.json).

use super::{KnowledgeError, KnowledgeFiles};

/// Placeholder until this module is implemented (see the issue tracker).
#[derive(Debug, Clone, Default)]
pub struct EvidenceLibrary {}

impl EvidenceLibrary {
    pub fn load(_files: &KnowledgeFiles) -> Result<EvidenceLibrary, KnowledgeError> {
        Ok(EvidenceLibrary {})
    }
}
