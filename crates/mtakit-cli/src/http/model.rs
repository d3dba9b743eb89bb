//! The JSON shapes of the HTTP API and the `--events` lines: message
//! summaries, envelopes, and session records built from
//! [`mtakit::observe::Transcript`].
//!
//! The field names are a contract: the web UI and test suites in other
//! languages read them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mtakit::Message;
use mtakit::observe::{Entry, Transcript};
use mtakit::proto::TlsInfo;
use serde::Serialize;

/// One message in `GET /api/messages`, in an SSE `message` event and in a
/// `--events` line.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Summary {
    pub(crate) id: String,
    /// The reverse-path without angle brackets; empty for `<>`.
    pub(crate) from: String,
    /// The forward-paths without angle brackets.
    pub(crate) to: Vec<String>,
    pub(crate) subject: Option<String>,
    /// Octets of the message data as received.
    pub(crate) size: u64,
    /// RFC 3339, UTC.
    pub(crate) received_at: String,
    /// How many conformance findings the message has.
    pub(crate) findings: usize,
}

/// The MAIL parameters of the envelope.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct MailParamsJson {
    pub(crate) size: Option<u64>,
    pub(crate) body: Option<String>,
    pub(crate) smtputf8: bool,
}

/// TLS facts of a message or a session.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct TlsJson {
    pub(crate) version: String,
    pub(crate) cipher: String,
    pub(crate) sni: Option<String>,
}

impl From<&TlsInfo> for TlsJson {
    fn from(tls: &TlsInfo) -> Self {
        TlsJson {
            version: tls.version.clone(),
            cipher: tls.cipher.clone(),
            sni: tls.sni.clone(),
        }
    }
}

/// Who authenticated.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct AuthJson {
    pub(crate) mechanism: String,
    pub(crate) username: String,
}

/// What is known about a message besides its bytes and its paths: known
/// for messages received by this process, not for Maildir files left by an
/// earlier run.
#[derive(Clone, Debug, Default)]
pub(crate) struct Meta {
    pub(crate) mail_params: MailParamsJson,
    pub(crate) helo: Option<String>,
    pub(crate) peer: String,
    pub(crate) tls: Option<TlsJson>,
    pub(crate) auth: Option<AuthJson>,
    /// The `Display` text of each finding.
    pub(crate) findings: Vec<String>,
    /// When the end of data was received (more precise than an mtime).
    pub(crate) received_at: Option<SystemTime>,
    /// The `Received:` trace header added on delivery, for a message kept
    /// in memory (a Maildir file holds its own).
    pub(crate) received: Option<String>,
}

impl Meta {
    /// Everything but the data; cheap, no parsing.
    pub(crate) fn of(message: &Message) -> Meta {
        let params = message.mail_params();
        Meta {
            mail_params: MailParamsJson {
                size: params.size,
                body: params.body.map(|b| b.to_string()),
                smtputf8: params.smtputf8,
            },
            helo: message.helo().map(ToString::to_string),
            peer: message.peer().to_string(),
            tls: message.tls().map(TlsJson::from),
            auth: message.auth().map(|a| AuthJson {
                mechanism: a.mechanism.to_string(),
                username: a.username.clone(),
            }),
            findings: message.findings().iter().map(ToString::to_string).collect(),
            received_at: Some(message.received_at()),
            received: None,
        }
    }
}

/// The envelope in a message's detail.
#[derive(Debug, Serialize)]
pub(crate) struct EnvelopeJson {
    pub(crate) from: String,
    pub(crate) to: Vec<String>,
    pub(crate) mail_params: MailParamsJson,
    pub(crate) helo: Option<String>,
    /// `ip:port`; empty when unknown (a Maildir file from an earlier run).
    pub(crate) peer: String,
    pub(crate) tls: Option<TlsJson>,
    pub(crate) auth: Option<AuthJson>,
}

/// `<a@b>` → `a@b`, `<>` → ``.
pub(crate) fn unbracket(path: &str) -> String {
    path.strip_prefix('<')
        .and_then(|p| p.strip_suffix('>'))
        .unwrap_or(path)
        .to_owned()
}

/// One session in an SSE `session` event and a `--events` line.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct SessionSummary {
    pub(crate) id: u64,
    pub(crate) peer: String,
    pub(crate) started_at: String,
    pub(crate) duration_ms: f64,
    /// Command lines the client sent, omitted ones included.
    pub(crate) commands: usize,
    /// Messages accepted in the session.
    pub(crate) messages: usize,
    /// How it ended: `closed`, `client closed`, or an error.
    pub(crate) end: String,
    /// Bytes the transcript holds, at most 256 KiB.
    pub(crate) transcript_bytes: usize,
    /// Entries dropped from the middle of a long transcript.
    pub(crate) omitted: u64,
}

/// One session in `GET /api/sessions/{id}`: the summary, TLS and the
/// timed transcript.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct SessionRecord {
    #[serde(flatten)]
    pub(crate) summary: SessionSummary,
    pub(crate) tls: Option<TlsJson>,
    pub(crate) entries: Vec<EntryJson>,
}

impl SessionRecord {
    /// The bytes this record holds, for the hub's total budget.
    pub(crate) fn bytes(&self) -> usize {
        let entries: usize = self
            .entries
            .iter()
            .map(|e| size_of::<EntryJson>() + e.text.len())
            .sum();
        size_of::<SessionRecord>()
            + self.summary.peer.len()
            + self.summary.started_at.len()
            + self.summary.end.len()
            + entries
    }
}

/// One timed line of a transcript.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct EntryJson {
    pub(crate) at_ms: f64,
    /// `command`, `reply`, `message`, `tls`, `end`, or `omitted` (the
    /// text then says how many entries and bytes were dropped).
    pub(crate) kind: &'static str,
    pub(crate) text: String,
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl From<&Transcript> for SessionRecord {
    fn from(t: &Transcript) -> Self {
        let mut end = String::new();
        let entries = t
            .entries
            .iter()
            .filter_map(|e| {
                let (kind, text) = match &e.entry {
                    Entry::Command(c) => ("command", c.clone()),
                    Entry::Reply(r) => ("reply", r.clone()),
                    Entry::Message(m) => ("message", m.clone()),
                    Entry::Tls(v) => ("tls", v.clone()),
                    Entry::End(why) => {
                        end.clone_from(why);
                        ("end", why.clone())
                    }
                    Entry::Omitted { entries, bytes, .. } => (
                        "omitted",
                        format!("{entries} entries ({bytes} bytes) omitted"),
                    ),
                    _ => return None,
                };
                Some(EntryJson {
                    at_ms: millis(e.at),
                    kind,
                    text,
                })
            })
            .collect();
        SessionRecord {
            summary: SessionSummary {
                id: t.id,
                peer: t.peer.to_string(),
                started_at: rfc3339(t.started_at),
                duration_ms: millis(t.duration),
                commands: usize::try_from(t.command_count()).unwrap_or(usize::MAX),
                messages: t.messages().count(),
                end,
                transcript_bytes: t.bytes(),
                omitted: t.omitted().map_or(0, |(entries, _)| entries),
            },
            tls: t.tls.as_ref().map(TlsJson::from),
            entries,
        }
    }
}

/// `2024-05-01T12:34:56.789Z`: RFC 3339 in UTC with milliseconds.
pub(crate) fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (year, month, day) = civil_date(secs / 86_400);
    let rem = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01, by
/// counting 400-year cycles from 0000-03-01 (so leap days end a year).
fn civil_date(days: u64) -> (u64, u64, u64) {
    const DAYS_PER_CYCLE: u64 = 146_097;
    let z = days + 719_468; // days since 0000-03-01
    let cycle = z / DAYS_PER_CYCLE;
    let day_of_cycle = z % DAYS_PER_CYCLE;
    let year_of_cycle = (day_of_cycle - day_of_cycle / 1460 + day_of_cycle / 36_524
        - day_of_cycle / (DAYS_PER_CYCLE - 1))
        / 365;
    let day_of_year =
        day_of_cycle - (365 * year_of_cycle + year_of_cycle / 4 - year_of_cycle / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = cycle * 400 + year_of_cycle + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64, millis: u64) -> String {
        rfc3339(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis))
    }

    #[test]
    fn rfc3339_dates() {
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(at(951_868_799, 999), "2000-02-29T23:59:59.999Z");
        assert_eq!(at(1_700_000_000, 0), "2023-11-14T22:13:20.000Z");
        assert_eq!(at(4_107_542_400, 0), "2100-03-01T00:00:00.000Z");
        assert_eq!(at(1_709_164_800, 0), "2024-02-29T00:00:00.000Z");
        assert_eq!(at(1_735_689_599, 0), "2024-12-31T23:59:59.000Z");
    }

    #[test]
    fn paths_lose_their_brackets() {
        assert_eq!(unbracket("<a@example.com>"), "a@example.com");
        assert_eq!(unbracket("<>"), "");
        assert_eq!(unbracket("<Postmaster>"), "Postmaster");
    }
}
