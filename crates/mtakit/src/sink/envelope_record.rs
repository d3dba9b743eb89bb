//! [`MaildirEnvelope`]: the envelope record [`MaildirSink`](super::MaildirSink)
//! writes at the top of each file, where message content cannot reach it.
//!
//! A Maildir file is `Return-Path:`, then this record, then `Delivered-To:`
//! and `Received:` trace lines, then the message exactly as received. The
//! record is one header field, `X-Mtakit-Envelope:`, so the file stays a
//! valid message for any other Maildir reader (which shows it as an
//! unknown header). Its values are percent-encoded, so no value can
//! contain a space, `;`, CR or LF, and it is folded between items. It
//! states the exact number of octets before the message (`skip`), so a
//! reader never guesses where the trace ends: `Delivered-To:` lines in the
//! message itself stay part of the message.
//!
//! Why in the file and not beside it: the record then travels with the
//! message through the rename into `new/`, a move to `cur/` and a delete,
//! with no second file to write, fsync, or leave behind.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::message::Message;

/// The field name of the record.
pub(super) const FIELD: &str = "X-Mtakit-Envelope";
/// A record is never longer than this, 8 MiB: a reader looks no further,
/// and [`MaildirSink`](super::MaildirSink) refuses (`451 4.3.0`) a
/// message whose record would be longer. The record of 1,000 recipients
/// (the default limit) of 256 octets, each percent-encoded to three
/// times its length, takes under 1 MiB.
pub const MAX_RECORD: usize = 8 * 1024 * 1024;

/// Everything known about a message besides its bytes, as stored in a
/// Maildir file: the envelope, the session's HELO, peer, TLS and
/// authenticated identity, and the conformance findings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MaildirEnvelope {
    /// The reverse-path without angle brackets; empty for `<>`.
    pub from: String,
    /// The forward-paths without angle brackets, in order.
    pub to: Vec<String>,
    /// `HELO`, `EHLO` or `LHLO`.
    pub greeting: Option<String>,
    /// The HELO/EHLO/LHLO name.
    pub helo: Option<String>,
    /// The client's `ip:port`.
    pub peer: Option<String>,
    /// The TLS version, when the message came over TLS.
    pub tls_version: Option<String>,
    /// The TLS cipher suite.
    pub tls_cipher: Option<String>,
    /// The server name the client asked for.
    pub tls_sni: Option<String>,
    /// The SASL mechanism, when the client authenticated.
    pub auth_mechanism: Option<String>,
    /// The authenticated user.
    pub auth_user: Option<String>,
    /// `BODY=` of MAIL.
    pub body: Option<String>,
    /// `SIZE=` of MAIL.
    pub size: Option<u64>,
    /// `SMTPUTF8` of MAIL.
    pub smtputf8: bool,
    /// When the end of data was received.
    pub received_at: Option<SystemTime>,
    /// Each conformance finding, as text.
    pub findings: Vec<String>,
    /// Octets of the file before the message: the trace lines and the
    /// record.
    pub skip: usize,
}

/// `%XX` for every octet that is not visible ASCII, and for `%`, `;`, `=`.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for &b in value.as_bytes() {
        if b.is_ascii_graphic() && !matches!(b, b'%' | b';' | b'=') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn unbracket(path: &str) -> String {
    path.strip_prefix('<')
        .and_then(|p| p.strip_suffix('>'))
        .unwrap_or(path)
        .to_owned()
}

impl MaildirEnvelope {
    /// The record of `message`; `skip` is left 0 for the writer to set.
    pub fn of(message: &Message) -> MaildirEnvelope {
        let params = message.mail_params();
        MaildirEnvelope {
            from: unbracket(&message.reverse_path().to_string()),
            to: message
                .forward_paths()
                .map(|p| unbracket(&p.to_string()))
                .collect(),
            greeting: message
                .greeting()
                .map(|g| format!("{g:?}").to_ascii_uppercase()),
            helo: message.helo().map(ToString::to_string),
            peer: Some(message.peer().to_string()),
            tls_version: message.tls().map(|t| t.version.clone()),
            tls_cipher: message.tls().map(|t| t.cipher.clone()),
            tls_sni: message.tls().and_then(|t| t.sni.clone()),
            auth_mechanism: message.auth().map(|a| a.mechanism.to_string()),
            auth_user: message.auth().map(|a| a.username.clone()),
            body: params.body.map(|b| b.to_string()),
            size: params.size,
            smtputf8: params.smtputf8,
            received_at: Some(message.received_at()),
            findings: message.findings().iter().map(ToString::to_string).collect(),
            skip: 0,
        }
    }

    /// The record as a header field ending in CRLF, folded between
    /// items; `skip` is written with as many digits as given.
    pub fn to_field(&self) -> String {
        let mut items = vec![("v", "1".to_owned())];
        items.push(("skip", format!("{:010}", self.skip)));
        items.push(("from", encode(&self.from)));
        for to in &self.to {
            items.push(("to", encode(to)));
        }
        let optional = [
            ("greeting", &self.greeting),
            ("helo", &self.helo),
            ("peer", &self.peer),
            ("tls-version", &self.tls_version),
            ("tls-cipher", &self.tls_cipher),
            ("tls-sni", &self.tls_sni),
            ("auth-mechanism", &self.auth_mechanism),
            ("auth-user", &self.auth_user),
            ("body", &self.body),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                items.push((key, encode(value)));
            }
        }
        if let Some(size) = self.size {
            items.push(("size", size.to_string()));
        }
        if self.smtputf8 {
            items.push(("smtputf8", "1".to_owned()));
        }
        if let Some(at) = self.received_at {
            let micros = at
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_micros();
            items.push(("at", micros.to_string()));
        }
        for finding in &self.findings {
            items.push(("finding", encode(finding)));
        }
        let items: Vec<String> = items.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{FIELD}: {};\r\n", items.join(";\r\n "))
    }

    /// Reads the record from the start of a file: a `Return-Path:` line,
    /// then the record. Returns `None` for a file without one (not written
    /// by this sink), or with a damaged one.
    pub fn parse(head: &[u8]) -> Option<MaildirEnvelope> {
        let first = head.iter().position(|&b| b == b'\n')? + 1;
        // The record itself is at most MAX_RECORD octets.
        let head = &head[..head.len().min(first + MAX_RECORD)];
        if !head[..first]
            .get(..12)?
            .eq_ignore_ascii_case(b"Return-Path:")
        {
            return None;
        }
        // The record: its first line and the lines that continue it.
        let mut end = first;
        loop {
            let len = head[end..].iter().position(|&b| b == b'\n')? + 1;
            end += len;
            if !matches!(head.get(end), Some(b' ' | b'\t')) {
                break;
            }
        }
        let text = std::str::from_utf8(&head[first..end]).ok()?;
        let value = text.strip_prefix(FIELD)?.strip_prefix(':')?;
        let mut record = MaildirEnvelope::default();
        let mut version = false;
        for item in value.split(';') {
            let item = item.trim_matches([' ', '\t', '\r', '\n']);
            if item.is_empty() {
                continue;
            }
            let (key, value) = item.split_once('=')?;
            let text = || decode(value);
            match key {
                "v" => version = value == "1",
                "skip" => record.skip = value.parse().ok()?,
                "from" => record.from = text()?,
                "to" => record.to.push(text()?),
                "greeting" => record.greeting = Some(text()?),
                "helo" => record.helo = Some(text()?),
                "peer" => record.peer = Some(text()?),
                "tls-version" => record.tls_version = Some(text()?),
                "tls-cipher" => record.tls_cipher = Some(text()?),
                "tls-sni" => record.tls_sni = Some(text()?),
                "auth-mechanism" => record.auth_mechanism = Some(text()?),
                "auth-user" => record.auth_user = Some(text()?),
                "body" => record.body = Some(text()?),
                "size" => record.size = Some(value.parse().ok()?),
                "smtputf8" => record.smtputf8 = value == "1",
                "at" => {
                    let micros: u64 = value.parse().ok()?;
                    record.received_at = Some(UNIX_EPOCH + Duration::from_micros(micros));
                }
                "finding" => record.findings.push(text()?),
                _ => {} // from a newer version: ignored
            }
        }
        (version && record.skip >= end).then_some(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> MaildirEnvelope {
        MaildirEnvelope {
            from: "a b;c=%@x".to_owned(),
            to: vec!["b@example.com".to_owned(), "caf\u{e9}@x".to_owned()],
            greeting: Some("EHLO".to_owned()),
            helo: Some("client.example".to_owned()),
            peer: Some("[::1]:4000".to_owned()),
            tls_version: Some("TLSv1_3".to_owned()),
            tls_cipher: Some("TLS13_AES_128_GCM_SHA256".to_owned()),
            tls_sni: None,
            auth_mechanism: Some("PLAIN".to_owned()),
            auth_user: Some("user\r\nRCPT TO:<x@y>".to_owned()),
            body: Some("BINARYMIME".to_owned()),
            size: Some(42),
            smtputf8: true,
            received_at: Some(UNIX_EPOCH + Duration::from_micros(1_796_314_327_123_456)),
            findings: vec!["bare LF; line 3".to_owned()],
            skip: 0,
        }
    }

    #[test]
    fn round_trip() {
        let mut record = sample();
        let head = format!("Return-Path: <x>\r\n{}", record.to_field());
        record.skip = head.len();
        let head = format!(
            "Return-Path: <x>\r\n{}Delivered-To: evil\r\n",
            record.to_field()
        );
        assert_eq!(MaildirEnvelope::parse(head.as_bytes()), Some(record));
        assert!(!head[..head.len() - 20].contains("\r\nRCPT"));
    }

    #[test]
    fn no_record_no_envelope() {
        assert_eq!(MaildirEnvelope::parse(b"Subject: x\r\n\r\n"), None);
        assert_eq!(
            MaildirEnvelope::parse(b"Return-Path: <a>\r\nDelivered-To: b\r\n\r\n"),
            None
        );
        let field = sample().to_field(); // skip 0: shorter than the record
        let head = format!("Return-Path: <x>\r\n{field}");
        assert_eq!(MaildirEnvelope::parse(head.as_bytes()), None);
    }
}
