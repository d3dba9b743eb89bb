//! [`Pattern`]: a fault rule's regular expression, compiled with limits
//! that keep both its size and its matching time bounded.

use std::fmt;

use super::error::FaultError;

/// The most heap a compiled pattern may use: 64 KiB. Matching costs time
/// in proportion to the input and, in the worst case, to this size; a
/// pattern over it is refused when the rule is made (for example
/// `(?:[a-j]{1,100}){20}Q`).
pub const MAX_PATTERN_SIZE: usize = 64 * 1024;

/// The deepest nesting of groups and repetitions in a pattern: 50.
pub const MAX_PATTERN_NESTING: u32 = 50;

/// The most memory the lazy DFA of one pattern may cache per thread that
/// matches it: 1 MiB.
pub const DFA_CACHE_SIZE: usize = 1 << 20;

/// A compiled regular expression, matched against bytes.
///
/// The syntax is that of the `regex` crate, with Unicode mode off, as
/// the earlier `regex-lite` engine had it: `\w`, `\d`, `\s`, `\b` and
/// `(?i)` are ASCII-only, `.` matches one octet (not `\n`), and non-ASCII
/// text in the pattern matches its UTF-8 octets; a non-ASCII character
/// inside `[...]` is refused (write `(?:é|è)` instead).
#[derive(Clone)]
pub(crate) struct Pattern {
    text: String,
    regex: regex::bytes::Regex,
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pattern").field(&self.text).finish()
    }
}

impl Pattern {
    /// Compiles `text` within the limits.
    pub(crate) fn new(text: &str) -> Result<Self, FaultError> {
        let regex = regex::bytes::RegexBuilder::new(text)
            .unicode(false)
            .size_limit(MAX_PATTERN_SIZE)
            .dfa_size_limit(DFA_CACHE_SIZE)
            .nest_limit(MAX_PATTERN_NESTING)
            .build()
            .map_err(|e| match e {
                regex::Error::CompiledTooBig(limit) => FaultError::Regex(format!(
                    "pattern too large: it compiles to more than {limit} bytes, the limit \
                     that keeps matching fast; use smaller repetition counts"
                )),
                other => FaultError::Regex(other.to_string()),
            })?;
        Ok(Self {
            text: text.to_owned(),
            regex,
        })
    }

    /// The pattern as written.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Whether the pattern matches anywhere in `haystack`.
    pub(crate) fn is_match(&self, haystack: &[u8]) -> bool {
        self.regex.is_match(haystack)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_over_the_size_limit_is_refused_with_a_reason() {
        // The pattern that froze the server for 41 s on a 1 MB message.
        let Err(FaultError::Regex(why)) = Pattern::new("(?:[a-j]{1,100}){20}Q") else {
            panic!("the pathological pattern was accepted");
        };
        assert!(why.contains("too large"), "{why}");
        assert!(why.contains(&MAX_PATTERN_SIZE.to_string()), "{why}");
        // Its small cousins, and realistic rules, are fine.
        for ok in [
            "(?:[a-j]{1,5}){20}Q",
            r"(?is)subject:.*password reset",
            r"(?i)\bviagra\b",
            r"(?s)X-Test-Case: (\d+).*FAIL",
            r"\w+@\w+\.com",
            "^<bob@",
        ] {
            assert!(Pattern::new(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn nesting_is_limited() {
        let deep = format!("{}a{}", "(".repeat(60), ")".repeat(60));
        assert!(matches!(Pattern::new(&deep), Err(FaultError::Regex(_))));
        let fine = format!("{}a{}", "(".repeat(20), ")".repeat(20));
        assert!(Pattern::new(&fine).is_ok());
    }

    #[test]
    fn classes_and_case_are_ascii_as_before() {
        let word = Pattern::new(r"^\w+$").unwrap();
        assert!(word.is_match(b"abc_1"));
        assert!(!word.is_match("é".as_bytes()));
        let caseless = Pattern::new("(?i)subject: SPAM").unwrap();
        assert!(caseless.is_match(b"Subject: spam"));
        // Non-ASCII text matches its UTF-8 octets; content that is not
        // UTF-8 is matched as it is.
        assert!(Pattern::new("café").unwrap().is_match("un café".as_bytes()));
        assert!(Pattern::new("(?s)a.*b").unwrap().is_match(b"a\xff\xfe\nb"));
        assert!(Pattern::new("[é]").is_err());
    }
}
