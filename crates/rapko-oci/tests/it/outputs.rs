//! Layout directories and tarballs, checked by skopeo, umoci, oci-image-tool, the JSON
//! schemas and podman.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use rapko_oci::{
    BlobStore, Descriptor, ImageIndex, ImageManifest, TaggedImage, TarballOptions,
    write_layout_dir, write_tarball,
};
use serde_json::Value;

use crate::support::*;

/// `skopeo inspect ARGS…` parsed.
fn skopeo_inspect(skopeo: &Path, args: &[&str]) -> Value {
    let out = run(Command::new(skopeo).arg("inspect").args(args));
    serde_json::from_str(&out).unwrap()
}

/// Unpacks `image` (`DIR:TAG`) with umoci, which checks every digest, size, media type
/// and diff ID; returns the content of the test file.
fn umoci_unpack(umoci: &Path, image: &str, bundle: &Path) -> String {
    let mut cmd = Command::new(umoci);
    cmd.arg("unpack");
    if !is_root() {
        cmd.arg("--rootless");
    }
    run(cmd.arg("--image").arg(image).arg(bundle));
    fs::read_to_string(bundle.join("rootfs/etc/hello.txt")).unwrap()
}

fn is_root() -> bool {
    fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            == Some("0")
    })
}

fn validate_layout(tool: &Path, dir: &Path) {
    let out = run(Command::new(tool)
        .args(["validate", "--type", "image"])
        .arg(dir));
    assert!(out.contains("Validation succeeded"), "{out}");
}

/// Checks index.json and every JSON blob of a layout against the image-spec schemas (one
/// check-jsonschema run per schema: each run costs a Python start-up).
fn check_schemas(dir: &Path) {
    let (Some(schemas), Some(cj)) = (schema_dir(), check_jsonschema()) else {
        return;
    };
    let mut by_schema: BTreeMap<&str, Vec<PathBuf>> = BTreeMap::new();
    by_schema.insert("image-index-schema.json", vec![dir.join("index.json")]);
    by_schema.insert("image-layout-schema.json", vec![dir.join("oci-layout")]);
    for entry in fs::read_dir(dir.join("blobs/sha256")).unwrap() {
        let path = entry.unwrap().path();
        let Ok(json) = serde_json::from_slice::<Value>(&fs::read(&path).unwrap()) else {
            continue; // a layer
        };
        let schema = if json.get("manifests").is_some() {
            "image-index-schema.json"
        } else if json.get("layers").is_some() {
            "image-manifest-schema.json"
        } else {
            "config-schema.json"
        };
        by_schema.entry(schema).or_default().push(path);
    }
    assert_eq!(by_schema.len(), 4, "{by_schema:?}");
    for (schema, files) in by_schema {
        run(Command::new(&cj)
            .arg("--base-uri")
            .arg(format!("file://{}/", schemas.display()))
            .arg("--schemafile")
            .arg(schemas.join(schema))
            .args(files));
    }
}

fn unpack_tar(tar_file: &Path, into: &Path) {
    fs::create_dir_all(into).unwrap();
    tar::Archive::new(fs::File::open(tar_file).unwrap())
        .unpack(into)
        .unwrap();
}

fn layout_arg(dir: &Path, tag: &str) -> String {
    format!("{}:{tag}", dir.display())
}

#[test]
fn single_arch_layout_dir_passes_the_tools() {
    let store = BlobStore::temporary().unwrap();
    let image = single(&store, &["hello:1.0"]);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("layout");
    write_layout_dir(&store, std::slice::from_ref(&image), &dir).unwrap();
    check_schemas(&dir);
    if let Some(tool) = rapko_test::require_tool("oci-image-tool") {
        validate_layout(&tool, &dir);
    }
    if let Some(umoci) = rapko_test::require_tool("umoci") {
        let hello = umoci_unpack(&umoci, &layout_arg(&dir, "1.0"), &tmp.path().join("bundle"));
        assert_eq!(hello, "hello from amd64\n");
    }
    if let Some(skopeo) = rapko_test::require_tool("skopeo") {
        let oci = format!("oci:{}", layout_arg(&dir, "1.0"));
        let v = skopeo_inspect(&skopeo, &[&oci]);
        assert_eq!(v["Digest"], image.root.digest.to_string());
        assert_eq!(v["Architecture"], "amd64");
        assert_eq!(v["Env"][0], "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
    }
}

#[test]
fn single_arch_tarball_passes_the_tools() {
    let store = BlobStore::temporary().unwrap();
    let image = single(&store, &["hello:1.0"]);
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("hello.tar");
    write_tarball(
        &store,
        std::slice::from_ref(&image),
        &file,
        &TarballOptions::default(),
    )
    .unwrap();
    if let Some(skopeo) = rapko_test::require_tool("skopeo") {
        let v = skopeo_inspect(&skopeo, &[&format!("oci-archive:{}", file.display())]);
        assert_eq!(v["Digest"], image.root.digest.to_string());
        let v = skopeo_inspect(&skopeo, &[&format!("docker-archive:{}", file.display())]);
        assert_eq!(v["Architecture"], "amd64");
        assert_eq!(v["Layers"].as_array().map(Vec::len), Some(1));
    }
    // The tar unpacked is a layout the strict tools accept.
    let dir = tmp.path().join("unpacked");
    unpack_tar(&file, &dir);
    check_schemas(&dir);
    if let Some(tool) = rapko_test::require_tool("oci-image-tool") {
        validate_layout(&tool, &dir);
    }
    if let Some(umoci) = rapko_test::require_tool("umoci") {
        let hello = umoci_unpack(&umoci, &layout_arg(&dir, "1.0"), &tmp.path().join("bundle"));
        assert_eq!(hello, "hello from amd64\n");
    }
}

/// The per-arch manifest of a two-arch image for `arch`.
fn arch_manifest(store: &BlobStore, image: &TaggedImage, arch: &str) -> Descriptor {
    let idx: ImageIndex = store.read_json(&image.root.digest, "index").unwrap();
    idx.manifests
        .into_iter()
        .find(|m| m.platform.as_ref().is_some_and(|p| p.architecture == arch))
        .unwrap()
}

#[test]
fn two_arch_layout_dir_and_tarball_pick_the_platform() {
    let store = BlobStore::temporary().unwrap();
    let image = multi(&store, &["multi:2.0"]);
    let arm = arch_manifest(&store, &image, "arm64");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("layout");
    let file = tmp.path().join("multi.tar");
    write_layout_dir(&store, std::slice::from_ref(&image), &dir).unwrap();
    write_tarball(
        &store,
        std::slice::from_ref(&image),
        &file,
        &TarballOptions::default(),
    )
    .unwrap();
    check_schemas(&dir);
    if let Some(tool) = rapko_test::require_tool("oci-image-tool") {
        validate_layout(&tool, &dir);
    }
    if let Some(umoci) = rapko_test::require_tool("umoci") {
        let hello = umoci_unpack(
            &umoci,
            &layout_arg(&dir, "2.0-arm64"),
            &tmp.path().join("bundle"),
        );
        assert_eq!(hello, "hello from arm64\n");
    }
    let Some(skopeo) = rapko_test::require_tool("skopeo") else {
        return;
    };
    let sources = [
        format!("oci:{}", layout_arg(&dir, "2.0")),
        format!("oci-archive:{}", layout_arg(&file, "2.0")),
    ];
    for src in &sources {
        let v = skopeo_inspect(&skopeo, &["--override-arch", "arm64", src]);
        assert_eq!(v["Architecture"], "arm64", "{src}");
        let v = skopeo_inspect(&skopeo, &["--override-arch", "amd64", src]);
        assert_eq!(v["Architecture"], "amd64", "{src}");
        // --raw shows the index itself, byte for byte.
        let raw = run(Command::new(&skopeo).args(["inspect", "--raw", src]));
        assert_eq!(
            raw.as_bytes(),
            store.read(&image.root.digest).unwrap(),
            "{src}"
        );
    }
    let v = skopeo_inspect(
        &skopeo,
        &[&format!("oci:{}", layout_arg(&dir, "2.0-arm64"))],
    );
    assert_eq!(v["Digest"], arm.digest.to_string());
    let docker = format!(
        "docker-archive:{}:docker.io/library/multi:2.0-arm64",
        file.display()
    );
    let v = skopeo_inspect(&skopeo, &[&docker]);
    assert_eq!(v["Architecture"], "arm64");
}

/// A podman whose storage and configuration live in `dir` (see TOOLS.md).
fn podman(podman: &Path, dir: &Path) -> impl Fn(&[&str]) -> String + use<> {
    let conf = dir.join("containers.conf");
    let storage = dir.join("storage.conf");
    let tmp = dir.join("tmp");
    fs::create_dir_all(&tmp).unwrap();
    fs::write(
        &conf,
        "[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]\n\
         netns = \"none\"\n[engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\n\
         events_logger = \"file\"\n",
    )
    .unwrap();
    fs::write(
        &storage,
        format!(
            "[storage]\ndriver = \"vfs\"\ngraphroot = \"{}\"\nrunroot = \"{}\"\n",
            dir.join("root").display(),
            dir.join("run").display()
        ),
    )
    .unwrap();
    let podman = podman.to_owned();
    move |args: &[&str]| {
        run(Command::new(&podman)
            .args(args)
            .env("CONTAINERS_CONF", &conf)
            .env("CONTAINERS_STORAGE_CONF", &storage)
            .env("TMPDIR", &tmp))
    }
}

#[test]
fn podman_loads_the_tarballs_with_the_expected_names() {
    let Some(tool) = rapko_test::require_tool("podman") else {
        return;
    };
    let store = BlobStore::temporary().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let one = tmp.path().join("one.tar");
    let two = tmp.path().join("two.tar");
    let single_image = single(&store, &["hello:1.0"]);
    write_tarball(&store, &[single_image], &one, &TarballOptions::default()).unwrap();
    write_tarball(
        &store,
        &[multi(&store, &["multi:2.0"])],
        &two,
        &TarballOptions::default(),
    )
    .unwrap();
    let podman = podman(&tool, &tmp.path().join("podman"));

    podman(&["load", "-q", "-i", one.to_str().unwrap()]);
    podman(&["load", "-q", "-i", two.to_str().unwrap()]);
    let mut names: Vec<String> = podman(&["images", "--format", "{{.Repository}}:{{.Tag}}"])
        .lines()
        .map(str::to_owned)
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "docker.io/library/hello:1.0",
            "docker.io/library/multi:2.0-amd64",
            "docker.io/library/multi:2.0-arm64"
        ]
    );
    let arch = podman(&[
        "image",
        "inspect",
        "--format",
        "{{.Architecture}}",
        "docker.io/library/multi:2.0-arm64",
    ]);
    assert_eq!(arch.trim(), "arm64");
}

/// Every file under `dir` with its content, sorted by path.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let content = fs::read(&p).unwrap();
                out.push((p.strip_prefix(dir).unwrap().to_owned(), content));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn two_builds_give_identical_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let build = |run_dir: &str| {
        let base = tmp.path().join(run_dir);
        fs::create_dir_all(&base).unwrap();
        let store = BlobStore::temporary_in(&base).unwrap();
        let images = [
            single(&store, &["hello:1.0"]),
            multi(&store, &["multi:2.0"]),
        ];
        write_layout_dir(&store, &images, &base.join("layout")).unwrap();
        let opts = TarballOptions { mtime: EPOCH };
        write_tarball(&store, &images, &base.join("image.tar"), &opts).unwrap();
        (
            tree(&base.join("layout")),
            fs::read(base.join("image.tar")).unwrap(),
        )
    };
    let (layout_a, tar_a) = build("a");
    let (layout_b, tar_b) = build("b");
    assert!(layout_a == layout_b, "layout directories differ");
    assert!(tar_a == tar_b, "tarballs differ");
    // index.json, oci-layout, the index and 2 × (manifest, config, layer): the single
    // image is the same as the index's amd64 image, so it adds nothing.
    assert_eq!(layout_a.len(), 9);
}

/// The digest of the test image's manifest. It changes only if the JSON serialization,
/// the tar built here, or the compressed bytes change (a zlib-rs upgrade could do it):
/// then check that the new output is still deterministic and update the value.
#[test]
fn image_digest_is_stable() {
    let store = BlobStore::temporary().unwrap();
    let image = single(&store, &["hello:1.0"]);
    let manifest: ImageManifest = store.read_json(&image.root.digest, "manifest").unwrap();
    let config = String::from_utf8(store.read(&manifest.config.digest).unwrap()).unwrap();
    let expected_config = format!(
        concat!(
            r#"{{"created":"2023-11-14T22:13:20Z","author":"rapko tests","architecture":"amd64","os":"linux","#,
            r#""config":{{"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/sh"],"WorkingDir":"/"}},"#,
            r#""rootfs":{{"type":"layers","diff_ids":["{}"]}},"#,
            r#""history":[{{"created":"2023-11-14T22:13:20Z","created_by":"rapko tests"}}]}}"#
        ),
        rapko_oci::Digest::of(&rootfs_tar("amd64"))
    );
    assert_eq!(config, expected_config);
    assert_eq!(
        image.root.digest.to_string(),
        "sha256:18e6cb690580bb6de7820c660cd6e63e8ed9291873f4ea74c62049510246756d"
    );
}
