//! Extractors that turn request parts into checked values, rejecting in the right error shape.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::OktaError;

/// A JSON body on `/api/v1`, rejected in Okta's shape: `E0000003` if it is not JSON (or larger
/// than [`MAX_JSON_BODY`]), `E0000001` naming the field if it does not fit the request.
pub struct OktaJson<T>(pub T);

/// The largest JSON body `/api/v1` reads.
pub const MAX_JSON_BODY: usize = 64 * 1024;

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for OktaJson<T> {
    type Rejection = OktaError;

    async fn from_request(request: axum::extract::Request, _: &S) -> Result<Self, OktaError> {
        let bytes = axum::body::to_bytes(request.into_body(), MAX_JSON_BODY)
            .await
            .map_err(|_| {
                OktaError::malformed_body(Some(format!(
                    "The request body must be JSON of at most {} KiB.",
                    MAX_JSON_BODY / 1024
                )))
            })?;
        parse_okta_json(&bytes).map(OktaJson)
    }
}

/// A JSON body already read, rejected as [`OktaJson`] rejects it.
pub fn parse_okta_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, OktaError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|_| OktaError::malformed_body(None))?;
    serde_json::from_value(value).map_err(|err| OktaError::validation(vec![err.to_string()]))
}

/// The client's IP address: the socket's peer, or, when the peer is a trusted proxy
/// (`AUTHD_TRUSTED_PROXIES`), the right-most `X-Forwarded-For` address that is not one.
pub struct ClientIp(pub Option<std::net::IpAddr>);

impl FromRequestParts<crate::app::AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &crate::app::AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip());
        let trusted = |ip: &std::net::IpAddr| {
            app.config
                .trusted_proxies
                .iter()
                .any(|proxy| proxy.contains(ip))
        };
        let Some(peer) = peer.filter(|peer| trusted(peer)) else {
            return Ok(ClientIp(peer));
        };
        // Each proxy appends the address it received from; the right-most untrusted one is
        // the first that no trusted party vouches for.
        let forwarded: Vec<std::net::IpAddr> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .filter_map(|entry| entry.trim().parse().ok())
            .collect();
        let client = forwarded
            .iter()
            .rev()
            .find(|ip| !trusted(ip))
            .or(forwarded.first())
            .copied()
            .unwrap_or(peer);
        Ok(ClientIp(Some(client)))
    }
}

/// The value of a cookie in the request, if present.
pub fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}
