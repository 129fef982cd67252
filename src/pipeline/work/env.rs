//! The variables a step's command gets: the step's own `env` (secrets resolved from
//! gitferry's environment, if the operator's allow-list lets the repository name them) and the
//! `GITFERRY_*` values. PR-controlled values (the branch name) only ever reach a command this
//! way, never in its argument list.
//!
//! On a fork's head a step gets no secrets unless it says `secrets_for_forks: true`: whatever
//! the fork's code does with them (print them in ways masking cannot recognise, send them
//! away) cannot be undone, and approving a run is not reading every line it runs.

use crate::github::InstallationClient;
use crate::repo_config::{EnvValue, Step};
use crate::secrets::{Masker, SecretError};
use crate::store::pipeline::PipelineStep;

/// A step's `{ secret: NAME }` that cannot be resolved: not set, or not the repository's.
#[derive(Debug, thiserror::Error)]
#[error("the secret of `env.{name}`: {source}")]
pub struct UnusableSecret {
    pub name: String,
    #[source]
    pub source: SecretError,
}

/// What a step's command gets.
#[derive(Debug, Default)]
pub struct StepEnv {
    /// The step's variables, then gitferry's.
    pub vars: Vec<(String, String)>,
    /// The secret values passed, for masking the step's output.
    pub secrets: Vec<String>,
    /// `TOKEN (ACME_SHOP_TOKEN)` for each secret withheld from a fork's head.
    pub withheld: Vec<String>,
}

impl StepEnv {
    /// The log's note on the secrets withheld from a fork's head, if any.
    pub fn withheld_note(&self) -> Option<String> {
        (!self.withheld.is_empty()).then(|| {
            format!(
                "gitferry: this head comes from a fork; the step runs without its secrets {}",
                self.withheld.join(", ")
            )
        })
    }

    /// What to mask in the step's output: its secrets, and the Kubernetes runner's archive
    /// link (a credential too: it reads the code).
    pub fn masker(&self, source_url: Option<&str>) -> Masker {
        Masker::new(self.secrets.iter().map(String::as_str).chain(source_url))
    }
}

/// Whether the run's head comes from a fork, asked of GitHub when the step runs (a pull
/// request's head repository never changes, and GitHub is the one to trust). Branch runs are
/// the repository's own.
pub async fn head_is_a_forks(gh: &InstallationClient, run: &PipelineStep) -> anyhow::Result<bool> {
    if run.pr <= 0 {
        return Ok(false);
    }
    let pull: crate::github::events::PullRequest = gh.pull(&run.repository, run.pr).await?;
    Ok(pull.is_from_fork(&run.repository))
}

/// The step's variables, then gitferry's (which win: validation refuses `GITFERRY_` names
/// in `env`, so they never collide). `from_fork`: the head comes from a fork.
pub fn variables(
    step: &Step,
    run: &PipelineStep,
    from_fork: bool,
    read: impl Fn(&str) -> Result<String, SecretError>,
) -> Result<StepEnv, UnusableSecret> {
    let mut env = StepEnv::default();
    let withhold = from_fork && !step.secrets_for_forks;
    for (name, value) in &step.env {
        let value = match value {
            EnvValue::Literal(text) => text.clone(),
            EnvValue::Secret(variable) if withhold => {
                env.withheld.push(format!("{name} ({variable})"));
                continue;
            }
            EnvValue::Secret(variable) => {
                let value = read(variable.as_str()).map_err(|source| UnusableSecret {
                    name: name.clone(),
                    source,
                })?;
                env.secrets.push(value.clone());
                value
            }
        };
        env.vars.push((name.clone(), value));
    }
    let mut own = vec![
        ("GITFERRY_REPOSITORY", run.repository.clone()),
        ("GITFERRY_SHA", run.sha.clone()),
        ("GITFERRY_SHORT_SHA", run.sha.chars().take(7).collect()),
        ("GITFERRY_REF", run.branch.clone()),
        ("GITFERRY_STEP", run.step.clone()),
        ("GITFERRY_RUN_ID", run.id.clone()),
        ("GITFERRY_ATTEMPT", run.attempt.to_string()),
        ("CI", "true".to_owned()),
    ];
    if run.pr > 0 {
        own.push(("GITFERRY_PR", run.pr.to_string()));
        own.push(("GITFERRY_BASE_REF", run.base_ref.clone()));
    }
    if let Some(url) = &run.preview_url {
        own.push(("GITFERRY_PREVIEW_URL", url.clone()));
    }
    env.vars
        .extend(own.into_iter().map(|(k, v)| (k.to_owned(), v)));
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::RepoSecrets;

    fn step() -> Step {
        let config = crate::repo_config::parse(
            "pipeline:\n  - name: functional\n    run: [pytest]\n    env:\n      LEVEL: debug\n      TOKEN: { secret: OCTO_SHOP_TOKEN }\n",
        )
        .expect("valid");
        config.pipeline[0].clone()
    }

    fn read(name: &str) -> Result<String, SecretError> {
        RepoSecrets::default().read_with("octo/shop", name, |name| {
            (name == "OCTO_SHOP_TOKEN").then(|| "s3cret".to_owned())
        })
    }

    fn get<'a>(env: &'a StepEnv, name: &str) -> Option<&'a str> {
        env.vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn run() -> PipelineStep {
        PipelineStep {
            id: "0123456789abcdef".to_owned(),
            repository: "octo/shop".to_owned(),
            pr: 7,
            sha: "abcdef0123456789".to_owned(),
            branch: "$(touch /tmp/pwned)".to_owned(),
            base_ref: "main".to_owned(),
            step: "functional".to_owned(),
            attempt: 2,
            preview_url: Some("https://pr-7.example.com".to_owned()),
            ..PipelineStep::default()
        }
    }

    #[test]
    fn a_step_gets_its_values_and_gitferrys_as_plain_variables() {
        let env = variables(&step(), &run(), false, read).unwrap();
        let get = |name: &str| get(&env, name);
        assert_eq!(get("LEVEL"), Some("debug"));
        assert_eq!(get("TOKEN"), Some("s3cret"));
        assert_eq!(
            get("GITFERRY_PREVIEW_URL"),
            Some("https://pr-7.example.com")
        );
        assert_eq!(get("GITFERRY_REF"), Some("$(touch /tmp/pwned)"));
        assert_eq!(get("GITFERRY_PR"), Some("7"));
        assert_eq!(get("GITFERRY_SHORT_SHA"), Some("abcdef0"));
        assert_eq!(env.secrets, ["s3cret"]);
        assert!(env.withheld.is_empty());
    }

    #[test]
    fn a_forks_head_gets_no_secrets_unless_the_step_says_so() {
        let env = variables(&step(), &run(), true, read).unwrap();
        assert_eq!(get(&env, "TOKEN"), None);
        assert_eq!(get(&env, "LEVEL"), Some("debug"));
        assert!(env.secrets.is_empty());
        assert_eq!(env.withheld, ["TOKEN (OCTO_SHOP_TOKEN)"]);

        let mut trusted = step();
        trusted.secrets_for_forks = true;
        let env = variables(&trusted, &run(), true, read).unwrap();
        assert_eq!(get(&env, "TOKEN"), Some("s3cret"));
        assert!(env.withheld.is_empty());
    }

    #[test]
    fn a_secret_of_another_repository_is_refused_at_run_time() {
        // A config stored before the allow-list narrowed: the value is never read.
        let config = crate::repo_config::parse(
            "pipeline:\n  - name: steal\n    run: [env]\n    env:\n      T: { secret: GLOBEX_VAULT_TOKEN }\n",
        )
        .expect("valid without an allow-list");
        let err = variables(&config.pipeline[0], &run(), false, |name| {
            RepoSecrets::default().read_with("octo/shop", name, |_| Some("stolen".to_owned()))
        })
        .unwrap_err();
        assert!(matches!(err.source, SecretError::NotAllowed(_)));
        assert!(
            err.to_string()
                .contains("may not use the variable GLOBEX_VAULT_TOKEN"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_secret_names_the_variable_not_a_value() {
        let err = variables(&step(), &run(), false, |name| {
            RepoSecrets::default().read_with("octo/shop", name, |_| None)
        })
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the secret of `env.TOKEN`: the variable OCTO_SHOP_TOKEN is not set in gitferry's environment"
        );
    }
}
