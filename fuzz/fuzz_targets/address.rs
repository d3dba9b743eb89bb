//! The path, domain and ESMTP parameter parsers on arbitrary UTF-8
//! (invalid UTF-8 is skipped: the command parser rejects it first).
//!
//! - `ReversePath::parse` / `ForwardPath::parse`: the rest they return is a
//!   suffix of the input, and a parsed path re-parses from its `Display`
//!   form to the same path, with nothing left over.
//! - `Domain::parse`: a parsed domain re-parses from its `Display` form.
//! - `MailParams::parse` / `RcptParams::parse`: error messages are
//!   printable ASCII; a parsed `ORCPT` and `NOTIFY` re-parse from their
//!   `Display` forms; a parsed `SIZE` and `ENVID` survive re-parsing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mtakit_fuzz::is_printable_text;
use mtakit_proto::{Domain, ForwardPath, MailParams, ParamError, RcptParams, ReversePath};

fn check_param_error(e: &ParamError) {
    assert!(
        is_printable_text(e.message()) && !e.message().contains('\n'),
        "parameter error message is not printable: {e:?}"
    );
}

fn check_str(s: &str) {
    if let Ok((path, rest)) = ReversePath::parse(s) {
        assert!(s.ends_with(rest), "rest {rest:?} is not a suffix of {s:?}");
        let shown = path.to_string();
        assert_eq!(
            ReversePath::parse(&shown),
            Ok((path.clone(), "")),
            "reverse-path {s:?} displays as {shown:?}, which re-parses differently"
        );
        if let Some(m) = path.mailbox() {
            assert_eq!(shown, format!("<{m}>"));
        }
    }
    if let Ok((path, rest)) = ForwardPath::parse(s) {
        assert!(s.ends_with(rest), "rest {rest:?} is not a suffix of {s:?}");
        let shown = path.to_string();
        assert_eq!(
            ForwardPath::parse(&shown),
            Ok((path.clone(), "")),
            "forward-path {s:?} displays as {shown:?}, which re-parses differently"
        );
        // The same mailbox is a valid sender too.
        if let Some(m) = path.mailbox() {
            let (rp, _) = ReversePath::parse(&shown).expect("a mailbox is a valid sender");
            assert_eq!(rp.mailbox(), Some(m));
        }
    }
    if let Ok(domain) = Domain::parse(s) {
        let shown = domain.to_string();
        assert_eq!(
            Domain::parse(&shown).as_ref(),
            Ok(&domain),
            "domain {s:?} displays as {shown:?}, which re-parses differently"
        );
    }
    match MailParams::parse(s) {
        Ok(p) => {
            if let Some(size) = p.size {
                let again = MailParams::parse(&format!("SIZE={size}")).expect("SIZE re-parses");
                assert_eq!(again.size, Some(size));
            }
            if let Some(envid) = &p.envid {
                // ENVID is xtext-decoded; re-parse only plain values.
                if envid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.') {
                    let again = MailParams::parse(&format!("ENVID={envid}"))
                        .expect("plain ENVID re-parses");
                    assert_eq!(again.envid.as_deref(), Some(envid.as_str()));
                }
            }
        }
        Err(e) => check_param_error(&e),
    }
    match RcptParams::parse(s) {
        Ok(p) => {
            if let Some(notify) = p.notify {
                let text = format!("NOTIFY={notify}");
                let again = RcptParams::parse(&text).expect("NOTIFY re-parses");
                assert_eq!(again.notify, Some(notify), "{text:?}");
            }
            if let Some(orcpt) = &p.orcpt {
                let text = format!("ORCPT={orcpt}");
                match RcptParams::parse(&text) {
                    Ok(again) => assert_eq!(again.orcpt.as_ref(), Some(orcpt), "{text:?}"),
                    Err(e) => panic!("ORCPT {orcpt:?} displays as {text:?}: {e:?}"),
                }
            }
        }
        Err(e) => check_param_error(&e),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    check_str(s);
    // Multi-line seeds: each line on its own too.
    if s.contains('\n') {
        for line in s.lines() {
            check_str(line);
        }
    }
});
