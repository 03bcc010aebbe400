/// What the engine reports to the layer that called it. Variants carry protocol meaning; the
/// HTTP layer maps each to its wire shape.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The named object does not exist (or is not active).
    #[error("{kind} not found: {id}")]
    NotFound {
        /// What kind of object, as Okta names it (`AuthorizationServer`, `User`, …).
        kind: &'static str,
        /// The id or name that was looked up.
        id: String,
    },
    /// A request or seed value is invalid; each cause names a field.
    #[error("invalid: {}", .0.join("; "))]
    Validation(Vec<String>),
    /// Wrong credentials, unknown user, a user who may not sign in, or a bad session token:
    /// deliberately indistinguishable.
    #[error("authentication failed")]
    AuthenticationFailed,
    /// A state token that is unknown, used or expired.
    #[error("invalid or expired state token")]
    InvalidToken,
    /// The transaction is not at a state that allows the operation.
    #[error("operation not allowed in the current authentication state")]
    OperationNotAllowed,
    /// A password change was refused; each cause names the field.
    #[error("credentials update failed: {}", .0.join("; "))]
    CredentialsUpdateFailed(Vec<String>),
    /// Too many requests; retry after the window resets.
    #[error("rate limit exceeded")]
    RateLimited(crate::engine::rate_limit::RateInfo),
    /// A failure that is not the caller's fault.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Results of engine operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<crate::store::Error> for Error {
    fn from(err: crate::store::Error) -> Self {
        Error::Internal(Box::new(err))
    }
}

impl From<crate::keys::Error> for Error {
    fn from(err: crate::keys::Error) -> Self {
        Error::Internal(Box::new(err))
    }
}
