//! glob(3) for `include` lines: `*`, `?`, `[...]`, sorted, no leading-dot matches.

use super::*;

pub(super) fn glob<T: LibraryTree + ?Sized>(view: &View<'_, T>, pattern: &str) -> Vec<String> {
    let mut candidates = vec![if pattern.starts_with('/') {
        "/".to_owned()
    } else {
        String::new()
    }];
    for component in pattern.split('/').filter(|c| !c.is_empty()) {
        let mut next = Vec::new();
        for base in &candidates {
            if has_magic(component) {
                let dir = if base.is_empty() { "/" } else { base.as_str() };
                let Some(dir) = view.resolve(dir, true) else {
                    continue;
                };
                if view.kind(&dir) != Some(EntryKind::Dir) {
                    continue;
                }
                for name in view.list(&dir) {
                    if fnmatch(component, &name) {
                        next.push(glob_join(base, &name));
                    }
                }
            } else {
                next.push(glob_join(base, &unescape(component)));
            }
        }
        candidates = next;
    }
    candidates.retain(|p| !p.is_empty() && view.resolve(p, true).is_some());
    candidates.sort();
    candidates.dedup();
    candidates
}

pub(super) fn glob_join(base: &str, name: &str) -> String {
    if base.is_empty() {
        name.to_owned()
    } else {
        join(base, name)
    }
}

pub(super) fn has_magic(component: &str) -> bool {
    component.contains(['*', '?'])
        || component
            .find('[')
            .is_some_and(|open| component[open + 1..].contains(']'))
}

pub(super) fn unescape(component: &str) -> String {
    let mut out = String::with_capacity(component.len());
    let mut chars = component.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `fnmatch(pattern, name, FNM_PERIOD)`.
pub(super) fn fnmatch(pattern: &str, name: &str) -> bool {
    let (p, s) = (pattern.as_bytes(), name.as_bytes());
    if s.first() == Some(&b'.') && !(p.first() == Some(&b'.') || p.starts_with(b"\\.")) {
        return false;
    }
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if p.get(pi) == Some(&b'*') {
            star = Some((pi, si));
            pi += 1;
            continue;
        }
        if pi < p.len() && si < s.len() {
            if let Some(len) = match_one(p, pi, s[si]) {
                pi += len;
                si += 1;
                continue;
            }
        } else if pi == p.len() && si == s.len() {
            return true;
        }
        match star {
            Some((sp, ss)) if ss < s.len() => {
                star = Some((sp, ss + 1));
                pi = sp + 1;
                si = ss + 1;
            }
            _ => return false,
        }
    }
}

/// Matches the pattern token at `p[pi]` against `c`; the token's length when it matches.
pub(super) fn match_one(p: &[u8], pi: usize, c: u8) -> Option<usize> {
    match p.get(pi)? {
        b'?' => Some(1),
        b'[' => match bracket(p, pi, c) {
            Some((true, len)) => Some(len),
            Some((false, _)) => None,
            None => (c == b'[').then_some(1),
        },
        b'\\' if pi + 1 < p.len() => (p[pi + 1] == c).then_some(2),
        &x => (x == c).then_some(1),
    }
}

/// A bracket expression at `p[start]`: whether `c` matches, and the expression's length;
/// `None` when it is not terminated (then `[` is literal).
pub(super) fn bracket(p: &[u8], start: usize, c: u8) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let b = *p.get(i)?;
        if b == b']' && !first {
            return Some((matched != negate, i + 1 - start));
        }
        first = false;
        let class_end = (b == b'[' && p.get(i + 1) == Some(&b':'))
            .then(|| find(&p[i + 2..], b":]"))
            .flatten();
        if let Some(end) = class_end {
            matched |= class_matches(&p[i + 2..i + 2 + end], c);
            i += 2 + end + 2;
            continue;
        }
        let (lo, len) = match (b, p.get(i + 1)) {
            (b'\\', Some(&next)) => (next, 2),
            _ => (b, 1),
        };
        i += len;
        if p.get(i) == Some(&b'-') && p.get(i + 1).is_some_and(|&x| x != b']') {
            let (hi, len) = match (p.get(i + 1), p.get(i + 2)) {
                (Some(b'\\'), Some(&next)) => (next, 3),
                (Some(&x), _) => (x, 2),
                (None, _) => return None,
            };
            i += len;
            matched |= lo <= c && c <= hi;
        } else {
            matched |= lo == c;
        }
    }
}

pub(super) fn class_matches(class: &[u8], c: u8) -> bool {
    match class {
        b"alpha" => c.is_ascii_alphabetic(),
        b"digit" => c.is_ascii_digit(),
        b"alnum" => c.is_ascii_alphanumeric(),
        b"upper" => c.is_ascii_uppercase(),
        b"lower" => c.is_ascii_lowercase(),
        b"space" => is_c_space(c),
        b"blank" => is_blank(c),
        b"punct" => c.is_ascii_punctuation(),
        b"xdigit" => c.is_ascii_hexdigit(),
        b"cntrl" => c.is_ascii_control(),
        b"graph" => c.is_ascii_graphic(),
        b"print" => c.is_ascii_graphic() || c == b' ',
        _ => false,
    }
}
