//! Finding a `path:line` in a failure's text, for dialects whose test cases carry no line
//! (Go's `sample_test.go:14: ...`, Jest's stack `(src/a.test.js:7:19)`, pytest xunit2's
//! `tests/test_a.py:15: AssertionError`). Only what the text says is used: a token that looks
//! like a file with an extension followed by `:digits`.

/// The first `path:line` in `text`, preferring one whose path matches `file` when the case
/// already names its file (so a stack frame in a library is not taken for the test's line).
pub(crate) fn find(text: &str, file: Option<&str>) -> Option<(String, u32)> {
    text.lines()
        .flat_map(candidates)
        .find(|(path, _)| file.is_none_or(|f| same_file(f, path)))
}

/// The first `path:line` in `text` whose file name without extension is `stem`: for Java
/// stacks, where the test class's own frame (`CalculatorTest.java:24`) sits below library
/// frames, and the class name says which one it is.
pub(crate) fn find_by_stem(text: &str, stem: &str) -> Option<(String, u32)> {
    text.lines().flat_map(candidates).find(|(path, _)| {
        let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
        name.rsplit_once('.').is_some_and(|(s, _)| s == stem)
    })
}

/// Every `path:line` token on one line, left to right.
fn candidates(line: &str) -> impl Iterator<Item = (String, u32)> + '_ {
    line.match_indices(':').filter_map(move |(colon, _)| {
        let digits: &str = {
            let rest = &line[colon + 1..];
            let end = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            &rest[..end]
        };
        let line_no: u32 = digits.parse().ok().filter(|&n| n > 0)?;
        let before = &line[..colon];
        let start = before.rfind(|c: char| !is_path_char(c)).map_or(0, |at| {
            at + before[at..].chars().next().map_or(1, char::len_utf8)
        });
        let path = &before[start..];
        (has_extension(path) && !path.starts_with("//")).then(|| (path.to_owned(), line_no))
    })
}

fn is_path_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '/' | '\\' | '.' | '_' | '-' | '@' | '+')
}

/// `name.ext` with an extension that starts with a letter: rules out `127.0.0.1:8080` and
/// `12:30`.
fn has_extension(path: &str) -> bool {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    match name.rsplit_once('.') {
        Some((stem, ext)) => {
            !stem.is_empty()
                && ext.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && ext.chars().all(|c| c.is_ascii_alphanumeric())
        }
        None => false,
    }
}

/// One path is the other or ends with it at a directory boundary (`/ci/src/a.js` and
/// `src/a.js`).
fn same_file(a: &str, b: &str) -> bool {
    let ends_with = |long: &str, short: &str| {
        long == short
            || long
                .strip_suffix(short)
                .is_some_and(|head| head.ends_with(['/', '\\']))
    };
    ends_with(a, b) || ends_with(b, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_go_style_locations() {
        let text = "=== RUN   TestFail\n    sample_test.go:14: expected 3\n--- FAIL";
        assert_eq!(find(text, None), Some(("sample_test.go".into(), 14)));
    }

    #[test]
    fn prefers_the_cases_own_file_in_a_stack() {
        let text = "Error: x\n    at lib (node_modules/x/index.js:3:1)\n    at Object.toBe (src/a.test.js:7:19)";
        assert_eq!(
            find(text, Some("src/a.test.js")),
            Some(("src/a.test.js".into(), 7))
        );
        assert_eq!(
            find(text, None),
            Some(("node_modules/x/index.js".into(), 3))
        );
    }

    #[test]
    fn finds_the_test_class_frame_in_a_java_stack() {
        let text = "at org.junit.AssertionUtils.fail(AssertionUtils.java:151)\n\tat com.x.CalcTest.divides(CalcTest.java:24)";
        assert_eq!(
            find_by_stem(text, "CalcTest"),
            Some(("CalcTest.java".into(), 24))
        );
    }

    #[test]
    fn ignores_addresses_times_and_urls() {
        assert_eq!(
            find("connect 127.0.0.1:8080 at 12:30 via http://x.io:443/", None),
            None
        );
        assert_eq!(find("file.rs:0: nothing", None), None);
        assert_eq!(find("ünï.rs:3", None), Some(("ünï.rs".into(), 3)));
    }
}
