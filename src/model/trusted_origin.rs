use super::{Status, Timestamp};

wire_enum!(
    /// What a trusted origin is trusted for (Okta's Trusted Origins API).
    OriginScope, "trusted origin scope" {
        /// Cross-origin requests from its pages (CORS).
        Cors = "CORS",
        /// Redirects to it after sign-in (`fromURI`, `/login/sessionCookieRedirect`).
        Redirect = "REDIRECT",
        /// Embedding the sign-in page in its frames.
        IframeEmbed = "IFRAME_EMBED",
    }
);

/// An origin an administrator trusts, beyond those of the apps' redirect URIs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedOrigin {
    /// Okta id (`tos…`).
    pub id: String,
    /// A unique name for people.
    pub name: String,
    /// `scheme://host[:port]`, as the administrator wrote it (a trailing `/` kept).
    pub origin: String,
    /// What it is trusted for.
    pub scopes: Vec<OriginScope>,
    /// Only an active origin is trusted.
    pub status: Status,
    /// When it was created.
    pub created_at: Timestamp,
    /// Who created it (an API token's id).
    pub created_by: String,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// Who last changed it.
    pub updated_by: String,
}

impl TrustedOrigin {
    /// Its origin as browsers send it in `Origin` (no trailing `/`, default port dropped).
    pub fn normalized_origin(&self) -> Option<String> {
        normalize_origin(&self.origin)
    }

    /// Whether it is active and trusted for `scope`.
    pub fn trusts(&self, scope: OriginScope) -> bool {
        self.status == Status::Active && self.scopes.contains(&scope)
    }
}

/// The schemes Okta accepts for a trusted origin: the web's, FTP, and the app shells Ionic
/// and Capacitor serve their pages from.
const ORIGIN_SCHEMES: [&str; 5] = ["http", "https", "ftp", "ionic", "capacitor"];

/// `scheme://host[:port]` as browsers serialize an origin, if `text` is one (a trailing `/` is
/// allowed, as Okta allows it; a path, query or fragment is not).
pub fn normalize_origin(text: &str) -> Option<String> {
    let url = url::Url::parse(text).ok()?;
    let bare = url.path() == "/" || url.path().is_empty();
    if !bare
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || !ORIGIN_SCHEMES.contains(&url.scheme())
    {
        return None;
    }
    let host = url.host_str().filter(|host| !host.is_empty())?;
    // `Url` lower-cases the host and drops a scheme's default port, as browsers do in `Origin`.
    Some(match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    })
}

#[cfg(test)]
mod tests {
    use super::normalize_origin;

    #[test]
    fn origins_are_normalized_as_browsers_send_them() {
        assert_eq!(
            normalize_origin("https://App.Example:443/").as_deref(),
            Some("https://app.example")
        );
        assert_eq!(
            normalize_origin("http://127.0.0.1:3000").as_deref(),
            Some("http://127.0.0.1:3000")
        );
        assert_eq!(
            normalize_origin("capacitor://localhost").as_deref(),
            Some("capacitor://localhost")
        );
        for bad in [
            "example.com",
            "https://app.example/path",
            "https://app.example/?q=1",
            "https://user@app.example",
            "data:text/plain,hi",
            "javascript://app.example",
            "",
        ] {
            assert_eq!(normalize_origin(bad), None, "{bad}");
        }
    }
}
