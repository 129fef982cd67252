//! The API base URL and how request paths are joined to it.
//!
//! We join `base + path` ourselves and hand octocrab an absolute URI instead of relying on its
//! `BaseUriLayer` for path-only URIs: that layer skips the prefix whenever the request path
//! merely *starts with* the base path as a string (`base = …/api`, path `/apps/x` → `/apps/x`),
//! which would break some GitHub Enterprise-style prefixes. An absolute URI whose path already
//! starts with the base path passes through the layer unchanged, for every base.

use http::Uri;

use super::error::GithubError;

/// `https://api.github.com`, `http://127.0.0.1:8080` or `https://ghe.example.com/api/v3`.
#[derive(Clone, Debug)]
pub(crate) struct ApiBase {
    /// `scheme://authority`, no trailing slash.
    origin: String,
    /// The path prefix without trailing slash (`""` for api.github.com, `/api/v3` for GHE).
    prefix: String,
}

impl ApiBase {
    pub(crate) fn parse(url: &str) -> Result<Self, GithubError> {
        let invalid = |why: &str| GithubError::InvalidRequest(format!("API URL {url:?}: {why}"));
        let uri: Uri = url.trim().parse().map_err(|_| invalid("not a URL"))?;
        let scheme = uri.scheme_str().ok_or_else(|| invalid("no scheme"))?;
        if scheme != "http" && scheme != "https" {
            return Err(invalid("scheme must be http or https"));
        }
        let authority = uri.authority().ok_or_else(|| invalid("no host"))?;
        if uri.query().is_some() {
            return Err(invalid("must not have a query"));
        }
        Ok(Self {
            origin: format!("{scheme}://{authority}"),
            prefix: uri.path().trim_end_matches('/').to_owned(),
        })
    }

    /// `scheme://authority`.
    pub(crate) fn origin(&self) -> &str {
        &self.origin
    }

    /// The base as octocrab's `base_uri`.
    pub(crate) fn url(&self) -> String {
        format!("{}{}", self.origin, self.prefix)
    }

    /// Checks a caller's path (API-relative, or an absolute URL under this base as found in
    /// API answers' `url` fields) and returns it API-relative. Refuses other hosts (our token
    /// must never go elsewhere) and `.`/`..` segments (a PR-controlled file name must not walk
    /// to another endpoint).
    pub(crate) fn relative_path(&self, path: &str) -> Result<String, GithubError> {
        let invalid = |why: &str| GithubError::InvalidRequest(format!("path {path:?}: {why}"));
        let rel = if path.starts_with("http://") || path.starts_with("https://") {
            let rest = path
                .strip_prefix(&self.url())
                .ok_or_else(|| invalid("URL is not under the configured GitHub API URL"))?;
            if !rest.starts_with('/') {
                return Err(invalid("URL is not under the configured GitHub API URL"));
            }
            rest
        } else {
            path
        };
        if !rel.starts_with('/') {
            return Err(invalid("must start with '/'"));
        }
        let only_path = rel.split(['?', '#']).next().unwrap_or_default();
        if only_path.split('/').any(|s| s == "." || s == "..") {
            return Err(invalid("dot segments are not allowed"));
        }
        Ok(rel.to_owned())
    }

    /// The path+query of a URL GitHub gave us (a `Link` target), API-relative. Only the path
    /// and query are kept (the host is ours by construction), and the base prefix is removed
    /// when present so the result joins back to the same URL.
    pub(crate) fn relative_from_link(&self, url: &str) -> Option<String> {
        let uri: Uri = url.trim().parse().ok()?;
        let pq = uri.path_and_query()?.as_str();
        let stripped = match pq.strip_prefix(self.prefix.as_str()) {
            Some(rest)
                if !self.prefix.is_empty() && (rest.starts_with('/') || rest.starts_with('?')) =>
            {
                rest
            }
            _ => pq,
        };
        Some(stripped.to_owned())
    }

    /// The absolute URI for an API-relative path+query.
    pub(crate) fn uri(&self, relative: &str) -> Result<Uri, GithubError> {
        format!("{}{}{}", self.origin, self.prefix, relative)
            .parse()
            .map_err(|_| {
                GithubError::InvalidRequest(format!("path {relative:?} is not a valid URI path"))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_with_and_without_prefix() {
        let gh = ApiBase::parse("https://api.github.com/").unwrap();
        assert_eq!(
            gh.uri("/app").unwrap().to_string(),
            "https://api.github.com/app"
        );
        let ghe = ApiBase::parse("https://ghe.example.com/api/v3").unwrap();
        assert_eq!(
            ghe.uri("/apps/x?y=1").unwrap().to_string(),
            "https://ghe.example.com/api/v3/apps/x?y=1"
        );
        let api = ApiBase::parse("http://127.0.0.1:8080/api").unwrap();
        assert_eq!(
            api.uri("/apps/x").unwrap().to_string(),
            "http://127.0.0.1:8080/api/apps/x"
        );
    }

    #[test]
    fn rejects_bad_bases() {
        for bad in ["api.github.com", "ftp://x", "https://x/api?q=1", ""] {
            assert!(ApiBase::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn relative_paths_stay_on_our_host() {
        let ghe = ApiBase::parse("https://ghe.example.com/api/v3").unwrap();
        assert_eq!(ghe.relative_path("/repos/o/r").unwrap(), "/repos/o/r");
        assert_eq!(
            ghe.relative_path("https://ghe.example.com/api/v3/repos/o/r/issues/1")
                .unwrap(),
            "/repos/o/r/issues/1"
        );
        assert!(
            ghe.relative_path("https://evil.example.com/api/v3/repos")
                .is_err()
        );
        assert!(
            ghe.relative_path("https://ghe.example.com/api/v3x/repos")
                .is_err()
        );
        assert!(ghe.relative_path("repos/o/r").is_err());
        assert!(ghe.relative_path("/repos/o/r/contents/../../user").is_err());
        assert!(ghe.relative_path("/repos/o/r/contents/a..b?x=..").is_ok());
    }

    #[test]
    fn link_targets_lose_host_and_prefix() {
        let ghe = ApiBase::parse("https://ghe.example.com/api/v3").unwrap();
        assert_eq!(
            ghe.relative_from_link("https://ghe.example.com/api/v3/repositories/1/issues?page=2")
                .as_deref(),
            Some("/repositories/1/issues?page=2")
        );
        let gh = ApiBase::parse("https://api.github.com").unwrap();
        assert_eq!(
            gh.relative_from_link("https://api.github.com/repositories/1/issues?page=2")
                .as_deref(),
            Some("/repositories/1/issues?page=2")
        );
        assert_eq!(gh.relative_from_link("not a url"), None);
    }
}
