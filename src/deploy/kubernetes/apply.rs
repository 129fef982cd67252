//! A deploy: validate everything, then the namespace, then each object by server-side apply
//! (field manager `gitferry`, forced, so a hand edit in the cluster is taken back to what Git
//! says), then prune what was applied before and is gone from the manifests.

use std::collections::{BTreeSet, HashSet};

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::{Map, Value};

use super::kinds::{self, Kinds, Planned};
use super::labels::{KindRef, Owner};
use super::namespaces::{self, FIELD_MANAGER};
use super::{KubernetesProvider, cluster, policy, prune};
use crate::deploy::{Applied, DeployError, Request};

/// Fields the server owns; a manifest copied from `kubectl get -o yaml` carries them, and
/// applying them would fail (`resourceVersion` is a precondition) or mean nothing.
const SERVER_METADATA: &[&str] = &[
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
    "managedFields",
    "selfLink",
];

pub async fn run(
    provider: &KubernetesProvider,
    request: Request<'_>,
) -> Result<Applied, DeployError> {
    let namespace = super::namespace_of(request.target)?;
    let client = &provider.client;
    let log = request.log;
    let manifests = provider.manifests(request).await?;
    cluster::check_cancelled(request.cancel)?;

    let mut kinds = Kinds::new(client.clone());
    policy::check(&manifests, &provider.policy())?;
    let planned = kinds::plan(&mut kinds, manifests, namespace).await?;
    let owner = Owner::of(request.target);
    let previous = prepare_namespace(provider, request, namespace, &owner).await?;
    let current: BTreeSet<KindRef> = planned.iter().map(Planned::kind).collect();
    let recorded: BTreeSet<KindRef> = previous.union(&current).cloned().collect();

    let mut summary = Vec::with_capacity(planned.len() + 1);
    let mut report = |line: String| {
        log.line(&line);
        summary.push(line);
    };
    cluster::check_cancelled(request.cancel)?;
    let level = provider.config.pod_security;
    namespaces::apply(client, namespace, &owner, level, &recorded).await?;
    report(format!("configured v1 Namespace {namespace}"));
    for object in &planned {
        cluster::check_cancelled(request.cancel)?;
        apply_object(client, namespace, &owner, object).await?;
        report(format!("configured {}", object.describe()));
    }

    if provider.config.prune {
        let keep: HashSet<_> = planned.iter().map(Planned::identity).collect();
        let pruned = prune::run(
            client, &mut kinds, namespace, &owner, &recorded, &keep, request,
        )
        .await?;
        for line in pruned {
            report(line);
        }
        // Everything of the other kinds is gone now; only the current kinds need finding.
        if recorded != current {
            namespaces::apply(client, namespace, &owner, level, &current).await?;
        }
    }
    Ok(Applied {
        url: request.target.url.clone(),
        summary,
    })
}

/// Gets the namespace ready: waits out a deletion still in progress (a preview destroyed and
/// redeployed in quick succession), refuses one gitferry did not create for this environment
/// (never adopting one made by hand), and returns the
/// kinds applied into it before.
async fn prepare_namespace(
    provider: &KubernetesProvider,
    request: Request<'_>,
    namespace: &str,
    owner: &Owner,
) -> Result<BTreeSet<KindRef>, DeployError> {
    let client = &provider.client;
    let Some(found) = namespaces::get(client, namespace).await? else {
        return Ok(BTreeSet::new());
    };
    if found.terminating {
        request.log.line(format!(
            "namespace {namespace} is still being deleted; waiting until it is gone"
        ));
        namespaces::wait_until_gone(
            client,
            namespace,
            request.log,
            request.cancel,
            provider.polling,
        )
        .await?;
        return Ok(BTreeSet::new());
    }
    namespaces::check_owner(namespace, &found, owner)?;
    Ok(found.applied_kinds)
}

async fn apply_object(
    client: &kube::Client,
    namespace: &str,
    owner: &Owner,
    object: &Planned,
) -> Result<(), DeployError> {
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &object.resource);
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let body = body(&object.manifest.object, namespace, owner);
    api.patch(object.manifest.name(), &params, &Patch::Apply(&body))
        .await
        .map_err(|e| cluster::error(&format!("applying {}", object.describe()), e))?;
    Ok(())
}

/// The object as applied: in the namespace, with gitferry's labels over its own, without
/// server-owned fields or `status`. Also what drift compares the cluster with.
pub(super) fn body(object: &Value, namespace: &str, owner: &Owner) -> Value {
    let mut body = object.clone();
    let Some(fields) = body.as_object_mut() else {
        return body;
    };
    fields.remove("status");
    let metadata = fields
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(metadata) = metadata.as_object_mut() {
        for key in SERVER_METADATA {
            metadata.remove(*key);
        }
        metadata.insert("namespace".to_owned(), Value::from(namespace));
        let labels = metadata
            .entry("labels")
            .or_insert_with(|| Value::Object(Map::new()));
        if !labels.is_object() {
            *labels = Value::Object(Map::new());
        }
        if let Some(labels) = labels.as_object_mut() {
            for (key, value) in owner.labels() {
                labels.insert(key, Value::from(value));
            }
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::Target;
    use crate::deploy::kubernetes::manifests::Manifest;
    use serde_json::json;

    #[test]
    fn the_applied_body_is_namespaced_labelled_and_free_of_server_fields() {
        let manifest = Manifest {
            origin: "deploy/web.yaml, document 1".to_owned(),
            object: json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": "web",
                    "resourceVersion": "42",
                    "uid": "abc",
                    "labels": { "app": "web", "gitferry.dev/pr": "999" },
                },
                "data": { "a": "b" },
                "status": { "phase": "whatever" },
            }),
            span: None,
        };
        let target = Target {
            repository: "acme/shop".to_owned(),
            environment: "preview".to_owned(),
            pr: Some(7),
            sha: "abc".to_owned(),
            branch: "feature".to_owned(),
            base: None,
            namespace: Some("shop-pr-7".to_owned()),
            url: None,
        };
        let body = body(&manifest.object, "shop-pr-7", &Owner::of(&target));
        assert_eq!(
            body,
            json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": "web",
                    "namespace": "shop-pr-7",
                    "labels": {
                        "app": "web",
                        "app.kubernetes.io/managed-by": "gitferry",
                        "gitferry.dev/environment": "preview",
                        "gitferry.dev/pr": "7",
                        "gitferry.dev/repository": "acme.shop",
                    },
                },
                "data": { "a": "b" },
            })
        );
    }
}
