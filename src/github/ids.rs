//! Identifier newtypes.
//!
//! GitHub hands out many plain integers (app ids, installation ids, repository ids, comment
//! ids…). Wrapping the ones gitferry keys state by keeps an installation id from being passed
//! where an app id is expected; `#[serde(transparent)]` keeps the wire and database format a
//! plain number or string.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The numeric id of a GitHub App (the JWT's `iss`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AppId(pub u64);

/// The numeric id of one installation of the App on an account; installation tokens are minted
/// per installation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InstallationId(pub u64);

impl From<u64> for AppId {
    fn from(id: u64) -> Self {
        Self(id)
    }
}

impl InstallationId {
    /// An id read back from the store, which keeps ids in `BIGINT` columns (GitHub's ids are
    /// far below 2^63; a negative one cannot come from GitHub and reads as 0, which no
    /// installation has).
    pub fn from_stored(id: i64) -> Self {
        Self(u64::try_from(id).unwrap_or_default())
    }

    /// The id as the store keeps it (see [`InstallationId::from_stored`]).
    pub fn stored(self) -> i64 {
        i64::try_from(self.0).unwrap_or(i64::MAX)
    }
}

impl From<u64> for InstallationId {
    fn from(id: u64) -> Self {
        Self(id)
    }
}

impl fmt::Display for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for InstallationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// `owner/name` of a repository, validated so it can be put into an API path without escaping
/// surprises (exactly one `/`, no empty halves, none of `?#%` or whitespace).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RepoFullName {
    full: String,
    slash: usize,
}

/// Why a string is not a repository full name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a repository full name (expected `owner/name`): {0:?}")]
pub struct InvalidRepoFullName(pub String);

impl RepoFullName {
    pub fn new(owner: &str, name: &str) -> Result<Self, InvalidRepoFullName> {
        format!("{owner}/{name}").parse()
    }

    pub fn owner(&self) -> &str {
        &self.full[..self.slash]
    }

    pub fn name(&self) -> &str {
        &self.full[self.slash + 1..]
    }

    pub fn as_str(&self) -> &str {
        &self.full
    }
}

impl FromStr for RepoFullName {
    type Err = InvalidRepoFullName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidRepoFullName(s.to_owned());
        let slash = s.find('/').ok_or_else(invalid)?;
        let (owner, name) = (&s[..slash], &s[slash + 1..]);
        let part_ok = |p: &str| {
            !p.is_empty()
                && p != "."
                && p != ".."
                && p.chars()
                    .all(|c| !c.is_whitespace() && !matches!(c, '/' | '?' | '#' | '%'))
        };
        if part_ok(owner) && part_ok(name) {
            Ok(Self {
                full: s.to_owned(),
                slash,
            })
        } else {
            Err(invalid())
        }
    }
}

impl TryFrom<String> for RepoFullName {
    type Error = InvalidRepoFullName;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<RepoFullName> for String {
    fn from(r: RepoFullName) -> Self {
        r.full
    }
}

impl fmt::Display for RepoFullName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

/// The owner's login in a repository's full name (`owner/name`), where bare team slugs live.
pub fn repository_owner(full_name: &str) -> &str {
    full_name
        .split_once('/')
        .map_or(full_name, |(owner, _)| owner)
}

/// The first 7 characters of a commit sha, as GitHub shows it.
pub fn short_sha(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_full_name_parses_and_splits() {
        let r: RepoFullName = "octo/hello-world".parse().unwrap();
        assert_eq!((r.owner(), r.name()), ("octo", "hello-world"));
        assert_eq!(r.to_string(), "octo/hello-world");
        assert_eq!(RepoFullName::new("a", "b").unwrap().as_str(), "a/b");
    }

    #[test]
    fn repo_full_name_rejects_path_tricks() {
        for bad in [
            "octo", "/x", "x/", "a/b/c", "a/b?x", "a/..", "a /b", "a/b%2f",
        ] {
            assert!(bad.parse::<RepoFullName>().is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_are_transparent_in_json() {
        assert_eq!(serde_json::to_string(&InstallationId(7)).unwrap(), "7");
        let r: RepoFullName = serde_json::from_str("\"a/b\"").unwrap();
        assert_eq!(serde_json::to_string(&r).unwrap(), "\"a/b\"");
        assert!(serde_json::from_str::<RepoFullName>("\"ab\"").is_err());
    }

    #[test]
    fn installation_ids_go_to_the_store_and_back_unchanged() {
        let id = InstallationId(42_424_242);
        assert_eq!(InstallationId::from_stored(id.stored()), id);
        assert_eq!(InstallationId::from_stored(-1), InstallationId(0));
        assert_eq!(InstallationId(u64::MAX).stored(), i64::MAX);
    }
}
