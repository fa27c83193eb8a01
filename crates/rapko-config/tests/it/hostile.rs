//! Hostile input found by testing (issue #19): config files that are endless streams, and
//! includes that name something other than a file.

use std::path::Path;

#[test]
fn dev_zero_as_a_config_is_refused_without_eating_memory() {
    let err = rapko_config::load(Path::new("/dev/zero")).expect_err("/dev/zero refused");
    let text = format!("{err}: {}", std::error::Error::source(&err).expect("cause"));
    assert!(
        text.contains("/dev/zero") && text.contains("larger than 16 MiB"),
        "{text}"
    );
}

#[test]
fn an_include_that_is_a_directory_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("base")).expect("mkdir");
    let config = dir.path().join("top.yaml");
    std::fs::write(&config, "include: base\ncontents:\n  packages: [a]\n").expect("write");
    let err = rapko_config::load(&config)
        .expect_err("a directory include is refused")
        .to_string();
    assert!(
        err.contains("is a directory") && !err.contains("not found"),
        "{err}"
    );
}
