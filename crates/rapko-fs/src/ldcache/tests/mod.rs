//! Tests of the declarative ldconfig; the trees and ELF builders here are shared by the
//! submodules.

mod pieces;
mod real_ldconfig;

use super::*;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

// ----- trees -------------------------------------------------------------------------

pub(super) enum MemNode {
    Dir,
    File(Vec<u8>),
    Link(String),
}

/// A tree in memory, for tests that need no tools.
#[derive(Default)]
pub(super) struct MemTree {
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
pub(super) struct RealTree {
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
pub(super) trait Sink {
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

pub(super) struct DiskSink(PathBuf);

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
pub(super) struct TempDir(tempfile::TempDir);

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
pub(super) struct Lib {
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

pub(super) fn lib(soname: &str) -> Vec<u8> {
    Lib::new(soname).bytes()
}

pub(super) fn aout(magic: u16) -> Vec<u8> {
    let mut v = magic.to_le_bytes().to_vec();
    v.resize(128, 0);
    v
}

// ----- the kitchen sink: most of what ldconfig reacts to ------------------------------

pub(super) fn kitchen_sink(s: &mut dyn Sink) {
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

pub(super) fn options() -> LdCacheOptions {
    LdCacheOptions {
        generator: Some("ldconfig (test) stable release version 2.41".to_owned()),
        ..LdCacheOptions::new(LdArch::X86_64)
    }
}

pub(super) fn pairs(entries: &[LdCacheEntry]) -> Vec<(String, String)> {
    entries
        .iter()
        .map(|e| (e.soname.clone(), e.path.clone()))
        .collect()
}

pub(super) fn owned(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[test]
pub(super) fn kitchen_sink_entries_links_and_order() {
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
pub(super) fn rapko_tree_gives_the_same_cache_as_a_plain_tree() {
    let mut mem = MemTree::default();
    kitchen_sink(&mut mem);
    let mut tree = crate::tree::Tree::new();
    kitchen_sink(&mut tree);
    let a = run_ldconfig(&mem, &options()).expect("mem");
    let b = run_ldconfig(&tree, &options()).expect("tree");
    assert_eq!(a, b);
    assert!(!a.entries.is_empty());
}
