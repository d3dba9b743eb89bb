use super::*;
use crate::Reply;

fn info(lines: &[&str]) -> EhloInfo {
    let reply = Reply::multiline(250, None, lines).expect("valid");
    EhloInfo::from_reply(&reply).expect("a 250")
}

#[test]
fn every_known_keyword_is_typed() {
    let cases: &[(&str, Extension)] = &[
        ("PIPELINING", Extension::Pipelining),
        ("pipelining", Extension::Pipelining),
        ("SIZE 1000", Extension::Size(Some(1000))),
        ("SIZE", Extension::Size(None)),
        ("SIZE big", Extension::Size(None)),
        ("SIZE 0", Extension::Size(Some(0))),
        ("8BITMIME", Extension::EightBitMime),
        ("SMTPUTF8", Extension::SmtpUtf8),
        ("CHUNKING", Extension::Chunking),
        ("BINARYMIME", Extension::BinaryMime),
        ("DSN", Extension::Dsn),
        ("STARTTLS", Extension::StartTls),
        ("ENHANCEDSTATUSCODES", Extension::EnhancedStatusCodes),
        (
            "AUTH PLAIN login  CRAM-MD5",
            Extension::Auth(vec!["PLAIN".into(), "LOGIN".into(), "CRAM-MD5".into()]),
        ),
        ("AUTH", Extension::Auth(vec![])),
        (
            "AUTH=LOGIN PLAIN",
            Extension::Auth(vec!["LOGIN".into(), "PLAIN".into()]),
        ),
        (
            "x-Vendor a b",
            Extension::Other {
                keyword: "X-VENDOR".into(),
                params: "a b".into(),
            },
        ),
        (
            "VRFY",
            Extension::Other {
                keyword: "VRFY".into(),
                params: String::new(),
            },
        ),
    ];
    for (line, expected) in cases {
        let got = info(&["mx", line]);
        assert_eq!(got.extensions(), std::slice::from_ref(expected), "{line:?}");
    }
}

#[test]
fn lines_that_are_not_keywords_are_skipped() {
    for line in ["", " PIPELINING", "-X", "HELLO!", "caf\u{e9}"] {
        assert!(info(&["mx", line]).extensions().is_empty(), "{line:?}");
    }
}

#[test]
fn accessors_answer_from_the_extensions() {
    let all = info(&[
        "mx.example greets you",
        "PIPELINING",
        "SIZE 52428800",
        "8BITMIME",
        "SMTPUTF8",
        "CHUNKING",
        "BINARYMIME",
        "DSN",
        "STARTTLS",
        "AUTH PLAIN",
        "AUTH LOGIN",
        "ENHANCEDSTATUSCODES",
    ]);
    assert_eq!(all.hostname(), "mx.example");
    assert!(all.pipelining() && all.eight_bit_mime() && all.smtp_utf8());
    assert!(all.chunking() && all.binary_mime() && all.dsn());
    assert!(all.starttls() && all.enhanced_status_codes());
    assert_eq!(all.max_size(), Some(52_428_800));
    assert_eq!(
        all.auth_mechanisms().collect::<Vec<_>>(),
        ["PLAIN", "LOGIN"]
    );
    assert!(all.supports_auth("login") && !all.supports_auth("XOAUTH2"));
    assert!(all.has("starttls") && !all.has("VRFY"));

    let none = info(&["mx"]);
    assert!(!none.pipelining() && !none.eight_bit_mime() && !none.smtp_utf8());
    assert!(!none.chunking() && !none.binary_mime() && !none.dsn());
    assert!(!none.starttls() && !none.enhanced_status_codes());
    assert_eq!(none.max_size(), None);
    assert_eq!(info(&["mx", "SIZE 0"]).max_size(), None);
    assert_eq!(none.auth_mechanisms().count(), 0);
}

#[test]
fn only_positive_replies_are_read() {
    for code in [421, 500, 502, 554] {
        let reply = Reply::new(code, None, "no").unwrap();
        assert_eq!(EhloInfo::from_reply(&reply), None, "{code}");
    }
    let bare = Reply::new(250, None, "").unwrap();
    assert_eq!(EhloInfo::from_reply(&bare).unwrap().hostname(), "");
}
