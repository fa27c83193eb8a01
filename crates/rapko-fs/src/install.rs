//! Installing packages into the tree, the way `apk add` lays files out, without running any
//! script: data members are inflated in parallel (each exactly once), then merged in install
//! order under apk's file-ownership rules, recording each package's installed-database entry.
//!
//! The rules are apk-tools 2.14's (`apk_db_install_file`):
//! - entries whose path starts with `.` (`.dummy` in meta packages) and files named
//!   `.keep_*` are not installed; a name with a control character is refused;
//! - a path owned by another package is overwritten when both packages share an `origin`,
//!   or when the new one `replaces` the old one (unless the old one also replaces the new one
//!   with a higher `replaces_priority`, in which case the old file stays); otherwise it is a
//!   conflict — except, as in apko, when both files are identical. The database then lists
//!   the file under its final owner only;
//! - a hard link must point at a file the same package installed before it;
//! - a directory shipped by several packages gets the owner and mode of the entry with the
//!   lowest uid:gid, the modes of entries with that same owner and-ed together
//!   (`apk_db_dir_apply_diri_permissions`).
//!
//! Paths are resolved through the symlinks already in the tree, and nothing may resolve
//! outside the root (the package reader already refuses absolute paths and `..`). Unlike apk, which marks a package broken and skips a file whose
//! directory has no entry earlier in the archive, rapko installs it and records the directory
//! (apko installs it too, and an image without the file would surprise more).

use std::collections::HashMap;
use std::sync::Arc;

use rapko_apk::installed::InstalledPackage;
use rapko_apk::{ApkPackage, DataEntry, EntryKind, PackageInfo};
use rayon::prelude::*;

use crate::error::{FsError, Result};
use crate::tree::{Content, Node, NodeKind, Spool, Tree, describe};

/// A fetched, verified package ready to install.
#[derive(Clone, Debug)]
pub struct PackageToInstall {
    /// Metadata from the repository index (has `C:`, `S:`, the repository arch).
    pub info: PackageInfo,
    /// The parsed package head (has `.PKGINFO`'s `replaces`, `triggers`, scripts).
    pub package: ApkPackage,
    /// The whole `.apk` file, or empty when `path` holds it (read again when installing,
    /// so a big image never has all its packages in memory at once).
    pub bytes: Arc<[u8]>,
    /// The `.apk` file on disk (a local repository's file or the cache entry).
    pub path: Option<std::path::PathBuf>,
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
    let spool = Spool::new().map_err(FsError::Write)?;
    let decoded: Vec<Vec<Decoded>> = packages
        .par_iter()
        .map(|p| read_entries(p, &spool))
        .collect::<Result<_>>()?;
    let mut installer = Installer {
        tree,
        packages,
        records: packages.iter().map(new_record).collect(),
        owners: HashMap::new(),
        links: HashMap::new(),
    };
    for (index, entries) in decoded.into_iter().enumerate() {
        installer.merge_package(index, entries)?;
    }
    Ok(installer.records)
}

/// A data entry with its content moved out (and spooled to disk when big).
type Decoded = (DataEntry, Option<Content>);

/// Inflates a package's data member once, keeping file contents as [`Content`].
fn read_entries(p: &PackageToInstall, spool: &Arc<Spool>) -> Result<Vec<Decoded>> {
    let package_err = |source| FsError::Package {
        package: p.info.name_version(),
        source,
    };
    let from_disk;
    let bytes: &[u8] = match &p.path {
        Some(path) if p.bytes.is_empty() => {
            from_disk = std::fs::read(path).map_err(|source| FsError::Io {
                path: path.display().to_string(),
                source,
            })?;
            &from_disk
        }
        _ => &p.bytes,
    };
    let mut entries = Vec::new();
    p.package
        .data_entries(bytes, |mut e| {
            let content = match e.kind {
                EntryKind::File => {
                    let data = std::mem::take(&mut e.content);
                    let sha1 = e.sha1.unwrap_or_else(|| {
                        sha1::Digest::finalize(<sha1::Sha1 as sha1::Digest>::new_with_prefix(&data))
                            .into()
                    });
                    Some(
                        Content::with_sha1(data, sha1, Some(spool))
                            .map_err(rapko_apk::Error::Io)?,
                    )
                }
                _ => None,
            };
            entries.push((e, content));
            Ok(())
        })
        .map_err(package_err)?;
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
    /// Resolved path of a file → the hard links to it, so that a file another package takes
    /// over keeps living under its links (as the inode would on disk).
    links: HashMap<String, Vec<String>>,
}

impl Installer<'_> {
    fn merge_package(&mut self, index: usize, entries: Vec<Decoded>) -> Result<()> {
        let package = self.packages[index].info.name_version();
        for (entry, content) in entries {
            self.merge_entry(index, &entry, content)
                .map_err(|e| in_package(&package, e))?;
        }
        Ok(())
    }

    fn merge_entry(
        &mut self,
        index: usize,
        entry: &DataEntry,
        content: Option<Content>,
    ) -> Result<()> {
        if skipped_by_apk(entry) {
            return Ok(());
        }
        if entry.path.chars().any(char::is_control) {
            return Err(FsError::UnsafeName {
                package: self.packages[index].info.name_version(),
                path: entry.path.clone(),
            });
        }
        if self.through_absolute_link(index, entry) {
            return Ok(());
        }
        let resolved = self.tree.resolve_parent(&entry.path)?;
        if matches!(entry.kind, EntryKind::Directory) {
            install_dir(self.tree, self.packages, resolved, entry, index)?;
            self.records[index].add_entry(entry);
            return Ok(());
        }
        let node = self.node_for(index, entry, content)?;
        let link_target = match &node.kind {
            NodeKind::Hardlink(target) => Some(target.clone()),
            _ => None,
        };
        if !self.place(index, &resolved, node)? {
            return Ok(());
        }
        if let Some(target) = link_target {
            self.links.entry(target).or_default().push(resolved.clone());
        }
        let previous = self
            .owners
            .insert(resolved.clone(), (index, entry.path.clone()));
        if let Some((old, old_path)) = previous
            && old != index
        {
            remove_file(&mut self.records[old], &old_path);
        }
        self.record_parent(index, entry, &resolved);
        self.records[index].add_entry(entry);
        Ok(())
    }

    /// A file reached through an absolute symlink (`a -> /etc`, then `a/passwd`) whose
    /// directory the package never listed: apk skips it ("no dirent in archive"), and so do
    /// we, rather than install it somewhere the package did not name.
    fn through_absolute_link(&self, index: usize, entry: &DataEntry) -> bool {
        let Some((dir, _)) = entry.path.rsplit_once('/') else {
            return false;
        };
        if matches!(entry.kind, EntryKind::Directory)
            || self.records[index].dir(dir).is_some()
            || !self.tree.parent_follows_absolute_link(&entry.path)
        {
            return false;
        }
        tracing::warn!(
            "package {}: skipping /{}: /{dir} is a symlink to an absolute path and the package \
             has no entry for the directory (apk skips it too)",
            self.packages[index].info.name_version(),
            entry.path
        );
        true
    }

    /// apk only records a file whose directory the package listed before it; for a package
    /// that did not, record the directory as it is in the tree (see the module docs).
    fn record_parent(&mut self, index: usize, entry: &DataEntry, resolved: &str) {
        let Some((dir, _)) = entry.path.rsplit_once('/') else {
            return;
        };
        if self.records[index].dir(dir).is_some() {
            return;
        }
        let node = resolved
            .rsplit_once('/')
            .and_then(|(parent, _)| self.tree.get(parent));
        let (mode, uid, gid) = node.map_or((0o755, 0, 0), |n| (n.mode, n.uid, n.gid));
        tracing::warn!(
            "package {}: /{} comes without an entry for its directory /{dir}; apk would skip it",
            self.packages[index].info.name_version(),
            entry.path
        );
        self.records[index].add_entry(&DataEntry {
            path: dir.to_owned(),
            kind: EntryKind::Directory,
            mode,
            uid,
            gid,
            mtime: entry.mtime,
            content: Vec::new(),
            sha1: None,
            xattrs: Vec::new(),
        });
    }
}

/// Entries apk-tools does not install: its metadata namespace (any path starting with `.`,
/// such as the `.dummy` of meta packages) and `.keep_*` placeholder files.
fn skipped_by_apk(entry: &DataEntry) -> bool {
    let name = entry.path.rsplit('/').next().unwrap_or(&entry.path);
    let keep_file =
        entry.kind != EntryKind::Directory && name.len() > 6 && name.starts_with(".keep_");
    entry.path.starts_with('.') || keep_file
}

/// Names the package in errors that do not already.
fn in_package(package: &str, error: FsError) -> FsError {
    match error {
        FsError::Escape { .. } | FsError::SymlinkLoop { .. } | FsError::NotADirectory { .. } => {
            FsError::InPackage {
                package: package.to_owned(),
                source: Box::new(error),
            }
        }
        other => other,
    }
}

fn remove_file(record: &mut InstalledPackage, path: &str) {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    if let Some(d) = record.dirs.iter_mut().find(|d| d.path == dir) {
        d.files.retain(|f| f.name != name);
    }
}

fn install_dir(
    tree: &mut Tree,
    packages: &[PackageToInstall],
    path: String,
    entry: &DataEntry,
    owner: usize,
) -> Result<()> {
    // apk's mkdir finds a symlink to a directory (`lib -> usr/lib`) and goes on.
    if matches!(tree.get(&path).map(|n| &n.kind), Some(NodeKind::Symlink(_)))
        && tree
            .resolve(&path)
            .is_ok_and(|p| tree.get(&p).is_some_and(Node::is_dir))
    {
        return Ok(());
    }
    match tree.get_mut(&path) {
        // Implied as a parent so far: the first package to ship it sets everything.
        Some(existing) if existing.is_dir() && existing.owner.is_none() => {
            apply_meta(existing, entry, owner);
            Ok(())
        }
        Some(existing) if existing.is_dir() => {
            merge_dir_acl(existing, entry);
            Ok(())
        }
        Some(existing) => Err(FsError::Clash {
            package: packages[owner].info.name_version(),
            path,
            what: "a directory",
            existing: describe(&existing.kind),
            owner: owner_name(packages, existing.owner),
        }),
        None => {
            let mut node = Node::directory(entry.mode, entry.uid, entry.gid);
            apply_meta(&mut node, entry, owner);
            tree.insert(path, node)
        }
    }
}

/// apk's rule for a directory several packages ship (`apk_db_dir_apply_diri_permissions`):
/// the entry with the lowest uid:gid sets owner and mode; the modes of entries with the same
/// owner are and-ed. The node keeps its first package as owner (for layering).
fn merge_dir_acl(node: &mut Node, entry: &DataEntry) {
    match (entry.uid, entry.gid).cmp(&(node.uid, node.gid)) {
        std::cmp::Ordering::Less => {
            node.uid = entry.uid;
            node.gid = entry.gid;
            node.mode = entry.mode;
            node.xattrs.clone_from(&entry.xattrs);
        }
        std::cmp::Ordering::Equal => node.mode &= entry.mode,
        std::cmp::Ordering::Greater => {}
    }
}

fn owner_name(packages: &[PackageToInstall], owner: Option<usize>) -> String {
    owner
        .and_then(|o| packages.get(o))
        .map_or_else(|| "the image".to_owned(), |p| p.info.name_version())
}

fn apply_meta(node: &mut Node, entry: &DataEntry, owner: usize) {
    node.mode = entry.mode;
    node.uid = entry.uid;
    node.gid = entry.gid;
    node.mtime = entry.mtime;
    node.xattrs.clone_from(&entry.xattrs);
    node.owner = Some(owner);
}

impl Installer<'_> {
    fn node_for(&self, owner: usize, entry: &DataEntry, content: Option<Content>) -> Result<Node> {
        let kind = match &entry.kind {
            EntryKind::File => NodeKind::File(content.unwrap_or_else(|| Content::new(Vec::new()))),
            EntryKind::Directory => NodeKind::Directory,
            EntryKind::Symlink(t) => NodeKind::Symlink(t.clone()),
            EntryKind::Hardlink(target) => self.hardlink_kind(owner, entry, target)?,
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

    /// A hard link may only point at a file its own package installed before it (apk checks
    /// the package's own file list): never at another package's file, nor out of the image.
    fn hardlink_kind(&self, owner: usize, entry: &DataEntry, target: &str) -> Result<NodeKind> {
        let resolved = self.tree.resolve_parent(target)?;
        let ours = self.owners.get(&resolved).is_some_and(|(o, _)| *o == owner);
        match self.tree.get(&resolved).map(|n| &n.kind) {
            Some(NodeKind::File(_)) if ours => Ok(NodeKind::Hardlink(resolved)),
            Some(NodeKind::Hardlink(first)) if ours => Ok(NodeKind::Hardlink(first.clone())),
            _ => Err(FsError::BadHardlink {
                package: self.packages[owner].info.name_version(),
                path: entry.path.clone(),
                target: target.to_owned(),
            }),
        }
    }

    /// Puts a non-directory node at `path` under apk's ownership rules. Returns false when
    /// an earlier package keeps the path, true when the new node is there.
    fn place(&mut self, index: usize, path: &str, node: Node) -> Result<bool> {
        let Some(existing) = self.tree.get(path) else {
            self.tree.insert(path.to_owned(), node)?;
            return Ok(true);
        };
        let new = &self.packages[index];
        if existing.is_dir() {
            return Err(FsError::Clash {
                package: new.info.name_version(),
                path: path.to_owned(),
                what: describe(&node.kind),
                existing: "a directory",
                owner: owner_name(self.packages, existing.owner),
            });
        }
        let old_index = existing.owner.unwrap_or(index);
        if old_index != index {
            let old = &self.packages[old_index];
            match takeover(old, new) {
                Takeover::Overwrite => {}
                Takeover::Keep => return Ok(false),
                Takeover::Conflict if same_content(self.tree, existing, &node) => {}
                Takeover::Conflict => return Err(conflict(path, &old.info.name_version(), new)),
            }
        }
        self.keep_linked_content(path);
        self.tree.insert(path.to_owned(), node)?;
        Ok(true)
    }

    /// Before the file at `path` is replaced, moves it to its first hard link and points the
    /// other links there, so the links keep the content they were installed with.
    fn keep_linked_content(&mut self, path: &str) {
        let Some(links) = self.links.remove(path) else {
            return;
        };
        let target = NodeKind::Hardlink(path.to_owned());
        let mut live = links
            .into_iter()
            .filter(|l| self.tree.get(l).is_some_and(|n| n.kind == target));
        let (Some(first), Some(file)) = (live.next(), self.tree.get(path).cloned()) else {
            return;
        };
        let rest: Vec<String> = live.collect();
        for link in &rest {
            if let Some(node) = self.tree.get_mut(link) {
                node.kind = NodeKind::Hardlink(first.clone());
            }
        }
        if let Some(node) = self.tree.get_mut(&first) {
            node.kind = file.kind;
        }
        if !rest.is_empty() {
            self.links.insert(first, rest);
        }
    }
}

/// What happens when a package writes a path another package owns (apk-tools 2.14).
enum Takeover {
    Overwrite,
    Keep,
    Conflict,
}

fn takeover(old: &PackageToInstall, new: &PackageToInstall) -> Takeover {
    if same_origin(old, new) {
        return Takeover::Overwrite;
    }
    let old_priority = replaces(old, new).then(|| replaces_priority(old));
    let new_priority = replaces(new, old).then(|| replaces_priority(new));
    match (old_priority, new_priority) {
        (Some(o), Some(n)) if o > n => Takeover::Keep,
        (Some(_), None) => Takeover::Keep,
        (_, Some(_)) => Takeover::Overwrite,
        (None, None) => Takeover::Conflict,
    }
}

fn replaces_priority(p: &PackageToInstall) -> u32 {
    p.info
        .replaces_priority
        .or(p.package.info.replaces_priority)
        .unwrap_or(0)
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
