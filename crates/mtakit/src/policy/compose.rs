//! Policies made of parts: [`policy_fn`] (one closure over the stage) and
//! [`Chain`] (two policies in turn).

use std::fmt;
use std::future::Future;

use mtakit_proto::{SessionInfo, Verdict};

use super::{Policy, Stage};

/// A policy made from a closure; see [`policy_fn`].
#[derive(Clone, Copy)]
pub struct PolicyFn<F>(F);

impl<F> fmt::Debug for PolicyFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PolicyFn")
    }
}

/// Makes a [`Policy`] of one closure, called for every [`Stage`] with the
/// session: axum's `handler_fn`, tower's `service_fn`. The closure reads
/// what it needs from its borrowed arguments and returns a future that
/// owns what it keeps (`async move { .. }`, or
/// [`std::future::ready`]).
///
/// ```
/// use mtakit::{Server, Stage, Verdict, policy_fn};
///
/// // Mail for example.com only, and nobody from 192.0.2.0/24.
/// let policy = policy_fn(|session, stage| {
///     let verdict = match stage {
///         Stage::Connect => Verdict::from(!session.peer().to_string().starts_with("192.0.2.")),
///         Stage::RcptTo { forward_path, .. } => Verdict::from(
///             forward_path
///                 .mailbox()
///                 .is_some_and(|m| m.domain().eq_ignore_ascii_case("example.com")),
///         ),
///         _ => Verdict::accept(),
///     };
///     async move { verdict }
/// });
/// let server = Server::builder().policy(policy).build();
/// # let _ = server;
/// ```
pub fn policy_fn<F, Fut>(f: F) -> PolicyFn<F>
where
    F: Fn(&SessionInfo, Stage<'_>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Verdict> + Send,
{
    PolicyFn(f)
}

impl<F, Fut> Policy for PolicyFn<F>
where
    F: Fn(&SessionInfo, Stage<'_>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Verdict> + Send,
{
    fn decide(
        &self,
        session: &SessionInfo,
        stage: Stage<'_>,
    ) -> impl Future<Output = Verdict> + Send {
        (self.0)(session, stage)
    }
}

/// Two policies in turn; from [`Policy::and_then`].
///
/// At each stage `first` decides. A verdict that does not accept (a
/// rejection, a disconnect) is final, and `second` is not asked. When
/// `first` accepts, `second` decides, and its rejection is final (closing
/// the connection after its reply if `first` asked to close). When both
/// accept, the verdicts merge:
/// - the reply is `second`'s custom reply, else `first`'s;
/// - the connection closes if either verdict closes it;
/// - the message size is the smaller of the two set;
/// - the EHLO extensions are what both offer
///   ([`Extensions::intersection`](crate::proto::Extensions::intersection));
/// - the LMTP per-recipient verdicts merge recipient by recipient, by
///   these same rules.
///
/// ```
/// use mtakit::{AcceptAll, Policy, Stage, Verdict, policy_fn};
///
/// let no_vrfy = policy_fn(|_, stage| {
///     let verdict = Verdict::from(!matches!(stage, Stage::Vrfy { .. }));
///     async move { verdict }
/// });
/// let small = policy_fn(|_, stage| {
///     let verdict = match stage {
///         Stage::Connect => Verdict::accept().with_max_message_size(1 << 20),
///         _ => Verdict::accept(),
///     };
///     async move { verdict }
/// });
/// let policy = AcceptAll.and_then(no_vrfy).and_then(small);
/// # let _ = policy;
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Chain<A, B> {
    first: A,
    second: B,
}

impl<A, B> Chain<A, B> {
    /// `first`, then `second`.
    pub fn new(first: A, second: B) -> Self {
        Self { first, second }
    }

    /// The two policies.
    pub fn into_inner(self) -> (A, B) {
        (self.first, self.second)
    }
}

impl<A: Policy, B: Policy> Policy for Chain<A, B> {
    async fn decide(&self, session: &SessionInfo, stage: Stage<'_>) -> Verdict {
        let first = self.first.decide(session, stage).await;
        if !first.is_accept() {
            return first;
        }
        let second = self.second.decide(session, stage).await;
        merge(first, second)
    }
}

/// Two accepting verdicts as one; a rejection, where there is one.
fn merge(first: Verdict, second: Verdict) -> Verdict {
    if !first.is_accept() {
        return first;
    }
    if !second.is_accept() {
        // The rejection wins; the first verdict's close still holds.
        return if first.closes() {
            second.and_close()
        } else {
            second
        };
    }
    let mut merged = match (first.recipients(), second.recipients()) {
        (None, None) => Verdict::accept(),
        (a, b) => {
            let count = a.or(b).map_or(0, <[Verdict]>::len);
            let each = |list: Option<&[Verdict]>, whole: &Verdict| match list {
                Some(list) => list.to_vec(),
                None => vec![whole.clone(); count],
            };
            let (a, b) = (each(a, &first), each(b, &second));
            Verdict::each(a.into_iter().zip(b).map(|(a, b)| merge(a, b)))
        }
    };
    // A per-recipient verdict's own reply is not used.
    if merged.recipients().is_none()
        && let Some(reply) = second.reply().or(first.reply())
    {
        merged = Verdict::accept_with(reply.clone());
    }
    if first.closes() || second.closes() {
        merged = merged.and_close();
    }
    let size = match (first.max_message_size(), second.max_message_size()) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    if let Some(size) = size {
        merged = merged.with_max_message_size(size);
    }
    let extensions = match (first.extensions(), second.extensions()) {
        (Some(a), Some(b)) => Some(a.intersection(b)),
        (a, b) => a.or(b).cloned(),
    };
    if let Some(extensions) = extensions {
        merged = merged.with_extensions(extensions);
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::merge;
    use mtakit_proto::{Reply, Verdict};

    fn full() -> Reply {
        "452 4.2.2 Mailbox full".parse().unwrap()
    }

    #[test]
    fn lmtp_verdicts_merge_recipient_by_recipient() {
        let first = Verdict::each([Verdict::accept(), Verdict::accept()]);
        let second = Verdict::each([Verdict::accept(), Verdict::reject_with(full())]);
        let merged = merge(first, second);
        assert_eq!(
            merged.recipients().unwrap(),
            [Verdict::accept(), Verdict::reject_with(full())]
        );
        // One verdict for all against a list: it applies to each recipient.
        let merged = merge(
            Verdict::accept().and_close(),
            Verdict::each([Verdict::accept(), Verdict::reject()]),
        );
        let each = merged.recipients().unwrap();
        assert!(each[0].is_accept() && each[0].closes());
        assert!(!each[1].is_accept());
    }

    #[test]
    fn the_smaller_size_and_the_second_reply_win() {
        let ok: Reply = "250 2.1.5 Fine".parse().unwrap();
        let merged = merge(
            Verdict::accept().with_max_message_size(10),
            Verdict::accept_with(ok.clone()).with_max_message_size(20),
        );
        assert_eq!(merged.max_message_size(), Some(10));
        assert_eq!(merged.reply(), Some(&ok));
        assert!(merged.is_accept() && !merged.closes());
        // A later rejection wins, and keeps an earlier close.
        let merged = merge(Verdict::accept().and_close(), Verdict::reject());
        assert!(!merged.is_accept() && merged.closes());
    }
}
