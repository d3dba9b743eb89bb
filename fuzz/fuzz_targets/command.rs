//! `Command::parse` on arbitrary bytes.
//!
//! The whole input is parsed as one command line, and, when it holds CRLFs,
//! each CRLF-separated line too (so dialogue seeds are useful). A command
//! that parses has a verb that names it on the wire; an error's reply is a
//! 5xx with printable ASCII text that survives `Reply::parse` of its wire
//! form (see `check_reply`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mtakit_fuzz::{check_reply, is_printable_text};
use mtakit_proto::Command;

fn check_line(line: &[u8]) {
    match Command::parse(line) {
        Ok(cmd) => {
            let verb = cmd.verb();
            let typed = line.get(..verb.len()).unwrap_or_default();
            assert!(
                typed.eq_ignore_ascii_case(verb.as_bytes()),
                "{cmd:?} parsed from a line starting {typed:?}"
            );
        }
        Err(err) => {
            let reply = err.reply();
            assert!(
                reply.code().is_permanent(),
                "error reply is not 5xx: {reply:?} for {err:?}"
            );
            assert!(
                is_printable_text(reply.text()) && !reply.text().contains('\n'),
                "error reply text is not printable: {reply:?}"
            );
            assert_eq!(err.to_string(), reply.text());
            check_reply(&reply);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check_line(data);
    if data.windows(2).any(|w| w == b"\r\n") {
        let mut rest = data;
        while let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
            check_line(&rest[..end]);
            rest = &rest[end + 2..];
        }
        check_line(rest);
    }
});
