//! `paths`: the config's mutations of the finished tree — directories, empty files, hard
//! links, symlinks and permission changes — applied in order, after packages and accounts.
//!
//! Semantics follow apko's `mutatePaths`, except where apko's result is plainly unwanted:
//! - `directory`: created with missing parents (0755); a new one gets `permissions` (0755
//!   when not set — apko would use 0) and `uid:gid` (root when not set), an existing one
//!   keeps whatever the mutation does not set. With `recursive`, everything below gets the
//!   same owner and, when set, mode (files too, as in apko);
//! - `empty-file`: created empty, or truncated, following a final symlink as apko's `Create`
//!   does; a new one gets `permissions` or 0644;
//! - `hardlink`: `source` must be a regular file of the image; an existing non-directory at
//!   `path` is replaced, as in apko;
//! - `symlink`: fails when something else is already at `path` (apko's `Symlink` fails too);
//!   the same link again is accepted. `uid`/`gid` apply to the link itself;
//! - `permissions`: the path must exist; sets the mode and owner it is given, leaving unset
//!   ones alone (apko would set 0). A hard link's mode is its file's: both change.
//!
//! Every path is resolved inside the image (symlinks followed, never out of the root).

use rapko_config::{PathMutation, PathType};

use crate::error::{FsError, Result};
use crate::rootfs::Writer;
use crate::tree::{Node, NodeKind, describe};

pub fn apply(w: &mut Writer<'_>, mutations: &[PathMutation]) -> Result<()> {
    for m in mutations {
        apply_one(w, m).map_err(|e| {
            let reason = match e {
                FsError::Path(message) => message,
                other => other.to_string(),
            };
            FsError::Path(format!("{} {}: {reason}", m.kind.as_str(), m.path))
        })?;
    }
    Ok(())
}

fn apply_one(w: &mut Writer<'_>, m: &PathMutation) -> Result<()> {
    let path = m.path.trim_start_matches('/');
    if path.is_empty() {
        return Err(FsError::Path(
            "the path is empty or the root itself; name a path inside the image".into(),
        ));
    }
    // What exists keeps its mode unless the mutation sets one; what is new gets a default.
    let existed = w.tree.resolve(path).is_ok_and(|p| w.tree.get(&p).is_some());
    let default = |mode: u32| (!existed).then_some(mode);
    match m.kind {
        PathType::Directory => {
            let resolved = w.dir(path, mode_or(m, 0o755))?;
            set_meta(w, &resolved, m, default(0o755))
        }
        PathType::EmptyFile => {
            w.file(path, Vec::new(), mode_or(m, 0o644))?;
            set_meta(w, path, m, default(0o644))
        }
        PathType::Symlink => symlink(w, path, m),
        PathType::Hardlink => hardlink(w, path, m),
        PathType::Permissions => {
            let resolved = w.tree.resolve(path)?;
            if w.tree.get(&resolved).is_none() {
                return Err(FsError::Path(format!(
                    "/{resolved} does not exist in the image; create it first (a `directory` \
                     or `empty-file` entry before this one) or fix the path"
                )));
            }
            set_meta(w, &resolved, m, None)
        }
    }
}

fn symlink(w: &mut Writer<'_>, path: &str, m: &PathMutation) -> Result<()> {
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
        return Err(FsError::Path(format!(
            "/{resolved} already exists ({}); remove the entry or pick another path",
            describe(&existing.kind)
        )));
    }
    let mut node = Node::symlink(&m.source);
    node.mtime = w.mtime;
    node.uid = m.uid.unwrap_or(0);
    node.gid = m.gid.unwrap_or(0);
    w.tree.insert(resolved, node)
}

fn hardlink(w: &mut Writer<'_>, path: &str, m: &PathMutation) -> Result<()> {
    let source = w.tree.resolve(m.source.trim_start_matches('/'))?;
    let (target, mut node) = match w.tree.get(&source) {
        Some(
            n @ Node {
                kind: NodeKind::File(_),
                ..
            },
        ) => (source.clone(), n.clone()),
        Some(
            n @ Node {
                kind: NodeKind::Hardlink(t),
                ..
            },
        ) => (t.clone(), n.clone()),
        other => {
            let what = other.map_or("missing", |n| describe(&n.kind));
            return Err(FsError::Path(format!(
                "the source {} is {what}, not a regular file of the image; a hard link needs \
                 an existing file (check `source`)",
                m.source
            )));
        }
    };
    let resolved = w.tree.resolve_parent(path)?;
    match w.tree.get(&resolved) {
        Some(existing) if existing.is_dir() => {
            return Err(FsError::Path(format!(
                "/{resolved} is a directory; a hard link cannot replace it"
            )));
        }
        _ if resolved == target => return Ok(()),
        _ => {}
    }
    node.kind = NodeKind::Hardlink(target);
    node.owner = None;
    w.tree.insert(resolved, node)?;
    set_meta(w, path, m, None)
}

fn mode_or(m: &PathMutation, default: u32) -> u32 {
    m.permissions.map_or(default, |p| p.mode())
}

/// Sets uid/gid/permissions on `path` (and everything under it with `recursive`).
/// `default_mode` is the mode `path` itself gets when the mutation sets none (`None`: leave
/// it). Symlinks keep their 0777; a hard link passes the change on to its file.
fn set_meta(
    w: &mut Writer<'_>,
    path: &str,
    m: &PathMutation,
    default_mode: Option<u32>,
) -> Result<()> {
    let path = w.tree.resolve(path)?;
    let mut targets = vec![path.clone()];
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
        let Some(node) = w.tree.get(&target) else {
            continue;
        };
        let file = match &node.kind {
            NodeKind::Symlink(_) => continue,
            NodeKind::Hardlink(file) => Some(file.clone()),
            _ => None,
        };
        let mode = m
            .permissions
            .map(|p| p.mode())
            .or(default_mode.filter(|_| target == path));
        for p in std::iter::once(target).chain(file) {
            if let Some(node) = w.tree.get_mut(&p) {
                node.uid = m.uid.unwrap_or(node.uid);
                node.gid = m.gid.unwrap_or(node.gid);
                node.mode = mode.unwrap_or(node.mode);
            }
        }
    }
    Ok(())
}
