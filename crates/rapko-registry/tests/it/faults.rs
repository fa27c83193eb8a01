//! Network faults: dropped connections in the middle of uploads, 5xx and 429 answers,
//! and a registry that is not there.

use rapko_registry::{Error, Options, PushRequest, Root, blocking};

use crate::support::{
    Action, Fault, Proxy, Registry, big_image, fast_options, free_port, single_arch, skopeo_pull,
    skopeo_raw,
};

fn chunked() -> Options {
    Options {
        monolithic_limit: 1 << 20,
        chunk_size: 1 << 20,
        ..fast_options()
    }
}

/// Pushes `image` through a proxy with `faults`; checks the registry holds the complete
/// image (skopeo copy verifies every digest). Returns the proxy's request log.
fn push_through(
    faults: Vec<Fault>,
    options: &Options,
    image: &crate::support::TestImage,
) -> Vec<String> {
    let Some(_) = rapko_test::require_tool("skopeo") else {
        return Vec::new();
    };
    let Some(reg) = Registry::start() else {
        return Vec::new();
    };
    let proxy = Proxy::start(reg.port, faults);
    let request = PushRequest::new(
        &image.layout,
        Root::Sole,
        vec![format!("{}/faulty:v1", proxy.addr()).parse().unwrap()],
    );
    let report = blocking::push(&request, options)
        .unwrap_or_else(|e| panic!("push failed: {e}\nregistry log:\n{}", reg.log()));
    assert_eq!(report.blobs_uploaded, 2, "{report:?}");
    let dest = format!("{}/faulty:v1", reg.addr());
    assert_eq!(skopeo_raw(&dest, None), image.blob(&image.root));
    let pulled = tempfile::tempdir().unwrap();
    assert_eq!(
        skopeo_pull(&dest, None, &pulled.path().join("oci")),
        image.blob(&image.root)
    );
    proxy.requests()
}

#[test]
fn connection_dropped_in_the_middle_of_a_chunk() {
    let image = big_image(3 << 20, 11);
    let fault = Fault::new("PATCH", "/blobs/uploads/", 2, Action::CutAfter(300_000));
    let log = push_through(vec![fault], &chunked(), &image);
    if log.is_empty() {
        return;
    }
    // The session was asked where it stands (GET). Part of the chunk reached the registry,
    // so Distribution normally refuses the session then, and a new one starts the layer
    // over (1 good + 1 cut, then 4 PATCHes); had nothing been written, the session
    // continues (1 + 1 cut + 3).
    let asked = log
        .iter()
        .any(|r| r.starts_with("GET ") && r.contains("/blobs/uploads/"));
    assert!(asked, "{log:#?}");
    let patches = log.iter().filter(|r| r.starts_with("PATCH ")).count();
    let sessions = log
        .iter()
        .filter(|r| r.starts_with("POST ") && r.contains("/blobs/uploads/"))
        .count();
    assert!(
        (sessions, patches) == (3, 6) || (sessions, patches) == (2, 5),
        "restarted or resumed: {log:#?}"
    );
}

#[test]
fn connection_dropped_before_a_chunk_resumes_the_session() {
    let image = big_image(3 << 20, 12);
    let fault = Fault::new("PATCH", "/blobs/uploads/", 3, Action::CutBefore);
    let log = push_through(vec![fault], &chunked(), &image);
    if log.is_empty() {
        return;
    }
    // Nothing of the chunk reached the registry, so it agreed where we were: the session
    // was asked (GET) and continued; no new session was opened for the layer.
    let sessions = log
        .iter()
        .filter(|r| r.starts_with("POST ") && r.contains("/blobs/uploads/"))
        .count();
    assert_eq!(sessions, 2, "one per blob: {log:#?}");
    assert!(
        log.iter()
            .any(|r| r.starts_with("GET ") && r.contains("/blobs/uploads/")),
        "{log:#?}"
    );
    assert_eq!(
        log.iter().filter(|r| r.starts_with("PATCH ")).count(),
        5,
        "4 chunks + the one cut: {log:#?}"
    );
}

#[test]
fn connection_dropped_during_a_monolithic_upload() {
    let image = single_arch(&[("etc/data", &crate::support::noise(200_000, 3))]);
    let fault = Fault::new("PUT", "/blobs/uploads/", 1, Action::CutAfter(50_000)).min_body(100_000);
    let log = push_through(vec![fault], &fast_options(), &image);
    let puts = log
        .iter()
        .filter(|r| r.starts_with("PUT ") && r.contains("/blobs/uploads/"))
        .count();
    assert!(log.is_empty() || puts == 3, "2 blobs + 1 retried: {log:#?}");
}

#[test]
fn server_errors_and_rate_limits_are_retried() {
    let image = single_arch(&[("etc/x", b"retry me\n")]);
    let faults = vec![
        Fault::new("HEAD", "/blobs/", 1, Action::Respond(503)),
        Fault::new("POST", "/blobs/uploads/", 1, Action::Respond(429)),
        Fault::new("PUT", "/blobs/uploads/", 1, Action::Respond(502)),
        Fault::new("PUT", "/manifests/", 1, Action::Respond(500)),
    ];
    let log = push_through(faults, &fast_options(), &image);
    let count = |m: &str, p: &str| {
        log.iter()
            .filter(|r| r.starts_with(m) && r.contains(p))
            .count()
    };
    if !log.is_empty() {
        // Each faulted request was made again: 2 blobs + 1 retry each, and the failed
        // closing PUT opened a new session (a fourth POST).
        assert_eq!(
            count("HEAD ", "/blobs/"),
            4,
            "2 + 1 retried + 1 check after the failed PUT: {log:#?}"
        );
        assert_eq!(count("POST ", "/blobs/uploads/"), 4, "{log:#?}");
        assert_eq!(count("PUT ", "/blobs/uploads/"), 3, "{log:#?}");
        assert_eq!(
            count("PUT ", "/manifests/"),
            3,
            "by digest, retried, tag: {log:#?}"
        );
    }
}

#[test]
fn registry_down_is_a_clear_error() {
    let image = single_arch(&[("etc/x", b"x\n")]);
    let port = free_port();
    let request = PushRequest::new(
        &image.layout,
        Root::Sole,
        vec![format!("127.0.0.1:{port}/app:v1").parse().unwrap()],
    );
    let err = blocking::push(&request, &fast_options()).unwrap_err();
    assert!(matches!(err, Error::Network { attempts: 4, .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("cannot reach registry 127.0.0.1:{port}")),
        "{msg}"
    );
    assert!(msg.contains("check that the registry is running"), "{msg}");
}

#[test]
fn persistent_server_errors_give_up() {
    let Some(reg) = Registry::start() else { return };
    let faults = (1..=10)
        .map(|nth| Fault::new("GET", "/v2/", nth, Action::Respond(503)))
        .collect();
    let proxy = Proxy::start(reg.port, faults);
    let image = single_arch(&[("etc/x", b"x\n")]);
    let request = PushRequest::new(
        &image.layout,
        Root::Sole,
        vec![format!("{}/app:v1", proxy.addr()).parse().unwrap()],
    );
    let err = blocking::push(&request, &fast_options()).unwrap_err();
    assert!(matches!(err, Error::Status { status: 503, .. }), "{err}");
    assert_eq!(
        proxy.count("GET", "/v2/"),
        4,
        "bounded: {:?}",
        proxy.requests()
    );
}

#[test]
fn a_lost_upload_session_starts_over() {
    let image = big_image(3 << 20, 13);
    // The registry forgot the session (BLOB_UPLOAD_UNKNOWN is a 404) between two chunks.
    let fault = Fault::new("PATCH", "/blobs/uploads/", 2, Action::Respond(404));
    let log = push_through(vec![fault], &chunked(), &image);
    if log.is_empty() {
        return;
    }
    let sessions = log
        .iter()
        .filter(|r| r.starts_with("POST ") && r.contains("/blobs/uploads/"))
        .count();
    assert_eq!(sessions, 3, "one per blob and one restart: {log:#?}");
}
