//! Groups, app assignments and groups claims: set up by okta-sdk-nodejs as an Okta setup script
//! does, by the seed file, and through the management API's edges (Everyone, Okta's error
//! codes, deletion), with tokens as Okta issues them.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{Options, TestApp};

const PASSWORD: &str = "Groups-passw0rd-1";
const APP: &str = "0oagroupsapp00000001";
const APP_SECRET: &str = "groups-app-secret-0123456789";
const OPEN: &str = "0oaopenapp0000000001";

fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not text: {value}"))
}

fn seed() -> String {
    let user = |login: &str| {
        format!(
            "[[users]]\nlogin = \"{login}\"\npassword = \"{PASSWORD}\"\n[users.profile]\n\
             firstName = \"Test\"\nlastName = \"User\"\nemail = \"{login}\"\n"
        )
    };
    format!(
        r#"
[[authorization_servers]]
id = "default"
audiences = ["api://default"]
[[authorization_servers.claims]]
name = "groups"
value_type = "GROUPS"
group_filter_type = "STARTS_WITH"
value = "team-"
claim_type = "RESOURCE"

[[apps]]
client_id = "{APP}"
client_secret = "{APP_SECRET}"
label = "Assigned app"
application_type = "web"
redirect_uris = ["http://localhost:9999/callback"]
grant_types = ["password", "refresh_token"]
response_types = ["code"]
assigned_groups = ["team-a"]
assigned_users = ["direct@example.com"]

[[apps]]
client_id = "{OPEN}"
client_secret = "{APP_SECRET}"
label = "Everyone's app"
application_type = "web"
redirect_uris = ["http://localhost:9999/callback"]
grant_types = ["password"]
response_types = ["code"]

[[groups]]
name = "team-a"
description = "Team A"
members = ["member@example.com"]

[[groups]]
name = "team-b"
members = ["member@example.com", "direct@example.com"]

{}{}{}"#,
        user("member@example.com"),
        user("direct@example.com"),
        user("nobody@example.com"),
    )
}

async fn spawn() -> TestApp {
    TestApp::spawn_with(Options {
        seed: Some(seed()),
        ..Default::default()
    })
    .await
}

async fn password_grant(app: &TestApp, client: &str, login: &str, scope: &str) -> (u16, Value) {
    let response = app
        .http
        .post(format!("{}/oauth2/default/v1/token", app.base_url))
        .basic_auth(client, Some(APP_SECRET))
        .form(&[
            ("grant_type", "password"),
            ("username", login),
            ("password", PASSWORD),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn okta_sdk_nodejs_sets_up_groups_and_assignments_and_openid_client_gets_the_tokens() {
    let app = TestApp::spawn().await;
    let seen = crate::interop_js::node(
        "groups.mjs",
        vec![
            app.base_url.clone(),
            crate::common::TEST_ADMIN_TOKEN.to_owned(),
        ],
    )
    .await;
    assert_eq!(seen["groupType"], "OKTA_GROUP", "{seen}");
    assert_eq!(seen["searched"], json!(["app-billing", "app-reports"]));
    assert_eq!(seen["billingMembers"], json!(["member@example.com"]));
    assert_eq!(
        seen["memberGroups"],
        json!(["Everyone", "app-billing", "app-reports", "staff"])
    );
    assert_eq!(seen["assignmentPriority"], 0);
    assert_eq!(seen["assignedGroups"], json!([true]));
    assert_eq!(seen["appUserScope"], "GROUP");
    assert_eq!(seen["brokenClaim"]["status"], 400, "{seen}");
    assert_eq!(seen["brokenClaim"]["errorCode"], "E0000001");
    let cause = seen["brokenClaim"]["causes"][0]["errorSummary"].to_string();
    assert!(
        cause.contains("claim \\\"broken\\\"") && cause.contains("takes 3 argument(s), not 2"),
        "{cause}"
    );
    // The member: every group the filter picks, and the expression's value.
    assert_eq!(
        seen["memberGroupsClaim"],
        json!(["app-billing", "app-reports"])
    );
    assert_eq!(seen["memberRole"], "billing-tester");
    assert_eq!(seen["ruleGroups"], json!([true]));
    // The rule for the member's group set their token's lifetime; the outsider's named rule
    // set theirs.
    assert_eq!(seen["memberLifetime"], 900);
    // Outside the assigned group: Okta's refusal, on the redirect and at the token endpoint.
    assert_eq!(
        seen["outsider"],
        json!({
            "error": "access_denied",
            "description": "User is not assigned to the client application.",
            "state": true
        })
    );
    assert_eq!(seen["outsiderPassword"]["status"], 400);
    assert_eq!(seen["outsiderPassword"]["error"], "invalid_grant");
    assert_eq!(
        seen["outsiderPassword"]["error_description"],
        "User is not assigned to the client application."
    );
    // Assigned directly: signed in, in no group the filter picks, so no groups claim.
    assert_eq!(
        seen["outsiderDirect"],
        json!({ "groups": null, "role": "none", "lifetime": 1800 })
    );
    assert_eq!(seen["excludedUsers"], json!([true]));
    assert_eq!(
        seen["excluded"],
        json!({
            "error": "access_denied",
            "description": "Policy evaluation failed for this request, please check the policy configurations.",
            "state": true
        })
    );
    assert_eq!(seen["afterRemoval"]["error"], "access_denied");
    assert_eq!(
        seen["storedGroupsClaim"],
        json!({ "name": "groups", "valueType": "GROUPS", "groupFilterType": "REGEX", "value": "app-.*|staff" })
    );
    assert_eq!(seen["orgScopes"], true);
    assert_eq!(
        seen["orgIdTokenGroups"],
        json!(["app-billing", "app-reports", "staff"])
    );
    assert_eq!(seen["orgWithoutScope"], Value::Null);
    assert_eq!(
        seen["afterDelete"],
        json!(["Everyone", "app-reports", "staff"])
    );
    assert_eq!(seen["appGroupsAfterDelete"], 0);
}

#[tokio::test]
async fn the_seed_file_makes_groups_members_and_assignments() {
    let app = spawn().await;
    // Through the assigned group, with the seeded filter's groups.
    let (status, tokens) = password_grant(&app, APP, "member@example.com", "openid").await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(
        crate::oauth::claims(text(&tokens["access_token"]))["groups"],
        json!(["team-a", "team-b"])
    );
    // Assigned directly.
    let (status, tokens) = password_grant(&app, APP, "direct@example.com", "openid").await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(
        crate::oauth::claims(text(&tokens["access_token"]))["groups"],
        json!(["team-b"])
    );
    // Neither.
    let (status, refused) = password_grant(&app, APP, "nobody@example.com", "openid").await;
    assert_eq!(status, 400);
    assert_eq!(refused["error"], "invalid_grant");
    assert_eq!(
        refused["error_description"],
        "User is not assigned to the client application."
    );
    // An app the seed file assigns nobody to is open to everyone, through Everyone.
    let (status, tokens) = password_grant(&app, OPEN, "nobody@example.com", "openid").await;
    assert_eq!(status, 200, "{tokens}");
    let (status, groups) = app
        .admin_call(Method::GET, &format!("/api/v1/apps/{OPEN}/groups"), None)
        .await;
    assert_eq!(status, 200);
    let everyone = app
        .admin_call(Method::GET, "/api/v1/groups?q=Everyone", None)
        .await
        .1[0]
        .clone();
    assert_eq!(everyone["type"], "BUILT_IN");
    assert_eq!(groups[0]["id"], everyone["id"]);
    let (_, users) = app
        .admin_call(Method::GET, &format!("/api/v1/apps/{APP}/users"), None)
        .await;
    let scopes: Vec<(String, String)> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|user| {
            (
                text(&user["credentials"]["userName"]).to_owned(),
                text(&user["scope"]).to_owned(),
            )
        })
        .collect();
    let mut scopes = scopes;
    scopes.sort();
    assert_eq!(
        scopes,
        [
            ("direct@example.com".to_owned(), "USER".to_owned()),
            ("member@example.com".to_owned(), "GROUP".to_owned())
        ]
    );
}

#[tokio::test]
async fn everyone_cannot_be_changed_and_errors_are_okta_s() {
    let app = spawn().await;
    let (_, everyone) = app
        .admin_call(Method::GET, "/api/v1/groups?q=Everyone", None)
        .await;
    let everyone_id = text(&everyone[0]["id"]).to_owned();
    assert!(everyone_id.starts_with("00g") && everyone_id.len() == 20);
    // Every user is a member, without being stored as one.
    let (status, members) = app
        .admin_call(
            Method::GET,
            &format!("/api/v1/groups/{everyone_id}/users"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(members.as_array().unwrap().len(), 3);
    let (status, refused) = app
        .admin_call(
            Method::PUT,
            &format!("/api/v1/groups/{everyone_id}"),
            Some(json!({ "profile": { "name": "All" } })),
        )
        .await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(refused["errorCode"], "E0000006");
    let (status, refused) = app
        .admin_call(
            Method::DELETE,
            &format!("/api/v1/groups/{everyone_id}"),
            None,
        )
        .await;
    assert_eq!(status, 403, "{refused}");
    let (status, refused) = app
        .admin_call(
            Method::PUT,
            &format!("/api/v1/groups/{everyone_id}/users/member@example.com"),
            None,
        )
        .await;
    assert_eq!(status, 501, "{refused}");
    assert_eq!(refused["errorCode"], "E0000060");
    assert_eq!(refused["errorSummary"], "Unsupported operation.");
    // A taken name, in another case.
    let (status, refused) = app
        .admin_call(
            Method::POST,
            "/api/v1/groups",
            Some(json!({ "profile": { "name": "TEAM-A" } })),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["errorCode"], "E0000001");
    assert_eq!(
        refused["errorCauses"][0]["errorSummary"],
        "name: An object with this field already exists in the current organization"
    );
    let (status, missing) = app
        .admin_call(Method::GET, "/api/v1/groups/00gnosuchgroup000000", None)
        .await;
    assert_eq!(status, 404);
    assert_eq!(missing["errorCode"], "E0000007");
    assert!(
        text(&missing["errorSummary"]).ends_with("(UserGroup)"),
        "{missing}"
    );
    // A user a group assigns cannot be unassigned alone.
    let (_, member) = app
        .admin_call(Method::GET, "/api/v1/users/member@example.com", None)
        .await;
    let (status, refused) = app
        .admin_call(
            Method::DELETE,
            &format!("/api/v1/apps/{APP}/users/{}", text(&member["id"])),
            None,
        )
        .await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(refused["errorCode"], "E0000046");
    // A filter that matches nothing, and a malformed one.
    let (status, none) = app
        .admin_call(
            Method::GET,
            "/api/v1/groups?filter=type%20eq%20%22APP_GROUP%22",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(none, json!([]));
    let (status, refused) = app
        .admin_call(Method::GET, "/api/v1/groups?search=profile.name%20sw", None)
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused["errorCauses"][0]["errorSummary"]
        .as_str()
        .unwrap()
        .starts_with("search: "));
    // Changes are in the System Log under Okta's names.
    let (_, events) = app
        .admin_call(
            Method::GET,
            "/api/v1/logs?filter=eventType%20sw%20%22group.%22",
            None,
        )
        .await;
    let types: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|event| text(&event["eventType"]))
        .collect();
    assert!(types.contains(&"group.profile.update"), "{types:?}");
    assert!(types.contains(&"group.user_membership.add"), "{types:?}");
}

#[tokio::test]
async fn a_deactivated_user_keeps_memberships_and_more_than_100_groups_fail_the_token() {
    let app = spawn().await;
    let (_, member) = app
        .admin_call(Method::GET, "/api/v1/users/member@example.com", None)
        .await;
    let member_id = text(&member["id"]).to_owned();
    for n in 0..100 {
        let (status, group) = app
            .admin_call(
                Method::POST,
                "/api/v1/groups",
                Some(json!({ "profile": { "name": format!("team-{n:03}") } })),
            )
            .await;
        assert_eq!(status, 200, "{group}");
        let (status, _) = app
            .admin_call(
                Method::PUT,
                &format!("/api/v1/groups/{}/users/{member_id}", text(&group["id"])),
                None,
            )
            .await;
        assert_eq!(status, 204);
    }
    // team-a, team-b and 100 more: over Okta's limit of 100, the request fails.
    let (status, refused) = password_grant(&app, APP, "member@example.com", "openid").await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["error"], "server_error");
    assert_eq!(
        refused["error_description"],
        "The groups claim matched too many groups and must be configured to match fewer groups."
    );
    // Deactivated and reactivated, the user is still in every group.
    for operation in ["deactivate", "activate"] {
        let (status, _) = app
            .admin_call(
                Method::POST,
                &format!("/api/v1/users/{member_id}/lifecycle/{operation}"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{operation}");
    }
    let (_, groups) = app
        .admin_call(
            Method::GET,
            &format!("/api/v1/users/{member_id}/groups"),
            None,
        )
        .await;
    assert_eq!(groups.as_array().unwrap().len(), 103);
}

#[tokio::test]
async fn ending_an_assignment_stops_refresh_and_a_group_s_member_cannot_be_unassigned_alone() {
    let app = spawn().await;
    let (status, tokens) =
        password_grant(&app, APP, "direct@example.com", "openid offline_access").await;
    assert_eq!(status, 200, "{tokens}");
    let refresh = |token: String| {
        let app = &app;
        async move {
            let response = app
                .http
                .post(format!("{}/oauth2/default/v1/token", app.base_url))
                .basic_auth(APP, Some(APP_SECRET))
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", token.as_str()),
                ])
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let (status, refreshed) = refresh(text(&tokens["refresh_token"]).to_owned()).await;
    assert_eq!(status, 200, "{refreshed}");
    let (_, direct) = app
        .admin_call(Method::GET, "/api/v1/users/direct@example.com", None)
        .await;
    let (status, _) = app
        .admin_call(
            Method::DELETE,
            &format!("/api/v1/apps/{APP}/users/{}", text(&direct["id"])),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, refused) = refresh(text(&refreshed["refresh_token"]).to_owned()).await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["error"], "invalid_grant");
    assert_eq!(
        refused["error_description"],
        "User is not assigned to the client application."
    );
    // Assigned directly as well as through team-a: removing the direct assignment would change
    // nothing, and is refused as Okta refuses it.
    let (_, member) = app
        .admin_call(Method::GET, "/api/v1/users/member@example.com", None)
        .await;
    let member_id = text(&member["id"]).to_owned();
    let (status, assigned) = app
        .admin_call(
            Method::POST,
            &format!("/api/v1/apps/{APP}/users"),
            Some(json!({ "id": member_id, "scope": "USER", "profile": { "role": "editor" } })),
        )
        .await;
    assert_eq!(status, 200, "{assigned}");
    assert_eq!(assigned["scope"], "USER");
    assert_eq!(assigned["profile"]["role"], "editor");
    let (status, refused) = app
        .admin_call(
            Method::DELETE,
            &format!("/api/v1/apps/{APP}/users/{member_id}"),
            None,
        )
        .await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(refused["errorCode"], "E0000046");
    // An app's groups claim cannot take a name the server sets itself.
    let (_, stored) = app
        .admin_call(Method::GET, &format!("/api/v1/apps/{APP}"), None)
        .await;
    let mut changed = stored.clone();
    changed["authd"] = json!({ "groupsClaim": {
        "name": "sub", "valueType": "GROUPS", "groupFilterType": "EQUALS", "value": "x"
    } });
    let (status, refused) = app
        .admin_call(Method::PUT, &format!("/api/v1/apps/{APP}"), Some(changed))
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused["errorCauses"][0]["errorSummary"]
        .as_str()
        .unwrap()
        .starts_with("authd.groupsClaim: name: \"sub\""));
}

/// The groups claim of a fresh access token for the member, from `app`.
async fn member_groups_claim(app: &TestApp) -> Value {
    let (status, tokens) = password_grant(app, OPEN, "member@example.com", "openid").await;
    assert_eq!(status, 200, "{tokens}");
    crate::oauth::claims(text(&tokens["access_token"]))["groups"].clone()
}

#[tokio::test]
async fn a_membership_change_on_one_replica_is_in_the_next_token_from_the_other() {
    // Every token here is a password sign-in of the same user.
    let first = TestApp::spawn_with(Options {
        seed: Some(seed()),
        settings: Some(Box::new(|settings| {
            settings.authn_rate_limit_per_username = Some("1000".into());
        })),
        ..Default::default()
    })
    .await;
    let second = crate::replicas::another_replica(&first).await;
    let (_, member) = first
        .admin_call(Method::GET, "/api/v1/users/member@example.com", None)
        .await;
    let member_path = |group: &Value| {
        format!(
            "/api/v1/groups/{}/users/{}",
            text(&group["id"]),
            text(&member["id"])
        )
    };
    let (_, team_c) = second
        .admin_call(
            Method::POST,
            "/api/v1/groups",
            Some(json!({ "profile": { "name": "team-c" } })),
        )
        .await;
    // The first replica holds the member's groups from its last token; each change made
    // through the second is in the very next token the first issues.
    for round in 0..10 {
        assert_eq!(
            member_groups_claim(&first).await,
            json!(["team-a", "team-b"]),
            "round {round}"
        );
        let (status, _) = second
            .admin_call(Method::PUT, &member_path(&team_c), None)
            .await;
        assert_eq!(status, 204);
        assert_eq!(
            member_groups_claim(&first).await,
            json!(["team-a", "team-b", "team-c"]),
            "round {round}: added on the other replica"
        );
        let (status, _) = second
            .admin_call(Method::DELETE, &member_path(&team_c), None)
            .await;
        assert_eq!(status, 204);
    }
    // A rename of one of the member's groups, and a deletion.
    let (status, _) = second
        .admin_call(Method::PUT, &member_path(&team_c), None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        member_groups_claim(&first).await,
        json!(["team-a", "team-b", "team-c"])
    );
    let (status, renamed) = second
        .admin_call(
            Method::PUT,
            &format!("/api/v1/groups/{}", text(&team_c["id"])),
            Some(json!({ "profile": { "name": "team-renamed" } })),
        )
        .await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(
        member_groups_claim(&first).await,
        json!(["team-a", "team-b", "team-renamed"])
    );
    let (status, _) = second
        .admin_call(
            Method::DELETE,
            &format!("/api/v1/groups/{}", text(&team_c["id"])),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        member_groups_claim(&first).await,
        json!(["team-a", "team-b"])
    );
}
