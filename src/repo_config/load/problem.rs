//! Problems found before positions are known, and how they become located errors.

use super::index::{PositionIndex, Target};
use super::path::ConfigPath;
use crate::repo_config::error::{ConfigError, truncate};

/// Something wrong with the value at `path`; [`Problem::locate`] finds its line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) path: ConfigPath,
    pub(crate) target: Target,
    pub(crate) message: String,
}

impl Problem {
    /// A problem with a value (or, for a mapping, the entry that holds it).
    pub(crate) fn at(path: ConfigPath, message: impl Into<String>) -> Self {
        Self {
            path,
            target: Target::Auto,
            message: message.into(),
        }
    }

    /// A problem with a key itself (unknown, misplaced, badly named).
    pub(crate) fn at_key(path: ConfigPath, message: impl Into<String>) -> Self {
        Self {
            path,
            target: Target::Key,
            message: message.into(),
        }
    }

    /// A problem with a scalar value, even when its path also names a key.
    pub(crate) fn at_value(path: ConfigPath, message: impl Into<String>) -> Self {
        Self {
            path,
            target: Target::Value,
            message: message.into(),
        }
    }

    /// The error as users see it. Messages are capped because some quote what was written.
    pub(crate) fn locate(self, index: &PositionIndex) -> ConfigError {
        let position = index.locate(&self.path, self.target);
        ConfigError {
            line: position.line,
            column: position.column,
            path: self.path.to_string(),
            message: truncate(&self.message, 1000),
        }
    }
}
