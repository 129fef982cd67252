//! The environment's namespace: reading it, making sure it is this environment's before
//! writing into it or deleting it, applying it with gitferry's labels and the record of
//! applied kinds, and waiting for a deleted one to be gone.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use tokio::time::Instant;

use super::cluster;
use super::labels::{self, Foreign, KindRef, Owner};
use crate::deploy::DeployError;
use crate::repo_config::PodSecurity;
use crate::runs::RunLog;

/// The field manager every apply uses.
pub const FIELD_MANAGER: &str = "gitferry";

/// How long to wait, and how often to look.
#[derive(Debug, Clone, Copy)]
pub struct Polling {
    pub interval: Duration,
    pub timeout: Duration,
}

/// What a namespace looks like to gitferry.
#[derive(Debug, Clone)]
pub struct Found {
    pub labels: BTreeMap<String, String>,
    pub applied_kinds: BTreeSet<KindRef>,
    pub terminating: bool,
}

/// The namespace, or `None` when it does not exist.
pub async fn get(client: &kube::Client, name: &str) -> Result<Option<Found>, DeployError> {
    let api: Api<Namespace> = Api::all(client.clone());
    let namespace = match api.get(name).await {
        Ok(namespace) => namespace,
        Err(e) if cluster::is_not_found(&e) => return Ok(None),
        Err(e) => return Err(cluster::error(&format!("reading namespace {name}"), e)),
    };
    let terminating = namespace.metadata.deletion_timestamp.is_some()
        || namespace.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Terminating");
    let applied = namespace
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(labels::APPLIED_KINDS))
        .map(String::as_str);
    Ok(Some(Found {
        applied_kinds: labels::decode_kinds(applied),
        labels: namespace.metadata.labels.unwrap_or_default(),
        terminating,
    }))
}

/// Refuses a namespace gitferry did not create for this very environment instance: one
/// made by hand or by another tool (gitferry would take it over, and a later destroy would
/// delete it with everything in it), or one gitferry made for another repository,
/// environment or pull request (two templates rendering to the same name must not overwrite
/// or delete each other). Adopting a namespace by labelling it is deliberately not offered:
/// its existing objects, quotas and Pod Security labels were never checked by gitferry.
pub fn check_owner(name: &str, found: &Found, owner: &Owner) -> Result<(), DeployError> {
    let reason = match owner.claim(&found.labels) {
        None => return Ok(()),
        Some(Foreign::Unmanaged) => "it exists but was not created by gitferry, and gitferry \
            neither deploys into nor deletes a namespace it did not create. Change the \
            environment's `namespace` template to a name that does not exist yet, or have a \
            cluster administrator delete this namespace if nothing in it is needed"
            .to_owned(),
        Some(Foreign::Owned(whose)) => format!(
            "it already exists and belongs to {whose}; give each environment a `namespace` \
             template of its own"
        ),
    };
    Err(DeployError::ForeignNamespace {
        namespace: name.to_owned(),
        reason,
    })
}

/// Creates or updates the namespace with the owner's labels, the Pod Security labels of
/// `level` and the applied kinds.
pub async fn apply(
    client: &kube::Client,
    name: &str,
    owner: &Owner,
    level: PodSecurity,
    applied_kinds: &BTreeSet<KindRef>,
) -> Result<(), DeployError> {
    let api: Api<Namespace> = Api::all(client.clone());
    let mut all_labels = owner.labels();
    all_labels.extend(labels::pod_security(level));
    let body = json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": all_labels,
            "annotations": { labels::APPLIED_KINDS: labels::encode_kinds(applied_kinds) },
        },
    });
    let params = PatchParams::apply(FIELD_MANAGER).force();
    api.patch(name, &params, &Patch::Apply(&body))
        .await
        .map_err(|e| cluster::error(&format!("applying v1 Namespace {name}"), e))?;
    Ok(())
}

/// Returns once the namespace is gone, logging while it terminates.
pub async fn wait_until_gone(
    client: &kube::Client,
    name: &str,
    log: &RunLog,
    cancel: &tokio_util::sync::CancellationToken,
    polling: Polling,
) -> Result<(), DeployError> {
    let started = Instant::now();
    let mut reported = Duration::ZERO;
    loop {
        cluster::check_cancelled(cancel)?;
        if get(client, name).await?.is_none() {
            log.line(format!("namespace {name} is gone"));
            return Ok(());
        }
        let waited = started.elapsed();
        if waited >= polling.timeout {
            return Err(DeployError::Cluster(format!(
                "namespace {name} was still terminating after {}; objects in it with \
                 finalizers may be holding it",
                humantime::format_duration(polling.timeout)
            )));
        }
        if waited >= reported + Duration::from_secs(10) {
            reported = waited;
            log.line(format!(
                "namespace {name} is still terminating after {}s",
                waited.as_secs()
            ));
        }
        cluster::pause(cancel, polling.interval).await?;
    }
}
