//! What the caller tells a comparison: whose fields count, which namespace is implied, and
//! what a repository has chosen to ignore.

/// The field manager gitferry applies with (`kubectl apply --server-side --field-manager`).
pub const DEFAULT_FIELD_MANAGER: &str = "gitferry";

/// How [`compare`](super::compare) decides what is drift.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The namespace a namespaced object without `metadata.namespace` lands in when applied, so
    /// that a rendered object without one still matches its live copy.
    pub namespace: Option<String>,
    /// The manager whose `Apply` entry in `metadata.managedFields` says which fields are
    /// gitferry's: only those (and the ones Git declares) are compared.
    pub field_manager: String,
    /// Label (and annotation) keys gitferry stamps on what it applies for its own bookkeeping;
    /// Git never declares them, so they would otherwise always look like drift.
    pub ignored_labels: Vec<String>,
    /// The repository's ignore rules (for example `/spec/replicas` of Deployments an HPA
    /// scales).
    pub ignore: Vec<IgnoreRule>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            namespace: None,
            field_manager: DEFAULT_FIELD_MANAGER.to_owned(),
            ignored_labels: Vec::new(),
            ignore: Vec::new(),
        }
    }
}

/// A difference at or under `pointer` (a JSON pointer such as `/spec/replicas`) of an object
/// of `kind` (and `name`, when given) is not drift. List items are addressed by their index in
/// the desired object, as in any JSON pointer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgnoreRule {
    pub kind: String,
    pub name: Option<String>,
    pub pointer: String,
}

/// A repository's `drift.ignore` entry, as its config validated it.
impl From<&crate::repo_config::DriftIgnore> for IgnoreRule {
    fn from(rule: &crate::repo_config::DriftIgnore) -> Self {
        Self {
            kind: rule.kind.clone(),
            name: rule.name.clone(),
            pointer: rule.path.as_str().to_owned(),
        }
    }
}

impl IgnoreRule {
    /// Whether the rule is about the object `kind`/`name`.
    pub fn applies_to(&self, kind: &str, name: &str) -> bool {
        self.kind == kind && self.name.as_deref().is_none_or(|n| n == name)
    }

    /// The pointer's reference tokens, unescaped (`~1` is `/`, `~0` is `~`).
    pub(crate) fn tokens(&self) -> Vec<String> {
        self.pointer
            .split('/')
            .skip(1)
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect()
    }
}
