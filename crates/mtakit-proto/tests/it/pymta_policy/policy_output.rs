//! pymta's tests/policy_output_test.py, ported.

use mtakit_proto::testing::Harness;
use mtakit_proto::{Pending, Reply, Verdict};

use super::helpers::*;
use crate::support::pymta::{code, first_digit};

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
