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
    RateLimited(crate::engine::sign_in::rate_limit::RateInfo),
    /// RFC 6749 §5.2 `invalid_request`: a parameter is missing, repeated or malformed.
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    /// RFC 6749 §5.2 `invalid_client`: client authentication failed.
    #[error("invalid_client: {reason}")]
    InvalidClient {
        /// What failed, for `error_description`.
        reason: String,
        /// The client tried HTTP Basic, so the answer needs `WWW-Authenticate`.
        used_basic: bool,
    },
    /// RFC 6749 §5.2 `invalid_grant`: the code, refresh token or password is not valid.
    #[error("invalid_grant: {0}")]
    InvalidGrant(String),
    /// RFC 6749 §5.2 `unauthorized_client`: the client may not use this grant.
    #[error("unauthorized_client: {0}")]
    UnauthorizedClient(String),
    /// RFC 6749 §5.2 `unsupported_grant_type`.
    #[error("unsupported_grant_type: {0}")]
    UnsupportedGrantType(String),
    /// RFC 6749 §5.2 `invalid_scope`.
    #[error("invalid_scope: {0}")]
    InvalidScope(String),
    /// RFC 6749 §4.1.2.1 `unsupported_response_type`.
    #[error("unsupported_response_type: {0}")]
    UnsupportedResponseType(String),
    /// RFC 6749 §4.1.2.1 `access_denied`.
    #[error("access_denied: {0}")]
    AccessDenied(String),
    /// OIDC Core §3.1.2.6 `login_required`: `prompt=none` and no usable session.
    #[error("login_required: {0}")]
    LoginRequired(String),
    /// RFC 6750 §3.1 `invalid_token`: a bearer token that is missing, malformed, expired,
    /// revoked or for another audience.
    #[error("invalid_token: {0}")]
    InvalidAccessToken(String),
    /// RFC 6750 §3.1 `insufficient_scope`.
    #[error("insufficient_scope: {0}")]
    InsufficientScope(String),
    /// Okta refuses the operation on this object, with its own code: `E0000006` (a group
    /// Okta manages), `E0000046` (an app user a group assigns), `E0000060` (`Everyone`'s
    /// members).
    #[error("{summary}")]
    Refused {
        /// Okta's `errorCode`.
        code: &'static str,
        /// Okta's `errorSummary`.
        summary: String,
        /// The one cause, if Okta gives one.
        cause: Option<String>,
    },
    /// A groups claim matches more groups than Okta's 100: the token request fails, as
    /// Okta's does.
    #[error("the groups claim matched too many groups")]
    TooManyGroups,
    /// The database did not answer in time: try again later (503).
    #[error("the database is unavailable")]
    Unavailable,
    /// The database answers but cannot be written (read-only, full): try again later (503).
    #[error("the database cannot be written")]
    Unwritable,
    /// A failure that is not the caller's fault.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    /// Nothing if a spec's rules found no problem, else a validation error naming each.
    pub fn refuse(problems: Vec<String>) -> Result<(), Error> {
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(problems))
        }
    }
}

impl Error {
    /// The RFC 6749 / RFC 6750 / OIDC `error` code and `error_description` this error is
    /// answered with, at the token, introspection and revocation endpoints and on the redirect
    /// of an authorization request alike: the one place that decides them.
    pub fn oauth_error(&self) -> (&'static str, String) {
        match self {
            Error::InvalidRequest(d) => ("invalid_request", d.clone()),
            Error::Validation(causes) => ("invalid_request", causes.join("; ")),
            Error::InvalidClient { reason, .. } => ("invalid_client", reason.clone()),
            Error::InvalidGrant(d) => ("invalid_grant", d.clone()),
            Error::UnauthorizedClient(d) => ("unauthorized_client", d.clone()),
            Error::UnsupportedGrantType(d) => ("unsupported_grant_type", d.clone()),
            Error::InvalidScope(d) => ("invalid_scope", d.clone()),
            Error::UnsupportedResponseType(d) => ("unsupported_response_type", d.clone()),
            Error::AccessDenied(d) => ("access_denied", d.clone()),
            Error::LoginRequired(d) => ("login_required", d.clone()),
            Error::InvalidAccessToken(d) => ("invalid_token", d.clone()),
            Error::InsufficientScope(d) => ("insufficient_scope", d.clone()),
            Error::NotFound { .. } | Error::OperationNotAllowed | Error::Refused { .. } => {
                ("invalid_request", self.to_string())
            }
            Error::CredentialsUpdateFailed(_) => ("invalid_request", self.to_string()),
            Error::AuthenticationFailed | Error::InvalidToken => {
                ("invalid_grant", self.to_string())
            }
            Error::RateLimited(_) => ("slow_down", self.to_string()),
            Error::TooManyGroups => (
                "server_error",
                "The groups claim matched too many groups and must be configured to match fewer \
                 groups."
                    .to_owned(),
            ),
            Error::Unavailable => (
                "temporarily_unavailable",
                "The server cannot reach its database; try again later.".to_owned(),
            ),
            Error::Unwritable => (
                "temporarily_unavailable",
                "The server cannot save changes right now (its database is read-only or full); \
                 try again later."
                    .to_owned(),
            ),
            // Nothing about the cause reaches the client; it is logged where it is answered.
            Error::Internal(_) => (
                "server_error",
                "The server encountered an internal error.".to_owned(),
            ),
        }
    }
}

/// Results of engine operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<crate::store::Error> for Error {
    fn from(err: crate::store::Error) -> Self {
        match err {
            crate::store::Error::Unavailable(_) => Error::Unavailable,
            crate::store::Error::Unwritable(_) => Error::Unwritable,
            other => Error::Internal(Box::new(other)),
        }
    }
}

impl From<crate::keys::Error> for Error {
    fn from(err: crate::keys::Error) -> Self {
        Error::Internal(Box::new(err))
    }
}

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn a_failure_of_the_server_reads_the_same_everywhere_and_tells_nothing_of_its_cause() {
        let internal = Error::Internal("secret detail: connection to 10.0.0.5 refused".into());
        let (code, description) = internal.oauth_error();
        assert_eq!(code, "server_error");
        assert!(!description.contains("10.0.0.5"), "{description}");
        for unavailable in [Error::Unavailable, Error::Unwritable] {
            assert_eq!(unavailable.oauth_error().0, "temporarily_unavailable");
        }
        assert_eq!(
            Error::InvalidClient {
                reason: "The client secret is wrong.".into(),
                used_basic: true
            }
            .oauth_error(),
            ("invalid_client", "The client secret is wrong.".to_owned())
        );
    }
}
