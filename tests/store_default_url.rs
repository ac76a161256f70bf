//! The default store URL (`sqlite://data/jak-sle-cds.db`, relative to the working directory)
//! creates `data/` and the database on first start. Its own test binary: it changes the
//! process's working directory.

use jak_sle_cds::config::StoreSettings;
use jak_sle_cds::store::Store;

#[tokio::test]
async fn the_default_url_creates_data_and_the_database_on_first_start() {
    let dir = tempfile::tempdir().unwrap();
    std::env::set_current_dir(dir.path()).unwrap();
    let store = Store::open(&StoreSettings::default()).await.unwrap();
    store.report(None).await.unwrap();
    store.close().await;
    assert!(dir.path().join("data/jak-sle-cds.db").is_file());
}
