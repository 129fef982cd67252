//! Observe: the live objects gitferry applied into the namespace, for drift reports and
//! `/preview` status. Items of a list come without `apiVersion`/`kind`; they are put back so
//! each object says what it is.

use std::collections::HashSet;

use kube::api::{Api, DynamicObject, ListParams};
use kube::core::TypeMeta;

use super::kinds::{Identity, Kinds};
use super::labels::Owner;
use super::{KubernetesProvider, cluster, namespaces};
use crate::deploy::{DeployError, Observed, Request};

pub async fn run(
    provider: &KubernetesProvider,
    request: Request<'_>,
) -> Result<Observed, DeployError> {
    let namespace = super::namespace_of(request.target)?;
    let client = &provider.client;
    let Some(found) = namespaces::get(client, namespace).await? else {
        return Ok(Observed::default());
    };
    let selector = Owner::of(request.target).selector();
    let mut kinds = Kinds::new(client.clone());
    let mut seen = HashSet::new();
    let mut objects = Vec::new();
    for kind in &found.applied_kinds {
        cluster::check_cancelled(request.cancel)?;
        let Some(served) = kinds.resolve(kind).await? else {
            continue;
        };
        if !served.namespaced {
            continue;
        }
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), namespace, &served.resource);
        let listed = api
            .list(&ListParams::default().labels(&selector))
            .await
            .map_err(|e| cluster::error(&format!("listing {kind} in {namespace}"), e))?;
        for mut object in listed.items {
            let name = object.metadata.name.clone().unwrap_or_default();
            // Two recorded versions of one kind list the same objects.
            if !seen.insert(Identity::new(
                &served.resource.group,
                &served.resource.kind,
                &name,
            )) {
                continue;
            }
            object.types = Some(TypeMeta {
                api_version: served.resource.api_version.clone(),
                kind: served.resource.kind.clone(),
            });
            let json = serde_json::to_value(&object).map_err(|e| {
                DeployError::Cluster(format!("reading {kind} {name} from {namespace}: {e}"))
            })?;
            objects.push(json);
        }
    }
    Ok(Observed { objects })
}
