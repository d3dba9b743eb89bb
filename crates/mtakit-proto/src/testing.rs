//! A synchronous, in-memory driver for a [`Session`], for tests and fuzzing.
//!
//! [`Harness`] answers every decision with a closure you give it (accept
//! everything by default), stores delivered transactions, and collects the
//! replies, so a test can assert on a whole SMTP dialogue without sockets.
//!
//! ```
//! use mtakit_proto::testing::Harness;
//! use mtakit_proto::{Pending, Verdict};
//!
//! let mut h = Harness::new().with_policy(|pending, _info| match pending {
//!     Pending::RcptTo { forward_path, .. } if forward_path.to_string().contains("@evil.") => {
//!         Verdict::reject()
//!     }
//!     _ => Verdict::accept(),
//! });
//! assert_eq!(h.greeting().code().get(), 220);
//! assert_eq!(h.send("EHLO client.example").code().get(), 250);
//! assert_eq!(h.send("MAIL FROM:<a@example.com>").code().get(), 250);
//! assert_eq!(h.send("RCPT TO:<b@evil.example>").code().get(), 550);
//! assert_eq!(h.send("RCPT TO:<b@good.example>").code().get(), 250);
//! assert_eq!(h.send("DATA").code().get(), 354);
//! assert_eq!(h.send_raw(b"Subject: hi\r\n\r\nhello\r\n.\r\n")[0].code().get(), 250);
//! assert_eq!(h.delivered()[0].data, b"Subject: hi\r\n\r\nhello\r\n");
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

use crate::reply::Reply;
use crate::session::{
    ConnectionInfo, Event, Pending, PolicyError, Session, SessionConfig, SessionInfo, TlsInfo,
    Transaction, Verdict,
};

type PolicyFn = Box<dyn FnMut(&Pending, &SessionInfo) -> Verdict + Send>;
type SinkFn = Box<dyn FnMut(&Transaction) -> Verdict + Send>;

/// Drives a [`Session`] in memory. See the [module docs](self).
pub struct Harness {
    session: Session,
    policy: PolicyFn,
    sink: SinkFn,
    replies: Vec<Reply>,
    delivered: Vec<Transaction>,
    pendings: Vec<Pending>,
    closed: bool,
    starttls: usize,
    greeted: bool,
    commands: Vec<String>,
    policy_errors: Vec<PolicyError>,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field("session", &self.session)
            .field("replies", &self.replies)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    /// A session for `localhost`, peer `127.0.0.1:4567`, accepting
    /// everything.
    pub fn new() -> Self {
        Self::with_config(SessionConfig::new("localhost"))
    }

    /// A session with this configuration.
    pub fn with_config(config: SessionConfig) -> Self {
        let peer: SocketAddr = ([127, 0, 0, 1], 4567).into();
        let local: SocketAddr = ([127, 0, 0, 1], 25).into();
        Self::with_connection(config, ConnectionInfo::new(peer, local))
    }

    /// A session with this configuration and connection.
    pub fn with_connection(config: SessionConfig, conn: ConnectionInfo) -> Self {
        Self {
            session: Session::new(Arc::new(config), conn),
            policy: Box::new(|_, _| Verdict::accept()),
            sink: Box::new(|_| Verdict::accept()),
            replies: Vec::new(),
            delivered: Vec::new(),
            pendings: Vec::new(),
            closed: false,
            starttls: 0,
            greeted: false,
            commands: Vec::new(),
            policy_errors: Vec::new(),
        }
    }

    /// Answers decisions with `policy`.
    pub fn with_policy(
        mut self,
        policy: impl FnMut(&Pending, &SessionInfo) -> Verdict + Send + 'static,
    ) -> Self {
        self.policy = Box::new(policy);
        self
    }

    /// Answers deliveries with `sink` (accept means stored).
    pub fn with_sink(mut self, sink: impl FnMut(&Transaction) -> Verdict + Send + 'static) -> Self {
        self.sink = Box::new(sink);
        self
    }

    /// The session itself.
    pub fn session(&mut self) -> &mut Session {
        &mut self.session
    }

    /// Runs the session until it needs input; returns the replies made.
    pub fn run(&mut self) -> Vec<Reply> {
        let mut out = Vec::new();
        while let Some(event) = self.session.poll_event() {
            match event {
                Event::Reply(reply) => out.push(reply),
                Event::Decide(pending) => {
                    let verdict = (self.policy)(&pending, self.session.info());
                    self.pendings.push(pending);
                    self.session.decide(verdict).expect("a decision is pending");
                }
                Event::Deliver(transaction) => {
                    let verdict = (self.sink)(&transaction);
                    // The session refuses an accepting verdict whose reply
                    // is not 2xx; such a message is not stored.
                    let stored = verdict.is_accept()
                        && verdict.reply().is_none_or(|r| r.code().get() / 100 == 2);
                    if stored {
                        self.delivered.push(transaction);
                    }
                    self.session.decide(verdict).expect("a delivery is pending");
                }
                Event::StartTls => self.starttls += 1,
                Event::Close => self.closed = true,
                Event::Command(line) => self.commands.push(line),
                Event::PolicyError(error) => self.policy_errors.push(error),
            }
        }
        self.greeted = true;
        self.replies.extend(out.iter().cloned());
        out
    }

    /// The greeting (runs the session first if needed).
    ///
    /// # Panics
    ///
    /// If the session sent no reply on connect.
    pub fn greeting(&mut self) -> Reply {
        if !self.greeted {
            self.run();
        }
        self.replies.first().cloned().expect("no greeting")
    }

    /// Sends bytes as they are and returns the replies they caused.
    pub fn send_raw(&mut self, bytes: &[u8]) -> Vec<Reply> {
        if !self.greeted {
            self.run();
        }
        self.session.receive(bytes);
        self.run()
    }

    /// Sends one command line (CRLF added) and returns its single reply.
    ///
    /// # Panics
    ///
    /// Unless exactly one reply came back (as pymta's test helper checks).
    pub fn send(&mut self, line: &str) -> Reply {
        let mut replies = self.send_raw(format!("{line}\r\n").as_bytes());
        assert_eq!(
            replies.len(),
            1,
            "expected one reply to {line:?}, got {replies:?}"
        );
        replies.remove(0)
    }

    /// Completes a STARTTLS handshake the session asked for.
    ///
    /// # Panics
    ///
    /// If the session did not ask for one.
    pub fn complete_tls(&mut self, tls: TlsInfo) {
        self.session
            .tls_established(tls)
            .expect("STARTTLS in progress");
    }

    /// Every reply so far.
    pub fn replies(&self) -> &[Reply] {
        &self.replies
    }

    /// Every decision asked so far.
    pub fn pendings(&self) -> &[Pending] {
        &self.pendings
    }

    /// The transactions the sink accepted.
    pub fn delivered(&self) -> &[Transaction] {
        &self.delivered
    }

    /// True once the session closed.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The command lines recorded (with
    /// [`SessionConfig::record_commands`]).
    pub fn commands(&self) -> &[String] {
        &self.commands
    }

    /// The verdicts the session could not use as given, in order.
    pub fn policy_errors(&self) -> &[PolicyError] {
        &self.policy_errors
    }

    /// How many times STARTTLS was started.
    pub fn starttls_count(&self) -> usize {
        self.starttls
    }
}
