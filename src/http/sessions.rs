//! `/api/v1/sessions`: Okta's Sessions API, by id (admin, `SSWS`) or as `me` (the `sid`
//! cookie), and `/login/sessionCookieRedirect`.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::model::{PlainToken, Session, SessionId};

use super::cookies;
use super::error::OktaError;
use super::extract::{cookie, OktaJson};
use super::login::error_page;

/// The identity provider every session reports: authd itself, as Okta reports its own.
const ORG_IDP_ID: &str = "00oauthdorgidp000000";

/// `POST /api/v1/sessions`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateSessionRequest {
    session_token: String,
}

/// `POST /api/v1/sessions`: redeems a one-time session token.
pub async fn create_session(
    State(app): State<AppState>,
    OktaJson(request): OktaJson<CreateSessionRequest>,
) -> Result<Json<Value>, OktaError> {
    let created = app
        .engine
        .sign_in()
        .create_session(&PlainToken::from_presented(request.session_token))
        .await?;
    Ok(Json(render(&app, &created.session, false)))
}

/// `GET /api/v1/sessions/{id}` (admin: authenticated by [`super::admin`]).
pub async fn get_session(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, OktaError> {
    let session = app.engine.sign_in().session(&session_id(&id)?).await?;
    Ok(Json(render(&app, &session, false)))
}

/// `POST /api/v1/sessions/{id}/lifecycle/refresh`.
pub async fn refresh_session(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, OktaError> {
    let session = app
        .engine
        .sign_in()
        .refresh_session(&session_id(&id)?)
        .await?;
    Ok(Json(render(&app, &session, false)))
}

/// `DELETE /api/v1/sessions/{id}`.
pub async fn close_session(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, OktaError> {
    app.engine.sign_in().end_session(&session_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/sessions/me`.
pub async fn get_current_session(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, OktaError> {
    let session = current(&app, &headers).await?;
    Ok(Json(render(&app, &session, true)))
}

/// `GET /api/v1/users/me`: the user of the browser's session, as okta-auth-js's
/// `session.get().user()` follows the session's `user` link; `403 E0000005` without one, as
/// Okta answers.
pub async fn get_current_user(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, OktaError> {
    let Some(value) = cookie(&headers, cookies::SESSION_COOKIE) else {
        return Err(OktaError::invalid_session());
    };
    let user = match app
        .engine
        .sign_in()
        .session_and_user_for_cookie(&PlainToken::from_presented(value))
        .await
    {
        Ok((_, user)) => user,
        Err(crate::engine::Error::NotFound { .. }) => return Err(OktaError::invalid_session()),
        Err(err) => return Err(err.into()),
    };
    Ok(Json(super::admin::users::render(&app, &user)))
}

/// `POST /api/v1/sessions/me/lifecycle/refresh`.
pub async fn refresh_current_session(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, OktaError> {
    let session = current(&app, &headers).await?;
    let session = app.engine.sign_in().refresh_session(&session.id).await?;
    Ok(Json(render(&app, &session, true)))
}

/// `DELETE /api/v1/sessions/me`: ends the session and clears the cookie.
pub async fn close_current_session(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, OktaError> {
    let session = current(&app, &headers).await?;
    app.engine.sign_in().end_session(&session.id).await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, cookies::clear_session(secure(&app)))],
    )
        .into_response())
}

/// `GET /login/sessionCookieRedirect` query.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CookieRedirectQuery {
    token: Option<String>,
    redirect_url: Option<String>,
}

/// `GET /login/sessionCookieRedirect?token=…&redirectUrl=…`: a session token becomes the
/// `sid` cookie and the browser goes on, but only to a URL this server trusts; anything else is
/// refused with a page, never followed.
pub async fn session_cookie_redirect(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<CookieRedirectQuery>,
) -> Response {
    let Some(redirect_url) = query.redirect_url.filter(|url| !url.is_empty()) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "The sign-in link has no redirectUrl.",
        );
    };
    let redirect_url = match app.engine.directory().trusted_redirect(&redirect_url).await {
        Ok(Some(url)) => url.to_string(),
        Ok(None) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "The sign-in link leads to an address this server does not trust.",
            )
        }
        Err(err) => return OktaError::from(err).into_response(),
    };
    // Okta ignores the token when the browser already has a session.
    if let Some(existing) = cookie(&headers, cookies::SESSION_COOKIE) {
        if app
            .engine
            .sign_in()
            .session_for_cookie(&PlainToken::from_presented(existing))
            .await
            .is_ok()
        {
            return redirect(&redirect_url, None);
        }
    }
    let Some(token) = query.token.filter(|token| !token.is_empty()) else {
        return error_page(StatusCode::BAD_REQUEST, "The sign-in link has no token.");
    };
    match app
        .engine
        .sign_in()
        .create_session(&PlainToken::from_presented(token))
        .await
    {
        Ok(created) => redirect(
            &redirect_url,
            Some(cookies::session(&created.cookie, secure(&app))),
        ),
        Err(crate::engine::Error::AuthenticationFailed) => error_page(
            StatusCode::UNAUTHORIZED,
            "The sign-in link is invalid, has been used, or has expired. Sign in again.",
        ),
        Err(err) => OktaError::from(err).into_response(),
    }
}

fn redirect(location: &str, cookie: Option<axum::http::HeaderValue>) -> Response {
    let mut response = (StatusCode::FOUND, [(header::LOCATION, location)]).into_response();
    if let Some(cookie) = cookie {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

async fn current(app: &AppState, headers: &HeaderMap) -> Result<Session, OktaError> {
    let Some(value) = cookie(headers, cookies::SESSION_COOKIE) else {
        return Err(OktaError::not_found("Session", "me"));
    };
    Ok(app
        .engine
        .sign_in()
        .session_for_cookie(&PlainToken::from_presented(value))
        .await?)
}

fn session_id(raw: &str) -> Result<SessionId, OktaError> {
    SessionId::parse(raw).map_err(|_| OktaError::not_found("Session", raw))
}

/// Whether cookies get `Secure`: when the public base URL is https.
pub fn secure(app: &AppState) -> bool {
    app.config.base_url.starts_with("https://")
}

/// Okta's Session object.
fn render(app: &AppState, session: &Session, as_me: bool) -> Value {
    let base = &app.config.base_url;
    let (self_href, user_href) = if as_me {
        (
            format!("{base}/api/v1/sessions/me"),
            format!("{base}/api/v1/users/me"),
        )
    } else {
        (
            format!("{base}/api/v1/sessions/{}", session.id),
            format!("{base}/api/v1/users/{}", session.user_id),
        )
    };
    json!({
        "id": session.id,
        "userId": session.user_id,
        "login": session.login,
        "createdAt": session.created_at.to_okta_string(),
        "expiresAt": session.expires_at.to_okta_string(),
        "status": "ACTIVE",
        "lastPasswordVerification": session.last_password_verification.to_okta_string(),
        "lastFactorVerification": null,
        "amr": session.amr,
        "idp": { "id": ORG_IDP_ID, "type": "OKTA" },
        "mfaActive": false,
        "_links": {
            "self": { "href": self_href, "hints": { "allow": ["GET", "DELETE"] } },
            "refresh": {
                "href": format!("{self_href}/lifecycle/refresh"),
                "hints": { "allow": ["POST"] }
            },
            "user": { "name": session.login, "href": user_href, "hints": { "allow": ["GET"] } }
        }
    })
}
