//! The installed database on a realistic sample: four records exactly as apk-tools 2.14
//! wrote them for Alpine 3.19 (a meta package without files, musl's loader and symlink, a
//! setuid binary, a package with several directories and replaces).

use rapko_apk::installed::{
    Acl, InstalledPackage, ScriptKind, ScriptTimes, attach_scripts, attach_triggers,
    parse_installed, parse_triggers, read_scripts_tar, write_installed, write_scripts_tar,
    write_triggers,
};

/// Four records of the `installed` apk-tools 2.14.0 wrote installing `alpine-base` and
/// friends from the Alpine 3.19 fixtures.
const SAMPLE: &str = r#"C:Q1mcpyM8ftLHlvmaMjdLoBo6zq/Fo=
P:alpine-base
V:3.19.1-r0
A:x86_64
S:1518
I:4096
T:Meta package for minimal alpine base
U:https://alpinelinux.org
L:MIT
o:alpine-base
m:Natanael Copa <ncopa@alpinelinux.org>
t:1706291505
c:ce3c39d98c0c7edad96cdd5756e7dfc1005e9ca3
D:alpine-baselayout alpine-conf alpine-release apk-tools busybox busybox-mdev-openrc busybox-openrc busybox-suid libc-utils openrc

C:Q1kqFQHSGzXGq3k7gQTqb+GxbmnOw=
P:musl
V:1.2.4_git20230717-r4
A:x86_64
S:407278
I:667648
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Timo Teräs <timo.teras@iki.fi>
t:1699271358
c:ca7f2ab5e88794e4e654b40776f8a92256f50639
p:so:libc.musl-x86_64.so.1=1
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1+zEJiG53Cxy7DkV5oZQqeWnzybY=
R:libc.musl-x86_64.so.1
a:0:0:777
Z:Q17yJ3JFNypA4mxhJJr0ou6CzsJVI=

C:Q1uefyNnHnanEbOtLa8pXKfz4VlpM=
P:busybox-suid
V:1.36.1-r15
A:x86_64
S:3959
I:24576
T:suid binaries of Busybox
U:https://busybox.net/
L:GPL-2.0-only
o:busybox
m:Sören Tempel <soeren+alpine@soeren-tempel.net>
t:1699383189
c:d1b6f274f29076967826e0ecf6ebcaa5d360272f
D:busybox so:libc.musl-x86_64.so.1
p:cmd:bbsuid=1.36.1-r15
r:busybox-initscripts
F:bin
R:bbsuid
a:0:0:4111
Z:Q1ZS6+pImm/c5+sW8aLX54FAbPcCM=

C:Q1ATe9K4aivW08p8b+ZflYTIBw1Cs=
P:ca-certificates-bundle
V:20230506-r0
A:x86_64
S:126293
I:237568
T:Pre generated bundle of Mozilla certificates
U:https://www.mozilla.org/en-US/about/governance/policies/security-group/certs/
L:MPL-2.0 AND MIT
o:ca-certificates
m:Natanael Copa <ncopa@alpinelinux.org>
t:1683374901
c:59534a02716a92a10d177a118c34066162eff4a6
p:ca-certificates-cacert=20230506-r0
r:libressl2.7-libcrypto libcrypto1.1
F:etc
F:etc/ssl
R:cert.pem
a:0:0:777
Z:Q1Nj6gTBdkZpTFW/obJGdpfvK0StA=
F:etc/ssl/certs
R:ca-certificates.crt
Z:Q1sTKzEqQsi+XWMgaa7MZ5e2KfEmQ=
F:etc/ssl1.1
R:cert.pem
a:0:0:777
Z:Q1tlrPS9O4v/nypdyJVPoUkUfBJ3g=
R:certs
a:0:0:777
Z:Q1qE3WqZ1tRpwrmptYdQcZwzvJgds=

"#;

fn sample() -> Vec<InstalledPackage> {
    parse_installed(SAMPLE).expect("the sample parses")
}

#[test]
fn the_sample_parses_to_what_it_says() {
    let packages = sample();
    let names: Vec<&str> = packages.iter().map(|p| p.info.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "alpine-base",
            "musl",
            "busybox-suid",
            "ca-certificates-bundle"
        ]
    );
    let base = &packages[0];
    assert!(base.dirs.is_empty());
    assert_eq!(base.info.depends.len(), 10);
    assert_eq!(
        base.info.checksum.map(|c| c.to_q1()).as_deref(),
        Some("Q1mcpyM8ftLHlvmaMjdLoBo6zq/Fo=")
    );
    let musl = &packages[1];
    assert_eq!(
        musl.info.maintainer.as_deref(),
        Some("Timo Teräs <timo.teras@iki.fi>")
    );
    let paths: Vec<String> = musl.file_paths().collect();
    assert_eq!(
        paths,
        ["lib/ld-musl-x86_64.so.1", "lib/libc.musl-x86_64.so.1"]
    );
    assert_eq!(
        musl.file("lib/libc.musl-x86_64.so.1").map(|f| f.acl),
        Some(Acl::new(0o777, 0, 0))
    );
    let suid = &packages[2];
    assert_eq!(suid.file("bin/bbsuid").map(|f| f.acl.mode), Some(0o4111));
    assert_eq!(suid.info.replaces.len(), 1);
    let certs = &packages[3];
    let dirs: Vec<&str> = certs.dirs.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(dirs, ["etc", "etc/ssl", "etc/ssl/certs", "etc/ssl1.1"]);
    assert_eq!(certs.info.replaces.len(), 2);
    assert!(certs.dirs.iter().all(|d| d.acl == Acl::DEFAULT_DIR));
}

#[test]
fn the_sample_writes_back_byte_for_byte() {
    assert_eq!(write_installed(&sample()).expect("writes"), SAMPLE);
}

#[test]
fn edits_survive_a_round_trip() {
    let mut packages = sample();
    packages[1].dirs[0].files[0].acl = Acl::new(0o700, 1000, 1000);
    packages[1].repository_tag = Some("edge".to_owned());
    packages[1].flags.broken_files = true;
    let text = write_installed(&packages).expect("writes");
    assert!(
        text.contains("s:edge\nf:f\nF:lib\nR:ld-musl-x86_64.so.1\na:1000:1000:700\n"),
        "{text}"
    );
    assert_eq!(parse_installed(&text).expect("parses"), packages);
}

#[test]
fn triggers_and_scripts_attach_by_checksum() {
    let mut packages = sample();
    let musl_sum = packages[1].info.checksum.expect("C:");
    let triggers = format!(
        "{} /usr/lib /lib\nQ1AAAAAAAAAAAAAAAAAAAAAAAAAAA= /nobody\n",
        musl_sum.to_q1()
    );
    attach_triggers(&mut packages, parse_triggers(&triggers).expect("parses"));
    assert_eq!(packages[1].info.triggers, ["/usr/lib", "/lib"]);
    assert_eq!(
        write_triggers(&packages).expect("writes"),
        format!("{} /usr/lib /lib\n", musl_sum.to_q1())
    );

    packages[1].set_script(ScriptKind::Trigger, b"#!/bin/sh\nldconfig\n".to_vec());
    packages[2].set_script(ScriptKind::PostInstall, b"#!/bin/sh\n".to_vec());
    packages[2].set_script(ScriptKind::PreInstall, b"#!/bin/sh\n".to_vec());
    let tar = write_scripts_tar(&packages, ScriptTimes::BuildDate { fallback: 0 }).expect("writes");
    let entries = read_scripts_tar(&tar).expect("reads");
    let names: Vec<String> = entries.iter().map(|e| e.file_name()).collect();
    assert_eq!(
        names,
        [
            format!("musl-1.2.4_git20230717-r4.{}.trigger", musl_sum.to_q1()),
            "busybox-suid-1.36.1-r15.Q1uefyNnHnanEbOtLa8pXKfz4VlpM=.pre-install".to_owned(),
            "busybox-suid-1.36.1-r15.Q1uefyNnHnanEbOtLa8pXKfz4VlpM=.post-install".to_owned(),
        ]
    );
    // 2.14.10 stamps each entry with its package's build date.
    let header = &tar[..512];
    let mtime = std::str::from_utf8(&header[136..148]).expect("octal");
    assert_eq!(u64::from_str_radix(mtime, 8), Ok(1_699_271_358));
    let mut fresh = sample();
    attach_scripts(&mut fresh, entries);
    assert_eq!(fresh[2].scripts, packages[2].scripts);
}
