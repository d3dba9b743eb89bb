//! OAuth SASL, DSN parameters and consistent extension sets.

use mtakit_proto::sasl::{decode_login, encode_base64};
use mtakit_proto::testing::Harness;
use mtakit_proto::{Mechanism, Pending, Verdict};

use super::helpers::*;
use crate::support::{codes, config};

// ------------------------------------------------------------ OAuth SASL

fn oauth(mechanism: Mechanism) -> Harness {
    let mut c = config();
    c.auth_mechanisms = vec![mechanism];
    c.allow_insecure_auth = true;
    let mut h = Harness::with_config(c).with_policy(|p, _| match p {
        Pending::Authenticate { credentials } => {
            Verdict::from(credentials.token() == Some("good-token"))
        }
        _ => Verdict::accept(),
    });
    h.greeting();
    h.send("EHLO c");
    h
}

fn xoauth2(user: &str, token: &str) -> String {
    encode_base64(format!("user={user}\x01auth=Bearer {token}\x01\x01").as_bytes())
}

#[test]
fn xoauth2_with_initial_response() {
    let mut h = oauth(Mechanism::XOAuth2);
    assert!(h.send("EHLO c").lines().any(|l| l == "AUTH XOAUTH2"));
    let r = h.send(&format!("AUTH XOAUTH2 {}", xoauth2("a@b.c", "good-token")));
    assert_eq!(r.code().get(), 235);
    assert_eq!(h.session().info().auth().unwrap().username, "a@b.c");
    assert_eq!(
        h.session().info().auth().unwrap().mechanism,
        Mechanism::XOAuth2
    );
}

#[test]
fn xoauth2_failure_sends_an_error_challenge_then_535() {
    let mut h = oauth(Mechanism::XOAuth2);
    let r = h.send(&format!("AUTH XOAUTH2 {}", xoauth2("a@b.c", "bad-token")));
    assert_eq!(r.code().get(), 334);
    assert!(decode_login(r.text()).unwrap().contains("invalid_token"));
    let r = h.send("");
    assert_eq!(r.code().get(), 535);
    assert!(h.session().info().auth().is_none());
    // The client may try again.
    let r = h.send(&format!("AUTH XOAUTH2 {}", xoauth2("a@b.c", "good-token")));
    assert_eq!(r.code().get(), 235);
}

#[test]
fn oauthbearer_with_a_challenge_round() {
    let mut h = oauth(Mechanism::OAuthBearer);
    let r = h.send("AUTH OAUTHBEARER");
    assert_eq!(r.to_string(), "334 \r\n");
    let response = encode_base64(
        b"n,a=user@example.com,\x01host=mx\x01port=25\x01auth=Bearer good-token\x01\x01",
    );
    assert_eq!(h.send(&response).code().get(), 235);
    let identity = h.session().info().auth().unwrap().clone();
    assert_eq!(identity.username, "user@example.com");
    assert_eq!(identity.authzid.as_deref(), Some("user@example.com"));
}

#[test]
fn oauthbearer_failure_is_acknowledged_with_ctrl_a() {
    let mut h = oauth(Mechanism::OAuthBearer);
    let bad = encode_base64(b"n,,\x01auth=Bearer nope\x01\x01");
    assert_eq!(h.send(&format!("AUTH OAUTHBEARER {bad}")).code().get(), 334);
    assert_eq!(h.send("AQ==").code().get(), 535);
}

#[test]
fn oauth_garbage_is_501() {
    let mut h = oauth(Mechanism::XOAuth2);
    assert_eq!(h.send("AUTH XOAUTH2 !!!").code().get(), 501);
    let garbled = encode_base64(b"user=x\x01auth=Basic abc\x01\x01");
    assert_eq!(h.send(&format!("AUTH XOAUTH2 {garbled}")).code().get(), 501);
    assert!(h.session().info().auth().is_none());
}

// ------------------------------------------------------------------- DSN

#[test]
fn dsn_parameters_reach_the_envelope() {
    let mut h = Harness::new();
    h.greeting();
    assert!(h.send("EHLO c").lines().any(|l| l == "DSN"));
    assert_eq!(
        h.send("MAIL FROM:<a@a.test> RET=HDRS ENVID=QQ314159")
            .code()
            .get(),
        250
    );
    assert_eq!(
        h.send("RCPT TO:<b@b.test> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;b+40b.test")
            .code()
            .get(),
        250
    );
    assert_eq!(h.send("DATA").code().get(), 354);
    h.send_raw(b"x\r\n.\r\n");
    let envelope = &h.delivered()[0].envelope;
    assert_eq!(envelope.mail_params.ret, Some(mtakit_proto::Ret::Headers));
    assert_eq!(envelope.mail_params.envid.as_deref(), Some("QQ314159"));
    let rcpt = &envelope.recipients[0].params;
    let notify = rcpt.notify.as_ref().unwrap();
    assert!(notify.success && notify.delay && !notify.failure);
    let orcpt = rcpt.orcpt.as_ref().unwrap();
    assert_eq!(
        (orcpt.addr_type.as_str(), orcpt.address.as_str()),
        ("rfc822", "b@b.test")
    );
}

#[test]
fn dsn_parameters_are_validated() {
    let mut h = Harness::new();
    h.greeting();
    h.send("EHLO c");
    // HDR-6: a CR hidden in xtext is refused.
    assert_eq!(h.send("MAIL FROM:<a@a.test> ENVID=a+0Db").code().get(), 501);
    assert_eq!(h.send("MAIL FROM:<a@a.test> RET=ALL").code().get(), 501);
    h.send("MAIL FROM:<a@a.test>");
    assert_eq!(
        h.send("RCPT TO:<b@b.test> ORCPT=rfc822;a+0Db").code().get(),
        501
    );
    assert_eq!(
        h.send("RCPT TO:<b@b.test> NOTIFY=NEVER,SUCCESS")
            .code()
            .get(),
        501
    );
    assert_eq!(h.send("RCPT TO:<b@b.test> NOTIFY=NEVER").code().get(), 250);
}

#[test]
fn dsn_switched_off_refuses_its_parameters() {
    let mut c = config();
    c.extensions.dsn = false;
    let mut h = Harness::with_config(c);
    h.greeting();
    h.send("EHLO c");
    assert_eq!(h.send("MAIL FROM:<a@a.test> RET=FULL").code().get(), 555);
    assert_eq!(h.send("MAIL FROM:<a@a.test>").code().get(), 250);
    assert_eq!(h.send("RCPT TO:<b@b.test> NOTIFY=NEVER").code().get(), 555);
}

#[test]
fn content_can_be_counted_and_checked_without_being_kept() {
    let mut c = config();
    c.keep_content = false;
    c.limits.max_message_size = 50;
    let mut h = in_transaction(c, "");
    h.send("DATA");
    assert_eq!(
        codes(&h.send_raw(b"Subject: x\r\n\r\nhello\r\n.\r\n")),
        [250]
    );
    assert!(h.delivered()[0].data.is_empty());
    // Limits and checks still apply.
    h.send("MAIL FROM:<a@a.test>");
    h.send("RCPT TO:<b@b.test>");
    h.send("DATA");
    let mut big = vec![b'x'; 100];
    big.extend_from_slice(b"\r\n.\r\n");
    assert_eq!(codes(&h.send_raw(&big)), [552]);
    h.send("MAIL FROM:<a@a.test>");
    h.send("RCPT TO:<b@b.test>");
    h.send("DATA");
    assert_eq!(codes(&h.send_raw(b"a\nb\r\n.\r\n")), [550]);
    h.send("MAIL FROM:<a@a.test>");
    h.send("RCPT TO:<b@b.test>");
    assert_eq!(codes(&h.send_raw(b"BDAT 3 LAST\r\nabc")), [250]);
    assert!(h.delivered()[1].data.is_empty());
    assert_eq!(h.delivered()[1].stats.longest_line, 3);
}

// ------------------------------------------------- consistent extensions

/// With 8BITMIME off, SMTPUTF8 and BINARYMIME are neither advertised nor
/// accepted (interop D2: Postfix saw SMTPUTF8 without 8BITMIME, sent
/// `BODY=8BITMIME` anyway and bounced the message and its bounce).
#[test]
fn without_8bitmime_neither_smtputf8_nor_binarymime_is_offered_or_accepted() {
    let mut c = config();
    c.extensions.eight_bit_mime = false;
    let mut h = Harness::with_config(c);
    h.greeting();
    let ehlo: Vec<String> = h.send("EHLO c").lines().map(str::to_owned).collect();
    for gone in ["8BITMIME", "SMTPUTF8", "BINARYMIME"] {
        assert!(!ehlo.iter().any(|l| l == gone), "{gone} in {ehlo:?}");
    }
    assert!(ehlo.iter().any(|l| l == "CHUNKING"));
    for mail in [
        "MAIL FROM:<a@a.test> SMTPUTF8",
        "MAIL FROM:<a@a.test> BODY=BINARYMIME",
        "MAIL FROM:<a@a.test> BODY=8BITMIME",
    ] {
        assert_eq!(h.send(mail).code().get(), 555, "{mail}");
    }
    assert_eq!(h.send("MAIL FROM:<a@a.test>").code().get(), 250);
}

#[test]
fn extensions_set_by_a_policy_are_made_consistent_too() {
    let mut h = Harness::with_config(config()).with_policy(|pending, info| match pending {
        Pending::Helo { .. } => {
            let mut ext = info.configured_extensions().clone();
            ext.chunking = false;
            Verdict::accept().with_extensions(ext)
        }
        _ => Verdict::accept(),
    });
    h.greeting();
    let ehlo = h.send("EHLO c");
    assert!(!ehlo.lines().any(|l| l == "BINARYMIME" || l == "CHUNKING"));
    assert!(!h.session().extensions().binarymime);
    assert!(h.session().extensions().smtputf8);
}
