//! A Deployment against its live copy: server defaults, `kubectl edit`, ignore rules, and
//! fields that other managers own.

use serde_json::json;

use super::fixtures::{deployment, live_copy};
use super::{changed_lines, kubectl_edit, modified, take_over};
use crate::drift::{IgnoreRule, Options, Outcome, compare};

const WEB: &str = r#"k:{"name":"web"}"#;

#[test]
fn a_deployment_with_server_defaults_status_and_metadata_noise_is_in_sync() {
    let desired = deployment("web", "shop/web:1.0", 3);
    let live = live_copy(&desired);
    for noise in [
        "/spec/strategy/type",
        "/spec/revisionHistoryLimit",
        "/spec/template/spec/containers/0/terminationMessagePath",
        "/spec/template/spec/containers/0/imagePullPolicy",
        "/spec/template/spec/containers/0/ports/0/protocol",
        "/status/readyReplicas",
        "/metadata/resourceVersion",
        "/metadata/annotations/deployment.kubernetes.io~1revision",
    ] {
        assert!(live.pointer(noise).is_some(), "the live copy has {noise}");
    }

    let report = compare(&[desired], &[live], &Options::default());

    assert_eq!(report.objects[0].outcome, Outcome::InSync);
    assert_eq!(report.counts.in_sync, 1);
    assert!(report.is_in_sync());
}

#[test]
fn kubectl_edit_of_replicas_and_image_is_drift_in_exactly_those_two_fields() {
    let desired = deployment("web", "shop/web:1.0", 3);
    let mut live = live_copy(&desired);
    kubectl_edit(
        &mut live,
        "/spec/replicas",
        json!(5),
        &["f:spec", "f:replicas"],
    );
    let image = [
        "f:spec",
        "f:template",
        "f:spec",
        "f:containers",
        WEB,
        "f:image",
    ];
    let pointer = "/spec/template/spec/containers/0/image";
    kubectl_edit(&mut live, pointer, json!("shop/web:hotfix"), &image);

    let report = compare(&[desired], &[live], &Options::default());

    let (fields, labels, diff) = modified(&report.objects[0].outcome);
    assert_eq!(fields, ["/spec/replicas", pointer]);
    assert_eq!(
        labels,
        [
            "spec.replicas",
            "spec.template.spec.containers[name=web].image"
        ]
    );
    let (removed, added) = changed_lines(diff);
    assert_eq!(removed, ["replicas: 3", "image: shop/web:1.0"], "{diff}");
    assert_eq!(added, ["replicas: 5", "image: shop/web:hotfix"], "{diff}");
    assert_eq!(report.counts.modified, 1);
}

#[test]
fn an_ignore_rule_on_replicas_leaves_only_the_image() {
    let desired = deployment("web", "shop/web:1.0", 3);
    let mut live = live_copy(&desired);
    kubectl_edit(
        &mut live,
        "/spec/replicas",
        json!(5),
        &["f:spec", "f:replicas"],
    );
    let image = [
        "f:spec",
        "f:template",
        "f:spec",
        "f:containers",
        WEB,
        "f:image",
    ];
    kubectl_edit(
        &mut live,
        "/spec/template/spec/containers/0/image",
        json!("x:2"),
        &image,
    );
    let rule = |name: Option<&str>| IgnoreRule {
        kind: "Deployment".into(),
        name: name.map(Into::into),
        pointer: "/spec/replicas".into(),
    };
    let options = |rules| Options {
        ignore: rules,
        ..Options::default()
    };

    let ignored = compare(
        std::slice::from_ref(&desired),
        std::slice::from_ref(&live),
        &options(vec![rule(None)]),
    );
    let other_name = compare(&[desired], &[live], &options(vec![rule(Some("api"))]));

    let (fields, _, diff) = modified(&ignored.objects[0].outcome);
    assert_eq!(fields, ["/spec/template/spec/containers/0/image"]);
    assert!(
        !diff.contains("replicas"),
        "an ignored field is not in the diff:\n{diff}"
    );
    let (fields, _, _) = modified(&other_name.objects[0].outcome);
    assert_eq!(
        fields.len(),
        2,
        "a rule for another Deployment does not apply"
    );
}

#[test]
fn annotations_another_manager_sets_are_not_drift() {
    let desired = deployment("web", "shop/web:1.0", 3);
    let mut live = live_copy(&desired);
    // `kubectl rollout restart` stamps the pod template; the controller its revision.
    live["spec"]["template"]["metadata"]["annotations"] =
        json!({"kubectl.kubernetes.io/restartedAt": "2026-12-07T08:00:00Z"});
    live["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = json!("5");

    let report = compare(&[desired], &[live], &Options::default());

    assert_eq!(report.objects[0].outcome, Outcome::InSync);
}

#[test]
fn replicas_an_hpa_owns_are_not_drift_once_git_stops_declaring_them() {
    let mut desired = deployment("web", "shop/web:1.0", 3);
    desired["spec"]
        .as_object_mut()
        .expect("spec")
        .remove("replicas");
    let mut live = live_copy(&desired);
    live["spec"]["replicas"] = json!(7);
    live["metadata"]["managedFields"]
        .as_array_mut()
        .expect("managedFields")
        .push(
            json!({"manager": "kube-controller-manager", "operation": "Update",
                     "subresource": "scale", "fieldsV1": {"f:spec": {"f:replicas": {}}}}),
        );

    let report = compare(&[desired], &[live], &Options::default());

    assert_eq!(report.objects[0].outcome, Outcome::InSync);
}

#[test]
fn replicas_git_declares_are_drift_even_when_another_manager_took_them_over() {
    let desired = deployment("web", "shop/web:1.0", 3);
    let mut live = live_copy(&desired);
    live["spec"]["replicas"] = json!(7);
    take_over(
        &mut live,
        "kube-controller-manager",
        &["f:spec", "f:replicas"],
    );

    let report = compare(&[desired], &[live], &Options::default());

    assert_eq!(modified(&report.objects[0].outcome).0, ["/spec/replicas"]);
}

#[test]
fn a_field_gitferry_still_owns_but_git_no_longer_declares_is_drift() {
    let before = deployment("web", "shop/web:1.0", 3);
    let live = live_copy(&before);
    let mut desired = before.clone();
    let env = desired
        .pointer_mut("/spec/template/spec/containers/0/env")
        .and_then(|e| e.as_array_mut())
        .expect("env");
    env.pop(); // LOG leaves Git

    let report = compare(&[desired], &[live], &Options::default());

    let (fields, labels, diff) = modified(&report.objects[0].outcome);
    assert_eq!(fields, ["/spec/template/spec/containers/0/env/1"]);
    assert_eq!(
        labels,
        ["spec.template.spec.containers[name=web].env[name=LOG]"]
    );
    let (removed, added) = changed_lines(diff);
    assert!(removed.is_empty(), "{diff}");
    assert_eq!(added, ["- name: LOG", "value: info"], "{diff}");
}

#[test]
fn a_sidecar_injected_before_the_app_container_is_not_drift() {
    let desired = deployment("web", "shop/web:1.0", 3);
    let mut live = live_copy(&desired);
    let sidecar = json!({"name": "istio-proxy", "image": "istio/proxyv2:1.24",
                         "args": ["proxy", "sidecar"], "imagePullPolicy": "IfNotPresent"});
    live["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .expect("containers")
        .insert(0, sidecar);

    let report = compare(&[desired], &[live], &Options::default());

    assert_eq!(report.objects[0].outcome, Outcome::InSync);
}

#[test]
fn without_gitferrys_managed_fields_only_what_git_declares_is_compared() {
    let desired = deployment("web", "shop/web:1.0", 3);
    let mut live = live_copy(&desired);
    live["metadata"]
        .as_object_mut()
        .expect("metadata")
        .remove("managedFields");
    let in_sync = compare(
        std::slice::from_ref(&desired),
        std::slice::from_ref(&live),
        &Options::default(),
    );
    live["spec"]["template"]["spec"]["containers"][0]["image"] = json!("shop/web:hotfix");

    let drifted = compare(&[desired], &[live], &Options::default());

    assert_eq!(in_sync.objects[0].outcome, Outcome::InSync);
    let (fields, _, _) = modified(&drifted.objects[0].outcome);
    assert_eq!(fields, ["/spec/template/spec/containers/0/image"]);
}

#[test]
fn an_ignore_rule_with_the_empty_pointer_ignores_the_whole_object() {
    let desired = deployment("web", "shop/web:1.0", 3);
    let mut live = live_copy(&desired);
    live["spec"]["replicas"] = json!(9);
    let rule = IgnoreRule {
        kind: "Deployment".into(),
        name: Some("web".into()),
        pointer: String::new(),
    };
    let options = Options {
        ignore: vec![rule],
        ..Options::default()
    };

    let report = compare(&[desired], &[live], &options);

    assert_eq!(report.objects[0].outcome, Outcome::InSync);
}
