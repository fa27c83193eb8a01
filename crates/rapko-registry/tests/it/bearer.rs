//! The bearer-token flow, through a front in the test that demands tokens (as Docker Hub,
//! GHCR and most hosted registries do) and forwards authorized requests to the real
//! registry behind it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use rapko_registry::{
    Auth, Credentials, DockerConfig, Error, Options, PushRequest, Root, blocking,
};

use crate::support::{Registry, fast_options, multi_arch, single_arch, skopeo_raw};

const USER: &str = "bob";
const PASSWORD: &str = "tok3n-pass";

struct FrontState {
    upstream: u16,
    port: u16,
    client: reqwest::Client,
    /// The `scope` parameters of each token request.
    token_requests: Mutex<Vec<Vec<String>>>,
    /// 401s sent with a challenge.
    challenges: AtomicUsize,
    /// Issued tokens: what they allow, and how often they were used.
    issued: Mutex<HashMap<String, (Vec<String>, usize)>>,
    /// Uses after which a token is refused as expired (0: never).
    max_uses: usize,
}

/// The token server (`/token`) and bearer-checking front of one registry.
struct Front {
    port: u16,
    state: Arc<FrontState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Front {
    fn start(upstream: u16, max_uses: usize) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(FrontState {
            upstream,
            port,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            token_requests: Mutex::new(Vec::new()),
            challenges: AtomicUsize::new(0),
            issued: Mutex::new(HashMap::new()),
            max_uses,
        });
        let app = axum::Router::new()
            .route("/token", axum::routing::get(token))
            .fallback(front)
            .with_state(Arc::clone(&state));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                tokio::select! {
                    _ = axum::serve(listener, app) => {}
                    _ = rx => {}
                }
            });
        });
        Front {
            port,
            state,
            stop: Some(tx),
            thread: Some(thread),
        }
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn token_requests(&self) -> Vec<Vec<String>> {
        self.state.token_requests.lock().unwrap().clone()
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `GET /token?service=…&scope=…`: a token for every scope to `bob`, none to anonymous,
/// 401 to wrong credentials.
async fn token(State(state): State<Arc<FrontState>>, req: Request) -> Response {
    let query = req.uri().query().unwrap_or_default();
    let scopes: Vec<String> = form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v.into_owned())
        .collect();
    state.token_requests.lock().unwrap().push(scopes.clone());
    let granted = match basic(&req) {
        Some((u, p)) if u == USER && p == PASSWORD => scopes,
        Some(_) => {
            return json(
                StatusCode::UNAUTHORIZED,
                r#"{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}"#.into(),
            );
        }
        None => Vec::new(),
    };
    let mut issued = state.issued.lock().unwrap();
    let token = format!("tok-{}", issued.len());
    issued.insert(token.clone(), (granted, 0));
    json(
        StatusCode::OK,
        format!(r#"{{"token":"{token}","expires_in":300}}"#),
    )
}

/// Everything else: check the bearer token, then forward to the registry.
async fn front(State(state): State<Arc<FrontState>>, req: Request) -> Response {
    let need = repository(req.uri().path()).map(|r| format!("repository:{r}:pull,push"));
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let allowed = token.is_some_and(|t| {
        let mut issued = state.issued.lock().unwrap();
        let Some((granted, uses)) = issued.get_mut(&t) else {
            return false;
        };
        *uses += 1;
        let fresh = state.max_uses == 0 || *uses <= state.max_uses;
        fresh && need.as_ref().is_none_or(|n| granted.contains(n))
    });
    if !allowed {
        state.challenges.fetch_add(1, Ordering::SeqCst);
        let mut challenge = format!(
            r#"Bearer realm="http://127.0.0.1:{}/token",service="rapko-test""#,
            state.port
        );
        if let Some(n) = &need {
            challenge.push_str(&format!(r#",scope="{n}""#));
        }
        let mut resp = json(
            StatusCode::UNAUTHORIZED,
            r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#.into(),
        );
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_str(&challenge).unwrap(),
        );
        return resp;
    }
    forward(&state, req).await
}

async fn forward(state: &FrontState, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 256 << 20).await.unwrap();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut out = state
        .client
        .request(
            parts.method.clone(),
            format!("http://127.0.0.1:{}{path}", state.upstream),
        )
        .body(body);
    for (name, value) in &parts.headers {
        if ![
            header::HOST,
            header::AUTHORIZATION,
            header::CONTENT_LENGTH,
            header::CONNECTION,
        ]
        .contains(name)
        {
            out = out.header(name, value);
        }
    }
    // Upload Locations must point back at the front.
    out = out.header(header::HOST, format!("127.0.0.1:{}", state.port));
    let Ok(resp) = out.send().await else {
        return json(StatusCode::BAD_GATEWAY, String::new());
    };
    let mut builder = Response::builder().status(resp.status());
    for (name, value) in resp.headers() {
        if name != header::TRANSFER_ENCODING && name != header::CONNECTION {
            builder = builder.header(name, value);
        }
    }
    let bytes = resp.bytes().await.unwrap_or_default();
    builder.body(Body::from(bytes)).unwrap()
}

/// The repository of `/v2/<name>/(blobs|manifests|tags)/…`.
fn repository(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/v2/")?;
    ["/blobs/", "/manifests/", "/tags/"]
        .iter()
        .filter_map(|k| rest.rfind(k))
        .min()
        .map(|i| rest[..i].to_owned())
}

fn basic(req: &Request) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value.strip_prefix("Basic ")?)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}

fn json(status: StatusCode, body: String) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap()
}

fn with_creds(password: &str) -> Options {
    Options {
        auth: Auth::Basic(Credentials::new(USER, password)),
        ..fast_options()
    }
}

#[test]
fn challenge_token_retry() {
    let Some(_) = rapko_test::require_tool("skopeo") else {
        return;
    };
    let Some(reg) = Registry::start() else { return };
    let front = Front::start(reg.port, 0);
    let image = multi_arch();
    let dest = format!("{}/bearer/app:v1", front.addr());
    let request = PushRequest::new(&image.layout, Root::Sole, vec![dest.parse().unwrap()]);
    let report = blocking::push(&request, &with_creds(PASSWORD)).unwrap();
    assert_eq!(report.blobs_uploaded, 4);
    // GET /v2/ was challenged; one token, for exactly our scope, served every request.
    assert!(front.state.challenges.load(Ordering::SeqCst) >= 1);
    assert_eq!(
        front.token_requests(),
        vec![vec!["repository:bearer/app:pull,push".to_owned()]]
    );
    // The image arrived behind the front.
    assert_eq!(
        skopeo_raw(&format!("{}/bearer/app:v1", reg.addr()), None),
        image.blob(&image.root)
    );

    // Login through the token server.
    let home = tempfile::tempdir().unwrap();
    let mut config = DockerConfig::in_dir(home.path()).unwrap();
    blocking::login(
        &front.addr(),
        &Credentials::new(USER, PASSWORD),
        &mut config,
        &fast_options(),
    )
    .unwrap();
    let err = blocking::login(
        &front.addr(),
        &Credentials::new(USER, "bad"),
        &mut config,
        &fast_options(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::AuthRejected { .. }), "{err}");
}

#[test]
fn mount_asks_to_pull_from_the_source() {
    let Some(reg) = Registry::start() else { return };
    let front = Front::start(reg.port, 0);
    let image = single_arch(&[("etc/a", b"a\n")]);
    // Two repositories: the second's token also asks to pull from the first (mount).
    let request = PushRequest::new(
        &image.layout,
        Root::Sole,
        vec![
            format!("{}/one:v1", front.addr()).parse().unwrap(),
            format!("{}/two:v1", front.addr()).parse().unwrap(),
        ],
    );
    let report = blocking::push(&request, &with_creds(PASSWORD)).unwrap();
    assert_eq!(
        (report.blobs_uploaded, report.blobs_mounted),
        (2, 2),
        "{report:?}"
    );
    let requests = front.token_requests();
    assert!(
        requests.contains(&vec![
            "repository:one:pull".to_owned(),
            "repository:two:pull,push".to_owned()
        ]),
        "{requests:?}"
    );
}

#[test]
fn bearer_without_or_with_wrong_credentials() {
    let Some(reg) = Registry::start() else { return };
    let front = Front::start(reg.port, 0);
    let image = single_arch(&[("etc/a", b"a\n")]);
    let request = PushRequest::new(
        &image.layout,
        Root::Sole,
        vec![format!("{}/denied:v1", front.addr()).parse().unwrap()],
    );
    let err = blocking::push(&request, &with_creds("bad")).unwrap_err();
    assert!(matches!(err, Error::AuthRejected { .. }), "{err}");
    assert!(
        err.to_string().contains("repository denied") && !err.to_string().contains("\"bad\""),
        "{err}"
    );
    let err = blocking::push(&request, &fast_options()).unwrap_err();
    assert!(matches!(err, Error::AuthRequired { .. }), "{err}");
    assert!(
        err.to_string()
            .contains(&format!("rapko login {}", front.addr())),
        "{err}"
    );
}

#[test]
fn expired_token_is_renewed() {
    let Some(reg) = Registry::start() else { return };
    // Every token expires after 3 requests: the push must answer each 401 with a new one.
    let front = Front::start(reg.port, 3);
    let image = multi_arch();
    let request = PushRequest::new(
        &image.layout,
        Root::Sole,
        vec![format!("{}/expiring:v1", front.addr()).parse().unwrap()],
    );
    let report = blocking::push(&request, &with_creds(PASSWORD)).unwrap();
    assert_eq!(report.blobs_uploaded, 4);
    let tokens = front.token_requests().len();
    assert!(
        tokens >= 4,
        "expected the expired token to be renewed, got {tokens} token requests"
    );
    let (status, _, body) =
        crate::support::http_get(reg.port, "/v2/expiring/manifests/v1").unwrap();
    assert_eq!((status, body), (200, image.blob(&image.root)));
}
