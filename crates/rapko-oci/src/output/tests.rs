use std::fs;
use std::io::{Read, Write};
use std::path::Path;

use super::*;
use crate::config::ImageConfig;
use crate::descriptor::Platform;
use crate::gzip::GzipOptions;

fn name(s: &str) -> ImageName {
    s.parse().unwrap()
}

/// A one-layer image whose layer holds `content`; returns its manifest descriptor.
fn image(store: &BlobStore, content: &str, platform: Option<Platform>) -> Descriptor {
    let mut w = store
        .layer_writer(GzipOptions::default().with_threads(1))
        .unwrap();
    w.write_all(content.as_bytes()).unwrap();
    let layer = w.finish().unwrap();
    let arch = platform
        .as_ref()
        .map_or("amd64", |p| p.architecture.as_str());
    let config = store
        .put_config(&ImageConfig::new(arch, "linux", vec![layer.diff_id]))
        .unwrap();
    let d = store
        .put_manifest(&ImageManifest::new(config, vec![layer.descriptor()]))
        .unwrap();
    Descriptor { platform, ..d }
}

fn index(store: &BlobStore, manifests: Vec<Descriptor>) -> Descriptor {
    store.put_index(&ImageIndex::new(manifests)).unwrap()
}

fn tagged(root: Descriptor, names: &[&str]) -> TaggedImage {
    TaggedImage::new(root, names.iter().map(|n| name(n)).collect())
}

fn ref_names(entries: &[Descriptor]) -> Vec<&str> {
    entries
        .iter()
        .map(|d| {
            d.annotations
                .get(annotations::REF_NAME)
                .map_or("", String::as_str)
        })
        .collect()
}

#[test]
fn single_image_plan() {
    let store = BlobStore::temporary().unwrap();
    let m = image(&store, "a", None);
    let plan = Plan::build(&store, &[tagged(m.clone(), &["app:1", "app:latest"])]).unwrap();
    assert_eq!(ref_names(&plan.index_entries), ["1", "latest"]);
    assert_eq!(
        plan.index_entries[0].annotations[annotations::CONTAINERD_IMAGE_NAME],
        "docker.io/library/app:1"
    );
    assert!(plan.index_entries.iter().all(|e| e.digest == m.digest));
    assert_eq!(plan.blobs.len(), 3);
    let parsed: ImageManifest = store.read_json(&m.digest, "manifest").unwrap();
    let expected = format!(
        r#"[{{"Config":"blobs/sha256/{}","RepoTags":["docker.io/library/app:1","docker.io/library/app:latest"],"Layers":["blobs/sha256/{}"]}}]"#,
        parsed.config.digest.hex(),
        parsed.layers[0].digest.hex()
    );
    assert_eq!(
        String::from_utf8(plan.manifest_json().unwrap()).unwrap(),
        expected
    );
}

#[test]
fn index_plan_tags_each_platform() {
    let store = BlobStore::temporary().unwrap();
    let amd = image(&store, "a", Some(Platform::new("amd64", "linux")));
    let v6 = image(
        &store,
        "b",
        Some(Platform::new("arm", "linux").with_variant("v6")),
    );
    let v7 = image(
        &store,
        "c",
        Some(Platform::new("arm", "linux").with_variant("v7")),
    );
    let arm64 = image(
        &store,
        "d",
        Some(Platform::new("arm64", "linux").with_variant("v8")),
    );
    let idx = index(&store, vec![amd, v6, v7, arm64]);
    let plan = Plan::build(&store, &[tagged(idx.clone(), &["x/app:1"])]).unwrap();
    assert_eq!(
        ref_names(&plan.index_entries),
        ["1", "1-amd64", "1-arm_v6", "1-arm_v7", "1-arm64"]
    );
    assert_eq!(plan.index_entries[0].digest, idx.digest);
    let tags: Vec<_> = plan.docker.iter().map(|e| e.repo_tags.join(",")).collect();
    assert_eq!(
        tags,
        [
            "docker.io/x/app:1-amd64",
            "docker.io/x/app:1-arm_v6",
            "docker.io/x/app:1-arm_v7",
            "docker.io/x/app:1-arm64"
        ]
    );
    // The index, four manifests, four configs, four layers.
    assert_eq!(plan.blobs.len(), 13);
}

#[test]
fn index_problems_are_reported() {
    let store = BlobStore::temporary().unwrap();
    let no_platform = image(&store, "a", None);
    let idx = index(&store, vec![no_platform]);
    let err = Plan::build(&store, &[tagged(idx, &["a:1"])]).unwrap_err();
    assert!(matches!(err, OutputError::NoPlatform { .. }), "{err}");

    let p = Some(Platform::new("amd64", "linux"));
    let idx = index(
        &store,
        vec![image(&store, "a", p.clone()), image(&store, "b", p)],
    );
    let err = Plan::build(&store, &[tagged(idx, &["a:1"])]).unwrap_err();
    assert!(
        matches!(err, OutputError::DuplicatePlatform { .. }),
        "{err}"
    );
}

#[test]
fn a_tag_names_one_image() {
    let store = BlobStore::temporary().unwrap();
    let a = image(&store, "a", None);
    let b = image(&store, "b", None);
    let err = Plan::build(&store, &[tagged(a.clone(), &["x:1"]), tagged(b, &["y:1"])]).unwrap_err();
    assert!(matches!(err, OutputError::DuplicateName { .. }), "{err}");
    assert!(err.to_string().contains("\"1\""), "{err}");
    // The same image under two repositories with one tag is one entry.
    let plan = Plan::build(&store, &[tagged(a.clone(), &["x:1"]), tagged(a, &["y:1"])]).unwrap();
    assert_eq!(plan.index_entries.len(), 1);
    assert_eq!(plan.docker.len(), 1);
    assert_eq!(plan.docker[0].repo_tags.len(), 2);
}

#[test]
fn missing_or_wrong_blobs_are_reported() {
    let store = BlobStore::temporary().unwrap();
    let m = image(&store, "a", None);
    let parsed: ImageManifest = store.read_json(&m.digest, "manifest").unwrap();
    let layer = store.blob_path(&parsed.layers[0].digest);

    fs::write(&layer, b"truncated").unwrap();
    let err = Plan::build(&store, &[tagged(m.clone(), &["a:1"])]).unwrap_err();
    assert!(matches!(err, OutputError::SizeMismatch { .. }), "{err}");

    fs::remove_file(&layer).unwrap();
    let err = Plan::build(&store, &[tagged(m, &["a:1"])]).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, OutputError::MissingBlob { .. }), "{msg}");
    assert!(msg.contains("layer of manifest"), "{msg}");

    let blob = store.put_bytes(b"{}", media::OCI_CONFIG).unwrap();
    let err = Plan::build(&store, &[tagged(blob, &["a:1"])]).unwrap_err();
    assert!(matches!(err, OutputError::NotAnImage { .. }), "{err}");

    assert!(matches!(
        Plan::build(&store, &[]),
        Err(OutputError::NoImages)
    ));
}

#[test]
fn layout_dir_adds_to_an_existing_layout() {
    let store = BlobStore::temporary().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let a = image(&store, "a", None);
    let b = image(&store, "b", None);
    let c = image(&store, "c", None);
    write_layout_dir(&store, &[tagged(a, &["app:a"])], dir.path()).unwrap();
    write_layout_dir(&store, &[tagged(b.clone(), &["app:b"])], dir.path()).unwrap();
    write_layout_dir(&store, &[tagged(c.clone(), &["app:a"])], dir.path()).unwrap();
    let idx: ImageIndex =
        serde_json::from_slice(&fs::read(dir.path().join("index.json")).unwrap()).unwrap();
    assert_eq!(ref_names(&idx.manifests), ["b", "a"]);
    assert_eq!(idx.manifests[0].digest, b.digest);
    assert_eq!(idx.manifests[1].digest, c.digest);
    assert_eq!(
        fs::read(dir.path().join("oci-layout")).unwrap(),
        br#"{"imageLayoutVersion":"1.0.0"}"#
    );
    // No temporary files left in the layout.
    for entry in fs::read_dir(dir.path().join("blobs/sha256")).unwrap() {
        let n = entry.unwrap().file_name().into_string().unwrap();
        assert!(Digest::from_hex(&n).is_ok(), "{n}");
    }

    fs::write(dir.path().join("index.json"), b"garbage").unwrap();
    let err = write_layout_dir(&store, &[tagged(b, &["app:b"])], dir.path()).unwrap_err();
    assert!(matches!(err, OutputError::ExistingIndex { .. }), "{err}");
}

#[test]
fn layout_dir_replaces_a_wrong_sized_blob() {
    let store = BlobStore::temporary().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let a = image(&store, "a", None);
    let bad = dir.path().join("blobs/sha256").join(a.digest.hex());
    fs::create_dir_all(bad.parent().unwrap()).unwrap();
    fs::write(&bad, b"partial").unwrap();
    write_layout_dir(&store, &[tagged(a.clone(), &["app:a"])], dir.path()).unwrap();
    assert_eq!(Digest::of(&fs::read(&bad).unwrap()), a.digest);
}

/// (path, mode, uid, gid, mtime, size, user name) of every entry.
fn listing(tar_bytes: &[u8]) -> Vec<(String, u32, u64, u64, u64, u64, String)> {
    let mut archive = tar::Archive::new(tar_bytes);
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let h = e.header();
            (
                e.path().unwrap().to_string_lossy().into_owned(),
                h.mode().unwrap(),
                h.uid().unwrap(),
                h.gid().unwrap(),
                h.mtime().unwrap(),
                h.size().unwrap(),
                h.username().unwrap().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn tarball_entries_are_fixed() {
    let store = BlobStore::temporary().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let m = image(&store, "a", None);
    let dest = dir.path().join("img.tar");
    let opts = TarballOptions {
        mtime: 1_700_000_000,
    };
    write_tarball(&store, &[tagged(m.clone(), &["app:1"])], &dest, &opts).unwrap();
    let bytes = fs::read(&dest).unwrap();
    let list = listing(&bytes);
    let paths: Vec<&str> = list.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        &paths[..5],
        [
            "oci-layout",
            "index.json",
            "manifest.json",
            "blobs/",
            "blobs/sha256/"
        ]
    );
    assert_eq!(paths.len(), 8);
    let mut blobs = paths[5..].to_vec();
    blobs.sort_unstable();
    assert_eq!(blobs, &paths[5..], "blobs are sorted by digest");
    assert!(paths.contains(&format!("blobs/sha256/{}", m.digest.hex()).as_str()));
    for (path, mode, uid, gid, mtime, _, user) in &list {
        let want = if path.ends_with('/') { 0o755 } else { 0o644 };
        assert_eq!(
            (*mode, *uid, *gid, *mtime),
            (want, 0, 0, 1_700_000_000),
            "{path}"
        );
        assert_eq!(user, "", "{path}");
    }
    // The manifest entry is byte-for-byte the stored blob.
    let mut archive = tar::Archive::new(&bytes[..]);
    let mut found = false;
    for e in archive.entries().unwrap() {
        let mut e = e.unwrap();
        if e.path().unwrap().ends_with(m.digest.hex()) {
            let mut content = Vec::new();
            e.read_to_end(&mut content).unwrap();
            assert_eq!(content, store.read(&m.digest).unwrap());
            found = true;
        }
    }
    assert!(found);
}

#[test]
fn tarball_is_byte_identical_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let write = |file: &str, threads: usize| {
        let store = BlobStore::temporary().unwrap();
        let mut w = store
            .layer_writer(GzipOptions::default().with_threads(threads))
            .unwrap();
        w.write_all(&vec![b'x'; 1 << 20]).unwrap();
        let layer = w.finish().unwrap();
        let config = store
            .put_config(&ImageConfig::new("amd64", "linux", vec![layer.diff_id]))
            .unwrap();
        let m = store
            .put_manifest(&ImageManifest::new(config, vec![layer.descriptor()]))
            .unwrap();
        let dest = dir.path().join(file);
        write_tarball(
            &store,
            &[tagged(m, &["app:1"])],
            &dest,
            &TarballOptions::default(),
        )
        .unwrap();
        fs::read(dest).unwrap()
    };
    assert!(write("a.tar", 1) == write("b.tar", 3));
}

#[test]
fn failed_tarball_leaves_the_old_one() {
    let store = BlobStore::temporary().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("img.tar");
    let m = image(&store, "a", None);
    write_tarball(
        &store,
        &[tagged(m.clone(), &["app:1"])],
        &dest,
        &TarballOptions::default(),
    )
    .unwrap();
    let before = fs::read(&dest).unwrap();
    let parsed: ImageManifest = store.read_json(&m.digest, "manifest").unwrap();
    fs::remove_file(store.blob_path(&parsed.layers[0].digest)).unwrap();
    let err = write_tarball(
        &store,
        &[tagged(m, &["app:2"])],
        &dest,
        &TarballOptions::default(),
    );
    assert!(err.is_err());
    assert_eq!(fs::read(&dest).unwrap(), before);
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        1,
        "temporary file left behind"
    );

    let err = write_tarball(
        &store,
        &[],
        &dir.path().join("no/such/dir.tar"),
        &TarballOptions::default(),
    );
    assert!(err.is_err());
    assert!(!Path::new(&dir.path().join("no")).exists());
}
