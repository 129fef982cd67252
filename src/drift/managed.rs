//! Which fields of a live object are gitferry's, read from its `metadata.managedFields`.
//!
//! Server-side apply records, per field manager, the fields it set, in the FieldsV1 format: a
//! tree whose keys are `f:<name>` (a field of a map), `k:<json>` (a list item by its merge key),
//! `v:<json>` (an item of a set), `i:<index>` (a list item by position) and `.` (the node
//! itself). An empty `{}` means the whole value is owned as one (an atomic field). Only
//! gitferry's own `Apply` entry matters: what the API server defaulted and what other
//! controllers set are theirs, and a difference there is not drift.
//!
//! The tree is read in place, never copied: comparing an in-sync object walks it once.

use serde_json::{Map, Value};

/// How much of a value gitferry owns.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Owned<'a> {
    /// Nothing: only what Git declares here is compared (desired ⊆ live).
    No,
    /// All of it (an atomic field, or the whole of a value inside one).
    Whole,
    /// The children this FieldsV1 map lists.
    Some(&'a Map<String, Value>),
}

/// Field names up to this long are looked up as `f:<name>` built on the stack: this lookup runs
/// for every field of every object compared, and allocating for it showed in the bench.
const NAME_ON_STACK: usize = 126;

impl<'a> Owned<'a> {
    /// What `manager`'s `Apply` entry on the main resource owns of `live`; [`Owned::No`]
    /// when there is none (an object never applied server-side by gitferry: the comparison
    /// falls back to the fields Git declares).
    pub(crate) fn of(live: &'a Value, manager: &str) -> Self {
        let entries = live
            .get("metadata")
            .and_then(|m| m.get("managedFields"))
            .and_then(Value::as_array);
        let entry = entries.into_iter().flatten().find(|e| {
            e.get("manager").and_then(Value::as_str) == Some(manager)
                && e.get("operation").and_then(Value::as_str) == Some("Apply")
                && e.get("subresource")
                    .is_none_or(|s| s.as_str().is_none_or(str::is_empty))
        });
        // At the root, `{}` (or no `fieldsV1`) is an entry that owns nothing, not the whole
        // object.
        match entry.map(|e| e.get("fieldsV1")) {
            None => Owned::No,
            Some(Some(Value::Object(map))) => Owned::Some(map),
            Some(_) => Owned::Some(EMPTY.get_or_init(Map::new)),
        }
    }

    /// The node a FieldsV1 value describes.
    pub(crate) fn set(value: Option<&'a Value>) -> Self {
        match value {
            None => Owned::No,
            Some(Value::Object(map)) if map.is_empty() => Owned::Whole,
            Some(Value::Object(map)) => Owned::Some(map),
            Some(_) => Owned::Whole,
        }
    }

    /// What is owned of the map field `name`.
    pub(crate) fn field(self, name: &str) -> Self {
        let Owned::Some(map) = self else { return self };
        let mut buf = [0u8; NAME_ON_STACK + 2];
        let key = buf.get_mut(..name.len() + 2).and_then(|key| {
            key[..2].copy_from_slice(b"f:");
            key[2..].copy_from_slice(name.as_bytes());
            std::str::from_utf8(key).ok()
        });
        match key {
            Some(key) => Self::set(map.get(key)),
            None => Self::set(map.get(&format!("f:{name}"))),
        }
    }

    /// The entries of the live map `live` that gitferry owns, with what it owns of each: every
    /// entry when it owns the whole map, else those its FieldsV1 names (found from the FieldsV1
    /// side, which is the shorter: a live map also holds what the server defaulted).
    pub(crate) fn entries(
        self,
        live: &'a Map<String, Value>,
    ) -> impl Iterator<Item = (&'a String, &'a Value, Owned<'a>)> {
        let whole = matches!(self, Owned::Whole).then_some(live);
        let listed = self.children("f:").filter_map(|(name, set)| {
            let (key, value) = live.get_key_value(name)?;
            Some((key, value, Owned::set(Some(set))))
        });
        let all = whole
            .into_iter()
            .flatten()
            .map(|(k, v)| (k, v, Owned::Whole));
        all.chain(listed)
    }

    /// The FieldsV1 children of this node whose keys start with `prefix` (`k:`, `v:`, `i:`),
    /// with the prefix removed.
    pub(crate) fn children(self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a Value)> {
        let map = match self {
            Owned::Some(map) => Some(map),
            _ => None,
        };
        map.into_iter()
            .flatten()
            .filter_map(move |(k, v)| k.strip_prefix(prefix).map(|rest| (rest, v)))
    }

    pub(crate) fn is_no(self) -> bool {
        matches!(self, Owned::No)
    }
}

/// The FieldsV1 of an `Apply` entry that owns nothing: not the same as having no entry, which
/// makes the comparison fall back to what Git declares.
static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_the_managers_apply_entry_on_the_main_resource_counts() {
        let live = json!({"metadata": {"managedFields": [
            {"manager": "gitferry", "operation": "Update", "fieldsV1": {"f:data": {}}},
            {"manager": "gitferry", "operation": "Apply", "subresource": "status",
             "fieldsV1": {"f:status": {}}},
            {"manager": "gitferry", "operation": "Apply",
             "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {".": {}}}}}},
        ]}});
        let owned = Owned::of(&live, "gitferry");
        assert!(matches!(
            owned.field("spec").field("replicas"),
            Owned::Whole
        ));
        assert!(matches!(
            owned.field("spec").field("template"),
            Owned::Some(_)
        ));
        assert!(owned.field("data").is_no());
        assert!(owned.field("status").is_no());
        assert!(Owned::of(&live, "helm").is_no());
    }
}
