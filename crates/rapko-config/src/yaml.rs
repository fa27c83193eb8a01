//! Reading one YAML document into an [`ImageConfiguration`], and writing one back.
//!
//! Parsing uses serde-saphyr with go-yaml's integer rules (`0755` is octal).
//! Its structured errors are turned into [`ConfigError`]s that say
//! `FILE:LINE:COLUMN:` and, for unknown keys, in which section the key was found.

use std::path::Path;

use serde_saphyr::{MessageFormatter, UserMessageFormatter};

use crate::{ConfigError, ImageConfiguration};

/// Each mapping's keys, as serde reports them in an unknown-key error, and the
/// name the error message gives the mapping. A test checks this table against
/// the types, so a key added there and forgotten here fails the build's tests.
pub(crate) const SECTIONS: &[(&str, &[&str])] = &[
    (
        "the top level",
        &[
            "contents",
            "entrypoint",
            "cmd",
            "stop-signal",
            "work-dir",
            "accounts",
            "archs",
            "environment",
            "paths",
            "vcs-url",
            "annotations",
            "include",
            "volumes",
            "layering",
            "certificates",
            "options",
        ],
    ),
    (
        "contents",
        &[
            "repositories",
            "build_repositories",
            "runtime_repositories",
            "keyring",
            "packages",
            "baseimage",
        ],
    ),
    ("contents.baseimage", &["image", "apkindex"]),
    (
        "entrypoint",
        &["type", "command", "shell-fragment", "services"],
    ),
    ("accounts", &["run-as", "users", "groups"]),
    (
        "accounts.users",
        &["username", "uid", "gid", "shell", "homedir"],
    ),
    ("accounts.groups", &["groupname", "gid", "members"]),
    (
        "paths",
        &[
            "path",
            "type",
            "uid",
            "gid",
            "permissions",
            "source",
            "recursive",
        ],
    ),
    ("layering", &["strategy", "budget"]),
    ("certificates", &["additional"]),
    ("certificates.additional", &["name", "content"]),
    (
        "options",
        &["contents", "accounts", "environment", "entrypoint"],
    ),
    ("options contents", &["packages"]),
    ("options packages", &["add", "remove"]),
    ("options accounts", &["run-as"]),
];

/// Each enum's values and the key they are the value of.
const ENUM_KEYS: &[(&str, &[&str])] = &[
    ("entrypoint.type", &["service-bundle"]),
    (
        "paths type",
        &[
            "directory",
            "empty-file",
            "hardlink",
            "symlink",
            "permissions",
        ],
    ),
    ("layering.strategy", &["origin"]),
];

/// Parses one document. No includes, defaults or validation: see [`crate::load`].
pub(crate) fn parse(text: &str, file: &Path) -> Result<ImageConfiguration, ConfigError> {
    if is_blank(text) {
        return Err(ConfigError::Empty {
            file: file.to_path_buf(),
        });
    }
    let options = serde_saphyr::options! {
        // go-yaml v3 (apko) reads a leading-zero integer as octal: `0755` == 0o755.
        legacy_octal_numbers: true,
    };
    serde_saphyr::from_str_with_options(text, options).map_err(|e| translate(file, &e))
}

/// True when the text has no YAML content, only blanks, comments or `---`.
fn is_blank(text: &str) -> bool {
    text.lines().all(|line| {
        let t = line.trim();
        t.is_empty() || t.starts_with('#') || t == "---" || t == "..."
    })
}

/// Turns a serde-saphyr error into ours, keeping the position.
fn translate(file: &Path, err: &serde_saphyr::Error) -> ConfigError {
    let inner = unwrap_error(err);
    let (line, column) = err
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    let yaml = |message: String| ConfigError::Yaml {
        file: file.to_path_buf(),
        line,
        column,
        message,
    };
    match inner {
        serde_saphyr::Error::SerdeUnknownField {
            field, expected, ..
        } => ConfigError::UnknownKey {
            file: file.to_path_buf(),
            line,
            column,
            key: field.clone(),
            section: section_of(expected),
            expected: expected.clone(),
        },
        serde_saphyr::Error::SerdeUnknownVariant {
            variant, expected, ..
        } => yaml(format!(
            "unknown {} \"{variant}\" (expected one of {})",
            enum_key_of(expected),
            expected.join(", ")
        )),
        serde_saphyr::Error::SerdeMissingField { field, .. } => {
            yaml(format!("missing key \"{field}\" in this mapping; add it"))
        }
        serde_saphyr::Error::Unexpected { expected, .. } => yaml(expected_shape(expected)),
        other => yaml(UserMessageFormatter.format_message(other).into_owned()),
    }
}

/// Says what was expected in YAML words, for the parser's structural errors.
fn expected_shape(expected: &str) -> String {
    match expected {
        "sequence start" => "expected a list here (`- item` lines or `[a, b]`)".to_string(),
        "mapping start" => {
            "expected a mapping here (`key: value` lines or `{key: value}`)".to_string()
        }
        "string scalar" | "scalar" => {
            "expected a single value here, not a list or mapping".to_string()
        }
        other => format!("expected {other}"),
    }
}

/// Looks through the wrappers serde-saphyr puts around the error that happened.
fn unwrap_error(mut err: &serde_saphyr::Error) -> &serde_saphyr::Error {
    loop {
        match err {
            serde_saphyr::Error::WithSnippet { error, .. }
            | serde_saphyr::Error::AliasError { error, .. } => err = error,
            other => return other,
        }
    }
}

fn section_of(expected: &[&str]) -> &'static str {
    SECTIONS
        .iter()
        .find(|(_, keys)| *keys == expected)
        .map_or("this mapping", |(name, _)| name)
}

fn enum_key_of(expected: &[&str]) -> &'static str {
    ENUM_KEYS
        .iter()
        .find(|(_, values)| *values == expected)
        .map_or("value", |(name, _)| name)
}

/// Writes a configuration as YAML, keys in apko's order, maps sorted, and
/// permissions followed by their octal spelling in a comment.
pub(crate) fn write(config: &ImageConfiguration) -> String {
    // The types only hold strings, integers, booleans, sequences and string-keyed
    // maps, which always serialize; the fallback keeps this panic-free regardless.
    let yaml =
        serde_saphyr::to_string(config).unwrap_or_else(|e| format!("# cannot write config: {e}\n"));
    yaml.lines().map(comment_permissions).collect()
}

/// `  permissions: 493` becomes `  permissions: 493 # 0o755`; other lines are kept.
/// Only `paths[].permissions` has that key with an integer value.
fn comment_permissions(line: &str) -> String {
    let mode = line
        .trim_start()
        .strip_prefix("permissions: ")
        .and_then(|v| v.parse::<u32>().ok());
    match mode {
        Some(mode) => format!("{line} # 0o{mode:o}\n"),
        None => format!("{line}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match parse(text, Path::new("t.yaml")) {
            Ok(c) => format!("unexpectedly parsed: {c:?}"),
            Err(e) => e.to_string(),
        }
    }

    /// Each section of the table, provoked with an unknown key, must be found
    /// by name: this fails when a type gains a key the table lacks.
    #[test]
    fn section_table_matches_the_types() {
        let cases = [
            ("bogus: 1\n", "the top level"),
            ("contents:\n  bogus: 1\n", "contents"),
            (
                "contents:\n  baseimage:\n    bogus: 1\n",
                "contents.baseimage",
            ),
            ("entrypoint:\n  bogus: 1\n", "entrypoint"),
            ("accounts:\n  bogus: 1\n", "accounts"),
            ("accounts:\n  users:\n    - bogus: 1\n", "accounts.users"),
            ("accounts:\n  groups:\n    - bogus: 1\n", "accounts.groups"),
            ("paths:\n  - bogus: 1\n", "paths"),
            ("layering:\n  bogus: 1\n", "layering"),
            ("certificates:\n  bogus: 1\n", "certificates"),
            (
                "certificates:\n  additional:\n    - bogus: 1\n",
                "certificates.additional",
            ),
            ("options:\n  x:\n    bogus: 1\n", "options"),
            (
                "options:\n  x:\n    contents:\n      bogus: 1\n",
                "options contents",
            ),
            (
                "options:\n  x:\n    contents:\n      packages:\n        bogus: 1\n",
                "options packages",
            ),
            (
                "options:\n  x:\n    accounts:\n      bogus: 1\n",
                "options accounts",
            ),
        ];
        for (text, section) in cases {
            let msg = err(text);
            assert!(
                msg.contains(&format!("unknown key \"bogus\" in {section} (")),
                "{text:?} gave {msg}"
            );
        }
    }

    #[test]
    fn enum_table_matches_the_types() {
        assert!(err("entrypoint:\n  type: x\n").contains("unknown entrypoint.type \"x\""));
        assert!(err("paths:\n  - path: /a\n    type: x\n").contains("unknown paths type \"x\""));
        assert!(err("layering:\n  strategy: x\n").contains("unknown layering.strategy \"x\""));
    }

    #[test]
    fn only_integer_permissions_get_a_comment() {
        assert_eq!(
            comment_permissions("    permissions: 493"),
            "    permissions: 493 # 0o755\n"
        );
        assert_eq!(
            comment_permissions("  type: permissions"),
            "  type: permissions\n"
        );
        assert_eq!(comment_permissions("permissions: x"), "permissions: x\n");
    }

    #[test]
    fn blank_documents_are_empty() {
        assert_eq!(
            err(""),
            "t.yaml: the config is empty; write at least `contents: {packages: [...]}`"
        );
        assert!(err("# only a comment\n---\n").contains("the config is empty"));
    }
}
