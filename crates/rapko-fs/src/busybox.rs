//! busybox's applet symlinks, made the way `busybox --install -s` makes them, without running
//! busybox (it may be built for another architecture, and running it is not reproducible).
//!
//! The list of applets comes, in this order, from
//! 1. `/etc/busybox-paths.d/<package>`, which Alpine's busybox (since 1.36.0-r8) and Wolfi's
//!    ship and apko reads. Its paths are the distribution's, not always the binary's: the
//!    glibc distro's busybox 1.37 lists every applet under `usr/bin/` (the merged-`/usr`
//!    layout its images get from `bin -> usr/bin` links), while its binary would install
//!    `/bin/false` or `/sbin/inotifyd`. The list wins, as in apko: the distribution chose it,
//!    and an image that adds `bin -> usr/bin` as a `paths` symlink needs `/bin` free;
//! 2. otherwise the binary's own applet tables (older busybox, e.g. Alpine 3.7's 1.27): the
//!    sorted, NUL-separated `applet_names` string and, just before it, `applet_install_loc`,
//!    one nibble per applet naming `/bin`, `/sbin`, `/usr/bin` or `/usr/sbin`. This is what
//!    `--install` itself reads; for Alpine's 1.36.1 it gives exactly its paths file.
//!
//! Alpine's trigger runs `bbsuid --install` first, which links its setuid applets to
//! `/bin/bbsuid`; busybox then leaves existing paths alone, as `--install -s` does.

use crate::error::Result;
use crate::rootfs::Writer;
use crate::tree::NodeKind;

/// Where the applet lists live.
const PATHS_DIR: &str = "etc/busybox-paths.d";

/// The setuid applets Alpine's `bbsuid --install` links (the table in bbsuid.c, checked
/// against the strings of Alpine 3.19's `/bin/bbsuid`).
pub const BBSUID_APPLETS: [&str; 8] = [
    "bin/mount",
    "bin/umount",
    "bin/su",
    "usr/bin/crontab",
    "usr/bin/passwd",
    "usr/bin/traceroute",
    "usr/bin/traceroute6",
    "usr/bin/vlock",
];

/// busybox's `install_dir[]`, indexed by `applet_install_loc` (`BB_DIR_ROOT` = 0 is left
/// out: no distribution installs applets at `/`).
const INSTALL_DIRS: [&str; 5] = ["", "bin/", "sbin/", "usr/bin/", "usr/sbin/"];

/// Creates the applet symlinks that no package file already occupies.
pub fn install_links(w: &mut Writer<'_>) -> Result<()> {
    if matches!(
        w.tree.get("bin/bbsuid").map(|n| &n.kind),
        Some(NodeKind::File(_) | NodeKind::Hardlink(_))
    ) {
        for applet in BBSUID_APPLETS {
            w.symlink_if_absent(applet, "/bin/bbsuid")?;
        }
    }
    let mut lists = listed_applets(w)?;
    if lists.is_empty() {
        lists.extend(applets_of_binary(w)?);
    }
    for (target, applets) in lists {
        let mut made = 0;
        for applet in applets {
            if w.symlink_if_absent(&applet, &target)? {
                made += 1;
            }
        }
        tracing::debug!("{made} busybox applet links to {target}");
    }
    Ok(())
}

/// (link target, applet paths) for each list in `/etc/busybox-paths.d` whose binary is
/// installed.
fn listed_applets(w: &Writer<'_>) -> Result<Vec<(String, Vec<String>)>> {
    let Ok(dir) = w.tree.resolve(PATHS_DIR) else {
        return Ok(Vec::new());
    };
    let mut lists = Vec::new();
    for name in w.tree.children(&dir) {
        let list_path = format!("{dir}/{name}");
        let Some(target) = binary_path(w, name) else {
            tracing::warn!("/{list_path} lists applets of {name}, but no such binary is installed");
            continue;
        };
        let text = String::from_utf8_lossy(&w.read(&list_path)?.unwrap_or_default()).into_owned();
        lists.push((target, parse_paths_list(&text)));
    }
    Ok(lists)
}

/// The applet paths of a `busybox-paths.d` file: one per line, relative to the root; blank
/// lines, comments and paths with `..` are left out.
pub fn parse_paths_list(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.trim().trim_start_matches('/'))
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter(|l| !l.split('/').any(|c| c == ".."))
        .map(str::to_owned)
        .collect()
}

/// The applets busybox's own tables list, for a busybox without a paths file.
fn applets_of_binary(w: &Writer<'_>) -> Result<Option<(String, Vec<String>)>> {
    let Some(target) = binary_path(w, "busybox") else {
        return Ok(None);
    };
    let Some(binary) = w.read(&target)? else {
        return Ok(None);
    };
    Ok(match applets_from_binary(&binary) {
        Some(applets) => Some((target, applets)),
        None => {
            tracing::warn!(
                "{target}: no /{PATHS_DIR} list and no applet table found in the binary; \
                 no applet links made (add them with `paths` symlinks)"
            );
            None
        }
    })
}

/// Where a multi-call binary lives: the first of `/bin`, `/usr/bin`, `/sbin`, `/usr/sbin`
/// that holds it as a file (not through a symlinked directory), as `/proc/self/exe` would
/// name it.
fn binary_path(w: &Writer<'_>, name: &str) -> Option<String> {
    ["bin", "usr/bin", "sbin", "usr/sbin"]
        .into_iter()
        .map(|dir| format!("{dir}/{name}"))
        .find(|p| {
            matches!(
                w.tree.get(p).map(|n| &n.kind),
                Some(NodeKind::File(_) | NodeKind::Hardlink(_))
            )
        })
        .map(|p| format!("/{p}"))
}

/// Reads busybox's `applet_names` and `applet_install_loc` tables out of its binary: the
/// applet paths `busybox --install` would create, relative to the root. `None` unless the
/// names table (it starts with the `[` and `[[` applets) and exactly one matching
/// location table are found.
pub fn applets_from_binary(binary: &[u8]) -> Option<Vec<String>> {
    const START: &[u8] = b"[\0[[\0";
    let mut from = 0;
    while let Some(found) = find(binary.get(from..)?, START) {
        let at = from + found;
        let names = applet_names(&binary[at..]);
        if let Some(locations) = install_locations(binary, at, names.len()) {
            return Some(
                names
                    .iter()
                    .zip(locations)
                    .map(|(name, loc)| format!("{}{name}", INSTALL_DIRS[usize::from(loc)]))
                    .collect(),
            );
        }
        from = at + 1;
    }
    None
}

/// The NUL-separated names from the start of `bytes`, while they are printable and sorted
/// (busybox keeps them sorted for its binary search).
fn applet_names(bytes: &[u8]) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for raw in bytes.split(|&b| b == 0) {
        let printable = !raw.is_empty() && raw.iter().all(|b| (0x21..0x7f).contains(b));
        let Some(name) = std::str::from_utf8(raw).ok().filter(|_| printable) else {
            break;
        };
        if names.last().is_some_and(|last| last.as_bytes() >= raw) {
            break;
        }
        names.push(name);
    }
    names
}

/// Finds the one `applet_install_loc` table for `count` applets shortly before the names
/// table at `names_at`: `count` nibbles (low nibble first), each 1..=4.
fn install_locations(binary: &[u8], names_at: usize, count: usize) -> Option<Vec<u8>> {
    if count < 2 {
        return None;
    }
    let size = count.div_ceil(2);
    // The table sits right before the names, maybe with `applet_suid` (2 bits per applet)
    // and alignment padding in between.
    let window_start = names_at.saturating_sub(size * 2 + count / 4 + 64);
    let mut found = (window_start..names_at.saturating_sub(size.saturating_sub(1)))
        .filter_map(|start| decode_locations(binary.get(start..start + size)?, count));
    let first = found.next()?;
    found.next().is_none().then_some(first)
}

fn decode_locations(table: &[u8], count: usize) -> Option<Vec<u8>> {
    let valid = |nibble: u8| (1..=4).contains(&nibble);
    let mut out = Vec::with_capacity(count);
    for (index, byte) in table.iter().enumerate() {
        let (low, high) = (byte & 0x0f, byte >> 4);
        out.push(valid(low).then_some(low)?);
        if out.len() == count {
            // An odd count leaves the last high nibble unused (zero).
            return (index + 1 == table.len() && high == 0).then_some(out);
        }
        out.push(valid(high).then_some(high)?);
    }
    (out.len() == count).then_some(out)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake binary: padding, a location table, padding, then the names.
    fn fake(names: &[&str], locations: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0xffu8; 40];
        for pair in locations.chunks(2) {
            bytes.push(pair[0] | pair.get(1).map_or(0, |h| h << 4));
        }
        bytes.extend([0u8; 8]);
        for name in names {
            bytes.extend(name.as_bytes());
            bytes.push(0);
        }
        bytes.extend([0u8, 0xff, 0xfe]);
        bytes
    }

    #[test]
    fn tables_give_install_paths() {
        let bin = fake(&["[", "[[", "ls", "mount", "wget"], &[3, 3, 1, 1, 3]);
        assert_eq!(
            applets_from_binary(&bin).unwrap(),
            [
                "usr/bin/[",
                "usr/bin/[[",
                "bin/ls",
                "bin/mount",
                "usr/bin/wget"
            ]
        );
    }

    #[test]
    fn missing_or_broken_tables_give_nothing() {
        assert_eq!(applets_from_binary(b"no tables here"), None);
        // A location out of range (5) is not a table.
        let bin = fake(&["[", "[[", "ls", "vi"], &[3, 3, 5, 1]);
        assert_eq!(applets_from_binary(&bin), None);
    }

    #[test]
    fn paths_lists_skip_comments_blanks_and_dotdot() {
        let list = "# applets\n/bin/ls\n\nusr/bin/vi\n../etc/passwd\nbin/../../x\n";
        assert_eq!(parse_paths_list(list), ["bin/ls", "usr/bin/vi"]);
    }
}
