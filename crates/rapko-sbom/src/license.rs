//! APK `L:` license fields as valid SPDX license expressions.
//!
//! Alpine's license fields are mostly SPDX expressions, but not all: 601 distinct values in
//! the 3.19 indexes include deprecated ids (`GPL-2.0`, `LGPL-2.1+`), lowercase operators,
//! space- or comma-separated lists without operators (`MIT BSD`), loose names
//! (`GPLv2+`, `Public Domain`, `Artistic License 2.0`), `custom` and `custom:name`, and a few
//! broken ones (unbalanced parentheses, `AND AND`). [`license_expression`] turns every value
//! into something both SPDX validators and CycloneDX consumers accept, or says it cannot.
//!
//! The mapping, in order:
//! - `unknown`, `none`, `NOASSERTION` or an empty field: no expression (`NOASSERTION`).
//! - Operators are case-insensitive; words written side by side (or separated by commas)
//!   are joined with `AND`, because Alpine's old convention lists every license that applies.
//!   Words that make one name are joined first: a `custom:` name runs to the next operator
//!   or word that names a license, `Public Domain` is one word, a bare version joins the
//!   word before it (`LGPL 2.1`), and the word `license` is dropped (`Artistic License 2.0`).
//! - A word is an SPDX license id (matched case-insensitively, written in the list's case).
//!   Deprecated GNU ids become `-only`/`-or-later` (`GPL-2.0` → `GPL-2.0-only`, `LGPL-2.1+` →
//!   `LGPL-2.1-or-later`); the deprecated `GPL-2.0-with-classpath-exception` kind becomes
//!   `GPL-2.0-only WITH Classpath-exception-2.0` (and `eCos-2.0`, which the SPDX tools read
//!   as an exception, `GPL-2.0-or-later WITH eCos-exception-2.0`). Loose GNU spellings (`GPLv2+`,
//!   `GPL-3-or-later`) are read as the GNU id they name. An unversioned `GPL`/`LGPL` is
//!   `GPL-1.0-or-later`/`LGPL-2.0-or-later`, which is what those licenses themselves say
//!   an unversioned reference means. A few unambiguous aliases are mapped (`Apache-2` →
//!   `Apache-2.0`, `BSD2` → `BSD-2-Clause`, `Perl` → `Artistic-1.0-Perl OR GPL-1.0-or-later`).
//! - Any other word (`custom`, `BSD`, `custom:BSD`, `Public Domain`) becomes
//!   `LicenseRef-apk-<word>`, and a `LicenseRef-X` the package wrote itself becomes
//!   `LicenseRef-apk-X`. SPDX allows a LicenseRef only with a `hasExtractedLicensingInfos`
//!   entry defining it, so [`LicenseResult::refs`] lists each one with the words it stands
//!   for, and the SPDX writer adds those entries. Guessing a version for `BSD` or `MPL`
//!   would state something the package does not; a LicenseRef keeps the word as written.
//!   The `apk-` prefix keeps our ids apart from the LicenseRefs the validators know: the
//!   SPDX tools' license database has `LicenseRef-KFQF-Accepted-GPL` (used by Alpine's KDE
//!   packages) as an *exception*, and refuses it as a license.
//! - `X WITH e` needs `e` on the SPDX exception list; an unknown exception (Alpine's
//!   `OpenSSL-Exception`) makes the whole field unmappable, since SPDX 2.3 has no way to
//!   name a custom exception. `(A AND B) WITH e` is read as `A WITH e AND B WITH e`.
//! - Unbalanced parentheses or a dangling operator: no expression.
//!
//! Fields with no expression are written as `NOASSERTION` in SPDX (with the raw field in
//! `licenseComments`) and as a named license (`license.name`) in CycloneDX.

use std::collections::BTreeMap;

/// What an APK license field maps to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LicenseResult {
    /// A valid SPDX license expression, or `None` when the field cannot be mapped.
    pub spdx: Option<String>,
    /// The field as the package wrote it (trimmed).
    pub raw: String,
    /// The `LicenseRef-…` ids used in `spdx`, sorted, each with the words it stands for.
    pub refs: Vec<LicenseRef>,
}

/// A license that is not on the SPDX list, named by a `LicenseRef-` id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LicenseRef {
    /// `LicenseRef-apk-` followed by letters, digits, `.` and `-`.
    pub id: String,
    /// The words of the license field it was made from (`custom:Ubuntu Font License 1.0`).
    pub name: String,
}

impl LicenseResult {
    /// When the expression is a single LicenseRef, the words it was made from: CycloneDX
    /// writes those as a named license rather than an expression.
    pub fn single_ref_name(&self) -> Option<&str> {
        match (&self.spdx, self.refs.as_slice()) {
            (Some(expr), [only]) if *expr == only.id => Some(&only.name),
            _ => None,
        }
    }
}

/// Maps an APK `L:` field to an SPDX license expression; see the module documentation.
pub fn license_expression(raw: &str) -> LicenseResult {
    let raw = raw.trim().to_owned();
    let mut refs = BTreeMap::new();
    let spdx = if means_unknown(&raw) {
        None
    } else {
        parse(&raw, &mut refs).map(|node| print(&node))
    };
    let refs = match spdx {
        Some(_) => refs
            .into_iter()
            .map(|(id, name)| LicenseRef { id, name })
            .collect(),
        None => Vec::new(),
    };
    LicenseResult { spdx, raw, refs }
}

fn means_unknown(raw: &str) -> bool {
    ["", "unknown", "none", "noassertion"]
        .iter()
        .any(|u| raw.eq_ignore_ascii_case(u))
}

/// A parsed expression. Leaves hold canonical ids; `plus` survives only on non-GNU ids
/// (GNU ones are folded into `-or-later`).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Leaf {
        license: String,
        plus: bool,
        exception: Option<String>,
    },
    And(Vec<Node>),
    Or(Vec<Node>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    With,
    Word(String),
}

type Refs = BTreeMap<String, String>;

fn parse(raw: &str, refs: &mut Refs) -> Option<Node> {
    let tokens = merge_phrases(tokenize(raw));
    let mut parser = Parser {
        tokens: &tokens,
        pos: 0,
        refs,
    };
    let node = parser.or_expr()?;
    (parser.pos == tokens.len()).then_some(node)
}

fn tokenize(raw: &str) -> Vec<Token> {
    let chars: Vec<char> = raw.chars().collect();
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '(' if !word.is_empty() => {
                // `osf-1990(variant)`: a parenthesis glued to a word, closing before any
                // space, is part of the name; `unrestricted( Apache-2.0 …` is not.
                match glued_group(&chars[i..]) {
                    Some(len) => {
                        word.extend(&chars[i..i + len]);
                        i += len;
                        continue;
                    }
                    None => {
                        push_word(&mut tokens, &mut word);
                        tokens.push(Token::Open);
                    }
                }
            }
            '(' => tokens.push(Token::Open),
            ')' => {
                push_word(&mut tokens, &mut word);
                tokens.push(Token::Close);
            }
            c if c.is_whitespace() || c == ',' || c == ';' => push_word(&mut tokens, &mut word),
            c => word.push(c),
        }
        i += 1;
    }
    push_word(&mut tokens, &mut word);
    tokens
}

/// Length of `(…)` at the start of `chars` when it closes before any space or `(`.
fn glued_group(chars: &[char]) -> Option<usize> {
    let close = chars
        .iter()
        .skip(1)
        .position(|&c| c == ')' || c == '(' || c.is_whitespace())?;
    (chars[close + 1] == ')').then_some(close + 2)
}

fn push_word(tokens: &mut Vec<Token>, word: &mut String) {
    if word.is_empty() {
        return;
    }
    let token = match word.to_ascii_lowercase().as_str() {
        "and" => Token::And,
        "or" => Token::Or,
        "with" => Token::With,
        _ => Token::Word(word.clone()),
    };
    tokens.push(token);
    word.clear();
}

/// Joins words that name one license: `custom:Ubuntu Font License 1.0`, `Public Domain`,
/// `Artistic License 2.0` → `Artistic-2.0`, `LGPL 2.1` → `LGPL-2.1`, `Apache-2.0 license`.
fn merge_phrases(tokens: Vec<Token>) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    let mut custom_open = false;
    for token in tokens {
        let Token::Word(word) = token else {
            custom_open = false;
            out.push(token);
            continue;
        };
        let previous = match out.last_mut() {
            Some(Token::Word(p)) => Some(p),
            _ => None,
        };
        match previous {
            // `custom:` names run to the next operator or parenthesis.
            Some(p) if custom_open && !names_a_license(&word) => {
                p.push(' ');
                p.push_str(&word);
            }
            Some(p) if p.eq_ignore_ascii_case("public") && word.eq_ignore_ascii_case("domain") => {
                *p = "Public-Domain".to_owned();
            }
            Some(_) if is_noise(&word) => {}
            Some(p) if is_bare_version(&word) => {
                p.push('-');
                p.push_str(&word);
            }
            Some(p) if is_noise(p) => *p = word,
            _ => {
                custom_open = word.to_ascii_lowercase().starts_with("custom:");
                out.push(Token::Word(word));
            }
        }
    }
    out
}

fn is_noise(word: &str) -> bool {
    word.eq_ignore_ascii_case("license") || word.eq_ignore_ascii_case("licence")
}

fn is_bare_version(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_digit())
        && word.chars().all(|c| c.is_ascii_digit() || c == '.')
}

struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
    refs: &'a mut Refs,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }

    fn or_expr(&mut self) -> Option<Node> {
        let mut terms = vec![self.and_expr()?];
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            terms.push(self.and_expr()?);
        }
        Some(join(terms, false))
    }

    /// `a AND b`, and also `a b` and `a (b OR c)`: juxtaposition is an AND.
    fn and_expr(&mut self) -> Option<Node> {
        let mut terms = vec![self.with_expr()?];
        loop {
            match self.peek() {
                Some(Token::And) => self.pos += 1,
                Some(Token::Word(_) | Token::Open) => {}
                _ => break,
            }
            terms.push(self.with_expr()?);
        }
        Some(join(terms, true))
    }

    fn with_expr(&mut self) -> Option<Node> {
        let mut node = self.primary()?;
        while self.peek() == Some(&Token::With) {
            self.pos += 1;
            let Some(Token::Word(exception)) = self.next() else {
                return None;
            };
            node = with_exception(node, &exception_id(&exception)?)?;
        }
        Some(node)
    }

    fn primary(&mut self) -> Option<Node> {
        match self.next()? {
            Token::Word(word) => Some(resolve_word(&word, self.refs)),
            Token::Open => {
                let node = self.or_expr()?;
                (self.next()? == Token::Close).then_some(node)
            }
            Token::Close | Token::And | Token::Or | Token::With => None,
        }
    }
}

/// One node for a list of terms, flattening nested lists of the same operator.
fn join(mut terms: Vec<Node>, is_and: bool) -> Node {
    if terms.len() == 1
        && let Some(only) = terms.pop()
    {
        return only;
    }
    let mut flat = Vec::with_capacity(terms.len());
    for term in terms {
        match term {
            Node::And(inner) if is_and => flat.extend(inner),
            Node::Or(inner) if !is_and => flat.extend(inner),
            other => flat.push(other),
        }
    }
    if is_and {
        Node::And(flat)
    } else {
        Node::Or(flat)
    }
}

/// Applies an exception to every license of `node`; a license that already has one
/// cannot take a second.
fn with_exception(node: Node, exception: &str) -> Option<Node> {
    match node {
        Node::Leaf {
            license,
            plus,
            exception: None,
        } => Some(Node::Leaf {
            license,
            plus,
            exception: Some(exception.to_owned()),
        }),
        Node::Leaf { .. } => None,
        Node::And(nodes) => nodes
            .into_iter()
            .map(|n| with_exception(n, exception))
            .collect::<Option<_>>()
            .map(Node::And),
        Node::Or(nodes) => nodes
            .into_iter()
            .map(|n| with_exception(n, exception))
            .collect::<Option<_>>()
            .map(Node::Or),
    }
}

fn print(node: &Node) -> String {
    match node {
        Node::Leaf {
            license,
            plus,
            exception,
        } => {
            let mut s = license.clone();
            if *plus {
                s.push('+');
            }
            if let Some(e) = exception {
                s.push_str(" WITH ");
                s.push_str(e);
            }
            s
        }
        Node::And(nodes) => nodes
            .iter()
            .map(|n| match n {
                Node::Or(_) => format!("({})", print(n)),
                _ => print(n),
            })
            .collect::<Vec<_>>()
            .join(" AND "),
        Node::Or(nodes) => nodes.iter().map(print).collect::<Vec<_>>().join(" OR "),
    }
}

fn leaf(license: &str, plus: bool, exception: Option<&str>) -> Node {
    Node::Leaf {
        license: license.to_owned(),
        plus,
        exception: exception.map(str::to_owned),
    }
}

/// Resolves one license word to an SPDX id, an alias's expression, or a LicenseRef.
fn resolve_word(word: &str, refs: &mut Refs) -> Node {
    if let Some(rest) = word.strip_prefix("LicenseRef-") {
        // Our own ids stay as they are, so the mapping of a mapped expression is itself.
        return license_ref(rest.strip_prefix("apk-").unwrap_or(rest), word, refs);
    }
    let (base, plus) = match word.strip_suffix('+') {
        Some(b) if !b.is_empty() => (b, true),
        _ => (word, false),
    };
    if let Some(node) = alias(base, plus, refs) {
        return node;
    }
    if let Some(id) = find_license(base) {
        return canonical(id, plus);
    }
    if let Some(gnu) = loose_gnu(base, plus) {
        return leaf(gnu, false, None);
    }
    license_ref(word, word, refs)
}

fn license_ref(idstring: &str, name: &str, refs: &mut Refs) -> Node {
    let id = format!("LicenseRef-apk-{}", sanitize_idstring(idstring));
    refs.entry(id.clone()).or_insert_with(|| name.to_owned());
    leaf(&id, false, None)
}

/// SPDX idstrings are letters, digits, `.` and `-`: other runs become one `-`.
pub(crate) fn sanitize_idstring(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches('-');
    if trimmed.is_empty() {
        "unknown".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// Names that are not SPDX ids but say unambiguously which license they mean.
const ALIASES: &[(&str, &[&str])] = &[
    ("gpl", &["GPL-1.0-or-later"]),
    ("lgpl", &["LGPL-2.0-or-later"]),
    ("apache-2", &["Apache-2.0"]),
    ("apache2", &["Apache-2.0"]),
    ("artistic-2", &["Artistic-2.0"]),
    ("artistic-perl-1.0", &["Artistic-1.0-Perl"]),
    ("perlartistic", &["Artistic-1.0-Perl"]),
    // "The same terms as Perl itself".
    ("perl", &["Artistic-1.0-Perl", "GPL-1.0-or-later"]),
    ("bsd2", &["BSD-2-Clause"]),
    ("bsd3", &["BSD-3-Clause"]),
    ("cc0", &["CC0-1.0"]),
];

/// Spellings of "public domain", which has no SPDX id: one LicenseRef for all of them.
const PUBLIC_DOMAIN: &[&str] = &["pd", "publicdomain", "public-domain"];

fn alias(base: &str, plus: bool, refs: &mut Refs) -> Option<Node> {
    let lower = base.to_ascii_lowercase();
    if PUBLIC_DOMAIN.contains(&lower.as_str()) {
        return Some(license_ref("Public-Domain", "Public Domain", refs));
    }
    let (_, targets) = ALIASES.iter().find(|(name, _)| *name == lower)?;
    let mut leaves: Vec<Node> = targets
        .iter()
        .filter_map(|t| find_license(t))
        .map(|id| canonical(id, plus && targets.len() == 1))
        .collect();
    match leaves.len() {
        0 => None,
        1 => leaves.pop(),
        _ => Some(Node::Or(leaves)),
    }
}

/// Whether a word names a license by itself (so a `custom:` name does not swallow it).
fn names_a_license(word: &str) -> bool {
    let base = word
        .strip_suffix('+')
        .filter(|b| !b.is_empty())
        .unwrap_or(word);
    let lower = base.to_ascii_lowercase();
    find_license(base).is_some()
        || loose_gnu(base, false).is_some()
        || ALIASES.iter().any(|(name, _)| *name == lower)
        || PUBLIC_DOMAIN.contains(&lower.as_str())
}

fn find_license(name: &str) -> Option<spdx::LicenseId> {
    if let Some(id) = spdx::license_id(name).filter(|id| id.name == name) {
        return Some(id);
    }
    spdx::identifiers::LICENSES
        .iter()
        .find(|l| l.name.eq_ignore_ascii_case(name))
        .and_then(|l| spdx::license_id(l.name))
}

fn exception_id(name: &str) -> Option<String> {
    if let Some(e) = spdx::exception_id(name) {
        return Some(e.name.to_owned());
    }
    spdx::identifiers::EXCEPTIONS
        .iter()
        .find(|e| e.name.eq_ignore_ascii_case(name))
        .map(|e| e.name.to_owned())
}

/// Deprecated ids that carry an exception in their name, as the SPDX list replaced them.
const DEPRECATED_WITH: &[(&str, &str, &str)] = &[
    (
        "GPL-2.0-with-GCC-exception",
        "GPL-2.0-only",
        "GCC-exception-2.0",
    ),
    (
        "GPL-2.0-with-autoconf-exception",
        "GPL-2.0-only",
        "Autoconf-exception-2.0",
    ),
    (
        "GPL-2.0-with-bison-exception",
        "GPL-2.0-only",
        "Bison-exception-2.2",
    ),
    (
        "GPL-2.0-with-classpath-exception",
        "GPL-2.0-only",
        "Classpath-exception-2.0",
    ),
    (
        "GPL-2.0-with-font-exception",
        "GPL-2.0-only",
        "Font-exception-2.0",
    ),
    (
        "GPL-3.0-with-GCC-exception",
        "GPL-3.0-only",
        "GCC-exception-3.1",
    ),
    (
        "GPL-3.0-with-autoconf-exception",
        "GPL-3.0-only",
        "Autoconf-exception-3.0",
    ),
    ("eCos-2.0", "GPL-2.0-or-later", "eCos-exception-2.0"),
];

/// Other deprecated ids with a one-to-one replacement on the current list.
const DEPRECATED_RENAMED: &[(&str, &str)] = &[
    ("BSD-2-Clause-FreeBSD", "BSD-2-Clause"),
    ("BSD-2-Clause-NetBSD", "BSD-2-Clause"),
    ("StandardML-NJ", "SMLNJ"),
    ("bzip2-1.0.5", "bzip2-1.0.6"),
];

/// The current form of a listed id: deprecated GNU ids get `-only`/`-or-later`.
fn canonical(id: spdx::LicenseId, plus: bool) -> Node {
    let name = id.name;
    if let Some((_, license, exception)) = DEPRECATED_WITH.iter().find(|(old, _, _)| *old == name) {
        return leaf(license, false, Some(exception));
    }
    if let Some((_, new)) = DEPRECATED_RENAMED.iter().find(|(old, _)| *old == name) {
        return leaf(new, plus, None);
    }
    if let Some(base) = name
        .strip_suffix("-only")
        .or_else(|| name.strip_suffix("-or-later"))
    {
        let current = if plus { gnu_id(base, true) } else { Some(name) };
        return leaf(current.unwrap_or(name), false, None);
    }
    if id.is_gnu()
        && let Some(current) = gnu_id(name, plus)
    {
        return leaf(current, false, None);
    }
    leaf(name, plus, None)
}

fn gnu_id(base: &str, or_later: bool) -> Option<&'static str> {
    spdx::gnu_license_id(base, or_later).map(|id| id.name)
}

/// `GPLv2+`, `GPL-2-or-later`, `LGPLv2.1`, `AGPL3`: the GNU id they spell loosely.
fn loose_gnu(word: &str, plus: bool) -> Option<&'static str> {
    let lower = word.to_ascii_lowercase();
    let (family, rest) = ["agpl", "lgpl", "gpl"]
        .iter()
        .find_map(|f| lower.strip_prefix(f).map(|rest| (*f, rest)))?;
    let rest = rest
        .strip_prefix('v')
        .or_else(|| rest.strip_prefix('-'))
        .unwrap_or(rest);
    let (version, or_later) = if let Some(v) = rest.strip_suffix("-or-later") {
        (v, true)
    } else if let Some(v) = rest.strip_suffix("-only") {
        (v, false)
    } else {
        (rest, plus)
    };
    if version.is_empty() || !version.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let version = if version.contains('.') {
        version.to_owned()
    } else {
        format!("{version}.0")
    };
    let base = format!("{}-{version}", family.to_ascii_uppercase());
    gnu_id(&base, or_later || plus)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spdx(raw: &str) -> Option<String> {
        license_expression(raw).spdx
    }

    #[test]
    fn valid_expressions_stay() {
        assert_eq!(
            spdx("GPL-2.0-or-later").as_deref(),
            Some("GPL-2.0-or-later")
        );
        assert_eq!(
            spdx("MIT AND BSD-3-Clause").as_deref(),
            Some("MIT AND BSD-3-Clause")
        );
        assert_eq!(
            spdx("MIT OR Apache-2.0").as_deref(),
            Some("MIT OR Apache-2.0")
        );
        assert_eq!(
            spdx("( Apache-2.0 OR MIT ) AND BSD-2-Clause").as_deref(),
            Some("(Apache-2.0 OR MIT) AND BSD-2-Clause")
        );
        assert_eq!(
            spdx("GPL-2.0-only WITH Classpath-exception-2.0").as_deref(),
            Some("GPL-2.0-only WITH Classpath-exception-2.0")
        );
        // AND binds tighter than OR: no parentheses are needed or added.
        assert_eq!(
            spdx("GPL-2.0 AND LGPL-2.1-only OR LGPL-3.0-only").as_deref(),
            Some("GPL-2.0-only AND LGPL-2.1-only OR LGPL-3.0-only")
        );
    }

    #[test]
    fn deprecated_and_loose_gnu_ids() {
        assert_eq!(spdx("GPL-2.0").as_deref(), Some("GPL-2.0-only"));
        assert_eq!(spdx("GPL-2.0+").as_deref(), Some("GPL-2.0-or-later"));
        assert_eq!(spdx("LGPL-2.1+").as_deref(), Some("LGPL-2.1-or-later"));
        assert_eq!(spdx("AGPL-3.0").as_deref(), Some("AGPL-3.0-only"));
        assert_eq!(spdx("GFDL-1.1").as_deref(), Some("GFDL-1.1-only"));
        assert_eq!(spdx("GPLv2+").as_deref(), Some("GPL-2.0-or-later"));
        assert_eq!(spdx("GPL-3-or-later").as_deref(), Some("GPL-3.0-or-later"));
        assert_eq!(spdx("LGPL 2.1").as_deref(), Some("LGPL-2.1-only"));
        assert_eq!(spdx("GPL").as_deref(), Some("GPL-1.0-or-later"));
        assert_eq!(
            spdx("GPL+ or Artistic").as_deref(),
            Some("GPL-1.0-or-later OR LicenseRef-apk-Artistic")
        );
        assert_eq!(
            spdx("GPL-2.0-with-classpath-exception").as_deref(),
            Some("GPL-2.0-only WITH Classpath-exception-2.0")
        );
        assert_eq!(spdx("BSD-2-Clause-NetBSD").as_deref(), Some("BSD-2-Clause"));
        // The SPDX tools read the deprecated `eCos-2.0` as an exception.
        assert_eq!(
            spdx("GPL-2.0-or-later eCos-2.0").as_deref(),
            Some("GPL-2.0-or-later AND GPL-2.0-or-later WITH eCos-exception-2.0")
        );
    }

    #[test]
    fn case_and_lists() {
        assert_eq!(
            spdx("MIT and BSD-2-Clause").as_deref(),
            Some("MIT AND BSD-2-Clause")
        );
        assert_eq!(spdx("unlicense").as_deref(), Some("Unlicense"));
        assert_eq!(
            spdx("Apache-2.0 WITH LLVM-Exception").as_deref(),
            Some("Apache-2.0 WITH LLVM-exception")
        );
        assert_eq!(
            spdx("Apache-2.0 MIT").as_deref(),
            Some("Apache-2.0 AND MIT")
        );
        assert_eq!(
            spdx("GPL-2.0-only,GPL-2.0-or-later,GPL-3.0-only").as_deref(),
            Some("GPL-2.0-only AND GPL-2.0-or-later AND GPL-3.0-only")
        );
        assert_eq!(
            spdx("GPL-2.0-or-later (LGPL-2.1-only OR LGPL-3.0-only)").as_deref(),
            Some("GPL-2.0-or-later AND (LGPL-2.1-only OR LGPL-3.0-only)")
        );
        assert_eq!(
            spdx("Artistic License 2.0").as_deref(),
            Some("Artistic-2.0")
        );
        assert_eq!(spdx("Apache-2.0 license").as_deref(), Some("Apache-2.0"));
        assert_eq!(spdx("Apache-2+").as_deref(), Some("Apache-2.0+"));
        assert_eq!(
            spdx("Perl").as_deref(),
            Some("Artistic-1.0-Perl OR GPL-1.0-or-later")
        );
    }

    #[test]
    fn license_refs_are_listed() {
        let r = license_expression("MIT custom");
        assert_eq!(r.spdx.as_deref(), Some("MIT AND LicenseRef-apk-custom"));
        assert_eq!(
            r.refs,
            vec![LicenseRef {
                id: "LicenseRef-apk-custom".into(),
                name: "custom".into()
            }]
        );
        let r = license_expression("custom:Ubuntu Font License 1.0");
        assert_eq!(
            r.spdx.as_deref(),
            Some("LicenseRef-apk-custom-Ubuntu-Font-License-1.0")
        );
        assert_eq!(r.single_ref_name(), Some("custom:Ubuntu Font License 1.0"));
        // A `custom:` name stops at a word that names a license.
        assert_eq!(
            spdx("custom:Foo Bar MIT GPLv2").as_deref(),
            Some("LicenseRef-apk-custom-Foo-Bar AND MIT AND GPL-2.0-only")
        );
        let r = license_expression("Public Domain and BSD");
        assert_eq!(
            r.spdx.as_deref(),
            Some("LicenseRef-apk-Public-Domain AND LicenseRef-apk-BSD")
        );
        assert_eq!(r.refs.len(), 2);
        assert_eq!(r.single_ref_name(), None);
        assert_eq!(
            spdx("Public-Domain").as_deref(),
            Some("LicenseRef-apk-Public-Domain")
        );
        assert_eq!(
            spdx("osf-1990(variant)").as_deref(),
            Some("LicenseRef-apk-osf-1990-variant")
        );
        assert_eq!(
            spdx("unrestricted( Apache-2.0 OR BSD-3-Clause ) AND MIT").as_deref(),
            Some("LicenseRef-apk-unrestricted AND (Apache-2.0 OR BSD-3-Clause) AND MIT")
        );
        assert_eq!(
            spdx("LicenseRef-KDE-Accepted-GPL AND CC0-1.0").as_deref(),
            Some("LicenseRef-apk-KDE-Accepted-GPL AND CC0-1.0")
        );
    }

    #[test]
    fn exceptions() {
        assert_eq!(
            spdx("(GPL-2.0-only AND LGPL-2.1-or-later) WITH Font-exception-2.0").as_deref(),
            Some(
                "GPL-2.0-only WITH Font-exception-2.0 AND LGPL-2.1-or-later WITH Font-exception-2.0"
            )
        );
        // Not on the SPDX exception list: no way to say it in SPDX 2.3.
        assert_eq!(spdx("GPL-2.0-or-later WITH OpenSSL-Exception"), None);
        assert_eq!(spdx("MIT WITH LLVM-exception WITH LLVM-exception"), None);
    }

    #[test]
    fn unmappable_fields() {
        for raw in [
            "",
            "  ",
            "Unknown",
            "none",
            "MIT AND (LGPL-2.1-only OR LGPL-3.0-only",
            "MIT AND AND Apache-2.0",
            "MIT)",
            "OR MIT",
            "MIT WITH",
        ] {
            let r = license_expression(raw);
            assert_eq!(r.spdx, None, "{raw:?}");
            assert!(r.refs.is_empty());
            assert_eq!(r.raw, raw.trim());
        }
    }

    #[test]
    fn mapping_a_mapped_expression_changes_nothing() {
        for raw in [
            "MIT custom",
            "GPL-2.0+ OR (LGPL 2.1 AND Public Domain)",
            "custom:Ubuntu Font License 1.0",
            "(GPL-2.0-only AND MIT) WITH Font-exception-2.0",
            "Perl",
            "LicenseRef-KDE-Accepted-GPL",
        ] {
            let once = spdx(raw).unwrap();
            assert_eq!(spdx(&once).as_deref(), Some(once.as_str()), "{raw}");
        }
    }

    #[test]
    fn idstrings_are_sanitized() {
        assert_eq!(
            sanitize_idstring("custom:Foo Bar_1.0"),
            "custom-Foo-Bar-1.0"
        );
        assert_eq!(sanitize_idstring("(-)"), "unknown");
    }
}
