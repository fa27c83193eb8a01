//! `accounts`: users and groups from the config, merged into the `/etc/passwd`, `/etc/group`
//! and `/etc/shadow` that packages ship (a configured entry replaces a shipped one of the same
//! name), and each user's home directory, owned by the user, mode 0700.

use rapko_config::{Accounts, Group, User};

use crate::error::{FsError, Result};
use crate::rootfs::Writer;
use crate::tree::Node;

pub fn apply(w: &mut Writer<'_>, accounts: &Accounts) -> Result<()> {
    if accounts.users.is_empty() && accounts.groups.is_empty() {
        return Ok(());
    }
    let groups: Vec<(String, String)> = accounts
        .groups
        .iter()
        .map(|g| (g.groupname.clone(), group_line(g)))
        .collect();
    merge_lines(w, "etc/group", &groups)?;
    let users: Vec<(String, String)> = accounts
        .users
        .iter()
        .map(|u| (u.username.clone(), passwd_line(u)))
        .collect();
    merge_lines(w, "etc/passwd", &users)?;
    let shadow: Vec<(String, String)> = accounts
        .users
        .iter()
        .map(|u| (u.username.clone(), format!("{}:!::0:::::", u.username)))
        .collect();
    merge_lines(w, "etc/shadow", &shadow)?;
    for user in &accounts.users {
        home_dir(w, user)?;
    }
    Ok(())
}

fn passwd_line(u: &User) -> String {
    format!(
        "{}:x:{}:{}:{}:{}:{}",
        u.username,
        u.uid,
        u.primary_gid(),
        u.username,
        u.home_dir(),
        u.login_shell()
    )
}

fn group_line(g: &Group) -> String {
    format!("{}:x:{}:{}", g.groupname, g.gid, g.members.join(","))
}

/// Replaces lines whose first field is one of the names, appends the others.
fn merge_lines(w: &mut Writer<'_>, path: &str, entries: &[(String, String)]) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let existing = String::from_utf8_lossy(w.read(path).unwrap_or_default()).into_owned();
    let mut lines: Vec<String> = existing.lines().map(str::to_owned).collect();
    for (name, line) in entries {
        if name.is_empty() || name.contains([':', '\n']) {
            return Err(FsError::Accounts(format!("invalid account name {name:?}")));
        }
        let prefix = format!("{name}:");
        match lines.iter_mut().find(|l| l.starts_with(&prefix)) {
            Some(old) => old.clone_from(line),
            None => lines.push(line.clone()),
        }
    }
    let mut text = lines.join("\n");
    text.push('\n');
    let mode = if path == "etc/shadow" { 0o640 } else { 0o644 };
    w.file(path, text.into_bytes(), mode)
}

fn home_dir(w: &mut Writer<'_>, user: &User) -> Result<()> {
    let home = user.home_dir();
    let path = home.trim_start_matches('/');
    if path.is_empty() {
        return Ok(());
    }
    let resolved = w.dir(path, 0o700)?;
    let node: &mut Node = w
        .tree
        .get_mut(&resolved)
        .ok_or_else(|| FsError::Accounts(format!("home directory {home} vanished")))?;
    node.uid = user.uid;
    node.gid = user.primary_gid();
    node.mode = 0o700;
    Ok(())
}
