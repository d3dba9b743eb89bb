//! Unit tests for the typed replies in `reply.rs`.

use super::*;

fn wire(r: &Reply) -> String {
    r.to_string()
}

#[test]
fn codes_are_checked() {
    assert_eq!(
        Reply::new(199, None, "x"),
        Err(ReplyError::InvalidCode(199))
    );
    assert_eq!(
        Reply::new(600, None, "x"),
        Err(ReplyError::InvalidCode(600))
    );
    assert!(Reply::new(200, None, "x").is_ok());
    assert!(Reply::new(599, None, "x").is_ok());
}

#[test]
fn enhanced_class_must_agree() {
    let e5 = EnhancedCode::new(5, 1, 1).unwrap();
    assert_eq!(
        Reply::new(250, Some(e5), "x"),
        Err(ReplyError::EnhancedMismatch)
    );
    assert_eq!(
        Reply::new(354, Some(EnhancedCode::SUCCESS), "x"),
        Err(ReplyError::EnhancedMismatch)
    );
    assert!(Reply::new(550, Some(e5), "x").is_ok());
    assert!(EnhancedCode::new(3, 0, 0).is_none());
    assert!(EnhancedCode::new(2, 1000, 0).is_none());
}

#[test]
fn text_injection_is_refused() {
    for bad in ["a\rb", "a\nb", "a\0b", "OK\r\n250 fake"] {
        assert_eq!(
            Reply::new(250, None, bad),
            Err(ReplyError::ForbiddenCharacter)
        );
        assert_eq!(
            Reply::multiline(250, None, ["ok", bad]),
            Err(ReplyError::ForbiddenCharacter)
        );
    }
}

#[test]
fn multiline_wire_form_repeats_codes() {
    let r = Reply::multiline(552, Some(EnhancedCode::TOO_BIG), ["Go away", "Evil IP"]).unwrap();
    assert_eq!(wire(&r), "552-5.3.4 Go away\r\n552 5.3.4 Evil IP\r\n");
    assert_eq!(r.lines().collect::<Vec<_>>(), ["Go away", "Evil IP"]);
}

#[test]
fn empty_text_has_no_trailing_space_after_enhanced() {
    let r = Reply::new(334, None, "").unwrap();
    assert_eq!(wire(&r), "334 \r\n");
}

#[test]
fn long_lines_are_split_at_512_octets() {
    let text = "x".repeat(2000);
    let r = Reply::new(250, Some(EnhancedCode::SUCCESS), text.clone()).unwrap();
    let w = wire(&r);
    let lines: Vec<&str> = w.split_inclusive("\r\n").collect();
    assert!(lines.len() >= 4);
    for l in &lines {
        assert!(l.len() <= MAX_REPLY_LINE, "line of {} octets", l.len());
    }
    let rebuilt: String = lines.iter().map(|l| &l[10..l.len() - 2]).collect();
    assert_eq!(rebuilt, text);
    assert!(
        lines[..lines.len() - 1]
            .iter()
            .all(|l| l.starts_with("250-"))
    );
    assert!(lines.last().unwrap().starts_with("250 "));
}

#[test]
fn parse_round_trips() {
    let cases = [
        Reply::new(250, Some(EnhancedCode::SENDER_OK), "OK").unwrap(),
        Reply::multiline(250, None, ["localhost", "PIPELINING", "SIZE 100"]).unwrap(),
        Reply::new(334, None, "VXNlcm5hbWU6").unwrap(),
        Reply::multiline(550, Some(EnhancedCode::NOT_AUTHORIZED), ["a", "b c"]).unwrap(),
    ];
    for r in cases {
        let w = wire(&r);
        let (parsed, used) = Reply::parse(w.as_bytes()).unwrap().unwrap();
        assert_eq!(used, w.len());
        assert_eq!(parsed, r);
    }
}

#[test]
fn parse_needs_complete_input_and_rejects_garbage() {
    assert_eq!(Reply::parse(b"250-a\r\n250 b"), Ok(None));
    assert_eq!(Reply::parse(b"250"), Ok(None));
    assert!(Reply::parse(b"25x ok\r\n").is_err());
    assert!(Reply::parse(b"250-a\r\n251 b\r\n").is_err());
    assert!(Reply::parse(b"250xok\r\n").is_err());
    assert!(Reply::parse(b"\r\n").is_err());
}

#[test]
fn enhanced_code_parsing() {
    assert_eq!(
        EnhancedCode::parse("5.7.11"),
        Some(EnhancedCode::ENCRYPTION_REQUIRED)
    );
    assert_eq!(EnhancedCode::parse("5.7"), None);
    assert_eq!(EnhancedCode::parse("5.7.1.1"), None);
    assert_eq!(EnhancedCode::parse("55.7.1"), None);
    assert_eq!(EnhancedCode::parse("5.x.1"), None);
    assert_eq!(EnhancedCode::SUCCESS.to_string(), "2.0.0");
}

#[test]
fn closing_replies() {
    assert!(Reply::new(221, None, "bye").unwrap().is_closing());
    assert!(Reply::new(421, None, "bye").unwrap().is_closing());
    assert!(!Reply::new(250, None, "ok").unwrap().is_closing());
}

#[test]
fn from_str_reads_the_human_form() {
    let r: Reply = "550 5.1.1 No such user".parse().unwrap();
    assert_eq!((r.code().get(), r.text()), (550, "No such user"));
    assert_eq!(r.enhanced(), EnhancedCode::parse("5.1.1"));
    let r: Reply = "250 OK".parse().unwrap();
    assert_eq!((r.enhanced(), r.text()), (None, "OK"));
    let r: Reply = "421".parse().unwrap();
    assert_eq!((r.code().get(), r.text()), (421, ""));
    let r: Reply = "452 4.2.2".parse().unwrap();
    assert_eq!((r.enhanced(), r.text()), (EnhancedCode::parse("4.2.2"), ""));
    let r: Reply = "553 5.7.1 Go away\nEvil IP".parse().unwrap();
    assert_eq!(r.lines().collect::<Vec<_>>(), ["Go away", "Evil IP"]);
    for text in ["550 5.1.1 x", "250 OK", "421", "553 5.7.1 a\nb"] {
        assert_eq!(text.parse::<Reply>().unwrap().to_text(), text);
    }
}

#[test]
fn from_str_refuses_what_reply_new_refuses() {
    assert_eq!("hello".parse::<Reply>(), Err(ReplyError::NoCode));
    assert_eq!("55 x".parse::<Reply>(), Err(ReplyError::NoCode));
    assert_eq!("+50 x".parse::<Reply>(), Err(ReplyError::NoCode));
    assert_eq!("700 x".parse::<Reply>(), Err(ReplyError::InvalidCode(700)));
    assert_eq!(
        "550 4.1.1 x".parse::<Reply>(),
        Err(ReplyError::EnhancedMismatch)
    );
    assert_eq!(
        "550 a\r\n250 b".parse::<Reply>(),
        Err(ReplyError::ForbiddenCharacter)
    );
    assert_eq!(
        "550 a\0".parse::<Reply>(),
        Err(ReplyError::ForbiddenCharacter)
    );
}

#[test]
fn named_constructors_are_valid_replies() {
    let ip: std::net::IpAddr = "2001:db8::1".parse().unwrap();
    for (reply, text) in [
        (Reply::ok(), "250 2.0.0 OK"),
        (
            Reply::temporary_failure(),
            "451 4.3.0 Temporary local problem, please try again",
        ),
        (
            Reply::insufficient_storage(),
            "452 4.3.1 Insufficient system storage, try again later",
        ),
        (
            Reply::too_many_connections(),
            "421 4.3.2 Too many connections",
        ),
        (
            Reply::too_many_connections_from(ip),
            "421 4.7.0 Error: too many connections from 2001:db8::1",
        ),
        (Reply::no_such_user(), "550 5.1.1 No such user here"),
        (Reply::relaying_denied(), "550 5.7.1 Relaying denied"),
    ] {
        // Each passes the checks of the fallible constructors.
        assert_eq!(text.parse::<Reply>().unwrap(), reply, "{text}");
        assert_eq!(reply.to_text(), text);
    }
}
