//! pymta's own test suite, ported to the in-memory session (part 1 of 3; its helpers, the message-sending tests, and the SMTP and parsing tests each have a module):
//! `tests/basic_message_sending_test.py` (pymta.md §3.1),
//! `tests/basic_smtp_test.py` (§3.2, smtplib over TCP in pymta, in-memory
//! transcripts here) and `tests/command_parsing_test.py` (§3.3).
//!
//! Where pymta's behaviour is a bug (pymta.md §5) or conflicts with RFC 5321
//! or the design, the fixed behaviour is tested and the comment says so.
//!
//! Message data differs from pymta on purpose: pymta handed over text with
//! `\n` line ends and dropped the line break before the final `.`; mtakit
//! delivers the bytes exactly as received (dot-unstuffed), CRLF kept.

mod helpers;
mod message_sending;
mod smtp_and_parsing;
