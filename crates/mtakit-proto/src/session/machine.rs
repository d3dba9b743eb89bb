//! The [`Session`]: its public API, the event queue and decisions.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::reply::Reply;
use crate::session::config::{ConnectionInfo, Extensions, SessionConfig, TlsInfo};
use crate::session::event::{ApiMisuse, Event, Pending, Queued, TimeoutKind};
use crate::session::info::SessionInfo;
use crate::session::policy_error::{PolicyError, StageKind};
use crate::session::replies as r;
use crate::session::state::{Awaiting, Content, Skip, State};
use crate::session::verdict::{Close, Verdict};

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
    pub(super) config: Arc<SessionConfig>,
    /// The hostname, stripped of anything unsafe in a reply.
    pub(super) host: String,
    pub(super) info: SessionInfo,
    pub(super) extensions: Extensions,
    /// Where the dialogue is, with what that stage owns.
    pub(super) state: State,
    /// Input dropped before command lines are read again.
    pub(super) skip: Skip,
    /// The one decision the session waits for.
    pub(super) awaiting: Option<Awaiting>,
    /// Events not yet polled, kept compact (large payloads boxed) so that an
    /// idle session's queue costs little memory.
    pub(super) events: VecDeque<Queued>,
    pub(super) input: Vec<u8>,
    pub(super) pos: usize,
    /// `poll_event` returned `None` for want of input since the last
    /// `receive`: more input is welcome, of any size.
    pub(super) wants_input: bool,
    started: bool,
    shutdown: bool,
    pub(super) errors: usize,
    pub(super) auth_failures: usize,
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
            configured_extensions: config.extensions.clone(),
            transactions: 0,
            early_talker: false,
        };
        Self {
            extensions: config.extensions.clone().consistent(),
            config,
            host,
            info,
            state: State::Connect,
            skip: Skip::Nothing,
            awaiting: None,
            events: VecDeque::new(),
            input: Vec::new(),
            pos: 0,
            wants_input: true,
            started: false,
            shutdown: false,
            errors: 0,
            auth_failures: 0,
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

    /// The next event, or `None` when the session needs more input or a
    /// decision.
    #[must_use = "events must be handled until poll_event returns None"]
    pub fn poll_event(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.events.pop_front() {
                return Some(event.into_event());
            }
            if self.awaiting.is_some() || matches!(self.state, State::Closed | State::TlsHandshake)
            {
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
                self.wants_input = true;
                self.release_input();
                return None;
            }
        }
    }

    /// True while a decision or delivery is pending.
    #[must_use]
    pub fn is_waiting_for_decision(&self) -> bool {
        self.awaiting.is_some()
    }

    /// True once the session has closed.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// Which timeout applies now, or `None` once closed.
    #[must_use]
    pub fn timeout(&self) -> Option<TimeoutKind> {
        if matches!(self.state, State::Closed) {
            return None;
        }
        if matches!(self.awaiting, Some(Awaiting::Deliver { .. })) {
            return Some(TimeoutKind::DataTermination);
        }
        let content = match &self.state {
            State::Mail(tx) => matches!(
                tx.content,
                Content::Data(_)
                    | Content::Chunks {
                        reading: Some(_),
                        ..
                    }
            ),
            _ => false,
        };
        if content || matches!(self.skip, Skip::Octets(_)) {
            Some(TimeoutKind::DataBlock)
        } else {
            Some(TimeoutKind::Command)
        }
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
        let mut verdict = self.check_verdict(&awaiting, verdict);
        self.apply_stage_data(&awaiting, &mut verdict);
        if let Awaiting::Deliver { recipients } = awaiting
            && let Some(each) = verdict.take_each()
        {
            self.awaiting = Some(awaiting);
            let each = if each.len() == recipients {
                each
            } else {
                self.emit(Event::PolicyError(PolicyError::WrongCount {
                    stage: StageKind::Deliver,
                    expected: recipients,
                    got: each.len(),
                }));
                vec![Verdict::reject_with(r::POLICY_ERROR); recipients]
            };
            return self.decide_each(each);
        }
        self.apply(awaiting, verdict);
        if close && !self.is_closed() {
            self.events.push_back(Queued::Close);
            self.state = State::Closed;
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
            self.state = State::Closed;
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
        self.state = State::Closed;
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
        if !matches!(self.state, State::TlsHandshake) {
            return Err(ApiMisuse::NoTlsHandshake);
        }
        self.info.tls = Some(tls);
        self.info.helo = None;
        self.info.auth = None;
        self.info.envelope = None;
        self.state = State::Greeted;
        self.skip = Skip::Nothing;
        self.discard_input();
        Ok(())
    }

    fn is_idle(&self) -> bool {
        self.awaiting.is_none()
            && self.skip == Skip::Nothing
            && matches!(self.state, State::Connect | State::Greeted | State::Ready)
    }

    pub(super) fn ask(&mut self, awaiting: Awaiting, pending: Pending) {
        self.awaiting = Some(awaiting);
        self.events.push_back(Queued::Decide(Box::new(pending)));
    }

    pub(super) fn reply(&mut self, reply: Reply) {
        let esmtp = self.info.is_esmtp() && self.extensions.enhanced_status_codes;
        let reply = if esmtp {
            reply
        } else {
            reply.without_enhanced()
        };
        self.events.push_back(Queued::Reply(reply));
    }

    pub(super) fn emit(&mut self, event: Event) {
        self.events.push_back(Queued::from_event(event));
    }

    /// A syntax or sequence error: counts towards the error limit.
    pub(super) fn error(&mut self, reply: Reply) {
        self.errors += 1;
        if self.errors > self.config.limits.max_errors {
            self.close_with(r::TOO_MANY_ERRORS);
        } else {
            self.reply(reply);
        }
    }

    pub(super) fn close_with(&mut self, reply: Reply) {
        self.reply(reply);
        self.close_now();
    }

    fn close_now(&mut self) {
        self.events.push_back(Queued::Close);
        self.state = State::Closed;
        self.skip = Skip::Nothing;
        self.awaiting = None;
        self.info.envelope = None;
        self.input = Vec::new();
        self.pos = 0;
    }
}
