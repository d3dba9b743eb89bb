//! Helpers shared by the modules beside this one.

use mtakit_proto::testing::Harness;
use mtakit_proto::{Pending, Reply};

use crate::support::send_cut;

// ---------------------------------------------------------------- helpers

#[derive(Clone, Copy, Debug)]
pub(crate) enum Split {
    Whole,
    Bytewise,
    /// A cut between every CR and the LF after it.
    BetweenCrLf,
}

pub(crate) const SPLITS: [Split; 3] = [Split::Whole, Split::Bytewise, Split::BetweenCrLf];

pub(crate) fn send_split(h: &mut Harness, bytes: &[u8], split: Split) -> Vec<Reply> {
    let cuts: Vec<usize> = match split {
        Split::Whole => Vec::new(),
        Split::Bytewise => (1..bytes.len()).collect(),
        Split::BetweenCrLf => (1..bytes.len())
            .filter(|&i| bytes[i - 1] == b'\r' && bytes[i] == b'\n')
            .collect(),
    };
    send_cut(h, bytes, &cuts)
}

pub(crate) fn asked_to_authenticate(h: &Harness) -> bool {
    h.pendings()
        .iter()
        .any(|p| matches!(p, Pending::Auth { .. } | Pending::Authenticate { .. }))
}

pub(crate) fn mail_senders(h: &Harness) -> Vec<String> {
    h.pendings()
        .iter()
        .filter_map(|p| match p {
            Pending::MailFrom { reverse_path, .. } => Some(reverse_path.to_string()),
            _ => None,
        })
        .collect()
}
