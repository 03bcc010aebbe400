//! The cookies authd sets: `sid` (the session) and the sign-in form's CSRF token.

use axum::http::HeaderValue;

use crate::model::PlainToken;

/// Okta's session cookie.
pub const SESSION_COOKIE: &str = "sid";
/// The double-submit CSRF cookie of the sign-in form.
pub const CSRF_COOKIE: &str = "authd_csrf";

/// `sid=…` for a new session. Over https it is `SameSite=None; Secure` so that a hidden
/// iframe (`prompt=none`) still carries it, as Okta's is; over plain http browsers refuse
/// `SameSite=None`, so it is `Lax`.
pub fn session(cookie: &PlainToken, secure: bool) -> HeaderValue {
    header(&format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; {}",
        cookie.expose(),
        if secure {
            "SameSite=None; Secure"
        } else {
            "SameSite=Lax"
        }
    ))
}

/// Removes `sid`.
pub fn clear_session(secure: bool) -> HeaderValue {
    header(&format!(
        "{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    ))
}

/// The sign-in form's CSRF cookie: readable only by the form's own POST.
pub fn csrf(token: &PlainToken, path: &str, secure: bool) -> HeaderValue {
    header(&format!(
        "{CSRF_COOKIE}={}; Path={path}; HttpOnly; SameSite=Strict{}",
        token.expose(),
        if secure { "; Secure" } else { "" }
    ))
}

fn header(text: &str) -> HeaderValue {
    // Tokens are base64url, so the header is always valid; the fallback only keeps this total.
    HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("invalid=; Max-Age=0"))
}
