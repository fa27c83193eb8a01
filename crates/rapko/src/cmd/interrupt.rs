//! Ctrl-C (and SIGTERM): remove the temporary directories a command registered, then exit
//! with status 130, so an interrupted build leaves no partial output behind.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Installs the handler; call once at start-up.
pub fn install() {
    let result = ctrlc::set_handler(|| {
        if let Ok(paths) = PENDING.lock() {
            for path in paths.iter() {
                let _ = std::fs::remove_dir_all(path);
            }
        }
        eprintln!("interrupted; temporary files removed");
        std::process::exit(130);
    });
    if let Err(e) = result {
        tracing::debug!("no interrupt handler: {e}");
    }
}

/// Removes `path` (a directory) if the process is interrupted.
pub fn remove_on_interrupt(path: &Path) {
    if let Ok(mut paths) = PENDING.lock() {
        paths.push(path.to_owned());
    }
}

/// `path` is gone or kept on purpose: no longer remove it on interrupt.
pub fn forget(path: &Path) {
    if let Ok(mut paths) = PENDING.lock() {
        paths.retain(|p| p != path);
    }
}
