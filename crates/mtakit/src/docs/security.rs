//! # Security: threats, defaults and the tests that prove them
//!
//! mtakit is strict by default and bounded everywhere. Each row names the
//! threat, what the default does, and the tests that fail if the defence is
//! removed (`proto:` tests are in `crates/mtakit-proto/tests`, the others in
//! `crates/mtakit/tests`). The attack cases come from
//! `reference/security.md` (SMUG-*, LIM-*, TO-*, TLS-*, NUL-*, HDR-*,
//! AUTH-*).
//!
//! ## SMTP smuggling (2023, CVE-2023-51764/5/6)
//!
//! | threat | default | tests |
//! |---|---|---|
//! | A non-standard end of data (`\n.\n`, `\r\n.\r`, `\r\n\x00.\r\n`, …) makes the server read a second, forged message | Only `<CRLF>.<CRLF>` ends DATA, in every [`LineEndingPolicy`](crate::proto::LineEndingPolicy); a bare CR or LF is never a line end | `proto: session_security::smug1_smug2_default_rejects_every_bare_line_ending`, `smuggling::strict_default_refuses_every_seq`, `smuggling::smug_7_one_byte_writes`, `proto: split_invariance` |
//! | Content with bare CR/LF is relayed on to a lenient server | Refused with `550 5.5.2` after the real end (`Reject`); `Normalize` turns them into CRLF; `Record` keeps them and lists a [`Finding`](crate::proto::Finding) | `proto: session_security::smug3_normalize_accepts_one_message_with_crlf_in_place_of_bare_ones`, `smuggling::smug_3_normalize_still_ends_only_at_crlf_dot_crlf` |
//! | A command ended by a bare LF is executed | Never: `500 5.5.2`, the line is dropped | `proto: session_security::smug4_a_command_ended_by_bare_lf_is_never_executed`, `smuggling::smug_4_bare_lf_command_is_not_executed` |
//! | BDAT chunk octets are read as commands | A BDAT with a valid size always consumes its octets, even when refused | `proto: session_extensions::bdat_without_a_transaction_drains_its_chunk` |
//!
//! ## STARTTLS command injection (CVE-2011-0411) and TLS
//!
//! | threat | default | tests |
//! |---|---|---|
//! | Plaintext pipelined after STARTTLS runs inside TLS | Discarded before the handshake | `tls::pipelined_plaintext_after_starttls_is_discarded`, `proto: session_security::tls1_tls3_pipelined_plaintext_after_starttls_is_discarded` |
//! | State learned before TLS (EHLO, AUTH, transaction) survives it | The session resets; EHLO is needed again; STARTTLS is not offered again | `tls::session_resets_after_tls`, `proto: session_security::auth9_identity_is_cleared_by_starttls` |
//! | A reply injected before TLS is read by the test client inside it | [`Client::upgrade_tls`](crate::client::Client::upgrade_tls) (under `test_util::TestClient`) drops its buffer at the switch; `mtakit load` refuses such a server | `tls::test_client_drops_replies_injected_before_tls` |
//! | A server sending an endless reply makes a client buffer without end | [`ReplyReader`](crate::proto::ReplyReader) caps lines at 2,048 octets and replies at 64 lines | `proto: reply_reader::tests::memory_held_stays_within_one_reply`, `client::tests::an_endless_reply_is_cut_off_at_the_bound`, the CLI's `relay::tests::an_endless_reply_from_the_relay_is_cut_off`, fuzz `reply_reader` |
//! | A client stalls the handshake | Cut off at the command timeout | `tls::handshake_stall_times_out` |
//! | Garbage instead of a ClientHello | That connection closes; the server goes on | `tls::garbage_handshake_closes_cleanly` |
//!
//! ## Authentication
//!
//! | threat | default | tests |
//! |---|---|---|
//! | Passwords sent in clear | AUTH is neither offered nor accepted without TLS (`538 5.7.11`) unless allowed | `tls::auth_only_after_tls_by_default`, `proto: session_security::auth1_auth2_no_auth_before_tls` |
//! | A failed AUTH leaves the session authenticated (pymta's bug) | Failure leaves it unauthenticated; retry is allowed | `proto: pymta_validation` (`fixed_*` tests) |
//! | Password guessing | Each failure counts; after [`max_auth_failures`](crate::proto::Limits::max_auth_failures) (3) `421 4.7.0` and close | `proto: session_security::auth4_a_failed_auth_counts_towards_the_error_limit` |
//! | Huge SASL lines | Capped at 12 288 octets (`500 5.5.6`) | `proto: session_security::auth8_long_continuation_line` |
//! | A client skips or botches AUTH and sends anyway | With [`require_auth`](crate::Builder::require_auth) (CLI `--require-auth`), MAIL gets `530 5.7.0` until AUTH succeeded | `proto: session_security::require_auth_and_require_tls`, the CLI's `protocol::require_auth_refuses_mail_until_auth_succeeds` |
//! | AUTH PLAIN `admin\0alice\0secret`: alice asks to act as admin | [`UserTable`](crate::UserTable) refuses an authzid other than the user (RFC 4616 §2); a custom authenticator that accepts one grants it | `server_auth::user_table_refuses_a_foreign_authzid` |
//!
//! ## Limits and slow clients (RFC 5321 §4.5.3)
//!
//! | threat | default | tests |
//! |---|---|---|
//! | Endless command lines exhaust memory | 512 octets (2048 with MAIL/RCPT parameters); longer lines are discarded up to their end and get `500 5.5.6` | `input_limits::lim_3_huge_command_line_is_refused_and_the_session_recovers`, `proto: session_rfc::an_overlong_line_gets_the_same_reply_however_it_ends_or_arrives` |
//! | Huge messages are buffered | 10 MiB, advertised in SIZE; content beyond it is drained, not stored, then `552 5.3.4` | `input_limits::lim_12_oversized_data_is_drained_then_552`, `proto: session_extensions::bdat_size_limit_enforced_while_streaming` |
//! | Too many recipients | 1000, then `452 4.5.3` | `pipelining::lim_9_10_pipelined_recipients_up_to_the_limit` |
//! | A client sends garbage forever | 20 bad commands, then `421 4.7.0` and close | `proto: session_rfc::sequence_errors_count_towards_the_error_limit`, `input_limits::lim_3_repeated_long_lines_hit_the_error_limit` |
//! | Idle clients hold connections | `421 4.4.2` after the command timeout (5 min) | `server_timeouts::to_1_idle_client_gets_421_after_the_command_timeout` |
//! | A command sent a byte at a time (slowloris) | The command timeout is a deadline for the whole line | `server_timeouts::to_2_slowloris_command_is_cut_off` |
//! | DATA trickled a byte at a time | Content must keep [`min_data_rate`](crate::proto::Limits::min_data_rate) (500 octets/s) | `server_timeouts::to_3_trickled_data_is_cut_off` |
//! | A client that never reads its replies | Writes are bounded by the command timeout | `server_timeouts::to_4_client_that_never_reads_is_closed` |
//! | A driver feeds a `Session` more and more input while a decision is pending | At most [`MAX_PENDING_INPUT`](crate::proto::MAX_PENDING_INPUT) (256 KiB) is buffered; past it `421 4.7.0` and a close | `proto: session::tests::input_given_while_a_decision_is_pending_is_bounded` |
//! | Pipelined commands whose replies are never read (18× amplification with `HELP`) | Input is not handled while 16 KiB of replies wait (backpressure); the buffer is freed after a burst | `budgets::a_client_that_never_reads_cannot_pile_up_replies` |
//! | Many unfinished messages held in memory (1,000 × 10 MiB) | One budget for content in flight over all sessions, [`max_content_in_flight`](crate::Builder::max_content_in_flight) (512 MiB); a message that would overrun it is drained and gets `452 4.3.1` | `budgets::content_in_flight_has_a_server_wide_budget` |
//! | A slow policy hook or sink hangs the session | Hooks get the command timeout, the sink the DATA termination timeout; then `451 4.3.0` | `server_timeouts::to_6_slow_policy_hook_gives_451_and_the_session_goes_on`, `server_timeouts::stuck_sink_gives_451_after_the_data_termination_timeout` |
//! | Too many connections | 1000 in total (`421 4.3.2`), optional per-IP cap (`421 4.7.0`) | `server_connections::max_connections_refuses_the_third_client`, `server_connections::max_connections_per_ip_refuses_the_second_client` |
//!
//! Message content in flight is bounded by a budget, not by streaming: a
//! session holds the content of its message until the end of the data,
//! when the sink stores it (a [`MessageSink`](crate::MessageSink) gets the
//! whole [`Message`](crate::Message), so that a policy can look at it before
//! anything is stored). Every connection reserves what it holds from one
//! server-wide budget; the message that would overrun it is drained
//! instead of stored and gets `452 4.3.1`, which a client retries later, as
//! it would after Postfix's "insufficient system storage". Memory for
//! content is thus at most the budget plus one read (64 KiB) per
//! connection, whatever the sink, and no other session is disturbed.
//!
//! ## Around the core: transcripts, fault rules and `mtakit serve`
//!
//! | threat | default | tests |
//! |---|---|---|
//! | Long pipelined sessions fill memory with transcripts, and listing them freezes the server | Each transcript keeps its start and its latest entries within [`TRANSCRIPT_BYTES`](crate::observe::TRANSCRIPT_BYTES) (256 KiB), the middle counted in one [`Entry::Omitted`](crate::observe::Entry::Omitted); `mtakit serve` keeps 32 MiB in total, lists summaries and serves one transcript on demand | `observe::tests::a_long_session_keeps_its_start_and_end_within_the_budget`, the CLI's `http::sessions::tests::transcripts_stay_within_their_budgets` |
//! | A fault rule's regular expression freezes every session | Linear-time matching with a 64 KiB compiled-size limit (larger patterns are refused when loaded); `message` rules run on the blocking pool, two at a time, without a lock | `fault::pattern::tests::a_pattern_over_the_size_limit_is_refused_with_a_reason`, `fault::tests::a_message_match_runs_on_the_blocking_pool_while_others_are_served` |
//! | A test's `Message::subject()` (feature `test-util`) on a deeply nested message aborts the test process | The decoded view refuses more than 100 `multipart`/`message` types (also inside base64/QP parts) or 2,000 RFC 2231 sections before parsing, and drops parsed trees without recursion | `message::decoded` tests (50,000 levels, plain and base64-wrapped) |
//! | A fault rule pauses for ever | `delay_ms` and `drip_ms` at most one hour (`fault::MAX_PAUSE_MS`), refused when loaded | `fault::wire::tests::bad_rules_say_why` |
//! | Another client uses up a test's fault rule (`times`, `after`, `probability`) | Rules can count per peer or per session (`scope`), each with its own random state | `faults::scoped_counters_are_per_peer_or_per_session` |
//! | `mtakit serve`: one message of 50,000 nested `message/rfc822` parts overflows the parser's stack when it is opened, and the process dies with every stored message | Nesting (32), parts (10,000) and RFC 2231 sections (2,000) are bounded by a pre-scan before any full parse; parsed trees are dropped without recursion; parsing runs on the blocking pool | the `message::mime_scan` and `message::mime_bound` tests, the CLI's `http::tests::limits::deeply_nested_rfc822_is_shown_without_parsing`, the `message_model` fuzz target |
//! | `mtakit serve`: large messages or huge subjects fill memory and make lists of hundreds of MB | A byte budget for the in-memory store (256 MiB, `--store-bytes`), list strings cut to 1000 characters, paged lists | the CLI's `store::the_byte_budget_drops_the_oldest`, `http::tests::limits::lists_are_bounded_and_paged` |
//! | `mtakit serve`: many `/api/wait` requests rescan the store on every new message | Each new message is tested once per waiter; at most 64 waiters (`--max-waiters`), then `503` | the CLI's `waiters` tests, `http::tests::limits::waiters_are_capped` |
//! | `mtakit serve --relay`: content accepted with bare LF (`BODY=BINARYMIME`, `--line-endings record`) reaches a lenient next hop as two messages | The relay writes bare CR and bare LF as CRLF before dot-stuffing, as Postfix does; stored addresses are parsed again before `RCPT TO` | the CLI's `http::tests::smuggling` tests and `relay::encode` tests |
//! | `mtakit serve --relay`: a stalling next hop makes every message hold a connection and a copy | 4 relay connections and a queue of 1000 message ids; content is streamed from the store when sent | the CLI's `http::forward` tests |
//! | Maildir: after a restart, `Delivered-To:` lines in the message body become recipients (and are pasted into `RCPT TO` on release) | The envelope is kept in an `X-Mtakit-Envelope:` record that states the exact length of what precedes the message; content cannot reach it | `sink::maildir_read` tests (`the_envelope_and_the_bytes_come_back_whatever_the_content_says`), the CLI's `http::maildir_tests` and `http::tests::smuggling::after_a_restart_a_maildir_release_goes_to_the_real_recipients_only` |
//! | A huge or damaged file in a Maildir is read whole into memory, or shown with a wrong envelope | [`MaildirReader`](crate::sink::MaildirReader) bounds each read ([`MAILDIR_MAX_FILE`](crate::sink::MAILDIR_MAX_FILE), 64 MiB), reports damaged records and lists only what it can read | `sink::maildir_read` tests (`bad_files_are_reported_and_the_others_read`), the CLI's `maildir_tests::a_file_over_the_limit_is_listed_but_not_served` |
//! | A policy bug (an accept with a `550`) goes unnoticed | The client gets `451 4.3.0`, and [`Event::PolicyError`](crate::proto::Event::PolicyError) and a warning in the log name the stage and the reply | `policy_errors::a_wrong_class_verdict_gives_451_and_a_warning`, the proto's `session_rfc::verdicts` tests |
//! | Maildir: 20,000 messages make every API call seconds long | Opening a message by id reads no directory; the listing is linear and cached by the directories' mtimes | the CLI's `http::maildir_tests` (structural cost test) |
//! | `mtakit serve`: half-sent HTTP requests hold every file descriptor, so SMTP gets no greeting and deliveries fail | A 10 s header timeout, a 30 s request timeout, at most 128 HTTP connections, and a file-descriptor budget that leaves room for SMTP's cap | the CLI's `http::listener` tests and `http_limits::half_sent_requests_leave_smtp_and_the_maildir_working` |
//! | `mtakit serve`: a message writes escape sequences to the terminal, or forges the stdout framing | Content lines are printed after `| `, control characters escaped | the CLI's `output` tests and `serve::content_can_neither_drive_the_terminal_nor_forge_a_block` |
//!
//! ## Bad bytes and injection
//!
//! | threat | default | tests |
//! |---|---|---|
//! | NUL or control bytes in commands | `501 5.5.2`, never echoed raw | `proto: session_security::nul1_nul_in_commands_is_501_without_state_change`, `proto: session_security::nul4_control_characters_in_commands_are_501_and_never_echoed` |
//! | NUL in content (Sendmail's smuggling follow-up) | Refused with `554 5.6.0` unless [`allow_nul`](crate::proto::Limits::allow_nul) | `input_limits::nul_2_nul_in_data_is_refused_by_default` |
//! | A bare CR in the EHLO argument forges a header later | `501 5.5.2` | `proto: session_security::hdr1_bare_cr_in_ehlo_is_501` |
//! | A policy's reply text injects a second reply | [`Reply`](crate::proto::Reply) refuses CR, LF and NUL; lines over 512 octets are split | `proto: session_security::hdr4_reply_text_cannot_inject` |
//! | A CR hidden in DSN xtext | `501 5.5.4` | `proto: session_extensions::dsn_parameters_are_validated` |
//! | A forged PROXY header | Accepted only from configured networks | `proxy_protocol` tests |
//!
//! ## Nothing lost
//!
//! | threat | default | tests |
//! |---|---|---|
//! | A sink fails or panics | `451 4.3.0` for that message; the client retries; the server goes on | `server_sinks::sink_error_reply_reaches_the_client_and_a_retry_works`, `server_sinks::panicking_sink_gives_451_and_the_server_goes_on` |
//! | LMTP: a refused message gets one reply, and the client reads its next reply (the `221` to QUIT) as the second recipient's result | Every end of the message, accepted or refused, gets one reply per accepted recipient (RFC 2033 §4.2) | `proto: lmtp_refusals`, `lmtp::a_refused_message_gets_one_reply_per_recipient_before_a_pipelined_quit`, the CLI's `postfix_lmtp` test with a real Postfix |
//! | A crash leaves partial files in a Maildir's `tmp/` forever | [`MaildirSink::create`](crate::MaildirSink::create) removes `tmp/` files older than 36 hours, as Maildir readers do | `sink::maildir` tests |
//! | A crash loses an acknowledged message | [`MaildirSink`](crate::MaildirSink) fsyncs and renames into `new/` before the `250` | `server_sinks::maildir_file_is_in_new_before_the_250`, `server_sinks::maildir_without_new_gives_451_and_leaves_tmp_empty` |
//! | A client disconnects mid-DATA | No message | `pipelining::disconnect_mid_data_stores_nothing` |
//! | Shutdown cuts transactions | Stop accepting, finish transactions in flight up to the deadline, `421 4.3.2` to idle sessions | `server_connections::graceful_shutdown_lets_a_transaction_finish` and the CLI's SIGTERM test |
//! | Load with hostile clients loses or duplicates mail | Every acknowledged message stored exactly once | `soak::hundreds_of_mixed_clients_lose_nothing` |
//! | Unknown parser crashes | Fuzz targets for every parser and the whole session | `fuzz/` and `FUZZING.md` |
