//! One module per grant, each citing its RFC section. They share [`OAuth::issue`]: the
//! access token, and the ID and refresh tokens where the grant and scopes call for them.

mod authorization_code;
mod client_credentials;
mod password;
mod refresh_token;

use crate::model::{
    AuthServer, Client, GrantContext, GrantType, PlainToken, PolicyUser, RefreshTokenRecord,
    Timestamp, TokenHash, User,
};

use super::mint::Subject;
use super::token::TokenSet;
use super::OAuth;
use crate::engine::{Error, Result};

/// What [`OAuth::issue`] needs beyond the grant.
pub(crate) struct Issue<'a> {
    pub server: &'a AuthServer,
    /// The grant the client used, which the server's policies must allow.
    pub grant_type: GrantType,
    pub client: &'a Client,
    pub user: &'a User,
    pub grant: &'a GrantContext,
    pub nonce: Option<&'a str>,
    /// When refreshing: the family's grant (its full scope) and absolute end. A new family
    /// starts otherwise.
    pub family: Option<(&'a GrantContext, Timestamp)>,
}

/// Whether a grant's sign-in predates the end of the user's earlier access (a deactivation,
/// suspension or password change): what it started stays ended. (An app's deactivation
/// revokes its families and codes by row: a user's earlier sign-in may start new grants for
/// the reactivated app.)
fn outlived(grant: &GrantContext, user: &User) -> bool {
    user.predates_revocation(grant.auth_time)
}

/// Tokens minted for a grant, with the refresh token among them still to be stored: by whatever
/// spends the artefact the client presented (a code, a refresh token), in the same transaction,
/// so that a failure spends nothing and stores nothing.
pub(crate) struct Issued {
    pub tokens: TokenSet,
    refresh: Option<(TokenHash, RefreshTokenRecord)>,
}

impl Issued {
    /// The refresh token to store, if one was issued.
    pub fn refresh_token(&self) -> Option<(&TokenHash, &RefreshTokenRecord)> {
        self.refresh.as_ref().map(|(hash, record)| (hash, record))
    }

    /// The tokens with `kept` as their refresh token instead of a new one (a `STATIC` token,
    /// or a rotated token's successor handed out again within the leeway).
    pub fn keeping_refresh_token(self, kept: String) -> TokenSet {
        TokenSet {
            refresh_token: Some(kept),
            ..self.tokens
        }
    }
}

impl OAuth {
    /// Access token; ID token when `openid` is granted; refresh token when `offline_access`
    /// is granted and the client may use the refresh grant (never for implicit flows). Nothing
    /// is stored: see [`Issued`].
    pub(crate) async fn issue(&self, issue: Issue<'_>) -> Result<Issued> {
        if !self.is_assigned(issue.client, issue.user).await? {
            return Err(Error::InvalidGrant(super::NOT_ASSIGNED.to_owned()));
        }
        let inputs = self
            .claim_inputs(
                issue.server,
                issue.client,
                Some(issue.user),
                &issue.grant.scopes,
            )
            .await?;
        let group_ids = inputs.group_ids();
        let governed = crate::engine::oauth::governance::govern(
            issue.server,
            issue.client,
            issue.grant_type,
            &issue.grant.scopes,
            Some(PolicyUser {
                id: issue.user.id.as_str(),
                group_ids: &group_ids,
            }),
        )?;
        let server = &governed.server;
        let subject = Subject {
            server,
            client: issue.client,
            user: Some(issue.user),
            scopes: &issue.grant.scopes,
            auth_time: Some(issue.grant.auth_time),
            grant_id: &issue.grant.grant_id,
            inputs: &inputs,
        };
        let access = self.mint_access_token(&subject).await?;
        let id_token = if issue.grant.scopes.contains("openid") {
            Some(
                self.mint_id_token(
                    &subject,
                    &issue.grant.amr,
                    issue.nonce,
                    Some(&access.token),
                    None,
                )
                .await?,
            )
        } else {
            None
        };
        let now = self.now();
        let lifetimes = self.lifetimes.of(server);
        let (family_grant, family_expires_at) = issue
            .family
            .unwrap_or((issue.grant, now.plus(lifetimes.refresh_token_max_lifetime)));
        let refresh = (family_grant.scopes.contains("offline_access")
            && issue.client.grant_types.contains(&GrantType::RefreshToken))
        .then(|| {
            let token = PlainToken::generate();
            let record = RefreshTokenRecord {
                grant: family_grant.clone(),
                created_at: now,
                expires_at: now
                    .plus(lifetimes.refresh_token_idle_lifetime)
                    .min(family_expires_at),
                family_expires_at,
            };
            (token, record)
        });
        Ok(Issued {
            tokens: TokenSet {
                access_token: access.token,
                expires_in: access.expires_in,
                scope: issue.grant.scopes.clone(),
                id_token,
                refresh_token: refresh.as_ref().map(|(token, _)| token.expose().to_owned()),
            },
            refresh: refresh.map(|(token, record)| (token.hash(), record)),
        })
    }

    /// Revokes everything a grant issued, and anything of its family stored later, for as long
    /// as any token of the server (under any of its rules) can live.
    pub(crate) async fn revoke_grant(&self, server: &AuthServer, grant_id: &str) -> Result<()> {
        let lifetimes = self.lifetimes.of(server);
        let rules = server
            .policies
            .iter()
            .flat_map(|policy| &policy.rules)
            .flat_map(|rule| {
                [
                    rule.access_token_lifetime_minutes,
                    rule.refresh_token_lifetime_minutes,
                ]
            })
            .flatten()
            .map(|minutes| std::time::Duration::from_secs(minutes.saturating_mul(60)));
        let longest = rules
            .chain([
                lifetimes.refresh_token_max_lifetime,
                lifetimes.access_token_lifetime,
            ])
            .max()
            .unwrap_or(lifetimes.refresh_token_max_lifetime);
        let until = self.now().plus(longest);
        Ok(self.store.revoke_grant(grant_id, until).await?)
    }

    /// A presented code or refresh token that was used (or is of a revoked family): a replay,
    /// which revokes everything its grant issued (RFC 6749 §4.1.2, RFC 9700 §4.14.2).
    async fn replayed(
        &self,
        server: &AuthServer,
        client: &Client,
        grant_id: &str,
        what: &str,
    ) -> Result<()> {
        tracing::warn!(client.id = %client.id, "{what} used again; revoking its grant");
        let event_type = if what.contains("refresh") {
            "app.oauth2.as.token.detect_reuse"
        } else {
            "app.oauth2.as.authorize.code.detect_reuse"
        };
        self.log
            .record(
                crate::engine::system_log::Event::new(
                    event_type,
                    format!("A {what} was used again: every token of its grant is revoked"),
                    crate::model::LogActor::client(client),
                )
                .outcome("DENY", Some("REUSED_TOKEN".to_owned()))
                .target(crate::model::LogActor::auth_server(server))
                .debug("grantId", grant_id),
            )
            .await;
        self.revoke_grant(server, grant_id).await
    }
}
