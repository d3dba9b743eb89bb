//! What the list needs from a message, at bounded cost: the header
//! section of its first [`SUMMARY_HEAD`] octets, the decoded Subject from
//! it alone, and strings cut to [`LIST_TEXT_MAX`] characters.

use mail_parser::MessageParser;

/// How much of a message is read for its summary (and for the headers of
/// a message too complex to take apart): 64 KiB.
pub(crate) const SUMMARY_HEAD: usize = 64 * 1024;
/// The longest subject, sender or recipient in a list entry, an SSE
/// `message` event or an `--events` line: 1,000 characters; longer ones
/// are cut and end in `…`.
pub(crate) const LIST_TEXT_MAX: usize = 1000;

/// `text` cut to at most `max` characters (the last one then `…`).
pub(crate) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some(_) => {
            let cut = text
                .char_indices()
                .nth(max.saturating_sub(1))
                .map_or(0, |(i, _)| i);
            let mut out = text[..cut].to_owned();
            out.push('…');
            out
        }
    }
}

/// The header fields at the start of `raw`, as `(name, value)` with the
/// value's folding kept, up to the empty line (or the end of `raw`).
pub(crate) fn fields(raw: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut out: Vec<(&[u8], &[u8])> = Vec::new();
    let mut at = 0;
    // (start of the field, offset of its colon)
    let mut current: Option<(usize, usize)> = None;
    let close = |current: Option<(usize, usize)>, end: usize, out: &mut Vec<_>| {
        if let Some((start, colon)) = current {
            out.push((&raw[start..colon], &raw[colon + 1..end]));
        }
    };
    while at < raw.len() {
        let end = raw[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(raw.len(), |p| at + p + 1);
        let line = &raw[at..end];
        let bare = line
            .strip_suffix(b"\n")
            .map_or(line, |l| l.strip_suffix(b"\r").unwrap_or(l));
        if bare.is_empty() {
            break;
        }
        if matches!(bare[0], b' ' | b'\t') {
            if current.is_some() {
                at = end;
                continue;
            }
            break;
        }
        close(current.take(), at, &mut out);
        match bare.iter().position(|&b| b == b':') {
            Some(colon) => current = Some((at, at + colon)),
            None => break,
        }
        at = end;
    }
    close(current, at.min(raw.len()), &mut out);
    out
}

/// A header value: unfolded, trimmed, as UTF-8 (lossy).
pub(crate) fn unfolded(value: &[u8]) -> String {
    let text = String::from_utf8_lossy(value);
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        let line = line.trim_end_matches('\r');
        if i > 0 && !line.is_empty() {
            out.push(' ');
        }
        out.push_str(if i > 0 { line.trim_start() } else { line });
    }
    out.trim().to_owned()
}

/// The decoded Subject, from the header section within the first
/// [`SUMMARY_HEAD`] octets, cut to [`LIST_TEXT_MAX`] characters. Only the
/// Subject field goes to mail-parser, so no other header can make this
/// slow.
pub(crate) fn subject_of(raw: &[u8]) -> Option<String> {
    let head = &raw[..raw.len().min(SUMMARY_HEAD)];
    let (_, value) = fields(head)
        .into_iter()
        .find(|(name, _)| name.trim_ascii().eq_ignore_ascii_case(b"subject"))?;
    let mut field = Vec::with_capacity(value.len() + 16);
    field.extend_from_slice(b"Subject:");
    field.extend_from_slice(value);
    field.extend_from_slice(b"\r\n\r\n");
    let parsed = MessageParser::new().parse_headers(&field)?;
    parsed.subject().map(|s| truncate(s, LIST_TEXT_MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut() {
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcd", 3), "ab…");
        assert_eq!(truncate("ééééé", 4), "ééé…");
        assert_eq!(
            truncate(&"x".repeat(5000), LIST_TEXT_MAX).chars().count(),
            1000
        );
    }

    #[test]
    fn fields_stop_at_the_body() {
        let raw = b"Subject: a\r\n b\r\nX-Y:z\r\n\r\nNot: a header\r\n";
        let fields = fields(raw);
        assert_eq!(fields.len(), 2);
        assert_eq!(fields[0].0, b"Subject");
        assert_eq!(unfolded(fields[0].1), "a b");
        assert_eq!(unfolded(fields[1].1), "z");
    }

    #[test]
    fn the_subject_comes_from_the_head_alone() {
        assert_eq!(
            subject_of(b"To: x\r\nSubject: =?utf-8?q?Caf=C3=A9?=\r\n\r\nbody").as_deref(),
            Some("Café")
        );
        assert_eq!(subject_of(b"To: x\r\n\r\nSubject: no\r\n"), None);
        let mut huge = b"Subject: ".to_vec();
        huge.extend(std::iter::repeat_n(b'x', 10 * SUMMARY_HEAD));
        huge.extend_from_slice(b"\r\n\r\nbody");
        let subject = subject_of(&huge).unwrap();
        assert_eq!(subject.chars().count(), LIST_TEXT_MAX);
    }
}
