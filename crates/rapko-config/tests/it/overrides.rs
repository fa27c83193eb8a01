//! Command-line overrides and named build options.

use std::collections::BTreeMap;

use rapko_config::{Arch, Overrides};

use crate::{load, strings};

#[test]
fn lists_append_archs_replace_annotations_override() {
    let mut c = load("examples/wolfi-base.yaml");
    let overrides = Overrides {
        archs: vec![Arch::Riscv64, Arch::X86_64, Arch::X86_64],
        packages_append: strings(&["busybox"]),
        repositories_append: strings(&["./packages"]),
        build_repositories_append: strings(&["./build-only"]),
        runtime_repositories_append: strings(&["https://runtime.example.org"]),
        keyring_append: strings(&["./melange.rsa.pub"]),
        annotations: BTreeMap::from([("org.opencontainers.image.title".into(), "mine".into())]),
        build_options: vec![],
    };
    assert!(c.apply(&overrides).is_ok());
    assert_eq!(c.archs, vec![Arch::X86_64, Arch::Riscv64]);
    assert_eq!(
        c.contents.packages,
        strings(&["ca-certificates-bundle", "wolfi-base", "busybox"])
    );
    assert_eq!(
        c.contents.repositories,
        strings(&["https://packages.wolfi.dev/os", "./packages"])
    );
    assert_eq!(c.contents.build_repositories, strings(&["./build-only"]));
    assert_eq!(
        c.contents.runtime_repositories,
        strings(&["https://runtime.example.org"])
    );
    assert_eq!(
        c.contents.keyring.last().map(String::as_str),
        Some("./melange.rsa.pub")
    );
    assert_eq!(c.annotations["org.opencontainers.image.title"], "mine");
    assert_eq!(
        c.build_repositories(),
        strings(&[
            "./build-only",
            "./packages",
            "https://packages.wolfi.dev/os"
        ])
    );
    assert_eq!(
        c.runtime_repositories(),
        strings(&[
            "./packages",
            "https://packages.wolfi.dev/os",
            "https://runtime.example.org"
        ])
    );
}

#[test]
fn empty_overrides_change_nothing() {
    let mut c = load("full.yaml");
    let before = c.clone();
    assert!(c.apply(&Overrides::default()).is_ok());
    assert_eq!(c, before);
}

#[test]
fn annotation_from_the_command_line_replaces_the_configs() {
    let mut c = load("full.yaml");
    let (k, v) =
        Overrides::parse_annotation("org.opencontainers.image.vendor=Someone").unwrap_or_default();
    let overrides = Overrides {
        annotations: BTreeMap::from([(k, v)]),
        ..Overrides::default()
    };
    assert!(c.apply(&overrides).is_ok());
    assert_eq!(c.annotations["org.opencontainers.image.vendor"], "Someone");
    assert_eq!(c.annotations["org.opencontainers.image.title"], "app");
}

#[test]
fn build_option_adds_removes_and_sets() {
    let mut c = load("full.yaml");
    let overrides = Overrides {
        build_options: strings(&["debug"]),
        ..Overrides::default()
    };
    let applied = c.apply(&overrides).map_err(|e| e.to_string());
    assert_eq!(applied, Ok(()));
    assert_eq!(
        c.contents.packages,
        strings(&["alpine-baselayout", "busybox>=1.36", "busybox-extras"])
    );
    assert_eq!(c.accounts.run_as, "0");
    assert_eq!(c.environment["APP_MODE"], "debug");
    // The option's entrypoint has no type, so apko keeps the config's.
    assert!(c.entrypoint.shell_fragment.is_empty());
}

#[test]
fn example_build_option() {
    let mut c = load("examples/build-options.yaml");
    let overrides = Overrides {
        build_options: strings(&["debug"]),
        ..Overrides::default()
    };
    assert!(c.apply(&overrides).is_ok());
    assert_eq!(
        c.contents.packages,
        strings(&["glibc", "libgcc", "busybox"])
    );
}

#[test]
fn unknown_build_option() {
    let mut c = load("full.yaml");
    let overrides = Overrides {
        build_options: strings(&["release"]),
        ..Overrides::default()
    };
    assert_eq!(
        c.apply(&overrides).err().map(|e| e.to_string()).as_deref(),
        Some(
            "build option \"release\" is not defined under `options` (known: debug); check the name"
        )
    );
}

#[test]
fn overrides_are_validated() {
    let mut c = load("examples/wolfi-base.yaml");
    let overrides = Overrides {
        packages_append: strings(&[""]),
        ..Overrides::default()
    };
    assert_eq!(
        c.apply(&overrides).err().map(|e| e.to_string()).as_deref(),
        Some("contents.packages[2] is empty; remove it or name a package")
    );
}
