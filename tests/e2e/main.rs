//! End-to-end tests: the real server on a loopback port, a fake GitHub speaking the REST API,
//! signed webhooks built from real GitHub payloads. One test binary keeps linking fast.

mod commands;
mod commands_approvals;
mod config_check;
mod config_cli;
mod deploy_kubernetes;
mod deploy_kubernetes_policy;
mod fake_github_selftest;
mod fake_kube_selftest;
mod health;
mod inbox;
mod inbox_queues;
mod installations;
mod manifest;
mod notifications;
mod notifications_hostile;
mod pipeline;
mod pipeline_kubernetes;
mod previews;
mod previews_duplicates;
mod previews_faults;
mod previews_policies;
mod previews_resync;
mod receive;
mod redteam_sandbox;
mod report;
mod run_links;
mod secrets;
mod setup_flow;
mod store;
mod store_pipeline;
mod store_previews;
mod story;
mod support;
mod ticks;
mod webhook_intake;
