//! Unit tests for the command parser in `command.rs`.

use super::*;

fn code(line: &[u8]) -> u16 {
    Command::parse(line).unwrap_err().reply().code().get()
}

#[test]
fn verbs_are_case_insensitive() {
    for line in [&b"QUIT"[..], b"quit", b"QuIt", b"QUIT "] {
        assert_eq!(Command::parse(line), Ok(Command::Quit));
    }
    assert_eq!(Command::parse(b"rset"), Ok(Command::Rset));
    assert_eq!(Command::parse(b"DATA"), Ok(Command::Data));
    assert_eq!(Command::parse(b"starttls"), Ok(Command::StartTls));
}

#[test]
fn helo_takes_one_domain() {
    assert!(matches!(
        Command::parse(b"HELO foo.example.com"),
        Ok(Command::Helo(_))
    ));
    assert!(matches!(
        Command::parse(b"HELO   foo.example.com   "),
        Ok(Command::Helo(_))
    ));
    assert!(matches!(
        Command::parse(b"helo [127.0.0.1]"),
        Ok(Command::Helo(_))
    ));
    assert!(matches!(
        Command::parse(b"EHLO localhost"),
        Ok(Command::Ehlo(_))
    ));
    for bad in [
        &b"HELO"[..],
        b"HELO ",
        b"HELO   ",
        b"HELO foo bar",
        b"EHLO a b c",
    ] {
        assert_eq!(code(bad), 501, "{}", String::from_utf8_lossy(bad));
    }
    assert_eq!(code(b"EHLO [300.1.1.1]"), 501);
}

#[test]
fn mail_and_rcpt_paths() {
    for line in [
        &b"MAIL FROM:<foo@example.com>"[..],
        b"MAIL FROM: <foo@example.com>",
        b"mail from:foo@example.com",
        b"MAIL FROM:  foo@example.com   ",
    ] {
        match Command::parse(line) {
            Ok(Command::Mail {
                reverse_path,
                has_params: false,
                ..
            }) => {
                assert_eq!(reverse_path.to_string(), "<foo@example.com>");
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(matches!(
        Command::parse(b"MAIL FROM:<>"),
        Ok(Command::Mail {
            reverse_path: ReversePath::Null,
            ..
        })
    ));
    match Command::parse(b"MAIL FROM:<a@b.c> SIZE=1000 BODY=8BITMIME") {
        Ok(Command::Mail {
            params,
            has_params: true,
            ..
        }) => {
            assert_eq!(params.size, Some(1000));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        Command::parse(b"RCPT TO:<Postmaster>"),
        Ok(Command::Rcpt {
            forward_path: ForwardPath::Postmaster,
            ..
        })
    ));
    assert_eq!(code(b"MAIL <a@b.c>"), 501);
    assert_eq!(code(b"MAIL FROM <a@b.c>"), 501);
    assert_eq!(code(b"MAIL FROM:"), 501);
    assert_eq!(code(b"MAIL FROM:<foo@@bar>"), 501);
    assert_eq!(code(b"RCPT TO:foo@example.com, bar@example.com"), 501);
    assert_eq!(code(b"MAIL FROM:<a@b.c> FNORD=INVALID"), 555);
    assert_eq!(code(b"MAIL FROM:<a@b.c> SIZE=fnord"), 501);
    assert_eq!(code(b"RCPT TO:<a@b.c> FOO=BAR"), 555);
    assert_eq!(code(b"MAIL FROM:<a@b.c>SIZE=10"), 501);
}

#[test]
fn path_errors_use_sender_and_recipient_codes() {
    let e = Command::parse(b"MAIL FROM:<foo@@bar>").unwrap_err().reply();
    assert_eq!(e.enhanced(), Some(EnhancedCode::BAD_SENDER_SYNTAX));
    let e = Command::parse(b"RCPT TO:<foo@@bar>").unwrap_err().reply();
    assert_eq!(e.enhanced(), Some(EnhancedCode::BAD_DESTINATION_SYNTAX));
}

#[test]
fn utf8_only_in_mail_and_rcpt() {
    assert!(Command::parse("MAIL FROM:<üser@exämple.com> SMTPUTF8".as_bytes()).is_ok());
    assert!(Command::parse("RCPT TO:<üser@exämple.com>".as_bytes()).is_ok());
    assert_eq!(code("HELO exämple.com".as_bytes()), 501);
    assert_eq!(code("NOOP ä".as_bytes()), 501);
    assert_eq!(code(b"MAIL FROM:<\xff@a.b>"), 501);
}

#[test]
fn control_characters_and_nul_are_refused() {
    for bad in [
        &b"MAIL FROM:<a\x00b@a.test>"[..],
        b"EHLO a\x00b",
        b"RCPT TO:<r@b.test>\x00",
        b"HELO a\x1b[31m",
        b"EHLO a.test\rX-Injected: yes",
        b"NOOP\x7f",
    ] {
        let r = Command::parse(bad).unwrap_err().reply();
        assert_eq!(r.code().get(), 501);
        assert_eq!(r.enhanced(), Some(EnhancedCode::SYNTAX));
    }
}

#[test]
fn unknown_and_unimplemented_verbs() {
    let r = Command::parse(b"invalid").unwrap_err().reply();
    assert_eq!(
        r.to_string(),
        "500 5.5.2 unrecognized command \"invalid\"\r\n"
    );
    assert_eq!(code(b"FOO bar"), 500);
    assert_eq!(code(b""), 500);
    assert_eq!(code(b" HELO x"), 500);
    assert_eq!(code(b"TURN"), 502);
    let long = Command::parse(&[b'X'; 100]).unwrap_err().reply();
    assert!(long.text().len() < 60);
}

#[test]
fn bdat_and_lhlo() {
    assert_eq!(
        Command::parse(b"BDAT 100"),
        Ok(Command::Bdat {
            size: 100,
            last: false
        })
    );
    assert_eq!(
        Command::parse(b"bdat 0 last"),
        Ok(Command::Bdat {
            size: 0,
            last: true
        })
    );
    assert_eq!(
        Command::parse(b"BDAT 5 LAST "),
        Ok(Command::Bdat {
            size: 5,
            last: true
        })
    );
    for bad in [
        &b"BDAT"[..],
        b"BDAT x",
        b"BDAT -1",
        b"BDAT 1 FIRST",
        b"BDAT 1 LAST x",
        b"BDAT 99999999999999999999999",
    ] {
        assert_eq!(code(bad), 501, "{}", String::from_utf8_lossy(bad));
    }
    assert!(matches!(
        Command::parse(b"LHLO client.example"),
        Ok(Command::Lhlo(_))
    ));
    assert_eq!(code(b"LHLO"), 501);
}

#[test]
fn argument_rules() {
    assert_eq!(code(b"DATA invalid"), 501);
    assert_eq!(code(b"RSET foo"), 501);
    assert_eq!(code(b"QUIT invalid"), 501);
    assert_eq!(code(b"STARTTLS now"), 501);
    assert_eq!(
        Command::parse(b"STARTTLS now").unwrap_err().reply().text(),
        "Syntax: STARTTLS"
    );
    assert_eq!(Command::parse(b"NOOP anything at all"), Ok(Command::Noop));
    assert_eq!(Command::parse(b"HELP"), Ok(Command::Help(None)));
    assert_eq!(
        Command::parse(b"HELP mail"),
        Ok(Command::Help(Some("mail".into())))
    );
    assert_eq!(Command::parse(b"VRFY bob"), Ok(Command::Vrfy("bob".into())));
    assert_eq!(code(b"VRFY"), 501);
    assert_eq!(code(b"EXPN"), 501);
}

#[test]
fn auth_arguments() {
    assert_eq!(
        Command::parse(b"AUTH plain AGZvbwBiYXI="),
        Ok(Command::Auth {
            mechanism: "PLAIN".into(),
            initial_response: Some("AGZvbwBiYXI=".into())
        })
    );
    assert_eq!(
        Command::parse(b"AUTH LOGIN"),
        Ok(Command::Auth {
            mechanism: "LOGIN".into(),
            initial_response: None
        })
    );
    assert_eq!(code(b"AUTH"), 501);
    assert_eq!(code(b"AUTH PLAIN a b"), 501);
}

#[test]
fn never_panics_on_any_line() {
    use proptest::prelude::*;
    proptest!(|(line in proptest::collection::vec(any::<u8>(), 0..300))| {
        if let Err(e) = Command::parse(&line) {
            let r = e.reply();
            prop_assert!(r.code().is_permanent());
        }
    });
}
