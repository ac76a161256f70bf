//! The replay cache shared by replicas: the `replay_cache` table of a PostgreSQL store
//! ([`ReplayTable`]). A token id is recorded, or refused when a live record exists, in one
//! statement, so a token replayed to any replica within its lifetime is refused. When the
//! database cannot be reached the token is refused (fail closed): accepting it would let a
//! replay through, and `/readyz` takes the replica out of the load balancer meanwhile.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::store::ReplayTable;

use super::replay::{ReplayCounters, ReplayRefusal};

/// The shared backend of [`super::replay::ReplayCache`].
#[derive(Debug)]
pub(crate) struct SharedReplayCache {
    table: ReplayTable,
    accepted: AtomicU64,
    replayed: AtomicU64,
}

impl SharedReplayCache {
    pub(crate) fn new(table: ReplayTable) -> SharedReplayCache {
        SharedReplayCache {
            table,
            accepted: AtomicU64::new(0),
            replayed: AtomicU64::new(0),
        }
    }

    pub(crate) async fn check_and_insert(
        &self,
        iss: &str,
        jti: &str,
        until: i64,
        now: i64,
    ) -> Result<(), ReplayRefusal> {
        match self.table.record(iss, jti, until, now).await {
            Ok(true) => {
                self.accepted.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Ok(false) => {
                self.replayed.fetch_add(1, Ordering::Relaxed);
                Err(ReplayRefusal::Replayed)
            }
            Err(e) => {
                tracing::warn!(error = %e, "replay cache unreachable: token refused");
                Err(ReplayRefusal::Unavailable)
            }
        }
    }

    pub(crate) fn counters(&self) -> ReplayCounters {
        ReplayCounters {
            accepted: self.accepted.load(Ordering::Relaxed),
            replayed: self.replayed.load(Ordering::Relaxed),
            evicted: 0,
        }
    }
}
