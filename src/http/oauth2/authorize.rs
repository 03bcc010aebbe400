//! `GET/POST /v1/authorize`: parse the request, let the engine decide, then redirect to the
//! sign-in page, show an error page, or answer the client in its response mode.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::engine::oauth::authorize::{AuthorizationRequest, AuthorizeOutcome, BrowserSession};
use crate::model::{AuthServerId, PlainToken};

use super::super::cookies;
use super::super::error::{OAuthError, OktaError};
use super::super::extract::cookie;
use super::super::login::error_page;
use super::super::sessions::secure;
use super::{response_mode, Params, Server};

/// `GET /v1/authorize`.
pub async fn authorize_get(
    State(app): State<AppState>,
    Server(id): Server,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    match Params::from_query(uri.query().unwrap_or_default()) {
        Ok(params) => handle(&app, &id, &headers, params).await,
        Err(err) => error_page(StatusCode::BAD_REQUEST, err.description()),
    }
}

/// `POST /v1/authorize` (a form with the same parameters).
pub async fn authorize_post(
    State(app): State<AppState>,
    Server(id): Server,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match Params::from_form(&headers, &body) {
        Ok(params) => handle(&app, &id, &headers, params).await,
        Err(err) => error_page(StatusCode::BAD_REQUEST, err.description()),
    }
}

const FORWARDED: [&str; 13] = [
    "client_id",
    "redirect_uri",
    "response_type",
    "response_mode",
    "scope",
    "state",
    "nonce",
    "prompt",
    "max_age",
    "login_hint",
    "code_challenge",
    "code_challenge_method",
    "sessionToken",
];

async fn handle(
    app: &AppState,
    id: &AuthServerId,
    headers: &HeaderMap,
    params: Params,
) -> Response {
    let request = AuthorizationRequest {
        client_id: params.get("client_id"),
        redirect_uri: params.get("redirect_uri"),
        response_type: params.get("response_type"),
        response_mode: params.get("response_mode"),
        scope: params.get("scope"),
        state: params.get("state"),
        nonce: params.get("nonce"),
        prompt: params.get("prompt"),
        max_age: params.get("max_age"),
        session_token: params.get("sessionToken"),
        code_challenge: params.get("code_challenge"),
        code_challenge_method: params.get("code_challenge_method"),
    };
    let browser = BrowserSession {
        cookie: cookie(headers, cookies::SESSION_COOKIE).map(PlainToken::from_presented),
    };
    match app.engine.oauth().authorize(id, request, browser).await {
        Ok(AuthorizeOutcome::ErrorPage(err)) => match err {
            crate::engine::Error::NotFound { kind, id } => {
                OktaError::not_found(kind, &id).into_response()
            }
            other => error_page(
                StatusCode::BAD_REQUEST,
                OAuthError::from(other).description(),
            ),
        },
        Ok(AuthorizeOutcome::NeedLogin { reauthenticate }) => {
            let from_uri = retry_uri(id, &params);
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.append_pair("fromURI", &from_uri);
            if reauthenticate {
                query.append_pair("prompt", "login");
            }
            if let Some(hint) = params.get("login_hint") {
                query.append_pair("login_hint", &hint);
            }
            let login = format!("/login?{}", query.finish());
            (StatusCode::FOUND, [(header::LOCATION, login)]).into_response()
        }
        Ok(AuthorizeOutcome::Respond(response)) => {
            let mut rendered = response_mode::render(&response);
            if let Some(created) = &response.new_session {
                rendered.headers_mut().insert(
                    header::SET_COOKIE,
                    cookies::session(&created.cookie, secure(app)),
                );
            }
            rendered
        }
        Err(err) => OAuthError::from(err).into_response(),
    }
}

/// This request as a GET, to come back to after sign-in: without `prompt=login` and `max_age`
/// (the sign-in has just happened, and a `max_age=0` would otherwise never be met within the
/// same second) and without a used `sessionToken`.
fn retry_uri(id: &AuthServerId, params: &Params) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for key in FORWARDED {
        if key == "sessionToken" || key == "max_age" {
            continue;
        }
        if let Some(value) = params.get(key) {
            if key == "prompt" {
                let rest: Vec<&str> = value.split(' ').filter(|p| *p != "login").collect();
                if !rest.is_empty() {
                    query.append_pair(key, &rest.join(" "));
                }
                continue;
            }
            query.append_pair(key, &value);
        }
    }
    let path = super::endpoint_url("", id, "/v1/authorize");
    format!("{path}?{}", query.finish())
}
