//! Durable feedback and audit records (SQLite by default, PostgreSQL by URL).
