//! Durable feedback and audit records (SQLite by default, PostgreSQL by URL).
//!
//! One code path for both databases (sqlx `Any` driver, portable SQL, `$n` placeholders);
//! the schema is migrated at connect. SQLite files are created on first start (parent
//! directory included) and run in WAL mode; PostgreSQL serves several replicas behind a load
//! balancer. Nothing identifying is stored in clear: the audit keeps a salted SHA-256 of the
//! patient id, whose salt comes from the configuration or is generated once per database.
//!
//! Hook calls are audited through a bounded in-memory queue ([`Store::queue_call`]) that one
//! writer task stores in batches; [`Store::record_call`] writes one call and waits for it.

mod audit_queue;
mod replay;
mod report;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Executor};

use crate::cds::feedback::FeedbackItem;
use crate::cds::Card;
use crate::config::{ServiceMode, StoreSettings};

pub use audit_queue::QUEUE_CAPACITY as AUDIT_QUEUE_CAPACITY;
pub use replay::ReplayTable;
pub use report::{LatencyReport, ReasonCount, Report, TopicReport, WeeklyCount};

use audit_queue::AuditQueue;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Topic recorded for a card that has none.
const NO_TOPIC: &str = "(no topic)";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store: {0}")]
    Database(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Database(format!("migration: {e}"))
    }
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
    /// Resources removed from the gathered data as not clearly this patient's.
    pub removed_other_patients: u64,
    /// The service's mode: for a silent call, `cards` are those that would have been shown.
    pub mode: ServiceMode,
    /// The knowledge version label ([`crate::knowledge::KnowledgeVersion::label`]).
    pub knowledge_version: String,
}

/// The feedback and audit store. Cheap to clone (a connection pool and the audit queue).
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    salt: String,
    params: Params,
    queue: AuditQueue,
    /// The shared jti replay table (PostgreSQL only).
    replay: Option<ReplayTable>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Open the store at `url` with the database's own audit salt.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Store::open(&StoreSettings {
            url: url.to_string(),
            audit_salt: None,
        })
        .await
    }

    /// Open the store described by the configuration (`store.url`, `store.audit_salt`),
    /// creating and migrating the database as needed.
    pub async fn open(settings: &StoreSettings) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let url = settings.url.trim();
        let pool = if url.starts_with("sqlite:") {
            open_sqlite(url).await?
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            AnyPoolOptions::new()
                .max_connections(10)
                .acquire_timeout(Duration::from_secs(30))
                .connect(url)
                .await?
        } else {
            return Err(StoreError::Database(
                "store.url must start with sqlite: or postgres://".into(),
            ));
        };
        MIGRATOR.run(&pool).await?;
        let salt = match settings.audit_salt.as_deref() {
            Some(s) if !s.is_empty() => s.to_string(),
            _ => stored_salt(&pool).await?,
        };
        tracing::info!(backend = backend_of(url), "store opened");
        let params = if url.starts_with("sqlite:") {
            Params::Anonymous
        } else {
            Params::Numbered
        };
        let queue = AuditQueue::start(pool.clone(), salt.clone(), params);
        let replay = (params == Params::Numbered).then(|| {
            let table = ReplayTable::new(pool.clone());
            table.spawn_pruner();
            table
        });
        Ok(Store {
            pool,
            salt,
            params,
            queue,
            replay,
        })
    }

    /// Store feedback items durably, all in one transaction (idempotent: card + outcome +
    /// timestamp stored once). Returns `Ok` only once committed; on any error the connection
    /// is discarded (see [`settle`]).
    pub async fn save_feedback(
        &self,
        service_id: &str,
        items: &[FeedbackItem],
    ) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        let result = save_feedback_on(&mut conn, service_id, items).await;
        settle(conn, result).await
    }

    /// Record one hook call. The cards are counted per topic; without their uuids feedback
    /// cannot be joined to them — prefer [`Store::record_call`].
    pub async fn record_audit(&self, record: &AuditRecord) -> Result<(), StoreError> {
        let cards = record
            .cards
            .iter()
            .map(|(topic, indicator)| IssuedCard {
                uuid: None,
                topic: topic.clone(),
                indicator: indicator.clone(),
            })
            .collect();
        self.insert_now(QueuedCall {
            record: record.clone(),
            cards,
        })
        .await
    }

    /// Record one hook call with the cards it returned (their uuids let feedback be counted
    /// per card topic in the report), and wait until it is committed. `record.cards` is
    /// ignored in favour of `cards`. The HTTP handler uses [`Store::queue_call`] instead.
    pub async fn record_call(
        &self,
        record: &AuditRecord,
        cards: &[Card],
    ) -> Result<(), StoreError> {
        self.insert_now(QueuedCall::new(record.clone(), cards))
            .await
    }

    /// Write one call in its own transaction, bypassing the queue.
    async fn insert_now(&self, call: QueuedCall) -> Result<(), StoreError> {
        insert_calls(
            &self.pool,
            &self.salt,
            self.params,
            std::slice::from_ref(&call),
        )
        .await
    }

    /// Queue one hook call for the background audit writer (batched transactions) without
    /// waiting. Returns `false` when the record was dropped because the queue
    /// ([`AUDIT_QUEUE_CAPACITY`] records) is full: the answer never waits for the audit.
    pub fn queue_call(&self, record: AuditRecord, cards: &[Card]) -> bool {
        self.queue.push(QueuedCall::new(record, cards))
    }

    /// The jti replay table shared by the replicas of a PostgreSQL store; `None` on SQLite
    /// (one process per file: the in-memory cache does).
    pub fn replay_table(&self) -> Option<ReplayTable> {
        self.replay.clone()
    }

    /// One round trip to the database (readiness probe).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Audit records dropped since start because the audit queue was full.
    pub fn audit_dropped(&self) -> u64 {
        self.queue.dropped()
    }

    /// Per-topic counts for the CDS committee: times shown, accepted, overridden, override
    /// reasons; from `since` (UTC day) on, or everything.
    pub async fn report(&self, since: Option<chrono::NaiveDate>) -> Result<Report, StoreError> {
        report::build(&self.pool, since).await
    }

    /// Write what the audit queue holds, then close the pool, waiting for connections to
    /// finish (graceful shutdown).
    pub async fn close(&self) {
        self.queue.flush().await;
        self.pool.close().await;
    }

    /// The hash the audit keeps instead of a patient id: hex(SHA-256(salt ‖ id)).
    pub fn patient_hash(&self, patient_id: &str) -> String {
        patient_hash(&self.salt, patient_id)
    }
}

/// The feedback transaction on one connection: begin, insert every item, commit.
async fn save_feedback_on(
    conn: &mut AnyConnection,
    service_id: &str,
    items: &[FeedbackItem],
) -> Result<(), sqlx::Error> {
    let received_at = timestamp(Utc::now());
    let mut tx = conn.begin().await?;
    for item in items {
        let outcome_at = DateTime::parse_from_rfc3339(&item.outcome_timestamp)
            .map(|t| timestamp(t.with_timezone(&Utc)))
            .unwrap_or_else(|_| received_at.clone());
        let suggestions: Vec<&str> = item
            .accepted_suggestions
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        let reason = item.override_reason.as_ref();
        let coding = reason.and_then(|r| r.reason.as_ref());
        sqlx::query(
            "INSERT INTO feedback (card_uuid, outcome, outcome_timestamp, outcome_at, \
             service_id, accepted_suggestions, reason_system, reason_code, reason_display, \
             user_comment, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (card_uuid, outcome, outcome_timestamp) DO NOTHING",
        )
        .bind(&item.card)
        .bind(item.outcome.as_str())
        .bind(&item.outcome_timestamp)
        .bind(outcome_at)
        .bind(service_id)
        .bind(serde_json::to_string(&suggestions).unwrap_or_else(|_| "[]".into()))
        .bind(coding.map(|c| c.system.clone()))
        .bind(coding.map(|c| c.code.clone()))
        .bind(coding.and_then(|c| c.display.clone()))
        .bind(reason.and_then(|r| r.user_comment.clone()))
        .bind(&received_at)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// Finish a write made on `conn`. On success the connection goes back to the pool; on any
/// error (a failed INSERT, a failed COMMIT — a full disk) it is closed instead: a connection
/// whose transaction failed may still be inside it, holding SQLite's write lock, and sqlx
/// would then run the next "transaction" as a savepoint of that never-committed one — 200
/// for feedback that is never written, and every other writer waiting on the lock. Closing
/// rolls back whatever is open; the pool opens a fresh connection for the next write, so the
/// store recovers as soon as writes can succeed again.
async fn settle(
    conn: PoolConnection<Any>,
    result: Result<(), sqlx::Error>,
) -> Result<(), StoreError> {
    match result {
        Ok(()) => Ok(()),
        Err(e) => {
            tracing::warn!(error = %e, "store write failed: its connection is discarded");
            if let Err(close) = conn.close().await {
                tracing::debug!(error = %close, "closing the failed store connection");
            }
            Err(e.into())
        }
    }
}

/// hex(SHA-256(salt ‖ id)).
fn patient_hash(salt: &str, patient_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(patient_id.as_bytes());
    hex::encode(h.finalize())
}

/// A card as the audit records it.
#[derive(Debug, Clone)]
struct IssuedCard {
    uuid: Option<String>,
    topic: String,
    indicator: String,
}

/// One hook call waiting to be written: the record and its cards, without their text.
#[derive(Debug, Clone)]
struct QueuedCall {
    record: AuditRecord,
    cards: Vec<IssuedCard>,
}

impl QueuedCall {
    fn new(record: AuditRecord, cards: &[Card]) -> QueuedCall {
        let cards = cards
            .iter()
            .map(|c| IssuedCard {
                uuid: Some(c.uuid.clone()).filter(|u| !u.is_empty()),
                topic: c.topic().unwrap_or(NO_TOPIC).to_string(),
                indicator: c.indicator.as_str().to_string(),
            })
            .collect();
        QueuedCall { record, cards }
    }
}

/// Columns of one `audit` row.
const AUDIT_COLUMNS: usize = 12;
/// Columns of one `card_issued` row.
const CARD_COLUMNS: usize = 10;
/// Most rows per multi-row INSERT (11 × 500 = 5,500 parameters: within SQLite's (32,766)
/// and PostgreSQL's (65,535) limits).
const ROWS_PER_INSERT: usize = 500;

/// How the bind parameters of a generated statement are written.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Params {
    /// `$1, $2, …` (PostgreSQL).
    Numbered,
    /// `?, ?, …` (SQLite: for each numbered parameter sqlx asks SQLite its name, a linear
    /// search, so a 2,000-parameter INSERT bound in quadratic time — 4% of the service's CPU
    /// under load).
    Anonymous,
}

/// Store `calls` in one transaction, with multi-row INSERTs; on any error the connection is
/// discarded (see [`settle`]).
async fn insert_calls(
    pool: &AnyPool,
    salt: &str,
    params: Params,
    calls: &[QueuedCall],
) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await?;
    let result = insert_calls_on(&mut conn, salt, params, calls).await;
    settle(conn, result).await
}

/// The audit writer's batch ([`audit_queue`]). On SQLite it commits with
/// `synchronous = NORMAL`: in WAL mode the WAL is then synced at checkpoints, not at every
/// commit (about 3-7 % of the service's CPU under load). The database stays consistent; a
/// power cut can lose the last batches, as a crash loses the queue's unwritten records. Only
/// this connection, only for this batch: feedback, [`Store::record_call`] and every other
/// write keep full synchronous commits. A failed batch closes the connection ([`settle`]), so
/// the setting never outlives it.
async fn insert_batch(
    pool: &AnyPool,
    salt: &str,
    params: Params,
    calls: &[QueuedCall],
) -> Result<(), StoreError> {
    if params != Params::Anonymous {
        return insert_calls(pool, salt, params, calls).await;
    }
    let mut conn = pool.acquire().await?;
    let result = async {
        conn.execute("PRAGMA synchronous = NORMAL").await?;
        insert_calls_on(&mut conn, salt, params, calls).await?;
        conn.execute("PRAGMA synchronous = FULL").await?;
        Ok(())
    }
    .await;
    settle(conn, result).await
}

async fn insert_calls_on(
    conn: &mut AnyConnection,
    salt: &str,
    params: Params,
    calls: &[QueuedCall],
) -> Result<(), sqlx::Error> {
    struct Row<'a> {
        id: String,
        at: String,
        hash: Option<String>,
        summary: String,
        call: &'a QueuedCall,
    }
    let rows: Vec<Row<'_>> = calls
        .iter()
        .map(|call| {
            let summary: Vec<[&str; 2]> = call
                .cards
                .iter()
                .map(|c| [c.topic.as_str(), c.indicator.as_str()])
                .collect();
            Row {
                // Time-ordered: each batch appends to the end of the key's B-tree instead of
                // inserting at random places (the audit writer's share of the profile).
                id: uuid::Uuid::now_v7().to_string(),
                at: timestamp(call.record.at),
                hash: call
                    .record
                    .patient_id
                    .as_deref()
                    .map(|p| patient_hash(salt, p)),
                summary: serde_json::to_string(&summary).unwrap_or_else(|_| "[]".into()),
                call,
            }
        })
        .collect();
    let cards: Vec<(&Row<'_>, i64, &IssuedCard)> = rows
        .iter()
        .flat_map(|row| {
            (0_i64..)
                .zip(&row.call.cards)
                .map(move |(n, c)| (row, n, c))
        })
        .collect();
    let mut tx = conn.begin().await?;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO audit (id, at, service_id, hook, hook_instance, patient_hash, cards, \
             latency_ms, status, removed_other_patients, mode, knowledge_version) VALUES {}",
            placeholders(params, chunk.len(), AUDIT_COLUMNS)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            let record = &row.call.record;
            query = query
                .bind(&row.id)
                .bind(&row.at)
                .bind(&record.service_id)
                .bind(&record.hook)
                .bind(&record.hook_instance)
                .bind(&row.hash)
                .bind(&row.summary)
                .bind(i64::try_from(record.latency_ms).unwrap_or(i64::MAX))
                .bind(i64::from(record.status))
                .bind(i64::try_from(record.removed_other_patients).unwrap_or(i64::MAX))
                .bind(record.mode.as_str())
                .bind(&record.knowledge_version);
        }
        query.execute(&mut *tx).await?;
    }
    for chunk in cards.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO card_issued (audit_id, ordinal, card_uuid, service_id, topic, \
             indicator, hook_instance, issued_at, mode, knowledge_version) VALUES {}",
            placeholders(params, chunk.len(), CARD_COLUMNS)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (row, ordinal, card) in chunk {
            query = query
                .bind(&row.id)
                .bind(*ordinal)
                .bind(&card.uuid)
                .bind(&row.call.record.service_id)
                .bind(&card.topic)
                .bind(&card.indicator)
                .bind(&row.call.record.hook_instance)
                .bind(&row.at)
                .bind(row.call.record.mode.as_str())
                .bind(&row.call.record.knowledge_version);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await
}

/// `($1, …, $cols), ($cols+1, …), …` (or `(?, …), …`) for `rows` rows.
fn placeholders(params: Params, rows: usize, cols: usize) -> String {
    let mut out = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..cols {
            if c > 0 {
                out.push_str(", ");
            }
            match params {
                Params::Numbered => {
                    out.push('$');
                    out.push_str(&(r * cols + c + 1).to_string());
                }
                Params::Anonymous => out.push('?'),
            }
        }
        out.push(')');
    }
    out
}

/// Fixed-width UTC text, orderable as text on both databases.
fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn backend_of(url: &str) -> &'static str {
    if url.starts_with("sqlite:") {
        "sqlite"
    } else {
        "postgres"
    }
}

/// Open (creating on first start) a SQLite database in WAL mode.
async fn open_sqlite(url: &str) -> Result<AnyPool, StoreError> {
    let (location, query) = match url.split_once('?') {
        Some((l, q)) => (l, Some(q)),
        None => (url, None),
    };
    let file = location
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let in_memory = file.is_empty() || file == ":memory:";
    if !in_memory {
        if let Some(dir) = Path::new(file)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Database(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
    }
    let url = match query {
        Some(q) if q.contains("mode=") => url.to_string(),
        Some(q) => format!("{location}?{q}&mode=rwc"),
        None if in_memory => url.to_string(),
        None => format!("{location}?mode=rwc"),
    };
    let options = AnyConnectOptions::from_str(&url)?;
    let pool = AnyPoolOptions::new()
        // An in-memory database exists per connection: keep exactly one.
        .max_connections(if in_memory { 1 } else { 4 })
        .acquire_timeout(Duration::from_secs(60))
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("PRAGMA busy_timeout = 15000").await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await?;
    if !in_memory {
        pool.execute("PRAGMA journal_mode = WAL").await?;
    }
    Ok(pool)
}

/// The database's audit salt, generated by the first replica that needs it.
async fn stored_salt(pool: &AnyPool) -> Result<String, StoreError> {
    let fresh = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    sqlx::query(
        "INSERT INTO settings (name, value) VALUES ('audit_salt', $1) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(fresh)
    .execute(pool)
    .await?;
    let salt: (String,) = sqlx::query_as("SELECT value FROM settings WHERE name = 'audit_salt'")
        .fetch_one(pool)
        .await?;
    Ok(salt.0)
}

#[cfg(test)]
mod tests {
    use super::{placeholders, AuditRecord, Params, Store};
    use crate::config::StoreSettings;

    /// The audit writer's relaxed sync is set for its batch only: after batches, every
    /// connection of the pool is back to full synchronous commits (feedback stays durable).
    #[tokio::test]
    async fn audit_batches_leave_every_connection_with_full_synchronous_commits() {
        let dir = tempfile::tempdir().expect("temp dir");
        let settings = StoreSettings {
            url: format!("sqlite://{}", dir.path().join("s.db").display()),
            audit_salt: None,
        };
        let store = Store::open(&settings).await.expect("store");
        for n in 0..50 {
            let record = AuditRecord {
                at: chrono::Utc::now(),
                service_id: "jak-sle-order-select".into(),
                hook: "order-select".into(),
                hook_instance: format!("instance-{n}"),
                patient_id: Some("p".into()),
                cards: Vec::new(),
                latency_ms: 1,
                status: 200,
                removed_other_patients: 0,
                mode: crate::config::ServiceMode::Live,
                knowledge_version: "test".into(),
            };
            assert!(store.queue_call(record, &[]));
        }
        store.queue.flush().await;
        let stored: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit")
            .fetch_one(&store.pool)
            .await
            .expect("count");
        assert_eq!(stored.0, 50);
        // Hold every connection of the pool at once, so each is checked.
        let mut held = Vec::new();
        for _ in 0..4 {
            held.push(store.pool.acquire().await.expect("connection"));
        }
        for conn in &mut held {
            let sync: (i64,) = sqlx::query_as("PRAGMA synchronous")
                .fetch_one(&mut **conn)
                .await
                .expect("pragma");
            assert_eq!(
                sync.0, 2,
                "a connection was left with synchronous = {}",
                sync.0
            );
        }
    }

    #[test]
    fn placeholders_number_rows_then_columns() {
        assert_eq!(placeholders(Params::Numbered, 1, 2), "($1, $2)");
        assert_eq!(
            placeholders(Params::Numbered, 2, 3),
            "($1, $2, $3), ($4, $5, $6)"
        );
        assert_eq!(placeholders(Params::Anonymous, 2, 2), "(?, ?), (?, ?)");
    }
}
