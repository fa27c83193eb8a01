//! Splitting `entrypoint.command` and `cmd` into argv the way apko does.
//!
//! apko uses `github.com/google/shlex`, whose rules differ from POSIX sh in
//! small ways that matter for drop-in compatibility, so they are copied here:
//! - words are separated by space, tab, CR and LF;
//! - `'...'` is literal; `"..."` is literal except that `\` makes the next
//!   character literal, whatever it is (`"a\nb"` is `anb`, not `a\nb`);
//! - outside quotes `\` makes the next character literal;
//! - `#` at the start of a word starts a comment to the end of the line,
//!   inside a word it is an ordinary character;
//! - `""` is an empty argument; no variable or glob expansion happens.

/// Why a command line could not be split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SplitError {
    UnclosedQuote,
    TrailingBackslash,
}

impl SplitError {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            SplitError::UnclosedQuote => "a quote is not closed; close it or escape it with \\",
            SplitError::TrailingBackslash => {
                "it ends with a lone backslash; remove it or write \\\\"
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between words.
    Start,
    InWord,
    Escaped,
    InDouble,
    EscapedInDouble,
    InSingle,
    Comment,
}

/// Splits a command line into arguments.
pub(crate) fn split(line: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut state = State::Start;
    for c in line.chars() {
        state = step(state, c, &mut word, &mut words);
    }
    match state {
        State::Start | State::Comment => {}
        State::InWord => words.push(word),
        State::Escaped | State::EscapedInDouble => return Err(SplitError::TrailingBackslash),
        State::InDouble | State::InSingle => return Err(SplitError::UnclosedQuote),
    }
    Ok(words)
}

/// One character of the state machine; finished words are pushed to `words`.
fn step(state: State, c: char, word: &mut String, words: &mut Vec<String>) -> State {
    let space = matches!(c, ' ' | '\t' | '\r' | '\n');
    match state {
        State::Start => match c {
            _ if space => State::Start,
            '#' => State::Comment,
            c => continue_word(c, word),
        },
        State::InWord => match c {
            _ if space => {
                words.push(std::mem::take(word));
                State::Start
            }
            c => continue_word(c, word),
        },
        State::Escaped => {
            word.push(c);
            State::InWord
        }
        State::InDouble => match c {
            '"' => State::InWord,
            '\\' => State::EscapedInDouble,
            c => {
                word.push(c);
                State::InDouble
            }
        },
        State::EscapedInDouble => {
            word.push(c);
            State::InDouble
        }
        State::InSingle => match c {
            '\'' => State::InWord,
            c => {
                word.push(c);
                State::InSingle
            }
        },
        State::Comment if c == '\n' => State::Start,
        State::Comment => State::Comment,
    }
}

/// A character that starts or continues a word outside quotes.
fn continue_word(c: char, word: &mut String) -> State {
    match c {
        '"' => State::InDouble,
        '\'' => State::InSingle,
        '\\' => State::Escaped,
        c => {
            word.push(c);
            State::InWord
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &str) -> Vec<String> {
        split(line).unwrap_or_else(|e| vec![format!("error: {e:?}")])
    }

    #[test]
    fn plain_words() {
        assert_eq!(ok("/bin/sh -l"), ["/bin/sh", "-l"]);
        assert_eq!(ok("  a \t b\nc  "), ["a", "b", "c"]);
        assert!(ok("").is_empty());
        assert!(ok("   ").is_empty());
    }

    #[test]
    fn quotes_group_and_concatenate() {
        assert_eq!(
            ok(r#"/usr/sbin/nginx -g "daemon off;""#),
            ["/usr/sbin/nginx", "-g", "daemon off;"]
        );
        assert_eq!(ok(r#"a'b c'"d e"f"#), ["ab cd ef"]);
        assert_eq!(ok(r#"'$HOME' "\$x""#), ["$HOME", "$x"]);
        assert_eq!(ok(r#"x "" y"#), ["x", "", "y"]);
    }

    #[test]
    fn backslash_in_double_quotes_escapes_anything() {
        assert_eq!(ok(r#""a\nb""#), ["anb"]);
        assert_eq!(ok(r#""say \"hi\"""#), ["say \"hi\""]);
        assert_eq!(ok(r"'a\nb'"), [r"a\nb"]);
    }

    #[test]
    fn backslash_outside_quotes() {
        assert_eq!(ok(r"a\ b c"), ["a b", "c"]);
        assert_eq!(ok(r"\#x"), ["#x"]);
    }

    #[test]
    fn comments_only_at_word_start() {
        assert_eq!(ok("a #comment\nb"), ["a", "b"]);
        assert_eq!(ok("a#b"), ["a#b"]);
    }

    #[test]
    fn errors() {
        assert_eq!(split("echo 'oops"), Err(SplitError::UnclosedQuote));
        assert_eq!(split("echo \"oops"), Err(SplitError::UnclosedQuote));
        assert_eq!(split("echo oops\\"), Err(SplitError::TrailingBackslash));
        assert_eq!(split("\"oops\\"), Err(SplitError::TrailingBackslash));
    }
}
