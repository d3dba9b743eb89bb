//! pymta's own test suite, ported to the in-memory session (part 2 of 3):
//! `tests/policy_output_test.py` (pymta.md §3.4), `tests/policy_test.py`
//! (§3.5), `tests/smtp_parameter_validation_test.py` (§3.6) and the intent
//! of `tests/statemachine_test.py` (§3.7) as command-order rules.
//!
//! pymta's policy results map to `Verdict`: `True`/`None` to accept,
//! `False` to reject, `(bool, (code, text))` to `accept_with`/`reject_with`,
//! and `PolicyDecision`'s close flags to `and_close` (close after the reply)
//! and `disconnect` (close before it). `accept_msgdata` is the sink's
//! verdict on `Event::Deliver`.

use mtakit_proto::testing::Harness;
use mtakit_proto::{
    EnhancedCode, Mechanism, Pending, Reply, SessionConfig, SessionInfo, TimeoutKind, TlsInfo,
    Verdict,
};

use crate::support::auth_config;
use crate::support::pymta::{
    b64, code, dummy_authenticator, ehlo, first_digit, helo, mail_and_rcpt, with_authenticator,
};

// ---------------------------------------------------------------------------
// Helpers

/// A session whose policy answers `Pending::Connect` with `verdict`.
fn on_connect(verdict: Verdict) -> Harness {
    Harness::new().with_policy(move |pending, _| match pending {
        Pending::Connect => verdict.clone(),
        _ => Verdict::accept(),
    })
}

/// A session whose policy answers every HELO/EHLO with `verdict`.
fn on_helo(verdict: Verdict) -> Harness {
    Harness::new().with_policy(move |pending, _| match pending {
        Pending::Helo { .. } => verdict.clone(),
        _ => Verdict::accept(),
    })
}

fn reply(code: u16, text: &'static str) -> Reply {
    Reply::new(code, None, text).unwrap()
}

// ---------------------------------------------------------------------------
// §3.4 tests/policy_output_test.py

// pymta: policy_output_test.py #1 test_policy_can_return_true
#[test]
fn policy_can_return_true() {
    let mut h = on_connect(Verdict::from(true));
    assert_eq!(code(&h.greeting()), 220);
    assert!(!h.is_closed());
}

// pymta: policy_output_test.py #2 test_policy_can_return_false
#[test]
fn policy_can_return_false() {
    let mut h = on_connect(Verdict::from(false));
    assert_eq!(code(&h.greeting()), 554);
    assert!(h.is_closed());
}

// pymta: policy_output_test.py #3 test_returning_none_is_treated_as_true
// "No opinion" is the harness's default policy, which accepts.
#[test]
fn policy_returning_none_is_treated_as_true() {
    let mut h = Harness::new();
    assert_eq!(code(&h.greeting()), 220);
    assert!(!h.is_closed());
    assert!(matches!(h.pendings(), [Pending::Connect]));
}

// pymta: policy_output_test.py #4 test_policy_can_return_custom_codes_as_tuple
#[test]
fn policy_can_return_custom_codes_as_tuple() {
    let mut h = on_connect(Verdict::reject_with(reply(553, "Go away")));
    h.run();
    assert_eq!(h.replies(), [reply(553, "Go away")]);
    assert!(h.is_closed());
}

// pymta: policy_output_test.py #5 test_policy_can_return_multiple_lines
#[test]
fn policy_can_return_multiple_lines() {
    let lines = Reply::multiline(552, None, ["Go away", "Evil IP"]).unwrap();
    let mut h = on_connect(Verdict::reject_with(lines));
    h.run();
    assert_eq!(h.replies().len(), 1);
    assert_eq!(code(&h.replies()[0]), 552);
    assert_eq!(
        h.replies()[0].lines().collect::<Vec<_>>(),
        ["Go away", "Evil IP"]
    );
    assert!(h.is_closed());
}

// pymta: policy_output_test.py #6 test_can_return_policydecision_instance
#[test]
fn policy_can_return_policydecision_instance() {
    let mut h = Harness::new().with_policy(|pending, _| match pending {
        Pending::Helo { name, .. } => Verdict::from(name.to_string() == "localhost"),
        _ => Verdict::accept(),
    });
    assert_eq!(first_digit(&h.send("HELO foo.example.com")), 5);
    assert_eq!(first_digit(&h.send("HELO bar.example.net")), 5);
    assert_eq!(h.session().info().helo(), None);
    assert_eq!(first_digit(&h.send("HELO localhost")), 2);
}

// pymta: policy_output_test.py #7 test_can_return_custom_code_and_message_in_policydecision_instance
#[test]
fn policy_can_return_custom_code_and_message_in_policydecision_instance() {
    let mut h = on_helo(Verdict::reject_with(reply(553, "I am tired")));
    assert_eq!(h.send("HELO foo.example.com"), reply(553, "I am tired"));
    assert!(!h.is_closed());
}

// pymta: policy_output_test.py #8 test_can_close_connection_after_reply
#[test]
fn policy_can_close_connection_after_reply() {
    let mut h = on_helo(Verdict::reject_with(reply(552, "Stupid Spammer")).and_close());
    assert_eq!(h.send("HELO foo.example.com"), reply(552, "Stupid Spammer"));
    assert!(h.is_closed());
}

// pymta: policy_output_test.py #9 test_can_close_connection_before_reply
#[test]
fn policy_can_close_connection_before_reply() {
    let mut h = on_helo(Verdict::disconnect());
    assert!(h.send_raw(b"HELO foo.example.com\r\n").is_empty());
    assert!(h.is_closed());
}

// pymta: policy_output_test.py #10 test_can_close_connection_after_using_default_response
#[test]
fn policy_can_close_connection_after_using_default_response() {
    let mut h = on_helo(Verdict::reject().and_close());
    let r = h.send("HELO foo.example.com");
    assert_eq!((code(&r), r.text()), (550, "Administrative Prohibition"));
    assert!(h.is_closed());
}

// pymta: policy_output_test.py #11 test_can_close_connection_after_positive_response
#[test]
fn policy_can_close_connection_after_positive_response() {
    let mut h = on_helo(Verdict::accept().and_close());
    let r = h.send("HELO foo.example.com");
    assert_eq!((code(&r), r.text()), (250, "localhost"));
    assert!(h.is_closed());
}

// ---------------------------------------------------------------------------
// §3.5 tests/policy_test.py

// pymta: policy_test.py #1 test_connection_can_be_rejected
#[test]
fn policy_connection_can_be_rejected() {
    let mut h = on_connect(Verdict::reject());
    h.run();
    assert_eq!(h.replies(), [reply(554, "SMTP service not available")]);
    assert!(h.is_closed());
}

fn reject_example_com(pending: &Pending, _: &SessionInfo) -> Verdict {
    match pending {
        Pending::Helo { name, .. } => Verdict::from(!name.to_string().ends_with("example.com")),
        _ => Verdict::accept(),
    }
}

// pymta: policy_test.py #2 test_helo_can_be_rejected
#[test]
fn policy_helo_can_be_rejected() {
    let mut h = Harness::new().with_policy(reject_example_com);
    assert_eq!(first_digit(&h.send("HELO foo.example.com")), 5);
    assert_eq!(first_digit(&h.send("HELO bar.example.com")), 5);
    assert_eq!(first_digit(&h.send("HELO localhost")), 2);
}

// pymta: policy_test.py #3 test_ehlo_can_be_rejected
#[test]
fn policy_ehlo_can_be_rejected() {
    let mut h = Harness::new().with_policy(reject_example_com);
    assert_eq!(first_digit(&h.send("EHLO foo.example.com")), 5);
    assert!(!h.session().info().is_esmtp());
    assert_eq!(first_digit(&h.send("EHLO localhost")), 2);
}

fn reject_auth(mechanism: Mechanism) -> Harness {
    Harness::with_config(auth_config()).with_policy(move |pending, info| match pending {
        Pending::Auth { mechanism: m } if *m == mechanism => Verdict::reject(),
        _ => dummy_authenticator(pending, info),
    })
}

// pymta: policy_test.py #4 test_auth_plain_can_be_rejected
#[test]
fn policy_auth_plain_can_be_rejected() {
    let mut h = reject_auth(Mechanism::Plain);
    ehlo(&mut h);
    let r = h.send(&format!("AUTH PLAIN {}", b64("\0foo\0foo")));
    assert_eq!(code(&r), 550);
    assert!(h.session().info().auth().is_none());
}

// pymta: policy_test.py #5 test_auth_login_can_be_rejected
#[test]
fn policy_auth_login_can_be_rejected() {
    let mut h = reject_auth(Mechanism::Login);
    ehlo(&mut h);
    assert_eq!(code(&h.send("AUTH LOGIN")), 550);
    // No SASL exchange was started: the next line is a command again.
    assert_eq!(code(&h.send("NOOP")), 250);
}

// pymta: policy_test.py #6 test_from_can_be_rejected
#[test]
fn policy_from_can_be_rejected() {
    let mut h = Harness::new().with_policy(|pending, _| match pending {
        Pending::MailFrom { .. } => Verdict::reject(),
        _ => Verdict::accept(),
    });
    helo(&mut h);
    assert_eq!(first_digit(&h.send("MAIL FROM:<foo@example.com>")), 5);
    assert!(h.session().info().envelope().is_none());
}

// pymta: policy_test.py #7 test_rcptto_can_be_rejected
#[test]
fn policy_rcptto_can_be_rejected() {
    let mut h = Harness::new().with_policy(|pending, _| match pending {
        Pending::RcptTo { .. } => Verdict::reject(),
        _ => Verdict::accept(),
    });
    helo(&mut h);
    assert_eq!(code(&h.send("MAIL FROM:<foo@example.com>")), 250);
    let r = h.send("RCPT TO:<bar@example.com>");
    assert_eq!((code(&r), r.text()), (550, "relay not permitted"));
}

// pymta: policy_test.py #8 test_data_can_be_rejected
#[test]
fn policy_data_can_be_rejected() {
    let mut h = Harness::new().with_policy(|pending, _| match pending {
        Pending::Data => Verdict::reject(),
        _ => Verdict::accept(),
    });
    helo(&mut h);
    mail_and_rcpt(&mut h);
    assert_eq!(first_digit(&h.send("DATA")), 5);
    assert_eq!(h.session().timeout(), Some(TimeoutKind::Command));
}

// pymta: policy_test.py #9 test_messages_can_be_rejected
#[test]
fn policy_messages_can_be_rejected() {
    let mut h = Harness::new().with_sink(|_| Verdict::reject());
    helo(&mut h);
    mail_and_rcpt(&mut h);
    assert_eq!(first_digit(&h.send("DATA")), 3);
    let replies = h.send_raw(b"Subject: Test\r\n\r\n.\r\n");
    assert_eq!(replies, [reply(550, "Message content is not acceptable")]);
    assert!(h.delivered().is_empty());
}

// pymta: policy_test.py #10 test_size_limit_messages_can_be_rejected
#[test]
fn policy_size_limit_messages_can_be_rejected() {
    let mut h = Harness::new();
    h.session().set_max_message_size(100);
    helo(&mut h);
    mail_and_rcpt(&mut h);
    assert_eq!(first_digit(&h.send("DATA")), 3);
    let big = "x".repeat(200) + "\r\n.\r\n";
    let replies = h.send_raw(big.as_bytes());
    assert_eq!(
        replies,
        [reply(552, "message exceeds fixed maximum message size")]
    );
}

// pymta: policy_test.py #11 test_server_deals_gracefully_with_double_close_because_of_faulty_policy
#[test]
fn policy_server_deals_gracefully_with_double_close_because_of_faulty_policy() {
    let mut h = on_helo(Verdict::disconnect().and_close());
    assert!(h.send_raw(b"HELO foo.example.com\r\n").is_empty());
    assert!(h.is_closed());
    assert!(h.send_raw(b"NOOP\r\n").is_empty());
}

// ---------------------------------------------------------------------------
// §3.6 tests/smtp_parameter_validation_test.py

// pymta: smtp_parameter_validation_test.py #1 test_helo_accepts_exactly_one_parameter
#[test]
fn param_helo_accepts_exactly_one_parameter() {
    let mut h = Harness::new();
    for line in ["helo", "helo foo bar", "helo "] {
        assert_eq!(first_digit(&h.send(line)), 5, "{line:?}");
    }
    assert_eq!(h.session().info().helo(), None);
}

// pymta: smtp_parameter_validation_test.py #2 test_ehlo_accepts_exactly_one_parameter
#[test]
fn param_ehlo_accepts_exactly_one_parameter() {
    let mut h = Harness::new();
    for line in ["ehlo", "ehlo foo bar"] {
        assert_eq!(first_digit(&h.send(line)), 5, "{line:?}");
    }
    assert_eq!(h.session().info().helo(), None);
}

// pymta: smtp_parameter_validation_test.py #3 test_noop_does_not_accept_any_parameters
// Fixed (RFC 5321 §4.1.1.9): NOOP may carry a string, which is ignored.
#[test]
fn param_noop_does_not_accept_any_parameters() {
    let mut h = Harness::new();
    helo(&mut h);
    let r = h.send("noop foo");
    assert_eq!((code(&r), r.text()), (250, "OK"));
}

// pymta: smtp_parameter_validation_test.py #4 test_rset_does_not_accept_any_parameters
#[test]
fn param_rset_does_not_accept_any_parameters() {
    let mut h = Harness::new();
    helo(&mut h);
    assert_eq!(code(&h.send("MAIL FROM:<foo@example.com>")), 250);
    assert_eq!(code(&h.send("rset foo")), 501);
    assert!(h.session().info().envelope().is_some(), "no reset happened");
}

// pymta: smtp_parameter_validation_test.py #5 test_quit_does_not_accept_any_parameters
#[test]
fn param_quit_does_not_accept_any_parameters() {
    let mut h = Harness::new();
    helo(&mut h);
    assert_eq!(code(&h.send("quit invalid")), 501);
    assert!(!h.is_closed());
}

// pymta: smtp_parameter_validation_test.py #6 test_data_does_not_accept_any_parameters
#[test]
fn param_data_does_not_accept_any_parameters() {
    let mut h = Harness::new();
    helo(&mut h);
    mail_and_rcpt(&mut h);
    assert_eq!(code(&h.send("data invalid")), 501);
    assert_eq!(h.session().timeout(), Some(TimeoutKind::Command));
}

// pymta: smtp_parameter_validation_test.py #7 test_mail_from_requires_an_email_address
#[test]
fn param_mail_from_requires_an_email_address() {
    let mut h = Harness::new();
    helo(&mut h);
    assert_eq!(code(&h.send("mail from:")), 501);
    assert_eq!(code(&h.send("mail from:foo@@bar")), 501);
    assert!(h.session().info().envelope().is_none());
}

// pymta: smtp_parameter_validation_test.py #8 test_mail_from_must_not_have_extensions_for_plain_smtp
#[test]
fn param_mail_from_must_not_have_extensions_for_plain_smtp() {
    let mut h = Harness::new();
    helo(&mut h);
    let r = h.send("MAIL FROM:<foo@example.com> SIZE=100");
    assert_eq!(first_digit(&r), 5);
    assert_eq!(r.text(), "No SMTP extensions allowed for plain SMTP.");
}

// pymta: smtp_parameter_validation_test.py #9 test_mail_from_validates_size_extension
#[test]
fn param_mail_from_validates_size_extension() {
    let mut h = Harness::new();
    ehlo(&mut h);
    let r = h.send("MAIL FROM:<foo@example.com> SIZE=fnord");
    assert_eq!(code(&r), 501);
    assert_eq!(r.enhanced(), Some(EnhancedCode::INVALID_ARGUMENTS));
}

// pymta: smtp_parameter_validation_test.py #10 test_mail_from_rejects_unknown_extension
// Fixed (RFC 5321 §4.1.1.11): an unknown parameter is `555 5.5.4`, not 501.
#[test]
fn param_mail_from_rejects_unknown_extension() {
    let mut h = Harness::new();
    ehlo(&mut h);
    let r = h.send("MAIL FROM:<foo@example.com> FNORD=INVALID");
    assert_eq!(code(&r), 555);
    assert_eq!(r.enhanced(), Some(EnhancedCode::INVALID_ARGUMENTS));
    assert_eq!(r.text(), "Invalid extension: \"FNORD=INVALID\"");
}

// pymta: smtp_parameter_validation_test.py #11 test_rcpt_to_requires_an_email_address
// `foo@bar.com invalid` has an unknown parameter `invalid`: 555 (5xx).
#[test]
fn param_rcpt_to_requires_an_email_address() {
    let mut h = Harness::new();
    helo(&mut h);
    assert_eq!(code(&h.send("MAIL FROM:<foo@example.com>")), 250);
    assert_eq!(code(&h.send("rcpt to:")), 501);
    assert_eq!(code(&h.send("rcpt to:foo@@bar.com")), 501);
    assert_eq!(first_digit(&h.send("rcpt to:foo@bar.com invalid")), 5);
    assert!(h.session().info().envelope().unwrap().recipients.is_empty());
}

// pymta: smtp_parameter_validation_test.py #12 test_rcpt_to_accepts_a_valid_email_address
#[test]
fn param_rcpt_to_accepts_a_valid_email_address() {
    let mut h = Harness::new();
    helo(&mut h);
    assert_eq!(code(&h.send("MAIL FROM:<foo@example.com>")), 250);
    assert_eq!(first_digit(&h.send("RCPT TO:foo@example.com")), 2);
    assert_eq!(first_digit(&h.send("RCPT TO:<foo@example.com>")), 2);
    assert_eq!(h.session().info().envelope().unwrap().recipients.len(), 2);
}

// pymta: smtp_parameter_validation_test.py #13 test_auth_plain_accepts_correct_authentication
#[test]
fn param_auth_plain_accepts_correct_authentication() {
    let mut h = with_authenticator(auth_config());
    ehlo(&mut h);
    let r = h.send(&format!("AUTH PLAIN {}", b64("\0foo\0foo")));
    assert_eq!(first_digit(&r), 2);
}

// pymta: smtp_parameter_validation_test.py #14 test_auth_plain_requires_exactly_one_parameter
// pymta bug §5.12 fixed: `AUTH PLAIN` without an initial response gets a
// `334 ` challenge (RFC 4954 §4); two tokens are still 501.
#[test]
fn param_auth_plain_requires_exactly_one_parameter() {
    let mut h = with_authenticator(auth_config());
    ehlo(&mut h);
    let r = h.send("AUTH PLAIN");
    assert_eq!((code(&r), r.text()), (334, ""));
    assert_eq!(code(&h.send("*")), 501);
    let r = h.send(&format!("AUTH PLAIN {} {}", b64("\0foo\0foo"), b64("x")));
    assert_eq!(code(&r), 501);
    assert!(h.session().info().auth().is_none());
}

// pymta: smtp_parameter_validation_test.py #15 test_auth_plain_detects_bad_base64_credentials
// As in #14, no argument now gets a challenge; its bad answer is 501.
#[test]
fn param_auth_plain_detects_bad_base64_credentials() {
    let mut h = with_authenticator(auth_config());
    ehlo(&mut h);
    assert_eq!(code(&h.send("AUTH PLAIN")), 334);
    assert_eq!(code(&h.send("invalid_base64")), 501);
    assert_eq!(code(&h.send("AUTH PLAIN invalid_base64")), 501);
    assert!(h.session().info().auth().is_none());
}

// pymta: smtp_parameter_validation_test.py #16 test_auth_plain_reject_bad_credentials
#[test]
fn param_auth_plain_reject_bad_credentials() {
    let mut h = with_authenticator(auth_config());
    ehlo(&mut h);
    assert_eq!(
        code(&h.send(&format!("AUTH PLAIN {}", b64("\0foo\0bar")))),
        535
    );
}

// ---------------------------------------------------------------------------
// §3.7 tests/statemachine_test.py: pymta's generic state machine has no
// equivalent; its intent is ported as the session's command-order rules.

/// The phases a client can drive the session into.
#[derive(Clone, Copy, Debug)]
enum Phase {
    BeforeHelo,
    AfterHelo,
    AfterEhlo,
    AfterMail,
    AfterRcpt,
}

fn session_in(phase: Phase) -> Harness {
    let mut h = with_authenticator(auth_config());
    let setup: &[&str] = match phase {
        Phase::BeforeHelo => &[],
        Phase::AfterHelo => &["HELO foo"],
        Phase::AfterEhlo => &["EHLO foo"],
        Phase::AfterMail => &["EHLO foo", "MAIL FROM:<a@example.com>"],
        Phase::AfterRcpt => &[
            "EHLO foo",
            "MAIL FROM:<a@example.com>",
            "RCPT TO:<b@example.com>",
        ],
    };
    for line in setup {
        assert_eq!(first_digit(&h.send(line)), 2, "{line}");
    }
    h
}

/// (command, [reply code in each phase: before HELO, after HELO, after
/// EHLO, after MAIL, after RCPT]).
const ORDER_RULES: &[(&str, [u16; 5])] = &[
    ("HELO bar", [250, 250, 250, 250, 250]),
    ("EHLO bar", [250, 250, 250, 250, 250]),
    ("MAIL FROM:<c@example.com>", [503, 250, 250, 503, 503]),
    ("RCPT TO:<d@example.com>", [503, 503, 503, 250, 250]),
    ("DATA", [503, 503, 503, 554, 354]),
    ("RSET", [250, 250, 250, 250, 250]),
    ("NOOP", [250, 250, 250, 250, 250]),
    ("HELP", [214, 214, 214, 214, 214]),
    ("VRFY bob", [252, 252, 252, 252, 252]),
    ("EXPN list", [502, 502, 502, 502, 502]),
    ("AUTH LOGIN", [503, 503, 334, 503, 503]),
    ("QUIT", [221, 221, 221, 221, 221]),
];

const PHASES: [Phase; 5] = [
    Phase::BeforeHelo,
    Phase::AfterHelo,
    Phase::AfterEhlo,
    Phase::AfterMail,
    Phase::AfterRcpt,
];

// pymta: statemachine_test.py #7 test_can_ask_for_all_currently_allowed_actions
// (with #11 test_can_execute_states and #13 test_raise_exception_for_invalid_action)
#[test]
fn statemachine_can_ask_for_all_currently_allowed_actions() {
    for (line, codes) in ORDER_RULES {
        for (phase, expected) in PHASES.iter().zip(codes) {
            let mut h = session_in(*phase);
            let r = h.send(line);
            assert_eq!(code(&r), *expected, "{line:?} in {phase:?}: {r:?}");
        }
    }
}

// pymta: statemachine_test.py #13 test_raise_exception_for_invalid_action
// A forbidden command gets 503 and leaves the state as it was.
#[test]
fn statemachine_raise_exception_for_invalid_action() {
    let mut h = session_in(Phase::AfterMail);
    let r = h.send("MAIL FROM:<other@example.com>");
    assert_eq!(code(&r), 503);
    assert_eq!(r.enhanced(), Some(EnhancedCode::INVALID_COMMAND));
    let envelope = h.session().info().envelope().unwrap();
    assert_eq!(envelope.reverse_path.to_string(), "<a@example.com>");
    assert_eq!(code(&h.send("RCPT TO:<b@example.com>")), 250);
}

// pymta: statemachine_test.py #4 test_can_ask_for_current_state
#[test]
fn statemachine_can_ask_for_current_state() {
    let mut h = session_in(Phase::BeforeHelo);
    h.run();
    assert_eq!(h.session().info().helo(), None);
    assert!(h.session().info().envelope().is_none());
    assert!(!h.session().is_closed());
    let mut h = session_in(Phase::AfterRcpt);
    assert!(h.session().info().is_esmtp());
    assert_eq!(h.session().info().envelope().unwrap().recipients.len(), 1);
}

// pymta: statemachine_test.py #12 test_handler_is_called_for_state_transition
// Each transition asks the policy, in order.
#[test]
fn statemachine_handler_is_called_for_state_transition() {
    let mut h = session_in(Phase::AfterRcpt);
    assert_eq!(code(&h.send("DATA")), 354);
    let kinds: Vec<&str> = h
        .pendings()
        .iter()
        .map(|p| match p {
            Pending::Connect => "connect",
            Pending::Helo { .. } => "helo",
            Pending::MailFrom { .. } => "mail",
            Pending::RcptTo { .. } => "rcpt",
            Pending::Data => "data",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["connect", "helo", "mail", "rcpt", "data"]);
}

// pymta: statemachine_test.py #14 test_raise_exception_if_in_impossible_state
// After QUIT no command is executed and nothing is replied.
#[test]
fn statemachine_raise_exception_if_in_impossible_state() {
    let mut h = session_in(Phase::AfterHelo);
    assert_eq!(code(&h.send("QUIT")), 221);
    assert!(h.is_closed());
    assert!(
        h.send_raw(b"NOOP\r\nMAIL FROM:<a@example.com>\r\n")
            .is_empty()
    );
}

// pymta: statemachine_test.py #15 test_raise_exception_if_no_outgoing_transition_defined_when_executing
// In DATA mode commands are content: they are not executed.
#[test]
fn statemachine_raise_exception_if_no_outgoing_transition_defined_when_executing() {
    let mut h = session_in(Phase::AfterRcpt);
    assert_eq!(code(&h.send("DATA")), 354);
    assert!(h.send_raw(b"RSET\r\nQUIT\r\n").is_empty());
    assert!(!h.is_closed());
    assert_eq!(code(&h.send_raw(b".\r\n")[0]), 250);
    assert_eq!(h.delivered()[0].data, b"RSET\r\nQUIT\r\n");
}

// pymta: statemachine_test.py #18 test_transition_can_also_set_flags
// EHLO sets the ESMTP flag: parameters allowed and enhanced codes used.
#[test]
fn statemachine_transition_can_also_set_flags() {
    let mut h = session_in(Phase::AfterHelo);
    assert!(!h.session().info().is_esmtp());
    assert_eq!(h.send("NOOP").enhanced(), None);
    assert_eq!(code(&h.send("EHLO foo")), 250);
    assert!(h.session().info().is_esmtp());
    assert_eq!(h.send("NOOP").enhanced(), Some(EnhancedCode::SUCCESS));
    assert_eq!(code(&h.send("MAIL FROM:<a@example.com> SIZE=10")), 250);
}

// pymta: statemachine_test.py #21 test_conditional_transition_is_only_executed_if_flag_is_true
// (and #19 test_can_add_conditional_transition, #20 test_allowed_actions_obeys_condition)
// AUTH is conditional on EHLO (pymta's `if_esmtp`).
#[test]
fn statemachine_conditional_transition_is_only_executed_if_flag_is_true() {
    let mut h = session_in(Phase::AfterHelo);
    let r = h.send(&format!("AUTH PLAIN {}", b64("\0foo\0foo")));
    assert_eq!(code(&r), 503);
    assert!(h.session().info().auth().is_none());
    assert_eq!(code(&h.send("EHLO foo")), 250);
    let r = h.send(&format!("AUTH PLAIN {}", b64("\0foo\0foo")));
    assert_eq!(code(&r), 235);
}

// pymta: statemachine_test.py #22 test_can_also_specify_negative_flag_checks_for_transitions
// STARTTLS is allowed only while TLS is not active (`if_not_tls`).
#[test]
fn statemachine_can_also_specify_negative_flag_checks_for_transitions() {
    let mut config = SessionConfig::new("localhost");
    config.tls_available = true;
    let mut h = Harness::with_config(config);
    assert_eq!(code(&h.send("EHLO foo")), 250);
    assert_eq!(code(&h.send("STARTTLS")), 220);
    assert_eq!(h.starttls_count(), 1);
    h.complete_tls(TlsInfo::new("TLSv1.3", "TLS13_AES_128_GCM_SHA256"));
    assert_eq!(code(&h.send("EHLO foo")), 250);
    assert_eq!(code(&h.send("STARTTLS")), 503);
    assert_eq!(h.starttls_count(), 1);
}

// pymta: statemachine_test.py #9 test_can_ask_for_all_non_final_states
// Every phase but the closed one accepts QUIT; after it nothing does.
#[test]
fn statemachine_can_ask_for_all_non_final_states() {
    for phase in PHASES {
        let mut h = session_in(phase);
        assert!(!h.is_closed(), "{phase:?}");
        assert_eq!(code(&h.send("QUIT")), 221, "{phase:?}");
        assert!(h.is_closed(), "{phase:?}");
        assert_eq!(h.session().timeout(), None);
    }
}

// pymta: statemachine_test.py #17 test_can_tell_if_flag_is_set
// (and #16 test_can_add_transition_with_additional_operation)
// The flags a client can set are visible in the session view: ESMTP,
// authentication, and they stay set across transactions.
#[test]
fn statemachine_can_tell_if_flag_is_set() {
    let mut h = session_in(Phase::AfterEhlo);
    assert!(h.session().info().auth().is_none());
    assert_eq!(
        code(&h.send(&format!("AUTH PLAIN {}", b64("\0foo\0foo")))),
        235
    );
    mail_and_rcpt(&mut h);
    assert_eq!(code(&h.send("DATA")), 354);
    assert_eq!(code(&h.send_raw(b"x\r\n.\r\n")[0]), 250);
    assert!(h.session().info().is_esmtp());
    assert_eq!(h.session().info().auth().unwrap().username, "foo");
    assert_eq!(h.session().info().transactions(), 1);
}
