#![allow(dead_code)]

pub mod db;
pub mod fake_github;
pub mod fake_kube;
pub mod gitferry;
pub mod load;
pub mod payloads;
pub mod replicas;
pub mod sandbox;
pub mod tester;
pub mod webhooks;
