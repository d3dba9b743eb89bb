//! Unit tests for the MAIL and RCPT parameters in `params.rs`.

use super::*;

fn mail(size: Option<u64>, body: Option<Body>, smtputf8: bool, auth: Option<&str>) -> MailParams {
    MailParams {
        size,
        body,
        smtputf8,
        auth: auth.map(str::to_owned),
        ..MailParams::default()
    }
}

#[test]
fn mail_accepted() {
    let cases: Vec<(&str, MailParams)> = vec![
        ("", MailParams::default()),
        ("   ", MailParams::default()),
        ("SIZE=100", mail(Some(100), None, false, None)),
        ("size=100", mail(Some(100), None, false, None)),
        (" SIZE=0 ", mail(Some(0), None, false, None)),
        (
            "SIZE=18446744073709551615",
            mail(Some(u64::MAX), None, false, None),
        ),
        (
            "SIZE=00000000000000000001",
            mail(Some(1), None, false, None),
        ),
        ("BODY=7BIT", mail(None, Some(Body::SevenBit), false, None)),
        (
            "bOdY=8bitmime",
            mail(None, Some(Body::EightBitMime), false, None),
        ),
        (
            "BODY=BinaryMIME",
            mail(None, Some(Body::BinaryMime), false, None),
        ),
        ("SMTPUTF8", mail(None, None, true, None)),
        ("smtputf8", mail(None, None, true, None)),
        ("AUTH=<>", mail(None, None, false, Some("<>"))),
        (
            "AUTH=foo@example.com",
            mail(None, None, false, Some("foo@example.com")),
        ),
        (
            "AUTH=e+3Dmc2@example.com",
            mail(None, None, false, Some("e=mc2@example.com")),
        ),
        ("AUTH=a+2Bb+2bc@x", mail(None, None, false, Some("a+b+c@x"))),
        (
            "AUTH=üser@example.com",
            mail(None, None, false, Some("üser@example.com")),
        ),
        ("AUTH=+C3+BC@x", mail(None, None, false, Some("ü@x"))),
        (
            "  SIZE=10   BODY=8BITMIME  SMTPUTF8 AUTH=<>  ",
            mail(Some(10), Some(Body::EightBitMime), true, Some("<>")),
        ),
    ];
    for (input, want) in cases {
        assert_eq!(MailParams::parse(input), Ok(want), "{input:?}");
    }
    assert!(MailParams::parse(" ").unwrap().is_empty());
    assert!(!MailParams::parse("SMTPUTF8").unwrap().is_empty());
    assert!(!MailParams::parse("SIZE=0").unwrap().is_empty());
}

fn invalid(m: &str) -> ParamError {
    ParamError::Invalid(m.to_owned())
}

fn unknown(m: &str) -> ParamError {
    ParamError::Unknown(m.to_owned())
}

#[test]
fn mail_rejected() {
    let size = invalid("Invalid SIZE value");
    let cases: Vec<(&str, ParamError)> = vec![
        ("SIZE", size.clone()),
        ("SIZE=", invalid("Invalid arguments: \"SIZE=\"")),
        ("SIZE=-1", size.clone()),
        ("SIZE=fnord", size.clone()),
        ("SIZE=1.5", size.clone()),
        ("SIZE=+1", size.clone()),
        ("SIZE=99999999999999999999999", size.clone()),
        ("SIZE=18446744073709551616", size.clone()),
        ("SIZE=1 SIZE=2", invalid("Duplicate parameter SIZE")),
        ("size=1 Size=1", invalid("Duplicate parameter SIZE")),
        ("BODY", invalid("Invalid BODY value")),
        ("BODY=8BIT", invalid("Invalid BODY value")),
        ("BODY=7BIT BODY=7BIT", invalid("Duplicate parameter BODY")),
        ("SMTPUTF8=yes", invalid("SMTPUTF8 does not take a value")),
        ("SMTPUTF8 smtputf8", invalid("Duplicate parameter SMTPUTF8")),
        ("AUTH", invalid("Missing AUTH value")),
        ("AUTH=a+", invalid("Invalid AUTH value")),
        ("AUTH=a+4", invalid("Invalid AUTH value")),
        ("AUTH=a+GG", invalid("Invalid AUTH value")),
        ("AUTH=a+00b", invalid("Invalid AUTH value")),
        ("AUTH=a+0D+0Ab", invalid("Invalid AUTH value")),
        ("AUTH=a+FF", invalid("Invalid AUTH value")),
        ("AUTH=<> AUTH=<>", invalid("Duplicate parameter AUTH")),
        (
            "FNORD=INVALID",
            unknown("Invalid extension: \"FNORD=INVALID\""),
        ),
        ("SIZE=1 X-FOO", unknown("Invalid extension: \"X-FOO\"")),
        (
            "NOTIFY=NEVER",
            unknown("Invalid extension: \"NOTIFY=NEVER\""),
        ),
        (
            "ORCPT=rfc822;a@b",
            unknown("Invalid extension: \"ORCPT=rfc822;a@b\""),
        ),
        ("=x", invalid("Invalid arguments: \"=x\"")),
        ("-X=1", invalid("Invalid arguments: \"-X=1\"")),
        ("SIZE=1=2", invalid("Invalid arguments: \"SIZE=1=2\"")),
        ("S_IZE=1", invalid("Invalid arguments: \"S_IZE=1\"")),
        ("SIZE=1 <x@y>", invalid("Invalid arguments: \"<x@y>\"")),
        ("SÏZE=1", invalid("Invalid arguments: \"S\\u{cf}ZE=1\"")),
        ("SIZE=1\u{0}", invalid("Invalid character in parameters")),
        ("AUTH=a\u{0}b", invalid("Invalid character in parameters")),
        (
            "SIZE=1\tBODY=7BIT",
            invalid("Invalid character in parameters"),
        ),
        ("SIZE=1\r\n", invalid("Invalid character in parameters")),
        ("X=\u{85}", invalid("Invalid character in parameters")),
    ];
    for (input, want) in cases {
        assert_eq!(MailParams::parse(input), Err(want), "{input:?}");
    }
}

fn dsn_mail(ret: Option<Ret>, envid: Option<&str>) -> MailParams {
    MailParams {
        ret,
        envid: envid.map(str::to_owned),
        ..MailParams::default()
    }
}

#[test]
fn dsn_mail_accepted() {
    let full = Some(Ret::Full);
    let hdrs = Some(Ret::Headers);
    let max = "x".repeat(100);
    let max_input = format!("ENVID={max}");
    let max_encoded = format!("ENVID={}", "+2B".repeat(100));
    let max_plus = "+".repeat(100);
    let cases: Vec<(&str, MailParams)> = vec![
        ("RET=FULL", dsn_mail(full, None)),
        ("RET=HDRS", dsn_mail(hdrs, None)),
        ("ret=full", dsn_mail(full, None)),
        ("Ret=Hdrs", dsn_mail(hdrs, None)),
        ("ENVID=QQ314159", dsn_mail(None, Some("QQ314159"))),
        ("envid=a", dsn_mail(None, Some("a"))),
        ("ENVID=a+2Bb", dsn_mail(None, Some("a+b"))),
        ("ENVID=a+3Db", dsn_mail(None, Some("a=b"))),
        // Lower-case hex is accepted, as for AUTH.
        ("ENVID=a+2bb", dsn_mail(None, Some("a+b"))),
        ("ENVID=+21+7E", dsn_mail(None, Some("!~"))),
        ("ENVID=<id@host>", dsn_mail(None, Some("<id@host>"))),
        (&max_input, dsn_mail(None, Some(&max))),
        (&max_encoded, dsn_mail(None, Some(&max_plus))),
        (" RET=HDRS  ENVID=x ", dsn_mail(hdrs, Some("x"))),
        (
            "SIZE=5 RET=FULL BODY=8BITMIME ENVID=e AUTH=<> SMTPUTF8",
            MailParams {
                ret: full,
                envid: Some("e".to_owned()),
                ..mail(Some(5), Some(Body::EightBitMime), true, Some("<>"))
            },
        ),
    ];
    for (input, want) in cases {
        assert_eq!(MailParams::parse(input), Ok(want), "{input:?}");
    }
    assert!(!MailParams::parse("RET=FULL").unwrap().is_empty());
    assert!(!MailParams::parse("ENVID=x").unwrap().is_empty());
}

#[test]
fn dsn_mail_rejected() {
    let ret = invalid("Invalid RET value");
    let envid = invalid("Invalid ENVID value");
    let long = format!("ENVID={}", "x".repeat(101));
    let long_encoded = format!("ENVID={}", "+2B".repeat(101));
    let cases: Vec<(&str, ParamError)> = vec![
        ("RET", ret.clone()),
        ("RET=", invalid("Invalid arguments: \"RET=\"")),
        ("RET=ALL", ret.clone()),
        ("RET=HEADERS", ret.clone()),
        ("RET=FULLHDRS", ret.clone()),
        ("RET=FULL,HDRS", ret.clone()),
        ("RET=FULL RET=HDRS", invalid("Duplicate parameter RET")),
        ("ret=full RET=FULL", invalid("Duplicate parameter RET")),
        ("ENVID", envid.clone()),
        ("ENVID=", invalid("Invalid arguments: \"ENVID=\"")),
        ("ENVID=a+0Db", envid.clone()),
        ("ENVID=+0D", envid.clone()),
        ("ENVID=+0D+0A", envid.clone()),
        ("ENVID=a+00", envid.clone()),
        ("ENVID=a+7F", envid.clone()),
        ("ENVID=a+20b", envid.clone()),
        ("ENVID=a+09b", envid.clone()),
        ("ENVID=ü", envid.clone()),
        ("ENVID=+C3+BC", envid.clone()),
        ("ENVID=a+FF", envid.clone()),
        ("ENVID=a+G1", envid.clone()),
        ("ENVID=a+4", envid.clone()),
        ("ENVID=a+", envid.clone()),
        ("ENVID=+", envid.clone()),
        (&long, envid.clone()),
        (&long_encoded, envid.clone()),
        ("ENVID=a ENVID=a", invalid("Duplicate parameter ENVID")),
        ("ENVID=a=b", invalid("Invalid arguments: \"ENVID=a=b\"")),
        ("ENVID=a\u{0}", invalid("Invalid character in parameters")),
    ];
    for (input, want) in cases {
        assert_eq!(MailParams::parse(input), Err(want), "{input:?}");
    }
}

fn rcpt(notify: Option<Notify>, orcpt: Option<(&str, &str)>) -> RcptParams {
    RcptParams {
        notify,
        orcpt: orcpt.map(|(t, a)| Orcpt::new(t, a)),
    }
}

#[test]
fn rcpt_accepted() {
    let n = |s, f, d| Some(Notify::new(s, f, d));
    let never = Some(Notify::never());
    let max = format!("{}@b", "a".repeat(498));
    let max_input = format!("ORCPT=rfc822;{max}");
    let max_utf8 = "ü".repeat(250);
    let max_utf8_encoded = format!("ORCPT=rfc822;{}", "+C3+BC".repeat(250));
    let cases: Vec<(&str, RcptParams)> = vec![
        ("", RcptParams::default()),
        ("   ", RcptParams::default()),
        ("NOTIFY=NEVER", rcpt(never, None)),
        ("notify=never", rcpt(never, None)),
        ("NOTIFY=SUCCESS", rcpt(n(true, false, false), None)),
        ("NOTIFY=FAILURE", rcpt(n(false, true, false), None)),
        ("NOTIFY=DELAY", rcpt(n(false, false, true), None)),
        ("NOTIFY=success,failure", rcpt(n(true, true, false), None)),
        ("NOTIFY=Delay,Failure", rcpt(n(false, true, true), None)),
        (
            "NOTIFY=DELAY,SUCCESS,FAILURE",
            rcpt(n(true, true, true), None),
        ),
        ("ORCPT=rfc822;a@b.c", rcpt(None, Some(("rfc822", "a@b.c")))),
        ("orcpt=RFC822;A@B.C", rcpt(None, Some(("RFC822", "A@B.C")))),
        (
            "ORCPT=rfc822;a+2Bb@c",
            rcpt(None, Some(("rfc822", "a+b@c"))),
        ),
        // Lower-case hex is accepted, as for AUTH.
        (
            "ORCPT=rfc822;a+2bb@c",
            rcpt(None, Some(("rfc822", "a+b@c"))),
        ),
        (
            "ORCPT=rfc822;\"a+20b\"@c",
            rcpt(None, Some(("rfc822", "\"a b\"@c"))),
        ),
        (
            "ORCPT=rfc822;a+3Db;c",
            rcpt(None, Some(("rfc822", "a=b;c"))),
        ),
        ("ORCPT=rfc822;+C3+BC@x", rcpt(None, Some(("rfc822", "ü@x")))),
        // `\x{...}` is only an escape for utf-8.
        (
            "ORCPT=rfc822;\\x{41}@b",
            rcpt(None, Some(("rfc822", "\\x{41}@b"))),
        ),
        (
            "ORCPT=x-local;local-user",
            rcpt(None, Some(("x-local", "local-user"))),
        ),
        (
            "ORCPT=utf-8;\\x{E9}t\\x{e9}@example.com",
            rcpt(None, Some(("utf-8", "été@example.com"))),
        ),
        (
            "ORCPT=UTF-8;\\x{1F600}\\x{5C}\\x{2B}@x",
            rcpt(None, Some(("UTF-8", "😀\\+@x"))),
        ),
        (
            "ORCPT=utf-8;été@example.com",
            rcpt(None, Some(("utf-8", "été@example.com"))),
        ),
        ("ORCPT=utf-8;a+2Bb@c", rcpt(None, Some(("utf-8", "a+b@c")))),
        (&max_input, rcpt(None, Some(("rfc822", &max)))),
        (&max_utf8_encoded, rcpt(None, Some(("rfc822", &max_utf8)))),
        (
            " NOTIFY=SUCCESS   ORCPT=rfc822;a@b ",
            rcpt(n(true, false, false), Some(("rfc822", "a@b"))),
        ),
        (
            "ORCPT=rfc822;a@b NOTIFY=NEVER",
            rcpt(never, Some(("rfc822", "a@b"))),
        ),
    ];
    for (input, want) in cases {
        assert_eq!(RcptParams::parse(input), Ok(want), "{input:?}");
    }
    assert!(RcptParams::parse(" ").unwrap().is_empty());
    assert!(RcptParams::default().is_empty());
    assert!(!RcptParams::parse("NOTIFY=NEVER").unwrap().is_empty());
    assert!(!RcptParams::parse("ORCPT=rfc822;a").unwrap().is_empty());
}

#[test]
fn rcpt_rejected() {
    let notify = invalid("Invalid NOTIFY value");
    let orcpt = invalid("Invalid ORCPT value");
    let long = format!("ORCPT=rfc822;{}@b", "a".repeat(499));
    let long_utf8 = format!("ORCPT=utf-8;a{}", "\\x{FC}".repeat(250));
    let cases: Vec<(&str, ParamError)> = vec![
        ("NOTIFY", notify.clone()),
        ("NOTIFY=", invalid("Invalid arguments: \"NOTIFY=\"")),
        ("NOTIFY=FOO", notify.clone()),
        ("NOTIFY=NEVER,SUCCESS", notify.clone()),
        ("NOTIFY=SUCCESS,NEVER", notify.clone()),
        ("NOTIFY=NEVER,NEVER", notify.clone()),
        ("NOTIFY=SUCCESS,SUCCESS", notify.clone()),
        ("NOTIFY=failure,FAILURE", notify.clone()),
        ("NOTIFY=SUCCESS,", notify.clone()),
        ("NOTIFY=,SUCCESS", notify.clone()),
        ("NOTIFY=SUCCESS,,DELAY", notify.clone()),
        ("NOTIFY=,", notify.clone()),
        ("NOTIFY=SUCCESS;FAILURE", notify.clone()),
        ("NOTIFY=SUCCESS,FAILURE,DELAY,FOO", notify.clone()),
        (
            "NOTIFY=NEVER NOTIFY=NEVER",
            invalid("Duplicate parameter NOTIFY"),
        ),
        (
            "notify=delay NOTIFY=SUCCESS",
            invalid("Duplicate parameter NOTIFY"),
        ),
        ("ORCPT", orcpt.clone()),
        ("ORCPT=", invalid("Invalid arguments: \"ORCPT=\"")),
        ("ORCPT=rfc822", orcpt.clone()),
        ("ORCPT=a@b", orcpt.clone()),
        ("ORCPT=;a@b", orcpt.clone()),
        ("ORCPT=rfc822;", orcpt.clone()),
        ("ORCPT=rf(c);a@b", orcpt.clone()),
        ("ORCPT=rf@c;a@b", orcpt.clone()),
        ("ORCPT=rfc.822;a@b", orcpt.clone()),
        ("ORCPT=ü;a@b", orcpt.clone()),
        ("ORCPT=rfc822;a+0Db", orcpt.clone()),
        ("ORCPT=rfc822;a+0D+0Ab", orcpt.clone()),
        ("ORCPT=rfc822;a+00b", orcpt.clone()),
        ("ORCPT=rfc822;a+7F", orcpt.clone()),
        ("ORCPT=rfc822;a+C2+85", orcpt.clone()),
        ("ORCPT=rfc822;a+FF", orcpt.clone()),
        ("ORCPT=rfc822;a+G1", orcpt.clone()),
        ("ORCPT=rfc822;a+4", orcpt.clone()),
        ("ORCPT=rfc822;a+", orcpt.clone()),
        ("ORCPT=utf-8;a\\x{D800}", orcpt.clone()),
        ("ORCPT=utf-8;a\\x{110000}", orcpt.clone()),
        ("ORCPT=utf-8;a\\x{0000041}", orcpt.clone()),
        ("ORCPT=utf-8;a\\x{}", orcpt.clone()),
        ("ORCPT=utf-8;a\\x{41", orcpt.clone()),
        ("ORCPT=utf-8;a\\x{4G}", orcpt.clone()),
        ("ORCPT=utf-8;a\\x41", orcpt.clone()),
        ("ORCPT=utf-8;a\\X{41}", orcpt.clone()),
        ("ORCPT=utf-8;a\\y", orcpt.clone()),
        ("ORCPT=utf-8;a\\", orcpt.clone()),
        ("ORCPT=utf-8;a\\x{D}b", orcpt.clone()),
        ("ORCPT=utf-8;a\\x{0}b", orcpt.clone()),
        ("ORCPT=utf-8;a\\x{85}b", orcpt.clone()),
        ("ORCPT=utf-8;a+0Db", orcpt.clone()),
        (&long, orcpt.clone()),
        (&long_utf8, orcpt.clone()),
        (
            "ORCPT=rfc822;a ORCPT=rfc822;b",
            invalid("Duplicate parameter ORCPT"),
        ),
        (
            "ORCPT=rfc822;a=b",
            invalid("Invalid arguments: \"ORCPT=rfc822;a=b\""),
        ),
        (
            "ORCPT=rfc822;a\rb",
            invalid("Invalid character in parameters"),
        ),
        ("FOO=BAR", unknown("Invalid extension: \"FOO=BAR\"")),
        (
            "NOTIFY=NEVER FOO=BAR",
            unknown("Invalid extension: \"FOO=BAR\""),
        ),
        ("RET=FULL", unknown("Invalid extension: \"RET=FULL\"")),
        ("ENVID=x", unknown("Invalid extension: \"ENVID=x\"")),
        ("SIZE=1", unknown("Invalid extension: \"SIZE=1\"")),
        ("FOO", unknown("Invalid extension: \"FOO\"")),
        ("=", invalid("Invalid arguments: \"=\"")),
        ("FOO=", invalid("Invalid arguments: \"FOO=\"")),
        ("FOO=\u{0}", invalid("Invalid character in parameters")),
        ("FOO=a\u{7f}", invalid("Invalid character in parameters")),
        ("FOO=1 =x", invalid("Invalid arguments: \"=x\"")),
        ("NOTIFY=NEVER =x", invalid("Invalid arguments: \"=x\"")),
    ];
    for (input, want) in cases {
        assert_eq!(RcptParams::parse(input), Err(want), "{input:?}");
    }
}

#[test]
fn dsn_display() {
    assert_eq!(Ret::Full.to_string(), "FULL");
    assert_eq!(Ret::Headers.to_string(), "HDRS");
    assert_eq!(Ret::Headers.as_str(), "HDRS");
    let cases = [
        (Notify::never(), "NEVER"),
        (Notify::new(true, false, false), "SUCCESS"),
        (Notify::new(false, true, false), "FAILURE"),
        (Notify::new(false, false, true), "DELAY"),
        (Notify::new(true, true, false), "SUCCESS,FAILURE"),
        (Notify::new(false, true, true), "FAILURE,DELAY"),
        (Notify::new(true, false, true), "SUCCESS,DELAY"),
        (Notify::new(true, true, true), "SUCCESS,FAILURE,DELAY"),
    ];
    for (notify, want) in cases {
        assert_eq!(notify.to_string(), want);
        assert_eq!(notify.is_never(), want == "NEVER");
    }
    assert_eq!(
        Orcpt::new("rfc822", "a+b=c d@ü").to_string(),
        "rfc822;a+2Bb+3Dc+20d@+C3+BC"
    );
    assert_eq!(
        Orcpt::new("UTF-8", "a+b=c\\d@ü😀").to_string(),
        "UTF-8;a\\x{2B}b\\x{3D}c\\x{5C}d@\\x{FC}\\x{1F600}"
    );
    assert!(Orcpt::new("Utf-8", "x").is_utf8());
    assert!(!Orcpt::new("utf8", "x").is_utf8());
}

#[test]
fn messages() {
    let e = MailParams::parse("FNORD=INVALID").unwrap_err();
    assert_eq!(e.message(), "Invalid extension: \"FNORD=INVALID\"");
    assert_eq!(e.to_string(), e.message());
    let long = format!("X={}", "a".repeat(500));
    let e = MailParams::parse(&long).unwrap_err();
    assert!(e.message().len() < 100, "{}", e.message());
    assert!(e.message().ends_with("...\""));
    let e = MailParams::parse("X=ü").unwrap_err();
    assert!(e.message().is_ascii());
    assert_eq!(Body::EightBitMime.to_string(), "8BITMIME");
}
