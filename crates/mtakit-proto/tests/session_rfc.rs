//! RFC 5321 / ESMTP behaviour of the session, in memory.

mod support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use mtakit_proto::sasl::encode_base64;
use mtakit_proto::testing::Harness;
use mtakit_proto::{
    ApiMisuse, ConnectionInfo, EnhancedCode, Event, ForwardPath, Mechanism, Pending, Reply,
    ReversePath, Session, SessionConfig, TimeoutKind, TlsInfo, Verdict,
};

use support::{auth_config, check_password, config, ehlo_lines, greeted, plain, st, sts};

// ---------------------------------------------------------------- helpers

fn wire(replies: &[Reply]) -> String {
    replies.iter().map(Reply::to_string).collect()
}

/// A harness after the greeting and `EHLO client.test`, whose reply must
/// be a bare `"250"`: stricter than `support::ehlo`, which checks the code
/// only.
fn ehlo(config: SessionConfig) -> Harness {
    let mut h = greeted(config);
    assert_eq!(st(&h.send("EHLO client.test")), "250");
    h
}

/// MAIL, RCPT and DATA up to the 354.
fn open_data(h: &mut Harness) {
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    assert_eq!(st(&h.send("RCPT TO:<b@b.test>")), "250 2.1.5");
    assert_eq!(st(&h.send("DATA")), "354");
}

fn authenticate_count(h: &Harness) -> usize {
    h.pendings()
        .iter()
        .filter(|p| matches!(p, Pending::Authenticate { .. }))
        .count()
}

fn counting_sink(h: Harness) -> (Harness, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&calls);
    let h = h.with_sink(move |_| {
        c.fetch_add(1, Ordering::SeqCst);
        Verdict::accept()
    });
    (h, calls)
}

// ------------------------------------------------------- greeting and EHLO

#[test]
fn greeting_helo_ehlo_and_quit_wire_lines() {
    let mut h = Harness::new();
    assert_eq!(h.greeting().to_string(), "220 localhost ESMTP mtakit\r\n");
    assert_eq!(h.send("HELO client.test").to_string(), "250 localhost\r\n");
    assert_eq!(
        h.send("EHLO client.test").to_string(),
        "250-localhost\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n250-8BITMIME\r\n\
         250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n250-BINARYMIME\r\n\
         250-DSN\r\n250 HELP\r\n"
    );
    assert_eq!(
        h.send("QUIT").to_string(),
        "221 2.0.0 localhost closing connection\r\n"
    );
    assert!(h.is_closed());
}

#[test]
fn ehlo_size_follows_the_limit() {
    let mut c = config();
    c.limits.max_message_size = 12_345;
    let mut h = greeted(c);
    assert!(ehlo_lines(&mut h).contains(&"SIZE 12345".to_owned()));
}

#[test]
fn starttls_is_advertised_only_when_tls_is_available() {
    let mut h = greeted(config());
    assert!(!ehlo_lines(&mut h).contains(&"STARTTLS".to_owned()));

    let mut c = config();
    c.tls_available = true;
    let mut h = greeted(c);
    assert_eq!(
        ehlo_lines(&mut h),
        [
            "localhost",
            "PIPELINING",
            "SIZE 10485760",
            "8BITMIME",
            "SMTPUTF8",
            "ENHANCEDSTATUSCODES",
            "CHUNKING",
            "BINARYMIME",
            "DSN",
            "STARTTLS",
            "HELP"
        ]
    );
}

#[test]
fn auth_is_advertised_only_with_mechanisms_and_tls_or_insecure_allowed() {
    let has_auth = |c: SessionConfig, conn: Option<ConnectionInfo>| {
        let mut h = match conn {
            Some(conn) => Harness::with_connection(c, conn),
            None => Harness::with_config(c),
        };
        h.greeting();
        ehlo_lines(&mut h)
            .into_iter()
            .find(|l| l.starts_with("AUTH"))
    };
    // Mechanisms, plaintext, insecure not allowed: no AUTH.
    let mut c = config();
    c.auth_mechanisms = vec![Mechanism::Plain, Mechanism::Login];
    c.tls_available = true;
    assert_eq!(has_auth(c.clone(), None), None);
    // Insecure allowed: AUTH with the mechanisms in order.
    let mut insecure = c.clone();
    insecure.allow_insecure_auth = true;
    assert_eq!(
        has_auth(insecure.clone(), None).as_deref(),
        Some("AUTH PLAIN LOGIN")
    );
    // Implicit TLS: AUTH offered without the insecure flag.
    let peer: SocketAddr = ([127, 0, 0, 1], 4567).into();
    let local: SocketAddr = ([127, 0, 0, 1], 465).into();
    let mut conn = ConnectionInfo::new(peer, local);
    conn.tls = Some(TlsInfo::new("TLSv1.3", "X"));
    assert_eq!(
        has_auth(c.clone(), Some(conn)).as_deref(),
        Some("AUTH PLAIN LOGIN")
    );
    // No mechanisms: never AUTH.
    insecure.auth_mechanisms.clear();
    assert_eq!(has_auth(insecure, None), None);
}

#[test]
fn each_extension_switched_off_removes_its_keyword() {
    type Switch = fn(&mut mtakit_proto::Extensions);
    let cases: [(&str, Switch); 7] = [
        ("PIPELINING", |e| e.pipelining = false),
        ("SIZE", |e| e.size = false),
        ("8BITMIME", |e| e.eight_bit_mime = false),
        ("SMTPUTF8", |e| e.smtputf8 = false),
        ("ENHANCEDSTATUSCODES", |e| e.enhanced_status_codes = false),
        ("STARTTLS", |e| e.starttls = false),
        ("HELP", |e| e.help = false),
    ];
    for (keyword, switch) in cases {
        let mut c = config();
        c.tls_available = true;
        let mut h = greeted(c.clone());
        let on = ehlo_lines(&mut h);
        assert!(
            on.iter().any(|l| l.split(' ').next() == Some(keyword)),
            "{keyword} missing when on: {on:?}"
        );
        switch(&mut c.extensions);
        let mut h = greeted(c);
        let off = ehlo_lines(&mut h);
        assert!(
            !off.iter().any(|l| l.split(' ').next() == Some(keyword)),
            "{keyword} still there when off: {off:?}"
        );
        // SMTPUTF8 and BINARYMIME depend on 8BITMIME and go with it.
        let gone = if keyword == "8BITMIME" { 3 } else { 1 };
        assert_eq!(off.len(), on.len() - gone, "{keyword}");
    }
    // AUTH.
    let mut c = auth_config();
    c.extensions.auth = false;
    let mut h = greeted(c);
    assert!(!ehlo_lines(&mut h).iter().any(|l| l.starts_with("AUTH")));
    assert_eq!(
        st(&h.send(&format!("AUTH PLAIN {}", plain("u", "p")))),
        "502 5.5.1"
    );
    assert_eq!(authenticate_count(&h), 0);
}

#[test]
fn switched_off_extensions_make_their_parameters_unknown() {
    type Switch = fn(&mut mtakit_proto::Extensions);
    let cases: [(&str, Switch); 3] = [
        ("MAIL FROM:<a@a.test> SIZE=1000", |e| e.size = false),
        ("MAIL FROM:<a@a.test> BODY=8BITMIME", |e| {
            e.eight_bit_mime = false
        }),
        ("MAIL FROM:<a@a.test> SMTPUTF8", |e| e.smtputf8 = false),
    ];
    for (line, switch) in cases {
        let mut h = ehlo(config());
        assert_eq!(st(&h.send(line)), "250 2.1.0", "{line} when on");
        let mut c = config();
        switch(&mut c.extensions);
        let mut h = ehlo(c);
        assert_eq!(st(&h.send(line)), "555 5.5.4", "{line} when off");
        // No transaction was opened.
        assert_eq!(h.send("RCPT TO:<b@b.test>").code().get(), 503);
        assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    }
    // BODY=7BIT is also a BODY parameter.
    let mut c = config();
    c.extensions.eight_bit_mime = false;
    let mut h = ehlo(c);
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test> BODY=7BIT")), "555 5.5.4");
    // Without SMTPUTF8 a UTF-8 address is refused.
    let mut c = config();
    c.extensions.smtputf8 = false;
    let mut h = ehlo(c);
    assert_eq!(st(&h.send("MAIL FROM:<jörg@a.test>")), "553 5.6.7");
}

#[test]
fn starttls_switched_off_is_not_available() {
    let mut c = config();
    c.tls_available = true;
    c.extensions.starttls = false;
    let mut h = ehlo(c);
    assert_eq!(st(&h.send("STARTTLS")), "454 4.7.0");
    assert_eq!(h.starttls_count(), 0);
    assert_eq!(st(&h.send("NOOP")), "250 2.0.0");
}

#[test]
fn enhanced_codes_after_ehlo_and_none_after_helo() {
    let mut h = greeted(config());
    // Before any greeting: none.
    assert_eq!(h.send("NOOP").to_string(), "250 OK\r\n");
    assert_eq!(st(&h.send("FROB")), "500");
    assert_eq!(st(&h.send("HELO client.test")), "250");
    assert_eq!(h.send("MAIL FROM:<a@a.test>").to_string(), "250 OK\r\n");
    assert_eq!(st(&h.send("RCPT TO:<b@b.test>")), "250");
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "503");
    assert_eq!(st(&h.send("RSET")), "250");
    // HELO takes no ESMTP parameters.
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test> SIZE=10")), "501");

    let mut h = ehlo(config());
    assert_eq!(
        h.send("MAIL FROM:<a@a.test>").to_string(),
        "250 2.1.0 OK\r\n"
    );
    assert_eq!(h.send("RCPT TO:<b@b.test>").to_string(), "250 2.1.5 OK\r\n");
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "503 5.5.1");
    assert_eq!(st(&h.send("FROB")), "500 5.5.2");
    assert_eq!(h.send("NOOP").to_string(), "250 2.0.0 OK\r\n");
    assert_eq!(h.send("RSET").to_string(), "250 2.0.0 Reset OK\r\n");

    // HELO after EHLO switches them off again.
    assert_eq!(st(&h.send("HELO client.test")), "250");
    assert_eq!(h.send("NOOP").to_string(), "250 OK\r\n");
}

#[test]
fn ehlo_again_resets_the_transaction() {
    let mut h = ehlo(config());
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    assert_eq!(st(&h.send("RCPT TO:<b@b.test>")), "250 2.1.5");
    assert_eq!(st(&h.send("EHLO other.test")), "250");
    assert!(h.session().info().envelope().is_none());
    assert_eq!(st(&h.send("RCPT TO:<b@b.test>")), "503 5.5.1");
    assert_eq!(st(&h.send("DATA")), "503 5.5.1");
    assert_eq!(st(&h.send("MAIL FROM:<c@c.test>")), "250 2.1.0");
    assert_eq!(st(&h.send("RCPT TO:<d@d.test>")), "250 2.1.5");
    assert_eq!(st(&h.send("DATA")), "354");
    assert_eq!(sts(&h.send_raw(b"x\r\n.\r\n")), ["250 2.0.0"]);
    let env = &h.delivered()[0].envelope;
    assert_eq!(env.reverse_path.to_string(), "<c@c.test>");
    assert_eq!(env.recipients.len(), 1);
    assert_eq!(env.recipients[0].path.to_string(), "<d@d.test>");
}

#[test]
fn rset_clears_the_transaction_but_keeps_authentication() {
    let mut h = ehlo(auth_config()).with_policy(check_password);
    assert_eq!(
        st(&h.send(&format!("AUTH PLAIN {}", plain("user", "password")))),
        "235 2.7.0"
    );
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    assert_eq!(st(&h.send("RSET")), "250 2.0.0");
    assert!(h.session().info().envelope().is_none());
    assert_eq!(
        h.session().info().auth().map(|a| a.username.clone()),
        Some("user".to_owned())
    );
    assert_eq!(st(&h.send("RCPT TO:<b@b.test>")), "503 5.5.1");
    assert_eq!(
        st(&h.send(&format!("AUTH PLAIN {}", plain("x", "y")))),
        "503 5.5.1"
    );
}

// ------------------------------------------------- after a refused message

#[test]
fn after_a_sink_rejection_the_next_mail_needs_no_rset() {
    let mut first = true;
    let mut h = ehlo(config()).with_sink(move |_| {
        if std::mem::take(&mut first) {
            let reply = Reply::new(451, EnhancedCode::new(4, 3, 0), "try later").unwrap();
            Verdict::reject_with(reply)
        } else {
            Verdict::accept()
        }
    });
    open_data(&mut h);
    assert_eq!(
        wire(&h.send_raw(b"one\r\n.\r\n")),
        "451 4.3.0 try later\r\n"
    );
    assert!(h.session().info().envelope().is_none());
    open_data(&mut h);
    assert_eq!(sts(&h.send_raw(b"two\r\n.\r\n")), ["250 2.0.0"]);
    assert_eq!(h.delivered().len(), 1);
    assert_eq!(h.delivered()[0].data, b"two\r\n");
    assert_eq!(h.session().info().transactions(), 1);
}

#[test]
fn after_an_oversized_message_the_next_mail_needs_no_rset() {
    let mut c = config();
    c.limits.max_message_size = 100;
    let mut h = ehlo(c);
    open_data(&mut h);
    let mut body = vec![b'x'; 200];
    body.extend_from_slice(b"\r\n.\r\n");
    assert_eq!(sts(&h.send_raw(&body)), ["552 5.3.4"]);
    open_data(&mut h);
    assert_eq!(sts(&h.send_raw(b"small\r\n.\r\n")), ["250 2.0.0"]);
    assert_eq!(h.delivered().len(), 1);
}

#[test]
fn after_a_bare_lf_message_the_next_mail_needs_no_rset() {
    let mut h = ehlo(config());
    open_data(&mut h);
    assert_eq!(sts(&h.send_raw(b"a\nb\r\n.\r\n")), ["550 5.5.2"]);
    assert!(h.delivered().is_empty());
    open_data(&mut h);
    assert_eq!(sts(&h.send_raw(b"a\r\nb\r\n.\r\n")), ["250 2.0.0"]);
    assert_eq!(h.delivered()[0].data, b"a\r\nb\r\n");
}

// ------------------------------------------------------------ paths

#[test]
fn null_reverse_path_and_postmaster() {
    let mut h = ehlo(config());
    assert_eq!(st(&h.send("MAIL FROM:<>")), "250 2.1.0");
    assert_eq!(st(&h.send("RCPT TO:<Postmaster>")), "250 2.1.5");
    assert_eq!(st(&h.send("RCPT TO:<postmaster>")), "250 2.1.5");
    assert_eq!(st(&h.send("RCPT TO:<>")), "501 5.1.3");
    assert_eq!(st(&h.send("DATA")), "354");
    assert_eq!(sts(&h.send_raw(b"bounce\r\n.\r\n")), ["250 2.0.0"]);
    let env = &h.delivered()[0].envelope;
    assert_eq!(env.reverse_path, ReversePath::Null);
    assert_eq!(env.recipients.len(), 2);
    assert!(
        env.recipients
            .iter()
            .all(|r| r.path == ForwardPath::Postmaster)
    );
    // The bare Postmaster is no sender.
    assert_eq!(st(&h.send("MAIL FROM:<Postmaster>")), "501 5.1.7");
}

// ------------------------------------------------------------ limits

#[test]
fn lim9_lim10_recipient_limit() {
    let mut c = config();
    c.limits.max_recipients = 100;
    let mut h = ehlo(c);
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    for n in 1..=100 {
        assert_eq!(st(&h.send(&format!("RCPT TO:<r{n}@b.test>"))), "250 2.1.5");
    }
    for n in 101..=102 {
        assert_eq!(
            st(&h.send(&format!("RCPT TO:<r{n}@b.test>"))),
            "452 4.5.3",
            "RCPT {n}"
        );
    }
    assert_eq!(st(&h.send("DATA")), "354");
    assert_eq!(sts(&h.send_raw(b"hi\r\n.\r\n")), ["250 2.0.0"]);
    let recipients = &h.delivered()[0].envelope.recipients;
    assert_eq!(recipients.len(), 100);
    assert_eq!(recipients[0].path.to_string(), "<r1@b.test>");
    assert_eq!(recipients[99].path.to_string(), "<r100@b.test>");
    // The limit is per transaction.
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    assert_eq!(st(&h.send("RCPT TO:<again@b.test>")), "250 2.1.5");
}

#[test]
fn lim10_small_limit_in_one_pipelined_write() {
    let mut c = config();
    c.limits.max_recipients = 2;
    let mut h = ehlo(c);
    let replies = h.send_raw(
        b"MAIL FROM:<a@a.test>\r\nRCPT TO:<1@b.test>\r\nRCPT TO:<2@b.test>\r\n\
          RCPT TO:<3@b.test>\r\nRCPT TO:<4@b.test>\r\nDATA\r\nx\r\n.\r\n",
    );
    assert_eq!(
        sts(&replies),
        [
            "250 2.1.0",
            "250 2.1.5",
            "250 2.1.5",
            "452 4.5.3",
            "452 4.5.3",
            "354",
            "250 2.0.0"
        ]
    );
    assert_eq!(h.delivered()[0].envelope.recipients.len(), 2);
}

#[test]
fn lim11_size_parameter_over_the_limit() {
    let mut c = config();
    c.limits.max_message_size = 10_000;
    let mut h = ehlo(c);
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test> SIZE=10001")), "552 5.3.4");
    assert_eq!(st(&h.send("RCPT TO:<b@b.test>")), "503 5.5.1");
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test> SIZE=10000")), "250 2.1.0");
}

#[test]
fn lim12_streaming_oversize_is_drained_and_refused() {
    for chunk in [usize::MAX, 333, 1] {
        let mut c = config();
        c.limits.max_message_size = 10_000;
        let (mut h, calls) = counting_sink(ehlo(c));
        open_data(&mut h);
        let line = [&[b'x'; 98][..], b"\r\n"].concat();
        let mut body = line.repeat(140);
        assert_eq!(body.len(), 14_000);
        body.extend_from_slice(b".\r\nNOOP\r\n");
        let mut replies = Vec::new();
        for piece in body.chunks(chunk.min(body.len())) {
            replies.extend(h.send_raw(piece));
        }
        assert_eq!(sts(&replies), ["552 5.3.4", "250 2.0.0"], "chunk {chunk}");
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        assert!(h.delivered().is_empty());
        assert!(!h.is_closed());
        open_data(&mut h);
        assert_eq!(sts(&h.send_raw(b"ok\r\n.\r\n")), ["250 2.0.0"]);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}

#[test]
fn lim1_a_512_octet_command_line_is_accepted() {
    let mut h = ehlo(config());
    let line = format!("NOOP {}", "A".repeat(505));
    assert_eq!(line.len() + 2, 512);
    assert_eq!(st(&h.send(&line)), "250 2.0.0");
}

#[test]
fn lim2_a_513_octet_command_line_gets_500_5_5_6_then_recovers() {
    let mut h = ehlo(config());
    let line = format!("NOOP {}", "A".repeat(506));
    assert_eq!(line.len() + 2, 513);
    assert_eq!(st(&h.send(&line)), "500 5.5.6");
    assert_eq!(st(&h.send("NOOP")), "250 2.0.0");
    // Also when the following command is in the same write.
    let replies = h.send_raw(format!("{line}\r\nNOOP\r\n").as_bytes());
    assert_eq!(sts(&replies), ["500 5.5.6", "250 2.0.0"]);
}

#[test]
fn lim3_a_64k_line_gets_one_500_then_recovers() {
    let mut line = b"NOOP ".to_vec();
    line.extend(std::iter::repeat_n(b'A', 65_536));
    line.extend_from_slice(b"\r\nNOOP\r\n");
    for chunk in [line.len(), 4096, 1000, 7] {
        let mut h = ehlo(config());
        let mut replies = Vec::new();
        for piece in line.chunks(chunk) {
            replies.extend(h.send_raw(piece));
        }
        assert_eq!(sts(&replies), ["500 5.5.6", "250 2.0.0"], "chunk {chunk}");
        assert!(!h.is_closed());
    }
}

#[test]
fn lim4_a_1000_octet_data_line_is_accepted() {
    let mut h = ehlo(config());
    open_data(&mut h);
    let mut body = vec![b'x'; 998];
    body.extend_from_slice(b"\r\n");
    let mut input = body.clone();
    input.extend_from_slice(b".\r\n");
    assert_eq!(sts(&h.send_raw(&input)), ["250 2.0.0"]);
    assert_eq!(h.delivered()[0].data, body);
}

// ------------------------------------------------------------- SMTPUTF8

#[test]
fn utf8_addresses_need_smtputf8() {
    let mut h = ehlo(config());
    assert_eq!(st(&h.send("MAIL FROM:<jörg@exämple.test>")), "553 5.6.7");
    assert_eq!(
        st(&h.send("MAIL FROM:<jörg@exämple.test> SMTPUTF8")),
        "250 2.1.0"
    );
    assert_eq!(st(&h.send("RCPT TO:<müller@b.test>")), "250 2.1.5");
    assert_eq!(st(&h.send("RSET")), "250 2.0.0");
    // RCPT with UTF-8 needs SMTPUTF8 on the MAIL.
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    assert_eq!(st(&h.send("RCPT TO:<müller@b.test>")), "553 5.6.7");
    assert_eq!(st(&h.send("RCPT TO:<b@bücher.test>")), "553 5.6.7");
    assert_eq!(st(&h.send("RCPT TO:<b@b.test>")), "250 2.1.5");
    assert_eq!(st(&h.send("DATA")), "354");
    assert_eq!(sts(&h.send_raw(b"x\r\n.\r\n")), ["250 2.0.0"]);
    assert_eq!(h.delivered()[0].envelope.recipients.len(), 1);
}

// ------------------------------------------------------------------ AUTH

#[test]
fn auth_plain_with_initial_response() {
    let mut h = ehlo(auth_config()).with_policy(check_password);
    let r = h.send("AUTH PLAIN AHVzZXIAcGFzc3dvcmQ=");
    assert_eq!(r.to_string(), "235 2.7.0 Authentication successful\r\n");
    let auth = h.session().info().auth().cloned().unwrap();
    assert_eq!(auth.username, "user");
    assert_eq!(auth.mechanism, Mechanism::Plain);
    assert_eq!(auth.authzid, None);
    let creds: Vec<_> = h
        .pendings()
        .iter()
        .filter_map(|p| match p {
            Pending::Authenticate { credentials } => Some(credentials.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(creds.len(), 1);
    assert_eq!(creds[0].username(), "user");
    assert_eq!(creds[0].password(), "password");
}

#[test]
fn auth_plain_with_334_then_response() {
    let mut h = ehlo(auth_config()).with_policy(check_password);
    assert_eq!(h.send("AUTH PLAIN").to_string(), "334 \r\n");
    assert_eq!(authenticate_count(&h), 0);
    assert_eq!(st(&h.send(&plain("user", "password"))), "235 2.7.0");
    assert!(h.session().info().auth().is_some());
}

#[test]
fn auth_login_three_steps() {
    let mut h = ehlo(auth_config()).with_policy(check_password);
    assert_eq!(h.send("AUTH LOGIN").to_string(), "334 VXNlcm5hbWU6\r\n");
    assert_eq!(
        h.send(&encode_base64(b"user")).to_string(),
        "334 UGFzc3dvcmQ6\r\n"
    );
    assert_eq!(st(&h.send(&encode_base64(b"password"))), "235 2.7.0");
    let auth = h.session().info().auth().cloned().unwrap();
    assert_eq!(auth.username, "user");
    assert_eq!(auth.mechanism, Mechanism::Login);
}

#[test]
fn auth_login_with_initial_user_name() {
    let mut h = ehlo(auth_config()).with_policy(check_password);
    assert_eq!(
        h.send(&format!("AUTH LOGIN {}", encode_base64(b"user")))
            .to_string(),
        "334 UGFzc3dvcmQ6\r\n"
    );
    assert_eq!(st(&h.send(&encode_base64(b"password"))), "235 2.7.0");
    assert_eq!(h.session().info().auth().unwrap().username, "user");
}

#[test]
fn auth_star_cancels_with_501() {
    for start in ["AUTH PLAIN", "AUTH LOGIN"] {
        let mut h = ehlo(auth_config()).with_policy(check_password);
        assert_eq!(h.send(start).code().get(), 334);
        assert_eq!(h.send("*").code().get(), 501);
        assert!(h.session().info().auth().is_none());
        assert_eq!(authenticate_count(&h), 0);
        // Back to commands, and AUTH can start again.
        assert_eq!(st(&h.send("NOOP")), "250 2.0.0");
        assert_eq!(
            st(&h.send(&format!("AUTH PLAIN {}", plain("u", "password")))),
            "235 2.7.0"
        );
    }
    // Cancelling LOGIN at the password step.
    let mut h = ehlo(auth_config()).with_policy(check_password);
    assert_eq!(h.send("AUTH LOGIN").code().get(), 334);
    assert_eq!(h.send(&encode_base64(b"user")).code().get(), 334);
    assert_eq!(h.send("*").code().get(), 501);
    assert!(h.session().info().auth().is_none());
}

#[test]
fn auth_bad_base64_is_501_5_5_2() {
    let mut h = ehlo(auth_config()).with_policy(check_password);
    assert_eq!(st(&h.send("AUTH PLAIN !!!notbase64")), "501 5.5.2");
    assert_eq!(h.send("AUTH PLAIN").code().get(), 334);
    assert_eq!(st(&h.send("!!!notbase64")), "501 5.5.2");
    assert_eq!(h.send("AUTH LOGIN").code().get(), 334);
    assert_eq!(st(&h.send("Zm 9v")), "501 5.5.2");
    assert_eq!(authenticate_count(&h), 0);
    assert!(h.session().info().auth().is_none());
}

#[test]
fn auth_unknown_mechanism_is_504_5_5_4() {
    let mut h = ehlo(auth_config());
    assert_eq!(st(&h.send("AUTH FOOBAR")), "504 5.5.4");
    assert_eq!(st(&h.send("AUTH CRAM-MD5")), "504 5.5.4");
    // A known mechanism that is not configured is unknown too.
    let mut c = auth_config();
    c.auth_mechanisms = vec![Mechanism::Plain];
    let mut h = ehlo(c);
    assert_eq!(st(&h.send("AUTH LOGIN")), "504 5.5.4");
    assert!(
        h.pendings()
            .iter()
            .all(|p| !matches!(p, Pending::Auth { .. }))
    );
}

#[test]
fn auth_sequence_errors_are_503() {
    // A second AUTH after success.
    let mut h = ehlo(auth_config()).with_policy(check_password);
    assert_eq!(
        st(&h.send(&format!("AUTH PLAIN {}", plain("u", "password")))),
        "235 2.7.0"
    );
    assert_eq!(
        st(&h.send(&format!("AUTH PLAIN {}", plain("v", "password")))),
        "503 5.5.1"
    );
    assert_eq!(h.session().info().auth().unwrap().username, "u");
    // AUTH during a transaction.
    let mut h = ehlo(auth_config()).with_policy(check_password);
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    assert_eq!(
        st(&h.send(&format!("AUTH PLAIN {}", plain("u", "password")))),
        "503 5.5.1"
    );
    assert!(h.session().info().auth().is_none());
    // AUTH after HELO.
    let mut h = greeted(auth_config()).with_policy(check_password);
    assert_eq!(st(&h.send("HELO client.test")), "250");
    assert_eq!(
        st(&h.send(&format!("AUTH PLAIN {}", plain("u", "password")))),
        "503"
    );
    // AUTH before any greeting.
    let mut h = greeted(auth_config()).with_policy(check_password);
    assert_eq!(
        st(&h.send(&format!("AUTH PLAIN {}", plain("u", "password")))),
        "503"
    );
    assert_eq!(authenticate_count(&h), 0);
}

#[test]
fn failed_auth_leaves_the_session_unauthenticated_and_can_be_retried() {
    let mut h = ehlo(auth_config()).with_policy(check_password);
    assert_eq!(
        h.send(&format!("AUTH PLAIN {}", plain("user", "wrong")))
            .to_string(),
        "535 5.7.8 Bad username or password\r\n"
    );
    assert!(h.session().info().auth().is_none());
    // LOGIN failure too.
    assert_eq!(h.send("AUTH LOGIN").code().get(), 334);
    assert_eq!(h.send(&encode_base64(b"user")).code().get(), 334);
    assert_eq!(st(&h.send(&encode_base64(b"wrong"))), "535 5.7.8");
    assert!(h.session().info().auth().is_none());
    // A retry with the right password works.
    assert_eq!(
        st(&h.send(&format!("AUTH PLAIN {}", plain("user", "password")))),
        "235 2.7.0"
    );
    assert!(h.session().info().auth().is_some());
}

#[test]
fn too_many_auth_failures_close_with_421() {
    let mut c = auth_config();
    c.limits.max_auth_failures = 3;
    let mut h = ehlo(c).with_policy(check_password);
    for _ in 0..2 {
        assert_eq!(
            st(&h.send(&format!("AUTH PLAIN {}", plain("u", "bad")))),
            "535 5.7.8"
        );
    }
    let replies = h.send_raw(format!("AUTH PLAIN {}\r\nNOOP\r\n", plain("u", "bad")).as_bytes());
    assert!(!replies.iter().any(|r| r.code().get() == 235));
    assert_eq!(st(replies.last().unwrap()), "421 4.7.0");
    assert!(replies.iter().all(|r| r.code().get() != 250), "{replies:?}");
    assert!(h.is_closed());
    assert!(h.session().info().auth().is_none());
    assert!(h.send_raw(b"NOOP\r\n").is_empty());
}

#[test]
fn auth_over_plaintext_without_permission_is_538_and_never_asks() {
    let mut c = auth_config();
    c.allow_insecure_auth = false;
    c.tls_available = true;
    let mut h = ehlo(c);
    assert_eq!(
        h.send("AUTH PLAIN AHVzZXIAcGFzc3dvcmQ=").to_string(),
        "538 5.7.11 Encryption required for requested authentication mechanism\r\n"
    );
    assert_eq!(st(&h.send("AUTH LOGIN")), "538 5.7.11");
    assert!(
        h.pendings()
            .iter()
            .all(|p| !matches!(p, Pending::Auth { .. } | Pending::Authenticate { .. })),
        "{:?}",
        h.pendings()
    );
    assert!(h.session().info().auth().is_none());
    // The session goes on.
    assert_eq!(st(&h.send("NOOP")), "250 2.0.0");
}

#[test]
fn auth_continuation_line_limit() {
    // A line of 12288 octets with its CRLF is read (and is bad base64 here).
    let mut h = ehlo(auth_config()).with_policy(check_password);
    assert_eq!(h.send("AUTH PLAIN").code().get(), 334);
    assert_eq!(st(&h.send(&"A".repeat(12_286))), "501 5.5.2");
    // One octet more is too long.
    assert_eq!(h.send("AUTH PLAIN").code().get(), 334);
    assert_eq!(st(&h.send(&"A".repeat(12_287))), "500 5.5.6");
    assert_eq!(st(&h.send("NOOP")), "250 2.0.0");
    // And much longer, in pieces: one reply, then commands again.
    assert_eq!(h.send("AUTH LOGIN").code().get(), 334);
    let mut input = vec![b'A'; 100_000];
    input.extend_from_slice(b"\r\nNOOP\r\n");
    let mut replies = Vec::new();
    for piece in input.chunks(1024) {
        replies.extend(h.send_raw(piece));
    }
    assert_eq!(sts(&replies), ["500 5.5.6", "250 2.0.0"]);
    assert_eq!(authenticate_count(&h), 0);
}

// ----------------------------------------------------- errors and timeouts

#[test]
fn the_21st_bad_command_gets_421_and_close() {
    let mut c = config();
    c.limits.max_errors = 20;
    let mut h = ehlo(c);
    for n in 1..=20 {
        assert_eq!(st(&h.send("FROB")), "500 5.5.2", "error {n}");
    }
    assert_eq!(
        h.send("FROB").to_string(),
        "421 4.7.0 Error: too many errors\r\n"
    );
    assert!(h.is_closed());
    assert!(h.send_raw(b"NOOP\r\n").is_empty());
}

#[test]
fn sequence_errors_count_towards_the_error_limit() {
    let mut c = config();
    c.limits.max_errors = 3;
    let mut h = ehlo(c);
    let replies =
        h.send_raw(b"RCPT TO:<a@b.test>\r\nDATA\r\nFROB\r\nNOOP\r\nMAIL FROM:<x\r\nNOOP\r\n");
    assert_eq!(
        sts(&replies),
        [
            "503 5.5.1",
            "503 5.5.1",
            "500 5.5.2",
            "250 2.0.0",
            "421 4.7.0"
        ]
    );
    assert!(h.is_closed());
}

#[test]
fn timed_out_replies_421_4_4_2_and_closes() {
    let mut h = ehlo(config());
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    h.session().timed_out();
    let replies = h.run();
    assert_eq!(
        wire(&replies),
        "421 4.4.2 localhost Error: timeout exceeded\r\n"
    );
    assert!(h.is_closed());
    assert_eq!(h.session().timeout(), None);
    assert!(h.send_raw(b"NOOP\r\n").is_empty());
}

/// Polls, accepting every decision, until a delivery is pending or the
/// session needs input. Returns the replies' wire form and whether a
/// delivery is pending.
fn pump(s: &mut Session) -> (String, bool) {
    let mut out = String::new();
    while let Some(event) = s.poll_event() {
        match event {
            Event::Reply(r) => out.push_str(&r.to_string()),
            Event::Decide(_) => s.decide(Verdict::accept()).unwrap(),
            Event::Deliver(_) => return (out, true),
            _ => {}
        }
    }
    (out, false)
}

fn session(config: SessionConfig) -> Session {
    let peer: SocketAddr = ([127, 0, 0, 1], 4567).into();
    let local: SocketAddr = ([127, 0, 0, 1], 25).into();
    Session::new(Arc::new(config), ConnectionInfo::new(peer, local))
}

#[test]
fn timeout_kind_follows_the_phase() {
    let mut s = session(config());
    assert_eq!(s.timeout(), Some(TimeoutKind::Command));
    pump(&mut s);
    assert_eq!(s.timeout(), Some(TimeoutKind::Command));
    s.receive(b"EHLO c.test\r\nMAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\n");
    pump(&mut s);
    assert_eq!(s.timeout(), Some(TimeoutKind::Command));
    s.receive(b"DATA\r\n");
    let (out, _) = pump(&mut s);
    assert!(out.starts_with("354 "), "{out}");
    assert_eq!(s.timeout(), Some(TimeoutKind::DataBlock));
    s.receive(b"partial line");
    pump(&mut s);
    assert_eq!(s.timeout(), Some(TimeoutKind::DataBlock));
    s.receive(b"\r\n.\r\n");
    let (_, delivering) = pump(&mut s);
    assert!(delivering);
    assert_eq!(s.timeout(), Some(TimeoutKind::DataTermination));
    assert!(s.is_waiting_for_decision());
    s.decide(Verdict::accept()).unwrap();
    let (out, _) = pump(&mut s);
    assert!(out.starts_with("250 2.0.0"), "{out}");
    assert_eq!(s.timeout(), Some(TimeoutKind::Command));
}

#[test]
fn timed_out_while_a_delivery_is_pending_drops_it() {
    let mut s = session(config());
    pump(&mut s);
    s.receive(b"EHLO c.test\r\nMAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nDATA\r\nx\r\n.\r\n");
    let (_, delivering) = pump(&mut s);
    assert!(delivering);
    s.timed_out();
    let (out, _) = pump(&mut s);
    assert_eq!(out, "421 4.4.2 localhost Error: timeout exceeded\r\n");
    assert!(s.is_closed());
    assert_eq!(
        s.decide(Verdict::accept()),
        Err(ApiMisuse::NoPendingDecision)
    );
}

#[test]
fn shutdown_when_idle_closes_at_once() {
    let mut h = ehlo(config());
    h.session().shutdown();
    assert_eq!(
        wire(&h.run()),
        "421 4.3.2 localhost Service shutting down\r\n"
    );
    assert!(h.is_closed());
}

#[test]
fn shutdown_mid_transaction_waits_for_its_final_reply() {
    let mut h = ehlo(config());
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    h.session().shutdown();
    assert!(h.run().is_empty());
    assert!(!h.is_closed());
    assert_eq!(st(&h.send("RCPT TO:<b@b.test>")), "250 2.1.5");
    assert_eq!(st(&h.send("DATA")), "354");
    assert!(h.send_raw(b"partial\r\n").is_empty());
    let replies = h.send_raw(b".\r\nNOOP\r\n");
    assert_eq!(sts(&replies), ["250 2.0.0", "421 4.3.2"]);
    assert!(h.is_closed());
    assert_eq!(h.delivered().len(), 1);
}

#[test]
fn shutdown_mid_transaction_ends_after_rset() {
    let mut h = ehlo(config());
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    h.session().shutdown();
    assert!(h.run().is_empty());
    assert_eq!(sts(&h.send_raw(b"RSET\r\n")), ["250 2.0.0", "421 4.3.2"]);
    assert!(h.is_closed());
}

// ---------------------------------------------------------------- Verdict

fn reply(code: u16, e: Option<(u8, u16, u16)>, text: &str) -> Reply {
    let e = e.map(|(c, s, d)| EnhancedCode::new(c, s, d).unwrap());
    Reply::new(code, e, text.to_owned()).unwrap()
}

#[test]
fn custom_single_and_multi_line_replies() {
    let mut h = ehlo(config()).with_policy(|p, _| match p {
        Pending::MailFrom { reverse_path, .. } if reverse_path.to_string().contains("evil") => {
            Verdict::reject_with(
                Reply::multiline(553, EnhancedCode::new(5, 7, 1), ["Go away", "Evil IP"]).unwrap(),
            )
        }
        Pending::RcptTo { forward_path, .. } if forward_path.to_string().contains("nobody") => {
            Verdict::reject_with(reply(550, Some((5, 1, 1)), "No such user"))
        }
        Pending::RcptTo { .. } => {
            Verdict::accept_with(reply(250, Some((2, 1, 5)), "Recipient fine"))
        }
        _ => Verdict::accept(),
    });
    assert_eq!(
        h.send("MAIL FROM:<x@evil.test>").to_string(),
        "553-5.7.1 Go away\r\n553 5.7.1 Evil IP\r\n"
    );
    assert_eq!(st(&h.send("MAIL FROM:<x@good.test>")), "250 2.1.0");
    assert_eq!(
        h.send("RCPT TO:<nobody@b.test>").to_string(),
        "550 5.1.1 No such user\r\n"
    );
    assert_eq!(
        h.send("RCPT TO:<b@b.test>").to_string(),
        "250 2.1.5 Recipient fine\r\n"
    );
    assert_eq!(st(&h.send("DATA")), "354");
    assert_eq!(sts(&h.send_raw(b"x\r\n.\r\n")), ["250 2.0.0"]);
    assert_eq!(h.delivered()[0].envelope.recipients.len(), 1);
}

#[test]
fn custom_replies_lose_their_enhanced_code_after_helo() {
    let mut h = greeted(config()).with_policy(|p, _| match p {
        Pending::RcptTo { .. } => Verdict::reject_with(reply(550, Some((5, 1, 1)), "No such user")),
        _ => Verdict::accept(),
    });
    assert_eq!(st(&h.send("HELO c.test")), "250");
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250");
    assert_eq!(
        h.send("RCPT TO:<b@b.test>").to_string(),
        "550 No such user\r\n"
    );
}

#[test]
fn and_close_sends_the_reply_then_closes() {
    let mut h = ehlo(config()).with_policy(|p, _| match p {
        Pending::RcptTo { .. } => {
            Verdict::reject_with(reply(554, Some((5, 7, 1)), "Go away")).and_close()
        }
        _ => Verdict::accept(),
    });
    let replies = h.send_raw(b"MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nNOOP\r\n");
    assert_eq!(wire(&replies), "250 2.1.0 OK\r\n554 5.7.1 Go away\r\n");
    assert!(h.is_closed());
    assert!(h.send_raw(b"NOOP\r\n").is_empty());

    // Accepting and closing.
    let mut h = ehlo(config()).with_policy(|p, _| match p {
        Pending::MailFrom { .. } => Verdict::accept().and_close(),
        _ => Verdict::accept(),
    });
    let replies = h.send_raw(b"MAIL FROM:<a@a.test>\r\nNOOP\r\n");
    assert_eq!(sts(&replies), ["250 2.1.0"]);
    assert!(h.is_closed());
}

#[test]
fn disconnect_closes_without_a_reply() {
    let mut h = ehlo(config()).with_policy(|p, _| match p {
        Pending::MailFrom { .. } => Verdict::disconnect(),
        _ => Verdict::accept(),
    });
    assert!(h.send_raw(b"MAIL FROM:<a@a.test>\r\nNOOP\r\n").is_empty());
    assert!(h.is_closed());

    // At connect: no greeting at all.
    let mut h = Harness::new().with_policy(|_, _| Verdict::disconnect());
    assert!(h.run().is_empty());
    assert!(h.is_closed());
}

#[test]
fn rejected_connection_gets_554_and_closes() {
    let mut h = Harness::new().with_policy(|_, _| Verdict::reject());
    assert_eq!(wire(&h.run()), "554 SMTP service not available\r\n");
    assert!(h.is_closed());
}

#[test]
fn accept_with_a_failure_reply_becomes_451_and_a_rejection() {
    let mut h = ehlo(config()).with_policy(|p, _| match p {
        Pending::MailFrom { .. } => Verdict::accept_with(reply(550, Some((5, 7, 1)), "no")),
        _ => Verdict::accept(),
    });
    assert_eq!(
        h.send("MAIL FROM:<a@a.test>").to_string(),
        "451 4.3.0 Internal policy error\r\n"
    );
    assert!(h.session().info().envelope().is_none());
    assert_eq!(st(&h.send("RCPT TO:<b@b.test>")), "503 5.5.1");
}

#[test]
fn reject_with_a_success_reply_becomes_451_and_a_rejection() {
    let mut h = ehlo(config()).with_policy(|p, _| match p {
        Pending::RcptTo { .. } => Verdict::reject_with(reply(250, Some((2, 1, 5)), "fine?")),
        _ => Verdict::accept(),
    });
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    assert_eq!(st(&h.send("RCPT TO:<b@b.test>")), "451 4.3.0");
    assert_eq!(h.session().info().envelope().unwrap().recipients.len(), 0);
    assert_eq!(st(&h.send("DATA")), "554 5.5.1");
}

#[test]
fn accepting_data_with_a_non_3xx_reply_becomes_451() {
    let mut h = ehlo(config()).with_policy(|p, _| match p {
        Pending::Data => Verdict::accept_with(reply(250, None, "go")),
        _ => Verdict::accept(),
    });
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    assert_eq!(st(&h.send("RCPT TO:<b@b.test>")), "250 2.1.5");
    assert_eq!(st(&h.send("DATA")), "451 4.3.0");
    // Not in DATA mode: the next line is a command.
    assert_eq!(st(&h.send("NOOP")), "250 2.0.0");
}

#[test]
fn sink_accepting_with_a_failure_reply_becomes_451() {
    let mut h = ehlo(config()).with_sink(|_| Verdict::accept_with(reply(554, None, "no")));
    open_data(&mut h);
    assert_eq!(sts(&h.send_raw(b"x\r\n.\r\n")), ["451 4.3.0"]);
    assert_eq!(h.session().info().transactions(), 0);
}

#[test]
fn custom_354_for_data() {
    let mut h = ehlo(config()).with_policy(|p, _| match p {
        Pending::Data => Verdict::accept_with(reply(354, None, "Go ahead, end with <CRLF>.<CRLF>")),
        _ => Verdict::accept(),
    });
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    assert_eq!(st(&h.send("RCPT TO:<b@b.test>")), "250 2.1.5");
    assert_eq!(
        h.send("DATA").to_string(),
        "354 Go ahead, end with <CRLF>.<CRLF>\r\n"
    );
    assert_eq!(sts(&h.send_raw(b"hello\r\n.\r\n")), ["250 2.0.0"]);
    assert_eq!(h.delivered()[0].data, b"hello\r\n");
}

#[test]
fn rejected_data_keeps_the_transaction() {
    let mut h = ehlo(config()).with_policy(|p, _| match p {
        Pending::Data => Verdict::reject_with(reply(451, Some((4, 3, 0)), "later")),
        _ => Verdict::accept(),
    });
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    assert_eq!(st(&h.send("RCPT TO:<b@b.test>")), "250 2.1.5");
    assert_eq!(h.send("DATA").to_string(), "451 4.3.0 later\r\n");
    // The body lines are commands now.
    assert_eq!(st(&h.send("NOOP")), "250 2.0.0");
    assert!(h.delivered().is_empty());
}

// ----------------------------------------------------------- other verbs

#[test]
fn vrfy_expn_help() {
    let mut h = ehlo(config());
    assert_eq!(st(&h.send("VRFY someone")), "252 2.5.2");
    assert!(
        h.pendings()
            .iter()
            .any(|p| matches!(p, Pending::Vrfy { argument } if argument == "someone"))
    );
    assert_eq!(st(&h.send("EXPN list")), "502 5.5.1");
    let help = h.send("HELP");
    assert_eq!(help.code().get(), 214);
    assert!(help.text().contains("MAIL"));
    assert_eq!(st(&h.send("VRFY")), "501 5.5.4");
}

#[test]
fn api_misuse_is_reported() {
    let mut h = ehlo(config());
    assert_eq!(
        h.session().decide(Verdict::accept()),
        Err(ApiMisuse::NoPendingDecision)
    );
    assert_eq!(
        h.session().tls_established(TlsInfo::new("TLSv1.3", "X")),
        Err(ApiMisuse::NoTlsHandshake)
    );
    // The session is unharmed.
    assert_eq!(st(&h.send("NOOP")), "250 2.0.0");
}

#[test]
fn pipelined_transactions_keep_their_replies_in_order() {
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let b = Arc::clone(&bodies);
    let mut h = ehlo(config()).with_sink(move |t| {
        b.lock().unwrap().push(t.data.clone());
        Verdict::accept()
    });
    let replies = h.send_raw(
        b"MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nDATA\r\none\r\n.\r\n\
          MAIL FROM:<c@a.test>\r\nRCPT TO:<d@b.test>\r\nDATA\r\n..two\r\n.\r\nQUIT\r\n",
    );
    assert_eq!(
        sts(&replies),
        [
            "250 2.1.0",
            "250 2.1.5",
            "354",
            "250 2.0.0",
            "250 2.1.0",
            "250 2.1.5",
            "354",
            "250 2.0.0",
            "221 2.0.0"
        ]
    );
    assert_eq!(
        *bodies.lock().unwrap(),
        vec![b"one\r\n".to_vec(), b".two\r\n".to_vec()]
    );
    assert!(h.is_closed());
}

#[test]
fn an_overlong_line_gets_the_same_reply_however_it_ends_or_arrives() {
    for ending in [&b"\r\n"[..], b"\n"] {
        let mut input = b"NOOP ".to_vec();
        input.extend(std::iter::repeat_n(b'A', 3000));
        input.extend_from_slice(ending);
        input.extend_from_slice(b"NOOP\r\n");
        for chunk in [input.len(), 100, 1] {
            let mut h = ehlo(config());
            let mut replies = Vec::new();
            for piece in input.chunks(chunk) {
                replies.extend(h.send_raw(piece));
            }
            assert_eq!(
                sts(&replies),
                ["500 5.5.6", "250 2.0.0"],
                "ending {ending:?}, chunk {chunk}"
            );
        }
        // The same for a SASL continuation line.
        let mut input = vec![b'A'; 13_000];
        input.extend_from_slice(ending);
        input.extend_from_slice(b"NOOP\r\n");
        for chunk in [input.len(), 1000] {
            let mut h = ehlo(auth_config());
            assert_eq!(h.send("AUTH LOGIN").code().get(), 334);
            let mut replies = Vec::new();
            for piece in input.chunks(chunk) {
                replies.extend(h.send_raw(piece));
            }
            assert_eq!(
                sts(&replies),
                ["500 5.5.6", "250 2.0.0"],
                "SASL, ending {ending:?}, chunk {chunk}"
            );
        }
    }
    // A short line with a bare LF is still refused as such.
    let mut h = ehlo(config());
    assert_eq!(
        h.send_raw(b"NOOP\n")[0].to_string(),
        "500 5.5.2 Bare <LF> received; lines must end with <CR><LF>\r\n"
    );
}
