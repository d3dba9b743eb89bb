//! What the session does with each verdict: the stage it answers moves on.

use crate::bdat::ChunkReceiver;
use crate::data::DataReceiver;
use crate::reply::{Reply, ReplyCode};
use crate::sasl;
use crate::session::event::Event;
use crate::session::info::{AuthIdentity, Envelope, Greeting, Recipient};
use crate::session::machine::Session;
use crate::session::replies as r;
use crate::session::state::{Awaiting, Content, SaslStep, State, Tx};
use crate::session::verdict::{Close, Verdict};

impl Session {
    /// Applies a verdict to what was awaited.
    pub(super) fn apply(&mut self, awaiting: Awaiting, verdict: Verdict) {
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
            Awaiting::Rcpt { .. } if !accept => self.reply(or(r::DENIED_RCPT)),
            Awaiting::Mail { .. } if !accept => self.reply(or(r::DENIED)),
            Awaiting::Mail {
                reverse_path,
                params,
                utf8_without_smtputf8,
            } => {
                self.info.envelope = Some(Envelope {
                    reverse_path,
                    mail_params: params,
                    recipients: Vec::new(),
                });
                self.state = State::Mail(Box::new(Tx::new(utf8_without_smtputf8)));
                self.reply(or(r::OK_MAIL));
            }
            Awaiting::Rcpt {
                forward_path,
                params,
            } => {
                if let Some(envelope) = self.info.envelope.as_mut() {
                    envelope.recipients.push(Recipient {
                        path: forward_path,
                        params,
                    });
                }
                self.reply(or(r::OK_RCPT));
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
                    close: Close::No,
                    data: None,
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
}
