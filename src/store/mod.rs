//! The durable store: sqlx on SQLite (embedded default) or PostgreSQL (shared by replicas).
//!
//! One schema in two dialects (`migrations/sqlite`, `migrations/postgres`). Queries go through
//! sqlx's `Any` driver so each is written once; the few statements whose SQL must differ
//! (row locking) pick their text by [`Dialect`].

pub mod audit;
pub mod deliveries;
mod delivery_queues;
pub mod installations;
pub mod notifications;
pub mod pipeline;
pub mod previews;
pub mod repo_configs;
mod run_logs;
pub mod ticks;

use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use deliveries::{
    ClaimedDelivery, DeliveryState, DeliverySummary, FailureOutcome, Inserted, NewDelivery,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported DATABASE_URL scheme in {0:?}: use sqlite://… or postgres://…")]
    UnsupportedUrl(String),
    #[error("cannot open the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("no dead-lettered delivery with id {0} (see `gitferry deliveries --failed`)")]
    NoDeadDelivery(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub fn of_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(redact_url(url)))
        }
    }
}

/// A handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
}

impl Store {
    /// Opens the database named by `url`, creating a SQLite file if it does not exist yet.
    /// Does not migrate: call [`Store::migrate`].
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let dialect = Dialect::of_url(url)?;
        let url = match dialect {
            Dialect::Sqlite => sqlite_url_creating_file(url),
            Dialect::Postgres => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url).map_err(StoreError::Connect)?;
        let pool = match dialect {
            // WAL lets readers run beside the single writer; NORMAL sync is still safe against
            // a killed process (only a power loss can drop the last transactions); the busy
            // timeout makes concurrent writers wait instead of failing with SQLITE_BUSY.
            Dialect::Sqlite => AnyPoolOptions::new()
                // Each connection to `:memory:` is a database of its own: keep to one.
                .max_connections(if url.contains(":memory:") { 1 } else { 8 })
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
                             PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -32768;",
                        )
                        .await?;
                        Ok(())
                    })
                })
                .connect_with(options)
                .await
                .map_err(StoreError::Connect)?,
            Dialect::Postgres => AnyPoolOptions::new()
                .max_connections(16)
                .connect_with(options)
                .await
                .map_err(StoreError::Connect)?,
        };
        if dialect == Dialect::Sqlite {
            spawn_checkpointer(pool.clone());
        }
        Ok(Self { pool, dialect })
    }

    /// Applies the migrations of this store's dialect that have not run yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.dialect {
            Dialect::Sqlite => sqlx::migrate!("migrations/sqlite").run(&self.pool).await?,
            Dialect::Postgres => {
                sqlx::migrate!("migrations/postgres")
                    .run(&self.pool)
                    .await?
            }
        }
        Ok(())
    }

    /// Applies this dialect's migrations up to and including `version` only: for testing a
    /// migration against rows the schema before it wrote.
    pub async fn migrate_to(&self, version: i64) -> Result<(), StoreError> {
        match self.dialect {
            Dialect::Sqlite => {
                sqlx::migrate!("migrations/sqlite")
                    .run_to(version, &self.pool)
                    .await?
            }
            Dialect::Postgres => {
                sqlx::migrate!("migrations/postgres")
                    .run_to(version, &self.pool)
                    .await?
            }
        }
        Ok(())
    }

    /// Whether the database answers; used by `/readyz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Copies SQLite's write-ahead log into the database file in the background. Left to SQLite,
/// the checkpoint runs inside whichever commit crosses the threshold, i.e. on the webhook
/// intake's single writer, stalling every request waiting on that commit.
fn spawn_checkpointer(pool: AnyPool) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tick.tick().await;
            if pool.is_closed() {
                return;
            }
            if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await
            {
                tracing::warn!(error = %err, "WAL checkpoint failed");
            }
        }
    });
}

/// `sqlite://path` opens read-write but fails on a missing file; `mode=rwc` creates it.
fn sqlite_url_creating_file(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// A database URL fit for logs and error messages: the password is replaced.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Now as Unix epoch milliseconds, the time representation of every table.
pub fn now_ms() -> i64 {
    to_ms(SystemTime::now())
}

pub fn to_ms(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub fn duration_ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// A name for this process's leases of one kind (`preview/<pid>/<random>`): unique across
/// processes and restarts, so a lease is only ever renewed or released by its holder.
pub fn lease_owner(kind: &str) -> String {
    let mut random = [0u8; 6];
    let suffix = match getrandom::fill(&mut random) {
        Ok(()) => hex::encode(random),
        Err(_) => format!("{}", now_ms()),
    };
    format!("{kind}/{}/{suffix}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/gitferry"),
            "postgres://app:***@db:5432/gitferry"
        );
        assert_eq!(redact_url("sqlite://gitferry.db"), "sqlite://gitferry.db");
    }

    #[test]
    fn sqlite_files_are_created_if_missing() {
        assert_eq!(
            sqlite_url_creating_file("sqlite://g.db"),
            "sqlite://g.db?mode=rwc"
        );
        assert_eq!(
            sqlite_url_creating_file("sqlite://g.db?mode=ro"),
            "sqlite://g.db?mode=ro"
        );
    }
}
