//! `GET /runs/<id>?token=…`: a deploy's log, as plain text (never HTML, so nothing a deploy
//! script prints can run in the reader's browser).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::HttpState;
use crate::preview::runs::token_matches;

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

pub async fn show(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    Query(query): Query<TokenQuery>,
) -> Response {
    let run = match state.ctx.store.preview_run(&id).await {
        Ok(run) => run,
        Err(err) => {
            tracing::error!(error = %err, "reading a run failed");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "the store is unavailable\n",
            )
                .into_response();
        }
    };
    // An unknown id and a wrong token look the same, so ids cannot be probed.
    let Some(run) = run.filter(|run| token_matches(&query.token, &run.token_hash)) else {
        return (
            StatusCode::NOT_FOUND,
            "no such run (or the link is incomplete)\n",
        )
            .into_response();
    };
    let finished = match run.finished_at {
        Some(_) => format!(
            "{} ({})",
            run.state,
            run.reason.as_deref().unwrap_or("no details")
        ),
        None => "running".to_owned(),
    };
    let text = format!(
        "{} of {}#{} at {}: {finished}\n\n{}",
        run.operation, run.repository, run.pr, run.sha, run.log
    );
    let mut response = (StatusCode::OK, text).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
