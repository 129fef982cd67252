//! gitferry: a GitHub App that runs a team's GitOps flow from the pull request.
//!
//! The crate is a library plus a thin binary (`src/main.rs`) so that end-to-end tests start
//! the same server the binary runs. `DESIGN.md` (in the shared folder) is the architecture.

pub mod access;
pub mod app;
pub mod check_actions;
pub mod checkout;
pub mod cli;
pub mod commands;
pub mod config_check;
pub mod config_source;
pub mod data_dir;
pub mod deploy;
pub mod drift;
pub mod environments;
pub mod flow;
pub mod github;
pub mod http;
pub mod inbox;
pub mod installations;
pub mod jobs;
pub mod junit;
pub mod logging;
pub mod metrics;
pub mod notify;
pub mod pipeline;
pub mod preview;
pub mod process;
pub mod registration;
pub mod releases_cli;
pub mod repo_config;
pub mod report;
pub mod router;
pub mod runs;
pub mod sandbox;
pub mod secrets;
pub mod server;
pub mod settings;
pub mod store;
pub mod tls;
pub mod ttl_cache;
pub mod web_url;
