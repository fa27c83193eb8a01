//! CPU architectures, under both the names apk uses (`x86_64`, `aarch64`,
//! `armv7`...) and the names OCI uses (`amd64`, `arm64`, `arm/v7`...).
//!
//! apko accepts either spelling in `archs:` and on `--arch`, and so does
//! [`Arch::parse`]. It also accepts `armv6` and `i386` for the two 32-bit
//! architectures, which apko does not (it would pass them through and fail
//! later). `all` and `host` are list-level words, handled by [`parse_list`].

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ConfigError;

/// One CPU architecture an image can be built for.
///
/// The order is that of the OCI platform names (`386` < `amd64` < `arm/v6` <
/// `arm/v7` < `arm64` < ...), which is the order apko sorts them in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Arch {
    /// apk `x86`, OCI `386`.
    X86,
    /// apk `x86_64`, OCI `amd64`.
    X86_64,
    /// apk `armhf`, OCI `arm` variant `v6`.
    Armhf,
    /// apk `armv7`, OCI `arm` variant `v7`.
    Armv7,
    /// apk `aarch64`, OCI `arm64`.
    Aarch64,
    /// apk `loongarch64`, OCI `loong64`.
    Loongarch64,
    /// apk and OCI `ppc64le`.
    Ppc64le,
    /// apk and OCI `riscv64`.
    Riscv64,
    /// apk and OCI `s390x`.
    S390x,
}

/// The OCI-style names, as apko lists them in its documentation.
pub(crate) const KNOWN_NAMES: [&str; 9] = [
    "386", "amd64", "arm64", "arm/v6", "arm/v7", "loong64", "ppc64le", "riscv64", "s390x",
];

impl Arch {
    /// Every architecture, what `archs: [all]` (and apko's default) means.
    pub const ALL: [Arch; 9] = [
        Arch::X86,
        Arch::X86_64,
        Arch::Armhf,
        Arch::Armv7,
        Arch::Aarch64,
        Arch::Loongarch64,
        Arch::Ppc64le,
        Arch::Riscv64,
        Arch::S390x,
    ];

    /// Parses an apk or OCI architecture name (`x86_64`, `amd64`, `arm/v7`, `armhf`...).
    pub fn parse(name: &str) -> Result<Arch, ConfigError> {
        let arch = match name {
            "x86" | "386" | "i386" => Arch::X86,
            "x86_64" | "amd64" => Arch::X86_64,
            "armhf" | "arm/v6" | "armv6" => Arch::Armhf,
            "armv7" | "arm/v7" => Arch::Armv7,
            "aarch64" | "arm64" => Arch::Aarch64,
            "loongarch64" | "loong64" => Arch::Loongarch64,
            "ppc64le" => Arch::Ppc64le,
            "riscv64" => Arch::Riscv64,
            "s390x" => Arch::S390x,
            _ => {
                return Err(ConfigError::UnknownArch {
                    value: name.to_string(),
                });
            }
        };
        Ok(arch)
    }

    /// The architecture this program runs on, if it is one images can be built for.
    pub fn host() -> Option<Arch> {
        match std::env::consts::ARCH {
            "x86" => Some(Arch::X86),
            "x86_64" => Some(Arch::X86_64),
            // Rust's "arm" does not say which; v7 is what hosts running this are.
            "arm" => Some(Arch::Armv7),
            "aarch64" => Some(Arch::Aarch64),
            "loongarch64" => Some(Arch::Loongarch64),
            "powerpc64" if cfg!(target_endian = "little") => Some(Arch::Ppc64le),
            "riscv64" => Some(Arch::Riscv64),
            "s390x" => Some(Arch::S390x),
            _ => None,
        }
    }

    /// The name apk uses: the directory under a repository, `A:` in an index.
    pub fn apk_name(self) -> &'static str {
        match self {
            Arch::X86 => "x86",
            Arch::X86_64 => "x86_64",
            Arch::Armhf => "armhf",
            Arch::Armv7 => "armv7",
            Arch::Aarch64 => "aarch64",
            Arch::Loongarch64 => "loongarch64",
            Arch::Ppc64le => "ppc64le",
            Arch::Riscv64 => "riscv64",
            Arch::S390x => "s390x",
        }
    }

    /// The OCI `architecture` of an image config or index platform.
    pub fn oci_architecture(self) -> &'static str {
        match self {
            Arch::X86 => "386",
            Arch::X86_64 => "amd64",
            Arch::Armhf | Arch::Armv7 => "arm",
            Arch::Aarch64 => "arm64",
            Arch::Loongarch64 => "loong64",
            Arch::Ppc64le => "ppc64le",
            Arch::Riscv64 => "riscv64",
            Arch::S390x => "s390x",
        }
    }

    /// The OCI platform `variant`, only set for the 32-bit arm ones (as apko does).
    pub fn oci_variant(self) -> Option<&'static str> {
        match self {
            Arch::Armhf => Some("v6"),
            Arch::Armv7 => Some("v7"),
            _ => None,
        }
    }

    /// apko's own spelling: the OCI architecture, `/variant` when there is one.
    pub fn oci_name(self) -> &'static str {
        match self {
            Arch::Armhf => "arm/v6",
            Arch::Armv7 => "arm/v7",
            other => other.oci_architecture(),
        }
    }
}

impl fmt::Display for Arch {
    /// The apk name (`x86_64`), which is what logs and repository paths use.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.apk_name())
    }
}

impl std::str::FromStr for Arch {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Arch::parse(s)
    }
}

/// Parses a list of names the way `archs:` and `--arch` are read: `all`
/// anywhere means every architecture, `host` means this machine's; the result
/// is sorted and without duplicates, as apko's `ParseArchitectures` makes it.
pub fn parse_list<S: AsRef<str>>(names: &[S]) -> Result<Vec<Arch>, ConfigError> {
    let mut out = Vec::new();
    for name in names {
        out.extend(parse_word(name.as_ref())?);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// One list word: an architecture, `all` or `host`.
fn parse_word(word: &str) -> Result<Vec<Arch>, ConfigError> {
    match word {
        "all" => Ok(Arch::ALL.to_vec()),
        "host" => Arch::host()
            .map(|a| vec![a])
            .ok_or_else(|| ConfigError::UnknownArch {
                value: format!("host ({})", std::env::consts::ARCH),
            }),
        name => Arch::parse(name).map(|a| vec![a]),
    }
}

impl Serialize for Arch {
    /// Written the way apko writes it back (`amd64`, `arm/v7`).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.oci_name())
    }
}

impl<'de> Deserialize<'de> for Arch {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Arch::parse(&name).map_err(serde::de::Error::custom)
    }
}

/// One word of an `archs:` list, kept apart so that errors point at the word.
struct ArchWord(Vec<Arch>);

impl<'de> Deserialize<'de> for ArchWord {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let word = String::deserialize(deserializer)?;
        parse_word(&word)
            .map(ArchWord)
            .map_err(serde::de::Error::custom)
    }
}

/// `deserialize_with` for the `archs` key: expands `all`/`host`, sorts, dedups.
pub(crate) fn deserialize_archs<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Arch>, D::Error> {
    let words = Vec::<ArchWord>::deserialize(deserializer)?;
    let mut out: Vec<Arch> = words.into_iter().flat_map(|w| w.0).collect();
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_arch_parses_from_its_own_names() {
        for a in Arch::ALL {
            assert_eq!(Arch::parse(a.apk_name()).ok(), Some(a), "{a}");
            assert_eq!(Arch::parse(a.oci_name()).ok(), Some(a), "{a}");
        }
    }

    #[test]
    fn order_is_that_of_oci_names() {
        let mut names: Vec<&str> = Arch::ALL.iter().map(|a| a.oci_name()).collect();
        let sorted_by_enum = names.clone();
        names.sort_unstable();
        assert_eq!(names, sorted_by_enum);
    }

    #[test]
    fn known_names_match_all() {
        let mut from_all: Vec<&str> = Arch::ALL.iter().map(|a| a.oci_name()).collect();
        let mut known = KNOWN_NAMES.to_vec();
        from_all.sort_unstable();
        known.sort_unstable();
        assert_eq!(from_all, known);
    }

    #[test]
    fn host_is_known_on_the_machines_we_build_on() {
        if cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
            assert!(Arch::host().is_some());
        }
    }
}
