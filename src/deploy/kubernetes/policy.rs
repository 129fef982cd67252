//! What a commit's manifests may ask of the cluster, checked before anything is written.
//!
//! The manifests come from a pull request, and gitferry applies them with its own (broad)
//! credentials, so anything the API server would accept from gitferry would be accepted from
//! the PR. The checks mirror the Pod Security Standards the environment's namespace enforces
//! (see [`super::namespaces`]), so a refusal comes with the file and line before any write
//! instead of as a half-applied deploy, and they also cover what Pod Security admission does
//! not look at:
//!
//! - pods of every workload kind: any object holding a pod spec (a `containers` list),
//!   wherever it sits (`spec`, `spec.template.spec`, `spec.jobTemplate.spec.template.spec`,
//!   and the same paths in custom resources), with their `initContainers` and
//!   `ephemeralContainers`: privileged containers, host namespaces, `hostPath`, `hostPort`,
//!   added capabilities, privilege escalation, unmasked `/proc`, unconfined seccomp, Windows
//!   host processes;
//! - Services with `externalIPs` (CVE-2020-8554: intercepting another address's traffic);
//! - RoleBindings to a ClusterRole the operator has not allowed, or to everyone.
//!
//! `pod_security: privileged` lifts the pod and Service checks; the ClusterRole check stays:
//! binding `admin` or `cluster-admin` is about API permissions, not about what a pod may do on
//! its node.

use serde_json::{Map, Value};

use super::manifests::Manifest;
use crate::deploy::DeployError;
use crate::repo_config::PodSecurity;

/// The ClusterRoles a RoleBinding may name when the operator says nothing.
pub const DEFAULT_ALLOWED_CLUSTER_ROLES: &[&str] = &["view"];

/// Capabilities the baseline level lets a container add (the container runtime's defaults).
const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Subjects that mean "everyone" (or every service account in the cluster).
const EVERYONE: &[&str] = &[
    "system:anonymous",
    "system:unauthenticated",
    "system:authenticated",
    "system:serviceaccounts",
];

/// Most problems listed in one refusal; the rest are counted.
const MAX_LISTED: usize = 20;

/// The environment's level and the operator's allow-list.
#[derive(Debug, Clone, Copy)]
pub struct Policy<'a> {
    pub pod_security: PodSecurity,
    pub allowed_cluster_roles: &'a [String],
}

/// One refused thing: where, what, and how it could be allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub at: String,
    pub what: String,
    pub allow: String,
}

/// Every problem in `manifests` under `policy`, in manifest order.
pub fn violations(manifests: &[Manifest], policy: &Policy<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for manifest in manifests {
        let mut check = Check {
            manifest,
            policy,
            found: &mut found,
        };
        check.role_binding();
        if policy.pod_security != PodSecurity::Privileged {
            check.service();
            for (path, pod) in pod_specs(&manifest.object, String::new()) {
                check.pod(&path, pod);
            }
        }
    }
    found
}

/// `Ok` when nothing is refused; else one error listing the problems and how to allow them.
pub fn check(manifests: &[Manifest], policy: &Policy<'_>) -> Result<(), DeployError> {
    let found = violations(manifests, policy);
    if found.is_empty() {
        return Ok(());
    }
    let mut lines: Vec<String> = found
        .iter()
        .take(MAX_LISTED)
        .map(|v| format!("- {}: {}; {}", v.at, v.what, v.allow))
        .collect();
    if found.len() > MAX_LISTED {
        lines.push(format!("- … and {} more", found.len() - MAX_LISTED));
    }
    let first = &found[0];
    let more = match found.len() {
        1 => String::new(),
        n => format!(" (and {} more)", n - 1),
    };
    // The first problem leads: a deployment status shows only the first 140 characters.
    Err(DeployError::Refused(format!(
        "{}: {}{more}. Nothing was applied.\nEverything refused under pod security level `{}` \
         and the allowed ClusterRoles ({}):\n{}",
        first.at,
        first.what,
        policy.pod_security.as_str(),
        list_or_none(policy.allowed_cluster_roles),
        lines.join("\n")
    )))
}

/// Pod specs inside `value`: every object with a `containers` list, and where it is.
fn pod_specs(value: &Value, path: String) -> Vec<(String, &Map<String, Value>)> {
    let mut out = Vec::new();
    match value {
        Value::Object(fields) => {
            if fields.get("containers").is_some_and(Value::is_array) {
                out.push((path.clone(), fields));
            }
            for (key, child) in fields {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                out.extend(pod_specs(child, child_path));
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                out.extend(pod_specs(item, format!("{path}[{index}]")));
            }
        }
        _ => {}
    }
    out
}

struct Check<'a> {
    manifest: &'a Manifest,
    policy: &'a Policy<'a>,
    found: &'a mut Vec<Violation>,
}

const ONLY_PRIVILEGED: &str =
    "allowed only with `pod_security: privileged` on the environment's `deploy`";

impl Check<'_> {
    fn refuse(&mut self, key: &str, value: Option<&str>, what: String, allow: &str) {
        self.found.push(Violation {
            at: self.manifest.at(key, value),
            what: format!("{} {}: {what}", self.manifest.kind(), self.manifest.name()),
            allow: allow.to_owned(),
        });
    }

    fn pod(&mut self, path: &str, pod: &Map<String, Value>) {
        let at = if path.is_empty() {
            String::new()
        } else {
            format!("{path}: ")
        };
        for (key, meaning) in [
            ("hostPID", "sees and signals every process on the node"),
            ("hostIPC", "shares the node's IPC namespace"),
            ("hostNetwork", "uses the node's network"),
        ] {
            if pod.get(key) == Some(&Value::Bool(true)) {
                let what = format!("{at}`{key}: true` ({meaning})");
                self.refuse(key, Some("true"), what, ONLY_PRIVILEGED);
            }
        }
        for volume in array(pod.get("volumes")) {
            if let Some(host) = volume.get("hostPath") {
                let dir = host.get("path").and_then(Value::as_str).unwrap_or("?");
                let what = format!(
                    "{at}volume `{}` mounts the node's `{dir}` (hostPath)",
                    text(volume.get("name"))
                );
                self.refuse("hostPath", None, what, ONLY_PRIVILEGED);
            }
        }
        self.security_context(&at, "the pod", pod.get("securityContext"));
        for list in ["containers", "initContainers", "ephemeralContainers"] {
            for container in array(pod.get(list)) {
                let who = format!("container `{}`", text(container.get("name")));
                self.container(&at, &who, container);
            }
        }
    }

    fn container(&mut self, at: &str, who: &str, container: &Value) {
        for port in array(container.get("ports")) {
            if let Some(host_port) = port.get("hostPort").and_then(Value::as_i64)
                && host_port != 0
            {
                let what = format!("{at}{who} binds port {host_port} on the node (hostPort)");
                self.refuse(
                    "hostPort",
                    Some(&host_port.to_string()),
                    what,
                    ONLY_PRIVILEGED,
                );
            }
        }
        let context = container.get("securityContext");
        self.security_context(at, who, context);
        let Some(context) = context else { return };
        if context.get("privileged") == Some(&Value::Bool(true)) {
            let what = format!("{at}{who} is privileged (`privileged: true`)");
            self.refuse("privileged", Some("true"), what, ONLY_PRIVILEGED);
        }
        let restricted = self.policy.pod_security == PodSecurity::Restricted;
        if restricted && context.get("allowPrivilegeEscalation") == Some(&Value::Bool(true)) {
            let what = format!("{at}{who} sets `allowPrivilegeEscalation: true`");
            self.refuse(
                "allowPrivilegeEscalation",
                Some("true"),
                what,
                "set it to false, or use `pod_security: baseline`",
            );
        }
        for capability in array(context.pointer("/capabilities/add")) {
            let name = text(Some(capability));
            let bare = name.trim_start_matches("CAP_").to_ascii_uppercase();
            let baseline_ok = BASELINE_CAPABILITIES.contains(&bare.as_str());
            let allowed = bare == "NET_BIND_SERVICE" || (!restricted && baseline_ok);
            if !allowed {
                let what = format!("{at}{who} adds the capability `{name}`");
                let allow = if baseline_ok {
                    "only NET_BIND_SERVICE may be added under `restricted`; this one is \
                     allowed with `pod_security: baseline`"
                } else {
                    ONLY_PRIVILEGED
                };
                self.refuse("add", None, what, allow);
            }
        }
    }

    /// What a pod's or a container's `securityContext` may say at baseline.
    fn security_context(&mut self, at: &str, who: &str, context: Option<&Value>) {
        let Some(context) = context else { return };
        if let Some(mount) = context.get("procMount").and_then(Value::as_str)
            && mount != "Default"
        {
            let what = format!("{at}{who} sets `procMount: {mount}` (an unmasked /proc)");
            self.refuse("procMount", Some(mount), what, ONLY_PRIVILEGED);
        }
        if context
            .pointer("/seccompProfile/type")
            .and_then(Value::as_str)
            == Some("Unconfined")
        {
            let what = format!("{at}{who} runs without seccomp (`Unconfined`)");
            self.refuse("type", Some("Unconfined"), what, ONLY_PRIVILEGED);
        }
        if context.pointer("/windowsOptions/hostProcess") == Some(&Value::Bool(true)) {
            let what = format!("{at}{who} is a Windows host process");
            self.refuse("hostProcess", Some("true"), what, ONLY_PRIVILEGED);
        }
    }

    fn service(&mut self) {
        if self.manifest.kind() != "Service" || self.manifest.api_version() != "v1" {
            return;
        }
        let ips = array(self.manifest.object.pointer("/spec/externalIPs"));
        if !ips.is_empty() {
            let list: Vec<&str> = ips.iter().map(|ip| text(Some(ip))).collect();
            let what = format!(
                "`externalIPs` ({}) would capture traffic the cluster sends to those \
                 addresses (CVE-2020-8554)",
                list.join(", ")
            );
            self.refuse(
                "externalIPs",
                None,
                what,
                "use a LoadBalancer or an Ingress instead; externalIPs are allowed only with \
                 `pod_security: privileged`",
            );
        }
    }

    fn role_binding(&mut self) {
        let rbac = self
            .manifest
            .api_version()
            .starts_with("rbac.authorization.k8s.io/");
        if !rbac || self.manifest.kind() != "RoleBinding" {
            return;
        }
        let object = &self.manifest.object;
        let role = text(object.pointer("/roleRef/name"));
        let allowed = self.policy.allowed_cluster_roles;
        if text(object.pointer("/roleRef/kind")) == "ClusterRole"
            && !allowed.iter().any(|r| r == role)
        {
            let what = format!("binds the ClusterRole `{role}`");
            let allow = format!(
                "bind a Role defined in the manifests instead, or ask the operator to add \
                 `{role}` to GITFERRY_ALLOWED_CLUSTER_ROLES (now: {}); `pod_security` does not \
                 change this",
                list_or_none(allowed)
            );
            self.refuse("name", Some(role), what, &allow);
        }
        for subject in array(object.get("subjects")) {
            let name = text(subject.get("name"));
            if EVERYONE.contains(&name) {
                let what = format!("grants its role to `{name}`, that is to everyone");
                self.refuse(
                    "name",
                    Some(name),
                    what,
                    "name the service accounts that need it",
                );
            }
        }
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

fn array(value: Option<&Value>) -> &[Value] {
    value.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn text(value: Option<&Value>) -> &str {
    value.and_then(Value::as_str).unwrap_or("?")
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
