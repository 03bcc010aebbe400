//! The System Log as Okta users query it: sign-ins and their failures, lockouts, sessions,
//! refused token requests and password changes written as Okta LogEvents, read back through
//! `/api/v1/logs` with `filter`, `sortOrder` and paging, by hand and by okta-sdk-nodejs; and
//! events past their retention pruned.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::authn::PASSWORD;
use crate::common::{TestApp, Tweak};

const AGENT: &str = "system-log-test/1.0";

fn lockout_after_two() -> Tweak {
    Some(Box::new(|settings| {
        settings.lockout_threshold = Some("2".into());
    }))
}

async fn sign_in(app: &TestApp, username: &str, password: &str) -> (u16, Value) {
    let response = app
        .http
        .post(format!("{}/api/v1/authn", app.base_url))
        .header("user-agent", AGENT)
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn logs(app: &TestApp, query: &[(&str, &str)]) -> (u16, Value, Option<String>) {
    read_logs(
        app.http
            .get(format!("{}/api/v1/logs", app.base_url))
            .query(query),
    )
    .await
}

/// A page of the System Log: its status, events and `next` link.
async fn read_logs(request: reqwest::RequestBuilder) -> (u16, Value, Option<String>) {
    let response = request
        .header(
            "authorization",
            format!("SSWS {}", crate::common::TEST_ADMIN_TOKEN),
        )
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let next = response
        .headers()
        .get_all("link")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.ends_with("rel=\"next\""))
        .map(|value| value[1..value.find('>').unwrap()].to_owned());
    (status, response.json().await.unwrap(), next)
}

fn types(events: &Value) -> Vec<&str> {
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["eventType"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn sign_ins_lockouts_sessions_and_token_failures_are_logged_and_filtered_as_okta_does() {
    let app = crate::authn::spawn(lockout_after_two()).await;
    let (status, _) = sign_in(&app, "alice@example.com", "Wrong-passw0rd-1").await;
    assert_eq!(status, 401);
    let (status, _) = sign_in(&app, "nobody@example.com", PASSWORD).await;
    assert_eq!(status, 401);
    let (status, success) = sign_in(&app, "alice@example.com", PASSWORD).await;
    assert_eq!(status, 200, "{success}");
    let alice_id = success["_embedded"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // A session from the session token, then ended.
    let (status, session) = app
        .admin_call(
            Method::POST,
            "/api/v1/sessions",
            Some(json!({ "sessionToken": success["sessionToken"] })),
        )
        .await;
    assert_eq!(status, 200, "{session}");
    let session_id = session["id"].as_str().unwrap().to_owned();
    let (status, _) = app
        .admin_call(
            Method::DELETE,
            &format!("/api/v1/sessions/{session_id}"),
            None,
        )
        .await;
    assert_eq!(status, 204);

    // A refused token request.
    let refused = app
        .http
        .post(format!("{}/oauth2/default/v1/token", app.base_url))
        .basic_auth("0oatrustedwebapp0001", Some("not-the-secret-at-all"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", "http://app.example.com/callback"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);

    // Two wrong passwords lock Alice out.
    for _ in 0..2 {
        sign_in(&app, "alice@example.com", "Wrong-passw0rd-1").await;
    }

    // Everything, in the order it happened.
    let (status, all, _) = logs(&app, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(
        types(&all),
        [
            "user.session.start",
            "user.session.start",
            "policy.evaluate_sign_on",
            "user.session.start",
            "user.session.end",
            "app.oauth2.as.token.grant",
            "user.session.start",
            "user.session.start",
            "user.account.lock",
        ],
        "{all:#}"
    );

    // A failed password: Okta's user.session.start, FAILURE, INVALID_CREDENTIALS, with the
    // client that sent it.
    let filter = r#"eventType eq "user.session.start" and outcome.result eq "FAILURE""#;
    let (_, failures, _) = logs(&app, &[("filter", filter)]).await;
    let failures = failures.as_array().unwrap();
    assert_eq!(failures.len(), 4, "{failures:#?}");
    let first = &failures[0];
    assert_eq!(first["outcome"]["reason"], "INVALID_CREDENTIALS");
    assert_eq!(first["actor"]["id"], alice_id.as_str());
    assert_eq!(first["actor"]["type"], "User");
    assert_eq!(first["actor"]["alternateId"], "alice@example.com");
    assert_eq!(first["client"]["ipAddress"], "127.0.0.1");
    assert_eq!(first["client"]["userAgent"]["rawUserAgent"], AGENT);
    assert_eq!(first["authenticationContext"]["credentialType"], "PASSWORD");
    assert_eq!(first["severity"], "WARN");
    assert_eq!(failures[1]["actor"]["id"], "unknown");
    assert_eq!(failures[1]["actor"]["alternateId"], "nobody@example.com");
    // The attempt that crossed the threshold, then the lock.
    assert_eq!(failures[3]["outcome"]["reason"], "INVALID_CREDENTIALS");
    let (_, locks, _) = logs(&app, &[("filter", r#"eventType eq "user.account.lock""#)]).await;
    assert_eq!(locks[0]["target"][0]["id"], alice_id.as_str());

    // By actor: Alice's own events, the anonymous attempt and the client's are not.
    let by_alice = format!(r#"actor.id eq "{alice_id}""#);
    let (_, alice_events, _) = logs(&app, &[("filter", &by_alice)]).await;
    assert_eq!(
        types(&alice_events),
        [
            "user.session.start",
            "policy.evaluate_sign_on",
            "user.session.start",
            "user.session.end",
            "user.session.start",
            "user.session.start",
            "user.account.lock",
        ]
    );
    assert_eq!(alice_events[1]["outcome"]["result"], "ALLOW");
    assert_eq!(
        alice_events[3]["authenticationContext"]["externalSessionId"],
        session_id.as_str()
    );

    let (_, grants, _) = logs(&app, &[("filter", r#"eventType sw "app.oauth2""#)]).await;
    assert_eq!(grants[0]["outcome"]["result"], "FAILURE");
    assert_eq!(grants[0]["outcome"]["reason"], "invalid_client");
    assert_eq!(grants[0]["actor"]["id"], "0oatrustedwebapp0001");
    assert_eq!(
        grants[0]["debugContext"]["debugData"]["grantType"],
        "authorization_code"
    );

    // Newest first is the reverse; pages of two follow the next links to the same list.
    let (_, descending, _) = logs(&app, &[("sortOrder", "DESCENDING")]).await;
    let mut reversed = types(&all);
    reversed.reverse();
    assert_eq!(types(&descending), reversed);
    let mut paged = Vec::new();
    let (_, mut page, mut next) = logs(&app, &[("limit", "2")]).await;
    loop {
        paged.extend(
            page.as_array()
                .unwrap()
                .iter()
                .map(|event| event["uuid"].clone()),
        );
        let Some(url) = next.take() else { break };
        (_, page, next) = read_logs(app.http.get(url)).await;
    }
    let uuids: Vec<Value> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["uuid"].clone())
        .collect();
    assert_eq!(paged, uuids);

    // Milliseconds, in order.
    let published: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["published"].as_str().unwrap())
        .collect();
    assert!(
        published
            .iter()
            .all(|at| at.len() == 24 && at.ends_with('Z')),
        "{published:?}"
    );
    assert!(
        published.windows(2).all(|pair| pair[0] <= pair[1]),
        "{published:?}"
    );

    // A filter Okta would refuse is refused, naming the parameter.
    for (name, value) in [
        ("filter", r#"eventType eq user.session.start"#),
        ("filter", r#"eventType like "x""#),
        ("sortOrder", "SIDEWAYS"),
        ("after", "not-a-cursor"),
    ] {
        let (status, body, _) = logs(&app, &[(name, value)]).await;
        assert_eq!(status, 400, "{name}={value}: {body}");
        assert_eq!(body["errorCode"], "E0000001");
        let cause = body["errorCauses"][0]["errorSummary"].as_str().unwrap();
        assert!(cause.starts_with(&format!("{name}: ")), "{cause}");
    }

    // Past the retention (90 days by default), events are pruned by the maintenance pass.
    app.clock.advance(Duration::from_secs(91 * 86_400));
    app.state.maintain().await.unwrap();
    let (_, kept, _) = logs(&app, &[("since", "2000-01-01T00:00:00Z")]).await;
    assert!(
        types(&kept).iter().all(|kind| !kind.starts_with("user.")),
        "{kept:#}"
    );
}

#[tokio::test]
async fn a_password_change_is_logged_and_okta_sdk_nodejs_reads_the_log_with_a_filter() {
    let app = crate::authn::spawn(None).await;
    let (status, _) = sign_in(&app, "alice@example.com", "Wrong-passw0rd-1").await;
    assert_eq!(status, 401);
    let (status, _) = sign_in(&app, "alice@example.com", PASSWORD).await;
    assert_eq!(status, 200);
    // An expired password changed during sign-in.
    let (status, expired) = sign_in(&app, "expired@example.com", PASSWORD).await;
    assert_eq!(status, 200);
    assert_eq!(expired["status"], "PASSWORD_EXPIRED");
    let changed = app
        .http
        .post(format!(
            "{}/api/v1/authn/credentials/change_password",
            app.base_url
        ))
        .json(&json!({
            "stateToken": expired["stateToken"],
            "oldPassword": PASSWORD,
            "newPassword": "Brand-new-passw0rd-2",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    let (_, updates, _) = logs(
        &app,
        &[("filter", r#"eventType eq "user.account.update_password""#)],
    )
    .await;
    assert_eq!(updates[0]["outcome"]["result"], "SUCCESS");
    assert_eq!(
        updates[0]["target"][0]["alternateId"],
        "expired@example.com"
    );

    let seen = crate::interop_js::node(
        "system_log.mjs",
        vec![
            app.base_url.clone(),
            crate::common::TEST_ADMIN_TOKEN.to_owned(),
            r#"eventType eq "user.session.start""#.to_owned(),
        ],
    )
    .await;
    let ascending = seen["ascending"].as_array().unwrap();
    let results: Vec<&str> = ascending
        .iter()
        .map(|event| event["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["FAILURE", "SUCCESS", "SUCCESS"], "{seen}");
    assert_eq!(ascending[0]["reason"], "INVALID_CREDENTIALS");
    assert_eq!(ascending[0]["actor"], "alice@example.com");
    assert_eq!(ascending[0]["userAgent"], AGENT);
    assert!(ascending
        .iter()
        .all(|event| event["eventType"] == "user.session.start"));
    let mut descending: Vec<Value> = seen["descending"].as_array().unwrap().clone();
    descending.reverse();
    assert_eq!(
        descending
            .iter()
            .map(|event| event["uuid"].clone())
            .collect::<Vec<_>>(),
        ascending
            .iter()
            .map(|event| event["uuid"].clone())
            .collect::<Vec<_>>()
    );
}
