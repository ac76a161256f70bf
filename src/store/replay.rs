//! The JWT `jti` replay table shared by replicas (PostgreSQL store only): each accepted
//! token id is recorded with its expiry, atomically refused when a live record exists, and
//! expired rows are pruned in the background by every replica (a `DELETE` is idempotent).

use std::time::Duration;

use sha2::{Digest, Sha256};
use sqlx::AnyPool;

use super::StoreError;

/// Time between two prunes of expired rows.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Access to the `replay_cache` table. Cheap to clone (the store's pool).
#[derive(Clone)]
pub struct ReplayTable {
    pool: AnyPool,
}

impl std::fmt::Debug for ReplayTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayTable").finish_non_exhaustive()
    }
}

impl ReplayTable {
    pub(crate) fn new(pool: AnyPool) -> ReplayTable {
        ReplayTable { pool }
    }

    /// Record `jti` of `issuer` as live until `until` (unix seconds). `Ok(true)` when it was
    /// not live at `now` (recorded, or an expired record renewed), `Ok(false)` when a live
    /// record exists: a replay. One statement, so two replicas racing on the same token
    /// cannot both succeed.
    pub async fn record(
        &self,
        issuer: &str,
        jti: &str,
        until: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO replay_cache (issuer, jti, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (issuer, jti) DO UPDATE SET expires_at = EXCLUDED.expires_at \
             WHERE replay_cache.expires_at <= $4",
        )
        .bind(issuer)
        .bind(hex::encode(Sha256::digest(jti.as_bytes())))
        .bind(until)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Delete the records expired at `now`; returns how many.
    pub async fn prune(&self, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM replay_cache WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Prune every [`PRUNE_EVERY`] until the pool is closed.
    pub(crate) fn spawn_pruner(&self) {
        let table = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(PRUNE_EVERY);
            loop {
                tick.tick().await;
                if table.pool.is_closed() {
                    break;
                }
                match table.prune(chrono::Utc::now().timestamp()).await {
                    Ok(n) if n > 0 => tracing::debug!(rows = n, "replay cache pruned"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "replay cache not pruned"),
                }
            }
        });
    }
}
