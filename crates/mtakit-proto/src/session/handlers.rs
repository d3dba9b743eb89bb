//! What the session does with each command, SASL line, end of data and
//! verdict.

use crate::command::Command;
use crate::data::{DataOutcome, DataReceiver};
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
        if !extended && line.len() + 2 > self.config.limits.command_line {
            return self.error(r::LINE_TOO_LONG);
        }
        match cmd {
            Command::Helo(name) => self.ask(
                Awaiting::Helo(Pending::Helo {
                    name: name.clone(),
                    extended: false,
                }),
                Pending::Helo {
                    name,
                    extended: false,
                },
            ),
            Command::Ehlo(name) => self.ask(
                Awaiting::Helo(Pending::Helo {
                    name: name.clone(),
                    extended: true,
                }),
                Pending::Helo {
                    name,
                    extended: true,
                },
            ),
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
                if !reverse_path.is_ascii() && !params.smtputf8 {
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
                if !forward_path.is_ascii() && !envelope.mail_params.smtputf8 {
                    return self.reply(r::NON_ASCII);
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
                Some(_) => self.ask(Awaiting::Data, Pending::Data),
            },
            Command::Rset => {
                if self.phase == Phase::Mail {
                    self.phase = Phase::Ready;
                }
                self.info.envelope = None;
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
        if params.body == Some(crate::params::Body::BinaryMime) {
            return unknown("BODY=BINARYMIME");
        }
        if params.smtputf8 && !self.extensions.smtputf8 {
            return unknown("SMTPUTF8");
        }
        if params.auth.is_some() && !self.auth_offered() {
            return unknown("AUTH");
        }
        None
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
        if self.info.greeting() != Some(Greeting::Ehlo) {
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
        let refusal = if outcome.oversized || outcome.size > self.info.max_message_size {
            Some(r::TOO_BIG)
        } else if outcome.line_too_long {
            Some(r::LINE_TOO_LONG)
        } else if limits.line_endings == LineEndingPolicy::Reject
            && (outcome.stats.bare_cr > 0 || outcome.stats.bare_lf > 0)
        {
            Some(r::BARE_NEWLINE_DATA)
        } else if !limits.allow_nul && outcome.stats.nul > 0 {
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
        self.awaiting = Some(Awaiting::Deliver);
        self.emit(Event::Deliver(Transaction {
            envelope,
            data: outcome.content,
            stats: outcome.stats,
        }));
    }

    fn end_transaction(&mut self) {
        self.info.envelope = None;
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
            Awaiting::Helo(Pending::Helo { name, extended }) => {
                if !accept {
                    return self.reply(or(r::DENIED));
                }
                let greeting = if extended {
                    Greeting::Ehlo
                } else {
                    Greeting::Helo
                };
                self.info.helo = Some((greeting, name));
                self.end_transaction();
                self.phase = Phase::Ready;
                let default = if extended {
                    self.ehlo_reply()
                } else {
                    Reply::owned(ReplyCode::OK, None, self.host.clone())
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
            Awaiting::Helo(_) | Awaiting::Mail(_) | Awaiting::Rcpt(_) => {
                // Rejected MAIL (or a pending that cannot occur).
                self.reply(or(r::DENIED));
            }
            Awaiting::Data => {
                if accept {
                    let receiver = DataReceiver::new(
                        self.info.max_message_size,
                        self.config.limits.line_endings,
                        self.config.limits.text_line,
                    );
                    self.mode = Mode::Data(Box::new(receiver));
                    // The 354 never carries an enhanced code (RFC 2034).
                    self.reply(or(r::START_DATA).without_enhanced());
                } else {
                    self.reply(or(r::DENIED));
                }
            }
            Awaiting::Deliver => {
                self.end_transaction();
                if accept {
                    self.info.transactions += 1;
                    self.reply(or(r::OK_QUEUED));
                } else {
                    self.reply(or(r::DENIED_MESSAGE));
                }
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
                } else {
                    // A failed AUTH also counts towards the error limit
                    // (security.md AUTH-4); `error` closes past it.
                    self.auth_failures += 1;
                    self.error(or(r::AUTH_BAD));
                    if !self.is_closed()
                        && self.auth_failures >= self.config.limits.max_auth_failures
                    {
                        self.close_with(r::TOO_MANY_AUTH_FAILURES);
                    }
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

/// The verb as the client wrote it, for 503 texts: letters only.
fn verb_as_written(line: &[u8]) -> String {
    line.iter()
        .take_while(|b| b.is_ascii_alphabetic())
        .take(16)
        .map(|&b| b as char)
        .collect()
}
