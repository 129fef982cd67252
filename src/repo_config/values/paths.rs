//! Paths inside the repository and inside Kubernetes objects.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::shown;

/// A path (or, in `junit`, a glob) relative to the repository root, such as `deploy/preview`.
///
/// Absolute paths and `..` are refused: steps and deploys work inside the checked-out commit
/// and must not reach files of the gitferry host.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RepoPath(String);

impl RepoPath {
    /// Checks a path.
    pub fn new(path: &str) -> Result<Self, String> {
        let problem = if path.trim().is_empty() {
            Some("a path cannot be empty")
        } else if path.starts_with('/') || path.starts_with('\\') || path.get(1..3) == Some(":\\") {
            Some("is absolute; write it relative to the repository root")
        } else if path.split(['/', '\\']).any(|part| part == "..") {
            Some("leaves the repository (`..`); write it relative to the repository root")
        } else if path.contains('\0') {
            Some("contains a NUL character")
        } else {
            None
        };
        match problem {
            None => Ok(Self(path.to_owned())),
            Some(problem) if path.trim().is_empty() => Err(problem.to_owned()),
            Some(problem) => Err(format!("`{}` {problem}", shown(path))),
        }
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RepoPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RepoPath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let path = String::deserialize(deserializer)?;
        Self::new(&path).map_err(de::Error::custom)
    }
}

impl JsonSchema for RepoPath {
    fn schema_name() -> Cow<'static, str> {
        "RepoPath".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A path relative to the repository root (no leading `/`, no `..`).",
            "minLength": 1
        })
    }
}

/// A JSON pointer (RFC 6901) into a Kubernetes object, such as `/spec/replicas`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JsonPointer(String);

impl JsonPointer {
    /// Checks a pointer: empty (the whole object) or `/`-separated tokens, with `~` only in the
    /// escapes `~0` and `~1`.
    pub fn new(pointer: &str) -> Result<Self, String> {
        let escapes_ok = pointer
            .split('~')
            .skip(1)
            .all(|after| after.starts_with('0') || after.starts_with('1'));
        if (pointer.is_empty() || pointer.starts_with('/')) && escapes_ok {
            Ok(Self(pointer.to_owned()))
        } else {
            Err(format!(
                "`{}` is not a JSON pointer: start with `/`, e.g. /spec/replicas, and write `~` \
                 as `~0` and `/` inside a name as `~1`",
                shown(pointer)
            ))
        }
    }

    /// The pointer as written; `serde_json::Value::pointer` accepts it as is.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for JsonPointer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let pointer = String::deserialize(deserializer)?;
        Self::new(&pointer).map_err(de::Error::custom)
    }
}

impl JsonSchema for JsonPointer {
    fn schema_name() -> Cow<'static, str> {
        "JsonPointer".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A JSON pointer (RFC 6901) into the object, e.g. `/spec/replicas`.",
            "pattern": "^(/([^~]|~[01])*)*$",
            "examples": ["/spec/replicas"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_paths_stay_inside_the_repository() {
        assert!(RepoPath::new("deploy/preview").is_ok());
        assert!(RepoPath::new("target/junit/*.xml").is_ok());
        assert!(RepoPath::new("/etc/passwd").is_err());
        assert!(RepoPath::new("deploy/../../secrets").is_err());
        assert!(RepoPath::new("").is_err());
    }

    #[test]
    fn json_pointers() {
        assert!(JsonPointer::new("/spec/replicas").is_ok());
        assert!(JsonPointer::new("/metadata/annotations/a~1b").is_ok());
        assert!(JsonPointer::new("").is_ok());
        assert!(JsonPointer::new("spec/replicas").is_err());
        assert!(JsonPointer::new("/a~2").is_err());
    }
}
