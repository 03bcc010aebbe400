//! Okta's Authentication API as a state machine: primary authentication with a password, then
//! either SUCCESS (a one-time session token) or a transaction that waits at a state
//! ([`TransactionState`]) named by a state token. MFA states join as new `TransactionState`
//! variants with their own transitions; nothing here needs rewriting for them.

use std::net::IpAddr;

use secrecy::{ExposeSecret, SecretString};

use crate::engine::system_log::Event;
use crate::engine::{Error, Result};
use crate::model::{
    LogActor, PendingAuthn, PlainToken, SessionTokenGrant, Timestamp, TransactionState, User,
    UserId, UserStatus,
};
use crate::store;

use super::rate_limit::{self, RateInfo};
use super::SignIn;

/// `POST /api/v1/authn` with a username and password.
#[derive(Debug)]
pub struct PrimaryAuthentication {
    /// The attempt, counted against the sign-in limits.
    pub permit: SignInPermit,
    /// The login.
    pub username: String,
    /// The password.
    pub password: SecretString,
    /// Echoed back in every response of the transaction.
    pub relay_state: Option<String>,
    /// Whether the client wants PASSWORD_WARN before expiry.
    pub warn_before_password_expired: bool,
}

/// How a sign-in on the hosted page ended.
#[derive(Debug)]
pub enum PageSignIn {
    /// Signed in: the new session and its cookie.
    SignedIn(super::sessions::NewSession),
    /// The password was right but the user may not sign in now (locked out, or the password
    /// expired): the status says why.
    Refused(AuthnStatus),
}

/// Where a transaction stands after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthnStatus {
    /// Done: a session token was issued.
    Success,
    /// The password expires soon; change it or skip.
    PasswordWarn,
    /// The password has expired; change it.
    PasswordExpired,
    /// Too many failed passwords. Shown to the client only when configured.
    LockedOut,
    /// A recovery token was accepted; set a new password.
    PasswordReset,
}

/// How long a reset link from an administrator works: Okta's default for recovery tokens.
pub const RECOVERY_TOKEN_LIFETIME: std::time::Duration = std::time::Duration::from_secs(3600);

/// A token handed out once.
#[derive(Debug)]
pub struct Issued {
    /// The token.
    pub token: PlainToken,
    /// When it stops working.
    pub expires_at: Timestamp,
}

/// The result of a step of an authentication transaction.
#[derive(Debug)]
pub struct AuthnResult {
    /// Where the transaction stands.
    pub status: AuthnStatus,
    /// The user signing in; `None` when locked out.
    pub user: Option<User>,
    /// On SUCCESS: the one-time session token.
    pub session_token: Option<Issued>,
    /// When waiting at a state: the state token.
    pub state_token: Option<Issued>,
    /// The client's relay state.
    pub relay_state: Option<String>,
    /// On PASSWORD_WARN: whole days until the password expires.
    pub password_expire_days: Option<u64>,
}

/// Proof that a sign-in attempt was counted against the per-IP and per-username limits. Only
/// [`SignIn::check_sign_in_rate`] makes one and every password check consumes one, so no path
/// that checks a password (the Authentication API, the sign-in page, the password grant) can
/// skip the limits.
#[derive(Debug)]
pub struct SignInPermit {
    rate: RateInfo,
}

impl SignInPermit {
    /// The tighter standing of the two limits, for `X-Rate-Limit-*`.
    pub fn rate(&self) -> RateInfo {
        self.rate
    }
}

/// The password rules new passwords must meet (Okta's default complexity).
#[derive(Debug, Clone, Copy)]
pub struct PasswordComplexity {
    /// Minimum length.
    pub min_length: usize,
}

/// The complexity every new password must meet.
pub const COMPLEXITY: PasswordComplexity = PasswordComplexity { min_length: 8 };

impl SignIn {
    /// Counts a sign-in attempt against the per-IP and per-username limits: a permit to check
    /// a password, or [`Error::RateLimited`]. The per-username count is in the database, so
    /// that the limit holds across replicas.
    pub async fn check_sign_in_rate(
        &self,
        ip: Option<IpAddr>,
        username: Option<&str>,
    ) -> Result<SignInPermit> {
        let now = self.now();
        // The IP is checked first, and a caller over its limit is not counted against the
        // username: one client cannot fill the attempts table.
        let by_ip = match ip {
            Some(ip) => Some(self.per_ip.hit(&ip.to_string(), now).map_err(|info| {
                self.metrics
                    .count("authd_rate_limited_total", &[("limit", "ip")]);
                Error::RateLimited(info)
            })?),
            None => None,
        };
        let by_username = match username {
            Some(username) => Some(self.count_username_attempt(username, now).await?),
            None => None,
        };
        let rate = [by_ip, by_username]
            .into_iter()
            .flatten()
            .min_by_key(|info| info.remaining)
            .ok_or_else(|| Error::Internal("no rate limit applies".into()))?;
        Ok(SignInPermit { rate })
    }

    async fn count_username_attempt(&self, username: &str, now: Timestamp) -> Result<RateInfo> {
        let tag = ring::hmac::sign(&self.attempt_key, username.to_lowercase().as_bytes());
        let key = crate::model::TokenHash::from_stored(
            tag.as_ref().iter().map(|b| format!("{b:02x}")).collect(),
        );
        let (attempts, window_start) = self
            .store
            .count_sign_in_attempt(&key, rate_limit::window_start(now))
            .await?;
        RateInfo::for_count(
            self.settings.rate_limit_per_username,
            attempts,
            window_start,
        )
        .map_err(|info| {
            self.metrics
                .count("authd_rate_limited_total", &[("limit", "username")]);
            Error::RateLimited(info)
        })
    }

    /// Primary authentication. Unknown user, wrong password, a user who may not sign in and
    /// (unless configured otherwise) a locked user all fail alike, in the same time.
    #[tracing::instrument(skip_all)]
    pub async fn authenticate(&self, request: PrimaryAuthentication) -> Result<AuthnResult> {
        let now = self.now();
        let user = match self
            .verify_credentials(request.permit, &request.username, request.password, now)
            .await?
        {
            Credentials::Valid(user) => *user,
            Credentials::LockedOut => return self.locked_out(),
        };
        match self.password_expiry(&user, now) {
            Expiry::Expired => {
                self.wait_at(
                    user,
                    TransactionState::PasswordExpired,
                    request.relay_state,
                    now,
                    None,
                )
                .await
            }
            Expiry::Soon(days) if request.warn_before_password_expired => {
                self.wait_at(
                    user,
                    TransactionState::PasswordWarn,
                    request.relay_state,
                    now,
                    Some(days),
                )
                .await
            }
            Expiry::Soon(_) | Expiry::NotSoon => self.succeed(user, now, request.relay_state).await,
        }
    }

    /// Signs a user in from the hosted sign-in page: the same checks, limits and lockout as
    /// [`SignIn::authenticate`], but a success starts the browser session at once, without a
    /// session token to write and redeem. A password that has expired cannot be changed there,
    /// so it is refused.
    #[tracing::instrument(skip_all)]
    pub async fn sign_in_to_session(&self, request: PrimaryAuthentication) -> Result<PageSignIn> {
        let now = self.now();
        let user = match self
            .verify_credentials(request.permit, &request.username, request.password, now)
            .await?
        {
            Credentials::Valid(user) => *user,
            Credentials::LockedOut => {
                // Told as locked out only where the configuration shows lockouts.
                self.locked_out()?;
                return Ok(PageSignIn::Refused(AuthnStatus::LockedOut));
            }
        };
        if matches!(self.password_expiry(&user, now), Expiry::Expired) {
            return Ok(PageSignIn::Refused(AuthnStatus::PasswordExpired));
        }
        tracing::info!(user.id = %user.id, "user signed in");
        Ok(PageSignIn::SignedIn(
            self.start_session(user, now, vec!["pwd".to_owned()])
                .await?,
        ))
    }

    /// Checks a username and password, counting failures towards lockout. Shared by the
    /// Authentication API, the sign-in page and the resource-owner password grant.
    pub(crate) async fn verify_credentials(
        &self,
        permit: SignInPermit,
        username: &str,
        password: SecretString,
        now: Timestamp,
    ) -> Result<Credentials> {
        let verified = self
            .check_credentials(permit, username, password, now)
            .await;
        let outcome = match &verified {
            Ok(Credentials::Valid(_)) => "success",
            Ok(Credentials::LockedOut) => "locked_out",
            Err(Error::AuthenticationFailed) => "invalid_credentials",
            Err(_) => "error",
        };
        self.metrics
            .count("authd_sign_ins_total", &[("outcome", outcome)]);
        verified
    }

    async fn check_credentials(
        &self,
        _permit: SignInPermit,
        username: &str,
        password: SecretString,
        now: Timestamp,
    ) -> Result<Credentials> {
        let user = match self.store.get_user_by_login(username).await {
            Ok(user) => Some(user),
            Err(store::Error::NotFound) => None,
            Err(err) => return Err(err.into()),
        };
        let Some(user) = user.filter(|user| user.may_sign_in(now) || user.is_locked(now)) else {
            self.passwords.verify_decoy(password).await?;
            self.record_sign_in(
                LogActor::unknown_user(username),
                Some("INVALID_CREDENTIALS"),
            )
            .await;
            return Err(Error::AuthenticationFailed);
        };
        if user.is_locked(now) {
            self.passwords.verify_decoy(password).await?;
            self.record_sign_in(LogActor::user(&user), Some("LOCKED_OUT"))
                .await;
            return Ok(Credentials::LockedOut);
        }
        let Some(stored_hash) = user.password_hash.clone() else {
            self.passwords.verify_decoy(password).await?;
            self.record_sign_in(LogActor::user(&user), Some("INVALID_CREDENTIALS"))
                .await;
            return Err(Error::AuthenticationFailed);
        };
        let verified = self
            .passwords
            .verify(stored_hash.clone(), password.clone())
            .await?;
        if !verified.matches {
            self.record_sign_in(LogActor::user(&user), Some("INVALID_CREDENTIALS"))
                .await;
            let user = self.count_failed_password(&user.id, now).await?;
            if user.is_locked(now) {
                return Ok(Credentials::LockedOut);
            }
            return Err(Error::AuthenticationFailed);
        }
        let rehashed = if verified.needs_rehash {
            Some(self.passwords.hash(password).await?)
        } else {
            None
        };
        if !self
            .store
            .record_successful_sign_in(&user.id, now, &stored_hash, rehashed.as_deref())
            .await?
        {
            self.record_sign_in(LogActor::user(&user), Some("LOCKED_OUT"))
                .await;
            return Ok(Credentials::LockedOut);
        }
        let user = self.store.get_user(&user.id).await?;
        self.log
            .record(
                Event::new(
                    "policy.evaluate_sign_on",
                    "Evaluation of sign-on policy",
                    LogActor::user(&user),
                )
                .outcome(
                    "ALLOW",
                    Some("Sign-on policy evaluation resulted in ALLOW".to_owned()),
                )
                .target(LogActor::new(
                    "default",
                    "PolicyEntity",
                    "Default Policy",
                    "Default Policy",
                ))
                .credential("PASSWORD"),
            )
            .await;
        self.record_sign_in(LogActor::user(&user), None).await;
        Ok(Credentials::Valid(Box::new(user)))
    }

    /// Counts a wrong password towards lockout, wherever one was given (sign-in, a password
    /// change); the user as it now is. The attempt that locks the user out is counted,
    /// logged and recorded as `user.account.lock`.
    pub(crate) async fn count_failed_password(
        &self,
        user_id: &UserId,
        now: Timestamp,
    ) -> Result<User> {
        let user = self
            .store
            .record_failed_sign_in(user_id, now, self.lockout_policy())
            .await?;
        if user.is_locked(now) {
            self.metrics.count("authd_lockouts_total", &[]);
            tracing::warn!(user.id = %user.id, failures = user.failed_sign_ins, "user locked out after repeated failed sign-ins");
            self.log
                .record(
                    Event::new(
                        "user.account.lock",
                        "Max sign in attempts exceeded",
                        LogActor::user(&user),
                    )
                    .target(LogActor::user(&user))
                    .debug("failedSignIns", user.failed_sign_ins.to_string()),
                )
                .await;
        }
        Ok(user)
    }

    /// A password sign-in in the System Log: Okta's `user.session.start`, failed for `reason`
    /// (`INVALID_CREDENTIALS`, `LOCKED_OUT`) or not.
    async fn record_sign_in(&self, actor: LogActor, failure: Option<&str>) {
        let event = Event::new("user.session.start", "User login to Okta", actor.clone())
            .target(actor)
            .credential("PASSWORD");
        let event = match failure {
            Some(reason) => event.failed(reason),
            None => event,
        };
        self.log.record(event).await;
    }

    /// Whether the user's password has expired (or must be changed).
    pub(crate) fn password_has_expired(&self, user: &User, now: Timestamp) -> bool {
        matches!(self.password_expiry(user, now), Expiry::Expired)
    }

    /// The current state of a transaction (`POST /api/v1/authn` with only a state token).
    pub async fn transaction(&self, state_token: &PlainToken) -> Result<AuthnResult> {
        let now = self.now();
        let pending = self
            .store
            .get_transaction(&state_token.hash(), now)
            .await?
            .ok_or(Error::InvalidToken)?;
        let user = self.store.get_user(&pending.user_id).await?;
        let days = match self.password_expiry(&user, now) {
            Expiry::Soon(days) => Some(days),
            _ => None,
        };
        Ok(AuthnResult {
            status: waiting_status(pending.state)?,
            user: Some(user),
            session_token: None,
            state_token: Some(Issued {
                token: state_token.clone(),
                expires_at: pending.expires_at,
            }),
            relay_state: pending.relay_state,
            password_expire_days: days.filter(|_| pending.state == TransactionState::PasswordWarn),
        })
    }

    /// `POST /api/v1/authn/credentials/change_password`: allowed while the password is
    /// expired or about to expire; completes the sign-in.
    #[tracing::instrument(skip_all)]
    pub async fn change_expired_password(
        &self,
        state_token: &PlainToken,
        old_password: SecretString,
        new_password: SecretString,
    ) -> Result<AuthnResult> {
        let now = self.now();
        let pending = self
            .store
            .get_transaction(&state_token.hash(), now)
            .await?
            .ok_or(Error::InvalidToken)?;
        if !matches!(
            pending.state,
            TransactionState::PasswordExpired | TransactionState::PasswordWarn
        ) {
            return Err(Error::OperationNotAllowed);
        }
        let user = self.store.get_user(&pending.user_id).await?;
        if !user.may_sign_in(now) {
            return Err(Error::AuthenticationFailed);
        }
        let stored_hash = user.password_hash.clone().unwrap_or_default();
        if !self
            .passwords
            .verify(stored_hash.clone(), old_password.clone())
            .await?
            .matches
        {
            self.count_failed_password(&user.id, now).await?;
            self.log
                .record(
                    password_changed(&user, "user.account.update_password", "PASSWORD")
                        .failed("INVALID_CREDENTIALS"),
                )
                .await;
            return Err(Error::CredentialsUpdateFailed(vec![
                "oldPassword: The credentials provided were incorrect.".to_owned(),
            ]));
        }
        check_complexity(&user, &old_password, &new_password)?;
        let pending = self
            .store
            .consume_transaction(&state_token.hash(), now)
            .await?
            .ok_or(Error::InvalidToken)?;
        let new_hash = self.passwords.hash(new_password).await?;
        if !self
            .store
            .replace_password(&user.id, &stored_hash, &new_hash, now)
            .await?
        {
            // Someone else changed the password since it was verified.
            return Err(Error::InvalidToken);
        }
        self.end_access_after_password_change(&user.id, now).await?;
        tracing::info!(user.id = %user.id, "password changed during sign-in");
        let user = self.store.get_user(&user.id).await?;
        self.log
            .record(password_changed(
                &user,
                "user.account.update_password",
                "PASSWORD",
            ))
            .await;
        self.succeed(user, now, pending.relay_state).await
    }

    /// `POST /api/v1/authn/recovery/token`: trades a recovery token from a reset link for a
    /// PASSWORD_RESET transaction.
    pub async fn verify_recovery_token(&self, recovery_token: &PlainToken) -> Result<AuthnResult> {
        let now = self.now();
        let (pending, user) = self.recovery(recovery_token, now).await?;
        self.store
            .consume_transaction(&recovery_token.hash(), now)
            .await?
            .ok_or(Error::InvalidToken)?;
        self.wait_at(
            user,
            TransactionState::PasswordReset,
            pending.relay_state,
            now,
            None,
        )
        .await
    }

    /// `POST /api/v1/authn/credentials/reset_password`: sets the new password of a
    /// PASSWORD_RESET transaction and completes the sign-in.
    #[tracing::instrument(skip_all)]
    pub async fn reset_password(
        &self,
        state_token: &PlainToken,
        new_password: SecretString,
    ) -> Result<AuthnResult> {
        let now = self.now();
        let pending = self
            .store
            .get_transaction(&state_token.hash(), now)
            .await?
            .ok_or(Error::InvalidToken)?;
        if pending.state != TransactionState::PasswordReset {
            return Err(Error::OperationNotAllowed);
        }
        let user = self.store.get_user(&pending.user_id).await?;
        if user.status != UserStatus::Recovery {
            return Err(Error::InvalidToken);
        }
        self.finish_recovery(state_token, user, new_password, now)
            .await
    }

    /// The reset-link page in one step: the recovery token and the new password together.
    pub async fn reset_password_with_recovery_token(
        &self,
        recovery_token: &PlainToken,
        new_password: SecretString,
    ) -> Result<AuthnResult> {
        let now = self.now();
        let (_, user) = self.recovery(recovery_token, now).await?;
        self.finish_recovery(recovery_token, user, new_password, now)
            .await
    }

    /// A recovery token's transaction and user, if the user is still in recovery.
    async fn recovery(&self, token: &PlainToken, now: Timestamp) -> Result<(PendingAuthn, User)> {
        let pending = self
            .store
            .get_transaction(&token.hash(), now)
            .await?
            .filter(|pending| pending.state == TransactionState::Recovery)
            .ok_or(Error::InvalidToken)?;
        let user = self.store.get_user(&pending.user_id).await?;
        if user.status != UserStatus::Recovery {
            return Err(Error::InvalidToken);
        }
        Ok((pending, user))
    }

    /// Checks the new password, uses up the token, sets the password, makes the user ACTIVE
    /// and signs them in. The token is used up only by a password that passes.
    async fn finish_recovery(
        &self,
        token: &PlainToken,
        user: User,
        new_password: SecretString,
        now: Timestamp,
    ) -> Result<AuthnResult> {
        let unmet = unmet_complexity(&user.login, &new_password);
        if !unmet.is_empty() {
            return Err(Error::CredentialsUpdateFailed(vec![format!(
                "newPassword: Password requirements were not met. Passwords must have {}",
                unmet.join(", ")
            )]));
        }
        let pending = self
            .store
            .consume_transaction(&token.hash(), now)
            .await?
            .ok_or(Error::InvalidToken)?;
        let mut user = user;
        user.password_hash = Some(self.passwords.hash(new_password).await?);
        user.password_changed_at = Some(now);
        user.status = UserStatus::Active;
        user.status_changed_at = Some(now);
        user.updated_at = now;
        if !self.store.complete_recovery(&user).await? {
            return Err(Error::InvalidToken);
        }
        self.end_access_after_password_change(&user.id, now).await?;
        tracing::info!(user.id = %user.id, "password reset through a recovery token");
        self.log
            .record(password_changed(
                &user,
                "user.account.reset_password",
                "RECOVERY_TOKEN",
            ))
            .await;
        self.succeed(user, now, pending.relay_state).await
    }

    /// `POST /api/v1/authn/skip`: continue past PASSWORD_WARN without changing the password.
    pub async fn skip_password_warning(&self, state_token: &PlainToken) -> Result<AuthnResult> {
        let now = self.now();
        let pending = self
            .store
            .get_transaction(&state_token.hash(), now)
            .await?
            .ok_or(Error::InvalidToken)?;
        if pending.state != TransactionState::PasswordWarn {
            return Err(Error::OperationNotAllowed);
        }
        let pending = self
            .store
            .consume_transaction(&state_token.hash(), now)
            .await?
            .ok_or(Error::InvalidToken)?;
        let user = self.store.get_user(&pending.user_id).await?;
        self.succeed(user, now, pending.relay_state).await
    }

    /// `POST /api/v1/authn/cancel`: ends the transaction; returns its relay state.
    pub async fn cancel_transaction(&self, state_token: &PlainToken) -> Result<Option<String>> {
        let pending = self
            .store
            .consume_transaction(&state_token.hash(), self.now())
            .await?
            .ok_or(Error::InvalidToken)?;
        Ok(pending.relay_state)
    }

    fn locked_out(&self) -> Result<AuthnResult> {
        if !self.settings.show_lockout_failures {
            return Err(Error::AuthenticationFailed);
        }
        Ok(AuthnResult {
            status: AuthnStatus::LockedOut,
            user: None,
            session_token: None,
            state_token: None,
            relay_state: None,
            password_expire_days: None,
        })
    }

    async fn succeed(
        &self,
        user: User,
        auth_time: Timestamp,
        relay_state: Option<String>,
    ) -> Result<AuthnResult> {
        let token = PlainToken::generate();
        let expires_at = self.now().plus(self.settings.session_token_lifetime);
        self.store
            .insert_session_token(
                &token.hash(),
                &SessionTokenGrant {
                    user_id: user.id.clone(),
                    auth_time,
                    amr: vec!["pwd".to_owned()],
                    expires_at,
                },
            )
            .await?;
        tracing::info!(user.id = %user.id, "user signed in");
        Ok(AuthnResult {
            status: AuthnStatus::Success,
            user: Some(user),
            session_token: Some(Issued { token, expires_at }),
            state_token: None,
            relay_state,
            password_expire_days: None,
        })
    }

    async fn wait_at(
        &self,
        user: User,
        state: TransactionState,
        relay_state: Option<String>,
        auth_time: Timestamp,
        password_expire_days: Option<u64>,
    ) -> Result<AuthnResult> {
        let token = PlainToken::generate();
        let expires_at = self.now().plus(self.settings.session_token_lifetime);
        self.store
            .insert_transaction(
                &token.hash(),
                &PendingAuthn {
                    user_id: user.id.clone(),
                    state,
                    relay_state: relay_state.clone(),
                    auth_time,
                    expires_at,
                },
            )
            .await?;
        Ok(AuthnResult {
            status: waiting_status(state)?,
            user: Some(user),
            session_token: None,
            state_token: Some(Issued { token, expires_at }),
            relay_state,
            password_expire_days,
        })
    }

    fn password_expiry(&self, user: &User, now: Timestamp) -> Expiry {
        if user.status == UserStatus::PasswordExpired {
            return Expiry::Expired;
        }
        let (Some(max_age), Some(changed)) =
            (self.settings.password_max_age, user.password_changed_at)
        else {
            return Expiry::NotSoon;
        };
        let expires = changed.plus(max_age);
        if now >= expires {
            Expiry::Expired
        } else if now.plus(self.settings.password_expiry_warning) >= expires {
            let seconds = u64::try_from(expires.unix() - now.unix()).unwrap_or(0);
            Expiry::Soon(seconds.div_ceil(86_400))
        } else {
            Expiry::NotSoon
        }
    }
}

/// What checking a username and password found.
pub(crate) enum Credentials {
    /// Right password; the user as now stored.
    Valid(Box<User>),
    /// A lockout is in force (possibly just begun).
    LockedOut,
}

/// What a client sees of a transaction waiting in `state`; a recovery token is not a state
/// token, so it is refused where one is expected.
fn waiting_status(state: TransactionState) -> Result<AuthnStatus> {
    match state {
        TransactionState::PasswordExpired => Ok(AuthnStatus::PasswordExpired),
        TransactionState::PasswordWarn => Ok(AuthnStatus::PasswordWarn),
        TransactionState::PasswordReset => Ok(AuthnStatus::PasswordReset),
        TransactionState::Recovery => Err(Error::InvalidToken),
    }
}

enum Expiry {
    Expired,
    Soon(u64),
    NotSoon,
}

/// What a new password lacks of [`COMPLEXITY`]; empty if it meets it.
pub(crate) fn unmet_complexity(login: &str, new: &SecretString) -> Vec<String> {
    let new = new.expose_secret();
    let mut unmet = Vec::new();
    if new.chars().count() < COMPLEXITY.min_length {
        unmet.push(format!("at least {} characters", COMPLEXITY.min_length));
    }
    if !new.chars().any(char::is_lowercase) {
        unmet.push("a lowercase letter".to_owned());
    }
    if !new.chars().any(char::is_uppercase) {
        unmet.push("an uppercase letter".to_owned());
    }
    if !new.chars().any(|c| c.is_ascii_digit()) {
        unmet.push("a number".to_owned());
    }
    let local_part = login.split('@').next().unwrap_or_default().to_lowercase();
    if local_part.len() >= 3 && new.to_lowercase().contains(&local_part) {
        unmet.push("no parts of your username".to_owned());
    }
    unmet
}

fn check_complexity(user: &User, old: &SecretString, new_password: &SecretString) -> Result<()> {
    let unmet = unmet_complexity(&user.login, new_password);
    let new = new_password.expose_secret();
    if !unmet.is_empty() {
        return Err(Error::CredentialsUpdateFailed(vec![format!(
            "newPassword: Passwords must have {}",
            unmet.join(", ")
        )]));
    }
    if new == old.expose_secret() {
        return Err(Error::CredentialsUpdateFailed(vec![
            "newPassword: Password cannot be your current password".to_owned(),
        ]));
    }
    Ok(())
}

/// A user's own password change (`user.account.update_password`) or reset
/// (`user.account.reset_password`), proven with `credential`.
fn password_changed(user: &User, event_type: &'static str, credential: &str) -> Event {
    let message = if event_type == "user.account.reset_password" {
        "User reset password for Okta (by recovery token)"
    } else {
        "User update password for Okta"
    };
    Event::new(event_type, message, LogActor::user(user))
        .target(LogActor::user(user))
        .credential(credential)
}
