//! Delivering an authorization response: query, fragment, form_post (OAuth 2.0 Form Post
//! Response Mode) or Okta's okta_post_message.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::engine::oauth::authorize::ClientResponse;
use crate::model::ResponseMode;

use super::super::login::escape;

/// The response that carries `params` to the client's redirect URI.
pub fn render(response: &ClientResponse) -> Response {
    let params = &response.params;
    match response.mode {
        ResponseMode::Query | ResponseMode::Fragment => {
            let encoded = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
                .finish();
            let location = if response.mode == ResponseMode::Query {
                let separator = if response.redirect_uri.contains('?') {
                    '&'
                } else {
                    '?'
                };
                format!("{}{separator}{encoded}", response.redirect_uri)
            } else {
                format!("{}#{encoded}", response.redirect_uri)
            };
            (
                StatusCode::FOUND,
                [
                    (header::LOCATION, location),
                    (header::CACHE_CONTROL, "no-store".to_owned()),
                ],
            )
                .into_response()
        }
        ResponseMode::FormPost => {
            let inputs: String = params
                .iter()
                .map(|(name, value)| {
                    format!(
                        r#"<input type="hidden" name="{}" value="{}">"#,
                        escape(name),
                        escape(value)
                    )
                })
                .collect();
            let page = format!(
                r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Submit</title></head><body onload="document.forms[0].submit()"><form method="post" action="{}">{inputs}<noscript><button type="submit">Continue</button></noscript></form></body></html>"#,
                escape(&response.redirect_uri)
            );
            html(
                page,
                format!(
                    "default-src 'none'; script-src 'unsafe-inline'; form-action {}; frame-ancestors 'none'",
                    origin(&response.redirect_uri)
                ),
            )
        }
        ResponseMode::OktaPostMessage => {
            let origin = origin(&response.redirect_uri);
            let data: Map<String, Value> = params
                .iter()
                .map(|(name, value)| ((*name).to_owned(), Value::from(value.clone())))
                .collect();
            // JSON inside a script: escape '<' so no value can close the script element.
            let data = Value::Object(data).to_string().replace('<', "\\u003c");
            let target = Value::from(origin.clone())
                .to_string()
                .replace('<', "\\u003c");
            let page = format!(
                r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in response</title></head><body><script>
(function (window, targetOrigin, data) {{
  var target = window.opener || window.parent;
  if (target && target !== window) {{ target.postMessage(data, targetOrigin); }}
}})(window, {target}, {data});
</script></body></html>"#
            );
            // Framed by the app's page that asked (prompt=none in a hidden iframe), and only by
            // it: unlike the sign-in page, this one must be framable by that origin.
            html(
                page,
                format!("default-src 'none'; script-src 'unsafe-inline'; frame-ancestors {origin}"),
            )
        }
    }
}

fn html(page: String, policy: String) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
            (header::CONTENT_SECURITY_POLICY, policy),
            (header::REFERRER_POLICY, "no-referrer".to_owned()),
        ],
        page,
    )
        .into_response()
}

/// The redirect URI's origin, as CSP and `postMessage` want it.
fn origin(uri: &str) -> String {
    url::Url::parse(uri)
        .map(|url| url.origin().ascii_serialization())
        .unwrap_or_else(|_| "'none'".to_owned())
}
