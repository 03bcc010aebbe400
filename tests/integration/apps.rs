//! Okta's Apps API over HTTP.

use serde_json::{json, Value};

use crate::common::TestApp;

fn service_app() -> Value {
    json!({
        "name": "oidc_client",
        "label": "Billing service",
        "signOnMode": "OPENID_CONNECT",
        "credentials": { "oauthClient": { "token_endpoint_auth_method": "client_secret_post" } },
        "settings": { "oauthClient": { "grant_types": ["client_credentials"], "application_type": "service" } }
    })
}

async fn client_credentials(app: &TestApp, id: &str, secret: &str) -> (u16, Value) {
    let response = app
        .http
        .post(format!("{}/oauth2/default/v1/token", app.base_url))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "api.read"),
            ("client_id", id),
            ("client_secret", secret),
        ])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn an_app_created_through_the_api_gets_tokens_and_its_secret_is_shown_once() {
    let app = crate::oauth::spawn().await;
    let (status, created) = app
        .admin_call(reqwest::Method::POST, "/api/v1/apps", Some(service_app()))
        .await;
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("0oa") && id.len() == 20);
    assert_eq!(
        created["credentials"]["oauthClient"]["client_id"],
        id.as_str()
    );
    let secret = created["credentials"]["oauthClient"]["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(created["status"], "ACTIVE");
    assert_eq!(created["signOnMode"], "OPENID_CONNECT");

    let (_, fetched) = app
        .admin_call(reqwest::Method::GET, &format!("/api/v1/apps/{id}"), None)
        .await;
    assert!(fetched["credentials"]["oauthClient"]
        .get("client_secret")
        .is_none());
    let (_, listed) = app
        .admin_call(reqwest::Method::GET, "/api/v1/apps", None)
        .await;
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["id"] == id.as_str()));

    let (status, tokens) = client_credentials(&app, &id, &secret).await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap().to_owned();

    // Deactivation stops its tokens at once, and the app can no longer get new ones.
    let (status, _) = app
        .admin_call(
            reqwest::Method::POST,
            &format!("/api/v1/apps/{id}/lifecycle/deactivate"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let introspected: Value = app
        .http
        .post(format!("{}/oauth2/default/v1/introspect", app.base_url))
        .form(&[
            ("token", access.as_str()),
            ("client_id", crate::oauth::WEB),
            ("client_secret", crate::oauth::WEB_SECRET),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(introspected["active"], false);
    let (status, body) = client_credentials(&app, &id, &secret).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );

    let (status, _) = app
        .admin_call(
            reqwest::Method::POST,
            &format!("/api/v1/apps/{id}/lifecycle/activate"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(client_credentials(&app, &id, &secret).await.0, 200);
}

#[tokio::test]
async fn apps_are_validated_updated_and_deleted_only_when_inactive() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .admin_call(
            reqwest::Method::POST,
            "/api/v1/apps",
            Some(json!({
                "label": "",
                "settings": { "oauthClient": {
                    "grant_types": ["authorization_code"],
                    "redirect_uris": ["not a uri", "https://x.example/cb#frag"],
                    "application_type": "web"
                } }
            })),
        )
        .await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("E0000001"))
    );
    let causes = body["errorCauses"].to_string();
    assert!(causes.contains("label:"), "{causes}");
    assert!(causes.contains("redirect_uris"), "{causes}");
    let (status, body) = app.admin_call(reqwest::Method::POST,
        "/api/v1/apps",
        Some(json!({ "label": "x", "settings": { "oauthClient": { "application_type": "spaceship" } } })),
    )
    .await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("E0000001"))
    );

    let web = json!({
        "label": "Portal",
        "signOnMode": "OPENID_CONNECT",
        "settings": { "oauthClient": {
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "redirect_uris": ["https://portal.example/cb"],
            "application_type": "web"
        } }
    });
    let (_, created) = app
        .admin_call(reqwest::Method::POST, "/api/v1/apps", Some(web.clone()))
        .await;
    let path = format!("/api/v1/apps/{}", created["id"].as_str().unwrap());
    let mut changed = web;
    changed["settings"]["oauthClient"]["redirect_uris"] = json!(["https://portal.example/new"]);
    let (status, updated) = app
        .admin_call(reqwest::Method::PUT, &path, Some(changed))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        updated["settings"]["oauthClient"]["redirect_uris"],
        json!(["https://portal.example/new"])
    );

    let (status, _) = app.admin_call(reqwest::Method::DELETE, &path, None).await;
    assert_eq!(status, 400, "an active app is not deleted");
    app.admin_call(
        reqwest::Method::POST,
        &format!("{path}/lifecycle/deactivate"),
        None,
    )
    .await;
    let (status, _) = app.admin_call(reqwest::Method::DELETE, &path, None).await;
    assert_eq!(status, 204);
    let (status, body) = app.admin_call(reqwest::Method::GET, &path, None).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (404, Some("E0000007"))
    );
}

#[tokio::test]
async fn a_secret_is_rolled_over_with_two_valid_secrets_and_the_old_one_then_refused() {
    let app = crate::oauth::spawn().await;
    let (_, created) = app
        .admin_call(reqwest::Method::POST, "/api/v1/apps", Some(service_app()))
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let old_secret = created["credentials"]["oauthClient"]["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let secrets_path = format!("/api/v1/apps/{id}/credentials/secrets");

    let (status, listed) = app
        .admin_call(reqwest::Method::GET, &secrets_path, None)
        .await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let old_id = listed[0]["id"].as_str().unwrap().to_owned();
    assert!(old_id.starts_with("ocs"));
    assert_eq!(listed[0]["status"], "ACTIVE");
    assert!(listed[0].get("client_secret").is_none(), "{listed}");

    // The last active secret cannot be deactivated, nor an active one deleted.
    let (status, refused) = app
        .admin_call(
            reqwest::Method::POST,
            &format!("{secrets_path}/{old_id}/lifecycle/deactivate"),
            None,
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["errorCode"], "E0000001");
    let (status, _) = app
        .admin_call(
            reqwest::Method::DELETE,
            &format!("{secrets_path}/{old_id}"),
            None,
        )
        .await;
    assert_eq!(status, 400);

    // A new secret, generated: both work during the rollover.
    let (status, added) = app
        .admin_call(reqwest::Method::POST, &secrets_path, None)
        .await;
    assert_eq!(status, 201, "{added}");
    let new_id = added["id"].as_str().unwrap().to_owned();
    let new_secret = added["client_secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, old_secret);
    assert_ne!(added["secret_hash"], listed[0]["secret_hash"]);
    for secret in [&old_secret, &new_secret] {
        let (status, body) = client_credentials(&app, &id, secret).await;
        assert_eq!(status, 200, "{body}");
    }

    // A third is refused: an app holds two.
    let (status, refused) = app
        .admin_call(
            reqwest::Method::POST,
            &secrets_path,
            Some(json!({ "client_secret": "a-chosen-secret-of-some-length" })),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused["errorCauses"][0]["errorSummary"]
        .as_str()
        .unwrap()
        .contains("at most 2"));

    // The old one is deactivated: refused at once, the new one still works.
    let (status, deactivated) = app
        .admin_call(
            reqwest::Method::POST,
            &format!("{secrets_path}/{old_id}/lifecycle/deactivate"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{deactivated}");
    assert_eq!(deactivated["status"], "INACTIVE");
    let (status, body) = client_credentials(&app, &id, &old_secret).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "invalid_client");
    let (status, _) = client_credentials(&app, &id, &new_secret).await;
    assert_eq!(status, 200);

    // Reactivated it works again; deactivated and deleted it is gone.
    let lifecycle = |op: &str| format!("{secrets_path}/{old_id}/lifecycle/{op}");
    let (status, _) = app
        .admin_call(reqwest::Method::POST, &lifecycle("activate"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(client_credentials(&app, &id, &old_secret).await.0, 200);
    app.admin_call(reqwest::Method::POST, &lifecycle("deactivate"), None)
        .await;
    let (status, _) = app
        .admin_call(
            reqwest::Method::DELETE,
            &format!("{secrets_path}/{old_id}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, missing) = app
        .admin_call(
            reqwest::Method::GET,
            &format!("{secrets_path}/{old_id}"),
            None,
        )
        .await;
    assert_eq!(status, 404, "{missing}");
    assert_eq!(missing["errorCode"], "E0000007");
    let (_, listed) = app
        .admin_call(reqwest::Method::GET, &secrets_path, None)
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], new_id.as_str());

    // A chosen secret that is too short, and an unknown app, are refused.
    let (status, refused) = app
        .admin_call(
            reqwest::Method::POST,
            &secrets_path,
            Some(json!({ "client_secret": "short" })),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    let (status, missing) = app
        .admin_call(
            reqwest::Method::GET,
            "/api/v1/apps/0oanosuchapp000000000/credentials/secrets",
            None,
        )
        .await;
    assert_eq!(status, 404, "{missing}");
}

#[tokio::test]
async fn client_secrets_are_stored_keyed_and_earlier_hashes_are_rekeyed_at_start() {
    use crate::oauth::{SERVICE, SERVICE_SECRET};
    let app = crate::oauth::spawn().await;
    let stored_hash = || async {
        app.database
            .texts(&format!(
                "SELECT secret_hash FROM client_secrets WHERE client_id = '{SERVICE}'"
            ))
            .await
    };
    let digest: String = ring::digest::digest(&ring::digest::SHA256, SERVICE_SECRET.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let keyed = stored_hash().await;
    assert_eq!(keyed.len(), 1);
    assert!(
        keyed[0].starts_with("hmac-sha256:") && !keyed[0].contains(&digest),
        "a guess can be tested offline against {}",
        keyed[0]
    );
    assert_eq!(
        client_credentials(&app, SERVICE, SERVICE_SECRET).await.0,
        200
    );

    // A database written by an earlier version: the bare digest, marked by the migration.
    app.database
        .execute(&format!(
            "UPDATE client_secrets SET secret_hash = 'sha256:{digest}' WHERE client_id = '{SERVICE}'"
        ))
        .await;
    assert_eq!(
        client_credentials(&app, SERVICE, SERVICE_SECRET).await.0,
        200
    );
    assert_eq!(
        client_credentials(&app, SERVICE, "service-secret-wrong")
            .await
            .0,
        401
    );
    // The next server to start re-keys it, to the same keyed hash.
    let restarted = TestApp::spawn_with(crate::common::Options {
        database: Some(app.database.clone()),
        clock: Some(app.clock.clone()),
        ..Default::default()
    })
    .await;
    assert_eq!(stored_hash().await, keyed);
    assert_eq!(
        client_credentials(&restarted, SERVICE, SERVICE_SECRET)
            .await
            .0,
        200
    );
    assert_eq!(
        client_credentials(&app, SERVICE, SERVICE_SECRET).await.0,
        200
    );
}

#[tokio::test]
async fn the_minimum_client_secret_length_is_the_same_in_the_api_and_the_seed_file() {
    let app = crate::oauth::spawn().await;
    let chosen = |secret: &str| {
        let mut spec = service_app();
        spec["credentials"]["oauthClient"]["client_secret"] = json!(secret);
        spec
    };
    let (status, refused) = app
        .admin_call(
            reqwest::Method::POST,
            "/api/v1/apps",
            Some(chosen("13-characters")),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(
        refused["errorCauses"][0]["errorSummary"],
        "credentials.oauthClient.client_secret: must be at least 14 characters"
    );
    let (status, created) = app
        .admin_call(
            reqwest::Method::POST,
            "/api/v1/apps",
            Some(chosen("14-characters!")),
        )
        .await;
    assert_eq!(status, 200, "{created}");

    let seed = |secret: &str| {
        format!(
            "[[apps]]\nclient_id = \"0oaseededservice0001\"\nclient_secret = \"{secret}\"\n\
             label = \"Seeded\"\napplication_type = \"service\"\n\
             grant_types = [\"client_credentials\"]\n"
        )
    };
    let (code, message) = crate::seed::run_seed_command(&seed("13-characters")).await;
    assert_eq!(code, Some(1));
    assert!(
        message
            .contains("apps.0oaseededservice0001: client_secret: must be at least 14 characters"),
        "{message}"
    );
    let (code, message) = crate::seed::run_seed_command(&seed("14-characters!")).await;
    assert_eq!(code, Some(0), "{message}");
}

#[tokio::test]
async fn apps_are_listed_by_label_prefix_and_status_in_pages_with_link_headers() {
    let app = crate::oauth::spawn().await;
    for label in ["Billing one", "Billing two", "Billing three"] {
        let mut body = service_app();
        body["label"] = label.into();
        app.admin_call(reqwest::Method::POST, "/api/v1/apps", Some(body))
            .await;
    }
    let (_, listed, _) = app
        .admin(reqwest::Method::GET, "/api/v1/apps?q=billing", None)
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 3, "{listed}");

    let mut labels = Vec::new();
    let mut next = Some(format!(
        "{}/api/v1/apps?q=Billing&filter=status%20eq%20%22ACTIVE%22&limit=2",
        app.base_url
    ));
    while let Some(url) = next.take() {
        let path = url.strip_prefix(&app.base_url).unwrap().to_owned();
        let (status, page, headers) = app.admin(reqwest::Method::GET, &path, None).await;
        assert_eq!(status, 200, "{page}");
        labels.extend(
            page.as_array()
                .unwrap()
                .iter()
                .map(|app| app["label"].as_str().unwrap().to_owned()),
        );
        next = headers
            .get_all("link")
            .iter()
            .map(|value| value.to_str().unwrap())
            .find(|link| link.ends_with("rel=\"next\""))
            .map(|link| link[1..link.find('>').unwrap()].to_owned());
    }
    labels.sort();
    assert_eq!(labels, ["Billing one", "Billing three", "Billing two"]);

    let (_, inactive, _) = app
        .admin(
            reqwest::Method::GET,
            "/api/v1/apps?filter=status%20eq%20%22INACTIVE%22",
            None,
        )
        .await;
    assert_eq!(inactive, serde_json::json!([]));
    let (status, refused, _) = app
        .admin(
            reqwest::Method::GET,
            "/api/v1/apps?filter=label%20sw%20%22B%22",
            None,
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["errorCode"], "E0000001");
}
