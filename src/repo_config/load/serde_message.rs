//! serde's error messages, rephrased for people editing YAML, with a guess at what was meant.
//!
//! serde reports unknown keys and values as text in a fixed format (`unknown field `x`,
//! expected one of `a`, `b``; see `serde::de::Error::unknown_field`), and the names it
//! lists are exactly the valid ones at that place, so reading them back is reliable and keeps
//! the list of valid keys in one place: the types.

use std::fmt::Display;

use super::index::Target;
use super::suggest::did_you_mean;
use crate::repo_config::values::shown;

/// Marks a message from a `TryFrom` conversion as being about one key of the value, so the error
/// points at that key's line rather than at the whole value.
const KEY_MARK: char = '\u{1f}';

/// A message about `key` inside the value being converted (see [`KEY_MARK`]).
pub(crate) fn at_key(key: &str, message: impl Display) -> String {
    format!("{KEY_MARK}{key}{KEY_MARK}{message}")
}

/// A serde message ready to show, and where it points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Translated {
    pub(crate) message: String,
    /// A key under the error's path that the message is about.
    pub(crate) sub_key: Option<String>,
    pub(crate) target: Target,
}

pub(crate) fn translate(message: &str) -> Translated {
    let plain = |message: String, target| Translated {
        message,
        sub_key: None,
        target,
    };
    if let Some(rest) = message.strip_prefix(KEY_MARK)
        && let Some((key, message)) = rest.split_once(KEY_MARK)
    {
        return Translated {
            message: message.to_owned(),
            sub_key: Some(key.to_owned()),
            target: Target::Key,
        };
    }
    if let Some((name, valid)) = unknown(message, "unknown field `") {
        return plain(
            with_suggestion(&format!("unknown key `{}`", shown(name)), name, &valid),
            Target::Key,
        );
    }
    if let Some((name, valid)) = unknown(message, "unknown variant `") {
        return plain(
            with_suggestion(&format!("unknown value `{}`", shown(name)), name, &valid),
            Target::Value,
        );
    }
    if let Some(name) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        return plain(format!("missing key `{name}`"), Target::Auto);
    }
    // A value of the wrong type or range: point at the value even when it is a list or a map.
    let about_the_value = ["invalid type:", "invalid value:", "invalid length"]
        .iter()
        .any(|lead| message.starts_with(lead));
    let target = if about_the_value {
        Target::Value
    } else {
        Target::Auto
    };
    plain(message.to_owned(), target)
}

/// Splits `unknown field `name`, expected one of `a`, `b`` into the name and the valid names.
fn unknown<'a>(message: &'a str, prefix: &str) -> Option<(&'a str, Vec<&'a str>)> {
    let rest = message.strip_prefix(prefix)?;
    let (name, expected) = rest
        .split_once("`, expected ")
        .or_else(|| rest.split_once("`, there are no "))?;
    let valid = expected.split('`').skip(1).step_by(2).collect();
    Some((name, valid))
}

/// `unknown key `x``, plus the closest valid name, or the valid names when none is close.
///
/// At most the first 100 valid names are considered: a file can name ten thousand
/// environments, and comparing each wrong name with all of them would take quadratic time.
pub(crate) fn with_suggestion(lead: &str, name: &str, valid: &[&str]) -> String {
    let valid = valid.get(..100).unwrap_or(valid);
    match did_you_mean(name, valid.iter().copied()) {
        Some(close) => format!("{lead}; did you mean `{close}`?"),
        None if valid.is_empty() => lead.to_owned(),
        None => format!("{lead}; expected one of: {}", valid.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_get_a_suggestion() {
        let translated = translate("unknown field `brnch`, expected one of `branch`, `ttl`, `url`");
        assert_eq!(
            translated.message,
            "unknown key `brnch`; did you mean `branch`?"
        );
        assert_eq!(translated.target, Target::Key);
    }

    #[test]
    fn unknown_values_list_the_valid_ones_when_nothing_is_close() {
        let translated = translate("unknown variant `blue`, expected `merge` or `squash`");
        assert_eq!(
            translated.message,
            "unknown value `blue`; expected one of: merge, squash"
        );
    }

    #[test]
    fn keyed_messages_point_at_their_key() {
        let translated = translate(&at_key("ttl", "no ttl here"));
        assert_eq!(translated.sub_key.as_deref(), Some("ttl"));
        assert_eq!(translated.message, "no ttl here");
    }

    #[test]
    fn missing_fields_are_missing_keys() {
        assert_eq!(
            translate("missing field `run`").message,
            "missing key `run`"
        );
    }
}
