//! Paths into the config, such as `environments.preview.ttl` or `pipeline[1].run`.

use std::fmt;

use crate::repo_config::values::shown;

/// One step of a path: a mapping key or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Segment {
    Key(String),
    Index(usize),
}

/// Where a value sits in the document, from the top.
///
/// Kept as segments rather than a dotted string so that a key containing `.` cannot be
/// mistaken for two keys when the position of an error is looked up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub(crate) struct ConfigPath(Vec<Segment>);

impl ConfigPath {
    /// The document itself.
    pub(crate) fn root() -> Self {
        Self::default()
    }

    /// The value under `key` of this mapping.
    pub(crate) fn key(&self, key: impl Into<String>) -> Self {
        self.child(Segment::Key(key.into()))
    }

    /// The item at `index` of this list.
    pub(crate) fn index(&self, index: usize) -> Self {
        self.child(Segment::Index(index))
    }

    /// This path followed by `tail`.
    pub(crate) fn join(&self, tail: impl IntoIterator<Item = Segment>) -> Self {
        let mut path = self.clone();
        path.0.extend(tail);
        path
    }

    pub(crate) fn segments(&self) -> &[Segment] {
        &self.0
    }

    fn child(&self, segment: Segment) -> Self {
        self.join([segment])
    }
}

impl fmt::Display for ConfigPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if i == 0 => f.write_str(&shown(key))?,
                Segment::Key(key) => write!(f, ".{}", shown(key))?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_like_the_yaml() {
        let path = ConfigPath::root().key("pipeline").index(1).key("run");
        assert_eq!(path.to_string(), "pipeline[1].run");
        assert_eq!(ConfigPath::root().to_string(), "");
    }
}
