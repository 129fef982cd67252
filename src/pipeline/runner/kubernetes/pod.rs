//! What a step's pod may do: the restricted Pod Security profile (a non-root user, no
//! privilege escalation, no capabilities, the runtime's default seccomp filter), the CPU and
//! memory of `runner.resources`, and empty folders it can write.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Capabilities, EmptyDirVolumeSource, PodSecurityContext, ResourceRequirements, SeccompProfile,
    SecurityContext, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::wrapper::WORKSPACE;
use crate::repo_config::{Quantities, Resources};

/// The user steps run as, whatever the image's `USER`: non-root (the restricted Pod Security
/// profile needs it, and an image's root user would be refused), and no user of the usual base
/// images, so it owns nothing in them.
const RUN_AS: i64 = 65532;

/// Where a step can write besides `/workspace`: its `HOME` and `TMPDIR` (the image's own
/// folders belong to root).
pub const SCRATCH: &str = "/tmp";

/// The restricted Pod Security profile, for the pod and its container: a non-root user, no
/// privilege escalation, no capabilities, the runtime's default seccomp filter.
pub fn pod_security() -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(RUN_AS),
        run_as_group: Some(RUN_AS),
        fs_group: Some(RUN_AS),
        seccomp_profile: Some(runtime_default()),
        ..PodSecurityContext::default()
    }
}

pub fn container_security() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        privileged: Some(false),
        run_as_non_root: Some(true),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".to_owned()]),
            add: None,
        }),
        seccomp_profile: Some(runtime_default()),
        ..SecurityContext::default()
    }
}

fn runtime_default() -> SeccompProfile {
    SeccompProfile {
        type_: "RuntimeDefault".to_owned(),
        localhost_profile: None,
    }
}

pub fn resources(resources: &Resources) -> ResourceRequirements {
    let quantities = |q: &Quantities| {
        BTreeMap::from([
            ("cpu".to_owned(), Quantity(q.cpu.clone())),
            ("memory".to_owned(), Quantity(q.memory.clone())),
        ])
    };
    ResourceRequirements {
        requests: Some(quantities(&resources.requests)),
        limits: Some(quantities(&resources.limits)),
        ..ResourceRequirements::default()
    }
}

/// Empty folders for the source and the scratch space: writable by the step's user whatever
/// the image's folders allow.
pub fn scratch_volumes() -> (Vec<Volume>, Vec<VolumeMount>) {
    let folders = [("workspace", WORKSPACE), ("scratch", SCRATCH)];
    let volumes = folders
        .iter()
        .map(|(name, _)| Volume {
            name: (*name).to_owned(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Volume::default()
        })
        .collect();
    let mounts = folders
        .iter()
        .map(|(name, path)| VolumeMount {
            name: (*name).to_owned(),
            mount_path: (*path).to_owned(),
            ..VolumeMount::default()
        })
        .collect();
    (volumes, mounts)
}
