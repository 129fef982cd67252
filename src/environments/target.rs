//! What a branch-bound environment is, at one commit, for its provider: the values a deploy,
//! a drift check or a `status` command gets.

use crate::deploy::{DeployError, Target, namespace};
use crate::repo_config::{Deploy, Environment, TemplateValues};

/// `environment` (named `name`) at `sha` of `branch`. Its namespace is its template's, or
/// `<repository name>-<environment>` for the command provider.
pub fn at(
    repository: &str,
    name: &str,
    environment: &Environment,
    sha: &str,
    branch: &str,
) -> Result<Target, DeployError> {
    let values = TemplateValues {
        pr: None,
        sha,
        branch,
        env: name,
    };
    let rendered = match &environment.deploy {
        Deploy::Kubernetes(k) => k.namespace.render(&values),
        Deploy::Command(_) => {
            let short = repository.rsplit('/').next().unwrap_or("app");
            format!("{short}-{name}")
        }
    };
    Ok(Target {
        repository: repository.to_owned(),
        environment: name.to_owned(),
        pr: None,
        sha: sha.to_owned(),
        branch: branch.to_owned(),
        base: None,
        namespace: Some(namespace::dns_label(&rendered)?),
        url: environment.url.as_ref().map(|t| t.render(&values)),
    })
}
