//! Scenario tests for slash commands; reply texts are insta snapshots.

mod auth;
mod extract;
mod fuzz;
mod grammar;
mod replies;
