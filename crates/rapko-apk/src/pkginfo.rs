//! `.PKGINFO`, the `key = value` metadata file at the head of a package's control member.
//!
//! Unknown keys are ignored (apk-tools does the same, and abuild adds new ones over time);
//! repeated `depend`/`provides`/`replaces`/`install_if` accumulate.

use crate::dependency::parse_list_lenient as parse_list;
use crate::error::{Error, Result};
use crate::package_info::PackageInfo;

/// Parses the text of a `.PKGINFO` file.
pub fn parse_pkginfo(text: &str) -> Result<PackageInfo> {
    let mut info = PackageInfo::default();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // melange writes empty values as `url = `, which the trim above makes `url =`.
        let split = line
            .split_once(" = ")
            .or_else(|| line.strip_suffix(" =").map(|k| (k, "")));
        let Some((key, value)) = split else {
            return Err(Error::Line {
                line: index + 1,
                message: format!(
                    "expected `key = value`, got {:?}",
                    crate::index::truncate(line)
                ),
            });
        };
        set_key(&mut info, key.trim(), value.trim()).map_err(|message| Error::Line {
            line: index + 1,
            message,
        })?;
    }
    if info.name.is_empty() {
        return Err(Error::Missing("pkgname in .PKGINFO"));
    }
    if info.version.is_empty() {
        return Err(Error::Missing("pkgver in .PKGINFO"));
    }
    Ok(info)
}

fn set_key(info: &mut PackageInfo, key: &str, value: &str) -> Result<(), String> {
    let dep = |field: &'static str| {
        move |e: crate::DependencyError| {
            format!("{field}: {}", crate::index::shorten(e.to_string()))
        }
    };
    match key {
        "pkgname" => info.name = value.to_owned(),
        "pkgver" => info.version = value.to_owned(),
        "pkgdesc" => info.description = value.to_owned(),
        "url" => info.url = value.to_owned(),
        "arch" => info.arch = value.to_owned(),
        "license" => info.license = value.to_owned(),
        "origin" => info.origin = Some(value.to_owned()),
        "maintainer" => info.maintainer = Some(value.to_owned()),
        "commit" => info.commit = Some(value.to_owned()),
        "builddate" => info.build_time = Some(parse_number(key, value)?),
        "size" => info.installed_size = parse_number(key, value)?,
        "provider_priority" => info.provider_priority = Some(parse_number(key, value)?),
        "replaces_priority" => info.replaces_priority = Some(parse_number(key, value)?),
        "depend" => info
            .depends
            .extend(parse_list(value).map_err(dep("depend"))?),
        "provides" => info
            .provides
            .extend(parse_list(value).map_err(dep("provides"))?),
        "replaces" => info
            .replaces
            .extend(parse_list(value).map_err(dep("replaces"))?),
        "install_if" => info
            .install_if
            .extend(parse_list(value).map_err(dep("install_if"))?),
        "triggers" => info
            .triggers
            .extend(value.split_ascii_whitespace().map(str::to_owned)),
        "datahash" => info.datahash = Some(parse_hex32(value)?),
        _ => {}
    }
    Ok(())
}

pub(crate) fn parse_number<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{key}: {:?} is not a number", crate::index::truncate(value)))
}

pub fn parse_hex32(value: &str) -> Result<[u8; 32], String> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(value, &mut out)
        .map_err(|_| format!("datahash {value:?} is not 64 hex digits"))?;
    Ok(out)
}

/// Writes `.PKGINFO` text for `info`, in the order abuild uses.
pub fn write_pkginfo(info: &PackageInfo) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let mut kv = |k: &str, v: &dyn std::fmt::Display| {
        let _ = writeln!(out, "{k} = {v}");
    };
    kv("pkgname", &info.name);
    kv("pkgver", &info.version);
    kv("pkgdesc", &info.description);
    kv("url", &info.url);
    if let Some(t) = info.build_time {
        kv("builddate", &t);
    }
    kv("size", &info.installed_size);
    kv("arch", &info.arch);
    if let Some(o) = &info.origin {
        kv("origin", o);
    }
    if let Some(c) = &info.commit {
        kv("commit", c);
    }
    if let Some(m) = &info.maintainer {
        kv("maintainer", m);
    }
    kv("license", &info.license);
    for r in &info.replaces {
        kv("replaces", r);
    }
    if let Some(p) = info.replaces_priority {
        kv("replaces_priority", &p);
    }
    if let Some(p) = info.provider_priority {
        kv("provider_priority", &p);
    }
    if !info.triggers.is_empty() {
        kv("triggers", &info.triggers.join(" "));
    }
    if !info.install_if.is_empty() {
        kv("install_if", &join(&info.install_if));
    }
    for p in &info.provides {
        kv("provides", p);
    }
    for d in &info.depends {
        kv("depend", d);
    }
    if let Some(h) = &info.datahash {
        kv("datahash", &hex::encode(h));
    }
    out
}

pub(crate) fn join<T: std::fmt::Display>(items: &[T]) -> String {
    let mut s = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&item.to_string());
    }
    s
}
