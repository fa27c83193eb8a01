//! Installing packages into the tree, the way `apk add` lays files out, without running any
//! script: data members are inflated in parallel (each exactly once), then merged in install
//! order under apk's file-ownership rules, recording each package's installed-database entry.

use std::collections::HashMap;
use std::sync::Arc;

use rapko_apk::installed::InstalledPackage;
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
    /// The tag of the repository it came from when pinned (`pkg@tag`), for `s:`.
    pub repository_tag: Option<String>,
}

/// Installs `packages` (in install order) into `tree`. Returns each package's installed
/// database record, with exactly the files it owns in the end (a file taken over by a later
/// package is listed under that package only, as apk does).
pub fn install_packages(
    tree: &mut Tree,
    packages: &[PackageToInstall],
) -> Result<Vec<InstalledPackage>> {
    let decoded: Vec<Vec<DataEntry>> = packages
        .par_iter()
        .map(read_entries)
        .collect::<Result<_>>()?;
    let mut installer = Installer {
        tree,
        packages,
        records: packages.iter().map(new_record).collect(),
        owners: HashMap::new(),
    };
    for (index, entries) in decoded.into_iter().enumerate() {
        installer.merge_package(index, entries)?;
    }
    Ok(installer.records)
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

/// The database record of a package before its files: index metadata with the `.PKGINFO`
/// fields the index lacks, and its scripts.
fn new_record(p: &PackageToInstall) -> InstalledPackage {
    let mut info = p.info.clone();
    let pkginfo = &p.package.info;
    if info.replaces.is_empty() {
        info.replaces.clone_from(&pkginfo.replaces);
    }
    info.replaces_priority = info.replaces_priority.or(pkginfo.replaces_priority);
    info.triggers.clone_from(&pkginfo.triggers);
    info.datahash = pkginfo.datahash;
    if info.checksum.is_none() {
        info.checksum = Some(p.package.control_checksum);
    }
    let mut record = InstalledPackage::new(info);
    record.repository_tag.clone_from(&p.repository_tag);
    record.add_control_scripts(
        p.package
            .scripts
            .iter()
            .map(|s| (s.name.as_str(), s.content.as_slice())),
    );
    record
}

struct Installer<'a> {
    tree: &'a mut Tree,
    packages: &'a [PackageToInstall],
    records: Vec<InstalledPackage>,
    /// Resolved path → (package index, path as that package wrote it).
    owners: HashMap<String, (usize, String)>,
}

impl Installer<'_> {
    fn merge_package(&mut self, index: usize, entries: Vec<DataEntry>) -> Result<()> {
        for entry in entries {
            let resolved = self.tree.resolve_parent(&entry.path)?;
            if matches!(entry.kind, EntryKind::Directory) {
                install_dir(self.tree, resolved, &entry, index)?;
                self.records[index].add_entry(&entry);
                continue;
            }
            let node = node_for(self.tree, &self.packages[index], &entry, index)?;
            if place(self.tree, self.packages, index, &resolved, node)? {
                let previous = self.owners.insert(resolved, (index, entry.path.clone()));
                if let Some((old, old_path)) = previous
                    && old != index
                {
                    remove_file(&mut self.records[old], &old_path);
                }
                self.records[index].add_entry(&entry);
            }
        }
        Ok(())
    }
}

fn remove_file(record: &mut InstalledPackage, path: &str) {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    if let Some(d) = record.dirs.iter_mut().find(|d| d.path == dir) {
        d.files.retain(|f| f.name != name);
    }
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

/// Puts a non-directory node at `path` under apk's ownership rules. Returns false when an
/// earlier package keeps the path (it replaces the new one), true when the new node is there.
fn place(
    tree: &mut Tree,
    packages: &[PackageToInstall],
    index: usize,
    path: &str,
    node: Node,
) -> Result<bool> {
    let Some(existing) = tree.get(path) else {
        tree.insert(path.to_owned(), node)?;
        return Ok(true);
    };
    let new = &packages[index];
    if existing.is_dir() {
        let owner = existing
            .owner
            .map_or("the image".to_owned(), |o| packages[o].info.name_version());
        return Err(conflict(path, &owner, new));
    }
    let old_index = existing.owner.unwrap_or(index);
    let old = &packages[old_index];
    if old_index != index {
        if replaces(old, new) && !replaces(new, old) {
            return Ok(false);
        }
        let allowed =
            replaces(new, old) || same_origin(old, new) || same_content(tree, existing, &node);
        if !allowed {
            return Err(conflict(path, &old.info.name_version(), new));
        }
    }
    tree.insert(path.to_owned(), node)?;
    Ok(true)
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
        .any(|r| {
            &r.name == name
                && r.constraint
                    .as_ref()
                    .is_none_or(|c| c.matches(&b.info.version))
        })
}

fn same_origin(a: &PackageToInstall, b: &PackageToInstall) -> bool {
    let origin = |p: &PackageToInstall| {
        p.info
            .origin
            .clone()
            .or_else(|| p.package.info.origin.clone())
    };
    origin(a).is_some() && origin(a) == origin(b)
}

fn same_content(tree: &Tree, a: &Node, b: &Node) -> bool {
    let resolve = |n: &Node| match &n.kind {
        NodeKind::Hardlink(t) => tree.get(t).map(|n| n.kind.clone()),
        k => Some(k.clone()),
    };
    resolve(a).is_some() && resolve(a) == resolve(b)
}
