//! What the session does with each command and with each verdict.

use crate::bdat::ChunkReceiver;
use crate::command::Command;
use crate::data::DataReceiver;
use crate::reply::{Reply, ReplyCode};
use crate::sasl;
use crate::session::event::{Event, Pending, Verdict};
use crate::session::info::{AuthIdentity, Envelope, Greeting, Recipient};
use crate::session::machine::Session;
use crate::session::replies as r;
use crate::session::state::{Awaiting, Content, SaslStep, State, Tx};

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
                if let Some(hint) = match self.state {
                    State::Ready => None,
                    State::Mail(_) => return self.error(r::NESTED_MAIL),
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
                let pending = Pending::MailFrom {
                    reverse_path,
                    params,
                };
                let awaiting = Awaiting::Mail {
                    pending: pending.clone(),
                    utf8_without_smtputf8: utf8_without,
                };
                self.ask(awaiting, pending);
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
                if utf8_without && let State::Mail(tx) = &mut self.state {
                    tx.utf8_without_smtputf8 = true;
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
                // RFC 2033 §4.2: in LMTP, DATA without a recipient is a 503.
                Some(e) if e.recipients.is_empty() && self.config.lmtp => {
                    self.error(r::LMTP_NO_RECIPIENTS);
                }
                Some(e) if e.recipients.is_empty() => self.error(r::NO_RECIPIENTS),
                Some(_) if self.chunks_open() => {
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
                } else if matches!(self.state, State::Mail(_)) {
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

    /// HELO, EHLO or LHLO: ask the policy.
    fn hello(&mut self, name: crate::Domain, greeting: Greeting) {
        let pending = Pending::Helo {
            name: name.clone(),
            extended: greeting != Greeting::Helo,
        };
        self.ask(Awaiting::Helo { name, greeting }, pending);
    }

    /// Applies a verdict to what was awaited.
    pub(crate) fn apply(&mut self, awaiting: Awaiting, verdict: Verdict) {
        let Verdict { accept, reply, .. } = verdict;
        let or = |default: Reply| reply.clone().unwrap_or(default);
        match awaiting {
            Awaiting::Connect => {
                if accept {
                    let greeting = r::greeting(&self.host, self.config.lmtp);
                    self.state = State::Greeted;
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
                self.state = State::Ready;
                let default = if greeting == Greeting::Helo {
                    Reply::owned(ReplyCode::OK, None, self.host.clone())
                } else {
                    self.ehlo_reply()
                };
                self.reply(or(default));
            }
            Awaiting::Rcpt(_) if !accept => self.reply(or(r::DENIED_RCPT)),
            Awaiting::Mail {
                pending:
                    Pending::MailFrom {
                        reverse_path,
                        params,
                    },
                utf8_without_smtputf8,
            } if accept => {
                self.info.envelope = Some(Envelope {
                    reverse_path,
                    mail_params: params,
                    recipients: Vec::new(),
                });
                self.state = State::Mail(Box::new(Tx::new(utf8_without_smtputf8)));
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
            Awaiting::Mail { .. } | Awaiting::Rcpt(_) => {
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
                    if let State::Mail(tx) = &mut self.state {
                        tx.content = Content::Data(Box::new(receiver));
                    }
                    // The 354 never carries an enhanced code (RFC 2034).
                    self.reply(or(r::START_DATA).without_enhanced());
                } else {
                    self.reply(or(r::DENIED));
                }
            }
            Awaiting::Bdat { size, last } => {
                if accept {
                    let chunks = ChunkReceiver::new(self.info.max_message_size);
                    let receiver = if self.config.keep_content {
                        chunks
                    } else {
                        chunks.counting_only()
                    };
                    if let State::Mail(tx) = &mut self.state {
                        tx.content = Content::Chunks {
                            receiver,
                            reading: None,
                        };
                    }
                    self.start_chunk(size, last);
                } else {
                    // In LMTP, `BDAT … LAST` is the end of the message: its
                    // refusal is repeated for each recipient, like any other.
                    let each = if last {
                        self.replies_at_end_of_data()
                    } else {
                        1
                    };
                    for _ in 0..each {
                        self.reply(or(r::DENIED));
                    }
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
                    self.state = State::TlsHandshake;
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
                    self.state = State::Sasl(SaslStep::TokenFailure);
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

/// A command line for a transcript: printable UTF-8 kept, controls and
/// invalid octets as `?`, at most 512 characters.
fn printable(line: &[u8]) -> String {
    crate::command::printable_utf8(line, 512)
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
