//! Kubernetes objects as a render gives them and as the API server returns them, with the
//! noise a real cluster adds: server defaults, status, server metadata, another controller's
//! annotation and `managedFields` in which gitferry owns exactly what it declared.
//!
//! Only `serde_json` and `base64`, so the drift bench includes this file too (`#[path]`).

use serde_json::{Map, Value, json};

/// The field manager gitferry applies with.
pub const MANAGER: &str = "gitferry";

pub fn deployment(name: &str, image: &str, replicas: u64) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "shop", "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{
                    "name": name,
                    "image": image,
                    "args": ["--port", "8080"],
                    "ports": [{"containerPort": 8080}],
                    "env": [{"name": "MODE", "value": "production"}, {"name": "LOG", "value": "info"}],
                    "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}}
                }]}
            }
        }
    })
}

pub fn config_map(name: &str, data: Map<String, Value>) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "shop"},
        "data": data
    })
}

pub fn service(name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "shop", "labels": {"app": name}},
        "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
    })
}

/// A Secret declared with `stringData`, as people write them in Git.
pub fn secret(name: &str, string_data: &[(&str, &str)]) -> Value {
    let data: Map<String, Value> = string_data
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": "shop"},
        "type": "Opaque",
        "stringData": data
    })
}

/// The live copy of `desired` after gitferry applied it and the cluster got to work on it.
pub fn live_copy(desired: &Value) -> Value {
    let mut live = desired.clone();
    let owned = owned_fields(desired, "");
    let kind = desired["kind"].as_str().unwrap_or_default().to_owned();
    let Some(map) = live.as_object_mut() else {
        return live;
    };
    let metadata = map.entry("metadata").or_insert_with(|| json!({}));
    merge(
        metadata,
        json!({
            "uid": "0b0e4cde-54a4-4c6d-9a0a-7f1c3b2a9d11",
            "resourceVersion": "48213377",
            "generation": 4,
            "creationTimestamp": "2026-11-02T09:14:07Z",
            "managedFields": [
                {"manager": MANAGER, "operation": "Apply", "apiVersion": "v1",
                 "time": "2026-12-01T10:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": owned},
                {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
                 "time": "2026-12-01T10:00:02Z", "fieldsType": "FieldsV1", "subresource": "status",
                 "fieldsV1": {"f:status": {}}}
            ]
        }),
    );
    match kind.as_str() {
        "Deployment" => deployment_noise(&mut live),
        "Service" => service_noise(&mut live),
        "Secret" => secret_as_stored(&mut live),
        _ => {}
    }
    live
}

fn deployment_noise(live: &mut Value) {
    merge(
        live,
        json!({
            "metadata": {"annotations": {"deployment.kubernetes.io/revision": "4"}},
            "spec": {
                "progressDeadlineSeconds": 600,
                "revisionHistoryLimit": 10,
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                "template": {"metadata": {"creationTimestamp": null}, "spec": {
                    "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
                    "securityContext": {}, "terminationGracePeriodSeconds": 30
                }}
            },
            "status": {"availableReplicas": 3, "observedGeneration": 4, "readyReplicas": 3, "replicas": 3,
                       "updatedReplicas": 3, "conditions": [{"type": "Available", "status": "True",
                       "lastTransitionTime": "2026-12-01T10:00:09Z", "reason": "MinimumReplicasAvailable"}]}
        }),
    );
    let containers = live
        .pointer_mut("/spec/template/spec/containers")
        .and_then(Value::as_array_mut);
    for container in containers.into_iter().flatten() {
        merge(
            container,
            json!({
                "imagePullPolicy": "IfNotPresent",
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File"
            }),
        );
        let ports = container.get_mut("ports").and_then(Value::as_array_mut);
        for port in ports.into_iter().flatten() {
            merge(port, json!({"protocol": "TCP"}));
        }
    }
}

fn service_noise(live: &mut Value) {
    merge(
        live,
        json!({
            "spec": {"clusterIP": "10.96.14.7", "clusterIPs": ["10.96.14.7"], "internalTrafficPolicy": "Cluster",
                     "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "sessionAffinity": "None",
                     "type": "ClusterIP"},
            "status": {"loadBalancer": {}}
        }),
    );
    let ports = live
        .pointer_mut("/spec/ports")
        .and_then(Value::as_array_mut);
    for port in ports.into_iter().flatten() {
        merge(port, json!({"protocol": "TCP"}));
    }
}

/// The API server stores `stringData` base64-encoded in `data`.
fn secret_as_stored(live: &mut Value) {
    let Some(map) = live.as_object_mut() else {
        return;
    };
    if let Some(Value::Object(string_data)) = map.remove("stringData") {
        let data: Map<String, Value> = string_data
            .into_iter()
            .map(|(k, v)| (k, json!(base64(v.as_str().unwrap_or_default().as_bytes()))))
            .collect();
        map.insert("data".to_owned(), Value::Object(data));
    }
}

/// What gitferry's `Apply` entry owns after applying `value`: every field it declares, list
/// items by their merge key (containers and env by `name`, ports by port and protocol).
pub fn owned_fields(value: &Value, name: &str) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                if name.is_empty() && (k == "apiVersion" || k == "kind") {
                    continue;
                }
                out.insert(format!("f:{k}"), owned_fields(v, k));
            }
            Value::Object(out)
        }
        Value::Array(items)
            if items.iter().all(|i| merge_key(i, name).is_some()) && !items.is_empty() =>
        {
            let mut out = Map::new();
            for item in items {
                let key = merge_key(item, name).unwrap_or_default();
                let mut set = owned_fields(item, "");
                if let Some(set) = set.as_object_mut() {
                    set.insert(".".to_owned(), json!({}));
                }
                out.insert(format!("k:{key}"), set);
            }
            Value::Object(out)
        }
        _ => json!({}),
    }
}

fn merge_key(item: &Value, list: &str) -> Option<String> {
    let key = match list {
        "ports" if item.get("containerPort").is_some() => json!({
            "containerPort": item["containerPort"], "protocol": item.get("protocol").unwrap_or(&json!("TCP"))}),
        "ports" => {
            json!({"port": item.get("port")?, "protocol": item.get("protocol").unwrap_or(&json!("TCP"))})
        }
        "containers" | "env" | "volumes" => json!({"name": item.get("name")?}),
        _ => return None,
    };
    Some(key.to_string())
}

/// `patch` merged into `target`, keeping what `target` already has.
pub fn merge(target: &mut Value, patch: Value) {
    if let (Value::Object(t), Value::Object(p)) = (target, patch) {
        for (k, v) in p {
            match t.get_mut(&k) {
                Some(existing) => merge(existing, v),
                None => {
                    t.insert(k, v);
                }
            }
        }
    }
}

pub fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
