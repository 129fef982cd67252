//! `github::Client`: authentication, dry run and typed helpers over the request core.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use http::StatusCode;
use secrecy::SecretString;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::auth::AppCredentials;
use super::base::ApiBase;
use super::dry_run::{DryRunLog, RecordedCall};
use super::error::GithubError;
use super::ids::{AppId, InstallationId};
use super::request::{ApiRequest, ApiResponse, Auth};
use super::retry::RetryPolicy;
use super::token_cache::{MintedToken, TokenCache};
use super::transport::Transport;
use crate::metrics::Metrics;

/// How to reach GitHub and how hard to try.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// `https://api.github.com`, or `https://<host>/api/v3` for GitHub Enterprise Server.
    pub api_url: String,
    pub retry: RetryPolicy,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    /// Show writes instead of sending them (see `dry_run.rs`).
    pub dry_run: bool,
    /// Upper bound of pages one `paginate` call reads.
    pub max_pages: usize,
    /// Installation tokens are renewed this long before they expire.
    pub token_refresh_margin: Duration,
}

impl ClientConfig {
    /// Defaults for the given API URL.
    pub fn new(api_url: &str) -> Self {
        Self {
            api_url: api_url.to_owned(),
            ..Self::default()
        }
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            api_url: "https://api.github.com".into(),
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            dry_run: false,
            max_pages: 100,
            token_refresh_margin: Duration::from_secs(5 * 60),
        }
    }
}

/// The one gateway to the GitHub API. Cheap to clone (one shared inner state: HTTP client,
/// credentials, token cache), so every worker holds its own handle.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    credentials: RwLock<Credentials>,
    tokens: TokenCache,
    dry_run: Option<DryRunLog>,
    max_pages: usize,
}

/// The current credentials and a counter bumped on every swap, so tokens minted for a
/// previous App are recognised as stale.
#[derive(Default)]
struct Credentials {
    current: Option<Arc<AppCredentials>>,
    generation: u64,
}

#[derive(Deserialize)]
struct AccessTokenAnswer {
    token: String,
    expires_at: Option<String>,
}

impl Client {
    /// `credentials` is `None` until the App is registered (see [`Client::set_credentials`]).
    pub fn new(
        config: ClientConfig,
        credentials: Option<AppCredentials>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, GithubError> {
        let base = ApiBase::parse(&config.api_url)?;
        let transport = Transport::new(
            base,
            config.retry,
            config.connect_timeout,
            config.read_timeout,
            metrics,
        )?;
        Ok(Self {
            inner: Arc::new(Inner {
                transport,
                credentials: RwLock::new(Credentials {
                    current: credentials.map(Arc::new),
                    generation: 0,
                }),
                tokens: TokenCache::new(config.token_refresh_margin),
                dry_run: config.dry_run.then(DryRunLog::default),
                max_pages: config.max_pages,
            }),
        })
    }

    /// Installs (or replaces) the App credentials. Runtime swapping exists because the
    /// manifest flow registers the App while the server is already running; cached installation
    /// tokens of the previous App are dropped.
    pub fn set_credentials(&self, credentials: AppCredentials) {
        let mut slot = self
            .inner
            .credentials
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        slot.current = Some(Arc::new(credentials));
        slot.generation += 1;
        drop(slot);
        self.inner.tokens.clear();
    }

    pub fn has_credentials(&self) -> bool {
        self.credentials().is_ok()
    }

    pub fn app_id(&self) -> Option<AppId> {
        self.credentials().ok().map(|(c, _)| c.app_id())
    }

    pub fn is_dry_run(&self) -> bool {
        self.inner.dry_run.is_some()
    }

    /// The configured API URL (normalised, no trailing slash).
    pub fn api_url(&self) -> String {
        self.base().url()
    }

    /// Writes suppressed so far in dry-run mode (empty otherwise).
    pub fn dry_run_log(&self) -> Vec<RecordedCall> {
        self.inner
            .dry_run
            .as_ref()
            .map(DryRunLog::calls)
            .unwrap_or_default()
    }

    /// A handle acting as one installation.
    pub fn installation(&self, id: InstallationId) -> InstallationClient {
        InstallationClient {
            client: self.clone(),
            id,
        }
    }

    /// `GET` an App-level endpoint (`/app`, `/app/installations`…) with the JWT.
    pub async fn app_get<T: DeserializeOwned>(&self, path: &str) -> Result<T, GithubError> {
        self.send(Auth::App, ApiRequest::get(path)).await?.json()
    }

    /// Sends one request as `auth`. Non-success answers become `GithubError::Status` (304 Not
    /// Modified counts as success); a 401 with an installation token drops that token and tries
    /// once more with a fresh one.
    pub async fn send(&self, auth: Auth, req: ApiRequest) -> Result<ApiResponse, GithubError> {
        if let Some(log) = &self.inner.dry_run
            && req.is_mutating()
        {
            let path = self.base().relative_path(&req.path_and_query)?;
            let route = super::route::route_template(&path);
            log.record(RecordedCall {
                method: req.method,
                path,
                body: req.body,
            });
            return Ok(ApiResponse::synthetic_ok(route));
        }
        self.send_unsuppressed(auth, &req).await
    }

    /// [`Client::send`] without the dry-run gate, for calls that change nothing on GitHub.
    pub(crate) async fn send_unsuppressed(
        &self,
        auth: Auth,
        req: &ApiRequest,
    ) -> Result<ApiResponse, GithubError> {
        let response = match auth {
            Auth::None => self.inner.transport.execute(req, None).await?,
            Auth::App => {
                let (credentials, _) = self.credentials()?;
                let jwt = credentials.jwt()?;
                let response = self.inner.transport.execute(req, Some(&jwt)).await?;
                if response.status == StatusCode::UNAUTHORIZED {
                    return Err(auth_error(None, &response));
                }
                response
            }
            Auth::Installation(id) => self.send_as_installation(id, req).await?,
        };
        if response.status.is_success() || response.status == StatusCode::NOT_MODIFIED {
            Ok(response)
        } else {
            Err(GithubError::Status {
                status: response.status.as_u16(),
                method: req.method.to_string(),
                route: response.route().to_owned(),
                message: response.error_message(),
            })
        }
    }

    pub(super) async fn send_as_installation(
        &self,
        id: InstallationId,
        req: &ApiRequest,
    ) -> Result<ApiResponse, GithubError> {
        let token = self.installation_token(id).await?;
        let response = self.inner.transport.execute(req, Some(&token)).await?;
        if response.status != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        tracing::info!(installation = %id, "installation token rejected; minting a new one");
        self.inner.tokens.invalidate(id, &token).await;
        let token = self.installation_token(id).await?;
        let response = self.inner.transport.execute(req, Some(&token)).await?;
        if response.status == StatusCode::UNAUTHORIZED {
            return Err(auth_error(Some(id), &response));
        }
        Ok(response)
    }

    pub(super) fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// A valid installation access token, from the cache or freshly exchanged. Exposed for
    /// `git` over HTTPS (`x-access-token:<token>`), which cannot go through this client.
    pub async fn installation_token(
        &self,
        id: InstallationId,
    ) -> Result<SecretString, GithubError> {
        let (credentials, generation) = self.credentials()?;
        self.inner
            .tokens
            .get_or_mint(id, generation, || self.exchange(id, &credentials))
            .await
    }

    /// `POST /app/installations/{id}/access_tokens` with the JWT. Never suppressed by dry run:
    /// it changes nothing on GitHub, and the reads that follow need it.
    async fn exchange(
        &self,
        id: InstallationId,
        credentials: &AppCredentials,
    ) -> Result<MintedToken, GithubError> {
        let jwt = credentials.jwt()?;
        let req = ApiRequest::post(format!("/app/installations/{id}/access_tokens"));
        let response = self.inner.transport.execute(&req, Some(&jwt)).await?;
        if response.status.is_server_error() {
            return Err(GithubError::Status {
                status: response.status.as_u16(),
                method: "POST".into(),
                route: response.route().to_owned(),
                message: response.error_message(),
            });
        }
        if !response.status.is_success() {
            return Err(auth_error(Some(id), &response));
        }
        let answer: AccessTokenAnswer = response.json()?;
        Ok(MintedToken {
            token: SecretString::from(answer.token),
            expires_at: expiry(answer.expires_at.as_deref()),
        })
    }

    fn credentials(&self) -> Result<(Arc<AppCredentials>, u64), GithubError> {
        let slot = self
            .inner
            .credentials
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let current = slot.current.clone().ok_or(GithubError::NoCredentials)?;
        Ok((current, slot.generation))
    }

    pub(crate) fn base(&self) -> &ApiBase {
        self.inner.transport.base()
    }

    pub(crate) fn max_pages(&self) -> usize {
        self.inner.max_pages
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("api_url", &self.api_url())
            .field("app_id", &self.app_id())
            .field("dry_run", &self.is_dry_run())
            .finish_non_exhaustive()
    }
}

fn auth_error(installation: Option<InstallationId>, response: &ApiResponse) -> GithubError {
    GithubError::Auth {
        installation,
        status: Some(response.status.as_u16()),
        message: response.error_message(),
    }
}

/// When a token expires. GitHub always sends `expires_at`; if a server does not (or sends
/// something unreadable), assume the documented one-hour lifetime.
fn expiry(expires_at: Option<&str>) -> SystemTime {
    expires_at
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(SystemTime::from)
        .unwrap_or_else(|| SystemTime::now() + Duration::from_secs(3600))
}

/// [`Client`] acting as one installation; what feature code uses for repository work.
#[derive(Clone, Debug)]
pub struct InstallationClient {
    client: Client,
    id: InstallationId,
}

impl InstallationClient {
    pub fn id(&self) -> InstallationId {
        self.id
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub async fn send(&self, req: ApiRequest) -> Result<ApiResponse, GithubError> {
        self.client.send(Auth::Installation(self.id), req).await
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, GithubError> {
        self.send(ApiRequest::get(path)).await?.json()
    }

    /// In dry-run mode the answer is `{}`; decode into `serde_json::Value` (or a type with
    /// defaults) where that matters.
    pub async fn post<B, T>(&self, path: &str, body: &B) -> Result<T, GithubError>
    where
        B: serde::Serialize + ?Sized,
        T: DeserializeOwned,
    {
        self.send(ApiRequest::post(path).with_body(to_json(path, body)?))
            .await?
            .json()
    }

    pub async fn patch<B, T>(&self, path: &str, body: &B) -> Result<T, GithubError>
    where
        B: serde::Serialize + ?Sized,
        T: DeserializeOwned,
    {
        self.send(ApiRequest::patch(path).with_body(to_json(path, body)?))
            .await?
            .json()
    }

    pub async fn put<B, T>(&self, path: &str, body: &B) -> Result<T, GithubError>
    where
        B: serde::Serialize + ?Sized,
        T: DeserializeOwned,
    {
        self.send(ApiRequest::put(path).with_body(to_json(path, body)?))
            .await?
            .json()
    }

    pub async fn delete(&self, path: &str) -> Result<(), GithubError> {
        self.send(ApiRequest::delete(path)).await.map(drop)
    }

    pub async fn paginate<T: DeserializeOwned>(
        &self,
        path: &str,
        items_key: Option<&str>,
    ) -> Result<Vec<T>, GithubError> {
        self.client
            .paginate(Auth::Installation(self.id), path, items_key)
            .await
    }

    /// See [`Client::installation_token`].
    pub async fn token(&self) -> Result<SecretString, GithubError> {
        self.client.installation_token(self.id).await
    }
}

fn to_json<B: serde::Serialize + ?Sized>(
    path: &str,
    body: &B,
) -> Result<serde_json::Value, GithubError> {
    serde_json::to_value(body)
        .map_err(|e| GithubError::InvalidRequest(format!("body for {path}: {e}")))
}
