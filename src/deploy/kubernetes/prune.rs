//! Prune: objects gitferry applied into this namespace before (found by its labels, among
//! the kinds recorded on the namespace) that the current manifests no longer contain are
//! deleted, so removing a file from `deploy/preview` removes its objects from the preview.

use std::collections::{BTreeSet, HashSet};

use kube::api::{Api, DeleteParams, DynamicObject, ListParams};

use super::cluster;
use super::kinds::{Identity, Kinds};
use super::labels::{KindRef, Owner};
use crate::deploy::{DeployError, Request};

/// Deletes the stale objects; returns one `pruned …` line per object.
pub async fn run(
    client: &kube::Client,
    kinds: &mut Kinds,
    namespace: &str,
    owner: &Owner,
    recorded: &BTreeSet<KindRef>,
    keep: &HashSet<Identity>,
    request: Request<'_>,
) -> Result<Vec<String>, DeployError> {
    let mut pruned = Vec::new();
    for kind in recorded {
        cluster::check_cancelled(request.cancel)?;
        let Some(served) = kinds.resolve(kind).await? else {
            request.log.line(format!(
                "not pruning {kind}: the cluster does not serve it any more"
            ));
            continue;
        };
        if !served.namespaced {
            continue;
        }
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), namespace, &served.resource);
        let listed = api
            .list(&ListParams::default().labels(&owner.selector()))
            .await
            .map_err(|e| cluster::error(&format!("listing {kind} in {namespace}"), e))?;
        for object in listed.items {
            let name = object.metadata.name.unwrap_or_default();
            let identity = Identity::new(&served.resource.group, &served.resource.kind, &name);
            if name.is_empty() || keep.contains(&identity) {
                continue;
            }
            cluster::check_cancelled(request.cancel)?;
            // Background propagation: a pruned Deployment or Job takes its pods with it.
            match api.delete(&name, &DeleteParams::background()).await {
                Ok(_) => {}
                Err(e) if cluster::is_not_found(&e) => {}
                Err(e) => return Err(cluster::error(&format!("pruning {kind} {name}"), e)),
            }
            pruned.push(format!("pruned {kind} {name}"));
        }
    }
    Ok(pruned)
}
