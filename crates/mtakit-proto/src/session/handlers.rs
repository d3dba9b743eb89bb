//! What the session does with each command, SASL line, end of data and
//! verdict.

use crate::bdat::ChunkReceiver;
use crate::command::Command;
use crate::data::{DataOutcome, DataReceiver};
use crate::findings::Finding;
use crate::reply::{Reply, ReplyCode};
use crate::sasl::{self, Credentials, LOGIN_PASSWORD_PROMPT, LOGIN_USERNAME_PROMPT, Mechanism};
use crate::session::event::{Event, Pending, Transaction, Verdict};
use crate::session::info::{AuthIdentity, Envelope, Greeting, Recipient};
use crate::session::machine::{Awaiting, Mode, Phase, SaslStep, Session};
use crate::session::replies as r;

impl Session {
    /// Handles one complete command line (without CRLF).
    pub(crate) fn command_line(&mut self, line: &[u8]) {
        let verb_text = verb_as_written(line);
        if self.config.record_commands {
            let shown = if verb_text.eq_ignore_ascii_case("AUTH") {
                redact_auth(line)
            } else {
                printable(line)
            };
            self.emit(Event::Command(shown));
        }
        let cmd = match Command::parse(line) {
            Ok(cmd) => cmd,
            Err(e) => return self.error(e.reply()),
        };
        // Only MAIL and RCPT with parameters may use the extended length.
        let extended = matches!(
            cmd,
            Command::Mail {
                has_params: true,
                ..
            } | Command::Rcpt {
                has_params: true,
                ..
            }
        );
        let limits = &self.config.limits;
        let cap = match cmd {
            _ if extended => limits.command_line_extended,
            // Clients put long OAuth tokens on the AUTH line although RFC
            // 4954 §4 says not to; allow them up to the SASL line limit.
            Command::Auth { .. } => limits.auth_line,
            _ => limits.command_line,
        };
        if line.len() + 2 > cap {
            return self.error(r::LINE_TOO_LONG);
        }
        match cmd {
            Command::Helo(_) | Command::Ehlo(_) if self.config.lmtp => {
                self.error(r::LMTP_NEEDS_LHLO);
            }
            Command::Lhlo(_) if !self.config.lmtp => {
                self.error(crate::CommandError::Unrecognized("LHLO".into()).reply());
            }
            Command::Helo(name) => self.hello(name, Greeting::Helo),
            Command::Ehlo(name) => self.hello(name, Greeting::Ehlo),
            Command::Lhlo(name) => self.hello(name, Greeting::Lhlo),
            Command::Mail {
                reverse_path,
                params,
                has_params,
            } => {
                if let Some(hint) = match self.phase {
                    Phase::Ready => None,
                    Phase::Mail => return self.error(r::NESTED_MAIL),
                    _ => Some("send HELO/EHLO first"),
                } {
                    return self.error(r::bad_sequence(&verb_text, hint));
                }
                if has_params && !self.info.is_esmtp() {
                    return self.error(r::NO_EXTENSIONS);
                }
                if let Some(reply) = self.unsupported_mail_param(&params) {
                    return self.error(reply);
                }
                let utf8_without = !reverse_path.is_ascii() && !params.smtputf8;
                if utf8_without && !self.recording() {
                    return self.reply(r::NON_ASCII);
                }
                if self.config.require_tls && self.info.tls.is_none() {
                    return self.reply(r::TLS_REQUIRED);
                }
                if self.config.require_auth && self.info.auth.is_none() {
                    return self.reply(r::AUTH_REQUIRED);
                }
                if params.size.is_some_and(|s| s > self.info.max_message_size) {
                    return self.reply(r::TOO_BIG);
                }
                self.info.utf8_without_smtputf8 = utf8_without;
                let pending = Pending::MailFrom {
                    reverse_path,
                    params,
                };
                self.ask(Awaiting::Mail(pending.clone()), pending);
            }
            Command::Rcpt {
                forward_path,
                params,
                has_params,
            } => {
                let Some(envelope) = self.info.envelope.as_ref() else {
                    return self.error(r::bad_sequence(&verb_text, "send MAIL first"));
                };
                if has_params && !self.info.is_esmtp() {
                    return self.error(r::NO_EXTENSIONS);
                }
                if let Some(reply) = self.unsupported_rcpt_param(&params) {
                    return self.error(reply);
                }
                let utf8_without = !forward_path.is_ascii() && !envelope.mail_params.smtputf8;
                if utf8_without && !self.recording() {
                    return self.reply(r::NON_ASCII);
                }
                if utf8_without {
                    self.info.utf8_without_smtputf8 = true;
                }
                if envelope.recipients.len() >= self.config.limits.max_recipients {
                    return self.reply(r::TOO_MANY_RCPTS);
                }
                let pending = Pending::RcptTo {
                    forward_path,
                    params,
                };
                self.ask(Awaiting::Rcpt(pending.clone()), pending);
            }
            Command::Data => match &self.info.envelope {
                None => self.error(r::bad_sequence(&verb_text, "send MAIL and RCPT first")),
                Some(e) if e.recipients.is_empty() => self.error(r::NO_RECIPIENTS),
                Some(_) if self.chunks.is_some() => {
                    self.error(r::bad_sequence(&verb_text, "BDAT transfer in progress"));
                }
                Some(e) if e.mail_params.body == Some(crate::params::Body::BinaryMime) => {
                    self.error(r::bad_sequence(&verb_text, "BODY=BINARYMIME needs BDAT"));
                }
                Some(_) => self.ask(Awaiting::Data, Pending::Data),
            },
            Command::Bdat { size, last } => self.bdat(&verb_text, size, last),
            Command::Rset => {
                self.end_transaction();
                self.reply(r::OK_RSET);
            }
            Command::Noop => self.reply(r::OK_NOOP),
            Command::Help(_) => self.reply(r::help()),
            Command::Quit => {
                let reply = r::closing(&self.host);
                self.close_with(reply);
            }
            Command::Vrfy(argument) => self.ask(Awaiting::Vrfy, Pending::Vrfy { argument }),
            Command::Expn(_) => self.reply(r::EXPN_DISABLED),
            Command::StartTls => {
                if self.info.tls.is_some() {
                    self.error(r::bad_sequence(&verb_text, "TLS is already active"))
                } else if !(self.config.tls_available && self.extensions.starttls) {
                    self.reply(r::TLS_UNAVAILABLE);
                } else if self.phase == Phase::Mail {
                    self.error(r::bad_sequence(&verb_text, "mail transaction in progress"));
                } else {
                    self.ask(Awaiting::StartTls, Pending::StartTls);
                }
            }
            Command::Auth {
                mechanism,
                initial_response,
            } => self.auth_command(&verb_text, &mechanism, initial_response),
        }
    }

    fn unsupported_mail_param(&self, params: &crate::params::MailParams) -> Option<Reply> {
        let unknown = |what: &str| {
            Reply::new(
                ReplyCode::PARAMS_NOT_RECOGNIZED.get(),
                Some(crate::EnhancedCode::INVALID_ARGUMENTS),
                format!("Invalid extension: \"{what}\""),
            )
            .ok()
        };
        if params.size.is_some() && !self.extensions.size {
            return unknown("SIZE");
        }
        if params.body.is_some() && !self.extensions.eight_bit_mime {
            return unknown("BODY");
        }
        if params.body == Some(crate::params::Body::BinaryMime)
            && !(self.extensions.binarymime && self.extensions.chunking)
        {
            return unknown("BODY=BINARYMIME");
        }
        if params.smtputf8 && !self.extensions.smtputf8 {
            return unknown("SMTPUTF8");
        }
        if params.auth.is_some() && !self.auth_offered() {
            return unknown("AUTH");
        }
        if !self.extensions.dsn {
            if params.ret.is_some() {
                return unknown("RET");
            }
            if params.envid.is_some() {
                return unknown("ENVID");
            }
        }
        None
    }

    /// RCPT parameters of an extension that is switched off.
    fn unsupported_rcpt_param(&self, params: &crate::params::RcptParams) -> Option<Reply> {
        let what = if self.extensions.dsn {
            return None;
        } else if params.notify.is_some() {
            "NOTIFY"
        } else if params.orcpt.is_some() {
            "ORCPT"
        } else {
            return None;
        };
        Reply::new(
            ReplyCode::PARAMS_NOT_RECOGNIZED.get(),
            Some(crate::EnhancedCode::INVALID_ARGUMENTS),
            format!("Invalid extension: \"{what}\""),
        )
        .ok()
    }

    /// AUTH is advertised and usable now.
    pub(crate) fn auth_offered(&self) -> bool {
        self.extensions.auth
            && !self.config.auth_mechanisms.is_empty()
            && (self.info.tls.is_some() || self.config.allow_insecure_auth)
    }

    fn auth_command(&mut self, verb: &str, mechanism: &str, initial: Option<String>) {
        if !self.extensions.auth || self.config.auth_mechanisms.is_empty() {
            return self.error(r::AUTH_UNAVAILABLE);
        }
        if !self.info.is_esmtp() {
            return self.error(r::bad_sequence(verb, "send EHLO first"));
        }
        if self.info.auth.is_some() {
            return self.error(r::AUTH_ALREADY);
        }
        if self.phase == Phase::Mail {
            return self.error(r::bad_sequence(verb, "mail transaction in progress"));
        }
        // An unknown mechanism is 504 whatever the transport: 538 would
        // claim that encryption makes it usable (RFC 4954 §4).
        let Some(mech) =
            Mechanism::from_name(mechanism).filter(|m| self.config.auth_mechanisms.contains(m))
        else {
            return self.error(r::AUTH_UNKNOWN_MECHANISM);
        };
        if self.info.tls.is_none() && !self.config.allow_insecure_auth {
            return self.reply(r::AUTH_NEEDS_TLS);
        }
        self.ask(
            Awaiting::Auth {
                mechanism: mech,
                initial_response: initial,
            },
            Pending::Auth { mechanism: mech },
        );
    }

    /// HELO, EHLO or LHLO: ask the policy.
    fn hello(&mut self, name: crate::Domain, greeting: Greeting) {
        let pending = Pending::Helo {
            name: name.clone(),
            extended: greeting != Greeting::Helo,
        };
        self.ask(Awaiting::Helo { name, greeting }, pending);
    }

    /// `BDAT size [LAST]`. The chunk's octets follow the command line, so
    /// they are consumed even when the command is refused: they are never
    /// read as commands.
    fn bdat(&mut self, verb: &str, size: u64, last: bool) {
        let refusal = if !self.extensions.chunking {
            Some(r::BDAT_UNAVAILABLE)
        } else if !self.info.is_esmtp() {
            // CHUNKING is only offered in the EHLO/LHLO reply (RFC 3030).
            Some(r::bad_sequence(verb, "send EHLO first"))
        } else {
            match &self.info.envelope {
                None => Some(r::bad_sequence(verb, "send MAIL and RCPT first")),
                Some(e) if e.recipients.is_empty() => Some(r::NO_RECIPIENTS),
                Some(_) => None,
            }
        };
        if let Some(reply) = refusal {
            self.error(reply);
            return self.discard_chunk(size);
        }
        if self.chunks.is_some() {
            self.start_chunk(size, last);
        } else {
            self.ask(Awaiting::Bdat { size, last }, Pending::Data);
        }
    }

    fn discard_chunk(&mut self, size: u64) {
        if size > 0 && !self.is_closed() {
            self.mode = Mode::BdatDiscard { remaining: size };
        }
    }

    fn start_chunk(&mut self, size: u64, last: bool) {
        if let Some(chunks) = self.chunks.as_mut() {
            chunks.begin_chunk(size);
        }
        self.mode = Mode::Bdat { last };
        if size == 0 {
            self.chunk_complete(last);
        }
    }

    /// All octets of a BDAT chunk arrived.
    pub(crate) fn chunk_complete(&mut self, last: bool) {
        self.mode = Mode::Command;
        let Some(chunks) = self.chunks.as_ref() else {
            return;
        };
        if last {
            let outcome = self.chunks.take().map(|c| c.finish());
            if let Some(outcome) = outcome {
                self.end_of_data(outcome);
            }
        } else if chunks.is_oversized() {
            self.end_transaction();
            self.reply(r::TOO_BIG);
        } else {
            let text = format!("{} octets received", chunks.size());
            self.reply(Reply::owned(
                ReplyCode::OK,
                Some(crate::EnhancedCode::SUCCESS),
                text,
            ));
        }
    }

    /// The policy allowed AUTH: start the exchange.
    fn start_sasl(&mut self, mechanism: Mechanism, initial: Option<String>) {
        match (mechanism, initial) {
            (Mechanism::Plain, Some(ir)) => self.sasl_line(SaslStep::PlainResponse, ir.as_bytes()),
            (Mechanism::Plain, None) => {
                self.mode = Mode::Sasl(SaslStep::PlainResponse);
                self.reply(Reply::fixed(ReplyCode::AUTH_CONTINUE, None, ""));
            }
            (Mechanism::Login, Some(ir)) => self.sasl_line(SaslStep::LoginUsername, ir.as_bytes()),
            (Mechanism::Login, None) => {
                self.mode = Mode::Sasl(SaslStep::LoginUsername);
                self.reply(Reply::fixed(
                    ReplyCode::AUTH_CONTINUE,
                    None,
                    LOGIN_USERNAME_PROMPT,
                ));
            }
            (m, Some(ir)) => self.sasl_line(SaslStep::TokenResponse(m), ir.as_bytes()),
            (m, None) => {
                self.mode = Mode::Sasl(SaslStep::TokenResponse(m));
                self.reply(Reply::fixed(ReplyCode::AUTH_CONTINUE, None, ""));
            }
        }
    }

    /// One SASL response line.
    pub(crate) fn sasl_line(&mut self, step: SaslStep, line: &[u8]) {
        if line == b"*" {
            return self.error(r::AUTH_CANCELLED);
        }
        let Ok(line) = std::str::from_utf8(line) else {
            return self.error(r::SASL_GARBLED);
        };
        let credentials = match step {
            SaslStep::TokenFailure => return self.auth_failed(None),
            SaslStep::TokenResponse(m) => {
                let decoded = if m == Mechanism::XOAuth2 {
                    sasl::decode_xoauth2(line)
                } else {
                    sasl::decode_oauthbearer(line)
                };
                match decoded {
                    Ok(c) => c,
                    Err(_) => return self.error(r::SASL_GARBLED),
                }
            }
            SaslStep::PlainResponse => match sasl::decode_plain(line) {
                Ok(c) => c,
                Err(_) => return self.error(r::SASL_GARBLED),
            },
            SaslStep::LoginUsername => {
                match sasl::decode_login(line) {
                    Ok(username) => {
                        self.mode = Mode::Sasl(SaslStep::LoginPassword { username });
                        self.reply(Reply::fixed(
                            ReplyCode::AUTH_CONTINUE,
                            None,
                            LOGIN_PASSWORD_PROMPT,
                        ));
                    }
                    Err(_) => self.error(r::SASL_GARBLED),
                }
                return;
            }
            SaslStep::LoginPassword { username } => match sasl::decode_login(line) {
                Ok(password) => Credentials::Password {
                    mechanism: Mechanism::Login,
                    authzid: None,
                    username,
                    password,
                },
                Err(_) => return self.error(r::SASL_GARBLED),
            },
        };
        self.ask(
            Awaiting::Authenticate {
                mechanism: credentials.mechanism(),
                username: credentials.username().to_owned(),
                authzid: credentials.authzid().map(str::to_owned),
            },
            Pending::Authenticate { credentials },
        );
    }

    /// The DATA receiver saw `<CRLF>.<CRLF>`.
    pub(crate) fn end_of_data(&mut self, outcome: DataOutcome) {
        use crate::limits::LineEndingPolicy;
        let limits = &self.config.limits;
        // Binary content (RFC 3030) may hold any octet.
        let binary = self
            .info
            .envelope
            .as_ref()
            .is_some_and(|e| e.mail_params.body == Some(crate::params::Body::BinaryMime));
        let refusal = if outcome.oversized || outcome.size > self.info.max_message_size {
            Some(r::TOO_BIG)
        } else if outcome.line_too_long {
            Some(r::LINE_TOO_LONG)
        } else if !binary
            && limits.line_endings == LineEndingPolicy::Reject
            && (outcome.stats.bare_cr > 0 || outcome.stats.bare_lf > 0)
        {
            Some(r::BARE_NEWLINE_DATA)
        } else if !binary && !limits.allow_nul && outcome.stats.nul > 0 {
            Some(r::NUL_DATA)
        } else {
            None
        };
        if let Some(reply) = refusal {
            self.end_transaction();
            return self.reply(reply);
        }
        let Some(envelope) = self.info.envelope.clone() else {
            return self.reply(r::POLICY_ERROR);
        };
        let findings = self.findings(&envelope, &outcome.stats);
        self.awaiting = Some(Awaiting::Deliver {
            recipients: envelope.recipients.len(),
        });
        self.emit(Event::Deliver(Transaction {
            envelope,
            data: outcome.content,
            stats: outcome.stats,
            findings,
        }));
    }

    /// Conformance mode: accept and record instead of refusing.
    fn recording(&self) -> bool {
        self.config.limits.line_endings == crate::limits::LineEndingPolicy::Record
    }

    /// What this transaction did against the rules.
    fn findings(&self, envelope: &Envelope, stats: &crate::data::DataStats) -> Vec<Finding> {
        use crate::params::Body;
        let mut findings = Vec::new();
        if self.info.early_talker {
            findings.push(Finding::EarlyTalker);
        }
        if self.info.utf8_without_smtputf8 {
            findings.push(Finding::Utf8EnvelopeWithoutSmtputf8);
        }
        if stats.bare_lf > 0 {
            findings.push(Finding::BareLf {
                count: stats.bare_lf,
            });
        }
        if stats.bare_cr > 0 {
            findings.push(Finding::BareCr {
                count: stats.bare_cr,
            });
        }
        if stats.nul > 0 {
            findings.push(Finding::Nul { count: stats.nul });
        }
        if stats.longest_line > 998 {
            findings.push(Finding::LongLine {
                length: stats.longest_line,
            });
        }
        let declared = matches!(
            envelope.mail_params.body,
            Some(Body::EightBitMime | Body::BinaryMime)
        );
        if stats.eight_bit > 0 && !declared {
            findings.push(Finding::EightBitWithoutBody {
                count: stats.eight_bit,
            });
        }
        findings
    }

    pub(crate) fn end_transaction(&mut self) {
        self.info.envelope = None;
        self.info.utf8_without_smtputf8 = false;
        self.chunks = None;
        if self.phase == Phase::Mail {
            self.phase = Phase::Ready;
        }
    }

    /// Applies a verdict to what was awaited.
    pub(crate) fn apply(&mut self, awaiting: Awaiting, verdict: Verdict) {
        let Verdict { accept, reply, .. } = verdict;
        let or = |default: Reply| reply.clone().unwrap_or(default);
        match awaiting {
            Awaiting::Connect => {
                if accept {
                    let greeting = r::greeting(&self.host, &self.info.peer.ip().to_string());
                    self.phase = Phase::Greeted;
                    self.reply(or(greeting));
                } else {
                    self.close_with(or(r::DENIED_CONNECTION));
                }
            }
            Awaiting::Helo { name, greeting } => {
                if !accept {
                    return self.reply(or(r::DENIED));
                }
                self.info.helo = Some((greeting, name));
                self.end_transaction();
                self.phase = Phase::Ready;
                let default = if greeting == Greeting::Helo {
                    Reply::owned(ReplyCode::OK, None, self.host.clone())
                } else {
                    self.ehlo_reply()
                };
                self.reply(or(default));
            }
            Awaiting::Rcpt(_) if !accept => self.reply(or(r::DENIED_RCPT)),
            Awaiting::Mail(Pending::MailFrom {
                reverse_path,
                params,
            }) if accept => {
                self.info.envelope = Some(Envelope {
                    reverse_path,
                    mail_params: params,
                    recipients: Vec::new(),
                });
                self.phase = Phase::Mail;
                self.reply(or(r::OK_MAIL));
            }
            Awaiting::Rcpt(Pending::RcptTo {
                forward_path,
                params,
            }) if accept => {
                if let Some(envelope) = self.info.envelope.as_mut() {
                    envelope.recipients.push(Recipient {
                        path: forward_path,
                        params,
                    });
                }
                self.reply(or(r::OK_RCPT));
            }
            Awaiting::Mail(_) | Awaiting::Rcpt(_) => {
                // Rejected MAIL (or a pending that cannot occur).
                self.reply(or(r::DENIED));
            }
            Awaiting::Data => {
                if accept {
                    let mut receiver = DataReceiver::new(
                        self.info.max_message_size,
                        self.config.limits.line_endings,
                        self.config.limits.text_line,
                    );
                    if !self.config.keep_content {
                        receiver = receiver.counting_only();
                    }
                    self.mode = Mode::Data(Box::new(receiver));
                    // The 354 never carries an enhanced code (RFC 2034).
                    self.reply(or(r::START_DATA).without_enhanced());
                } else {
                    self.reply(or(r::DENIED));
                }
            }
            Awaiting::Bdat { size, last } => {
                if accept {
                    let chunks = ChunkReceiver::new(self.info.max_message_size);
                    self.chunks = Some(if self.config.keep_content {
                        chunks
                    } else {
                        chunks.counting_only()
                    });
                    self.start_chunk(size, last);
                } else {
                    self.reply(or(r::DENIED));
                    self.discard_chunk(size);
                }
            }
            Awaiting::Deliver { recipients } => {
                let verdict = Verdict {
                    accept,
                    reply,
                    close: crate::session::event::Close::No,
                };
                let each = if self.config.lmtp {
                    recipients.max(1)
                } else {
                    1
                };
                self.delivered_each(vec![verdict; each]);
            }
            Awaiting::Vrfy => self.reply(if accept {
                or(r::VRFY_CANNOT)
            } else {
                or(r::DENIED)
            }),
            Awaiting::StartTls => {
                if accept {
                    self.reply(or(r::READY_TLS));
                    self.discard_input();
                    self.mode = Mode::TlsHandshake;
                    self.emit(Event::StartTls);
                } else {
                    self.reply(or(r::TLS_UNAVAILABLE));
                }
            }
            Awaiting::Auth {
                mechanism,
                initial_response,
            } => {
                if accept {
                    self.start_sasl(mechanism, initial_response);
                } else {
                    self.reply(or(r::DENIED));
                }
            }
            Awaiting::Authenticate {
                mechanism,
                username,
                authzid,
            } => {
                if accept {
                    self.info.auth = Some(AuthIdentity {
                        mechanism,
                        username,
                        authzid,
                    });
                    self.reply(or(r::AUTH_OK));
                } else if mechanism.is_token() && reply.is_none() {
                    // RFC 7628 §3.2.2: an error challenge first; the client
                    // answers it and then gets the 535.
                    self.mode = Mode::Sasl(SaslStep::TokenFailure);
                    self.reply(Reply::owned(
                        ReplyCode::AUTH_CONTINUE,
                        None,
                        sasl::oauth_error_challenge(),
                    ));
                } else {
                    self.auth_failed(reply);
                }
            }
        }
    }

    /// A failed AUTH: `535` (or the given reply). It also counts towards
    /// the error limit (security.md AUTH-4); past either limit the session
    /// closes with `421 4.7.0`.
    fn auth_failed(&mut self, reply: Option<Reply>) {
        self.auth_failures += 1;
        self.error(reply.unwrap_or(r::AUTH_BAD));
        if !self.is_closed() && self.auth_failures >= self.config.limits.max_auth_failures {
            self.close_with(r::TOO_MANY_AUTH_FAILURES);
        }
    }

    /// The outcome of a delivery: one reply, or one per recipient in LMTP.
    pub(crate) fn delivered_each(&mut self, verdicts: Vec<Verdict>) {
        self.end_transaction();
        if verdicts.iter().any(Verdict::is_accept) {
            self.info.transactions += 1;
        }
        for verdict in verdicts {
            let default = if verdict.accept {
                r::OK_QUEUED
            } else {
                r::DENIED_MESSAGE
            };
            self.reply(verdict.reply.unwrap_or(default));
        }
    }

    /// The multi-line EHLO reply: the hostname, then one keyword a line.
    fn ehlo_reply(&self) -> Reply {
        let ext = &self.extensions;
        let mut text = self.host.clone();
        let mut line = |s: &str| {
            text.push('\n');
            text.push_str(s);
        };
        if ext.pipelining {
            line("PIPELINING");
        }
        if ext.size {
            line(&format!("SIZE {}", self.info.max_message_size));
        }
        if ext.eight_bit_mime {
            line("8BITMIME");
        }
        if ext.smtputf8 {
            line("SMTPUTF8");
        }
        if ext.enhanced_status_codes {
            line("ENHANCEDSTATUSCODES");
        }
        if ext.chunking {
            line("CHUNKING");
            if ext.binarymime {
                line("BINARYMIME");
            }
        }
        if ext.dsn {
            line("DSN");
        }
        if ext.starttls && self.config.tls_available && self.info.tls.is_none() {
            line("STARTTLS");
        }
        if self.auth_offered() {
            let names: Vec<&str> = self
                .config
                .auth_mechanisms
                .iter()
                .map(|m| m.name())
                .collect();
            line(&format!("AUTH {}", names.join(" ")));
        }
        for extra in &ext.extra {
            if !extra.is_empty() && !extra.contains(['\r', '\n', '\0']) {
                line(extra);
            }
        }
        if ext.help {
            line("HELP");
        }
        Reply::owned(ReplyCode::OK, None, text)
    }
}

/// A command line for a transcript: printable ASCII kept, other octets as
/// `?`, at most 512 characters.
fn printable(line: &[u8]) -> String {
    let mut s: String = line
        .iter()
        .take(512)
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '?'
            }
        })
        .collect();
    if line.len() > 512 {
        s.push_str("...");
    }
    s
}

/// `AUTH MECHANISM` with any initial response replaced by `***`.
fn redact_auth(line: &[u8]) -> String {
    let shown = printable(line);
    let mut words = shown.split(' ').filter(|w| !w.is_empty());
    let verb = words.next().unwrap_or_default();
    match (words.next(), words.next()) {
        (Some(mechanism), Some(_)) => format!("{verb} {mechanism} ***"),
        (Some(mechanism), None) => format!("{verb} {mechanism}"),
        _ => verb.to_owned(),
    }
}

/// The verb as the client wrote it, for 503 texts: letters only.
fn verb_as_written(line: &[u8]) -> String {
    line.iter()
        .take_while(|b| b.is_ascii_alphabetic())
        .take(16)
        .map(|&b| b as char)
        .collect()
}
