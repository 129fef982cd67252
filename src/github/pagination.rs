//! Following `Link: <…>; rel="next"` through the request core.
//!
//! octocrab's `get_page` / `all_pages` send `Authorization` only to `api.github.com`, so against
//! GitHub Enterprise (or any other `GITHUB_API_URL`) page two answers 401. We take the path and
//! query of the `next` link and send it like any other request: same token, retries, metrics.

use serde::de::DeserializeOwned;

use super::client::Client;
use super::error::GithubError;
use super::request::{ApiRequest, ApiResponse, Auth};
use super::route::route_template;

/// The target of the `rel="next"` entry of a `Link` header value.
pub fn next_link(link: &str) -> Option<&str> {
    let mut rest = link;
    while let Some(open) = rest.find('<') {
        let after_open = &rest[open + 1..];
        let close = after_open.find('>')?;
        let target = &after_open[..close];
        let params_and_more = &after_open[close + 1..];
        let params = &params_and_more[..params_and_more.find('<').unwrap_or(params_and_more.len())];
        let is_next = params.split(';').any(|p| {
            let p = p.trim().trim_end_matches(',').trim();
            p.strip_prefix("rel=").is_some_and(|rel| {
                rel.trim_matches('"')
                    .split_ascii_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("next"))
            })
        });
        if is_next {
            return Some(target);
        }
        rest = params_and_more;
    }
    None
}

/// Adds `per_page=100` (GitHub's maximum) unless the caller chose a page size: fewer pages,
/// fewer calls against the rate limit.
fn with_max_page_size(path: &str) -> String {
    if path.contains("per_page=") {
        return path.to_owned();
    }
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}per_page=100")
}

/// The items of one page: the body itself, or the array under `items_key` for endpoints that
/// wrap their list (`{"total_count": 3, "check_runs": [...]}`).
fn page_items<T: DeserializeOwned>(
    response: &ApiResponse,
    items_key: Option<&str>,
) -> Result<Vec<T>, GithubError> {
    let decode = |source| GithubError::Decode {
        route: response.route().to_owned(),
        source,
    };
    match items_key {
        None => response.json(),
        Some(key) => {
            let mut page: serde_json::Value = response.json()?;
            let items = page
                .get_mut(key)
                .map(serde_json::Value::take)
                .ok_or_else(|| {
                    decode(<serde_json::Error as serde::de::Error>::custom(
                        format_args!("no `{key}` in the page"),
                    ))
                })?;
            serde_json::from_value(items).map_err(decode)
        }
    }
}

impl Client {
    /// All items of a list endpoint, following `next` links, at most `max_pages` pages.
    /// Hitting the cap is an error rather than a silent truncation: a caller looking for its
    /// sticky comment must not conclude "absent" from a partial list.
    pub async fn paginate<T: DeserializeOwned>(
        &self,
        auth: Auth,
        path: &str,
        items_key: Option<&str>,
    ) -> Result<Vec<T>, GithubError> {
        let max_pages = self.max_pages();
        let mut next = Some(with_max_page_size(path));
        let mut items = Vec::new();
        let mut pages = 0;
        while let Some(page_path) = next.take() {
            if pages == max_pages {
                return Err(GithubError::TooManyPages {
                    route: route_template(path),
                    max_pages,
                });
            }
            let response = self.send(auth, ApiRequest::get(page_path)).await?;
            pages += 1;
            items.extend(page_items::<T>(&response, items_key)?);
            next = response
                .headers
                .get(http::header::LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(next_link)
                .and_then(|url| self.base().relative_from_link(url));
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_next_among_several_relations() {
        let link = r#"<https://api.github.com/repositories/1/issues?page=1>; rel="prev", <https://api.github.com/repositories/1/issues?page=3>; rel="next", <https://api.github.com/repositories/1/issues?page=5>; rel="last""#;
        assert_eq!(
            next_link(link),
            Some("https://api.github.com/repositories/1/issues?page=3")
        );
    }

    #[test]
    fn ghe_absolute_urls_with_prefix() {
        let link = r#"<https://ghe.example.com/api/v3/repositories/9/pulls?state=all&page=2>; rel="next", <https://ghe.example.com/api/v3/repositories/9/pulls?state=all&page=4>; rel="last""#;
        let next = next_link(link).unwrap();
        assert_eq!(
            next,
            "https://ghe.example.com/api/v3/repositories/9/pulls?state=all&page=2"
        );
        let base = crate::github::base::ApiBase::parse("https://ghe.example.com/api/v3").unwrap();
        assert_eq!(
            base.relative_from_link(next).as_deref(),
            Some("/repositories/9/pulls?state=all&page=2")
        );
    }

    #[test]
    fn no_next_on_last_page_or_garbage() {
        let last = r#"<https://api.github.com/x?page=1>; rel="first", <https://api.github.com/x?page=4>; rel="prev""#;
        assert_eq!(next_link(last), None);
        assert_eq!(next_link(""), None);
        assert_eq!(next_link("<unterminated; rel=\"next\""), None);
    }

    #[test]
    fn relation_lists_and_unquoted_rel() {
        assert_eq!(next_link("</a?page=2>; rel=next"), Some("/a?page=2"));
        assert_eq!(
            next_link(r#"</a?page=2>; title="x"; rel="last next""#),
            Some("/a?page=2")
        );
    }

    #[test]
    fn page_size_is_added_once() {
        assert_eq!(with_max_page_size("/a"), "/a?per_page=100");
        assert_eq!(
            with_max_page_size("/a?state=all"),
            "/a?state=all&per_page=100"
        );
        assert_eq!(with_max_page_size("/a?per_page=10"), "/a?per_page=10");
    }
}
