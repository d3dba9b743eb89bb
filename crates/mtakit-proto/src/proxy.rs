//! The PROXY protocol header (HAProxy's "The PROXY protocol", versions 1
//! and 2), sans-IO.
//!
//! A load balancer that speaks the PROXY protocol sends one header before
//! the first SMTP byte, carrying the address of the real client. [`parse`]
//! looks at the bytes received so far and says whether they hold a complete
//! header, need more bytes, or cannot be one. The bytes after the header
//! belong to the SMTP dialogue and are left to the caller.
//!
//! Only expect the header on connections from trusted proxies: anyone who
//! can connect directly could otherwise claim any address.
//!
//! # Version 1
//!
//! One text line of at most [`V1_MAX_LEN`] octets, CRLF included:
//!
//! ```text
//! PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\n
//! PROXY TCP6 2001:db8::1 2001:db8::2 56324 25\r\n
//! PROXY UNKNOWN\r\n
//! ```
//!
//! Fields are separated by exactly one space. `TCP4` needs dotted-quad IPv4
//! addresses and `TCP6` IPv6 addresses; ports are 1 to 5 decimal digits
//! (leading zeros allowed) up to 65535. Anything after `PROXY UNKNOWN ` is
//! ignored.
//!
//! # Version 2
//!
//! The 12-octet [`V2_SIGNATURE`], a version/command octet (version 2;
//! `LOCAL` or `PROXY`), an address family/transport octet and a big-endian
//! length of the rest: the addresses, then TLVs, which are skipped. Only TCP
//! over IPv4 or IPv6 yields addresses; `LOCAL`, `UNSPEC`, UDP and UNIX
//! sockets give [`ProxyHeader::Unknown`]. The rest is capped at
//! [`DEFAULT_V2_MAX_DATA`] octets by [`parse`].

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The longest version 1 line, CRLF included, in octets.
pub const V1_MAX_LEN: usize = 107;

/// The signature that starts a version 2 header.
pub const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";

/// The fixed part of a version 2 header: signature, version/command,
/// family/transport and length, in octets.
pub const V2_FIXED_LEN: usize = 16;

/// The longest address and TLV block of a version 2 header that [`parse`]
/// accepts, in octets.
pub const DEFAULT_V2_MAX_DATA: u16 = 1024;

/// What starts a version 1 header.
const V1_PREFIX: &[u8] = b"PROXY ";

/// The longest textual IPv6 address (`INET6_ADDRSTRLEN` less the NUL).
const MAX_IPV6_TEXT: usize = 45;

/// The addresses a proxy reported.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyHeader {
    /// A proxied TCP connection: the real client (source) and the address
    /// it connected to (destination).
    Tcp {
        /// The real client.
        source: SocketAddr,
        /// The address the client connected to.
        destination: SocketAddr,
    },
    /// `PROXY UNKNOWN` (v1) or a v2 `LOCAL` command / unsupported family:
    /// keep the real peer address.
    Unknown,
}

/// Why the bytes cannot be a PROXY protocol header.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyError {
    /// The input starts with neither `PROXY ` nor the version 2 signature.
    NotProxy,
    /// A version 1 line with an unknown protocol, a wrong number of fields
    /// or not exactly one space between them.
    Malformed,
    /// A version 1 address that is not an IPv4 address for `TCP4` or an
    /// IPv6 address for `TCP6`.
    BadAddress,
    /// A version 1 port that is not 1 to 5 decimal digits up to 65535.
    BadPort,
    /// No CRLF within the first [`V1_MAX_LEN`] octets of a version 1 line.
    MissingCrlf,
    /// A LF without a CR before it, or a CR without a LF after it, in a
    /// version 1 line.
    BadLineEnding,
    /// A version 2 header whose version nibble is not 2.
    BadVersion,
    /// A version 2 header whose command is neither `LOCAL` nor `PROXY`.
    BadCommand,
    /// A version 2 `PROXY` header with an undefined family/transport octet.
    BadFamily,
    /// A version 2 length shorter than the addresses of its family.
    AddressTooShort,
    /// A version 2 length over the cap.
    TooLong,
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProxyError::NotProxy => "not a PROXY protocol header",
            ProxyError::Malformed => "malformed PROXY v1 line",
            ProxyError::BadAddress => "bad address in PROXY v1 line",
            ProxyError::BadPort => "bad port in PROXY v1 line",
            ProxyError::MissingCrlf => "no CRLF within 107 octets of PROXY v1 line",
            ProxyError::BadLineEnding => "bare CR or LF in PROXY v1 line",
            ProxyError::BadVersion => "unsupported PROXY v2 version",
            ProxyError::BadCommand => "unknown PROXY v2 command",
            ProxyError::BadFamily => "unknown PROXY v2 address family",
            ProxyError::AddressTooShort => "PROXY v2 address block too short",
            ProxyError::TooLong => "PROXY v2 header too long",
        })
    }
}

impl std::error::Error for ProxyError {}

/// Parses a PROXY header at the start of `input`.
///
/// Returns `Ok(Some((header, used)))` when `input` starts with a complete
/// header of `used` octets (the rest of `input` is not looked at), and
/// `Ok(None)` when `input` is a proper prefix of a header that may still be
/// valid: read more and call again. More bytes are never needed beyond
/// [`V1_MAX_LEN`] for version 1, or [`V2_FIXED_LEN`] plus
/// [`DEFAULT_V2_MAX_DATA`] for version 2 ([`ProxyError::TooLong`] beyond
/// that). Returns an error as soon as the bytes cannot be a valid header,
/// including input that is not the PROXY protocol at all.
///
/// ```
/// use mtakit_proto::proxy::{parse, ProxyHeader};
///
/// let input = b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\nEHLO client.example\r\n";
/// let (header, used) = parse(input)?.expect("a complete header");
/// assert_eq!(
///     header,
///     ProxyHeader::Tcp {
///         source: "192.0.2.1:56324".parse()?,
///         destination: "198.51.100.2:25".parse()?,
///     }
/// );
/// assert_eq!(&input[used..], b"EHLO client.example\r\n");
///
/// assert_eq!(parse(b"PROXY TCP4 192.0.")?, None);
/// assert!(parse(b"EHLO client.example\r\n").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse(input: &[u8]) -> Result<Option<(ProxyHeader, usize)>, ProxyError> {
    parse_with_limit(input, DEFAULT_V2_MAX_DATA)
}

#[doc(hidden)] // public for the fuzz targets and benches only; not part of the API
/// Like [`parse`], with version 2 headers capped at `max_v2_data` octets of
/// addresses and TLVs after the fixed [`V2_FIXED_LEN`] octets.
pub fn parse_with_limit(
    input: &[u8],
    max_v2_data: u16,
) -> Result<Option<(ProxyHeader, usize)>, ProxyError> {
    if let Some(rest) = input.strip_prefix(V1_PREFIX) {
        parse_v1(input, rest)
    } else if input.starts_with(&V2_SIGNATURE) {
        parse_v2(input, max_v2_data)
    } else if V1_PREFIX.starts_with(input) || V2_SIGNATURE.starts_with(input) {
        Ok(None)
    } else {
        Err(ProxyError::NotProxy)
    }
}

/// Version 1: `input` is the whole input, `rest` what follows `PROXY `.
fn parse_v1(input: &[u8], rest: &[u8]) -> Result<Option<(ProxyHeader, usize)>, ProxyError> {
    let window = &input[..input.len().min(V1_MAX_LEN)];
    let Some(end) = window.iter().position(|&b| b == b'\r' || b == b'\n') else {
        // No line ending yet: the CRLF must still fit within the limit.
        if window.len() + 2 > V1_MAX_LEN {
            return Err(ProxyError::MissingCrlf);
        }
        check_v1_prefix(rest)?;
        return Ok(None);
    };
    if window[end] == b'\n' {
        return Err(ProxyError::BadLineEnding);
    }
    if end + 2 > V1_MAX_LEN {
        return Err(ProxyError::MissingCrlf);
    }
    let header = parse_v1_fields(&rest[..end - V1_PREFIX.len()])?;
    match input.get(end + 1) {
        None => Ok(None),
        Some(b'\n') => Ok(Some((header, end + 2))),
        Some(_) => Err(ProxyError::BadLineEnding),
    }
}

/// The fields of a complete version 1 line, after `PROXY ` and before CRLF.
fn parse_v1_fields(line: &[u8]) -> Result<ProxyHeader, ProxyError> {
    let mut fields = line.split(|&b| b == b' ');
    let tcp6 = match fields.next() {
        // Anything after `UNKNOWN ` is ignored.
        Some(b"UNKNOWN") => return Ok(ProxyHeader::Unknown),
        Some(b"TCP4") => false,
        Some(b"TCP6") => true,
        _ => return Err(ProxyError::Malformed),
    };
    let (Some(src), Some(dst), Some(src_port), Some(dst_port), None) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
        return Err(ProxyError::Malformed);
    };
    if [src, dst, src_port, dst_port].iter().any(|f| f.is_empty()) {
        return Err(ProxyError::Malformed);
    }
    Ok(ProxyHeader::Tcp {
        source: SocketAddr::new(parse_ip(src, tcp6)?, parse_port(src_port)?),
        destination: SocketAddr::new(parse_ip(dst, tcp6)?, parse_port(dst_port)?),
    })
}

/// Checks that `rest`, what follows `PROXY ` with no line ending yet, can
/// still become a valid line, so that bad input fails early.
fn check_v1_prefix(rest: &[u8]) -> Result<(), ProxyError> {
    const PROTOCOLS: [&[u8]; 3] = [b"TCP4", b"TCP6", b"UNKNOWN"];
    let mut fields = rest.split(|&b| b == b' ').peekable();
    let mut tcp6 = false;
    let mut index = 0;
    while let Some(field) = fields.next() {
        // A field followed by a space is complete; the last one may grow.
        let complete = fields.peek().is_some();
        match index {
            0 if !complete => {
                if !PROTOCOLS.iter().any(|p| p.starts_with(field)) {
                    return Err(ProxyError::Malformed);
                }
            }
            0 => match field {
                b"UNKNOWN" => return Ok(()),
                b"TCP4" => {}
                b"TCP6" => tcp6 = true,
                _ => return Err(ProxyError::Malformed),
            },
            _ if complete && field.is_empty() => return Err(ProxyError::Malformed),
            1 | 2 if complete => {
                parse_ip(field, tcp6)?;
            }
            1 | 2 => {
                if !ip_prefix_ok(field, tcp6) {
                    return Err(ProxyError::BadAddress);
                }
            }
            // A sixth field.
            4 if complete => return Err(ProxyError::Malformed),
            3 | 4 => {
                // Any prefix of a valid port is empty or a valid port.
                if !field.is_empty() {
                    parse_port(field)?;
                }
            }
            _ => return Err(ProxyError::Malformed),
        }
        index += 1;
    }
    Ok(())
}

/// Whether `field` can be the start of an address of the family.
fn ip_prefix_ok(field: &[u8], tcp6: bool) -> bool {
    if tcp6 {
        return field.len() <= MAX_IPV6_TEXT
            && field
                .iter()
                .all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
    }
    if !field.iter().all(|&b| b.is_ascii_digit() || b == b'.') {
        return false;
    }
    let groups = field.split(|&b| b == b'.');
    let count = groups.clone().count();
    // Every octet but the last is complete; a prefix of a valid octet is
    // empty or a valid octet itself.
    count <= 4
        && groups
            .enumerate()
            .all(|(i, g)| (i + 1 == count && g.is_empty()) || octet_ok(g))
}

/// Whether `group` is a decimal octet as the standard library's IPv4 parser
/// takes it: 1 to 3 digits, no leading zero, at most 255.
fn octet_ok(group: &[u8]) -> bool {
    match group {
        [] => false,
        [b'0', _, ..] => false,
        _ => group.len() <= 3 && decimal(group) <= 255,
    }
}

/// The value of a short run of ASCII digits.
fn decimal(digits: &[u8]) -> u32 {
    digits
        .iter()
        .fold(0, |acc, &d| acc * 10 + u32::from(d.wrapping_sub(b'0')))
}

/// A version 1 address of the family.
fn parse_ip(field: &[u8], tcp6: bool) -> Result<IpAddr, ProxyError> {
    let text = std::str::from_utf8(field).map_err(|_| ProxyError::BadAddress)?;
    let ip = if tcp6 {
        text.parse::<Ipv6Addr>().map(IpAddr::V6)
    } else {
        text.parse::<Ipv4Addr>().map(IpAddr::V4)
    };
    ip.map_err(|_| ProxyError::BadAddress)
}

/// A version 1 port: 1 to 5 decimal digits, at most 65535.
fn parse_port(field: &[u8]) -> Result<u16, ProxyError> {
    if field.is_empty() || field.len() > 5 || !field.iter().all(u8::is_ascii_digit) {
        return Err(ProxyError::BadPort);
    }
    u16::try_from(decimal(field)).map_err(|_| ProxyError::BadPort)
}

/// Version 2: `input` starts with the signature.
fn parse_v2(input: &[u8], max_data: u16) -> Result<Option<(ProxyHeader, usize)>, ProxyError> {
    let Some(&version_command) = input.get(12) else {
        return Ok(None);
    };
    if version_command >> 4 != 2 {
        return Err(ProxyError::BadVersion);
    }
    let local = match version_command & 0x0f {
        0 => true,
        1 => false,
        _ => return Err(ProxyError::BadCommand),
    };
    let Some(&family) = input.get(13) else {
        return Ok(None);
    };
    // LOCAL ignores the family and the address block altogether.
    let needed = if local {
        0
    } else {
        match family {
            0x00 => 0,
            0x11 | 0x12 => 12,
            0x21 | 0x22 => 36,
            0x31 | 0x32 => 216,
            _ => return Err(ProxyError::BadFamily),
        }
    };
    let Some(&[hi, lo]) = input.get(14..V2_FIXED_LEN) else {
        return Ok(None);
    };
    let len = u16::from_be_bytes([hi, lo]);
    if len > max_data {
        return Err(ProxyError::TooLong);
    }
    if usize::from(len) < needed {
        return Err(ProxyError::AddressTooShort);
    }
    let total = V2_FIXED_LEN + usize::from(len);
    let Some(mut block) = input.get(V2_FIXED_LEN..total) else {
        return Ok(None);
    };
    let header = match (local, family) {
        (false, 0x11) => {
            let src = Ipv4Addr::from(take::<4>(&mut block)?);
            let dst = Ipv4Addr::from(take::<4>(&mut block)?);
            tcp(src.into(), dst.into(), &mut block)?
        }
        (false, 0x21) => {
            let src = Ipv6Addr::from(take::<16>(&mut block)?);
            let dst = Ipv6Addr::from(take::<16>(&mut block)?);
            tcp(src.into(), dst.into(), &mut block)?
        }
        _ => ProxyHeader::Unknown,
    };
    // Whatever is left of the block is TLVs: skipped.
    Ok(Some((header, total)))
}

/// A TCP header from the two addresses and the two ports that follow them.
fn tcp(src: IpAddr, dst: IpAddr, block: &mut &[u8]) -> Result<ProxyHeader, ProxyError> {
    let src_port = u16::from_be_bytes(take::<2>(block)?);
    let dst_port = u16::from_be_bytes(take::<2>(block)?);
    Ok(ProxyHeader::Tcp {
        source: SocketAddr::new(src, src_port),
        destination: SocketAddr::new(dst, dst_port),
    })
}

/// Takes the first `N` octets off `block`.
fn take<const N: usize>(block: &mut &[u8]) -> Result<[u8; N], ProxyError> {
    let (head, tail) = block
        .split_first_chunk::<N>()
        .ok_or(ProxyError::AddressTooShort)?;
    *block = tail;
    Ok(*head)
}

#[cfg(test)]
#[path = "proxy_tests.rs"]
mod tests;
