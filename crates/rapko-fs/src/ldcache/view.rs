//! The tree as ldconfig sees it: symlinks resolved inside the root, plus the links it made.

use super::*;

pub(super) struct View<'a, T: ?Sized> {
    pub(super) tree: &'a T,
    /// Symlinks created (`Some(target)`) or deleted (`None`) so far, by resolved path.
    pub(super) overlay: BTreeMap<String, Option<String>>,
}

impl<'a, T: LibraryTree + ?Sized> View<'a, T> {
    pub(super) fn new(tree: &'a T) -> Self {
        View {
            tree,
            overlay: BTreeMap::new(),
        }
    }

    pub(super) fn kind(&self, path: &str) -> Option<EntryKind> {
        if path == "/" {
            return Some(EntryKind::Dir);
        }
        match self.overlay.get(path) {
            Some(Some(_)) => Some(EntryKind::Symlink),
            Some(None) => None,
            None => self.tree.entry_kind(path),
        }
    }

    pub(super) fn link(&self, path: &str) -> Option<String> {
        match self.overlay.get(path) {
            Some(target) => target.clone(),
            None => self.tree.read_link(path),
        }
    }

    /// The names in resolved directory `dir`, sorted (ldconfig sees readdir order, which no
    /// result depends on except in contrived cases).
    pub(super) fn list(&self, dir: &str) -> Vec<String> {
        let mut names: BTreeSet<String> = self
            .tree
            .list_dir(dir)
            .into_iter()
            .filter(|n| !n.is_empty() && n != "." && n != ".." && !n.contains('/'))
            .collect();
        let prefix = if dir == "/" {
            "/".to_owned()
        } else {
            format!("{dir}/")
        };
        for (path, change) in self.overlay.range(prefix.clone()..) {
            let Some(name) = path.strip_prefix(&prefix) else {
                break;
            };
            if name.contains('/') {
                continue;
            }
            match change {
                Some(_) => names.insert(name.to_owned()),
                None => names.remove(name),
            };
        }
        names.into_iter().collect()
    }

    /// Resolves `path` (absolute, or relative to `/`) to a path without symlinks, following
    /// the last component too when `follow` is set. `None` when something is missing, a
    /// non-directory is used as one, or symlinks loop. `..` never leaves the root.
    pub(super) fn resolve(&self, path: &str, follow: bool) -> Option<String> {
        let mut todo: VecDeque<String> = path
            .split('/')
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect();
        let mut parts: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(part) = todo.pop_front() {
            match part.as_str() {
                "." => continue,
                ".." => {
                    parts.pop();
                    continue;
                }
                _ => {}
            }
            let candidate = if parts.is_empty() {
                format!("/{part}")
            } else {
                format!("/{}/{part}", parts.join("/"))
            };
            let last = todo.is_empty();
            match self.kind(&candidate)? {
                EntryKind::Symlink if !last || follow => {
                    hops += 1;
                    let target = self.link(&candidate)?;
                    if hops > MAX_SYMLINKS || target.is_empty() {
                        return None;
                    }
                    if target.starts_with('/') {
                        parts.clear();
                    }
                    for component in target.split('/').rev().filter(|c| !c.is_empty()) {
                        todo.push_front(component.to_owned());
                    }
                }
                EntryKind::Dir => parts.push(part),
                _ if last => parts.push(part),
                _ => return None,
            }
        }
        Some(format!("/{}", parts.join("/")))
    }

    /// The names in `dir` (resolved) that resolve to regular files.
    pub(super) fn files_in(&self, dir: &str) -> Vec<String> {
        let Some(dir) = self.resolve(dir, true) else {
            return Vec::new();
        };
        if self.kind(&dir) != Some(EntryKind::Dir) {
            return Vec::new();
        }
        self.list(&dir)
            .into_iter()
            .filter(|name| {
                self.resolve(&join(&dir, name), true)
                    .is_some_and(|p| self.kind(&p) == Some(EntryKind::File))
            })
            .collect()
    }
}

pub(super) fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}
