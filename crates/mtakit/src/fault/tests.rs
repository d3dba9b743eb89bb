//! The `message` stage over TCP: its content match runs on the blocking
//! pool, and other sessions on the same current-thread runtime are served
//! meanwhile.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

use super::plan::tests::match_thread;
use super::{FaultPlan, FaultRule, Stage};
use crate::Server;

/// Every network wait here is bounded by this.
const WAIT: Duration = Duration::from_secs(5);

struct Client {
    io: BufReader<TcpStream>,
}

impl Client {
    async fn connect(addr: std::net::SocketAddr) -> Self {
        let io = timeout(WAIT, TcpStream::connect(addr))
            .await
            .unwrap()
            .unwrap();
        let mut client = Self {
            io: BufReader::new(io),
        };
        assert_eq!(client.reply().await, 220);
        client
    }

    /// The code of the next (possibly multi-line) reply.
    async fn reply(&mut self) -> u16 {
        loop {
            let mut line = String::new();
            timeout(WAIT, self.io.read_line(&mut line))
                .await
                .expect("reply timed out")
                .unwrap();
            assert!(line.len() >= 4, "{line:?}");
            if line.as_bytes()[3] == b' ' {
                return line[..3].parse().unwrap();
            }
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.io.get_mut().write_all(bytes).await.unwrap();
    }

    async fn cmd(&mut self, line: &str) -> u16 {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.reply().await
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_message_match_runs_on_the_blocking_pool_while_others_are_served() {
    let plan = FaultPlan::new().with_rule(
        FaultRule::new(Stage::Message)
            .matching("(?m)^Subject: spam")
            .unwrap()
            .reply("554 5.7.1 Spam")
            .unwrap(),
    );
    // A sink that keeps the content (a null sink has the session drop it).
    let server = Server::builder()
        .policy(plan.clone())
        .sink(crate::MemorySink::new())
        .build();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.serve(listener, async {
        let _ = stopped.await;
    }));

    // Every match waits until the test lets go.
    let held = plan.hold_matching().await;
    let mut sender = Client::connect(addr).await;
    assert_eq!(sender.cmd("EHLO a.test").await, 250);
    assert_eq!(sender.cmd("MAIL FROM:<a@a.test>").await, 250);
    assert_eq!(sender.cmd("RCPT TO:<b@b.test>").await, 250);
    assert_eq!(sender.cmd("DATA").await, 354);
    sender.send(b"Subject: spam\r\n\r\nbuy\r\n.\r\n").await;
    // Another session on this one runtime thread is answered meanwhile.
    let mut other = Client::connect(addr).await;
    assert_eq!(other.cmd("EHLO b.test").await, 250);
    assert_eq!(other.cmd("NOOP").await, 250);
    assert_eq!(plan.fired(), [0], "the match has not run yet");
    drop(held);
    assert_eq!(sender.reply().await, 554);
    assert_eq!(plan.fired(), [1]);
    let thread = match_thread().expect("the content was matched");
    assert_ne!(thread, std::thread::current().id(), "not on the I/O thread");

    let _ = stop.send(());
    timeout(WAIT, task).await.unwrap().unwrap().unwrap();
}
