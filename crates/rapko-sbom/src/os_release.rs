//! `/etc/os-release` (os-release(5)): the fields an SBOM names the operating system by.
//!
//! The format is shell-like `KEY=value` lines; values may be quoted with `"` or `'` and use
//! backslash escapes inside double quotes. Unknown keys, comments and malformed lines are
//! ignored, as every reader of the file does.

use std::collections::BTreeMap;

/// The operating system an image is built from, as its `/etc/os-release` says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OsRelease {
    /// `ID`, lowercase (`alpine`, `wolfi`): the purl namespace of its packages.
    pub id: Option<String>,
    /// `VERSION_ID` (`3.19.1`).
    pub version_id: Option<String>,
    /// `NAME` (`Alpine Linux`): the supplier of its packages.
    pub name: Option<String>,
    /// `PRETTY_NAME` (`Alpine Linux v3.19`).
    pub pretty_name: Option<String>,
    /// `HOME_URL`.
    pub home_url: Option<String>,
    /// Every key read, for callers that want more.
    pub fields: BTreeMap<String, String>,
}

/// Parses the text of an os-release file. Never fails: what cannot be read is left out.
pub fn parse_os_release(text: &str) -> OsRelease {
    let fields: BTreeMap<String, String> = text.lines().filter_map(parse_line).collect();
    let get = |key: &str| fields.get(key).filter(|v| !v.is_empty()).cloned();
    OsRelease {
        id: get("ID").map(|id| id.to_ascii_lowercase()),
        version_id: get("VERSION_ID"),
        name: get("NAME"),
        pretty_name: get("PRETTY_NAME"),
        home_url: get("HOME_URL"),
        fields,
    }
}

fn parse_line(line: &str) -> Option<(String, String)> {
    let line = line.trim();
    if line.starts_with('#') {
        return None;
    }
    let (key, value) = line.split_once('=')?;
    let key = key.trim();
    let valid_key = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid_key.then(|| (key.to_owned(), unquote(value.trim())))
}

/// Removes shell quoting: `"a \"b\""` → `a "b"`, `'x'` → `x`, bare values as they are.
fn unquote(value: &str) -> String {
    if let Some(inner) = value.strip_prefix('\'') {
        return inner.strip_suffix('\'').unwrap_or(inner).to_owned();
    }
    let Some(inner) = value.strip_prefix('"') else {
        return value.to_owned();
    };
    let inner = inner.strip_suffix('"').unwrap_or(inner);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            // os-release(5): only \" \\ \$ \` are escapes; a lone backslash stays.
            match chars.next() {
                Some(e @ ('"' | '\\' | '$' | '`')) => out.push(e),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpine_os_release() {
        let text = "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\n\
                    PRETTY_NAME=\"Alpine Linux v3.19\"\nHOME_URL=\"https://alpinelinux.org/\"\n\
                    BUG_REPORT_URL=\"https://gitlab.alpinelinux.org/alpine/aports/-/issues\"\n";
        let os = parse_os_release(text);
        assert_eq!(os.id.as_deref(), Some("alpine"));
        assert_eq!(os.version_id.as_deref(), Some("3.19.1"));
        assert_eq!(os.name.as_deref(), Some("Alpine Linux"));
        assert_eq!(os.pretty_name.as_deref(), Some("Alpine Linux v3.19"));
        assert_eq!(os.home_url.as_deref(), Some("https://alpinelinux.org/"));
        assert_eq!(os.fields.len(), 6);
    }

    #[test]
    fn quoting_comments_and_junk() {
        let text = "# comment\nID='Wolfi'\nNAME=\"say \\\"hi\\\" \\x\"\n=novalue\nnot a line\nBAD KEY=1\nEMPTY=\n";
        let os = parse_os_release(text);
        assert_eq!(os.id.as_deref(), Some("wolfi"));
        assert_eq!(os.name.as_deref(), Some("say \"hi\" \\x"));
        assert_eq!(os.version_id, None);
        assert_eq!(os.fields.get("EMPTY").map(String::as_str), Some(""));
        assert_eq!(os.fields.len(), 3);
    }
}
