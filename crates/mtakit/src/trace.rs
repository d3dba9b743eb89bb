//! The `Received:` trace header a server adds when it takes a message for
//! delivery (RFC 5321 §4.4), shared by every sink that writes one.

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use mtakit_proto::Greeting;

use crate::message::Message;

impl Message {
    /// The `Received:` header field for this message, ending in CRLF,
    /// folded over several lines:
    ///
    /// ```text
    /// Received: from HELO ([PEER-IP])
    ///         by BY (mtakit) with ESMTPSA id ID
    ///         for <RCPT>; Thu, 3 Dec 2026 16:12:07 +0000
    /// ```
    ///
    /// `with` names the protocol as RFC 3848 does: `SMTP` after HELO,
    /// `ESMTP` after EHLO, `LMTP` after LHLO, with `S` added over TLS and
    /// `A` after AUTH. `for` is there when there is one recipient only, so
    /// the others' addresses are not disclosed.
    ///
    /// ```
    /// # use mtakit::test_util::{TestClient, TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # let server = TestServer::start_async().await;
    /// # let mut client = TestClient::connect(server.addr()).await?;
    /// # client.ehlo("client.example").await?;
    /// # client.mail_from("<a@example.com>").await?;
    /// # client.rcpt_to("<b@example.com>").await?;
    /// # client.data(b"Subject: hi\r\n\r\nhello\r\n").await?;
    /// let message = &server.wait_for_messages_async(1).await[0];
    /// let header = message.received_header("mx.example.net");
    /// assert!(header.starts_with("Received: from client.example ([127.0.0.1])\r\n"));
    /// assert!(header.contains("by mx.example.net (mtakit) with ESMTP id "));
    /// assert!(header.contains("for <b@example.com>; "));
    /// # Ok(()) }
    /// ```
    pub fn received_header(&self, by: &str) -> String {
        let helo = self
            .helo()
            .map_or_else(|| "unknown".to_owned(), ToString::to_string);
        let mut with = match self.greeting() {
            Some(Greeting::Lhlo) => "LMTP",
            Some(Greeting::Ehlo) => "ESMTP",
            _ => "SMTP",
        }
        .to_owned();
        if with != "SMTP" {
            if self.tls().is_some() {
                with.push('S');
            }
            if self.auth().is_some() {
                with.push('A');
            }
        }
        let mut field = format!(
            "Received: from {helo} ({})\r\n\tby {by} (mtakit) with {with} id {}",
            address_literal(self.peer().ip()),
            self.id()
        );
        if let Some(tls) = self.tls() {
            field.push_str(&format!(
                "\r\n\t(using {} with cipher {})",
                tls.version, tls.cipher
            ));
        }
        let mut recipients = self.forward_paths();
        if let (Some(only), None) = (recipients.next(), recipients.next()) {
            field.push_str(&format!("\r\n\tfor {only}"));
        }
        field.push_str(&format!("; {}\r\n", rfc5322_date(self.received_at())));
        field
    }
}

/// `[192.0.2.1]` or `[IPv6:2001:db8::1]` (RFC 5321 §4.1.3).
fn address_literal(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(ip) => format!("[{ip}]"),
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => format!("[{v4}]"),
            None => format!("[IPv6:{ip}]"),
        },
    }
}

/// An RFC 5322 date in UTC: `Thu, 3 Dec 2026 16:12:07 +0000`.
pub(crate) fn rfc5322_date(at: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let days = secs / 86_400;
    let rest = secs % 86_400;
    let (year, month, day) = civil(days);
    format!(
        "{}, {day} {} {year} {:02}:{:02}:{:02} +0000",
        DAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// Year, month (1–12) and day of the days since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`, for dates after 1970).
fn civil(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn dates() {
        let at = |secs| UNIX_EPOCH + Duration::from_secs(secs);
        assert_eq!(rfc5322_date(at(0)), "Thu, 1 Jan 1970 00:00:00 +0000");
        assert_eq!(
            rfc5322_date(at(951_782_400)),
            "Tue, 29 Feb 2000 00:00:00 +0000"
        );
        assert_eq!(
            rfc5322_date(at(1_796_314_327)),
            "Thu, 3 Dec 2026 16:12:07 +0000"
        );
    }

    #[test]
    fn literals() {
        assert_eq!(address_literal("192.0.2.1".parse().unwrap()), "[192.0.2.1]");
        assert_eq!(
            address_literal("2001:db8::1".parse().unwrap()),
            "[IPv6:2001:db8::1]"
        );
        assert_eq!(
            address_literal("::ffff:192.0.2.1".parse().unwrap()),
            "[192.0.2.1]"
        );
    }
}
