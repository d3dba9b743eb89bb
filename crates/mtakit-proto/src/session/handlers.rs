//! What the session does with each command line.

use crate::command::Command;
use crate::session::event::{Event, Pending};
use crate::session::info::Greeting;
use crate::session::machine::Session;
use crate::session::replies as r;
use crate::session::state::{Awaiting, State};

impl Session {
    /// Handles one complete command line (without CRLF).
    pub(super) fn command_line(&mut self, line: &[u8]) {
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
                    reverse_path: reverse_path.clone(),
                    params: params.clone(),
                };
                let awaiting = Awaiting::Mail {
                    reverse_path,
                    params,
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
                    forward_path: forward_path.clone(),
                    params: params.clone(),
                };
                self.ask(
                    Awaiting::Rcpt {
                        forward_path,
                        params,
                    },
                    pending,
                );
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
    /// HELO, EHLO or LHLO: ask the policy.
    fn hello(&mut self, name: crate::Domain, greeting: Greeting) {
        let pending = Pending::Helo {
            name: name.clone(),
            extended: greeting != Greeting::Helo,
        };
        self.ask(Awaiting::Helo { name, greeting }, pending);
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
