//! The `jti` replay cache: each accepted token id is remembered until its token expires, so a
//! captured token cannot be sent twice.
//!
//! [`ReplayCache`] is the backend the verifier talks to (an enum, so that a shared backend —
//! a database table for several replicas — can be added beside [`MemoryReplayCache`]).
//!
//! The in-memory cache is bounded and sharded. Tokens live at most
//! `auth.max_token_lifetime_seconds` plus the leeway (longer ones are refused before they get
//! here), so the cache is sized for that window. When a shard is still full after its
//! expired entries are swept, it **evicts the entry closest to its expiry** and accepts the
//! new token: a valid token is never refused for lack of room (a full cache that refused new
//! tokens let anyone holding a signing key lock every client out). The cost is that the
//! evicted token, for the little life it had left, is no longer recognised if replayed; each
//! eviction is counted ([`ReplayCounters::evicted`]) and logged (1st, 2nd, 4th, 8th, …).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::replay_shared::SharedReplayCache;

/// Shards of the in-memory cache; a token goes to the shard its key hashes to.
const SHARDS: usize = 16;

/// Why a `jti` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReplayRefusal {
    /// The same issuer sent this `jti` before and that token has not expired yet.
    Replayed,
    /// The shared cache could not be asked (database unreachable): fail closed.
    Unavailable,
}

/// What the replay cache has done since start (plain counters, for metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayCounters {
    /// Token ids accepted and remembered.
    pub accepted: u64,
    /// Tokens refused because their `jti` was live.
    pub replayed: u64,
    /// Live entries forgotten early to make room for a new token (cache full).
    pub evicted: u64,
}

/// The replay cache backend.
#[derive(Debug)]
pub(crate) enum ReplayCache {
    /// Per process (each replica keeps its own).
    Memory(MemoryReplayCache),
    /// Shared by the replicas on one PostgreSQL database.
    Shared(SharedReplayCache),
}

impl ReplayCache {
    /// Record `jti` of issuer `iss`, live until `until` (unix seconds); refuse it if it is
    /// already live. `now` is the current unix time.
    pub(crate) async fn check_and_insert(
        &self,
        iss: &str,
        jti: &str,
        until: i64,
        now: i64,
    ) -> Result<(), ReplayRefusal> {
        match self {
            ReplayCache::Memory(m) => m.check_and_insert(iss, jti, until, now),
            ReplayCache::Shared(s) => s.check_and_insert(iss, jti, until, now).await,
        }
    }

    pub(crate) fn counters(&self) -> ReplayCounters {
        match self {
            ReplayCache::Memory(m) => m.counters(),
            ReplayCache::Shared(s) => s.counters(),
        }
    }
}

#[derive(Debug, Default)]
struct Shard {
    /// Key: 128 bits of SHA-256(iss, jti); value: unix time after which it can be forgotten.
    seen: HashMap<[u8; 16], i64>,
    /// The same entries by expiry, soonest first (an entry whose time no longer matches
    /// `seen` is stale and skipped).
    by_expiry: BinaryHeap<Reverse<(i64, [u8; 16])>>,
}

impl Shard {
    /// Forget the entries expired at `now`.
    fn prune(&mut self, now: i64) {
        while let Some(Reverse((until, _))) = self.by_expiry.peek() {
            if *until > now {
                break;
            }
            self.pop_soonest();
        }
    }

    /// Forget the entry that expires first; true if one was forgotten.
    fn pop_soonest(&mut self) -> bool {
        while let Some(Reverse((until, key))) = self.by_expiry.pop() {
            if self.seen.get(&key) == Some(&until) {
                self.seen.remove(&key);
                return true;
            }
        }
        false
    }
}

/// Remembers token ids until they expire; at most about `capacity` live entries.
#[derive(Debug)]
pub(crate) struct MemoryReplayCache {
    shards: Vec<Mutex<Shard>>,
    per_shard: usize,
    accepted: AtomicU64,
    replayed: AtomicU64,
    evicted: AtomicU64,
}

impl MemoryReplayCache {
    pub(crate) fn new(capacity: usize) -> MemoryReplayCache {
        MemoryReplayCache {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
            accepted: AtomicU64::new(0),
            replayed: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
        }
    }

    fn check_and_insert(
        &self,
        iss: &str,
        jti: &str,
        until: i64,
        now: i64,
    ) -> Result<(), ReplayRefusal> {
        let key = key_of(iss, jti);
        let shard = &self.shards[usize::from(key[0]) % SHARDS];
        // A poisoned lock only means another request panicked mid-insert; the map is intact.
        let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
        shard.prune(now);
        if shard.seen.get(&key).is_some_and(|live| *live > now) {
            self.replayed.fetch_add(1, Ordering::Relaxed);
            return Err(ReplayRefusal::Replayed);
        }
        if shard.seen.len() >= self.per_shard && shard.pop_soonest() {
            let n = self.evicted.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(
                    evicted = n,
                    capacity = self.per_shard * SHARDS,
                    "replay cache full: the token id closest to expiry was forgotten to \
                     accept a new token (its replay is no longer detected)"
                );
            }
        }
        shard.seen.insert(key, until);
        shard.by_expiry.push(Reverse((until, key)));
        self.accepted.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn counters(&self) -> ReplayCounters {
        ReplayCounters {
            accepted: self.accepted.load(Ordering::Relaxed),
            replayed: self.replayed.load(Ordering::Relaxed),
            evicted: self.evicted.load(Ordering::Relaxed),
        }
    }
}

fn key_of(iss: &str, jti: &str) -> [u8; 16] {
    let mut h = Sha256::new();
    h.update(iss.as_bytes());
    h.update([0u8]);
    h.update(jti.as_bytes());
    let digest = h.finalize();
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_jti_is_refused_the_second_time() {
        let c = MemoryReplayCache::new(100);
        assert_eq!(c.check_and_insert("a", "1", 200, 100), Ok(()));
        assert_eq!(
            c.check_and_insert("a", "1", 200, 150),
            Err(ReplayRefusal::Replayed)
        );
        assert_eq!(c.counters().replayed, 1);
    }

    #[test]
    fn the_same_jti_from_another_issuer_is_a_different_token() {
        let c = MemoryReplayCache::new(100);
        assert_eq!(c.check_and_insert("a", "1", 200, 100), Ok(()));
        assert_eq!(c.check_and_insert("b", "1", 200, 100), Ok(()));
    }

    #[test]
    fn an_expired_entry_is_forgotten() {
        let c = MemoryReplayCache::new(100);
        assert_eq!(c.check_and_insert("a", "1", 200, 100), Ok(()));
        assert_eq!(c.check_and_insert("a", "1", 400, 201), Ok(()));
        assert_eq!(
            c.check_and_insert("a", "1", 400, 300),
            Err(ReplayRefusal::Replayed)
        );
    }

    #[test]
    fn a_full_cache_evicts_the_soonest_expiring_entry_and_counts_it() {
        let c = MemoryReplayCache::new(SHARDS); // one entry per shard
        for i in 0..(8 * SHARDS) {
            let until = 1_000 + i64::try_from(i).unwrap();
            assert_eq!(c.check_and_insert("a", &i.to_string(), until, 100), Ok(()));
        }
        let counters = c.counters();
        assert_eq!(counters.accepted, 8 * SHARDS as u64);
        assert!(counters.evicted >= 6 * SHARDS as u64, "{counters:?}");
        // The newest entries are the ones kept: a replay of the last token is still caught.
        let last = (8 * SHARDS - 1).to_string();
        assert_eq!(
            c.check_and_insert("a", &last, 5_000, 101),
            Err(ReplayRefusal::Replayed)
        );
        // Expired entries are swept before anything live is evicted.
        let before = c.counters().evicted;
        assert_eq!(c.check_and_insert("a", "late", 9_000, 8_000), Ok(()));
        assert_eq!(c.counters().evicted, before);
    }
}
