//! The `to`, `from`, `subject` and `q` filters of `GET /api/messages` and
//! `GET /api/wait`: case-insensitive substrings, searched without a
//! lower-cased copy of the message.

use memchr::memmem;
use serde::Deserialize;

use super::stored::Stored;

/// Octets of a message lower-cased at a time for a non-ASCII `q`.
const CHUNK: usize = 64 * 1024;

/// The filters; a missing or empty one matches everything.
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct Filter {
    pub(crate) to: Option<String>,
    pub(crate) from: Option<String>,
    pub(crate) subject: Option<String>,
    /// Full text over the raw message.
    pub(crate) q: Option<String>,
}

/// A needle, lower-cased; `None` for a missing or empty filter.
fn needle(value: Option<&String>) -> Option<String> {
    value.filter(|v| !v.is_empty()).map(|v| v.to_lowercase())
}

/// Whether `haystack` holds the lower-case `needle`, ignoring case.
fn contains(haystack: &str, needle: &str) -> bool {
    bytes_contain(haystack.as_bytes(), needle)
}

/// Whether `haystack` (as UTF-8, lossy) holds the lower-case `needle`,
/// ignoring case. Linear time; memory bounded by the needle, not by the
/// haystack. An ASCII needle is matched ignoring ASCII case; otherwise the
/// haystack is lower-cased a chunk at a time, chunks overlapping by more
/// than a match can span.
pub(crate) fn bytes_contain(haystack: &[u8], needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    if needle.is_ascii() {
        return ascii_contains(haystack, needle.as_bytes());
    }
    // A lower-cased character is at most three times shorter in UTF-8.
    let overlap = needle.len() * 3 + 8;
    let chunk = CHUNK.max(overlap * 4);
    let mut start = 0;
    loop {
        let end = (start + chunk).min(haystack.len());
        let text = String::from_utf8_lossy(&haystack[start..end]).to_lowercase();
        if text.contains(needle) {
            return true;
        }
        if end == haystack.len() {
            return false;
        }
        start = char_start(haystack, end - overlap.min(end - start - 1));
    }
}

/// The nearest UTF-8 character start at or before `at`.
fn char_start(bytes: &[u8], mut at: usize) -> usize {
    let floor = at.saturating_sub(3);
    while at > floor && bytes.get(at).is_some_and(|&b| b & 0xC0 == 0x80) {
        at -= 1;
    }
    at
}

/// An ASCII needle, ignoring ASCII case: the haystack is lower-cased a
/// chunk at a time into one buffer and searched with `memmem`.
fn ascii_contains(haystack: &[u8], needle: &[u8]) -> bool {
    let finder = memmem::Finder::new(needle);
    let overlap = needle.len() - 1;
    let chunk = CHUNK.max(overlap * 4);
    let mut buffer = Vec::with_capacity(chunk.min(haystack.len()));
    let mut start = 0;
    loop {
        let end = (start + chunk).min(haystack.len());
        buffer.clear();
        buffer.extend(haystack[start..end].iter().map(u8::to_ascii_lowercase));
        if finder.find(&buffer).is_some() {
            return true;
        }
        if end == haystack.len() {
            return false;
        }
        start = end - overlap;
    }
}

impl Filter {
    /// True when `stored` passes every filter given (case-insensitive
    /// substrings). Blocking for `q` on a Maildir.
    pub(crate) fn matches(&self, stored: &Stored) -> bool {
        if let Some(n) = needle(self.from.as_ref())
            && !contains(&stored.from, &n)
        {
            return false;
        }
        if let Some(n) = needle(self.to.as_ref())
            && !stored.to.iter().any(|to| contains(to, &n))
        {
            return false;
        }
        if let Some(n) = needle(self.subject.as_ref())
            && !stored.subject().is_some_and(|s| contains(s, &n))
        {
            return false;
        }
        if let Some(n) = needle(self.q.as_ref()) {
            return stored.raw().is_ok_and(|raw| bytes_contain(&raw, &n));
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_across_chunks() {
        let mut hay = vec![b'x'; CHUNK - 3];
        hay.extend_from_slice(b"NeEdLe");
        hay.extend(vec![b'y'; CHUNK]);
        assert!(bytes_contain(&hay, "needle"));
        assert!(!bytes_contain(&hay, "needles"));
        let mut hay = "a".repeat(CHUNK - 2).into_bytes();
        hay.extend_from_slice("ÉCOLE Café".as_bytes());
        assert!(bytes_contain(&hay, "école café"));
        assert!(!bytes_contain(&hay, "écoles"));
        assert!(bytes_contain(b"", ""));
        assert!(!bytes_contain(b"", "a"));
        assert!(bytes_contain(b"\xff\xfeBODY", "body"));
    }
}
