//! The knowledge version (docs/governance.md): the semantic version recorded in
//! `hooks/version.json`, with the content hash of `hooks/` it was recorded for, and the
//! content hash of the files actually loaded (embedded or `[knowledge] dir`).
//!
//! The content hash is hex SHA-256 over `path NUL hex(SHA-256(bytes)) LF` for every file
//! under the knowledge root, sorted by path, except `version.json` itself and `keys/` (client
//! keys are not clinical knowledge). `scripts/knowledge-version.py` computes the same hash and
//! records a new version; a test fails when `hooks/` no longer matches the recorded hash.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{KnowledgeError, KnowledgeFiles};

/// The file, relative to the knowledge root, recording the version.
pub const VERSION_FILE: &str = "version.json";
/// Key of the CDS Hooks `extension` carrying the version (discovery entries and cards).
pub const EXTENSION_KEY: &str = "io.github.jak-sle-cds.knowledge";
/// Top-level folders whose files are not knowledge (not hashed).
const NOT_KNOWLEDGE: [&str; 1] = ["keys/"];

/// The version of the knowledge in use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KnowledgeVersion {
    /// The semantic version recorded in `version.json`.
    pub version: String,
    /// Content hash of the files loaded (hex SHA-256).
    pub content_hash: String,
    /// Whether the files loaded are the ones `version` was recorded for.
    pub recorded: bool,
}

/// `hooks/version.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionFile {
    #[serde(default, rename = "_comment")]
    _comment: Option<Value>,
    pub version: String,
    /// The content hash `version` was recorded for.
    #[serde(rename = "contentHash")]
    pub content_hash: String,
    /// Every recorded version, oldest first (the last is `version`).
    pub history: Vec<Release>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    pub version: String,
    #[serde(rename = "contentHash")]
    pub content_hash: String,
    pub date: String,
}

impl KnowledgeVersion {
    /// Read the recorded version and hash the files of `files`.
    pub fn load(files: &KnowledgeFiles) -> Result<KnowledgeVersion, KnowledgeError> {
        let file: VersionFile = files.json(VERSION_FILE)?;
        if parse_semver(&file.version).is_none() {
            return Err(KnowledgeError::Invalid {
                file: VERSION_FILE.into(),
                reason: format!(
                    "version {:?} is not a semantic version (MAJOR.MINOR.PATCH)",
                    file.version
                ),
            });
        }
        let content_hash = content_hash(files)?;
        Ok(KnowledgeVersion {
            recorded: content_hash == file.content_hash,
            version: file.version,
            content_hash,
        })
    }

    /// The version as audit rows and reports show it: the recorded version, or, for files that
    /// differ from it, the version with the start of their hash as build metadata
    /// ("1.2.0+local.3f9a0c1d2b4e").
    pub fn label(&self) -> String {
        if self.recorded {
            self.version.clone()
        } else {
            format!("{}+local.{}", self.version, &self.content_hash[..12])
        }
    }

    /// The CDS Hooks `extension` object naming this version.
    pub fn extension(&self) -> Value {
        json!({ EXTENSION_KEY: { "version": self.label(), "contentHash": self.content_hash } })
    }
}

/// MAJOR.MINOR.PATCH as numbers (no pre-release part).
pub fn parse_semver(v: &str) -> Option<(u64, u64, u64)> {
    let mut parts = v.split('.').map(|p| p.parse::<u64>().ok());
    let version = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(version)
}

/// The content hash of the knowledge files under the root of `files` (module doc).
pub fn content_hash(files: &KnowledgeFiles) -> Result<String, KnowledgeError> {
    let mut entries: Vec<(String, Vec<u8>)> = files
        .all_files()?
        .into_iter()
        .filter(|(path, _)| {
            path != VERSION_FILE && !NOT_KNOWLEDGE.iter().any(|n| path.starts_with(n))
        })
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mut h = Sha256::new();
    for (path, bytes) in entries {
        h.update(path.as_bytes());
        h.update([0]);
        h.update(hex::encode(Sha256::digest(&bytes)).as_bytes());
        h.update([b'\n']);
    }
    Ok(hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The guard of the knowledge version: hooks/ must hash to what version.json records, and
    /// every recorded release must raise the version and have its own hash.
    #[test]
    fn hooks_match_the_recorded_knowledge_version() {
        let hooks = KnowledgeFiles::Dir(std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/hooks"
        )));
        let file: VersionFile = hooks.json(VERSION_FILE).unwrap();
        let actual = content_hash(&hooks).unwrap();
        assert_eq!(
            actual, file.content_hash,
            "a knowledge file in hooks/ changed but the knowledge version {} was not raised: run \
             `python3 scripts/knowledge-version.py bump patch|minor|major` (docs/governance.md)",
            file.version
        );
        let last = file.history.last().expect("history");
        assert_eq!(
            (&last.version, &last.content_hash),
            (&file.version, &file.content_hash)
        );
        for pair in file.history.windows(2) {
            assert!(
                parse_semver(&pair[1].version) > parse_semver(&pair[0].version),
                "knowledge version {} does not raise {}",
                pair[1].version,
                pair[0].version
            );
        }
        let mut hashes: Vec<&str> = file
            .history
            .iter()
            .map(|r| r.content_hash.as_str())
            .collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), file.history.len(), "a hash recorded twice");
        // The embedded copy is the same.
        let embedded = KnowledgeVersion::load(&KnowledgeFiles::Embedded).unwrap();
        assert!(embedded.recorded, "{embedded:?}");
        assert_eq!(embedded.label(), file.version);
    }

    #[test]
    fn semantic_versions_parse_and_order() {
        assert_eq!(parse_semver("1.10.2"), Some((1, 10, 2)));
        assert!(parse_semver("1.2").is_none());
        assert!(parse_semver("1.2.3.4").is_none());
        assert!(parse_semver("1.x.3").is_none());
        assert!(parse_semver("1.10.0") > parse_semver("1.9.9"));
    }

    #[test]
    fn a_changed_file_in_a_knowledge_dir_changes_the_hash_and_the_label() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("valuesets")).unwrap();
        std::fs::create_dir_all(dir.path().join("keys")).unwrap();
        std::fs::write(dir.path().join("valuesets/a.json"), "{}").unwrap();
        std::fs::write(dir.path().join("keys/k.json"), "{}").unwrap();
        let files = KnowledgeFiles::Dir(dir.path().to_path_buf());
        let hash = content_hash(&files).unwrap();
        std::fs::write(
            dir.path().join(VERSION_FILE),
            format!(
                r#"{{"version": "1.0.0", "contentHash": "{hash}", "history": [{{"version": "1.0.0", "contentHash": "{hash}", "date": "2026-12-02"}}]}}"#
            ),
        )
        .unwrap();
        let v = KnowledgeVersion::load(&files).unwrap();
        assert!(v.recorded);
        assert_eq!(v.label(), "1.0.0");
        // Keys are not knowledge; the version file itself is not hashed.
        std::fs::write(dir.path().join("keys/k.json"), "{\"x\": 1}").unwrap();
        assert_eq!(KnowledgeVersion::load(&files).unwrap(), v);
        std::fs::write(dir.path().join("valuesets/a.json"), "{ }").unwrap();
        let changed = KnowledgeVersion::load(&files).unwrap();
        assert!(!changed.recorded);
        assert_ne!(changed.content_hash, hash);
        assert_eq!(
            changed.label(),
            format!("1.0.0+local.{}", &changed.content_hash[..12])
        );
        assert_eq!(
            changed.extension()[EXTENSION_KEY]["contentHash"],
            changed.content_hash
        );
    }
}
