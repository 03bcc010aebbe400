use crate::common::TestApp;

#[tokio::test]
async fn default_server_discovery_names_its_issuer_and_keys() {
    let app = TestApp::spawn().await;
    let doc = app
        .get_json("/oauth2/default/.well-known/openid-configuration")
        .await;
    let issuer = format!("{}/oauth2/default", app.base_url);
    assert_eq!(doc["issuer"], issuer.as_str());
    assert_eq!(doc["jwks_uri"], format!("{issuer}/v1/keys").as_str());

    let metadata = app
        .get_json("/oauth2/default/.well-known/oauth-authorization-server")
        .await;
    assert_eq!(metadata["issuer"], issuer.as_str());
    assert_eq!(metadata["jwks_uri"], doc["jwks_uri"]);
}

#[tokio::test]
async fn org_server_discovery_uses_the_base_url_as_issuer() {
    let app = TestApp::spawn().await;
    let doc = app.get_json("/.well-known/openid-configuration").await;
    assert_eq!(doc["issuer"], app.base_url.as_str());
    assert_eq!(
        doc["jwks_uri"],
        format!("{}/oauth2/v1/keys", app.base_url).as_str()
    );
    let metadata = app
        .get_json("/.well-known/oauth-authorization-server")
        .await;
    assert_eq!(metadata["issuer"], app.base_url.as_str());
}

#[tokio::test]
async fn discovery_advertises_the_endpoints_and_features_served() {
    let app = TestApp::spawn().await;
    let doc = app
        .get_json("/oauth2/default/.well-known/openid-configuration")
        .await;
    let issuer = format!("{}/oauth2/default", app.base_url);
    for (field, path) in [
        ("authorization_endpoint", "/v1/authorize"),
        ("token_endpoint", "/v1/token"),
        ("userinfo_endpoint", "/v1/userinfo"),
        ("introspection_endpoint", "/v1/introspect"),
        ("revocation_endpoint", "/v1/revoke"),
        ("end_session_endpoint", "/v1/logout"),
    ] {
        assert_eq!(doc[field], format!("{issuer}{path}").as_str(), "{field}");
    }
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
    assert_eq!(
        doc["response_modes_supported"],
        serde_json::json!(["query", "fragment", "form_post", "okta_post_message"])
    );
    assert!(doc.get("registration_endpoint").is_none(), "not served");
    assert_eq!(doc["request_parameter_supported"], false);

    let oauth = app
        .get_json("/oauth2/default/.well-known/oauth-authorization-server")
        .await;
    assert!(oauth.get("userinfo_endpoint").is_none());
    assert_eq!(oauth["token_endpoint"], doc["token_endpoint"]);

    // Every advertised endpoint answers (none is a 404).
    for field in [
        "token_endpoint",
        "introspection_endpoint",
        "revocation_endpoint",
    ] {
        let response = app
            .http
            .post(doc[field].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_ne!(response.status(), 404, "{field}");
    }
}

#[tokio::test]
async fn discovery_is_cacheable_and_answers_304_to_its_etag() {
    let app = TestApp::spawn().await;
    let path = "/oauth2/default/.well-known/openid-configuration";
    let first = app.get(path).await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["content-type"], "application/json");
    assert_eq!(first.headers()["cache-control"], "public, max-age=86400");
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");

    let again = app
        .http
        .get(format!("{}{path}", app.base_url))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"], etag.as_str());
    assert!(again.bytes().await.unwrap().is_empty());

    let stale = app
        .http
        .get(format!("{}{path}", app.base_url))
        .header("if-none-match", "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);
}

#[tokio::test]
async fn unknown_servers_are_404_in_oktas_error_shape() {
    let app = TestApp::spawn().await;
    for path in [
        "/oauth2/nope/.well-known/openid-configuration",
        "/oauth2/nope/v1/keys",
        // The org server has no path segment of its own.
        "/oauth2/org/v1/keys",
        "/oauth2/bad%20id/v1/keys",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["errorCode"], "E0000007", "{path}");
        for field in ["errorSummary", "errorLink", "errorId", "errorCauses"] {
            assert!(body.get(field).is_some(), "{path}: {field} missing");
        }
    }
}

#[tokio::test]
async fn seeded_servers_have_their_own_issuer() {
    let app = TestApp::spawn_with(crate::common::Options {
        seed: Some(
            r#"
            [[authorization_servers]]
            id = "payments"
            audiences = ["api://payments"]
            "#
            .into(),
        ),
        ..Default::default()
    })
    .await;
    let doc = app
        .get_json("/oauth2/payments/.well-known/openid-configuration")
        .await;
    assert_eq!(
        doc["issuer"],
        format!("{}/oauth2/payments", app.base_url).as_str()
    );
    let jwks = app.get_json("/oauth2/payments/v1/keys").await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
}
