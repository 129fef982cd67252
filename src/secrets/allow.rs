//! Which variables of the gitferry process a repository may name (as a `{ secret: }`, a
//! notification URL or signing secret, a `kubeconfig`). gitferry's environment holds the
//! secrets of every repository it serves; without this rule repository A's config could name
//! repository B's token and have a step print it.
//!
//! By default a repository may name only the variables that start with its owner and name,
//! upper-cased, every other character as `_`, then `_`: `acme/vault` may name
//! `ACME_VAULT_TOKEN`. The operator widens that with `GITFERRY_REPO_SECRETS`:
//!
//! ```text
//! acme/*=ACME_*,SLACK_WEBHOOK_URL;acme/vault=VAULT_TOKEN
//! ```
//!
//! Entries are separated by `;`; each is `owner/name=PATTERN,PATTERN…`, where `*` in the
//! repository or a variable pattern matches any run of characters. Repository names compare
//! without regard to case, as on GitHub.

use std::fmt;

/// The setting that widens the rule, for messages.
pub const SETTING: &str = "GITFERRY_REPO_SECRETS";

/// The operator's allow-list, parsed once at start-up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepoSecrets {
    entries: Vec<Entry>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    /// Lower-cased `owner/name` pattern.
    repository: String,
    variables: Vec<String>,
}

/// Why `GITFERRY_REPO_SECRETS` cannot be read (a start-up error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{SETTING} entry {entry} (`{text}`): {problem}; write entries as \
     `owner/name=PATTERN,PATTERN` separated by `;`, e.g. `acme/*=ACME_*,SLACK_WEBHOOK_URL`"
)]
pub struct AllowListError {
    pub entry: usize,
    pub text: String,
    pub problem: &'static str,
}

/// Why a variable cannot be read for a repository at run time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("{0}")]
    NotAllowed(Refusal),
    #[error("the variable {0} is not set in gitferry's environment")]
    Missing(String),
}

impl RepoSecrets {
    /// Parses the setting; an empty one allows only the default.
    pub fn parse(text: &str) -> Result<Self, AllowListError> {
        let mut entries = Vec::new();
        for (index, raw) in text.split(';').enumerate() {
            let raw = raw.trim();
            if raw.is_empty() {
                continue;
            }
            let fail = |problem| AllowListError {
                entry: index + 1,
                text: raw.to_owned(),
                problem,
            };
            let (repository, variables) = raw.split_once('=').ok_or(fail("no `=`"))?;
            let repository = repository.trim();
            let valid_repo = repository.split_once('/').is_some_and(|(owner, name)| {
                !owner.is_empty() && !name.is_empty() && !name.contains('/')
            }) && repository
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.*/".contains(c));
            if !valid_repo {
                return Err(fail(
                    "the repository must be `owner/name` (with `*` if wanted)",
                ));
            }
            let variables: Vec<String> = variables
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect();
            if variables.is_empty() {
                return Err(fail("no variable pattern after `=`"));
            }
            let shaped = |v: &String| {
                v.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '*')
            };
            if !variables.iter().all(shaped) {
                return Err(fail(
                    "variable patterns use upper-case letters, digits, `_` and `*`",
                ));
            }
            entries.push(Entry {
                repository: repository.to_ascii_lowercase(),
                variables,
            });
        }
        Ok(Self { entries })
    }

    /// Whether `repository` (`owner/name`) may name `variable`. gitferry's own settings
    /// never: a repository named `gitferry/api` has the default prefix `GITFERRY_API_`, and
    /// an allow-list entry written too broadly (`*=*`) would otherwise hand them out.
    pub fn allows(&self, repository: &str, variable: &str) -> bool {
        if is_gitferrys_own(variable) {
            return false;
        }
        if variable.starts_with(&default_prefix(repository)) {
            return true;
        }
        let repository = repository.to_ascii_lowercase();
        self.entries
            .iter()
            .filter(|entry| glob(&entry.repository, &repository))
            .any(|entry| entry.variables.iter().any(|p| glob(p, variable)))
    }

    /// Why `repository` may not name `variable`, or `None` when it may.
    pub fn refusal(&self, repository: &str, variable: &str) -> Option<Refusal> {
        (!self.allows(repository, variable)).then(|| Refusal {
            repository: repository.to_owned(),
            variable: variable.to_owned(),
        })
    }

    /// The value of `variable` for `repository`: refused when the repository may not name
    /// it (checked again here although a config naming it is invalid, in case a config
    /// accepted under an older setting is still in use).
    pub fn read(&self, repository: &str, variable: &str) -> Result<String, SecretError> {
        self.read_with(repository, variable, |name| std::env::var(name).ok())
    }

    /// [`RepoSecrets::read`] from another source than the process environment (tests).
    pub fn read_with(
        &self,
        repository: &str,
        variable: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<String, SecretError> {
        if let Some(refusal) = self.refusal(repository, variable) {
            return Err(SecretError::NotAllowed(refusal));
        }
        lookup(variable).ok_or_else(|| SecretError::Missing(variable.to_owned()))
    }
}

/// A variable a repository may not name, said so that the reader knows how to allow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub repository: String,
    pub variable: String,
}

/// gitferry's own settings and credentials, which no repository may read.
fn is_gitferrys_own(variable: &str) -> bool {
    variable.starts_with("GITFERRY_")
        || variable.starts_with("GITHUB_")
        || variable == "DATABASE_URL"
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            repository,
            variable,
        } = self;
        if is_gitferrys_own(variable) {
            return write!(
                f,
                "{repository} may not use the variable {variable}: variables starting with \
                 GITFERRY_ or GITHUB_, and DATABASE_URL, are gitferry's own settings and no \
                 repository may read them"
            );
        }
        write!(
            f,
            "{repository} may not use the variable {variable}: by default a repository may \
             name only variables starting with {prefix}; the operator of gitferry can allow \
             more with the setting {SETTING}, e.g. `{SETTING}={repository}={variable}` \
             (entries `owner/name=PATTERN,…` separated by `;`, `*` as a wildcard)",
            prefix = default_prefix(repository),
        )
    }
}

/// `acme/vault` → `ACME_VAULT_`.
pub fn default_prefix(repository: &str) -> String {
    let mut prefix: String = repository
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    prefix.push('_');
    prefix
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters (none too).
fn glob(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let Some(first) = parts.next() else {
        return text.is_empty();
    };
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty(); // no `*` at all
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> RepoSecrets {
        RepoSecrets::parse("acme/*=ACME_*,SLACK_WEBHOOK_URL; acme/vault=VAULT_TOKEN").unwrap()
    }

    #[test]
    fn no_repository_reads_gitferrys_own_settings_whatever_its_name_or_the_allow_list() {
        let everything = RepoSecrets::parse("*/*=*").expect("valid");
        for (repository, variable) in [
            ("gitferry/api", "GITFERRY_API_TOKEN"),
            ("gitferry/run-link", "GITFERRY_RUN_LINK_KEY"),
            ("github/webhook", "GITHUB_WEBHOOK_SECRET"),
            ("acme/shop", "DATABASE_URL"),
        ] {
            assert!(
                !everything.allows(repository, variable),
                "{repository} {variable}"
            );
            let refused = everything
                .read_with(repository, variable, |_| Some("secret".into()))
                .expect_err("refused");
            assert!(
                refused.to_string().contains("gitferry's own settings"),
                "{refused}"
            );
        }
        assert!(everything.allows("acme/shop", "ACME_SHOP_TOKEN"));
    }

    #[test]
    fn by_default_a_repository_names_only_its_own_prefix() {
        let none = RepoSecrets::default();
        assert!(none.allows("acme/vault", "ACME_VAULT_TOKEN"));
        assert!(none.allows("acme/vault", "ACME_VAULT_SLACK_URL"));
        assert!(!none.allows("acme/vault", "ACME_VAULTX_TOKEN"));
        assert!(!none.allows("acme/vault", "ACME_VAULT"));
        assert!(!none.allows("acme/shop", "ACME_VAULT_TOKEN"));
        assert!(none.allows("My-Org/web.app", "MY_ORG_WEB_APP_KEY"));
        assert_eq!(default_prefix("acme/vault"), "ACME_VAULT_");
    }

    #[test]
    fn the_setting_widens_per_repository_pattern() {
        let allow = example();
        assert!(allow.allows("acme/shop", "ACME_DEPLOY_KEY"));
        assert!(allow.allows("acme/shop", "SLACK_WEBHOOK_URL"));
        assert!(allow.allows("ACME/Shop", "SLACK_WEBHOOK_URL"));
        assert!(allow.allows("acme/vault", "VAULT_TOKEN"));
        assert!(!allow.allows("acme/shop", "VAULT_TOKEN"));
        assert!(!allow.allows("globex/shop", "SLACK_WEBHOOK_URL"));
        assert!(!allow.allows("acme/shop", "SLACK_WEBHOOK_URL_2"));
        let everything = RepoSecrets::parse("*/*=*").unwrap();
        assert!(everything.allows("x/y", "ANYTHING"));
    }

    #[test]
    fn a_bad_setting_is_refused_with_the_entry() {
        for (text, problem) in [
            ("acme/vault", "no `=`"),
            ("acme=X", "the repository must be"),
            ("acme/vault=", "no variable pattern"),
            ("acme/vault=lower_case", "variable patterns use"),
            ("a/b/c=X", "the repository must be"),
        ] {
            let error = RepoSecrets::parse(&format!("ok/ok=OK;{text}")).unwrap_err();
            assert_eq!(error.entry, 2, "{text}");
            assert!(error.to_string().contains(problem), "{error}");
        }
        assert_eq!(RepoSecrets::parse(" ; ").unwrap(), RepoSecrets::default());
    }

    #[test]
    fn a_refusal_says_how_to_allow_it() {
        let text = RepoSecrets::default()
            .refusal("acme/shop", "OTHER_TOKEN")
            .unwrap()
            .to_string();
        assert!(text.contains("starting with ACME_SHOP_"), "{text}");
        assert!(
            text.contains("GITFERRY_REPO_SECRETS=acme/shop=OTHER_TOKEN"),
            "{text}"
        );
    }

    #[test]
    fn reading_refuses_before_looking() {
        let allow = RepoSecrets::default();
        let lookup = |_: &str| Some("value".to_owned());
        assert_eq!(
            allow.read_with("acme/shop", "ACME_SHOP_KEY", lookup),
            Ok("value".to_owned())
        );
        assert!(matches!(
            allow.read_with("acme/shop", "GLOBEX_KEY", lookup),
            Err(SecretError::NotAllowed(_))
        ));
        assert_eq!(
            allow.read_with("acme/shop", "ACME_SHOP_GONE", |_| None),
            Err(SecretError::Missing("ACME_SHOP_GONE".to_owned()))
        );
    }

    #[test]
    fn globs_match_runs_of_characters() {
        assert!(glob("A*", "A"));
        assert!(glob("*_URL", "SLACK_URL"));
        assert!(glob("A*B*C", "AxxBxxC"));
        assert!(!glob("A*B*C", "AxxC"));
        assert!(!glob("AB*BA", "ABA"));
        assert!(glob("X", "X") && !glob("X", "XY"));
    }
}
