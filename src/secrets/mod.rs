//! Secrets a repository's config names: which variables it may name ([`allow`]), and masking
//! their values wherever output goes ([`mask`]).

pub mod allow;
pub mod mask;

pub use allow::{RepoSecrets, SecretError};
pub use mask::{MASK, Masker, StreamMasker};

use crate::repo_config::{RepoConfig, named_variables};

/// A masker for every value `repository`'s config names that it may use: for output of work
/// that is given none of them (a deploy, a destroy), should a value reach it anyway. Variables
/// that are not set or not the repository's are left out (nothing to mask).
pub fn repo_masker(config: &RepoConfig, repository: &str, secrets: &RepoSecrets) -> Masker {
    let values: Vec<String> = named_variables(config)
        .into_iter()
        .filter_map(|name| secrets.read(repository, name.as_str()).ok())
        .collect();
    Masker::new(values.iter().map(String::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repositorys_masker_holds_the_values_it_may_name_and_no_others() {
        // SAFETY: uniquely named variables no other test reads or writes.
        unsafe {
            std::env::set_var("ACME_MASKTEST_SLACK", "https://hooks.example/T/B/abc");
            std::env::set_var("GLOBEX_MASKTEST_TOKEN", "globex-token-value");
        }
        let config = crate::repo_config::parse(
            "pipeline:\n  - name: a\n    run: [x]\n    env:\n      T: { secret: GLOBEX_MASKTEST_TOKEN }\nnotify:\n  - { on: [promoted], slack: ACME_MASKTEST_SLACK }\n",
        )
        .expect("valid without an allow-list");
        let masker = repo_masker(&config, "acme/masktest", &RepoSecrets::default());
        assert_eq!(
            masker.mask("posting to https://hooks.example/T/B/abc with globex-token-value"),
            "posting to *** with globex-token-value"
        );
    }
}
