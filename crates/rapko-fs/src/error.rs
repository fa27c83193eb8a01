//! Errors of the filesystem builder. Each names the path and, where packages are involved,
//! the packages, so a user can tell which config entry or package to change.

#[derive(Debug, thiserror::Error)]
pub enum FsError {
    #[error(
        "path /{path} resolves outside the image root (through `..` or a symlink that \
         leaves it); nothing may be written there"
    )]
    Escape { path: String },
    #[error("too many levels of symlinks resolving {path:?}")]
    SymlinkLoop { path: String },
    #[error("cannot create /{path}: its parent /{parent} is {kind}, not a directory")]
    NotADirectory {
        path: String,
        parent: String,
        kind: &'static str,
    },
    #[error(
        "file conflict on /{path}: {new} would overwrite the file of {existing}; \
         neither replaces the other nor shares its origin (hint: remove one of them from the world)"
    )]
    Conflict {
        path: String,
        existing: String,
        new: String,
    },
    #[error("package {package}: {source}")]
    Package {
        package: String,
        #[source]
        source: rapko_apk::Error,
    },
    #[error(
        "package {package}: hard link /{path} points at /{target}, which is not a file the \
         package installed before it; apk refuses such a link (rebuild the package)"
    )]
    BadHardlink {
        package: String,
        path: String,
        target: String,
    },
    #[error(
        "package {package}: cannot install {what} /{path}: /{path} is already {existing} of \
         {owner} (hint: remove one of the two packages from the world)"
    )]
    Clash {
        package: String,
        path: String,
        what: &'static str,
        existing: &'static str,
        owner: String,
    },
    #[error(
        "package {package}: entry {path:?} has a control character in its name; apk ignores \
         such entries as malicious (rebuild the package)"
    )]
    UnsafeName { package: String, path: String },
    /// Another error, met while installing a package's entry.
    #[error("package {package}: {source}")]
    InPackage {
        package: String,
        #[source]
        source: Box<FsError>,
    },
    #[error("/etc/ld.so.cache: {0}")]
    LdCache(#[from] crate::ldcache::LdCacheError),
    #[error("paths: {0}")]
    Path(String),
    #[error("accounts: {0}")]
    Accounts(String),
    #[error("reading {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Write(#[from] std::io::Error),
}

pub type Result<T, E = FsError> = std::result::Result<T, E>;
