//! The image tree as the declarative `ldconfig` ([`crate::ldcache`]) reads it, and what
//! glibc's trigger would leave behind: `/etc/ld.so.cache` plus the SONAME symlinks `ldconfig`
//! creates, re-points or deletes (the cache names `dir/SONAME`, so the links must match it).
//!
//! Nothing happens for an image without a glibc dynamic loader (musl images have no cache).

use crate::error::{FsError, Result};
use crate::ldcache::{self, LdArch, LdCacheOptions, LinkChange};
use crate::rootfs::Writer;
use crate::tree::{NodeKind, Tree};

const CACHE: &str = "etc/ld.so.cache";

/// Writes `/etc/ld.so.cache` (mode 0644) and applies `ldconfig`'s symlink changes when the
/// tree holds a glibc dynamic loader. `apk_arch` picks the loader flavour; when it is not
/// one `ldconfig` knows, the loader found in the tree decides, and when that fails too (a
/// glibc for armv7, say) the image gets no cache: its loader still searches the default
/// directories, so a warning is enough.
pub fn write_ld_so_cache(w: &mut Writer<'_>, apk_arch: &str) -> Result<()> {
    let view: &Tree = w.tree;
    if !ldcache::needs_ld_so_cache(&view) {
        return Ok(());
    }
    let arch = match LdArch::from_apk_arch(apk_arch).map_or_else(|| ldcache::detect_arch(&view), Ok)
    {
        Ok(arch) => arch,
        Err(e) => {
            tracing::warn!("no /etc/ld.so.cache for this {apk_arch} image: {e}");
            return Ok(());
        }
    };
    let result = ldcache::run_ldconfig(&view, &LdCacheOptions::new(arch))?;
    for change in &result.link_changes {
        apply_link_change(w, change)?;
    }
    w.file(CACHE, result.cache, 0o644)?;
    // ldconfig renames a new file into place: root 0644 whatever a package shipped there.
    let resolved = w.tree.resolve(CACHE)?;
    if let Some(node) = w.tree.get_mut(&resolved) {
        (node.mode, node.uid, node.gid) = (0o644, 0, 0);
    }
    tracing::debug!("/etc/ld.so.cache: {} libraries", result.entries.len());
    Ok(())
}

/// Applies one of `ldconfig`'s changes. Paths are absolute and already resolved.
fn apply_link_change(w: &mut Writer<'_>, change: &LinkChange) -> Result<()> {
    match change {
        LinkChange::Create { path, target } => {
            w.symlink_if_absent(path.trim_start_matches('/'), target)?;
        }
        LinkChange::Replace { path, target } => {
            let rel = path.trim_start_matches('/');
            match w.tree.get_mut(rel) {
                // Re-pointed in place: the link stays its package's (and in its layer).
                Some(node) if matches!(node.kind, NodeKind::Symlink(_)) => {
                    node.kind = NodeKind::Symlink(target.clone());
                    node.mtime = w.mtime;
                }
                Some(node) => {
                    return Err(FsError::Path(format!(
                        "ldconfig would replace /{rel}, which is {} and not a symlink",
                        crate::tree::describe(&node.kind)
                    )));
                }
                None => {
                    w.symlink_if_absent(rel, target)?;
                }
            }
        }
        LinkChange::RemoveStale { path } => {
            let rel = path.trim_start_matches('/');
            if w.tree
                .get(rel)
                .is_some_and(|n| matches!(n.kind, NodeKind::Symlink(_)))
            {
                w.tree.remove(rel);
            }
        }
    }
    Ok(())
}
