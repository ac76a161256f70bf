//! The jti replay cache shared by replicas: two service instances on one PostgreSQL database
//! (JAK_SLE_CDS_TEST_POSTGRES_URL; skipped with a notice when unset) — a token accepted by
//! one is refused by the other; the table's records expire and are pruned. SQLite stores
//! keep the in-memory cache.

mod common;
mod store_support;

use common::{fixture, sandbox_token, spawn_app, test_config, TestApp};
use sqlx::Row;
use store_support::TestDb;

const PUBLIC_URL: &str = "https://cds.example.org";
const PATH: &str = "/cds-services/jak-sle-order-select";

/// A replica on `db`, behind the same public URL as the others.
async fn replica(db: &TestDb) -> TestApp {
    let mut config = test_config();
    config.store.url = db.url.clone();
    config.server.public_url = Some(PUBLIC_URL.into());
    spawn_app(config).await
}

async fn call(app: &TestApp, token: &str) -> u16 {
    app.post_with_token(PATH, token, fixture("sandbox-r4-order-select.json"))
        .await
        .expect("request sent")
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_accepted_by_one_replica_is_refused_by_the_other() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let (a, b) = (replica(&db).await, replica(&db).await);
    let audience = format!("{PUBLIC_URL}{PATH}");
    let token = sandbox_token(&audience);

    assert_eq!(call(&a, &token).await, 200, "first use, replica A");
    assert_eq!(call(&b, &token).await, 401, "replayed to replica B");
    assert_eq!(call(&a, &token).await, 401, "replayed to replica A");
    let fresh = sandbox_token(&audience);
    assert_eq!(call(&b, &fresh).await, 200, "a fresh token, replica B");

    // One row per token, the jti only as a hash, kept until the token's expiry.
    let pool = db.raw().await;
    let rows = sqlx::query("SELECT issuer, jti, expires_at FROM replay_cache")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    let now = chrono::Utc::now().timestamp();
    for row in rows {
        assert_eq!(row.get::<String, _>("issuer"), common::SANDBOX_ISS);
        assert_eq!(row.get::<String, _>("jti").len(), 64);
        let expires: i64 = row.get("expires_at");
        assert!(
            expires > now && expires <= now + 300 + 3600,
            "{expires} vs {now}"
        );
    }
    pool.close().await;
    a.stop().await;
    b.stop().await;
    db.cleanup().await;
}

#[tokio::test]
async fn records_expire_and_are_pruned() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let store = db.open().await;
    let table = store
        .replay_table()
        .expect("PostgreSQL stores share the cache");
    // Times well after the real clock: the store's own pruner (real time) leaves them alone.
    let t = chrono::Utc::now().timestamp() + 100_000;
    assert!(table.record("iss", "j1", t + 100, t + 50).await.unwrap());
    assert!(
        !table.record("iss", "j1", t + 200, t + 60).await.unwrap(),
        "live"
    );
    assert!(
        table.record("other", "j1", t + 100, t + 60).await.unwrap(),
        "per issuer"
    );
    assert!(
        table.record("iss", "j1", t + 300, t + 100).await.unwrap(),
        "expired: renewed"
    );
    assert!(
        !table.record("iss", "j1", t + 300, t + 150).await.unwrap(),
        "renewed: live"
    );
    assert!(table.record("iss", "j2", t + 120, t + 60).await.unwrap());
    assert_eq!(
        table.prune(t + 250).await.unwrap(),
        2,
        "other/j1 and iss/j2"
    );
    assert!(
        !table.record("iss", "j1", t + 400, t + 260).await.unwrap(),
        "kept"
    );
    store.close().await;
    db.cleanup().await;
}

#[tokio::test]
async fn sqlite_stores_keep_the_in_memory_cache() {
    let db = TestDb::sqlite();
    assert!(db.open().await.replay_table().is_none());
}
