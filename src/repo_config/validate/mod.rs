//! Rules that serde cannot express: uniqueness, references between sections, ranges, and
//! settings that only make sense in some places.
//!
//! Each rule returns [`Problem`]s with the path of the value at fault; rules that look into
//! another section run only if that section was read in full, so one mistake is reported once.

mod commands;
mod drift;
mod environments;
mod merge_queue;
mod notify;
mod pipeline;
mod runner;
pub(crate) mod variables;

use crate::repo_config::load::{ConfigPath, Deserialized, Problem, Section};
use crate::repo_config::model::RepoConfig;
use crate::repo_config::values::{
    Argv, Duration, Placeholder, is_branch_name, is_github_login, is_team, shown,
};

/// Runs every rule.
pub(crate) fn validate(loaded: &Deserialized) -> Vec<Problem> {
    let mut cx = Context {
        config: &loaded.config,
        loaded,
        problems: Vec::new(),
    };
    commands::check(&mut cx);
    pipeline::check(&mut cx);
    runner::check(&mut cx);
    environments::check(&mut cx);
    drift::check(&mut cx);
    merge_queue::check(&mut cx);
    notify::check(&mut cx);
    cx.problems
}

/// What the rules read, and where they put what they find.
pub(crate) struct Context<'a> {
    pub(crate) config: &'a RepoConfig,
    loaded: &'a Deserialized,
    pub(crate) problems: Vec<Problem>,
}

impl Context<'_> {
    /// Whether `section` was read in full, so that "X does not exist" is trustworthy.
    pub(crate) fn complete(&self, section: Section) -> bool {
        !self.loaded.incomplete.contains(&section)
    }

    /// Whether an environment of this name is written in the file (even if its settings are
    /// broken); `None` when that cannot be known.
    pub(crate) fn environment_written(&self, name: &str) -> Option<bool> {
        self.loaded
            .environment_names
            .as_ref()
            .map(|names| names.contains(name))
    }

    /// Environment names written in the file, for suggestions (the first 100, as
    /// `with_suggestion` considers no more).
    pub(crate) fn environment_names(&self) -> Vec<&str> {
        self.loaded
            .environment_names
            .iter()
            .flatten()
            .take(100)
            .map(String::as_str)
            .collect()
    }

    /// The path in the file of item `index` of the list section `section`.
    pub(crate) fn item(&self, section: Section, index: usize) -> ConfigPath {
        self.loaded.item_path(section, index)
    }

    pub(crate) fn report(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    /// A number must lie in `min..=max`.
    pub(crate) fn in_range(&mut self, path: ConfigPath, value: u32, min: u32, max: u32) {
        if !(min..=max).contains(&value) {
            self.report(Problem::at_value(
                path,
                format!("must be between {min} and {max}, not {value}"),
            ));
        }
    }

    /// A duration must lie between `min` and `max` (both written like `1m`).
    pub(crate) fn duration_between(
        &mut self,
        path: ConfigPath,
        value: Duration,
        min: Duration,
        max: Duration,
        why: &str,
    ) {
        if value < min {
            self.report(Problem::at_value(
                path,
                format!("must be at least {min}{why}"),
            ));
        } else if value > max {
            self.report(Problem::at_value(
                path,
                format!("must be at most {max}{why}"),
            ));
        }
    }

    /// Commands are argument lists, not templates: a `{pr}` in one would reach the program as
    /// those four characters, which is never what was meant.
    pub(crate) fn no_placeholders(&mut self, path: &ConfigPath, argv: &Argv) {
        for (index, arg) in argv.as_slice().iter().enumerate() {
            if let Some(placeholder) = Placeholder::ALL
                .into_iter()
                .find(|p| arg.contains(&p.to_string()))
            {
                self.report(Problem::at_value(
                    path.index(index),
                    format!(
                        "commands are not templates: `{placeholder}` would be passed as it is; read \
                         the value from the GITFERRY_* environment variables instead"
                    ),
                ));
            }
        }
    }

    /// Logins and team slugs of a rule or an approval list.
    pub(crate) fn people(&mut self, path: &ConfigPath, users: &[String], teams: &[String]) {
        for (index, user) in users.iter().enumerate() {
            if !is_github_login(user) {
                self.report(Problem::at_value(
                    path.key("users").index(index),
                    format!("`{}` is not a GitHub login", shown(user)),
                ));
            }
        }
        for (index, team) in teams.iter().enumerate() {
            if !is_team(team) {
                self.report(Problem::at_value(
                    path.key("teams").index(index),
                    format!(
                        "`{}` is not a team: write its slug, or org/slug",
                        shown(team)
                    ),
                ));
            }
        }
    }

    /// Each entry of a list of branch names.
    pub(crate) fn branches(&mut self, path: &ConfigPath, branches: &[String]) {
        for (index, branch) in branches.iter().enumerate() {
            self.branch(path.index(index), branch);
        }
    }

    pub(crate) fn branch(&mut self, path: ConfigPath, branch: &str) {
        if !is_branch_name(branch) {
            self.report(Problem::at_value(
                path,
                format!("`{}` is not a branch name", shown(branch)),
            ));
        }
    }
}

/// The longest a step, deploy or queue batch may take: anything longer is stuck, and bounding it
/// keeps work from piling up.
pub(crate) const MAX_TIMEOUT: Duration = Duration::from_mins(24 * 60);

/// The shortest timeout (a zero-length one would fail every run).
pub(crate) const MIN_TIMEOUT: Duration = Duration::from_secs(1);

/// The root of a section's paths.
pub(crate) fn section(section: Section) -> ConfigPath {
    ConfigPath::root().key(section.name())
}
