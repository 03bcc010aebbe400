//! `/api/v1/authn`: Okta's Authentication API (primary authentication, password change,
//! skip, cancel).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::app::AppState;
use crate::engine::sign_in::authn::{AuthnResult, AuthnStatus, PrimaryAuthentication, COMPLEXITY};
use crate::model::{PlainToken, User};

use super::error::{add_rate_limit_headers, OktaError};
use super::extract::{ClientIp, OktaJson};

/// `POST /api/v1/authn`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthnRequest {
    username: Option<String>,
    password: Option<String>,
    relay_state: Option<String>,
    state_token: Option<String>,
    #[serde(default)]
    options: AuthnOptions,
    // Accepted as Okta does; device tokens only matter to Okta's risk engine.
    #[serde(default)]
    #[expect(dead_code, reason = "accepted for compatibility, not used")]
    context: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthnOptions {
    #[serde(default)]
    warn_before_password_expired: bool,
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "accepted for compatibility; no factors to enroll yet"
    )]
    multi_optional_factor_enroll: bool,
}

/// A body carrying only a state token.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateTokenRequest {
    state_token: String,
}

/// `POST /api/v1/authn/credentials/change_password`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangePasswordRequest {
    state_token: String,
    old_password: String,
    new_password: String,
}

/// `POST /api/v1/authn/recovery/token`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryTokenRequest {
    recovery_token: String,
}

/// `POST /api/v1/authn/credentials/reset_password`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResetPasswordRequest {
    state_token: String,
    new_password: String,
}

const MAX_RELAY_STATE: usize = 2048;
/// Okta's limit on a login's length.
const MAX_USERNAME: usize = 100;

/// `POST /api/v1/authn`: primary authentication, or the state of a transaction.
pub async fn authn(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    OktaJson(request): OktaJson<AuthnRequest>,
) -> Result<Response, OktaError> {
    if let (Some(state_token), None) = (&request.state_token, &request.username) {
        let result = app
            .engine
            .sign_in()
            .transaction(&PlainToken::from_presented(state_token.as_str()))
            .await?;
        return Ok(Json(render(&app, result)).into_response());
    }
    let mut causes = Vec::new();
    let username = request.username.unwrap_or_default();
    let password = request.password.unwrap_or_default();
    if username.trim().is_empty() {
        causes.push("username: The field cannot be left blank".to_owned());
    }
    if username.len() > MAX_USERNAME {
        causes.push(format!(
            "username: The field cannot exceed {MAX_USERNAME} characters"
        ));
    }
    if password.is_empty() {
        causes.push("password: The field cannot be left blank".to_owned());
    }
    if request
        .relay_state
        .as_ref()
        .is_some_and(|relay| relay.len() > MAX_RELAY_STATE)
    {
        causes.push(format!(
            "relayState: The field cannot exceed {MAX_RELAY_STATE} characters"
        ));
    }
    if !causes.is_empty() {
        return Err(OktaError::validation(causes));
    }
    let permit = app
        .engine
        .sign_in()
        .check_sign_in_rate(ip, Some(username.trim()))
        .await?;
    let rate = permit.rate();
    let result = app
        .engine
        .sign_in()
        .authenticate(PrimaryAuthentication {
            permit,
            username: username.trim().to_owned(),
            password: password.into(),
            relay_state: request.relay_state,
            warn_before_password_expired: request.options.warn_before_password_expired,
        })
        .await
        .map_err(|err| OktaError::from(err).with_rate(rate))?;
    let mut response = Json(render(&app, result)).into_response();
    add_rate_limit_headers(&mut response, rate);
    Ok(response)
}

/// `POST /api/v1/authn/credentials/change_password`.
pub async fn change_password(
    State(app): State<AppState>,
    OktaJson(request): OktaJson<ChangePasswordRequest>,
) -> Result<Json<Value>, OktaError> {
    let result = app
        .engine
        .sign_in()
        .change_expired_password(
            &PlainToken::from_presented(request.state_token),
            request.old_password.into(),
            request.new_password.into(),
        )
        .await?;
    Ok(Json(render(&app, result)))
}

/// `POST /api/v1/authn/recovery/token`: a recovery token from a reset link.
pub async fn recovery_token(
    State(app): State<AppState>,
    OktaJson(request): OktaJson<RecoveryTokenRequest>,
) -> Result<Json<Value>, OktaError> {
    let result = app
        .engine
        .sign_in()
        .verify_recovery_token(&PlainToken::from_presented(request.recovery_token))
        .await?;
    Ok(Json(render(&app, result)))
}

/// `POST /api/v1/authn/credentials/reset_password`.
pub async fn reset_password(
    State(app): State<AppState>,
    OktaJson(request): OktaJson<ResetPasswordRequest>,
) -> Result<Json<Value>, OktaError> {
    let result = app
        .engine
        .sign_in()
        .reset_password(
            &PlainToken::from_presented(request.state_token),
            request.new_password.into(),
        )
        .await?;
    Ok(Json(render(&app, result)))
}

/// `POST /api/v1/authn/skip`.
pub async fn skip(
    State(app): State<AppState>,
    OktaJson(request): OktaJson<StateTokenRequest>,
) -> Result<Json<Value>, OktaError> {
    let result = app
        .engine
        .sign_in()
        .skip_password_warning(&PlainToken::from_presented(request.state_token))
        .await?;
    Ok(Json(render(&app, result)))
}

/// `POST /api/v1/authn/cancel`.
pub async fn cancel(
    State(app): State<AppState>,
    OktaJson(request): OktaJson<StateTokenRequest>,
) -> Result<Json<Value>, OktaError> {
    let relay_state = app
        .engine
        .sign_in()
        .cancel_transaction(&PlainToken::from_presented(request.state_token))
        .await?;
    let mut body = json!({ "status": "UNAUTHENTICATED" });
    if let Some(relay_state) = relay_state {
        body["relayState"] = relay_state.into();
    }
    Ok(Json(body))
}

/// The transaction object in Okta's shape.
fn render(app: &AppState, result: AuthnResult) -> Value {
    let base = &app.config.base_url;
    let mut body = Map::new();
    if let Some(state) = &result.state_token {
        body.insert("stateToken".into(), state.token.expose().into());
        body.insert("expiresAt".into(), state.expires_at.to_okta_string().into());
    }
    let status = match result.status {
        AuthnStatus::Success => "SUCCESS",
        AuthnStatus::PasswordWarn => "PASSWORD_WARN",
        AuthnStatus::PasswordExpired => "PASSWORD_EXPIRED",
        AuthnStatus::LockedOut => "LOCKED_OUT",
        AuthnStatus::PasswordReset => "PASSWORD_RESET",
    };
    body.insert("status".into(), status.into());
    if let Some(session) = &result.session_token {
        body.insert(
            "expiresAt".into(),
            session.expires_at.to_okta_string().into(),
        );
        body.insert("sessionToken".into(), session.token.expose().into());
    }
    if let Some(relay_state) = &result.relay_state {
        body.insert("relayState".into(), relay_state.as_str().into());
    }

    let mut embedded = Map::new();
    if let Some(user) = &result.user {
        embedded.insert("user".into(), user_summary(user));
    }
    let link = |path: &str, name: Option<&str>| {
        let mut link = json!({ "href": format!("{base}{path}"), "hints": { "allow": ["POST"] } });
        if let Some(name) = name {
            link["name"] = name.into();
        }
        link
    };
    let mut links = Map::new();
    match result.status {
        AuthnStatus::PasswordExpired | AuthnStatus::PasswordWarn | AuthnStatus::PasswordReset => {
            let mut policy = json!({
                "complexity": {
                    "minLength": COMPLEXITY.min_length,
                    "minLowerCase": 1,
                    "minUpperCase": 1,
                    "minNumber": 1,
                    "minSymbol": 0,
                    "excludeUsername": true,
                }
            });
            if let Some(days) = result.password_expire_days {
                policy["expiration"] = json!({ "passwordExpireDays": days });
            }
            embedded.insert("policy".into(), policy);
            let next = if result.status == AuthnStatus::PasswordReset {
                link(
                    "/api/v1/authn/credentials/reset_password",
                    Some("resetPassword"),
                )
            } else {
                link(
                    "/api/v1/authn/credentials/change_password",
                    Some("changePassword"),
                )
            };
            links.insert("next".into(), next);
            if result.status == AuthnStatus::PasswordWarn {
                links.insert("skip".into(), link("/api/v1/authn/skip", Some("skip")));
            }
            links.insert("cancel".into(), link("/api/v1/authn/cancel", None));
        }
        AuthnStatus::Success | AuthnStatus::LockedOut => {}
    }
    if !embedded.is_empty() {
        body.insert("_embedded".into(), Value::Object(embedded));
    }
    if !links.is_empty() {
        body.insert("_links".into(), Value::Object(links));
    }
    Value::Object(body)
}

/// `_embedded.user` of an authentication transaction.
fn user_summary(user: &User) -> Value {
    json!({
        "id": user.id,
        "passwordChanged": user.password_changed_at.map(|at| at.to_okta_string()),
        "profile": {
            "login": user.login,
            "firstName": user.profile_text("firstName"),
            "lastName": user.profile_text("lastName"),
            "locale": user.profile_text("locale").unwrap_or("en_US"),
            "timeZone": user.profile_text("timeZone").unwrap_or("America/Los_Angeles"),
        }
    })
}
