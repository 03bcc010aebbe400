//! The OAuth 2.0 / OpenID Connect endpoints of every authorization server: `/oauth2/v1/…` for
//! the org server and `/oauth2/{as}/v1/…` for custom ones; one handler serves both.

pub mod authorize;
pub mod keys;
pub mod logout;
pub mod response_mode;
pub mod token;
pub mod userinfo;

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use base64::Engine as _;

use crate::engine::oauth::client_auth::ClientCredentials;
use crate::model::AuthServerId;

use super::error::{OAuthError, OktaError};

/// The authorization server a request is for: the `{as}` path segment, or the org server on
/// routes without one.
pub struct Server(pub AuthServerId);

impl<S: Send + Sync> FromRequestParts<S> for Server {
    type Rejection = OktaError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // A segment that does not decode (not UTF-8) names no server; it must not fall back
        // to the org server.
        let Ok(Path(params)) =
            Path::<HashMap<String, String>>::from_request_parts(parts, state).await
        else {
            return Err(OktaError::not_found(
                "AuthorizationServer",
                &String::from_utf8_lossy(parts.uri.path().as_bytes()),
            ));
        };
        let Some(raw) = params.get("as") else {
            return Ok(Server(AuthServerId::org()));
        };
        match AuthServerId::parse(raw.as_str()) {
            Ok(id) if !id.is_org() => Ok(Server(id)),
            _ => Err(OktaError::not_found("AuthorizationServer", raw)),
        }
    }
}

/// The URL of one of a server's endpoints, e.g. `/v1/token` (client assertions name it).
pub fn endpoint_url(base_url: &str, server: &AuthServerId, path: &str) -> String {
    if server.is_org() {
        format!("{base_url}/oauth2{path}")
    } else {
        format!("{base_url}/oauth2/{server}{path}")
    }
}

/// Form parameters of an OAuth request: `application/x-www-form-urlencoded`, each at most once
/// (RFC 6749 §3.1, §3.2).
pub struct Params(HashMap<String, String>);

/// The largest form body the OAuth endpoints read.
const MAX_FORM_BODY: usize = 64 * 1024;

impl Params {
    /// Parses a form body, refusing other content types and repeated parameters.
    pub fn from_form(headers: &HeaderMap, body: &[u8]) -> Result<Self, OAuthError> {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        if !content_type
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
        {
            return Err(OAuthError::invalid_request(
                "The request must be application/x-www-form-urlencoded.",
            ));
        }
        if body.len() > MAX_FORM_BODY {
            return Err(OAuthError::invalid_request(
                "The request body is too large.",
            ));
        }
        Self::from_pairs(url::form_urlencoded::parse(body))
    }

    /// Parses a query string, refusing repeated parameters.
    pub fn from_query(query: &str) -> Result<Self, OAuthError> {
        Self::from_pairs(url::form_urlencoded::parse(query.as_bytes()))
    }

    fn from_pairs<'a>(
        pairs: impl Iterator<Item = (std::borrow::Cow<'a, str>, std::borrow::Cow<'a, str>)>,
    ) -> Result<Self, OAuthError> {
        let mut params = HashMap::new();
        for (key, value) in pairs {
            if params.insert(key.to_string(), value.into_owned()).is_some() {
                return Err(OAuthError::invalid_request(format!(
                    "The '{key}' parameter is repeated."
                )));
            }
        }
        Ok(Self(params))
    }

    /// A parameter's value; empty values count as absent (RFC 6749 §3.1).
    pub fn get(&self, key: &str) -> Option<String> {
        self.0.get(key).filter(|value| !value.is_empty()).cloned()
    }

    /// A required parameter.
    pub fn require(&self, key: &str) -> Result<String, OAuthError> {
        self.get(key).ok_or_else(|| {
            OAuthError::invalid_request(format!("The '{key}' parameter is required."))
        })
    }

    /// The client credentials in the `Authorization: Basic` header and the body.
    pub fn client_credentials(&self, headers: &HeaderMap) -> Result<ClientCredentials, OAuthError> {
        let basic = match headers.get(header::AUTHORIZATION) {
            None => None,
            Some(value) => Some(parse_basic(value.to_str().unwrap_or_default())?),
        };
        Ok(ClientCredentials {
            basic,
            client_id: self.get("client_id"),
            client_secret: self.get("client_secret"),
            client_assertion: self.get("client_assertion"),
            client_assertion_type: self.get("client_assertion_type"),
        })
    }
}

/// RFC 6749 §2.3.1: Basic with the form-urlencoded client id and secret. A public client's
/// header carries its id alone, with or without the colon (Okta accepts both; DESIGN §8).
fn parse_basic(value: &str) -> Result<(String, Option<String>), OAuthError> {
    let malformed = || {
        OAuthError::from(crate::engine::Error::InvalidClient {
            reason: "The Authorization header is not valid Basic client credentials.".to_owned(),
            used_basic: true,
        })
    };
    let (scheme, encoded) = value.split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(malformed());
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = text.split_once(':').unwrap_or((&text, ""));
    let decode = |part: &str| {
        url::form_urlencoded::parse(format!("x={part}").as_bytes())
            .next()
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default()
    };
    let id = decode(id);
    if id.is_empty() {
        return Err(malformed());
    }
    let secret = Some(decode(secret)).filter(|secret| !secret.is_empty());
    Ok((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let header = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("my%20client:s%3Acret+x")
        );
        assert_eq!(
            parse_basic(&header).unwrap(),
            ("my client".to_owned(), Some("s:cret x".to_owned()))
        );
        for public in ["spa", "spa:"] {
            let header = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(public)
            );
            assert_eq!(parse_basic(&header).unwrap(), ("spa".to_owned(), None));
        }
        let no_id = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(":secret")
        );
        assert!(parse_basic(&no_id).is_err());
        assert!(parse_basic("Bearer abc").is_err());
        assert!(parse_basic("Basic !!!").is_err());
    }

    #[test]
    fn repeated_parameters_are_refused() {
        assert!(Params::from_query("a=1&a=2").is_err());
        let params = Params::from_query("a=1&b=").unwrap();
        assert_eq!(params.get("a").as_deref(), Some("1"));
        assert_eq!(params.get("b"), None);
    }
}
