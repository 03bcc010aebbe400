//! Browser sessions (Okta's Sessions API): created from a one-time session token or by the
//! sign-in page, named by an Okta id in the API and by a separate secret in the `sid` cookie.

use crate::engine::system_log::Event;
use crate::engine::{Error, Result};
use crate::model::{LogActor, PlainToken, Session, SessionId, Timestamp, User};
use crate::store;

use super::SignIn;

/// A new session and the secret for its `sid` cookie, handed out once.
#[derive(Debug)]
pub struct NewSession {
    /// The session.
    pub session: Session,
    /// The `sid` cookie's value.
    pub cookie: PlainToken,
    /// Whose session, as read when it started (boxed: a new session travels inside results
    /// that are otherwise small).
    pub user: Box<User>,
}

impl SignIn {
    /// Redeems a one-time session token for a session. The token works once; a user who has
    /// since been locked out or deactivated gets no session.
    #[tracing::instrument(skip_all)]
    pub async fn create_session(&self, session_token: &PlainToken) -> Result<NewSession> {
        let now = self.now();
        let grant = self
            .store
            .consume_session_token(&session_token.hash(), now)
            .await?
            .ok_or(Error::AuthenticationFailed)?;
        let user = match self.store.get_user(&grant.user_id).await {
            Ok(user) => user,
            Err(store::Error::NotFound) => return Err(Error::AuthenticationFailed),
            Err(err) => return Err(err.into()),
        };
        if !user.may_sign_in(now) {
            tracing::warn!(user.id = %user.id, "session token refused: the user may no longer sign in");
            return Err(Error::AuthenticationFailed);
        }
        self.start_session(user, grant.auth_time, grant.amr).await
    }

    /// Starts a session for a user who has just proven who they are.
    pub(super) async fn start_session(
        &self,
        user: User,
        auth_time: Timestamp,
        amr: Vec<String>,
    ) -> Result<NewSession> {
        let now = self.now();
        let max_expires_at = now.plus(self.settings.session_max_lifetime);
        let session = Session {
            id: SessionId::generate(),
            user_id: user.id.clone(),
            login: user.login.clone(),
            created_at: now,
            expires_at: now
                .plus(self.settings.session_idle_lifetime)
                .min(max_expires_at),
            max_expires_at,
            last_password_verification: auth_time,
            amr,
        };
        let cookie = PlainToken::generate();
        self.store.insert_session(&session, &cookie.hash()).await?;
        tracing::info!(user.id = %session.user_id, session.id = %session.id, "session created");
        Ok(NewSession {
            session,
            cookie,
            user: Box::new(user),
        })
    }

    /// An active session by id.
    pub async fn session(&self, id: &SessionId) -> Result<Session> {
        self.store
            .get_session(id, self.now())
            .await?
            .ok_or_else(|| session_not_found(id.as_str()))
    }

    /// The active session a `sid` cookie names.
    pub async fn session_for_cookie(&self, cookie: &PlainToken) -> Result<Session> {
        Ok(self.session_and_user_for_cookie(cookie).await?.0)
    }

    /// The unexpired session the `sid` cookie names, with its user, read together.
    pub async fn session_and_user_for_cookie(
        &self,
        cookie: &PlainToken,
    ) -> Result<(Session, User)> {
        self.store
            .get_session_by_cookie(&cookie.hash(), self.now())
            .await?
            .ok_or_else(|| session_not_found("me"))
    }

    /// Extends an active session by the idle lifetime, up to its absolute limit.
    pub async fn refresh_session(&self, id: &SessionId) -> Result<Session> {
        let now = self.now();
        self.store
            .refresh_session(id, now, now.plus(self.settings.session_idle_lifetime))
            .await?
            .ok_or_else(|| session_not_found(id.as_str()))
    }

    /// Ends an active session.
    pub async fn end_session(&self, id: &SessionId) -> Result<()> {
        let now = self.now();
        let ending = self.store.get_session(id, now).await?;
        if self.store.delete_session(id, now).await? {
            tracing::info!(session.id = %id, "session ended");
            if let Some(session) = ending {
                let user = LogActor::new(
                    session.user_id.as_str(),
                    "User",
                    session.login.as_str(),
                    session.login.as_str(),
                );
                self.log
                    .record(
                        Event::new("user.session.end", "User logout from Okta", user.clone())
                            .target(user)
                            .session(session.id.as_str()),
                    )
                    .await;
            }
            Ok(())
        } else {
            Err(session_not_found(id.as_str()))
        }
    }
}

fn session_not_found(id: &str) -> Error {
    Error::NotFound {
        kind: "Session",
        id: id.to_owned(),
    }
}
