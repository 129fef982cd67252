//! Finding the command lines of a pull-request comment.
//!
//! This step only recognises the *shape* of a command (prefix or mention, then a word); what
//! the word means is [`super::grammar`]'s business, so that a misspelt command still reaches
//! the user as "did you mean…" instead of silence.

use std::borrow::Cow;

use super::markdown;

/// How many commands of one comment are run. A comment can hold thousands of command lines;
/// running them all would let one comment start unbounded work, so the rest are counted and
/// reported, not run.
pub const MAX_COMMANDS: usize = 10;

/// The longest command word recognised. Every real command is far shorter; the cap keeps a
/// pasted blob after a `/` from being echoed back in an "unknown command" reply.
pub const MAX_NAME_LEN: usize = 32;

/// A command line as written: its word and the whitespace-separated words after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawCommand {
    /// 1-based line number in the comment, for replies that point at a line.
    pub line: usize,
    /// The command word, lower-cased, without prefix or mention.
    pub name: String,
    /// The rest of the line split on whitespace (HTML comments removed).
    pub args: Vec<String>,
}

/// The commands of one comment: at most [`MAX_COMMANDS`], in order, and how many more there
/// were, so the reply can say "ran the first 10 of 1,000".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extracted {
    pub commands: Vec<RawCommand>,
    pub dropped: usize,
}

impl Extracted {
    /// How many command lines the comment held, run or not.
    pub fn total(&self) -> usize {
        self.commands.len() + self.dropped
    }
}

/// Extracts the command lines of a comment body.
///
/// A command is a line that, after at most three spaces, starts with `prefix` immediately
/// followed by a command word (`/preview`), or with `@<app_slug>` / `@<app_slug>[bot]` (any
/// case) then whitespace and the word, with or without the prefix (`@gitferry preview`,
/// `@gitferry /preview`). A command word is an ASCII letter followed by letters, digits or
/// `-`, at most [`MAX_NAME_LEN`] long: so `/usr/bin`, `/ preview`, `/2` and `/retest,` are
/// prose, while any other word (`/prevew`) is a command the grammar may reject with a
/// suggestion. An empty `prefix` or `app_slug` turns that form off.
///
/// Lines in block quotes (including their lazy continuation lines), fenced or indented code,
/// code spans and HTML comments are not commands: the writer was quoting or documenting, and
/// GitHub shows them that way. Runs in time linear in `body.len()`.
pub fn extract(body: &str, app_slug: &str, prefix: &str) -> Extracted {
    let mut extracted = Extracted::default();
    markdown::for_each_text_line(body, |line, text: Cow<'_, str>| {
        let Some((name, rest)) = command_word(&text, app_slug, prefix) else {
            return;
        };
        if extracted.commands.len() < MAX_COMMANDS {
            extracted.commands.push(RawCommand {
                line,
                name: name.to_ascii_lowercase(),
                args: rest.split_whitespace().map(str::to_owned).collect(),
            });
        } else {
            extracted.dropped += 1;
        }
    });
    extracted
}

/// The command word and the rest of the line, if `text` starts like a command.
fn command_word<'a>(text: &'a str, app_slug: &str, prefix: &str) -> Option<(&'a str, &'a str)> {
    // The mention first, in case a repository picks `@` as its prefix.
    if let Some(rest) = strip_mention(text, app_slug) {
        let rest = match prefix {
            "" => rest,
            prefix => rest.strip_prefix(prefix).unwrap_or(rest),
        };
        return split_word(rest);
    }
    match prefix {
        "" => None,
        prefix => split_word(text.strip_prefix(prefix)?),
    }
}

/// `text` after a leading `@slug` or `@slug[bot]` and the whitespace that must follow it.
fn strip_mention<'a>(text: &'a str, app_slug: &str) -> Option<&'a str> {
    if app_slug.is_empty() {
        return None;
    }
    let rest = text.strip_prefix('@')?;
    let slug = rest.get(..app_slug.len())?;
    if !slug.eq_ignore_ascii_case(app_slug) {
        return None;
    }
    let rest = &rest[app_slug.len()..];
    let rest = match rest.get(..5) {
        Some(bot) if bot.eq_ignore_ascii_case("[bot]") => &rest[5..],
        _ => rest,
    };
    let trimmed = rest.trim_start();
    (trimmed.len() < rest.len()).then_some(trimmed)
}

/// Splits off the command word; `None` unless it is a plausible command name.
fn split_word(rest: &str) -> Option<(&str, &str)> {
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let (word, rest) = rest.split_at(end);
    let mut chars = word.chars();
    let plausible = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-')
        && word.len() <= MAX_NAME_LEN;
    plausible.then_some((word, rest))
}
