-- Go-live governance (docs/governance.md): the service's mode when a call was answered
-- ('live' or 'silent': a silent call's cards were evaluated but not shown) and the knowledge
-- version that produced the cards, on every audit row and every issued card. Rows written
-- before this migration were live; their knowledge version is unknown ('unversioned').
ALTER TABLE audit ADD COLUMN mode TEXT NOT NULL DEFAULT 'live';
ALTER TABLE audit ADD COLUMN knowledge_version TEXT NOT NULL DEFAULT 'unversioned';
ALTER TABLE card_issued ADD COLUMN mode TEXT NOT NULL DEFAULT 'live';
ALTER TABLE card_issued ADD COLUMN knowledge_version TEXT NOT NULL DEFAULT 'unversioned';
CREATE INDEX IF NOT EXISTS card_issued_version_mode ON card_issued (knowledge_version, mode);
