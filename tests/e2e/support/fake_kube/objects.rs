//! Object endpoints: GET one, LIST (with `labelSelector`), CREATE (`POST`), server-side apply
//! (in `apply.rs`), DELETE and a pod's `log`, for `/api/v1/...` and `/apis/{group}/{version}/...` paths, namespaced
//! (`namespaces/{ns}/{plural}[/{name}]`) or cluster-scoped (`{plural}[/{name}]`).

use std::collections::HashMap;

use axum::Json;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

use super::apply;
use super::catalog::{self, Resource};
use super::model::{ObjectKey, Shared};
use super::selector::Selector;
use super::status::KubeError;
use super::workloads;

/// The parts of a request the object handlers read.
pub struct Call<'a> {
    pub method: &'a Method,
    pub query: &'a HashMap<String, String>,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

/// What a path names: a resource type, maybe a namespace, maybe one object.
pub struct Target<'a> {
    pub resource: Resource,
    pub namespace: Option<&'a str>,
    pub name: Option<&'a str>,
}

impl Target<'_> {
    pub fn key(&self, name: &str) -> ObjectKey {
        ObjectKey::new(&self.resource, self.namespace, name)
    }
}

pub fn serve(
    shared: &Shared,
    group: &str,
    version: &str,
    rest: &[&str],
    call: &Call<'_>,
) -> Result<Response, KubeError> {
    if let (["namespaces", ns, "pods", pod, "log"], "", &Method::GET) = (rest, group, call.method) {
        let text = workloads::log(shared, ns, pod)?;
        return Ok(([(axum::http::header::CONTENT_TYPE, "text/plain")], text).into_response());
    }
    let target = parse_target(group, version, rest)?;
    match (call.method.clone(), target.name) {
        (Method::POST, None) => create(shared, &target, call),
        (Method::GET, Some(name)) => get(shared, &target, name),
        (Method::GET, None) => list(shared, &target, call),
        (Method::PATCH, Some(name)) => apply::apply(shared, &target, name, call),
        (Method::DELETE, Some(name)) => delete(shared, &target, name, call),
        (method, _) => Err(KubeError::new(
            405,
            format!("the fake API server does not serve {method} here"),
        )),
    }
}

fn parse_target<'a>(group: &str, version: &str, rest: &[&'a str]) -> Result<Target<'a>, KubeError> {
    let find = |plural: &str| catalog::find(group, version, plural).ok_or_else(KubeError::no_route);
    let (resource, namespace, name) = match rest {
        [plural] => (find(plural)?, None, None),
        [plural, name] => (find(plural)?, None, Some(*name)),
        ["namespaces", ns, plural] => (find(plural)?, Some(*ns), None),
        ["namespaces", ns, plural, name] => (find(plural)?, Some(*ns), Some(*name)),
        _ => return Err(KubeError::no_route()),
    };
    // A cluster-scoped kind under a namespace, or one namespaced object without one, is not
    // a URL the server knows.
    if namespace.is_some() && !resource.namespaced
        || name.is_some() && namespace.is_none() && resource.namespaced
    {
        return Err(KubeError::no_route());
    }
    Ok(Target {
        resource,
        namespace,
        name,
    })
}

fn get(shared: &Shared, target: &Target<'_>, name: &str) -> Result<Response, KubeError> {
    let model = shared.lock();
    let object = model
        .objects
        .get(&target.key(name))
        .ok_or_else(|| KubeError::not_found(&target.resource, name))?;
    Ok(Json(object.clone()).into_response())
}

fn list(shared: &Shared, target: &Target<'_>, call: &Call<'_>) -> Result<Response, KubeError> {
    let selector = Selector::parse(call.query.get("labelSelector").map_or("", String::as_str))?;
    let model = shared.lock();
    let items: Vec<Value> = model
        .objects
        .iter()
        .filter(|(key, _)| {
            key.group == target.resource.group && key.plural == target.resource.plural
        })
        .filter(|(key, _)| target.namespace.is_none_or(|ns| key.namespace == ns))
        .map(|(_, object)| object)
        .filter(|object| selector.matches(object))
        .map(|object| {
            // Items of a list carry no apiVersion/kind, as on a real server.
            let mut item = object.clone();
            if let Some(fields) = item.as_object_mut() {
                fields.remove("apiVersion");
                fields.remove("kind");
            }
            item
        })
        .collect();
    Ok(Json(json!({
        "kind": format!("{}List", target.resource.kind),
        "apiVersion": target.resource.api_version(),
        "metadata": { "resourceVersion": model.resource_version.to_string() },
        "items": items,
    }))
    .into_response())
}

fn delete(
    shared: &Shared,
    target: &Target<'_>,
    name: &str,
    call: &Call<'_>,
) -> Result<Response, KubeError> {
    let policy = check_propagation_policy(call)?;
    let mut model = shared.lock();
    let key = target.key(name);
    let Some(object) = model.objects.get(&key).cloned() else {
        return Err(KubeError::not_found(&target.resource, name));
    };
    model.deletions.push(workloads::Deletion {
        plural: target.resource.plural.to_string(),
        namespace: target.namespace.unwrap_or_default().to_string(),
        name: name.to_string(),
        propagation_policy: policy.clone(),
    });
    if target.resource != catalog::namespaces() {
        model.objects.remove(&key);
        if target.resource == catalog::jobs() {
            let namespace = target.namespace.unwrap_or_default();
            workloads::deleted_job(&mut model, namespace, &object, policy.as_deref());
        }
        let uid = object
            .pointer("/metadata/uid")
            .cloned()
            .unwrap_or(Value::Null);
        return Ok(Json(json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {
                "name": name,
                "group": target.resource.group,
                "kind": target.resource.plural,
                "uid": uid,
            },
        }))
        .into_response());
    }
    if model.namespace_phase(name).as_deref() == Some("Terminating") {
        return Err(KubeError::new(
            409,
            format!(
                "Operation cannot be fulfilled on namespaces \"{name}\": The system is ensuring \
                 all content is removed from this namespace.  Upon completion, this namespace \
                 will automatically be purged by the system."
            ),
        ));
    }
    let mut terminating = object;
    terminating["metadata"]["deletionTimestamp"] =
        json!(Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true));
    terminating["metadata"]["resourceVersion"] = json!(model.next_resource_version());
    terminating["status"] = json!({ "phase": "Terminating" });
    model.objects.insert(key, terminating.clone());
    let delay = model.termination_delay;
    if delay.is_zero() {
        model.purge_namespace(name);
    } else {
        let shared = shared.clone();
        let name = name.to_string();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            shared.lock().purge_namespace(&name);
        });
    }
    Ok((StatusCode::OK, Json(terminating)).into_response())
}

/// `propagationPolicy` may come as a query parameter or in the DeleteOptions body (kube-rs
/// sends the body); either way it must be one the server knows.
fn check_propagation_policy(call: &Call<'_>) -> Result<Option<String>, KubeError> {
    let from_body = serde_json::from_slice::<Value>(call.body)
        .ok()
        .and_then(|b| {
            b.get("propagationPolicy")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    let policy = call.query.get("propagationPolicy").cloned().or(from_body);
    match policy.as_deref() {
        None | Some("Orphan" | "Background" | "Foreground") => Ok(policy),
        Some(other) => Err(KubeError::bad_request(format!(
            "propagationPolicy: Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\""
        ))),
    }
}

/// `POST` to a collection: stores a new object with server-owned metadata; 409 when the name
/// is taken. A Job starts its scripted pod.
fn create(shared: &Shared, target: &Target<'_>, call: &Call<'_>) -> Result<Response, KubeError> {
    let mut object: Value = serde_json::from_slice(call.body)
        .map_err(|e| KubeError::bad_request(format!("error decoding the object: {e}")))?;
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .ok_or_else(|| KubeError::new(422, "metadata.name: Required value: name is required"))?
        .to_string();
    let mut model = shared.lock();
    if let Some(namespace) = target.namespace {
        match model.namespace_phase(namespace).as_deref() {
            None => return Err(KubeError::not_found(&catalog::namespaces(), namespace)),
            Some("Terminating") => {
                return Err(KubeError::namespace_terminating(
                    &target.resource,
                    &name,
                    namespace,
                ));
            }
            Some(_) => {}
        }
    }
    let key = target.key(&name);
    if model.objects.contains_key(&key) {
        let mut err = KubeError::new(
            409,
            format!("{} \"{name}\" already exists", target.resource.qualified()),
        );
        err.reason = "AlreadyExists";
        return Err(err);
    }
    object["apiVersion"] = json!(target.resource.api_version());
    object["kind"] = json!(target.resource.kind);
    if let Some(namespace) = target.namespace {
        object["metadata"]["namespace"] = json!(namespace);
    }
    object["metadata"]["uid"] = json!(model.new_uid());
    object["metadata"]["resourceVersion"] = json!(model.next_resource_version());
    object["metadata"]["creationTimestamp"] =
        json!(Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true));
    if let Some(fields) = object.as_object_mut() {
        fields.remove("status");
    }
    model.objects.insert(key.clone(), object.clone());
    model.created.push((target.resource.plural, object));
    if target.resource == catalog::jobs() {
        let stored = model.objects.get(&key).cloned().unwrap_or_default();
        workloads::start_job(shared, &mut model, &stored);
    }
    let stored = model.objects.get(&key).cloned().unwrap_or_default();
    Ok((StatusCode::CREATED, Json(stored)).into_response())
}
