//! What the install scripts that matter would have done, done declaratively: we never run a
//! package's code (it may be for another architecture, and running it is not reproducible).
//!
//! - busybox's `--install -s` (post-install and trigger): one symlink per applet, see
//!   [`crate::busybox`].
//! - `update-ca-certificates` (ca-certificates' trigger), as Alpine's `update-ca` does it:
//!   for each certificate enabled in `/etc/ca-certificates.conf` (paths under
//!   `/usr/share/ca-certificates`; `!` disables one), then each `*.crt` in
//!   `/usr/local/share/ca-certificates`, a link `/etc/ssl/certs/ca-cert-<name>.pem` to it, and
//!   the bundle `/etc/ssl/certs/ca-certificates.crt`: every certificate followed by a newline,
//!   in that order (byte for byte what the glibc distro's update-ca-certificates writes). A
//!   bundle a package ships (ca-certificates-bundle) is left as it is. The OpenSSL
//!   subject-hash links (`<hash>.0`, made by the `certhash` hook through `c_rehash`) are not
//!   made: they need X.509 name canonicalisation, and TLS stacks read the bundle that
//!   `SSL_CERT_FILE` names.
//! - `ldconfig` (glibc's trigger): `/etc/ld.so.cache`, see [`crate::ldcache_view`].
//! - apko's service bundle: `/sv/<service>/run` for s6.

use rapko_apk::installed::InstalledPackage;
use rapko_config::Entrypoint;
use rapko_config::EntrypointType;

use crate::error::Result;
use crate::rootfs::Writer;
use crate::tree::NodeKind;

/// Creates busybox applet symlinks that no package file already occupies.
pub fn busybox_links(w: &mut Writer<'_>) -> Result<()> {
    crate::busybox::install_links(w)
}

const CA_DIR: &str = "usr/share/ca-certificates";
const CA_LOCAL_DIR: &str = "usr/local/share/ca-certificates";
const CA_CONF: &str = "etc/ca-certificates.conf";
const CA_CERTS: &str = "etc/ssl/certs";
const CA_BUNDLE: &str = "etc/ssl/certs/ca-certificates.crt";

/// When `ca-certificates` is installed, makes the links and the bundle its trigger would.
pub fn ca_bundle(w: &mut Writer<'_>, installed: &[InstalledPackage]) -> Result<()> {
    if !installed.iter().any(|p| p.info.name == "ca-certificates") {
        return Ok(());
    }
    let certs = enabled_certificates(w)?;
    if certs.is_empty() {
        return Ok(());
    }
    w.dir(CA_CERTS, 0o755)?;
    let mut bundle = Vec::new();
    for path in &certs {
        let Some(pem) = w.read(path)? else { continue };
        bundle.extend_from_slice(&pem);
        bundle.push(b'\n');
        let file = path.rsplit('/').next().unwrap_or(path);
        let name = file.strip_suffix(".crt").unwrap_or(file);
        w.symlink_if_absent(
            &format!("{CA_CERTS}/ca-cert-{name}.pem"),
            &format!("/{path}"),
        )?;
    }
    let bundle_exists = w
        .tree
        .resolve(CA_BUNDLE)
        .is_ok_and(|p| w.tree.get(&p).is_some());
    if !bundle_exists {
        w.file(CA_BUNDLE, bundle, 0o644)?;
    }
    Ok(())
}

/// The certificate files `update-ca-certificates` would use, in its order. Without a
/// `/etc/ca-certificates.conf`, every `*.crt` under `/usr/share/ca-certificates`, sorted.
fn enabled_certificates(w: &Writer<'_>) -> Result<Vec<String>> {
    let mut certs: Vec<String> = match w.read(CA_CONF)? {
        Some(conf) => String::from_utf8_lossy(&conf)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('!'))
            .filter(|l| !l.split('/').any(|c| c == ".."))
            .map(|l| format!("{CA_DIR}/{}", l.trim_start_matches('/')))
            .collect(),
        None => crt_files_under(w, CA_DIR),
    };
    certs.extend(crt_files_under(w, CA_LOCAL_DIR));
    certs.retain(|p| w.is_file(p));
    Ok(certs)
}

/// The `*.crt` files at any depth under `dir`, in path order.
fn crt_files_under(w: &Writer<'_>, dir: &str) -> Vec<String> {
    let prefix = format!("{dir}/");
    w.tree
        .iter()
        .filter(|(path, node)| {
            path.starts_with(&prefix)
                && path.ends_with(".crt")
                && matches!(node.kind, NodeKind::File(_) | NodeKind::Hardlink(_))
        })
        .map(|(path, _)| path.clone())
        .collect()
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
                "entrypoint.services: {name:?} cannot name a directory under /sv; use a plain \
                 name (letters, digits, '.', '_' or '-')"
            )));
        }
        w.dir(&format!("sv/{name}"), 0o755)?;
        let run = format!("#!/bin/execlineb\n{command}\n");
        w.file(&format!("sv/{name}/run"), run.into_bytes(), 0o755)?;
    }
    Ok(())
}
