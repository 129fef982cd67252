//! `pipeline:` — the steps that build and test a pull request.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::runner::RunnerKind;
use crate::repo_config::values::{Argv, Duration, EnvVarName, RepoPath, StepName};

/// One pipeline step: a command run on the pull request's head commit; its result is the check
/// run `gitferry/<name>`. Read by the pipeline runner.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Unique name, `[a-z0-9-_]`; the check run is `gitferry/<name>`, `/retest <name>` reruns it.
    pub name: StepName,
    /// The command, as a list: `[make, test]`. Never a string (no shell is involved).
    pub run: Argv,
    /// Working directory, relative to the repository root. Default: the root.
    #[serde(default)]
    pub dir: Option<RepoPath>,
    /// Environment variables for the command: a literal string, or `{ secret: NAME }` to pass
    /// the value of the gitferry process's variable `NAME`.
    #[serde(default)]
    pub env: BTreeMap<String, EnvValue>,
    /// How long the step may run before it is killed. Default 30m.
    #[serde(default = "default_timeout")]
    pub timeout: Duration,
    /// JUnit XML reports the step writes (globs relative to the repository root); their test
    /// cases become the check run's summary and annotations.
    #[serde(default)]
    pub junit: Vec<RepoPath>,
    /// `deploy`: run after the preview is deployed, against it (the step gets
    /// `GITFERRY_PREVIEW_URL`). Default: before the deploy.
    #[serde(default)]
    pub after: Option<After>,
    /// Run this step on another runner than `runner.kind`.
    #[serde(default)]
    pub runner: Option<RunnerKind>,
    /// Give the step its `{ secret: }` values also when it runs on the head of a pull request
    /// from a fork (once a maintainer asked for it with `/retest` or `/preview`). Default false:
    /// a fork's code runs without them, and the check run names the ones withheld.
    #[serde(default)]
    pub secrets_for_forks: bool,
}

fn default_timeout() -> Duration {
    Duration::from_mins(30)
}

/// What a step waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum After {
    /// The preview environment's deploy.
    Deploy,
}

/// The value of a step's environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    /// Written in the config (`LOG_LEVEL: debug`; numbers and booleans are taken as written).
    Literal(String),
    /// `{ secret: NAME }`: the value of the gitferry process's variable `NAME`, never logged.
    Secret(EnvVarName),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretRef {
    secret: EnvVarName,
}

impl<'de> Deserialize<'de> for EnvValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(EnvValueVisitor)
    }
}

struct EnvValueVisitor;

impl<'de> Visitor<'de> for EnvValueVisitor {
    type Value = EnvValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, or { secret: NAME }")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<EnvValue, E> {
        Ok(EnvValue::Literal(value.to_owned()))
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<EnvValue, E> {
        Ok(EnvValue::Literal(value.to_string()))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<EnvValue, E> {
        Ok(EnvValue::Literal(value.to_string()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<EnvValue, E> {
        Ok(EnvValue::Literal(value.to_string()))
    }

    /// `1.10` would arrive as 1.1: refuse rather than pass a value that differs from the file.
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<EnvValue, E> {
        Err(E::custom(
            "quote decimal numbers (write \"1.10\") so the value is passed as written",
        ))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<EnvValue, A::Error> {
        let secret = SecretRef::deserialize(MapAccessDeserializer::new(map))?;
        Ok(EnvValue::Secret(secret.secret))
    }
}

impl JsonSchema for EnvValue {
    fn schema_name() -> Cow<'static, str> {
        "EnvValue".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let name = generator.subschema_for::<EnvVarName>();
        json_schema!({
            "description": "A literal value, or `{ secret: NAME }` naming a variable of the \
                            gitferry process.",
            "anyOf": [
                { "type": ["string", "boolean", "integer"] },
                {
                    "type": "object",
                    "properties": { "secret": name },
                    "required": ["secret"],
                    "additionalProperties": false
                }
            ]
        })
    }
}
