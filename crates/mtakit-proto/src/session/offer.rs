//! The extensions as the session offers them: the EHLO reply, and the
//! MAIL and RCPT parameters that need an extension switched on.

use crate::reply::{Reply, ReplyCode};
use crate::session::machine::Session;

impl Session {
    pub(super) fn unsupported_mail_param(
        &self,
        params: &crate::params::MailParams,
    ) -> Option<Reply> {
        let unknown = |what: &str| {
            Reply::new(
                ReplyCode::PARAMS_NOT_RECOGNIZED.get(),
                Some(crate::EnhancedCode::INVALID_ARGUMENTS),
                format!("Invalid extension: \"{what}\""),
            )
            .ok()
        };
        if params.size.is_some() && !self.extensions.size {
            return unknown("SIZE");
        }
        if params.body.is_some() && !self.extensions.eight_bit_mime {
            return unknown("BODY");
        }
        if params.body == Some(crate::params::Body::BinaryMime)
            && !(self.extensions.binarymime && self.extensions.chunking)
        {
            return unknown("BODY=BINARYMIME");
        }
        if params.smtputf8 && !self.extensions.smtputf8 {
            return unknown("SMTPUTF8");
        }
        if params.auth.is_some() && !self.auth_offered() {
            return unknown("AUTH");
        }
        if !self.extensions.dsn {
            if params.ret.is_some() {
                return unknown("RET");
            }
            if params.envid.is_some() {
                return unknown("ENVID");
            }
        }
        None
    }

    /// RCPT parameters of an extension that is switched off.
    pub(super) fn unsupported_rcpt_param(
        &self,
        params: &crate::params::RcptParams,
    ) -> Option<Reply> {
        let what = if self.extensions.dsn {
            return None;
        } else if params.notify.is_some() {
            "NOTIFY"
        } else if params.orcpt.is_some() {
            "ORCPT"
        } else {
            return None;
        };
        Reply::new(
            ReplyCode::PARAMS_NOT_RECOGNIZED.get(),
            Some(crate::EnhancedCode::INVALID_ARGUMENTS),
            format!("Invalid extension: \"{what}\""),
        )
        .ok()
    }

    /// The multi-line EHLO reply: the hostname, then one keyword a line.
    pub(super) fn ehlo_reply(&self) -> Reply {
        let ext = &self.extensions;
        let mut text = self.host.clone();
        let mut line = |s: &str| {
            text.push('\n');
            text.push_str(s);
        };
        if ext.pipelining {
            line("PIPELINING");
        }
        if ext.size {
            line(&format!("SIZE {}", self.info.max_message_size));
        }
        if ext.eight_bit_mime {
            line("8BITMIME");
        }
        if ext.smtputf8 {
            line("SMTPUTF8");
        }
        if ext.enhanced_status_codes {
            line("ENHANCEDSTATUSCODES");
        }
        if ext.chunking {
            line("CHUNKING");
            if ext.binarymime {
                line("BINARYMIME");
            }
        }
        if ext.dsn {
            line("DSN");
        }
        if ext.starttls && self.config.tls_available && self.info.tls.is_none() {
            line("STARTTLS");
        }
        if self.auth_offered() {
            let names: Vec<&str> = self
                .config
                .auth_mechanisms
                .iter()
                .map(|m| m.name())
                .collect();
            line(&format!("AUTH {}", names.join(" ")));
        }
        for extra in &ext.extra {
            if !extra.is_empty() && !extra.contains(['\r', '\n', '\0']) {
                line(extra);
            }
        }
        if ext.help {
            line("HELP");
        }
        Reply::owned(ReplyCode::OK, None, text)
    }
}
