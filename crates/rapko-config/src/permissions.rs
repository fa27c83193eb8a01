//! File permission bits as written under `paths[].permissions`.
//!
//! apko reads YAML with go-yaml v3, which takes `0o755` (YAML 1.2) and `0755`
//! (YAML 1.1, leading zero) both as octal, and `493` as decimal. The parser is
//! configured the same way (`legacy_octal_numbers`), and a quoted value
//! (`"0755"`) is read with the same rules. Values above `0o7777` are refused:
//! they would spill into the file-type bits.
//!
//! Serialized as a plain integer (what apko's `show-config` prints, and what
//! both apko and rapko read back, in YAML or JSON); [`crate::ImageConfiguration::to_yaml`]
//! adds a `# 0o755` comment for humans.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The largest mode: setuid, setgid, sticky and the nine rwx bits.
pub const MAX_MODE: u32 = 0o7777;

/// Permission bits (`0o0000`..=`0o7777`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Permissions(u32);

impl Permissions {
    /// Checks that `mode` fits in the permission bits.
    pub fn new(mode: u32) -> Option<Permissions> {
        (mode <= MAX_MODE).then_some(Permissions(mode))
    }

    /// The mode bits, e.g. `0o755`.
    pub fn mode(self) -> u32 {
        self.0
    }

    /// Parses `0o755`, `0O755`, `0755`, `493` or `0x1ed`, the forms go-yaml accepts.
    pub fn parse(text: &str) -> Result<Permissions, String> {
        let t = text.trim();
        let parsed = if let Some(oct) = t.strip_prefix("0o").or_else(|| t.strip_prefix("0O")) {
            u32::from_str_radix(oct, 8)
        } else if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            u32::from_str_radix(hex, 16)
        } else if t.len() > 1 && t.starts_with('0') {
            u32::from_str_radix(&t[1..], 8)
        } else {
            t.parse::<u32>()
        };
        let mode = parsed.map_err(|_| {
            format!("invalid permissions \"{text}\": write them in octal, like 0o755 or 0755")
        })?;
        Self::checked(u64::from(mode))
    }

    fn checked(mode: u64) -> Result<Permissions, String> {
        u32::try_from(mode)
            .ok()
            .and_then(Permissions::new)
            .ok_or_else(|| {
                format!("permissions 0o{mode:o} are out of range: the largest is 0o7777")
            })
    }
}

impl fmt::Display for Permissions {
    /// Octal with the YAML 1.2 prefix: `0o755`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0o{:o}", self.0)
    }
}

impl Serialize for Permissions {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(self.0)
    }
}

impl<'de> Deserialize<'de> for Permissions {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(PermissionsVisitor)
    }
}

struct PermissionsVisitor;

impl Visitor<'_> for PermissionsVisitor {
    type Value = Permissions;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("permissions in octal, like 0o755 or 0755")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Permissions, E> {
        Permissions::checked(v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Permissions, E> {
        let v = u64::try_from(v)
            .map_err(|_| E::custom(format!("invalid permissions {v}: they cannot be negative")))?;
        self.visit_u64(v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Permissions, E> {
        Permissions::parse(v).map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_go_yaml_forms_parse_to_the_same_mode() {
        for text in ["0o755", "0O755", "0755", "493", "0x1ed", " 0755 "] {
            assert_eq!(
                Permissions::parse(text).map(Permissions::mode),
                Ok(0o755),
                "{text}"
            );
        }
    }

    #[test]
    fn zero_is_zero() {
        assert_eq!(Permissions::parse("0").map(Permissions::mode), Ok(0));
        assert_eq!(Permissions::parse("0o0").map(Permissions::mode), Ok(0));
    }

    #[test]
    fn too_large_is_refused_with_the_octal_value() {
        assert_eq!(
            Permissions::parse("0o10000"),
            Err("permissions 0o10000 are out of range: the largest is 0o7777".to_string())
        );
        assert_eq!(
            Permissions::parse("0o7777").map(Permissions::mode),
            Ok(0o7777)
        );
    }

    #[test]
    fn non_octal_digits_are_refused() {
        assert_eq!(
            Permissions::parse("0789"),
            Err(
                "invalid permissions \"0789\": write them in octal, like 0o755 or 0755".to_string()
            )
        );
        assert!(Permissions::parse("rwxr-xr-x").is_err());
        assert!(Permissions::parse("").is_err());
    }

    #[test]
    fn serializes_as_a_plain_integer() {
        let yaml = serde_saphyr::to_string(&Permissions(0o755)).unwrap_or_default();
        assert_eq!(yaml.trim(), "493");
    }

    #[test]
    fn displays_as_yaml_octal() {
        assert_eq!(Permissions(0o4755).to_string(), "0o4755");
    }
}
