use super::*;
use crate::deploy::kubernetes::manifests;

fn parse(text: &str) -> Vec<Manifest> {
    manifests::parse("deploy/preview/app.yaml", text, false).unwrap()
}

fn found_at(level: PodSecurity, text: &str) -> Vec<Violation> {
    let allowed = vec!["view".to_owned()];
    let policy = Policy {
        pod_security: level,
        allowed_cluster_roles: &allowed,
    };
    violations(&parse(text), &policy)
}

fn found(text: &str) -> Vec<Violation> {
    found_at(PodSecurity::Restricted, text)
}

/// A pod spec with one privileged container, inside each workload kind's own path.
fn privileged_in(api_version: &str, kind: &str, wrap: &str) -> String {
    let pod = "{containers: [{name: app, image: x, securityContext: {privileged: true}}]}";
    format!(
        "apiVersion: {api_version}\nkind: {kind}\nmetadata: {{name: w}}\nspec: {}\n",
        wrap.replace("POD", pod)
    )
}

#[test]
fn a_privileged_container_is_refused_in_every_workload_kind() {
    let kinds = [
        ("v1", "Pod", "POD"),
        ("v1", "ReplicationController", "{template: {spec: POD}}"),
        ("v1", "PodTemplate", "{template: {spec: POD}}"),
        ("apps/v1", "Deployment", "{template: {spec: POD}}"),
        ("apps/v1", "StatefulSet", "{template: {spec: POD}}"),
        ("apps/v1", "DaemonSet", "{template: {spec: POD}}"),
        ("apps/v1", "ReplicaSet", "{template: {spec: POD}}"),
        ("batch/v1", "Job", "{template: {spec: POD}}"),
        (
            "batch/v1",
            "CronJob",
            "{schedule: '* * * * *', jobTemplate: {spec: {template: {spec: POD}}}}",
        ),
        ("argoproj.io/v1alpha1", "Rollout", "{template: {spec: POD}}"),
    ];
    for (api_version, kind, wrap) in kinds {
        let found = found(&privileged_in(api_version, kind, wrap));
        assert_eq!(found.len(), 1, "{kind}: {found:?}");
        assert!(
            found[0]
                .what
                .contains("container `app` is privileged (`privileged: true`)"),
            "{kind}: {found:?}"
        );
        assert_eq!(found[0].at, "deploy/preview/app.yaml, document 1, line 4");
    }
}

#[test]
fn init_and_ephemeral_containers_are_checked_too() {
    let found = found(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: app}]\n  \
         initContainers:\n  - name: setup\n    securityContext:\n      privileged: true\n  \
         ephemeralContainers:\n  - name: debug\n    securityContext:\n      capabilities:\n        \
         add: [SYS_ADMIN]\n",
    );
    let whats: Vec<&str> = found.iter().map(|v| v.what.as_str()).collect();
    assert_eq!(
        whats,
        [
            "Pod p: spec: container `setup` is privileged (`privileged: true`)",
            "Pod p: spec: container `debug` adds the capability `SYS_ADMIN`",
        ]
    );
    assert_eq!(found[0].at, "deploy/preview/app.yaml, document 1, line 9");
    assert_eq!(found[1].at, "deploy/preview/app.yaml, document 1, line 14");
}

#[test]
fn host_namespaces_host_paths_and_host_ports_are_refused() {
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    \
                spec:\n      hostPID: true\n      hostIPC: true\n      hostNetwork: true\n      \
                volumes: [{name: root, hostPath: {path: /}}]\n      containers:\n      - name: web\n        \
                ports: [{containerPort: 80, hostPort: 80}]\n";
    let found = found(text);
    let whats: Vec<&str> = found.iter().map(|v| v.what.as_str()).collect();
    assert_eq!(
        whats,
        [
            "Deployment web: spec.template.spec: `hostPID: true` (sees and signals every process on the node)",
            "Deployment web: spec.template.spec: `hostIPC: true` (shares the node's IPC namespace)",
            "Deployment web: spec.template.spec: `hostNetwork: true` (uses the node's network)",
            "Deployment web: spec.template.spec: volume `root` mounts the node's `/` (hostPath)",
            "Deployment web: spec.template.spec: container `web` binds port 80 on the node (hostPort)",
        ]
    );
    let lines: Vec<&str> = found.iter().map(|v| v.at.as_str()).collect();
    assert_eq!(
        lines,
        [7, 8, 9, 10, 13].map(|l| format!("deploy/preview/app.yaml, document 1, line {l}"))
    );
    assert!(
        found
            .iter()
            .all(|v| v.allow.contains("pod_security: privileged"))
    );
}

#[test]
fn added_capabilities_follow_the_level() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: app\n    \
                securityContext:\n      capabilities:\n        add: [NET_BIND_SERVICE, CHOWN, NET_ADMIN]\n";
    let restricted: Vec<String> = found(text).into_iter().map(|v| v.what).collect();
    assert_eq!(
        restricted,
        [
            "Pod p: spec: container `app` adds the capability `CHOWN`",
            "Pod p: spec: container `app` adds the capability `NET_ADMIN`",
        ]
    );
    let baseline = found_at(PodSecurity::Baseline, text);
    assert_eq!(baseline.len(), 1, "{baseline:?}");
    assert!(baseline[0].what.ends_with("`NET_ADMIN`"));
    assert!(found_at(PodSecurity::Privileged, text).is_empty());
}

#[test]
fn privilege_escalation_is_refused_under_restricted_only() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: app\n    \
                securityContext: {allowPrivilegeEscalation: true}\n";
    let found = found(text);
    assert_eq!(found.len(), 1);
    assert!(
        found[0].allow.contains("pod_security: baseline"),
        "{found:?}"
    );
    assert!(found_at(PodSecurity::Baseline, text).is_empty());
}

#[test]
fn unmasked_proc_unconfined_seccomp_and_host_processes_are_refused() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext:\n    \
                seccompProfile: {type: Unconfined}\n  containers:\n  - name: app\n    securityContext:\n      \
                procMount: Unmasked\n      windowsOptions: {hostProcess: true}\n";
    let whats: Vec<String> = found(text).into_iter().map(|v| v.what).collect();
    assert_eq!(
        whats,
        [
            "Pod p: spec: the pod runs without seccomp (`Unconfined`)",
            "Pod p: spec: container `app` sets `procMount: Unmasked` (an unmasked /proc)",
            "Pod p: spec: container `app` is a Windows host process",
        ]
    );
}

#[test]
fn a_service_with_external_ips_is_refused_unless_privileged() {
    let text = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports: [{port: 80}]\n  \
                externalIPs: [10.0.0.1, 8.8.8.8]\n";
    let found = found(text);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].at, "deploy/preview/app.yaml, document 1, line 6");
    assert!(found[0].what.contains("(10.0.0.1, 8.8.8.8)"), "{found:?}");
    assert!(found_at(PodSecurity::Privileged, text).is_empty());
    let plain =
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n";
    assert!(self::found(plain).is_empty());
}

#[test]
fn role_bindings_to_cluster_roles_outside_the_allow_list_are_refused_at_every_level() {
    let binding = |role: &str| {
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: b}}\n\
             roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: {role}\n\
             subjects: [{{kind: ServiceAccount, name: default}}]\n"
        )
    };
    for role in ["cluster-admin", "admin", "edit"] {
        let found = found_at(PodSecurity::Privileged, &binding(role));
        assert_eq!(found.len(), 1, "{role}");
        assert_eq!(
            found[0].what,
            format!("RoleBinding b: binds the ClusterRole `{role}`")
        );
        assert_eq!(found[0].at, "deploy/preview/app.yaml, document 1, line 7");
        assert!(
            found[0]
                .allow
                .contains("GITFERRY_ALLOWED_CLUSTER_ROLES (now: view)")
        );
    }
    assert!(found(&binding("view")).is_empty());
    let own_role = binding("x").replace("kind: ClusterRole", "kind: Role");
    assert!(
        found(&own_role).is_empty(),
        "a Role of the namespace is fine"
    );
}

#[test]
fn a_role_binding_to_everyone_is_refused() {
    let found = found(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b}\n\
         roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}\n\
         subjects:\n- {kind: Group, name: 'system:unauthenticated'}\n",
    );
    assert_eq!(found.len(), 1);
    assert!(
        found[0]
            .what
            .contains("`system:unauthenticated`, that is to everyone")
    );
}

#[test]
fn the_privileged_level_lifts_the_pod_checks() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: true\n  \
                volumes: [{name: root, hostPath: {path: /}}]\n  \
                containers: [{name: app, securityContext: {privileged: true}}]\n";
    assert_eq!(found(text).len(), 3);
    assert!(found_at(PodSecurity::Privileged, text).is_empty());
}

#[test]
fn harmless_manifests_pass_and_false_values_are_not_refusals() {
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    \
                spec:\n      hostNetwork: false\n      volumes: [{name: tmp, emptyDir: {}}]\n      \
                containers:\n      - name: web\n        ports: [{containerPort: 8080}]\n        \
                securityContext: {privileged: false, allowPrivilegeEscalation: false, \
                capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}}\n---\n\
                apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {containers: 'x'}\n";
    assert_eq!(found(text), []);
}

#[test]
fn the_refusal_lists_every_problem_with_its_line_and_how_to_allow_it() {
    let allowed = vec!["view".to_owned(), "edit".to_owned()];
    let policy = Policy {
        pod_security: PodSecurity::Baseline,
        allowed_cluster_roles: &allowed,
    };
    let manifests = parse(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: v1\nkind: Pod\n\
         metadata: {name: p}\nspec:\n  hostNetwork: true\n  containers: [{name: a}]\n",
    );
    let message = check(&manifests, &policy).unwrap_err().to_string();
    assert_eq!(
        message,
        "the manifests were refused: deploy/preview/app.yaml, document 2, line 9: Pod p: spec: \
         `hostNetwork: true` (uses the node's network). Nothing was applied.\n\
         Everything refused under pod security level `baseline` and the allowed ClusterRoles \
         (view, edit):\n\
         - deploy/preview/app.yaml, document 2, line 9: Pod p: spec: `hostNetwork: true` (uses \
         the node's network); allowed only with `pod_security: privileged` on the environment's \
         `deploy`"
    );
}
