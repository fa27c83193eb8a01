//! `include`: merge order, relative paths, loops, missing files.

use rapko_config::Arch;

use crate::{data, load, rel, strings};

#[test]
fn lists_put_included_items_first_across_two_levels() {
    let c = load("include/top.yaml");
    assert_eq!(
        c.contents.packages,
        strings(&["base-pkg", "middle-pkg", "top-pkg"])
    );
    assert_eq!(
        c.contents.repositories,
        strings(&[
            "https://base.example.org/main",
            "https://top.example.org/main"
        ])
    );
    assert_eq!(c.contents.keyring, strings(&["base.rsa.pub"]));
    let users: Vec<&str> = c
        .accounts
        .users
        .iter()
        .map(|u| u.username.as_str())
        .collect();
    assert_eq!(users, ["baseuser", "topuser"]);
    let paths: Vec<&str> = c.paths.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, ["/base", "/top"]);
    assert_eq!(c.volumes, strings(&["/base-volume", "/top-volume"]));
}

#[test]
fn the_including_file_wins_on_scalars_and_map_keys() {
    let c = load("include/top.yaml");
    assert_eq!(c.cmd, "top-cmd");
    assert_eq!(c.environment["SHARED"], "top");
    assert_eq!(c.environment["FROM_BASE"], "1");
    assert_eq!(c.annotations["shared.annotation"], "top");
    assert_eq!(c.annotations["base.annotation"], "yes");
}

#[test]
fn unset_values_come_from_the_included_file() {
    let c = load("include/top.yaml");
    assert_eq!(c.entrypoint.command, "/bin/base");
    assert_eq!(c.work_dir, "/base");
    assert_eq!(c.stop_signal, "SIGTERM");
    assert_eq!(c.accounts.run_as, "baseuser");
    assert_eq!(c.archs, vec![Arch::X86_64]);
    assert_eq!(c.vcs_url, "https://base.example.org/repo.git@base");
    assert_eq!(c.layering.map(|l| l.budget), Some(2));
    assert_eq!(c.include, "", "the include is resolved away");
}

#[test]
fn relative_to_the_including_file() {
    let c = load("include/sub/child.yaml");
    assert_eq!(c.archs, vec![Arch::Aarch64]);
    assert_eq!(c.contents.packages, strings(&["base-pkg"]));
}

#[test]
fn relative_to_the_current_directory_as_apko_does() {
    // Cargo runs integration tests in the crate directory.
    let c = load("include/from-cwd.yaml");
    assert_eq!(c.contents.packages, strings(&["base-pkg"]));
}

#[test]
fn missing_include_names_both_files() {
    let err = rapko_config::load(&data("include/missing.yaml"))
        .err()
        .map(|e| e.to_string());
    let including = data("include/missing.yaml");
    let beside = data("include/does-not-exist.yaml");
    assert_eq!(
        err,
        Some(format!(
            "{}: include \"does-not-exist.yaml\" not found (looked for {} and does-not-exist.yaml); fix the path, relative to the including file",
            including.display(),
            beside.display()
        ))
    );
}

#[test]
fn a_file_including_itself() {
    let err = rapko_config::load(&data("include/self.yaml"))
        .err()
        .map(|e| e.to_string());
    let me = data("include/self.yaml");
    assert_eq!(
        err,
        Some(format!(
            "include cycle: {} includes {}; remove one of these includes",
            me.display(),
            me.display()
        ))
    );
}

#[test]
fn two_files_including_each_other() {
    let err = rapko_config::load(&data("include/cycle-a.yaml"))
        .err()
        .map(|e| e.to_string());
    let a = data("include/cycle-a.yaml");
    let b = data("include/cycle-b.yaml");
    assert_eq!(
        err,
        Some(format!(
            "include cycle: {} includes {} includes {}; remove one of these includes",
            a.display(),
            b.display(),
            a.display()
        ))
    );
}

#[test]
fn an_error_in_an_included_file_names_that_file() {
    let err = rapko_config::load(&data("include/bad-included.yaml"))
        .err()
        .map(|e| e.to_string());
    let typo = data("include/typo.yaml");
    assert_eq!(
        err,
        Some(format!(
            "{}:3:3: unknown key \"pakages\" in contents (expected one of repositories, build_repositories, runtime_repositories, keyring, packages, baseimage)",
            typo.display()
        ))
    );
}

#[test]
fn a_user_in_both_files_is_a_duplicate() {
    let err = rapko_config::load(&data("include/duplicate-user.yaml"))
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        err,
        Some(format!(
            "{}: user \"baseuser\" is defined twice in accounts.users (perhaps once in an included file); keep one",
            data("include/duplicate-user.yaml").display()
        ))
    );
}

#[test]
fn paths_in_errors_are_as_given() {
    // A relative path stays relative in messages, so they are short in a terminal.
    let err = rapko_config::load(std::path::Path::new(&rel("include/missing.yaml")))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.starts_with("tests/data/include/missing.yaml: include \"does-not-exist.yaml\" not found (looked for tests/data/include/does-not-exist.yaml and does-not-exist.yaml)"),
        "{err}"
    );
}

#[test]
fn parse_str_resolves_includes_beside_its_origin() {
    let origin = data("include/virtual.yaml");
    let c = rapko_config::parse_str("include: base.yaml\ncmd: from-text\n", &origin);
    let c = c.map_err(|e| e.to_string());
    assert_eq!(c.as_ref().map(|c| c.cmd.as_str()), Ok("from-text"));
    assert_eq!(c.map(|c| c.contents.packages), Ok(strings(&["base-pkg"])));
}

#[test]
fn unreadable_file() {
    let err = rapko_config::load(&data("nope.yaml")).err();
    assert_eq!(
        err.as_ref().map(|e| e.to_string()),
        Some(format!(
            "cannot read config {}",
            data("nope.yaml").display()
        ))
    );
    // The cause is chained, not repeated in the message.
    let kind = err
        .as_ref()
        .and_then(std::error::Error::source)
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .map(std::io::Error::kind);
    assert_eq!(kind, Some(std::io::ErrorKind::NotFound));
}
