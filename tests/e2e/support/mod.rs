#![allow(dead_code)]

pub mod db;
pub mod fake_github;
pub mod gitferry;
pub mod payloads;
