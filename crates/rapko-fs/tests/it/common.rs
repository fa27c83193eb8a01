//! Helpers shared by the test modules: synthetic packages as the installer takes them, a
//! config from YAML, a whole root filesystem, and reading nodes back.

#![allow(dead_code)]

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use rapko_apk::{ApkPackage, InstalledPackage, parse_index_text};
use rapko_config::ImageConfiguration;
use rapko_fs::{NodeKind, PackageToInstall, Rootfs, RootfsOptions, Tree, build_rootfs};
use rapko_test::BuiltApk;

/// The build time rootfs tests use.
pub const BUILD_TIME: u64 = 1_700_000_100;

/// A synthetic package as the fetcher hands it over: its index record and parsed head.
pub fn to_install(apk: &BuiltApk) -> PackageToInstall {
    let record = format!("{}\n\n", apk.index_record(Some("x86_64")));
    let info = parse_index_text(&record)
        .expect("index record parses")
        .remove(0);
    PackageToInstall {
        info,
        package: ApkPackage::parse(&apk.bytes).expect("package parses"),
        bytes: Arc::from(apk.bytes.clone()),
        path: None,
        repository_tag: None,
    }
}

/// A real package file from the fixtures, with its `.PKGINFO` as the index record.
pub fn fixture_package(rel: &str) -> PackageToInstall {
    let path = rapko_test::fixture(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let package = ApkPackage::parse(&bytes).expect("fixture package parses");
    PackageToInstall {
        info: package.info.clone(),
        package,
        bytes: Arc::from(bytes),
        path: None,
        repository_tag: None,
    }
}

/// `apk` with its data member replaced by `data_tar` (gzipped here): for entries rapko-test
/// cannot write (xattrs, links out of the package). Signature and datahash no longer match,
/// which the installer does not check (the fetcher did).
pub fn with_data_tar(apk: &BuiltApk, data_tar: &[u8]) -> PackageToInstall {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(data_tar).expect("gzip");
    let data = gz.finish().expect("gzip");
    let mut bytes = apk.signature_member().unwrap_or_default().to_vec();
    bytes.extend_from_slice(apk.control_member());
    bytes.extend_from_slice(&data);
    let mut built = apk.clone();
    built.bytes = bytes;
    let mut p = to_install(&built);
    p.bytes = Arc::from(built.bytes);
    p
}

/// Installs synthetic packages in the given order.
pub fn install(apks: &[BuiltApk]) -> rapko_fs::Result<(Tree, Vec<InstalledPackage>)> {
    let packages: Vec<PackageToInstall> = apks.iter().map(to_install).collect();
    install_packages(&packages)
}

pub fn install_packages(
    packages: &[PackageToInstall],
) -> rapko_fs::Result<(Tree, Vec<InstalledPackage>)> {
    let mut tree = Tree::new();
    let installed = rapko_fs::install_packages(&mut tree, packages)?;
    Ok((tree, installed))
}

pub fn install_ok(apks: &[BuiltApk]) -> (Tree, Vec<InstalledPackage>) {
    install(apks).unwrap_or_else(|e| panic!("install failed: {e}"))
}

/// The error message of an install that must fail.
pub fn install_err(apks: &[BuiltApk]) -> String {
    match install(apks) {
        Ok(_) => panic!("install succeeded but should have failed"),
        Err(e) => e.to_string(),
    }
}

/// A config from YAML (defaults applied and validated, as `rapko` loads it).
pub fn config(yaml: &str) -> ImageConfiguration {
    rapko_config::parse_str(yaml, Path::new("test.yaml"))
        .unwrap_or_else(|e| panic!("config does not load: {e}"))
}

/// The whole root filesystem of packages (in order) and a config.
pub fn rootfs_of(packages: &[PackageToInstall], yaml: &str) -> rapko_fs::Result<Rootfs> {
    rootfs_for_arch(packages, yaml, "x86_64")
}

/// [`rootfs_of`] for another apk architecture.
pub fn rootfs_for_arch(
    packages: &[PackageToInstall],
    yaml: &str,
    arch: &str,
) -> rapko_fs::Result<Rootfs> {
    let config = config(yaml);
    build_rootfs(
        packages,
        &RootfsOptions {
            config: &config,
            arch,
            keys: vec![(
                rapko_test::TEST_KEY_NAME.to_owned(),
                rapko_test::test_public_key_pem().to_owned(),
            )],
            runtime_repositories: vec!["https://example.org/main".to_owned()],
            build_time: BUILD_TIME,
        },
    )
}

pub fn rootfs(apks: &[BuiltApk], yaml: &str) -> Rootfs {
    let packages: Vec<PackageToInstall> = apks.iter().map(to_install).collect();
    rootfs_of(&packages, yaml).unwrap_or_else(|e| panic!("rootfs failed: {e}"))
}

pub fn rootfs_err(apks: &[BuiltApk], yaml: &str) -> String {
    let packages: Vec<PackageToInstall> = apks.iter().map(to_install).collect();
    match rootfs_of(&packages, yaml) {
        Ok(_) => panic!("rootfs succeeded but should have failed"),
        Err(e) => e.to_string(),
    }
}

/// The content of the regular file at `path` (following a hard link), panicking otherwise.
pub fn content(tree: &Tree, path: &str) -> Vec<u8> {
    let node = tree
        .get(path)
        .unwrap_or_else(|| panic!("/{path} is not in the tree"));
    let node = match &node.kind {
        NodeKind::Hardlink(target) => tree.get(target).expect("link target"),
        _ => node,
    };
    match &node.kind {
        NodeKind::File(c) => c.bytes().expect("content readable").into_owned(),
        other => panic!("/{path} is {other:?}, not a file"),
    }
}

pub fn symlink_target<'t>(tree: &'t Tree, path: &str) -> &'t str {
    match tree.get(path).map(|n| &n.kind) {
        Some(NodeKind::Symlink(t)) => t,
        other => panic!("/{path} is {other:?}, not a symlink"),
    }
}

/// The text of a file of the tree.
pub fn text(tree: &Tree, path: &str) -> String {
    String::from_utf8_lossy(&content(tree, path)).into_owned()
}

/// The files a package's database record lists, sorted.
pub fn owned_files(record: &InstalledPackage) -> Vec<String> {
    let mut files: Vec<String> = record.file_paths().collect();
    files.sort();
    files
}

/// The record of the package named `name`.
pub fn record<'a>(installed: &'a [InstalledPackage], name: &str) -> &'a InstalledPackage {
    installed
        .iter()
        .find(|p| p.info.name == name)
        .unwrap_or_else(|| panic!("no record for {name}"))
}

/// A hand-written data tar: (path, entry type, mode, uid, gid, content, link target, PAX
/// records) per entry.
#[derive(Default)]
pub struct DataTar {
    builder: Vec<u8>,
}

impl DataTar {
    pub fn dir(self, path: &str) -> Self {
        self.entry(path, tar::EntryType::Directory, 0o755, b"", None, &[])
    }

    pub fn file(self, path: &str, content: &[u8]) -> Self {
        self.entry(path, tar::EntryType::Regular, 0o644, content, None, &[])
    }

    pub fn entry(
        mut self,
        path: &str,
        kind: tar::EntryType,
        mode: u32,
        content: &[u8],
        link: Option<&str>,
        pax: &[(&str, &[u8])],
    ) -> Self {
        if !pax.is_empty() {
            let mut body = Vec::new();
            for (key, value) in pax {
                let rest = key.len() + value.len() + 3;
                let mut len = rest + 1;
                while len.to_string().len() + rest > len {
                    len += 1;
                }
                body.extend(format!("{len} {key}=").into_bytes());
                body.extend_from_slice(value);
                body.push(b'\n');
            }
            let mut header = tar::Header::new_ustar();
            header.set_path("PaxHeaders/x").expect("pax path");
            header.set_entry_type(tar::EntryType::XHeader);
            header.set_uid(0);
            header.set_gid(0);
            header.set_mtime(0);
            header.set_size(body.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            self.push(&header, &body);
        }
        let mut header = tar::Header::new_ustar();
        // Raw bytes: hostile paths must reach the reader unchanged.
        let name = &mut header.as_old_mut().name;
        name[..path.len()].copy_from_slice(path.as_bytes());
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_size(content.len() as u64);
        header.set_mtime(rapko_test::DEFAULT_BUILDDATE);
        if let Some(link) = link {
            header.set_link_name(link).expect("link name");
        }
        header.set_cksum();
        self.push(&header, content);
        self
    }

    fn push(&mut self, header: &tar::Header, content: &[u8]) {
        self.builder.extend_from_slice(header.as_bytes());
        self.builder.extend_from_slice(content);
        let pad = (512 - content.len() % 512) % 512;
        self.builder.extend(std::iter::repeat_n(0u8, pad));
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.builder.extend([0u8; 1024]);
        self.builder
    }
}
