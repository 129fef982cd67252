//! The kubernetes deploy provider against the fake Kubernetes API: a preview's manifests are
//! applied into its namespace, pruned, refused when they would reach outside it, destroyed
//! and observed, all over the real wire protocol.

use std::time::Duration;

use gitferry::deploy::kubernetes::KubernetesProvider;
use gitferry::deploy::{Applied, DeployError, Observed, Provider, Request, Target, Workspace};
use gitferry::repo_config::{Deploy, KubernetesDeploy};
use gitferry::runs::RunLog;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::support::fake_kube::FakeKube;

pub(crate) const NS: &str = "shop-pr-7";

pub(crate) const WEB: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: { app: web }
spec:
  replicas: 1
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: web, image: 'shop:abc1234' }] }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [{ port: 80 }] }
";

const WORKER: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: { name: worker }
spec: { replicas: 1 }
";

const SETTINGS: &str = r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"mode": "preview"}}"#;

/// A preview of PR 7 of acme/shop, a workspace to write manifests into, and the fake cluster.
pub(crate) struct Scenario {
    pub(crate) kube: FakeKube,
    workspace: tempfile::TempDir,
    target: Target,
    pub(crate) log: RunLog,
    cancel: CancellationToken,
}

impl Scenario {
    pub(crate) async fn new() -> Self {
        Scenario {
            kube: FakeKube::start().await,
            workspace: tempfile::tempdir().expect("a workspace"),
            target: Target {
                repository: "acme/shop".to_owned(),
                environment: "preview".to_owned(),
                pr: Some(7),
                sha: "abc1234def5678".to_owned(),
                branch: "feature/login".to_owned(),
                base: Some("latest".to_owned()),
                namespace: Some(NS.to_owned()),
                url: Some("https://shop-pr-7.preview.example.com".to_owned()),
            },
            log: RunLog::default(),
            cancel: CancellationToken::new(),
        }
    }

    /// Writes a file of the commit, relative to the repository root.
    pub(crate) fn commit_file(&self, path: &str, text: &str) {
        let path = self.workspace.path().join(path);
        std::fs::create_dir_all(path.parent().expect("a parent folder")).expect("mkdir");
        std::fs::write(path, text).expect("write a manifest");
    }

    fn delete_file(&self, path: &str) {
        std::fs::remove_file(self.workspace.path().join(path)).expect("remove a manifest");
    }

    /// The provider for `deploy:` as the default branch's config would have it, plus `extra`
    /// keys.
    pub(crate) fn provider(&self, extra: &str) -> KubernetesProvider {
        let yaml = format!(
            "provider: kubernetes\nmanifests: deploy/preview\nnamespace: \"shop-pr-{{pr}}\"\n{extra}"
        );
        let config: KubernetesDeploy = match serde_yaml_ng::from_str::<Deploy>(&yaml) {
            Ok(Deploy::Kubernetes(config)) => config,
            other => panic!("not a kubernetes deploy: {other:?}"),
        };
        KubernetesProvider::new(self.kube.client(), config)
            .with_polling(Duration::from_millis(50), Duration::from_secs(10))
    }

    pub(crate) async fn apply(&self) -> Result<Applied, DeployError> {
        self.apply_with(&self.provider("")).await
    }

    pub(crate) async fn apply_with(
        &self,
        provider: &KubernetesProvider,
    ) -> Result<Applied, DeployError> {
        let workspace = Workspace::new(self.workspace.path());
        provider.apply(self.request(&workspace)).await
    }

    pub(crate) async fn destroy(&self) -> Result<(), DeployError> {
        let workspace = Workspace::new(self.workspace.path());
        self.provider("").destroy(self.request(&workspace)).await
    }

    async fn observe(&self) -> Result<Observed, DeployError> {
        let workspace = Workspace::new(self.workspace.path());
        self.provider("").observe(self.request(&workspace)).await
    }

    fn request<'a>(&'a self, workspace: &'a Workspace) -> Request<'a> {
        Request {
            target: &self.target,
            workspace,
            log: &self.log,
            cancel: &self.cancel,
        }
    }

    fn deployments(&self) -> Vec<String> {
        self.kube.names("deployments", Some(NS))
    }

    pub(crate) fn writes(&self) -> usize {
        self.kube.requests().iter().filter(|r| r.is_write()).count()
    }
}

pub(crate) fn labels(object: &Value) -> &Value {
    &object["metadata"]["labels"]
}

fn applied_kinds(kube: &FakeKube) -> Value {
    let namespace = kube.object("namespaces", None, NS).expect("the namespace");
    let text = namespace["metadata"]["annotations"]["gitferry.dev/applied-kinds"]
        .as_str()
        .expect("the applied-kinds annotation")
        .to_owned();
    serde_json::from_str(&text).expect("a JSON list")
}

#[tokio::test]
async fn apply_creates_the_namespace_and_every_object_with_gitferrys_labels() {
    let s = Scenario::new().await;
    s.commit_file("deploy/preview/web.yaml", WEB);
    s.commit_file("deploy/preview/config/settings.json", SETTINGS);
    s.commit_file("deploy/preview/README.md", "not a manifest");

    let applied = s.apply().await.expect("apply");

    assert_eq!(
        applied.url.as_deref(),
        Some("https://shop-pr-7.preview.example.com")
    );
    assert_eq!(
        applied.summary,
        [
            "configured v1 Namespace shop-pr-7",
            "configured v1 ConfigMap settings",
            "configured apps/v1 Deployment web",
            "configured v1 Service web",
        ]
    );
    assert!(s.log.text().contains("configured apps/v1 Deployment web\n"));

    let namespace = s
        .kube
        .object("namespaces", None, NS)
        .expect("the namespace");
    let owner_and_pod_security = json!({
        "app.kubernetes.io/managed-by": "gitferry",
        "gitferry.dev/repository": "acme.shop",
        "gitferry.dev/environment": "preview",
        "gitferry.dev/pr": "7",
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": "latest",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": "latest",
    });
    assert_eq!(labels(&namespace), &owner_and_pod_security);
    assert_eq!(
        applied_kinds(&s.kube),
        json!(["apps/v1/Deployment", "v1/ConfigMap", "v1/Service"])
    );

    let web = s
        .kube
        .object("deployments", Some(NS), "web")
        .expect("the deployment");
    assert_eq!(labels(&web)["app"], "web", "the manifest's own labels stay");
    assert_eq!(labels(&web)["gitferry.dev/pr"], "7");
    assert_eq!(web["metadata"]["managedFields"][0]["manager"], "gitferry");
    assert_eq!(
        web["spec"]["template"]["spec"]["containers"][0]["image"],
        "shop:abc1234"
    );
    assert_eq!(s.kube.names("services", Some(NS)), ["web"]);
    assert_eq!(s.kube.names("configmaps", Some(NS)), ["settings"]);

    for patch in s.kube.requests().iter().filter(|r| r.method == "PATCH") {
        assert_eq!(
            patch.content_type.as_deref(),
            Some("application/apply-patch+yaml")
        );
        assert_eq!(
            patch.query_param("fieldManager").as_deref(),
            Some("gitferry")
        );
        assert_eq!(patch.query_param("force").as_deref(), Some("true"));
    }
}

#[tokio::test]
async fn reapplying_without_an_object_prunes_it_but_leaves_objects_gitferry_did_not_make() {
    let s = Scenario::new().await;
    s.commit_file("deploy/preview/web.yaml", WEB);
    s.commit_file("deploy/preview/worker.yaml", WORKER);
    s.commit_file("deploy/preview/settings.json", SETTINGS);
    s.apply().await.expect("first apply");
    s.kube.insert(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": "debug-shell", "namespace": NS },
    }));

    s.delete_file("deploy/preview/worker.yaml");
    s.delete_file("deploy/preview/settings.json");
    let applied = s.apply().await.expect("second apply");

    assert_eq!(s.deployments(), ["debug-shell", "web"]);
    assert!(s.kube.names("configmaps", Some(NS)).is_empty());
    assert!(
        applied
            .summary
            .contains(&"pruned apps/v1 Deployment worker".to_owned())
    );
    assert!(
        applied
            .summary
            .contains(&"pruned v1 ConfigMap settings".to_owned())
    );
    assert!(s.log.text().contains("pruned apps/v1 Deployment worker\n"));
    assert_eq!(
        applied_kinds(&s.kube),
        json!(["apps/v1/Deployment", "v1/Service"]),
        "kinds with nothing left are forgotten once pruned"
    );
}

#[tokio::test]
async fn with_prune_off_removed_objects_stay_and_their_kinds_stay_recorded() {
    let s = Scenario::new().await;
    let provider = s.provider("prune: false\n");
    s.commit_file("deploy/preview/web.yaml", WEB);
    s.commit_file("deploy/preview/worker.yaml", WORKER);
    s.commit_file("deploy/preview/settings.json", SETTINGS);
    s.apply_with(&provider).await.expect("first apply");

    s.delete_file("deploy/preview/worker.yaml");
    s.delete_file("deploy/preview/settings.json");
    let applied = s.apply_with(&provider).await.expect("second apply");

    assert_eq!(s.deployments(), ["web", "worker"]);
    assert_eq!(s.kube.names("configmaps", Some(NS)), ["settings"]);
    assert!(
        applied
            .summary
            .iter()
            .all(|line| !line.starts_with("pruned"))
    );
    assert_eq!(
        applied_kinds(&s.kube),
        json!(["apps/v1/Deployment", "v1/ConfigMap", "v1/Service"]),
        "a later apply with prune on must still find the ConfigMap"
    );
}

#[tokio::test]
async fn a_cluster_role_binding_is_refused_before_anything_is_written() {
    let s = Scenario::new().await;
    s.commit_file("deploy/preview/web.yaml", WEB);
    s.commit_file(
        "deploy/preview/zz-admin.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: { name: pr-admin }\n\
         roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin }\n\
         subjects: [{ kind: ServiceAccount, name: default, namespace: shop-pr-7 }]\n",
    );

    let error = s
        .apply()
        .await
        .expect_err("a cluster-wide object must be refused");

    let DeployError::Manifests(message) = &error else {
        panic!("expected a Manifests error, got {error:?}");
    };
    assert!(
        message.contains("deploy/preview/zz-admin.yaml, document 1"),
        "{message}"
    );
    assert!(
        message.contains("ClusterRoleBinding pr-admin is cluster-scoped"),
        "{message}"
    );
    assert!(
        message.contains("only create namespaced objects in its own namespace"),
        "{message}"
    );
    assert_eq!(s.writes(), 0, "validation happens before any write");
    assert!(!s.kube.namespace_exists(NS));
    assert!(s.kube.objects("clusterrolebindings", None).is_empty());
}

#[tokio::test]
async fn an_object_aimed_at_another_namespace_is_refused() {
    let s = Scenario::new().await;
    s.commit_file(
        "deploy/preview/steal.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: { name: token, namespace: kube-system }\n",
    );

    let error = s
        .apply()
        .await
        .expect_err("another namespace must be refused");

    let message = error.to_string();
    assert!(matches!(error, DeployError::Manifests(_)), "{error:?}");
    assert!(
        message.contains("v1 Secret token names namespace kube-system"),
        "{message}"
    );
    assert_eq!(s.writes(), 0);
}

#[tokio::test]
async fn a_kind_the_cluster_does_not_serve_is_named() {
    let s = Scenario::new().await;
    s.commit_file(
        "deploy/preview/job.yaml",
        "apiVersion: batch/v1\nkind: Job\nmetadata: { name: migrate }\n",
    );

    let error = s.apply().await.expect_err("an unknown kind");

    assert!(matches!(error, DeployError::Manifests(_)), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("the cluster does not serve batch/v1 Job"),
        "{error}"
    );
    assert_eq!(s.writes(), 0);
}

#[tokio::test]
async fn malformed_yaml_is_a_manifests_error_naming_the_file_and_line() {
    let s = Scenario::new().await;
    s.commit_file("deploy/preview/web.yaml", WEB);
    s.commit_file(
        "deploy/preview/broken.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\n data: [unclosed\n",
    );

    let error = s.apply().await.expect_err("broken YAML");

    let message = error.to_string();
    assert!(matches!(error, DeployError::Manifests(_)), "{error:?}");
    assert!(message.contains("deploy/preview/broken.yaml"), "{message}");
    assert!(message.contains("line 5"), "{message}");
    assert_eq!(s.writes(), 0);
}

#[tokio::test]
async fn a_failed_apply_is_a_cluster_error_and_the_next_apply_completes() {
    let s = Scenario::new().await;
    s.commit_file("deploy/preview/web.yaml", WEB);
    s.commit_file("deploy/preview/worker.yaml", WORKER);
    s.kube.fail_next(
        "PATCH",
        "/apis/apps/v1/namespaces/shop-pr-7/deployments/web",
        500,
    );

    let error = s.apply().await.expect_err("the injected 500");

    let DeployError::Cluster(message) = &error else {
        panic!("expected a Cluster error, got {error:?}");
    };
    assert!(
        message.starts_with("applying apps/v1 Deployment web: "),
        "{message}"
    );
    assert!(message.contains("injected fault"), "{message}");
    assert!(message.contains("HTTP 500"), "{message}");

    let applied = s.apply().await.expect("the retry");
    assert_eq!(applied.summary.len(), 4);
    assert_eq!(s.deployments(), ["web", "worker"]);
    assert_eq!(s.kube.names("services", Some(NS)), ["web"]);
}

#[tokio::test]
async fn an_unreachable_cluster_is_a_cluster_access_error() {
    let s = Scenario::new().await;
    s.commit_file("deploy/preview/web.yaml", WEB);
    let gone = FakeKube::start().await;
    let config = match serde_yaml_ng::from_str::<Deploy>(
        "provider: kubernetes\nmanifests: deploy/preview\nnamespace: shop-pr-7\n",
    ) {
        Ok(Deploy::Kubernetes(config)) => config,
        other => panic!("not a kubernetes deploy: {other:?}"),
    };
    let provider = KubernetesProvider::new(gone.client(), config);
    drop(gone);
    tokio::time::sleep(Duration::from_millis(50)).await;

    let error = s.apply_with(&provider).await.expect_err("nobody listens");

    assert!(matches!(error, DeployError::ClusterAccess(_)), "{error:?}");
    assert!(
        error.to_string().starts_with("cannot reach the cluster: "),
        "{error}"
    );
}

#[tokio::test]
async fn cancelled_before_it_starts_nothing_is_written() {
    let s = Scenario::new().await;
    s.commit_file("deploy/preview/web.yaml", WEB);
    s.cancel.cancel();

    let error = s.apply().await.expect_err("cancelled");

    assert!(matches!(error, DeployError::Cancelled), "{error:?}");
    assert_eq!(s.writes(), 0);
}

#[tokio::test]
async fn destroy_waits_while_the_namespace_terminates_until_it_is_gone() {
    let s = Scenario::new().await;
    s.commit_file("deploy/preview/web.yaml", WEB);
    s.apply().await.expect("apply");
    s.kube.set_termination_delay(Duration::from_millis(400));

    s.destroy().await.expect("destroy");

    assert!(
        !s.kube.namespace_exists(NS),
        "destroy returns once the namespace is gone"
    );
    assert!(s.deployments().is_empty());
    let log = s.log.text();
    assert!(log.contains("deleting namespace shop-pr-7\n"), "{log}");
    assert!(
        log.contains("waiting for namespace shop-pr-7 to terminate\n"),
        "{log}"
    );
    assert!(log.ends_with("namespace shop-pr-7 is gone\n"), "{log}");
    let polls = s
        .kube
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == format!("/api/v1/namespaces/{NS}"))
        .count();
    assert!(
        polls >= 3,
        "it looked more than once while terminating ({polls})"
    );

    s.destroy().await.expect("destroying what is gone is fine");
    assert!(
        s.log
            .text()
            .ends_with("namespace shop-pr-7 is already gone\n")
    );
}

#[tokio::test]
async fn destroy_never_deletes_a_namespace_that_is_not_this_previews() {
    let s = Scenario::new().await;
    s.kube.insert(json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": { "name": NS, "labels": { "team": "payments" } },
    }));

    let error = s.destroy().await.expect_err("not gitferry's namespace");

    assert!(
        matches!(error, DeployError::ForeignNamespace { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("was not created by gitferry"),
        "{error}"
    );
    assert_eq!(s.kube.namespace_phase(NS).as_deref(), Some("Active"));
}

#[tokio::test]
async fn apply_refuses_a_namespace_gitferry_made_for_another_pull_request() {
    let s = Scenario::new().await;
    s.commit_file("deploy/preview/web.yaml", WEB);
    s.kube.insert(json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": { "name": NS, "labels": {
            "app.kubernetes.io/managed-by": "gitferry",
            "gitferry.dev/repository": "acme.shop",
            "gitferry.dev/environment": "preview",
            "gitferry.dev/pr": "8",
        } },
    }));

    let error = s.apply().await.expect_err("PR 8's namespace");

    assert!(
        error
            .to_string()
            .contains("belongs to repository acme.shop, environment preview, pull request #8"),
        "{error}"
    );
    assert_eq!(s.writes(), 0);
}

#[tokio::test]
async fn a_redeploy_while_the_old_namespace_terminates_waits_for_it() {
    let s = Scenario::new().await;
    s.commit_file("deploy/preview/web.yaml", WEB);
    s.apply().await.expect("first apply");
    s.kube.set_termination_delay(Duration::from_millis(300));
    Api::<Namespace>::all(s.kube.client())
        .delete(NS, &DeleteParams::default())
        .await
        .expect("someone deletes the namespace");

    s.apply().await.expect("the redeploy");

    assert_eq!(s.kube.namespace_phase(NS).as_deref(), Some("Active"));
    assert_eq!(s.deployments(), ["web"]);
    assert!(
        s.log
            .text()
            .contains("namespace shop-pr-7 is still being deleted; waiting")
    );
}

#[tokio::test]
async fn observe_returns_the_live_objects_gitferry_applied() {
    let s = Scenario::new().await;
    assert_eq!(
        s.observe().await.expect("observe nothing"),
        Observed::default()
    );
    s.commit_file("deploy/preview/web.yaml", WEB);
    s.apply().await.expect("apply");
    s.kube.insert(json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": { "name": "by-hand", "namespace": NS },
    }));

    let observed = s.observe().await.expect("observe");

    let seen: Vec<(&str, &str, &str)> = observed
        .objects
        .iter()
        .map(|o| {
            (
                o["apiVersion"].as_str().unwrap_or_default(),
                o["kind"].as_str().unwrap_or_default(),
                o["metadata"]["name"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [("apps/v1", "Deployment", "web"), ("v1", "Service", "web")]
    );
    assert_eq!(observed.objects[0]["spec"]["replicas"], 1);
}

#[tokio::test]
async fn a_render_commands_output_is_applied() {
    let s = Scenario::new().await;
    s.commit_file("deploy/rendered.yaml", WEB);
    let provider = s.provider("render: [cat, deploy/rendered.yaml]\n");

    let applied = s
        .apply_with(&provider)
        .await
        .expect("apply the rendered output");

    assert!(
        applied
            .summary
            .contains(&"configured apps/v1 Deployment web".to_owned())
    );
    assert_eq!(s.deployments(), ["web"]);
}

#[tokio::test]
async fn a_failing_render_command_writes_nothing_and_says_why() {
    let s = Scenario::new().await;
    s.commit_file("deploy/preview/web.yaml", WEB);
    let provider = s.provider("render: [sh, -c, 'echo no kustomization here >&2; exit 4']\n");

    let error = s
        .apply_with(&provider)
        .await
        .expect_err("the render command failed");

    assert!(
        matches!(error, DeployError::CommandFailed { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("exit status 4"), "{error}");
    assert!(
        error.to_string().contains("no kustomization here"),
        "{error}"
    );
    assert_eq!(s.writes(), 0);
}
