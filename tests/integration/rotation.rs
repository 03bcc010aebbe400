use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use authd::keys::seal::Sealer;
use authd::model::{AuthServerId, KeyState};
use authd::store::RotationOutcome;

use crate::common::{Options, TestApp, TEST_SECRET};

const DAY: Duration = Duration::from_secs(86_400);

async fn published_kids(app: &TestApp, path: &str) -> BTreeSet<String> {
    app.get_json(path).await["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["kid"].as_str().unwrap().to_owned())
        .collect()
}

async fn signing_kid(app: &TestApp) -> String {
    app.state
        .engine
        .directory()
        .signer(&AuthServerId::default_server())
        .await
        .unwrap()
        .kid()
        .to_string()
}

async fn kid_in_state(app: &TestApp, state: KeyState) -> Option<String> {
    app.state
        .engine
        .keys()
        .stored_keys(&AuthServerId::default_server())
        .await
        .unwrap()
        .into_iter()
        .find(|key| key.state == state)
        .map(|key| key.kid.to_string())
}

async fn stored_key_count(app: &TestApp) -> usize {
    app.state
        .engine
        .keys()
        .stored_keys(&AuthServerId::default_server())
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn the_next_key_is_published_before_it_signs_and_rotation_follows_the_schedule() {
    let app = TestApp::spawn().await;
    let jwks = "/oauth2/default/v1/keys";
    let first_active = signing_kid(&app).await;
    let first_next = kid_in_state(&app, KeyState::Next).await.unwrap();
    let before = published_kids(&app, jwks).await;
    assert_eq!(
        before,
        BTreeSet::from([first_active.clone(), first_next.clone()])
    );

    // A day short of the 90-day interval nothing changes.
    app.clock.advance(89 * DAY);
    app.state.maintain().await.unwrap();
    assert_eq!(signing_kid(&app).await, first_active);
    assert_eq!(published_kids(&app, jwks).await, before);

    app.clock.advance(DAY);
    app.state.maintain().await.unwrap();
    assert_eq!(
        signing_kid(&app).await,
        first_next,
        "the key published as NEXT is the one that signs"
    );
    let after = published_kids(&app, jwks).await;
    let second_next = kid_in_state(&app, KeyState::Next).await.unwrap();
    assert_eq!(
        after,
        BTreeSet::from([first_active, first_next, second_next]),
        "the retired key stays published, a new NEXT appears"
    );
}

#[tokio::test]
async fn a_retired_key_stays_while_its_tokens_may_live_and_disappears_after() {
    let app = TestApp::spawn().await;
    let jwks = "/oauth2/default/v1/keys";
    let server = app
        .state
        .engine
        .directory()
        .auth_server(&AuthServerId::default_server())
        .await
        .unwrap();
    let retiring = signing_kid(&app).await;
    assert_eq!(
        app.state.engine.rotate_keys(&server).await.unwrap(),
        RotationOutcome::Applied
    );
    assert_ne!(signing_kid(&app).await, retiring);

    let retired = app
        .state
        .engine
        .keys()
        .stored_keys(&server.id)
        .await
        .unwrap()
        .into_iter()
        .find(|key| key.kid.as_str() == retiring)
        .unwrap();
    assert_eq!(retired.state, KeyState::Retired);
    let retired_at = retired.retired_at.unwrap();
    let remove_after = retired.remove_after.unwrap();
    let token_lifetime = app
        .state
        .engine
        .lifetimes()
        .defaults()
        .access_token_lifetime;
    assert!(
        remove_after >= retired_at.plus(token_lifetime),
        "kept at least as long as the last token it signed"
    );

    // Just before that moment the key is still published.
    let wait = (remove_after.unix() - retired_at.unix() - 1) as u64;
    app.clock.advance(Duration::from_secs(wait));
    app.state.maintain().await.unwrap();
    assert!(published_kids(&app, jwks).await.contains(&retiring));

    app.clock.advance(Duration::from_secs(1));
    app.state.maintain().await.unwrap();
    assert!(!published_kids(&app, jwks).await.contains(&retiring));
    assert_eq!(
        stored_key_count(&app).await,
        2,
        "the retired row is deleted"
    );
}

/// Hands out a new key pair only once two have been asked for.
struct BothAsked(std::sync::Barrier);

impl authd::keys::KeySource for BothAsked {
    fn key_pair(
        &self,
        alg: authd::model::SigningAlg,
    ) -> Result<authd::keys::generate::GeneratedKey, authd::keys::Error> {
        self.0.wait();
        authd::keys::generate::generate(alg)
    }
}

#[tokio::test]
async fn two_concurrent_rotations_of_one_server_produce_exactly_one_new_key() {
    let app = TestApp::spawn().await;
    let server = app
        .state
        .engine
        .directory()
        .auth_server(&AuthServerId::default_server())
        .await
        .unwrap();
    // Two replicas' key rings, whose new keys come only once both rotations have asked for
    // one: both have read the keys they replace by then, however the tasks are scheduled.
    let url = authd::config::DatabaseUrl::parse(app.database.url()).unwrap();
    let secret = authd::config::SecretKey::parse(TEST_SECRET).unwrap();
    let both_asked = Arc::new(BothAsked(std::sync::Barrier::new(2)));
    let mut rotations = Vec::new();
    for _ in 0..2 {
        let store = authd::store::connect(&url, Duration::from_secs(10))
            .await
            .unwrap();
        let keys = authd::keys::KeyRing::new(
            store,
            &secret,
            app.clock.clone(),
            *app.state.engine.keys().settings(),
        )
        .unwrap()
        .with_source(both_asked.clone());
        let server = server.clone();
        rotations.push(tokio::spawn(async move { keys.rotate_now(&server).await }));
    }
    let second = rotations.pop().unwrap();
    let first = rotations.pop().unwrap();
    let mut outcomes = [
        first.await.unwrap().unwrap(),
        second.await.unwrap().unwrap(),
    ];
    outcomes.sort_by_key(|outcome| *outcome == RotationOutcome::Superseded);
    assert_eq!(
        outcomes,
        [RotationOutcome::Applied, RotationOutcome::Superseded]
    );
    assert_eq!(stored_key_count(&app).await, 3);
}

#[tokio::test]
async fn two_server_instances_on_one_database_rotate_once() {
    let first = TestApp::spawn().await;
    let second = first.spawn_beside().await;
    assert_eq!(
        stored_key_count(&first).await,
        2,
        "the second start adds no keys"
    );
    assert_eq!(signing_kid(&first).await, signing_kid(&second).await);

    // Both replicas find the schedule due at the same moment.
    first.clock.advance(90 * DAY);
    let (a, b) = tokio::join!(first.state.maintain(), second.state.maintain());
    a.unwrap();
    b.unwrap();
    assert_eq!(
        stored_key_count(&first).await,
        3,
        "one rotation, one new key"
    );
    // The replica whose rotation was superseded learns of the other's within the bound in
    // which every replica follows a change.
    let deadline = std::time::Instant::now() + Duration::from_secs(1);
    loop {
        let agree = signing_kid(&first).await == signing_kid(&second).await
            && published_kids(&first, "/oauth2/default/v1/keys").await
                == published_kids(&second, "/oauth2/default/v1/keys").await;
        if agree {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the replicas still disagree on the keys a second after the rotation"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn replicas_starting_together_on_an_empty_database_create_one_set_of_keys() {
    let database = std::sync::Arc::new(crate::common::TestDatabase::create().await);
    let clock = std::sync::Arc::new(authd::clock::TestClock::new(crate::common::test_start()));
    let (first, second) = tokio::join!(
        TestApp::spawn_with(Options {
            database: Some(database.clone()),
            clock: Some(clock.clone()),
            ..Default::default()
        }),
        TestApp::spawn_with(Options {
            database: Some(database.clone()),
            clock: Some(clock.clone()),
            ..Default::default()
        }),
    );
    assert_eq!(stored_key_count(&first).await, 2);
    assert_eq!(signing_kid(&first).await, signing_kid(&second).await);
}

#[tokio::test]
async fn private_keys_are_sealed_at_rest() {
    let app = TestApp::spawn().await;
    let sealer = Sealer::new(
        authd::config::SecretKey::parse(TEST_SECRET)
            .unwrap()
            .expose(),
    )
    .unwrap();
    let keys = app
        .state
        .engine
        .keys()
        .stored_keys(&AuthServerId::default_server())
        .await
        .unwrap();
    assert_eq!(keys.len(), 2);
    for key in keys {
        let pkcs8 = sealer
            .open(key.kid.as_str(), &key.sealed_private_key)
            .unwrap();
        assert!(pkcs8.len() > 1000, "an RSA-2048 PKCS#8 key");
        let stored = &key.sealed_private_key;
        for window in pkcs8.chunks_exact(16) {
            assert!(
                !stored.windows(window.len()).any(|w| w == window),
                "a piece of the private key is stored in clear"
            );
        }
        assert!(
            ring::signature::RsaKeyPair::from_pkcs8(stored).is_err(),
            "the stored value is not a usable key"
        );
    }
}
