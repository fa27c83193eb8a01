//! `/etc/ld.so.cache` for glibc images, made declaratively: the bytes glibc 2.41's `ldconfig`
//! would write for the same tree, computed from the tree without running anything.
//!
//! glibc distributions run `ldconfig` after installing packages; rapko runs no scripts, so it
//! replays what `ldconfig` does: read `/etc/ld.so.conf` (and its `include` globs), scan those
//! directories, their `glibc-hwcaps/*` subdirectories and the trusted directories (`/lib`,
//! `/usr/lib` and their `64`/`x32`/`ilp32` siblings), pick one file per SONAME the way
//! `ldconfig` does, sort the entries with glibc's `_dl_cache_libcmp`, and write the
//! "glibc-ld.so.cache1.1" format with its tail-merged string table and its extension section
//! (generator string, glibc-hwcaps names). [`run_ldconfig`] also returns the SONAME symlinks
//! `ldconfig` would create or re-point and the stale ones it would delete: the cache names
//! `dir/SONAME`, so those links must be applied for the cache to be right.
//!
//! It reads the tree through the small [`LibraryTree`] trait and resolves symlinks itself
//! (confined to the tree). ELF files are parsed by hand, bounds-checked: a truncated or hostile
//! file is skipped, never a panic. It does not write the old "ld.so-1.7.0" format, does not
//! create the auxiliary cache, and knows the x86_64 and aarch64 flavours of `ldconfig` only.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

/// What is at a path, without following a final symlink (like `lstat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file (a hard link counts as a file).
    File,
    Dir,
    Symlink,
    /// A device, fifo or socket: never a library.
    Other,
}

/// Read access to an image's files. Every `path` given to these methods is absolute, and none
/// of its directories is a symlink: the cache builder resolves symlinks itself, so an
/// implementation only looks paths up literally.
pub trait LibraryTree {
    /// The kind of the entry at `path`, not following a final symlink; `None` when absent.
    fn entry_kind(&self, path: &str) -> Option<EntryKind>;
    /// The target of the symlink at `path`, as stored.
    fn read_link(&self, path: &str) -> Option<String>;
    /// The names inside directory `dir` (no `.` or `..`), in any order.
    fn list_dir(&self, dir: &str) -> Vec<String>;
    /// The content of the regular file at `path`.
    fn read_file(&self, path: &str) -> Option<Cow<'_, [u8]>>;
}

impl<T: LibraryTree + ?Sized> LibraryTree for &T {
    fn entry_kind(&self, path: &str) -> Option<EntryKind> {
        (**self).entry_kind(path)
    }
    fn read_link(&self, path: &str) -> Option<String> {
        (**self).read_link(path)
    }
    fn list_dir(&self, dir: &str) -> Vec<String> {
        (**self).list_dir(dir)
    }
    fn read_file(&self, path: &str) -> Option<Cow<'_, [u8]>> {
        (**self).read_file(path)
    }
}

/// rapko's in-memory tree (paths relative to the root, no leading `/`).
impl LibraryTree for crate::tree::Tree {
    fn entry_kind(&self, path: &str) -> Option<EntryKind> {
        use crate::tree::NodeKind;
        let rel = path.trim_start_matches('/');
        if rel.is_empty() {
            return Some(EntryKind::Dir);
        }
        Some(match &self.get(rel)?.kind {
            NodeKind::Directory => EntryKind::Dir,
            NodeKind::File(_) | NodeKind::Hardlink(_) => EntryKind::File,
            NodeKind::Symlink(_) => EntryKind::Symlink,
            _ => EntryKind::Other,
        })
    }

    fn read_link(&self, path: &str) -> Option<String> {
        match &self.get(path.trim_start_matches('/'))?.kind {
            crate::tree::NodeKind::Symlink(target) => Some(target.clone()),
            _ => None,
        }
    }

    fn list_dir(&self, dir: &str) -> Vec<String> {
        self.children(dir.trim_start_matches('/'))
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    fn read_file(&self, path: &str) -> Option<Cow<'_, [u8]>> {
        use crate::tree::NodeKind;
        let mut rel = path.trim_start_matches('/');
        // A hard link names another path of the tree; follow a short chain of them.
        for _ in 0..8 {
            match &self.get(rel)?.kind {
                NodeKind::File(content) => return content.bytes().ok(),
                NodeKind::Hardlink(target) => rel = target.trim_start_matches('/'),
                _ => return None,
            }
        }
        None
    }
}

/// The two `ldconfig` flavours rapko knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LdArch {
    X86_64,
    Aarch64,
}

impl LdArch {
    /// From an apk architecture name (`x86_64`, `aarch64`).
    pub fn from_apk_arch(arch: &str) -> Option<LdArch> {
        match arch {
            "x86_64" => Some(LdArch::X86_64),
            "aarch64" => Some(LdArch::Aarch64),
            _ => None,
        }
    }

    /// The file name of glibc's dynamic loader for this architecture.
    pub fn loader_name(self) -> &'static str {
        match self {
            LdArch::X86_64 => "ld-linux-x86-64.so.2",
            LdArch::Aarch64 => "ld-linux-aarch64.so.1",
        }
    }

    /// The only `flags` value this architecture's loader accepts in a cache entry
    /// (`_DL_CACHE_DEFAULT_ID`).
    pub fn native_flags(self) -> i32 {
        match self {
            LdArch::X86_64 => FLAG_X8664_LIB64 | FLAG_ELF_LIBC6,
            LdArch::Aarch64 => FLAG_AARCH64_LIB64 | FLAG_ELF_LIBC6,
        }
    }

    /// The trusted directories `ldconfig` always scans after the configured ones, for glibc
    /// built with `slibdir=/lib` and `libdir=/usr/lib` (Wolfi-style distributions): each
    /// expanded the way this architecture's `add_system_dir` does.
    pub fn default_system_dirs(self) -> Vec<String> {
        let siblings: &[&str] = match self {
            LdArch::X86_64 => &["", "64", "x32"],
            LdArch::Aarch64 => &["", "64", "ilp32"],
        };
        ["/lib", "/usr/lib"]
            .iter()
            .flat_map(|base| siblings.iter().map(move |s| format!("{base}{s}")))
            .collect()
    }

    /// C's `char` is signed on x86 and unsigned on Arm; `_dl_cache_libcmp` sees the difference
    /// for bytes >= 0x80.
    fn char_is_signed(self) -> bool {
        self == LdArch::X86_64
    }
}

/// How to run the declarative `ldconfig`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdCacheOptions {
    pub arch: LdArch,
    /// The configuration file read first (`/etc/ld.so.conf`).
    pub config_file: String,
    /// The trusted directories scanned after the configured ones, in order, already expanded
    /// (see [`LdArch::default_system_dirs`]).
    pub system_dirs: Vec<String>,
    /// The "Cache generated by" string. `None`: the one compiled into the tree's own
    /// `ldconfig` binary, else [`DEFAULT_GENERATOR`].
    pub generator: Option<String>,
}

impl LdCacheOptions {
    /// The defaults for a Wolfi-style glibc image of `arch`.
    pub fn new(arch: LdArch) -> LdCacheOptions {
        LdCacheOptions {
            arch,
            config_file: "/etc/ld.so.conf".to_owned(),
            system_dirs: arch.default_system_dirs(),
            generator: None,
        }
    }
}

/// The generator string used when the tree holds no `ldconfig` binary to take it from.
pub const DEFAULT_GENERATOR: &str = "ldconfig (GNU libc) stable release version 2.41";

/// Everything the declarative `ldconfig` produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdConfig {
    /// The bytes of `/etc/ld.so.cache`.
    pub cache: Vec<u8>,
    /// The cache's entries, in file order.
    pub entries: Vec<LdCacheEntry>,
    /// The symlink changes `ldconfig` would make, in the order it makes them. The cache
    /// points at `dir/SONAME`, so apply these to the tree together with the cache.
    pub link_changes: Vec<LinkChange>,
}

/// One library in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdCacheEntry {
    pub soname: String,
    pub path: String,
    /// `FLAG_ELF_LIBC6` (3) plus the architecture bits, e.g. `0x303` for x86-64.
    pub flags: i32,
    pub hwcap: u64,
    /// The `glibc-hwcaps` subdirectory the library is in (e.g. `x86-64-v3`), if any.
    pub hwcaps_subdir: Option<String>,
}

/// A change to a symlink that `ldconfig` would make. Paths are absolute and resolved (no
/// symlinked directories); targets are relative to the link's directory, as `ldconfig`
/// writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkChange {
    /// A SONAME symlink that does not exist yet.
    Create { path: String, target: String },
    /// An existing SONAME symlink pointing at another (or no) file, re-pointed.
    Replace { path: String, target: String },
    /// A dangling symlink named like `lib*.so.*` in a scanned directory, deleted.
    RemoveStale { path: String },
}

/// An `/etc/ld.so.cache` read back by [`read_ld_so_cache`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedLdCache {
    pub entries: Vec<LdCacheEntry>,
    pub generator: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum LdCacheError {
    #[error(
        "cannot tell the image's architecture for /etc/ld.so.cache: no glibc dynamic loader \
         (ld-linux-x86-64.so.2 or ld-linux-aarch64.so.1) in /lib, /lib64, /usr/lib or /usr/lib64; \
         install the package that ships it (ld-linux, glibc) or pass the architecture in \
         LdCacheOptions"
    )]
    NoLoader,
    #[error(
        "the image holds glibc dynamic loaders for several architectures ({found}); pass the \
         architecture in LdCacheOptions"
    )]
    AmbiguousLoader { found: String },
    #[error(
        "{file}: `include` nested more than {MAX_INCLUDE_DEPTH} levels deep; an ld.so.conf \
         file probably includes itself (check the include lines under /etc/ld.so.conf.d)"
    )]
    IncludeTooDeep { file: String },
    #[error("/etc/ld.so.cache would exceed 4 GiB ({what}); the image holds too many libraries")]
    TooLarge { what: &'static str },
    #[error("not a glibc-ld.so.cache1.1 file: {reason}")]
    Malformed { reason: String },
}

// Cache entry flags (glibc's ldconfig.h).
const FLAG_ELF: i32 = 0x0001;
const FLAG_ELF_LIBC5: i32 = 0x0002;
const FLAG_ELF_LIBC6: i32 = 0x0003;
const FLAG_X8664_LIB64: i32 = 0x0300;
const FLAG_X8664_LIBX32: i32 = 0x0800;
const FLAG_ARM_LIBHF: i32 = 0x0900;
const FLAG_AARCH64_LIB64: i32 = 0x0a00;
const FLAG_ARM_LIBSF: i32 = 0x0b00;

/// Set in `hwcap` for libraries in `glibc-hwcaps` subdirectories; the low 32 bits are then an
/// index into the extension's list of subdirectory names, bits 32.. the x86 ISA level.
const DL_CACHE_HWCAP_EXTENSION: u64 = 1 << 62;

const CACHE_MAGIC: &[u8; 20] = b"glibc-ld.so.cache1.1";
const HEADER_SIZE: usize = 48;
const ENTRY_SIZE: usize = 24;
/// `cache_file_new_flags_endian_little`: both supported architectures are little-endian.
const ENDIAN_LITTLE: u8 = 2;
const EXTENSION_MAGIC: u32 = 0xeaa4_2174;
const TAG_GENERATOR: u32 = 0;
const TAG_GLIBC_HWCAPS: u32 = 1;
/// `offsetof (struct cache_extension, sections)`.
const EXTENSION_HEADER_SIZE: usize = 8;
const EXTENSION_SECTION_SIZE: usize = 16;

/// Linux follows at most 40 symlinks while resolving one path.
const MAX_SYMLINKS: usize = 40;
const MAX_INCLUDE_DEPTH: usize = 32;

/// Where glibc's loader lives in the images we support, and where `ldconfig` does.
const LOADER_DIRS: [&str; 4] = ["/lib", "/lib64", "/usr/lib", "/usr/lib64"];
const LDCONFIG_PATHS: [&str; 4] = [
    "/sbin/ldconfig",
    "/usr/sbin/ldconfig",
    "/usr/bin/ldconfig",
    "/bin/ldconfig",
];

/// True when the tree holds a glibc dynamic loader (`ld-linux*.so*` in a library directory),
/// i.e. when the image needs an `/etc/ld.so.cache`.
pub fn needs_ld_so_cache<T: LibraryTree + ?Sized>(tree: &T) -> bool {
    let view = View::new(tree);
    LOADER_DIRS.iter().any(|dir| {
        view.files_in(dir)
            .iter()
            .any(|name| name.starts_with("ld-linux") && name.contains(".so"))
    })
}

/// The architecture of the tree's glibc, from the name of its dynamic loader.
pub fn detect_arch<T: LibraryTree + ?Sized>(tree: &T) -> Result<LdArch, LdCacheError> {
    let view = View::new(tree);
    let mut found: Vec<LdArch> = Vec::new();
    for arch in [LdArch::X86_64, LdArch::Aarch64] {
        let present = LOADER_DIRS
            .iter()
            .any(|dir| view.files_in(dir).iter().any(|n| n == arch.loader_name()));
        if present {
            found.push(arch);
        }
    }
    match found.as_slice() {
        [] => Err(LdCacheError::NoLoader),
        [arch] => Ok(*arch),
        many => Err(LdCacheError::AmbiguousLoader {
            found: many
                .iter()
                .map(|a| a.loader_name())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// The `/etc/ld.so.cache` that `ldconfig` would write for `tree`, with the defaults for the
/// architecture of the tree's dynamic loader. See [`run_ldconfig`] for the symlinks that go
/// with it.
pub fn build_ld_so_cache<T: LibraryTree + ?Sized>(tree: &T) -> Result<Vec<u8>, LdCacheError> {
    let options = LdCacheOptions::new(detect_arch(tree)?);
    Ok(run_ldconfig(tree, &options)?.cache)
}

/// Replays `ldconfig` (glibc 2.41, new cache format, links enabled) over `tree`.
pub fn run_ldconfig<T: LibraryTree + ?Sized>(
    tree: &T,
    options: &LdCacheOptions,
) -> Result<LdConfig, LdCacheError> {
    let mut run = Run::new(tree, options.arch);
    run.parse_conf(&options.config_file, 0)?;
    for dir in &options.system_dirs {
        run.add_dir(dir);
    }
    for index in 0..run.dirs.len() {
        run.search_dir(index);
    }
    let generator = match &options.generator {
        Some(g) => g.clone(),
        None => run.tree_generator(),
    };
    let cache = assemble(&run.records, &run.hwcaps, generator.as_bytes())?;
    let parsed = read_ld_so_cache(&cache)?;
    Ok(LdConfig {
        cache,
        entries: parsed.entries,
        link_changes: run.changes,
    })
}

/// The "Cache generated by" string compiled into an `ldconfig` binary
/// (`ldconfig PKGVERSION RELEASE release version VERSION`), if it holds one.
pub fn ldconfig_generator(binary: &[u8]) -> Option<String> {
    const PREFIX: &[u8] = b"ldconfig (";
    let mut from = 0;
    while let Some(found) = find(binary.get(from..)?, PREFIX) {
        let start = from + found;
        let rest = binary.get(start..)?;
        if let Some(end) = rest.iter().take(256).position(|&b| b == 0) {
            let text = &rest[..end];
            if find(text, b" release version ").is_some()
                && text.iter().all(|b| (0x20..0x7f).contains(b))
            {
                return String::from_utf8(text.to_vec()).ok();
            }
        }
        from = start + 1;
    }
    None
}

/// Reads a cache in the new format (as written by glibc >= 2.32), checking every offset.
pub fn read_ld_so_cache(bytes: &[u8]) -> Result<ParsedLdCache, LdCacheError> {
    let malformed = |reason: &str| LdCacheError::Malformed {
        reason: reason.to_owned(),
    };
    if bytes.len() < HEADER_SIZE || !bytes.starts_with(CACHE_MAGIC) {
        return Err(malformed("no glibc-ld.so.cache1.1 header"));
    }
    let nlibs = le_u32(bytes, 20).ok_or_else(|| malformed("short header"))? as usize;
    let ext_offset = le_u32(bytes, 32).ok_or_else(|| malformed("short header"))? as usize;
    let table_end = nlibs
        .checked_mul(ENTRY_SIZE)
        .and_then(|n| n.checked_add(HEADER_SIZE))
        .filter(|&end| end <= bytes.len())
        .ok_or_else(|| malformed("entry table runs past the end of the file"))?;

    let mut generator = None;
    let mut hwcaps_names: Vec<String> = Vec::new();
    if ext_offset != 0 && le_u32(bytes, ext_offset) == Some(EXTENSION_MAGIC) {
        let count = le_u32(bytes, ext_offset.saturating_add(4))
            .ok_or_else(|| malformed("short extension header"))?;
        for i in 0..count as usize {
            let at = i
                .saturating_mul(EXTENSION_SECTION_SIZE)
                .saturating_add(ext_offset)
                .saturating_add(EXTENSION_HEADER_SIZE);
            let field = |k: usize| {
                le_u32(bytes, at.saturating_add(4 * k))
                    .ok_or_else(|| malformed("extension section table runs past the end"))
            };
            let (tag, offset, size) = (field(0)?, field(2)? as usize, field(3)? as usize);
            let data = offset
                .checked_add(size)
                .and_then(|end| bytes.get(offset..end))
                .ok_or_else(|| malformed("extension section runs past the end of the file"))?;
            match tag {
                TAG_GENERATOR => generator = Some(String::from_utf8_lossy(data).into_owned()),
                TAG_GLIBC_HWCAPS => {
                    for chunk in data.chunks_exact(4) {
                        let at = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
                        let name = c_string(bytes, at as usize)
                            .ok_or_else(|| malformed("bad glibc-hwcaps name offset"))?;
                        hwcaps_names.push(String::from_utf8_lossy(name).into_owned());
                    }
                }
                _ => {}
            }
        }
    }

    let mut entries = Vec::with_capacity(nlibs);
    for chunk in bytes[HEADER_SIZE..table_end].chunks_exact(ENTRY_SIZE) {
        let word =
            |k: usize| u32::from_le_bytes([chunk[k], chunk[k + 1], chunk[k + 2], chunk[k + 3]]);
        let mut hwcap = [0u8; 8];
        hwcap.copy_from_slice(&chunk[16..24]);
        let hwcap = u64::from_le_bytes(hwcap);
        let text = |at: u32| {
            c_string(bytes, at as usize)
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .ok_or_else(|| malformed("string offset outside the file"))
        };
        let hwcaps_subdir = if hwcap & DL_CACHE_HWCAP_EXTENSION != 0 {
            hwcaps_names.get(hwcap as u32 as usize).cloned()
        } else {
            None
        };
        entries.push(LdCacheEntry {
            flags: word(0) as i32,
            soname: text(word(4))?,
            path: text(word(8))?,
            hwcap,
            hwcaps_subdir,
        });
    }
    Ok(ParsedLdCache { entries, generator })
}

// ---------------------------------------------------------------------------------------
// The tree as ldconfig sees it: symlinks resolved inside the root, plus the links it made.

struct View<'a, T: ?Sized> {
    tree: &'a T,
    /// Symlinks created (`Some(target)`) or deleted (`None`) so far, by resolved path.
    overlay: BTreeMap<String, Option<String>>,
}

impl<'a, T: LibraryTree + ?Sized> View<'a, T> {
    fn new(tree: &'a T) -> Self {
        View {
            tree,
            overlay: BTreeMap::new(),
        }
    }

    fn kind(&self, path: &str) -> Option<EntryKind> {
        if path == "/" {
            return Some(EntryKind::Dir);
        }
        match self.overlay.get(path) {
            Some(Some(_)) => Some(EntryKind::Symlink),
            Some(None) => None,
            None => self.tree.entry_kind(path),
        }
    }

    fn link(&self, path: &str) -> Option<String> {
        match self.overlay.get(path) {
            Some(target) => target.clone(),
            None => self.tree.read_link(path),
        }
    }

    /// The names in resolved directory `dir`, sorted (ldconfig sees readdir order, which no
    /// result depends on except in contrived cases).
    fn list(&self, dir: &str) -> Vec<String> {
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
    fn resolve(&self, path: &str, follow: bool) -> Option<String> {
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
    fn files_in(&self, dir: &str) -> Vec<String> {
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

fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

// ---------------------------------------------------------------------------------------
// ldconfig itself.

/// A directory to scan (`struct dir_entry`).
struct ScanDir {
    /// As written in the configuration (trimmed), used for the cache's paths.
    path: String,
    /// Resolved, the directory's identity (ldconfig compares device and inode).
    identity: String,
    /// Index into `Run::hwcaps` for `glibc-hwcaps/NAME` subdirectories.
    hwcaps: Option<usize>,
}

/// A library found in one directory (`struct dlib_entry`).
struct Dlib {
    name: String,
    soname: Vec<u8>,
    flag: i32,
    is_link: bool,
    isa_level: u32,
}

/// A cache entry before the file is written (`struct cache_entry`).
struct Record {
    soname: Vec<u8>,
    path: Vec<u8>,
    flags: i32,
    isa_level: u32,
    hwcaps: Option<usize>,
}

/// A `glibc-hwcaps` subdirectory name, interned when first seen (used or not).
struct Hwcaps {
    name: String,
    used: bool,
}

struct Run<'a, T: ?Sized> {
    view: View<'a, T>,
    arch: LdArch,
    dirs: Vec<ScanDir>,
    hwcaps: Vec<Hwcaps>,
    records: Vec<Record>,
    changes: Vec<LinkChange>,
}

impl<'a, T: LibraryTree + ?Sized> Run<'a, T> {
    fn new(tree: &'a T, arch: LdArch) -> Self {
        Run {
            view: View::new(tree),
            arch,
            dirs: Vec::new(),
            hwcaps: Vec::new(),
            records: Vec::new(),
            changes: Vec::new(),
        }
    }

    /// `parse_conf`: one configuration file, whole lines as directories (glibc 2.41 splits
    /// nothing and knows no `=libc6` suffix), `include GLOB...`, `hwcap` lines ignored.
    fn parse_conf(&mut self, file: &str, depth: usize) -> Result<(), LdCacheError> {
        if depth > MAX_INCLUDE_DEPTH {
            return Err(LdCacheError::IncludeTooDeep {
                file: file.to_owned(),
            });
        }
        let Some(resolved) = self.view.resolve(file, true) else {
            return Ok(());
        };
        if self.view.kind(&resolved) != Some(EntryKind::File) {
            return Ok(());
        }
        let Some(text) = self.view.tree.read_file(&resolved).map(Cow::into_owned) else {
            return Ok(());
        };
        for raw in text.split(|&b| b == b'\n') {
            let line = raw.split(|&b| b == 0).next().unwrap_or_default();
            let line = line.split(|&b| b == b'#').next().unwrap_or_default();
            let start = line
                .iter()
                .position(|&b| !is_c_space(b))
                .unwrap_or(line.len());
            let line = &line[start..];
            if line.is_empty() {
                continue;
            }
            if line.starts_with(b"include") && line.get(7).is_some_and(|&b| is_blank(b)) {
                for pattern in line[8..].split(|&b| is_blank(b)) {
                    if !pattern.is_empty() {
                        self.include(file, &String::from_utf8_lossy(pattern), depth)?;
                    }
                }
            } else if line.len() > 5
                && line[..5].eq_ignore_ascii_case(b"hwcap")
                && is_blank(line[5])
            {
                tracing::debug!(file, "ldconfig: hwcap directive ignored");
            } else {
                self.add_dir(&String::from_utf8_lossy(line));
            }
        }
        Ok(())
    }

    /// `parse_conf_include`: a glob, relative to the including file's directory.
    fn include(&mut self, config: &str, pattern: &str, depth: usize) -> Result<(), LdCacheError> {
        let pattern = if !pattern.starts_with('/') && config.contains('/') {
            format!("{}/{pattern}", dirname(config))
        } else {
            pattern.to_owned()
        };
        for file in glob(&self.view, &pattern) {
            self.parse_conf(&file, depth + 1)?;
        }
        Ok(())
    }

    /// `add_dir_1`: trims trailing blanks then slashes, drops missing and duplicate
    /// directories, and queues the directory's `glibc-hwcaps` subdirectories after it.
    fn add_dir(&mut self, line: &str) {
        let path = line
            .trim_end_matches(|c: char| c.is_ascii() && is_c_space(c as u8))
            .trim_end_matches('/');
        if path.is_empty() {
            return;
        }
        let Some(identity) = self.view.resolve(path, true) else {
            tracing::debug!(path, "ldconfig: cannot stat directory, skipped");
            return;
        };
        if self.dirs.iter().any(|d| d.identity == identity) {
            tracing::debug!(path, "ldconfig: directory given more than once");
            return;
        }
        self.dirs.push(ScanDir {
            path: path.to_owned(),
            identity: identity.clone(),
            hwcaps: None,
        });
        self.add_hwcaps_subdirs(path, &identity);
    }

    fn add_hwcaps_subdirs(&mut self, path: &str, identity: &str) {
        let Some(base) = self.view.resolve(&join(identity, "glibc-hwcaps"), true) else {
            return;
        };
        if self.view.kind(&base) != Some(EntryKind::Dir) {
            return;
        }
        for name in self.view.list(&base) {
            // Hidden entries, regular files and names the loader cannot look up.
            if name.starts_with('.') || name.contains(':') {
                continue;
            }
            let entry = join(&base, &name);
            if self.view.kind(&entry) == Some(EntryKind::File) {
                continue;
            }
            let Some(sub) = self.view.resolve(&entry, true) else {
                continue;
            };
            if self.view.kind(&sub) != Some(EntryKind::Dir) {
                continue;
            }
            let index = self.intern_hwcaps(&name);
            if !self.dirs.iter().any(|d| d.identity == sub) {
                self.dirs.push(ScanDir {
                    path: format!("{path}/glibc-hwcaps/{name}"),
                    identity: sub,
                    hwcaps: Some(index),
                });
            }
        }
    }

    fn intern_hwcaps(&mut self, name: &str) -> usize {
        if let Some(i) = self.hwcaps.iter().position(|h| h.name == name) {
            return i;
        }
        self.hwcaps.push(Hwcaps {
            name: name.to_owned(),
            used: false,
        });
        self.hwcaps.len() - 1
    }

    /// `search_dir`: finds the libraries of one directory, keeps one file per SONAME, makes
    /// the SONAME links and adds the survivors to the cache.
    fn search_dir(&mut self, index: usize) {
        let Some(scan) = self.dirs.get(index) else {
            return;
        };
        let (path, hwcaps) = (scan.path.clone(), scan.hwcaps);
        let Some(dir) = self.view.resolve(&path, true) else {
            return;
        };
        if self.view.kind(&dir) != Some(EntryKind::Dir) {
            return;
        }
        let signed = self.arch.char_is_signed();
        let mut dlibs: Vec<Dlib> = Vec::new();
        for name in self.view.list(&dir) {
            let full = join(&dir, &name);
            let Some(kind) = self.view.kind(&full) else {
                continue;
            };
            if kind == EntryKind::Other || !is_dso(&name) || is_prelink_temp(&name) {
                continue;
            }
            let mut is_link = kind == EntryKind::Symlink;
            let target = if is_link {
                match self.view.resolve(&full, true) {
                    Some(target) => target,
                    None => {
                        // Dangling: ldconfig deletes it when it looks like a versioned DSO.
                        if name.contains(".so.") {
                            self.view.overlay.insert(full.clone(), None);
                            self.changes.push(LinkChange::RemoveStale { path: full });
                        }
                        continue;
                    }
                }
            } else if kind == EntryKind::File {
                full.clone()
            } else {
                continue;
            };
            if self.view.kind(&target) != Some(EntryKind::File) {
                continue;
            }
            let info = match self.view.tree.read_file(&target) {
                Some(data) => process_file(&data, name.as_bytes(), self.arch),
                None => continue,
            };
            let info = match info {
                Ok(info) => info,
                Err(why) => {
                    tracing::debug!(file = %full, ?why, "ldconfig: not a library, skipped");
                    continue;
                }
            };
            let mut soname = info.soname.unwrap_or_else(|| name.as_bytes().to_vec());
            // A link counts as a link only when named after the SONAME or as its `.so`
            // development link; any other link is treated like another file.
            if is_link && soname != name.as_bytes() {
                let n = name.as_bytes();
                if !(n.len() >= 3 && n.ends_with(b".so") && soname.starts_with(n)) {
                    is_link = false;
                }
            }
            if is_link {
                soname = name.as_bytes().to_vec();
            }
            match dlibs.iter_mut().find(|d| d.soname == soname) {
                Some(known) => {
                    let newer = (!is_link && known.is_link)
                        || (is_link == known.is_link
                            && libcmp(known.name.as_bytes(), name.as_bytes(), signed) < 0);
                    if newer {
                        if known.flag != info.flag {
                            let old_is_libc = matches!(known.flag, FLAG_ELF_LIBC5 | FLAG_ELF_LIBC6);
                            let new_is_libc = matches!(info.flag, FLAG_ELF_LIBC5 | FLAG_ELF_LIBC6);
                            if (known.flag == FLAG_ELF && new_is_libc)
                                || (old_is_libc && info.flag == FLAG_ELF)
                            {
                                known.flag = info.flag;
                            } else {
                                tracing::warn!(
                                    dir = %path, first = %known.name, second = %name,
                                    "ldconfig: libraries have the same soname but different type"
                                );
                            }
                        }
                        known.name = name;
                        known.is_link = is_link;
                        known.isa_level = info.isa_level;
                    }
                }
                None => dlibs.push(Dlib {
                    name,
                    soname,
                    flag: info.flag,
                    is_link,
                    isa_level: info.isa_level,
                }),
            }
        }
        // ldconfig keeps its list newest-first.
        for dlib in dlibs.iter().rev() {
            let file_name: &[u8] = if hwcaps.is_none() {
                if !dlib.is_link {
                    self.create_links(&dir, &dlib.name, &dlib.soname);
                }
                &dlib.soname
            } else {
                dlib.name.as_bytes()
            };
            let mut entry_path = path.as_bytes().to_vec();
            entry_path.push(b'/');
            entry_path.extend_from_slice(file_name);
            if let Some(h) = hwcaps.and_then(|h| self.hwcaps.get_mut(h)) {
                h.used = true;
            }
            let record = Record {
                soname: dlib.soname.clone(),
                path: entry_path,
                flags: dlib.flag,
                isa_level: dlib.isa_level,
                hwcaps,
            };
            self.insert(record);
        }
    }

    /// `create_links`: makes `dir/SONAME` a symlink to the chosen file unless it already
    /// resolves to it or is not a symlink.
    fn create_links(&mut self, dir: &str, lib: &str, soname: &[u8]) {
        let Ok(soname) = std::str::from_utf8(soname) else {
            return;
        };
        // ldconfig would write wherever a hostile SONAME points; rapko does not.
        if soname.is_empty() || soname.contains('/') || soname == "." || soname == ".." {
            tracing::warn!(
                dir,
                lib,
                soname,
                "ldconfig: no link for a SONAME that is not a file name"
            );
            return;
        }
        let link = join(dir, soname);
        let replace = match self.view.resolve(&link, true) {
            Some(current) => {
                let Some(wanted) = self.view.resolve(&join(dir, lib), true) else {
                    return;
                };
                if current == wanted {
                    return;
                }
                if self.view.kind(&link) != Some(EntryKind::Symlink) {
                    tracing::warn!(path = %link, "ldconfig: is not a symbolic link, left alone");
                    return;
                }
                true
            }
            None => self.view.kind(&link) == Some(EntryKind::Symlink),
        };
        self.view.overlay.insert(link.clone(), Some(lib.to_owned()));
        let target = lib.to_owned();
        self.changes.push(if replace {
            LinkChange::Replace { path: link, target }
        } else {
            LinkChange::Create { path: link, target }
        });
    }

    /// `add_to_cache`: inserts after every entry that does not sort after it.
    fn insert(&mut self, record: Record) {
        let signed = self.arch.char_is_signed();
        let at = self
            .records
            .iter()
            .position(|r| compare(r, &record, &self.hwcaps, signed) > 0)
            .unwrap_or(self.records.len());
        self.records.insert(at, record);
    }

    /// The generator string of the tree's own `ldconfig`, if it has one.
    fn tree_generator(&self) -> String {
        LDCONFIG_PATHS
            .iter()
            .filter_map(|p| self.view.resolve(p, true))
            .filter(|p| self.view.kind(p) == Some(EntryKind::File))
            .find_map(|p| ldconfig_generator(&self.view.tree.read_file(&p)?))
            .unwrap_or_else(|| DEFAULT_GENERATOR.to_owned())
    }
}

/// The cache's order (`compare` in glibc's cache.c): SONAMEs descending by
/// `_dl_cache_libcmp`, then higher flags first, glibc-hwcaps entries before the others and
/// among themselves by subdirectory name.
fn compare(a: &Record, b: &Record, hwcaps: &[Hwcaps], signed: bool) -> i32 {
    let res = libcmp(&b.soname, &a.soname, signed);
    if res != 0 {
        return res;
    }
    if a.flags < b.flags {
        return 1;
    }
    if a.flags > b.flags {
        return -1;
    }
    match (a.hwcaps, b.hwcaps) {
        (Some(_), None) => -1,
        (None, Some(_)) => 1,
        (Some(x), Some(y)) => {
            let name = |i: usize| hwcaps.get(i).map(|h| h.name.as_bytes()).unwrap_or_default();
            match name(x).cmp(name(y)) {
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
                std::cmp::Ordering::Greater => 1,
            }
        }
        (None, None) => 0,
    }
}

/// glibc's `_dl_cache_libcmp`: like `strcmp`, but runs of digits compare as numbers (in C
/// `int`, overflow wrapping), and a digit sorts after a non-digit.
fn libcmp(a: &[u8], b: &[u8], signed: bool) -> i32 {
    let at = |s: &[u8], i: usize| -> i32 {
        match s.get(i) {
            Some(&c) if signed => i32::from(c as i8),
            Some(&c) => i32::from(c),
            None => 0,
        }
    };
    let digit = |c: i32| (i32::from(b'0')..=i32::from(b'9')).contains(&c);
    let zero = i32::from(b'0');
    let (mut i, mut j) = (0, 0);
    loop {
        let c1 = at(a, i);
        if c1 == 0 {
            break;
        }
        let c2 = at(b, j);
        if digit(c1) {
            if !digit(c2) {
                return 1;
            }
            let mut v1 = c1 - zero;
            let mut v2 = c2 - zero;
            i += 1;
            j += 1;
            while digit(at(a, i)) {
                v1 = v1.wrapping_mul(10).wrapping_add(at(a, i) - zero);
                i += 1;
            }
            while digit(at(b, j)) {
                v2 = v2.wrapping_mul(10).wrapping_add(at(b, j) - zero);
                j += 1;
            }
            if v1 != v2 {
                return v1.wrapping_sub(v2);
            }
        } else if digit(c2) {
            return -1;
        } else if c1 != c2 {
            return c1 - c2;
        } else {
            i += 1;
            j += 1;
        }
    }
    at(a, i) - at(b, j)
}

/// `_dl_is_dso`: `lib*.so*`, `ld-*.so*`, `ld.so.*` and `ld64.so.*`.
fn is_dso(name: &str) -> bool {
    ((name.starts_with("lib") || name.starts_with("ld-")) && name.contains(".so"))
        || name.starts_with("ld.so.")
        || name.starts_with("ld64.so.")
}

/// Temporary files of the prelink program: `*.#prelink#` and `*.#prelink#.XXXXXX`.
fn is_prelink_temp(name: &str) -> bool {
    let n = name.as_bytes();
    n.ends_with(b".#prelink#") || (n.len() >= 17 && n[n.len() - 17..].starts_with(b".#prelink#."))
}

fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn dirname(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rfind('/') {
        None => ".",
        Some(0) => "/",
        Some(i) => trimmed[..i].trim_end_matches('/'),
    }
}

// ---------------------------------------------------------------------------------------
// glob(3) for `include` lines: `*`, `?`, `[...]`, sorted, no leading-dot matches.

fn glob<T: LibraryTree + ?Sized>(view: &View<'_, T>, pattern: &str) -> Vec<String> {
    let mut candidates = vec![if pattern.starts_with('/') {
        "/".to_owned()
    } else {
        String::new()
    }];
    for component in pattern.split('/').filter(|c| !c.is_empty()) {
        let mut next = Vec::new();
        for base in &candidates {
            if has_magic(component) {
                let dir = if base.is_empty() { "/" } else { base.as_str() };
                let Some(dir) = view.resolve(dir, true) else {
                    continue;
                };
                if view.kind(&dir) != Some(EntryKind::Dir) {
                    continue;
                }
                for name in view.list(&dir) {
                    if fnmatch(component, &name) {
                        next.push(glob_join(base, &name));
                    }
                }
            } else {
                next.push(glob_join(base, &unescape(component)));
            }
        }
        candidates = next;
    }
    candidates.retain(|p| !p.is_empty() && view.resolve(p, true).is_some());
    candidates.sort();
    candidates.dedup();
    candidates
}

fn glob_join(base: &str, name: &str) -> String {
    if base.is_empty() {
        name.to_owned()
    } else {
        join(base, name)
    }
}

fn has_magic(component: &str) -> bool {
    component.contains(['*', '?'])
        || component
            .find('[')
            .is_some_and(|open| component[open + 1..].contains(']'))
}

fn unescape(component: &str) -> String {
    let mut out = String::with_capacity(component.len());
    let mut chars = component.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `fnmatch(pattern, name, FNM_PERIOD)`.
fn fnmatch(pattern: &str, name: &str) -> bool {
    let (p, s) = (pattern.as_bytes(), name.as_bytes());
    if s.first() == Some(&b'.') && !(p.first() == Some(&b'.') || p.starts_with(b"\\.")) {
        return false;
    }
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if p.get(pi) == Some(&b'*') {
            star = Some((pi, si));
            pi += 1;
            continue;
        }
        if pi < p.len() && si < s.len() {
            if let Some(len) = match_one(p, pi, s[si]) {
                pi += len;
                si += 1;
                continue;
            }
        } else if pi == p.len() && si == s.len() {
            return true;
        }
        match star {
            Some((sp, ss)) if ss < s.len() => {
                star = Some((sp, ss + 1));
                pi = sp + 1;
                si = ss + 1;
            }
            _ => return false,
        }
    }
}

/// Matches the pattern token at `p[pi]` against `c`; the token's length when it matches.
fn match_one(p: &[u8], pi: usize, c: u8) -> Option<usize> {
    match p.get(pi)? {
        b'?' => Some(1),
        b'[' => match bracket(p, pi, c) {
            Some((true, len)) => Some(len),
            Some((false, _)) => None,
            None => (c == b'[').then_some(1),
        },
        b'\\' if pi + 1 < p.len() => (p[pi + 1] == c).then_some(2),
        &x => (x == c).then_some(1),
    }
}

/// A bracket expression at `p[start]`: whether `c` matches, and the expression's length;
/// `None` when it is not terminated (then `[` is literal).
fn bracket(p: &[u8], start: usize, c: u8) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let b = *p.get(i)?;
        if b == b']' && !first {
            return Some((matched != negate, i + 1 - start));
        }
        first = false;
        let class_end = (b == b'[' && p.get(i + 1) == Some(&b':'))
            .then(|| find(&p[i + 2..], b":]"))
            .flatten();
        if let Some(end) = class_end {
            matched |= class_matches(&p[i + 2..i + 2 + end], c);
            i += 2 + end + 2;
            continue;
        }
        let (lo, len) = match (b, p.get(i + 1)) {
            (b'\\', Some(&next)) => (next, 2),
            _ => (b, 1),
        };
        i += len;
        if p.get(i) == Some(&b'-') && p.get(i + 1).is_some_and(|&x| x != b']') {
            let (hi, len) = match (p.get(i + 1), p.get(i + 2)) {
                (Some(b'\\'), Some(&next)) => (next, 3),
                (Some(&x), _) => (x, 2),
                (None, _) => return None,
            };
            i += len;
            matched |= lo <= c && c <= hi;
        } else {
            matched |= lo == c;
        }
    }
}

fn class_matches(class: &[u8], c: u8) -> bool {
    match class {
        b"alpha" => c.is_ascii_alphabetic(),
        b"digit" => c.is_ascii_digit(),
        b"alnum" => c.is_ascii_alphanumeric(),
        b"upper" => c.is_ascii_uppercase(),
        b"lower" => c.is_ascii_lowercase(),
        b"space" => is_c_space(c),
        b"blank" => is_blank(c),
        b"punct" => c.is_ascii_punctuation(),
        b"xdigit" => c.is_ascii_hexdigit(),
        b"cntrl" => c.is_ascii_control(),
        b"graph" => c.is_ascii_graphic(),
        b"print" => c.is_ascii_graphic() || c == b' ',
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------
// Reading libraries (glibc's readlib.c / readelflib.c, per architecture).

/// What `process_file` learns about a library.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LibInfo {
    flag: i32,
    isa_level: u32,
    soname: Option<Vec<u8>>,
}

/// Why a file is not a library `ldconfig` would cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Skip {
    TooSmall,
    NotElf,
    NotShared,
    WrongClass,
    UnknownMachine(u16),
    /// A header, table or string lies (partly) outside the file.
    Truncated,
    NoDynamic,
    NoStringTable,
}

const EM_386: u16 = 3;
const EM_X86_64: u16 = 62;
const ET_DYN: u16 = 3;
const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const PT_GNU_PROPERTY: u32 = 0x6474_e553;
const DT_NULL: u64 = 0;
const DT_STRTAB: u64 = 5;
const DT_SONAME: u64 = 14;
const NT_GNU_PROPERTY_TYPE_0: u32 = 5;
const GNU_PROPERTY_X86_ISA_1_NEEDED: u32 = 0xc000_8002;
const EF_ARM_EABIMASK: u32 = 0xff00_0000;
const EF_ARM_EABI_VER5: u32 = 0x0500_0000;
const EF_ARM_ABI_FLOAT_SOFT: u32 = 0x200;
const EF_ARM_ABI_FLOAT_HARD: u32 = 0x400;

/// `process_file` + the architecture's `process_elf_file`.
fn process_file(data: &[u8], name: &[u8], arch: LdArch) -> Result<LibInfo, Skip> {
    // ldconfig is a 64-bit program: files shorter than an Elf64_Ehdr are never looked at.
    if data.len() < 64 {
        return Err(Skip::TooSmall);
    }
    // a.out libraries (ZMAGIC, QMAGIC) are still recognised: no SONAME, the name up to the
    // major version stands for it.
    let a_magic = le_u16(data, 0).ok_or(Skip::TooSmall)?;
    if a_magic == 0o413 || a_magic == 0o314 {
        let mut soname = name.to_vec();
        let cut = find(&soname, b".so.").and_then(|major| {
            let dot = soname[major + 4..].iter().position(|&b| b == b'.')?;
            Some(major + 4 + dot)
        });
        if let Some(cut) = cut {
            soname.truncate(cut);
        }
        return Ok(LibInfo {
            flag: FLAG_ELF_LIBC6,
            isa_level: 0,
            soname: Some(soname),
        });
    }
    if !data.starts_with(b"\x7fELF") {
        return Err(Skip::NotElf);
    }
    if le_u16(data, 16) != Some(ET_DYN) {
        return Err(Skip::NotShared);
    }
    let machine = le_u16(data, 18).ok_or(Skip::Truncated)?;
    let class = data[4];
    match arch {
        LdArch::X86_64 => {
            let file_flag = match machine {
                EM_X86_64 if class == 2 => FLAG_X8664_LIB64 | FLAG_ELF_LIBC6,
                EM_X86_64 => FLAG_X8664_LIBX32 | FLAG_ELF_LIBC6,
                EM_386 if class == 1 => 0,
                other => return Err(Skip::UnknownMachine(other)),
            };
            let mut info = read_elf(data, class != 1, true)?;
            if file_flag != 0 {
                info.flag = file_flag;
            }
            Ok(info)
        }
        LdArch::Aarch64 => {
            if class == 1 {
                let mut info = read_elf(data, false, false)?;
                let e_flags = le_u32(data, 36).ok_or(Skip::Truncated)?;
                if e_flags & EF_ARM_EABIMASK == EF_ARM_EABI_VER5 {
                    info.flag = if e_flags & EF_ARM_ABI_FLOAT_HARD != 0 {
                        FLAG_ARM_LIBHF | FLAG_ELF_LIBC6
                    } else if e_flags & EF_ARM_ABI_FLOAT_SOFT != 0 {
                        FLAG_ARM_LIBSF | FLAG_ELF_LIBC6
                    } else {
                        FLAG_ELF_LIBC6
                    };
                }
                Ok(info)
            } else {
                // Any 64-bit ELF counts as AArch64: glibc does not look at e_machine here.
                let mut info = read_elf(data, true, false)?;
                info.flag = FLAG_AARCH64_LIB64 | FLAG_ELF_LIBC6;
                Ok(info)
            }
        }
    }
}

/// One program header, widened to 64 bits.
struct Phdr {
    p_type: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
    align: u64,
}

/// Little-endian ELF fields of one class.
struct Elf<'a> {
    data: &'a [u8],
    wide: bool,
}

impl Elf<'_> {
    fn word(&self, at: u64) -> Result<u64, Skip> {
        let at = usize::try_from(at).map_err(|_| Skip::Truncated)?;
        if self.wide {
            le_u64(self.data, at)
        } else {
            le_u32(self.data, at).map(u64::from)
        }
        .ok_or(Skip::Truncated)
    }

    fn half(&self, at: usize) -> Result<u64, Skip> {
        le_u16(self.data, at).map(u64::from).ok_or(Skip::Truncated)
    }

    fn u32_at(&self, at: u64) -> Result<u32, Skip> {
        let at = usize::try_from(at).map_err(|_| Skip::Truncated)?;
        le_u32(self.data, at).ok_or(Skip::Truncated)
    }

    fn phdr(&self, at: u64) -> Result<Phdr, Skip> {
        if self.wide {
            Ok(Phdr {
                p_type: self.u32_at(at)?,
                offset: self.word(at + 8)?,
                vaddr: self.word(at + 16)?,
                filesz: self.word(at + 32)?,
                align: self.word(at + 48)?,
            })
        } else {
            Ok(Phdr {
                p_type: self.u32_at(at)?,
                offset: self.word(at + 4)?,
                vaddr: self.word(at + 8)?,
                filesz: self.word(at + 16)?,
                align: self.word(at + 28)?,
            })
        }
    }

    /// `(d_tag, d_val)` of the dynamic entry at `at`.
    fn dyn_entry(&self, at: u64) -> Result<(u64, u64), Skip> {
        let size = if self.wide { 8 } else { 4 };
        Ok((self.word(at)?, self.word(at + size)?))
    }
}

/// The generic `process_elf_file` for one ELF class: finds `DT_SONAME` through the
/// `PT_DYNAMIC` segment and, on x86, the ISA level from the GNU property note.
fn read_elf(data: &[u8], wide: bool, x86: bool) -> Result<LibInfo, Skip> {
    if data[4] != if wide { 2 } else { 1 } {
        return Err(Skip::WrongClass);
    }
    let elf = Elf { data, wide };
    let len = data.len() as u64;
    let (phoff, phnum, phsize) = if wide {
        (elf.word(32)?, elf.half(56)?, 56u64)
    } else {
        (elf.word(28)?, elf.half(44)?, 32u64)
    };
    if phoff > len {
        return Err(Skip::Truncated);
    }
    let mut phdrs = Vec::with_capacity(phnum as usize);
    for i in 0..phnum {
        let at = phoff.checked_add(i * phsize).ok_or(Skip::Truncated)?;
        phdrs.push(elf.phdr(at)?);
    }

    let mut isa_level = 0;
    // glibc keeps the dynamic segment's offset in an `unsigned int`.
    let mut dynamic_addr: u32 = 0;
    let mut dynamic_size: u64 = 0;
    for ph in &phdrs {
        match ph.p_type {
            PT_DYNAMIC => {
                dynamic_addr = ph.offset as u32;
                dynamic_size = ph.filesz;
            }
            PT_INTERP | PT_GNU_PROPERTY => {
                // (In glibc the PT_INTERP case falls through into the property one.)
                if ph.p_type == PT_INTERP && ph.offset > len {
                    return Err(Skip::Truncated);
                }
                let word_size = if wide { 8 } else { 4 };
                let level = (x86 && ph.align == word_size)
                    .then(|| x86_isa_level(data, ph, word_size))
                    .flatten();
                if let Some(level) = level {
                    isa_level = level;
                }
            }
            _ => {}
        }
    }
    if dynamic_size == 0 {
        return Err(Skip::NoDynamic);
    }
    let dyn_start = u64::from(dynamic_addr);
    if dyn_start > len {
        return Err(Skip::Truncated);
    }
    let dyn_size = if wide { 16 } else { 8 };
    let entry_at = |k: u64| -> Result<u64, Skip> {
        k.checked_mul(dyn_size)
            .and_then(|o| o.checked_add(dyn_start))
            .ok_or(Skip::Truncated)
    };

    let mut strings: Option<u64> = None;
    let mut k = 0;
    loop {
        let (tag, val) = elf.dyn_entry(entry_at(k)?)?;
        if tag == DT_NULL {
            break;
        }
        if tag == DT_STRTAB {
            // The file offset of the string table, from the PT_LOAD segment holding it.
            let mask = if wide { u64::MAX } else { u64::from(u32::MAX) };
            let loadoff = phdrs
                .iter()
                .find(|ph| ph.p_type == PT_LOAD && val >= ph.vaddr && val - ph.vaddr < ph.filesz)
                .map(|ph| ph.vaddr.wrapping_sub(ph.offset) & mask)
                .filter(|&off| off != mask)
                .unwrap_or(0);
            let offset = if wide {
                Some(val.wrapping_sub(loadoff))
            } else {
                val.checked_sub(loadoff)
            };
            strings = Some(offset.filter(|&o| o <= len).ok_or(Skip::Truncated)?);
            break;
        }
        k += 1;
    }
    let strings = strings.ok_or(Skip::NoStringTable)?;

    let mut k = 0;
    loop {
        let (tag, val) = elf.dyn_entry(entry_at(k)?)?;
        if tag == DT_NULL {
            break;
        }
        if tag == DT_SONAME {
            let at = if wide {
                strings.wrapping_add(val)
            } else {
                strings.checked_add(val).ok_or(Skip::Truncated)?
            };
            let at = usize::try_from(at).map_err(|_| Skip::Truncated)?;
            let name = c_string(data, at).ok_or(Skip::Truncated)?;
            return Ok(LibInfo {
                flag: FLAG_ELF_LIBC6,
                isa_level,
                soname: Some(name.to_vec()),
            });
        }
        k += 1;
    }
    Ok(LibInfo {
        flag: FLAG_ELF_LIBC6,
        isa_level,
        soname: None,
    })
}

/// The x86 ISA level a library needs (`GNU_PROPERTY_X86_ISA_1_NEEDED`, highest bit set),
/// read from the first NT_GNU_PROPERTY_TYPE_0 note of a segment the way glibc does.
fn x86_isa_level(data: &[u8], ph: &Phdr, word_size: u64) -> Option<u32> {
    let read = |at: u64| le_u32(data, usize::try_from(at).ok()?);
    let align_up = |v: u64, a: u64| v.checked_add(a - 1).map(|x| x & !(a - 1));
    let mut rel: u64 = 0;
    while rel.checked_add(12)? < ph.filesz {
        let note = ph.offset.checked_add(rel)?;
        let (namesz, descsz, ntype) = (read(note)?, read(note + 4)?, read(note + 8)?);
        if namesz == 4 && ntype == NT_GNU_PROPERTY_TYPE_0 && read(note + 12)? == 0x0055_4e47 {
            if descsz < 8 || u64::from(descsz) % word_size != 0 {
                return None;
            }
            let mut ptr = note + 16;
            let end = ptr + u64::from(descsz);
            let mut last_type = 0;
            loop {
                let (pr_type, datasz) = (read(ptr)?, read(ptr + 4)?);
                if pr_type < last_type {
                    return None;
                }
                ptr += 8;
                if ptr + u64::from(datasz) > end {
                    return None;
                }
                last_type = pr_type;
                // x86's read_gnu_property: stop at or after the ISA property.
                if pr_type > GNU_PROPERTY_X86_ISA_1_NEEDED {
                    return None;
                }
                if pr_type == GNU_PROPERTY_X86_ISA_1_NEEDED {
                    if datasz == 4 {
                        let needed = read(ptr)?;
                        if needed != 0 {
                            return Some(31 - needed.leading_zeros());
                        }
                    }
                    return None;
                }
                ptr = ptr.checked_add(align_up(u64::from(datasz), word_size)?)?;
                if end < ptr || end - ptr < 8 {
                    return None;
                }
            }
        }
        let desc = align_up(12 + u64::from(namesz), ph.align)?;
        rel = rel.checked_add(align_up(desc + u64::from(descsz), ph.align)?)?;
    }
    None
}

// ---------------------------------------------------------------------------------------
// Writing the cache (glibc's cache.c save_cache and stringtable.c).

/// The string table: every string once, sorted so that a string that is the tail of another
/// follows it and shares its bytes. Returns the table and each string's offset.
fn string_table(strings: &BTreeSet<Vec<u8>>) -> (Vec<u8>, HashMap<&[u8], usize>) {
    let mut sorted: Vec<&[u8]> = strings.iter().map(Vec::as_slice).collect();
    // Reversed strings in descending order: a longer string precedes its suffixes.
    sorted.sort_by(|l, r| r.iter().rev().cmp(l.iter().rev()));
    let mut offsets = HashMap::with_capacity(sorted.len());
    let mut size = 0;
    let mut previous: Option<(&[u8], usize)> = None;
    for &s in &sorted {
        let offset = match previous {
            None => 0,
            Some((prev, off)) if prev.len() >= s.len() && prev.ends_with(s) => {
                off + prev.len() - s.len()
            }
            Some((prev, off)) => off + prev.len() + 1,
        };
        offsets.insert(s, offset);
        size = size.max(offset + s.len() + 1);
        previous = Some((s, offset));
    }
    let mut table = vec![0u8; size];
    for (&s, &offset) in &offsets {
        table[offset..offset + s.len()].copy_from_slice(s);
    }
    (table, offsets)
}

fn assemble(
    records: &[Record],
    hwcaps: &[Hwcaps],
    generator: &[u8],
) -> Result<Vec<u8>, LdCacheError> {
    let too_large = |what| LdCacheError::TooLarge { what };
    let to_u32 = |v: usize, what| u32::try_from(v).map_err(|_| too_large(what));

    let mut strings: BTreeSet<Vec<u8>> = BTreeSet::new();
    for r in records {
        strings.insert(r.soname.clone());
        strings.insert(r.path.clone());
    }
    // Every glibc-hwcaps name met is interned, even when no library came from it.
    for h in hwcaps {
        strings.insert(h.name.as_bytes().to_vec());
    }
    let (table, offsets) = string_table(&strings);
    let offset_of = |s: &[u8]| offsets.get(s).copied().unwrap_or_default();

    // Used subdirectories are numbered in name order.
    let mut used: Vec<usize> = (0..hwcaps.len()).filter(|&i| hwcaps[i].used).collect();
    used.sort_by(|&a, &b| hwcaps[a].name.as_bytes().cmp(hwcaps[b].name.as_bytes()));
    let mut section_index = vec![0u32; hwcaps.len()];
    for (index, &h) in used.iter().enumerate() {
        section_index[h] = to_u32(index, "glibc-hwcaps subdirectories")?;
    }

    let strings_start = records
        .len()
        .checked_mul(ENTRY_SIZE)
        .and_then(|n| n.checked_add(HEADER_SIZE))
        .ok_or_else(|| too_large("entries"))?;
    let str_offset = to_u32(strings_start, "entries")?;
    let strings_end = strings_start
        .checked_add(table.len())
        .ok_or_else(|| too_large("strings"))?;
    let extension_offset = strings_end
        .checked_add(3)
        .map(|v| v & !3)
        .ok_or_else(|| too_large("strings"))?;
    let sections = if used.is_empty() { 1 } else { 2 };
    let hwcaps_offset = extension_offset + EXTENSION_HEADER_SIZE + 2 * EXTENSION_SECTION_SIZE;
    let hwcaps_size = 4 * used.len();
    let generator_offset = if used.is_empty() {
        extension_offset + EXTENSION_HEADER_SIZE + EXTENSION_SECTION_SIZE
    } else {
        hwcaps_offset + hwcaps_size
    };
    let total = generator_offset + generator.len();
    to_u32(total, "file size")?;

    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(CACHE_MAGIC);
    out.extend_from_slice(&to_u32(records.len(), "entries")?.to_le_bytes());
    out.extend_from_slice(&to_u32(table.len(), "strings")?.to_le_bytes());
    out.push(ENDIAN_LITTLE);
    out.extend_from_slice(&[0; 3]);
    out.extend_from_slice(&to_u32(extension_offset, "strings")?.to_le_bytes());
    out.extend_from_slice(&[0; 12]);
    for r in records {
        let hwcap = match r.hwcaps {
            None => 0,
            Some(h) => {
                DL_CACHE_HWCAP_EXTENSION
                    | (u64::from(r.isa_level) << 32)
                    | u64::from(section_index.get(h).copied().unwrap_or_default())
            }
        };
        let key = str_offset + to_u32(offset_of(&r.soname), "strings")?;
        let value = str_offset + to_u32(offset_of(&r.path), "strings")?;
        out.extend_from_slice(&r.flags.to_le_bytes());
        out.extend_from_slice(&key.to_le_bytes());
        out.extend_from_slice(&value.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes()); // osversion, unused since glibc 2.37
        out.extend_from_slice(&hwcap.to_le_bytes());
    }
    out.extend_from_slice(&table);
    out.resize(extension_offset, 0);

    out.extend_from_slice(&EXTENSION_MAGIC.to_le_bytes());
    out.extend_from_slice(&to_u32(sections, "extension")?.to_le_bytes());
    for word in [TAG_GENERATOR, 0, to_u32(generator_offset, "extension")?] {
        out.extend_from_slice(&word.to_le_bytes());
    }
    out.extend_from_slice(&to_u32(generator.len(), "generator")?.to_le_bytes());
    if !used.is_empty() {
        for word in [
            TAG_GLIBC_HWCAPS,
            0,
            to_u32(hwcaps_offset, "extension")?,
            to_u32(hwcaps_size, "extension")?,
        ] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        for &h in &used {
            let at = str_offset + to_u32(offset_of(hwcaps[h].name.as_bytes()), "strings")?;
            out.extend_from_slice(&at.to_le_bytes());
        }
    }
    out.extend_from_slice(generator);
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Bytes.

fn le_u16(data: &[u8], at: usize) -> Option<u16> {
    let b = data.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn le_u32(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn le_u64(data: &[u8], at: usize) -> Option<u64> {
    let b = data.get(at..at.checked_add(8)?)?;
    let mut word = [0u8; 8];
    word.copy_from_slice(b);
    Some(u64::from_le_bytes(word))
}

/// The NUL-terminated string at `at` (without the NUL); `None` if it is not terminated
/// inside `data`.
fn c_string(data: &[u8], at: usize) -> Option<&[u8]> {
    let rest = data.get(at..)?;
    let end = rest.iter().position(|&b| b == 0)?;
    Some(&rest[..end])
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{DefaultHasher, Hash, Hasher};
    use std::path::{Path, PathBuf};
    use std::process::Command;

    // ----- trees -------------------------------------------------------------------------

    enum MemNode {
        Dir,
        File(Vec<u8>),
        Link(String),
    }

    /// A tree in memory, for tests that need no tools.
    #[derive(Default)]
    struct MemTree {
        nodes: BTreeMap<String, MemNode>,
    }

    impl LibraryTree for MemTree {
        fn entry_kind(&self, path: &str) -> Option<EntryKind> {
            Some(match self.nodes.get(path)? {
                MemNode::Dir => EntryKind::Dir,
                MemNode::File(_) => EntryKind::File,
                MemNode::Link(_) => EntryKind::Symlink,
            })
        }
        fn read_link(&self, path: &str) -> Option<String> {
            match self.nodes.get(path)? {
                MemNode::Link(t) => Some(t.clone()),
                _ => None,
            }
        }
        fn list_dir(&self, dir: &str) -> Vec<String> {
            let prefix = if dir == "/" {
                "/".to_owned()
            } else {
                format!("{dir}/")
            };
            self.nodes
                .range(prefix.clone()..)
                .take_while(|(p, _)| p.starts_with(&prefix))
                .filter_map(|(p, _)| {
                    let rest = &p[prefix.len()..];
                    (!rest.is_empty() && !rest.contains('/')).then(|| rest.to_owned())
                })
                .collect()
        }
        fn read_file(&self, path: &str) -> Option<Cow<'_, [u8]>> {
            match self.nodes.get(path)? {
                MemNode::File(data) => Some(Cow::Borrowed(data)),
                _ => None,
            }
        }
    }

    /// A real directory standing for `/`.
    struct RealTree {
        root: PathBuf,
    }

    impl RealTree {
        fn host(&self, path: &str) -> PathBuf {
            self.root.join(path.trim_start_matches('/'))
        }
    }

    impl LibraryTree for RealTree {
        fn entry_kind(&self, path: &str) -> Option<EntryKind> {
            let t = std::fs::symlink_metadata(self.host(path)).ok()?.file_type();
            Some(if t.is_symlink() {
                EntryKind::Symlink
            } else if t.is_dir() {
                EntryKind::Dir
            } else if t.is_file() {
                EntryKind::File
            } else {
                EntryKind::Other
            })
        }
        fn read_link(&self, path: &str) -> Option<String> {
            Some(
                std::fs::read_link(self.host(path))
                    .ok()?
                    .to_str()?
                    .to_owned(),
            )
        }
        fn list_dir(&self, dir: &str) -> Vec<String> {
            let Ok(entries) = std::fs::read_dir(self.host(dir)) else {
                return Vec::new();
            };
            entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect()
        }
        fn read_file(&self, path: &str) -> Option<Cow<'_, [u8]>> {
            std::fs::read(self.host(path)).ok().map(Cow::Owned)
        }
    }

    /// Somewhere to lay a test tree out: in memory, on disk, or in rapko's own tree.
    trait Sink {
        fn file(&mut self, path: &str, data: &[u8]);
        fn link(&mut self, path: &str, target: &str);
        fn dir(&mut self, path: &str);
        fn hardlink(&mut self, path: &str, existing: &str);
    }

    impl MemTree {
        fn parents(&mut self, path: &str) {
            let mut at = 0;
            while let Some(pos) = path[at + 1..].find('/') {
                at += pos + 1;
                self.nodes
                    .entry(path[..at].to_owned())
                    .or_insert(MemNode::Dir);
            }
        }
    }

    impl Sink for MemTree {
        fn file(&mut self, path: &str, data: &[u8]) {
            self.parents(path);
            self.nodes
                .insert(path.to_owned(), MemNode::File(data.to_vec()));
        }
        fn link(&mut self, path: &str, target: &str) {
            self.parents(path);
            self.nodes
                .insert(path.to_owned(), MemNode::Link(target.to_owned()));
        }
        fn dir(&mut self, path: &str) {
            self.parents(path);
            self.nodes.insert(path.to_owned(), MemNode::Dir);
        }
        fn hardlink(&mut self, path: &str, existing: &str) {
            let data = match self.nodes.get(existing) {
                Some(MemNode::File(d)) => d.clone(),
                _ => panic!("{existing} is not a file"),
            };
            self.file(path, &data);
        }
    }

    struct DiskSink(PathBuf);

    impl DiskSink {
        fn host(&self, path: &str) -> PathBuf {
            let p = self.0.join(path.trim_start_matches('/'));
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).expect("create parent");
            }
            p
        }
    }

    impl Sink for DiskSink {
        fn file(&mut self, path: &str, data: &[u8]) {
            std::fs::write(self.host(path), data).expect("write file");
        }
        fn link(&mut self, path: &str, target: &str) {
            std::os::unix::fs::symlink(target, self.host(path)).expect("symlink");
        }
        fn dir(&mut self, path: &str) {
            std::fs::create_dir_all(self.host(path)).expect("mkdir");
        }
        fn hardlink(&mut self, path: &str, existing: &str) {
            let from = self.0.join(existing.trim_start_matches('/'));
            std::fs::hard_link(from, self.host(path)).expect("hard link");
        }
    }

    impl Sink for crate::tree::Tree {
        fn file(&mut self, path: &str, data: &[u8]) {
            let node = crate::tree::Node::file(data.to_vec(), 0o755);
            self.insert(path.trim_start_matches('/').to_owned(), node)
                .expect("insert file");
        }
        fn link(&mut self, path: &str, target: &str) {
            let node = crate::tree::Node::symlink(target);
            self.insert(path.trim_start_matches('/').to_owned(), node)
                .expect("insert link");
        }
        fn dir(&mut self, path: &str) {
            let node = crate::tree::Node::directory(0o755, 0, 0);
            self.insert(path.trim_start_matches('/').to_owned(), node)
                .expect("insert dir");
        }
        fn hardlink(&mut self, path: &str, existing: &str) {
            let node = crate::tree::Node {
                kind: crate::tree::NodeKind::Hardlink(existing.trim_start_matches('/').to_owned()),
                ..crate::tree::Node::file(Vec::new(), 0o755)
            };
            self.insert(path.trim_start_matches('/').to_owned(), node)
                .expect("insert hard link");
        }
    }

    /// A fresh temporary directory, deleted on drop.
    struct TempDir(tempfile::TempDir);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            let dir = tempfile::Builder::new()
                .prefix(&format!("rapko-ldcache-{tag}-"))
                .tempdir()
                .expect("create temp dir");
            TempDir(dir)
        }
        fn path(&self, rel: &str) -> PathBuf {
            self.0.path().join(rel)
        }
    }

    // ----- ELF files ---------------------------------------------------------------------

    /// A minimal shared object: a PT_LOAD over the whole file (at a non-zero address),
    /// PT_DYNAMIC with DT_NEEDED/DT_STRTAB/DT_SONAME, optional PT_INTERP and a GNU property
    /// note with the x86 ISA level.
    #[derive(Clone)]
    struct Lib {
        wide: bool,
        machine: u16,
        e_type: u16,
        e_flags: u32,
        soname: Option<String>,
        isa_needed: Option<u32>,
        dynamic: bool,
        interp: bool,
    }

    impl Lib {
        fn new(soname: &str) -> Lib {
            Lib {
                wide: true,
                machine: EM_X86_64,
                e_type: ET_DYN,
                e_flags: 0,
                soname: Some(soname.to_owned()),
                isa_needed: None,
                dynamic: true,
                interp: false,
            }
        }
        fn no_soname() -> Lib {
            Lib {
                soname: None,
                ..Lib::new("")
            }
        }
        fn isa(mut self, needed: u32) -> Lib {
            self.isa_needed = Some(needed);
            self
        }
        fn bytes(&self) -> Vec<u8> {
            const VADDR: u64 = 0x10000;
            let w: u64 = if self.wide { 8 } else { 4 };
            let (ehsize, phentsize) = if self.wide { (64u64, 56u64) } else { (52, 32) };
            let nph = 1
                + u64::from(self.interp)
                + u64::from(self.dynamic)
                + u64::from(self.isa_needed.is_some());
            let align8 = |v: u64| (v + 7) & !7;
            let mut off = ehsize + nph * phentsize;
            let interp_text = b"/lib64/ld-linux-x86-64.so.2\0";
            let interp_off = off;
            if self.interp {
                off = align8(off + interp_text.len() as u64);
            }
            // Property note: an earlier x86 feature property, then the ISA one.
            let mut note = Vec::new();
            if let Some(needed) = self.isa_needed {
                let mut desc = Vec::new();
                for (ty, val) in [
                    (0xc000_0002u32, 3u32),
                    (GNU_PROPERTY_X86_ISA_1_NEEDED, needed),
                ] {
                    desc.extend_from_slice(&ty.to_le_bytes());
                    desc.extend_from_slice(&4u32.to_le_bytes());
                    desc.extend_from_slice(&val.to_le_bytes());
                    while desc.len() as u64 & (w - 1) != 0 {
                        desc.push(0);
                    }
                }
                note.extend_from_slice(&4u32.to_le_bytes());
                note.extend_from_slice(&(desc.len() as u32).to_le_bytes());
                note.extend_from_slice(&NT_GNU_PROPERTY_TYPE_0.to_le_bytes());
                note.extend_from_slice(b"GNU\0");
                note.extend_from_slice(&desc);
            }
            let note_off = off;
            off = align8(off + note.len() as u64);
            let mut strtab = vec![0u8];
            let soname_idx = strtab.len() as u64;
            if let Some(s) = &self.soname {
                strtab.extend_from_slice(s.as_bytes());
                strtab.push(0);
            }
            let needed_idx = strtab.len() as u64;
            strtab.extend_from_slice(b"libc.so.6\0");
            let str_off = off;
            off = align8(off + strtab.len() as u64);
            let mut dyns = vec![(1u64, needed_idx), (DT_STRTAB, VADDR + str_off)];
            if self.soname.is_some() {
                dyns.push((DT_SONAME, soname_idx));
            }
            dyns.push((DT_NULL, 0));
            let dyn_off = off;
            let dyn_len = dyns.len() as u64 * 2 * w;
            let total = dyn_off + dyn_len;

            let mut out = Vec::new();
            let word = |out: &mut Vec<u8>, v: u64| {
                if self.wide {
                    out.extend_from_slice(&v.to_le_bytes());
                } else {
                    out.extend_from_slice(&(v as u32).to_le_bytes());
                }
            };
            out.extend_from_slice(b"\x7fELF");
            out.extend_from_slice(&[if self.wide { 2 } else { 1 }, 1, 1]);
            out.resize(16, 0);
            out.extend_from_slice(&self.e_type.to_le_bytes());
            out.extend_from_slice(&self.machine.to_le_bytes());
            out.extend_from_slice(&1u32.to_le_bytes());
            word(&mut out, 0); // e_entry
            word(&mut out, ehsize); // e_phoff
            word(&mut out, 0); // e_shoff
            out.extend_from_slice(&self.e_flags.to_le_bytes());
            for half in [ehsize, phentsize, nph, 0, 0, 0] {
                out.extend_from_slice(&(half as u16).to_le_bytes());
            }
            let phdr = |out: &mut Vec<u8>, p_type: u32, offset: u64, size: u64, align: u64| {
                out.extend_from_slice(&p_type.to_le_bytes());
                if self.wide {
                    out.extend_from_slice(&5u32.to_le_bytes());
                }
                for v in [offset, VADDR + offset, VADDR + offset, size, size] {
                    word(out, v);
                }
                if !self.wide {
                    out.extend_from_slice(&5u32.to_le_bytes());
                }
                word(out, align);
            };
            phdr(&mut out, PT_LOAD, 0, total, 0x1000);
            if self.interp {
                phdr(&mut out, PT_INTERP, interp_off, interp_text.len() as u64, 1);
            }
            if self.dynamic {
                phdr(&mut out, PT_DYNAMIC, dyn_off, dyn_len, w);
            }
            if self.isa_needed.is_some() {
                phdr(&mut out, PT_GNU_PROPERTY, note_off, note.len() as u64, w);
            }
            if self.interp {
                out.resize(interp_off as usize, 0);
                out.extend_from_slice(interp_text);
            }
            out.resize(note_off as usize, 0);
            out.extend_from_slice(&note);
            out.resize(str_off as usize, 0);
            out.extend_from_slice(&strtab);
            out.resize(dyn_off as usize, 0);
            for (tag, val) in dyns {
                word(&mut out, tag);
                word(&mut out, val);
            }
            out
        }
    }

    fn lib(soname: &str) -> Vec<u8> {
        Lib::new(soname).bytes()
    }

    fn aout(magic: u16) -> Vec<u8> {
        let mut v = magic.to_le_bytes().to_vec();
        v.resize(128, 0);
        v
    }

    // ----- the kitchen sink: most of what ldconfig reacts to ------------------------------

    fn kitchen_sink(s: &mut dyn Sink) {
        s.file(
            "/etc/ld.so.conf",
            b"include conf.d/*.conf\n  /opt/b # comment\n/opt/c d/// \t\nHWCAP ignored\n\
              /lib64\n/opt/link\nrelative/dir\n/nonexistent\n/\n\n# only a comment\r\n",
        );
        s.file(
            "/etc/conf.d/10-a.conf",
            b"/opt/a\ninclude /etc/more/*.conf\t/etc/more2/x.conf\n",
        );
        s.file("/etc/conf.d/.hidden.conf", b"/opt/hidden\n");
        s.file("/etc/conf.d/20-off.conf.disabled", b"/opt/disabled\n");
        s.file("/etc/more/x.conf", b"/opt/e\n");
        s.file("/etc/more2/x.conf", b"/opt/f\n");
        s.file("/opt/hidden/libhidden.so.1", &lib("libhidden.so.1"));
        s.file("/opt/disabled/libdis.so.1", &lib("libdis.so.1"));
        s.file("/opt/e/libe.so.1", &lib("libe.so.1"));
        s.file("/opt/e/libé.so.1", &lib("libé.so.1"));
        s.file("/opt/f/libf.so.1", &lib("libf.so.1"));
        s.file("/relative/dir/librel.so.1", &lib("librel.so.1"));
        s.file("/opt/c d/libspace.so.1", &lib("libspace.so.1"));
        s.link("/opt/link", "b");
        s.file("/opt/a/libfoo.so.1", &lib("libfoo.so.1"));
        s.file("/opt/b/libfoo.so.1", &lib("libfoo.so.1"));
        s.file("/opt/b/libovl.so.3.0", &lib("libovl.so.3"));

        s.link("/lib64", "lib");
        s.file("/lib/libc.so.6", &lib("libc.so.6"));
        let mut loader = Lib::new("ld-linux-x86-64.so.2");
        loader.interp = true;
        s.file("/lib/ld-linux-x86-64.so.2", &loader.bytes());
        s.file("/lib/libz.so.1.3", &lib("libz.so.1"));
        s.link("/lib/libz.so.1", "libz.so.1.3");
        s.file(
            "/lib/glibc-hwcaps/x86-64-v3/libc.so.6",
            &Lib::new("libc.so.6").isa(1 << 2).bytes(),
        );

        for v in ["1.2.3", "1.2.10", "1.10"] {
            s.file(&format!("/usr/lib/libfoo.so.{v}"), &lib("libfoo.so.1"));
        }
        s.link("/usr/lib/libfoo.so", "libfoo.so.1");
        s.file("/usr/lib/libbar.so.2.0", &lib("libbar.so.2"));
        s.link("/usr/lib/libbar.so.2", "libbar.so.2.0");
        s.file("/usr/lib/libold.so.3.0", &lib("libold.so.3"));
        s.file("/usr/lib/libold.so.3.1", &lib("libold.so.3"));
        s.link("/usr/lib/libold.so.3", "libold.so.3.0");
        s.file("/usr/lib/libreg.so.4", &lib("libreg.so.4"));
        s.file("/usr/lib/libreg.so.4.1", &lib("libreg.so.4"));
        s.file("/usr/lib/libhard.so.7.0", &lib("libhard.so.7"));
        s.hardlink("/usr/lib/libhard.so.7", "/usr/lib/libhard.so.7.0");
        s.file("/usr/lib/libzed.so.5.0", &lib("libzed.so.5"));
        s.link("/usr/lib/libzmis.so", "libzed.so.5.0");
        s.link("/usr/lib/libgone.so.1", "nothing");
        s.link("/usr/lib/libgone2.so", "nothing");
        s.link("/usr/lib/libdirlink.so.1", "/opt");
        s.dir("/usr/lib/libdir.so.9");
        s.file("/usr/lib/libnosoname.so.5.1", &Lib::no_soname().bytes());
        s.link("/usr/lib/libweird.so.3", "libnosoname.so.5.1");
        let i386 = Lib {
            wide: false,
            machine: EM_386,
            ..Lib::new("libi386.so.1")
        };
        s.file("/usr/lib/libi386.so.1", &i386.bytes());
        let x32 = Lib {
            wide: false,
            ..Lib::new("libx32.so.1")
        };
        s.file("/usr/lib/libx32.so.1", &x32.bytes());
        let arm64 = Lib {
            machine: 183,
            ..Lib::new("libarm64.so.1")
        };
        s.file("/usr/lib/libarm64.so.1", &arm64.bytes());
        let exec = Lib {
            e_type: 2,
            ..Lib::new("libexec.so.1")
        };
        s.file("/usr/lib/libexec.so.1", &exec.bytes());
        let nodyn = Lib {
            dynamic: false,
            ..Lib::new("libnodyn.so.1")
        };
        s.file("/usr/lib/libnodyn.so.1", &nodyn.bytes());
        s.file("/usr/lib/libtrunc.so.1", &lib("libtrunc.so.1")[..120]);
        s.file("/usr/lib/libsmall.so.1", b"\x7fELF tiny");
        let mut script = b"/* GNU ld script */\nGROUP ( /lib/libc.so.6 )\n".to_vec();
        script.resize(100, b' ');
        s.file("/usr/lib/libscript.so", &script);
        s.file("/usr/lib/libaout.so.1.2.3", &aout(0o413));
        s.file("/usr/lib/libqout.so.2.0.1", &aout(0o314));
        s.file("/usr/lib/ld.so.1", &Lib::no_soname().bytes());
        s.file("/usr/lib/ld64.so.2", &Lib::no_soname().bytes());
        s.file("/usr/lib/libx.sox", &Lib::no_soname().bytes());
        s.file("/usr/lib/libempty.so.1", &lib(""));
        s.file("/usr/lib/foo.so.1", &lib("foo.so.1"));
        s.file("/usr/lib/libpre.so.1.#prelink#", &lib("libpre.so.1"));
        s.file("/usr/lib/libpre.so.1.#prelink#.a1b2c3", &lib("libpre.so.1"));
        s.file(
            "/usr/lib/libbig.so.99999999999",
            &lib("libbig.so.99999999999"),
        );
        s.file(
            "/usr/lib/libbig.so.4294967297",
            &lib("libbig.so.4294967297"),
        );
        s.file("/usr/lib/tls/libtls.so.1", &lib("libtls.so.1"));
        s.file("/usr/lib/haswell/libhas.so.1", &lib("libhas.so.1"));
        s.file("/usr/lib/x86_64/libplat.so.1", &lib("libplat.so.1"));
        s.link("/usr/lib/libovl.so.3", "../../opt/b/libovl.so.3");

        s.file(
            "/usr/lib/glibc-hwcaps/x86-64-v3/libfoo.so.1.2.3",
            &Lib::new("libfoo.so.1").isa(1 << 2).bytes(),
        );
        s.file(
            "/usr/lib/glibc-hwcaps/x86-64-v2/libfoo.so.1.5",
            &Lib::new("libfoo.so.1").isa(1 << 1).bytes(),
        );
        s.link(
            "/usr/lib/glibc-hwcaps/x86-64-v2/libfoo.so.1",
            "libfoo.so.1.5",
        );
        s.dir("/usr/lib/glibc-hwcaps/empty");
        s.file("/usr/lib/glibc-hwcaps/.hidden/libh.so.1", &lib("libh.so.1"));
        s.file("/usr/lib/glibc-hwcaps/a:b/libh.so.1", &lib("libh.so.1"));
        s.file("/usr/lib/glibc-hwcaps/libreg2.so.1", &lib("libreg2.so.1"));
        s.link("/usr/lib/glibc-hwcaps/x86-64-v4", "/opt/v4");
        s.file(
            "/opt/v4/libq.so.1",
            &Lib::new("libq.so.1").isa(1 << 3).bytes(),
        );
    }

    fn options() -> LdCacheOptions {
        LdCacheOptions {
            generator: Some("ldconfig (test) stable release version 2.41".to_owned()),
            ..LdCacheOptions::new(LdArch::X86_64)
        }
    }

    fn pairs(entries: &[LdCacheEntry]) -> Vec<(String, String)> {
        entries
            .iter()
            .map(|e| (e.soname.clone(), e.path.clone()))
            .collect()
    }

    fn owned(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn kitchen_sink_entries_links_and_order() {
        let mut tree = MemTree::default();
        kitchen_sink(&mut tree);
        let out = run_ldconfig(&tree, &options()).expect("ldconfig");
        let expected = owned(&[
            ("libzed.so.5", "/usr/lib/libzed.so.5"),
            ("libz.so.1", "/lib64/libz.so.1"),
            ("libx32.so.1", "/usr/lib/libx32.so.1"),
            ("libx.sox", "/usr/lib/libx.sox"),
            ("libweird.so.3", "/usr/lib/libweird.so.3"),
            ("libspace.so.1", "/opt/c d/libspace.so.1"),
            ("librel.so.1", "relative/dir/librel.so.1"),
            ("libreg.so.4", "/usr/lib/libreg.so.4"),
            ("libqout.so.2", "/usr/lib/libqout.so.2"),
            ("libq.so.1", "/usr/lib/glibc-hwcaps/x86-64-v4/libq.so.1"),
            ("libovl.so.3", "/opt/b/libovl.so.3"),
            ("libovl.so.3", "/usr/lib/libovl.so.3"),
            ("libold.so.3", "/usr/lib/libold.so.3"),
            ("libnosoname.so.5.1", "/usr/lib/libnosoname.so.5.1"),
            ("libi386.so.1", "/usr/lib/libi386.so.1"),
            ("libhard.so.7", "/usr/lib/libhard.so.7"),
            (
                "libfoo.so.1",
                "/usr/lib/glibc-hwcaps/x86-64-v2/libfoo.so.1.5",
            ),
            (
                "libfoo.so.1",
                "/usr/lib/glibc-hwcaps/x86-64-v3/libfoo.so.1.2.3",
            ),
            ("libfoo.so.1", "/opt/a/libfoo.so.1"),
            ("libfoo.so.1", "/opt/b/libfoo.so.1"),
            ("libfoo.so.1", "/usr/lib/libfoo.so.1"),
            ("libf.so.1", "/opt/f/libf.so.1"),
            ("libe.so.1", "/opt/e/libe.so.1"),
            ("libc.so.6", "/lib64/glibc-hwcaps/x86-64-v3/libc.so.6"),
            ("libc.so.6", "/lib64/libc.so.6"),
            ("libbig.so.99999999999", "/usr/lib/libbig.so.99999999999"),
            ("libbig.so.4294967297", "/usr/lib/libbig.so.4294967297"),
            ("libbar.so.2", "/usr/lib/libbar.so.2"),
            ("libaout.so.1", "/usr/lib/libaout.so.1"),
            ("libé.so.1", "/opt/e/libé.so.1"),
            ("ld64.so.2", "/usr/lib/ld64.so.2"),
            ("ld.so.1", "/usr/lib/ld.so.1"),
            ("ld-linux-x86-64.so.2", "/lib64/ld-linux-x86-64.so.2"),
            ("", "/usr/lib/"),
        ]);
        assert_eq!(pairs(&out.entries), expected);

        let flags = |path: &str| {
            out.entries
                .iter()
                .find(|e| e.path == path)
                .map(|e| (e.flags, e.hwcap, e.hwcaps_subdir.clone()))
        };
        assert_eq!(flags("/lib64/libc.so.6"), Some((0x303, 0, None)));
        assert_eq!(flags("/usr/lib/libi386.so.1"), Some((3, 0, None)));
        assert_eq!(flags("/usr/lib/libx32.so.1"), Some((0x803, 0, None)));
        assert_eq!(flags("/usr/lib/libaout.so.1"), Some((3, 0, None)));
        // Used subdirectories are numbered by name: x86-64-v2, x86-64-v3, x86-64-v4.
        assert_eq!(
            flags("/usr/lib/glibc-hwcaps/x86-64-v2/libfoo.so.1.5"),
            Some((0x303, (1 << 62) | (1 << 32), Some("x86-64-v2".to_owned())))
        );
        assert_eq!(
            flags("/lib64/glibc-hwcaps/x86-64-v3/libc.so.6"),
            Some((
                0x303,
                (1 << 62) | (2 << 32) | 1,
                Some("x86-64-v3".to_owned())
            ))
        );
        assert_eq!(
            flags("/usr/lib/glibc-hwcaps/x86-64-v4/libq.so.1"),
            Some((
                0x303,
                (1 << 62) | (3 << 32) | 2,
                Some("x86-64-v4".to_owned())
            ))
        );

        let link = |path: &str, target: &str| LinkChange::Create {
            path: path.to_owned(),
            target: target.to_owned(),
        };
        // ldconfig's order follows readdir; compare as a set.
        let mut changes = out.link_changes.clone();
        changes.sort_by_key(|c| format!("{c:?}"));
        let mut expected = vec![
            link("/opt/b/libovl.so.3", "libovl.so.3.0"),
            link("/usr/lib/libzed.so.5", "libzmis.so"),
            LinkChange::RemoveStale {
                path: "/usr/lib/libgone.so.1".to_owned(),
            },
            LinkChange::Replace {
                path: "/usr/lib/libold.so.3".to_owned(),
                target: "libold.so.3.1".to_owned(),
            },
            link("/usr/lib/libfoo.so.1", "libfoo.so.1.10"),
            link("/usr/lib/libaout.so.1", "libaout.so.1.2.3"),
            link("/usr/lib/libqout.so.2", "libqout.so.2.0.1"),
        ];
        expected.sort_by_key(|c| format!("{c:?}"));
        assert_eq!(changes, expected);
        // The link into /opt/b, made while scanning it, is what makes /usr/lib/libovl.so.3
        // resolve when /usr/lib is scanned later: it must come first.
        assert!(
            matches!(out.link_changes.first(), Some(LinkChange::Create { path, .. }) if path == "/opt/b/libovl.so.3")
        );
        let parsed = read_ld_so_cache(&out.cache).expect("parse");
        assert_eq!(parsed.entries, out.entries);
        assert_eq!(
            parsed.generator.as_deref(),
            Some("ldconfig (test) stable release version 2.41")
        );
    }

    #[test]
    fn rapko_tree_gives_the_same_cache_as_a_plain_tree() {
        let mut mem = MemTree::default();
        kitchen_sink(&mut mem);
        let mut tree = crate::tree::Tree::new();
        kitchen_sink(&mut tree);
        let a = run_ldconfig(&mem, &options()).expect("mem");
        let b = run_ldconfig(&tree, &options()).expect("tree");
        assert_eq!(a, b);
        assert!(!a.entries.is_empty());
    }

    // ----- against real ldconfig binaries -------------------------------------------------

    use rapko_test::{fixtures, require_tool, tools_required};

    /// The host's glibc `ldconfig` and its generator string, when it has one (Alpine's
    /// `/sbin/ldconfig` is a shell stub).
    fn host_glibc_ldconfig() -> Option<(PathBuf, String)> {
        let path = PathBuf::from("/sbin/ldconfig");
        let generator = ldconfig_generator(&std::fs::read(&path).ok()?)?;
        Some((path, generator))
    }

    fn is_root() -> bool {
        std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
    }

    fn glibc_repo() -> PathBuf {
        let dir = fixtures().join("glibc-distro/main/x86_64");
        assert!(
            dir.is_dir(),
            "fixture {} not found (set RAPKO_FIXTURES to the shared fixtures directory)",
            dir.display()
        );
        dir
    }

    /// Unpacks the data of every `.apk` given (each is concatenated gzip members; GNU tar
    /// reads them in sequence) into `root`, dropping the control files tar also extracts.
    fn unpack(apks: &[PathBuf], root: &Path) {
        let Some(tar) = require_tool("tar") else {
            panic!("tar is needed to unpack fixture packages");
        };
        std::fs::create_dir_all(root).expect("mkdir root");
        for apk in apks {
            let out = Command::new(&tar)
                .arg("-xzf")
                .arg(apk)
                .arg("-C")
                .arg(root)
                .output()
                .expect("run tar");
            assert!(out.status.success(), "tar -xzf {} failed", apk.display());
        }
        for entry in std::fs::read_dir(root).expect("read root").flatten() {
            if entry.file_name().to_string_lossy().starts_with('.') {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    fn fixture_apks(filter: impl Fn(&str) -> bool) -> Vec<PathBuf> {
        let mut apks: Vec<PathBuf> = std::fs::read_dir(glibc_repo())
            .expect("read fixture dir")
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|e| e == "apk")
                    && p.file_name().is_some_and(|n| filter(&n.to_string_lossy()))
            })
            .collect();
        apks.sort();
        apks
    }

    /// The fixture's own glibc 2.41 `ldconfig` (a static x86-64 binary), unpacked into `tmp`.
    fn fixture_ldconfig(tmp: &TempDir) -> Option<PathBuf> {
        if !cfg!(all(target_arch = "x86_64", target_os = "linux")) {
            eprintln!("skipping: the fixture's ldconfig is an x86-64 Linux binary");
            return None;
        }
        let glibc = fixture_apks(|n| n.starts_with("glibc-2."));
        assert_eq!(glibc.len(), 1, "one glibc package in the fixture");
        let dir = tmp.path("glibc-pkg");
        unpack(&glibc, &dir);
        let ldconfig = dir.join("usr/bin/ldconfig");
        assert!(
            ldconfig.is_file(),
            "the glibc fixture ships usr/bin/ldconfig"
        );
        Some(ldconfig)
    }

    /// Runs a real `ldconfig` over `root`; returns the cache it wrote.
    fn real_ldconfig(ldconfig: &Path, root: &Path, extra: &[&str]) -> Vec<u8> {
        let out = Command::new(ldconfig)
            .arg("-r")
            .arg(root)
            .args(["-C", "/etc/ld.so.cache.ref"])
            .args(extra)
            .output()
            .expect("run ldconfig");
        assert!(
            out.status.success(),
            "{} failed: {}",
            ldconfig.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let path = root.join("etc/ld.so.cache.ref");
        let bytes = std::fs::read(&path).expect("read the reference cache");
        std::fs::remove_file(&path).expect("remove the reference cache");
        bytes
    }

    fn apply(changes: &[LinkChange], root: &Path) {
        for change in changes {
            match change {
                LinkChange::Create { path, target } | LinkChange::Replace { path, target } => {
                    let p = root.join(path.trim_start_matches('/'));
                    let _ = std::fs::remove_file(&p);
                    std::os::unix::fs::symlink(target, &p).expect("symlink");
                }
                LinkChange::RemoveStale { path } => {
                    std::fs::remove_file(root.join(path.trim_start_matches('/')))
                        .expect("remove stale link");
                }
            }
        }
    }

    /// Every path under `root` with what it is: a link's target, a file's hash, "dir".
    fn snapshot(root: &Path) -> BTreeMap<String, String> {
        fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let rel = path
                    .strip_prefix(root)
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if rel.starts_with("etc/ld.so.cache") || rel.starts_with("var/cache/ldconfig") {
                    continue;
                }
                let Ok(meta) = std::fs::symlink_metadata(&path) else {
                    continue;
                };
                let what = if meta.file_type().is_symlink() {
                    let target = std::fs::read_link(&path).unwrap_or_default();
                    format!("-> {}", target.display())
                } else if meta.is_dir() {
                    walk(root, &path, out);
                    "dir".to_owned()
                } else {
                    let mut h = DefaultHasher::new();
                    std::fs::read(&path).unwrap_or_default().hash(&mut h);
                    format!("file {:x}", h.finish())
                };
                out.insert(rel, what);
            }
        }
        let mut out = BTreeMap::new();
        walk(root, root, &mut out);
        out
    }

    fn describe(cache: &[u8]) -> String {
        match read_ld_so_cache(cache) {
            Ok(parsed) => parsed
                .entries
                .iter()
                .map(|e| format!("{:#x} {:#x} {} => {}\n", e.flags, e.hwcap, e.soname, e.path))
                .collect(),
            Err(e) => format!("unreadable: {e}"),
        }
    }

    fn assert_same_cache(ours: &[u8], reference: &[u8]) {
        assert!(
            ours == reference,
            "cache differs from ldconfig's ({} vs {} bytes)\n--- ours:\n{}--- ldconfig:\n{}",
            ours.len(),
            reference.len(),
            describe(ours),
            describe(reference)
        );
    }

    #[test]
    fn kitchen_sink_matches_glibc_2_41_ldconfig_byte_for_byte() {
        let tmp = TempDir::new("sink");
        let Some(ldconfig) = fixture_ldconfig(&tmp) else {
            return;
        };
        let generator = ldconfig_generator(&std::fs::read(&ldconfig).expect("read ldconfig"))
            .expect("generator string in ldconfig");
        assert_eq!(
            generator,
            "ldconfig (glibc-2.41-r4) stable release version 2.41"
        );

        let (theirs, ours) = (tmp.path("theirs"), tmp.path("ours"));
        kitchen_sink(&mut DiskSink(theirs.clone()));
        kitchen_sink(&mut DiskSink(ours.clone()));
        let reference = real_ldconfig(&ldconfig, &theirs, &[]);

        let opts = LdCacheOptions {
            generator: Some(generator),
            ..LdCacheOptions::new(LdArch::X86_64)
        };
        let result = run_ldconfig(&RealTree { root: ours.clone() }, &opts).expect("ldconfig");
        assert_same_cache(&result.cache, &reference);

        // The same tree in memory gives the same bytes.
        let mut mem = MemTree::default();
        kitchen_sink(&mut mem);
        assert_eq!(run_ldconfig(&mem, &opts).expect("mem").cache, reference);

        // ldconfig's symlink work, replayed: the trees end up the same. (Not as root,
        // `ldconfig -r` cannot chroot and leaves dangling links alone.)
        if is_root() {
            apply(&result.link_changes, &ours);
            assert_eq!(snapshot(&ours), snapshot(&theirs));
        }
    }

    #[test]
    fn empty_tree_and_no_config_match_glibc_ldconfig() {
        let tmp = TempDir::new("empty");
        let Some(ldconfig) = fixture_ldconfig(&tmp) else {
            return;
        };
        let root = tmp.path("root");
        std::fs::create_dir_all(root.join("etc")).expect("mkdir");
        let reference = real_ldconfig(&ldconfig, &root, &[]);
        let opts = LdCacheOptions {
            generator: ldconfig_generator(&std::fs::read(&ldconfig).expect("read")),
            ..LdCacheOptions::new(LdArch::X86_64)
        };
        let ours = run_ldconfig(&RealTree { root }, &opts).expect("ldconfig");
        assert_same_cache(&ours.cache, &reference);
        assert!(ours.entries.is_empty());
    }

    #[test]
    fn glibc_distro_fixture_matches_its_own_ldconfig() {
        let tmp = TempDir::new("distro");
        let Some(ldconfig) = fixture_ldconfig(&tmp) else {
            return;
        };
        let (theirs, ours) = (tmp.path("theirs"), tmp.path("ours"));
        let apks = fixture_apks(|_| true);
        unpack(&apks, &theirs);
        unpack(&apks, &ours);
        let tree = RealTree { root: ours.clone() };
        assert!(needs_ld_so_cache(&tree));
        assert_eq!(detect_arch(&tree).expect("arch"), LdArch::X86_64);

        let cache = build_ld_so_cache(&tree).expect("cache");
        let reference = real_ldconfig(&ldconfig, &theirs, &[]);
        assert_same_cache(&cache, &reference);

        let result = run_ldconfig(&tree, &LdCacheOptions::new(LdArch::X86_64)).expect("run");
        if is_root() {
            apply(&result.link_changes, &ours);
            assert_eq!(snapshot(&ours), snapshot(&theirs));
        }
        let find = |soname: &str| {
            result
                .entries
                .iter()
                .find(|e| e.soname == soname)
                .map(|e| (e.path.as_str(), e.flags))
        };
        assert_eq!(find("libc.so.6"), Some(("/lib/libc.so.6", 0x303)));
        assert_eq!(
            find("libtinfo.so.6"),
            Some(("/usr/lib/libtinfo.so.6", 0x303))
        );
        assert_eq!(find("libz.so.1"), Some(("/lib/libz.so.1", 0x303)));
        assert_eq!(
            find("ld-linux-x86-64.so.2"),
            Some(("/lib/ld-linux-x86-64.so.2", 0x303))
        );
        let generator = read_ld_so_cache(&cache).expect("parse").generator;
        assert_eq!(
            generator.as_deref(),
            Some("ldconfig (glibc-2.41-r4) stable release version 2.41")
        );

        // The host's own ldconfig reads the file too.
        if let Some((host, _)) = host_glibc_ldconfig() {
            let file = tmp.path("ld.so.cache");
            std::fs::write(&file, &cache).expect("write cache");
            let out = Command::new(host)
                .arg("-p")
                .arg("-C")
                .arg(&file)
                .output()
                .expect("ldconfig -p");
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.starts_with(&format!("{} libs found", result.entries.len())),
                "{text}"
            );
            assert!(
                text.contains("\tlibc.so.6 (libc6,x86-64) => /lib/libc.so.6\n"),
                "{text}"
            );
            assert!(
                text.contains("\tlibtinfo.so.6 (libc6,x86-64) => /usr/lib/libtinfo.so.6\n"),
                "{text}"
            );
        }
    }

    /// Runs `/usr/bin/bash -c 'echo ok'` inside `root` with bwrap.
    fn bash_in(bwrap: &Path, root: &Path) -> std::process::Output {
        Command::new(bwrap)
            .arg("--bind")
            .arg(root)
            .args(["/", "--proc", "/proc", "--dev", "/dev", "--unshare-all"])
            .args(["/usr/bin/bash", "-c", "echo ok"])
            .output()
            .expect("run bwrap")
    }

    #[test]
    fn glibc_distro_bash_runs_and_the_loader_uses_the_cache() {
        let Some(bwrap) = require_tool("bwrap") else {
            return;
        };
        if !cfg!(all(target_arch = "x86_64", target_os = "linux")) {
            eprintln!("skipping: the fixture is x86-64 Linux");
            return;
        }
        let probe = Command::new(&bwrap)
            .args(["--bind", "/", "/", "--unshare-all", "true"])
            .output();
        if !probe.is_ok_and(|o| o.status.success()) {
            assert!(!tools_required(), "bwrap cannot create namespaces here");
            eprintln!("skipping: bwrap cannot create namespaces here");
            return;
        }
        let tmp = TempDir::new("bwrap");
        let root = tmp.path("root");
        unpack(&fixture_apks(|_| true), &root);
        for (link, target) in [("lib64", "lib"), ("bin", "usr/bin")] {
            if std::fs::symlink_metadata(root.join(link)).is_err() {
                std::os::unix::fs::symlink(target, root.join(link)).expect("symlink");
            }
        }
        let tree = RealTree { root: root.clone() };
        let write_cache = || {
            let result = run_ldconfig(&tree, &LdCacheOptions::new(LdArch::X86_64)).expect("run");
            apply(&result.link_changes, &root);
            std::fs::write(root.join("etc/ld.so.cache"), &result.cache).expect("write cache");
            result
        };

        write_cache();
        let out = bash_in(&bwrap, &root);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "ok\n",
            "bash failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );

        // libtinfo moves to a directory only ld.so.conf names, without its SONAME link:
        // the generated links + cache must be what lets bash start.
        let private = root.join("opt/private");
        std::fs::create_dir_all(&private).expect("mkdir");
        std::fs::rename(
            root.join("usr/lib/libtinfo.so.6.5"),
            private.join("libtinfo.so.6.5"),
        )
        .expect("move libtinfo");
        std::fs::remove_file(root.join("usr/lib/libtinfo.so.6")).expect("rm link");
        let conf = root.join("etc/ld.so.conf.d/private.conf");
        std::fs::write(&conf, "/opt/private\n").expect("write conf");
        let result = write_cache();
        assert!(result.link_changes.contains(&LinkChange::Create {
            path: "/opt/private/libtinfo.so.6".to_owned(),
            target: "libtinfo.so.6.5".to_owned()
        }));
        assert!(
            result
                .entries
                .iter()
                .any(|e| e.soname == "libtinfo.so.6" && e.path == "/opt/private/libtinfo.so.6")
        );
        let out = bash_in(&bwrap, &root);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "ok\n",
            "bash failed with the cache naming /opt/private: {}",
            String::from_utf8_lossy(&out.stderr)
        );

        // Control: without the configuration line the cache no longer names the library and
        // the loader cannot find it.
        std::fs::remove_file(&conf).expect("rm conf");
        write_cache();
        let out = bash_in(&bwrap, &root);
        assert!(
            !out.status.success(),
            "bash started without libtinfo in the cache"
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("libtinfo.so.6"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn host_libraries_match_the_host_ldconfig() {
        let debian = host_glibc_ldconfig().filter(|(_, g)| g.contains("Debian"));
        let Some((host, generator)) = debian else {
            eprintln!("skipping: no Debian glibc ldconfig on this host (its trusted dirs differ)");
            return;
        };
        let multiarch = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"];
        let tmp = TempDir::new("host");
        let root = tmp.path("root");
        let mut sink = DiskSink(root.clone());
        let mut copied = 0;
        for soname in [
            "libz.so.1",
            "libtinfo.so.6",
            "libreadline.so.8",
            "libstdc++.so.6",
            "libgcc_s.so.1",
            "libm.so.6",
            "libc.so.6",
            "libdl.so.2",
            "libcrypt.so.1",
            "libssl.so.3",
            "libcrypto.so.3",
            "libffi.so.8",
            "libexpat.so.1",
            "libzstd.so.1",
        ] {
            let Some(real) = multiarch
                .iter()
                .find_map(|d| std::fs::canonicalize(Path::new(d).join(soname)).ok())
            else {
                continue;
            };
            let Some(name) = real.file_name().map(|n| n.to_string_lossy().into_owned()) else {
                continue;
            };
            let data = std::fs::read(&real).expect("read host library");
            sink.file(&format!("/usr/lib/{name}"), &data);
            if name != soname {
                sink.link(&format!("/usr/lib/{soname}"), &name);
            }
            if soname == "libz.so.1" {
                sink.file(&format!("/opt/extra/{name}"), &data);
                sink.link("/opt/extra/libz.so.1", &name);
                sink.link("/usr/lib/libz.so", "libz.so.1");
                sink.file("/usr/lib/glibc-hwcaps/x86-64-v3/libz.so.1", &data);
            }
            copied += 1;
        }
        if copied < 3 {
            eprintln!("skipping: too few host libraries found");
            return;
        }
        sink.file("/etc/ld.so.conf", b"/opt/extra\n");
        let reference = real_ldconfig(&host, &root, &["-X"]);
        let opts = LdCacheOptions {
            system_dirs: [
                "/lib/x86_64-linux-gnu",
                "/usr/lib/x86_64-linux-gnu",
                "/lib",
                "/usr/lib",
            ]
            .map(str::to_owned)
            .to_vec(),
            generator: Some(generator),
            ..LdCacheOptions::new(LdArch::X86_64)
        };
        let ours = run_ldconfig(&RealTree { root }, &opts).expect("ldconfig");
        assert_same_cache(&ours.cache, &reference);
        assert!(ours.link_changes.is_empty(), "{:?}", ours.link_changes);
    }

    // ----- pieces --------------------------------------------------------------------------

    #[test]
    fn libcmp_compares_numbers_as_numbers() {
        let cmp = |a: &str, b: &str| libcmp(a.as_bytes(), b.as_bytes(), true).signum();
        assert_eq!(cmp("libfoo.so.1.10", "libfoo.so.1.2"), 1);
        assert_eq!(cmp("libfoo.so.1.2.10", "libfoo.so.1.2.3"), 1);
        assert_eq!(cmp("libfoo.so.1", "libfoo.so.1.0"), -1);
        assert_eq!(cmp("libc.so.6", "libc.so.6"), 0);
        assert_eq!(cmp("libx.so.01", "libx.so.1"), 0);
        // A digit sorts after any other character.
        assert_eq!(cmp("lib1", "liba"), 1);
        assert_eq!(cmp("liba", "lib1"), -1);
        assert_eq!(cmp("libzed", "libzmis"), -1);
        // Bytes >= 0x80 are negative for a signed char (x86) and large for Arm.
        assert_eq!(libcmp("é".as_bytes(), b"e", true).signum(), -1);
        assert_eq!(libcmp("é".as_bytes(), b"e", false).signum(), 1);
    }

    #[test]
    fn string_table_shares_tails() {
        let strings: BTreeSet<Vec<u8>> = ["/lib/libc.so.6", "libc.so.6", "libm.so.6", "x86-64-v3"]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect();
        let (table, offsets) = string_table(&strings);
        // Descending by reversed bytes: "6.os.mbil" > "6.os.cbil/bil/" > "6.os.cbil" > "3v-…".
        assert_eq!(table, b"libm.so.6\0/lib/libc.so.6\0x86-64-v3\0");
        assert_eq!(offsets[b"/lib/libc.so.6".as_slice()], 10);
        assert_eq!(offsets[b"libc.so.6".as_slice()], 15);
        assert_eq!(offsets[b"x86-64-v3".as_slice()], 25);
        assert_eq!(string_table(&BTreeSet::new()).0, Vec::<u8>::new());
    }

    #[test]
    fn fnmatch_and_glob_follow_glibc() {
        assert!(fnmatch("*.conf", "libc.conf"));
        assert!(!fnmatch("*.conf", ".hidden.conf"));
        assert!(fnmatch(".*.conf", ".hidden.conf"));
        assert!(!fnmatch("*.conf", "x.conf.disabled"));
        assert!(fnmatch("[a-c]?.conf", "b1.conf"));
        assert!(!fnmatch("[!a-c]*", "abc"));
        assert!(fnmatch("[[:digit:]]*", "10-x"));
        assert!(fnmatch("\\*", "*"));
        assert!(fnmatch("a[b", "a[b"));
        assert!(fnmatch("*", "x"));
        assert!(!fnmatch("?", ""));

        let mut tree = MemTree::default();
        tree.file("/etc/d/b.conf", b"");
        tree.file("/etc/d/a.conf", b"");
        tree.file("/etc/d/.h.conf", b"");
        tree.link("/etc/d/c.conf", "nowhere");
        tree.file("/etc/e/x/z.conf", b"");
        tree.link("/etc/f", "e");
        let view = View::new(&tree);
        assert_eq!(
            glob(&view, "/etc/d/*.conf"),
            ["/etc/d/a.conf", "/etc/d/b.conf"]
        );
        assert_eq!(
            glob(&view, "/etc/*/x/*.conf"),
            ["/etc/e/x/z.conf", "/etc/f/x/z.conf"]
        );
        assert_eq!(glob(&view, "/etc/d/a.conf"), ["/etc/d/a.conf"]);
        assert!(glob(&view, "/etc/d/none.conf").is_empty());
    }

    #[test]
    fn resolve_stays_inside_the_root() {
        let mut tree = MemTree::default();
        tree.dir("/usr/lib");
        tree.file("/usr/lib/libc.so.6", b"x");
        tree.link("/lib", "usr/lib");
        tree.link("/up", "../../../usr");
        tree.link("/loop", "loop");
        tree.link("/abs", "/lib/libc.so.6");
        let view = View::new(&tree);
        assert_eq!(
            view.resolve("/lib/libc.so.6", true).as_deref(),
            Some("/usr/lib/libc.so.6")
        );
        assert_eq!(view.resolve("/lib", false).as_deref(), Some("/lib"));
        assert_eq!(
            view.resolve("/up/lib/../lib/./libc.so.6", true).as_deref(),
            Some("/usr/lib/libc.so.6")
        );
        assert_eq!(view.resolve("relative/../lib", true), None);
        assert_eq!(view.resolve("lib", true).as_deref(), Some("/usr/lib"));
        assert_eq!(
            view.resolve("/abs", true).as_deref(),
            Some("/usr/lib/libc.so.6")
        );
        assert_eq!(view.resolve("/loop", true), None);
        assert_eq!(view.resolve("/lib/libc.so.6/x", true), None);
        assert_eq!(view.resolve("/", true).as_deref(), Some("/"));
    }

    #[test]
    fn elf_flags_per_architecture() {
        let x86 = |l: &Lib| process_file(&l.bytes(), b"libx.so.1", LdArch::X86_64);
        let arm = |l: &Lib| process_file(&l.bytes(), b"libx.so.1", LdArch::Aarch64);
        let amd64 = Lib::new("libx.so.1");
        assert_eq!(
            x86(&amd64),
            Ok(LibInfo {
                flag: 0x303,
                isa_level: 0,
                soname: Some(b"libx.so.1".to_vec())
            })
        );
        assert_eq!(x86(&amd64.clone().isa(0b1010)).map(|i| i.isa_level), Ok(3));
        assert_eq!(
            arm(&amd64.clone().isa(0b1010)).map(|i| (i.flag, i.isa_level)),
            Ok((0xa03, 0))
        );
        let i386 = Lib {
            wide: false,
            machine: EM_386,
            ..amd64.clone()
        };
        assert_eq!(x86(&i386).map(|i| i.flag), Ok(3));
        let wrong = Lib {
            machine: EM_386,
            ..amd64.clone()
        };
        assert_eq!(x86(&wrong), Err(Skip::UnknownMachine(EM_386)));
        let aarch64 = Lib {
            machine: 183,
            ..amd64.clone()
        };
        assert_eq!(x86(&aarch64), Err(Skip::UnknownMachine(183)));
        assert_eq!(arm(&aarch64).map(|i| i.flag), Ok(0xa03));
        let armhf = Lib {
            wide: false,
            machine: 40,
            e_flags: 0x0500_0400,
            ..amd64.clone()
        };
        assert_eq!(arm(&armhf).map(|i| i.flag), Ok(0x903));
        let armsf = Lib {
            e_flags: 0x0500_0200,
            ..armhf.clone()
        };
        assert_eq!(arm(&armsf).map(|i| i.flag), Ok(0xb03));
        let armold = Lib {
            e_flags: 0x0400_0400,
            ..armhf
        };
        assert_eq!(arm(&armold).map(|i| i.flag), Ok(3));
        assert_eq!(x86(&Lib::no_soname()).map(|i| i.soname), Ok(None));
        assert_eq!(
            process_file(&aout(0o413), b"libold.so.4.5.6", LdArch::X86_64).map(|i| i.soname),
            Ok(Some(b"libold.so.4".to_vec()))
        );
        assert_eq!(
            process_file(b"\x7fELF", b"x", LdArch::X86_64),
            Err(Skip::TooSmall)
        );
        assert_eq!(
            process_file(&[b'#'; 80], b"x", LdArch::X86_64),
            Err(Skip::NotElf)
        );
    }

    /// A small deterministic generator for the mutation tests.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn hostile_and_truncated_files_never_panic() {
        let samples: Vec<Vec<u8>> = vec![
            Lib::new("libx.so.1").isa(4).bytes(),
            Lib {
                wide: false,
                machine: EM_386,
                interp: true,
                ..Lib::new("libx.so.1")
            }
            .isa(2)
            .bytes(),
            Lib {
                interp: true,
                ..Lib::no_soname()
            }
            .bytes(),
        ];
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        for sample in &samples {
            for len in 0..=sample.len() {
                for arch in [LdArch::X86_64, LdArch::Aarch64] {
                    let _ = process_file(&sample[..len], b"libx.so.1", arch);
                }
            }
            for _ in 0..20_000 {
                let mut data = sample.clone();
                for _ in 0..1 + rng.next() % 4 {
                    let at = (rng.next() % data.len() as u64) as usize;
                    data[at] = match rng.next() % 4 {
                        0 => 0xff,
                        1 => 0,
                        _ => rng.next() as u8,
                    };
                }
                for arch in [LdArch::X86_64, LdArch::Aarch64] {
                    let _ = process_file(&data, b"libx.so.1", arch);
                }
            }
        }
        // Whole runs over hostile trees, and hostile cache files.
        let mut tree = MemTree::default();
        tree.file("/etc/ld.so.conf", b"include /etc/ld.so.conf\n");
        assert!(matches!(
            run_ldconfig(&tree, &options()),
            Err(LdCacheError::IncludeTooDeep { .. })
        ));
        let mut tree = MemTree::default();
        tree.file("/usr/lib/libevil.so.1", &lib("../../etc/evil"));
        tree.file("/usr/lib/libempty.so.1", &lib(""));
        let out = run_ldconfig(&tree, &options()).expect("run");
        assert!(out.link_changes.is_empty(), "{:?}", out.link_changes);
        assert_eq!(
            pairs(&out.entries),
            owned(&[
                ("../../etc/evil", "/usr/lib/../../etc/evil"),
                ("", "/usr/lib/"),
            ])
        );
        for len in 0..out.cache.len() {
            let _ = read_ld_so_cache(&out.cache[..len]);
        }
        for _ in 0..5_000 {
            let mut data = out.cache.clone();
            let at = (rng.next() % data.len() as u64) as usize;
            data[at] = rng.next() as u8;
            let _ = read_ld_so_cache(&data);
        }
    }

    #[test]
    fn loader_detection() {
        let mut tree = MemTree::default();
        tree.file("/usr/lib/libc.so.6", &lib("libc.so.6"));
        assert!(!needs_ld_so_cache(&tree));
        assert!(matches!(detect_arch(&tree), Err(LdCacheError::NoLoader)));
        assert!(matches!(
            build_ld_so_cache(&tree),
            Err(LdCacheError::NoLoader)
        ));
        tree.link("/lib64", "usr/lib");
        tree.file(
            "/usr/lib/ld-linux-aarch64.so.1",
            &lib("ld-linux-aarch64.so.1"),
        );
        assert!(needs_ld_so_cache(&tree));
        assert_eq!(detect_arch(&tree).expect("arch"), LdArch::Aarch64);
        let cache = build_ld_so_cache(&tree).expect("cache");
        let parsed = read_ld_so_cache(&cache).expect("parse");
        assert_eq!(parsed.generator.as_deref(), Some(DEFAULT_GENERATOR));
        assert!(parsed.entries.iter().all(|e| e.flags == 0xa03));
        assert_eq!(parsed.entries.len(), 2);
        tree.file("/lib/ld-linux-x86-64.so.2", &lib("ld-linux-x86-64.so.2"));
        assert!(matches!(
            detect_arch(&tree),
            Err(LdCacheError::AmbiguousLoader { .. })
        ));
    }

    #[test]
    fn generator_comes_from_the_trees_ldconfig() {
        let mut binary = vec![0u8; 100];
        binary.extend_from_slice(
            b"ldconfig (%s) %s\n\0ldconfig (Foo 1.0) stable release version 2.99\0xx",
        );
        assert_eq!(
            ldconfig_generator(&binary).as_deref(),
            Some("ldconfig (Foo 1.0) stable release version 2.99")
        );
        assert_eq!(ldconfig_generator(b"ldconfig (x"), None);
        let mut tree = MemTree::default();
        tree.file("/sbin/ldconfig", &binary);
        tree.file("/lib/ld-linux-x86-64.so.2", &lib("ld-linux-x86-64.so.2"));
        let cache = build_ld_so_cache(&tree).expect("cache");
        assert_eq!(
            read_ld_so_cache(&cache)
                .expect("parse")
                .generator
                .as_deref(),
            Some("ldconfig (Foo 1.0) stable release version 2.99")
        );
    }

    #[test]
    fn system_dirs_per_architecture() {
        assert_eq!(
            LdArch::X86_64.default_system_dirs(),
            [
                "/lib",
                "/lib64",
                "/libx32",
                "/usr/lib",
                "/usr/lib64",
                "/usr/libx32"
            ]
        );
        assert_eq!(
            LdArch::Aarch64.default_system_dirs(),
            [
                "/lib",
                "/lib64",
                "/libilp32",
                "/usr/lib",
                "/usr/lib64",
                "/usr/libilp32"
            ]
        );
        assert_eq!(LdArch::from_apk_arch("aarch64"), Some(LdArch::Aarch64));
        assert_eq!(LdArch::from_apk_arch("armv7"), None);
        assert_eq!(LdArch::X86_64.native_flags(), 0x303);
    }
}
