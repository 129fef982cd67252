//! The marks gitferry leaves on what it deploys: ownership labels on the namespace and on
//! every object (so prune and observe find exactly gitferry's objects, and a namespace of
//! another repository or environment is never touched), and the namespace annotation that
//! remembers which kinds were ever applied (so prune can find objects of a kind that is no
//! longer in the manifests).

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use crate::deploy::Target;
use crate::repo_config::PodSecurity;

pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const MANAGER: &str = "gitferry";
pub const REPOSITORY: &str = "gitferry.dev/repository";
pub const ENVIRONMENT: &str = "gitferry.dev/environment";
pub const PR: &str = "gitferry.dev/pr";
pub const APPLIED_KINDS: &str = "gitferry.dev/applied-kinds";

/// The Pod Security admission labels (`enforce`, `audit`, `warn`) every namespace gitferry
/// creates carries, so a real API server refuses pods above the environment's level even when
/// they come from somewhere gitferry's own checks do not see (a controller, an operator, an
/// app creating pods at run time).
pub fn pod_security(level: PodSecurity) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    for mode in ["enforce", "audit", "warn"] {
        let key = format!("pod-security.kubernetes.io/{mode}");
        labels.insert(format!("{key}-version"), "latest".to_owned());
        labels.insert(key, level.as_str().to_owned());
    }
    labels
}

/// The longest label value Kubernetes accepts.
const MAX_VALUE_LEN: usize = 63;

/// Who an environment instance belongs to, as labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub repository: String,
    pub environment: String,
    pub pr: Option<String>,
}

impl Owner {
    pub fn of(target: &Target) -> Self {
        Owner {
            repository: label_value(&target.repository.replace('/', ".")),
            environment: label_value(&target.environment),
            pr: target.pr.map(|n| n.to_string()),
        }
    }

    /// The labels every object and the namespace get.
    pub fn labels(&self) -> BTreeMap<String, String> {
        let mut labels = BTreeMap::from([
            (MANAGED_BY.to_owned(), MANAGER.to_owned()),
            (REPOSITORY.to_owned(), self.repository.clone()),
            (ENVIRONMENT.to_owned(), self.environment.clone()),
        ]);
        if let Some(pr) = &self.pr {
            labels.insert(PR.to_owned(), pr.clone());
        }
        labels
    }

    /// The label selector for this environment's objects. The PR is left out: the namespace
    /// already belongs to one PR, and the selector must still find objects applied before.
    pub fn selector(&self) -> String {
        format!(
            "{MANAGED_BY}={MANAGER},{REPOSITORY}={},{ENVIRONMENT}={}",
            self.repository, self.environment
        )
    }

    /// Why an existing namespace with these labels is not ours to deploy into or delete, or
    /// `None` when it is. A namespace without gitferry's label is `Foreign::Unmanaged`.
    pub fn claim(&self, labels: &BTreeMap<String, String>) -> Option<Foreign> {
        if labels.get(MANAGED_BY).map(String::as_str) != Some(MANAGER) {
            return Some(Foreign::Unmanaged);
        }
        let theirs = |key: &str| labels.get(key).cloned().unwrap_or_default();
        let same_pr = match (&self.pr, labels.get(PR)) {
            (Some(ours), Some(theirs)) => ours == theirs,
            (None, None) => true,
            _ => false,
        };
        if theirs(REPOSITORY) != self.repository
            || theirs(ENVIRONMENT) != self.environment
            || !same_pr
        {
            let pr = labels
                .get(PR)
                .map(|n| format!(", pull request #{n}"))
                .unwrap_or_default();
            return Some(Foreign::Owned(format!(
                "repository {}, environment {}{pr}",
                theirs(REPOSITORY),
                theirs(ENVIRONMENT)
            )));
        }
        None
    }
}

/// An existing namespace that is not this environment instance's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Foreign {
    /// Not created by gitferry at all.
    Unmanaged,
    /// Created by gitferry for someone else (described).
    Owned(String),
}

/// Makes `raw` a valid label value: `[A-Za-z0-9._-]`, starting and ending alphanumeric, at
/// most 63 characters (cut with a hash suffix so long values stay distinct).
pub fn label_value(raw: &str) -> String {
    let mapped: String = raw
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' | '-' => c,
            _ => '-',
        })
        .collect();
    let trimmed = mapped.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    if trimmed.len() <= MAX_VALUE_LEN {
        return trimmed.to_owned();
    }
    let suffix = hex::encode(&Sha256::digest(raw.as_bytes())[..3]);
    let kept = trimmed[..MAX_VALUE_LEN - suffix.len() - 1]
        .trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
    format!("{kept}-{suffix}")
}

/// A kind as recorded in the namespace annotation: `apps/v1` + `Deployment`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KindRef {
    pub api_version: String,
    pub kind: String,
}

impl KindRef {
    pub fn new(api_version: &str, kind: &str) -> Self {
        KindRef {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
        }
    }

    fn key(&self) -> String {
        format!("{}/{}", self.api_version, self.kind)
    }
}

impl std::fmt::Display for KindRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.api_version, self.kind)
    }
}

/// The annotation value: a sorted JSON array of `apiVersion/Kind`.
pub fn encode_kinds(kinds: &BTreeSet<KindRef>) -> String {
    let keys: Vec<String> = kinds.iter().map(KindRef::key).collect();
    serde_json::Value::from(keys).to_string()
}

/// Reads the annotation back; anything unreadable counts as nothing recorded (the worst
/// outcome is that prune misses objects of a kind, never that it deletes a wrong one).
pub fn decode_kinds(annotation: Option<&str>) -> BTreeSet<KindRef> {
    let Some(text) = annotation else {
        return BTreeSet::new();
    };
    let keys: Vec<String> = serde_json::from_str(text).unwrap_or_default();
    keys.iter()
        .filter_map(|key| key.rsplit_once('/'))
        .filter(|(api_version, kind)| !api_version.is_empty() && !kind.is_empty())
        .map(|(api_version, kind)| KindRef::new(api_version, kind))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(repository: &str, pr: Option<u64>) -> Target {
        Target {
            repository: repository.to_owned(),
            environment: "preview".to_owned(),
            pr,
            sha: "0123456789abcdef".to_owned(),
            branch: "feature".to_owned(),
            base: None,
            namespace: Some("shop-pr-7".to_owned()),
            url: None,
        }
    }

    #[test]
    fn labels_name_the_repository_environment_and_pr() {
        let labels = Owner::of(&target("acme/shop", Some(7))).labels();
        assert_eq!(labels[MANAGED_BY], "gitferry");
        assert_eq!(labels[REPOSITORY], "acme.shop");
        assert_eq!(labels[ENVIRONMENT], "preview");
        assert_eq!(labels[PR], "7");
        assert!(
            !Owner::of(&target("acme/shop", None))
                .labels()
                .contains_key(PR)
        );
    }

    #[test]
    fn pod_security_labels_enforce_audit_and_warn_the_level() {
        let labels = pod_security(PodSecurity::Restricted);
        assert_eq!(labels.len(), 6);
        assert_eq!(labels["pod-security.kubernetes.io/enforce"], "restricted");
        assert_eq!(
            labels["pod-security.kubernetes.io/enforce-version"],
            "latest"
        );
        assert_eq!(labels["pod-security.kubernetes.io/warn"], "restricted");
        assert_eq!(labels["pod-security.kubernetes.io/audit"], "restricted");
        let baseline = pod_security(PodSecurity::Baseline);
        assert_eq!(baseline["pod-security.kubernetes.io/enforce"], "baseline");
    }

    #[test]
    fn label_values_are_made_valid() {
        assert_eq!(label_value("acme.shop"), "acme.shop");
        assert_eq!(label_value("-weird/name!-"), "weird-name");
        let long = label_value(&format!("acme.{}", "x".repeat(100)));
        assert_eq!(long.len(), 63);
        assert_ne!(long, label_value(&format!("acme.{}y", "x".repeat(100))));
        assert!(
            long.chars()
                .last()
                .is_some_and(|c| c.is_ascii_alphanumeric())
        );
    }

    #[test]
    fn a_namespace_of_another_repository_environment_or_pr_is_not_ours() {
        let ours = Owner::of(&target("acme/shop", Some(7)));
        assert_eq!(ours.claim(&ours.labels()), None);
        assert_eq!(ours.claim(&BTreeMap::new()), Some(Foreign::Unmanaged));
        let other_pr = Owner::of(&target("acme/shop", Some(8))).labels();
        assert_eq!(
            ours.claim(&other_pr),
            Some(Foreign::Owned(
                "repository acme.shop, environment preview, pull request #8".to_owned()
            ))
        );
        let other_repo = Owner::of(&target("acme/blog", Some(7))).labels();
        assert!(matches!(ours.claim(&other_repo), Some(Foreign::Owned(_))));
    }

    #[test]
    fn applied_kinds_round_trip_through_the_annotation() {
        let kinds = BTreeSet::from([
            KindRef::new("apps/v1", "Deployment"),
            KindRef::new("v1", "ConfigMap"),
        ]);
        let text = encode_kinds(&kinds);
        assert_eq!(text, r#"["apps/v1/Deployment","v1/ConfigMap"]"#);
        assert_eq!(decode_kinds(Some(&text)), kinds);
        assert!(decode_kinds(Some("not json")).is_empty());
        assert!(decode_kinds(None).is_empty());
    }
}
