//! Robustness: arbitrary input never panics and stays bounded.

use mtakit_proto::testing::Harness;
use mtakit_proto::{EnhancedCode, Mechanism, Reply, SessionConfig, TlsInfo, Verdict};
use proptest::prelude::*;

use super::dialogues::tricky_byte;

// ------------------------------------------------------------ robustness

/// What the driver does between reads.
#[derive(Clone, Debug)]
enum Action {
    Bytes(Vec<u8>),
    Shutdown,
    TimedOut,
}

fn fragment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => prop::collection::vec(any::<u8>(), 0..64),
        3 => prop::collection::vec(tricky_byte(), 0..64),
        1 => (100usize..5000).prop_map(|n| vec![b'B'; n]),
        4 => prop::sample::select(vec![
            &b"EHLO c.test\r\n"[..],
            b"HELO c.test\r\n",
            b"MAIL FROM:<a@a.test>\r\n",
            b"MAIL FROM:<a@a.test> SIZE=10 BODY=8BITMIME SMTPUTF8\r\n",
            b"RCPT TO:<b@b.test>\r\n",
            b"DATA\r\n",
            b"\r\n.\r\n",
            b"AUTH PLAIN\r\n",
            b"AUTH PLAIN AHVzZXIAcHc=\r\n",
            b"AUTH LOGIN\r\n",
            b"dXNlcg==\r\n",
            b"*\r\n",
            b"STARTTLS\r\n",
            b"RSET\r\n",
            b"VRFY x\r\n",
            b"HELP\r\n",
            b"QUIT\r\n",
        ])
        .prop_map(<[u8]>::to_vec),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        40 => fragment().prop_map(Action::Bytes),
        1 => Just(Action::Shutdown),
        1 => Just(Action::TimedOut),
    ]
}

/// Verdicts, good and bad, that the policy cycles through.
fn verdicts() -> Vec<Verdict> {
    let r = |code, e: Option<(u8, u16, u16)>, text: &str| {
        let e = e.and_then(|(c, s, d)| EnhancedCode::new(c, s, d));
        Reply::new(code, e, text.to_owned()).unwrap()
    };
    let long = "z".repeat(1500);
    vec![
        Verdict::accept(),
        Verdict::accept(),
        Verdict::accept(),
        Verdict::reject(),
        Verdict::accept_with(r(250, Some((2, 0, 0)), &long)),
        Verdict::accept_with(r(550, Some((5, 7, 1)), "accept with 5xx")),
        Verdict::accept_with(r(354, None, "go")),
        Verdict::reject_with(r(250, None, "reject with 2xx")),
        Verdict::reject_with(r(451, Some((4, 3, 0)), &long)),
        Verdict::reject_with(
            Reply::multiline(553, EnhancedCode::new(5, 7, 1), ["a", long.as_str(), ""]).unwrap(),
        ),
        Verdict::reject().and_close(),
        Verdict::accept(),
        Verdict::accept(),
    ]
}

/// Checks the wire form of a reply: code on every line, `-` on all but the
/// last, every line at most 512 octets with its CRLF, and an enhanced code
/// that agrees with the reply code on every line.
fn check_reply(reply: &Reply) -> Result<(), TestCaseError> {
    let code = reply.code().get();
    prop_assert!((200..=599).contains(&code));
    let wire = reply.to_string();
    prop_assert!(wire.ends_with("\r\n"));
    let lines: Vec<&str> = wire.split_terminator("\r\n").collect();
    prop_assert!(!lines.is_empty());
    let prefix = code.to_string();
    for (i, line) in lines.iter().enumerate() {
        prop_assert!(line.len() + 2 <= 512, "line of {} octets", line.len() + 2);
        prop_assert!(!line.contains(['\r', '\n', '\0']), "{:?}", line);
        prop_assert!(line.starts_with(&prefix), "{:?}", line);
        let sep = if i + 1 == lines.len() { ' ' } else { '-' };
        prop_assert_eq!(
            line.as_bytes().get(3).copied(),
            Some(sep as u8),
            "{:?}",
            line
        );
        if let Some(e) = reply.enhanced() {
            prop_assert_eq!(u16::from(e.class()), code / 100, "{}", wire);
            prop_assert!(code / 100 != 3, "{}", wire);
            let rest = &line[4..];
            let e = e.to_string();
            prop_assert!(
                rest == e || rest.starts_with(&format!("{e} ")),
                "{:?} lacks {}",
                line,
                e
            );
        }
    }
    // What a client reads back is the same reply.
    let (parsed, used) = Reply::parse(wire.as_bytes())
        .map_err(|e| TestCaseError::fail(format!("{e:?} for {wire:?}")))?
        .ok_or_else(|| TestCaseError::fail(format!("incomplete: {wire:?}")))?;
    prop_assert_eq!(used, wire.len());
    prop_assert_eq!(parsed.code(), reply.code());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_input_never_panics_and_replies_are_well_formed(
        actions in prop::collection::vec(action(), 0..40),
        tls in any::<bool>(),
        enhanced in any::<bool>(),
        seed in any::<usize>(),
        chunk in 1usize..64,
    ) {
        let mut config = SessionConfig::new("mx.test");
        config.tls_available = tls;
        config.extensions.enhanced_status_codes = enhanced;
        config.auth_mechanisms = vec![Mechanism::Plain, Mechanism::Login];
        config.limits.max_message_size = 2000;
        let list = verdicts();
        let mut n = seed;
        let mut h = Harness::with_config(config)
            .with_policy(move |_, _| {
                n = n.wrapping_add(1);
                list[n % list.len()].clone()
            })
            .with_sink(|t| (t.data.len() % 3 != 0).into());
        h.greeting();
        let mut tls_done = 0;
        for action in actions {
            match action {
                Action::Bytes(bytes) => {
                    for piece in bytes.chunks(chunk) {
                        h.send_raw(piece);
                        if h.starttls_count() > tls_done {
                            tls_done = h.starttls_count();
                            h.complete_tls(TlsInfo::new("TLSv1.3", "X"));
                        }
                    }
                }
                Action::Shutdown => {
                    h.session().shutdown();
                    h.run();
                }
                Action::TimedOut => {
                    h.session().timed_out();
                    h.run();
                }
            }
        }
        let mut closing_seen = false;
        for reply in h.replies() {
            prop_assert!(!closing_seen, "a reply after 221/421: {:?}", h.replies());
            check_reply(reply)?;
            if matches!(reply.code().get(), 221 | 421) {
                closing_seen = true;
                prop_assert!(h.is_closed());
            }
        }
    }
}
