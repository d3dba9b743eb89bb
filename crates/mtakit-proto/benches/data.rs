//! The DATA receiver in memory: dot-unstuffing and end detection over a
//! realistic message, fed in the driver's 16 KiB reads.
//!
//! `cargo bench -p mtakit-proto --bench data` (issue 6 asks for at least
//! 1 GB/s on one core).

#![allow(missing_docs)]

mod common;

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mtakit_proto::LineEndingPolicy;
use mtakit_proto::data::DataReceiver;

/// The size of one socket read in the tokio driver.
const READ_SIZE: usize = 16 * 1024;

/// A dot-stuffed message of about `size` octets with its terminator:
/// headers, then lines of 0 to 100 octets (mostly 60 to 78, some empty,
/// some base64-like runs of 76), about one line in 40 starting with a dot.
fn wire_message(size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 1024);
    out.extend_from_slice(
        b"Received: from client.example.com (client.example.com [192.0.2.1])\r\n\
          \tby mx.example.org with ESMTP id 4F3A2B1C; Tue, 24 Nov 2026 10:00:00 +0000\r\n\
          From: Alice <alice@example.com>\r\nTo: Bob <bob@example.org>\r\n\
          Subject: Quarterly figures\r\nMessage-ID: <1234.5678@example.com>\r\n\
          MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
    );
    // A small deterministic generator, so runs compare.
    let mut seed: u32 = 0x2545_f491;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    let text = b"The quick brown fox jumps over the lazy dog; 0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz";
    while out.len() < size {
        let r = next();
        let len = match r % 20 {
            0 => 0,
            1..=3 => 76,
            4 => (r >> 8) as usize % 100,
            _ => 60 + (r >> 8) as usize % 19,
        };
        if r % 40 == 7 {
            // A line starting with a dot, stuffed.
            out.extend_from_slice(b"..");
        }
        let start = (r >> 16) as usize % (text.len() - 100);
        out.extend_from_slice(&text[start..start + len]);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

fn receive(wire: &[u8]) -> usize {
    let mut rx = DataReceiver::new(64 << 20, LineEndingPolicy::Reject, None);
    let mut used = 0;
    for chunk in wire.chunks(READ_SIZE) {
        used += rx.feed(chunk);
    }
    assert!(rx.is_done());
    let outcome = rx.finish();
    used + outcome.content.len()
}

fn data(c: &mut Criterion) {
    let mut group = c.benchmark_group("data_receiver");
    for (name, size) in [("100KiB", 100 * 1024), ("1MiB", 1024 * 1024)] {
        let wire = wire_message(size);
        group.throughput(Throughput::Bytes(wire.len() as u64));
        group.bench_with_input(BenchmarkId::new("16KiB_reads", name), &wire, |b, wire| {
            b.iter(|| receive(black_box(wire)))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = data
}
criterion_main!(benches);
