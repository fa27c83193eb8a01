//! The temporary directory a build writes into before its final rename, and the clean-up of
//! those a killed build left behind.
//!
//! The directory sits beside OUTPUT (so the rename never crosses file systems) and is named
//! `.rapko-build-<pid>-<random>`. It holds a `.lock` file that the build keeps locked
//! (`flock`) for as long as it runs; the kernel drops the lock when the process dies, even
//! by SIGKILL. Every build first removes the work directories in its directory whose owner
//! is gone: the pid in the name is not running, or the lock can be taken. Directories from
//! older rapko versions (no pid in the name, no lock) are removed once a day old.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Context;

const PREFIX: &str = ".rapko-build-";
const LOCK: &str = ".lock";
/// A directory this young with a free lock may be one whose owner has not locked it yet.
const LOCK_GRACE: Duration = Duration::from_secs(60);
/// Work directories without a lock (rapko before 0.1.x) are removed after this long.
const UNLOCKED_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// A locked work directory: removed when dropped (an error) and by the Ctrl-C handler (an
/// interrupt); a later build removes it if the process is killed.
pub struct WorkDir {
    dir: tempfile::TempDir,
    /// Held for the directory's life; the lock is what tells a later build we are alive.
    _lock: File,
}

impl WorkDir {
    /// Creates a work directory in `parent`, first removing stale ones there.
    pub fn new_in(parent: &Path) -> anyhow::Result<WorkDir> {
        remove_stale(parent);
        let dir = tempfile::Builder::new()
            .prefix(&format!("{PREFIX}{}-", std::process::id()))
            .tempdir_in(parent)
            .with_context(|| {
                format!(
                    "cannot create a temporary directory in {}",
                    parent.display()
                )
            })?;
        crate::cmd::interrupt::remove_on_interrupt(dir.path());
        let lock = lock_file(&dir.path().join(LOCK), true)
            .and_then(|f| {
                try_lock(&f)?
                    .then_some(f)
                    .ok_or_else(|| std::io::Error::other("locked by another process"))
            })
            .with_context(|| format!("cannot lock {}", dir.path().join(LOCK).display()))?;
        Ok(WorkDir { dir, _lock: lock })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        crate::cmd::interrupt::forget(self.dir.path());
    }
}

/// Removes the work directories in `parent` that no running build owns. Best effort: a
/// directory that cannot be examined or removed is left (and said at debug level).
pub fn remove_stale(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str().filter(|n| n.starts_with(PREFIX)) else {
            continue;
        };
        let path = entry.path();
        if !entry.file_type().is_ok_and(|t| t.is_dir()) || !is_stale(&path, name) {
            continue;
        }
        match std::fs::remove_dir_all(&path) {
            Ok(()) => tracing::info!(
                "removed {}, left by a build that was killed",
                path.display()
            ),
            Err(e) => tracing::debug!("cannot remove stale {}: {e}", path.display()),
        }
    }
}

fn is_stale(dir: &Path, name: &str) -> bool {
    let age = std::fs::metadata(dir)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .unwrap_or_default();
    let pid = name[PREFIX.len()..]
        .split_once('-')
        .and_then(|(pid, _)| pid.parse::<u32>().ok());
    let Some(pid) = pid else {
        return age > UNLOCKED_MAX_AGE;
    };
    if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
        return true;
    }
    // The pid runs, but it may be another process that got the number since: the lock says.
    match lock_file(&dir.join(LOCK), false) {
        Ok(file) => age > LOCK_GRACE && try_lock(&file).unwrap_or(false),
        Err(_) => false,
    }
}

fn lock_file(path: &Path, create: bool) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(create)
        .truncate(false)
        .open(path)
}

/// Takes an exclusive lock without waiting: `Ok(false)` when another process holds it.
fn try_lock(file: &File) -> std::io::Result<bool> {
    use rustix::fs::{FlockOperation, flock};
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// A full disk shows as a bare "No space left on device": say which file system it is.
pub fn name_full_disk(error: anyhow::Error, dir: &Path) -> anyhow::Error {
    let full = error.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::StorageFull)
            || c.to_string().contains("No space left on device")
    });
    if !full {
        return error;
    }
    error.context(format!(
        "the file system holding {} is full; free space there or write OUTPUT elsewhere",
        dir.display()
    ))
}

/// Where `rapko build` puts its work directory for `output`: beside a file, inside an
/// existing directory.
pub fn parent_of(output: &Path) -> PathBuf {
    if output.is_dir() {
        return output.to_owned();
    }
    output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_names_the_file_system() {
        let full =
            anyhow::Error::new(std::io::Error::from_raw_os_error(28)).context("writing a blob");
        let text = format!("{:#}", name_full_disk(full, Path::new("/srv/images")));
        assert!(
            text.contains("the file system holding /srv/images is full"),
            "{text}"
        );
        let other = anyhow::anyhow!("something else");
        let text = format!("{:#}", name_full_disk(other, Path::new("/srv/images")));
        assert!(!text.contains("/srv/images"), "{text}");
    }
}
