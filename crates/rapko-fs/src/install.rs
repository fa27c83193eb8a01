//! Installing packages into the tree, the way `apk add` lays files out, without running any
//! script: data members are inflated in parallel (each exactly once), then merged in install
//! order under apk's file-ownership rules.

use std::sync::Arc;

use rapko_apk::{ApkPackage, DataEntry, EntryKind, PackageInfo};
use rayon::prelude::*;

use crate::error::{FsError, Result};
use crate::tree::{Content, Node, NodeKind, Tree, describe};

/// A fetched, verified package ready to install.
#[derive(Clone, Debug)]
pub struct PackageToInstall {
    /// Metadata from the repository index (has `C:`, `S:`, the repository arch).
    pub info: PackageInfo,
    /// The parsed package head (has `.PKGINFO`'s `replaces`, `triggers`, scripts).
    pub package: ApkPackage,
    /// The whole `.apk` file.
    pub bytes: Arc<[u8]>,
}

/// What a package put where, for the apk database.
#[derive(Clone, Debug, Default)]
pub struct InstalledRecord {
    /// Directories of the package, in archive order, with their metadata.
    pub dirs: Vec<RecordedDir>,
    /// Non-directory entries in archive order: (path as in the package, resolved tree path).
    pub files: Vec<RecordedFile>,
}

#[derive(Clone, Debug)]
pub struct RecordedDir {
    pub path: String,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
}

#[derive(Clone, Debug)]
pub struct RecordedFile {
    pub path: String,
    pub resolved: String,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
    /// SHA-1 of the content (or of a symlink's target), apk's `Z:`.
    pub sha1: Option<[u8; 20]>,
}

/// Installs `packages` (in install order) into `tree`. Returns one record per package.
pub fn install_packages(tree: &mut Tree, packages: &[PackageToInstall]) -> Result<Vec<InstalledRecord>> {
    let decoded: Vec<Vec<DataEntry>> = packages
        .par_iter()
        .map(|p| read_entries(p))
        .collect::<Result<_>>()?;
    let mut records = Vec::with_capacity(packages.len());
    for (index, entries) in decoded.into_iter().enumerate() {
        records.push(merge_package(tree, packages, index, entries)?);
    }
    Ok(records)
}

fn read_entries(p: &PackageToInstall) -> Result<Vec<DataEntry>> {
    let mut entries = Vec::new();
    p.package
        .data_entries(&p.bytes, |e| {
            entries.push(e);
            Ok(())
        })
        .map_err(|source| FsError::Package {
            package: p.info.name_version(),
            source,
        })?;
    Ok(entries)
}

fn merge_package(
    tree: &mut Tree,
    packages: &[PackageToInstall],
    index: usize,
    entries: Vec<DataEntry>,
) -> Result<InstalledRecord> {
    let mut record = InstalledRecord::default();
    let this = &packages[index];
    for entry in entries {
        let resolved = tree.resolve_parent(&entry.path)?;
        if matches!(entry.kind, EntryKind::Directory) {
            record_parents(&mut record, &entry.path);
            record.dirs.push(RecordedDir {
                path: entry.path.clone(),
                uid: entry.uid,
                gid: entry.gid,
                mode: entry.mode,
            });
            install_dir(tree, resolved, &entry, index)?;
            continue;
        }
        record_parents(&mut record, &entry.path);
        let node = node_for(tree, this, &entry, index)?;
        let sha1 = entry.sha1.or_else(|| content_sha1(tree, &node));
        if place(tree, packages, index, &resolved, node)? {
            record.files.push(RecordedFile {
                path: entry.path,
                resolved,
                uid: entry.uid,
                gid: entry.gid,
                mode: entry.mode,
                sha1,
            });
        }
    }
    Ok(record)
}

/// apk lists every directory that holds a package file, even without a tar entry for it.
fn record_parents(record: &mut InstalledRecord, path: &str) {
    let Some((parent, _)) = path.rsplit_once('/') else {
        return;
    };
    if record.dirs.iter().any(|d| d.path == parent) {
        return;
    }
    record_parents(record, parent);
    record.dirs.push(RecordedDir {
        path: parent.to_owned(),
        uid: 0,
        gid: 0,
        mode: 0o755,
    });
}

fn install_dir(tree: &mut Tree, path: String, entry: &DataEntry, owner: usize) -> Result<()> {
    match tree.get_mut(&path) {
        Some(existing) if existing.is_dir() => {
            // Directories are shared; the first package to ship one explicitly sets its
            // metadata, unless it was only implied as a parent so far.
            if existing.owner.is_none() {
                apply_meta(existing, entry, owner);
            }
            Ok(())
        }
        Some(existing) => Err(FsError::NotADirectory {
            path: path.clone(),
            parent: path,
            kind: describe(&existing.kind),
        }),
        None => {
            let mut node = Node::directory(entry.mode, entry.uid, entry.gid);
            apply_meta(&mut node, entry, owner);
            tree.insert(path, node)
        }
    }
}

fn apply_meta(node: &mut Node, entry: &DataEntry, owner: usize) {
    node.mode = entry.mode;
    node.uid = entry.uid;
    node.gid = entry.gid;
    node.mtime = entry.mtime;
    node.xattrs.clone_from(&entry.xattrs);
    node.owner = Some(owner);
}

fn node_for(tree: &Tree, this: &PackageToInstall, entry: &DataEntry, owner: usize) -> Result<Node> {
    let kind = match &entry.kind {
        EntryKind::File => NodeKind::File(Content::new(entry.content.as_slice())),
        EntryKind::Directory => NodeKind::Directory,
        EntryKind::Symlink(t) => NodeKind::Symlink(t.clone()),
        EntryKind::Hardlink(target) => {
            let resolved = tree.resolve_parent(target)?;
            match tree.get(&resolved).map(|n| &n.kind) {
                Some(NodeKind::File(_)) => NodeKind::Hardlink(resolved),
                Some(NodeKind::Hardlink(first)) => NodeKind::Hardlink(first.clone()),
                _ => {
                    return Err(FsError::BadHardlink {
                        package: this.info.name_version(),
                        path: entry.path.clone(),
                        target: target.clone(),
                    });
                }
            }
        }
        EntryKind::CharDevice { major, minor } => NodeKind::CharDevice {
            major: *major,
            minor: *minor,
        },
        EntryKind::BlockDevice { major, minor } => NodeKind::BlockDevice {
            major: *major,
            minor: *minor,
        },
        EntryKind::Fifo => NodeKind::Fifo,
    };
    let mut node = Node::directory(entry.mode, entry.uid, entry.gid);
    node.kind = kind;
    apply_meta(&mut node, entry, owner);
    Ok(node)
}

fn content_sha1(tree: &Tree, node: &Node) -> Option<[u8; 20]> {
    use sha1::Digest;
    match &node.kind {
        NodeKind::File(c) => Some(sha1::Sha1::digest(c.as_bytes()).into()),
        NodeKind::Hardlink(target) => match tree.get(target).map(|n| &n.kind) {
            Some(NodeKind::File(c)) => Some(sha1::Sha1::digest(c.as_bytes()).into()),
            _ => None,
        },
        _ => None,
    }
}

/// Puts a non-directory node at `path` under apk's ownership rules. Returns false when an
/// earlier package keeps the path (it replaces the new one), true when the new node is there.
fn place(tree: &mut Tree, packages: &[PackageToInstall], index: usize, path: &str, node: Node) -> Result<bool> {
    let Some(existing) = tree.get(path) else {
        tree.insert(path.to_owned(), node)?;
        return Ok(true);
    };
    let new = &packages[index];
    let Some(old_index) = existing.owner else {
        // A node rapko made (an implied parent directory) never blocks a package file.
        if existing.is_dir() {
            return Err(conflict(path, "the image", new));
        }
        tree.insert(path.to_owned(), node)?;
        return Ok(true);
    };
    let old = &packages[old_index];
    if old_index == index {
        tree.insert(path.to_owned(), node)?;
        return Ok(true);
    }
    if existing.is_dir() {
        return Err(conflict(path, &old.info.name_version(), new));
    }
    if replaces(old, new) && !replaces(new, old) {
        return Ok(false);
    }
    if replaces(new, old) || same_origin(old, new) || same_content(tree, existing, &node) {
        tree.insert(path.to_owned(), node)?;
        return Ok(true);
    }
    Err(conflict(path, &old.info.name_version(), new))
}

fn conflict(path: &str, existing: &str, new: &PackageToInstall) -> FsError {
    FsError::Conflict {
        path: path.to_owned(),
        existing: existing.to_owned(),
        new: new.info.name_version(),
    }
}

/// True when `a` declares that it replaces `b` (index `r:` or `.PKGINFO` `replaces`).
fn replaces(a: &PackageToInstall, b: &PackageToInstall) -> bool {
    let name = &b.info.name;
    a.info
        .replaces
        .iter()
        .chain(&a.package.info.replaces)
        .any(|r| &r.name == name && r.constraint.as_ref().is_none_or(|c| c.matches(&b.info.version)))
}

fn same_origin(a: &PackageToInstall, b: &PackageToInstall) -> bool {
    let origin = |p: &PackageToInstall| p.info.origin.clone().or_else(|| p.package.info.origin.clone());
    origin(a).is_some() && origin(a) == origin(b)
}

fn same_content(tree: &Tree, a: &Node, b: &Node) -> bool {
    let resolve = |n: &Node| match &n.kind {
        NodeKind::Hardlink(t) => tree.get(t).map(|n| n.kind.clone()),
        k => Some(k.clone()),
    };
    resolve(a).is_some() && resolve(a) == resolve(b)
}
