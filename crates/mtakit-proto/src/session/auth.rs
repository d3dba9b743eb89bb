//! AUTH (RFC 4954): the command, the SASL exchange and failed attempts.

use crate::reply::{Reply, ReplyCode};
use crate::sasl::{self, Credentials, LOGIN_PASSWORD_PROMPT, LOGIN_USERNAME_PROMPT, Mechanism};
use crate::session::event::Pending;
use crate::session::machine::Session;
use crate::session::replies as r;
use crate::session::state::{Awaiting, SaslStep, State};

impl Session {
    /// AUTH is advertised and usable now.
    pub(super) fn auth_offered(&self) -> bool {
        self.extensions.auth
            && !self.config.auth_mechanisms.is_empty()
            && (self.info.tls.is_some() || self.config.allow_insecure_auth)
    }

    pub(super) fn auth_command(&mut self, verb: &str, mechanism: &str, initial: Option<String>) {
        if !self.extensions.auth || self.config.auth_mechanisms.is_empty() {
            return self.error(r::AUTH_UNAVAILABLE);
        }
        if !self.info.is_esmtp() {
            return self.error(r::bad_sequence(verb, "send EHLO first"));
        }
        if self.info.auth.is_some() {
            return self.error(r::AUTH_ALREADY);
        }
        if matches!(self.state, State::Mail(_)) {
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
    pub(super) fn start_sasl(&mut self, mechanism: Mechanism, initial: Option<String>) {
        match (mechanism, initial) {
            (Mechanism::Plain, Some(ir)) => self.sasl_line(SaslStep::PlainResponse, ir.as_bytes()),
            (Mechanism::Plain, None) => {
                self.state = State::Sasl(SaslStep::PlainResponse);
                self.reply(Reply::fixed(ReplyCode::AUTH_CONTINUE, None, ""));
            }
            (Mechanism::Login, Some(ir)) => self.sasl_line(SaslStep::LoginUsername, ir.as_bytes()),
            (Mechanism::Login, None) => {
                self.state = State::Sasl(SaslStep::LoginUsername);
                self.reply(Reply::fixed(
                    ReplyCode::AUTH_CONTINUE,
                    None,
                    LOGIN_USERNAME_PROMPT,
                ));
            }
            (m, Some(ir)) => self.sasl_line(SaslStep::TokenResponse(m), ir.as_bytes()),
            (m, None) => {
                self.state = State::Sasl(SaslStep::TokenResponse(m));
                self.reply(Reply::fixed(ReplyCode::AUTH_CONTINUE, None, ""));
            }
        }
    }

    /// One SASL response line.
    pub(super) fn sasl_line(&mut self, step: SaslStep, line: &[u8]) {
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
                        self.state = State::Sasl(SaslStep::LoginPassword { username });
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

    /// A failed AUTH: `535` (or the given reply). It also counts towards
    /// the error limit (security.md AUTH-4); past either limit the session
    /// closes with `421 4.7.0`.
    pub(super) fn auth_failed(&mut self, reply: Option<Reply>) {
        self.auth_failures += 1;
        self.error(reply.unwrap_or(r::AUTH_BAD));
        if !self.is_closed() && self.auth_failures >= self.config.limits.max_auth_failures {
            self.close_with(r::TOO_MANY_AUTH_FAILURES);
        }
    }
}
