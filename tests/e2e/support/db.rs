//! Databases for tests: a fresh SQLite file, or a fresh schema in the PostgreSQL database
//! named by `GITFERRY_TEST_DATABASE_URL` (set by `.ci/run`).

use std::sync::atomic::{AtomicU64, Ordering};

/// One test's database; the PostgreSQL schema is dropped when it goes out of scope.
pub struct TestDb {
    pub url: String,
    pub dialect: &'static str,
    _dir: Option<tempfile::TempDir>,
    pg_cleanup: Option<(String, String)>,
}

static NEXT: AtomicU64 = AtomicU64::new(0);

impl TestDb {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("gitferry.db").display());
        Self {
            url,
            dialect: "sqlite",
            _dir: Some(dir),
            pg_cleanup: None,
        }
    }

    /// A fresh schema, or `None` when no PostgreSQL is configured (local runs without it).
    pub async fn postgres() -> Option<Self> {
        let base = std::env::var("GITFERRY_TEST_DATABASE_URL").ok()?;
        let schema = format!(
            "gf_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_micros()
                % 1_000_000
        );
        execute_on(&base, &format!("CREATE SCHEMA {schema}")).await;
        let separator = if base.contains('?') { '&' } else { '?' };
        // The schema's name is also the connections' application name, so the cleanup can
        // find (and end) the sessions of a server the test left running.
        let url = format!(
            "{base}{separator}options=-c%20search_path%3D{schema}&application_name={schema}"
        );
        Some(Self {
            url,
            dialect: "postgres",
            _dir: None,
            pg_cleanup: Some((base, schema)),
        })
    }

    /// SQLite always; PostgreSQL too when configured. Store and e2e tests loop over these.
    pub async fn all() -> Vec<Self> {
        let mut dbs = vec![Self::sqlite()];
        dbs.extend(Self::postgres().await);
        dbs
    }
}

async fn execute_on(url: &str, sql: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .expect("GITFERRY_TEST_DATABASE_URL must reach PostgreSQL");
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut conn)
        .await
        .expect("schema statement");
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((base, schema)) = self.pg_cleanup.take() {
            // Drop runs outside async; a short-lived runtime on its own thread does the I/O.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                // A server the test did not stop may still hold a transaction in the schema,
                // and it cannot finish it: its runtime is the one blocked in this drop. End its
                // sessions first, or the DROP would wait for them forever (and so would every
                // other test waiting for a lock they hold).
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
