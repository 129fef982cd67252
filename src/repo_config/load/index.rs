//! Where each value of the document is, by path: the position index.
//!
//! serde tells us *which* value is wrong (by path); this index tells us where that value is
//! written (line and column), so every error can point at its line.

use std::collections::HashMap;

use super::path::{ConfigPath, Segment};

/// A 1-based line and column (columns count characters, as GitHub annotations do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Position {
    pub(crate) line: usize,
    pub(crate) column: usize,
}

impl Position {
    /// The start of the file: where errors about the file as a whole go.
    pub(crate) const START: Position = Position { line: 1, column: 1 };
}

/// Which part of an entry an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// The key (`ttl:` for an unknown or misplaced key, a bad environment name).
    Key,
    /// The value (`72x` for a bad duration).
    Value,
    /// The value if it is a scalar, else its key: "missing key" on a mapping reads best at the
    /// line that opens it.
    Auto,
}

#[derive(Debug, Clone)]
struct Node {
    parent: Option<usize>,
    segment: Option<Segment>,
    key: Option<Position>,
    value: Position,
    container: bool,
}

/// A tree of positions: each node stores only its own segment, so the memory used grows with
/// the document, never with (depth × key length) as full path strings per node would.
#[derive(Debug, Default)]
pub(crate) struct PositionIndex {
    nodes: Vec<Node>,
    children: HashMap<(usize, Segment), usize>,
}

impl PositionIndex {
    /// Records a node; the first node recorded is the document's root.
    pub(super) fn insert(
        &mut self,
        parent: Option<(usize, Segment)>,
        key: Option<Position>,
        value: Position,
        container: bool,
    ) -> usize {
        let id = self.nodes.len();
        let (parent_id, segment) = match parent {
            Some((parent_id, segment)) => {
                self.children.insert((parent_id, segment.clone()), id);
                (Some(parent_id), Some(segment))
            }
            None => (None, None),
        };
        self.nodes.push(Node {
            parent: parent_id,
            segment,
            key,
            value,
            container,
        });
        id
    }

    /// The key position of `segment` under `parent`, if it was recorded (duplicate keys).
    pub(super) fn key_of(&self, parent: usize, segment: &Segment) -> Option<Position> {
        let id = *self.children.get(&(parent, segment.clone()))?;
        self.nodes.get(id)?.key
    }

    /// The path of a recorded node.
    pub(super) fn path_of(&self, mut id: usize) -> ConfigPath {
        let mut segments = Vec::new();
        while let Some(node) = self.nodes.get(id) {
            if let Some(segment) = &node.segment {
                segments.push(segment.clone());
            }
            match node.parent {
                Some(parent) => id = parent,
                None => break,
            }
        }
        segments.reverse();
        ConfigPath::root().join(segments)
    }

    /// Where to point for an error about `path`. A path not in the document (a missing key, a
    /// value that came through an alias) points at its nearest ancestor that is.
    pub(crate) fn locate(&self, path: &ConfigPath, target: Target) -> Position {
        let Some(mut node) = self.nodes.first() else {
            return Position::START;
        };
        let mut id = 0;
        let mut exact = true;
        for segment in path.segments() {
            let child = self.children.get(&(id, segment.clone())).copied();
            match child.and_then(|child| Some((child, self.nodes.get(child)?))) {
                Some((child, child_node)) => {
                    id = child;
                    node = child_node;
                }
                None => {
                    exact = false;
                    break;
                }
            }
        }
        let target = if exact { target } else { Target::Auto };
        match (target, node.key) {
            (Target::Key, Some(key)) => key,
            (Target::Auto, Some(key)) if node.container => key,
            _ => node.value,
        }
    }
}
