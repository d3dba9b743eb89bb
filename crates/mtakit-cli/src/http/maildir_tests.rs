use std::time::UNIX_EPOCH;

use super::*;

/// A fresh Maildir under the system's temp directory.
struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let root = std::env::temp_dir().join(format!("mtakit-md-{tag}-{}", std::process::id()));
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

/// A file as `MaildirSink` writes it: Return-Path, record, trace, data.
fn file_for(record: &mut MaildirEnvelope, data: &[u8]) -> Vec<u8> {
    let return_path = format!("Return-Path: <{}>\r\n", record.from);
    let mut trace = String::new();
    for to in &record.to {
        trace.push_str(&format!("Delivered-To: {to}\r\n"));
    }
    trace.push_str("Received: from c.example ([127.0.0.1])\r\n\tby h; date\r\n");
    record.skip = return_path.len() + record.to_field().len() + trace.len();
    let mut file = format!("{return_path}{}{trace}", record.to_field()).into_bytes();
    file.extend_from_slice(data);
    file
}

fn record(from: &str, to: &[&str]) -> MaildirEnvelope {
    let mut record = MaildirEnvelope::default();
    record.from = from.to_owned();
    record.to = to.iter().map(|t| (*t).to_owned()).collect();
    record
}

/// The body tries to add recipients, ESMTP parameters and a command.
const HOSTILE: &[u8] = b"Delivered-To: attacker@evil.example\r\n\
Delivered-To: x@evil.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;spy@evil.example\r\n\
Delivered-To: y@evil.example>\rRCPT TO:<z@evil.example\r\n\
Subject: hi\r\n\r\nbody\n.\r\n";

#[test]
fn the_whole_envelope_comes_back_after_a_restart_whatever_the_body() {
    let dir = Dir::new("restart");
    let mut rec = record("alice@example.com", &["bob@example.com"]);
    rec.greeting = Some("EHLO".to_owned());
    rec.helo = Some("client.example".to_owned());
    rec.peer = Some("192.0.2.1:4567".to_owned());
    rec.tls_version = Some("TLSv1_3".to_owned());
    rec.tls_cipher = Some("TLS13_AES_256_GCM_SHA384".to_owned());
    rec.tls_sni = Some("mx.example".to_owned());
    rec.auth_mechanism = Some("PLAIN".to_owned());
    rec.auth_user = Some("alice".to_owned());
    rec.body = Some("BINARYMIME".to_owned());
    rec.received_at = Some(UNIX_EPOCH + Duration::from_micros(1_796_314_327_000_001));
    rec.findings = vec!["bare LF".to_owned()];
    let path = dir.0.join("new").join("1.a.host");
    fs::write(&path, file_for(&mut rec, HOSTILE)).unwrap();

    // A new process: nothing remembered.
    let stored = Maildir::new(dir.0.clone())
        .get("1.a.host")
        .unwrap()
        .unwrap();
    assert_eq!(stored.from, "alice@example.com");
    assert_eq!(stored.to, ["bob@example.com"]);
    assert_eq!(
        &stored.raw().unwrap()[..],
        HOSTILE,
        "the body is all message"
    );
    assert_eq!(stored.size, HOSTILE.len() as u64);
    assert_eq!(stored.received_at, rec.received_at.unwrap());
    let meta = stored.meta.as_ref().unwrap();
    assert_eq!(meta.helo.as_deref(), Some("client.example"));
    assert_eq!(meta.peer, "192.0.2.1:4567");
    let tls = meta.tls.as_ref().unwrap();
    assert_eq!(
        (
            tls.version.as_str(),
            tls.cipher.as_str(),
            tls.sni.as_deref()
        ),
        ("TLSv1_3", "TLS13_AES_256_GCM_SHA384", Some("mx.example"))
    );
    let auth = meta.auth.as_ref().unwrap();
    assert_eq!(
        (auth.mechanism.as_str(), auth.username.as_str()),
        ("PLAIN", "alice")
    );
    assert_eq!(meta.mail_params.body.as_deref(), Some("BINARYMIME"));
    assert_eq!(meta.findings, ["bare LF"]);
    assert_eq!(stored.subject(), Some("hi"));
}

#[test]
fn a_file_without_a_record_has_its_delivery_agent_envelope() {
    let dir = Dir::new("norecord");
    let open = |id: &str| Maildir::new(dir.0.clone()).get(id).unwrap().unwrap();
    let old = b"Return-Path: <a@x>\r\nDelivered-To: <b@x>\r\nSubject: s\r\n\r\nb\r\n";
    fs::write(dir.0.join("new").join("2.b.host"), old).unwrap();
    let stored = open("2.b.host");
    assert_eq!(stored.from, "a@x");
    assert_eq!(stored.to, ["b@x"], "one Delivered-To: one delivery");
    assert_eq!(&stored.raw().unwrap()[..], old);
    let hostile = [b"Return-Path: <a@x>\r\n".as_slice(), HOSTILE].concat();
    fs::write(dir.0.join("new").join("3.c.host"), &hostile).unwrap();
    assert_eq!(open("3.c.host").to, ["attacker@evil.example"], "never more");
    fs::write(dir.0.join("new").join("4.d.host"), b"Subject: x\r\n\r\n").unwrap();
    let stored = open("4.d.host");
    assert_eq!((stored.from.as_str(), stored.to.len()), ("", 0));
}

#[test]
fn ids_never_leave_the_maildir() {
    let dir = Dir::new("ids");
    fs::write(dir.0.join("secret"), b"Subject: no\r\n\r\n").unwrap();
    let maildir = Maildir::new(dir.0.clone());
    for id in ["../secret", "..", ".", "", "a/b", "x:2,S", "..\\secret"] {
        assert!(maildir.get(id).unwrap().is_none(), "{id}");
    }
}

/// Each file is read once; opening one message lists no directory.
#[test]
fn listing_and_opening_cost_linear_and_constant_work() {
    const N: usize = 2000;
    let dir = Dir::new("scan");
    for n in 0..N {
        let mut rec = record("a@example.com", &["b@example.com"]);
        let data = format!("Subject: message {n}\r\n\r\nbody\r\n");
        let sub = if n % 2 == 0 { "new" } else { "cur" };
        let name = if n % 2 == 0 {
            format!("{n}.x.host")
        } else {
            format!("{n}.x.host:2,S")
        };
        fs::write(
            dir.0.join(sub).join(name),
            file_for(&mut rec, data.as_bytes()),
        )
        .unwrap();
    }
    let maildir = Maildir::new(dir.0.clone());
    let work = || {
        let state = maildir.lock();
        (state.loads, state.listings)
    };
    assert_eq!(maildir.scan().unwrap().len(), N);
    assert_eq!(work(), (N, 1));
    assert_eq!(maildir.scan().unwrap().len(), N);
    assert_eq!(work().0, N, "a second listing reads no file again");

    // By id, in new/ and in cur/ (from the listing's index): no listing.
    let listings = work().1;
    assert_eq!(
        maildir.get("10.x.host").unwrap().unwrap().to,
        ["b@example.com"]
    );
    assert!(maildir.get("11.x.host").unwrap().is_some());
    assert!(maildir.get("no-such-id").unwrap().is_none());
    assert_eq!(work(), (N, listings + 1), "only the unknown id lists");

    // A new process opens one message reading one file, listing nothing.
    let fresh = Maildir::new(dir.0.clone());
    assert!(fresh.get("1998.x.host").unwrap().is_some());
    let state = fresh.lock();
    assert_eq!((state.loads, state.listings), (1, 0));
    drop(state);
    // Moved to cur/ by a reader: one listing finds it, then no more.
    fs::rename(
        dir.0.join("new").join("1998.x.host"),
        dir.0.join("cur").join("1998.x.host:2,S"),
    )
    .unwrap();
    assert!(fresh.get("1998.x.host").unwrap().is_some());
    assert!(fresh.get("1998.x.host").unwrap().is_some());
    assert_eq!(fresh.lock().listings, 1);
}

/// A file whose record points past its end is left out of the listing,
/// and the others are listed.
#[test]
fn a_damaged_file_does_not_stop_the_listing() {
    let dir = Dir::new("damaged");
    let mut good = record("a@example.com", &["b@example.com"]);
    fs::write(
        dir.0.join("new").join("1.ok.host"),
        file_for(&mut good, b"Subject: ok\r\n\r\nx\r\n"),
    )
    .unwrap();
    let mut bad = record("a@example.com", &["b@example.com"]);
    let mut file = file_for(&mut bad, b"Subject: cut\r\n\r\nx\r\n");
    file.truncate(bad.skip - 1);
    fs::write(dir.0.join("cur").join("2.cut.host:2,S"), file).unwrap();
    let listed = Maildir::new(dir.0.clone()).scan().unwrap();
    let ids: Vec<&str> = listed.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["1.ok.host"]);
}

/// A file over the limit is listed, from its head, but its bytes are not
/// read into memory; the limit follows the largest message accepted.
#[test]
fn a_file_over_the_limit_is_listed_but_not_served() {
    let dir = Dir::new("limit");
    let mut rec = record("a@example.com", &["b@example.com"]);
    let data = format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(4000));
    fs::write(
        dir.0.join("new").join("1.big.host"),
        file_for(&mut rec, data.as_bytes()),
    )
    .unwrap();
    let maildir = Maildir::with_max_file(dir.0.clone(), 1000);
    let listed = maildir.scan().unwrap();
    assert_eq!(listed[0].subject(), Some("big"));
    let refused = listed[0].raw().unwrap_err();
    assert_eq!(refused.kind(), io::ErrorKind::FileTooLarge);
    assert!(listed[0].delivered().is_err());
    assert_eq!(
        &Maildir::new(dir.0.clone()).scan().unwrap()[0]
            .raw()
            .unwrap()[..],
        data.as_bytes()
    );
    // Every message the server accepts can be served.
    assert_eq!(max_file_for(10 << 20), MAILDIR_MAX_FILE);
    assert!(max_file_for(100 << 20) > (100 << 20) + 2 * MAX_RECORD as u64 - 1);
}
