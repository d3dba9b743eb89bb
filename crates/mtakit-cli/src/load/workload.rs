//! What `mtakit load` sends: the generated message and the command group
//! of one transaction.

/// The generated message: headers, then lines of 78 printable octets and
/// CRLF (as smtp-source sends), every 16th starting with a dot; exactly
/// `size` octets, ending in CRLF when `size >= 2`. Not yet dot-stuffed.
pub(super) fn message(size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 80);
    out.extend_from_slice(
        b"From: <load@mtakit.invalid>\r\n\
          To: <sink@mtakit.invalid>\r\n\
          Subject: mtakit load\r\n\
          Message-ID: <load@mtakit.invalid>\r\n\
          \r\n",
    );
    let mut line = 0usize;
    while out.len() < size {
        for i in 0..78 {
            let byte = if i == 0 && line % 16 == 15 {
                b'.'
            } else {
                b'a' + ((line + i) % 26) as u8
            };
            out.push(byte);
        }
        out.extend_from_slice(b"\r\n");
        line += 1;
    }
    out.truncate(size);
    if size >= 2 {
        out[size - 2] = b'\r';
        out[size - 1] = b'\n';
        // A cut line could now hold a bare CR right before the CRLF.
        if size >= 3 && out[size - 3] == b'\r' {
            out[size - 3] = b'x';
        }
    }
    out
}

/// The MAIL, RCPT and DATA lines of one transaction.
pub(super) fn command_group(recipients: u64) -> Vec<u8> {
    let mut out = b"MAIL FROM:<load@mtakit.invalid>\r\n".to_vec();
    for i in 0..recipients {
        out.extend_from_slice(format!("RCPT TO:<sink{i}@mtakit.invalid>\r\n").as_bytes());
    }
    out.extend_from_slice(b"DATA\r\n");
    out
}
