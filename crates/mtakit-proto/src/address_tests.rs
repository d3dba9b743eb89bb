//! Unit tests for the paths and mailboxes in `address.rs`.

use super::*;
use proptest::prelude::*;

fn name(s: &str) -> Domain {
    Domain::Name(s.into())
}

fn mb(local: &str, domain: Domain) -> Mailbox {
    Mailbox::new(local, domain)
}

#[test]
fn accepted_paths() {
    let v4 = Domain::Literal(AddressLiteral::Ipv4(Ipv4Addr::new(192, 0, 2, 1)));
    let v6 = Domain::Literal(AddressLiteral::Ipv6("2001:db8::1".parse().unwrap()));
    let cases: Vec<(&str, Mailbox, &str, &str)> = vec![
        // input, mailbox, rest, displayed path
        (
            "<foo@example.com>",
            mb("foo", name("example.com")),
            "",
            "<foo@example.com>",
        ),
        (
            "foo@example.com",
            mb("foo", name("example.com")),
            "",
            "<foo@example.com>",
        ),
        (
            "  foo@example.com SIZE=1",
            mb("foo", name("example.com")),
            " SIZE=1",
            "<foo@example.com>",
        ),
        (
            "<\"john doe\"@example.com>",
            mb("\"john doe\"", name("example.com")),
            "",
            "<\"john doe\"@example.com>",
        ),
        (
            "<\"a\\\"b\"@example.com>",
            mb("\"a\\\"b\"", name("example.com")),
            "",
            "<\"a\\\"b\"@example.com>",
        ),
        (
            "<\"a>b\"@example.com>",
            mb("\"a>b\"", name("example.com")),
            "",
            "<\"a>b\"@example.com>",
        ),
        (
            "<\"\"@example.com>",
            mb("\"\"", name("example.com")),
            "",
            "<\"\"@example.com>",
        ),
        (
            "<user@[192.0.2.1]>",
            mb("user", v4.clone()),
            "",
            "<user@[192.0.2.1]>",
        ),
        (
            "<user@[192.000.002.001]>",
            mb("user", v4),
            "",
            "<user@[192.0.2.1]>",
        ),
        (
            "<user@[IPv6:2001:db8::1]>",
            mb("user", v6.clone()),
            "",
            "<user@[IPv6:2001:db8::1]>",
        ),
        (
            "<user@[ipv6:2001:DB8::1]>",
            mb("user", v6),
            "",
            "<user@[IPv6:2001:db8::1]>",
        ),
        (
            "<user@[x-tag:abc:def]>",
            mb(
                "user",
                Domain::Literal(AddressLiteral::General {
                    tag: "x-tag".into(),
                    content: "abc:def".into(),
                }),
            ),
            "",
            "<user@[x-tag:abc:def]>",
        ),
        (
            "<@relay.example:user@example.com>",
            mb("user", name("example.com")),
            "",
            "<user@example.com>",
        ),
        (
            "<@a.example,@b.example:user@host>",
            mb("user", name("host")),
            "",
            "<user@host>",
        ),
        (
            "<A+b.c-d_e@Example.COM>",
            mb("A+b.c-d_e", name("Example.COM")),
            "",
            "<A+b.c-d_e@Example.COM>",
        ),
        (
            "<üser@exämple.com>",
            mb("üser", name("exämple.com")),
            "",
            "<üser@exämple.com>",
        ),
        ("foo@bar", mb("foo", name("bar")), "", "<foo@bar>"),
        (
            "<foo@my_host.example>",
            mb("foo", name("my_host.example")),
            "",
            "<foo@my_host.example>",
        ),
        (
            "<a@b.c> SIZE=10",
            mb("a", name("b.c")),
            " SIZE=10",
            "<a@b.c>",
        ),
        (
            "<\"x y\"@b.c> BODY=8BITMIME",
            mb("\"x y\"", name("b.c")),
            " BODY=8BITMIME",
            "<\"x y\"@b.c>",
        ),
        (
            "\"x y\"@b.c BODY=8BITMIME",
            mb("\"x y\"", name("b.c")),
            " BODY=8BITMIME",
            "<\"x y\"@b.c>",
        ),
        (
            "<!#$%&'*+-/=?^_`{|}~@x.y>",
            mb("!#$%&'*+-/=?^_`{|}~", name("x.y")),
            "",
            "<!#$%&'*+-/=?^_`{|}~@x.y>",
        ),
        (
            "<postmaster@example.com>",
            mb("postmaster", name("example.com")),
            "",
            "<postmaster@example.com>",
        ),
    ];
    for (input, mailbox, rest, shown) in cases {
        let (fp, r) = ForwardPath::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e:?}"));
        assert_eq!(fp, ForwardPath::Mailbox(mailbox.clone()), "{input:?}");
        assert_eq!(r, rest, "{input:?}");
        assert_eq!(fp.to_string(), shown, "{input:?}");
        let (rp, r) = ReversePath::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e:?}"));
        assert_eq!(rp, ReversePath::Mailbox(mailbox), "{input:?}");
        assert_eq!(r, rest, "{input:?}");
        assert_eq!(rp.to_string(), shown, "{input:?}");
    }
}

#[test]
fn long_local_part_is_accepted() {
    let input = format!("<{}@example.com>", "a".repeat(100));
    assert!(ReversePath::parse(&input).is_ok());
}

#[test]
fn max_path_boundary() {
    let ok = format!("<{}@example.com>", "a".repeat(MAX_PATH - 14));
    assert_eq!(ok.len(), MAX_PATH);
    assert!(ReversePath::parse(&ok).is_ok());
    let long = format!("<{}@example.com>", "a".repeat(MAX_PATH - 13));
    assert_eq!(ReversePath::parse(&long), Err(PathError::TooLong));
    let bare = format!("{}@example.com", "a".repeat(MAX_PATH - 13));
    assert_eq!(ReversePath::parse(&bare), Err(PathError::TooLong));
}

#[test]
fn special_paths() {
    assert_eq!(ReversePath::parse("<>"), Ok((ReversePath::Null, "")));
    assert_eq!(
        ReversePath::parse(" <> SIZE=1"),
        Ok((ReversePath::Null, " SIZE=1"))
    );
    assert_eq!(ForwardPath::parse("<>"), Err(PathError::Empty));
    for p in ["<Postmaster>", "<postmaster>", "<POSTMASTER>", "PostMaster"] {
        assert_eq!(
            ForwardPath::parse(p),
            Ok((ForwardPath::Postmaster, "")),
            "{p}"
        );
        assert_eq!(ReversePath::parse(p), Err(PathError::MissingAt), "{p}");
    }
    assert_eq!(
        ForwardPath::parse("<Postmaster> X=1"),
        Ok((ForwardPath::Postmaster, " X=1"))
    );
    assert_eq!(ForwardPath::Postmaster.to_string(), "<Postmaster>");
    assert_eq!(ReversePath::Null.to_string(), "<>");
    assert!(ReversePath::Null.is_ascii());
    assert!(ForwardPath::Postmaster.is_ascii());
    assert_eq!(ReversePath::Null.mailbox(), None);
    assert_eq!(ForwardPath::Postmaster.mailbox(), None);
}

#[test]
fn rejected_paths() {
    let long = format!("<{}@example.com>", "a".repeat(300 - 14));
    let cases: Vec<(&str, PathError)> = vec![
        ("", PathError::Empty),
        ("   ", PathError::Empty),
        ("<foo@@example.com>", PathError::MissingAt),
        ("<a@b@c.d>", PathError::MissingAt),
        ("<\"a\"@b@c.d>", PathError::MissingAt),
        ("<foo@example..com>", PathError::InvalidDomain),
        ("<foo@.example.com>", PathError::InvalidDomain),
        ("<foo@example.com.>", PathError::InvalidDomain),
        ("<foo@-example.com>", PathError::InvalidDomain),
        ("<foo@exa mple.com>", PathError::InvalidDomain),
        ("<@example.com>", PathError::InvalidLocalPart),
        ("@example.com", PathError::InvalidLocalPart),
        ("<foo@>", PathError::InvalidDomain),
        ("<foo>", PathError::MissingAt),
        ("<\"foo\">", PathError::MissingAt),
        ("<a b@c.d>", PathError::InvalidLocalPart),
        ("<.a@c.d>", PathError::InvalidLocalPart),
        ("<a.@c.d>", PathError::InvalidLocalPart),
        ("<a..b@c.d>", PathError::InvalidLocalPart),
        ("<a\\b@c.d>", PathError::InvalidLocalPart),
        ("<\"a\"b@c.d>", PathError::InvalidLocalPart),
        ("<\"a\\\u{e9}\"@c.d>", PathError::InvalidLocalPart),
        ("<foo@[300.1.1.1]>", PathError::InvalidAddressLiteral),
        ("<foo@[1.2.3]>", PathError::InvalidAddressLiteral),
        ("<foo@[1.2.3.4.5]>", PathError::InvalidAddressLiteral),
        ("<foo@[1.2.3.4]x>", PathError::InvalidAddressLiteral),
        ("<foo@[IPv6:2001:db8::g]>", PathError::InvalidAddressLiteral),
        ("<foo@[IPv6:1.2.3.4]>", PathError::InvalidAddressLiteral),
        ("<foo@[tag:]>", PathError::InvalidAddressLiteral),
        ("<foo@[-tag:x]>", PathError::InvalidAddressLiteral),
        ("<foo@[tag:a[b]>", PathError::InvalidAddressLiteral),
        ("<foo@[1.2.3.4>", PathError::InvalidAddressLiteral),
        ("<a\u{0}b@a.test>", PathError::InvalidCharacter),
        ("<a@a.test\r\n>", PathError::InvalidCharacter),
        ("<a@a\u{7f}.test>", PathError::InvalidCharacter),
        ("<\"a\u{1}\"@a.test>", PathError::InvalidCharacter),
        ("a\tb@a.test", PathError::InvalidCharacter),
        ("<foo@example.com", PathError::UnbalancedBrackets),
        ("<foo@example.com SIZE=100", PathError::UnbalancedBrackets),
        ("foo@example.com>", PathError::UnbalancedBrackets),
        ("foo<@example.com", PathError::UnbalancedBrackets),
        (
            "<@relay.example,user@example.com>",
            PathError::InvalidLocalPart,
        ),
        (
            "<@relay..example:user@example.com>",
            PathError::InvalidDomain,
        ),
        ("<@:user@example.com>", PathError::InvalidDomain),
        (long.as_str(), PathError::TooLong),
    ];
    for (input, err) in cases {
        assert_eq!(ReversePath::parse(input), Err(err.clone()), "{input:?}");
        assert_eq!(ForwardPath::parse(input), Err(err), "{input:?}");
    }
}

#[test]
fn domains() {
    let ok = [
        "example.com",
        "a",
        "x-y.z_w",
        "123.example",
        "exämple.com",
        "例え.テスト",
    ];
    for d in ok {
        assert_eq!(Domain::parse(d), Ok(name(d)), "{d}");
    }
    let label = "a".repeat(63);
    assert!(Domain::parse(&label).is_ok());
    assert_eq!(
        Domain::parse(&"a".repeat(64)),
        Err(PathError::InvalidDomain)
    );
    let long = [label.as_str(); 4].join(".");
    assert_eq!(long.len(), 255);
    assert!(Domain::parse(&long).is_ok());
    assert_eq!(
        Domain::parse(&format!("{long}a")),
        Err(PathError::InvalidDomain)
    );
    let bad = [
        "",
        ".",
        "a.",
        ".a",
        "a..b",
        "a b",
        "a-",
        "-a",
        "a@b",
        "a!b",
        "ex\u{301}.com",
    ];
    for d in bad {
        assert_eq!(Domain::parse(d), Err(PathError::InvalidDomain), "{d:?}");
    }
    assert_eq!(Domain::parse("a\u{0}b"), Err(PathError::InvalidCharacter));
    assert!(name("example.com").is_ascii());
    assert!(!name("exämple.com").is_ascii());
    assert!(Domain::parse("[IPv6:::1]").unwrap().is_ascii());
    assert_eq!(
        Domain::parse("[IPv6:::1]").unwrap().to_string(),
        "[IPv6:::1]"
    );
    assert_eq!(
        Domain::parse("[10.0.0.1]").unwrap().to_string(),
        "[10.0.0.1]"
    );
    assert_eq!(Domain::parse("[]"), Err(PathError::InvalidAddressLiteral));
    assert_eq!(Domain::parse("["), Err(PathError::InvalidAddressLiteral));
}

#[test]
fn mailbox_accessors() {
    let (p, _) = ForwardPath::parse("<üser@exämple.com>").unwrap();
    let m = p.mailbox().unwrap();
    assert_eq!(m.local_part(), "üser");
    assert_eq!(m.domain(), &name("exämple.com"));
    assert!(!m.is_ascii());
    assert!(!p.is_ascii());
    let (p, _) = ReversePath::parse("<üser@example.com>").unwrap();
    assert!(!p.is_ascii());
    let (p, _) = ReversePath::parse("<user@exämple.com>").unwrap();
    assert!(!p.is_ascii());
    let (p, _) = ReversePath::parse("<user@example.com>").unwrap();
    assert!(p.is_ascii());
    assert_eq!(p.mailbox().unwrap().to_string(), "user@example.com");
}

#[test]
fn error_messages_are_printable_ascii() {
    let all = [
        PathError::Empty,
        PathError::UnbalancedBrackets,
        PathError::TooLong,
        PathError::InvalidLocalPart,
        PathError::MissingAt,
        PathError::InvalidDomain,
        PathError::InvalidAddressLiteral,
        PathError::InvalidCharacter,
    ];
    for e in all {
        let s = e.to_string();
        assert!(!s.is_empty());
        assert!(s.bytes().all(|b| (0x20..0x7f).contains(&b)), "{s:?}");
    }
}

fn check_round_trip(input: &str) -> Result<(), TestCaseError> {
    let mailboxes = [
        ReversePath::parse(input)
            .ok()
            .and_then(|(p, _)| p.mailbox().cloned()),
        ForwardPath::parse(input)
            .ok()
            .and_then(|(p, _)| p.mailbox().cloned()),
    ];
    for m in mailboxes.into_iter().flatten() {
        let shown = format!("<{m}>");
        let (again, rest) = ForwardPath::parse(&shown)
            .map_err(|e| TestCaseError::fail(format!("{shown:?}: {e:?}")))?;
        prop_assert_eq!(rest, "");
        prop_assert_eq!(again.mailbox(), Some(&m));
    }
    Ok(())
}

proptest! {
    #[test]
    fn never_panics_any(s in ".*") {
        check_round_trip(&s)?;
        let _ = Domain::parse(&s);
    }

    #[test]
    fn never_panics_smtpish(s in "[<>@.\"\\\\ a-zA-Z0-9:\\[\\]=+-]{0,300}") {
        check_round_trip(&s)?;
        let _ = Domain::parse(&s);
    }

    #[test]
    fn round_trip_generated(
        local in "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]{1,20}(\\.[a-zA-Z0-9ü]{1,5}){0,3}|\"([ a-zA-Z0-9@<>]|\\\\[\"\\\\])*\"",
        domain in "[a-z0-9]{1,10}(\\.[a-zä_0-9]{1,10}){0,3}|\\[[0-9]{1,3}(\\.[0-9]{1,3}){3}\\]|\\[IPv6:[0-9a-f:]{2,20}\\]",
        rest in "( [A-Z]+=[0-9]+)?",
    ) {
        let input = format!("<{local}@{domain}>{rest}");
        if let Ok((p, r)) = ForwardPath::parse(&input) {
            prop_assert_eq!(r, rest.as_str());
            let m = p.mailbox().unwrap();
            prop_assert_eq!(m.local_part(), local.as_str());
        }
        check_round_trip(&input)?;
    }
}
