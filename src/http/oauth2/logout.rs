//! `GET /v1/logout` (OIDC RP-Initiated Logout).

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::model::PlainToken;

use super::super::cookies;
use super::super::error::OAuthError;
use super::super::extract::cookie;
use super::super::login::{error_page, signed_out_page};
use super::super::sessions::secure;
use super::{Params, Server};

/// Ends the session, clears `sid`, and goes to the registered `post_logout_redirect_uri`.
pub async fn logout(
    State(app): State<AppState>,
    Server(id): Server,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let params = match Params::from_query(uri.query().unwrap_or_default()) {
        Ok(params) => params,
        Err(err) => return error_page(StatusCode::BAD_REQUEST, err.description()),
    };
    let session = cookie(&headers, cookies::SESSION_COOKIE).map(PlainToken::from_presented);
    let outcome = app
        .engine
        .oauth()
        .logout(
            &id,
            params.get("id_token_hint").as_deref(),
            params.get("post_logout_redirect_uri").as_deref(),
            params.get("state").as_deref(),
            session.as_ref(),
        )
        .await;
    match outcome {
        Ok(outcome) => {
            let mut response = match outcome.redirect {
                Some(location) => {
                    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
                }
                None => signed_out_page(),
            };
            if outcome.clear_cookie {
                response
                    .headers_mut()
                    .insert(header::SET_COOKIE, cookies::clear_session(secure(&app)));
            }
            response
        }
        // Nothing changed: the session and its cookie stay.
        Err(err) => error_page(StatusCode::BAD_REQUEST, OAuthError::from(err).description()),
    }
}
