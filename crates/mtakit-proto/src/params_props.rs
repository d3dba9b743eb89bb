//! Property tests for the MAIL and RCPT parameters in `params.rs`: any
//! input gives a value or an error with a printable message, never a panic.

use proptest::prelude::*;

use super::*;

fn check(s: &str) -> Result<(), TestCaseError> {
    for e in [MailParams::parse(s).err(), RcptParams::parse(s).err()]
        .into_iter()
        .flatten()
    {
        prop_assert!(!e.message().is_empty());
        prop_assert!(
            e.message().bytes().all(|b| (0x20..0x7f).contains(&b)),
            "{:?}",
            e
        );
    }
    Ok(())
}

proptest! {
    #[test]
    fn never_panics_any(s in ".*") {
        check(&s)?;
    }

    #[test]
    fn never_panics_smtpish(s in "[<>@.\"\\\\ a-zA-Z0-9:\\[\\]=+-]{0,300}") {
        check(&s)?;
    }

    #[test]
    fn never_panics_dsn(
        s in "((NOTIFY|ORCPT|RET|ENVID|notify|orcpt)(=[a-zA-Z0-9;,+{}\\\\@.\"ü-]{0,30})? ?){0,4}"
    ) {
        check(&s)?;
    }

    #[test]
    fn never_panics_utf8_orcpt(s in "[\\\\x{}0-9A-Fa-f+@]{0,40}") {
        check(&format!("ORCPT=utf-8;{s}"))?;
        check(&format!("ORCPT=rfc822;{s}"))?;
    }

    #[test]
    fn notify_round_trip(success: bool, failure: bool, delay: bool) {
        let notify = Notify::new(success, failure, delay);
        let p = RcptParams::parse(&format!("NOTIFY={notify}")).unwrap();
        prop_assert_eq!(p.notify, Some(notify));
        let lower = format!("NOTIFY={}", notify.to_string().to_lowercase());
        prop_assert_eq!(RcptParams::parse(&lower).unwrap().notify, Some(notify));
    }

    #[test]
    fn orcpt_round_trip(
        addr_type in "[a-zA-Z0-9][a-zA-Z0-9+_-]{0,10}|utf-8|UTF-8",
        address in "[ -~ü€😀]{1,100}",
    ) {
        let orcpt = Orcpt::new(addr_type, address);
        let p = RcptParams::parse(&format!("ORCPT={orcpt}")).unwrap();
        prop_assert_eq!(p.orcpt, Some(orcpt));
    }

    #[test]
    fn envid_round_trip(envid in "[!-~]{1,100}") {
        let mut encoded = String::new();
        encode_xtext(&envid, &mut encoded).unwrap();
        let p = MailParams::parse(&format!("ENVID={encoded}")).unwrap();
        prop_assert_eq!(p.envid, Some(envid));
    }

    #[test]
    fn ret_round_trip(full: bool) {
        let ret = if full { Ret::Full } else { Ret::Headers };
        prop_assert_eq!(MailParams::parse(&format!("RET={ret}")).unwrap().ret, Some(ret));
    }

    #[test]
    fn size_round_trip(n in any::<u64>()) {
        prop_assert_eq!(MailParams::parse(&format!("SIZE={n}")).unwrap().size, Some(n));
    }

    #[test]
    fn auth_xtext_round_trip(s in "[ -~ü]{1,40}") {
        let mut encoded = String::new();
        for b in s.bytes() {
            if (33..=126).contains(&b) && b != b'+' && b != b'=' {
                encoded.push(char::from(b));
            } else {
                encoded.push_str(&format!("+{b:02X}"));
            }
        }
        let p = MailParams::parse(&format!("AUTH={encoded}")).unwrap();
        prop_assert_eq!(p.auth.as_deref(), Some(s.as_str()));
    }
}
