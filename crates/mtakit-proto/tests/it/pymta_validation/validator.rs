//! pymta's tests/validator_test.py, ported.

use mtakit_proto::address::{ForwardPath, PathError, ReversePath};

use super::helpers::*;

// ---------------------------------------------------------------------------
// §3.9 tests/validator_test.py

// pymta: validator_test.py #1 test_accept_plain_email_address
#[test]
fn validator_accept_plain_email_address() {
    let (path, rest) = ReversePath::parse("foo@example.com").unwrap();
    assert_eq!(mailbox(&path), "foo@example.com");
    assert_eq!(rest, "");
}

// pymta: validator_test.py #2 test_accept_email_address_in_angle_brackets
#[test]
fn validator_accept_email_address_in_angle_brackets() {
    let (path, rest) = ReversePath::parse("<foo@example.com>").unwrap();
    assert_eq!(mailbox(&path), "foo@example.com");
    assert_eq!(rest, "");
}

// pymta: validator_test.py #3 test_reject_email_address_in_unbalanced_angle_brackets
#[test]
fn validator_reject_email_address_in_unbalanced_angle_brackets() {
    for input in ["<foo@example.com", "foo@example.com>"] {
        assert_eq!(
            ReversePath::parse(input),
            Err(PathError::UnbalancedBrackets),
            "{input}"
        );
        assert!(ForwardPath::parse(input).is_err(), "{input}");
    }
}

// pymta: validator_test.py #4 test_reject_invalid_email_addresses
#[test]
fn validator_reject_invalid_email_addresses() {
    assert_eq!(
        ReversePath::parse("foo@@example.com"),
        Err(PathError::MissingAt)
    );
    assert_eq!(
        ReversePath::parse("foo@example..com"),
        Err(PathError::InvalidDomain)
    );
}
