//! Durable feedback and audit records (SQLite by default, PostgreSQL by URL).

use crate::cds::feedback::FeedbackItem;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store: {0}")]
    Database(String),
}

/// One hook call, as the audit trail keeps it: no identifier in clear.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub at: chrono::DateTime<chrono::Utc>,
    pub service_id: String,
    pub hook: String,
    pub hook_instance: String,
    /// The patient id as given; the store keeps only a salted hash of it.
    pub patient_id: Option<String>,
    /// (topic code, indicator) per card returned.
    pub cards: Vec<(String, String)>,
    pub latency_ms: u64,
    /// HTTP status returned.
    pub status: u16,
}

/// The feedback and audit store.
#[derive(Debug, Clone)]
pub struct Store {}

impl Store {
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let _ = url;
        Ok(Store {})
    }

    /// Store feedback items durably (idempotent: card + outcome + timestamp stored once).
    pub async fn save_feedback(
        &self,
        service_id: &str,
        items: &[FeedbackItem],
    ) -> Result<(), StoreError> {
        let _ = (service_id, items);
        Err(StoreError::Database("store not implemented yet".into()))
    }

    pub async fn record_audit(&self, record: &AuditRecord) -> Result<(), StoreError> {
        let _ = record;
        Err(StoreError::Database("store not implemented yet".into()))
    }
}
