//! Configuration from the environment, over the TOML file: `JAK_SLE_CDS__SECTION__KEY=value`
//! sets `[section] key` (any depth: each `__` is one level, names are lower-cased), and
//! `JAK_SLE_CDS__SECTION__KEY_FILE=/path` reads the value from a file (a mounted secret; the
//! trailing newline is dropped). The environment wins over the file.
//!
//! Generic over the TOML tree: a key another part of the service adds to [`Config`] is
//! settable without code here. A value is read as a TOML value (`true`, `8080`,
//! `["a", "b"]`, `[{ iss = "x", jwks_url = "y" }]`) unless the key's default is a string or
//! the text is not valid TOML: then it is the text as is (quote it, `'"123"'`, to force a
//! string for a key without a default).
//!
//! [`masked`] renders a configuration for `check-config` with secrets hidden: every value set
//! from a `_FILE` variable, every key whose name says it is secret, and the password of any
//! URL.
//!
//! [`Config`]: super::Config

use std::collections::BTreeSet;
use std::path::Path;

use toml::{Table, Value};

/// Prefix of the configuration variables.
pub const PREFIX: &str = "JAK_SLE_CDS__";
/// Suffix of a variable naming a file that holds the value.
const FILE_SUFFIX: &str = "_FILE";
/// What a masked value reads as.
const MASK: &str = "********";
/// Parts of key names that mark a secret.
const SECRET_NAMES: [&str; 6] = [
    "password",
    "secret",
    "salt",
    "token",
    "private",
    "credential",
];

/// One configuration variable: where it points in the tree and what it sets.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// The variable's name, for error messages.
    pub var: String,
    /// Lower-cased key path, e.g. `["store", "url"]`.
    pub path: Vec<String>,
    pub value: Value,
    /// Read from a file: a secret, masked when printed.
    pub from_file: bool,
}

/// The configuration variables among `vars` (name, value), in name order. `defaults` is the
/// default configuration's tree (to keep string keys strings). Errors name the variable.
pub fn overrides(
    vars: impl IntoIterator<Item = (String, String)>,
    defaults: &Table,
) -> Result<Vec<Override>, String> {
    let mut out = Vec::new();
    let mut vars: Vec<(String, String)> = vars
        .into_iter()
        .filter(|(k, _)| k.starts_with(PREFIX))
        .collect();
    vars.sort();
    for (var, raw) in vars {
        let rest = &var[PREFIX.len()..];
        let (rest, from_file) = match rest.strip_suffix(FILE_SUFFIX) {
            Some(r) => (r, true),
            None => (rest, false),
        };
        let path: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
        if path.iter().any(String::is_empty) {
            return Err(format!("{var}: empty key name (use SECTION__KEY)"));
        }
        let text = if from_file {
            let text = std::fs::read_to_string(Path::new(&raw))
                .map_err(|e| format!("{var}: cannot read {raw}: {e}"))?;
            text.trim_end_matches(['\n', '\r']).to_string()
        } else {
            raw
        };
        let value = if from_file || is_string_key(defaults, &path) {
            Value::String(text)
        } else {
            parse_value(&text)
        };
        out.push(Override {
            var,
            path,
            value,
            from_file,
        });
    }
    Ok(out)
}

/// The text as a TOML value, or as a string when it is not one.
fn parse_value(text: &str) -> Value {
    #[derive(serde::Deserialize)]
    struct Wrapper {
        v: Value,
    }
    toml::from_str::<Wrapper>(&format!("v = {text}"))
        .map(|w| w.v)
        .unwrap_or_else(|_| Value::String(text.to_string()))
}

fn is_string_key(defaults: &Table, path: &[String]) -> bool {
    matches!(lookup(defaults, path), Some(Value::String(_)))
}

fn lookup<'a>(table: &'a Table, path: &[String]) -> Option<&'a Value> {
    let (last, parents) = path.split_last()?;
    let mut t = table;
    for p in parents {
        t = t.get(p)?.as_table()?;
    }
    t.get(last)
}

/// Apply `overrides` to `tree` (creating sections as needed). Errors name the variable.
pub fn apply(tree: &mut Table, overrides: &[Override]) -> Result<(), String> {
    for o in overrides {
        let (last, parents) = o.path.split_last().expect("paths are not empty");
        let mut t = &mut *tree;
        for p in parents {
            t = t
                .entry(p.clone())
                .or_insert_with(|| Value::Table(Table::new()))
                .as_table_mut()
                .ok_or_else(|| format!("{}: {p} is a value, not a section", o.var))?;
        }
        t.insert(last.clone(), o.value.clone());
    }
    Ok(())
}

/// `tree` as TOML text with secrets masked: values set from files (`overrides`), keys named
/// like secrets, and URL passwords.
pub fn masked(mut tree: Table, overrides: &[Override]) -> String {
    let from_files: BTreeSet<&[String]> = overrides
        .iter()
        .filter(|o| o.from_file)
        .map(|o| o.path.as_slice())
        .collect();
    mask_table(&mut tree, &mut Vec::new(), &from_files);
    toml::to_string_pretty(&tree).unwrap_or_else(|e| format!("# cannot print: {e}\n"))
}

fn mask_table(table: &mut Table, path: &mut Vec<String>, from_files: &BTreeSet<&[String]>) {
    for (key, value) in table.iter_mut() {
        path.push(key.clone());
        let secret = from_files.contains(path.as_slice())
            || SECRET_NAMES
                .iter()
                .any(|s| key.to_ascii_lowercase().contains(s));
        mask_value(value, secret, path, from_files);
        path.pop();
    }
}

fn mask_value(
    value: &mut Value,
    secret: bool,
    path: &mut Vec<String>,
    from_files: &BTreeSet<&[String]>,
) {
    match value {
        Value::Table(t) => mask_table(t, path, from_files),
        Value::Array(items) => {
            for item in items {
                mask_value(item, secret, path, from_files);
            }
        }
        Value::String(s) if secret => *s = MASK.to_string(),
        Value::String(s) => {
            if let Ok(mut url) = url::Url::parse(s) {
                if url.password().is_some() && url.set_password(Some(MASK)).is_ok() {
                    *s = url.to_string();
                }
            }
        }
        _ if secret => *value = Value::String(MASK.to_string()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn defaults() -> Table {
        toml::from_str("[store]\nurl = \"sqlite://x\"\n[server]\nmax_body_bytes = 5\n").unwrap()
    }

    #[test]
    fn variables_map_to_nested_keys_with_typed_values() {
        let o = overrides(
            vars(&[
                ("JAK_SLE_CDS__SERVER__MAX_BODY_BYTES", "1000"),
                ("JAK_SLE_CDS__AUTH__REQUIRED", "false"),
                ("JAK_SLE_CDS__FHIR__ALLOWED_SERVERS", r#"["https://a/*"]"#),
                ("JAK_SLE_CDS__SERVICES__JAK-ORDER-SIGN__MODE", "silent"),
                ("OTHER", "x"),
            ]),
            &defaults(),
        )
        .unwrap();
        let mut tree = Table::new();
        apply(&mut tree, &o).unwrap();
        assert_eq!(tree["server"]["max_body_bytes"].as_integer(), Some(1000));
        assert_eq!(tree["auth"]["required"].as_bool(), Some(false));
        assert_eq!(
            tree["fhir"]["allowed_servers"][0].as_str(),
            Some("https://a/*")
        );
        assert_eq!(
            tree["services"]["jak-order-sign"]["mode"].as_str(),
            Some("silent")
        );
    }

    #[test]
    fn a_string_key_stays_a_string() {
        let o = overrides(vars(&[("JAK_SLE_CDS__STORE__URL", "123")]), &defaults()).unwrap();
        assert_eq!(o[0].value, Value::String("123".into()));
    }

    #[test]
    fn a_file_variable_reads_the_secret_and_is_masked() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("db-url");
        std::fs::write(&secret, "postgres://app:hunter2@db/cds\n").unwrap();
        let o = overrides(
            vars(&[("JAK_SLE_CDS__STORE__URL_FILE", secret.to_str().unwrap())]),
            &defaults(),
        )
        .unwrap();
        assert_eq!(o[0].path, ["store", "url"]);
        let mut tree = defaults();
        apply(&mut tree, &o).unwrap();
        assert_eq!(
            tree["store"]["url"].as_str(),
            Some("postgres://app:hunter2@db/cds")
        );
        let printed = masked(tree, &o);
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains(MASK), "{printed}");

        let missing = overrides(
            vars(&[("JAK_SLE_CDS__STORE__URL_FILE", "/nonexistent/x")]),
            &defaults(),
        )
        .unwrap_err();
        assert!(
            missing.starts_with("JAK_SLE_CDS__STORE__URL_FILE"),
            "{missing}"
        );
    }

    #[test]
    fn url_passwords_and_secret_keys_are_masked() {
        let tree: Table = toml::from_str(
            "[store]\nurl = \"postgres://app:pw123@db/cds\"\naudit_salt = \"s4lt\"\n",
        )
        .unwrap();
        let printed = masked(tree, &[]);
        assert!(
            !printed.contains("pw123") && !printed.contains("s4lt"),
            "{printed}"
        );
        assert!(printed.contains("postgres://app:"), "{printed}");
    }

    #[test]
    fn bad_paths_are_refused_with_the_variable_name() {
        let e = overrides(vars(&[("JAK_SLE_CDS__SERVER____X", "1")]), &defaults()).unwrap_err();
        assert!(e.starts_with("JAK_SLE_CDS__SERVER____X"), "{e}");
        let o = overrides(
            vars(&[("JAK_SLE_CDS__SERVER__MAX_BODY_BYTES__X", "1")]),
            &defaults(),
        )
        .unwrap();
        let e = apply(&mut defaults(), &o).unwrap_err();
        assert!(e.contains("max_body_bytes is a value"), "{e}");
    }
}
