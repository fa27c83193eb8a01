//! Build errors: each says which step failed for which architecture, keeps the cause, and
//! where the user can do something about it, carries a hint.

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("invalid configuration: {0}")]
    Config(#[from] rapko_config::ConfigError),
    #[error("package {entry:?} in contents.packages: {source}")]
    World {
        entry: String,
        #[source]
        source: rapko_apk::DependencyError,
    },
    #[error("{0}")]
    Repo(#[from] rapko_repo::Error),
    #[error("cannot resolve the packages for {arch}: {source}")]
    Resolve {
        arch: String,
        #[source]
        source: Box<rapko_solve::ResolveError>,
    },
    #[error("cannot build the root filesystem for {arch}: {source}")]
    Rootfs {
        arch: String,
        #[source]
        source: Box<rapko_fs::FsError>,
    },
    #[error("cannot write the image: {0}")]
    Store(#[from] rapko_oci::StoreError),
    #[error("cannot write the output: {0}")]
    Output(#[from] rapko_oci::OutputError),
    #[error("cannot compress a layer: {0}")]
    Gzip(#[from] rapko_oci::GzipError),
    #[error("lockfile {path}: {message}")]
    Lock { path: String, message: String },
    #[error("the lockfile does not match the repository: {0}")]
    LockMismatch(String),
    #[error("{0}")]
    Other(String),
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

impl BuildError {
    /// What the user can do, when we know.
    pub fn hint(&self) -> Option<String> {
        match self {
            BuildError::Repo(e) => e.hint(),
            BuildError::Lock { .. } | BuildError::LockMismatch(_) => {
                Some("regenerate the lockfile with `rapko lock`".to_owned())
            }
            _ => None,
        }
    }
}

pub type Result<T, E = BuildError> = std::result::Result<T, E>;
