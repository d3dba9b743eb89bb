//! A message taken apart with mail-parser, on request only: the headers,
//! the text and HTML bodies, and the attachments. Every full parse goes
//! through [`mime_guard::parse`]; a message it refuses gets its headers
//! (from the first [`SUMMARY_HEAD`] octets, undecoded) and a notice.

use std::borrow::Cow;

use mail_parser::{HeaderValue, MessagePart, MimeHeaders, PartType};
use serde::Serialize;

use super::headers::{SUMMARY_HEAD, fields, unfolded};
use super::mime_guard::{self, TooComplex};
use super::model::EnvelopeJson;
use super::store::Stored;

/// `GET /api/messages/{id}`.
#[derive(Debug, Serialize)]
pub(crate) struct Detail {
    id: String,
    received_at: String,
    size: u64,
    envelope: EnvelopeJson,
    /// `[name, value]` in order; values unfolded, unstructured ones
    /// decoded.
    headers: Vec<(String, String)>,
    subject: Option<String>,
    text: Option<String>,
    html: Option<String>,
    attachments: Vec<AttachmentJson>,
    findings: Vec<String>,
    /// Set when the message is too complex to take apart: why, in words.
    /// Its headers are then shown undecoded, and it has no text, HTML or
    /// attachments; `/raw` still serves it.
    notice: Option<String>,
}

/// One attachment in a [`Detail`].
#[derive(Debug, Serialize)]
pub(crate) struct AttachmentJson {
    index: usize,
    name: Option<String>,
    content_type: String,
    size: usize,
    /// The `Content-ID` without angle brackets, for `cid:` references.
    content_id: Option<String>,
    url: String,
}

/// An attachment to download.
#[derive(Debug)]
pub(crate) struct Download {
    pub(crate) name: Option<String>,
    pub(crate) content_type: String,
    pub(crate) data: Vec<u8>,
}

/// Percent-encodes an id for a URL path segment.
pub(crate) fn path_segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `type/subtype` of a part, lower-cased; `application/octet-stream` when
/// unknown or not a plain token pair.
fn content_type(part: &MessagePart<'_>) -> String {
    if matches!(part.body, PartType::Message(_)) && part.content_type().is_none() {
        return "message/rfc822".to_owned();
    }
    let Some(ct) = part.content_type() else {
        return match part.body {
            PartType::Text(_) => "text/plain",
            PartType::Html(_) => "text/html",
            _ => "application/octet-stream",
        }
        .to_owned();
    };
    let value =
        format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("octet-stream")).to_ascii_lowercase();
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    match value.split_once('/') {
        Some((t, s)) if token(t) && token(s) => value,
        _ => "application/octet-stream".to_owned(),
    }
}

/// A header value: decoded text for unstructured fields, otherwise the
/// raw value unfolded.
fn header_value(raw: &[u8], value: &HeaderValue<'_>, start: usize, end: usize) -> String {
    if let HeaderValue::Text(text) = value {
        return unfold(text);
    }
    let bytes = raw.get(start..end).unwrap_or_default();
    unfold(&String::from_utf8_lossy(bytes))
}

fn unfold(value: &str) -> String {
    unfolded(value.as_bytes())
}

/// The notice of a message [`mime_guard`] refuses.
pub(crate) fn notice(why: TooComplex) -> String {
    format!(
        "This message is not taken apart because {why}; its headers are shown \
         as received, and the raw message has the rest."
    )
}

/// Builds the detail of `stored` from its bytes.
pub(crate) fn detail(stored: &Stored, envelope: EnvelopeJson, raw: &[u8]) -> Detail {
    let parsed = mime_guard::parse(raw);
    let id = path_segment(&stored.id);
    let mut detail = Detail {
        id: stored.id.clone(),
        received_at: super::model::rfc3339(stored.received_at),
        size: stored.size,
        envelope,
        headers: Vec::new(),
        subject: stored.subject().map(str::to_owned),
        text: None,
        html: None,
        attachments: Vec::new(),
        findings: stored.findings().to_vec(),
        notice: None,
    };
    let parsed = match parsed {
        Ok(parsed) => parsed,
        Err(why) => {
            let head = &raw[..raw.len().min(SUMMARY_HEAD)];
            detail.headers = fields(head)
                .into_iter()
                .map(|(name, value)| (unfolded(name), unfolded(value)))
                .collect();
            detail.notice = Some(notice(why));
            return detail;
        }
    };
    let Some(message) = parsed else {
        detail.text = Some(String::from_utf8_lossy(raw).into_owned());
        return detail;
    };
    detail.headers = message
        .headers()
        .iter()
        .map(|h| {
            let value = header_value(
                raw,
                h.value(),
                h.offset_start() as usize,
                h.offset_end() as usize,
            );
            (h.name().to_owned(), value)
        })
        .collect();
    detail.subject = message.subject().map(str::to_owned).or(detail.subject);
    detail.text = message
        .text_part(0)
        .filter(|p| matches!(p.body, PartType::Text(_)))
        .and_then(|p| p.text_contents())
        .map(str::to_owned);
    detail.html = html_of(&message).map(Cow::into_owned);
    detail.attachments = message
        .attachments()
        .enumerate()
        .map(|(index, part)| AttachmentJson {
            index,
            name: part.attachment_name().map(str::to_owned),
            content_type: content_type(part),
            size: part.contents().len(),
            content_id: part
                .content_id()
                .map(|c| c.trim_matches(['<', '>', ' ']).to_owned()),
            url: format!("/api/messages/{id}/attachments/{index}"),
        })
        .collect();
    detail
}

fn html_of<'x>(message: &'x mail_parser::Message<'x>) -> Option<Cow<'x, str>> {
    let part = message.html_part(0)?;
    match &part.body {
        PartType::Html(html) => Some(Cow::Borrowed(html.as_ref())),
        _ => None,
    }
}

/// The HTML body, when the message has one (not made from plain text).
pub(crate) fn html(raw: &[u8]) -> Result<Option<String>, TooComplex> {
    let Some(message) = mime_guard::parse(raw)? else {
        return Ok(None);
    };
    Ok(html_of(&message).map(Cow::into_owned))
}

/// The attachment at `index`, as listed by [`detail`].
pub(crate) fn attachment(raw: &[u8], index: usize) -> Result<Option<Download>, TooComplex> {
    let Some(message) = mime_guard::parse(raw)? else {
        return Ok(None);
    };
    let Some(part) = message.attachments().nth(index) else {
        return Ok(None);
    };
    Ok(Some(Download {
        name: part.attachment_name().map(str::to_owned),
        content_type: content_type(part),
        data: part.contents().to_vec(),
    }))
}

/// `attachment; filename="..."` with a name that is safe in a header and
/// on a disk, plus `filename*` (RFC 6266) for a non-ASCII name.
pub(crate) fn disposition(name: Option<&str>, index: usize) -> String {
    let base = name
        .and_then(|n| n.rsplit(['/', '\\']).next())
        .unwrap_or("");
    let ascii: String = base
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() || c == ' ') && !matches!(c, '"' | '\\' | ';' | '%') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let ascii = ascii.trim().trim_start_matches('.').to_owned();
    let ascii = if ascii.is_empty() || ascii.chars().all(|c| c == '_') {
        format!("attachment-{index}")
    } else {
        ascii
    };
    let mut value = format!("attachment; filename=\"{ascii}\"");
    if !base.is_ascii() && !base.chars().any(char::is_control) {
        value.push_str("; filename*=UTF-8''");
        value.push_str(&path_segment(base));
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_are_sanitised() {
        assert_eq!(
            disposition(Some("report.pdf"), 0),
            "attachment; filename=\"report.pdf\""
        );
        assert_eq!(
            disposition(Some("../../etc/passwd"), 1),
            "attachment; filename=\"passwd\""
        );
        assert_eq!(
            disposition(Some("a\"b\r\n;c.txt"), 2),
            "attachment; filename=\"a_b___c.txt\""
        );
        assert_eq!(
            disposition(None, 3),
            "attachment; filename=\"attachment-3\""
        );
        assert_eq!(
            disposition(Some(".hidden"), 4),
            "attachment; filename=\"hidden\""
        );
        assert_eq!(
            disposition(Some("résumé.txt"), 5),
            "attachment; filename=\"r_sum_.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt"
        );
    }

    #[test]
    fn folded_values_are_unfolded() {
        assert_eq!(unfold(" a\r\n b\r\n\tc\r\n"), "a b c");
    }

    #[test]
    fn ids_are_escaped_in_urls() {
        assert_eq!(path_segment("1a.2b.3"), "1a.2b.3");
        assert_eq!(path_segment("a b/c"), "a%20b%2Fc");
    }
}
