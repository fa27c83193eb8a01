//! `accounts`: users and groups from the config, merged into the `/etc/passwd`, `/etc/group`
//! and `/etc/shadow` that packages ship (a configured entry replaces a shipped one of the same
//! name; the others are appended in config order), and each user's home directory.
//!
//! Lines are apko's: `NAME:x:UID:GID:Account created by apko:HOME:SHELL` and
//! `NAME:x:GID:MEMBERS`, so an image matches apko's byte for byte; shadow entries are locked
//! (`NAME:!::0:::::`). A missing home directory is created owned by the user, mode 0700
//! (missing parents root 0755); an existing one is left alone, as apko does, since shipped
//! users have homes like `/` or `/bin`; `/dev/null` is no home to create.

use rapko_config::{Accounts, Group, User};

use crate::error::{FsError, Result};
use crate::rootfs::Writer;
use crate::tree::{Node, describe};

pub fn apply(w: &mut Writer<'_>, accounts: &Accounts) -> Result<()> {
    if accounts.users.is_empty() && accounts.groups.is_empty() {
        return Ok(());
    }
    let groups: Vec<(String, String)> = accounts
        .groups
        .iter()
        .map(|g| (g.groupname.clone(), group_line(g)))
        .collect();
    merge_lines(w, "etc/group", &groups, 0o644)?;
    let users: Vec<(String, String)> = accounts
        .users
        .iter()
        .map(|u| (u.username.clone(), passwd_line(u)))
        .collect();
    merge_lines(w, "etc/passwd", &users, 0o644)?;
    let shadow: Vec<(String, String)> = accounts
        .users
        .iter()
        .map(|u| (u.username.clone(), format!("{}:!::0:::::", u.username)))
        .collect();
    merge_lines(w, "etc/shadow", &shadow, 0o640)?;
    for user in &accounts.users {
        home_dir(w, user)?;
    }
    Ok(())
}

fn passwd_line(u: &User) -> String {
    format!(
        "{}:x:{}:{}:Account created by apko:{}:{}",
        u.username,
        u.uid,
        u.primary_gid(),
        u.home_dir(),
        u.login_shell()
    )
}

fn group_line(g: &Group) -> String {
    format!("{}:x:{}:{}", g.groupname, g.gid, g.members.join(","))
}

/// Replaces lines whose first field is one of the names, appends the others. `mode` is for
/// a file no package shipped.
fn merge_lines(
    w: &mut Writer<'_>,
    path: &str,
    entries: &[(String, String)],
    mode: u32,
) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let existing = String::from_utf8_lossy(&w.read(path)?.unwrap_or_default()).into_owned();
    let mut lines: Vec<String> = existing.lines().map(str::to_owned).collect();
    for (name, line) in entries {
        check_line(path, name, line)?;
        let prefix = format!("{name}:");
        match lines.iter_mut().find(|l| l.starts_with(&prefix)) {
            Some(old) => old.clone_from(line),
            None => lines.push(line.clone()),
        }
    }
    let mut text = lines.join("\n");
    text.push('\n');
    w.file(path, text.into_bytes(), mode)
}

/// A name with `:` or a field with a newline would corrupt the file for every account.
fn check_line(path: &str, name: &str, line: &str) -> Result<()> {
    if name.is_empty() || name.contains(':') || line.contains(['\n', '\r', '\0']) {
        return Err(FsError::Accounts(format!(
            "account {name:?} cannot go into /{path}: names must be non-empty without ':', and \
             no field may hold a newline or NUL; fix accounts in the config"
        )));
    }
    let fields = line.split(':').count();
    let expected = match path {
        "etc/passwd" => 7,
        "etc/group" => 4,
        _ => 9,
    };
    if fields != expected {
        return Err(FsError::Accounts(format!(
            "account {name:?}: a field contains ':', which would shift the fields of its \
             /{path} line; fix the home directory, shell or member names in the config"
        )));
    }
    Ok(())
}

fn home_dir(w: &mut Writer<'_>, user: &User) -> Result<()> {
    let home = user.home_dir();
    let path = home.trim_start_matches('/');
    if path.is_empty() || home == "/dev/null" {
        return Ok(());
    }
    let resolved = w.tree.resolve(path)?;
    match w.tree.get(&resolved) {
        Some(node) if node.is_dir() => return Ok(()),
        Some(node) => {
            return Err(FsError::Accounts(format!(
                "the home directory {home} of {} exists but is {}; pick another homedir",
                user.username,
                describe(&node.kind)
            )));
        }
        None => {}
    }
    let mut node = Node::directory(0o700, user.uid, user.primary_gid());
    node.mtime = w.mtime;
    w.tree.insert(resolved, node)
}
