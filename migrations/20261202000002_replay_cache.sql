-- The JWT jti replay cache shared by every replica on one PostgreSQL database: a token id is
-- recorded until its token expires (plus the leeway), so a token replayed to another replica
-- is refused. Only used with a PostgreSQL store (SQLite and no store keep the cache in
-- memory); created on both so that one migration history serves both databases.
-- `jti` holds hex(SHA-256(jti)): fixed width whatever the client sends.
CREATE TABLE IF NOT EXISTS replay_cache (
    issuer     TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, jti)
);
CREATE INDEX IF NOT EXISTS replay_cache_expires_at ON replay_cache (expires_at);
