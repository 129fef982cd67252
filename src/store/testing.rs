//! Stores for the library's own tests: a fresh SQLite file, and a fresh schema in the
//! PostgreSQL database named by `GITFERRY_TEST_DATABASE_URL` when it is set (as `.ci/run`
//! does), like the end-to-end tests' `support::db`.

use std::sync::atomic::{AtomicU64, Ordering};

use super::Store;

/// One test's migrated store; a PostgreSQL schema is dropped with it.
pub(crate) struct TestStore {
    pub store: Store,
    pub dialect: &'static str,
    _dir: Option<tempfile::TempDir>,
    pg_cleanup: Option<(String, String)>,
}

static NEXT: AtomicU64 = AtomicU64::new(0);

impl TestStore {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("gitferry.db").display());
        Self {
            store: migrated(&url).await,
            dialect: "sqlite",
            _dir: Some(dir),
            pg_cleanup: None,
        }
    }

    /// `None` when no PostgreSQL is configured (local runs without it).
    pub async fn postgres() -> Option<Self> {
        let base = std::env::var("GITFERRY_TEST_DATABASE_URL").ok()?;
        let schema = format!(
            "gfl_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            super::now_ms() % 1_000_000
        );
        execute_on(&base, &format!("CREATE SCHEMA {schema}")).await;
        let separator = if base.contains('?') { '&' } else { '?' };
        // The application name lets the cleanup end the sessions a test left open.
        let url = format!(
            "{base}{separator}options=-c%20search_path%3D{schema}&application_name={schema}"
        );
        Some(Self {
            store: migrated(&url).await,
            dialect: "postgres",
            _dir: None,
            pg_cleanup: Some((base, schema)),
        })
    }

    /// SQLite always; PostgreSQL too when configured.
    pub async fn all() -> Vec<Self> {
        let mut stores = vec![Self::sqlite().await];
        stores.extend(Self::postgres().await);
        stores
    }
}

async fn migrated(url: &str) -> Store {
    let store = Store::connect(url).await.expect("connect");
    store.migrate().await.expect("migrate");
    store
}

async fn execute_on(url: &str, sql: &str) {
    let admin = Store::connect(url)
        .await
        .expect("GITFERRY_TEST_DATABASE_URL must reach PostgreSQL");
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(admin.pool())
        .await
        .expect("schema statement");
    admin.close().await;
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Some((base, schema)) = self.pg_cleanup.take() {
            // Drop runs outside async: a short-lived runtime on a thread of its own does the
            // I/O, after ending the test's sessions (which would otherwise hold the DROP up).
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(execute_on(
                    &base,
                    &format!(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                          WHERE application_name = '{schema}' AND pid <> pg_backend_pid(); \
                         DROP SCHEMA {schema} CASCADE"
                    ),
                ));
            })
            .join();
        }
    }
}
