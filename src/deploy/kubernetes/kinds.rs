//! Which kinds the cluster serves and how: API discovery for the group versions the manifests
//! use (one request per group version, through `kube::discovery::pinned_group`, which works
//! on every API server; aggregated discovery answers empty on servers without it), and the
//! checks that keep a deploy inside its namespace.

use std::collections::{BTreeMap, HashMap};

use kube::api::ApiResource;
use kube::core::GroupVersion;
use kube::discovery::{self, ApiCapabilities, Scope};

use super::cluster;
use super::labels::KindRef;
use super::manifests::Manifest;
use crate::deploy::DeployError;

/// A served kind: how to reach it, and whether it lives in a namespace.
#[derive(Debug, Clone)]
pub struct Served {
    pub resource: ApiResource,
    pub namespaced: bool,
}

/// Discovery answers for this operation, cached per group version.
pub struct Kinds {
    client: kube::Client,
    group_versions: HashMap<String, Option<Vec<(ApiResource, ApiCapabilities)>>>,
}

impl Kinds {
    pub fn new(client: kube::Client) -> Self {
        Kinds {
            client,
            group_versions: HashMap::new(),
        }
    }

    /// The kind, or `None` when the cluster does not serve it (an unknown group version is a
    /// 404 from discovery).
    pub async fn resolve(&mut self, kind: &KindRef) -> Result<Option<Served>, DeployError> {
        if !self.group_versions.contains_key(&kind.api_version) {
            let resources = self.discover(&kind.api_version).await?;
            self.group_versions
                .insert(kind.api_version.clone(), resources);
        }
        let resources = self
            .group_versions
            .get(&kind.api_version)
            .and_then(Option::as_ref);
        Ok(resources
            .into_iter()
            .flatten()
            .find(|(resource, _)| resource.kind == kind.kind)
            .map(|(resource, caps)| Served {
                resource: resource.clone(),
                namespaced: caps.scope == Scope::Namespaced,
            }))
    }

    async fn discover(
        &self,
        api_version: &str,
    ) -> Result<Option<Vec<(ApiResource, ApiCapabilities)>>, DeployError> {
        let Ok(group_version) = api_version.parse::<GroupVersion>() else {
            return Ok(None);
        };
        match discovery::pinned_group(&self.client, &group_version).await {
            Ok(group) => Ok(Some(group.versioned_resources(&group_version.version))),
            Err(e) if cluster::is_not_found(&e) => Ok(None),
            Err(e) => Err(cluster::error(
                &format!("looking up the kinds of {api_version}"),
                e,
            )),
        }
    }
}

/// A manifest ready to apply.
#[derive(Debug, Clone)]
pub struct Planned {
    pub manifest: Manifest,
    pub resource: ApiResource,
}

impl Planned {
    pub fn kind(&self) -> KindRef {
        KindRef::new(&self.resource.api_version, &self.resource.kind)
    }

    /// `apps/v1 Deployment web`, for logs and errors.
    pub fn describe(&self) -> String {
        format!("{} {}", self.kind(), self.manifest.name())
    }

    /// What makes two objects the same object on the server (the version does not).
    pub fn identity(&self) -> Identity {
        Identity::new(
            &self.resource.group,
            &self.resource.kind,
            self.manifest.name(),
        )
    }
}

/// Group, kind and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Identity(String, String, String);

impl Identity {
    pub fn new(group: &str, kind: &str, name: &str) -> Self {
        Identity(group.to_owned(), kind.to_owned(), name.to_owned())
    }
}

/// Resolves every manifest and checks, before anything is written, that each one is a kind
/// the cluster serves, lives in a namespace, names no namespace but `namespace`, and appears
/// once. A pull request must not be able to create cluster-wide objects (a
/// ClusterRoleBinding would hand it the cluster) or write into other namespaces.
pub async fn plan(
    kinds: &mut Kinds,
    manifests: Vec<Manifest>,
    namespace: &str,
) -> Result<Vec<Planned>, DeployError> {
    let mut seen: BTreeMap<Identity, String> = BTreeMap::new();
    let mut planned = Vec::with_capacity(manifests.len());
    for manifest in manifests {
        let kind = KindRef::new(manifest.api_version(), manifest.kind());
        let origin = &manifest.origin;
        let name = manifest.name();
        let Some(served) = kinds.resolve(&kind).await? else {
            return Err(DeployError::Manifests(format!(
                "{origin}: the cluster does not serve {kind} (is the apiVersion right, is \
                 the CRD installed?)"
            )));
        };
        if !served.namespaced {
            return Err(DeployError::Manifests(format!(
                "{origin}: {kind} {name} is cluster-scoped; a preview may only create \
                 namespaced objects in its own namespace ({namespace}), so that a pull request \
                 cannot change the cluster outside it"
            )));
        }
        if let Some(other) = manifest.namespace().filter(|ns| *ns != namespace) {
            return Err(DeployError::Manifests(format!(
                "{origin}: {kind} {name} names namespace {other}; a preview may only create \
                 objects in its own namespace ({namespace}); leave metadata.namespace out"
            )));
        }
        let entry = Planned {
            manifest,
            resource: served.resource,
        };
        if let Some(first) = seen.insert(entry.identity(), entry.manifest.origin.clone()) {
            return Err(DeployError::Manifests(format!(
                "{}: {} is defined twice (first in {first})",
                entry.manifest.origin,
                entry.describe()
            )));
        }
        planned.push(entry);
    }
    if planned.is_empty() {
        return Err(DeployError::Manifests(
            "there are no objects to apply; an empty set would prune everything deployed, \
             so gitferry refuses it"
                .to_owned(),
        ));
    }
    Ok(planned)
}
