//! The in-memory file tree of an image: a sorted map from path (relative to the root, no
//! leading `/`) to node. Parents are resolved through symlinks inside the tree (so a package
//! installing `lib/x` lands in `usr/lib/x` when `lib -> usr/lib`), and nothing may resolve
//! outside the root.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::error::{FsError, Result};

/// Index of the package that owns a node, in install order; `None` for files rapko made.
pub type Owner = Option<usize>;

/// File content. Small files live in memory, shared so identical files and hard links
/// cost nothing extra; big ones live in a [`Spool`] file on disk, so a tree of several
/// hundred megabytes needs only its metadata in memory. Two contents are equal when their
/// SHA-1 and length are (the SHA-1 is apk's own per-file checksum, already verified).
#[derive(Clone)]
pub struct Content {
    data: ContentData,
    sha1: [u8; 20],
}

#[derive(Clone)]
enum ContentData {
    Inline(Arc<[u8]>),
    Spooled {
        spool: Arc<Spool>,
        offset: u64,
        len: u64,
    },
}

impl PartialEq for Content {
    fn eq(&self, other: &Content) -> bool {
        self.sha1 == other.sha1 && self.len() == other.len()
    }
}

impl Eq for Content {}

impl std::fmt::Debug for Content {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Content({} bytes)", self.len())
    }
}

impl Content {
    /// In-memory content (files rapko writes itself).
    pub fn new(bytes: impl Into<Arc<[u8]>>) -> Content {
        let bytes: Arc<[u8]> = bytes.into();
        let sha1 =
            sha1::Digest::finalize(<sha1::Sha1 as sha1::Digest>::new_with_prefix(&bytes)).into();
        Content {
            data: ContentData::Inline(bytes),
            sha1,
        }
    }

    /// Content whose SHA-1 is known; moved to `spool` when it is at least
    /// [`SPOOL_THRESHOLD`] bytes.
    pub fn with_sha1(
        bytes: Vec<u8>,
        sha1: [u8; 20],
        spool: Option<&Arc<Spool>>,
    ) -> std::io::Result<Content> {
        let data = match spool {
            Some(spool) if bytes.len() >= SPOOL_THRESHOLD => {
                let offset = spool.append(&bytes)?;
                ContentData::Spooled {
                    spool: spool.clone(),
                    offset,
                    len: bytes.len() as u64,
                }
            }
            _ => ContentData::Inline(bytes.into()),
        };
        Ok(Content { data, sha1 })
    }

    /// The bytes (read back from the spool for big files).
    pub fn bytes(&self) -> std::io::Result<std::borrow::Cow<'_, [u8]>> {
        match &self.data {
            ContentData::Inline(b) => Ok(std::borrow::Cow::Borrowed(b)),
            ContentData::Spooled { spool, offset, len } => {
                let mut buf = vec![0u8; usize::try_from(*len).unwrap_or(usize::MAX)];
                spool.read_at(*offset, &mut buf)?;
                Ok(std::borrow::Cow::Owned(buf))
            }
        }
    }

    /// Copies the bytes into `out` in bounded chunks.
    pub fn write_to(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        match &self.data {
            ContentData::Inline(b) => out.write_all(b),
            ContentData::Spooled { spool, offset, len } => {
                let mut buf = vec![0u8; (*len).min(1 << 20) as usize];
                let mut done = 0u64;
                while done < *len {
                    let n = (*len - done).min(buf.len() as u64) as usize;
                    spool.read_at(offset + done, &mut buf[..n])?;
                    out.write_all(&buf[..n])?;
                    done += n as u64;
                }
                Ok(())
            }
        }
    }

    pub fn sha1(&self) -> [u8; 20] {
        self.sha1
    }

    pub fn len(&self) -> u64 {
        match &self.data {
            ContentData::Inline(b) => b.len() as u64,
            ContentData::Spooled { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Files at least this big are spooled to disk while the tree is built.
pub const SPOOL_THRESHOLD: usize = 64 * 1024;

/// An append-only temporary file holding big file contents; deleted when the last
/// content referring to it is dropped.
pub struct Spool {
    file: std::fs::File,
    end: std::sync::Mutex<u64>,
}

impl std::fmt::Debug for Spool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Spool")
    }
}

impl Spool {
    /// A spool in the system's temporary directory (already unlinked).
    pub fn new() -> std::io::Result<Arc<Spool>> {
        Ok(Arc::new(Spool {
            file: tempfile::tempfile()?,
            end: std::sync::Mutex::new(0),
        }))
    }

    fn append(&self, bytes: &[u8]) -> std::io::Result<u64> {
        use std::os::unix::fs::FileExt;
        // Reserve the range under the lock, write outside it: threads append in parallel.
        let offset = {
            let mut end = self
                .end
                .lock()
                .map_err(|_| std::io::Error::other("spool lock poisoned"))?;
            let offset = *end;
            *end += bytes.len() as u64;
            offset
        };
        self.file.write_all_at(bytes, offset)?;
        Ok(offset)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt;
        self.file.read_exact_at(buf, offset)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Directory,
    File(Content),
    Symlink(String),
    /// A hard link to another path of the tree (resolved, relative to the root).
    Hardlink(String),
    CharDevice {
        major: u32,
        minor: u32,
    },
    BlockDevice {
        major: u32,
        minor: u32,
    },
    Fifo,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub kind: NodeKind,
    /// Permission bits (incl. setuid/setgid/sticky), without the file type.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: u64,
    pub xattrs: Vec<(String, Vec<u8>)>,
    pub owner: Owner,
}

impl Node {
    pub fn directory(mode: u32, uid: u32, gid: u32) -> Node {
        Node {
            kind: NodeKind::Directory,
            mode,
            uid,
            gid,
            mtime: 0,
            xattrs: Vec::new(),
            owner: None,
        }
    }

    pub fn file(content: impl Into<Arc<[u8]>>, mode: u32) -> Node {
        Node {
            kind: NodeKind::File(Content::new(content)),
            ..Node::directory(mode, 0, 0)
        }
    }

    pub fn symlink(target: &str) -> Node {
        Node {
            kind: NodeKind::Symlink(target.to_owned()),
            ..Node::directory(0o777, 0, 0)
        }
    }

    pub fn is_dir(&self) -> bool {
        self.kind == NodeKind::Directory
    }
}

/// The most symlinks followed while resolving one path (Linux uses 40).
const MAX_SYMLINKS: usize = 40;

/// The image's root filesystem.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    nodes: BTreeMap<String, Node>,
}

impl Tree {
    pub fn new() -> Tree {
        Tree::default()
    }

    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    pub fn get_mut(&mut self, path: &str) -> Option<&mut Node> {
        self.nodes.get_mut(path)
    }

    pub fn remove(&mut self, path: &str) -> Option<Node> {
        self.nodes.remove(path)
    }

    /// All nodes in path order (the order layers are written in).
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Node)> {
        self.nodes.iter()
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Names directly inside directory `dir` ("" for the root), sorted.
    pub fn children(&self, dir: &str) -> Vec<&str> {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        self.nodes
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .filter_map(|(p, _)| {
                let rest = &p[prefix.len()..];
                (!rest.is_empty() && !rest.contains('/')).then_some(rest)
            })
            .collect()
    }

    /// Resolves `path` (relative to the root, as written in a package) to where it lives in
    /// the tree: every parent component that is a symlink is followed; the last component is
    /// not. Fails when a symlink leads outside the root or a parent is not a directory.
    pub fn resolve_parent(&self, path: &str) -> Result<String> {
        let mut budget = MAX_SYMLINKS;
        let (parent, name) = match path.rsplit_once('/') {
            Some((p, n)) => (p, n),
            None => return Ok(path.to_owned()),
        };
        let dir = self.resolve_dir(parent, path, &mut budget, &mut false)?;
        Ok(join(&dir, name))
    }

    /// Whether resolving the parents of `path` follows a symlink with an absolute target
    /// (`a -> /etc` for `a/passwd`). An error resolving counts as no.
    pub fn parent_follows_absolute_link(&self, path: &str) -> bool {
        let Some((parent, _)) = path.rsplit_once('/') else {
            return false;
        };
        let mut absolute = false;
        self.resolve_dir(parent, path, &mut MAX_SYMLINKS.clone(), &mut absolute)
            .is_ok()
            && absolute
    }

    /// Resolves `path` fully, following a final symlink too.
    pub fn resolve(&self, path: &str) -> Result<String> {
        let mut budget = MAX_SYMLINKS;
        self.resolve_dir(path, path, &mut budget, &mut false)
    }

    /// Resolves `path`; `absolute` is set when an absolute symlink is followed.
    fn resolve_dir(
        &self,
        path: &str,
        original: &str,
        budget: &mut usize,
        absolute: &mut bool,
    ) -> Result<String> {
        let mut resolved: Vec<String> = Vec::new();
        let mut pending: Vec<String> = components(path).rev().map(str::to_owned).collect();
        while let Some(part) = pending.pop() {
            match part.as_str() {
                "." => continue,
                ".." => {
                    if resolved.pop().is_none() {
                        return Err(FsError::Escape {
                            path: original.to_owned(),
                        });
                    }
                    continue;
                }
                _ => {}
            }
            resolved.push(part);
            let current = resolved.join("/");
            if let Some(Node {
                kind: NodeKind::Symlink(target),
                ..
            }) = self.nodes.get(&current)
            {
                *budget = budget.checked_sub(1).ok_or_else(|| FsError::SymlinkLoop {
                    path: original.to_owned(),
                })?;
                resolved.pop();
                if target.starts_with('/') {
                    resolved.clear();
                    *absolute = true;
                }
                pending.extend(components(target).rev().map(str::to_owned));
            }
        }
        Ok(resolved.join("/"))
    }

    /// Makes sure every parent directory of `path` (already resolved) exists, creating
    /// missing ones as root-owned 0755 directories like apk does.
    pub fn ensure_parents(&mut self, path: &str, mtime: u64) -> Result<()> {
        let mut end = 0;
        while let Some(pos) = path[end..].find('/') {
            let dir = &path[..end + pos];
            match self.nodes.get(dir) {
                Some(node) if node.is_dir() => {}
                Some(node) => {
                    return Err(FsError::NotADirectory {
                        path: path.to_owned(),
                        parent: dir.to_owned(),
                        kind: describe(&node.kind),
                    });
                }
                None => {
                    let mut node = Node::directory(0o755, 0, 0);
                    node.mtime = mtime;
                    self.nodes.insert(dir.to_owned(), node);
                }
            }
            end += pos + 1;
        }
        Ok(())
    }

    /// Inserts or replaces a node at an already-resolved path, creating parents.
    pub fn insert(&mut self, path: String, node: Node) -> Result<()> {
        self.ensure_parents(&path, node.mtime)?;
        self.nodes.insert(path, node);
        Ok(())
    }
}

fn components(path: &str) -> impl DoubleEndedIterator<Item = &str> {
    path.split('/').filter(|c| !c.is_empty())
}

pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

pub(crate) fn describe(kind: &NodeKind) -> &'static str {
    match kind {
        NodeKind::Directory => "a directory",
        NodeKind::File(_) => "a file",
        NodeKind::Symlink(_) => "a symlink",
        NodeKind::Hardlink(_) => "a hard link",
        NodeKind::CharDevice { .. } | NodeKind::BlockDevice { .. } => "a device",
        NodeKind::Fifo => "a fifo",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree_with_links() -> Tree {
        let mut t = Tree::new();
        t.insert("usr/lib".into(), Node::directory(0o755, 0, 0))
            .unwrap();
        t.insert("lib".into(), Node::symlink("usr/lib")).unwrap();
        t.insert("abs".into(), Node::symlink("/usr")).unwrap();
        t.insert("out".into(), Node::symlink("../../..")).unwrap();
        t.insert("loop".into(), Node::symlink("loop")).unwrap();
        t
    }

    #[test]
    fn parents_follow_symlinks_inside_the_root() {
        let t = tree_with_links();
        assert_eq!(t.resolve_parent("lib/libc.so").unwrap(), "usr/lib/libc.so");
        assert_eq!(t.resolve_parent("abs/lib/x").unwrap(), "usr/lib/x");
        assert_eq!(t.resolve_parent("lib").unwrap(), "lib");
        assert_eq!(t.resolve("lib").unwrap(), "usr/lib");
    }

    #[test]
    fn escaping_and_looping_links_are_refused() {
        let t = tree_with_links();
        assert!(matches!(
            t.resolve_parent("out/etc/passwd"),
            Err(FsError::Escape { .. })
        ));
        assert!(matches!(
            t.resolve_parent("loop/x"),
            Err(FsError::SymlinkLoop { .. })
        ));
    }

    #[test]
    fn parents_are_created_and_files_block_children() {
        let mut t = Tree::new();
        t.insert("a/b/c".into(), Node::file(&b"x"[..], 0o644))
            .unwrap();
        assert!(t.get("a").unwrap().is_dir());
        assert!(t.get("a/b").unwrap().is_dir());
        let err = t
            .insert("a/b/c/d".into(), Node::file(&b"y"[..], 0o644))
            .unwrap_err();
        assert!(err.to_string().contains("a/b/c"), "{err}");
        assert_eq!(t.children("a"), vec!["b"]);
        assert_eq!(t.children(""), vec!["a"]);
    }
}
