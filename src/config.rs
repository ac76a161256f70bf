//! Typed configuration (TOML); every key optional with a safe default.
