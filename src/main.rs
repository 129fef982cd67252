//! The `gitferry` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use gitferry::releases_cli::{self, Format};
use gitferry::settings::Settings;
use gitferry::store::audit::AuditFilter;
use gitferry::{cli, logging};

/// gitferry runs a team's GitOps flow from the pull request: previews, test results, drift
/// reports, promotion and a merge queue, as a GitHub App.
///
/// Settings come from environment variables (or the flags shown under each command); the
/// `.env` file in the data folder (`data/private/.env`, or GITFERRY_ENV_FILE) is read first.
#[derive(Parser)]
#[command(name = "gitferry", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: webhooks, workers, setup page, health and metrics. Migrates the store
    /// first. Without App credentials it serves a setup page at / that registers the App.
    Serve {
        #[command(flatten)]
        settings: Settings,
    },
    /// Create or update the store's schema, then exit.
    Migrate {
        #[command(flatten)]
        settings: Settings,
    },
    /// Process one webhook payload from a file as if GitHub had delivered it (like Probot's
    /// `receive`). Example: gitferry receive --event pull_request payload.json --dry-run
    Receive {
        /// The X-GitHub-Event name, e.g. pull_request, issue_comment, installation.
        #[arg(long)]
        event: String,
        /// JSON payload file, as GitHub sends it.
        payload: PathBuf,
        /// Print the GitHub API calls that change something instead of making them; reads
        /// still go to GitHub when credentials are set. The store is a throwaway in-memory one.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        settings: Settings,
    },
    /// Check a repository config file, or print its JSON Schema.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// List an environment's releases, newest first, marking its last good release (what
    /// `/rollback` returns to).
    ///
    /// Examples:
    ///   gitferry releases --repo octocat/shop
    ///   gitferry releases --repo octocat/shop --env production --json
    Releases {
        /// The repository, as owner/name.
        #[arg(long = "repo")]
        repository: String,
        /// Only this environment's releases.
        #[arg(long = "env")]
        environment: Option<String>,
        /// At most this many releases.
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// One JSON array instead of text lines.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        settings: Settings,
    },
    /// List stored deliveries, or re-queue a dead-lettered one.
    Deliveries {
        /// List deliveries that failed every attempt (dead letters), with their last error.
        #[arg(long, conflicts_with = "state")]
        failed: bool,
        /// List deliveries in this state: pending, waiting (behind an earlier one of its PR),
        /// processing, done, ignored or dead.
        #[arg(long)]
        state: Option<String>,
        /// At most this many rows.
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[command(subcommand)]
        action: Option<DeliveriesAction>,
        #[command(flatten)]
        settings: Settings,
    },
    /// Show the audit log: every command, approval, promotion, merge, release and rollback,
    /// allowed or refused, with who, what, where, which commit and the outcome.
    ///
    /// One line per entry, oldest first: time (UTC), actor, action, repository#pr, environment,
    /// short sha, outcome, detail. The newest --limit entries that match are shown.
    #[command(after_help = "\
Examples:
  gitferry audit --repo octocat/shop
  gitferry audit --repo octocat/shop --env production --since 7d
  gitferry audit --since 2025-01-31T09:00:00Z --json | jq '.[] | select(.outcome == \"refused\")'

The same entries are served as JSON by GET /api/audit when GITFERRY_API_TOKEN is set.")]
    Audit {
        /// Only this repository (owner/name).
        #[arg(long, value_name = "OWNER/NAME")]
        repo: Option<String>,
        /// Only entries about this environment (e.g. production).
        #[arg(long, value_name = "ENVIRONMENT")]
        env: Option<String>,
        /// Only entries at or after this time: RFC 3339 (2025-01-31T09:00:00Z), a date
        /// (2025-01-31, midnight UTC) or a duration ago (30m, 2h, 7d).
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Print one JSON array of entries (fields as in GET /api/audit, with `time` in RFC
        /// 3339 and `at` in epoch milliseconds) instead of lines.
        #[arg(long)]
        json: bool,
        /// At most this many entries: the newest that match.
        #[arg(long, default_value_t = AuditFilter::DEFAULT_LIMIT, value_parser = clap::value_parser!(i64).range(1..))]
        limit: i64,
        #[command(flatten)]
        settings: Settings,
    },
}

#[derive(Subcommand)]
enum ConfigAction {
    /// Validate a .github/gitferry.yml and print every error as FILE:LINE:COLUMN: message.
    /// Exit status 1 when there are errors.
    Check {
        /// The config file, e.g. .github/gitferry.yml
        file: PathBuf,
    },
    /// Print the JSON Schema of .github/gitferry.yml, for editors (e.g. yaml-language-server:
    /// `# yaml-language-server: $schema=gitferry.schema.json`).
    Schema,
}

#[derive(Subcommand)]
enum DeliveriesAction {
    /// Put a dead-lettered delivery back in the queue with a fresh set of attempts.
    Retry {
        /// The X-GitHub-Delivery id, as `deliveries --failed` lists it.
        delivery_id: String,
    },
}

/// The credentials file: `GITFERRY_ENV_FILE`, else `.env` in the data folder's private part
/// (as `Settings::env_file` says; the settings themselves are not parsed yet).
fn load_env_file() {
    let path = std::env::var_os("GITFERRY_ENV_FILE").map_or_else(
        || {
            std::env::var_os("GITFERRY_DATA_DIR")
                .map_or_else(|| PathBuf::from("data"), PathBuf::from)
                .join(gitferry::data_dir::PRIVATE)
                .join(".env")
        },
        PathBuf::from,
    );
    // A missing file is normal; a malformed one is reported when settings are read.
    let _ = dotenvy::from_path(&path);
}

#[tokio::main]
async fn main() -> ExitCode {
    hide_environment_from_children();
    load_env_file();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Commands from repositories may run as gitferry's user (when it cannot switch users). Their
/// environment is cleared (see `process`) and Landlock keeps them out of `/proc`, but where the
/// sandbox is off they could still read gitferry's own from `/proc/<pid>/environ`, secrets
/// included. A process that is not "dumpable" has its `/proc` files owned by root, which
/// closes that too.
fn hide_environment_from_children() {
    #[cfg(target_os = "linux")]
    if let Err(err) = nix::sys::prctl::set_dumpable(false) {
        eprintln!("warning: cannot protect /proc/self/environ from child processes: {err}");
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { settings } => {
            logging::init(settings.log_format);
            cli::serve(settings).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { settings } => {
            logging::init(settings.log_format);
            cli::migrate(&settings).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Receive {
            event,
            payload,
            dry_run,
            settings,
        } => {
            logging::init(settings.log_format);
            let body = std::fs::read(&payload)
                .with_context(|| format!("cannot read {}", payload.display()))?;
            cli::receive(settings, &event, body, dry_run).await
        }
        Command::Config { action } => match action {
            ConfigAction::Check { file } => {
                let report = gitferry::repo_config::check_file(&file);
                print!("{report}");
                Ok(if report.is_ok() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                })
            }
            ConfigAction::Schema => {
                println!("{}", gitferry::repo_config::json_schema());
                Ok(ExitCode::SUCCESS)
            }
        },
        Command::Releases {
            repository,
            environment,
            limit,
            json,
            settings,
        } => {
            logging::init(settings.log_format);
            let format = if json { Format::Json } else { Format::Text };
            releases_cli::list(
                &settings,
                &repository,
                environment.as_deref(),
                limit,
                format,
            )
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Deliveries {
            failed,
            state,
            limit,
            action,
            settings,
        } => {
            logging::init(settings.log_format);
            match action {
                Some(DeliveriesAction::Retry { delivery_id }) => {
                    cli::retry_delivery(&settings, &delivery_id).await?
                }
                None => {
                    let state = if failed {
                        Some("dead".to_owned())
                    } else {
                        state
                    };
                    cli::list_deliveries(&settings, state.as_deref(), limit).await?
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            repo,
            env,
            since,
            json,
            limit,
            settings,
        } => {
            logging::init(settings.log_format);
            let query = cli::AuditQuery {
                repository: repo,
                environment: env,
                since,
                limit,
                json,
            };
            cli::list_audit(&settings, query).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
