//! Names the config uses as identifiers, and the shape each one must have.
//!
//! Hand-written character checks rather than a regex crate: each rule is one line and the
//! crate has no regex dependency to reuse.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::shown;

/// A pipeline step's name: `[a-z0-9-_]`, at most 64 characters.
///
/// It becomes the check run `gitferry/<name>` and the argument of `/retest <name>`, so it is
/// kept to characters that read well in both and need no quoting.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StepName(String);

impl StepName {
    /// Checks a step name.
    pub fn new(name: &str) -> Result<Self, String> {
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if valid {
            Ok(Self(name.to_owned()))
        } else {
            Err(format!(
                "`{}` is not a step name: use a-z, 0-9, `-` and `_`, at most 64 characters \
                 (it becomes the check run gitferry/<name>)",
                shown(name)
            ))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StepName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for StepName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::new(&name).map_err(de::Error::custom)
    }
}

impl JsonSchema for StepName {
    fn schema_name() -> Cow<'static, str> {
        "StepName".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "The step's name; its check run is `gitferry/<name>`.",
            "pattern": "^[a-z0-9_-]{1,64}$"
        })
    }
}

/// An environment's name: `[a-z0-9-_]`, starting with a letter or digit, at most 63
/// characters. It is typed in `/promote <env>` and fills the `{env}` placeholder of
/// namespaces, which are DNS labels.
pub(crate) fn is_environment_name(name: &str) -> bool {
    name.len() <= 63
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// A Kubernetes namespace or other DNS label (RFC 1123).
pub(crate) fn is_dns_label(name: &str) -> bool {
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (1..=63).contains(&name.len())
        && edge_ok(name.chars().next())
        && edge_ok(name.chars().last())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// A variable a step's process receives: `[A-Za-z_][A-Za-z0-9_]*`.
pub(crate) fn is_variable_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A branch name as `git check-ref-format --branch` would accept it (the common rules).
pub(crate) fn is_branch_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with(['-', '/', '.'])
        && !name.ends_with(['/', '.'])
        && !name.ends_with(".lock")
        && !name.contains("..")
        && !name.contains("//")
        && !name.contains("@{")
        && !name
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(c))
}

/// A GitHub login: letters, digits and hyphens, not starting with a hyphen, at most 39
/// characters; apps end in `[bot]`.
pub(crate) fn is_github_login(login: &str) -> bool {
    let name = login.strip_suffix("[bot]").unwrap_or(login);
    (1..=39).contains(&name.len())
        && !name.starts_with('-')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// A team: its slug (`release-managers`), or `org/slug` for a team of another organisation.
pub(crate) fn is_team(team: &str) -> bool {
    let slug_ok = |slug: &str| {
        (1..=100).contains(&slug.len())
            && slug
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    match team.split_once('/') {
        Some((org, slug)) => is_github_login(org) && slug_ok(slug),
        None => slug_ok(team),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_names_become_check_run_names() {
        assert!(StepName::new("unit-tests_2").is_ok());
        assert!(StepName::new("Unit").is_err());
        assert!(StepName::new("a b").is_err());
        assert!(StepName::new("").is_err());
    }

    #[test]
    fn branch_names_follow_gits_rules() {
        assert!(is_branch_name("latest"));
        assert!(is_branch_name("release/1.2"));
        for bad in ["", "-x", "a..b", "a b", "x.lock", "a:b", "/a", "a/"] {
            assert!(!is_branch_name(bad), "{bad}");
        }
    }

    #[test]
    fn logins_and_teams() {
        assert!(is_github_login("octo-cat"));
        assert!(is_github_login("dependabot[bot]"));
        assert!(!is_github_login("-x"));
        assert!(is_team("release-managers"));
        assert!(is_team("acme/release-managers"));
        assert!(!is_team("release managers"));
    }

    #[test]
    fn dns_labels() {
        assert!(is_dns_label("shop-pr-12"));
        assert!(!is_dns_label("Shop"));
        assert!(!is_dns_label("shop-"));
        assert!(!is_dns_label(&"a".repeat(64)));
    }
}
