//! Small Markdown helpers shared by the grammar's messages and the replies.

/// Longest user-supplied word echoed back; longer ones are cut with `…`, so a reply never
/// repeats a pasted blob.
const MAX_ECHO_CHARS: usize = 64;

/// `text` as an inline code span that survives any backticks inside it, shortened to
/// [`MAX_ECHO_CHARS`]. Code spans also keep `@mentions` in echoed text from notifying anyone.
pub(crate) fn code(text: &str) -> String {
    let shortened: String = match text.char_indices().nth(MAX_ECHO_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    };
    let mut longest = 0;
    let mut run = 0;
    for c in shortened.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if shortened.starts_with('`') || shortened.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{shortened}{pad}{fence}")
}

/// "a", "a or b", "a, b or c".
pub(crate) fn either(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Formats a count with thousands separators (`1,000`), as the replies print it.
pub(crate) fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}
