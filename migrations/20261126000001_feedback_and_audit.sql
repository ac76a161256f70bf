-- Feedback, audit trail and issued cards. Portable between SQLite and PostgreSQL: TEXT and
-- BIGINT columns only, natural or application-generated keys (no AUTOINCREMENT / SERIAL),
-- timestamps as fixed-width UTC text ('2026-11-26T10:05:31.000Z', orderable as text).

CREATE TABLE IF NOT EXISTS settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per feedback item; a repeat of the same card + outcome + timestamp is stored once.
CREATE TABLE IF NOT EXISTS feedback (
    card_uuid            TEXT NOT NULL,
    outcome              TEXT NOT NULL,
    outcome_timestamp    TEXT NOT NULL,
    outcome_at           TEXT NOT NULL,
    service_id           TEXT NOT NULL,
    accepted_suggestions TEXT NOT NULL,
    reason_system        TEXT,
    reason_code          TEXT,
    reason_display       TEXT,
    user_comment         TEXT,
    received_at          TEXT NOT NULL,
    PRIMARY KEY (card_uuid, outcome, outcome_timestamp)
);
CREATE INDEX IF NOT EXISTS feedback_outcome_at ON feedback (outcome_at);

-- One row per hook call. No identifier in clear: the patient id is a salted SHA-256.
CREATE TABLE IF NOT EXISTS audit (
    id            TEXT PRIMARY KEY,
    at            TEXT NOT NULL,
    service_id    TEXT NOT NULL,
    hook          TEXT NOT NULL,
    hook_instance TEXT NOT NULL,
    patient_hash  TEXT,
    cards         TEXT NOT NULL,
    latency_ms    BIGINT NOT NULL,
    status        BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);

-- Each card returned, so feedback (by card uuid) can be counted per topic.
CREATE TABLE IF NOT EXISTS card_issued (
    audit_id      TEXT NOT NULL,
    ordinal       BIGINT NOT NULL,
    card_uuid     TEXT,
    service_id    TEXT NOT NULL,
    topic         TEXT NOT NULL,
    indicator     TEXT NOT NULL,
    hook_instance TEXT NOT NULL,
    issued_at     TEXT NOT NULL,
    PRIMARY KEY (audit_id, ordinal)
);
CREATE INDEX IF NOT EXISTS card_issued_card_uuid ON card_issued (card_uuid);
CREATE INDEX IF NOT EXISTS card_issued_issued_at ON card_issued (issued_at);
