//! Clinical knowledge as data: the files under `hooks/` (value sets, medication tables,
//! thresholds, dose profiles, evidence sources), loaded and validated once at start-up.
//!
//! The files are embedded in the binary, so the service runs with no external file; a
//! directory with the same layout can replace them (`[knowledge] dir` in the config). A
//! broken file stops start-up with a message naming the file and the entry.

pub mod drugs;
pub mod evidence;
pub mod monitoring;
pub mod terminology;
pub mod thresholds;
pub mod version;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;

use include_dir::{include_dir, Dir};
use serde::de::DeserializeOwned;
use serde::Deserialize;

pub use drugs::DrugTable;
pub use evidence::EvidenceLibrary;
pub use monitoring::Monitoring;
pub use terminology::Terminology;
pub use thresholds::Thresholds;
pub use version::KnowledgeVersion;

static EMBEDDED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/hooks");

/// Where the knowledge files are read from.
#[derive(Debug, Clone)]
pub enum KnowledgeFiles {
    /// The `hooks/` directory compiled into the binary.
    Embedded,
    /// A directory on disk with the same layout.
    Dir(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    #[error("knowledge file {file}: cannot be read: {reason}")]
    Missing { file: String, reason: String },
    #[error("knowledge file {file}: {reason}")]
    Invalid { file: String, reason: String },
}

impl KnowledgeFiles {
    /// The text of one file, by its path relative to `hooks/`.
    pub fn read(&self, name: &str) -> Result<Cow<'static, str>, KnowledgeError> {
        match self {
            KnowledgeFiles::Embedded => EMBEDDED
                .get_file(name)
                .and_then(|f| f.contents_utf8())
                .map(Cow::Borrowed)
                .ok_or_else(|| KnowledgeError::Missing {
                    file: name.into(),
                    reason: "not embedded".into(),
                }),
            KnowledgeFiles::Dir(dir) => std::fs::read_to_string(dir.join(name))
                .map(Cow::Owned)
                .map_err(|e| KnowledgeError::Missing {
                    file: dir.join(name).display().to_string(),
                    reason: e.to_string(),
                }),
        }
    }

    /// The names (relative to `hooks/`) of the files directly inside `folder`, sorted.
    pub fn list(&self, folder: &str) -> Result<Vec<String>, KnowledgeError> {
        let mut names: Vec<String> = match self {
            KnowledgeFiles::Embedded => EMBEDDED
                .get_dir(folder)
                .map(|d| {
                    d.files()
                        .map(|f| f.path().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default(),
            KnowledgeFiles::Dir(dir) => std::fs::read_dir(dir.join(folder))
                .map_err(|e| KnowledgeError::Missing {
                    file: dir.join(folder).display().to_string(),
                    reason: e.to_string(),
                })?
                .filter_map(|e| e.ok())
                .filter(|e| e.path().is_file())
                .map(|e| format!("{folder}/{}", e.file_name().to_string_lossy()))
                .collect(),
        };
        names.sort();
        Ok(names)
    }

    /// Every file under the knowledge root, recursively: (path relative to the root with `/`
    /// separators, bytes). Unsorted.
    pub fn all_files(&self) -> Result<Vec<(String, Vec<u8>)>, KnowledgeError> {
        let mut out = Vec::new();
        match self {
            KnowledgeFiles::Embedded => {
                let mut stack = vec![&EMBEDDED];
                while let Some(dir) = stack.pop() {
                    for f in dir.files() {
                        let path = f.path().to_string_lossy().replace('\\', "/");
                        out.push((path, f.contents().to_vec()));
                    }
                    stack.extend(dir.dirs());
                }
            }
            KnowledgeFiles::Dir(root) => {
                let fail = |path: &std::path::Path, e: std::io::Error| KnowledgeError::Missing {
                    file: path.display().to_string(),
                    reason: e.to_string(),
                };
                let mut stack = vec![root.clone()];
                while let Some(dir) = stack.pop() {
                    for entry in std::fs::read_dir(&dir).map_err(|e| fail(&dir, e))? {
                        let path = entry.map_err(|e| fail(&dir, e))?.path();
                        if path.is_dir() {
                            stack.push(path);
                        } else {
                            let bytes = std::fs::read(&path).map_err(|e| fail(&path, e))?;
                            let relative = path.strip_prefix(root).unwrap_or(&path);
                            let parts: Vec<String> = relative
                                .components()
                                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                                .collect();
                            out.push((parts.join("/"), bytes));
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// Read and deserialize one JSON file; errors name the file and serde's location.
    pub fn json<T: DeserializeOwned>(&self, name: &str) -> Result<T, KnowledgeError> {
        let text = self.read(name)?;
        serde_json::from_str(&text).map_err(|e| KnowledgeError::Invalid {
            file: name.into(),
            reason: e.to_string(),
        })
    }
}

/// Baricitinib doses of one evidence profile (knowledge.md 4.4).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct DoseProfile {
    pub label: String,
    pub baricitinib_standard_mg: f64,
    pub baricitinib_reduced_mg: f64,
    /// The reduced dose also applies for age >= 65, boxed-warning risk factors and recurrent
    /// serious infections (EU SmPC after the 2023 EMA review); the US label has no such step.
    #[serde(default)]
    pub risk_step: bool,
}

#[derive(Debug, Deserialize)]
struct ProfilesFile {
    default: String,
    profiles: BTreeMap<String, DoseProfile>,
}

/// Everything the engine knows, loaded once and shared read-only.
#[derive(Debug, Clone)]
pub struct Knowledge {
    pub thresholds: Thresholds,
    /// The active dose profile's name and doses.
    pub profile_name: String,
    pub profile: DoseProfile,
    pub terminology: Terminology,
    pub drugs: DrugTable,
    pub evidence: EvidenceLibrary,
    /// Windows and cut-offs of the monitoring service (patient-view).
    pub monitoring: Monitoring,
    /// The version of these files (`version.json` and their content hash).
    pub version: KnowledgeVersion,
}

impl Knowledge {
    /// Load and validate all knowledge files. `profile` overrides the file's default profile.
    pub fn load(
        files: &KnowledgeFiles,
        profile: Option<&str>,
    ) -> Result<Knowledge, KnowledgeError> {
        let thresholds: Thresholds = files.json("thresholds.json")?;
        thresholds.validate()?;
        let monitoring: Monitoring = files.json("monitoring.json")?;
        monitoring.validate()?;
        let profiles: ProfilesFile = files.json("profiles.json")?;
        let profile_name = profile.unwrap_or(&profiles.default).to_string();
        let profile = profiles
            .profiles
            .get(&profile_name)
            .cloned()
            .ok_or_else(|| KnowledgeError::Invalid {
                file: "profiles.json".into(),
                reason: format!(
                    "no profile named {profile_name:?} (known: {})",
                    profiles
                        .profiles
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })?;
        Ok(Knowledge {
            thresholds,
            profile_name,
            profile,
            terminology: Terminology::load(files)?,
            drugs: DrugTable::load(files)?,
            evidence: EvidenceLibrary::load(files)?,
            monitoring,
            version: KnowledgeVersion::load(files)?,
        })
    }

    /// The embedded knowledge with the default profile.
    pub fn embedded() -> Result<Knowledge, KnowledgeError> {
        Knowledge::load(&KnowledgeFiles::Embedded, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_knowledge_loads() {
        let kb = Knowledge::embedded().expect("embedded knowledge must load");
        assert_eq!(kb.profile_name, "trial");
        assert_eq!(kb.profile.baricitinib_standard_mg, 4.0);
    }

    #[test]
    fn unknown_profile_is_named_in_the_error() {
        let e = Knowledge::load(&KnowledgeFiles::Embedded, Some("nope")).unwrap_err();
        assert!(e.to_string().contains("nope"), "{e}");
    }
}
