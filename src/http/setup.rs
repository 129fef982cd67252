//! First run, Probot-style: register the GitHub App from a manifest, then install it.
//!
//! `GET /?token=<setup token>` without App credentials shows a button that posts
//! `app-manifest.yml` (URLs filled in from `GITFERRY_PUBLIC_URL`) to GitHub; who may see it,
//! and from which browser the answer may come, is `setup_guard`'s business. GitHub creates the
//! App and redirects to `/setup/callback?code=…`, which trades the code for the App's id, key and secrets, saves
//! them (`.env`, mode 0600), starts using them at once and points the user to the install page.

use std::time::Instant;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use tracing::{error, info, warn};

use super::setup_guard::{COOKIE, Refusal, STATE_TTL};
use super::{HttpState, MetricsRoute};
use crate::registration::{adopt, app_manifest};

#[derive(Deserialize)]
pub struct HomeQuery {
    token: Option<String>,
}

/// `GET /`: the running page once set up; before that, the registration form for whoever
/// brings the setup token (`?token=`, from the link in the log or the form that asks for it).
pub async fn home(
    State(state): State<HttpState>,
    headers: HeaderMap,
    Query(query): Query<HomeQuery>,
) -> Response {
    if state.ctx.github.has_credentials() {
        let metrics = match state.metrics {
            MetricsRoute::Included => " · <a href=\"/metrics\">metrics</a>",
            MetricsRoute::Separate => "",
        };
        let body = format!(
            "<p>The GitHub App is configured and webhooks are accepted at \
             <code>/api/github/webhooks</code>.</p>\
             <p><a href=\"/healthz\">health</a> · <a href=\"/readyz\">readiness</a>{metrics}</p>"
        );
        return Html(page("gitferry is running", &body)).into_response();
    }
    match query.token.as_deref() {
        None => ask_for_token(StatusCode::OK, ""),
        Some(token) if !state.setup.token_matches(token) => {
            warn!("setup page: wrong setup token");
            ask_for_token(
                StatusCode::FORBIDDEN,
                "<p><strong>That is not the setup token.</strong></p>",
            )
        }
        Some(_) => registration(&state, &headers),
    }
}

/// The page for a browser without the token: where to find it, and a field to paste it in.
fn ask_for_token(status: StatusCode, notice: &str) -> Response {
    let body = format!(
        "{notice}<p>gitferry has no GitHub App yet. Only the person running it may register \
         one: open the setup link gitferry printed in its log when it started, or enter the \
         setup token from that log line.</p>\
         <form action=\"/\" method=\"get\"><label>Setup token \
         <input name=\"token\" type=\"password\" autocomplete=\"off\" required></label> \
         <button type=\"submit\">Continue</button></form>"
    );
    private((status, Html(page("Set up gitferry", &body))).into_response())
}

/// The manifest form, with a fresh `state` bound to this browser by an HttpOnly cookie.
fn registration(state: &HttpState, headers: &HeaderMap) -> Response {
    let settings = &state.ctx.settings;
    let manifest = match app_manifest(&settings.public_url()) {
        Ok(manifest) => manifest,
        Err(err) => return server_error(&err),
    };
    let grant = match state
        .setup
        .issue(cookie(headers, COOKIE).as_deref(), Instant::now())
    {
        Ok(grant) => grant,
        Err(refusal @ Refusal::TooMany) => {
            return (StatusCode::SERVICE_UNAVAILABLE, format!("{refusal}\n")).into_response();
        }
        Err(err) => return server_error(&err),
    };
    let github = settings.github_url.trim_end_matches('/');
    let csrf = &grant.state;
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
    let secure = if settings.public_url().starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let set_cookie = format!(
        "{COOKIE}={secret}; HttpOnly; SameSite=Lax; Path=/setup/callback; Max-Age={age}{secure}",
        secret = grant.browser_secret,
        age = STATE_TTL.as_secs(),
    );
    let mut response = private(Html(page("Set up gitferry", &body)).into_response());
    match HeaderValue::from_str(&set_cookie) {
        Ok(value) => {
            response.headers_mut().insert(header::SET_COOKIE, value);
            response
        }
        Err(err) => server_error(&err),
    }
}

/// The setup pages carry the token in their URL: neither cached nor sent on as a Referer
/// (the registration form posts to GitHub).
fn private(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: String,
    state: Option<String>,
}

/// `GET /setup/callback`: GitHub sends the browser back here (a top-level navigation, so the
/// SameSite=Lax cookie comes along; Strict would drop it).
pub async fn callback(
    State(state): State<HttpState>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    if state.ctx.github.has_credentials() {
        return (
            StatusCode::CONFLICT,
            "gitferry already has a GitHub App; remove its credentials to register another\n",
        )
            .into_response();
    }
    if let Err(refusal) = state.setup.redeem(
        query.state.as_deref(),
        cookie(&headers, COOKIE).as_deref(),
        Instant::now(),
    ) {
        warn!(%refusal, "setup callback refused");
        return (StatusCode::BAD_REQUEST, format!("{refusal}\n")).into_response();
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
    let clear = format!("{COOKIE}=; HttpOnly; SameSite=Lax; Path=/setup/callback; Max-Age=0");
    let mut response = private(Html(page("gitferry is registered", &body)).into_response());
    if let Ok(value) = HeaderValue::from_str(&clear) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
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
