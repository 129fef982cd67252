//! The fake Kubernetes API checked on its own, through kube-rs as gitferry uses it:
//! discovery, server-side apply, lists, label selectors, `Status` errors, faults and
//! namespace termination.

use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{self, Discovery, Scope};
use serde_json::{Value, json};

use crate::support::fake_kube::FakeKube;

fn apply_params() -> PatchParams {
    PatchParams::apply("selftest").force()
}

async fn create_namespace(kube: &FakeKube, name: &str) {
    let api: Api<Namespace> = Api::all(kube.client());
    let ns = json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": name } });
    api.patch(name, &apply_params(), &Patch::Apply(&ns))
        .await
        .expect("apply the namespace");
}

fn config_map(name: &str, labels: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": { "name": name, "labels": labels },
        "data": { "greeting": "hello" },
    })
}

/// The `Status` a kube-rs call failed with.
fn status_of(result: Result<impl std::fmt::Debug, kube::Error>) -> kube::core::Status {
    match result {
        Err(kube::Error::Api(status)) => *status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn discovery_finds_every_served_kind_with_its_scope() {
    let kube = FakeKube::start().await;
    let client = kube.client();

    let version = client.apiserver_version().await.expect("/version");
    assert_eq!(
        (version.major.as_str(), version.minor.as_str()),
        ("1", "33")
    );

    let found = Discovery::new(client.clone())
        .run()
        .await
        .expect("discovery");
    let scope_of = |group: &str, kind: &str| {
        let gvk = GroupVersionKind::gvk(group, "v1", kind);
        found.resolve_gvk(&gvk).map(|(_, caps)| caps.scope)
    };
    assert_eq!(scope_of("", "Namespace"), Some(Scope::Cluster));
    assert_eq!(scope_of("", "ConfigMap"), Some(Scope::Namespaced));
    assert_eq!(scope_of("apps", "Deployment"), Some(Scope::Namespaced));
    assert_eq!(
        scope_of("networking.k8s.io", "Ingress"),
        Some(Scope::Namespaced)
    );
    assert_eq!(
        scope_of("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        Some(Scope::Cluster)
    );
    assert_eq!(
        scope_of("rbac.authorization.k8s.io", "RoleBinding"),
        Some(Scope::Namespaced)
    );
    assert_eq!(scope_of("batch", "Job"), None, "not served by the fake");

    // Like a server without aggregated discovery: an empty answer, not an error.
    let aggregated = Discovery::new(client.clone()).run_aggregated().await;
    assert!(aggregated.is_ok_and(|d| d.groups().next().is_none()));

    let (deployments, caps) =
        discovery::pinned_kind(&client, &GroupVersionKind::gvk("apps", "v1", "Deployment"))
            .await
            .expect("pinned kind");
    assert_eq!(deployments.plural, "deployments");
    assert_eq!(caps.scope, Scope::Namespaced);
    let missing = discovery::pinned_kind(
        &client,
        &GroupVersionKind::gvk("example.com", "v1", "Widget"),
    )
    .await;
    assert_eq!(status_of(missing).code, 404);
}

#[tokio::test]
async fn apply_creates_then_updates_and_records_the_field_manager() {
    let kube = FakeKube::start().await;
    create_namespace(&kube, "shop").await;
    let api: Api<ConfigMap> = Api::namespaced(kube.client(), "shop");

    let created = api
        .patch(
            "web",
            &apply_params(),
            &Patch::Apply(&config_map("web", json!({ "tier": "web" }))),
        )
        .await
        .expect("create by apply");
    let mut changed = config_map("web", json!({ "tier": "web", "team": "shop" }));
    changed["data"]["extra"] = json!("more");
    let updated = api
        .patch("web", &apply_params(), &Patch::Apply(&changed))
        .await
        .expect("update by apply");

    assert_eq!(updated.metadata.uid, created.metadata.uid);
    assert_eq!(
        updated.metadata.creation_timestamp,
        created.metadata.creation_timestamp
    );
    assert_ne!(
        updated.metadata.resource_version,
        created.metadata.resource_version
    );
    let data = updated.data.expect("data");
    assert_eq!(data.get("greeting").map(String::as_str), Some("hello"));
    assert_eq!(data.get("extra").map(String::as_str), Some("more"));
    let managers: Vec<_> = updated
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert_eq!(managers, ["selftest"]);

    let apply = kube
        .requests()
        .into_iter()
        .find(|r| r.method == "PATCH" && r.path.contains("/configmaps/"))
        .expect("the apply request");
    assert_eq!(apply.path, "/api/v1/namespaces/shop/configmaps/web");
    assert_eq!(
        apply.content_type.as_deref(),
        Some("application/apply-patch+yaml")
    );
    assert_eq!(
        apply.query_param("fieldManager").as_deref(),
        Some("selftest")
    );
    assert_eq!(apply.query_param("force").as_deref(), Some("true"));
}

#[tokio::test]
async fn lists_filter_by_labels_and_carry_no_item_types() {
    let kube = FakeKube::start().await;
    create_namespace(&kube, "shop").await;
    let api: Api<ConfigMap> = Api::namespaced(kube.client(), "shop");
    for (name, labels) in [
        ("a", json!({ "app": "shop", "tier": "web" })),
        ("b", json!({ "app": "shop" })),
        ("c", json!({ "app": "other", "tier": "web" })),
    ] {
        api.patch(
            name,
            &apply_params(),
            &Patch::Apply(&config_map(name, labels)),
        )
        .await
        .expect("apply");
    }

    let names = |list: kube::core::ObjectList<ConfigMap>| -> Vec<String> {
        list.items
            .into_iter()
            .filter_map(|c| c.metadata.name)
            .collect()
    };
    let selected = api
        .list(&ListParams::default().labels("app=shop,tier"))
        .await
        .expect("list");
    assert_eq!(names(selected), ["a"]);
    let selected = api
        .list(&ListParams::default().labels("app=shop,!tier"))
        .await
        .expect("list");
    assert_eq!(names(selected), ["b"]);
    let selected = api
        .list(&ListParams::default().labels("tier!=web"))
        .await
        .expect("list");
    assert_eq!(names(selected), ["b"]);

    let raw: Value = reqwest::get(format!("{}/api/v1/namespaces/shop/configmaps", kube.url()))
        .await
        .expect("raw list")
        .json()
        .await
        .expect("list JSON");
    assert_eq!(raw["kind"], "ConfigMapList");
    assert_eq!(raw["apiVersion"], "v1");
    assert!(raw["metadata"]["resourceVersion"].is_string());
    let items = raw["items"].as_array().expect("items");
    assert_eq!(items.len(), 3);
    assert!(
        items
            .iter()
            .all(|i| i.get("apiVersion").is_none() && i.get("kind").is_none())
    );
}

#[tokio::test]
async fn dynamic_objects_work_through_discovery() {
    let kube = FakeKube::start().await;
    create_namespace(&kube, "shop").await;
    let client = kube.client();
    let gvk = GroupVersionKind::gvk("apps", "v1", "Deployment");
    let (resource, _) = discovery::pinned_kind(&client, &gvk)
        .await
        .expect("discover");
    let api: Api<DynamicObject> = Api::namespaced_with(client, "shop", &resource);
    let deployment = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": "web" },
        "spec": { "replicas": 2 },
    });

    api.patch("web", &apply_params(), &Patch::Apply(&deployment))
        .await
        .expect("apply");
    let listed = api.list(&ListParams::default()).await.expect("list");
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].data["spec"]["replicas"], 2);
    let stored = kube
        .object("deployments", Some("shop"), "web")
        .expect("stored");
    assert_eq!(stored["kind"], "Deployment");

    api.delete("web", &DeleteParams::background())
        .await
        .expect("delete");
    assert!(kube.objects("deployments", Some("shop")).is_empty());
    let again = status_of(api.delete("web", &DeleteParams::default()).await);
    assert_eq!((again.code, again.reason.as_str()), (404, "NotFound"));
    assert_eq!(again.message, "deployments.apps \"web\" not found");
}

#[tokio::test]
async fn writes_into_a_missing_or_terminating_namespace_are_refused_like_a_real_server() {
    let kube = FakeKube::start().await;
    let api: Api<ConfigMap> = Api::namespaced(kube.client(), "gone");
    let cm = config_map("web", json!({}));

    let missing = status_of(api.patch("web", &apply_params(), &Patch::Apply(&cm)).await);
    assert_eq!((missing.code, missing.reason.as_str()), (404, "NotFound"));
    assert_eq!(missing.message, "namespaces \"gone\" not found");

    kube.set_termination_delay(Duration::from_secs(30));
    create_namespace(&kube, "gone").await;
    Api::<Namespace>::all(kube.client())
        .delete("gone", &DeleteParams::default())
        .await
        .expect("delete the namespace");
    let terminating = status_of(api.patch("web", &apply_params(), &Patch::Apply(&cm)).await);
    assert_eq!(
        (terminating.code, terminating.reason.as_str()),
        (403, "Forbidden")
    );
    assert!(
        terminating
            .message
            .contains("because it is being terminated"),
        "{}",
        terminating.message
    );
}

#[tokio::test]
async fn a_deleted_namespace_terminates_then_disappears_with_its_content() {
    let kube = FakeKube::start().await;
    kube.set_termination_delay(Duration::from_millis(300));
    create_namespace(&kube, "shop").await;
    let cms: Api<ConfigMap> = Api::namespaced(kube.client(), "shop");
    cms.patch(
        "web",
        &apply_params(),
        &Patch::Apply(&config_map("web", json!({}))),
    )
    .await
    .expect("apply");
    let namespaces: Api<Namespace> = Api::all(kube.client());

    let answer = namespaces
        .delete("shop", &DeleteParams::background())
        .await
        .expect("delete");
    let deleted = answer
        .left()
        .expect("the namespace object, as a real server answers");
    assert_eq!(
        deleted.status.and_then(|s| s.phase).as_deref(),
        Some("Terminating")
    );
    assert_eq!(kube.namespace_phase("shop").as_deref(), Some("Terminating"));
    let twice = status_of(namespaces.delete("shop", &DeleteParams::default()).await);
    assert_eq!(twice.code, 409);

    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(!kube.namespace_exists("shop"));
    assert!(kube.objects("configmaps", Some("shop")).is_empty());
    assert_eq!(status_of(namespaces.get("shop").await).code, 404);
}

#[tokio::test]
async fn an_injected_failure_answers_once_with_a_status_body() {
    let kube = FakeKube::start().await;
    create_namespace(&kube, "shop").await;
    let api: Api<ConfigMap> = Api::namespaced(kube.client(), "shop");
    let cm = config_map("web", json!({}));
    kube.fail_next("PATCH", "/api/v1/namespaces/shop/configmaps", 500);

    let failed = status_of(api.patch("web", &apply_params(), &Patch::Apply(&cm)).await);
    assert_eq!(
        (failed.code, failed.reason.as_str()),
        (500, "InternalError")
    );
    assert!(failed.message.contains("injected"), "{}", failed.message);
    api.patch("web", &apply_params(), &Patch::Apply(&cm))
        .await
        .expect("the retry succeeds");
}

#[tokio::test]
async fn apply_without_a_field_manager_is_a_bad_request() {
    let kube = FakeKube::start().await;
    create_namespace(&kube, "shop").await;
    let answer = reqwest::Client::new()
        .patch(format!(
            "{}/api/v1/namespaces/shop/configmaps/web",
            kube.url()
        ))
        .header("content-type", "application/apply-patch+yaml")
        .body("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n")
        .send()
        .await
        .expect("raw apply");
    assert_eq!(answer.status().as_u16(), 400);
    let body: Value = answer.json().await.expect("Status body");
    assert_eq!(body["kind"], "Status");
    assert_eq!(body["status"], "Failure");
    assert_eq!(body["reason"], "BadRequest");
    assert_eq!(body["code"], 400);
}

#[tokio::test]
async fn a_created_job_runs_its_script_and_a_background_delete_takes_its_pod() {
    use crate::support::fake_kube::{Deletion, JobScript};
    use k8s_openapi::api::batch::v1::Job;
    use k8s_openapi::api::core::v1::Pod;
    use kube::api::{LogParams, PostParams};

    let kube = FakeKube::start().await;
    create_namespace(&kube, "runs").await;
    kube.script_job(
        "migrate",
        JobScript {
            exit_code: 2,
            log: "migrating\n".to_owned(),
            ..JobScript::default()
        },
    );
    let jobs: Api<Job> = Api::namespaced(kube.client(), "runs");
    let pods: Api<Pod> = Api::namespaced(kube.client(), "runs");
    let job: Job = serde_json::from_value(json!({
        "metadata": { "name": "migrate" },
        "spec": { "template": { "spec": {
            "restartPolicy": "Never",
            "containers": [{ "name": "main", "image": "tools:1" }],
        } } },
    }))
    .expect("a Job");

    let created = jobs
        .create(&PostParams::default(), &job)
        .await
        .expect("create");
    let again = jobs.create(&PostParams::default(), &job).await;
    assert_eq!(status_of(again).code, 409);

    let uid = created.metadata.uid.clone().expect("a uid");
    let failed = loop {
        let job = jobs.get("migrate").await.expect("get");
        if job.status.as_ref().and_then(|s| s.failed) == Some(1) {
            break job;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let conditions = failed.status.and_then(|s| s.conditions).unwrap_or_default();
    assert!(
        conditions
            .iter()
            .any(|c| c.type_ == "Failed" && c.status == "True")
    );
    let listed = pods
        .list(&ListParams::default().labels(&format!("controller-uid={uid}")))
        .await
        .expect("list pods");
    assert_eq!(listed.items.len(), 1);
    let pod = &listed.items[0];
    let pod_name = pod.metadata.name.clone().expect("a pod name");
    let terminated = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|c| c[0].state.clone())
        .and_then(|s| s.terminated)
        .expect("the container ended");
    assert_eq!(terminated.exit_code, 2);
    let log = pods
        .logs(&pod_name, &LogParams::default())
        .await
        .expect("the pod's log");
    assert_eq!(log, "migrating\n");

    jobs.delete("migrate", &DeleteParams::background())
        .await
        .expect("delete");

    assert!(kube.names("pods", Some("runs")).is_empty());
    assert_eq!(
        kube.deletions(),
        vec![Deletion {
            plural: "jobs".to_owned(),
            namespace: "runs".to_owned(),
            name: "migrate".to_owned(),
            propagation_policy: Some("Background".to_owned()),
        }]
    );
}
