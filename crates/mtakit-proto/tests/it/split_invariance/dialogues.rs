//! Dialogues: any split of the input gives the same events.

use mtakit_proto::sasl::encode_base64;
use mtakit_proto::testing::Harness;
use mtakit_proto::{
    DataStats, EnhancedCode, Envelope, LineEndingPolicy, Mechanism, Pending, Reply, SessionConfig,
    Verdict,
};
use proptest::prelude::*;
use proptest::sample::Index;

use crate::support::send_cut;

// ------------------------------------------------------------- dialogues

/// One step of a generated SMTP dialogue.
#[derive(Clone, Debug)]
enum Step {
    Ehlo,
    Helo,
    Mail {
        sender: u8,
        size: Option<u32>,
        utf8: bool,
    },
    Rcpt(u8),
    /// DATA, then these content lines, stuffed or not, then `.`.
    Data {
        lines: Vec<Vec<u8>>,
        stuff: bool,
    },
    Rset,
    Noop,
    Vrfy,
    /// AUTH PLAIN with the initial response; good or bad password.
    AuthPlain(bool),
    /// AUTH LOGIN in three steps.
    AuthLogin(bool),
    /// A line of arbitrary bytes with an arbitrary ending.
    Garbage(Vec<u8>),
    Quit,
}

const SENDERS: [&str; 4] = ["<a@a.test>", "<>", "<reject@a.test>", "<jörg@a.test>"];

fn render(steps: &[Step]) -> Vec<u8> {
    let mut out = Vec::new();
    for step in steps {
        match step {
            Step::Ehlo => out.extend_from_slice(b"EHLO client.test\r\n"),
            Step::Helo => out.extend_from_slice(b"HELO client.test\r\n"),
            Step::Mail { sender, size, utf8 } => {
                out.extend_from_slice(b"MAIL FROM:");
                out.extend_from_slice(SENDERS[usize::from(*sender) % SENDERS.len()].as_bytes());
                if let Some(size) = size {
                    out.extend_from_slice(format!(" SIZE={size}").as_bytes());
                }
                if *utf8 {
                    out.extend_from_slice(b" SMTPUTF8");
                }
                out.extend_from_slice(b"\r\n");
            }
            Step::Rcpt(n) => {
                let rcpt = match n % 5 {
                    0 => "<Postmaster>".to_owned(),
                    1 => "<denied@b.test>".to_owned(),
                    2 => "<müller@b.test>".to_owned(),
                    _ => format!("<r{n}@b.test>"),
                };
                out.extend_from_slice(format!("RCPT TO:{rcpt}\r\n").as_bytes());
            }
            Step::Data { lines, stuff } => {
                out.extend_from_slice(b"DATA\r\n");
                for line in lines {
                    if *stuff && line.first() == Some(&b'.') {
                        out.push(b'.');
                    }
                    out.extend_from_slice(line);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b".\r\n");
            }
            Step::Rset => out.extend_from_slice(b"RSET\r\n"),
            Step::Noop => out.extend_from_slice(b"NOOP\r\n"),
            Step::Vrfy => out.extend_from_slice(b"VRFY someone\r\n"),
            Step::AuthPlain(good) => {
                let pass = if *good { "pw" } else { "bad" };
                let ir = encode_base64(format!("\0user\0{pass}").as_bytes());
                out.extend_from_slice(format!("AUTH PLAIN {ir}\r\n").as_bytes());
            }
            Step::AuthLogin(good) => {
                let pass: &[u8] = if *good { b"pw" } else { b"bad" };
                out.extend_from_slice(b"AUTH LOGIN\r\n");
                out.extend_from_slice(format!("{}\r\n", encode_base64(b"user")).as_bytes());
                out.extend_from_slice(format!("{}\r\n", encode_base64(pass)).as_bytes());
            }
            Step::Garbage(bytes) => out.extend_from_slice(bytes),
            Step::Quit => out.extend_from_slice(b"QUIT\r\n"),
        }
    }
    out
}

/// Bytes heavy in what matters to the framing and the DATA receiver.
pub(super) fn tricky_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        2 => Just(b'\r'),
        2 => Just(b'\n'),
        3 => Just(b'.'),
        6 => Just(b'a'),
        2 => Just(b' '),
        1 => Just(0u8),
        1 => Just(0xc3u8),
        1 => Just(0xa9u8),
        1 => Just(0xffu8),
        1 => any::<u8>(),
    ]
}

fn body_line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => "[a-z .]{0,40}".prop_map(String::into_bytes),
        3 => prop::collection::vec(tricky_byte(), 0..40),
        1 => Just(b".".to_vec()),
        1 => Just(b"..".to_vec()),
        1 => Just(b"REJECT me".to_vec()),
        1 => Just(b"MAIL FROM:<smuggled@evil.test>".to_vec()),
        1 => (1usize..1200).prop_map(|n| vec![b'x'; n]),
    ]
}

fn garbage() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![
            3 => prop::collection::vec(tricky_byte(), 0..60),
            1 => prop::collection::vec(any::<u8>(), 0..30),
            1 => (60usize..700).prop_map(|n| vec![b'A'; n]),
            1 => prop_oneof![
                Just(b"NOOP".to_vec()),
                Just(b"DATA".to_vec()),
                Just(b"MAIL FROM:<x@y.test>".to_vec()),
                Just(b"AUTH PLAIN".to_vec()),
                Just(b"*".to_vec()),
                Just(b"STARTTLS".to_vec()),
            ],
        ],
        prop_oneof![
            3 => Just(&b"\r\n"[..]),
            1 => Just(&b"\n"[..]),
            1 => Just(&b"\r"[..]),
            1 => Just(&b""[..]),
        ],
    )
        .prop_map(|(mut line, end)| {
            line.extend_from_slice(end);
            line
        })
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => Just(Step::Ehlo),
        1 => Just(Step::Helo),
        4 => step_mail(),
        5 => any::<u8>().prop_map(Step::Rcpt),
        4 => step_data(),
        1 => Just(Step::Rset),
        1 => Just(Step::Noop),
        1 => Just(Step::Vrfy),
        1 => any::<bool>().prop_map(Step::AuthPlain),
        1 => any::<bool>().prop_map(Step::AuthLogin),
        3 => garbage().prop_map(Step::Garbage),
        1 => Just(Step::Quit),
    ]
}

fn step_mail() -> impl Strategy<Value = Step> {
    (
        any::<u8>(),
        prop::option::of(prop_oneof![0u32..400, 0u32..200_000]),
        any::<bool>(),
    )
        .prop_map(|(sender, size, utf8)| Step::Mail { sender, size, utf8 })
}

fn step_data() -> impl Strategy<Value = Step> {
    (prop::collection::vec(body_line(), 0..8), any::<bool>())
        .prop_map(|(lines, stuff)| Step::Data { lines, stuff })
}

/// MAIL, one to four RCPTs and DATA, in a row.
fn transaction() -> impl Strategy<Value = Vec<Step>> {
    (
        step_mail(),
        prop::collection::vec(any::<u8>().prop_map(Step::Rcpt), 1..5),
        step_data(),
    )
        .prop_map(|(mail, rcpts, data)| {
            let mut steps = vec![mail];
            steps.extend(rcpts);
            steps.push(data);
            steps
        })
}

/// Mostly EHLO first, then single steps and whole transactions, then
/// sometimes QUIT.
fn dialogue() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![4 => Just(Some(Step::Ehlo)), 1 => Just(Some(Step::Helo)), 1 => Just(None)],
        prop::collection::vec(
            prop_oneof![
                2 => step().prop_map(|s| vec![s]),
                1 => transaction(),
            ],
            1..12,
        ),
        any::<bool>(),
    )
        .prop_map(|(greet, groups, quit)| {
            let mut steps: Vec<Step> = greet.into_iter().collect();
            steps.extend(groups.into_iter().flatten());
            if quit {
                steps.push(Step::Quit);
            }
            render(&steps)
        })
}

fn config() -> impl Strategy<Value = SessionConfig> {
    (
        prop_oneof![Just(300u64), Just(10 * 1024 * 1024)],
        prop_oneof![Just(2usize), Just(100)],
        prop_oneof![1 => Just(4usize), 3 => Just(100)],
        prop::sample::select(vec![
            LineEndingPolicy::Reject,
            LineEndingPolicy::Normalize,
            LineEndingPolicy::Record,
        ]),
        any::<bool>(),
        prop_oneof![
            Just((512usize, 2048usize, 12_288usize)),
            Just((64, 128, 100))
        ],
        prop::option::of(prop_oneof![Just(100usize), Just(1000)]),
        any::<bool>(),
    )
        .prop_map(
            |(size, rcpts, errors, endings, nul, (cmd, ext, auth), text_line, no_ext)| {
                let mut c = SessionConfig::new("mx.test");
                c.limits.max_message_size = size;
                c.limits.max_recipients = rcpts;
                c.limits.max_errors = errors;
                c.limits.max_auth_failures = 2;
                c.limits.line_endings = endings;
                c.limits.allow_nul = nul;
                c.limits.command_line = cmd;
                c.limits.command_line_extended = ext;
                c.limits.auth_line = auth;
                c.limits.text_line = text_line;
                c.auth_mechanisms = vec![Mechanism::Plain, Mechanism::Login];
                c.allow_insecure_auth = true;
                if no_ext {
                    c.extensions.smtputf8 = false;
                    c.extensions.size = false;
                    c.extensions.enhanced_status_codes = false;
                }
                c
            },
        )
}

/// A deterministic policy: it depends only on what is decided.
fn policy(pending: &Pending, _: &mtakit_proto::SessionInfo) -> Verdict {
    match pending {
        Pending::MailFrom { reverse_path, .. } if reverse_path.to_string().contains("reject") => {
            Verdict::reject()
        }
        Pending::RcptTo { forward_path, .. } if forward_path.to_string().contains("denied") => {
            Verdict::reject_with(
                Reply::new(550, EnhancedCode::new(5, 1, 1), "No such user here").unwrap(),
            )
        }
        Pending::Authenticate { credentials } => (credentials.password() == "pw").into(),
        _ => Verdict::accept(),
    }
}

/// Everything observable about one run.
#[derive(Debug, PartialEq)]
struct Outcome {
    wire: String,
    delivered: Vec<(Envelope, Vec<u8>, DataStats)>,
    pendings: Vec<Pending>,
    closed: bool,
}

fn run(config: &SessionConfig, input: &[u8], cuts: &[usize]) -> Outcome {
    let mut h = Harness::with_config(config.clone())
        .with_policy(policy)
        .with_sink(|t| (!t.data.windows(6).any(|w| w == b"REJECT")).into());
    h.greeting();
    send_cut(&mut h, input, cuts);
    Outcome {
        wire: h.replies().iter().map(Reply::to_string).collect(),
        delivered: h
            .delivered()
            .iter()
            .map(|t| (t.envelope.clone(), t.data.clone(), t.stats))
            .collect(),
        pendings: h.pendings().to_vec(),
        closed: h.is_closed(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    #[test]
    fn any_split_gives_the_same_dialogue(
        config in config(),
        input in dialogue(),
        cuts in prop::collection::vec(any::<Index>(), 0..40),
    ) {
        let whole = run(&config, &input, &[]);
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(input.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.dedup();
        prop_assert_eq!(&run(&config, &input, &cuts), &whole, "cuts {:?}", cuts);
        let bytewise: Vec<usize> = (1..input.len()).collect();
        prop_assert_eq!(&run(&config, &input, &bytewise), &whole, "bytewise");
    }
}
