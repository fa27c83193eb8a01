//! Building small images in a blob store, and running external tools.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rapko_oci::{
    BlobStore, ContainerConfig, Descriptor, GzipOptions, History, ImageConfig, ImageIndex,
    ImageManifest, ImageName, Platform, TaggedImage, rfc3339_utc,
};

/// Build time used for every test image (2023-11-14T22:13:20Z).
pub const EPOCH: u64 = 1_700_000_000;

/// A tar with a directory and a static file whose content names `arch`.
pub fn rootfs_tar(arch: &str) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut dir = tar::Header::new_ustar();
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_mode(0o755);
    dir.set_size(0);
    dir.set_mtime(EPOCH);
    b.append_data(&mut dir, "etc/", std::io::empty()).unwrap();
    let body = format!("hello from {arch}\n");
    let mut file = tar::Header::new_ustar();
    file.set_mode(0o644);
    file.set_size(body.len() as u64);
    file.set_mtime(EPOCH);
    b.append_data(&mut file, "etc/hello.txt", body.as_bytes())
        .unwrap();
    b.into_inner().unwrap()
}

/// Stores a one-layer image for `platform`; returns its manifest descriptor (with the
/// platform set, ready for an index).
pub fn build_image(store: &BlobStore, platform: &Platform) -> Descriptor {
    let mut w = store
        .layer_writer(GzipOptions::default().with_threads(2))
        .unwrap();
    w.write_all(&rootfs_tar(&platform.architecture)).unwrap();
    let layer = w.finish().unwrap();
    let mut config = ImageConfig::for_platform(platform, vec![layer.diff_id]);
    config.created = Some(rfc3339_utc(EPOCH as i64));
    config.author = Some("rapko tests".into());
    config.config = ContainerConfig {
        env: vec!["PATH=/usr/sbin:/usr/bin:/sbin:/bin".into()],
        cmd: Some(vec!["/bin/sh".into()]),
        working_dir: Some("/".into()),
        ..ContainerConfig::default()
    };
    config.history = vec![History {
        created: config.created.clone(),
        created_by: Some("rapko tests".into()),
        ..History::default()
    }];
    let config = store.put_config(&config).unwrap();
    let manifest = ImageManifest::new(config, vec![layer.descriptor()]);
    store
        .put_manifest(&manifest)
        .unwrap()
        .with_platform(platform.clone())
}

pub fn amd64() -> Platform {
    Platform::new("amd64", "linux")
}

pub fn arm64() -> Platform {
    Platform::new("arm64", "linux").with_variant("v8")
}

pub fn name(s: &str) -> ImageName {
    s.parse().unwrap()
}

/// A single-arch image named `names`.
pub fn single(store: &BlobStore, names: &[&str]) -> TaggedImage {
    let mut root = build_image(store, &amd64());
    root.platform = None;
    TaggedImage::new(root, names.iter().map(|n| name(n)).collect())
}

/// A two-arch (amd64, arm64) index named `names`.
pub fn multi(store: &BlobStore, names: &[&str]) -> TaggedImage {
    let manifests = vec![build_image(store, &amd64()), build_image(store, &arm64())];
    let root = store.put_index(&ImageIndex::new(manifests)).unwrap();
    TaggedImage::new(root, names.iter().map(|n| name(n)).collect())
}

/// Runs a command; panics with its output unless it succeeds. Returns stdout.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    check(cmd, &out);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn check(cmd: &Command, out: &Output) {
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The image-spec JSON schemas, if installed.
pub fn schema_dir() -> Option<PathBuf> {
    let dir = PathBuf::from("/usr/share/gocode/src/github.com/opencontainers/image-spec/schema");
    if dir.join("image-manifest-schema.json").is_file() {
        return Some(dir);
    }
    assert!(
        !rapko_test::tools_required(),
        "image-spec schemas missing at {} (RAPKO_REQUIRE_TOOLS=1)",
        dir.display()
    );
    eprintln!("skipping: image-spec schemas not installed (see ../shared/docs/TOOLS.md)");
    None
}

/// check-jsonschema from PATH or the project's venv.
pub fn check_jsonschema() -> Option<PathBuf> {
    let venv = Path::new("/tmp/rapko-venv/bin/check-jsonschema");
    if venv.is_file() {
        return Some(venv.to_owned());
    }
    rapko_test::require_tool("check-jsonschema")
}
