use super::{AuthServerId, ClientId, ScopeSet, SessionId, Timestamp, UserId};

wire_enum!(
    /// How a PKCE verifier is checked against the challenge (RFC 7636 §4.2).
    CodeChallengeMethod, "code challenge method" {
        /// BASE64URL(SHA256(verifier)).
        S256 = "S256",
        /// The verifier itself; only for apps that opt in.
        Plain = "plain",
    }
);

/// Who a grant was made for and what it allows: shared by codes and refresh tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantContext {
    /// Groups every token issued from one authorization; revoking it revokes them all.
    pub grant_id: String,
    /// The authorization server.
    pub auth_server_id: AuthServerId,
    /// The client.
    pub client_id: ClientId,
    /// The user; `None` only for client credentials, which never store a grant.
    pub user_id: UserId,
    /// Granted scopes.
    pub scopes: ScopeSet,
    /// When the user authenticated.
    pub auth_time: Timestamp,
    /// How the user authenticated.
    pub amr: Vec<String>,
    /// The browser session the grant came from, if any.
    pub session_id: Option<SessionId>,
}

/// An authorization code as stored (by hash), bound to everything the token request must
/// repeat (RFC 6749 §4.1.3, RFC 7636).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    /// The grant it starts.
    pub grant: GrantContext,
    /// The exact `redirect_uri` of the authorization request.
    pub redirect_uri: String,
    /// The request's `nonce`, for the ID token.
    pub nonce: Option<String>,
    /// PKCE challenge and method, if the request had one.
    pub code_challenge: Option<(String, CodeChallengeMethod)>,
    /// When it stops working.
    pub expires_at: Timestamp,
}

/// A refresh token as stored (by hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    /// The grant (family) it belongs to.
    pub grant: GrantContext,
    /// When it was issued.
    pub created_at: Timestamp,
    /// When it expires unused (idle limit).
    pub expires_at: Timestamp,
    /// When its family expires however it is used (absolute limit).
    pub family_expires_at: Timestamp,
}

/// What presenting a single-use artefact (a code, a refresh token) finds, before anything is
/// spent: the caller checks it, then spends it in the same transaction that stores what it
/// issues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presented<T> {
    /// Valid and unused.
    Usable(T),
    /// Already used, or its family revoked: a replay. Carries the grant to revoke.
    Used {
        /// The grant it belongs to.
        grant_id: String,
    },
    /// Unknown or expired.
    Invalid,
}

impl<T> Presented<T> {
    /// The artefact, if it may be used.
    pub fn usable(self) -> Option<T> {
        match self {
            Presented::Usable(found) => Some(found),
            Presented::Used { .. } | Presented::Invalid => None,
        }
    }
}
