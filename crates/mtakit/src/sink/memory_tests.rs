use super::*;
use mtakit_proto::testing::Harness;
use mtakit_proto::{Event, SessionConfig};

/// A message of `size` octets of content, through a real session.
fn message(size: usize) -> Message {
    let mut h = Harness::with_config(SessionConfig::new("t"));
    h.greeting();
    h.send("EHLO c");
    h.send("MAIL FROM:<a@a.test>");
    h.send("RCPT TO:<b@b.test>");
    h.send("DATA");
    let mut body = vec![b'x'; size.saturating_sub(2)];
    body.extend_from_slice(b"\r\n.\r\n");
    let session = h.session();
    session.receive(&body);
    loop {
        match session.poll_event() {
            Some(Event::Deliver(t)) => return Message::new(session.info(), t),
            Some(_) => {}
            None => panic!("no message"),
        }
    }
}

#[test]
fn the_oldest_go_first_past_either_budget() {
    let sink = MemorySink::with_limits(3, usize::MAX);
    for _ in 0..5 {
        sink.push(message(10));
    }
    assert_eq!((sink.len(), sink.received()), (3, 5));
    let sink = MemorySink::with_limits(100, 3 * (1000 + PER_MESSAGE));
    for _ in 0..5 {
        sink.push(message(1000));
    }
    assert_eq!(sink.len(), 3);
    assert!(sink.bytes() <= 3 * (1000 + PER_MESSAGE));
    // One message over the whole budget is still kept, alone.
    sink.push(message(10_000));
    assert_eq!(sink.len(), 1);
    assert!(sink.take().len() == 1 && sink.bytes() == 0);
}

#[tokio::test]
async fn subscribers_get_each_new_message() {
    let sink = MemorySink::new();
    let mut feed = sink.subscribe();
    let sent = message(10);
    let id = sent.id().to_owned();
    sink.push(sent);
    assert_eq!(feed.recv().await.unwrap().id(), id);
}

/// An application's own entry: an id and a stated cost.
#[derive(Debug)]
struct Summary {
    id: String,
    cost: usize,
}

impl MemoryEntry for Summary {
    fn id(&self) -> &str {
        &self.id
    }

    fn cost(&self) -> usize {
        self.cost
    }
}

fn summary(id: &str, cost: usize) -> Arc<Summary> {
    Arc::new(Summary {
        id: id.to_owned(),
        cost,
    })
}

#[test]
fn any_entry_gets_the_budgets_and_eviction_notices() {
    let store = MemorySink::<Summary>::bounded(3, 100);
    assert!(store.insert(summary("a", 40)).is_empty());
    assert!(store.insert(summary("b", 40)).is_empty());
    // 120 octets: "a" goes, and the caller is told.
    let evicted = store.insert(summary("c", 40));
    assert_eq!(evicted.iter().map(|e| e.id()).collect::<Vec<_>>(), ["a"]);
    assert_eq!((store.len(), store.bytes()), (2, 80));
    store.insert(summary("d", 10));
    let evicted = store.insert(summary("e", 10));
    assert_eq!(evicted[0].id(), "b", "past the count");
    let ids: Vec<String> = store.entries().iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids, ["c", "d", "e"]);
    assert_eq!((store.max_entries(), store.max_bytes()), (3, 100));
}

#[test]
fn entries_are_found_and_removed_by_id() {
    let store = MemorySink::<Summary>::bounded(10, 1000);
    for id in ["a", "b", "c"] {
        store.insert(summary(id, 100));
    }
    assert_eq!(store.get("b").unwrap().id, "b");
    assert!(store.get("x").is_none());
    assert_eq!(store.remove("b").unwrap().id, "b");
    assert!(store.remove("b").is_none());
    assert_eq!(
        (store.len(), store.bytes()),
        (2, 200),
        "the bytes come back"
    );
    assert_eq!(store.clear(), 2);
    assert_eq!((store.len(), store.bytes()), (0, 0));
    assert_eq!(store.received(), 3);
}
