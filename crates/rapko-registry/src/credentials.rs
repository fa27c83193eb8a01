//! Registry credentials and the docker `config.json` they live in.
//!
//! Lookup follows docker: a registry listed in `credHelpers` asks that
//! `docker-credential-<helper>`; else a `credsStore` helper is asked; else (and when the
//! helper has nothing) the base64 `auth` of the registry's `auths` entry is used. The
//! file is `$DOCKER_CONFIG/config.json`, or `~/.docker/config.json`.
//!
//! Writing (login/logout) touches only the one `auths` entry (or the helper) and keeps
//! every other key of the file as it was; the file is written to a temporary file with
//! mode 0600 and renamed over the old one, so a crash never leaves half a file.
//! Neither `Debug` nor any message ever shows a password or token.

use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::reference::DOCKER_HUB;

/// The key docker uses for Docker Hub in `auths` and with credential helpers.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";
/// What a helper's `Username` is when `Secret` is an identity (refresh) token.
const TOKEN_USER: &str = "<token>";

/// A user name and password (or identity token) for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    username: String,
    password: String,
    identity_token: Option<String>,
}

impl Credentials {
    /// A user name and password (or personal access token).
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: password.into(),
            identity_token: None,
        }
    }

    /// An OAuth2 refresh token (docker's `identitytoken`), exchanged at the token server.
    pub fn identity_token(username: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: String::new(),
            identity_token: Some(token.into()),
        }
    }

    /// The user name (safe to show).
    pub fn username(&self) -> &str {
        &self.username
    }

    pub(crate) fn password(&self) -> &str {
        &self.password
    }

    pub(crate) fn refresh_token(&self) -> Option<&str> {
        self.identity_token.as_deref()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("secret", &"***")
            .finish()
    }
}

/// Where `login` put the credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredIn {
    /// The `auths` section of this config file.
    File(PathBuf),
    /// This credential helper (`docker-credential-<name>`).
    Helper(String),
}

impl fmt::Display for StoredIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoredIn::File(path) => write!(f, "{}", path.display()),
            StoredIn::Helper(name) => write!(f, "credential helper docker-credential-{name}"),
        }
    }
}

/// A docker `config.json`, loaded (or empty when missing), with the directories searched
/// for `docker-credential-*` helpers before `PATH`.
#[derive(Debug, Clone)]
pub struct DockerConfig {
    path: PathBuf,
    doc: Map<String, Value>,
    helper_dirs: Vec<PathBuf>,
}

impl DockerConfig {
    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
    pub fn default_path() -> Result<PathBuf> {
        path_from(std::env::var_os("DOCKER_CONFIG"), dirs::home_dir()).ok_or(Error::NoDockerConfig)
    }

    /// Loads the config at [`DockerConfig::default_path`].
    pub fn load_default() -> Result<Self> {
        Self::load(&Self::default_path()?)
    }

    /// Loads `config.json` from `dir`, as `DOCKER_CONFIG=dir` would.
    pub fn in_dir(dir: &Path) -> Result<Self> {
        Self::load(&dir.join("config.json"))
    }

    /// Loads the config file at `path`; a missing file is an empty config.
    pub fn load(path: &Path) -> Result<Self> {
        let doc = match fs::read(path) {
            Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Map::new(),
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::DockerConfig {
                path: path.to_owned(),
                reason: format!("not a JSON object: {e}"),
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Map::new(),
            Err(e) => {
                return Err(Error::DockerConfig {
                    path: path.to_owned(),
                    reason: e.to_string(),
                });
            }
        };
        Ok(Self {
            path: path.to_owned(),
            doc,
            helper_dirs: Vec::new(),
        })
    }

    /// The same config, looking for credential helpers in `dir` before `PATH`.
    pub fn with_helper_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.helper_dirs.push(dir.into());
        self
    }

    /// The file this config is read from and written to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The credentials for `registry` (a host as in a [`crate::Reference`]), if any.
    pub fn credentials(&self, registry: &str) -> Result<Option<Credentials>> {
        if let Some(helper) = self.helper_for(registry)
            && let Some(creds) = self.helper_get(&helper, registry)?
        {
            return Ok(Some(creds));
        }
        match self.auth_entry(registry) {
            Some((key, entry)) => self.parse_entry(&key, entry),
            None => Ok(None),
        }
    }

    /// Stores `credentials` for `registry` the way `docker login` does: with the
    /// registry's helper when one is configured, else base64 in `auths`.
    pub fn store(&mut self, registry: &str, credentials: &Credentials) -> Result<StoredIn> {
        let key = server_key(registry);
        if let Some(helper) = self.helper_for(registry) {
            self.helper_store(&helper, registry, credentials)?;
            // docker leaves an empty entry so `docker info` lists the registry.
            self.update_auths(|auths| {
                auths.insert(key, Value::Object(Map::new()));
            });
            self.save()?;
            return Ok(StoredIn::Helper(helper));
        }
        let pair = format!("{}:{}", credentials.username(), credentials.password());
        let mut entry = Map::new();
        entry.insert("auth".into(), Value::String(BASE64.encode(pair)));
        if let Some(token) = credentials.refresh_token() {
            entry.insert("identitytoken".into(), Value::String(token.to_owned()));
        }
        self.remove_aliases(registry);
        self.update_auths(|auths| {
            auths.insert(key, Value::Object(entry));
        });
        self.save()?;
        Ok(StoredIn::File(self.path.clone()))
    }

    /// Forgets the credentials for `registry`; false when there were none.
    pub fn erase(&mut self, registry: &str) -> Result<bool> {
        let mut erased = false;
        if let Some(helper) = self.helper_for(registry) {
            erased |= self.helper_erase(&helper, registry)?;
        }
        if self.remove_aliases(registry) {
            self.save()?;
            erased = true;
        }
        Ok(erased)
    }

    /// The helper configured for `registry`: `credHelpers[host]`, else `credsStore`.
    fn helper_for(&self, registry: &str) -> Option<String> {
        let by_host = self.doc.get("credHelpers").and_then(Value::as_object);
        let specific = host_aliases(registry)
            .iter()
            .find_map(|h| by_host?.get(*h)?.as_str().map(str::to_owned));
        let global = || {
            self.doc
                .get("credsStore")
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        specific.or_else(global).filter(|h| !h.is_empty())
    }

    /// The `auths` entry for `registry`: the exact key first, then any key naming the same
    /// host (`https://host/v1/` and `host` are the same entry to docker).
    fn auth_entry(&self, registry: &str) -> Option<(String, &Map<String, Value>)> {
        let auths = self.doc.get("auths")?.as_object()?;
        let aliases = host_aliases(registry);
        let exact = auths
            .get(&server_key(registry))
            .map(|e| (server_key(registry), e));
        exact
            .into_iter()
            .chain(
                auths
                    .iter()
                    .filter(|(k, _)| aliases.contains(&key_host(k)))
                    .map(|(k, e)| (k.clone(), e)),
            )
            .find_map(|(k, e)| e.as_object().map(|o| (k, o)))
    }

    /// Decodes one `auths` entry; an empty one (left by a helper login) is no credentials.
    fn parse_entry(&self, key: &str, entry: &Map<String, Value>) -> Result<Option<Credentials>> {
        let text = |name: &str| entry.get(name).and_then(Value::as_str).unwrap_or_default();
        let (mut username, mut password) =
            (text("username").to_owned(), text("password").to_owned());
        if !text("auth").is_empty() {
            (username, password) =
                decode_auth(text("auth")).ok_or_else(|| Error::DockerConfig {
                    path: self.path.clone(),
                    reason: format!("auths.{key:?}.auth is not base64 of user:password"),
                })?;
        }
        let token = text("identitytoken");
        if !token.is_empty() {
            return Ok(Some(Credentials::identity_token(username, token)));
        }
        if username.is_empty() && password.is_empty() {
            return Ok(None);
        }
        Ok(Some(Credentials::new(username, password)))
    }

    /// Runs `change` on the `auths` object (made one if missing or of another type).
    fn update_auths(&mut self, change: impl FnOnce(&mut Map<String, Value>)) {
        let mut auths = match self.doc.remove("auths") {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        change(&mut auths);
        self.doc.insert("auths".into(), Value::Object(auths));
    }

    /// Removes every `auths` key naming `registry`'s host; true if any was there.
    fn remove_aliases(&mut self, registry: &str) -> bool {
        let aliases = host_aliases(registry);
        let Some(auths) = self.doc.get_mut("auths").and_then(Value::as_object_mut) else {
            return false;
        };
        let before = auths.len();
        auths.retain(|k, _| !aliases.contains(&key_host(k)));
        auths.len() != before
    }

    /// Writes the file atomically with mode 0600, following a symlinked config.json.
    fn save(&self) -> Result<()> {
        let target = fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone());
        let dir = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let write_err = |source| Error::DockerConfigWrite {
            path: target.clone(),
            source,
        };
        fs::create_dir_all(dir).map_err(write_err)?;
        let mut bytes = serde_json::to_vec_pretty(&self.doc)
            .map_err(io::Error::other)
            .map_err(write_err)?;
        bytes.push(b'\n');
        // tempfile creates the file with mode 0600, which is what a file of secrets needs.
        let mut tmp = tempfile::Builder::new()
            .prefix(".config.json.")
            .tempfile_in(dir)
            .map_err(write_err)?;
        tmp.write_all(&bytes).map_err(write_err)?;
        tmp.as_file().sync_all().map_err(write_err)?;
        tmp.persist(&target).map_err(|e| write_err(e.error))?;
        Ok(())
    }

    fn helper_get(&self, helper: &str, registry: &str) -> Result<Option<Credentials>> {
        let out = self.run_helper(helper, registry, "get", server_key(registry).as_bytes())?;
        if !out.status.success() {
            let said = String::from_utf8_lossy(&out.stdout).to_lowercase()
                + &String::from_utf8_lossy(&out.stderr).to_lowercase();
            if said.contains("credentials not found") {
                return Ok(None);
            }
            return Err(helper_failed(helper, registry, &out));
        }
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Answer {
            #[serde(default)]
            username: String,
            #[serde(default)]
            secret: String,
        }
        let answer: Answer =
            serde_json::from_slice(&out.stdout).map_err(|e| Error::CredentialHelper {
                helper: helper.to_owned(),
                registry: registry.to_owned(),
                reason: format!("its answer is not the expected JSON ({e})"),
            })?;
        Ok(Some(if answer.username == TOKEN_USER {
            Credentials::identity_token(answer.username, answer.secret)
        } else {
            Credentials::new(answer.username, answer.secret)
        }))
    }

    fn helper_store(&self, helper: &str, registry: &str, creds: &Credentials) -> Result<()> {
        let (username, secret) = match creds.refresh_token() {
            Some(token) => (TOKEN_USER, token),
            None => (creds.username(), creds.password()),
        };
        let input = serde_json::json!({
            "ServerURL": server_key(registry),
            "Username": username,
            "Secret": secret,
        });
        let out = self.run_helper(helper, registry, "store", input.to_string().as_bytes())?;
        if !out.status.success() {
            return Err(helper_failed(helper, registry, &out));
        }
        Ok(())
    }

    fn helper_erase(&self, helper: &str, registry: &str) -> Result<bool> {
        let out = self.run_helper(helper, registry, "erase", server_key(registry).as_bytes())?;
        if out.status.success() {
            return Ok(true);
        }
        let said = String::from_utf8_lossy(&out.stdout).to_lowercase();
        if said.contains("not found") {
            return Ok(false);
        }
        Err(helper_failed(helper, registry, &out))
    }

    /// Runs `docker-credential-<helper> <action>` with `input` on stdin.
    fn run_helper(
        &self,
        helper: &str,
        registry: &str,
        action: &str,
        input: &[u8],
    ) -> Result<std::process::Output> {
        let program = format!("docker-credential-{helper}");
        let path = self
            .helper_dirs
            .iter()
            .map(|d| d.join(&program))
            .find(|p| p.is_file())
            .unwrap_or_else(|| PathBuf::from(&program));
        let failed = |e: io::Error| Error::CredentialHelper {
            helper: helper.to_owned(),
            registry: registry.to_owned(),
            reason: format!("cannot run {}: {e}", path.display()),
        };
        let mut child = Command::new(&path)
            .arg(action)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(failed)?;
        if let Some(mut stdin) = child.stdin.take() {
            // A helper that exits without reading gives EPIPE; its exit status says more.
            let _ = stdin.write_all(input);
        }
        child.wait_with_output().map_err(failed)
    }
}

/// The config file for a `DOCKER_CONFIG` value and a home directory.
fn path_from(docker_config: Option<OsString>, home: Option<PathBuf>) -> Option<PathBuf> {
    match docker_config.filter(|v| !v.is_empty()) {
        Some(dir) => Some(PathBuf::from(dir).join("config.json")),
        None => home.map(|h| h.join(".docker").join("config.json")),
    }
}

/// The key docker stores `registry` under.
fn server_key(registry: &str) -> String {
    if registry == DOCKER_HUB {
        DOCKER_HUB_KEY.to_owned()
    } else {
        registry.to_owned()
    }
}

/// The host names that mean `registry` in a config file.
fn host_aliases(registry: &str) -> Vec<&str> {
    if registry == DOCKER_HUB {
        vec!["index.docker.io", "docker.io", "registry-1.docker.io"]
    } else {
        vec![registry]
    }
}

/// The host of an `auths` key: `https://host/v1/` → `host` (docker's ConvertToHostname).
fn key_host(key: &str) -> &str {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    rest.split('/').next().unwrap_or(rest)
}

/// `base64(user:password)` → (user, password); the password may contain colons.
fn decode_auth(auth: &str) -> Option<(String, String)> {
    let bytes = BASE64.decode(auth.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// An error for a helper that exited with failure; its stderr is shown (helpers print
/// reasons there, not secrets), cut short.
fn helper_failed(helper: &str, registry: &str, out: &std::process::Output) -> Error {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let said = if stderr.trim().is_empty() {
        stdout
    } else {
        stderr
    };
    let said: String = said.trim().chars().take(300).collect();
    Error::CredentialHelper {
        helper: helper.to_owned(),
        registry: registry.to_owned(),
        reason: format!("it exited with {} ({said})", out.status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, json: &str) -> PathBuf {
        let path = dir.join("config.json");
        fs::write(&path, json).unwrap();
        path
    }

    #[test]
    fn path_resolution() {
        let home = Some(PathBuf::from("/home/u"));
        assert_eq!(
            path_from(Some("/cfg".into()), home.clone()),
            Some(PathBuf::from("/cfg/config.json"))
        );
        assert_eq!(
            path_from(Some("".into()), home.clone()),
            Some(PathBuf::from("/home/u/.docker/config.json"))
        );
        assert_eq!(path_from(None, None), None);
    }

    #[test]
    fn reads_auths_in_all_spellings() {
        let dir = tempfile::tempdir().unwrap();
        let auth = BASE64.encode("me:pa:ss");
        let path = write(
            dir.path(),
            &format!(
                r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{auth}"}},
                "https://ghcr.io/v2/":{{"auth":"{auth}"}},
                "quay.io":{{"username":"u","password":"p"}},
                "tok.io":{{"auth":"{auth}","identitytoken":"refresh"}},
                "empty.io":{{}}}}}}"#
            ),
        );
        let config = DockerConfig::load(&path).unwrap();
        let hub = config.credentials("docker.io").unwrap().unwrap();
        assert_eq!((hub.username(), hub.password()), ("me", "pa:ss"));
        let ghcr = config.credentials("ghcr.io").unwrap().unwrap();
        assert_eq!(ghcr.username(), "me");
        let quay = config.credentials("quay.io").unwrap().unwrap();
        assert_eq!((quay.username(), quay.password()), ("u", "p"));
        let tok = config.credentials("tok.io").unwrap().unwrap();
        assert_eq!(tok.refresh_token(), Some("refresh"));
        assert_eq!(config.credentials("empty.io").unwrap(), None);
        assert_eq!(config.credentials("other.io").unwrap(), None);
    }

    #[test]
    fn bad_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "{not json");
        let err = DockerConfig::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("config.json") && err.contains("DOCKER_CONFIG"),
            "{err}"
        );
        let path = write(dir.path(), r#"{"auths":{"r.io":{"auth":"!!!"}}}"#);
        let err = DockerConfig::load(&path)
            .unwrap()
            .credentials("r.io")
            .unwrap_err()
            .to_string();
        assert!(err.contains("r.io") && err.contains("base64"), "{err}");
        // Missing and empty files are empty configs.
        assert!(DockerConfig::load(&dir.path().join("none.json")).is_ok());
        let path = write(dir.path(), "\n");
        assert_eq!(
            DockerConfig::load(&path)
                .unwrap()
                .credentials("r.io")
                .unwrap(),
            None
        );
    }

    #[test]
    fn store_keeps_other_keys_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            r#"{"auths":{"keep.io":{"auth":"a2VlcDpr"},"https://r.io/v1/":{"auth":"b2xkOm8="}},"psFormat":"table","proxies":{"default":{"httpProxy":"x"}}}"#,
        );
        let mut config = DockerConfig::load(&path).unwrap();
        let stored = config
            .store("r.io", &Credentials::new("new", "secret"))
            .unwrap();
        assert_eq!(stored, StoredIn::File(path.clone()));
        let doc: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        assert_eq!(doc["psFormat"], "table");
        assert_eq!(doc["proxies"]["default"]["httpProxy"], "x");
        assert_eq!(doc["auths"]["keep.io"]["auth"], "a2VlcDpr");
        assert_eq!(doc["auths"]["r.io"]["auth"], BASE64.encode("new:secret"));
        assert!(doc["auths"].get("https://r.io/v1/").is_none(), "{doc}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            vec![OsString::from("config.json")],
            "no temporary file left"
        );

        let reloaded = DockerConfig::load(&path).unwrap();
        assert_eq!(
            reloaded.credentials("r.io").unwrap().unwrap().password(),
            "secret"
        );
        let mut reloaded = reloaded;
        assert!(reloaded.erase("r.io").unwrap());
        assert!(!reloaded.erase("r.io").unwrap());
        let doc: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        assert!(doc["auths"].get("r.io").is_none());
        assert_eq!(doc["auths"]["keep.io"]["auth"], "a2VlcDpr");
    }

    #[test]
    fn store_creates_the_directory_and_hub_key() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = DockerConfig::in_dir(&dir.path().join("new")).unwrap();
        config
            .store("docker.io", &Credentials::new("u", "p"))
            .unwrap();
        let doc: Value =
            serde_json::from_slice(&fs::read(dir.path().join("new/config.json")).unwrap()).unwrap();
        assert_eq!(doc["auths"][DOCKER_HUB_KEY]["auth"], BASE64.encode("u:p"));
    }

    #[test]
    fn debug_hides_secrets() {
        let shown = format!("{:?}", Credentials::new("user", "hunter2"));
        assert!(
            shown.contains("user") && !shown.contains("hunter2"),
            "{shown}"
        );
        let shown = format!("{:?}", Credentials::identity_token("u", "tok-secret"));
        assert!(!shown.contains("tok-secret"), "{shown}");
    }

    #[cfg(unix)]
    fn fake_helper(dir: &Path, name: &str, script: &str) {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(format!("docker-credential-{name}"));
        fs::write(&path, script).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn credential_helpers() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        // A helper keeping one JSON answer per server in files; "get" of an unknown server
        // says "credentials not found" like the real ones.
        let script = format!(
            r#"#!/bin/sh
read -r server_or_json
case "$1" in
  get) f="{store}/$(echo "$server_or_json" | tr '/:' '__')"
       if [ -f "$f" ]; then cat "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  store) s=$(echo "$server_or_json" | sed 's/.*"ServerURL":"\([^"]*\)".*/\1/' | tr '/:' '__')
         echo "$server_or_json" > "{store}/$s" ;;
  erase) rm "{store}/$(echo "$server_or_json" | tr '/:' '__')" ;;
esac
"#,
            store = store.display()
        );
        fs::create_dir(&store).unwrap();
        fake_helper(dir.path(), "fake", &script);
        fake_helper(
            dir.path(),
            "broken",
            "#!/bin/sh\necho 'keychain locked' >&2\nexit 3\n",
        );
        let path = write(
            dir.path(),
            r#"{"credsStore":"fake","credHelpers":{"bad.io":"broken"},"auths":{"fallback.io":{"auth":"Zjpw"}}}"#,
        );
        let mut config = DockerConfig::load(&path)
            .unwrap()
            .with_helper_dir(dir.path());
        assert_eq!(config.credentials("r.io").unwrap(), None);
        // Not in the helper: the auths entry still counts.
        assert_eq!(
            config
                .credentials("fallback.io")
                .unwrap()
                .unwrap()
                .username(),
            "f"
        );
        let stored = config.store("r.io", &Credentials::new("hu", "hp")).unwrap();
        assert_eq!(stored, StoredIn::Helper("fake".into()));
        let creds = config.credentials("r.io").unwrap().unwrap();
        assert_eq!((creds.username(), creds.password()), ("hu", "hp"));
        let doc: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        assert_eq!(
            doc["auths"]["r.io"],
            serde_json::json!({}),
            "no secret in the file: {doc}"
        );
        assert!(config.erase("r.io").unwrap());
        assert_eq!(config.credentials("r.io").unwrap(), None);

        let err = config.credentials("bad.io").unwrap_err().to_string();
        assert!(
            err.contains("docker-credential-broken") && err.contains("keychain locked"),
            "{err}"
        );
        let config = config.with_helper_dir("/nonexistent");
        let missing =
            DockerConfig::load(&write(dir.path(), r#"{"credsStore":"absent-xyz"}"#)).unwrap();
        let err = missing.credentials("r.io").unwrap_err().to_string();
        assert!(
            err.contains("docker-credential-absent-xyz") && err.contains("PATH"),
            "{err}"
        );
        drop(config);
    }
}
