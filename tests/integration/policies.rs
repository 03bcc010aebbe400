//! Scopes, claims and access policies of authorization servers over the management API, and
//! the policies' enforcement at the token and authorization endpoints.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::oauth::{PASSWORD, REDIRECT, SERVICE, SERVICE_SECRET, TRUSTED, WEB};

async fn token(app: &TestApp, server: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let response = app
        .http
        .post(format!("{}/oauth2/{server}/v1/token", app.base_url))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn service_token(app: &TestApp, server: &str, scope: &str) -> (u16, Value) {
    token(
        app,
        server,
        &[
            ("grant_type", "client_credentials"),
            ("scope", scope),
            ("client_id", SERVICE),
            ("client_secret", SERVICE_SECRET),
        ],
    )
    .await
}

async fn password_token(app: &TestApp) -> (u16, Value) {
    token(
        app,
        "default",
        &[
            ("grant_type", "password"),
            ("username", "alice@example.com"),
            ("password", PASSWORD),
            ("scope", "openid offline_access"),
            ("client_id", TRUSTED),
            ("client_secret", "trusted-secret-0123456789"),
        ],
    )
    .await
}

fn rule(name: &str, grants: &[&str], scopes: &[&str], minutes: Option<u64>) -> Value {
    let mut rule = json!({
        "type": "RESOURCE_ACCESS",
        "name": name,
        "conditions": {
            "people": { "groups": { "include": ["EVERYONE"] } },
            "grantTypes": { "include": grants },
            "scopes": { "include": scopes },
        },
    });
    if let Some(minutes) = minutes {
        rule["actions"] = json!({ "token": { "accessTokenLifetimeMinutes": minutes } });
    }
    rule
}

#[tokio::test]
async fn scopes_and_claims_are_created_listed_replaced_and_deleted() {
    let app = crate::oauth::spawn().await;
    let (status, server) = app
        .admin_call(
            Method::POST,
            "/api/v1/authorizationServers",
            Some(json!({ "name": "Orders", "audiences": ["api://orders"] })),
        )
        .await;
    assert_eq!(status, 201, "{server}");
    let base = format!(
        "/api/v1/authorizationServers/{}",
        server["id"].as_str().unwrap()
    );

    let (status, scope) = app.admin_call(Method::POST,
        &format!("{base}/scopes"),
        Some(json!({ "name": "orders:read", "description": "Read orders", "metadataPublish": "ALL_CLIENTS" })),
    )
    .await;
    assert_eq!(status, 201, "{scope}");
    let scope_id = scope["id"].as_str().unwrap().to_owned();
    assert!(scope_id.starts_with("scp"));
    assert_eq!(scope["consent"], "IMPLICIT");
    let discovery = app
        .get_json(&format!(
            "/oauth2/{}/.well-known/openid-configuration",
            server["id"].as_str().unwrap()
        ))
        .await;
    assert!(discovery["scopes_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("orders:read")));

    for (body, field) in [
        (json!({ "name": "orders:read" }), "name"),
        (json!({ "name": "okta.users.read" }), "name"),
        (json!({ "name": "has space" }), "name"),
        (json!({ "description": "no name" }), "name"),
    ] {
        let (status, refused) = app
            .admin_call(Method::POST, &format!("{base}/scopes"), Some(body))
            .await;
        assert_eq!(status, 400, "{refused}");
        assert_eq!(refused["errorCode"], "E0000001");
        assert!(
            refused["errorCauses"][0]["errorSummary"]
                .as_str()
                .unwrap()
                .contains(field),
            "{refused}"
        );
    }

    let (status, replaced) = app
        .admin_call(
            Method::PUT,
            &format!("{base}/scopes/{scope_id}"),
            Some(json!({ "name": "orders:list", "default": true })),
        )
        .await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["id"], scope_id.as_str());
    let (_, listed) = app
        .admin_call(Method::GET, &format!("{base}/scopes"), None)
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["name"], "orders:list");
    assert_eq!(listed[0]["default"], true);

    let (status, claim) = app
        .admin_call(
            Method::POST,
            &format!("{base}/claims"),
            Some(json!({
                "name": "app_name", "status": "ACTIVE", "claimType": "RESOURCE",
                "valueType": "EXPRESSION", "value": "app.label",
                "conditions": { "scopes": ["orders:list"] }
            })),
        )
        .await;
    assert_eq!(status, 201, "{claim}");
    let claim_id = claim["id"].as_str().unwrap().to_owned();
    assert_eq!(claim["conditions"]["scopes"], json!(["orders:list"]));
    for (body, field) in [
        (
            json!({ "name": "g", "claimType": "RESOURCE", "valueType": "GROUPS", "value": "x" }),
            "valueType",
        ),
        (
            json!({ "name": "p", "claimType": "RESOURCE", "valueType": "EXPRESSION", "value": "user.getPassword()" }),
            "value",
        ),
        (
            json!({ "name": "app_name", "claimType": "RESOURCE", "valueType": "EXPRESSION", "value": "app.id" }),
            "name",
        ),
    ] {
        let (status, refused) = app
            .admin_call(Method::POST, &format!("{base}/claims"), Some(body))
            .await;
        assert_eq!(status, 400, "{refused}");
        assert!(
            refused["errorCauses"][0]["errorSummary"]
                .as_str()
                .unwrap()
                .contains(field),
            "{refused}"
        );
    }
    let (status, replaced) = app
        .admin_call(
            Method::PUT,
            &format!("{base}/claims/{claim_id}"),
            Some(json!({
                "name": "app_name", "status": "INACTIVE", "claimType": "IDENTITY",
                "valueType": "EXPRESSION", "value": "\"fixed\""
            })),
        )
        .await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["status"], "INACTIVE");
    let (_, fetched) = app
        .admin_call(Method::GET, &format!("{base}/claims/{claim_id}"), None)
        .await;
    assert_eq!(fetched["claimType"], "IDENTITY");

    for path in [
        format!("{base}/claims/{claim_id}"),
        format!("{base}/scopes/{scope_id}"),
    ] {
        let (status, _) = app.admin_call(Method::DELETE, &path, None).await;
        assert_eq!(status, 204);
        let (status, missing) = app.admin_call(Method::GET, &path, None).await;
        assert_eq!(status, 404, "{missing}");
        assert_eq!(missing["errorCode"], "E0000007");
    }
    let (status, _) = app
        .admin_call(
            Method::GET,
            "/api/v1/authorizationServers/ausnosuchserver000000/scopes",
            None,
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_default_scope_is_granted_when_client_credentials_ask_for_none() {
    let app = crate::oauth::spawn().await;
    let (status, body) = service_token(&app, "default", "").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_scope");
    let (_, scopes) = app
        .admin_call(
            Method::GET,
            "/api/v1/authorizationServers/default/scopes",
            None,
        )
        .await;
    let read = scopes
        .as_array()
        .unwrap()
        .iter()
        .find(|scope| scope["name"] == "api.read")
        .unwrap();
    let (status, _) = app
        .admin_call(
            Method::PUT,
            &format!(
                "/api/v1/authorizationServers/default/scopes/{}",
                read["id"].as_str().unwrap()
            ),
            Some(json!({ "name": "api.read", "default": true })),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = service_token(&app, "default", "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "api.read");
}

#[tokio::test]
async fn policies_decide_which_clients_grants_and_scopes_get_tokens_and_for_how_long() {
    let app = crate::oauth::spawn().await;
    let policies = "/api/v1/authorizationServers/default/policies";

    // Okta's default policy lets everything through.
    let (status, listed) = app.admin_call(Method::GET, policies, None).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["name"], "Default Policy");
    assert_eq!(
        listed[0]["conditions"]["clients"]["include"],
        json!(["ALL_CLIENTS"])
    );
    let default_id = listed[0]["id"].as_str().unwrap().to_owned();
    let (_, rules) = app
        .admin_call(Method::GET, &format!("{policies}/{default_id}/rules"), None)
        .await;
    assert_eq!(rules[0]["conditions"]["scopes"]["include"], json!(["*"]));
    assert_eq!(service_token(&app, "default", "api.write").await.0, 200);

    // Only the service, only client credentials, only api.read, for five minutes.
    let (status, _) = app
        .admin_call(
            Method::POST,
            &format!("{policies}/{default_id}/lifecycle/deactivate"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, service_policy) = app
        .admin_call(
            Method::POST,
            policies,
            Some(json!({
                "type": "OAUTH_AUTHORIZATION_POLICY", "name": "Service", "description": "m2m",
                "priority": 1, "conditions": { "clients": { "include": [SERVICE] } }
            })),
        )
        .await;
    assert_eq!(status, 201, "{service_policy}");
    let service_policy_id = service_policy["id"].as_str().unwrap().to_owned();
    let rules_path = format!("{policies}/{service_policy_id}/rules");
    let (status, service_rule) = app
        .admin_call(
            Method::POST,
            &rules_path,
            Some(rule(
                "Read only",
                &["client_credentials"],
                &["api.read"],
                Some(5),
            )),
        )
        .await;
    assert_eq!(status, 201, "{service_rule}");
    assert_eq!(
        service_rule["actions"]["token"]["accessTokenLifetimeMinutes"],
        5
    );

    let (status, body) = service_token(&app, "default", "api.read").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], 300);
    let (status, body) = service_token(&app, "default", "api.read api.write").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "access_denied");
    assert_eq!(
        body["error_description"],
        "Policy evaluation failed for this request, please check the policy configurations."
    );
    // No active policy names the trusted app.
    assert_eq!(password_token(&app).await.1["error"], "access_denied");

    // The authorization endpoint refuses before anyone signs in, in the redirect.
    let response = crate::oauth::http_client()
        .get(format!("{}/oauth2/default/v1/authorize", app.base_url))
        .query(&[
            ("client_id", WEB),
            ("response_type", "code"),
            ("scope", "openid"),
            ("redirect_uri", REDIRECT),
            ("state", "s1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(REDIRECT), "{location}");
    assert!(location.contains("error=access_denied"), "{location}");
    assert!(location.contains("state=s1"), "{location}");

    // Everyone else: the password grant, only with the scopes its rule names. As on Okta, the
    // rule names the grant that starts a family; refreshing that family needs nothing more.
    let (status, everyone) = app.admin_call(Method::POST,
        policies,
        Some(json!({ "name": "Everyone", "priority": 2, "conditions": { "clients": { "include": ["ALL_CLIENTS"] } } })),
    )
    .await;
    assert_eq!(status, 201, "{everyone}");
    let everyone_rules = format!("{policies}/{}/rules", everyone["id"].as_str().unwrap());
    let (_, password_rule) = app
        .admin_call(
            Method::POST,
            &everyone_rules,
            Some(rule("Password", &["password"], &["openid"], None)),
        )
        .await;
    let (status, body) = password_token(&app).await;
    assert_eq!(status, 403, "offline_access is not in the rule: {body}");
    let password_rule_path = format!("{everyone_rules}/{}", password_rule["id"].as_str().unwrap());
    let (status, replaced) = app
        .admin_call(
            Method::PUT,
            &password_rule_path,
            Some(rule(
                "Password",
                &["password"],
                &["openid", "offline_access"],
                None,
            )),
        )
        .await;
    assert_eq!(status, 200, "{replaced}");
    let (status, body) = password_token(&app).await;
    assert_eq!(status, 200, "{body}");
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    let (status, body) = token(
        &app,
        "default",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", TRUSTED),
            ("client_secret", "trusted-secret-0123456789"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // A refresh the policies refuse leaves the refresh token usable for when they allow it.
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    let refresh_form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("client_id", TRUSTED),
        ("client_secret", "trusted-secret-0123456789"),
    ];
    app.admin_call(
        Method::PUT,
        &password_rule_path,
        Some(rule("Password", &["password"], &["openid"], None)),
    )
    .await;
    let (status, body) = token(&app, "default", &refresh_form).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "access_denied");
    app.admin_call(
        Method::PUT,
        &password_rule_path,
        Some(rule(
            "Password",
            &["password"],
            &["openid", "offline_access"],
            None,
        )),
    )
    .await;
    let (status, body) = token(&app, "default", &refresh_form).await;
    assert_eq!(status, 200, "{body}");

    // A rule for the code flow does not let tokens out of /authorize (hybrid needs implicit).
    let (status, _) = app
        .admin_call(
            Method::POST,
            &everyone_rules,
            Some(rule("Code", &["authorization_code"], &["*"], None)),
        )
        .await;
    assert_eq!(status, 201);
    let authorize = |response_type: &'static str| {
        let url = format!("{}/oauth2/default/v1/authorize", app.base_url);
        async move {
            let response = crate::oauth::http_client()
                .get(url)
                .query(&[
                    ("client_id", WEB),
                    ("response_type", response_type),
                    ("scope", "openid"),
                    ("redirect_uri", REDIRECT),
                    ("state", "s2"),
                    ("nonce", "n2"),
                ])
                .send()
                .await
                .unwrap();
            response.headers()["location"].to_str().unwrap().to_owned()
        }
    };
    let code_only = authorize("code").await;
    assert!(!code_only.contains("error="), "{code_only}");
    let hybrid = authorize("code token").await;
    assert!(hybrid.starts_with(REDIRECT), "{hybrid}");
    assert!(hybrid.contains("error=access_denied"), "{hybrid}");

    // The service's only rule deactivated: its policy matched first, so nothing is issued.
    let (status, _) = app
        .admin_call(
            Method::POST,
            &format!(
                "{rules_path}/{}/lifecycle/deactivate",
                service_rule["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(service_token(&app, "default", "api.read").await.0, 403);
    // Deleting that policy leaves the service to "Everyone", which does not allow its grant.
    let (status, _) = app
        .admin_call(
            Method::DELETE,
            &format!("{policies}/{service_policy_id}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(service_token(&app, "default", "api.read").await.0, 403);
    let (status, _) = app
        .admin_call(
            Method::POST,
            &format!("{policies}/{default_id}/lifecycle/activate"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    // "Everyone" is priority 2, the default policy priority 1 again: everything passes.
    assert_eq!(service_token(&app, "default", "api.read").await.0, 200);
}

#[tokio::test]
async fn a_new_server_issues_nothing_until_a_policy_allows_it_and_bad_policies_are_refused() {
    let app = crate::oauth::spawn().await;
    let (_, server) = app
        .admin_call(
            Method::POST,
            "/api/v1/authorizationServers",
            Some(json!({ "name": "Fresh", "audiences": ["api://fresh"] })),
        )
        .await;
    let id = server["id"].as_str().unwrap().to_owned();
    let base = format!("/api/v1/authorizationServers/{id}");
    app.admin_call(
        Method::POST,
        &format!("{base}/scopes"),
        Some(json!({ "name": "fresh" })),
    )
    .await;
    let (status, body) = service_token(&app, &id, "fresh").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "access_denied");

    for (body, field) in [
        (
            json!({ "name": "No clients", "conditions": { "clients": { "include": [] } } }),
            "conditions.clients",
        ),
        (
            json!({ "name": "", "conditions": { "clients": { "include": ["ALL_CLIENTS"] } } }),
            "name",
        ),
        (
            json!({ "type": "OKTA_SIGN_ON", "name": "x", "conditions": { "clients": { "include": ["ALL_CLIENTS"] } } }),
            "type",
        ),
    ] {
        let (status, refused) = app
            .admin_call(Method::POST, &format!("{base}/policies"), Some(body))
            .await;
        assert_eq!(status, 400, "{refused}");
        assert!(
            refused["errorCauses"].to_string().contains(field),
            "{refused}"
        );
    }
    let (status, policy) = app.admin_call(Method::POST,
        &format!("{base}/policies"),
        Some(json!({ "name": "All", "conditions": { "clients": { "include": ["ALL_CLIENTS"] } } })),
    )
    .await;
    assert_eq!(status, 201, "{policy}");
    assert_eq!(policy["priority"], 1);
    let rules = format!("{base}/policies/{}/rules", policy["id"].as_str().unwrap());
    let mut group_rule = rule("Groups", &["client_credentials"], &["fresh"], None);
    group_rule["conditions"]["people"] = json!({ "groups": { "include": ["00gadmins"] } });
    for (body, field) in [
        (
            rule("Unknown scope", &["client_credentials"], &["nope"], None),
            "conditions.scopes",
        ),
        (
            rule("Too short", &["client_credentials"], &["fresh"], Some(1)),
            "accessTokenLifetimeMinutes",
        ),
        (
            rule("No grants", &[], &["fresh"], None),
            "conditions.grantTypes",
        ),
        (group_rule, "conditions.people"),
    ] {
        let (status, refused) = app.admin_call(Method::POST, &rules, Some(body)).await;
        assert_eq!(status, 400, "{refused}");
        assert!(
            refused["errorCauses"].to_string().contains(field),
            "{refused}"
        );
    }
    let (status, missing) = app
        .admin_call(Method::GET, &format!("{rules}/0prnosuchrule00000000"), None)
        .await;
    assert_eq!(status, 404, "{missing}");
    assert_eq!(missing["errorCode"], "E0000007");

    let (status, _) = app
        .admin_call(
            Method::POST,
            &rules,
            Some(rule("Fresh", &["client_credentials"], &["fresh"], None)),
        )
        .await;
    assert_eq!(status, 201);
    let (status, body) = service_token(&app, &id, "fresh").await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn concurrent_changes_to_one_server_are_all_kept() {
    let app = crate::oauth::spawn().await;
    let path = "/api/v1/authorizationServers/default/scopes";
    let mut creates = tokio::task::JoinSet::new();
    for n in 0..12 {
        let request = app
            .http
            .post(format!("{}{path}", app.base_url))
            .header(
                "authorization",
                format!("SSWS {}", crate::common::TEST_ADMIN_TOKEN),
            )
            .json(&json!({ "name": format!("parallel.{n}") }));
        creates.spawn(async move { request.send().await.unwrap().status().as_u16() });
    }
    let statuses = creates.join_all().await;
    assert!(statuses.iter().all(|status| *status == 201), "{statuses:?}");
    let (_, listed) = app.admin_call(Method::GET, path, None).await;
    let parallel = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|scope| scope["name"].as_str().unwrap().starts_with("parallel."))
        .count();
    assert_eq!(parallel, 12);
}

#[tokio::test]
async fn servers_stored_before_policies_existed_are_given_the_default_policy_at_start() {
    let first = crate::oauth::spawn().await;
    // As a database written before access policies existed holds them.
    first
        .database
        .execute("UPDATE authorization_servers SET policies = NULL")
        .await;
    let second = first.spawn_beside().await;
    assert_eq!(
        first
            .database
            .texts("SELECT id FROM authorization_servers WHERE policies IS NULL")
            .await,
        Vec::<String>::new()
    );
    assert_eq!(
        first
            .database
            .texts("SELECT policies FROM authorization_servers WHERE id = 'org'")
            .await,
        ["[]"]
    );
    let (_, policies) = second
        .admin_call(
            Method::GET,
            "/api/v1/authorizationServers/default/policies",
            None,
        )
        .await;
    assert_eq!(policies[0]["name"], "Default Policy", "{policies}");
    let (status, body) = service_token(&second, "default", "api.read").await;
    assert_eq!(status, 200, "{body}");
}
