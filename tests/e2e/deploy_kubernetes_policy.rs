//! Manifests that would take the cluster, against the fake Kubernetes API: privileged pods,
//! host access, RoleBindings to powerful ClusterRoles and Services with `externalIPs` are
//! refused before anything is written; namespaces gitferry creates carry Pod Security labels;
//! a namespace gitferry did not create is neither adopted nor deleted.

use gitferry::deploy::DeployError;
use serde_json::json;

use crate::deploy_kubernetes::{NS, Scenario, WEB, labels};

/// What a hostile pull request tries: a privileged pod sharing the node's processes and
/// network with the node's whole file system mounted, cluster-admin for its service
/// account, and a Service capturing traffic meant for other addresses.
const TAKEOVER: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: { name: miner }
spec:
  selector: { matchLabels: { app: miner } }
  template:
    metadata: { labels: { app: miner } }
    spec:
      hostPID: true
      hostNetwork: true
      volumes:
      - name: node
        hostPath: { path: / }
      containers:
      - name: shell
        image: alpine
        securityContext:
          privileged: true
        volumeMounts: [{ name: node, mountPath: /host }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: everything }
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects: [{ kind: ServiceAccount, name: default }]
---
apiVersion: v1
kind: Service
metadata: { name: intercept }
spec:
  ports: [{ port: 53 }]
  externalIPs: [8.8.8.8]
";

fn refusal(error: &DeployError) -> &str {
    match error {
        DeployError::Refused(message) => message,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn red_team_a_pull_request_trying_to_take_the_node_and_the_cluster_gets_nothing_applied() {
    let s = Scenario::new().await;
    s.commit_file("deploy/preview/web.yaml", WEB);
    s.commit_file("deploy/preview/zz-takeover.yaml", TAKEOVER);

    let error = s.apply().await.expect_err("the takeover must be refused");

    let message = refusal(&error);
    let file = "deploy/preview/zz-takeover.yaml";
    for expected in [
        format!(
            "{file}, document 1, line 9: Deployment miner: spec.template.spec: `hostPID: true`"
        ),
        format!(
            "{file}, document 1, line 10: Deployment miner: spec.template.spec: `hostNetwork: true`"
        ),
        format!(
            "{file}, document 1, line 13: Deployment miner: spec.template.spec: volume `node` mounts the node's `/` (hostPath)"
        ),
        format!(
            "{file}, document 1, line 18: Deployment miner: spec.template.spec: container `shell` is privileged"
        ),
        format!(
            "{file}, document 2, line 27: RoleBinding everything: binds the ClusterRole `cluster-admin`"
        ),
        format!("{file}, document 3, line 35: Service intercept: `externalIPs` (8.8.8.8)"),
    ] {
        assert!(
            message.contains(&expected),
            "missing {expected:?} in:\n{message}"
        );
    }
    assert!(
        message.contains("GITFERRY_ALLOWED_CLUSTER_ROLES (now: view)"),
        "{message}"
    );
    assert_eq!(s.writes(), 0, "nothing at all was written");
    assert!(!s.kube.namespace_exists(NS));
    assert!(s.kube.names("deployments", Some(NS)).is_empty());
    assert!(s.kube.names("rolebindings", Some(NS)).is_empty());
}

#[tokio::test]
async fn a_privileged_environment_runs_host_access_but_still_refuses_cluster_admin() {
    let s = Scenario::new().await;
    let privileged = s.provider("pod_security: privileged\n");
    s.commit_file("deploy/preview/zz-takeover.yaml", TAKEOVER);

    let error = s
        .apply_with(&privileged)
        .await
        .expect_err("cluster-admin stays refused");

    let message = refusal(&error);
    assert!(
        message.contains("binds the ClusterRole `cluster-admin`"),
        "{message}"
    );
    assert!(!message.contains("hostPID"), "{message}");
    assert!(!message.contains("externalIPs"), "{message}");
    assert_eq!(s.writes(), 0);

    let without_binding = TAKEOVER.replace("name: cluster-admin", "name: view");
    s.commit_file("deploy/preview/zz-takeover.yaml", &without_binding);
    s.apply_with(&privileged)
        .await
        .expect("privileged allows host access");
    assert_eq!(s.kube.names("deployments", Some(NS)), ["miner"]);
    assert_eq!(s.kube.names("services", Some(NS)), ["intercept"]);
    let namespace = s
        .kube
        .object("namespaces", None, NS)
        .expect("the namespace");
    assert_eq!(
        labels(&namespace)["pod-security.kubernetes.io/enforce"],
        "privileged"
    );
}

#[tokio::test]
async fn an_operator_allow_list_lets_a_binding_to_edit_through() {
    let s = Scenario::new().await;
    s.commit_file(
        "deploy/preview/rbac.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: { name: app-edit }\n\
         roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit }\n\
         subjects: [{ kind: ServiceAccount, name: default }]\n",
    );
    let error = s.apply().await.expect_err("edit is not allowed by default");
    assert!(refusal(&error).contains("binds the ClusterRole `edit`"));

    let allowing = s
        .provider("")
        .with_allowed_cluster_roles(vec!["view".to_owned(), "edit".to_owned()]);
    s.apply_with(&allowing).await.expect("edit is on the list");
    assert_eq!(s.kube.names("rolebindings", Some(NS)), ["app-edit"]);
}

#[tokio::test]
async fn a_baseline_environment_labels_its_namespace_baseline() {
    let s = Scenario::new().await;
    s.commit_file("deploy/preview/web.yaml", WEB);

    s.apply_with(&s.provider("pod_security: baseline\n"))
        .await
        .expect("apply");

    let namespace = s
        .kube
        .object("namespaces", None, NS)
        .expect("the namespace");
    let labels = labels(&namespace);
    for mode in ["enforce", "audit", "warn"] {
        assert_eq!(
            labels[format!("pod-security.kubernetes.io/{mode}")],
            "baseline"
        );
        assert_eq!(
            labels[format!("pod-security.kubernetes.io/{mode}-version")],
            "latest"
        );
    }
}

#[tokio::test]
async fn a_namespace_gitferry_did_not_create_is_neither_adopted_nor_deleted() {
    let s = Scenario::new().await;
    s.commit_file("deploy/preview/web.yaml", WEB);
    let handmade = json!({ "team": "payments" });
    s.kube.insert(json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": { "name": NS, "labels": handmade },
    }));

    let error = s.apply().await.expect_err("not gitferry's namespace");

    assert!(
        matches!(error, DeployError::ForeignNamespace { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.starts_with(
            "gitferry will not use namespace shop-pr-7: it exists but was not created by gitferry"
        ),
        "{message}"
    );
    assert!(
        message.contains("to a name that does not exist yet"),
        "{message}"
    );
    assert_eq!(s.writes(), 0, "neither labelled nor written into");
    let namespace = s.kube.object("namespaces", None, NS).expect("still there");
    assert_eq!(labels(&namespace), &handmade, "its labels are untouched");
    assert!(s.kube.names("deployments", Some(NS)).is_empty());

    let error = s.destroy().await.expect_err("closing must not delete it");
    assert!(matches!(error, DeployError::ForeignNamespace { .. }));
    assert_eq!(s.kube.namespace_phase(NS).as_deref(), Some("Active"));
    assert_eq!(s.writes(), 0);
}

/// Through the whole app: a pull request whose manifests try the takeover gets a failed
/// preview that says why, on the deployment, the check run and the sticky comment, and the
/// cluster sees no write at all.
#[tokio::test]
async fn red_team_a_pull_request_with_takeover_manifests_fails_its_preview_and_writes_nothing() {
    use crate::previews_faults::{
        concluded_check, description, kubernetes_scenario, section_with, writes,
    };
    use crate::support::fake_github::PrSpec;

    let (s, cluster) = kubernetes_scenario("shop-pr-{pr}").await;
    let head = s.repo.commit_files(
        "feature",
        &[("deploy/preview/takeover.yaml", TAKEOVER)],
        "harmless, honest",
    );
    let pr = s.repo.open_pr(PrSpec::new("feature", "main"));
    s.deliver_pr(pr, "opened").await;

    let deployment = s.deployment_state(&head, "failure").await;
    let reason = description(&deployment);
    assert!(reason.contains("deploy/preview/takeover.yaml"), "{reason}");
    let check = concluded_check(&s, &head).await;
    assert_eq!(check.conclusion.as_deref(), Some("failure"));
    let section = section_with(&s, pr, "❌").await;
    for refused in [
        "`hostPID: true`",
        "mounts the node's `/` (hostPath)",
        "container `shell` is privileged",
        "binds the ClusterRole `cluster-admin`",
        "`externalIPs` (8.8.8.8)",
    ] {
        assert!(section.contains(refused), "{refused:?} not in:\n{section}");
    }
    assert!(
        section.contains("deploy/preview/takeover.yaml, document 1, line 9"),
        "{section}"
    );
    assert_eq!(writes(&cluster.kube), 0, "{:?}", cluster.kube.requests());
    assert!(!cluster.kube.namespace_exists(&format!("shop-pr-{pr}")));
}

/// Through the whole app: a pull request whose namespace already exists, made by hand, gets
/// a failed preview that names the namespace and what to do; closing the pull request leaves
/// the namespace standing.
#[tokio::test]
async fn a_preview_into_a_handmade_namespace_fails_and_closing_the_pr_leaves_it_standing() {
    use crate::previews_faults::{description, kubernetes_scenario, section_with, writes};
    use crate::support::fake_github::PrSpec;

    let (s, cluster) = kubernetes_scenario("shop-pr-{pr}").await;
    let head = s.repo.commit_files("feature", &[("app.txt", "v1")], "work");
    let pr = s.repo.open_pr(PrSpec::new("feature", "main"));
    let namespace = format!("shop-pr-{pr}");
    cluster.kube.insert(json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": { "name": namespace, "labels": { "team": "payments" } },
    }));
    s.deliver_pr(pr, "opened").await;

    let deployment = s.deployment_state(&head, "failure").await;
    let reason = description(&deployment);
    assert!(
        reason.contains(&format!("gitferry will not use namespace {namespace}")),
        "{reason}"
    );
    let section = section_with(&s, pr, "❌").await;
    assert!(section.contains("was not created by gitferry"), "{section}");
    assert_eq!(writes(&cluster.kube), 0, "{:?}", cluster.kube.requests());

    s.repo.close_pr(pr);
    s.deliver_pr(pr, "closed").await;
    crate::support::gitferry::eventually("the destroy to have been tried", || async {
        cluster
            .kube
            .requests()
            .iter()
            .filter(|r| r.method == "GET" && r.path == format!("/api/v1/namespaces/{namespace}"))
            .nth(1)
            .map(|_| ())
    })
    .await;
    assert_eq!(
        cluster.kube.namespace_phase(&namespace).as_deref(),
        Some("Active")
    );
    let standing = cluster
        .kube
        .object("namespaces", None, &namespace)
        .expect("still there");
    assert_eq!(labels(&standing), &json!({ "team": "payments" }));
    assert_eq!(writes(&cluster.kube), 0, "{:?}", cluster.kube.requests());
}

/// The operator's `--allowed-cluster-roles` (GITFERRY_ALLOWED_CLUSTER_ROLES) reaches the
/// provider a preview uses.
#[tokio::test]
async fn the_operators_allowed_cluster_roles_reach_the_preview_provider() {
    use crate::support::fake_github::PrSpec;
    use crate::support::fake_kube::FakeKube;

    let kube = FakeKube::start().await;
    let (_dir, kubeconfig) = kube.kubeconfig();
    let binding = "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n\
                   metadata: { name: app-edit }\nroleRef: { apiGroup: rbac.authorization.k8s.io, \
                   kind: ClusterRole, name: edit }\nsubjects: [{ kind: ServiceAccount, name: default }]\n";
    let s = crate::previews::scenario_with(
        "environments:\n  preview:\n    pull_requests: { base: [main] }\n    deploy: { provider: \
         kubernetes, manifests: deploy/preview, namespace: \"shop-pr-{pr}\", pod_security: \
         baseline }\n",
        &[("deploy/preview/rbac.yaml", binding)],
        &[
            "--kubeconfig",
            &kubeconfig,
            "--allowed-cluster-roles",
            "view,edit",
        ],
    )
    .await;
    let head = s.repo.commit_files("feature", &[("app.txt", "v1")], "work");
    let pr = s.repo.open_pr(PrSpec::new("feature", "main"));
    s.deliver_pr(pr, "opened").await;

    s.deployment_state(&head, "success").await;
    let namespace = format!("shop-pr-{pr}");
    assert_eq!(kube.names("rolebindings", Some(&namespace)), ["app-edit"]);
    let created = kube
        .object("namespaces", None, &namespace)
        .expect("created");
    assert_eq!(
        labels(&created)["pod-security.kubernetes.io/enforce"],
        "baseline"
    );
}
