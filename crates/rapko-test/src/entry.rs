//! Entries of a package's data tar, and putting them in the order abuild would.

use std::collections::BTreeSet;

/// What a data entry is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file with its content.
    File(Vec<u8>),
    /// A directory.
    Dir,
    /// A symbolic link to the given target (written verbatim).
    Symlink(String),
    /// A hard link to an earlier regular file of the same package (path inside the package).
    Hardlink(String),
}

/// One entry of the data tar. Build it with [`Entry::file`], [`Entry::dir`],
/// [`Entry::symlink`] or [`Entry::hardlink`], then adjust it with the chained setters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Path inside the package, without a leading `/` or trailing `/`.
    pub path: String,
    pub kind: EntryKind,
    /// Permission bits; `None` takes the kind's default (0644 file, 0755 directory, 0777
    /// symlink, the target's mode for a hard link).
    pub mode: Option<u32>,
    pub uid: u32,
    pub gid: u32,
    /// User name in the header; `None` writes `root` for uid 0 and nothing otherwise
    /// (apk-tools looks the name up first, then falls back to the number).
    pub uname: Option<String>,
    pub gname: Option<String>,
    /// Modification time; `None` takes the package's builddate (as abuild does).
    pub mtime: Option<u64>,
    /// Keep `path` exactly as given (no stripping, no parent directories made): for
    /// hostile-path tests such as `../etc/passwd` or `/abs`.
    pub verbatim: bool,
    /// The name's bytes in the tar header instead of `path` (which still orders and names
    /// the entry here): for names that are not UTF-8.
    pub raw_name: Option<Vec<u8>>,
}

impl Entry {
    fn new(path: &str, kind: EntryKind) -> Self {
        Self {
            path: normalize(path),
            kind,
            mode: None,
            uid: 0,
            gid: 0,
            uname: None,
            gname: None,
            mtime: None,
            verbatim: false,
            raw_name: None,
        }
    }

    /// A regular file.
    pub fn file(path: &str, content: impl Into<Vec<u8>>) -> Self {
        Self::new(path, EntryKind::File(content.into()))
    }

    /// A directory.
    pub fn dir(path: &str) -> Self {
        Self::new(path, EntryKind::Dir)
    }

    /// A symbolic link `path -> target`.
    pub fn symlink(path: &str, target: &str) -> Self {
        Self::new(path, EntryKind::Symlink(target.to_owned()))
    }

    /// A hard link `path` to the regular file `target` of the same package.
    pub fn hardlink(path: &str, target: &str) -> Self {
        Self::new(path, EntryKind::Hardlink(normalize(target)))
    }

    /// A hostile entry whose path is written exactly as given (see [`Entry::verbatim`]).
    pub fn verbatim(mut self, raw_path: &str) -> Self {
        raw_path.clone_into(&mut self.path);
        self.verbatim = true;
        self
    }

    /// Writes `bytes` as the entry's name in the tar (e.g. Latin-1, not UTF-8).
    pub fn raw_name(mut self, bytes: &[u8]) -> Self {
        self.raw_name = Some(bytes.to_vec());
        self
    }

    /// Sets the permission bits (may include setuid/setgid/sticky).
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = Some(mode);
        self
    }

    /// Sets numeric owner and group.
    pub fn owner(mut self, uid: u32, gid: u32) -> Self {
        self.uid = uid;
        self.gid = gid;
        self
    }

    /// Sets the user and group names written in the header.
    pub fn names(mut self, uname: &str, gname: &str) -> Self {
        self.uname = Some(uname.to_owned());
        self.gname = Some(gname.to_owned());
        self
    }

    /// Sets the modification time.
    pub fn mtime(mut self, mtime: u64) -> Self {
        self.mtime = Some(mtime);
        self
    }

    /// The mode written for this entry, given the hard-link target's mode if any.
    pub(crate) fn effective_mode(&self, target_mode: Option<u32>) -> u32 {
        self.mode.unwrap_or(match self.kind {
            EntryKind::File(_) => 0o644,
            EntryKind::Dir => 0o755,
            EntryKind::Symlink(_) => 0o777,
            EntryKind::Hardlink(_) => target_mode.unwrap_or(0o644),
        })
    }

    pub(crate) fn uname(&self) -> &str {
        self.uname
            .as_deref()
            .unwrap_or(if self.uid == 0 { "root" } else { "" })
    }

    pub(crate) fn gname(&self) -> &str {
        self.gname
            .as_deref()
            .unwrap_or(if self.gid == 0 { "root" } else { "" })
    }
}

/// Strips the leading `/` and `./` and trailing `/` users naturally write.
fn normalize(path: &str) -> String {
    let mut p = path;
    loop {
        if let Some(rest) = p.strip_prefix("./") {
            p = rest;
        } else if let Some(rest) = p.strip_prefix('/') {
            p = rest;
        } else {
            break;
        }
    }
    let p = p.trim_end_matches('/');
    assert!(!p.is_empty(), "package entry path {path:?} is empty");
    p.to_owned()
}

/// Final entry order: parent directories added when `auto_dirs` (abuild packs every
/// directory), then byte-wise path order when `sorted` (abuild feeds tar a sorted list).
/// Panics if a hard link does not follow the regular file it points to, since real tars
/// always store the first occurrence as the file.
pub(crate) fn arrange(entries: &[Entry], sorted: bool, auto_dirs: bool) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::with_capacity(entries.len());
    let mut have: BTreeSet<String> = BTreeSet::new();
    for e in entries {
        if auto_dirs && !e.verbatim {
            for parent in parents(&e.path) {
                if have.insert(parent.to_owned()) {
                    out.push(Entry::dir(parent));
                }
            }
        }
        let fresh = have.insert(e.path.clone());
        assert!(
            fresh || !matches!(e.kind, EntryKind::Dir) || e.verbatim,
            "directory {} is listed twice (or after a file inside it: list directories first \
             to set their mode)",
            e.path
        );
        out.push(e.clone());
    }
    if sorted {
        out.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    }
    check_hardlinks(&out);
    out
}

/// The proper ancestors of `path`, outermost first: `a/b/c` gives `a`, `a/b`.
fn parents(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

fn check_hardlinks(entries: &[Entry]) {
    let mut files: BTreeSet<&str> = BTreeSet::new();
    for e in entries {
        match &e.kind {
            EntryKind::File(_) => {
                files.insert(&e.path);
            }
            EntryKind::Hardlink(target) => assert!(
                files.contains(target.as_str()),
                "hard link {} -> {target}: the target must be a regular file that comes \
                 earlier in the package",
                e.path
            ),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(v: &[Entry]) -> Vec<&str> {
        v.iter().map(|e| e.path.as_str()).collect()
    }

    #[test]
    fn normalizes_paths() {
        assert_eq!(Entry::file("/usr/bin/x", "").path, "usr/bin/x");
        assert_eq!(Entry::dir("./etc/").path, "etc");
        assert_eq!(Entry::file("a", "").verbatim("../x").path, "../x");
    }

    #[test]
    fn adds_parents_and_sorts() {
        let v = arrange(
            &[Entry::file("usr/bin/b", "1"), Entry::file("etc/a", "2")],
            true,
            true,
        );
        assert_eq!(paths(&v), ["etc", "etc/a", "usr", "usr/bin", "usr/bin/b"]);
    }

    #[test]
    fn explicit_directory_keeps_its_mode() {
        let v = arrange(
            &[Entry::dir("tmp").mode(0o1777), Entry::file("tmp/x", "")],
            true,
            true,
        );
        assert_eq!(v[0].effective_mode(None), 0o1777);
        assert_eq!(v.len(), 2);
    }

    #[test]
    fn unsorted_keeps_given_order() {
        let v = arrange(&[Entry::file("b", ""), Entry::file("a", "")], false, false);
        assert_eq!(paths(&v), ["b", "a"]);
    }

    #[test]
    #[should_panic(expected = "must be a regular file that comes earlier")]
    fn hardlink_before_target_panics() {
        arrange(
            &[Entry::hardlink("a", "b"), Entry::file("b", "")],
            true,
            true,
        );
    }
}
