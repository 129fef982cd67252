//! The Markdown replies to command comments. Pure renderers: the caller posts them.

use std::fmt::Write as _;

use super::auth::Refusal;
use super::extract::{Extracted, MAX_COMMANDS};
use super::grammar::{CommandError, CommandKind};
use super::roles::{Permission, Rules};
use super::text::{code, count};

/// What the replies need to know about the repository to speak its language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyContext<'a> {
    /// The command prefix the repository uses (`/` unless its config says otherwise).
    pub prefix: &'a str,
    /// The App's slug, for the `@slug command` form.
    pub app_slug: &'a str,
    /// The repository owner, under which bare team slugs are shown.
    pub org: &'a str,
}

/// `/help`: every command with its usage, what it does and who may run it under `rules`
/// (the effective rules, so the table tells the truth about this repository).
pub fn help(rules: &Rules, cx: &ReplyContext<'_>) -> String {
    let mut out = String::from("### gitferry commands\n\nComment a command on a line of its own");
    if !cx.app_slug.is_empty() {
        let _ = write!(
            out,
            ", or mention the app: {}",
            code(&format!("@{} preview", cx.app_slug))
        );
    }
    let _ = writeln!(
        out,
        ". Commands in quotes, code blocks and code spans are ignored, and at most \
         {MAX_COMMANDS} run per comment.\n"
    );
    out.push_str("| Command | What it does | Who can run it |\n| --- | --- | --- |\n");
    for kind in CommandKind::ALL {
        let mut who = if kind == CommandKind::Approve {
            // Approvals are the environment's to grant, like a review "approve".
            "whoever the environment's `approvals` name (default: admin permission)".to_owned()
        } else {
            rules.rule(kind, None).describe(cx.org)
        };
        for (env, rule) in rules.environment_rules(kind) {
            let _ = write!(who, "<br>on {}: {}", code(env), rule.describe(cx.org));
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            cell(&code(&format!("{}{}", cx.prefix, kind.usage()))),
            cell(kind.summary()),
            cell(&who),
        );
    }
    out
}

/// A refused command: mentions the actor, names what it needs and says nothing happened.
pub fn refusal(actor_login: &str, refusal: &Refusal, cx: &ReplyContext<'_>) -> String {
    let mut out = format!("@{actor_login} {}", refusal.sentence(cx.prefix, cx.org));
    if !refusal.rule.admits_no_one() {
        match refusal.actor_permission {
            Permission::None => out.push_str(" You have no role in this repository."),
            permission => {
                let _ = write!(out, " You have {permission} permission.");
            }
        }
    }
    if refusal.fork_author {
        out.push_str(" The author of a pull request from a fork cannot run it.");
    }
    out.push_str(" Nothing was changed.\n");
    out
}

/// An unknown command (with the closest one, if any) or bad arguments (with the usage).
pub fn command_error(error: &CommandError, cx: &ReplyContext<'_>) -> String {
    match error {
        CommandError::Unknown { name, suggestion } => {
            let mut out = format!(
                "{} is not a command.",
                code(&format!("{}{name}", cx.prefix))
            );
            if let Some(meant) = suggestion {
                let _ = write!(
                    out,
                    " Did you mean {}?",
                    code(&format!("{}{meant}", cx.prefix))
                );
            }
            let _ = writeln!(out, " Try {}.", code(&format!("{}help", cx.prefix)));
            out
        }
        CommandError::BadArguments {
            command,
            usage,
            problem,
        } => format!(
            "{}: {problem}. Nothing was changed.\n\nUsage: {}\n",
            code(&format!("{}{command}", cx.prefix)),
            code(&format!("{}{usage}", cx.prefix)),
        ),
    }
}

/// Commands that someone added by editing another person's comment. GitHub lets
/// collaborators edit each other's comments; running them would act with the author's role
/// (an admin's comment edited by a writer to say `/approve`), so none runs. `commands` are
/// the added command lines as written (`/approve`).
pub fn edited_by_someone_else(editor: &str, author: &str, commands: &[String]) -> String {
    let listed: Vec<String> = commands.iter().map(|c| code(c)).collect();
    let (they, was, them) = if commands.len() == 1 {
        ("it", "was", "it")
    } else {
        ("they", "were", "them")
    };
    format!(
        "@{editor} {} {was} added by your edit of a comment @{author} wrote, so {they} did \
         not run: commands run as the person who wrote the comment. Nothing was changed. To \
         run {them}, write {them} in a comment of your own.\n",
        all_of(&listed),
    )
}

/// "a", "a and b", "a, b and c".
fn all_of(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The note for a comment with more commands than are run, or `None` if all ran.
pub fn too_many_commands(extracted: &Extracted) -> Option<String> {
    (extracted.dropped > 0).then(|| {
        format!(
            "Ran the first {} of {} commands in this comment; the rest were ignored.\n",
            count(extracted.commands.len()),
            count(extracted.total()),
        )
    })
}

/// `/help` in a repository without `.github/gitferry.yml`: the only thing gitferry says
/// there, so it explains how to start.
pub fn not_configured(cx: &ReplyContext<'_>) -> String {
    format!(
        "gitferry isn't configured for this repository yet: add `.github/gitferry.yml` on the \
         default branch, for example:\n\
         \n\
         ```yaml\n\
         pipeline:\n\
         \x20 - name: unit\n\
         \x20   run: [make, test]\n\
         ```\n\
         \n\
         gitferry reads the file from the default branch only, so it takes effect once merged; \
         a pull request that adds or changes it gets a `gitferry/config` check that validates \
         it first. Then {} lists the commands.\n",
        code(&format!("{}help", cx.prefix)),
    )
}

/// Text for a Markdown table cell: pipes would end the cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}
