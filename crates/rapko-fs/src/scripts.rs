//! What the install scripts that matter would have done, done declaratively: we never run a
//! package's code (it may be for another architecture, and running it is not reproducible).
//!
//! - busybox's `--install -s` (post-install and trigger): one symlink per applet. The applet
//!   list comes from `/etc/busybox-paths.d/<binary>`, which Alpine's and Wolfi's busybox
//!   packages ship; links are `/bin/<binary>` absolute, as busybox makes them. Alpine's
//!   `bbsuid --install` runs first and links its setuid applets to `/bin/bbsuid`.
//! - `update-ca-certificates` (ca-certificates' trigger): the bundle
//!   `/etc/ssl/certs/ca-certificates.crt` and a `<name>.pem` link per certificate. The OpenSSL
//!   subject-hash links (`<hash>.0`) are not made: they need X.509 parsing, and every TLS
//!   stack we know reads the bundle that `SSL_CERT_FILE` names.
//! - `ldconfig` (glibc's trigger): `/etc/ld.so.cache`.
//! - apko's service bundle: `/sv/<service>/run` for s6.

use std::collections::BTreeMap;

use rapko_apk::installed::InstalledPackage;
use rapko_config::Entrypoint;
use rapko_config::EntrypointType;

use crate::error::Result;
use crate::rootfs::Writer;
use crate::tree::NodeKind;

/// The setuid applets Alpine's `bbsuid --install` links (from bbsuid.c's applet table).
const BBSUID_APPLETS: [&str; 8] = [
    "bin/mount",
    "bin/umount",
    "bin/su",
    "usr/bin/crontab",
    "usr/bin/passwd",
    "usr/bin/traceroute",
    "usr/bin/traceroute6",
    "usr/bin/vlock",
];

/// Creates busybox applet symlinks that no package file already occupies.
pub fn busybox_links(w: &mut Writer<'_>) -> Result<()> {
    let Ok(paths_dir) = w.tree.resolve("etc/busybox-paths.d") else {
        return Ok(());
    };
    if w.tree.get("bin/bbsuid").is_some() {
        for applet in BBSUID_APPLETS {
            w.symlink_if_absent(applet, "/bin/bbsuid")?;
        }
    }
    let lists: Vec<(String, String)> = w
        .tree
        .children(&paths_dir)
        .into_iter()
        .map(|name| (name.to_owned(), format!("{paths_dir}/{name}")))
        .collect();
    for (binary, list_path) in lists {
        let Some(target) = binary_path(w, &binary) else {
            tracing::warn!(
                "/{list_path} lists applets of {binary}, but no such binary is installed"
            );
            continue;
        };
        let list = String::from_utf8_lossy(w.read(&list_path).unwrap_or_default()).into_owned();
        let mut made = 0;
        for applet in list
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let applet = applet.trim_start_matches('/');
            if applet.split('/').any(|c| c == "..") {
                continue;
            }
            if w.symlink_if_absent(applet, &target)? {
                made += 1;
            }
        }
        tracing::debug!("{made} applet links to {target}");
    }
    Ok(())
}

/// Where a multi-call binary lives: `/bin/NAME` or `/usr/bin/NAME`.
fn binary_path(w: &Writer<'_>, name: &str) -> Option<String> {
    ["bin", "usr/bin", "sbin", "usr/sbin"]
        .into_iter()
        .map(|dir| format!("{dir}/{name}"))
        .find(|p| w.read(p).is_some())
        .map(|p| format!("/{p}"))
}

const CA_DIR: &str = "usr/share/ca-certificates";
const CA_BUNDLE: &str = "etc/ssl/certs/ca-certificates.crt";

/// When `ca-certificates` is installed, writes the bundle its trigger would make, unless a
/// package (ca-certificates-bundle) ships it.
pub fn ca_bundle(w: &mut Writer<'_>, installed: &[InstalledPackage]) -> Result<()> {
    if !installed.iter().any(|p| p.info.name == "ca-certificates") {
        return Ok(());
    }
    let certs: Vec<String> = w
        .tree
        .iter()
        .filter(|(path, node)| {
            path.starts_with(CA_DIR)
                && path.ends_with(".crt")
                && matches!(node.kind, NodeKind::File(_))
        })
        .map(|(path, _)| path.clone())
        .collect();
    let mut bundle = Vec::new();
    let mut links = BTreeMap::new();
    for path in &certs {
        let Some(pem) = w.read(path) else { continue };
        bundle.extend_from_slice(pem);
        if !pem.ends_with(b"\n") {
            bundle.push(b'\n');
        }
        let name = path
            .rsplit('/')
            .next()
            .unwrap_or(path)
            .trim_end_matches(".crt");
        links.insert(format!("etc/ssl/certs/{name}.pem"), format!("/{path}"));
    }
    if certs.is_empty() {
        return Ok(());
    }
    w.dir("etc/ssl/certs", 0o755)?;
    let bundle_exists = w
        .tree
        .resolve_parent(CA_BUNDLE)
        .is_ok_and(|p| w.tree.get(&p).is_some());
    if !bundle_exists {
        w.file(CA_BUNDLE, bundle, 0o644)?;
    }
    for (link, target) in links {
        w.symlink_if_absent(&link, &target)?;
    }
    Ok(())
}

/// `ldconfig` (glibc's trigger and commit hook): `/etc/ld.so.cache` and the SONAME links it
/// makes, when the tree holds a glibc dynamic loader; see [`crate::ldcache_view`].
pub fn ld_so_cache(w: &mut Writer<'_>, apk_arch: &str) -> Result<()> {
    crate::ldcache_view::write_ld_so_cache(w, apk_arch)
}

/// apko's `type: service-bundle`: one s6 service directory per entry under `/sv`.
pub fn service_bundle(w: &mut Writer<'_>, entrypoint: &Entrypoint) -> Result<()> {
    if entrypoint.kind != Some(EntrypointType::ServiceBundle) {
        return Ok(());
    }
    w.dir("sv", 0o755)?;
    for (name, command) in &entrypoint.services {
        if name.is_empty() || name.contains('/') || name.starts_with('.') {
            return Err(crate::FsError::Path(format!(
                "service name {name:?} must be a plain name"
            )));
        }
        w.dir(&format!("sv/{name}"), 0o755)?;
        let run = format!("#!/bin/execlineb\n{command}\n");
        w.file(&format!("sv/{name}/run"), run.into_bytes(), 0o755)?;
    }
    Ok(())
}
