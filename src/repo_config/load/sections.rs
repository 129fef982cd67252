//! Deserializing the document section by section, and entry by entry where a section is a
//! list or a map, so that one bad value hides nothing else: every environment, step and
//! notification is reported on its own.

use std::collections::{BTreeMap, BTreeSet};

use serde::de::DeserializeOwned;
use serde_yaml_ng::Value;

use super::path::{ConfigPath, Segment};
use super::problem::Problem;
use super::serde_message::{translate, with_suggestion};
use crate::repo_config::model::RepoConfig;
use crate::repo_config::values::shown;

/// A top-level section of the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Section {
    Commands,
    Pipeline,
    Runner,
    Environments,
    Drift,
    MergeQueue,
    Notify,
}

impl Section {
    pub(crate) const ALL: [Section; 7] = [
        Self::Commands,
        Self::Pipeline,
        Self::Runner,
        Self::Environments,
        Self::Drift,
        Self::MergeQueue,
        Self::Notify,
    ];

    pub(crate) const fn name(self) -> &'static str {
        match self {
            Self::Commands => "commands",
            Self::Pipeline => "pipeline",
            Self::Runner => "runner",
            Self::Environments => "environments",
            Self::Drift => "drift",
            Self::MergeQueue => "merge_queue",
            Self::Notify => "notify",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|section| section.name() == name)
    }
}

/// What deserializing found: the config (with defaults where a section failed), the sections
/// that are incomplete because part of them failed, and the problems.
#[derive(Debug)]
pub(crate) struct Deserialized {
    pub(crate) config: RepoConfig,
    pub(crate) incomplete: BTreeSet<Section>,
    pub(crate) problems: Vec<Problem>,
    /// For `pipeline` and `notify`: the index in the file of each item that was read, since
    /// items that failed are left out of the config and the rest shift down.
    pub(crate) file_indices: BTreeMap<Section, Vec<usize>>,
    /// Every environment name written, including those whose settings failed; `None` when
    /// `environments` is not even a mapping. Lets "no environment named `x`" be reported
    /// even when another environment is broken.
    pub(crate) environment_names: Option<BTreeSet<String>>,
}

impl Default for Deserialized {
    fn default() -> Self {
        Self {
            config: RepoConfig::default(),
            incomplete: BTreeSet::new(),
            problems: Vec::new(),
            file_indices: BTreeMap::new(),
            environment_names: Some(BTreeSet::new()),
        }
    }
}

impl Deserialized {
    /// The path of item `index` of the config's list `section`, as written in the file.
    pub(crate) fn item_path(&self, section: Section, index: usize) -> ConfigPath {
        let in_file = self
            .file_indices
            .get(&section)
            .and_then(|indices| indices.get(index))
            .copied()
            .unwrap_or(index);
        ConfigPath::root().key(section.name()).index(in_file)
    }
}

pub(crate) fn load(document: Value) -> Deserialized {
    let mut loaded = Deserialized::default();
    let root = ConfigPath::root();
    let mapping = match document {
        Value::Null => return loaded,
        Value::Mapping(mapping) => mapping,
        other => {
            loaded.problems.push(Problem::at(
                root,
                format!(
                    "the config is a mapping of sections (pipeline, environments, …), not {}",
                    kind_of(&other)
                ),
            ));
            return loaded;
        }
    };
    for (key, value) in mapping {
        let Some(name) = key.as_str() else {
            loaded
                .problems
                .push(Problem::at(root.clone(), "section names are strings"));
            continue;
        };
        let at = root.key(name);
        let Some(section) = Section::from_name(name) else {
            let valid = Section::ALL.map(Section::name);
            let lead = format!("unknown key `{}`", shown(name));
            loaded
                .problems
                .push(Problem::at_key(at, with_suggestion(&lead, name, &valid)));
            continue;
        };
        // `pipeline:` with every entry commented out is an absent section, not an error.
        if value.is_null() {
            continue;
        }
        let complete = load_section(section, value, &at, &mut loaded);
        if !complete {
            loaded.incomplete.insert(section);
        }
    }
    loaded
}

/// Deserializes one section into `loaded.config`; false if any part of it failed.
fn load_section(
    section: Section,
    value: Value,
    at: &ConfigPath,
    loaded: &mut Deserialized,
) -> bool {
    let problems = &mut loaded.problems;
    let config = &mut loaded.config;
    let indices = loaded.file_indices.entry(section).or_default();
    match section {
        Section::Commands => replace(&mut config.commands, one(value, at, problems)),
        Section::Runner => replace(&mut config.runner, one(value, at, problems)),
        Section::Drift => replace(&mut config.drift, one(value, at, problems)),
        Section::MergeQueue => replace(&mut config.merge_queue, one(value, at, problems).map(Some)),
        Section::Pipeline => list(value, at, problems, &mut config.pipeline, indices),
        Section::Notify => list(value, at, problems, &mut config.notify, indices),
        Section::Environments => map(
            value,
            at,
            problems,
            &mut config.environments,
            &mut loaded.environment_names,
        ),
    }
}

fn replace<T>(slot: &mut T, value: Option<T>) -> bool {
    match value {
        Some(value) => {
            *slot = value;
            true
        }
        None => false,
    }
}

/// Deserializes a list item by item.
fn list<T: DeserializeOwned>(
    value: Value,
    at: &ConfigPath,
    problems: &mut Vec<Problem>,
    out: &mut Vec<T>,
    indices: &mut Vec<usize>,
) -> bool {
    let Value::Sequence(items) = value else {
        return replace(out, one(value, at, problems));
    };
    let mut complete = true;
    for (index, item) in items.into_iter().enumerate() {
        match one(item, &at.index(index), problems) {
            Some(item) => {
                out.push(item);
                indices.push(index);
            }
            None => complete = false,
        }
    }
    complete
}

/// Deserializes a map entry by entry, noting every name (`None` if it is not a map at all).
fn map<T: DeserializeOwned>(
    value: Value,
    at: &ConfigPath,
    problems: &mut Vec<Problem>,
    out: &mut BTreeMap<String, T>,
    names: &mut Option<BTreeSet<String>>,
) -> bool {
    let Value::Mapping(entries) = value else {
        *names = None;
        return replace(out, one(value, at, problems));
    };
    let mut complete = true;
    for (key, value) in entries {
        let Some(name) = key.as_str() else {
            problems.push(Problem::at(at.clone(), "names are strings here"));
            *names = None;
            complete = false;
            continue;
        };
        if let Some(names) = names.as_mut() {
            names.insert(name.to_owned());
        }
        match one(value, &at.key(name), problems) {
            Some(entry) => {
                out.insert(name.to_owned(), entry);
            }
            None => complete = false,
        }
    }
    complete
}

/// Deserializes one value, recording where inside it serde gave up.
fn one<T: DeserializeOwned>(
    value: Value,
    at: &ConfigPath,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    match serde_path_to_error::deserialize::<_, T>(value) {
        Ok(value) => Some(value),
        Err(error) => {
            let segments = error.path().iter().filter_map(|segment| match segment {
                serde_path_to_error::Segment::Map { key } => Some(Segment::Key(key.clone())),
                serde_path_to_error::Segment::Seq { index } => Some(Segment::Index(*index)),
                serde_path_to_error::Segment::Enum { .. }
                | serde_path_to_error::Segment::Unknown => None,
            });
            let mut path = at.join(segments);
            let translated = translate(&error.inner().to_string());
            if let Some(key) = translated.sub_key {
                path = path.key(key);
            }
            problems.push(Problem {
                path,
                target: translated.target,
                message: translated.message,
            });
            None
        }
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "empty",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}
