use authd::model::AuthServerId;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::json;

use crate::common::{Options, TestApp};

#[tokio::test]
async fn jwks_publishes_the_active_and_next_public_keys_only() {
    let app = TestApp::spawn().await;
    let jwks = app.get_json("/oauth2/default/v1/keys").await;
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "ACTIVE and NEXT: {jwks}");
    for key in keys {
        assert_eq!(key["kty"], "RSA");
        assert_eq!(key["alg"], "RS256");
        assert_eq!(key["use"], "sig");
        assert!(key["kid"].as_str().is_some_and(|kid| !kid.is_empty()));
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(
                key.get(private).is_none(),
                "private member {private} published"
            );
        }
    }
    let signer = app
        .state
        .engine
        .directory()
        .signer(&AuthServerId::default_server())
        .await
        .unwrap();
    assert_eq!(
        keys[0]["kid"],
        signer.kid().as_str(),
        "the signing key comes first"
    );
}

#[tokio::test]
async fn jwks_is_cacheable_and_answers_304_to_its_etag() {
    let app = TestApp::spawn().await;
    let first = app.get("/oauth2/v1/keys").await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["cache-control"], "public, max-age=86400");
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let again = app
        .http
        .get(format!("{}/oauth2/v1/keys", app.base_url))
        .header("if-none-match", format!("W/{etag}"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
}

#[tokio::test]
async fn servers_do_not_share_keys() {
    let app = TestApp::spawn().await;
    let org = app.get_json("/oauth2/v1/keys").await;
    let default = app.get_json("/oauth2/default/v1/keys").await;
    for key in org["keys"].as_array().unwrap() {
        assert!(!default["keys"].as_array().unwrap().contains(key));
    }
}

/// Signs with authd's signer and verifies with the `jsonwebtoken` crate against the JWKS
/// fetched over HTTP, for every algorithm a server can use.
#[tokio::test]
async fn tokens_signed_with_each_algorithm_verify_against_the_published_jwks() {
    let app = TestApp::spawn_with(Options {
        seed: Some(
            r#"
            [[authorization_servers]]
            id = "rsa"
            signing_alg = "RS256"
            [[authorization_servers]]
            id = "ec"
            signing_alg = "ES256"
            [[authorization_servers]]
            id = "ed"
            signing_alg = "EdDSA"
            "#
            .into(),
        ),
        ..Default::default()
    })
    .await;

    for (server, algorithm) in [
        ("rsa", Algorithm::RS256),
        ("ec", Algorithm::ES256),
        ("ed", Algorithm::EdDSA),
    ] {
        let id = AuthServerId::parse(server).unwrap();
        let issuer = format!("{}/oauth2/{server}", app.base_url);
        let signer = app.state.engine.directory().signer(&id).await.unwrap();
        let now = app.state.engine.now().unix();
        let token = signer
            .sign_jwt(&json!({
                "iss": issuer,
                "aud": format!("api://{server}"),
                "sub": "00utest",
                "iat": now,
                "exp": now + 3600,
            }))
            .unwrap();

        let jwks: JwkSet = app
            .get(&format!("/oauth2/{server}/v1/keys"))
            .await
            .json()
            .await
            .unwrap();
        let header = decode_header(&token).unwrap();
        assert_eq!(header.alg, algorithm, "{server}");
        let kid = header.kid.expect("kid in header");
        let jwk = jwks.find(&kid).expect("signing key published");
        let mut validation = Validation::new(algorithm);
        validation.set_audience(&[format!("api://{server}")]);
        validation.set_issuer(&[issuer.as_str()]);
        let verified =
            decode::<serde_json::Value>(&token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
                .unwrap_or_else(|err| panic!("{server}: {err}"));
        assert_eq!(verified.claims["sub"], "00utest");

        // A token whose payload was altered does not verify.
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged_payload = base64_url(br#"{"sub":"00uattacker"}"#);
        parts[1] = &forged_payload;
        let forged = parts.join(".");
        assert!(decode::<serde_json::Value>(
            &forged,
            &DecodingKey::from_jwk(jwk).unwrap(),
            &validation
        )
        .is_err());
    }
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
