//! [`EhloInfo`]: what a server's EHLO (or LHLO) reply says about it.
//!
//! The first line of a `250` EHLO reply starts with the server's name; each
//! further line is an extension keyword with its parameters (RFC 5321
//! §4.1.1.1). The extensions a client acts on are typed ([`Extension`]);
//! any other keyword is kept as it came. Lines that are not a keyword
//! (RFC 5321 `ehlo-keyword`) are skipped.

/// One extension a server advertised.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Extension {
    /// `PIPELINING` (RFC 2920).
    Pipelining,
    /// `SIZE [n]` (RFC 1870): the largest message, `0` for no fixed
    /// limit; `None` when the server gave no (valid) number.
    Size(Option<u64>),
    /// `8BITMIME` (RFC 6152).
    EightBitMime,
    /// `SMTPUTF8` (RFC 6531).
    SmtpUtf8,
    /// `CHUNKING`: BDAT (RFC 3030).
    Chunking,
    /// `BINARYMIME` (RFC 3030).
    BinaryMime,
    /// `DSN` (RFC 3461).
    Dsn,
    /// `STARTTLS` (RFC 3207).
    StartTls,
    /// `AUTH` (RFC 4954) and its SASL mechanisms, upper-cased. The old
    /// form `AUTH=MECH ...` is read too.
    Auth(Vec<String>),
    /// `ENHANCEDSTATUSCODES` (RFC 2034).
    EnhancedStatusCodes,
    /// Any other keyword, upper-cased, with its parameters as sent.
    Other {
        /// The keyword, upper-cased.
        keyword: String,
        /// The rest of the line after the keyword and a space.
        params: String,
    },
}

impl Extension {
    /// Reads one line after the first of an EHLO reply; `None` when it
    /// does not start with a keyword.
    fn parse(line: &str) -> Option<Self> {
        let (word, params) = line.split_once(' ').unwrap_or((line, ""));
        let params = params.trim();
        // The pre-RFC 4954 form that some servers still send.
        if let Some(mechs) = word
            .get(..5)
            .filter(|p| p.eq_ignore_ascii_case("AUTH="))
            .map(|_| &word[5..])
        {
            return Some(Self::Auth(mechanisms(&format!("{mechs} {params}"))));
        }
        let valid = word
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
            && word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !valid {
            return None;
        }
        let keyword = word.to_ascii_uppercase();
        Some(match keyword.as_str() {
            "PIPELINING" => Self::Pipelining,
            "SIZE" => Self::Size(params.parse().ok()),
            "8BITMIME" => Self::EightBitMime,
            "SMTPUTF8" => Self::SmtpUtf8,
            "CHUNKING" => Self::Chunking,
            "BINARYMIME" => Self::BinaryMime,
            "DSN" => Self::Dsn,
            "STARTTLS" => Self::StartTls,
            "AUTH" => Self::Auth(mechanisms(params)),
            "ENHANCEDSTATUSCODES" => Self::EnhancedStatusCodes,
            _ => Self::Other {
                keyword,
                params: params.to_owned(),
            },
        })
    }

    /// The keyword as advertised, upper-cased.
    pub fn keyword(&self) -> &str {
        match self {
            Self::Pipelining => "PIPELINING",
            Self::Size(_) => "SIZE",
            Self::EightBitMime => "8BITMIME",
            Self::SmtpUtf8 => "SMTPUTF8",
            Self::Chunking => "CHUNKING",
            Self::BinaryMime => "BINARYMIME",
            Self::Dsn => "DSN",
            Self::StartTls => "STARTTLS",
            Self::Auth(_) => "AUTH",
            Self::EnhancedStatusCodes => "ENHANCEDSTATUSCODES",
            Self::Other { keyword, .. } => keyword,
        }
    }
}

fn mechanisms(params: &str) -> Vec<String> {
    params
        .split_ascii_whitespace()
        .map(str::to_ascii_uppercase)
        .collect()
}

/// The server's name and extensions, from its `250` reply to EHLO or LHLO.
///
/// ```
/// use mtakit_proto::Reply;
/// use mtakit_proto::ehlo::{EhloInfo, Extension};
///
/// let reply = Reply::multiline(
///     250,
///     None,
///     ["mx.example Hello", "PIPELINING", "SIZE 10485760", "AUTH PLAIN login", "X-SPECIAL on"],
/// )?;
/// let info = EhloInfo::from_reply(&reply).expect("a 250");
/// assert_eq!(info.hostname(), "mx.example");
/// assert!(info.pipelining() && !info.starttls());
/// assert_eq!(info.max_size(), Some(10485760));
/// assert!(info.supports_auth("LOGIN"));
/// assert_eq!(info.params("x-special"), Some("on"));
/// assert_eq!(info.extensions().len(), 4);
/// # Ok::<(), mtakit_proto::ReplyError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EhloInfo {
    hostname: String,
    extensions: Vec<Extension>,
}

impl EhloInfo {
    /// Reads a reply to EHLO or LHLO; `None` unless it is `2xx`.
    pub fn from_reply(reply: &crate::Reply) -> Option<Self> {
        if reply.code().get() / 100 != 2 {
            return None;
        }
        let mut lines = reply.lines();
        let hostname = lines
            .next()
            .and_then(|l| l.split_ascii_whitespace().next())
            .unwrap_or("")
            .to_owned();
        let extensions = lines.filter_map(Extension::parse).collect();
        Some(Self {
            hostname,
            extensions,
        })
    }

    /// The name the server gave on the first line (empty if none).
    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    /// Every extension, in the order advertised.
    pub fn extensions(&self) -> &[Extension] {
        &self.extensions
    }

    /// True when `keyword` (any case) was advertised.
    pub fn has(&self, keyword: &str) -> bool {
        self.extensions
            .iter()
            .any(|e| e.keyword().eq_ignore_ascii_case(keyword))
    }

    /// The parameters of an unknown keyword (any case), if advertised.
    pub fn params(&self, keyword: &str) -> Option<&str> {
        self.extensions.iter().find_map(|e| match e {
            Extension::Other { keyword: k, params } if k.eq_ignore_ascii_case(keyword) => {
                Some(params.as_str())
            }
            _ => None,
        })
    }

    /// `PIPELINING`.
    pub fn pipelining(&self) -> bool {
        self.extensions.contains(&Extension::Pipelining)
    }

    /// `8BITMIME`.
    pub fn eight_bit_mime(&self) -> bool {
        self.extensions.contains(&Extension::EightBitMime)
    }

    /// `SMTPUTF8`.
    pub fn smtp_utf8(&self) -> bool {
        self.extensions.contains(&Extension::SmtpUtf8)
    }

    /// `CHUNKING`.
    pub fn chunking(&self) -> bool {
        self.extensions.contains(&Extension::Chunking)
    }

    /// `BINARYMIME`.
    pub fn binary_mime(&self) -> bool {
        self.extensions.contains(&Extension::BinaryMime)
    }

    /// `DSN`.
    pub fn dsn(&self) -> bool {
        self.extensions.contains(&Extension::Dsn)
    }

    /// `STARTTLS`.
    pub fn starttls(&self) -> bool {
        self.extensions.contains(&Extension::StartTls)
    }

    /// `ENHANCEDSTATUSCODES`.
    pub fn enhanced_status_codes(&self) -> bool {
        self.extensions.contains(&Extension::EnhancedStatusCodes)
    }

    /// The `SIZE` limit when the server set one: `None` when SIZE was not
    /// advertised, had no number, or was `0` (no fixed limit).
    pub fn max_size(&self) -> Option<u64> {
        self.extensions.iter().find_map(|e| match e {
            Extension::Size(Some(n)) if *n > 0 => Some(*n),
            _ => None,
        })
    }

    /// The SASL mechanisms of every `AUTH` line, upper-cased.
    pub fn auth_mechanisms(&self) -> impl Iterator<Item = &str> {
        self.extensions
            .iter()
            .flat_map(|e| match e {
                Extension::Auth(m) => m.as_slice(),
                _ => &[],
            })
            .map(String::as_str)
    }

    /// True when `mechanism` (any case) is among the AUTH mechanisms.
    pub fn supports_auth(&self, mechanism: &str) -> bool {
        self.auth_mechanisms()
            .any(|m| m.eq_ignore_ascii_case(mechanism))
    }
}

#[cfg(test)]
#[path = "ehlo_tests.rs"]
mod tests;
