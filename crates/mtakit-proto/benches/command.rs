//! The command parser on the lines a typical client sends.
//!
//! `cargo bench -p mtakit-proto --bench command`

#![allow(missing_docs)]

mod common;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mtakit_proto::Command;

/// Typical command lines, without their CRLF (as the session hands them to
/// the parser).
const LINES: &[(&str, &[u8])] = &[
    ("ehlo", b"EHLO client.example.com"),
    ("mail", b"MAIL FROM:<alice@example.com>"),
    (
        "mail_params",
        b"MAIL FROM:<alice.sender@mail.example.com> SIZE=10240 BODY=8BITMIME",
    ),
    ("rcpt", b"RCPT TO:<bob@example.org>"),
    (
        "rcpt_dsn",
        b"RCPT TO:<bob@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.org",
    ),
    ("data", b"DATA"),
    ("rset", b"RSET"),
    ("quit", b"QUIT"),
];

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("command_parse");
    group.throughput(Throughput::Elements(1));
    for (name, line) in LINES {
        assert!(Command::parse(line).is_ok(), "{name}");
        group.bench_function(*name, |b| b.iter(|| Command::parse(black_box(line))));
    }
    // One smtp-source transaction's worth of commands.
    let transaction: [&[u8]; 5] = [LINES[0].1, LINES[1].1, LINES[3].1, LINES[5].1, LINES[7].1];
    group.throughput(Throughput::Elements(transaction.len() as u64));
    group.bench_function("transaction_mix", |b| {
        b.iter(|| {
            for line in transaction {
                let _ = black_box(Command::parse(black_box(line)));
            }
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = parse
}
criterion_main!(benches);
