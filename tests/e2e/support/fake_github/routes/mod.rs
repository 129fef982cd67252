//! All routes of the fake, one file per area.

use axum::Router;

use super::api::{ApiError, AppState};

mod access;
mod app;
mod checks;
mod comments;
mod contents;
mod deployments;
mod git;
mod git_data;
pub mod issues;
mod manifest;
pub mod pulls;
mod refs;
mod repos;
mod reviews;
mod statuses;

pub use checks::check_run_json;
pub use comments::comment_json;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(app::routes())
        .merge(manifest::routes())
        .merge(repos::routes())
        .merge(git::routes())
        .merge(refs::routes())
        .merge(git_data::routes())
        .merge(contents::routes())
        .merge(pulls::routes())
        .merge(reviews::routes())
        .merge(issues::routes())
        .merge(comments::routes())
        .merge(access::routes())
        .merge(checks::routes())
        .merge(deployments::routes())
        .merge(statuses::routes())
        .fallback(|| async { ApiError::not_found() })
}
