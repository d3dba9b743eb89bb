//! The [`Session`]: input framing, the event queue and decisions.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::bdat::ChunkReceiver;
use crate::data::DataReceiver;
use crate::reply::Reply;
use crate::sasl::Mechanism;
use crate::session::config::{ConnectionInfo, Extensions, SessionConfig, TlsInfo};
use crate::session::event::{ApiMisuse, Close, Event, Pending, TimeoutKind, Verdict};
use crate::session::info::SessionInfo;
use crate::session::replies as r;

/// One SMTP server session, as a pure state machine.
///
/// Bytes go in with [`receive`](Self::receive); replies, decisions and
/// other [`Event`]s come out of [`poll_event`](Self::poll_event), which the
/// driver calls until it returns `None`. When it yields
/// [`Event::Decide`] or [`Event::Deliver`], the session pauses until
/// [`decide`](Self::decide) is called, so pipelined replies stay in order.
/// The session never reads a clock and does no I/O.
///
/// ```
/// use mtakit_proto::{ConnectionInfo, Event, Session, SessionConfig, Verdict};
/// use std::sync::Arc;
///
/// let info = ConnectionInfo::new("127.0.0.1:4567".parse()?, "127.0.0.1:25".parse()?);
/// let mut session = Session::new(Arc::new(SessionConfig::new("localhost")), info);
/// session.receive(b"HELO client.example\r\nQUIT\r\n");
///
/// let mut wire = Vec::new();
/// while let Some(event) = session.poll_event() {
///     match event {
///         Event::Reply(reply) => reply.write_to(&mut wire),
///         Event::Decide(_) => session.decide(Verdict::accept())?,
///         _ => {}
///     }
/// }
/// assert_eq!(
///     String::from_utf8(wire)?,
///     "220 localhost ESMTP mtakit\r\n250 localhost\r\n221 localhost closing connection\r\n"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Session {
    pub(crate) config: Arc<SessionConfig>,
    /// The hostname, stripped of anything unsafe in a reply.
    pub(crate) host: String,
    pub(crate) info: SessionInfo,
    pub(crate) extensions: Extensions,
    pub(crate) phase: Phase,
    pub(crate) mode: Mode,
    pub(crate) awaiting: Option<Awaiting>,
    /// Events not yet polled, kept compact (large payloads boxed) so that an
    /// idle session's queue costs little memory.
    events: VecDeque<Queued>,
    input: Vec<u8>,
    pos: usize,
    started: bool,
    shutdown: bool,
    pub(crate) errors: usize,
    pub(crate) auth_failures: usize,
    /// The BDAT chunks of the transaction in progress, after its first
    /// BDAT was accepted.
    pub(crate) chunks: Option<ChunkReceiver>,
    /// Set by [`Session::drop_content`]: the reply the message in
    /// progress gets at its end.
    pub(crate) content_refusal: Option<Reply>,
}

/// Where the session is in the SMTP dialogue (RFC 5321 §4.1.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Before the greeting was accepted.
    Connect,
    /// Greeted; no HELO/EHLO yet.
    Greeted,
    /// After HELO/EHLO, no transaction.
    Ready,
    /// After MAIL: a transaction is open.
    Mail,
}

/// The most buffer capacity an emptied input buffer keeps.
pub(super) const INPUT_KEEP: usize = 4096;

/// How input is read.
#[derive(Debug)]
pub(crate) enum Mode {
    /// Command lines.
    Command,
    /// Discarding a line over the limit up to its LF; then `500 5.5.6`
    /// (a SASL exchange in progress is abandoned too).
    LongLine,
    /// Message content.
    Data(Box<DataReceiver>),
    /// The octets of a BDAT chunk, into [`Session::chunks`].
    Bdat {
        /// This is the last chunk.
        last: bool,
    },
    /// The octets of a refused BDAT chunk, counted and dropped.
    BdatDiscard {
        /// Octets still to drop.
        remaining: u64,
    },
    /// A SASL continuation line.
    Sasl(SaslStep),
    /// After STARTTLS: all input is discarded until the handshake is done.
    TlsHandshake,
    /// The session is over.
    Closed,
}

/// Which SASL line is expected.
#[derive(Debug)]
pub(crate) enum SaslStep {
    PlainResponse,
    LoginUsername,
    LoginPassword {
        username: String,
    },
    /// The response of a bearer-token mechanism.
    TokenResponse(Mechanism),
    /// The client's answer to the error challenge of a failed token AUTH.
    TokenFailure,
}

/// The decision the session waits for, with what it needs to apply it.
#[derive(Debug)]
pub(crate) enum Awaiting {
    Connect,
    Helo {
        name: crate::Domain,
        greeting: crate::Greeting,
    },
    StartTls,
    Auth {
        mechanism: Mechanism,
        initial_response: Option<String>,
    },
    Authenticate {
        mechanism: Mechanism,
        username: String,
        authzid: Option<String>,
    },
    Mail(Pending),
    Rcpt(Pending),
    Data,
    Bdat {
        size: u64,
        last: bool,
    },
    Deliver {
        recipients: usize,
    },
    Vrfy,
}

impl Session {
    /// Starts a session. The first event will be
    /// [`Pending::Connect`].
    pub fn new(config: Arc<SessionConfig>, conn: ConnectionInfo) -> Self {
        let host: String = config
            .hostname
            .chars()
            .filter(|c| !c.is_control() && !c.is_whitespace())
            .collect();
        let host = if host.is_empty() {
            "localhost".to_owned()
        } else {
            host
        };
        let info = SessionInfo {
            peer: conn.peer,
            local: conn.local,
            helo: None,
            tls: conn.tls,
            auth: None,
            envelope: None,
            max_message_size: config.limits.max_message_size,
            transactions: 0,
            early_talker: false,
            utf8_without_smtputf8: false,
        };
        Self {
            extensions: config.extensions.clone().consistent(),
            config,
            host,
            info,
            phase: Phase::Connect,
            mode: Mode::Command,
            awaiting: None,
            events: VecDeque::new(),
            input: Vec::new(),
            pos: 0,
            started: false,
            shutdown: false,
            errors: 0,
            auth_failures: 0,
            chunks: None,
            content_refusal: None,
        }
    }

    /// The read-only view that policy hooks receive.
    pub fn info(&self) -> &SessionInfo {
        &self.info
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// Feeds bytes received from the client. Processing happens in
    /// [`poll_event`](Self::poll_event); call this again only after
    /// `poll_event` returned `None`, so buffering stays bounded.
    pub fn receive(&mut self, bytes: &[u8]) {
        if matches!(self.mode, Mode::Closed | Mode::TlsHandshake) {
            return;
        }
        let bytes = self.receive_content(bytes);
        if bytes.is_empty() {
            return;
        }
        if self.pos == self.input.len() {
            self.input.clear();
            self.pos = 0;
        } else if self.pos > 0 {
            self.input.drain(..self.pos);
            self.pos = 0;
        }
        self.input.extend_from_slice(bytes);
    }

    /// Fast path for message content: when nothing else is buffered or
    /// pending, content goes straight into the DATA or BDAT receiver
    /// without being copied into the input buffer first. Returns what is
    /// left (pipelined commands after the end of the content).
    fn receive_content<'a>(&mut self, bytes: &'a [u8]) -> &'a [u8] {
        if self.pos != self.input.len() || self.awaiting.is_some() || !self.events.is_empty() {
            return bytes;
        }
        match &mut self.mode {
            Mode::Data(receiver) => {
                let used = receiver.feed(bytes);
                if receiver.is_done() {
                    let Mode::Data(receiver) = std::mem::replace(&mut self.mode, Mode::Command)
                    else {
                        unreachable!("mode checked above")
                    };
                    self.end_of_data(receiver.finish());
                }
                &bytes[used..]
            }
            Mode::Bdat { last } => {
                let last = *last;
                let Some(chunks) = self.chunks.as_mut() else {
                    return bytes;
                };
                let used = chunks.feed(bytes);
                if chunks.chunk_done() {
                    self.chunk_complete(last);
                }
                &bytes[used..]
            }
            _ => bytes,
        }
    }

    /// The next event, or `None` when the session needs more input or a
    /// decision.
    pub fn poll_event(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.events.pop_front() {
                return Some(event.into_event());
            }
            if self.awaiting.is_some() || matches!(self.mode, Mode::Closed | Mode::TlsHandshake) {
                return None;
            }
            if !self.started {
                self.started = true;
                self.ask(Awaiting::Connect, Pending::Connect);
                continue;
            }
            if self.shutdown && self.is_idle() {
                let reply = r::shutting_down(&self.host);
                self.close_with(reply);
                continue;
            }
            if !self.step() {
                self.release_input();
                return None;
            }
        }
    }

    /// The capacity of the input buffer, for tests of its release.
    #[cfg(test)]
    pub(super) fn input_capacity(&self) -> usize {
        self.input.capacity()
    }

    /// Frees the input buffer once it is consumed and larger than
    /// [`INPUT_KEEP`]: a large batch of pipelined commands does not leave
    /// a large buffer behind on a session that then waits.
    fn release_input(&mut self) {
        if self.pos == self.input.len() && self.input.capacity() > INPUT_KEEP {
            self.input = Vec::new();
            self.pos = 0;
        }
    }

    /// True while a decision or delivery is pending.
    pub fn is_waiting_for_decision(&self) -> bool {
        self.awaiting.is_some()
    }

    /// True once the session has closed.
    pub fn is_closed(&self) -> bool {
        matches!(self.mode, Mode::Closed)
    }

    /// Which timeout applies now, or `None` once closed.
    pub fn timeout(&self) -> Option<TimeoutKind> {
        match (&self.mode, &self.awaiting) {
            (Mode::Closed, _) => None,
            (_, Some(Awaiting::Deliver { .. })) => Some(TimeoutKind::DataTermination),
            (Mode::Data(_) | Mode::Bdat { .. } | Mode::BdatDiscard { .. }, _) => {
                Some(TimeoutKind::DataBlock)
            }
            _ => Some(TimeoutKind::Command),
        }
    }

    /// Sets the largest message accepted on this connection, e.g. from a
    /// per-peer policy. It is advertised in SIZE and enforced.
    pub fn set_max_message_size(&mut self, size: u64) {
        self.info.max_message_size = size;
    }

    /// Replaces the extensions advertised from now on (e.g. while a HELO
    /// decision is pending), made [`consistent`](Extensions::consistent).
    pub fn set_extensions(&mut self, extensions: Extensions) {
        self.extensions = extensions.consistent();
    }

    /// The extensions in force.
    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    /// Resolves the pending decision or delivery.
    ///
    /// # Errors
    ///
    /// [`ApiMisuse::NoPendingDecision`] when nothing is pending.
    pub fn decide(&mut self, verdict: impl Into<Verdict>) -> Result<(), ApiMisuse> {
        let awaiting = self.awaiting.take().ok_or(ApiMisuse::NoPendingDecision)?;
        let verdict = verdict.into();
        if verdict.close == Close::WithoutReply {
            self.close_now();
            return Ok(());
        }
        let close = verdict.close == Close::AfterReply;
        let verdict = self.check_verdict(&awaiting, verdict);
        self.apply(awaiting, verdict);
        if close && !self.is_closed() {
            self.events.push_back(Queued::Close);
            self.mode = Mode::Closed;
        }
        Ok(())
    }

    /// Resolves an LMTP delivery with one verdict per recipient, in
    /// envelope order (RFC 2033 §4.2): each gets its own reply.
    ///
    /// # Errors
    ///
    /// [`ApiMisuse::NoPendingDecision`] unless a delivery is pending, and
    /// [`ApiMisuse::WrongVerdictCount`] unless this is LMTP and there is one
    /// verdict per recipient.
    pub fn decide_each(&mut self, verdicts: Vec<Verdict>) -> Result<(), ApiMisuse> {
        match self.awaiting {
            Some(Awaiting::Deliver { recipients })
                if self.config.lmtp && recipients == verdicts.len() => {}
            Some(Awaiting::Deliver { .. }) => return Err(ApiMisuse::WrongVerdictCount),
            _ => return Err(ApiMisuse::NoPendingDecision),
        }
        self.awaiting = None;
        let close = verdicts.iter().any(Verdict::closes);
        let verdicts = verdicts
            .into_iter()
            .map(|v| self.check_verdict(&Awaiting::Deliver { recipients: 1 }, v))
            .collect();
        self.delivered_each(verdicts);
        if close && !self.is_closed() {
            self.events.push_back(Queued::Close);
            self.mode = Mode::Closed;
        }
        Ok(())
    }

    /// The driver's timeout for [`timeout`](Self::timeout) expired: reply
    /// `421 4.4.2` and close. An open transaction is dropped.
    pub fn timed_out(&mut self) {
        if self.is_closed() {
            return;
        }
        self.awaiting = None;
        let reply = r::timeout(&self.host);
        self.close_with(reply);
    }

    /// Asks the session to end: idle at once, otherwise after the
    /// transaction in flight, with `421 4.3.2`.
    pub fn shutdown(&mut self) {
        self.shutdown = true;
    }

    /// The driver saw the client send data before the greeting went out
    /// (an "early talker"). Recorded as a [`Finding`](crate::Finding) on
    /// later messages.
    pub fn client_spoke_early(&mut self) {
        self.info.early_talker = true;
    }

    /// The client closed its side. Any transaction in progress is dropped.
    pub fn peer_closed(&mut self) {
        self.awaiting = None;
        self.info.envelope = None;
        self.mode = Mode::Closed;
    }

    /// The TLS handshake after STARTTLS completed. The session is reset to
    /// the state right after the greeting (RFC 3207 §4.2): HELO, AUTH and
    /// the transaction are forgotten, and EHLO must come again.
    ///
    /// # Errors
    ///
    /// [`ApiMisuse::NoTlsHandshake`] unless an [`Event::StartTls`] was
    /// yielded.
    pub fn tls_established(&mut self, tls: TlsInfo) -> Result<(), ApiMisuse> {
        if !matches!(self.mode, Mode::TlsHandshake) {
            return Err(ApiMisuse::NoTlsHandshake);
        }
        self.info.tls = Some(tls);
        self.info.helo = None;
        self.info.auth = None;
        self.info.envelope = None;
        self.chunks = None;
        self.phase = Phase::Greeted;
        self.mode = Mode::Command;
        self.input.clear();
        self.pos = 0;
        Ok(())
    }

    fn is_idle(&self) -> bool {
        self.awaiting.is_none() && matches!(self.mode, Mode::Command) && self.phase != Phase::Mail
    }

    pub(crate) fn ask(&mut self, awaiting: Awaiting, pending: Pending) {
        self.awaiting = Some(awaiting);
        self.events.push_back(Queued::Decide(Box::new(pending)));
    }

    pub(crate) fn reply(&mut self, reply: Reply) {
        let esmtp = self.info.is_esmtp() && self.extensions.enhanced_status_codes;
        let reply = if esmtp {
            reply
        } else {
            reply.without_enhanced()
        };
        self.events.push_back(Queued::Reply(reply));
    }

    pub(crate) fn emit(&mut self, event: Event) {
        self.events.push_back(Queued::from_event(event));
    }

    /// A syntax or sequence error: counts towards the error limit.
    pub(crate) fn error(&mut self, reply: Reply) {
        self.errors += 1;
        if self.errors > self.config.limits.max_errors {
            self.close_with(r::TOO_MANY_ERRORS);
        } else {
            self.reply(reply);
        }
    }

    pub(crate) fn close_with(&mut self, reply: Reply) {
        self.reply(reply);
        self.close_now();
    }

    fn close_now(&mut self) {
        self.events.push_back(Queued::Close);
        self.mode = Mode::Closed;
        self.awaiting = None;
        self.info.envelope = None;
        self.input = Vec::new();
        self.pos = 0;
    }

    /// Discards all buffered input (after STARTTLS: CVE-2011-0411).
    pub(crate) fn discard_input(&mut self) {
        self.input.clear();
        self.pos = 0;
    }

    /// Processes one unit of input. Returns false when more input is
    /// needed.
    fn step(&mut self) -> bool {
        let avail = &self.input[self.pos..];
        if avail.is_empty() {
            return false;
        }
        match &mut self.mode {
            Mode::Bdat { last } => {
                let last = *last;
                let Some(chunks) = self.chunks.as_mut() else {
                    self.mode = Mode::Command;
                    return true;
                };
                self.pos += chunks.feed(avail);
                if chunks.chunk_done() {
                    self.chunk_complete(last);
                }
                true
            }
            Mode::BdatDiscard { remaining } => {
                let take = usize::try_from(*remaining)
                    .unwrap_or(usize::MAX)
                    .min(avail.len());
                self.pos += take;
                *remaining -= take as u64;
                if *remaining == 0 {
                    self.mode = Mode::Command;
                }
                true
            }
            Mode::Data(receiver) => {
                let used = receiver.feed(avail);
                self.pos += used;
                if receiver.is_done() {
                    let Mode::Data(receiver) = std::mem::replace(&mut self.mode, Mode::Command)
                    else {
                        unreachable!("mode checked above")
                    };
                    self.end_of_data(receiver.finish());
                }
                true
            }
            Mode::LongLine => {
                match memchr(b'\n', avail) {
                    Some(i) => {
                        self.pos += i + 1;
                        self.mode = Mode::Command;
                        self.error(r::LINE_TOO_LONG);
                    }
                    None => self.pos = self.input.len(),
                }
                true
            }
            Mode::Command | Mode::Sasl(_) => {
                let sasl = matches!(self.mode, Mode::Sasl(_));
                let limits = &self.config.limits;
                // What is buffered before a line counts as over-long: the
                // largest any line may be (AUTH lines may reach the SASL
                // limit); each command's own limit is checked once parsed.
                let cap = if sasl {
                    limits.auth_line
                } else {
                    limits
                        .command_line
                        .max(limits.command_line_extended)
                        .max(limits.auth_line)
                };
                let Some(lf) = memchr(b'\n', avail) else {
                    if avail.len() >= cap {
                        self.pos = self.input.len();
                        self.mode = Mode::LongLine;
                        return true;
                    }
                    return false;
                };
                let start = self.pos;
                self.pos += lf + 1;
                // Length first: a line over the cap that arrives in pieces
                // goes through `LongLine` before its end is seen, so it must
                // get the same reply here whatever its terminator. A bare-LF
                // line is refused anyway; over the plain command limit it is
                // reported as too long, as it would be with a CRLF.
                let bare = lf == 0 || self.input[start + lf - 1] != b'\r';
                if lf + 1 > cap || (bare && lf + 1 > self.config.limits.command_line) {
                    if sasl {
                        self.mode = Mode::Command;
                    }
                    self.error(r::LINE_TOO_LONG);
                    return true;
                }
                if bare {
                    if sasl {
                        self.mode = Mode::Command;
                    }
                    self.error(r::BARE_LF_COMMAND);
                    return true;
                }
                // Parse the line in place: the buffer is lent out and put
                // back (unless the session closed meanwhile).
                let input = std::mem::take(&mut self.input);
                let line = &input[start..start + lf - 1];
                if sasl {
                    let Mode::Sasl(step) = std::mem::replace(&mut self.mode, Mode::Command) else {
                        unreachable!("mode checked above")
                    };
                    if self.config.record_commands {
                        // A SASL response carries secrets: never recorded.
                        self.emit(Event::Command("***".to_owned()));
                    }
                    self.sasl_line(step, line);
                } else {
                    self.command_line(line);
                }
                if !self.is_closed() {
                    self.input = input;
                }
                true
            }
            Mode::TlsHandshake | Mode::Closed => false,
        }
    }

    /// Checks a policy-supplied reply against the stage: an accepting reply
    /// must have the default reply's class, a rejecting one must be 4xx or
    /// 5xx; otherwise the command is rejected with `451 4.3.0`.
    pub(crate) fn check_verdict(&self, awaiting: &Awaiting, verdict: Verdict) -> Verdict {
        let positive = verdict
            .reply
            .as_ref()
            .is_none_or(|r| r.code().is_positive());
        match awaiting {
            Awaiting::Data => verdict_with_class(verdict, 3),
            // The mechanism and the chunk replies drive these exchanges: an
            // accepting custom reply is not sent, so any positive one is fine.
            Awaiting::Auth { .. } | Awaiting::Bdat { .. } if verdict.accept && positive => verdict,
            _ => verdict_with_class(verdict, 2),
        }
    }
}

/// An [`Event`] as queued inside the session: the large payloads boxed.
#[derive(Debug)]
enum Queued {
    Reply(Reply),
    Decide(Box<Pending>),
    Deliver(Box<crate::session::event::Transaction>),
    StartTls,
    Close,
    Command(String),
}

impl Queued {
    fn from_event(event: Event) -> Self {
        match event {
            Event::Reply(r) => Self::Reply(r),
            Event::Decide(p) => Self::Decide(Box::new(p)),
            Event::Deliver(t) => Self::Deliver(Box::new(t)),
            Event::StartTls => Self::StartTls,
            Event::Close => Self::Close,
            Event::Command(c) => Self::Command(c),
        }
    }

    fn into_event(self) -> Event {
        match self {
            Self::Reply(r) => Event::Reply(r),
            Self::Decide(p) => Event::Decide(*p),
            Self::Deliver(t) => Event::Deliver(*t),
            Self::StartTls => Event::StartTls,
            Self::Close => Event::Close,
            Self::Command(c) => Event::Command(c),
        }
    }
}

/// Keeps `verdict` if its reply fits `class` (accept) or is 4xx/5xx
/// (reject); otherwise turns it into the policy-error rejection.
fn verdict_with_class(verdict: Verdict, class: u16) -> Verdict {
    let Some(reply) = &verdict.reply else {
        return verdict;
    };
    let ok = if verdict.accept {
        reply.code().get() / 100 == class
    } else {
        !reply.code().is_positive()
    };
    if ok {
        verdict
    } else {
        Verdict {
            accept: false,
            reply: Some(r::POLICY_ERROR),
            close: verdict.close,
        }
    }
}

/// The first position of `byte` in `haystack`.
pub(crate) fn memchr(byte: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == byte)
}
