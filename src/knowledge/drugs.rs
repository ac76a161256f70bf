//! RxNorm/ATC/name tables of JAK inhibitors, glucocorticoids and the other agents the rules name (hooks/medications.json).

use super::{KnowledgeError, KnowledgeFiles};

/// Placeholder until this module is implemented (see the issue tracker).
#[derive(Debug, Clone, Default)]
pub struct DrugTable {}

impl DrugTable {
    pub fn load(_files: &KnowledgeFiles) -> Result<DrugTable, KnowledgeError> {
        Ok(DrugTable {})
    }
}
