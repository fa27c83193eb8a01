//! apk version strings: validity, ordering and the comparison operators of dependency atoms.
//!
//! The rules are apk-tools' (`src/version.c` of apk-tools 2.14 and apk 3, which agree on
//! everything valid in 2.14): a version is `digits(.digits)*`, an optional letter, any number
//! of `_suffix[digits]` (`alpha`, `beta`, `pre`, `rc` sort before the release; `cvs`, `svn`,
//! `git`, `hg`, `p` after), an optional `~hash` of lowercase hex digits (apk 3), and an
//! optional `-rN`. Where 2.14 and 3 differ, on strings 2.14 let through, this follows apk 3:
//! `1.0_` and `1.0-r` (a suffix or revision with nothing after it) are invalid.
//!
//! Comparison walks both strings token by token without allocating. A dotted component with
//! a leading zero compares as text against the other (`1.01 < 1.1`, `8.2.0 < 8.2.001`), like
//! Gentoo; every other number compares by value. Invalid versions still compare: the walk
//! stops at the first token apk cannot read, exactly where apk stops. Numbers are compared
//! exactly at any length, where apk would wrap past 20 digits.

use std::cmp::Ordering;
use std::fmt;
use std::ops::BitOr;

/// Compares two version strings the way apk-tools does. Invalid versions still compare
/// (apk falls back to comparing the remaining text), so this never fails.
pub fn compare(a: &str, b: &str) -> Ordering {
    compare_tokens(a, b, false)
}

/// True when `v` is a well-formed apk version.
pub fn is_valid(v: &str) -> bool {
    let mut tokens = Tokenizer::new(v);
    let mut kind = tokens.first().kind;
    while kind < Kind::End {
        kind = tokens.next(kind).kind;
    }
    kind == Kind::End
}

/// Checks `v` like [`is_valid`], and says what is wrong with it when it is not.
pub fn validate(v: &str) -> Result<(), VersionError> {
    let mut tokens = Tokenizer::new(v);
    let mut kind = tokens.first().kind;
    while kind < Kind::End {
        kind = tokens.next(kind).kind;
    }
    if kind == Kind::End {
        Ok(())
    } else {
        Err(VersionError {
            version: v.to_owned(),
            reason: tokens.flaw.describe(v, tokens.flaw_at),
        })
    }
}

/// Why a version string is not a valid apk version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid version {version:?}: {reason}")]
pub struct VersionError {
    pub version: String,
    pub reason: String,
}

/// The comparison operator of a version constraint, as a set of allowed results of
/// `compare(candidate, constraint_version)`, like apk-tools' `APK_VERSION_*` mask.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct VersionOp(u8);

impl VersionOp {
    pub const LESS: VersionOp = VersionOp(1);
    pub const EQUAL: VersionOp = VersionOp(2);
    pub const GREATER: VersionOp = VersionOp(4);
    /// Fuzzy: `~` matches versions whose leading components equal the constraint's.
    pub const FUZZY: VersionOp = VersionOp(8);
    /// The constraint is negated (`!~` and conflicts).
    pub const CONFLICT: VersionOp = VersionOp(16);

    /// Any of less, equal, greater: the mask of an atom without a version.
    const ANY: u8 = 1 | 2 | 4;

    /// Parses `<`, `<=`, `=`, `>=`, `>`, `~`, `=~`, `<~`, `>~`, `!~`. A leading `!` negates
    /// any of them (`!~` is the one apk's tests use; `!=`, `!<`… follow from it).
    pub fn parse(s: &str) -> Option<VersionOp> {
        let (negated, op) = match s.strip_prefix('!') {
            Some(rest) => (Self::CONFLICT.0, rest),
            None => (0, s),
        };
        let (l, e, g, f) = (Self::LESS.0, Self::EQUAL.0, Self::GREATER.0, Self::FUZZY.0);
        let bits = match op {
            "<" => l,
            "<=" => l | e,
            "=" => e,
            ">=" => g | e,
            ">" => g,
            "~" | "=~" => e | f,
            "<~" => l | e | f,
            ">~" => g | e | f,
            _ => return None,
        };
        Some(VersionOp(bits | negated))
    }

    /// The raw apk mask bits.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// True when every bit of `other` is set in `self`.
    pub const fn contains(self, other: VersionOp) -> bool {
        self.0 & other.0 == other.0
    }

    /// True when `candidate` satisfies `candidate OP version`. Like apk 3's
    /// `apk_version_match`: a mask of all three results matches anything, a fuzzy operator
    /// compares only as many components as `version` has, and `CONFLICT` negates.
    pub fn matches(self, candidate: &str, version: &str) -> bool {
        let ok = self.0 & Self::ANY == Self::ANY || {
            let fuzzy = self.contains(Self::FUZZY);
            let result = match compare_tokens(candidate, version, fuzzy) {
                Ordering::Less => Self::LESS,
                Ordering::Equal => Self::EQUAL,
                Ordering::Greater => Self::GREATER,
            };
            self.0 & result.0 != 0
        };
        ok != self.contains(Self::CONFLICT)
    }

    /// The operator without its `!`, as apk-tools spells it (`apk_version_op_string`).
    fn base_str(self) -> &'static str {
        let (l, e, g, f) = (Self::LESS.0, Self::EQUAL.0, Self::GREATER.0, Self::FUZZY.0);
        let base = self.0 & !Self::CONFLICT.0;
        match base {
            _ if base == l => "<",
            _ if base == l | e => "<=",
            _ if base == l | e | f => "<~",
            _ if base == e | f || base == f => "~",
            _ if base == e => "=",
            _ if base == g | e => ">=",
            _ if base == g | e | f => ">~",
            _ if base == g => ">",
            // apk's checksum pin (`name><Q1…`); rapko's atoms never carry it.
            _ if base == l | g => "><",
            _ if base & Self::ANY == Self::ANY => "",
            _ => "?",
        }
    }
}

impl BitOr for VersionOp {
    type Output = VersionOp;
    fn bitor(self, rhs: VersionOp) -> VersionOp {
        VersionOp(self.0 | rhs.0)
    }
}

impl fmt::Display for VersionOp {
    /// The canonical spelling: `<`, `<=`, `=`, `>=`, `>`, `~` (also for `=~`), `<~`, `>~`,
    /// with a leading `!` when negated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.contains(Self::CONFLICT) {
            f.write_str("!")?;
        }
        f.write_str(self.base_str())
    }
}

/// The kinds of token, in apk's order: a token may only be followed by one of a later kind
/// (with the exceptions in [`Tokenizer::next`]), and when two versions differ in kind at
/// the same place, the later kind sorts lower (`1.0 < 1.0a`, `1.0-r1 < 1.0.1`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    Initial,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    Hash,
    Revision,
    End,
    Invalid,
}

/// Suffix ranks: pre-release suffixes below `NONE`, post-release ones above.
const SUFFIXES: [(&[u8], u8); 9] = [
    (b"alpha", 1),
    (b"beta", 2),
    (b"pre", 3),
    (b"rc", 4),
    (b"cvs", 6),
    (b"svn", 7),
    (b"git", 8),
    (b"hg", 9),
    (b"p", 10),
];
const SUFFIX_NONE: u8 = 5;

/// One token: its kind, its text (digits without the `.`, the letter, the suffix name, the
/// hash, the revision digits) and, for suffixes, their rank.
#[derive(Clone, Copy, Debug)]
struct Token<'a> {
    kind: Kind,
    text: &'a [u8],
    suffix: u8,
}

/// What made a version invalid, kept so [`validate`] can explain it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Flaw {
    Empty,
    NoLeadingDigit,
    DotWithoutDigits,
    Misplaced,
    UnknownSuffix,
    EmptyHash,
    BadRevision,
}

impl Flaw {
    fn describe(self, v: &str, at: usize) -> String {
        let found = v.get(at..).and_then(|rest| rest.chars().next());
        match self {
            Flaw::Empty => "it is empty".to_owned(),
            Flaw::NoLeadingDigit => "it must start with a digit".to_owned(),
            Flaw::DotWithoutDigits => format!("'.' at byte {at} is not followed by digits"),
            Flaw::Misplaced => format!(
                "unexpected {:?} at byte {at}: a version is digits separated by dots, then \
                 at most one letter, _suffixes, ~hash and -rN, in that order",
                found.unwrap_or(' ')
            ),
            Flaw::UnknownSuffix => {
                let name: String = v
                    .get(at + 1..)
                    .unwrap_or_default()
                    .chars()
                    .take_while(char::is_ascii_lowercase)
                    .collect();
                format!(
                    "unknown suffix \"_{name}\" at byte {at} (known: alpha, beta, pre, rc, \
                     cvs, svn, git, hg, p)"
                )
            }
            Flaw::EmptyHash => {
                format!("'~' at byte {at} is not followed by a lowercase hex hash")
            }
            Flaw::BadRevision => format!("'-' at byte {at} is not followed by r and digits"),
        }
    }
}

/// Splits a version into tokens, never allocating and never panicking: anything apk would
/// not read becomes a [`Kind::Invalid`] token, after which there is nothing more.
struct Tokenizer<'a> {
    s: &'a [u8],
    pos: usize,
    flaw: Flaw,
    flaw_at: usize,
}

impl<'a> Tokenizer<'a> {
    fn new(v: &'a str) -> Self {
        Tokenizer {
            s: v.as_bytes(),
            pos: 0,
            flaw: Flaw::Empty,
            flaw_at: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    /// Consumes the longest run of bytes satisfying `accept`.
    fn span(&mut self, accept: fn(&u8) -> bool) -> &'a [u8] {
        let rest = self.s.get(self.pos..).unwrap_or_default();
        let n = rest.iter().position(|b| !accept(b)).unwrap_or(rest.len());
        self.pos += n;
        rest.get(..n).unwrap_or_default()
    }

    fn token(kind: Kind, text: &'a [u8]) -> Token<'a> {
        Token {
            kind,
            text,
            suffix: SUFFIX_NONE,
        }
    }

    fn invalid(&mut self, flaw: Flaw, at: usize) -> Token<'a> {
        self.flaw = flaw;
        self.flaw_at = at;
        Self::token(Kind::Invalid, &[])
    }

    /// The leading number every version starts with.
    fn first(&mut self) -> Token<'a> {
        let digits = self.span(u8::is_ascii_digit);
        if !digits.is_empty() {
            Self::token(Kind::Initial, digits)
        } else if self.s.is_empty() {
            self.invalid(Flaw::Empty, 0)
        } else {
            self.invalid(Flaw::NoLeadingDigit, 0)
        }
    }

    /// The token after one of kind `prev`, or `End`, or `Invalid` when the next bytes are
    /// not allowed after `prev`.
    fn next(&mut self, prev: Kind) -> Token<'a> {
        let at = self.pos;
        let Some(c) = self.peek() else {
            return Self::token(Kind::End, &[]);
        };
        match c {
            b'a'..=b'z' if prev <= Kind::Digit => {
                self.pos += 1;
                Self::token(Kind::Letter, self.s.get(at..at + 1).unwrap_or_default())
            }
            b'.' if prev <= Kind::Digit => {
                self.pos += 1;
                let digits = self.span(u8::is_ascii_digit);
                if digits.is_empty() {
                    return self.invalid(Flaw::DotWithoutDigits, at);
                }
                Self::token(Kind::Digit, digits)
            }
            b'0'..=b'9' if prev == Kind::Suffix => {
                Self::token(Kind::SuffixNo, self.span(u8::is_ascii_digit))
            }
            b'_' if prev <= Kind::SuffixNo => {
                self.pos += 1;
                let name = self.span(u8::is_ascii_lowercase);
                match SUFFIXES.iter().find(|(s, _)| *s == name) {
                    Some(&(_, rank)) => Token {
                        kind: Kind::Suffix,
                        text: name,
                        suffix: rank,
                    },
                    None => self.invalid(Flaw::UnknownSuffix, at),
                }
            }
            b'~' if prev < Kind::Hash => {
                self.pos += 1;
                let hash = self.span(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
                if hash.is_empty() {
                    return self.invalid(Flaw::EmptyHash, at);
                }
                Self::token(Kind::Hash, hash)
            }
            b'-' if prev < Kind::Revision => {
                if self.s.get(at + 1) != Some(&b'r') {
                    return self.invalid(Flaw::BadRevision, at);
                }
                self.pos += 2;
                let digits = self.span(u8::is_ascii_digit);
                if digits.is_empty() {
                    return self.invalid(Flaw::BadRevision, at);
                }
                Self::token(Kind::Revision, digits)
            }
            _ => self.invalid(Flaw::Misplaced, at),
        }
    }
}

/// Compares two runs of decimal digits by value, at any length.
fn compare_numbers(a: &[u8], b: &[u8]) -> Ordering {
    let trim = |d: &'_ [u8]| -> usize { d.iter().take_while(|&&c| c == b'0').count() };
    let a = a.get(trim(a)..).unwrap_or_default();
    let b = b.get(trim(b)..).unwrap_or_default();
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Compares two tokens of the same kind.
fn compare_same_kind(a: &Token<'_>, b: &Token<'_>) -> Ordering {
    match a.kind {
        // A dotted component with a leading zero sorts as text, so `1.01 < 1.1`
        // and `8.2.0015 < 8.2.002`.
        Kind::Digit if a.text.first() == Some(&b'0') || b.text.first() == Some(&b'0') => {
            a.text.cmp(b.text)
        }
        Kind::Initial | Kind::Digit | Kind::SuffixNo | Kind::Revision => {
            compare_numbers(a.text, b.text)
        }
        Kind::Suffix => a.suffix.cmp(&b.suffix),
        Kind::Letter | Kind::Hash | Kind::End | Kind::Invalid => a.text.cmp(b.text),
    }
}

/// apk's `apk_version_compare_fuzzy`: walk both versions while their tokens have the same
/// kind and value; then the kinds decide. With `fuzzy`, `a` equals `b` as soon as `b` ends.
fn compare_tokens(a: &str, b: &str, fuzzy: bool) -> Ordering {
    let (mut at, mut bt) = (Tokenizer::new(a), Tokenizer::new(b));
    let (mut ta, mut tb) = (at.first(), bt.first());
    while ta.kind == tb.kind && ta.kind < Kind::End {
        let order = compare_same_kind(&ta, &tb);
        if order != Ordering::Equal {
            return order;
        }
        ta = at.next(ta.kind);
        tb = bt.next(tb.kind);
    }
    if ta.kind == tb.kind || (fuzzy && tb.kind == Kind::End) {
        return Ordering::Equal;
    }
    // The common prefix is equal: the longer version is newer, unless what follows is a
    // pre-release suffix.
    if ta.kind == Kind::Suffix && ta.suffix < SUFFIX_NONE {
        return Ordering::Less;
    }
    if tb.kind == Kind::Suffix && tb.suffix < SUFFIX_NONE {
        return Ordering::Greater;
    }
    tb.kind.cmp(&ta.kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Checks one line of apk-tools' `version.data`; returns false for blank lines.
    fn check_line(raw: &str) -> bool {
        let line = raw.split('#').next().unwrap_or_default().trim();
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [] => return false,
            [v] => match v.strip_prefix('!') {
                Some(bad) => assert!(!is_valid(bad), "{bad:?} should be invalid ({raw:?})"),
                None => assert_eq!(validate(v), Ok(()), "{raw:?}"),
            },
            [a, op, b] => check_comparison(a, op, b, raw),
            _ => panic!("unreadable test line {raw:?}"),
        }
        true
    }

    fn check_comparison(a: &str, op: &str, b: &str, raw: &str) {
        let expected = match op {
            "<" => Some(Ordering::Less),
            "=" => Some(Ordering::Equal),
            ">" => Some(Ordering::Greater),
            _ => None,
        };
        if let Some(order) = expected {
            assert_eq!(compare(a, b), order, "{raw:?}");
            assert_eq!(compare(b, a), order.reverse(), "{raw:?} reversed");
        }
        let Some(parsed) = VersionOp::parse(op) else {
            panic!("unknown operator in {raw:?}");
        };
        assert!(parsed.matches(a, b), "{raw:?} should match");
    }

    fn check_data_file(rel: &str) -> usize {
        let path = rapko_test::fixture(rel);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        text.lines().filter(|line| check_line(line)).count()
    }

    #[test]
    fn apk_tools_2_14_version_data() {
        // 733 lines, none blank: every one must have been checked.
        assert_eq!(check_data_file("apk-tools-tests/version-2.14.data"), 733);
    }

    #[test]
    fn apk_tools_3_version_data() {
        // 788 lines of which 3 are blank.
        assert_eq!(check_data_file("apk-tools-tests/version-3.data"), 785);
    }

    #[test]
    fn ordering_examples() {
        use Ordering::*;
        for (a, b, order) in [
            ("1.0", "1.0", Equal),
            ("1.0", "1.0.0", Less),
            ("1.0_alpha", "1.0", Less),
            ("1.0_rc1", "1.0_alpha2", Greater),
            ("1.0_p1", "1.0", Greater),
            ("1.0_git20240101", "1.0_p1", Less),
            ("1.0a", "1.0", Greater),
            ("1.0a", "1.0b", Less),
            ("1.0-r1", "1.0-r0", Greater),
            ("1.0-r10", "1.0-r9", Greater),
            ("1.0-r1", "1.0.1", Less),
            ("1.01", "1.1", Less),
            ("1.001", "1.01", Less),
            ("1.09", "1.10", Less),
            ("01", "1", Equal),
            ("1.0~abc", "1.0~abd", Less),
            ("1.0~abc-r2", "1.0-r1", Greater),
            ("1.0~abc", "1.0_p1", Less),
            // Past u64: exact, where apk would wrap.
            ("1.18446744073709551616", "1.18446744073709551615", Greater),
            ("123456789012345678901234567890", "99", Greater),
        ] {
            assert_eq!(compare(a, b), order, "{a} vs {b}");
            assert_eq!(compare(b, a), order.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn invalid_versions_compare_like_apk() {
        // The walk stops at the first unreadable token; an unreadable rest sorts below an end.
        assert_eq!(compare("1.0_foo", "1.0"), Ordering::Less);
        assert_eq!(compare("2.0_foo", "1.0"), Ordering::Greater);
        assert_eq!(compare("1.0_foo", "1.0_bar"), Ordering::Equal);
        assert_eq!(compare("", ""), Ordering::Equal);
        assert_eq!(compare("", "1"), Ordering::Less);
        assert_eq!(compare("6.8.0p2-r4", "6.8.0p1-r1"), Ordering::Equal);
    }

    #[test]
    fn validate_explains() {
        let reason = |v: &str| match validate(v) {
            Ok(()) => panic!("{v:?} should be invalid"),
            Err(e) => e.to_string(),
        };
        assert_eq!(reason(""), r#"invalid version "": it is empty"#);
        assert!(reason("a1").contains("must start with a digit"));
        assert!(reason("1.").contains("'.' at byte 1 is not followed by digits"));
        assert!(reason("1.0bc").contains("unexpected 'c' at byte 4"));
        assert!(reason("1.0_foo1").contains("unknown suffix \"_foo\" at byte 3"));
        assert!(reason("1.0~").contains("'~' at byte 3"));
        assert!(reason("1.0~ABC").contains("'~' at byte 3"));
        assert!(reason("1.0-p1").contains("'-' at byte 3 is not followed by r and digits"));
        assert!(reason("1.0-r").contains("'-' at byte 3"));
        assert!(reason("1.0-r1.2").contains("unexpected '.' at byte 6"));
        assert!(reason("1.0é").contains("unexpected 'é' at byte 3"));
        assert_eq!(validate("1.2.3_rc1_p2~cafe-r3"), Ok(()));
    }

    #[test]
    fn op_parse_and_display() {
        for (text, canonical) in [
            ("<", "<"),
            ("<=", "<="),
            ("=", "="),
            (">=", ">="),
            (">", ">"),
            ("~", "~"),
            ("=~", "~"),
            ("<~", "<~"),
            (">~", ">~"),
            ("!~", "!~"),
            ("!=", "!="),
        ] {
            let Some(op) = VersionOp::parse(text) else {
                panic!("{text:?} should parse");
            };
            assert_eq!(op.to_string(), canonical);
            assert_eq!(VersionOp::parse(canonical), Some(op));
        }
        for bad in [
            "", "!", "==", "=<", "<>", "><", "~=", "<<", "! ~", " =", "!!~",
        ] {
            assert_eq!(VersionOp::parse(bad), None, "{bad:?}");
        }
        assert_eq!(
            VersionOp::parse("<~"),
            Some(VersionOp::LESS | VersionOp::EQUAL | VersionOp::FUZZY)
        );
        assert_eq!(VersionOp::FUZZY.to_string(), "~");
        assert_eq!((VersionOp::LESS | VersionOp::GREATER).to_string(), "><");
    }

    #[test]
    fn op_matches() {
        let m = |op: &str, a: &str, b: &str| match VersionOp::parse(op) {
            Some(op) => op.matches(a, b),
            None => panic!("{op:?}"),
        };
        assert!(m("<", "1.0", "1.1"));
        assert!(!m("<", "1.1", "1.1"));
        assert!(m("<=", "1.1", "1.1"));
        assert!(m(">=", "1.1-r1", "1.1"));
        assert!(!m("=", "1.1-r1", "1.1"));
        assert!(m("~", "3.6.9", "3.6"));
        assert!(m("~", "3.6_pre1", "3.6"));
        assert!(!m("~", "3.7", "3.6"));
        assert!(!m("~", "3", "3.6"));
        assert!(m("<~", "3.6.9", "3.6"));
        assert!(!m("<~", "3.7", "3.6"));
        assert!(m(">~", "3.6.0", "3.6"));
        assert!(!m(">~", "3.5.9", "3.6"));
        assert!(m("!~", "3.7", "3.6"));
        assert!(!m("!~", "3.6.1", "3.6"));
        assert!(m("!=", "1.0", "1.1"));
        // A mask of all results matches anything, negated matches nothing.
        let any = VersionOp::LESS | VersionOp::EQUAL | VersionOp::GREATER;
        assert!(any.matches("x", "1"));
        assert!(!(any | VersionOp::CONFLICT).matches("1", "1"));
    }

    /// Valid versions, with leading zeros, letters, suffixes, hashes and revisions mixed in.
    fn version() -> impl Strategy<Value = String> {
        let number = prop_oneof![
            4 => (0u32..30).prop_map(|n| n.to_string()),
            1 => "0[0-9]{1,2}",
            1 => "[1-9][0-9]{18,22}",
        ];
        let suffix = (
            prop::sample::select(vec![
                "alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p",
            ]),
            prop::option::of(0u32..12),
        )
            .prop_map(|(s, n)| format!("_{s}{}", n.map(|n| n.to_string()).unwrap_or_default()));
        (
            (0u32..12).prop_map(|n| n.to_string()),
            prop::collection::vec(number, 0..3),
            prop::option::of("[a-c]"),
            prop::collection::vec(suffix, 0..3),
            prop::option::of("[0-9a-f]{1,4}"),
            prop::option::of(0u32..12),
        )
            .prop_map(|(first, rest, letter, suffixes, hash, rev)| {
                let mut v = first;
                for n in rest {
                    v.push('.');
                    v.push_str(&n);
                }
                v.push_str(&letter.unwrap_or_default());
                v.push_str(&suffixes.concat());
                if let Some(h) = hash {
                    v.push('~');
                    v.push_str(&h);
                }
                if let Some(r) = rev {
                    v.push_str(&format!("-r{r}"));
                }
                v
            })
    }

    proptest! {
        #[test]
        fn generated_versions_are_valid(v in version()) {
            prop_assert_eq!(validate(&v), Ok(()));
            prop_assert_eq!(compare(&v, &v), Ordering::Equal);
        }

        #[test]
        fn compare_is_antisymmetric(a in version(), b in version()) {
            prop_assert_eq!(compare(&a, &b), compare(&b, &a).reverse());
        }

        #[test]
        fn compare_is_transitive(a in version(), b in version(), c in version()) {
            let ab = compare(&a, &b);
            let bc = compare(&b, &c);
            if ab != Ordering::Greater && bc != Ordering::Greater {
                let expected = if ab == Ordering::Less || bc == Ordering::Less {
                    Ordering::Less
                } else {
                    Ordering::Equal
                };
                prop_assert_eq!(compare(&a, &c), expected, "{} {} {}", a, b, c);
            }
        }

        #[test]
        fn sorting_is_consistent(mut vs in prop::collection::vec(version(), 2..12)) {
            vs.sort_by(|a, b| compare(a, b));
            for (i, a) in vs.iter().enumerate() {
                for b in vs.iter().skip(i + 1) {
                    prop_assert_ne!(compare(a, b), Ordering::Greater, "{} {}", a, b);
                }
            }
        }

        #[test]
        fn never_panics_on_anything(a in any::<String>(), b in any::<String>()) {
            let _ = compare(&a, &b);
            let _ = validate(&a);
            prop_assert_eq!(compare(&a, &a), Ordering::Equal);
            prop_assert_eq!(is_valid(&a), validate(&a).is_ok());
        }

        #[test]
        fn never_panics_on_version_like(a in "[0-9a-z._~-]{0,14}", b in "[0-9a-z._~-]{0,14}") {
            let _ = compare(&a, &b);
            let _ = VersionOp::parse(&b).map(|op| op.matches(&a, &b));
            prop_assert_eq!(is_valid(&a), validate(&a).is_ok());
            if is_valid(&a) && is_valid(&b) {
                prop_assert_eq!(compare(&a, &b), compare(&b, &a).reverse());
            }
        }
    }
}
