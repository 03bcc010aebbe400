//! The store's concurrency invariants, through its own API and on both backends: what must
//! hold however many requests (on however many replicas) race for one row.

use std::sync::Arc;
use std::time::Duration;

use authd::config::DatabaseUrl;
use authd::model::{
    AuthServerId, AuthorizationCode, ClientId, GrantContext, LockoutPolicy, Presented,
    RefreshTokenRecord, ScopeSet, Timestamp, TokenHash, User, UserId, UserStatus,
};
use authd::store::Store;

use crate::common::TestDatabase;

/// How many callers race for one row.
const RACERS: usize = 16;

const NOW: Timestamp = Timestamp::from_unix(1_800_000_000);

/// Two connection pools on one fresh database, as two replicas have.
async fn two_stores() -> (Arc<dyn Store>, Arc<dyn Store>, TestDatabase) {
    let database = TestDatabase::create().await;
    let url = DatabaseUrl::parse(database.url()).unwrap();
    let first = authd::store::connect(&url, Duration::from_secs(10))
        .await
        .unwrap();
    first.migrate().await.unwrap();
    let second = authd::store::connect(&url, Duration::from_secs(10))
        .await
        .unwrap();
    (first, second, database)
}

async fn a_user(store: &Arc<dyn Store>) -> UserId {
    let user = User {
        id: UserId::generate(),
        status: UserStatus::Active,
        login: format!("racer-{}@example.com", UserId::generate()),
        profile: serde_json::Map::new(),
        password_hash: Some("$argon2id$stored".to_owned()),
        created_at: NOW,
        activated_at: Some(NOW),
        status_changed_at: Some(NOW),
        last_login_at: None,
        updated_at: NOW,
        password_changed_at: Some(NOW),
        failed_sign_ins: 0,
        locked_until: None,
        tokens_valid_after: None,
        groups_revision: 0,
    };
    store.insert_user(&user).await.unwrap();
    user.id
}

fn grant(user: &UserId) -> GrantContext {
    GrantContext {
        grant_id: format!("grant-{}", UserId::generate()),
        auth_server_id: AuthServerId::default_server(),
        client_id: ClientId::generate(),
        user_id: user.clone(),
        scopes: ScopeSet::parse("openid offline_access").unwrap(),
        auth_time: NOW,
        amr: vec!["pwd".to_owned()],
        session_id: None,
    }
}

fn refresh_record(grant: &GrantContext) -> RefreshTokenRecord {
    RefreshTokenRecord {
        grant: grant.clone(),
        created_at: NOW,
        expires_at: NOW.plus(Duration::from_secs(3600)),
        family_expires_at: NOW.plus(Duration::from_secs(86_400)),
    }
}

/// Runs `race` on `RACERS` tasks at once, alternating between the two stores.
async fn race<T, F, Fut>(first: &Arc<dyn Store>, second: &Arc<dyn Store>, race: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(Arc<dyn Store>, usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(RACERS));
    let tasks: Vec<_> = (0..RACERS)
        .map(|i| {
            let store = if i % 2 == 0 { first } else { second }.clone();
            let barrier = barrier.clone();
            let run = race(store, i);
            tokio::spawn(async move {
                barrier.wait().await;
                run.await
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

#[tokio::test]
async fn an_authorization_code_is_redeemed_exactly_once() {
    let (first, second, _database) = two_stores().await;
    let user = a_user(&first).await;
    let grant = grant(&user);
    let code = TokenHash::of("the-code");
    first
        .insert_authorization_code(
            &code,
            &AuthorizationCode {
                grant: grant.clone(),
                redirect_uri: "https://app.example.com/cb".to_owned(),
                nonce: None,
                code_challenge: None,
                expires_at: NOW.plus(Duration::from_secs(60)),
            },
        )
        .await
        .unwrap();
    let record = refresh_record(&grant);
    let redeemed = race(&first, &second, |store, i| {
        let (code, record) = (code.clone(), record.clone());
        async move {
            let issued = TokenHash::of(&format!("refresh-{i}"));
            store
                .consume_authorization_code(&code, NOW, Some((&issued, &record)))
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(
        redeemed.iter().filter(|won| **won).count(),
        1,
        "{redeemed:?}"
    );
    // Only the winner's refresh token was stored.
    let stored = (0..RACERS)
        .map(|i| TokenHash::of(&format!("refresh-{i}")))
        .collect::<Vec<_>>();
    let mut usable = 0;
    for token in &stored {
        if let Presented::Usable(_) = first.find_refresh_token(token, NOW).await.unwrap() {
            usable += 1;
        }
    }
    assert_eq!(usable, 1);
    assert!(matches!(
        first.find_authorization_code(&code, NOW).await.unwrap(),
        Presented::Used { .. }
    ));
}

#[tokio::test]
async fn a_refresh_token_is_rotated_exactly_once() {
    let (first, second, _database) = two_stores().await;
    let user = a_user(&first).await;
    let grant = grant(&user);
    let token = TokenHash::of("the-refresh-token");
    let record = refresh_record(&grant);
    first.insert_refresh_token(&token, &record).await.unwrap();
    let rotated = race(&first, &second, |store, i| {
        let (token, record) = (token.clone(), record.clone());
        async move {
            let successor = TokenHash::of(&format!("successor-{i}"));
            store
                .rotate_refresh_token(&token, NOW, Some((&successor, &record)), None)
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(rotated.iter().filter(|won| **won).count(), 1, "{rotated:?}");
    let winner = rotated.iter().position(|won| *won).unwrap();
    for i in 0..RACERS {
        let successor = TokenHash::of(&format!("successor-{i}"));
        let found = first.find_refresh_token(&successor, NOW).await.unwrap();
        assert_eq!(
            matches!(found, Presented::Usable(_)),
            i == winner,
            "successor {i}: {found:?}"
        );
    }
    assert!(matches!(
        first.find_refresh_token(&token, NOW).await.unwrap(),
        Presented::Used { .. }
    ));
}

#[tokio::test]
async fn every_failed_password_is_counted_and_the_lock_falls_at_the_threshold() {
    let (first, second, _database) = two_stores().await;
    let user = a_user(&first).await;
    let policy = LockoutPolicy {
        threshold: 10,
        duration: Duration::from_secs(900),
    };
    let users = race(&first, &second, |store, _| {
        let user = user.clone();
        async move {
            store
                .record_failed_sign_in(&user, NOW, policy)
                .await
                .unwrap()
        }
    })
    .await;
    // Each failure was counted on top of all before it: none was lost to another's write.
    let mut counts: Vec<u32> = users.iter().map(|user| user.failed_sign_ins).collect();
    counts.sort_unstable();
    assert_eq!(counts, (1..=RACERS as u32).collect::<Vec<_>>());
    let stored = first.get_user(&user).await.unwrap();
    assert_eq!(stored.failed_sign_ins, RACERS as u32);
    assert_eq!(stored.status, UserStatus::LockedOut);
    assert!(stored.locked_until.is_some());
    assert!(
        !first
            .record_successful_sign_in(&user, NOW, "$argon2id$stored", None)
            .await
            .unwrap(),
        "no sign-in succeeds while the lock holds"
    );
}

#[tokio::test]
async fn reads_joined_with_the_user_return_that_user_and_the_revocations_in_force() {
    let (store, _, _database) = two_stores().await;
    let user = a_user(&store).await;
    let stored = store.get_user(&user).await.unwrap();

    // An access token of the user, then its grant, revoked.
    let grant_id = format!("grant-{}", UserId::generate());
    let jti = format!("AT.{grant_id}.1");
    let (found, revoked) = store
        .access_token_user(&jti, &grant_id, &user)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found, revoked), (stored.clone(), false));
    assert!(!store
        .is_access_token_revoked(&jti, &grant_id)
        .await
        .unwrap());
    store
        .revoke_grant(&grant_id, NOW.plus(Duration::from_secs(60)))
        .await
        .unwrap();
    let (_, revoked) = store
        .access_token_user(&jti, &grant_id, &user)
        .await
        .unwrap()
        .unwrap();
    assert!(revoked);
    assert!(store
        .is_access_token_revoked(&jti, &grant_id)
        .await
        .unwrap());
    assert!(store
        .access_token_user(&jti, &grant_id, &UserId::generate())
        .await
        .unwrap()
        .is_none());

    // A session found by its cookie comes with its user, its own columns intact.
    let session = authd::model::Session {
        id: authd::model::SessionId::generate(),
        user_id: user.clone(),
        login: stored.login.clone(),
        created_at: NOW,
        expires_at: NOW.plus(Duration::from_secs(7200)),
        max_expires_at: NOW.plus(Duration::from_secs(86_400)),
        last_password_verification: NOW,
        amr: vec!["pwd".to_owned()],
    };
    let cookie = TokenHash::of("a-session-cookie");
    store.insert_session(&session, &cookie).await.unwrap();
    let (found, found_user) = store
        .get_session_by_cookie(&cookie, NOW)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found, found_user), (session, stored));
    assert!(store
        .get_session_by_cookie(&cookie, NOW.plus(Duration::from_secs(7200)))
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn system_log_events_from_two_replicas_come_back_each_once_in_one_stable_order() {
    use authd::model::LogRange;

    let (first, second, _database) = two_stores().await;
    let written = race(&first, &second, |store, racer| async move {
        for event in 0..4 {
            let event_type = if event % 2 == 0 {
                "user.session.start"
            } else {
                "user.session.end"
            };
            store
                .append_log_event(
                    1_800_000_000_000 + event,
                    event_type,
                    &format!(r#"{{"racer":{racer},"event":{event}}}"#),
                )
                .await
                .unwrap();
        }
    })
    .await;
    assert_eq!(written.len(), RACERS);
    let range =
        |after: Option<i64>, descending: bool, event_type: Option<&str>, limit: u32| LogRange {
            since_ms: 1_800_000_000_000,
            until_ms: 1_800_000_000_004,
            after,
            descending,
            event_type: event_type.map(str::to_owned),
            limit,
        };
    let all = first
        .log_events(&range(None, false, None, 1000))
        .await
        .unwrap();
    assert_eq!(all.len(), RACERS * 4);
    assert!(all
        .windows(2)
        .all(|pair| pair[0].sequence < pair[1].sequence));
    let mut jsons: Vec<&str> = all.iter().map(|event| event.json.as_str()).collect();
    jsons.sort_unstable();
    jsons.dedup();
    assert_eq!(jsons.len(), RACERS * 4, "each event once");
    // The other replica reads the same order; pages by cursor add up to it, both ways.
    let seen_by_second = second
        .log_events(&range(None, false, None, 1000))
        .await
        .unwrap();
    assert_eq!(seen_by_second, all);
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = second
            .log_events(&range(after, false, None, 5))
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.sequence);
        paged.extend(page);
    }
    assert_eq!(paged, all);
    let mut descending = first
        .log_events(&range(None, true, None, 1000))
        .await
        .unwrap();
    descending.reverse();
    assert_eq!(descending, all);
    let ends = first
        .log_events(&range(None, false, Some("user.session.end"), 1000))
        .await
        .unwrap();
    assert_eq!(ends.len(), RACERS * 2);
    assert!(ends
        .iter()
        .all(|event| event.event_type == "user.session.end"));
    // Published before the cut-off (the first two milliseconds) are pruned.
    assert_eq!(
        first.prune_log_events(1_800_000_000_002).await.unwrap(),
        (RACERS * 2) as u64
    );
    let kept = second
        .log_events(&range(None, false, None, 1000))
        .await
        .unwrap();
    assert!(kept
        .iter()
        .all(|event| event.published_ms >= 1_800_000_000_002));
    assert_eq!(kept.len(), RACERS * 2);
}
