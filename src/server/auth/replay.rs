//! The `jti` replay cache: each accepted token id is remembered until its token expires, so a
//! captured token cannot be sent twice. Bounded (a full cache refuses new tokens rather than
//! forgetting live ones) and sharded, so concurrent requests rarely wait on one lock.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

/// Shards of the cache; a token goes to the shard its key hashes to.
const SHARDS: usize = 16;
/// Seconds between sweeps of expired entries in one shard.
const PRUNE_EVERY_SECONDS: i64 = 10;

/// Why a `jti` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReplayRefusal {
    /// The same issuer sent this `jti` before and that token has not expired yet.
    Replayed,
    /// Too many live tokens to remember: fail closed.
    Full,
}

#[derive(Debug, Default)]
struct Shard {
    /// Key: 128 bits of SHA-256(iss, jti); value: unix time after which it can be forgotten.
    seen: HashMap<[u8; 16], i64>,
    next_prune: i64,
}

impl Shard {
    fn prune(&mut self, now: i64) {
        self.seen.retain(|_, until| *until > now);
        self.next_prune = now + PRUNE_EVERY_SECONDS;
    }
}

/// Remembers token ids until they expire; at most `capacity` live entries.
#[derive(Debug)]
pub(crate) struct ReplayCache {
    shards: Vec<Mutex<Shard>>,
    per_shard: usize,
}

impl ReplayCache {
    pub(crate) fn new(capacity: usize) -> ReplayCache {
        ReplayCache {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
        }
    }

    /// Record `jti` of issuer `iss`, live until `until` (unix seconds); refuse it if it is
    /// already live. `now` is the current unix time.
    pub(crate) fn check_and_insert(
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
        if now >= shard.next_prune || shard.seen.len() >= self.per_shard {
            shard.prune(now);
        }
        if shard.seen.get(&key).is_some_and(|live| *live > now) {
            return Err(ReplayRefusal::Replayed);
        }
        if shard.seen.len() >= self.per_shard {
            return Err(ReplayRefusal::Full);
        }
        shard.seen.insert(key, until);
        Ok(())
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
        let c = ReplayCache::new(100);
        assert_eq!(c.check_and_insert("a", "1", 200, 100), Ok(()));
        assert_eq!(
            c.check_and_insert("a", "1", 200, 150),
            Err(ReplayRefusal::Replayed)
        );
    }

    #[test]
    fn the_same_jti_from_another_issuer_is_a_different_token() {
        let c = ReplayCache::new(100);
        assert_eq!(c.check_and_insert("a", "1", 200, 100), Ok(()));
        assert_eq!(c.check_and_insert("b", "1", 200, 100), Ok(()));
    }

    #[test]
    fn an_expired_entry_is_forgotten() {
        let c = ReplayCache::new(100);
        assert_eq!(c.check_and_insert("a", "1", 200, 100), Ok(()));
        assert_eq!(c.check_and_insert("a", "1", 400, 201), Ok(()));
    }

    #[test]
    fn a_full_cache_fails_closed_until_entries_expire() {
        let c = ReplayCache::new(SHARDS); // one entry per shard
        let mut refused = 0;
        for i in 0..(4 * SHARDS) {
            if c.check_and_insert("a", &i.to_string(), 200, 100) == Err(ReplayRefusal::Full) {
                refused += 1;
            }
        }
        assert!(refused >= 3 * SHARDS, "refused {refused}");
        // After expiry the shards are swept and accept again.
        assert_eq!(c.check_and_insert("a", "late", 500, 300), Ok(()));
    }
}
