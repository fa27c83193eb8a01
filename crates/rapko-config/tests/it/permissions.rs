//! `paths[].permissions` in every form go-yaml reads, and the refused ones.

use crate::{error, parse};

fn mode_of(value: &str) -> Option<u32> {
    let yaml = format!("paths:\n  - path: /x\n    type: permissions\n    permissions: {value}\n");
    match parse(&yaml) {
        Ok(c) => c.paths[0].permissions.map(|p| p.mode()),
        Err(e) => panic!("{value}: {e}"),
    }
}

#[test]
fn octal_forms() {
    assert_eq!(mode_of("0o755"), Some(0o755));
    assert_eq!(mode_of("0755"), Some(0o755));
    assert_eq!(mode_of("'0755'"), Some(0o755));
    assert_eq!(mode_of("\"0o755\""), Some(0o755));
    assert_eq!(mode_of("0o4755"), Some(0o4755));
    assert_eq!(mode_of("0o7777"), Some(0o7777));
}

#[test]
fn decimal_is_decimal_as_in_go_yaml() {
    assert_eq!(mode_of("493"), Some(0o755));
    assert_eq!(mode_of("0"), Some(0));
    assert_eq!(mode_of("0x1ed"), Some(0o755));
}

#[test]
fn too_large_is_an_error_at_its_position() {
    let msg = error("paths:\n  - path: /x\n    type: permissions\n    permissions: 0o17777\n");
    assert_eq!(
        msg,
        "test.yaml:4:18: permissions 0o17777 are out of range: the largest is 0o7777"
    );
    let msg = error("paths:\n  - path: /x\n    type: permissions\n    permissions: 4096\n");
    assert_eq!(
        msg,
        "test.yaml:4:18: permissions 0o10000 are out of range: the largest is 0o7777"
    );
}

#[test]
fn non_octal_text_is_an_error() {
    let msg = error("paths:\n  - path: /x\n    type: directory\n    permissions: rwxr-xr-x\n");
    assert_eq!(
        msg,
        "test.yaml:4:18: invalid permissions \"rwxr-xr-x\": write them in octal, like 0o755 or 0755"
    );
    let msg = error("paths:\n  - path: /x\n    type: directory\n    permissions: '0789'\n");
    assert_eq!(
        msg,
        "test.yaml:4:18: invalid permissions \"0789\": write them in octal, like 0o755 or 0755"
    );
}

#[test]
fn negative_is_an_error() {
    let msg = error("paths:\n  - path: /x\n    type: directory\n    permissions: -1\n");
    assert_eq!(
        msg,
        "test.yaml:4:18: invalid permissions -1: they cannot be negative"
    );
}

#[test]
fn uids_follow_the_same_integer_rules() {
    // go-yaml reads a leading zero as octal everywhere, not only in permissions.
    let c = parse("accounts:\n  users:\n    - username: a\n      uid: 01000\n");
    assert_eq!(c.ok().map(|c| c.accounts.users[0].uid), Some(0o1000));
}
