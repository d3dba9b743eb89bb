//! Helpers shared by the modules beside this one.

use mtakit_proto::Command;
use mtakit_proto::address::ReversePath;

// ---------------------------------------------------------------------------
// Helpers

pub(crate) fn parse_code(line: &[u8]) -> u16 {
    Command::parse(line).unwrap_err().reply().code().get()
}

pub(crate) fn mailbox(path: &ReversePath) -> String {
    path.mailbox().expect("a mailbox").to_string()
}
