//! `paths`: the config's mutations of the finished tree — directories, empty files, hard
//! links, symlinks and permission changes — applied in order, after packages and accounts.

use rapko_config::{PathMutation, PathType};

use crate::error::{FsError, Result};
use crate::rootfs::Writer;
use crate::tree::{Node, NodeKind};

pub fn apply(w: &mut Writer<'_>, mutations: &[PathMutation]) -> Result<()> {
    for m in mutations {
        apply_one(w, m).map_err(|e| match e {
            FsError::Path(msg) => FsError::Path(format!("{} {}: {msg}", m.kind.as_str(), m.path)),
            other => other,
        })?;
    }
    Ok(())
}

fn apply_one(w: &mut Writer<'_>, m: &PathMutation) -> Result<()> {
    let path = m.path.trim_start_matches('/');
    if path.is_empty() {
        return Err(FsError::Path("the path is empty".into()));
    }
    match m.kind {
        PathType::Directory => {
            let resolved = w.dir(path, mode_or(m, 0o755))?;
            set_meta(w, &resolved, m, 0o755)?;
        }
        PathType::EmptyFile => {
            w.file(path, Vec::new(), mode_or(m, 0o644))?;
            let resolved = w.tree.resolve_parent(path)?;
            set_meta(w, &resolved, m, 0o644)?;
        }
        PathType::Symlink => {
            if m.source.is_empty() {
                return Err(FsError::Path(
                    "a symlink needs a source (its target)".into(),
                ));
            }
            let resolved = w.tree.resolve_parent(path)?;
            if let Some(existing) = w.tree.get(&resolved) {
                if existing.kind == NodeKind::Symlink(m.source.clone()) {
                    return Ok(());
                }
                return Err(FsError::Path("something already exists there".into()));
            }
            let mut node = Node::symlink(&m.source);
            node.mtime = w.mtime;
            node.uid = m.uid.unwrap_or(0);
            node.gid = m.gid.unwrap_or(0);
            w.tree.insert(resolved, node)?;
        }
        PathType::Hardlink => {
            let source = w.tree.resolve(m.source.trim_start_matches('/'))?;
            let target = match w.tree.get(&source).map(|n| &n.kind) {
                Some(NodeKind::File(_)) => source,
                Some(NodeKind::Hardlink(t)) => t.clone(),
                _ => {
                    return Err(FsError::Path(format!(
                        "source {} is not a file of the image",
                        m.source
                    )));
                }
            };
            let resolved = w.tree.resolve_parent(path)?;
            if w.tree.get(&resolved).is_some() {
                return Err(FsError::Path("something already exists there".into()));
            }
            let mut node = w
                .tree
                .get(&target)
                .cloned()
                .unwrap_or_else(|| Node::file(Vec::new(), 0o644));
            node.kind = NodeKind::Hardlink(target);
            w.tree.insert(resolved, node)?;
        }
        PathType::Permissions => {
            let resolved = w.tree.resolve(path)?;
            if w.tree.get(&resolved).is_none() {
                return Err(FsError::Path(
                    "no such file or directory in the image".into(),
                ));
            }
            set_meta(w, &resolved, m, u32::MAX)?;
        }
    }
    Ok(())
}

fn mode_or(m: &PathMutation, default: u32) -> u32 {
    m.permissions.map_or(default, |p| p.mode())
}

/// Sets uid/gid/permissions on `path` (and everything under it with `recursive`). A
/// `default_mode` of `u32::MAX` leaves modes alone unless the mutation sets permissions.
fn set_meta(w: &mut Writer<'_>, path: &str, m: &PathMutation, default_mode: u32) -> Result<()> {
    let mut targets = vec![path.to_owned()];
    if m.recursive {
        let prefix = format!("{path}/");
        targets.extend(
            w.tree
                .iter()
                .filter(|(p, _)| p.starts_with(&prefix))
                .map(|(p, _)| p.clone()),
        );
    }
    for target in targets {
        let Some(node) = w.tree.get_mut(&target) else {
            continue;
        };
        if matches!(node.kind, NodeKind::Symlink(_)) {
            continue;
        }
        node.uid = m.uid.unwrap_or(node.uid);
        node.gid = m.gid.unwrap_or(node.gid);
        match m.permissions {
            Some(p) => node.mode = p.mode(),
            None if default_mode != u32::MAX && target == path => node.mode = default_mode,
            None => {}
        }
    }
    Ok(())
}
