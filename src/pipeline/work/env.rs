//! The variables a step's command gets: the step's own `env` (secrets resolved from
//! gitferry's environment) and the `GITFERRY_*` values. PR-controlled values (the branch name)
//! only ever reach a command this way, never in its argument list.

use crate::repo_config::{EnvValue, Step};
use crate::store::pipeline::PipelineStep;

/// A step's `{ secret: NAME }` whose variable gitferry does not have.
#[derive(Debug, thiserror::Error)]
#[error(
    "the variable {variable} (the secret of `env.{name}`) is not set in gitferry's environment"
)]
pub struct MissingSecret {
    pub name: String,
    pub variable: String,
}

/// The step's variables, then gitferry's (which win: validation refuses `GITFERRY_` names
/// in `env`, so they never collide).
pub fn variables(
    step: &Step,
    run: &PipelineStep,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>, MissingSecret> {
    let mut vars = Vec::with_capacity(step.env.len() + 10);
    for (name, value) in &step.env {
        let value = match value {
            EnvValue::Literal(text) => text.clone(),
            EnvValue::Secret(variable) => {
                lookup(variable.as_str()).ok_or_else(|| MissingSecret {
                    name: name.clone(),
                    variable: variable.as_str().to_owned(),
                })?
            }
        };
        vars.push((name.clone(), value));
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
    vars.extend(own.into_iter().map(|(k, v)| (k.to_owned(), v)));
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step() -> Step {
        let config = crate::repo_config::parse(
            "pipeline:\n  - name: functional\n    run: [pytest]\n    env:\n      LEVEL: debug\n      TOKEN: { secret: SHOP_TOKEN }\n",
        )
        .expect("valid");
        config.pipeline[0].clone()
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
        let vars = variables(&step(), &run(), |name| {
            (name == "SHOP_TOKEN").then(|| "s3cret".to_owned())
        })
        .unwrap();
        let get = |name: &str| {
            vars.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("LEVEL"), Some("debug"));
        assert_eq!(get("TOKEN"), Some("s3cret"));
        assert_eq!(
            get("GITFERRY_PREVIEW_URL"),
            Some("https://pr-7.example.com")
        );
        assert_eq!(get("GITFERRY_REF"), Some("$(touch /tmp/pwned)"));
        assert_eq!(get("GITFERRY_PR"), Some("7"));
        assert_eq!(get("GITFERRY_SHORT_SHA"), Some("abcdef0"));
    }

    #[test]
    fn a_missing_secret_names_the_variable_not_a_value() {
        let err = variables(&step(), &run(), |_| None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the variable SHOP_TOKEN (the secret of `env.TOKEN`) is not set in gitferry's environment"
        );
    }
}
