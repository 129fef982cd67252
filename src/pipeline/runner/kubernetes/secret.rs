//! The per-run Secret that carries a step's variables (its secrets, the source archive's
//! link) into its pod. Values in a Job's `env` are readable by anyone who may read Jobs (and
//! are kept in its pod spec, events and audit logs); a Secret is readable only by who may read
//! Secrets, and the Job names it by `secretKeyRef`.
//!
//! It is applied before the Job (server-side apply: a leftover of an earlier attempt is simply
//! overwritten), then owned by the Job (an `ownerReference`), so the cluster's garbage
//! collector removes it with the Job even if gitferry dies; gitferry also deletes it itself
//! once the step is over.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, DeleteParams, Patch, PatchParams};

/// The Secret of one run, `owner` being its Job's name and uid once the Job exists.
pub fn build(
    name: &str,
    namespace: &str,
    labels: &BTreeMap<String, String>,
    values: &[(String, String)],
    owner: Option<(&str, &str)>,
) -> Secret {
    let data = values
        .iter()
        .map(|(key, value)| (key.clone(), ByteString(value.clone().into_bytes())))
        .collect();
    Secret {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(namespace.to_owned()),
            labels: Some(labels.clone()),
            owner_references: owner.map(|(job, uid)| {
                vec![OwnerReference {
                    api_version: "batch/v1".to_owned(),
                    kind: "Job".to_owned(),
                    name: job.to_owned(),
                    uid: uid.to_owned(),
                    block_owner_deletion: Some(true),
                    controller: Some(false),
                }]
            }),
            ..ObjectMeta::default()
        },
        type_: Some("Opaque".to_owned()),
        immutable: Some(false),
        data: Some(data),
        ..Secret::default()
    }
}

/// Creates or overwrites the Secret.
pub async fn apply(secrets: &Api<Secret>, secret: &Secret) -> Result<(), kube::Error> {
    let name = secret.metadata.name.clone().unwrap_or_default();
    let params = PatchParams::apply("gitferry").force();
    secrets.patch(&name, &params, &Patch::Apply(secret)).await?;
    Ok(())
}

/// Deletes the Secret; an already gone one is fine.
pub async fn delete(secrets: &Api<Secret>, name: &str) -> Result<(), kube::Error> {
    match secrets.delete(name, &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_holds_the_values_and_names_its_job_as_owner() {
        let values = vec![("TOKEN".to_owned(), "s3cret".to_owned())];
        let secret = build("gitferry-unit-1", "runs", &BTreeMap::new(), &values, None);
        assert_eq!(secret.metadata.owner_references, None);
        let data = secret.data.unwrap_or_default();
        assert_eq!(data["TOKEN"].0, b"s3cret");

        let owned = build(
            "gitferry-unit-1",
            "runs",
            &BTreeMap::new(),
            &values,
            Some(("gitferry-unit-1", "uid-1")),
        );
        let owners = owned.metadata.owner_references.unwrap_or_default();
        assert_eq!(owners.len(), 1);
        assert_eq!(
            (owners[0].kind.as_str(), owners[0].uid.as_str()),
            ("Job", "uid-1")
        );
    }
}
