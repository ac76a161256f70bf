//! The jti replay table of PostgreSQL stores (JAK_SLE_CDS_TEST_POSTGRES_URL; skipped with a
//! notice when unset): records expire and are pruned. SQLite stores have none.

mod store_support;

use store_support::TestDb;

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
