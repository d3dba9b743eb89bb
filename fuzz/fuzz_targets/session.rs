//! A whole SMTP session through `mtakit_proto::testing::Harness`.
//!
//! Input layout:
//!
//! | octets | meaning |
//! |---|---|
//! | 0 | config: AUTH mechanisms, insecure AUTH, TLS available, LMTP, small limits, line-ending policy (2 bits), NUL allowed |
//! | 1 | extensions off: ENHANCEDSTATUSCODES, CHUNKING, SMTPUTF8, DSN, 8BITMIME; require TLS, require AUTH, implicit TLS |
//! | 2..6 | policy word: 4 bits per decision, cycling |
//! | 6 | sink: one bit per delivery (set = the sink fails) |
//! | 7, then n | a count, then n "cut" bytes: lengths of the reads |
//! | rest | the client's bytes; `\xff\xfe` separates packets |
//!
//! The client's bytes are sent packet by packet. After each packet, if the
//! session asked for STARTTLS, the handshake is completed (so plaintext
//! pipelined after STARTTLS in the same packet must be discarded, and what
//! follows in the next packet is spoken "over TLS").
//!
//! The session runs twice: once with each packet in a single read, once
//! with each packet cut into reads by the cut bytes. Both runs must give
//! identical replies, decisions, deliveries, STARTTLS count and closed
//! state. In both, every reply passes `check_reply` (code range, enhanced
//! code class, lines of at most 512 octets, wire round trip), nothing is
//! sent after a 221/421 or once the session closed, and a 221/421 closes
//! it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mtakit_fuzz::{Input, check_reply, pieces};
use mtakit_proto::testing::Harness;
use mtakit_proto::{
    ConnectionInfo, EnhancedCode, Extensions, LineEndingPolicy, Limits, Mechanism, Pending,
    Reply, SessionConfig, TlsInfo, Verdict,
};

/// Separates packets in the client's bytes.
const PACKET_MARK: &[u8] = b"\xff\xfe";

#[derive(Clone, Copy)]
struct Setup {
    config: u8,
    extensions: u8,
    policy: u32,
    sink: u8,
}

fn config(s: Setup) -> (SessionConfig, ConnectionInfo) {
    let mut c = SessionConfig::new("mx.fuzz.test");
    let b = s.config;
    if b & 0x01 != 0 {
        c.auth_mechanisms = vec![
            Mechanism::Plain,
            Mechanism::Login,
            Mechanism::XOAuth2,
            Mechanism::OAuthBearer,
        ];
    }
    c.allow_insecure_auth = b & 0x02 != 0;
    c.tls_available = b & 0x04 != 0;
    c.lmtp = b & 0x08 != 0;
    let mut limits = if b & 0x10 != 0 {
        Limits {
            command_line: 64,
            command_line_extended: 128,
            auth_line: 100,
            text_line: Some(80),
            max_message_size: 300,
            max_recipients: 2,
            max_errors: 4,
            max_auth_failures: 2,
            ..Limits::default()
        }
    } else {
        Limits::default()
    };
    limits.line_endings = match (b >> 5) & 3 {
        0 => LineEndingPolicy::Reject,
        1 => LineEndingPolicy::Normalize,
        _ => LineEndingPolicy::Record,
    };
    limits.allow_nul = b & 0x80 != 0;
    c.limits = limits;

    let e = s.extensions;
    let mut ext = Extensions::default();
    ext.enhanced_status_codes = e & 0x01 == 0;
    ext.chunking = e & 0x02 == 0;
    ext.smtputf8 = e & 0x04 == 0;
    ext.dsn = e & 0x08 == 0;
    ext.eight_bit_mime = e & 0x80 == 0;
    c.extensions = ext;
    c.require_tls = e & 0x10 != 0;
    c.require_auth = e & 0x20 != 0;

    let mut conn = ConnectionInfo::new(([192, 0, 2, 7], 40025).into(), ([192, 0, 2, 1], 25).into());
    if e & 0x40 != 0 {
        conn.tls = Some(tls());
    }
    (c, conn)
}

fn tls() -> TlsInfo {
    TlsInfo::new("TLSv1.3", "TLS13_AES_128_GCM_SHA256")
}

/// The verdict for the n-th decision: four bits of the policy word.
fn verdict(policy: u32, n: usize, pending: &Pending) -> Verdict {
    let nibble = (policy >> ((n % 8) * 4)) & 0xf;
    let long = "x".repeat(600);
    match nibble {
        0..=8 => Verdict::accept(),
        // A custom accepting reply: 250 (or 354 for DATA; a mismatch is
        // the session's to catch).
        9 => {
            let reply = if matches!(pending, Pending::Data) {
                Reply::new(354, None, "go ahead, fuzzer")
            } else {
                Reply::new(250, Some(EnhancedCode::new(2, 0, 0).unwrap()), "fine by policy")
            };
            Verdict::accept_with(reply.expect("valid reply"))
        }
        10 => Verdict::accept_with(
            Reply::multiline(250, None, ["first line", long.as_str(), ""]).expect("valid"),
        ),
        11 => Verdict::reject(),
        12 => Verdict::reject_with(
            Reply::multiline(
                550,
                Some(EnhancedCode::new(5, 7, 1).unwrap()),
                ["refused by policy", long.as_str()],
            )
            .expect("valid"),
        ),
        13 => Verdict::reject_with(
            Reply::new(450, Some(EnhancedCode::new(4, 7, 1).unwrap()), "try later")
                .expect("valid"),
        ),
        14 => Verdict::reject().and_close(),
        _ => Verdict::disconnect(),
    }
}

#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    replies: Vec<Reply>,
    pendings: Vec<Pending>,
    /// `Transaction` is not `Clone`: compared by its `Debug` form.
    delivered: String,
    starttls: usize,
    closed: bool,
}

/// Checks a batch of replies just produced, given whether the session was
/// closed before it, and whether it is closed now.
fn check_batch(before_closed: bool, batch: &[Reply], closed_now: bool, seen_close: &mut bool) {
    if before_closed || *seen_close {
        assert!(batch.is_empty(), "replies after the session closed: {batch:?}");
    }
    for (i, reply) in batch.iter().enumerate() {
        check_reply(reply);
        if reply.is_closing() {
            assert_eq!(i + 1, batch.len(), "replies after a {}: {batch:?}", reply.code());
            assert!(closed_now, "a {} did not close the session", reply.code());
            *seen_close = true;
        }
    }
}

fn run(setup: Setup, packets: &[&[u8]], cuts: Option<&[u8]>) -> Outcome {
    let (config, conn) = config(setup);
    let mut n = 0usize;
    let policy = setup.policy;
    let mut deliveries = 0usize;
    let sink_bits = setup.sink;
    let mut h = Harness::with_connection(config, conn)
        .with_policy(move |pending, _info| {
            let v = verdict(policy, n, pending);
            n += 1;
            v
        })
        .with_sink(move |_tx| {
            let fail = sink_bits >> (deliveries % 8) & 1 == 1;
            deliveries += 1;
            if fail {
                Verdict::reject()
            } else {
                Verdict::accept()
            }
        });

    let mut seen_close = false;
    let greeting = h.run();
    check_batch(false, &greeting, h.is_closed(), &mut seen_close);
    let mut starttls = h.starttls_count();
    for packet in packets {
        let reads = match cuts {
            Some(cuts) => pieces(packet, cuts),
            None => vec![*packet],
        };
        for read in reads {
            let before = h.is_closed();
            let batch = h.send_raw(read);
            check_batch(before, &batch, h.is_closed(), &mut seen_close);
        }
        if h.starttls_count() > starttls {
            assert_eq!(h.starttls_count(), starttls + 1, "two STARTTLS without a handshake");
            starttls = h.starttls_count();
            if !h.is_closed() {
                h.complete_tls(tls());
                // The handshake itself makes no replies.
                let before = h.is_closed();
                let batch = h.run();
                check_batch(before, &batch, h.is_closed(), &mut seen_close);
            }
        }
    }
    assert_eq!(h.session().is_closed(), h.is_closed());
    Outcome {
        replies: h.replies().to_vec(),
        pendings: h.pendings().to_vec(),
        delivered: format!("{:?}", h.delivered()),
        starttls: h.starttls_count(),
        closed: h.is_closed(),
    }
}

/// `MTAKIT_FUZZ_DEBUG=1` prints the replies of each run (for triage).
fn debug() -> bool {
    static DEBUG: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *DEBUG.get_or_init(|| std::env::var_os("MTAKIT_FUZZ_DEBUG").is_some())
}

fn split_packets(body: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.windows(PACKET_MARK.len()).position(|w| w == PACKET_MARK) {
        out.push(&rest[..i]);
        rest = &rest[i + PACKET_MARK.len()..];
    }
    out.push(rest);
    out.retain(|p| !p.is_empty());
    out
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let setup = Setup {
        config: input.byte(),
        extensions: input.byte(),
        policy: input.u32(),
        sink: input.byte(),
    };
    let cuts = input.counted(16);
    let packets = split_packets(input.rest());

    let whole = run(setup, &packets, None);
    let chunked = run(setup, &packets, Some(cuts));
    if debug() {
        for r in &whole.replies {
            eprint!("{r}");
        }
        eprintln!(
            "-- {} decisions, {} STARTTLS, closed: {}, delivered: {}",
            whole.pendings.len(),
            whole.starttls,
            whole.closed,
            whole.delivered
        );
    }
    assert_eq!(whole, chunked, "reads cut differently gave a different session");
});
