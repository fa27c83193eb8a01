//! The in-memory file tree of an image: a sorted map from path (relative to the root, no
//! leading `/`) to node. Parents are resolved through symlinks inside the tree (so a package
//! installing `lib/x` lands in `usr/lib/x` when `lib -> usr/lib`), and nothing may resolve
//! outside the root.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::error::{FsError, Result};

/// Index of the package that owns a node, in install order; `None` for files rapko made.
pub type Owner = Option<usize>;

/// File content, shared so identical files and hard links cost nothing extra.
#[derive(Clone, PartialEq, Eq)]
pub struct Content(pub Arc<[u8]>);

impl std::fmt::Debug for Content {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Content({} bytes)", self.0.len())
    }
}

impl Content {
    pub fn new(bytes: impl Into<Arc<[u8]>>) -> Content {
        Content(bytes.into())
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
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
        let dir = self.resolve_dir(parent, path, &mut budget)?;
        Ok(join(&dir, name))
    }

    /// Resolves `path` fully, following a final symlink too.
    pub fn resolve(&self, path: &str) -> Result<String> {
        let mut budget = MAX_SYMLINKS;
        self.resolve_dir(path, path, &mut budget)
    }

    fn resolve_dir(&self, path: &str, original: &str, budget: &mut usize) -> Result<String> {
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
