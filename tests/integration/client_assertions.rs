//! `private_key_jwt` client authentication (RFC 7523, OIDC Core §9) as Okta documents it: keys
//! registered in `settings.oauthClient.jwks`, assertions checked before anything is trusted.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::signature::KeyPair as _;
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::oauth::post_form;

/// A compact JWS over `header` and `claims`, signed by `sign`: built by hand, so that tests
/// can send what a careful library never would.
fn compact_jws(header: &Value, claims: &Value, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = sign(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

struct AssertingApp {
    server: TestApp,
    client_id: String,
    ed25519: ring::signature::Ed25519KeyPair,
    rsa: ring::signature::RsaKeyPair,
    rsa_kid: String,
}

impl AssertingApp {
    /// A service app registered through the Apps API the way Okta's SDKs send it: an Ed25519
    /// key and an RS256 key in `settings.oauthClient.jwks`.
    async fn register() -> Self {
        let server = crate::oauth::spawn().await;
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let ed25519 = ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let generated = authd::keys::generate::generate(authd::model::SigningAlg::RS256).unwrap();
        let rsa = ring::signature::RsaKeyPair::from_pkcs8(&generated.pkcs8).unwrap();
        let jwks = json!({ "keys": [
            {
                "kty": "OKP", "crv": "Ed25519", "kid": "ed", "alg": "EdDSA", "use": "sig",
                "x": URL_SAFE_NO_PAD.encode(ed25519.public_key().as_ref()),
            },
            generated.public_jwk,
        ] });
        let (status, created) = server
            .admin_call(
                reqwest::Method::POST,
                "/api/v1/apps",
                Some(json!({
                    "name": "oidc_client",
                    "label": "Signed assertions",
                    "signOnMode": "OPENID_CONNECT",
                    "credentials": { "oauthClient": { "token_endpoint_auth_method": "private_key_jwt" } },
                    "settings": { "oauthClient": {
                        "grant_types": ["client_credentials"],
                        "application_type": "service",
                        "jwks": jwks,
                    } }
                })),
            )
            .await;
        assert_eq!(status, 200, "{created}");
        assert_eq!(created["settings"]["oauthClient"]["jwks"], jwks);
        let client_id = created["id"].as_str().unwrap().to_owned();
        Self {
            server,
            client_id,
            ed25519,
            rsa,
            rsa_kid: generated.kid,
        }
    }

    fn token_endpoint(&self) -> String {
        format!("{}/oauth2/default/v1/token", self.server.base_url)
    }

    /// Claims as a client would send them, with `changes` applied.
    fn claims(&self, changes: Value) -> Value {
        let now = self.server.state.engine.now().unix();
        let mut claims = json!({
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.token_endpoint(),
            "iat": now,
            "exp": now + 300,
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        for (name, value) in changes.as_object().unwrap() {
            claims[name] = value.clone();
        }
        claims
    }

    fn signed_ed25519(&self, header: Value, claims: Value) -> String {
        compact_jws(&header, &claims, |input| {
            self.ed25519.sign(input).as_ref().to_vec()
        })
    }

    fn signed_rsa(
        &self,
        alg: &str,
        padding: &'static dyn ring::signature::RsaEncoding,
        claims: Value,
    ) -> String {
        let header = json!({ "alg": alg, "kid": self.rsa_kid });
        compact_jws(&header, &claims, |input| {
            let mut signature = vec![0; self.rsa.public().modulus_len()];
            self.rsa
                .sign(
                    padding,
                    &ring::rand::SystemRandom::new(),
                    input,
                    &mut signature,
                )
                .unwrap();
            signature
        })
    }

    async fn present(&self, assertion: &str) -> (u16, Value) {
        post_form(
            &self.server,
            "/oauth2/default/v1/token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", "api.read"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", assertion),
            ],
        )
        .await
    }

    async fn assert_accepted(&self, assertion: &str, case: &str) {
        let (status, body) = self.present(assertion).await;
        assert_eq!(status, 200, "{case}: {body}");
    }

    async fn assert_refused(&self, assertion: &str, case: &str) {
        let (status, body) = self.present(assertion).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_client")),
            "{case}: {body}"
        );
    }
}

#[tokio::test]
async fn the_audience_is_the_token_endpoint_or_the_issuer() {
    let app = AssertingApp::register().await;
    let ed = json!({ "alg": "EdDSA", "kid": "ed" });
    app.assert_accepted(
        &app.signed_ed25519(ed.clone(), app.claims(json!({}))),
        "the token endpoint, as Okta documents",
    )
    .await;
    let issuer = format!("{}/oauth2/default", app.server.base_url);
    app.assert_accepted(
        &app.signed_ed25519(ed.clone(), app.claims(json!({ "aud": issuer }))),
        "the issuer, as openid-client sends",
    )
    .await;
    let org_issuer = app.server.base_url.clone();
    app.assert_refused(
        &app.signed_ed25519(ed.clone(), app.claims(json!({ "aud": org_issuer }))),
        "another server's issuer",
    )
    .await;
    app.assert_refused(
        &app.signed_ed25519(
            ed,
            app.claims(json!({ "aud": "https://elsewhere.example/token" })),
        ),
        "another audience",
    )
    .await;
}

#[tokio::test]
async fn assertions_from_the_future_or_with_unknown_critical_headers_are_refused() {
    let app = AssertingApp::register().await;
    let now = app.server.state.engine.now().unix();
    let ed = json!({ "alg": "EdDSA", "kid": "ed" });
    app.assert_refused(
        &app.signed_ed25519(ed.clone(), app.claims(json!({ "nbf": now + 600 }))),
        "nbf ten minutes ahead",
    )
    .await;
    app.assert_refused(
        &app.signed_ed25519(ed.clone(), app.claims(json!({ "iat": now + 600 }))),
        "iat ten minutes ahead",
    )
    .await;
    app.assert_accepted(
        &app.signed_ed25519(
            ed.clone(),
            app.claims(json!({ "nbf": now + 5, "iat": now + 5 })),
        ),
        "a clock a few seconds ahead",
    )
    .await;
    app.assert_refused(
        &app.signed_ed25519(
            json!({ "alg": "EdDSA", "kid": "ed", "crit": ["urn:example:binding"], "urn:example:binding": true }),
            app.claims(json!({})),
        ),
        "a critical header authd does not understand",
    )
    .await;
}

#[tokio::test]
async fn the_registered_key_decides_the_algorithm_not_the_token() {
    let app = AssertingApp::register().await;
    app.assert_accepted(
        &app.signed_rsa(
            "RS256",
            &ring::signature::RSA_PKCS1_SHA256,
            app.claims(json!({})),
        ),
        "RS256, as registered",
    )
    .await;
    // Valid signatures by the registered key, under algorithms it was not registered for.
    app.assert_refused(
        &app.signed_rsa(
            "RS384",
            &ring::signature::RSA_PKCS1_SHA384,
            app.claims(json!({})),
        ),
        "RS384 with an RS256 key",
    )
    .await;
    app.assert_refused(
        &app.signed_rsa(
            "PS256",
            &ring::signature::RSA_PSS_SHA256,
            app.claims(json!({})),
        ),
        "PS256 with an RS256 key",
    )
    .await;
    // An HMAC keyed with the public key: the classic confusion.
    let public_key = app.ed25519.public_key().as_ref().to_vec();
    let forged = compact_jws(
        &json!({ "alg": "HS256", "kid": "ed" }),
        &app.claims(json!({})),
        |input| {
            let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &public_key);
            ring::hmac::sign(&key, input).as_ref().to_vec()
        },
    );
    app.assert_refused(&forged, "HS256 over an Ed25519 key")
        .await;
}

#[tokio::test]
async fn okta_sdk_registers_a_private_key_jwt_app_and_openid_client_authenticates_with_it() {
    let server = crate::oauth::spawn().await;
    let seen = crate::interop_js::node(
        "private_key_jwt.mjs",
        vec![
            server.base_url.clone(),
            crate::common::TEST_ADMIN_TOKEN.to_owned(),
        ],
    )
    .await;
    assert_eq!(
        seen["registeredKeys"], 1,
        "the SDK's jwks reached authd: {seen}"
    );
    assert!(
        seen["tokenType"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case("bearer"),
        "{seen}"
    );
    assert_eq!(seen["cid"], seen["clientId"], "{seen}");
    assert_eq!(seen["scope"], "api.read", "{seen}");
}
