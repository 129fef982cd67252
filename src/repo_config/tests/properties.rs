//! Whatever arrives, the parser answers (a config or located errors) and never panics.
//!
//! Inputs are kept small so the whole file runs in a few seconds; the size and depth limits
//! are what bound the time for larger inputs, and `hostile.rs` covers those.

use proptest::prelude::*;

use crate::repo_config::{ConfigErrors, parse, parse_bytes};

/// 256 cases each (a few seconds in all); `PROPTEST_CASES=100000` runs a longer search.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok());
    ProptestConfig {
        cases: cases.unwrap_or(256),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Every error points inside the text (or at 1:1 for the file as a whole).
fn located_inside(text: &str, errors: &ConfigErrors) -> bool {
    let lines = text.lines().count().max(1) + 1;
    errors
        .errors()
        .iter()
        .all(|error| error.line >= 1 && error.column >= 1 && error.line <= lines)
}

/// Fragments of YAML and of gitferry's own vocabulary, glued at random.
fn yamlish() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "pipeline:",
        "environments:",
        "preview:",
        "deploy:",
        "provider: kubernetes",
        "provider: command",
        "notify:",
        "drift:",
        "merge_queue:",
        "commands:",
        "roles:",
        "run:",
        "name: unit",
        "on:",
        "slack: X",
        "branch: main",
        "pull_requests:",
        "base: [latest]",
        "ttl: 72h",
        "every: 1m",
        "- ",
        "  ",
        "    ",
        "\n",
        ": ",
        ", ",
        "[",
        "]",
        "{",
        "}",
        "&a ",
        "*a",
        "&b ",
        "*b",
        "!!str ",
        "!x ",
        "<<: ",
        "? ",
        "'",
        "\"",
        "#",
        "|",
        ">",
        "---\n",
        "...\n",
        "{pr}",
        "\t",
        "~",
        "null",
        "0",
        "-1",
        "1.5",
        "true",
        "\u{feff}",
        "é",
    ]);
    prop::collection::vec(token, 0..60).prop_map(|tokens| tokens.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        if let Err(errors) = parse(&text) {
            prop_assert!(located_inside(&text, &errors));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_bytes(&bytes);
    }

    #[test]
    fn yaml_like_documents_never_panic(text in yamlish()) {
        if let Err(errors) = parse(&text) {
            prop_assert!(located_inside(&text, &errors));
            prop_assert!(errors.len() <= ConfigErrors::MAX + 1);
        }
    }

    #[test]
    fn small_mutations_of_a_real_config_never_panic(
        cut in 0..super::full_example::FULL.len(),
        insert in prop::sample::select(vec!["", "  ", "\n", "- ", ": ", "{", "[", "*a", "&a ", "x"]),
    ) {
        let full = super::full_example::FULL;
        let cut = (0..=cut).rev().find(|at| full.is_char_boundary(*at)).unwrap_or(0);
        let text = format!("{}{insert}{}", &full[..cut], &full[cut..]);
        if let Err(errors) = parse(&text) {
            prop_assert!(located_inside(&text, &errors));
        }
    }
}
