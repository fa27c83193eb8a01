//! Every refusal, with its exact message.

use crate::error;

const TOP_KEYS: &str = "contents, entrypoint, cmd, stop-signal, work-dir, accounts, archs, environment, paths, vcs-url, annotations, include, volumes, layering, certificates, options";

fn check(yaml: &str, expected: &str) {
    assert_eq!(error(yaml), expected, "for:\n{yaml}");
}

/// A validation error, which names the file but has no position.
fn invalid(yaml: &str, problem: &str) {
    check(yaml, &format!("test.yaml: {problem}"));
}

#[test]
fn unknown_top_level_key() {
    check(
        "contents:\n  packages: [a]\nentrypont:\n  command: /bin/sh\n",
        &format!(
            "test.yaml:3:1: unknown key \"entrypont\" in the top level (expected one of {TOP_KEYS})"
        ),
    );
}

#[test]
fn unknown_key_in_contents() {
    check(
        "contents:\n  packages: [a]\n  repos: [b]\n",
        "test.yaml:3:3: unknown key \"repos\" in contents (expected one of repositories, build_repositories, runtime_repositories, keyring, packages, baseimage)",
    );
}

#[test]
fn unknown_key_in_a_user() {
    check(
        "accounts:\n  users:\n    - username: a\n      uid: 5\n      home: /x\n",
        "test.yaml:5:7: unknown key \"home\" in accounts.users (expected one of username, uid, gid, shell, homedir)",
    );
}

#[test]
fn unknown_key_in_paths_and_entrypoint() {
    check(
        "paths:\n  - path: /a\n    type: directory\n    mode: 0755\n",
        "test.yaml:4:5: unknown key \"mode\" in paths (expected one of path, type, uid, gid, permissions, source, recursive)",
    );
    check(
        "entrypoint:\n  cmd: /bin/sh\n",
        "test.yaml:2:3: unknown key \"cmd\" in entrypoint (expected one of type, command, shell-fragment, services)",
    );
}

#[test]
fn removed_apko_key_os_release_is_unknown() {
    check(
        "os-release:\n  name: x\n",
        &format!(
            "test.yaml:1:1: unknown key \"os-release\" in the top level (expected one of {TOP_KEYS})"
        ),
    );
}

#[test]
fn bad_path_type() {
    check(
        "paths:\n  - path: /a\n    type: fifo\n",
        "test.yaml:3:11: unknown paths type \"fifo\" (expected one of directory, empty-file, hardlink, symlink, permissions)",
    );
}

#[test]
fn missing_path_type() {
    check(
        "paths:\n  - path: /a\n",
        "test.yaml:2:5: missing key \"type\" in this mapping; add it",
    );
}

#[test]
fn empty_or_unknown_entrypoint_type() {
    check(
        "entrypoint:\n  type: \"\"\n",
        "test.yaml:2:9: unknown entrypoint.type \"\" (expected one of service-bundle)",
    );
    check(
        "entrypoint:\n  type: daemon\n",
        "test.yaml:2:9: unknown entrypoint.type \"daemon\" (expected one of service-bundle)",
    );
}

#[test]
fn service_bundle_problems() {
    invalid(
        "entrypoint:\n  type: service-bundle\n",
        "entrypoint.type is service-bundle but entrypoint.services is empty; add `services: {NAME: COMMAND}`",
    );
    invalid(
        "entrypoint:\n  services:\n    web: /bin/httpd\n",
        "entrypoint.services is set but entrypoint.type is not service-bundle; add `type: service-bundle`",
    );
    invalid(
        "entrypoint:\n  type: service-bundle\n  services:\n    web: \"\"\n",
        "entrypoint.services.web has an empty command; give the command the service runs",
    );
    invalid(
        "entrypoint:\n  type: service-bundle\n  services:\n    ../web: /bin/httpd\n",
        "entrypoint.services name \"../web\" is not usable as a directory name under /sv; use letters, digits, '.', '_' or '-'",
    );
}

#[test]
fn command_problems() {
    invalid(
        "entrypoint:\n  command: /bin/a\n  shell-fragment: echo b\n",
        "entrypoint has both command and shell-fragment; keep one",
    );
    invalid(
        "entrypoint:\n  command: /bin/echo \"unclosed\n",
        "entrypoint.command \"/bin/echo \"unclosed\" cannot be split into arguments: a quote is not closed; close it or escape it with \\",
    );
    invalid(
        "cmd: 'trailing \\'\n",
        "cmd \"trailing \\\" cannot be split into arguments: it ends with a lone backslash; remove it or write \\\\",
    );
}

#[test]
fn user_with_uid_zero() {
    invalid(
        "accounts:\n  users:\n    - username: admin\n      uid: 0\n",
        "user \"admin\" has uid 0, which apko refuses; give it a non-zero uid (65532 is the usual nonroot) and write `run-as: 0` to run as root",
    );
    // A missing uid reads as 0, as in apko.
    invalid(
        "accounts:\n  users:\n    - username: admin\n",
        "user \"admin\" has uid 0, which apko refuses; give it a non-zero uid (65532 is the usual nonroot) and write `run-as: 0` to run as root",
    );
}

#[test]
fn user_and_group_without_names() {
    invalid(
        "accounts:\n  users:\n    - username: a\n      uid: 5\n    - uid: 6\n",
        "accounts.users[1] has no username; add `username: NAME` to it",
    );
    invalid(
        "accounts:\n  groups:\n    - gid: 6\n",
        "accounts.groups[0] has no groupname; add `groupname: NAME` to it",
    );
}

#[test]
fn duplicate_users() {
    invalid(
        "accounts:\n  users:\n    - {username: a, uid: 5}\n    - {username: a, uid: 6}\n",
        "user \"a\" is defined twice in accounts.users (perhaps once in an included file); keep one",
    );
    invalid(
        "accounts:\n  users:\n    - {username: a, uid: 5}\n    - {username: b, uid: 5}\n",
        "users \"a\" and \"b\" both have uid 5; give each user its own uid",
    );
}

#[test]
fn duplicate_groups() {
    invalid(
        "accounts:\n  groups:\n    - {groupname: g, gid: 5}\n    - {groupname: g, gid: 6}\n",
        "group \"g\" is defined twice in accounts.groups (perhaps once in an included file); keep one",
    );
    invalid(
        "accounts:\n  groups:\n    - {groupname: g, gid: 5}\n    - {groupname: h, gid: 5}\n",
        "groups \"g\" and \"h\" both have gid 5; give each group its own gid",
    );
}

#[test]
fn run_as_unknown_user_or_group() {
    invalid(
        "accounts:\n  run-as: nginx\n",
        "accounts.run-as \"nginx\" names no user of accounts.users (none defined); add the user or give a numeric uid",
    );
    invalid(
        "accounts:\n  users: [{username: www, uid: 80}]\n  run-as: www:web\n",
        "accounts.run-as \"www:web\" names no group of accounts.groups (none defined); add the group or give a numeric gid",
    );
}

#[test]
fn run_as_by_uid_needs_no_user() {
    assert!(crate::parse("accounts:\n  run-as: \"65532\"\n").is_ok());
    assert!(crate::parse("accounts:\n  run-as: 65532\n").is_ok());
    assert!(crate::parse("accounts:\n  run-as: root\n").is_ok());
}

#[test]
fn layering_problems() {
    check(
        "layering:\n  strategy: size\n  budget: 3\n",
        "test.yaml:2:13: unknown layering.strategy \"size\" (expected one of origin)",
    );
    invalid(
        "layering:\n  strategy: origin\n  budget: 0\n",
        "layering.budget must be at least 1 (the number of extra layers); remove `layering` to build a single layer",
    );
    invalid(
        "layering:\n  strategy: origin\n",
        "layering.budget must be at least 1 (the number of extra layers); remove `layering` to build a single layer",
    );
    check(
        "layering:\n  budget: 3\n",
        "test.yaml:2:3: missing key \"strategy\" in this mapping; add it",
    );
}

#[test]
fn path_problems() {
    invalid(
        "paths:\n  - type: directory\n",
        "paths[0] has no path; add `path: /some/path` to it",
    );
    invalid(
        "paths:\n  - path: /bin/sh\n    type: symlink\n",
        "paths entry /bin/sh is a symlink but has no source; add `source: TARGET`",
    );
    invalid(
        "paths:\n  - path: /bin/sh\n    type: hardlink\n",
        "paths entry /bin/sh is a hardlink but has no source; add `source: TARGET`",
    );
}

#[test]
fn certificate_problems() {
    invalid(
        "certificates:\n  additional:\n    - content: PEM\n",
        "certificates.additional[0] has no name; add `name: NAME` to it",
    );
    invalid(
        "certificates:\n  additional:\n    - {name: ../../etc/passwd, content: PEM}\n",
        "certificates.additional name \"../../etc/passwd\" is invalid: use letters, digits, '_', '-' and '.', not starting with '.'",
    );
    invalid(
        "certificates:\n  additional:\n    - {name: corp}\n",
        "certificates.additional \"corp\" has no content; paste the PEM certificate under `content: |`",
    );
    invalid(
        "certificates:\n  additional:\n    - {name: corp, content: A}\n    - {name: corp, content: B}\n",
        "certificates.additional \"corp\" is defined twice; keep one",
    );
}

#[test]
fn packages_environment_annotations() {
    invalid(
        "contents:\n  packages: [a, \"\"]\n",
        "contents.packages[1] is empty; remove it or name a package",
    );
    invalid(
        "environment:\n  \"A=B\": c\n",
        "environment variable name \"A=B\" is invalid: it must be non-empty and must not contain '='",
    );
    invalid(
        "annotations:\n  \"\": x\n",
        "annotations has an empty key; give every annotation a name",
    );
}

#[test]
fn wrong_types_and_yaml_errors_keep_their_position() {
    check(
        "contents:\n  packages: alpine-base\n",
        "test.yaml:2:13: expected a list here (`- item` lines or `[a, b]`)",
    );
    check(
        "accounts:\n  users:\n    - username: a\n      uid: -5\n",
        "test.yaml:4:12: invalid u32",
    );
    check(
        "contents:\n  packages: [a]\ncontents:\n  packages: [b]\n",
        "test.yaml:3:1: duplicate mapping key `contents` is not allowed here",
    );
    check(
        "contents: {packages: [a]}\nentrypoint: /bin/sh\n",
        "test.yaml:2:13: expected a mapping here (`key: value` lines or `{key: value}`)",
    );
    check(
        "cmd: [a, b]\n",
        "test.yaml:1:6: expected a single value here, not a list or mapping",
    );
    check(
        "contents:\n  packages: [a, b\n",
        "test.yaml:2:13: unclosed bracket '['",
    );
}

#[test]
fn empty_file() {
    check(
        "# nothing here\n",
        "test.yaml: the config is empty; write at least `contents: {packages: [...]}`",
    );
}

#[test]
fn nulls_read_as_not_set_like_go_yaml() {
    let c = crate::parse("cmd:\ncontents:\n  packages:\nenvironment:\n  EMPTY:\n");
    let c = c.map_err(|e| e.to_string());
    assert_eq!(c.as_ref().map(|c| c.cmd.as_str()), Ok(""));
    assert_eq!(c.as_ref().map(|c| c.contents.packages.len()), Ok(0));
    assert_eq!(c.map(|c| c.environment["EMPTY"].clone()), Ok(String::new()));
}
