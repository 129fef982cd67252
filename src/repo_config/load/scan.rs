//! The first pass over the YAML: syntax, hostile-input limits, and the position index.
//!
//! It walks saphyr's event stream rather than loading a tree, so nothing is ever expanded:
//! an alias costs the size of what it points to, added up as we go, and the walk stops at the
//! first alias that would push the total over the budget ("billion laughs" fails in
//! microseconds). Nesting depth is checked the same way. Only a document that passes here is
//! handed to serde.

use std::collections::HashMap;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Tag};

use super::index::{Position, PositionIndex};
use super::path::{ConfigPath, Segment};
use crate::repo_config::error::ConfigError;
use crate::repo_config::values::shown;

/// Deeper than any real config (which nests about 6 levels) and far below what would strain
/// the parsers' stacks.
pub(crate) const MAX_DEPTH: usize = 64;

/// How many nodes aliases may add in total. A config that shares a few blocks through anchors
/// uses dozens; an alias bomb needs billions.
pub(crate) const MAX_ALIAS_NODES: u64 = 10_000;

/// Walks `text` and returns where every value is, or the first reason not to go further.
pub(crate) fn scan(text: &str) -> Result<PositionIndex, ConfigError> {
    let mut walk = Walk::default();
    let mut parser = Parser::new_from_str(text);
    // The parser keeps yielding after an error, so the loop stops at the first one.
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(syntax_error)?;
        walk.event(event, position(&span.start))?;
    }
    Ok(walk.index)
}

fn position(marker: &Marker) -> Position {
    Position {
        line: marker.line(),
        column: marker.col() + 1,
    }
}

fn syntax_error(error: ScanError) -> ConfigError {
    let at = position(error.marker());
    let message = if error.info().contains("recursion limit") {
        format!("the config nests deeper than {MAX_DEPTH} levels")
    } else {
        format!("YAML syntax error: {}", error.info())
    };
    located(ConfigPath::root(), at, message)
}

fn located(path: ConfigPath, at: Position, message: impl Into<String>) -> ConfigError {
    ConfigError {
        line: at.line,
        column: at.column,
        path: path.to_string(),
        message: message.into(),
    }
}

enum Node<'a> {
    Scalar { text: &'a str, plain: bool },
    Mapping,
    Sequence,
    Alias(usize),
}

enum Awaiting {
    /// A mapping: waiting for a key (`None`), or for the value of this key.
    Mapping(Option<(String, Position)>),
    /// A sequence: the index of the next item.
    Sequence(usize),
}

struct Frame {
    node: usize,
    awaiting: Awaiting,
    /// Nodes in this collection so far, aliases counted at their expanded size.
    weight: u64,
    anchor: usize,
}

enum Anchor {
    /// Its collection is still open: an alias to it would be recursive.
    Open,
    Done(u64),
}

#[derive(Default)]
struct Walk {
    index: PositionIndex,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchor>,
    alias_nodes: u64,
    documents: usize,
}

impl Walk {
    fn event(&mut self, event: Event<'_>, at: Position) -> Result<(), ConfigError> {
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(located(
                        ConfigPath::root(),
                        at,
                        "a gitferry config is one YAML document; a second one starts here",
                    ));
                }
                Ok(())
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.check_tag(tag.as_deref(), at)?;
                let plain = style == ScalarStyle::Plain;
                self.node(Node::Scalar { text: &text, plain }, at, anchor)
            }
            Event::MappingStart(anchor, tag) => {
                self.check_tag(tag.as_deref(), at)?;
                self.node(Node::Mapping, at, anchor)
            }
            Event::SequenceStart(anchor, tag) => {
                self.check_tag(tag.as_deref(), at)?;
                self.node(Node::Sequence, at, anchor)
            }
            Event::Alias(anchor) => self.node(Node::Alias(anchor), at, 0),
            Event::MappingEnd | Event::SequenceEnd => {
                if let Some(frame) = self.stack.pop() {
                    self.count(frame.weight, frame.anchor);
                }
                Ok(())
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => Ok(()),
        }
    }

    /// Tags from the core schema (`!!str`) are fine; others (`!secret`) would mean something
    /// only to some other program, and serde would turn them into confusing type errors.
    fn check_tag(&self, tag: Option<&Tag>, at: Position) -> Result<(), ConfigError> {
        match tag {
            Some(tag) if !tag.is_yaml_core_schema() => Err(located(
                self.current_path(),
                at,
                format!(
                    "YAML tags such as `{}` have no meaning in a gitferry config",
                    shown(&tag.to_string())
                ),
            )),
            _ => Ok(()),
        }
    }

    fn node(&mut self, node: Node<'_>, at: Position, anchor: usize) -> Result<(), ConfigError> {
        if let Some(frame) = self.stack.last_mut()
            && let Awaiting::Mapping(pending @ None) = &mut frame.awaiting
        {
            let parent = frame.node;
            let Node::Scalar { text, plain } = node else {
                return Err(located(
                    self.current_path(),
                    at,
                    "a key must be a plain string",
                ));
            };
            if plain && text == "<<" {
                return Err(located(
                    self.current_path(),
                    at,
                    "YAML merge keys (`<<`) are not supported; repeat the keys, or point an \
                     alias at a whole value",
                ));
            }
            let segment = Segment::Key(text.to_owned());
            if let Some(first) = self.index.key_of(parent, &segment) {
                return Err(located(
                    self.index.path_of(parent).key(text),
                    at,
                    format!(
                        "duplicate key `{}` (first written at line {})",
                        shown(text),
                        first.line
                    ),
                ));
            }
            *pending = Some((text.to_owned(), at));
            frame.weight = frame.weight.saturating_add(1);
            return Ok(());
        }

        let (parent, key) = match self.stack.last_mut() {
            None => (None, None),
            Some(frame) => match &mut frame.awaiting {
                Awaiting::Mapping(pending) => match pending.take() {
                    Some((key, key_at)) => (Some((frame.node, Segment::Key(key))), Some(key_at)),
                    None => (None, None),
                },
                Awaiting::Sequence(next) => {
                    let index = *next;
                    *next += 1;
                    (Some((frame.node, Segment::Index(index))), None)
                }
            },
        };
        let container = matches!(node, Node::Mapping | Node::Sequence);
        let id = self.index.insert(parent, key, at, container);

        match node {
            Node::Scalar { .. } => {
                self.count(1, anchor);
                Ok(())
            }
            Node::Alias(target) => self.alias(target, id, at),
            Node::Mapping | Node::Sequence => {
                if self.stack.len() >= MAX_DEPTH {
                    return Err(located(
                        self.index.path_of(id),
                        at,
                        format!("the config nests deeper than {MAX_DEPTH} levels"),
                    ));
                }
                if anchor != 0 {
                    self.anchors.insert(anchor, Anchor::Open);
                }
                let awaiting = match node {
                    Node::Mapping => Awaiting::Mapping(None),
                    _ => Awaiting::Sequence(0),
                };
                self.stack.push(Frame {
                    node: id,
                    awaiting,
                    weight: 1,
                    anchor,
                });
                Ok(())
            }
        }
    }

    fn alias(&mut self, target: usize, id: usize, at: Position) -> Result<(), ConfigError> {
        let weight = match self.anchors.get(&target) {
            Some(Anchor::Done(weight)) => *weight,
            Some(Anchor::Open) => {
                return Err(located(
                    self.index.path_of(id),
                    at,
                    "this alias points into the value that defines its own anchor (a recursive \
                     alias)",
                ));
            }
            None => {
                return Err(located(
                    self.index.path_of(id),
                    at,
                    "this alias has no anchor",
                ));
            }
        };
        self.alias_nodes = self.alias_nodes.saturating_add(weight);
        if self.alias_nodes > MAX_ALIAS_NODES {
            return Err(located(
                self.index.path_of(id),
                at,
                format!(
                    "YAML aliases expand to more than {MAX_ALIAS_NODES} values here; a gitferry \
                     config never needs that many (an alias bomb?)"
                ),
            ));
        }
        self.count(weight, 0);
        Ok(())
    }

    /// Adds a finished node's weight to its parent, and remembers it if it was anchored.
    fn count(&mut self, weight: u64, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, Anchor::Done(weight));
        }
        if let Some(frame) = self.stack.last_mut() {
            frame.weight = frame.weight.saturating_add(weight);
        }
    }

    fn current_path(&self) -> ConfigPath {
        self.stack
            .last()
            .map_or_else(ConfigPath::root, |frame| self.index.path_of(frame.node))
    }
}
