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

mod bytes;
mod elf;
mod glob;
mod run;
mod view;
mod write;

use self::{bytes::*, elf::*, glob::*, run::*, view::*, write::*};
#[cfg(test)]
mod tests;

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
