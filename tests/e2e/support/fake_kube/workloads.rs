//! What the Job controller and the kubelet would do, scripted: creating a `batch/v1` Job
//! creates its pod (labelled `job-name`, `controller-uid` and their `batch.kubernetes.io/`
//! forms); the pod runs at once, and after the script's delay its container ends with the
//! scripted exit code and the Job gets the status and conditions a real controller writes.
//! A pod whose image "never pulls" stays waiting; a Job past its "deadline" fails with
//! `DeadlineExceeded` and loses its pod. Deleting a Job with `Background` or `Foreground`
//! propagation deletes its pods; without, they are orphaned, as on a real server.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

use super::catalog;
use super::model::{Model, ObjectKey, Shared};
use super::status::KubeError;

/// How one Job behaves.
#[derive(Clone, Debug, Default)]
pub struct JobScript {
    pub exit_code: i32,
    /// What the container prints (its whole log).
    pub log: String,
    /// How long the container runs.
    pub delay: Duration,
    /// The container never starts and waits with this reason (e.g. `ImagePullBackOff`).
    pub never_starts_reason: Option<String>,
    /// After `delay`, the Job fails with `DeadlineExceeded` instead of the container ending.
    pub deadline_exceeded: bool,
}

/// One served DELETE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deletion {
    pub plural: String,
    pub namespace: String,
    pub name: String,
    /// From the DeleteOptions body or the query.
    pub propagation_policy: Option<String>,
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A Job was just stored: create its pod and play its script.
pub fn start_job(shared: &Shared, model: &mut Model, job: &Value) {
    let namespace = job["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let name = job["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let uid = job["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let script = match model
        .job_scripts
        .iter()
        .position(|(prefix, _)| name.starts_with(prefix.as_str()))
    {
        Some(i) => model.job_scripts.remove(i).1,
        None => JobScript::default(),
    };
    let template = &job["spec"]["template"];
    let image = template["spec"]["containers"][0]["image"].clone();
    let container = template["spec"]["containers"][0]["name"]
        .as_str()
        .unwrap_or("main")
        .to_string();
    let mut labels = template["metadata"]["labels"].clone();
    if !labels.is_object() {
        labels = json!({});
    }
    for (key, value) in [
        ("job-name", &name),
        ("batch.kubernetes.io/job-name", &name),
        ("controller-uid", &uid),
        ("batch.kubernetes.io/controller-uid", &uid),
    ] {
        labels[key] = json!(value);
    }
    let pod_uid = model.new_uid();
    let pod_name = format!("{name}-{}", &pod_uid[pod_uid.len() - 5..]);
    let state = match &script.never_starts_reason {
        Some(reason) => json!({ "waiting": {
            "reason": reason,
            "message": format!("Back-off pulling image {image}"),
        }}),
        None => json!({ "running": { "startedAt": now() } }),
    };
    let pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": pod_name,
            "namespace": namespace,
            "uid": pod_uid,
            "resourceVersion": model.next_resource_version(),
            "creationTimestamp": now(),
            "labels": labels,
        },
        "spec": template["spec"].clone(),
        "status": {
            "phase": if script.never_starts_reason.is_some() { "Pending" } else { "Running" },
            "containerStatuses": [container_status(&container, &image, state)],
        },
    });
    model.objects.insert(
        ObjectKey::new(&catalog::pods(), Some(&namespace), &pod_name),
        pod,
    );
    model
        .pod_logs
        .insert((namespace.clone(), pod_name.clone()), script.log.clone());
    let job_key = ObjectKey::new(&catalog::jobs(), Some(&namespace), &name);
    if let Some(stored) = model.objects.get_mut(&job_key) {
        stored["status"] = json!({ "active": 1, "startTime": now() });
    }
    if script.never_starts_reason.is_some() {
        return;
    }
    let shared = shared.clone();
    tokio::spawn(async move {
        tokio::time::sleep(script.delay).await;
        let mut model = shared.lock();
        let still_ours = model
            .objects
            .get(&job_key)
            .is_some_and(|j| j["metadata"]["uid"] == json!(uid));
        if !still_ours {
            return;
        }
        let pod_key = ObjectKey::new(&catalog::pods(), Some(&namespace), &pod_name);
        let status = if script.deadline_exceeded {
            model.objects.remove(&pod_key);
            json!({
                "failed": 1,
                "conditions": [
                    condition("FailureTarget", "DeadlineExceeded", "Job was active longer than specified deadline"),
                    condition("Failed", "DeadlineExceeded", "Job was active longer than specified deadline"),
                ],
            })
        } else {
            let code = script.exit_code;
            if let Some(pod) = model.objects.get_mut(&pod_key) {
                let state = json!({ "terminated": {
                    "exitCode": code,
                    "reason": if code == 0 { "Completed" } else { "Error" },
                    "startedAt": now(),
                    "finishedAt": now(),
                }});
                pod["status"] = json!({
                    "phase": if code == 0 { "Succeeded" } else { "Failed" },
                    "containerStatuses": [container_status(&container, &image, state)],
                });
            }
            if code == 0 {
                json!({
                    "succeeded": 1,
                    "conditions": [
                        condition("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods"),
                        condition("Complete", "CompletionsReached", "Reached expected number of succeeded pods"),
                    ],
                })
            } else {
                json!({
                    "failed": 1,
                    "conditions": [
                        condition("FailureTarget", "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
                        condition("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
                    ],
                })
            }
        };
        let version = model.next_resource_version();
        if let Some(job) = model.objects.get_mut(&job_key) {
            job["status"] = status;
            job["metadata"]["resourceVersion"] = json!(version);
        }
    });
}

fn container_status(name: &str, image: &Value, state: Value) -> Value {
    json!({
        "name": name,
        "image": image,
        "imageID": "",
        "ready": state.get("running").is_some(),
        "restartCount": 0,
        "state": state,
    })
}

fn condition(kind: &str, reason: &str, message: &str) -> Value {
    json!({
        "type": kind,
        "status": "True",
        "reason": reason,
        "message": message,
        "lastProbeTime": now(),
        "lastTransitionTime": now(),
    })
}

/// A deleted Job takes its pods along unless they are orphaned.
pub fn deleted_job(model: &mut Model, namespace: &str, job: &Value, policy: Option<&str>) {
    if !matches!(policy, Some("Background" | "Foreground")) {
        return;
    }
    let uid = job["metadata"]["uid"].clone();
    model.objects.retain(|key, object| {
        !(key.plural == "pods"
            && key.namespace == namespace
            && object["metadata"]["labels"]["controller-uid"] == uid)
    });
}

/// `GET .../pods/{name}/log`: the whole log as plain text (with `follow=true` too: the stream
/// then simply ends).
pub fn log(shared: &Shared, namespace: &str, pod: &str) -> Result<String, KubeError> {
    let model = shared.lock();
    let key = ObjectKey::new(&catalog::pods(), Some(namespace), pod);
    let object = model
        .objects
        .get(&key)
        .ok_or_else(|| KubeError::not_found(&catalog::pods(), pod))?;
    let status = &object["status"]["containerStatuses"][0];
    if status["state"].get("waiting").is_some() {
        return Err(KubeError::bad_request(format!(
            "container \"{}\" in pod \"{pod}\" is waiting to start: trying and failing to pull image",
            status["name"].as_str().unwrap_or_default()
        )));
    }
    Ok(model
        .pod_logs
        .get(&(namespace.to_string(), pod.to_string()))
        .cloned()
        .unwrap_or_default())
}
