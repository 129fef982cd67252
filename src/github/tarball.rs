//! Commit tarballs, the source a deploy (and later a pipeline step) works from.
//!
//! GitHub answers `GET /repos/{owner}/{repo}/tarball/{ref}` with a redirect to a short-lived,
//! pre-signed codeload link; that link is fetched without our token (see
//! `Transport::fetch_redirect_target`).

use http::header::LOCATION;

use super::client::InstallationClient;
use super::error::GithubError;
use super::request::ApiRequest;

/// The largest tarball gitferry unpacks. A repository whose deployable source is larger is
/// better served by a render command that fetches what it needs.
pub const MAX_TARBALL_BYTES: usize = 512 * 1024 * 1024;

impl InstallationClient {
    /// The gzip tarball of `repo` at `sha` (a single top-level folder holding the tree).
    pub async fn tarball(&self, repo: &str, sha: &str) -> Result<Vec<u8>, GithubError> {
        let body = match self.tarball_source(repo, sha).await? {
            Source::Redirect(location) => {
                self.client()
                    .transport()
                    .fetch_redirect_target(&location)
                    .await?
            }
            Source::Body(body) => body,
        };
        if body.len() > MAX_TARBALL_BYTES {
            return Err(GithubError::InvalidRequest(format!(
                "the tarball of {repo}@{sha} is {} MB, more than the {} MB gitferry unpacks",
                body.len() / (1024 * 1024),
                MAX_TARBALL_BYTES / (1024 * 1024)
            )));
        }
        Ok(body)
    }

    /// The short-lived, pre-signed link GitHub redirects the tarball request to: what a
    /// Kubernetes Job downloads its source from, so the installation token never leaves
    /// gitferry. The link grants read access to this one archive for a few minutes; it is a
    /// secret all the same and is never logged.
    pub async fn tarball_url(&self, repo: &str, sha: &str) -> Result<String, GithubError> {
        match self.tarball_source(repo, sha).await? {
            Source::Redirect(location) => Ok(location),
            Source::Body(_) => Err(GithubError::InvalidRequest(format!(
                "/repos/{repo}/tarball/{sha}: GitHub sent the archive itself, not a link to it"
            ))),
        }
    }

    async fn tarball_source(&self, repo: &str, sha: &str) -> Result<Source, GithubError> {
        let path = format!("/repos/{repo}/tarball/{sha}");
        let response = self
            .client()
            .send_as_installation(self.id(), &ApiRequest::get(&path))
            .await?;
        if response.status.is_redirection() {
            let location = response
                .headers
                .get(LOCATION)
                .and_then(|value| value.to_str().ok())
                .ok_or_else(|| {
                    GithubError::InvalidRequest(format!("{path}: a redirect without a Location"))
                })?;
            Ok(Source::Redirect(location.to_owned()))
        } else if response.status.is_success() {
            Ok(Source::Body(response.body))
        } else {
            Err(GithubError::Status {
                status: response.status.as_u16(),
                method: "GET".into(),
                route: response.route().to_owned(),
                message: response.error_message(),
            })
        }
    }
}

/// Where the archive is: behind a pre-signed link (GitHub's way), or in the answer itself.
enum Source {
    Redirect(String),
    Body(Vec<u8>),
}
