//! Names of environment variables of the gitferry process.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer};

/// The name of an environment variable of the gitferry process, such as `SLACK_WEBHOOK_URL`.
///
/// Secrets live in the bot's environment and the repository only names them (design
/// principle 4), so the config never holds a webhook URL or a token. The value is never echoed
/// in an error message: a user who pasted a secret here must not see it again in a check run.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EnvVarName(String);

/// Why a string cannot name a variable of the gitferry process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EnvVarNameError {
    #[error(
        "this looks like a URL or a secret; name an environment variable of the gitferry \
         process, not the secret itself"
    )]
    LooksLikeSecret,
    #[error(
        "this names one of gitferry's own settings (GITFERRY_*, GITHUB_*, DATABASE_URL), which \
         a repository cannot read"
    )]
    Reserved,
    #[error(
        "not an environment variable name: use upper-case letters, digits and `_`, not \
         starting with a digit (e.g. SLACK_WEBHOOK_URL)"
    )]
    Shape,
}

impl EnvVarName {
    /// Checks a name; see [`EnvVarNameError`] for what is refused and why.
    pub fn new(name: &str) -> Result<Self, EnvVarNameError> {
        if looks_like_secret(name) {
            return Err(EnvVarNameError::LooksLikeSecret);
        }
        let mut chars = name.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_uppercase() || c == '_');
        let rest_ok = chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if !first_ok || !rest_ok || name.len() > 128 {
            return Err(EnvVarNameError::Shape);
        }
        if is_reserved(name) {
            return Err(EnvVarNameError::Reserved);
        }
        Ok(Self(name.to_owned()))
    }

    /// The variable's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// gitferry's own settings (see `settings.rs`): the App's private key, the webhook secret, the
/// database URL. A repository naming one would hand it to a step or a notification endpoint.
fn is_reserved(name: &str) -> bool {
    name.starts_with("GITFERRY_") || name.starts_with("GITHUB_") || name == "DATABASE_URL"
}

fn looks_like_secret(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    lower.contains("://")
        || lower.starts_with("http")
        || lower.starts_with("www.")
        || lower.starts_with("hooks.")
        || lower.contains("access_token=")
        || lower.starts_with("xox")
        || lower.starts_with("ghp_")
        || lower.starts_with("github_pat_")
}

impl fmt::Display for EnvVarName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for EnvVarName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::new(&name).map_err(de::Error::custom)
    }
}

impl JsonSchema for EnvVarName {
    fn schema_name() -> Cow<'static, str> {
        "EnvVarName".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "The name of an environment variable of the gitferry process that \
                            holds the value (never the value itself).",
            "pattern": "^[A-Z_][A-Z0-9_]*$",
            "examples": ["SLACK_WEBHOOK_URL"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_upper_snake_case() {
        assert!(EnvVarName::new("SLACK_WEBHOOK_URL").is_ok());
        assert!(EnvVarName::new("_X1").is_ok());
        assert_eq!(EnvVarName::new("slack"), Err(EnvVarNameError::Shape));
        assert_eq!(EnvVarName::new("1X"), Err(EnvVarNameError::Shape));
        assert_eq!(EnvVarName::new(""), Err(EnvVarNameError::Shape));
    }

    #[test]
    fn a_pasted_url_or_token_is_called_out() {
        for secret in [
            "https://hooks.slack.com/services/T/B/x",
            "xoxb-123",
            "ghp_abc",
        ] {
            assert_eq!(
                EnvVarName::new(secret),
                Err(EnvVarNameError::LooksLikeSecret)
            );
        }
    }

    #[test]
    fn gitferrys_own_settings_are_off_limits() {
        for own in ["GITHUB_PRIVATE_KEY", "GITFERRY_PUBLIC_URL", "DATABASE_URL"] {
            assert_eq!(EnvVarName::new(own), Err(EnvVarNameError::Reserved));
        }
    }
}
