//! Server-side apply (`PATCH` with `application/apply-patch+yaml`): create-or-update, the
//! applied fields merged over the stored object, server-owned metadata kept, the field
//! manager recorded in `managedFields` with the fields it applied (FieldsV1: list items with a
//! `name` keyed by it, other lists atomic). Field ownership conflicts and removal of fields a
//! manager stopped applying are not modelled.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

use super::catalog;
use super::model::ObjectKey;
use super::model::Shared;
use super::objects::{Call, Target};
use super::status::KubeError;

pub fn apply(
    shared: &Shared,
    target: &Target<'_>,
    name: &str,
    call: &Call<'_>,
) -> Result<Response, KubeError> {
    let content_type = call.content_type.unwrap_or_default();
    if !content_type.starts_with("application/apply-patch+yaml") {
        return Err(KubeError::new(
            415,
            format!(
                "the fake API server only accepts server-side apply \
                 (application/apply-patch+yaml), not {content_type:?}"
            ),
        ));
    }
    let manager = call
        .query
        .get("fieldManager")
        .filter(|m| !m.is_empty())
        .ok_or_else(|| KubeError::bad_request("fieldManager is required for apply requests"))?;
    let mut applied = parse_body(call.body)?;
    check_identity(target, name, &applied)?;
    if let Some(fields) = applied.as_object_mut() {
        fields.remove("status");
    }

    let mut model = shared.lock();
    if let Some(namespace) = target.namespace {
        match model.namespace_phase(namespace).as_deref() {
            None => return Err(KubeError::not_found(&catalog::namespaces(), namespace)),
            Some("Terminating") => {
                return Err(KubeError::namespace_terminating(
                    &target.resource,
                    name,
                    namespace,
                ));
            }
            Some(_) => {}
        }
    }
    let key = target.key(name);
    let existing = model.objects.get(&key).cloned();
    let created = existing.is_none();
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    // Server-owned metadata survives whatever the client sends.
    let (uid, created_at) = match &existing {
        Some(stored) => (
            stored["metadata"]["uid"].clone(),
            stored["metadata"]["creationTimestamp"].clone(),
        ),
        None => (json!(model.new_uid()), json!(now)),
    };
    let mut object = existing.unwrap_or_else(|| json!({ "metadata": {} }));
    merge(&mut object, &applied);
    let resource_version = model.next_resource_version();
    object["apiVersion"] = json!(target.resource.api_version());
    object["kind"] = json!(target.resource.kind);
    let meta = &mut object["metadata"];
    meta["name"] = json!(name);
    if let Some(namespace) = target.namespace {
        meta["namespace"] = json!(namespace);
    }
    meta["uid"] = uid;
    meta["resourceVersion"] = json!(resource_version);
    meta["creationTimestamp"] = created_at;
    let owned = fields_v1(&applied);
    record_manager(
        meta,
        manager,
        "Apply",
        &target.resource.api_version(),
        &now,
        owned,
    );
    if created && target.resource == catalog::namespaces() {
        object["spec"] = json!({ "finalizers": ["kubernetes"] });
        object["status"] = json!({ "phase": "Active" });
    }
    model.objects.insert(key, object.clone());
    model.applied.push((target.resource.plural, object.clone()));
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(object)).into_response())
}

/// The body is YAML (of which JSON is a subset); kube-rs sends JSON.
fn parse_body(body: &[u8]) -> Result<Value, KubeError> {
    let parsed = serde_json::from_slice::<Value>(body).or_else(|_| {
        serde_yaml_ng::from_slice::<Value>(body)
            .map_err(|e| KubeError::bad_request(format!("error decoding YAML: {e}")))
    })?;
    if !parsed.is_object() {
        return Err(KubeError::bad_request(
            "the body of an apply request must be an object",
        ));
    }
    Ok(parsed)
}

/// The applied object must be the one the URL names, like the real server checks.
fn check_identity(target: &Target<'_>, name: &str, applied: &Value) -> Result<(), KubeError> {
    let field = |pointer: &str| applied.pointer(pointer).and_then(Value::as_str);
    let expected_version = target.resource.api_version();
    if field("/apiVersion") != Some(expected_version.as_str())
        || field("/kind") != Some(target.resource.kind)
    {
        return Err(KubeError::bad_request(format!(
            "the object's apiVersion/kind ({}/{}) do not match the URL ({expected_version}, {})",
            field("/apiVersion").unwrap_or_default(),
            field("/kind").unwrap_or_default(),
            target.resource.kind,
        )));
    }
    if let Some(body_name) = field("/metadata/name")
        && body_name != name
    {
        return Err(KubeError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    if let (Some(body_ns), Some(url_ns)) = (field("/metadata/namespace"), target.namespace)
        && body_ns != url_ns
    {
        return Err(KubeError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    Ok(())
}

/// Maps merge key by key; any other value replaces what was stored.
fn merge(stored: &mut Value, applied: &Value) {
    match (stored, applied) {
        (Value::Object(stored), Value::Object(applied)) => {
            for (key, value) in applied {
                merge(stored.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
        (stored, applied) => *stored = applied.clone(),
    }
}

/// One `managedFields` entry per manager and operation, replaced on each write.
pub fn record_manager(
    meta: &mut Value,
    manager: &str,
    operation: &str,
    api_version: &str,
    now: &str,
    owned: Value,
) {
    let mut entries: Vec<Value> = meta["managedFields"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|e| !(e["manager"] == manager && e["operation"] == operation))
        .collect();
    entries.push(json!({
        "manager": manager,
        "operation": operation,
        "apiVersion": api_version,
        "time": now,
        "fieldsType": "FieldsV1",
        "fieldsV1": owned,
    }));
    meta["managedFields"] = Value::Array(entries);
}

/// The fields an applied object sets, as FieldsV1 (its identity left out, as the server does).
fn fields_v1(applied: &Value) -> Value {
    let mut owned = set_of(applied);
    if let Some(fields) = owned.as_object_mut() {
        fields.remove("f:apiVersion");
        fields.remove("f:kind");
        if let Some(meta) = fields.get_mut("f:metadata").and_then(Value::as_object_mut) {
            meta.remove("f:name");
            meta.remove("f:namespace");
        }
    }
    owned
}

fn set_of(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| (format!("f:{key}"), set_of(value)))
                .collect(),
        ),
        Value::Array(items)
            if !items.is_empty() && items.iter().all(|i| i.get("name").is_some()) =>
        {
            Value::Object(
                items
                    .iter()
                    .map(|item| {
                        let key = format!("k:{}", json!({ "name": item["name"] }));
                        let mut fields = set_of(item);
                        if let Some(map) = fields.as_object_mut() {
                            map.insert(".".to_owned(), json!({}));
                        }
                        (key, fields)
                    })
                    .collect(),
            )
        }
        _ => json!({}),
    }
}

/// Stores an object directly, as if someone else had created it (tests' set-up).
pub fn seed(shared: &Shared, mut object: Value) {
    let api_version = object["apiVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", &api_version));
    let kind = object["kind"].as_str().unwrap_or_default();
    let resource = catalog::all()
        .find(|r| r.group == group && r.version == version && r.kind == kind)
        .copied()
        .unwrap_or_else(|| panic!("the fake does not serve {api_version} {kind}"));
    let name = object["metadata"]["name"]
        .as_str()
        .expect("a seeded object needs metadata.name")
        .to_string();
    let namespace = object["metadata"]["namespace"].as_str().map(str::to_string);
    let mut model = shared.lock();
    object["metadata"]["uid"] = json!(model.new_uid());
    object["metadata"]["resourceVersion"] = json!(model.next_resource_version());
    object["metadata"]["creationTimestamp"] =
        json!(Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true));
    if resource == catalog::namespaces() && object.get("status").is_none() {
        object["status"] = json!({ "phase": "Active" });
    }
    let key = ObjectKey::new(&resource, namespace.as_deref(), &name);
    model.objects.insert(key, object);
}
