//! The message model as the fuzz target `message_model` drives it: what
//! the list, the detail, the HTML view and the downloads do with one
//! message, without a server around it.

use std::time::SystemTime;

use axum::body::Bytes;

use super::detail;
use super::filter::bytes_contain;
use super::headers::{LIST_TEXT_MAX, subject_of};
use super::mime_guard;
use super::model::EnvelopeJson;
use super::stored::{Content, Stored};

/// Attachments fetched one by one (each is a full parse).
const ATTACHMENTS_FETCHED: usize = 8;

/// Runs `data` through the summary, a search, the detail, the HTML body
/// and the first attachments; panics if a list string is over its bound.
pub(crate) fn message_model(data: &[u8]) {
    let stored = Stored {
        id: "fuzz".to_owned(),
        received_at: SystemTime::UNIX_EPOCH,
        from: String::from_utf8_lossy(data.get(..40).unwrap_or(data)).into_owned(),
        to: vec!["to@example.com".to_owned()],
        size: data.len() as u64,
        meta: None,
        subject: subject_of(data),
        content: Content::Memory(Bytes::copy_from_slice(data)),
    };
    let summary = stored.summary();
    if let Some(subject) = &summary.subject {
        assert!(subject.chars().count() <= LIST_TEXT_MAX);
    }
    assert!(summary.from.chars().count() <= LIST_TEXT_MAX);
    let _ = serde_json::to_string(&summary).expect("a summary serialises");
    let _ = bytes_contain(data, "subject");
    let _ = bytes_contain(data, "é");
    let envelope = EnvelopeJson {
        from: stored.from.clone(),
        to: stored.to.clone(),
        mail_params: Default::default(),
        helo: None,
        peer: String::new(),
        tls: None,
        auth: None,
    };
    let detail = detail::detail(&stored, envelope, data);
    let _ = serde_json::to_string(&detail).expect("a detail serialises");
    let _ = detail::html(data);
    let attachments = match mime_guard::parse(data) {
        Ok(Some(message)) => message.attachments().count(),
        _ => 0,
    };
    for index in 0..attachments.min(ATTACHMENTS_FETCHED) {
        let found = detail::attachment(data, index);
        assert!(matches!(found, Ok(Some(_))), "attachment {index} is listed");
    }
    let _ = detail::attachment(data, attachments);
}
