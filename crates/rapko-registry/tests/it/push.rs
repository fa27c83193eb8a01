//! Pushing images, indexes and SBOMs, and pushing them again.

use rapko_oci::media;
use rapko_registry::{PushRequest, Reference, Root, Sbom, blocking};

use crate::support::{
    Proxy, Registry, fast_options, http_get, multi_arch, single_arch, skopeo_inspect_arch,
    skopeo_pull, skopeo_raw,
};

fn reference(s: &str) -> Reference {
    s.parse().unwrap()
}

fn tools() -> Option<Registry> {
    rapko_test::require_tool("skopeo")?;
    Registry::start()
}

#[test]
fn single_arch_image_arrives_byte_exact() {
    let Some(reg) = tools() else { return };
    let image = single_arch(&[("etc/motd", b"welcome\n"), ("etc/os-release", b"ID=test\n")]);
    let dest = format!("{}/team/app", reg.addr());
    let request = PushRequest::new(
        &image.layout,
        Root::Tag("v1".into()),
        vec![
            reference(&format!("{dest}:v1")),
            reference(&format!("{dest}:latest")),
        ],
    );
    let report = blocking::push(&request, &fast_options()).unwrap();
    assert_eq!(report.root, image.root);
    assert_eq!(
        (report.blobs_uploaded, report.blobs_skipped),
        (2, 0),
        "{report:?}"
    );
    // The manifest by digest, then two tags.
    assert_eq!(report.manifests_pushed, 3, "{report:?}");
    assert_eq!(
        report.image_refs(),
        vec![format!("{dest}@{}", image.root.digest)]
    );

    let ours = image.blob(&image.root);
    for tag in ["v1", "latest"] {
        assert_eq!(
            skopeo_raw(&format!("{dest}:{tag}"), None),
            ours,
            "tag {tag}"
        );
    }
    assert_eq!(
        skopeo_raw(&format!("{dest}@{}", image.root.digest), None),
        ours
    );
    let pulled = tempfile::tempdir().unwrap();
    assert_eq!(
        skopeo_pull(&format!("{dest}:v1"), None, &pulled.path().join("oci")),
        ours
    );
}

#[test]
fn multi_arch_index_and_both_images_arrive() {
    let Some(reg) = tools() else { return };
    let image = multi_arch();
    let dest = format!("{}/multi", reg.addr());
    let request = PushRequest::new(
        &image.layout,
        Root::Sole,
        vec![reference(&format!("{dest}:v1"))],
    );
    let report = blocking::push(&request, &fast_options()).unwrap();
    assert_eq!(report.root.media_type, media::OCI_INDEX);
    // Two layers, two configs; two manifests, the index, one tag.
    assert_eq!(
        (report.blobs_uploaded, report.manifests_pushed),
        (4, 4),
        "{report:?}"
    );

    assert_eq!(
        skopeo_raw(&format!("{dest}:v1"), None),
        image.blob(&image.root)
    );
    for m in &image.manifests {
        assert_eq!(
            skopeo_raw(&format!("{dest}@{}", m.digest), None),
            image.blob(m)
        );
    }
    // skopeo 1.9 reports the index's digest as "Digest"; the layers say which image it
    // picked.
    let layers_of = |m: &rapko_oci::Descriptor| {
        let parsed: rapko_oci::ImageManifest = serde_json::from_slice(&image.blob(m)).unwrap();
        serde_json::json!(
            parsed
                .layers
                .iter()
                .map(|l| l.digest.to_string())
                .collect::<Vec<_>>()
        )
    };
    let arm = skopeo_inspect_arch(&format!("{dest}:v1"), "arm64");
    assert_eq!(arm["Architecture"], "arm64");
    assert_eq!(arm["Layers"], layers_of(&image.manifests[1]));
    let amd = skopeo_inspect_arch(&format!("{dest}:v1"), "amd64");
    assert_eq!(amd["Architecture"], "amd64");
    assert_eq!(amd["Layers"], layers_of(&image.manifests[0]));
    assert_ne!(amd["Layers"], arm["Layers"]);

    let pulled = tempfile::tempdir().unwrap();
    let index = skopeo_pull(&format!("{dest}:v1"), None, &pulled.path().join("oci"));
    assert_eq!(
        index,
        image.blob(&image.root),
        "skopeo copy --all keeps our index"
    );
}

#[test]
fn sboms_attach_by_subject_and_by_tag() {
    let Some(reg) = tools() else { return };
    let image = multi_arch();
    let dest = format!("{}/withsbom", reg.addr());
    let mut request = PushRequest::new(
        &image.layout,
        Root::Tag("v1".into()),
        vec![reference(&format!("{dest}:v1"))],
    );
    for m in &image.manifests {
        let spdx = format!(r#"{{"spdxVersion":"SPDX-2.3","name":"{}"}}"#, m.digest);
        request.sboms.push(Sbom::spdx(m.digest, spdx.into_bytes()));
        request.sboms.push(Sbom::cyclonedx(
            m.digest,
            br#"{"bomFormat":"CycloneDX","specVersion":"1.6"}"#.to_vec(),
        ));
    }
    request.sboms.push(Sbom::spdx(
        image.root.digest,
        br#"{"spdxVersion":"SPDX-2.3","name":"index"}"#.to_vec(),
    ));
    let report = blocking::push(&request, &fast_options()).unwrap();
    assert_eq!(report.sboms.len(), 5);

    for (i, sbom) in request.sboms.iter().enumerate() {
        let artifact = &report.sboms[i];
        assert_eq!(
            artifact.artifact_type.as_deref(),
            Some(sbom.media_type.as_str())
        );
        let by_digest = skopeo_raw(&format!("{dest}@{}", artifact.digest), None);
        assert_eq!(rapko_oci::Digest::of(&by_digest), artifact.digest);
        let m: serde_json::Value = serde_json::from_slice(&by_digest).unwrap();
        assert_eq!(m["subject"]["digest"], sbom.subject.to_string());
        assert_eq!(m["config"]["mediaType"], media::OCI_EMPTY);
        // The SBOM itself and the {} config are blobs of the repository.
        let layer = m["layers"][0]["digest"].as_str().unwrap();
        let (status, _, body) = http_get(reg.port, &format!("/v2/withsbom/blobs/{layer}")).unwrap();
        assert_eq!((status, body), (200, sbom.bytes.to_vec()));
        let (status, _, body) = http_get(
            reg.port,
            &format!(
                "/v2/withsbom/blobs/{}",
                m["config"]["digest"].as_str().unwrap()
            ),
        )
        .unwrap();
        assert_eq!((status, body), (200, b"{}".to_vec()));
    }
    // The tag fallback: the SPDX one of each subject.
    for (i, subject) in [
        (0, image.manifests[0].digest),
        (2, image.manifests[1].digest),
        (4, image.root.digest),
    ] {
        let tagged = skopeo_raw(
            &format!("{dest}:{}", rapko_registry::fallback_tag(&subject)),
            None,
        );
        assert_eq!(
            rapko_oci::Digest::of(&tagged),
            report.sboms[i].digest,
            "fallback tag of {subject}"
        );
    }
    // The image is untouched by its attachments.
    assert_eq!(
        skopeo_raw(&format!("{dest}:v1"), None),
        image.blob(&image.root)
    );
}

#[test]
fn pushing_again_uploads_nothing() {
    let Some(reg) = tools() else { return };
    let proxy = Proxy::start(reg.port, vec![]);
    let image = multi_arch();
    let dest = format!("{}/again", proxy.addr());
    let mut request = PushRequest::new(
        &image.layout,
        Root::Sole,
        vec![reference(&format!("{dest}:v1"))],
    );
    request
        .sboms
        .push(Sbom::spdx(image.manifests[0].digest, b"{}{}".to_vec()));
    let first = blocking::push(&request, &fast_options()).unwrap();
    assert!(
        first.blobs_uploaded >= 4 && first.bytes_uploaded > 0,
        "{first:?}"
    );

    proxy.clear();
    let second = blocking::push(&request, &fast_options()).unwrap();
    assert_eq!(
        (
            second.blobs_uploaded,
            second.blobs_mounted,
            second.bytes_uploaded
        ),
        (0, 0, 0),
        "{second:?}"
    );
    assert_eq!(second.blobs_skipped, first.blobs_uploaded);
    assert_eq!(second.manifests_pushed, 0, "{second:?}");
    assert_eq!(second.manifests_skipped, first.manifests_pushed);
    let writes: Vec<String> = proxy
        .requests()
        .into_iter()
        .filter(|r| !r.starts_with("HEAD ") && r != "GET /v2/")
        .collect();
    assert!(writes.is_empty(), "the second push only asks: {writes:?}");
    assert_eq!(first.image_refs(), second.image_refs());
}

#[test]
fn second_repository_mounts_blobs_from_the_first() {
    let Some(reg) = tools() else { return };
    let proxy = Proxy::start(reg.port, vec![]);
    let image = single_arch(&[("etc/one", b"1\n")]);
    let request = PushRequest::new(
        &image.layout,
        Root::Tag("v1".into()),
        vec![
            reference(&format!("{}/first:v1", proxy.addr())),
            reference(&format!("{}/second:v1", proxy.addr())),
        ],
    );
    let report = blocking::push(&request, &fast_options()).unwrap();
    assert_eq!(
        (report.blobs_uploaded, report.blobs_mounted),
        (2, 2),
        "{report:?}"
    );
    assert_eq!(proxy.count("POST", "mount="), 2, "{:?}", proxy.requests());
    assert_eq!(report.image_refs().len(), 2);
    for repo in ["first", "second"] {
        let pulled = tempfile::tempdir().unwrap();
        let raw = skopeo_pull(
            &format!("{}/{repo}:v1", reg.addr()),
            None,
            &pulled.path().join("oci"),
        );
        assert_eq!(raw, image.blob(&image.root));
    }

    // Caller-named mounts: a third repository mounts from "first".
    let mut request = PushRequest::new(
        &image.layout,
        Root::Tag("v1".into()),
        vec![reference(&format!("{}/third:v1", reg.addr()))],
    );
    request.mount_from.push("first".into());
    let report = blocking::push(&request, &fast_options()).unwrap();
    assert_eq!(
        (report.blobs_uploaded, report.blobs_mounted),
        (0, 2),
        "{report:?}"
    );

    // A mount source that lacks the blob falls back to an upload on the session it opened.
    let mut request = PushRequest::new(
        &image.layout,
        Root::Tag("v1".into()),
        vec![reference(&format!("{}/fourth:v1", reg.addr()))],
    );
    request.mount_from.push("nothing-here".into());
    let report = blocking::push(&request, &fast_options()).unwrap();
    assert_eq!(
        (report.blobs_uploaded, report.blobs_mounted),
        (2, 0),
        "{report:?}"
    );
    assert_eq!(
        skopeo_raw(&format!("{}/fourth:v1", reg.addr()), None),
        image.blob(&image.root)
    );
}

#[test]
fn chunked_upload_of_a_big_layer() {
    let Some(reg) = tools() else { return };
    let proxy = Proxy::start(reg.port, vec![]);
    let image = crate::support::big_image(3 << 20, 7);
    let options = rapko_registry::Options {
        monolithic_limit: 1 << 20,
        chunk_size: 1 << 20,
        ..fast_options()
    };
    let dest = format!("{}/chunked:v1", proxy.addr());
    let request = PushRequest::new(
        &image.layout,
        Root::Tag("v1".into()),
        vec![reference(&dest)],
    );
    let report = blocking::push(&request, &options).unwrap();
    // The ~3 MiB layer in four 1 MiB chunks (gzip adds a little), the config in one PUT.
    assert_eq!(
        proxy.count("PATCH", "/blobs/uploads/"),
        4,
        "{:?}",
        proxy.requests()
    );
    assert!(report.bytes_uploaded > 3 << 20, "{report:?}");
    let pulled = tempfile::tempdir().unwrap();
    assert_eq!(
        skopeo_pull(
            &format!("{}/chunked:v1", reg.addr()),
            None,
            &pulled.path().join("oci")
        ),
        image.blob(&image.root)
    );
}

#[test]
fn destination_digest_must_match() {
    let image = single_arch(&[("etc/x", b"x")]);
    let other = rapko_oci::Digest::of(b"other");
    let request = PushRequest::new(
        &image.layout,
        Root::Sole,
        vec![reference(&format!("127.0.0.1:1/x@{other}"))],
    );
    let err = blocking::push(&request, &fast_options())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&other.to_string()) && err.contains(&image.root.digest.to_string()),
        "{err}"
    );
    let request = PushRequest::new(&image.layout, Root::Sole, vec![]);
    let err = blocking::push(&request, &fast_options())
        .unwrap_err()
        .to_string();
    assert!(err.contains("nothing to push"), "{err}");
}

#[test]
fn straight_from_a_blob_store() {
    let Some(reg) = tools() else { return };
    // What `rapko publish` has after a build: a blob store and the root descriptor, no
    // index.json.
    let dir = tempfile::tempdir().unwrap();
    let store = rapko_oci::BlobStore::open(dir.path()).unwrap();
    let mut root =
        crate::support::build(&store, &crate::support::amd64(), &[("etc/store", b"s\n")]);
    root.platform = None;
    assert!(!dir.path().join("index.json").exists());
    let dest = format!("{}/fromstore:v1", reg.addr());
    let request = PushRequest::new(
        store.root(),
        Root::Descriptor(root.clone()),
        vec![reference(&dest)],
    );
    let report = blocking::push(&request, &fast_options()).unwrap();
    assert_eq!(report.root, root);
    assert_eq!(skopeo_raw(&dest, None), store.read(&root.digest).unwrap());
}
