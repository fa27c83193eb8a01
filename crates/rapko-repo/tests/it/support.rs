//! Shared test helpers: a scriptable HTTP/1.1 server on 127.0.0.1 (threads, std only) that
//! can fail on purpose, a `python3 -m http.server` child process, fetch options with short
//! timeouts, and the real Alpine fixtures.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rapko_apk::{Keyring, PackageInfo};
use rapko_repo::{FetchOptions, LoadedIndex, Outcome, Progress, RetryPolicy, Timeouts};

pub use rapko_test::ALPINE_BASE_PACKAGES as ALPINE_BASE;

pub fn alpine_repo() -> PathBuf {
    rapko_test::fixture("alpine-3.19/main")
}

pub fn alpine_keyring() -> Keyring {
    let mut keyring = Keyring::new();
    keyring
        .add_dir(&rapko_test::fixture("keys/alpine"))
        .expect("alpine keys load");
    keyring
}

/// Options for tests: a private cache, no `HTTP_AUTH` from the environment, short timeouts
/// and near-instant retries.
pub fn options(cache: &Path) -> FetchOptions {
    FetchOptions {
        cache_dir: Some(cache.to_owned()),
        http_auth: None,
        timeouts: Timeouts {
            connect: Duration::from_secs(2),
            read: Duration::from_secs(5),
            total: Duration::from_secs(60),
        },
        retry: RetryPolicy {
            attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(100),
            max_retry_after: Duration::from_secs(5),
        },
        ..FetchOptions::default()
    }
}

/// The index records of `names`, one each (the first listed).
pub fn pick<'a>(index: &'a LoadedIndex, names: &[&str]) -> Vec<(&'a LoadedIndex, &'a PackageInfo)> {
    names
        .iter()
        .map(|name| {
            let info = index
                .index
                .packages
                .iter()
                .find(|p| p.name == *name)
                .unwrap_or_else(|| panic!("{name} is not in {}", index.url));
            (index, info)
        })
        .collect()
}

/// The whole error chain on one line, for assertions on what a user would read.
pub fn chain(e: &rapko_repo::Error) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(" / ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// Files in a directory tree, for checking what the cache holds.
pub fn count_files(dir: &Path) -> usize {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return 0;
    };
    listing
        .filter_map(Result::ok)
        .map(|e| {
            let path = e.path();
            if path.is_dir() { count_files(&path) } else { 1 }
        })
        .sum()
}

/// A request as the test server saw it.
#[derive(Clone, Debug)]
pub struct Request {
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How the server misbehaves on one reply.
#[derive(Clone, Debug)]
pub enum Fault {
    None,
    /// Announce the full length, send only this many body bytes, close.
    CutAfter(usize),
    /// Wait this long before answering.
    Delay(Duration),
    /// Announce the full length, send this many body bytes, then nothing for the duration.
    StallAfter(usize, Duration),
    /// No length; send the body over and over until the client hangs up.
    Endless,
}

#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub fault: Fault,
}

impl Reply {
    pub fn ok(body: Vec<u8>) -> Reply {
        Reply {
            status: 200,
            headers: Vec::new(),
            body,
            fault: Fault::None,
        }
    }

    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            // 304 and 204 carry no body.
            body: match status {
                204 | 304 => Vec::new(),
                _ => format!("status {status}\n").into_bytes(),
            },
            fault: Fault::None,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn fault(mut self, fault: Fault) -> Reply {
        self.fault = fault;
        self
    }
}

/// A file under `root` for `path`, or 404.
pub fn file_reply(root: &Path, path: &str) -> Reply {
    let rel = path.trim_start_matches('/');
    if rel.split('/').any(|part| part == "..") {
        return Reply::status(403);
    }
    match std::fs::read(root.join(rel)) {
        Ok(body) => Reply::ok(body),
        Err(_) => Reply::status(404),
    }
}

type Handler = dyn Fn(&Request, usize) -> Reply + Send + Sync;

/// An HTTP/1.1 server on 127.0.0.1 that answers through a handler, which also gets how
/// many earlier requests had the same path. Stops when dropped.
pub struct TestServer {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl TestServer {
    pub fn start(handler: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let accept = {
            let (log, stop) = (log.clone(), stop.clone());
            std::thread::spawn(move || accept_loop(&listener, &handler, &log, &stop))
        };
        TestServer {
            addr,
            log,
            stop,
            accept: Some(accept),
        }
    }

    /// Serves the files under `root`.
    pub fn serve_dir(root: PathBuf) -> TestServer {
        TestServer::start(move |req, _| file_reply(&root, &req.path))
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The requests whose path ends with `suffix`.
    pub fn requests(&self, suffix: &str) -> Vec<Request> {
        self.log
            .lock()
            .map(|log| {
                log.iter()
                    .filter(|r| r.path.ends_with(suffix))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept.
        let _ = TcpStream::connect(self.addr);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn accept_loop(
    listener: &TcpListener,
    handler: &Arc<Handler>,
    log: &Arc<Mutex<Vec<Request>>>,
    stop: &AtomicBool,
) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let (handler, log) = (handler.clone(), log.clone());
        std::thread::spawn(move || serve_connection(stream, &*handler, &log));
    }
}

/// Answers requests on one connection until the client closes it or a fault cuts it.
fn serve_connection(stream: TcpStream, handler: &Handler, log: &Mutex<Vec<Request>>) {
    // Bounds a connection the client abandons.
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        let seen = log.lock().map_or(0, |mut log| {
            let seen = log.iter().filter(|r| r.path == request.path).count();
            log.push(request.clone());
            seen
        });
        let reply = handler(&request, seen);
        if !write_reply(&mut writer, &reply) {
            return;
        }
    }
}

fn read_request(reader: &mut impl BufRead) -> Option<Request> {
    let mut line = String::new();
    reader.read_line(&mut line).ok().filter(|&n| n > 0)?;
    let path = line.split_whitespace().nth(1)?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok().filter(|&n| n > 0)?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((k, v)) = header.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    // GET requests have no body; skip any announced one all the same.
    let len: u64 = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    std::io::copy(&mut reader.take(len), &mut std::io::sink()).ok()?;
    Some(Request { path, headers })
}

/// Writes a reply; false when the connection is to be closed.
fn write_reply(writer: &mut TcpStream, reply: &Reply) -> bool {
    if let Fault::Delay(d) = reply.fault {
        std::thread::sleep(d);
    }
    if let Fault::Endless = reply.fault {
        return write_endless(writer, reply);
    }
    let mut head = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\n",
        reply.status,
        reply.body.len()
    );
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let body = match reply.fault {
        Fault::CutAfter(n) | Fault::StallAfter(n, _) => &reply.body[..n.min(reply.body.len())],
        _ => &reply.body[..],
    };
    // One write: a head and a body written apart wait on Nagle and delayed ACKs (~40 ms).
    let mut message = head.into_bytes();
    message.extend_from_slice(body);
    let sent = writer.write_all(&message);
    let _ = writer.flush();
    if let Fault::StallAfter(_, d) = reply.fault {
        std::thread::sleep(d);
        return false;
    }
    sent.is_ok() && !matches!(reply.fault, Fault::CutAfter(_))
}

/// A 200 without a length whose body never ends (the body repeated); false: close after.
fn write_endless(writer: &mut TcpStream, reply: &Reply) -> bool {
    let head = "HTTP/1.1 200 X\r\nConnection: close\r\n\r\n";
    if writer.write_all(head.as_bytes()).is_err() || reply.body.is_empty() {
        return false;
    }
    while writer.write_all(&reply.body).is_ok() {}
    false
}

/// `python3 -m http.server` serving a directory on a free loopback port; killed on drop.
pub struct PythonServer {
    child: Child,
    port: u16,
}

impl PythonServer {
    /// `None` (after saying why) when python3 is missing.
    pub fn start(dir: &Path) -> Option<PythonServer> {
        let python = rapko_test::require_tool("python3")?;
        // A port freed just before the child binds it may be taken meanwhile: try a few.
        for _ in 0..3 {
            let port = free_port();
            let mut child = Command::new(&python)
                .args([
                    "-m",
                    "http.server",
                    "--bind",
                    "127.0.0.1",
                    &port.to_string(),
                    "--directory",
                ])
                .arg(dir)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("python3 starts");
            if wait_listening(&mut child, port) {
                return Some(PythonServer { child, port });
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("python3 -m http.server did not start on 127.0.0.1");
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for PythonServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Up to 10 s for the child to listen; false if it exits or never does.
fn wait_listening(child: &mut Child, port: u16) -> bool {
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        if matches!(child.try_wait(), Ok(Some(_))) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Records progress events.
#[derive(Default)]
pub struct Recorder {
    pub events: Mutex<Vec<String>>,
}

impl Recorder {
    pub fn events(&self) -> Vec<String> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }

    fn push(&self, event: String) {
        if let Ok(mut events) = self.events.lock() {
            events.push(event);
        }
    }
}

impl Progress for Recorder {
    fn batch(&self, count: usize, bytes: u64) {
        self.push(format!("batch {count} {bytes}"));
    }

    fn started(&self, package: &str, _size: Option<u64>) {
        self.push(format!("started {package}"));
    }

    fn finished(&self, package: &str, outcome: Outcome) {
        self.push(format!("finished {package} {outcome:?}"));
    }
}
