//! Drift and change reports on pull requests into an environment's branch: what the pull
//! request changes (Git against Git) and whether the environment has drifted (the fake
//! cluster against Git), as the `gitferry/drift` check run and the sticky comment say.

use serde_json::json;

use crate::support::fake_github::PrSpec;
use crate::support::fake_kube::FakeKube;
use crate::support::gitferry::eventually;
use crate::support::tester::{AUTHOR, Tester};

const KUBERNETES: &str = "\
environments:
  staging:
    branch: latest
    deploy: { provider: kubernetes, manifests: deploy/app, namespace: shop-staging }
";

const NS: &str = "shop-staging";
/// base64 of the two passwords the scenarios use; neither may ever be shown.
const OLD_SECRET: &str = "aHVudGVyMg=="; // hunter2
const NEW_SECRET: &str = "c3dvcmRmaXNo"; // swordfish

fn manifests(image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{ name: web }}\nspec:\n  replicas: 2\n  \
         selector: {{ matchLabels: {{ app: web }} }}\n  template:\n    metadata: {{ labels: {{ app: web }} }}\n    \
         spec:\n      containers:\n        - name: web\n          image: {image}\n\
         ---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{ name: settings }}\ndata: {{ mode: fast }}\n\
         ---\napiVersion: v1\nkind: Secret\nmetadata: {{ name: creds }}\ndata: {{ password: {OLD_SECRET} }}\n"
    )
}

/// Staging on the fake cluster, with `manifests` released and verified. Swept as often as
/// `drift.every` allows, every `sweeps` (the default, 30 s, keeps sweeps out of a scenario).
pub(crate) async fn released_swept(
    kube: &FakeKube,
    config: &str,
    manifests: &str,
    sweeps: &str,
) -> Tester {
    let (dir, kubeconfig) = kube.kubeconfig();
    // The kubeconfig is read again by each check: its folder lives as long as the test.
    std::mem::forget(dir);
    let t = Tester::new()
        .config(config)
        .permission("bob", "write")
        .flag("--kubeconfig", &kubeconfig)
        .flag("--poll-interval", "100ms")
        .flag("--reconcile-interval", sweeps)
        .start()
        .await;
    let release = t
        .push_to("latest", "mona", &[("deploy/app/app.yaml", manifests)])
        .await;
    t.wait_check(&release, "gitferry/release/staging", "success")
        .await;
    t
}

/// [`released_swept`] without sweeps during the scenario.
async fn released(kube: &FakeKube, config: &str, manifests: &str) -> Tester {
    released_swept(kube, config, manifests, "30s").await
}

/// The `gitferry/drift` check run on `sha` once it has concluded.
async fn drift_check(t: &Tester, sha: &str) -> (String, String, String) {
    eventually("the drift check", || async {
        t.repo.check_run(sha, "gitferry/drift").and_then(|c| {
            let conclusion = c.conclusion.clone()?;
            Some((
                conclusion,
                c.output.title.clone().unwrap_or_default(),
                c.output.summary.clone().unwrap_or_default(),
            ))
        })
    })
    .await
}

#[tokio::test]
async fn a_pull_request_into_staging_sees_what_it_changes_and_what_was_edited_by_hand() {
    let kube = FakeKube::start().await;
    let t = released(&kube, KUBERNETES, &manifests("shop:v1")).await;

    // The API server and a controller fill in defaults: not drift.
    kube.edit(
        "deployments",
        Some(NS),
        "web",
        "kube-controller-manager",
        |o| {
            o["spec"]["revisionHistoryLimit"] = json!(10);
            o["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] =
                json!("IfNotPresent");
            o["status"] = json!({ "readyReplicas": 2 });
        },
    );
    // Someone scales by hand and rotates the password in the cluster.
    kube.edit("deployments", Some(NS), "web", "kubectl-edit", |o| {
        o["spec"]["replicas"] = json!(5);
    });
    kube.edit("secrets", Some(NS), "creds", "kubectl-edit", |o| {
        o["data"]["password"] = json!(NEW_SECRET);
    });

    let pr = t
        .open_pr_with(
            PrSpec::new("bump", "latest").author(AUTHOR),
            &[("deploy/app/app.yaml", &manifests("shop:v2"))],
        )
        .await;
    let head = t.head(pr);
    let (conclusion, title, summary) = drift_check(&t, &head).await;
    assert_eq!(conclusion, "neutral", "{summary}");
    assert_eq!(title, "staging has drifted from Git");
    let (changes, drift) = summary.split_once("has drifted from").expect("two parts");
    assert!(
        changes.contains("shop:v2"),
        "part 1 shows the new image: {changes}"
    );
    assert!(changes.contains("+++ head"), "{changes}");
    assert!(
        !changes.contains("replicas"),
        "part 1 is Git against Git: {changes}"
    );
    assert!(drift.contains("replicas"), "{drift}");
    assert!(drift.contains("creds"), "{drift}");
    assert!(drift.contains("values hidden"), "{drift}");
    assert!(
        !drift.contains("revisionHistoryLimit"),
        "defaults are not drift: {drift}"
    );
    assert!(!drift.contains("imagePullPolicy"), "{drift}");
    let sticky = eventually("the drift section of the comment", || async {
        Some(t.sticky(pr)).filter(|s| s.contains("has drifted from"))
    })
    .await;
    for secret in [OLD_SECRET, NEW_SECRET, "hunter2", "swordfish"] {
        assert!(
            !summary.contains(secret),
            "a secret value leaked: {summary}"
        );
        assert!(!sticky.contains(secret), "a secret value leaked: {sticky}");
    }

    // The whole report is behind the link, as plain text, without the secret either.
    let link = summary
        .split("[The full report](")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .expect("a link to the full report");
    let path = link
        .find("/runs/")
        .map(|at| &link[at..])
        .expect("a /runs/ link");
    let (status, full) = t.gitferry.get(path).await;
    assert_eq!(status, 200, "{full}");
    assert!(full.contains("spec.replicas"), "{full}");
    assert!(full.contains("drift check of #"), "{full}");
    for secret in [OLD_SECRET, NEW_SECRET, "hunter2", "swordfish"] {
        assert!(!full.contains(secret), "a secret value leaked: {full}");
    }

    // Put back by hand; `/drift` looks again.
    kube.edit("deployments", Some(NS), "web", "kubectl-edit", |o| {
        o["spec"]["replicas"] = json!(2);
    });
    kube.edit("secrets", Some(NS), "creds", "kubectl-edit", |o| {
        o["data"]["password"] = json!(OLD_SECRET);
    });
    t.comment(pr, "bob", "/drift").await;
    eventually("the check to say in sync", || async {
        t.repo
            .check_run(&head, "gitferry/drift")
            .filter(|c| c.conclusion.as_deref() == Some("success"))
    })
    .await;
}

#[tokio::test]
async fn ignore_rules_hold_and_on_pr_fail_makes_drift_fail_the_check() {
    let kube = FakeKube::start().await;
    let config = format!(
        "{KUBERNETES}drift:\n  on_pr: fail\n  ignore:\n    - {{ kind: Deployment, path: /spec/replicas }}\n"
    );
    let t = released(&kube, &config, &manifests("shop:v1")).await;
    kube.edit("deployments", Some(NS), "web", "hpa", |o| {
        o["spec"]["replicas"] = json!(7);
    });
    let pr = t
        .open_pr_with(
            PrSpec::new("docs", "latest").author(AUTHOR),
            &[("README.md", "more words")],
        )
        .await;
    let (conclusion, _, summary) = drift_check(&t, &t.head(pr)).await;
    assert_eq!(conclusion, "success", "replicas are ignored: {summary}");

    kube.edit("configmaps", Some(NS), "settings", "kubectl-edit", |o| {
        o["data"]["mode"] = json!("slow");
    });
    t.comment(pr, "bob", "/drift").await;
    let failed = eventually("the check to fail", || async {
        t.repo
            .check_run(&t.head(pr), "gitferry/drift")
            .filter(|c| c.conclusion.as_deref() == Some("failure"))
    })
    .await;
    let summary = failed.output.summary.unwrap_or_default();
    assert!(summary.contains("settings"), "{summary}");
}

#[tokio::test]
async fn a_command_provider_environment_reports_drift_from_its_status_exit_code() {
    let config = "\
environments:
  staging:
    branch: latest
    deploy:
      provider: command
      deploy: [sh, scripts/deploy.sh]
      destroy: [sh, scripts/deploy.sh]
      status: [sh, scripts/status.sh]
";
    let state = crate::support::sandbox::writable_dir().join("drift-status");
    let status = format!(
        "case \"$(cat {} 2>/dev/null)\" in\n  drifted) echo '~ replicas: 2 -> 5'; exit 2 ;;\n  \
         broken) echo 'cannot reach the API' >&2; exit 1 ;;\n  *) echo 'No changes.' ;;\nesac\n",
        state.display()
    );
    let t = Tester::new()
        .config(config)
        .file("scripts/deploy.sh", "echo deployed\n")
        .file("scripts/status.sh", &status)
        .permission("bob", "write")
        .flag("--poll-interval", "100ms")
        .start()
        .await;
    t.repo.create_branch("latest", "main");
    let pr = t
        .open_pr_with(
            PrSpec::new("change", "latest").author(AUTHOR),
            &[("app.txt", "v2")],
        )
        .await;
    let head = t.head(pr);
    let (conclusion, _, summary) = drift_check(&t, &head).await;
    assert_eq!(conclusion, "success", "{summary}");
    assert!(summary.contains("no objects to compare"), "{summary}");

    for (written, expected, shown) in [
        ("drifted", "neutral", "replicas: 2 -> 5"),
        ("broken", "neutral", "Could not be checked"),
    ] {
        std::fs::write(&state, written).expect("state");
        t.comment(pr, "bob", "/drift").await;
        let check = eventually("the check to follow the status command", || async {
            t.repo.check_run(&head, "gitferry/drift").filter(|c| {
                c.conclusion.as_deref() == Some(expected)
                    && c.output
                        .summary
                        .as_deref()
                        .unwrap_or_default()
                        .contains(shown)
            })
        })
        .await;
        assert!(check.output.summary.is_some());
    }
}

#[tokio::test]
async fn a_part_that_cannot_be_made_is_an_error_and_the_other_part_is_still_shown() {
    let kube = FakeKube::start().await;
    let t = released(&kube, KUBERNETES, &manifests("shop:v1")).await;

    // The pull request's manifests do not parse: part 1 says so, part 2 is still made.
    let pr = t
        .open_pr_with(
            PrSpec::new("broken", "latest").author(AUTHOR),
            &[("deploy/app/app.yaml", "kind: [unclosed\n")],
        )
        .await;
    let (_, _, summary) = drift_check(&t, &t.head(pr)).await;
    let (changes, drift) = summary.split_once("has drifted from").expect("two parts");
    assert!(changes.contains("Could not be checked"), "{changes}");
    assert!(
        changes.contains("deploy/app/app.yaml"),
        "names the file: {changes}"
    );
    assert!(drift.contains("In sync"), "{drift}");

    // The API server fails the list: part 2 is an error, never "in sync".
    kube.fail_next(
        "GET",
        "/apis/apps/v1/namespaces/shop-staging/deployments",
        500,
    );
    let other = t
        .open_pr_with(
            PrSpec::new("docs", "latest").author(AUTHOR),
            &[
                ("deploy/app/app.yaml", manifests("shop:v1").as_str()),
                ("README.md", "words"),
            ],
        )
        .await;
    let (conclusion, title, summary) = drift_check(&t, &t.head(other)).await;
    assert_eq!(title, "staging: drift could not be checked", "{summary}");
    assert_eq!(conclusion, "neutral");
    let (changes, drift) = summary.split_once("has drifted from").expect("two parts");
    assert!(changes.contains("Nothing"), "{changes}");
    assert!(drift.contains("Could not be checked"), "{drift}");
}

#[tokio::test]
async fn observe_forbidden_by_rbac_is_said_as_such() {
    let kube = FakeKube::start().await;
    let t = released(&kube, KUBERNETES, &manifests("shop:v1")).await;
    kube.fail_next("GET", "/api/v1/namespaces/shop-staging/configmaps", 403);
    let pr = t
        .open_pr_with(
            PrSpec::new("docs", "latest").author(AUTHOR),
            &[("deploy/app/app.yaml", manifests("shop:v1").as_str())],
        )
        .await;
    let (_, title, summary) = drift_check(&t, &t.head(pr)).await;
    assert_eq!(title, "staging: drift could not be checked", "{summary}");
    assert!(
        summary.contains("configmaps") || summary.contains("ConfigMap"),
        "{summary}"
    );
    assert!(
        summary.contains("403") || summary.to_lowercase().contains("forbidden"),
        "{summary}"
    );
}

#[tokio::test]
async fn an_object_of_a_kind_the_cluster_does_not_serve_is_named_as_such() {
    let kube = FakeKube::start().await;
    let t = released(&kube, KUBERNETES, &manifests("shop:v1")).await;
    // A custom resource whose definition the cluster lacks: its release cannot deploy.
    let widget = "---\napiVersion: example.com/v1\nkind: Widget\nmetadata: { name: gadget }\nspec: { size: 3 }\n";
    let with_widget = format!("{}{widget}", manifests("shop:v1"));
    let failed = t
        .push_to("latest", "mona", &[("deploy/app/app.yaml", &with_widget)])
        .await;
    t.wait_check(&failed, "gitferry/release/staging", "failure")
        .await;
    let pr = t
        .open_pr_with(
            PrSpec::new("docs", "latest").author(AUTHOR),
            &[("deploy/app/app.yaml", with_widget.as_str())],
        )
        .await;
    let (_, _, summary) = drift_check(&t, &t.head(pr)).await;
    let (_, drift) = summary.split_once("has drifted from").expect("two parts");
    // (Markdown-escaped: `example\.com` renders as example.com.)
    assert!(
        drift.contains("Widget shop-staging/gadget: cannot be compared"),
        "{drift}"
    );
    assert!(drift.contains("the cluster does not serve"), "{drift}");
    assert!(
        drift.contains("CustomResourceDefinition installed?"),
        "{drift}"
    );
    assert!(!drift.contains("missing from the cluster"), "{drift}");
}
