//! pymta's tests/statemachine_test.py, ported.

use mtakit_proto::testing::Harness;
use mtakit_proto::{EnhancedCode, Pending, SessionConfig, TlsInfo};

use crate::support::auth_config;
use crate::support::pymta::{b64, code, first_digit, mail_and_rcpt, with_authenticator};

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
