//! Package URLs (purl) for APK packages and OCI images.
//!
//! Encoding follows the purl specification's character rules: letters, digits, `.-_~` and
//! the colon are written as they are, everything else is percent-encoded as UTF-8 with
//! uppercase hex. The colon is deliberately left alone (the specification says it MUST NOT
//! be encoded), so a digest version reads `sha256:…`; older examples in the oci type's
//! description show `sha256%3A…`, which decodes to the same purl. Qualifier values also keep
//! `/` (as the specification's `repository_url=docker.io/library/debian` example does), and
//! qualifiers are sorted by key. The apk and oci types want lowercase names and namespaces.

/// `pkg:apk/<vendor>/<name>@<version>?arch=<arch>&distro=<distro>`.
pub fn apk_purl(
    vendor: &str,
    name: &str,
    version: &str,
    arch: &str,
    distro: Option<&str>,
) -> String {
    let mut qualifiers = vec![("arch", arch)];
    if let Some(d) = distro {
        qualifiers.push(("distro", d));
    }
    format!(
        "pkg:apk/{}/{}@{}{}",
        encode(&vendor.to_lowercase(), false),
        encode(&name.to_lowercase(), false),
        encode(version, false),
        qualifier_string(qualifiers)
    )
}

/// `pkg:oci/<name>@sha256:…?arch=…&repository_url=…` for an image or index. `repository`
/// is the image's repository as tagged (`ghcr.io/org/app`, `app`); the purl name is its
/// last path segment, and a repository with a registry or namespace part is also given as
/// `repository_url`.
pub fn oci_purl(repository: &str, digest: &str, arch: Option<&str>) -> String {
    let repository = repository.trim_matches('/');
    let name = repository.rsplit('/').next().unwrap_or(repository);
    let name = if name.is_empty() { "image" } else { name };
    let mut qualifiers = Vec::new();
    if let Some(a) = arch {
        qualifiers.push(("arch", a));
    }
    if repository.contains('/') {
        qualifiers.push(("repository_url", repository));
    }
    format!(
        "pkg:oci/{}@{}{}",
        encode(&name.to_lowercase(), false),
        encode(digest, false),
        qualifier_string(qualifiers)
    )
}

fn qualifier_string(mut qualifiers: Vec<(&str, &str)>) -> String {
    qualifiers.retain(|(_, v)| !v.is_empty());
    qualifiers.sort_by(|a, b| a.0.cmp(b.0));
    let parts: Vec<String> = qualifiers
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v, true)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// Percent-encodes everything but `A-Za-z0-9.-_~:` (and `/` in qualifier values).
fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric() || b".-_~:".contains(&b) || (keep_slash && b == b'/');
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apk_purls() {
        assert_eq!(
            apk_purl(
                "alpine",
                "busybox",
                "1.36.1-r15",
                "x86_64",
                Some("alpine-3.19.1")
            ),
            "pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1"
        );
        assert_eq!(
            apk_purl(
                "Alpine",
                "libstdc++",
                "13.2.1_git20231014-r0",
                "x86_64",
                None
            ),
            "pkg:apk/alpine/libstdc%2B%2B@13.2.1_git20231014-r0?arch=x86_64"
        );
        assert_eq!(apk_purl("x", "a b", "1", "", None), "pkg:apk/x/a%20b@1");
    }

    #[test]
    fn oci_purls() {
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(
            oci_purl("ghcr.io/Org/App", d, Some("amd64")),
            format!("pkg:oci/app@{d}?arch=amd64&repository_url=ghcr.io/Org/App")
        );
        assert_eq!(
            oci_purl("alpine-base", d, None),
            format!("pkg:oci/alpine-base@{d}")
        );
        assert_eq!(oci_purl("", d, None), format!("pkg:oci/image@{d}"));
    }
}
