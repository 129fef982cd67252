//! Durations written the way people say them: `90s`, `10m`, `1h30m`, `72h`.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::shown;

/// A length of time, parsed with `humantime`.
///
/// A newtype because YAML has no duration type: a bare `600` would leave the unit to guesswork,
/// so the config only accepts numbers with their unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(std::time::Duration);

/// Why a string is not a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("`{text}` is not a duration{reason}; write it like `90s`, `10m`, `1h30m` or `72h`")]
    Invalid { text: String, reason: String },
    #[error("a duration must be longer than zero")]
    Zero,
}

impl Duration {
    /// A duration of whole seconds (for defaults).
    pub const fn from_secs(seconds: u64) -> Self {
        Self(std::time::Duration::from_secs(seconds))
    }

    /// A duration of whole minutes (for defaults).
    pub const fn from_mins(minutes: u64) -> Self {
        Self::from_secs(minutes * 60)
    }

    /// The standard-library value, for timers and deadlines.
    pub const fn get(self) -> std::time::Duration {
        self.0
    }
}

impl From<Duration> for std::time::Duration {
    fn from(value: Duration) -> Self {
        value.0
    }
}

impl FromStr for Duration {
    type Err = DurationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let parsed = humantime::parse_duration(text.trim()).map_err(|error| {
            // humantime's other messages give byte offsets, which mean nothing to a reader.
            let reason = match error {
                humantime::DurationError::UnknownUnit { unit, .. } => {
                    format!(" (unknown unit `{}`)", shown(&unit))
                }
                humantime::DurationError::NumberOverflow => " (too long)".to_owned(),
                _ => String::new(),
            };
            DurationError::Invalid {
                text: shown(text),
                reason,
            }
        })?;
        if parsed.is_zero() {
            return Err(DurationError::Zero);
        }
        Ok(Self(parsed))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

/// Serialised as the text it was parsed from (normalised), so a config can be printed back.
impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DurationVisitor)
    }
}

struct DurationVisitor;

const NEEDS_UNIT: &str = "a duration needs a unit: write it like `90s`, `10m` or `72h`";

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration such as `10m` or `72h`")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Duration, E> {
        text.parse().map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Duration, E> {
        Err(E::custom(NEEDS_UNIT))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Duration, E> {
        Err(E::custom(NEEDS_UNIT))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Duration, E> {
        Err(E::custom(NEEDS_UNIT))
    }
}

impl JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A duration with its unit: `90s`, `10m`, `1h30m`, `72h`, `7d`.",
            "pattern": "^\\s*([0-9]+\\s*[a-zA-Z]+\\s*)+$",
            "examples": ["90s", "10m", "1h30m", "72h"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_write_durations_with_units() {
        assert_eq!("10m".parse(), Ok(Duration::from_mins(10)));
        assert_eq!("72h".parse(), Ok(Duration::from_mins(72 * 60)));
        assert_eq!("90s".parse(), Ok(Duration::from_secs(90)));
        assert_eq!("1h30m".parse(), Ok(Duration::from_mins(90)));
    }

    #[test]
    fn zero_and_nonsense_are_refused() {
        assert_eq!("0s".parse::<Duration>(), Err(DurationError::Zero));
        assert!(matches!(
            "soon".parse::<Duration>(),
            Err(DurationError::Invalid { .. })
        ));
    }
}
