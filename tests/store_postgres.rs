//! The same store scenarios on PostgreSQL, when JAK_SLE_CDS_TEST_POSTGRES_URL is set (each
//! test in its own schema, dropped afterwards); otherwise a notice and nothing else.

mod store_support;

use store_support::*;

macro_rules! on_postgres {
    ($name:ident $(, $flavor:tt)?) => {
        #[tokio::test$($flavor)?]
        async fn $name() {
            let Some(db) = TestDb::postgres().await else {
                return;
            };
            store_support::$name(&db).await;
            db.cleanup().await;
        }
    };
}

on_postgres!(feedback_survives_a_restart);
on_postgres!(
    a_burst_of_1000_concurrent_posts_loses_none,
    (flavor = "multi_thread", worker_threads = 2)
);
on_postgres!(repeats_are_stored_once);
on_postgres!(the_audit_keeps_no_patient_id_in_clear);
on_postgres!(the_generated_salt_is_kept_across_restarts);
on_postgres!(the_report_counts_per_topic);
on_postgres!(replicas_starting_together_share_one_salt);
on_postgres!(
    queued_calls_are_all_written_by_close,
    (flavor = "multi_thread", worker_threads = 2)
);

#[tokio::test]
async fn a_configured_salt_gives_the_documented_hash() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let db = db.with_salt("pepper");
    store_support::a_configured_salt_gives_the_documented_hash(&db).await;
    db.cleanup().await;
}
