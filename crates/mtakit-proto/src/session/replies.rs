//! The session's default replies. Texts follow pymta where it had one, so
//! that tests written against pymta keep matching; codes and enhanced codes
//! follow RFC 5321, RFC 3463 and Postfix.

use crate::reply::{EnhancedCode as E, Reply, ReplyCode as C};

pub(crate) const OK_MAIL: Reply = Reply::fixed(C::OK, Some(E::SENDER_OK), "OK");
pub(crate) const OK_RCPT: Reply = Reply::fixed(C::OK, Some(E::DESTINATION_OK), "OK");
pub(crate) const OK_QUEUED: Reply = Reply::fixed(C::OK, Some(E::SUCCESS), "OK");
pub(crate) const OK_NOOP: Reply = Reply::fixed(C::OK, Some(E::SUCCESS), "OK");
pub(crate) const OK_RSET: Reply = Reply::fixed(C::OK, Some(E::SUCCESS), "Reset OK");
pub(crate) const START_DATA: Reply = Reply::fixed(
    C::START_MAIL_INPUT,
    None,
    "Enter message, ending with \".\" on a line by itself",
);
pub(crate) const VRFY_CANNOT: Reply = Reply::fixed(
    C::CANNOT_VERIFY,
    Some(E::CANNOT_VERIFY),
    "Cannot VRFY user, but will accept message and attempt delivery",
);
pub(crate) const EXPN_DISABLED: Reply = Reply::fixed(
    C::NOT_IMPLEMENTED,
    Some(E::INVALID_COMMAND),
    "EXPN not supported",
);
pub(crate) const READY_TLS: Reply =
    Reply::fixed(C::SERVICE_READY, Some(E::SUCCESS), "Ready to start TLS");
pub(crate) const TLS_UNAVAILABLE: Reply = Reply::fixed(
    C::TEMPORARY_FAILURE,
    Some(E::TEMP_SECURITY),
    "TLS not available",
);
pub(crate) const AUTH_OK: Reply = Reply::fixed(
    C::AUTH_SUCCESS,
    Some(E::AUTH_SUCCESS),
    "Authentication successful",
);
pub(crate) const AUTH_BAD: Reply = Reply::fixed(
    C::AUTH_INVALID,
    Some(E::BAD_CREDENTIALS),
    "Bad username or password",
);
pub(crate) const AUTH_UNAVAILABLE: Reply = Reply::fixed(
    C::NOT_IMPLEMENTED,
    Some(E::INVALID_COMMAND),
    "AUTH not available",
);
pub(crate) const AUTH_NEEDS_TLS: Reply = Reply::fixed(
    C::ENCRYPTION_REQUIRED,
    Some(E::ENCRYPTION_REQUIRED),
    "Encryption required for requested authentication mechanism",
);
pub(crate) const AUTH_UNKNOWN_MECHANISM: Reply = Reply::fixed(
    C::PARAM_NOT_IMPLEMENTED,
    Some(E::INVALID_ARGUMENTS),
    "Unrecognized authentication type",
);
pub(crate) const AUTH_CANCELLED: Reply = Reply::fixed(
    C::PARAM_SYNTAX_ERROR,
    Some(E::PERMANENT),
    "Authentication cancelled",
);
pub(crate) const AUTH_ALREADY: Reply = Reply::fixed(
    C::BAD_SEQUENCE,
    Some(E::INVALID_COMMAND),
    "Already authenticated",
);
pub(crate) const AUTH_REQUIRED: Reply = Reply::fixed(
    C::AUTH_REQUIRED,
    Some(E::SECURITY),
    "Authentication required",
);
pub(crate) const TLS_REQUIRED: Reply = Reply::fixed(
    C::AUTH_REQUIRED,
    Some(E::SECURITY),
    "Must issue a STARTTLS command first",
);
pub(crate) const DENIED: Reply = Reply::fixed(
    C::MAILBOX_UNAVAILABLE,
    Some(E::NOT_AUTHORIZED),
    "Administrative Prohibition",
);
pub(crate) const DENIED_RCPT: Reply = Reply::fixed(
    C::MAILBOX_UNAVAILABLE,
    Some(E::NOT_AUTHORIZED),
    "relay not permitted",
);
pub(crate) const DENIED_MESSAGE: Reply = Reply::fixed(
    C::MAILBOX_UNAVAILABLE,
    Some(E::NOT_AUTHORIZED),
    "Message content is not acceptable",
);
pub(crate) const DENIED_CONNECTION: Reply =
    Reply::fixed(C::TRANSACTION_FAILED, None, "SMTP service not available");
pub(crate) const POLICY_ERROR: Reply = Reply::fixed(
    C::LOCAL_ERROR,
    Some(E::TEMP_SYSTEM),
    "Internal policy error",
);
pub(crate) const TOO_BIG: Reply = Reply::fixed(
    C::EXCEEDED_STORAGE,
    Some(E::TOO_BIG),
    "message exceeds fixed maximum message size",
);
pub(crate) const TOO_MANY_RCPTS: Reply = Reply::fixed(
    C::INSUFFICIENT_STORAGE,
    Some(E::TOO_MANY_RECIPIENTS),
    "Too many recipients",
);
pub(crate) const NO_RECIPIENTS: Reply = Reply::fixed(
    C::TRANSACTION_FAILED,
    Some(E::INVALID_COMMAND),
    "No valid recipients",
);
pub(crate) const LMTP_NO_RECIPIENTS: Reply = Reply::fixed(
    C::BAD_SEQUENCE,
    Some(E::INVALID_COMMAND),
    "No valid recipients",
);
pub(crate) const LMTP_NEEDS_LHLO: Reply = Reply::fixed(
    C::SYNTAX_ERROR,
    Some(E::INVALID_COMMAND),
    "This is an LMTP server: use LHLO",
);
pub(crate) const BDAT_UNAVAILABLE: Reply = Reply::fixed(
    C::NOT_IMPLEMENTED,
    Some(E::INVALID_COMMAND),
    "CHUNKING not available",
);
pub(crate) const NESTED_MAIL: Reply = Reply::fixed(
    C::BAD_SEQUENCE,
    Some(E::INVALID_COMMAND),
    "Sender already specified",
);
pub(crate) const NO_EXTENSIONS: Reply = Reply::fixed(
    C::PARAM_SYNTAX_ERROR,
    Some(E::INVALID_ARGUMENTS),
    "No SMTP extensions allowed for plain SMTP.",
);
pub(crate) const NON_ASCII: Reply = Reply::fixed(
    C::MAILBOX_NAME_NOT_ALLOWED,
    Some(E::NON_ASCII_ADDRESS),
    "Non-ASCII address requires SMTPUTF8",
);
pub(crate) const LINE_TOO_LONG: Reply =
    Reply::fixed(C::SYNTAX_ERROR, Some(E::LINE_TOO_LONG), "Line too long");
pub(crate) const BARE_LF_COMMAND: Reply = Reply::fixed(
    C::SYNTAX_ERROR,
    Some(E::SYNTAX),
    "Bare <LF> received; lines must end with <CR><LF>",
);
pub(crate) const BARE_NEWLINE_DATA: Reply = Reply::fixed(
    C::MAILBOX_UNAVAILABLE,
    Some(E::SYNTAX),
    "Message contains bare <CR> or <LF>; lines must end with <CR><LF>",
);
pub(crate) const NUL_DATA: Reply = Reply::fixed(
    C::TRANSACTION_FAILED,
    Some(E::MEDIA),
    "Message contains NUL octets",
);
pub(crate) const SASL_GARBLED: Reply =
    Reply::fixed(C::PARAM_SYNTAX_ERROR, Some(E::SYNTAX), "Garbled data sent");
pub(crate) const TOO_MANY_ERRORS: Reply = Reply::fixed(
    C::SERVICE_UNAVAILABLE,
    Some(E::TEMP_SECURITY),
    "Error: too many errors",
);
pub(crate) const TOO_MANY_AUTH_FAILURES: Reply = Reply::fixed(
    C::SERVICE_UNAVAILABLE,
    Some(E::TEMP_SECURITY),
    "Error: too many authentication failures",
);

/// `503 5.5.1 Command "VERB" is not allowed here: HINT`, with the verb as
/// the client wrote it (letters only, so safe to echo).
pub(crate) fn bad_sequence(verb: &str, hint: &str) -> Reply {
    Reply::owned(
        C::BAD_SEQUENCE,
        Some(E::INVALID_COMMAND),
        format!("Command \"{verb}\" is not allowed here: {hint}"),
    )
}

/// `220 <host> ESMTP mtakit` (or `LMTP`): the protocol name after the
/// host, as Postfix and Exim put it, so that scanners and clients that
/// look for it recognise the service (pymta said `Hello <ip>` instead).
pub(crate) fn greeting(host: &str, lmtp: bool) -> Reply {
    let protocol = if lmtp { "LMTP" } else { "ESMTP" };
    Reply::owned(C::SERVICE_READY, None, format!("{host} {protocol} mtakit"))
}

/// `221 <host> closing connection`.
pub(crate) fn closing(host: &str) -> Reply {
    Reply::owned(
        C::CLOSING,
        Some(E::SUCCESS),
        format!("{host} closing connection"),
    )
}

/// `421 4.4.2 <host> Error: timeout exceeded` (Postfix's text).
pub(crate) fn timeout(host: &str) -> Reply {
    Reply::owned(
        C::SERVICE_UNAVAILABLE,
        Some(E::TIMEOUT),
        format!("{host} Error: timeout exceeded"),
    )
}

/// `421 4.3.2 <host> Service shutting down`.
pub(crate) fn shutting_down(host: &str) -> Reply {
    Reply::owned(
        C::SERVICE_UNAVAILABLE,
        Some(E::SHUTTING_DOWN),
        format!("{host} Service shutting down"),
    )
}

/// `214` help: the commands in a fixed order.
pub(crate) fn help() -> Reply {
    Reply::owned(
        C::HELP,
        Some(E::SUCCESS),
        "Commands supported\nHELO EHLO MAIL RCPT DATA RSET NOOP QUIT HELP VRFY EXPN AUTH STARTTLS"
            .to_owned(),
    )
}

/// `421 4.7.0 <host> Error: too much pipelined input`: more than
/// [`MAX_PENDING_INPUT`](crate::session::MAX_PENDING_INPUT) octets arrived
/// while earlier input was still to be processed.
pub(crate) fn too_much_input(host: &str) -> Reply {
    Reply::owned(
        C::SERVICE_UNAVAILABLE,
        Some(E::TEMP_SECURITY),
        format!("{host} Error: too much pipelined input"),
    )
}
