//! Assembling the whole root filesystem: install the packages, then do declaratively what
//! their install scripts would have done (busybox applet links, the CA bundle,
//! `/etc/ld.so.cache`), write the apk database so `apk` inside the image works, and apply the
//! config's accounts, path mutations and service bundle.

use rapko_apk::installed::{
    InstalledPackage, ScriptTimes, write_installed, write_scripts_tar, write_triggers,
};
use rapko_config::ImageConfiguration;

use crate::error::{FsError, Result};
use crate::install::{PackageToInstall, install_packages};
use crate::tree::{Node, NodeKind, Tree};
use crate::{accounts, paths, scripts};

/// What the root filesystem is built from besides the packages.
#[derive(Clone, Debug)]
pub struct RootfsOptions<'a> {
    pub config: &'a ImageConfiguration,
    /// apk's name for the architecture (`x86_64`), for `/etc/apk/arch`.
    pub arch: &'a str,
    /// `/etc/apk/keys`: (file name, PEM public key).
    pub keys: Vec<(String, String)>,
    /// `/etc/apk/repositories`: what the image's own apk should use.
    pub runtime_repositories: Vec<String>,
    /// mtime of every file rapko writes itself (the build time).
    pub build_time: u64,
}

/// The finished tree and the installed database it holds.
#[derive(Clone, Debug)]
pub struct Rootfs {
    pub tree: Tree,
    /// One record per installed package, in install order.
    pub installed: Vec<InstalledPackage>,
}

/// Builds the root filesystem from packages in install order.
pub fn build_rootfs(packages: &[PackageToInstall], options: &RootfsOptions<'_>) -> Result<Rootfs> {
    let mut tree = Tree::new();
    let installed = install_packages(&mut tree, packages)?;
    let mut writer = Writer::new(&mut tree, options.build_time);
    scripts::busybox_links(&mut writer)?;
    scripts::ca_bundle(&mut writer, &installed)?;
    write_apk_database(&mut writer, &installed, options)?;
    accounts::apply(&mut writer, &options.config.accounts)?;
    paths::apply(&mut writer, &options.config.paths)?;
    // Last of the tree changes that can add libraries or library links (a `paths` symlink
    // such as `/lib64 -> lib`), as `ldconfig` would run in the finished image.
    scripts::ld_so_cache(&mut writer, options.arch)?;
    scripts::service_bundle(&mut writer, &options.config.entrypoint)?;
    Ok(Rootfs { tree, installed })
}

/// Writes files rapko makes itself, all with the build time as mtime and root ownership.
pub struct Writer<'a> {
    pub tree: &'a mut Tree,
    pub mtime: u64,
}

impl<'a> Writer<'a> {
    pub fn new(tree: &'a mut Tree, mtime: u64) -> Writer<'a> {
        Writer { tree, mtime }
    }

    /// Writes (or replaces) a regular file at `path`, following symlinks (a final one too,
    /// as opening the path for writing would).
    pub fn file(
        &mut self,
        path: &str,
        content: impl Into<std::sync::Arc<[u8]>>,
        mode: u32,
    ) -> Result<()> {
        let resolved = self.tree.resolve(path)?;
        let mut node = Node::file(content, mode);
        node.mtime = self.mtime;
        if let Some(old) = self.tree.get(&resolved) {
            if old.is_dir() {
                return Err(FsError::Path(format!(
                    "cannot write the file /{path}: /{resolved} is a directory"
                )));
            }
            // Keep the owner and mode a package gave the file (e.g. /etc/passwd).
            node.owner = old.owner;
            node.uid = old.uid;
            node.gid = old.gid;
            node.mode = old.mode;
        }
        self.tree.insert(resolved, node)
    }

    /// Creates a directory (and parents) unless one exists.
    pub fn dir(&mut self, path: &str, mode: u32) -> Result<String> {
        let resolved = self.tree.resolve(path)?;
        match self.tree.get(&resolved) {
            Some(n) if n.is_dir() => {}
            Some(node) => {
                return Err(FsError::Path(format!(
                    "cannot create the directory /{path}: /{resolved} is {}",
                    crate::tree::describe(&node.kind)
                )));
            }
            None => {
                let mut node = Node::directory(mode, 0, 0);
                node.mtime = self.mtime;
                self.tree.insert(resolved.clone(), node)?;
            }
        }
        Ok(resolved)
    }

    /// Creates a symlink unless something already exists at `path`.
    pub fn symlink_if_absent(&mut self, path: &str, target: &str) -> Result<bool> {
        let resolved = self.tree.resolve_parent(path)?;
        if self.tree.get(&resolved).is_some() {
            return Ok(false);
        }
        let mut node = Node::symlink(target);
        node.mtime = self.mtime;
        self.tree.insert(resolved, node)?;
        Ok(true)
    }

    /// The content of a regular file, following symlinks and hard links; `None` when there
    /// is no such file. Fails only when a spooled content cannot be read back, so that a
    /// caller never mistakes a read error for a missing file (and, say, drops the accounts a
    /// package shipped).
    pub fn read(&self, path: &str) -> Result<Option<std::borrow::Cow<'_, [u8]>>> {
        let Some(content) = self.content(path) else {
            return Ok(None);
        };
        content.bytes().map(Some).map_err(|source| FsError::Io {
            path: format!("/{path} (spooled content)"),
            source,
        })
    }

    fn content(&self, path: &str) -> Option<&crate::tree::Content> {
        let resolved = self.tree.resolve(path).ok()?;
        match &self.tree.get(&resolved)?.kind {
            NodeKind::File(c) => Some(c),
            NodeKind::Hardlink(t) => match &self.tree.get(t)?.kind {
                NodeKind::File(c) => Some(c),
                _ => None,
            },
            _ => None,
        }
    }

    /// True when `path` is a regular file (following symlinks and hard links).
    pub fn is_file(&self, path: &str) -> bool {
        self.content(path).is_some()
    }
}

/// `lib/apk/db/{installed,scripts.tar,triggers,lock}` and `/etc/apk/{world,repositories,
/// keys,arch}`, as apk-tools leaves them after `apk add`.
fn write_apk_database(
    w: &mut Writer<'_>,
    installed: &[InstalledPackage],
    options: &RootfsOptions<'_>,
) -> Result<()> {
    let db_err = |e: rapko_apk::Error| FsError::Path(format!("apk database: {e}"));
    // apk-tools writes `installed` sorted by name and scripts in install order.
    let mut by_name: Vec<&InstalledPackage> = installed.iter().collect();
    by_name.sort_by(|a, b| a.info.name.cmp(&b.info.name));
    w.dir("lib/apk/db", 0o755)?;
    w.file(
        "lib/apk/db/installed",
        write_installed(by_name.iter().copied())
            .map_err(db_err)?
            .into_bytes(),
        0o644,
    )?;
    w.file(
        "lib/apk/db/scripts.tar",
        write_scripts_tar(installed, ScriptTimes::BuildDate { fallback: w.mtime })
            .map_err(db_err)?,
        0o644,
    )?;
    w.file(
        "lib/apk/db/triggers",
        write_triggers(installed).map_err(db_err)?.into_bytes(),
        0o644,
    )?;
    w.file("lib/apk/db/lock", Vec::new(), 0o600)?;
    // `apk --initdb` makes the package cache directory; `apk cache` and `apk add` use it.
    w.dir("var/cache/apk", 0o755)?;
    w.dir("etc/apk/keys", 0o755)?;
    let mut world: Vec<&str> = options
        .config
        .contents
        .packages
        .iter()
        .map(String::as_str)
        .collect();
    world.sort_unstable();
    world.dedup();
    w.file("etc/apk/world", lines(&world).into_bytes(), 0o644)?;
    let repos: Vec<&str> = options
        .runtime_repositories
        .iter()
        .map(String::as_str)
        .collect();
    w.file("etc/apk/repositories", lines(&repos).into_bytes(), 0o644)?;
    w.file(
        "etc/apk/arch",
        format!("{}\n", options.arch).into_bytes(),
        0o644,
    )?;
    for (name, pem) in &options.keys {
        if name.contains('/') || name.starts_with('.') {
            return Err(FsError::Path(format!(
                "key file name {name:?} is not a plain file name"
            )));
        }
        w.file(
            &format!("etc/apk/keys/{name}"),
            pem.as_bytes().to_vec(),
            0o644,
        )?;
    }
    Ok(())
}

fn lines(items: &[&str]) -> String {
    items.iter().map(|l| format!("{l}\n")).collect()
}
