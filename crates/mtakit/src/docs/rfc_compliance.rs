//! # RFC coverage
//!
//! | RFC | what | status | where |
//! |---|---|---|---|
//! | 5321 | SMTP: commands, paths, replies, the state machine (§4.1.4), transparency (§4.5.2), limits (§4.5.3.1) and timeouts (§4.5.3.2) | done | [`proto::session`](crate::proto::session), [`proto::Limits`](crate::proto::Limits) |
//! | 1870 | SIZE: advertised with the per-connection limit, `SIZE=` refused at MAIL, enforced while streaming | done | [`Verdict::with_max_message_size`](crate::Verdict::with_max_message_size) |
//! | 2920 | PIPELINING: replies in order, whole batches in one packet, DATA and content in one write | done | [`proto::Session`](crate::proto::Session) |
//! | 2034, 3463 | ENHANCEDSTATUSCODES on every reply after EHLO, none after HELO | done | [`proto::EnhancedCode`](crate::proto::EnhancedCode) |
//! | 6152 | 8BITMIME: `BODY=7BIT` / `BODY=8BITMIME`, byte-clean content | done | [`proto::MailParams`](crate::proto::MailParams) |
//! | 6531 | SMTPUTF8: UTF-8 addresses when `SMTPUTF8` is given, `553 5.6.7` otherwise | done | [`proto::address`](crate::proto::address) |
//! | 4954, 4616 | AUTH PLAIN and LOGIN, initial response or `334`, `*` cancels, only under TLS by default | done | [`Authenticator`](crate::Authenticator) |
//! | 7628 | OAUTHBEARER, and Google's XOAUTH2: the bearer token goes to the authenticator | done | [`proto::Credentials`](crate::proto::Credentials) |
//! | 3207 | STARTTLS: pipelined plaintext discarded, session reset, not offered again | done | [`tls`](crate::tls) |
//! | 8314 | Implicit TLS ("port 465") | done | [`Server::serve_implicit_tls`](crate::Server::serve_implicit_tls) |
//! | 3030 | CHUNKING and BINARYMIME: BDAT counted exactly, size enforced while streaming | done | [`proto::bdat`](crate::proto::bdat) |
//! | 3461 | DSN parameters: RET, ENVID, NOTIFY and ORCPT typed and validated; sending DSNs is the application's job | done | [`proto::params`](crate::proto::params) |
//! | 2033 | LMTP: LHLO, one reply per recipient | done | [`MessageSink::deliver_each`](crate::MessageSink::deliver_each) |
//! | — | PROXY protocol v1 and v2, from trusted networks only | done | [`proxy`](crate::proxy) |
//! | 5322 | message format: only headers are looked at ([`Message::raw_header`](crate::Message::raw_header)) | partial | |
//! | 3030 | BDAT replies are sent after each chunk; there is no CHUNKING "early reply" mode | — | |
