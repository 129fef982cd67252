//! End-to-end tests: the real server on a loopback port, a fake GitHub speaking the REST API,
//! signed webhooks built from real GitHub payloads. One test binary keeps linking fast.

mod commands;
mod config_check;
mod config_cli;
mod deploy_kubernetes;
mod edge_limits;
mod edge_load;
mod fake_github_selftest;
mod fake_kube_selftest;
mod health;
mod inbox;
mod inbox_queues;
mod installations;
mod manifest;
mod notifications;
mod pipeline;
mod pipeline_kubernetes;
mod previews;
mod previews_faults;
mod previews_policies;
mod receive;
mod report;
mod setup_flow;
mod store;
mod store_pipeline;
mod store_previews;
mod support;
mod webhook_intake;
