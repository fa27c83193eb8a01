//! The pieces one at a time: libcmp, the string table, globbing, symlink confinement, ELF
//! flags, hostile files, loader detection.

use super::*;

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
