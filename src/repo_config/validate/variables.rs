//! Which variables of the gitferry process the config names, and the operator's rule on which
//! of them this repository may name (see `crate::secrets::allow`). The rule is the caller's:
//! this module only knows where each name is written, so a refusal lands on its line.

use crate::repo_config::load::{ConfigPath, Deserialized, Problem, Section};
use crate::repo_config::model::{Channel, Deploy, EnvValue, RepoConfig};
use crate::repo_config::validate::section;
use crate::repo_config::values::EnvVarName;

/// Every variable of the gitferry process the config names (step secrets, notification URLs
/// and signing secrets, kubeconfigs), with where it is written.
fn named(
    config: &RepoConfig,
    item: impl Fn(Section, usize) -> ConfigPath,
) -> Vec<(ConfigPath, &EnvVarName)> {
    let mut found = Vec::new();
    for (index, step) in config.pipeline.iter().enumerate() {
        for (name, value) in &step.env {
            if let EnvValue::Secret(variable) = value {
                let at = item(Section::Pipeline, index).key("env").key(name);
                found.push((at.key("secret"), variable));
            }
        }
    }
    for (index, notification) in config.notify.iter().enumerate() {
        let at = item(Section::Notify, index);
        match &notification.channel {
            Channel::Slack { url } => found.push((at.key("slack"), url)),
            Channel::Webhook { url } => found.push((at.key("webhook"), url)),
            Channel::DingTalk { url, secret } => {
                found.push((at.key("dingtalk"), url));
                if let Some(secret) = secret {
                    found.push((at.key("secret"), secret));
                }
            }
        }
    }
    for (name, environment) in &config.environments {
        if let Deploy::Kubernetes(deploy) = &environment.deploy
            && let Some(variable) = &deploy.kubeconfig
        {
            let at = section(Section::Environments).key(name).key("deploy");
            found.push((at.key("kubeconfig"), variable));
        }
    }
    found
}

/// The names alone, for resolving them at run time.
pub(crate) fn names(config: &RepoConfig) -> Vec<&EnvVarName> {
    named(config, |of, index| section(of).index(index))
        .into_iter()
        .map(|(_, name)| name)
        .collect()
}

/// A problem at each name `refusal` refuses (it returns why, and how to allow it).
pub(crate) fn check(
    loaded: &Deserialized,
    refusal: &dyn Fn(&str) -> Option<String>,
) -> Vec<Problem> {
    named(&loaded.config, |section, index| {
        loaded.item_path(section, index)
    })
    .into_iter()
    .filter_map(|(at, name)| refusal(name.as_str()).map(|why| Problem::at_value(at, why)))
    .collect()
}

#[cfg(test)]
mod tests {
    use crate::repo_config::{parse, parse_for};

    const CONFIG: &str = "\
pipeline:
  - name: unit
    run: [make]
    env:
      OWN: { secret: ACME_SHOP_TOKEN }
      STOLEN: { secret: GLOBEX_TOKEN }
environments:
  staging:
    branch: main
    deploy: { provider: kubernetes, manifests: k8s, namespace: shop, kubeconfig: OTHER_KUBE }
notify:
  - { on: [promoted], slack: ACME_SHOP_SLACK }
  - { on: [promoted], dingtalk: ACME_SHOP_DING, secret: DING_SECRET }
";

    /// Only `ACME_SHOP_*` is allowed, as the default rule would say for `acme/shop`.
    fn own_prefix(name: &str) -> Option<String> {
        (!name.starts_with("ACME_SHOP_")).then(|| format!("{name} is not yours"))
    }

    #[test]
    fn every_named_variable_the_rule_refuses_is_an_error_on_its_line() {
        let errors = parse_for(CONFIG, &own_prefix).unwrap_err();
        let found: Vec<(usize, &str, &str)> = errors
            .errors()
            .iter()
            .map(|e| (e.line, e.path.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            found,
            vec![
                (
                    6,
                    "pipeline[0].env.STOLEN.secret",
                    "GLOBEX_TOKEN is not yours"
                ),
                (
                    10,
                    "environments.staging.deploy.kubeconfig",
                    "OTHER_KUBE is not yours"
                ),
                (13, "notify[1].secret", "DING_SECRET is not yours"),
            ]
        );
    }

    #[test]
    fn names_the_rule_allows_and_configs_without_a_rule_pass() {
        assert!(parse_for(CONFIG, &|_| None).is_ok());
        let config = parse(CONFIG).unwrap();
        let names: Vec<&str> = super::names(&config).iter().map(|n| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "ACME_SHOP_TOKEN",
                "GLOBEX_TOKEN",
                "ACME_SHOP_SLACK",
                "ACME_SHOP_DING",
                "DING_SECRET",
                "OTHER_KUBE"
            ]
        );
    }
}
