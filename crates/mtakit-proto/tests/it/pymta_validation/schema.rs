//! pymta's tests/validation_schema_test.py, ported.

use mtakit_proto::sasl::{SaslError, decode_plain};
use mtakit_proto::testing::Harness;
use mtakit_proto::{Body, Command, Domain, EnhancedCode, MailParams, ParamError, Pending};

use super::helpers::*;
use crate::support::auth_config;
use crate::support::pymta::{b64, code, ehlo, with_authenticator};

// ---------------------------------------------------------------------------
// §3.8 tests/validation_schema_test.py

// pymta: validation_schema_test.py #1 CommandWithoutParametersTest.test_accept_command_without_parameters
#[test]
fn schema_accept_command_without_parameters() {
    assert_eq!(Command::parse(b"RSET"), Ok(Command::Rset));
    assert_eq!(Command::parse(b"QUIT"), Ok(Command::Quit));
    assert_eq!(Command::parse(b"DATA"), Ok(Command::Data));
}

// pymta: validation_schema_test.py #2 CommandWithoutParametersTest.test_bails_out_if_additional_parameters_are_passed
#[test]
fn schema_bails_out_if_additional_parameters_are_passed() {
    let reply = Command::parse(b"RSET fnord").unwrap_err().reply();
    assert_eq!(code(&reply), 501);
    assert_eq!(reply.enhanced(), Some(EnhancedCode::INVALID_ARGUMENTS));
    assert_eq!(reply.text(), "Syntax: RSET");
}

// pymta: validation_schema_test.py #3 CommandWithSingleParameterTest.test_accepts_one_parameter
#[test]
fn schema_accepts_one_parameter() {
    assert_eq!(
        Command::parse(b"HELO fnord"),
        Ok(Command::Helo(Domain::Name("fnord".into())))
    );
}

// pymta: validation_schema_test.py #4 CommandWithSingleParameterTest.test_bails_out_if_no_parameter_is_passed
#[test]
fn schema_bails_out_if_no_parameter_is_passed() {
    assert_eq!(parse_code(b"HELO"), 501);
    assert_eq!(parse_code(b"EHLO "), 501);
}

// pymta: validation_schema_test.py #5 CommandWithSingleParameterTest.test_bails_out_if_more_than_one_parameter_is_passed
#[test]
fn schema_bails_out_if_more_than_one_parameter_is_passed() {
    assert_eq!(parse_code(b"HELO foo bar"), 501);
    assert_eq!(parse_code(b"VRFY"), 501);
}

// pymta: validation_schema_test.py #6 CommandWithSingleParameterTest.test_can_use_custom_name_for_parameters
// The parameter's name is the typed variant it lands in.
#[test]
fn schema_can_use_custom_name_for_parameters() {
    assert_eq!(
        Command::parse(b"EHLO localhost"),
        Ok(Command::Ehlo(Domain::Name("localhost".into())))
    );
    assert_eq!(Command::parse(b"VRFY bob"), Ok(Command::Vrfy("bob".into())));
}

// pymta: validation_schema_test.py #7 CommandWithSingleParameterTest.test_can_specify_parameter_order_declaratively
#[test]
fn schema_can_specify_parameter_order_declaratively() {
    assert_eq!(
        Command::parse(b"AUTH baz qux"),
        Ok(Command::Auth {
            mechanism: "BAZ".into(),
            initial_response: Some("qux".into()),
        })
    );
}

// pymta: validation_schema_test.py #8 MailFromSchemaTest.test_accept_plain_email_address
#[test]
fn schema_accept_plain_email_address() {
    match Command::parse(b"MAIL FROM:foo@example.com") {
        Ok(Command::Mail { reverse_path, .. }) => {
            assert_eq!(mailbox(&reverse_path), "foo@example.com");
        }
        other => panic!("{other:?}"),
    }
}

// pymta: validation_schema_test.py #9 MailFromSchemaTest.test_reject_extensions_for_plain_smtp
#[test]
fn schema_reject_extensions_for_plain_smtp() {
    let mut h = Harness::new();
    assert_eq!(code(&h.send("HELO foo")), 250);
    let reply = h.send("MAIL FROM:<foo@example.com> SIZE=1000");
    assert_eq!(code(&reply), 501);
    assert_eq!(reply.text(), "No SMTP extensions allowed for plain SMTP.");
}

// pymta: validation_schema_test.py #10 MailFromSchemaTest.test_can_parse_extensions
#[test]
fn schema_can_parse_extensions() {
    let params = MailParams::parse("BODY=BINARYMIME").unwrap();
    assert_eq!(params.body, Some(Body::BinaryMime));
    let mut h = Harness::new();
    ehlo(&mut h);
    assert_eq!(
        code(&h.send("MAIL FROM:<foo@example.com> BODY=8BITMIME")),
        250
    );
    let envelope = h.session().info().envelope().unwrap();
    assert_eq!(envelope.mail_params.body, Some(Body::EightBitMime));
}

// pymta: validation_schema_test.py #11 MailFromSchemaTest.test_ignores_whitespace_surrounding_extensions
#[test]
fn schema_ignores_whitespace_surrounding_extensions() {
    let params = MailParams::parse("   SIZE=1000    BODY=8BITMIME   ").unwrap();
    assert_eq!(params.size, Some(1000));
    assert_eq!(params.body, Some(Body::EightBitMime));
}

// pymta: validation_schema_test.py #12 MailFromSchemaTest.test_treats_extensions_as_case_insensitive
#[test]
fn schema_treats_extensions_as_case_insensitive() {
    let params = MailParams::parse("bOdY=BINARYMIME sIzE=10").unwrap();
    assert_eq!(params.body, Some(Body::BinaryMime));
    assert_eq!(params.size, Some(10));
}

// pymta: validation_schema_test.py #13 MailFromSchemaTest.test_present_meaningful_error_message_for_unknown_arguments
// `foo` and `bar` are well-formed keywords without values (RFC 5321
// esmtp-param), so they are unknown parameters (555) named in the text;
// a malformed item is "Invalid arguments" (501).
#[test]
fn schema_present_meaningful_error_message_for_unknown_arguments() {
    let err = MailParams::parse(" foo bar").unwrap_err();
    assert!(matches!(err, ParamError::Unknown(_)), "{err:?}");
    assert_eq!(err.to_string(), "Invalid extension: \"foo\"");
    let err = MailParams::parse(" =bar").unwrap_err();
    assert!(matches!(err, ParamError::Invalid(_)), "{err:?}");
    assert_eq!(err.to_string(), "Invalid arguments: \"=bar\"");
    let reply = Command::parse(b"MAIL FROM:<foo@example.com> foo bar")
        .unwrap_err()
        .reply();
    assert_eq!(code(&reply), 555);
}

// pymta: validation_schema_test.py #14 MailFromSchemaTest.test_present_meaningful_error_message_for_unknown_extensions
#[test]
fn schema_present_meaningful_error_message_for_unknown_extensions() {
    let err = MailParams::parse("invalid=fnord").unwrap_err();
    assert!(matches!(err, ParamError::Unknown(_)));
    assert_eq!(err.to_string(), "Invalid extension: \"invalid=fnord\"");
}

// pymta: validation_schema_test.py #15 MailFromSchemaTest.test_can_extract_size_parameter_if_esmtp_is_enabled
#[test]
fn schema_can_extract_size_parameter_if_esmtp_is_enabled() {
    assert_eq!(MailParams::parse("SIZE=1000").unwrap().size, Some(1000));
    let mut h = Harness::new();
    ehlo(&mut h);
    assert_eq!(code(&h.send("MAIL FROM:<foo@example.com> SIZE=1000")), 250);
    match h.pendings().last() {
        Some(Pending::MailFrom { params, .. }) => assert_eq!(params.size, Some(1000)),
        other => panic!("{other:?}"),
    }
}

// pymta: validation_schema_test.py #16 MailFromSchemaTest.test_size_parameter_is_not_mandatory_even_when_using_esmtp
#[test]
fn schema_size_parameter_is_not_mandatory_even_when_using_esmtp() {
    assert_eq!(MailParams::parse("").unwrap().size, None);
    let mut h = Harness::new();
    ehlo(&mut h);
    assert_eq!(code(&h.send("MAIL FROM:<foo@example.com>")), 250);
    assert_eq!(
        h.session().info().envelope().unwrap().mail_params.size,
        None
    );
}

// pymta: validation_schema_test.py #17 MailFromSchemaTest.test_reject_size_below_zero
#[test]
fn schema_reject_size_below_zero() {
    let err = MailParams::parse("SIZE=-1234").unwrap_err();
    assert!(matches!(err, ParamError::Invalid(_)), "{err:?}");
}

// pymta: validation_schema_test.py #18 MailFromSchemaTest.test_reject_non_numeric_size_parameter
#[test]
fn schema_reject_non_numeric_size_parameter() {
    let err = MailParams::parse("SIZE=fnord").unwrap_err();
    assert!(matches!(err, ParamError::Invalid(_)), "{err:?}");
    assert!(matches!(
        MailParams::parse("SIZE"),
        Err(ParamError::Invalid(_))
    ));
}

// pymta: validation_schema_test.py #19 AuthPlainSchemaTest.test_can_extract_base64_decoded_string
#[test]
fn schema_can_extract_base64_decoded_string() {
    let creds = decode_plain(&b64("\0foo\0foo ")).unwrap();
    assert_eq!(creds.username(), "foo");
    assert_eq!(creds.password(), "foo ", "trailing space kept");
    assert_eq!(creds.authzid(), None);
}

// pymta: validation_schema_test.py #20 AuthPlainSchemaTest.test_reject_more_than_one_parameter
#[test]
fn schema_reject_more_than_one_parameter() {
    let line = format!("AUTH PLAIN {} {}", b64("\0foo\0foo"), b64("\0foo\0foo"));
    assert_eq!(parse_code(line.as_bytes()), 501);
}

// pymta: validation_schema_test.py #21 AuthPlainSchemaTest.test_rejects_bad_base64
#[test]
fn schema_rejects_bad_base64() {
    assert!(decode_plain("invalid").is_err());
    assert_eq!(decode_plain("!nv@lid"), Err(SaslError::BadBase64));
    let mut h = with_authenticator(auth_config());
    ehlo(&mut h);
    let reply = h.send("AUTH PLAIN invalid");
    assert_eq!((code(&reply), reply.text()), (501, "Garbled data sent"));
}

// pymta: validation_schema_test.py #22 AuthPlainSchemaTest.test_rejects_invalid_format
#[test]
fn schema_rejects_invalid_format() {
    assert_eq!(decode_plain(&b64("foobar")), Err(SaslError::Malformed));
    let mut h = with_authenticator(auth_config());
    ehlo(&mut h);
    let reply = h.send(&format!("AUTH PLAIN {}", b64("foobar")));
    assert_eq!((code(&reply), reply.text()), (501, "Garbled data sent"));
}
