//! Test support: a real Distribution registry on loopback, small valid OCI images in a
//! layout directory, skopeo, a raw HTTP GET, and a fault-injecting TCP proxy. Shared
//! with the benchmark, which uses only part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rapko_oci::{
    BlobStore, ContainerConfig, Descriptor, GzipOptions, ImageConfig, ImageIndex, ImageManifest,
    Platform, TaggedImage, write_layout_dir,
};
use rapko_registry::{Options, RetryPolicy};

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A `docker-registry` process on 127.0.0.1 with its own config and storage; killed on
/// drop, even when the test fails.
pub struct Registry {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Registry {
    /// An open registry, or None (after printing why) without `docker-registry`.
    pub fn start() -> Option<Self> {
        Self::start_with(None)
    }

    /// A registry demanding basic auth for `user`/`password` (htpasswd).
    pub fn start_with_htpasswd(user: &str, password: &str) -> Option<Self> {
        Self::start_with(Some((user, password)))
    }

    fn start_with(users: Option<(&str, &str)>) -> Option<Self> {
        let bin = rapko_test::require_tool("docker-registry")?;
        let mut dir = tempfile::tempdir().unwrap();
        let auth = match users {
            Some((user, password)) => {
                rapko_test::require_tool("htpasswd")?;
                let out = run(Command::new("htpasswd").args(["-Bbn", user, password]));
                std::fs::write(dir.path().join("htpasswd"), out).unwrap();
                format!(
                    "auth: {{htpasswd: {{realm: test, path: {}}}}}\n",
                    dir.path().join("htpasswd").display()
                )
            }
            None => String::new(),
        };
        // A port taken between free_port() and the registry's bind makes it exit: retry.
        for _ in 0..5 {
            let port = free_port();
            let config = format!(
                "version: 0.1\nlog: {{level: warn, accesslog: {{disabled: true}}}}\n\
                 storage: {{filesystem: {{rootdirectory: {}}}, delete: {{enabled: true}}}}\n\
                 http: {{addr: 127.0.0.1:{port}, secret: test-only}}\n{auth}",
                dir.path().join("storage").display()
            );
            let config_path = dir.path().join("config.yml");
            std::fs::write(&config_path, config).unwrap();
            let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
            let child = Command::new(&bin)
                .arg("serve")
                .arg(&config_path)
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap();
            let mut registry = Registry { child, port, dir };
            if registry.wait_ready() {
                return Some(registry);
            }
            dir = registry.take_dir();
        }
        panic!("docker-registry did not start after 5 tries");
    }

    /// True once the registry accepts connections; false if it exited.
    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if http_get(self.port, "/v2/").is_ok() {
                return true;
            }
            thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Stops the process and hands back the directory, for another try.
    fn take_dir(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap())
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The registry's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Options for tests: quick retries.
pub fn fast_options() -> Options {
    Options {
        auth: rapko_registry::Auth::Anonymous,
        retry: RetryPolicy {
            attempts: 4,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            max_retry_after: Duration::from_secs(2),
        },
        ..Options::default()
    }
}

/// An image in a layout directory.
pub struct TestImage {
    pub dir: tempfile::TempDir,
    pub layout: PathBuf,
    /// The manifest, or the index.
    pub root: Descriptor,
    /// The per-arch manifests (one for a single-arch image), platforms set.
    pub manifests: Vec<Descriptor>,
}

impl TestImage {
    /// The exact bytes of a blob of the layout.
    pub fn blob(&self, d: &Descriptor) -> Vec<u8> {
        std::fs::read(self.layout.join("blobs/sha256").join(d.digest.hex())).unwrap()
    }
}

/// A tar holding `files` (and their directory).
pub fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut dir = tar::Header::new_ustar();
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_mode(0o755);
    dir.set_size(0);
    dir.set_mtime(1_700_000_000);
    b.append_data(&mut dir, "etc/", std::io::empty()).unwrap();
    for (path, body) in files {
        let mut h = tar::Header::new_ustar();
        h.set_mode(0o644);
        h.set_size(body.len() as u64);
        h.set_mtime(1_700_000_000);
        b.append_data(&mut h, path, *body).unwrap();
    }
    b.into_inner().unwrap()
}

/// Stores a one-layer image of `files` for `platform`; returns its manifest descriptor
/// with the platform set.
pub fn build(store: &BlobStore, platform: &Platform, files: &[(&str, &[u8])]) -> Descriptor {
    let mut w = store
        .layer_writer(GzipOptions::default().with_level(1))
        .unwrap();
    w.write_all(&tar_of(files)).unwrap();
    let layer = w.finish().unwrap();
    let mut config = ImageConfig::new(
        platform.architecture.clone(),
        platform.os.clone(),
        vec![layer.diff_id],
    );
    config.variant.clone_from(&platform.variant);
    config.config = ContainerConfig {
        env: vec!["PATH=/usr/bin:/bin".into()],
        cmd: Some(vec!["/bin/sh".into()]),
        ..ContainerConfig::default()
    };
    let config = store.put_config(&config).unwrap();
    store
        .put_manifest(&ImageManifest::new(config, vec![layer.descriptor()]))
        .unwrap()
        .with_platform(platform.clone())
}

fn write(
    store: &BlobStore,
    dir: tempfile::TempDir,
    root: Descriptor,
    manifests: Vec<Descriptor>,
) -> TestImage {
    let layout = dir.path().join("layout");
    let images = [TaggedImage::new(
        root.clone(),
        vec!["test:v1".parse().unwrap()],
    )];
    write_layout_dir(store, &images, &layout).unwrap();
    TestImage {
        dir,
        layout,
        root,
        manifests,
    }
}

/// A single-arch (amd64) image holding `files`, tagged `v1` in its layout.
pub fn single_arch(files: &[(&str, &[u8])]) -> TestImage {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::temporary_in(dir.path()).unwrap();
    let manifest = build(&store, &amd64(), files);
    let mut root = manifest.clone();
    root.platform = None;
    write(&store, dir, root, vec![manifest])
}

/// A two-arch (amd64, arm64) index, tagged `v1` in its layout.
pub fn multi_arch() -> TestImage {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::temporary_in(dir.path()).unwrap();
    let manifests = vec![
        build(
            &store,
            &amd64(),
            &[("etc/arch", b"amd64\n"), ("etc/hello", b"hello\n")],
        ),
        build(
            &store,
            &arm64(),
            &[("etc/arch", b"arm64\n"), ("etc/hello", b"hello\n")],
        ),
    ];
    let root = store
        .put_index(&ImageIndex::new(manifests.clone()))
        .unwrap();
    write(&store, dir, root, manifests)
}

/// A single-arch image whose one layer is about `size` bytes of incompressible data.
pub fn big_image(size: usize, seed: u64) -> TestImage {
    single_arch(&[
        ("etc/big.bin", &noise(size, seed)),
        ("etc/hello", b"hello\n"),
    ])
}

/// Deterministic incompressible bytes (xorshift64).
pub fn noise(size: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(size + 8);
    while out.len() < size {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(size);
    out
}

pub fn amd64() -> Platform {
    Platform::new("amd64", "linux")
}

pub fn arm64() -> Platform {
    Platform::new("arm64", "linux").with_variant("v8")
}

/// Runs a command; panics with its output unless it succeeds. Returns stdout.
pub fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    check(cmd, &out);
    out.stdout
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

/// `skopeo inspect --raw` of `docker://REF` (plain HTTP), with `creds` if given.
pub fn skopeo_raw(reference: &str, creds: Option<&str>) -> Vec<u8> {
    let mut cmd = Command::new("skopeo");
    cmd.args(["inspect", "--tls-verify=false", "--raw"]);
    if let Some(c) = creds {
        cmd.args(["--creds", c]);
    }
    run(cmd.arg(format!("docker://{reference}")))
}

/// `skopeo inspect` (the parsed view) of `docker://REF` for `arch`.
pub fn skopeo_inspect_arch(reference: &str, arch: &str) -> serde_json::Value {
    let out = run(Command::new("skopeo").args([
        "inspect",
        "--tls-verify=false",
        "--override-os",
        "linux",
        "--override-arch",
        arch,
        &format!("docker://{reference}"),
    ]));
    serde_json::from_slice(&out).unwrap()
}

/// `skopeo copy --preserve-digests docker://REF oci:DIR:pulled` (digests verified on the
/// way); returns the pulled layout's raw manifest or index for tag `pulled`.
pub fn skopeo_pull(reference: &str, creds: Option<&str>, dest: &Path) -> Vec<u8> {
    let mut cmd = Command::new("skopeo");
    cmd.args([
        "copy",
        "-q",
        "--src-tls-verify=false",
        "--preserve-digests",
        "--all",
    ]);
    if let Some(c) = creds {
        cmd.args(["--src-creds", c]);
    }
    run(cmd
        .arg(format!("docker://{reference}"))
        .arg(format!("oci:{}:pulled", dest.display())));
    run(Command::new("skopeo").args([
        "inspect",
        "--raw",
        &format!("oci:{}:pulled", dest.display()),
    ]))
}

/// A minimal HTTP/1.0 GET to 127.0.0.1:`port`: (status, headers, body).
pub fn http_get(port: u16, path: &str) -> std::io::Result<(u16, String, Vec<u8>)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nAccept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json\r\n\r\n"
    )?;
    let mut all = Vec::new();
    s.read_to_end(&mut all)?;
    let split = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no end of headers"))?;
    let head = String::from_utf8_lossy(&all[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    Ok((status, head, all[split + 4..].to_vec()))
}

/// What the proxy does to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Forward the head and this many body bytes, then close both connections.
    CutAfter(u64),
    /// Close both connections before forwarding anything of the request.
    CutBefore,
    /// Answer with this status (and `Retry-After: 0`) instead of forwarding.
    Respond(u16),
}

/// A fault: `action` on the `nth` (1-based) request whose method is `method`, whose
/// path contains `path_contains` and whose body has at least `min_body` bytes.
#[derive(Debug, Clone)]
pub struct Fault {
    pub method: &'static str,
    pub path_contains: &'static str,
    pub min_body: u64,
    pub nth: usize,
    pub action: Action,
}

impl Fault {
    /// `action` on the `nth` request of `method` to a path containing `path_contains`.
    pub fn new(
        method: &'static str,
        path_contains: &'static str,
        nth: usize,
        action: Action,
    ) -> Self {
        Self {
            method,
            path_contains,
            min_body: 0,
            nth,
            action,
        }
    }

    /// Only requests with at least `bytes` of body count.
    pub fn min_body(mut self, bytes: u64) -> Self {
        self.min_body = bytes;
        self
    }
}

struct ProxyState {
    requests: Mutex<Vec<String>>,
    faults: Mutex<Vec<(Fault, usize)>>,
    stop: AtomicBool,
}

/// A TCP proxy in front of a registry that parses request heads (our client always
/// sends Content-Length), logs `METHOD path` of each, forwards bodies byte-exactly, and
/// injects faults. Responses are pumped back unparsed. Stopped on drop.
pub struct Proxy {
    pub port: u16,
    state: Arc<ProxyState>,
    accept: Option<thread::JoinHandle<()>>,
}

impl Proxy {
    pub fn start(upstream: u16, faults: Vec<Fault>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(ProxyState {
            requests: Mutex::new(Vec::new()),
            faults: Mutex::new(faults.into_iter().map(|f| (f, 0)).collect()),
            stop: AtomicBool::new(false),
        });
        let st = Arc::clone(&state);
        let accept = thread::spawn(move || {
            for conn in listener.incoming() {
                if st.stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = conn else { continue };
                let st = Arc::clone(&st);
                thread::spawn(move || serve(client, upstream, &st));
            }
        });
        Proxy {
            port,
            state,
            accept: Some(accept),
        }
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `METHOD path` of every request so far.
    pub fn requests(&self) -> Vec<String> {
        self.state.requests.lock().unwrap().clone()
    }

    pub fn clear(&self) {
        self.state.requests.lock().unwrap().clear();
    }

    /// How many requests so far used `method` on a path containing `path_contains`.
    pub fn count(&self, method: &str, path_contains: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.starts_with(&format!("{method} ")) && r.contains(path_contains))
            .count()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

/// Serves one client connection: requests in order, each forwarded on one upstream
/// connection, responses pumped back by a second thread.
fn serve(client: TcpStream, upstream: u16, state: &ProxyState) {
    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
        return;
    };
    let (Ok(mut server_w), Ok(server_r), Ok(mut client_w)) =
        (server.try_clone(), server.try_clone(), client.try_clone())
    else {
        return;
    };
    let pump = thread::spawn(move || {
        let mut server_r = server_r;
        let _ = std::io::copy(&mut server_r, &mut client_w);
        let _ = client_w.shutdown(Shutdown::Both);
    });
    let mut reader = BufReader::new(client.try_clone().unwrap());
    while !state.stop.load(Ordering::SeqCst) {
        let Some((head, line, length)) = read_head(&mut reader) else {
            break;
        };
        state.requests.lock().unwrap().push(line.clone());
        match take_fault(state, &line, length) {
            Some(Action::CutBefore) => break,
            Some(Action::CutAfter(n)) => {
                let _ = server_w.write_all(&head);
                let _ = copy_n(&mut reader, &mut server_w, n.min(length));
                thread::sleep(Duration::from_millis(50));
                break;
            }
            Some(Action::Respond(status)) => {
                let _ = copy_n(&mut reader, &mut std::io::sink(), length);
                let mut c = client.try_clone().unwrap();
                let _ = write!(
                    c,
                    "HTTP/1.1 {status} Injected\r\nRetry-After: 0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                break;
            }
            None => {
                if server_w.write_all(&head).is_err()
                    || copy_n(&mut reader, &mut server_w, length).is_err()
                {
                    break;
                }
            }
        }
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = server.shutdown(Shutdown::Both);
    let _ = pump.join();
}

/// Reads one request head: (raw bytes, `METHOD path`, Content-Length).
fn read_head(reader: &mut BufReader<TcpStream>) -> Option<(Vec<u8>, String, u64)> {
    let mut head = Vec::new();
    let mut length = 0;
    let mut first = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 || head.len() > 64 << 10 {
            return None;
        }
        head.extend_from_slice(line.as_bytes());
        if first.is_empty() {
            first = line
                .split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ");
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
        if line == "\r\n" {
            return Some((head, first, length));
        }
    }
}

fn take_fault(state: &ProxyState, line: &str, length: u64) -> Option<Action> {
    let mut faults = state.faults.lock().unwrap();
    // Every matching fault counts the request, whether or not another one fires.
    let mut action = None;
    for (fault, seen) in faults.iter_mut() {
        let matches = line.starts_with(&format!("{} ", fault.method))
            && line.contains(fault.path_contains)
            && length >= fault.min_body;
        if matches {
            *seen += 1;
            if *seen == fault.nth && action.is_none() {
                action = Some(fault.action);
            }
        }
    }
    action
}

fn copy_n(reader: &mut impl Read, writer: &mut impl Write, n: u64) -> std::io::Result<u64> {
    std::io::copy(&mut reader.take(n), writer)
}
