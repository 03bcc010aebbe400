//! The hosted sign-in page, `GET/POST /login`: a server-rendered form that works without
//! JavaScript, authenticates through the same engine as `/api/v1/authn`, sets `sid` and
//! continues to `fromURI` — which must be on this server (DESIGN §6).

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use crate::app::AppState;
use crate::engine::sign_in::authn::{AuthnStatus, PageSignIn, PrimaryAuthentication};
use crate::engine::Error;
use crate::model::{PlainToken, TokenHash};

use super::cookies;
use super::extract::{cookie, ClientIp};
use super::sessions::secure;

/// `GET /login` query.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    #[serde(rename = "fromURI")]
    from_uri: Option<String>,
    /// Prefills the username (OIDC `login_hint`, passed on by `/authorize`).
    login_hint: Option<String>,
    /// `login` when `/authorize` asks for a new sign-in although the browser may have a
    /// session (`prompt=login`, `max_age`): the form is shown instead of going straight on.
    prompt: Option<String>,
}

/// `POST /login` form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(rename = "fromURI", default)]
    from_uri: String,
}

/// `GET /login`: the form, or straight on to `fromURI` if the browser is signed in.
pub async fn show(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Response {
    let from_uri = match query.from_uri.filter(|uri| !uri.is_empty()) {
        None => None,
        Some(uri) => match continuation(&app, &uri).await {
            Some(url) => Some(url),
            None => {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    "The sign-in page can only continue to this server or a trusted origin.",
                )
            }
        },
    };
    let reauthenticate = query.prompt.as_deref() == Some("login");
    if let Some(value) = cookie(&headers, cookies::SESSION_COOKIE).filter(|_| !reauthenticate) {
        if let Ok(session) = app
            .engine
            .sign_in()
            .session_for_cookie(&PlainToken::from_presented(value))
            .await
        {
            return match from_uri {
                Some(uri) => see_other(&uri, None),
                None => signed_in_page(&session.login),
            };
        }
    }
    let username = query.login_hint.unwrap_or_default();
    form_page(
        &app,
        StatusCode::OK,
        &username,
        from_uri.as_deref().unwrap_or(""),
        None,
    )
    .await
}

/// `POST /login`: checks the CSRF token, signs in, sets `sid` and continues.
pub async fn submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    Form(form): Form<LoginForm>,
) -> Response {
    let from_uri = form.from_uri.trim();
    let continue_to = if from_uri.is_empty() {
        None
    } else {
        match continuation(&app, from_uri).await {
            Some(url) => Some(url),
            None => {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    "The sign-in page can only continue to this server or a trusted origin.",
                )
            }
        }
    };
    let csrf_cookie = cookie(&headers, cookies::CSRF_COOKIE).unwrap_or_default();
    // Double-submit check; comparing digests keeps the timing independent of the token.
    if csrf_cookie.is_empty() || TokenHash::of(&csrf_cookie) != TokenHash::of(&form.csrf) {
        return error_page(
            StatusCode::FORBIDDEN,
            "The sign-in form expired. Reload the page and sign in again.",
        );
    }
    let username = form.username.trim();
    if username.is_empty() || form.password.is_empty() {
        return form_page(
            &app,
            StatusCode::BAD_REQUEST,
            username,
            from_uri,
            Some("Enter your username and password."),
        )
        .await;
    }
    let permit = match app
        .engine
        .sign_in()
        .check_sign_in_rate(ip, Some(username))
        .await
    {
        Ok(permit) => permit,
        Err(Error::RateLimited(_)) => {
            return form_page(
                &app,
                StatusCode::TOO_MANY_REQUESTS,
                username,
                from_uri,
                Some("Too many sign-in attempts. Wait a minute and try again."),
            )
            .await
        }
        Err(err) => return unexpected_error(&err),
    };
    let result = app
        .engine
        .sign_in()
        .sign_in_to_session(PrimaryAuthentication {
            permit,
            username: username.to_owned(),
            password: form.password.into(),
            relay_state: None,
            warn_before_password_expired: false,
        })
        .await;
    let message = match result {
        Ok(PageSignIn::SignedIn(created)) => {
            let target = continue_to.as_deref().unwrap_or("/login");
            return see_other(
                target,
                Some(cookies::session(&created.cookie, secure(&app))),
            );
        }
        Ok(PageSignIn::Refused(AuthnStatus::LockedOut)) => {
            "Your account is locked after too many failed sign-ins. Try again later or ask your administrator to unlock it."
        }
        Ok(PageSignIn::Refused(AuthnStatus::PasswordExpired)) => {
            "Your password has expired. Ask your administrator to reset it."
        }
        Ok(PageSignIn::Refused(_)) => "Sign-in failed. Try again.",
        Err(Error::AuthenticationFailed) => "Sign-in failed. Check your username and password.",
        Err(err) => return unexpected_error(&err),
    };
    form_page(
        &app,
        StatusCode::UNAUTHORIZED,
        username,
        from_uri,
        Some(message),
    )
    .await
}

/// The page for a failure that is not the user's: 503 while the database is unreachable.
fn unexpected_error(err: &Error) -> Response {
    if matches!(err, Error::Unavailable | Error::Unwritable) {
        return error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "The service is temporarily unavailable. Try again in a moment.",
        );
    }
    tracing::error!(error = %super::error::error_chain(err), "sign-in page failed");
    error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong. Try again later.",
    )
}

/// `uri` resolved against the base URL, if it stays on this server's origin or goes to an
/// origin trusted for redirects (an app's, or a Trusted Origin with scope `REDIRECT`). The
/// result is the parsed URL re-serialized: browsers drop tabs and newlines from `Location`, so
/// a raw `/\t/evil.example` would turn into `//evil.example` there (DESIGN §6).
async fn continuation(app: &AppState, uri: &str) -> Option<String> {
    let base = url::Url::parse(&app.config.base_url).ok()?;
    let target = base.join(uri).ok()?;
    if target.origin() == base.origin() {
        return Some(target.to_string());
    }
    let trusted = app
        .engine
        .directory()
        .trusted_redirect(target.as_str())
        .await
        .ok()??;
    Some(trusted.to_string())
}

fn see_other(location: &str, cookie: Option<HeaderValue>) -> Response {
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
    if let Some(cookie) = cookie {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

async fn form_page(
    app: &AppState,
    status: StatusCode,
    username: &str,
    from_uri: &str,
    error: Option<&str>,
) -> Response {
    let continuation = continuation_origin(app, from_uri).await;
    let csrf = PlainToken::generate();
    let error_html = error.map_or(String::new(), |message| {
        format!(
            r#"<p class="error" role="alert" id="error">{}</p>"#,
            escape(message)
        )
    });
    let body = FORM_TEMPLATE
        .replace("{error}", &error_html)
        .replace("{username}", &escape(username))
        .replace("{csrf}", &escape(csrf.expose()))
        .replace("{from_uri}", &escape(from_uri));
    let mut response = html_with_form_action(status, &page("Sign in", &body), continuation);
    response.headers_mut().insert(
        header::SET_COOKIE,
        cookies::csrf(&csrf, "/login", secure(app)),
    );
    response
}

/// The origin the browser ends up on after the form is sent: `from_uri`'s own when it leads to
/// a trusted origin, or, for an authorization request, its `redirect_uri`'s if the server
/// trusts it. Chromium and Safari apply the page's `form-action` to every redirect that follows
/// the form's POST, so without it the browser would stop at `/login` after a correct password.
async fn continuation_origin(app: &AppState, from_uri: &str) -> Option<String> {
    let base = url::Url::parse(&app.config.base_url).ok()?;
    let from = base.join(from_uri).ok()?;
    if from.origin() != base.origin() {
        // Already checked as trusted by the caller.
        return Some(from.origin().ascii_serialization());
    }
    if !from.path().ends_with("/v1/authorize") {
        return None;
    }
    let redirect_uri = from
        .query_pairs()
        .find(|(key, _)| key == "redirect_uri")
        .map(|(_, value)| value.into_owned())?;
    let trusted = app
        .engine
        .directory()
        .trusted_redirect(&redirect_uri)
        .await
        .ok()??;
    let origin = trusted.origin();
    (origin != base.origin()).then(|| origin.ascii_serialization())
}

/// `POST /reset_password/{token}` form.
#[derive(Debug, Deserialize)]
pub struct ResetPasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

/// `GET /reset_password/{token}`: the page a `resetPasswordUrl` opens. The token is checked
/// when the form is sent, so that merely opening the link uses nothing up.
pub async fn show_reset_password(
    State(app): State<AppState>,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Response {
    reset_form_page(&app, StatusCode::OK, &token, None)
}

/// `POST /reset_password/{token}`: sets the new password and ends the recovery.
pub async fn submit_reset_password(
    State(app): State<AppState>,
    axum::extract::Path(token): axum::extract::Path<String>,
    headers: HeaderMap,
    Form(form): Form<ResetPasswordForm>,
) -> Response {
    let csrf_cookie = cookie(&headers, cookies::CSRF_COOKIE).unwrap_or_default();
    if csrf_cookie.is_empty() || TokenHash::of(&csrf_cookie) != TokenHash::of(&form.csrf) {
        return reset_form_page(
            &app,
            StatusCode::FORBIDDEN,
            &token,
            Some("The form expired. Try again."),
        );
    }
    let result = app
        .engine
        .sign_in()
        .reset_password_with_recovery_token(
            &PlainToken::from_presented(token.clone()),
            form.password.into(),
        )
        .await;
    match result {
        Ok(_) => html(
            StatusCode::OK,
            &page(
                "Password reset",
                r#"<h1>Password reset</h1><p id="password-reset">Your password has been reset.</p><p><a href="/login">Sign in</a></p>"#,
            ),
        ),
        Err(Error::CredentialsUpdateFailed(causes)) => {
            let message = causes
                .first()
                .map(|cause| cause.trim_start_matches("newPassword: "))
                .unwrap_or("The password was refused.");
            reset_form_page(&app, StatusCode::BAD_REQUEST, &token, Some(message))
        }
        Err(Error::InvalidToken) => error_page(
            StatusCode::NOT_FOUND,
            "This reset link is invalid, used or expired. Ask your administrator for a new one.",
        ),
        Err(err) => {
            tracing::error!(error = %super::error::error_chain(&err), "password reset page failed");
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong. Try again later.",
            )
        }
    }
}

fn reset_form_page(
    app: &AppState,
    status: StatusCode,
    token: &str,
    error: Option<&str>,
) -> Response {
    let csrf = PlainToken::generate();
    let error_html = error.map_or(String::new(), |message| {
        format!(
            r#"<p class="error" role="alert" id="error">{}</p>"#,
            escape(message)
        )
    });
    let action: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
    let body = RESET_TEMPLATE
        .replace("{error}", &error_html)
        .replace("{action}", &escape(&format!("/reset_password/{action}")))
        .replace("{csrf}", &escape(csrf.expose()));
    let mut response = html(status, &page("Reset your password", &body));
    response.headers_mut().insert(
        header::SET_COOKIE,
        cookies::csrf(&csrf, "/reset_password", secure(app)),
    );
    response
}

fn signed_in_page(login: &str) -> Response {
    html(
        StatusCode::OK,
        &page(
            "Signed in",
            &format!(
                r#"<h1>Signed in</h1><p id="signed-in">You are signed in as {}.</p>"#,
                escape(login)
            ),
        ),
    )
}

/// The page shown after logout without a redirect.
pub fn signed_out_page() -> Response {
    html(
        StatusCode::OK,
        &page(
            "Signed out",
            r#"<h1>Signed out</h1><p id="signed-out">You are signed out.</p>"#,
        ),
    )
}

/// A page explaining why a browser request cannot go on.
pub fn error_page(status: StatusCode, message: &str) -> Response {
    html(
        status,
        &page(
            "Sign-in problem",
            &format!(
                r#"<h1>Sign-in problem</h1><p class="error" role="alert">{}</p>"#,
                escape(message)
            ),
        ),
    )
}

fn html(status: StatusCode, body: &str) -> Response {
    html_with_form_action(status, body, None)
}

/// An HTML page whose forms may be sent to this server and, after redirects, land on
/// `continuation` (an origin).
fn html_with_form_action(status: StatusCode, body: &str, continuation: Option<String>) -> Response {
    let form_action = match continuation {
        Some(origin) => format!("'self' {origin}"),
        None => "'self'".to_owned(),
    };
    // The page must not be framed (clickjacking), and loads nothing but itself.
    let policy = format!(
        "default-src 'none'; style-src 'unsafe-inline'; form-action {form_action}; \
         frame-ancestors 'none'; base-uri 'none'"
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        [(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&policy)
                .unwrap_or(HeaderValue::from_static("default-src 'none'")),
        )],
        body.to_owned(),
    )
        .into_response()
}

fn page(title: &str, main: &str) -> String {
    PAGE_TEMPLATE
        .replace("{title}", &escape(title))
        .replace("{main}", main)
}

/// Text made safe for HTML element content and quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

const PAGE_TEMPLATE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body { font-family: system-ui, sans-serif; background: #f4f5f7; margin: 0; }
main { max-width: 22rem; margin: 4rem auto; background: #fff; padding: 2rem; border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.15); }
label { display: block; margin-top: 1rem; font-weight: 600; }
input { width: 100%; box-sizing: border-box; padding: .6rem; margin-top: .3rem; font-size: 1rem; }
button { margin-top: 1.5rem; width: 100%; padding: .7rem; font-size: 1rem; background: #1662dd; color: #fff; border: 0; border-radius: 4px; cursor: pointer; }
button:focus, input:focus { outline: 3px solid #8ab4f8; }
.error { color: #a4000f; background: #fde8ea; padding: .6rem; border-radius: 4px; }
</style>
</head>
<body>
<main>
{main}
</main>
</body>
</html>
"#;

const FORM_TEMPLATE: &str = r#"<h1>Sign in</h1>
{error}
<form method="post" action="/login">
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required value="{username}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<input type="hidden" name="csrf" value="{csrf}">
<input type="hidden" name="fromURI" value="{from_uri}">
<button type="submit" id="sign-in">Sign in</button>
</form>
"#;

const RESET_TEMPLATE: &str = r#"<h1>Reset your password</h1>
{error}
<form method="post" action="{action}">
<label for="password">New password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required>
<input type="hidden" name="csrf" value="{csrf}">
<button type="submit" id="reset">Reset password</button>
</form>
"#;

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn html_special_characters_are_escaped() {
        assert_eq!(
            escape(r#"<script>"x" & 'y'</script>"#),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }
}
