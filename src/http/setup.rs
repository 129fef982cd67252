//! First run, Probot-style: register the GitHub App from a manifest, then install it.
//!
//! `GET /` without App credentials shows a button that posts `app-manifest.yml` (URLs filled
//! in from `GITFERRY_PUBLIC_URL`) to GitHub. GitHub creates the App and redirects to
//! `/setup/callback?code=…`, which trades the code for the App's id, key and secrets, saves
//! them (`.env`, mode 0600), starts using them at once and points the user to the install page.

use std::collections::HashSet;
use std::sync::Mutex;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use tracing::{error, info};

use super::HttpState;
use crate::setup::{adopt, app_manifest};

/// The `state` values handed out by the setup page; a callback must bring one back, so a
/// stranger cannot make this server adopt an App they registered.
#[derive(Default)]
pub struct SetupState {
    issued: Mutex<HashSet<String>>,
}

impl SetupState {
    fn issue(&self) -> Result<String, getrandom::Error> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)?;
        let state = hex::encode(bytes);
        let mut issued = self.issued.lock().unwrap_or_else(|p| p.into_inner());
        if issued.len() > 1000 {
            issued.clear();
        }
        issued.insert(state.clone());
        Ok(state)
    }

    fn redeem(&self, state: &str) -> bool {
        self.issued
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(state)
    }
}

pub async fn home(State(state): State<HttpState>) -> Response {
    if state.ctx.github.has_credentials() {
        return Html(page(
            "gitferry is running",
            "<p>The GitHub App is configured and webhooks are accepted at \
             <code>/api/github/webhooks</code>.</p>\
             <p><a href=\"/healthz\">health</a> · <a href=\"/readyz\">readiness</a> · \
             <a href=\"/metrics\">metrics</a></p>",
        ))
        .into_response();
    }
    let settings = &state.ctx.settings;
    let manifest = match app_manifest(&settings.public_url()) {
        Ok(manifest) => manifest,
        Err(err) => return server_error(&err),
    };
    let csrf = match state.setup.issue() {
        Ok(csrf) => csrf,
        Err(err) => return server_error(&err),
    };
    let github = settings.github_url.trim_end_matches('/');
    let action = match &settings.github_org {
        Some(org) => format!("{github}/organizations/{org}/settings/apps/new?state={csrf}"),
        None => format!("{github}/settings/apps/new?state={csrf}"),
    };
    let body = format!(
        "<p>gitferry has no GitHub App yet. Register one: GitHub will show you the App's \
         settings, create it, and send you back here.</p>\
         <form action=\"{action}\" method=\"post\">\
         <input type=\"hidden\" name=\"manifest\" value=\"{manifest}\">\
         <button type=\"submit\">Register the GitHub App</button></form>\
         <p>Webhooks will go to <code>{hook}</code>. To use another address, set \
         <code>GITFERRY_PUBLIC_URL</code> and restart.</p>",
        action = escape(&action),
        manifest = escape(&manifest.to_string()),
        hook = escape(&format!("{}/api/github/webhooks", settings.public_url())),
    );
    Html(page("Set up gitferry", &body)).into_response()
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: String,
    state: Option<String>,
}

pub async fn callback(
    State(state): State<HttpState>,
    Query(query): Query<CallbackQuery>,
) -> Response {
    if state.ctx.github.has_credentials() {
        return (
            StatusCode::CONFLICT,
            "gitferry already has a GitHub App; remove its credentials to register another\n",
        )
            .into_response();
    }
    if !query
        .state
        .as_deref()
        .is_some_and(|s| state.setup.redeem(s))
    {
        return (
            StatusCode::BAD_REQUEST,
            "unknown or missing state: start again from the setup page\n",
        )
            .into_response();
    }
    let conversion = match state.ctx.github.convert_manifest(&query.code).await {
        Ok(conversion) => conversion,
        Err(err) => {
            error!(error = %err, "manifest conversion failed");
            return (
                StatusCode::BAD_GATEWAY,
                format!("GitHub did not accept the registration code: {err}\n"),
            )
                .into_response();
        }
    };
    let env_file = &state.ctx.settings.env_file();
    if let Err(err) = adopt(&state.ctx, &conversion) {
        return server_error(&err);
    }
    info!(app_id = %conversion.id, slug = %conversion.slug, "GitHub App registered");
    let install = format!(
        "{}/installations/new",
        conversion.html_url.trim_end_matches('/')
    );
    let body = format!(
        "<p>The App <strong>{name}</strong> (id {id}) is registered and gitferry is using it. \
         Its credentials are saved in <code>{file}</code> (readable by this user only).</p>\
         <p><a href=\"{install}\">Install it on your repositories</a></p>",
        name = escape(&conversion.name),
        id = conversion.id,
        file = escape(&env_file.display().to_string()),
        install = escape(&install),
    );
    Html(page("gitferry is registered", &body)).into_response()
}

fn server_error(err: &dyn std::fmt::Display) -> Response {
    error!(error = %err, "setup failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("setup failed: {err}\n"),
    )
        .into_response()
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:42rem;margin:3rem auto;\
         line-height:1.5}}button{{font-size:1.1rem;padding:.5rem 1rem}}</style></head>\
         <body><h1>{title}</h1>{body}</body></html>",
        title = escape(title),
    )
}

fn escape(text: &str) -> String {
    html_escape::encode_double_quoted_attribute(text).into_owned()
}
