//! Unit tests for the PROXY protocol header parser in `proxy.rs`.

use super::*;
use proptest::prelude::*;

const SMTP: &[u8] = b"EHLO x\r\n";

/// A version 2 header: version 2, `command` (0 LOCAL, 1 PROXY),
/// `family` and `block` with its length.
fn v2(command: u8, family: u8, block: &[u8]) -> Vec<u8> {
    let len = u16::try_from(block.len()).expect("block fits");
    v2_raw(0x20 | command, family, len, block)
}

/// A version 2 header with every field given, length included.
fn v2_raw(version_command: u8, family: u8, len: u16, block: &[u8]) -> Vec<u8> {
    let mut out = V2_SIGNATURE.to_vec();
    out.push(version_command);
    out.push(family);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(block);
    out
}

fn v4_block(src: [u8; 4], dst: [u8; 4], sp: u16, dp: u16) -> Vec<u8> {
    let mut out = src.to_vec();
    out.extend_from_slice(&dst);
    out.extend_from_slice(&sp.to_be_bytes());
    out.extend_from_slice(&dp.to_be_bytes());
    out
}

fn v6_block(src: [u8; 16], dst: [u8; 16], sp: u16, dp: u16) -> Vec<u8> {
    let mut out = src.to_vec();
    out.extend_from_slice(&dst);
    out.extend_from_slice(&sp.to_be_bytes());
    out.extend_from_slice(&dp.to_be_bytes());
    out
}

fn tcp(src: &str, dst: &str) -> ProxyHeader {
    ProxyHeader::Tcp {
        source: src.parse().expect("source"),
        destination: dst.parse().expect("destination"),
    }
}

fn valid_headers() -> Vec<(Vec<u8>, ProxyHeader)> {
    let v6_src: [u8; 16] = "2001:db8::1".parse::<Ipv6Addr>().unwrap().octets();
    let v6_dst: [u8; 16] = "2001:db8::2".parse::<Ipv6Addr>().unwrap().octets();
    let mut tlvs = v4_block([192, 0, 2, 1], [198, 51, 100, 2], 56324, 25);
    tlvs.extend_from_slice(&[0x04, 0x00, 0x03, b'a', b'b', b'c']); // PP2_TYPE_NOOP
    tlvs.extend_from_slice(&[0x02, 0x00, 0x02, b'm', b'x']); // PP2_TYPE_AUTHORITY
    vec![
        (
            b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\n".to_vec(),
            tcp("192.0.2.1:56324", "198.51.100.2:25"),
        ),
        (
            b"PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n".to_vec(),
            tcp("0.0.0.0:0", "255.255.255.255:65535"),
        ),
        (
            b"PROXY TCP4 10.0.0.1 10.0.0.2 00080 025\r\n".to_vec(),
            tcp("10.0.0.1:80", "10.0.0.2:25"),
        ),
        (
            b"PROXY TCP6 2001:db8::1 2001:db8::2 56324 25\r\n".to_vec(),
            tcp("[2001:db8::1]:56324", "[2001:db8::2]:25"),
        ),
        (
            b"PROXY TCP6 ::ffff:192.0.2.1 0000:0000:0000:0000:0000:ffff:255.255.255.255 1 2\r\n"
                .to_vec(),
            tcp("[::ffff:192.0.2.1]:1", "[::ffff:255.255.255.255]:2"),
        ),
        (b"PROXY UNKNOWN\r\n".to_vec(), ProxyHeader::Unknown),
        (
            b"PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n".to_vec(),
            ProxyHeader::Unknown,
        ),
        (
            v2(
                1,
                0x11,
                &v4_block([192, 0, 2, 1], [198, 51, 100, 2], 56324, 25),
            ),
            tcp("192.0.2.1:56324", "198.51.100.2:25"),
        ),
        (
            v2(1, 0x21, &v6_block(v6_src, v6_dst, 56324, 25)),
            tcp("[2001:db8::1]:56324", "[2001:db8::2]:25"),
        ),
        (v2(0, 0x00, &[]), ProxyHeader::Unknown),
        (
            v2(0, 0x11, &v4_block([1, 2, 3, 4], [5, 6, 7, 8], 1, 2)),
            ProxyHeader::Unknown,
        ),
        (v2(0, 0x7f, &[1, 2, 3]), ProxyHeader::Unknown),
        (v2(1, 0x00, &[]), ProxyHeader::Unknown),
        (v2(1, 0x00, &[0x04, 0x00, 0x00]), ProxyHeader::Unknown),
        (
            v2(1, 0x11, &tlvs),
            tcp("192.0.2.1:56324", "198.51.100.2:25"),
        ),
        (v2(1, 0x12, &[0; 12]), ProxyHeader::Unknown),
        (v2(1, 0x22, &[0; 40]), ProxyHeader::Unknown),
        (v2(1, 0x31, &[0; 216]), ProxyHeader::Unknown),
        (v2(1, 0x32, &[7; 220]), ProxyHeader::Unknown),
        (
            v2(1, 0x11, &[9; DEFAULT_V2_MAX_DATA as usize]),
            tcp("9.9.9.9:2313", "9.9.9.9:2313"),
        ),
    ]
}

#[test]
fn valid_headers_parse() {
    for (bytes, expected) in valid_headers() {
        assert_eq!(
            parse(&bytes),
            Ok(Some((expected, bytes.len()))),
            "{:?}",
            bytes.escape_ascii().to_string()
        );
    }
}

#[test]
fn following_smtp_bytes_are_untouched() {
    for (mut bytes, expected) in valid_headers() {
        let header_len = bytes.len();
        bytes.extend_from_slice(SMTP);
        let (header, used) = parse(&bytes).unwrap().unwrap();
        assert_eq!(header, expected);
        assert_eq!(used, header_len);
        assert_eq!(&bytes[used..], SMTP);
    }
}

#[test]
fn every_prefix_needs_more() {
    for (bytes, _) in valid_headers() {
        for end in 0..bytes.len() {
            assert_eq!(
                parse(&bytes[..end]),
                Ok(None),
                "{:?}",
                bytes[..end].escape_ascii().to_string()
            );
        }
    }
}

#[test]
fn partial_inputs_need_more() {
    for input in [
        &b""[..],
        b"P",
        b"PROX",
        b"PROXY",
        b"PROXY ",
        b"PROXY TC",
        b"PROXY UNKNOWN",
        b"PROXY UNKNOWN whatever",
        b"PROXY TCP4 1.2.",
        b"PROXY TCP4 1.2.3.4 5.6.7.8 1",
        b"PROXY TCP6 ::1 ::2 65535 0\r",
        b"\r\n\r\n\0\r",
        b"\r\n\r\n\0\r\nQUIT\n",
        b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00",
        b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c\x01\x02",
    ] {
        assert_eq!(
            parse(input),
            Ok(None),
            "{:?}",
            input.escape_ascii().to_string()
        );
    }
}

#[test]
fn malformed_inputs_fail() {
    use ProxyError::*;
    let long_unknown = {
        let mut line = b"PROXY UNKNOWN ".to_vec();
        line.resize(V1_MAX_LEN, b'x');
        line
    };
    let unknown_cr_too_late = {
        let mut line = b"PROXY UNKNOWN ".to_vec();
        line.resize(V1_MAX_LEN - 1, b'x');
        line.extend_from_slice(b"\r\n");
        line
    };
    let cases: Vec<(Vec<u8>, ProxyError)> = vec![
        (b"EHLO client.example\r\n".to_vec(), NotProxy),
        (b"E".to_vec(), NotProxy),
        (b"proxy TCP4".to_vec(), NotProxy),
        (b"PROXYTCP4".to_vec(), NotProxy),
        (b"\r\n\r\n\0\r\nQUIT\r".to_vec(), NotProxy),
        (b"PROXY TCP4 256.0.0.1 1.2.3.4 1 2\r\n".to_vec(), BadAddress),
        (b"PROXY TCP4 1.2.3 1.2.3.4 1 2\r\n".to_vec(), BadAddress),
        (b"PROXY TCP4 1.2.3.4 01.2.3.4 1 2\r\n".to_vec(), BadAddress),
        (b"PROXY TCP4 1.2.3.4.5".to_vec(), BadAddress),
        (b"PROXY TCP4 1.2.x".to_vec(), BadAddress),
        (b"PROXY TCP4 ::1 ::2 1 2\r\n".to_vec(), BadAddress),
        (b"PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n".to_vec(), BadAddress),
        (b"PROXY TCP6 ::1 ::g 1 2\r\n".to_vec(), BadAddress),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 70000 25\r\n".to_vec(), BadPort),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 25 70000".to_vec(), BadPort),
        (
            b"PROXY TCP4 1.2.3.4 5.6.7.8 000025 25\r\n".to_vec(),
            BadPort,
        ),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 +25 25\r\n".to_vec(), BadPort),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 -1 25\r\n".to_vec(), BadPort),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n".to_vec(), Malformed),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n".to_vec(), Malformed),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n".to_vec(), Malformed),
        (b"PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n".to_vec(), Malformed),
        (b"PROXY TCP4 1.2.3.4  5.6".to_vec(), Malformed),
        (b"PROXY  TCP4".to_vec(), Malformed),
        (b"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n".to_vec(), Malformed),
        (b"PROXY UNKNOWNX\r\n".to_vec(), Malformed),
        (b"PROXY tcp4".to_vec(), Malformed),
        (b"PROXY \r\n".to_vec(), Malformed),
        (long_unknown, MissingCrlf),
        (unknown_cr_too_late, MissingCrlf),
        (b"PROXY UNKNOWN\n".to_vec(), BadLineEnding),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n".to_vec(), BadLineEnding),
        (b"PROXY UNKNOWN\rX".to_vec(), BadLineEnding),
        (b"PROXY UNKNOWN \r\r\n".to_vec(), BadLineEnding),
        (v2_raw(0x11, 0x11, 12, &[0; 12]), BadVersion),
        (v2_raw(0x31, 0x11, 12, &[0; 12]), BadVersion),
        (b"\r\n\r\n\0\r\nQUIT\n\x10".to_vec(), BadVersion),
        (v2_raw(0x22, 0x11, 12, &[0; 12]), BadCommand),
        (b"\r\n\r\n\0\r\nQUIT\n\x2f".to_vec(), BadCommand),
        (v2_raw(0x21, 0x13, 12, &[0; 12]), BadFamily),
        (v2_raw(0x21, 0x41, 0, &[]), BadFamily),
        (v2(1, 0x11, &[0; 11]), AddressTooShort),
        (v2(1, 0x21, &[0; 12]), AddressTooShort),
        (v2(1, 0x31, &[0; 36]), AddressTooShort),
        (v2_raw(0x21, 0x11, 4, &[]), AddressTooShort),
        (v2_raw(0x21, 0x11, DEFAULT_V2_MAX_DATA + 1, &[]), TooLong),
        (v2_raw(0x20, 0x00, u16::MAX, &[]), TooLong),
    ];
    for (input, expected) in cases {
        assert_eq!(
            parse(&input),
            Err(expected),
            "{:?}",
            input.escape_ascii().to_string()
        );
    }
}

#[test]
fn limit_is_configurable() {
    let header = v2(1, 0x11, &[1; 2000]);
    assert_eq!(parse(&header), Err(ProxyError::TooLong));
    assert_eq!(
        parse_with_limit(&header, u16::MAX),
        Ok(Some((tcp("1.1.1.1:257", "1.1.1.1:257"), header.len())))
    );
    let small = v2(0, 0x00, &[0; 11]);
    assert_eq!(parse_with_limit(&small, 10), Err(ProxyError::TooLong));
    assert_eq!(
        parse_with_limit(&small, 11),
        Ok(Some((ProxyHeader::Unknown, small.len())))
    );
}

#[test]
fn errors_display_short_ascii() {
    use ProxyError::*;
    for error in [
        NotProxy,
        Malformed,
        BadAddress,
        BadPort,
        MissingCrlf,
        BadLineEnding,
        BadVersion,
        BadCommand,
        BadFamily,
        AddressTooShort,
        TooLong,
    ] {
        let text = error.to_string();
        assert!(!text.is_empty() && text.len() <= 64, "{text}");
        assert!(text.bytes().all(|b| (0x20..0x7f).contains(&b)), "{text}");
    }
}

/// A valid version 1 header and what it parses to.
fn v1_header() -> impl Strategy<Value = (Vec<u8>, ProxyHeader)> {
    let port = (any::<u16>(), any::<bool>()).prop_map(|(port, padded)| {
        let text = if padded {
            format!("{port:05}")
        } else {
            port.to_string()
        };
        (port, text)
    });
    let v4 = (
        any::<[u8; 4]>(),
        any::<[u8; 4]>(),
        port.clone(),
        port.clone(),
    )
        .prop_map(|(src, dst, (sp, spt), (dp, dpt))| {
            let (src, dst) = (Ipv4Addr::from(src), Ipv4Addr::from(dst));
            let line = format!("PROXY TCP4 {src} {dst} {spt} {dpt}\r\n");
            let header = ProxyHeader::Tcp {
                source: SocketAddr::new(src.into(), sp),
                destination: SocketAddr::new(dst.into(), dp),
            };
            (line.into_bytes(), header)
        });
    let v6 = (
        any::<[u8; 16]>(),
        any::<[u8; 16]>(),
        any::<bool>(),
        port.clone(),
        port,
    )
        .prop_map(|(src, dst, expanded, (sp, spt), (dp, dpt))| {
            let (src, dst) = (Ipv6Addr::from(src), Ipv6Addr::from(dst));
            let text = |ip: Ipv6Addr| {
                if expanded {
                    let s = ip.segments().map(|g| format!("{g:04x}"));
                    s.join(":")
                } else {
                    ip.to_string()
                }
            };
            let line = format!("PROXY TCP6 {} {} {spt} {dpt}\r\n", text(src), text(dst));
            let header = ProxyHeader::Tcp {
                source: SocketAddr::new(src.into(), sp),
                destination: SocketAddr::new(dst.into(), dp),
            };
            (line.into_bytes(), header)
        });
    let unknown = proptest::option::of(proptest::collection::vec(
        any::<u8>().prop_map(|b| if b == b'\r' || b == b'\n' { b'x' } else { b }),
        0..=V1_MAX_LEN - b"PROXY UNKNOWN \r\n".len(),
    ))
    .prop_map(|tail| {
        let mut line = b"PROXY UNKNOWN".to_vec();
        if let Some(tail) = tail {
            line.push(b' ');
            line.extend_from_slice(&tail);
        }
        line.extend_from_slice(b"\r\n");
        (line, ProxyHeader::Unknown)
    });
    prop_oneof![v4, v6, unknown]
}

/// A valid version 2 header and what it parses to.
fn v2_header() -> impl Strategy<Value = (Vec<u8>, ProxyHeader)> {
    let tlvs = || proptest::collection::vec(any::<u8>(), 0..=200);
    let v4 = (
        any::<[u8; 4]>(),
        any::<[u8; 4]>(),
        any::<u16>(),
        any::<u16>(),
        tlvs(),
    )
        .prop_map(|(src, dst, sp, dp, tlvs)| {
            let mut block = v4_block(src, dst, sp, dp);
            block.extend_from_slice(&tlvs);
            let header = ProxyHeader::Tcp {
                source: SocketAddr::new(Ipv4Addr::from(src).into(), sp),
                destination: SocketAddr::new(Ipv4Addr::from(dst).into(), dp),
            };
            (v2(1, 0x11, &block), header)
        });
    let v6 = (
        any::<[u8; 16]>(),
        any::<[u8; 16]>(),
        any::<u16>(),
        any::<u16>(),
        tlvs(),
    )
        .prop_map(|(src, dst, sp, dp, tlvs)| {
            let mut block = v6_block(src, dst, sp, dp);
            block.extend_from_slice(&tlvs);
            let header = ProxyHeader::Tcp {
                source: SocketAddr::new(Ipv6Addr::from(src).into(), sp),
                destination: SocketAddr::new(Ipv6Addr::from(dst).into(), dp),
            };
            (v2(1, 0x21, &block), header)
        });
    let local = (any::<u8>(), tlvs())
        .prop_map(|(family, block)| (v2(0, family, &block), ProxyHeader::Unknown));
    let other = (
        prop::sample::select(vec![
            (0x00, 0),
            (0x12, 12),
            (0x22, 36),
            (0x31, 216),
            (0x32, 216),
        ]),
        tlvs(),
    )
        .prop_map(|((family, needed), tlvs)| {
            let mut block = vec![0xa5; needed];
            block.extend_from_slice(&tlvs);
            (v2(1, family, &block), ProxyHeader::Unknown)
        });
    prop_oneof![v4, v6, local, other]
}

fn check_valid(header: &[u8], expected: &ProxyHeader, tail: &[u8]) -> Result<(), TestCaseError> {
    for end in 0..header.len() {
        prop_assert_eq!(parse(&header[..end]), Ok(None));
    }
    let mut input = header.to_vec();
    input.extend_from_slice(tail);
    prop_assert_eq!(parse(&input), Ok(Some((expected.clone(), header.len()))));
    Ok(())
}

proptest! {
    #[test]
    fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn never_panics_after_prefix(
        v2 in any::<bool>(),
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut input = if v2 { V2_SIGNATURE.to_vec() } else { b"PROXY ".to_vec() };
        input.extend_from_slice(&bytes);
        let _ = parse(&input);
    }

    #[test]
    fn never_panics_on_v1_alphabet(
        bytes in proptest::collection::vec(
            prop::sample::select(b"PROXY TCP46UNKNOWN0123456789abcdef.:\r\n".to_vec()),
            0..120,
        ),
    ) {
        let mut input = b"PROXY ".to_vec();
        input.extend_from_slice(&bytes);
        if let Ok(Some((_, used))) = parse(&input) {
            prop_assert!(used <= input.len() && used <= V1_MAX_LEN);
            prop_assert_eq!(&input[used - 2..used], b"\r\n");
        }
    }

    #[test]
    fn valid_v1_parses_exactly(
        (header, expected) in v1_header(),
        tail in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        prop_assert!(header.len() <= V1_MAX_LEN);
        check_valid(&header, &expected, &tail)?;
    }

    #[test]
    fn valid_v2_parses_exactly(
        (header, expected) in v2_header(),
        tail in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        check_valid(&header, &expected, &tail)?;
    }
}
