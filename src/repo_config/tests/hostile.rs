//! Input written to hurt: each case fails fast with a clear error, never expands or overflows.

use super::{assert_error, errors};
use crate::repo_config::load::{MAX_ALIAS_NODES, MAX_DEPTH};
use crate::repo_config::{MAX_CONFIG_BYTES, parse, parse_bytes};

/// The "billion laughs": nine levels of nine aliases each, 10⁹ strings if expanded.
fn billion_laughs() -> String {
    let mut yaml = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in names.windows(2) {
        let (previous, name) = (pair[0], pair[1]);
        let aliases = vec![format!("*{previous}"); 9].join(", ");
        yaml.push_str(&format!("{name}: &{name} [{aliases}]\n"));
    }
    yaml
}

#[test]
fn an_alias_bomb_is_stopped_before_it_expands() {
    assert_eq!(
        errors(&billion_laughs()),
        [format!(
            "5:8: YAML aliases expand to more than {MAX_ALIAS_NODES} values here; a gitferry config \
             never needs that many (an alias bomb?)"
        )]
    );
}

#[test]
fn a_recursive_alias_is_refused() {
    assert_error(
        "drift: &loop { ignore: [*loop] }\n",
        "1:25: this alias points into the value that defines its own anchor (a recursive alias)",
    );
}

#[test]
fn deep_block_nesting_is_refused() {
    let yaml: String = (0..100)
        .map(|depth| format!("{}a:\n", "  ".repeat(depth)))
        .collect();
    let column = 2 * MAX_DEPTH + 1;
    assert_error(
        &yaml,
        &format!(
            "{}:{column}: the config nests deeper than {MAX_DEPTH} levels",
            MAX_DEPTH + 1
        ),
    );
}

#[test]
fn deep_flow_nesting_is_refused() {
    let shallow_enough_for_the_parser = "[".repeat(100);
    assert_error(
        &shallow_enough_for_the_parser,
        &format!(
            "1:{}: the config nests deeper than {MAX_DEPTH} levels",
            MAX_DEPTH + 1
        ),
    );
    let deeper_than_the_parser_goes = "[".repeat(100_000);
    let found = errors(&deeper_than_the_parser_goes);
    assert_eq!(found.len(), 1);
    assert!(
        found[0].ends_with("the config nests deeper than 64 levels"),
        "{found:?}"
    );
}

#[test]
fn a_ten_megabyte_string_is_refused_by_size() {
    let yaml = format!("drift: {{ every: \"{}\" }}\n", "x".repeat(10 * 1024 * 1024));
    let expected = format!(
        "1:1: the config is {} bytes; the limit is {MAX_CONFIG_BYTES} bytes (1 MiB)",
        yaml.len()
    );
    assert_error(&yaml, &expected);
    let from_bytes = parse_bytes(yaml.as_bytes()).unwrap_err();
    assert_eq!(
        from_bytes.errors()[0].message,
        expected.trim_start_matches("1:1: ")
    );
}

#[test]
fn non_utf8_is_refused_at_the_first_bad_byte() {
    let errors = parse_bytes(b"pipeline:\n  - name: caf\xe9\n").unwrap_err();
    assert_eq!(
        errors.to_string(),
        "2:14: the config is not UTF-8 text (byte 0xe9 here); save it as UTF-8"
    );
}

#[test]
fn a_huge_key_is_quoted_short() {
    let yaml = format!("{}: 1\n", "k".repeat(100_000));
    let found = errors(&yaml);
    assert_eq!(found.len(), 1);
    assert!(found[0].len() < 400, "{}", found[0].len());
}

#[test]
fn thousands_of_errors_are_capped() {
    let yaml: String = (0..5000).map(|i| format!("unknown_{i}: 1\n")).collect();
    let errors = parse(&yaml).unwrap_err();
    assert_eq!(errors.len(), 101);
    assert_eq!(
        errors.errors()[100].message,
        "… and 4900 more errors, not shown"
    );
}

#[test]
fn a_second_document_is_refused() {
    assert_error(
        "drift: {}\n---\nnotify: []\n",
        "2:1: a gitferry config is one YAML document; a second one starts here",
    );
}

#[test]
fn unicode_line_separators_are_refused_where_they_are() {
    assert_error(
        "drift:\n  every: 10m\u{2028}\n",
        "2:13: an invisible line separator (U+2028) is here; delete it",
    );
}
