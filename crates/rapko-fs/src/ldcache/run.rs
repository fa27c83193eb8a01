//! ldconfig itself.

use super::*;

/// A directory to scan (`struct dir_entry`).
pub(super) struct ScanDir {
    /// As written in the configuration (trimmed), used for the cache's paths.
    pub(super) path: String,
    /// Resolved, the directory's identity (ldconfig compares device and inode).
    pub(super) identity: String,
    /// Index into `Run::hwcaps` for `glibc-hwcaps/NAME` subdirectories.
    pub(super) hwcaps: Option<usize>,
}

/// A library found in one directory (`struct dlib_entry`).
pub(super) struct Dlib {
    pub(super) name: String,
    pub(super) soname: Vec<u8>,
    pub(super) flag: i32,
    pub(super) is_link: bool,
    pub(super) isa_level: u32,
}

/// A cache entry before the file is written (`struct cache_entry`).
pub(super) struct Record {
    pub(super) soname: Vec<u8>,
    pub(super) path: Vec<u8>,
    pub(super) flags: i32,
    pub(super) isa_level: u32,
    pub(super) hwcaps: Option<usize>,
}

/// A `glibc-hwcaps` subdirectory name, interned when first seen (used or not).
pub(super) struct Hwcaps {
    pub(super) name: String,
    pub(super) used: bool,
}

pub(super) struct Run<'a, T: ?Sized> {
    pub(super) view: View<'a, T>,
    pub(super) arch: LdArch,
    pub(super) dirs: Vec<ScanDir>,
    pub(super) hwcaps: Vec<Hwcaps>,
    pub(super) records: Vec<Record>,
    pub(super) changes: Vec<LinkChange>,
}

impl<'a, T: LibraryTree + ?Sized> Run<'a, T> {
    pub(super) fn new(tree: &'a T, arch: LdArch) -> Self {
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
    pub(super) fn parse_conf(&mut self, file: &str, depth: usize) -> Result<(), LdCacheError> {
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
    pub(super) fn include(
        &mut self,
        config: &str,
        pattern: &str,
        depth: usize,
    ) -> Result<(), LdCacheError> {
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
    pub(super) fn add_dir(&mut self, line: &str) {
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

    pub(super) fn add_hwcaps_subdirs(&mut self, path: &str, identity: &str) {
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

    pub(super) fn intern_hwcaps(&mut self, name: &str) -> usize {
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
    pub(super) fn search_dir(&mut self, index: usize) {
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
    pub(super) fn create_links(&mut self, dir: &str, lib: &str, soname: &[u8]) {
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
    pub(super) fn insert(&mut self, record: Record) {
        let signed = self.arch.char_is_signed();
        let at = self
            .records
            .iter()
            .position(|r| compare(r, &record, &self.hwcaps, signed) > 0)
            .unwrap_or(self.records.len());
        self.records.insert(at, record);
    }

    /// The generator string of the tree's own `ldconfig`, if it has one.
    pub(super) fn tree_generator(&self) -> String {
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
pub(super) fn compare(a: &Record, b: &Record, hwcaps: &[Hwcaps], signed: bool) -> i32 {
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
pub(super) fn libcmp(a: &[u8], b: &[u8], signed: bool) -> i32 {
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
pub(super) fn is_dso(name: &str) -> bool {
    ((name.starts_with("lib") || name.starts_with("ld-")) && name.contains(".so"))
        || name.starts_with("ld.so.")
        || name.starts_with("ld64.so.")
}

/// Temporary files of the prelink program: `*.#prelink#` and `*.#prelink#.XXXXXX`.
pub(super) fn is_prelink_temp(name: &str) -> bool {
    let n = name.as_bytes();
    n.ends_with(b".#prelink#") || (n.len() >= 17 && n[n.len() - 17..].starts_with(b".#prelink#."))
}

pub(super) fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

pub(super) fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

pub(super) fn dirname(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rfind('/') {
        None => ".",
        Some(0) => "/",
        Some(i) => trimmed[..i].trim_end_matches('/'),
    }
}
