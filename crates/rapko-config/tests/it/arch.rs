//! Architecture names and aliases, in `archs:` and through [`Arch`].

use rapko_config::Arch;
use rapko_config::arch::parse_list;

use crate::{error, parse};

#[test]
fn aliases_name_the_same_arch() {
    let pairs = [
        ("x86_64", "amd64"),
        ("aarch64", "arm64"),
        ("armv7", "arm/v7"),
        ("armhf", "arm/v6"),
        ("x86", "386"),
        ("loongarch64", "loong64"),
        ("i386", "386"),
        ("armv6", "arm/v6"),
    ];
    for (a, b) in pairs {
        assert_eq!(Arch::parse(a).ok(), Arch::parse(b).ok(), "{a} {b}");
        assert!(Arch::parse(a).is_ok(), "{a}");
    }
}

#[test]
fn names_and_platforms() {
    let table = [
        (Arch::X86, "x86", "386", None),
        (Arch::X86_64, "x86_64", "amd64", None),
        (Arch::Armhf, "armhf", "arm", Some("v6")),
        (Arch::Armv7, "armv7", "arm", Some("v7")),
        (Arch::Aarch64, "aarch64", "arm64", None),
        (Arch::Loongarch64, "loongarch64", "loong64", None),
        (Arch::Ppc64le, "ppc64le", "ppc64le", None),
        (Arch::Riscv64, "riscv64", "riscv64", None),
        (Arch::S390x, "s390x", "s390x", None),
    ];
    for (arch, apk, oci, variant) in table {
        assert_eq!(arch.apk_name(), apk);
        assert_eq!(arch.to_string(), apk);
        assert_eq!(arch.oci_architecture(), oci);
        assert_eq!(arch.oci_variant(), variant);
    }
    assert_eq!(Arch::ALL.len(), table.len());
}

#[test]
fn unknown_arch_message() {
    assert_eq!(
        Arch::parse("sparc").err().map(|e| e.to_string()).as_deref(),
        Some(
            "unknown architecture \"sparc\" (expected one of 386, amd64, arm64, arm/v6, arm/v7, loong64, ppc64le, riscv64, s390x, all or host)"
        )
    );
}

#[test]
fn unknown_arch_in_yaml_points_at_it() {
    let msg = error("archs:\n  - x86_64\n  - sparc\n");
    assert!(
        msg.starts_with("test.yaml:3:5: unknown architecture \"sparc\" (expected one of 386,"),
        "{msg}"
    );
}

#[test]
fn all_and_host() {
    let all = parse("archs: [all]\n").map(|c| c.archs).unwrap_or_default();
    assert_eq!(all, Arch::ALL.to_vec());
    let host = parse("archs: [host]\n")
        .map(|c| c.archs)
        .unwrap_or_default();
    assert_eq!(host, Arch::host().into_iter().collect::<Vec<_>>());
    assert_eq!(
        parse_list(&["all", "x86_64"]).ok(),
        Some(Arch::ALL.to_vec())
    );
}

#[test]
fn lists_are_sorted_and_deduplicated() {
    let archs = parse_list(&["x86_64", "amd64", "riscv64", "arm/v6", "armhf"]).ok();
    assert_eq!(archs, Some(vec![Arch::X86_64, Arch::Armhf, Arch::Riscv64]));
    assert!(parse_list(&["x86_64", "bogus"]).is_err());
}

#[test]
fn not_set_means_all() {
    let c = parse("contents:\n  packages: [a]\n");
    assert_eq!(c.map(|c| c.archs_or_all()).ok(), Some(Arch::ALL.to_vec()));
}
