//! What a pull request changes in an environment: the objects its head declares against those
//! its base declares, both from Git. Deterministic, and kept apart from drift (the cluster
//! against Git): it is what reviewers approve.
//!
//! It is [`super::compare`] with the base as Git and the head in the cluster's place, the head
//! owning every field it declares (as gitferry's apply of it would): so a field the head adds
//! is a field gitferry owns that the base does not declare, and one it drops is a declared
//! field the head lacks. Objects only at the base are removed by the pull request
//! ([`super::Outcome::MissingLive`]), objects only at the head added
//! ([`super::Outcome::ExtraLive`]); [`super::render::View::Changes`] words them so.

use serde_json::{Map, Value, json};

use super::{Options, Report, compare};

/// The changes from `base` to `head` (both as a deploy would apply them), in `namespace`.
pub fn changes(head: &[Value], base: &[Value], options: &Options) -> Report {
    let applied: Vec<Value> = head
        .iter()
        .map(|object| as_applied(object, &options.field_manager))
        .collect();
    compare(base, &applied, options)
}

/// `object` as the cluster would hold it after `manager` applied it: owning what it sets.
fn as_applied(object: &Value, manager: &str) -> Value {
    let mut applied = object.clone();
    let owned = owned_fields(object);
    if let Some(metadata) = applied
        .as_object_mut()
        .map(|o| o.entry("metadata").or_insert_with(|| json!({})))
        .and_then(Value::as_object_mut)
    {
        metadata.insert(
            "managedFields".to_owned(),
            json!([{
                "manager": manager,
                "operation": "Apply",
                "fieldsType": "FieldsV1",
                "fieldsV1": owned,
            }]),
        );
    }
    applied
}

/// The fields `object` sets, as FieldsV1: maps by key, lists of named items by name, other
/// lists as one value (the identity fields are not owned, as on the server).
fn owned_fields(object: &Value) -> Value {
    let mut owned = fields_of(object);
    if let Some(fields) = owned.as_object_mut() {
        fields.remove("f:apiVersion");
        fields.remove("f:kind");
        if let Some(metadata) = fields.get_mut("f:metadata").and_then(Value::as_object_mut) {
            metadata.remove("f:name");
            metadata.remove("f:namespace");
        }
    }
    owned
}

fn fields_of(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| (format!("f:{key}"), fields_of(value)))
                .collect(),
        ),
        Value::Array(items) if !items.is_empty() && items.iter().all(named) => Value::Object(
            items
                .iter()
                .map(|item| {
                    let mut fields = match fields_of(item) {
                        Value::Object(map) => map,
                        _ => Map::new(),
                    };
                    fields.insert(".".to_owned(), json!({}));
                    (
                        format!("k:{}", json!({ "name": item["name"] })),
                        Value::Object(fields),
                    )
                })
                .collect(),
        ),
        _ => json!({}),
    }
}

fn named(item: &Value) -> bool {
    item.get("name").is_some_and(Value::is_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::Outcome;
    use crate::drift::render::{self, View};

    fn deployment(image: &str, replicas: Option<u32>) -> Value {
        let mut spec = json!({
            "selector": { "matchLabels": { "app": "web" } },
            "template": { "spec": { "containers": [{ "name": "web", "image": image }] } },
        });
        if let Some(replicas) = replicas {
            spec["replicas"] = json!(replicas);
        }
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": { "name": "web", "namespace": "shop" }, "spec": spec,
        })
    }

    fn config_map(name: &str) -> Value {
        json!({ "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": { "name": name, "namespace": "shop" }, "data": { "a": "b" } })
    }

    #[test]
    fn a_new_image_a_dropped_field_an_added_and_a_removed_object_are_the_changes() {
        let base = [deployment("shop:v1", Some(3)), config_map("old")];
        let head = [deployment("shop:v2", None), config_map("new")];
        let report = changes(&head, &base, &Options::default());
        let outcome = |name: &str| {
            report
                .objects
                .iter()
                .find(|o| o.key.name == name)
                .map(|o| o.outcome.clone())
        };
        let Some(Outcome::Modified { labels, diff, .. }) = outcome("web") else {
            panic!("{report:?}");
        };
        assert!(labels.iter().any(|l| l.ends_with("image")), "{labels:?}");
        assert!(labels.iter().any(|l| l == "spec.replicas"), "{labels:?}");
        assert!(diff.contains("+") && diff.contains("shop:v2"), "{diff}");
        assert_eq!(outcome("old"), Some(Outcome::MissingLive));
        assert_eq!(outcome("new"), Some(Outcome::ExtraLive));
        let text = render::markdown_as(&report, 65_536, View::Changes);
        assert!(text.contains("ConfigMap shop/old: removed"), "{text}");
        assert!(text.contains("ConfigMap shop/new: added"), "{text}");
        assert!(
            text.starts_with("**Changes:** 1 changed, 1 removed, 1 added"),
            "{text}"
        );
    }

    #[test]
    fn the_same_objects_are_no_changes() {
        let objects = [deployment("shop:v1", Some(2)), config_map("settings")];
        let report = changes(&objects, &objects, &Options::default());
        assert!(report.is_in_sync(), "{report:?}");
        assert!(render::markdown_as(&report, 65_536, View::Changes).starts_with("**No changes:**"));
    }
}
