//! The [`Authenticator`] trait and two ready implementations.

use std::collections::HashMap;
use std::fmt;
use std::future::{Future, ready};

use mtakit_proto::{Credentials, Mechanism, Reply, SessionInfo};

/// The outcome of checking credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthResult {
    /// The credentials are valid: `235 2.7.0`.
    Success,
    /// They are not: `535 5.7.8`, counted towards the failure limit.
    Failure,
    /// They could not be checked now; this reply is sent instead (for
    /// example `454 4.7.0 Temporary authentication failure`).
    Error(Reply),
}

impl From<bool> for AuthResult {
    fn from(ok: bool) -> Self {
        if ok { Self::Success } else { Self::Failure }
    }
}

/// Checks AUTH credentials. This is pymta's `IAuthenticator`, made async.
///
/// After a failed AUTH the session is not authenticated, and the client
/// may try again (pymta's worst bug, fixed).
pub trait Authenticator: Send + Sync + 'static {
    /// The mechanisms to offer; empty means AUTH is not available. The
    /// default offers PLAIN and LOGIN.
    fn mechanisms(&self) -> Vec<Mechanism> {
        vec![Mechanism::Plain, Mechanism::Login]
    }

    /// Checks `credentials` for the client in `session`. Accepting
    /// credentials whose [`authzid`](Credentials::authzid) differs from the
    /// username lets that user act as the authzid (RFC 4616 §2); refuse
    /// them unless the user may. The session then records both.
    fn authenticate(
        &self,
        credentials: &Credentials,
        session: &SessionInfo,
    ) -> impl Future<Output = AuthResult> + Send;
}

/// No authenticator: AUTH is neither advertised nor accepted.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoAuth;

impl Authenticator for NoAuth {
    fn mechanisms(&self) -> Vec<Mechanism> {
        Vec::new()
    }

    fn authenticate(
        &self,
        _: &Credentials,
        _: &SessionInfo,
    ) -> impl Future<Output = AuthResult> + Send {
        ready(AuthResult::Failure)
    }
}

/// No authenticator for `None`: AUTH is neither advertised nor accepted,
/// as with [`NoAuth`]. For an authenticator chosen at run time:
///
/// ```
/// use mtakit::{Server, UserTable};
///
/// let users: Vec<(String, String)> = Vec::new(); // from the command line, say
/// let auth = (!users.is_empty()).then(|| {
///     users.iter().fold(UserTable::new(), |t, (u, p)| t.with_user(u, p))
/// });
/// let server = Server::builder().authenticator(auth).build();
/// assert!(server.config().auth_mechanisms.is_empty());
/// ```
impl<A: Authenticator> Authenticator for Option<A> {
    fn mechanisms(&self) -> Vec<Mechanism> {
        self.as_ref().map_or_else(Vec::new, A::mechanisms)
    }

    fn authenticate(
        &self,
        credentials: &Credentials,
        session: &SessionInfo,
    ) -> impl Future<Output = AuthResult> + Send {
        let checking = self.as_ref().map(|a| a.authenticate(credentials, session));
        async move {
            match checking {
                Some(checking) => checking.await,
                None => AuthResult::Failure,
            }
        }
    }
}

/// Checks user names and passwords against a fixed table. It offers
/// PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER; for the token mechanisms the
/// bearer token is checked as the user's password, so OAuth clients can be
/// tested with a known token.
///
/// ```
/// use mtakit::UserTable;
///
/// let users = UserTable::new().with_user("alice", "secret");
/// assert!(users.check("alice", "secret"));
/// assert!(!users.check("alice", "wrong"));
/// ```
#[derive(Clone, Default)]
pub struct UserTable {
    users: HashMap<String, String>,
}

impl UserTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a user.
    pub fn with_user(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.insert(username, password);
        self
    }

    /// Adds or replaces a user.
    pub fn insert(&mut self, username: impl Into<String>, password: impl Into<String>) {
        self.users.insert(username.into(), password.into());
    }

    /// True when `username` exists with this password. The comparison
    /// takes the same time wherever the passwords differ.
    pub fn check(&self, username: &str, password: &str) -> bool {
        self.users
            .get(username)
            .is_some_and(|p| constant_time_eq(p.as_bytes(), password.as_bytes()))
    }

    /// True when the credentials' user exists with this password (or, for
    /// XOAUTH2 and OAUTHBEARER, this bearer token) and asks to act as no one
    /// else: an authzid other than the username is refused, since the
    /// table grants no user the right to act as another (RFC 4616 §2).
    ///
    /// ```
    /// use mtakit::UserTable;
    /// use mtakit::proto::{Credentials, Mechanism};
    ///
    /// let users = UserTable::new().with_user("u", "p");
    /// let plain = |authzid: Option<&str>| Credentials::Password {
    ///     mechanism: Mechanism::Plain,
    ///     authzid: authzid.map(str::to_owned),
    ///     username: "u".to_owned(),
    ///     password: "p".to_owned(),
    /// };
    /// assert!(users.verify(&plain(None)));
    /// assert!(users.verify(&plain(Some("u"))));
    /// assert!(!users.verify(&plain(Some("admin"))));
    /// ```
    pub fn verify(&self, credentials: &Credentials) -> bool {
        let own = credentials
            .authzid()
            .is_none_or(|authzid| authzid.is_empty() || authzid == credentials.username());
        own && self.check(credentials.username(), credentials.password())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl fmt::Debug for UserTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&String> = self.users.keys().collect();
        names.sort();
        f.debug_struct("UserTable").field("users", &names).finish()
    }
}

impl Authenticator for UserTable {
    fn mechanisms(&self) -> Vec<Mechanism> {
        vec![
            Mechanism::Plain,
            Mechanism::Login,
            Mechanism::XOAuth2,
            Mechanism::OAuthBearer,
        ]
    }

    fn authenticate(
        &self,
        credentials: &Credentials,
        _: &SessionInfo,
    ) -> impl Future<Output = AuthResult> + Send {
        ready(self.verify(credentials).into())
    }
}

/// An authenticator made from a synchronous function; see [`auth_fn`].
#[derive(Clone, Copy)]
pub struct AuthFn<F>(F);

/// Wraps a function as an [`Authenticator`].
///
/// ```
/// // pymta's DummyAuthenticator: accept when user name and password match.
/// let auth = mtakit::auth_fn(|c| c.username() == c.password());
/// # let _ = auth;
/// ```
pub fn auth_fn<F>(f: F) -> AuthFn<F>
where
    F: Fn(&Credentials) -> bool + Send + Sync + 'static,
{
    AuthFn(f)
}

impl<F> fmt::Debug for AuthFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthFn")
    }
}

impl<F> Authenticator for AuthFn<F>
where
    F: Fn(&Credentials) -> bool + Send + Sync + 'static,
{
    fn authenticate(
        &self,
        credentials: &Credentials,
        _: &SessionInfo,
    ) -> impl Future<Output = AuthResult> + Send {
        ready((self.0)(credentials).into())
    }
}
