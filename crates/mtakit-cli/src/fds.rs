//! File descriptors for `mtakit serve`: every SMTP session, HTTP
//! connection and delivery (a Maildir file, a relay connection) holds one,
//! and when they run out a new SMTP client gets no greeting and a Maildir
//! delivery fails. At start-up the soft `RLIMIT_NOFILE` is raised to the
//! hard limit, and the two connection caps are fitted into what remains
//! after [`FD_RESERVE`].

/// Descriptors kept for everything that is not a connection: listeners,
/// stdio, the runtime, `--events`, and the files and relay connections of
/// deliveries in flight.
pub(crate) const FD_RESERVE: u64 = 64;
/// The HTTP cap is never shrunk below this, so the UI stays usable.
pub(crate) const MIN_HTTP_CONNECTIONS: usize = 16;

/// Raises the soft limit on open files to the hard limit, and returns the
/// soft limit in force afterwards (`None` when unlimited or unknown).
#[cfg(unix)]
pub(crate) fn raise_nofile_limit() -> Option<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let now = getrlimit(Resource::Nofile);
    if now.current != now.maximum {
        let raised = Rlimit {
            current: now.maximum,
            maximum: now.maximum,
        };
        // Some systems refuse an unlimited soft limit; keep the old one.
        if let Err(e) = setrlimit(Resource::Nofile, raised) {
            tracing::debug!(error = %e, "cannot raise the open-files limit");
        }
    }
    getrlimit(Resource::Nofile).current
}

/// Without `getrlimit`, nothing to raise or check.
#[cfg(not(unix))]
pub(crate) fn raise_nofile_limit() -> Option<u64> {
    None
}

/// The SMTP and HTTP connection caps that fit in `limit` descriptors with
/// [`FD_RESERVE`] to spare. When both fit they are returned unchanged;
/// otherwise the HTTP cap gives way first (down to
/// [`MIN_HTTP_CONNECTIONS`]), then the SMTP cap. `http` is 0 without the
/// HTTP API.
pub(crate) fn fit_caps(limit: u64, smtp: usize, http: usize) -> (usize, usize) {
    let available = usize::try_from(limit.saturating_sub(FD_RESERVE)).unwrap_or(usize::MAX);
    if smtp.saturating_add(http) <= available {
        return (smtp, http);
    }
    let http = http.min(MIN_HTTP_CONNECTIONS.max(available.saturating_sub(smtp)));
    let smtp = smtp.min(available.saturating_sub(http)).max(1);
    (smtp, http)
}

/// Raises the limit and fits the caps, with a warning when they shrink.
pub(crate) fn budget(smtp: usize, http: usize) -> (usize, usize) {
    let Some(limit) = raise_nofile_limit() else {
        return (smtp, http);
    };
    let (fit_smtp, fit_http) = fit_caps(limit, smtp, http);
    if (fit_smtp, fit_http) != (smtp, http) {
        tracing::warn!(
            open_files = limit,
            max_connections = fit_smtp,
            http_max_connections = fit_http,
            "the open-files limit is too low for --max-connections {smtp} and \
             --http-max-connections {http} (plus {FD_RESERVE} in reserve); the caps \
             were lowered to fit: raise `ulimit -n` to keep them"
        );
    }
    (fit_smtp, fit_http)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_that_fit_are_kept() {
        assert_eq!(fit_caps(1_048_576, 1000, 128), (1000, 128));
        assert_eq!(fit_caps(1000 + 128 + FD_RESERVE, 1000, 128), (1000, 128));
        assert_eq!(fit_caps(4096, 1000, 0), (1000, 0));
    }

    #[test]
    fn http_gives_way_first_then_smtp() {
        // The usual soft and hard limit of 1024: the default caps do not fit.
        let (smtp, http) = fit_caps(1024, 1000, 128);
        assert_eq!(http, MIN_HTTP_CONNECTIONS);
        assert_eq!(smtp, 1024 - 64 - MIN_HTTP_CONNECTIONS);
        assert!(smtp as u64 + http as u64 + FD_RESERVE <= 1024);
        // Only HTTP has to shrink.
        assert_eq!(fit_caps(1200, 1000, 256), (1000, 136));
        // A tiny limit still leaves one SMTP session.
        assert_eq!(fit_caps(10, 1000, 128), (1, MIN_HTTP_CONNECTIONS));
    }

    #[test]
    fn the_soft_limit_is_raised_to_the_hard_one() {
        let limit = raise_nofile_limit();
        #[cfg(unix)]
        {
            let now = rustix::process::getrlimit(rustix::process::Resource::Nofile);
            assert_eq!(now.current, now.maximum);
            assert_eq!(limit, now.current);
        }
        #[cfg(not(unix))]
        assert_eq!(limit, None);
    }
}
