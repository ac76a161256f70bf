//! The store on SQLite (the default): durability across restarts, concurrency, idempotency,
//! no identifiers in clear, report counts; plus SQLite specifics (file creation, WAL).

mod store_support;

use store_support::*;

#[tokio::test]
async fn feedback_survives_a_restart() {
    store_support::feedback_survives_a_restart(&TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_1000_concurrent_posts_loses_none() {
    store_support::a_burst_of_1000_concurrent_posts_loses_none(&TestDb::sqlite()).await;
}

#[tokio::test]
async fn repeats_are_stored_once() {
    store_support::repeats_are_stored_once(&TestDb::sqlite()).await;
}

#[tokio::test]
async fn the_audit_keeps_no_patient_id_in_clear() {
    store_support::the_audit_keeps_no_patient_id_in_clear(&TestDb::sqlite()).await;
}

#[tokio::test]
async fn a_configured_salt_gives_the_documented_hash() {
    store_support::a_configured_salt_gives_the_documented_hash(
        &TestDb::sqlite().with_salt("pepper"),
    )
    .await;
}

#[tokio::test]
async fn the_generated_salt_is_kept_across_restarts() {
    store_support::the_generated_salt_is_kept_across_restarts(&TestDb::sqlite()).await;
}

#[tokio::test]
async fn the_report_counts_per_topic() {
    store_support::the_report_counts_per_topic(&TestDb::sqlite()).await;
}

#[tokio::test]
async fn the_database_file_and_its_directory_are_created_in_wal_mode() {
    let db = TestDb::sqlite();
    let store = db.open().await;
    store
        .record_audit(&call(chrono::Utc::now(), None))
        .await
        .unwrap();
    let data = db.sqlite_dir().unwrap().join("data");
    assert!(data.join("cds.db").is_file() && data.join("cds.db-wal").is_file());
}

#[tokio::test]
async fn no_byte_of_the_database_files_holds_the_patient_id() {
    let db = TestDb::sqlite();
    let store = db.open().await;
    for _ in 0..3 {
        store
            .record_audit(&call(chrono::Utc::now(), Some(PATIENT)))
            .await
            .unwrap();
    }
    drop(store);
    let data = db.sqlite_dir().unwrap().join("data");
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(&data).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let needle = PATIENT.as_bytes();
    assert!(!bytes.is_empty() && !bytes.windows(needle.len()).any(|w| w == needle));
}

#[tokio::test]
async fn an_unknown_url_scheme_is_refused() {
    assert!(jak_sle_cds::store::Store::connect("mysql://x/y")
        .await
        .is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_calls_are_all_written_by_close() {
    store_support::queued_calls_are_all_written_by_close(&TestDb::sqlite()).await;
}

/// While another connection holds SQLite's write lock the writer cannot store anything: the
/// queue fills, further records are dropped and counted, and `queue_call` never waits. Once
/// the lock is released, everything that was accepted is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_audit_queue_drops_and_counts_instead_of_waiting() {
    use jak_sle_cds::store::AUDIT_QUEUE_CAPACITY;
    let db = TestDb::sqlite();
    let store = db.open().await;
    let raw = db.raw().await;
    let mut lock = raw.acquire().await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let total = AUDIT_QUEUE_CAPACITY + 1000;
    let started = std::time::Instant::now();
    let accepted = (0..total)
        .filter(|_| store.queue_call(call(chrono::Utc::now(), None), &[]))
        .count();
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert!(
        accepted >= AUDIT_QUEUE_CAPACITY && accepted < total,
        "{accepted}"
    );
    assert_eq!(store.audit_dropped(), (total - accepted) as u64);
    sqlx::query("COMMIT").execute(&mut *lock).await.unwrap();
    drop(lock);
    raw.close().await;
    store.close().await;
    assert_eq!(audit_rows(&db).await, accepted as i64);
}
