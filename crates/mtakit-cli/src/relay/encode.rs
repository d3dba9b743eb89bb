//! The content as the relay sends it after `DATA`: every line ending made
//! CRLF, then dot-stuffed, then ended with `<CRLF>.<CRLF>`.
//!
//! A message accepted with bare CR or LF (`BODY=BINARYMIME` over BDAT, or
//! `--line-endings record`) must not reach the next hop as a different
//! message: a lenient server that ends DATA at `<LF>.<LF>` would otherwise
//! read the rest as new commands (SMTP smuggling). Like Postfix's client,
//! the relay normalises instead of refusing: a bare CR, a bare LF and CRLF
//! each become one CRLF, and a `.` that starts a line after that is
//! doubled. The output then holds no bare CR or LF, and `<CRLF>.<CRLF>`
//! occurs once, at its end.
//!
//! The encoder works on chunks, so a Maildir file is streamed, never read
//! whole.

/// Normalises line endings and dot-stuffs, chunk by chunk.
#[derive(Debug)]
pub(crate) struct DataEncoder {
    /// The last octet was a CR whose line ending is not yet written.
    cr: bool,
    /// The next octet starts a line.
    line_start: bool,
}

impl Default for DataEncoder {
    fn default() -> Self {
        DataEncoder {
            cr: false,
            line_start: true,
        }
    }
}

impl DataEncoder {
    /// Appends the encoding of `input` to `out`.
    pub(crate) fn push(&mut self, input: &[u8], out: &mut Vec<u8>) {
        out.reserve(input.len() + input.len() / 64 + 2);
        for &octet in input {
            if self.cr {
                self.cr = false;
                out.extend_from_slice(b"\r\n");
                self.line_start = true;
                if octet == b'\n' {
                    continue; // CRLF: one line ending
                }
            }
            match octet {
                b'\r' => self.cr = true,
                b'\n' => {
                    out.extend_from_slice(b"\r\n");
                    self.line_start = true;
                }
                _ => {
                    if self.line_start && octet == b'.' {
                        out.push(b'.');
                    }
                    out.push(octet);
                    self.line_start = false;
                }
            }
        }
    }

    /// Ends the content: a pending CR, a last line without ending, and
    /// the terminating `.` line.
    pub(crate) fn finish(self, out: &mut Vec<u8>) {
        if self.cr || !self.line_start {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b".\r\n");
    }
}

/// The whole encoding of `data`, for tests and small contents.
#[cfg(test)]
pub(crate) fn encode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = DataEncoder::default();
    encoder.push(data, &mut out);
    encoder.finish(&mut out);
    out
}

/// True when `wire` has no bare CR or LF, ends with `<CRLF>.<CRLF>` (or is
/// just `.<CRLF>`), and has no other line that is a lone `.`.
#[cfg(test)]
pub(crate) fn is_safe(wire: &[u8]) -> bool {
    for (i, &b) in wire.iter().enumerate() {
        let bare_cr = b == b'\r' && wire.get(i + 1) != Some(&b'\n');
        let bare_lf = b == b'\n' && (i == 0 || wire[i - 1] != b'\r');
        if bare_cr || bare_lf {
            return false;
        }
    }
    if wire == b".\r\n" {
        return true;
    }
    let ends = wire.ends_with(b"\r\n.\r\n");
    // Any `.` alone on a line, at any position, by a lenient reading.
    let lone_dots = wire
        .split(|&b| b == b'\n')
        .filter(|line| *line == b".\r" || *line == b".")
        .count();
    ends && lone_dots == 1 && !wire.starts_with(b".\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_content_is_only_dot_stuffed() {
        assert_eq!(
            encode(b"a\r\n.b\r\n..c\r\n"),
            b"a\r\n..b\r\n...c\r\n.\r\n".to_vec()
        );
        assert_eq!(encode(b""), b".\r\n".to_vec());
        assert_eq!(encode(b"no ending"), b"no ending\r\n.\r\n".to_vec());
    }

    #[test]
    fn bare_line_endings_become_crlf_before_stuffing() {
        assert_eq!(
            encode(b"hello\n.\nMAIL FROM:<x@y>\n"),
            b"hello\r\n..\r\nMAIL FROM:<x@y>\r\n.\r\n".to_vec()
        );
        assert_eq!(encode(b"a\r.\rb\r"), b"a\r\n..\r\nb\r\n.\r\n".to_vec());
        assert_eq!(encode(b"a\n\r.\r\n"), b"a\r\n\r\n..\r\n.\r\n".to_vec());
        assert_eq!(encode(b".\r"), b"..\r\n.\r\n".to_vec());
    }

    /// Every smuggling shape, split at every point, gives one message.
    #[test]
    fn every_variant_in_every_chunking_is_one_message() {
        let variants: [&[u8]; 8] = [
            b"x\n.\nMAIL FROM:<a@b>\nRCPT TO:<c@d>\nDATA\nevil\n.\n",
            b"x\r.\rMAIL FROM:<a@b>\r",
            b"x\r\n.\nQUIT\n",
            b"x\n.\r\nQUIT\r\n",
            b"x\r.\r\nRSET\r\n",
            b"x\r\n.\rQUIT\r",
            b".\n.\r.\r\n",
            b"x\r\r\n\n.\r\r\n",
        ];
        for data in variants {
            let whole = encode(data);
            assert!(is_safe(&whole), "{:?}", String::from_utf8_lossy(&whole));
            for cut in 0..=data.len() {
                let mut out = Vec::new();
                let mut encoder = DataEncoder::default();
                encoder.push(&data[..cut], &mut out);
                encoder.push(&data[cut..], &mut out);
                encoder.finish(&mut out);
                assert_eq!(out, whole, "cut at {cut}");
            }
        }
    }

    #[test]
    fn the_checker_sees_smuggling() {
        assert!(!is_safe(b"x\n.\nMAIL\r\n.\r\n"));
        assert!(!is_safe(b"x\r\n.\r\nMAIL\r\n.\r\n"));
        assert!(is_safe(b"x\r\n..\r\n.\r\n"));
    }
}
