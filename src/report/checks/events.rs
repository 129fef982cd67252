//! Check run names: `gitferry/<feature>` says which feature owns a run, so a
//! `check_run.rerequested` or `check_run.requested_action` delivery (typed in
//! `github::events`) reaches that feature.

/// The prefix of every check run gitferry creates.
pub const CHECK_PREFIX: &str = "gitferry/";

/// `gitferry/<feature>`.
pub fn check_name(feature: &str) -> String {
    format!("{CHECK_PREFIX}{feature}")
}

/// The feature (or pipeline step) a check run belongs to, if it is one of gitferry's.
pub fn feature_of(check_name: &str) -> Option<&str> {
    check_name
        .strip_prefix(CHECK_PREFIX)
        .filter(|feature| !feature.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_names_carry_the_feature() {
        assert_eq!(check_name("unit"), "gitferry/unit");
        assert_eq!(feature_of("gitferry/drift"), Some("drift"));
        assert_eq!(feature_of("gitferry/"), None);
        assert_eq!(feature_of("ci/build"), None);
    }
}
