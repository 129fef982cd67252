//! Destroy: delete the namespace and return only once it is gone. A namespace stays
//! `Terminating` while anything in it has finalizers; "destroyed" means the namespace is
//! gone, not that the delete call returned.

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams};

use super::labels::Owner;
use super::{KubernetesProvider, cluster, namespaces};
use crate::deploy::{DeployError, Request};

pub async fn run(provider: &KubernetesProvider, request: Request<'_>) -> Result<(), DeployError> {
    let namespace = super::namespace_of(request.target)?;
    let client = &provider.client;
    let log = request.log;
    let Some(found) = namespaces::get(client, namespace).await? else {
        log.line(format!("namespace {namespace} is already gone"));
        return Ok(());
    };
    if found.terminating {
        log.line(format!("namespace {namespace} is already being deleted"));
    } else {
        namespaces::check_owner(namespace, &found, &Owner::of(request.target))?;
        cluster::check_cancelled(request.cancel)?;
        log.line(format!("deleting namespace {namespace}"));
        let api: Api<Namespace> = Api::all(client.clone());
        match api.delete(namespace, &DeleteParams::background()).await {
            Ok(_) => {}
            Err(e) if cluster::is_not_found(&e) => {
                log.line(format!("namespace {namespace} is gone"));
                return Ok(());
            }
            // 409: someone else's delete got there first; it is terminating all the same.
            Err(e) if cluster::has_code(&e, 409) => {}
            Err(e) => {
                return Err(cluster::error(
                    &format!("deleting namespace {namespace}"),
                    e,
                ));
            }
        }
    }
    log.line(format!("waiting for namespace {namespace} to terminate"));
    namespaces::wait_until_gone(client, namespace, log, request.cancel, provider.polling).await
}
