//! Where the shared real-package fixtures live, and whether a test that needs an external
//! tool runs, skips or fails.

use std::path::{Path, PathBuf};

/// The shared fixtures directory: `$RAPKO_FIXTURES`, else `../shared/fixtures` beside the
/// workspace root.
pub fn fixtures() -> PathBuf {
    if let Some(p) = std::env::var_os("RAPKO_FIXTURES") {
        return PathBuf::from(p);
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = workspace.join("../shared/fixtures");
    dir.canonicalize().unwrap_or(dir)
}

/// A path inside the fixtures directory; panics with a clear message if it is missing,
/// since every test that asks for one cannot do anything without it.
pub fn fixture(rel: &str) -> PathBuf {
    let p = fixtures().join(rel);
    assert!(
        p.exists(),
        "fixture {} not found (set RAPKO_FIXTURES to the shared fixtures directory)",
        p.display()
    );
    p
}

/// True when `RAPKO_REQUIRE_TOOLS=1`: a missing external tool is then a failure, not a skip.
pub fn tools_required() -> bool {
    std::env::var("RAPKO_REQUIRE_TOOLS").is_ok_and(|v| v == "1")
}

/// Looks `name` up on `PATH` (or takes it as a path). Returns `None` after printing why the
/// test is skipped, or panics when tools are required.
pub fn require_tool(name: &str) -> Option<PathBuf> {
    let found = if name.contains('/') {
        Some(PathBuf::from(name)).filter(|p| p.is_file())
    } else {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
    };
    if found.is_none() {
        assert!(
            !tools_required(),
            "{name} is required (RAPKO_REQUIRE_TOOLS=1) but was not found; run .ci/run's install step"
        );
        eprintln!("skipping: {name} not found (install it, see ../shared/docs/TOOLS.md)");
    }
    found
}
