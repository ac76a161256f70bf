-- Resources removed from a hook call's gathered data because they were not clearly the hook
-- patient's (another patient's subject, or an unreadable reference): issue 9, item 4.
ALTER TABLE audit ADD COLUMN removed_other_patients BIGINT NOT NULL DEFAULT 0;
