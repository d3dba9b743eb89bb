use mtakit_proto::testing::Harness;
use mtakit_proto::{Event, SessionConfig};

use super::*;
use crate::message::Message;
use crate::sink::{MaildirSink, MessageSink};

/// A fresh Maildir under the system's temp directory, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let root = std::env::temp_dir().join(format!("mtakit-read-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        for sub in ["tmp", "new", "cur"] {
            fs::create_dir_all(root.join(sub)).unwrap();
        }
        Dir(root)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A message with this content (no line may start with `.`), from
/// `<alice@example.com>` to `<bob@example.com>`, through a real session.
fn message(content: &[u8]) -> Message {
    let mut h = Harness::with_config(SessionConfig::new("t"));
    h.greeting();
    h.send("EHLO client.example");
    h.send("MAIL FROM:<alice@example.com>");
    h.send("RCPT TO:<bob@example.com>");
    h.send("DATA");
    let session = h.session();
    session.receive(content);
    session.receive(b".\r\n");
    loop {
        match session.poll_event() {
            Some(Event::Deliver(t)) => return Message::new(session.info(), t),
            Some(_) => {}
            None => panic!("no message"),
        }
    }
}

/// The content pretends to be the start of a Maildir file: a
/// `Return-Path:`, a record naming other recipients and a short `skip`,
/// and `Delivered-To:` lines.
const FORGED: &[u8] = b"Return-Path: <mallory@evil.example>\r\n\
X-Mtakit-Envelope: v=1;skip=0000000050;from=mallory@evil.example;\r\n to=spy@evil.example;\r\n\
Delivered-To: attacker@evil.example\r\n\
Subject: hi\r\n\r\nbody\r\n";

#[tokio::test]
async fn the_envelope_and_the_bytes_come_back_whatever_the_content_says() {
    let dir = Dir::new("forged");
    let sink = MaildirSink::create(&dir.0)
        .unwrap()
        .with_hostname("mx.test");
    let sent = message(FORGED);
    let id = sent.id().to_owned();
    let path = sink.delivered_path(&id);
    sink.deliver(sent).await.unwrap();

    let reader = sink.reader();
    let read = reader.read(&path).unwrap();
    assert_eq!(read.source(), EnvelopeSource::Record);
    assert_eq!(read.envelope().from, "alice@example.com");
    assert_eq!(read.envelope().to, ["bob@example.com"]);
    assert_eq!(read.envelope().helo.as_deref(), Some("client.example"));
    assert_eq!(read.data(), FORGED, "the message exactly as delivered");
    assert!(read.is_complete());
    assert_eq!(read.size(), FORGED.len() as u64);
    let file = fs::read(&path).unwrap();
    assert_eq!(read.skip() + FORGED.len(), file.len());
    assert!(read.id().starts_with(&id));

    // Listed and found by id, in new/ and after a reader moved it to cur/.
    let listed = reader.list().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].path(), path);
    let found = reader.find_new(read.id()).unwrap();
    assert_eq!(found.path(), path);
    let seen = dir.0.join("cur").join(format!("{}:2,S", read.id()));
    fs::rename(&path, &seen).unwrap();
    assert!(reader.find_new(read.id()).is_none());
    let moved = reader.messages().unwrap().next().unwrap().unwrap();
    assert_eq!((moved.id(), moved.data()), (read.id(), FORGED));

    // The first octets only.
    let head = reader.read_head(&seen, 10).unwrap();
    assert_eq!(head.data(), &FORGED[..10]);
    assert_eq!(head.size(), FORGED.len() as u64);
    assert!(!head.is_complete());
}

#[test]
fn a_file_without_a_record_gives_only_its_first_trace_lines() {
    let dir = Dir::new("trace");
    let reader = MaildirReader::new(&dir.0);
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.0.join("new").join(name);
        fs::write(&path, bytes).unwrap();
        reader.read(&path).unwrap()
    };
    let plain = b"Return-Path: <a@x>\r\nDelivered-To: <b@x>\r\nSubject: s\r\n\r\nb\r\n";
    let read = write("1.host", plain);
    assert_eq!(read.source(), EnvelopeSource::Trace);
    assert_eq!(
        (read.envelope().from.as_str(), &read.envelope().to[..]),
        ("a@x", &["b@x".to_owned()][..])
    );
    assert_eq!(read.data(), plain, "the whole file is the message");

    // A record anywhere but right after the first line is content.
    let late = [
        b"Return-Path: <a@x>\r\nDelivered-To: b@x\r\n".as_slice(),
        &FORGED[37..],
    ]
    .concat();
    let read = write("2.host", &late);
    assert_eq!(read.source(), EnvelopeSource::Trace);
    assert_eq!(read.envelope().to, ["b@x"], "one Delivered-To, never more");
    assert_eq!(read.data(), late);

    let read = write("3.host", b"Subject: x\r\n\r\n");
    assert_eq!(
        (read.envelope().from.as_str(), read.envelope().to.len()),
        ("", 0)
    );
}

#[test]
fn bad_files_are_reported_and_the_others_read() {
    let dir = Dir::new("bad");
    let reader = MaildirReader::new(&dir.0).with_max_file(1000);
    fs::write(
        dir.0.join("new").join("ok.host"),
        b"Subject: ok\r\n\r\nx\r\n",
    )
    .unwrap();
    let big = dir.0.join("new").join("big.host");
    fs::write(&big, vec![b'x'; 1001]).unwrap();
    // A record whose skip points past the end of the file.
    let record = MaildirEnvelope {
        from: "a@x".to_owned(),
        skip: 5000,
        ..MaildirEnvelope::default()
    };
    let cut = format!("Return-Path: <a@x>\r\n{}Subject: s\r\n", record.to_field());
    let cut_path = dir.0.join("cur").join("cut.host:2,");
    fs::write(&cut_path, cut).unwrap();
    fs::write(dir.0.join("new").join(".hidden"), b"x").unwrap();
    fs::create_dir(dir.0.join("new").join("a-dir")).unwrap();

    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for read in reader.messages().unwrap() {
        match read {
            Ok(message) => ok.push(message.id().to_owned()),
            Err(e) => bad.push(e),
        }
    }
    assert_eq!(ok, ["ok.host"]);
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert!(matches!(
        reader.read(&big),
        Err(MaildirReadError::TooLarge {
            size: 1001,
            limit: 1000,
            ..
        })
    ));
    assert!(matches!(
        reader.read(&cut_path),
        Err(MaildirReadError::Truncated { .. })
    ));
    // Only the head is read of a file over the limit.
    assert_eq!(reader.read_head(&big, 4).unwrap().data(), b"xxxx");
    assert!(matches!(
        reader.read(&dir.0.join("new").join("a-dir")),
        Err(MaildirReadError::NotAMessage { .. })
    ));
    assert!(matches!(
        reader.read(&dir.0.join("new").join("gone.host")),
        Err(MaildirReadError::Io { .. })
    ));
    assert!(
        reader
            .read(&big)
            .unwrap_err()
            .to_string()
            .contains("over the limit of 1000")
    );
}

#[test]
fn ids_never_leave_the_maildir() {
    let dir = Dir::new("ids");
    fs::write(dir.0.join("secret"), b"Subject: no\r\n\r\n").unwrap();
    let reader = MaildirReader::new(&dir.0);
    for id in [
        "../secret",
        "..",
        ".",
        "",
        "a/b",
        "x:2,S",
        "..\\secret",
        "a\0b",
    ] {
        assert!(!is_plain_id(id), "{id:?}");
        assert!(reader.find_new(id).is_none(), "{id:?}");
    }
    assert!(is_plain_id("1.2.host"));
}

/// The record of 1,000 long UTF-8 recipients is far longer than the first
/// read (64 KiB): the reader reads on for it, up to MAX_RECORD.
#[test]
fn a_long_record_is_read_whole() {
    let dir = Dir::new("long");
    let long = format!("{}@example.com", "\u{e9}".repeat(120));
    let mut record = MaildirEnvelope {
        from: "a@x".to_owned(),
        to: vec![long.clone(); 1000],
        ..MaildirEnvelope::default()
    };
    let head = format!("Return-Path: <a@x>\r\n{}", record.to_field());
    assert!(head.len() > 512 * 1024 && head.len() < MAX_RECORD);
    record.skip = head.len();
    let mut file = format!("Return-Path: <a@x>\r\n{}", record.to_field()).into_bytes();
    file.extend_from_slice(b"Subject: s\r\n\r\nbody\r\n");
    let path = dir.0.join("new").join("1.host");
    fs::write(&path, &file).unwrap();
    let read = MaildirReader::new(&dir.0).read(&path).unwrap();
    assert_eq!(read.source(), EnvelopeSource::Record);
    assert_eq!(read.envelope().to.len(), 1000);
    assert_eq!(read.envelope().to[999], long);
    assert_eq!(read.data(), b"Subject: s\r\n\r\nbody\r\n");
}
