//! The `gitferry/release/<env>` check run's text (pure).

use crate::store::releases::Release;

/// The check run's name for `environment`.
pub fn check_name(environment: &str) -> String {
    crate::report::checks::check_name(&format!("release/{environment}"))
}

/// What a release's check run says, by stage.
pub enum Stage<'a> {
    WaitingForSteps(&'a [String]),
    Deploying,
    Verifying,
    Verified,
    Failed(&'a str),
    Blocked(&'a str),
}

/// `(title, summary)` for the check run.
pub fn check(release: &Release, stage: &Stage<'_>, url: Option<&str>) -> (String, String) {
    let version = release.version();
    let short = crate::github::short_sha(&release.sha);
    let env = &release.environment;
    let title = match stage {
        Stage::WaitingForSteps(_) => format!("{version}: waiting for the steps before the deploy"),
        Stage::Deploying => format!("{version}: deploying to {env}"),
        Stage::Verifying => format!("{version}: deployed, the steps after the deploy check it"),
        Stage::Verified => format!("{version} is live in {env} and verified"),
        Stage::Failed(reason) => format!("{version} failed: {reason}"),
        Stage::Blocked(reason) => format!("{version} not deployed: {reason}"),
    };
    let mut summary = format!(
        "Release **{version}** of `{short}` to **{env}** (branch `{}`), caused by a {} by {}.",
        release.branch,
        release.cause,
        release
            .actor
            .as_deref()
            .map_or_else(|| "gitferry".to_owned(), |a| format!("@{a}"))
    );
    if let Stage::WaitingForSteps(steps) = stage {
        summary.push_str(&format!("\n\nWaiting for: {}.", steps.join(", ")));
    }
    if let Some(url) = url {
        summary.push_str(&format!("\n\nEnvironment: {url}"));
    }
    (title, summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_run_names_the_version_environment_and_who_caused_it() {
        let release = Release {
            environment: "staging".into(),
            seq: 3,
            sha: "abcdef1234567890".into(),
            branch: "latest".into(),
            cause: "push".into(),
            actor: Some("mona".into()),
            ..Release::default()
        };
        let (title, summary) = check(&release, &Stage::Verified, Some("https://staging.example"));
        assert_eq!(title, "staging-3 is live in staging and verified");
        assert!(
            summary.contains("`abcdef1` to **staging** (branch `latest`)"),
            "{summary}"
        );
        assert!(summary.contains("push by @mona"), "{summary}");
        assert!(
            summary.ends_with("Environment: https://staging.example"),
            "{summary}"
        );
        assert_eq!(check_name("staging"), "gitferry/release/staging");
    }
}
