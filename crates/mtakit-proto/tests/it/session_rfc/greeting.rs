//! The greeting, EHLO and its extensions, transactions after a refusal,
//! paths, limits and SMTPUTF8.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use mtakit_proto::testing::Harness;
use mtakit_proto::{
    ConnectionInfo, EnhancedCode, ForwardPath, Mechanism, Reply, ReversePath, SessionConfig,
    TlsInfo, Verdict,
};

use super::helpers::*;
use crate::support::{auth_config, check_password, config, ehlo_lines, greeted, plain, st, sts};

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
