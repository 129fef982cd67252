//! Process settings, read from the environment (12-factor) or the matching flags.
//!
//! Every setting has a flag so `--help` documents it and tests can pass settings without
//! touching the process environment. Values that are secret are hidden from `--help`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

use crate::data_dir;
use crate::sandbox::SandboxSetting;

/// How a server or command reaches its store, GitHub, and the outside world.
#[derive(Args, Clone, Debug)]
pub struct Settings {
    /// Address the HTTP server listens on (webhooks, setup page, health, metrics).
    #[arg(long, env = "GITFERRY_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// Store: `sqlite://path` (created if missing) or `postgres://user@host/db` (replicas share it).
    /// Default: `sqlite://DATA_DIR/private/gitferry.db`.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// The GitHub App's numeric id (set by the setup page after registration).
    #[arg(long, env = "GITHUB_APP_ID")]
    pub github_app_id: Option<u64>,

    /// The App's private key, PEM text (literal `\n` sequences are accepted).
    #[arg(long, env = "GITHUB_PRIVATE_KEY", hide_env_values = true, allow_hyphen_values = true, value_parser = parse_secret)]
    pub github_private_key: Option<SecretString>,

    /// File holding the App's private key PEM (used when GITHUB_PRIVATE_KEY is unset).
    #[arg(long, env = "GITHUB_PRIVATE_KEY_PATH")]
    pub github_private_key_path: Option<PathBuf>,

    /// Secret GitHub signs webhook deliveries with (X-Hub-Signature-256).
    #[arg(long, env = "GITHUB_WEBHOOK_SECRET", hide_env_values = true, value_parser = parse_secret)]
    pub github_webhook_secret: Option<SecretString>,

    /// GitHub REST API base; GitHub Enterprise uses `https://HOST/api/v3`.
    #[arg(long, env = "GITHUB_API_URL", default_value = "https://api.github.com")]
    pub github_api_url: String,

    /// GitHub web base, where the setup page sends the App manifest.
    #[arg(long, env = "GITHUB_URL", default_value = "https://github.com")]
    pub github_url: String,

    /// Register the App under this organisation instead of the signed-in user.
    #[arg(long, env = "GITFERRY_GITHUB_ORG")]
    pub github_org: Option<String>,

    /// How GitHub and users reach this server (webhook URL, links); default http://LISTEN.
    #[arg(long, env = "GITFERRY_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Where the setup page saves the registered App's credentials (mode 0600), read at start.
    /// Default: `DATA_DIR/private/.env`.
    #[arg(long, env = "GITFERRY_ENV_FILE")]
    pub env_file: Option<PathBuf>,

    /// Log format.
    #[arg(long, env = "GITFERRY_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,

    /// Deliveries processed at once by this process.
    #[arg(long, env = "GITFERRY_WORKERS", default_value_t = 4)]
    pub workers: usize,

    /// Attempts before a failing delivery is dead-lettered.
    #[arg(long, env = "GITFERRY_MAX_ATTEMPTS", default_value_t = 8)]
    pub max_attempts: u32,

    /// First retry delay of a failed delivery; doubles each attempt (capped at 1h).
    #[arg(long, env = "GITFERRY_RETRY_BACKOFF", default_value = "2s", value_parser = humantime::parse_duration)]
    pub retry_backoff: Duration,

    /// How long a claimed delivery stays with its worker without a heartbeat; after that a
    /// crashed worker's delivery is claimed again.
    #[arg(long, env = "GITFERRY_LEASE", default_value = "60s", value_parser = humantime::parse_duration)]
    pub lease: Duration,

    /// How often idle workers look for work written by other processes or due for retry.
    #[arg(long, env = "GITFERRY_POLL_INTERVAL", default_value = "1s", value_parser = humantime::parse_duration)]
    pub poll_interval: Duration,

    /// On SIGTERM, how long deliveries in hand may finish before they are released.
    #[arg(long, env = "GITFERRY_SHUTDOWN_GRACE", default_value = "20s", value_parser = humantime::parse_duration)]
    pub shutdown_grace: Duration,

    /// Where deploys and steps unpack the commit they work on (one fresh folder per run,
    /// removed after). Must be reachable by GITFERRY_RUN_AS. Default: `DATA_DIR/work`.
    #[arg(long, env = "GITFERRY_WORK_DIR")]
    pub work_dir: Option<PathBuf>,

    /// How many preview deploys or destroys run at once in this process.
    #[arg(long, env = "GITFERRY_DEPLOY_CONCURRENCY", default_value_t = 4)]
    pub deploy_concurrency: usize,

    /// How many pipeline steps run at once on this host with the local runner. Default: the
    /// number of CPUs.
    #[arg(long, env = "GITFERRY_STEP_CONCURRENCY")]
    pub step_concurrency: Option<usize>,

    /// The kubeconfig for the kubernetes deploy provider (and the kubernetes runner). Default: in-cluster credentials when
    /// gitferry runs in a pod, else `KUBECONFIG` or `~/.kube/config`.
    #[arg(long, env = "GITFERRY_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,

    /// How often previews are reconciled (TTL expiry, waiting previews whose slot freed,
    /// deploys left unfinished by a process that died) and environments due a drift sweep
    /// (each as often as its repository's `drift.every`) are looked for.
    #[arg(long, env = "GITFERRY_RECONCILE_INTERVAL", default_value = "30s", value_parser = humantime::parse_duration)]
    pub reconcile_interval: Duration,

    /// First delay before a notification that could not be delivered is tried again; doubles
    /// per attempt (8 attempts in all).
    #[arg(long, env = "GITFERRY_NOTIFY_RETRY_BACKOFF", default_value = "30s", value_parser = humantime::parse_duration)]
    pub notify_retry_backoff: Duration,

    /// How long a replica holds a periodic tick (preview reconcile, …) without renewing it;
    /// when a replica dies, another takes its ticks over within this time.
    #[arg(long, env = "GITFERRY_TICK_LEASE", default_value = "30s", value_parser = humantime::parse_duration)]
    pub tick_lease: Duration,

    /// How often the pull request of every open preview is re-read from GitHub (a conditional
    /// request: free when nothing changed), so a lost `closed` or push webhook is caught up.
    #[arg(long, env = "GITFERRY_RESYNC_INTERVAL", default_value = "60s", value_parser = humantime::parse_duration)]
    pub resync_interval: Duration,

    /// How long run logs (deploys, pipeline steps) and their links are kept; after it a link
    /// answers 410 Gone and a background task empties the log.
    #[arg(long, env = "GITFERRY_RUN_RETENTION", default_value = "30d", value_parser = parse_retention)]
    pub run_retention: Duration,

    /// Key (at least 32 characters) that run-log link tokens are derived from, so any replica
    /// can show a run's link again while the store keeps only the token's hash. Give all
    /// replicas the same. Default: derived from GITHUB_WEBHOOK_SECRET.
    #[arg(long, env = "GITFERRY_RUN_LINK_KEY", hide_env_values = true, value_parser = parse_link_key)]
    pub run_link_key: Option<SecretString>,

    /// ClusterRoles that a RoleBinding in a repository's Kubernetes manifests may bind (comma
    /// separated). A binding to any other ClusterRole is refused before anything is applied,
    /// whatever the environment's `pod_security`. `edit` lets the bound app create Services
    /// and pods at run time, which gitferry never sees; `admin` and `cluster-admin` hand over
    /// the namespace's RBAC: add them only for repositories whose every author you trust.
    /// Empty: no ClusterRole may be bound.
    #[arg(
        long,
        env = "GITFERRY_ALLOWED_CLUSTER_ROLES",
        default_value = "view",
        value_delimiter = ','
    )]
    pub allowed_cluster_roles: Vec<String>,

    /// Which variables of gitferry's environment each repository may name (as a `{ secret: }`,
    /// a notification URL or secret, a `kubeconfig`), beyond the default: a repository's own
    /// prefix, its owner and name upper-cased with `_` for other characters, then `_`
    /// (`acme/vault` → `ACME_VAULT_*`). Entries `owner/name=PATTERN,…` separated by `;`, `*` a
    /// wildcard, e.g. `acme/*=ACME_*,SLACK_WEBHOOK_URL;acme/vault=VAULT_TOKEN`.
    #[arg(long, env = "GITFERRY_REPO_SECRETS", default_value = "", value_parser = crate::secrets::RepoSecrets::parse)]
    pub repo_secrets: crate::secrets::RepoSecrets,

    /// gitferry's own files: `private/` (mode 0700: the default SQLite store and `.env`) and
    /// `work/` (checkouts). Created if missing; must belong to gitferry's user.
    #[arg(long, env = "GITFERRY_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// How commands from repositories (local steps, command deploys, render) are confined on
    /// this host: `landlock` (they refuse to run where the kernel lacks it) or `off`.
    #[arg(long, env = "GITFERRY_SANDBOX", value_enum, default_value = "landlock")]
    pub sandbox: SandboxSetting,

    /// Extra paths sandboxed commands may read and execute, colon-separated (e.g. a
    /// toolchain outside the system folders: `/opt/node:/root/.pyenv`).
    #[arg(long, env = "GITFERRY_SANDBOX_READ")]
    pub sandbox_read: Option<String>,

    /// Extra paths sandboxed commands may also write, colon-separated (e.g. a shared cache).
    #[arg(long, env = "GITFERRY_SANDBOX_WRITE")]
    pub sandbox_write: Option<String>,

    /// The user commands run as when gitferry runs as root (or holds CAP_SETUID); a name or
    /// a uid. Naming gitferry's own user keeps it.
    #[arg(long, env = "GITFERRY_RUN_AS", default_value = "nobody")]
    pub run_as: String,

    /// How long a client may take to send a request's headers; a connection idle or trickling
    /// its headers longer is closed (guards against slowloris clients).
    #[arg(long, env = "GITFERRY_HEADER_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub header_timeout: Duration,

    /// How long a webhook body may take to arrive in full; a slower upload gets 408.
    #[arg(long, env = "GITFERRY_BODY_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub body_timeout: Duration,

    /// Connections served at once; further connections wait to be accepted until one closes.
    #[arg(long, env = "GITFERRY_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Memory for webhook bodies being received at once (each reserves its Content-Length, or
    /// 25 MiB when it announces none); when spent, deliveries get 503 with Retry-After. At least
    /// 25MiB. Suffixes: KiB, MiB, GiB (or K, M, G, KB, MB, GB, all powers of 1024).
    #[arg(long, env = "GITFERRY_BODY_BUDGET", default_value = "64MiB", value_parser = parse_body_budget)]
    pub body_budget: usize,

    /// Serve `/metrics` on this separate address (e.g. a port only Prometheus reaches) instead
    /// of on GITFERRY_LISTEN.
    #[arg(long, env = "GITFERRY_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Bearer token (at least 32 characters) that `GET /api/audit` requires in
    /// `Authorization: Bearer …`; until the dashboard's sign-in exists it is the API's only
    /// lock. Unset: the API answers 404.
    #[arg(long, env = "GITFERRY_API_TOKEN", hide_env_values = true, value_parser = parse_api_token)]
    pub api_token: Option<SecretString>,
}

fn parse_retention(value: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(value).map_err(|e| e.to_string())?;
    if duration.is_zero() {
        return Err("the retention must be longer than 0".to_owned());
    }
    Ok(duration)
}

fn parse_link_key(value: &str) -> Result<SecretString, String> {
    if value.chars().count() < 32 {
        return Err(
            "the key must be at least 32 characters (e.g. `openssl rand -hex 32`)".to_owned(),
        );
    }
    Ok(SecretString::from(value.to_owned()))
}

/// A short token could be guessed by a client trying tokens against the API.
fn parse_api_token(value: &str) -> Result<SecretString, String> {
    if value.chars().count() < 32 {
        return Err(
            "the token must be at least 32 characters (e.g. `openssl rand -hex 32`)".to_owned(),
        );
    }
    Ok(SecretString::from(value.to_owned()))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

fn parse_secret(value: &str) -> Result<SecretString, Infallible> {
    Ok(SecretString::from(value.to_owned()))
}

/// A byte size such as `64MiB`, `512K` or `67108864`; binary units, so `MB` is 1024 × 1024.
/// A budget under one maximal webhook body (25 MiB) could never accept such a delivery.
fn parse_body_budget(value: &str) -> Result<usize, String> {
    let value = value.trim();
    let split = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: usize = number
        .parse()
        .map_err(|_| format!("{value:?} is not a size such as 64MiB"))?;
    let scale: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => return Err(format!("unknown size unit {other:?}: use KiB, MiB or GiB")),
    };
    let bytes = number
        .checked_mul(scale)
        .ok_or_else(|| format!("{value:?} is too large"))?;
    let minimum = crate::http::webhook::MAX_BODY_BYTES;
    if bytes < minimum {
        return Err(format!(
            "{value:?} is less than one maximal webhook body (25MiB)"
        ));
    }
    Ok(bytes)
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read GITHUB_PRIVATE_KEY_PATH {path}: {source}")]
    PrivateKeyFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("GITHUB_APP_ID is set but neither GITHUB_PRIVATE_KEY nor GITHUB_PRIVATE_KEY_PATH is")]
    MissingPrivateKey,
    #[error("GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH is set but GITHUB_APP_ID is not")]
    MissingAppId,
}

impl Settings {
    /// Local steps at once: [`Settings::step_concurrency`], else one per CPU.
    pub fn step_concurrency(&self) -> usize {
        self.step_concurrency.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
        })
    }

    pub fn work_dir(&self) -> PathBuf {
        self.work_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join(data_dir::WORK))
    }

    /// The store's URL: the one given, else a SQLite file in the private data folder.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            let file = self.data_dir.join(data_dir::PRIVATE).join("gitferry.db");
            format!("sqlite://{}", file.display())
        })
    }

    /// The credentials file: the one given, else `.env` in the private data folder.
    pub fn env_file(&self) -> PathBuf {
        self.env_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join(data_dir::PRIVATE).join(".env"))
    }

    /// Settings from flags and environment, as `gitferry serve` reads them; for tests and tools.
    pub fn parse_from<I, T>(args: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        #[derive(clap::Parser)]
        #[command(args_override_self = true)]
        struct Wrapper {
            #[command(flatten)]
            settings: Settings,
        }
        <Wrapper as clap::Parser>::parse_from(args).settings
    }

    /// The public base URL without a trailing slash.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }

    /// The App id and private key PEM, if the App is configured.
    pub fn app_credentials(&self) -> Result<Option<(u64, SecretString)>, SettingsError> {
        let pem = match (&self.github_private_key, &self.github_private_key_path) {
            (Some(pem), _) => Some(SecretString::from(pem.expose_secret().replace("\\n", "\n"))),
            (None, Some(path)) => Some(SecretString::from(std::fs::read_to_string(path).map_err(
                |source| SettingsError::PrivateKeyFile {
                    path: path.clone(),
                    source,
                },
            )?)),
            (None, None) => None,
        };
        match (self.github_app_id, pem) {
            (Some(id), Some(pem)) => Ok(Some((id, pem))),
            (None, None) => Ok(None),
            (Some(_), None) => Err(SettingsError::MissingPrivateKey),
            (None, Some(_)) => Err(SettingsError::MissingAppId),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_environment() {
        let settings = Settings::parse_from(["gitferry"]);
        assert_eq!(settings.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(settings.public_url(), "http://127.0.0.1:3000");
        assert_eq!(settings.database_url(), "sqlite://data/private/gitferry.db");
        assert_eq!(settings.env_file(), PathBuf::from("data/private/.env"));
        assert_eq!(settings.work_dir(), PathBuf::from("data/work"));
        assert_eq!(settings.sandbox, SandboxSetting::Landlock);
        assert_eq!(settings.run_as, "nobody");
        assert!(
            settings
                .app_credentials()
                .expect("no credentials is fine")
                .is_none()
        );
    }

    #[test]
    fn explicit_paths_win_over_the_data_folder() {
        let settings = Settings::parse_from([
            "gitferry",
            "--data-dir",
            "/var/lib/gitferry",
            "--database-url",
            "postgres://db/gitferry",
            "--env-file",
            "/etc/gitferry.env",
            "--work-dir",
            "/srv/work",
        ]);
        assert_eq!(settings.database_url(), "postgres://db/gitferry");
        assert_eq!(settings.env_file(), PathBuf::from("/etc/gitferry.env"));
        assert_eq!(settings.work_dir(), PathBuf::from("/srv/work"));
    }

    #[test]
    fn private_key_with_escaped_newlines_is_restored() {
        let settings = Settings::parse_from([
            "gitferry",
            "--github-app-id",
            "7",
            "--github-private-key",
            "-----BEGIN RSA PRIVATE KEY-----\\nAAA\\n-----END RSA PRIVATE KEY-----",
        ]);
        let (id, pem) = settings
            .app_credentials()
            .expect("valid")
            .expect("configured");
        assert_eq!(id, 7);
        assert!(pem.expose_secret().contains("\nAAA\n"));
    }

    #[test]
    fn runs_are_kept_thirty_days_unless_told_otherwise() {
        let settings = Settings::parse_from(["gitferry"]);
        assert_eq!(settings.run_retention, Duration::from_secs(30 * 24 * 3600));
        assert!(settings.run_link_key.is_none());
        let settings = Settings::parse_from(["gitferry", "--run-retention", "7d"]);
        assert_eq!(settings.run_retention, Duration::from_secs(7 * 24 * 3600));
        assert!(parse_retention("0s").is_err());
        assert!(parse_link_key("too-short").is_err());
        assert!(parse_link_key(&"k".repeat(32)).is_ok());
    }

    #[test]
    fn edge_limits_have_safe_defaults_and_read_sizes() {
        let settings = Settings::parse_from(["gitferry"]);
        assert_eq!(settings.header_timeout, Duration::from_secs(10));
        assert_eq!(settings.body_timeout, Duration::from_secs(30));
        assert_eq!(settings.max_connections, 1024);
        assert_eq!(settings.body_budget, 64 << 20);
        assert_eq!(settings.metrics_listen, None);
        assert_eq!(parse_body_budget("1GiB"), Ok(1 << 30));
        assert_eq!(parse_body_budget("26214400"), Ok(25 << 20));
        assert!(parse_body_budget("1MB").is_err_and(|e| e.contains("25MiB")));
        assert!(parse_body_budget("64 parsecs").is_err_and(|e| e.contains("unit")));
        assert!(parse_body_budget("lots").is_err());
    }

    #[test]
    fn the_api_token_is_off_unless_set_and_never_short() {
        let settings = Settings::parse_from(["gitferry"]);
        assert!(settings.api_token.is_none());
        let token = "t".repeat(32);
        let settings = Settings::parse_from(["gitferry", "--api-token", &token]);
        assert_eq!(
            settings.api_token.as_ref().map(|t| t.expose_secret()),
            Some(token.as_str())
        );
        assert!(!format!("{settings:?}").contains(&token), "never in Debug");
        assert!(parse_api_token("letmein").is_err());
    }

    #[test]
    fn half_configured_app_is_an_error() {
        let settings = Settings::parse_from(["gitferry", "--github-app-id", "7"]);
        assert!(matches!(
            settings.app_credentials(),
            Err(SettingsError::MissingPrivateKey)
        ));
    }
}
