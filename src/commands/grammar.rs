//! What each command word means and which arguments it takes.

use std::fmt;

use super::extract::RawCommand;
use super::text::code;

/// The commands, without their arguments: what rules, help rows and audit entries are keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CommandKind {
    Help,
    Preview,
    Retest,
    Drift,
    Approve,
    Promote,
    Rollback,
    Queue,
    Dequeue,
    QueueFreeze,
    QueueUnfreeze,
}

impl CommandKind {
    /// Every command, in the order `/help` lists them.
    pub const ALL: [CommandKind; 11] = [
        CommandKind::Help,
        CommandKind::Preview,
        CommandKind::Retest,
        CommandKind::Drift,
        CommandKind::Approve,
        CommandKind::Queue,
        CommandKind::Dequeue,
        CommandKind::QueueFreeze,
        CommandKind::QueueUnfreeze,
        CommandKind::Promote,
        CommandKind::Rollback,
    ];

    /// The name as typed after the prefix (`queue freeze`); also the audit log's name.
    pub fn name(self) -> &'static str {
        match self {
            CommandKind::Help => "help",
            CommandKind::Preview => "preview",
            CommandKind::Retest => "retest",
            CommandKind::Drift => "drift",
            CommandKind::Approve => "approve",
            CommandKind::Promote => "promote",
            CommandKind::Rollback => "rollback",
            CommandKind::Queue => "queue",
            CommandKind::Dequeue => "dequeue",
            CommandKind::QueueFreeze => "queue freeze",
            CommandKind::QueueUnfreeze => "queue unfreeze",
        }
    }

    /// The kind for a name as a config file may spell it: `queue freeze`, `queue_freeze` or
    /// `queue-freeze` (any case).
    pub fn from_name(name: &str) -> Option<CommandKind> {
        let normalised = name.trim().to_ascii_lowercase().replace(['_', '-'], " ");
        CommandKind::ALL
            .into_iter()
            .find(|kind| kind.name() == normalised)
    }

    /// The syntax, without the prefix (replies add the repository's prefix).
    pub fn usage(self) -> &'static str {
        match self {
            CommandKind::Help => "help",
            CommandKind::Preview => "preview [destroy | <sha>]",
            CommandKind::Retest => "retest [<step>] [<sha>]",
            CommandKind::Drift => "drift",
            CommandKind::Approve => "approve",
            CommandKind::Promote => "promote <environment>",
            CommandKind::Rollback => "rollback <environment> [<release>]",
            CommandKind::Queue => "queue [p=<0-9>]",
            CommandKind::Dequeue => "dequeue",
            CommandKind::QueueFreeze => "queue freeze [<reason>]",
            CommandKind::QueueUnfreeze => "queue unfreeze",
        }
    }

    /// One sentence for `/help`.
    pub fn summary(self) -> &'static str {
        match self {
            CommandKind::Help => "Lists the commands and who may run them.",
            CommandKind::Preview => {
                "Deploys this pull request's preview environment again (approving that commit \
                 of a fork), or destroys it."
            }
            CommandKind::Retest => "Runs the pipeline again on the head commit, or one step of it.",
            CommandKind::Drift => "Compares the target environment with Git and reports the diff.",
            CommandKind::Approve => {
                "Approves a promotion pull request; who may is the environment's `approvals`."
            }
            CommandKind::Queue => {
                "Adds this pull request to the merge queue; a higher priority (0-9) goes first."
            }
            CommandKind::Dequeue => "Takes this pull request out of the merge queue.",
            CommandKind::QueueFreeze => "Stops the merge queue from merging anything.",
            CommandKind::QueueUnfreeze => "Lets a frozen merge queue merge again.",
            CommandKind::Promote => "Promotes the tested release to an environment.",
            CommandKind::Rollback => {
                "Rolls an environment back to its last good release, or to a given one (`production-3` or a commit)."
            }
        }
    }

    /// Whether the command names an environment, and so can have per-environment rules.
    pub fn takes_environment(self) -> bool {
        matches!(self, CommandKind::Promote | CommandKind::Rollback)
    }
}

impl fmt::Display for CommandKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The highest merge-queue priority. Ten levels (0-9, higher goes first) are enough to say
/// "hotfix before features" without inviting priority inflation.
pub const MAX_PRIORITY: u8 = 9;

/// Longest `/queue freeze` reason kept: it is shown in the sticky comment and the audit log.
pub const MAX_REASON_LEN: usize = 500;

/// A command with its arguments checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    /// `sha`: the commit the commenter approves (7 to 40 hex digits, lower-cased); `None`
    /// means the head as it was when the comment was written.
    Preview {
        destroy: bool,
        sha: Option<String>,
    },
    /// `step`: a pipeline step name (checked against the config by the handler); `sha` as for
    /// `Preview`.
    Retest {
        step: Option<String>,
        sha: Option<String>,
    },
    Drift,
    Approve,
    Promote {
        env: String,
    },
    /// `sha`: a commit (7 to 40 hex digits, lower-cased) or a release's version
    /// (`production-3`); `None` means the last good release before the current one.
    Rollback {
        env: String,
        sha: Option<String>,
    },
    /// `priority`: 0..=[`MAX_PRIORITY`], higher first; `None` leaves the queue's default.
    Queue {
        priority: Option<u8>,
    },
    Dequeue,
    /// `reason`: the rest of the line, whitespace collapsed to single spaces.
    QueueFreeze {
        reason: Option<String>,
    },
    QueueUnfreeze,
}

impl Command {
    pub fn kind(&self) -> CommandKind {
        match self {
            Command::Help => CommandKind::Help,
            Command::Preview { .. } => CommandKind::Preview,
            Command::Retest { .. } => CommandKind::Retest,
            Command::Drift => CommandKind::Drift,
            Command::Approve => CommandKind::Approve,
            Command::Promote { .. } => CommandKind::Promote,
            Command::Rollback { .. } => CommandKind::Rollback,
            Command::Queue { .. } => CommandKind::Queue,
            Command::Dequeue => CommandKind::Dequeue,
            Command::QueueFreeze { .. } => CommandKind::QueueFreeze,
            Command::QueueUnfreeze => CommandKind::QueueUnfreeze,
        }
    }

    /// The audit log's name for the command (`queue freeze`).
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    pub fn usage(&self) -> &'static str {
        self.kind().usage()
    }

    /// The environment the command acts on, for per-environment rules.
    pub fn environment(&self) -> Option<&str> {
        match self {
            Command::Promote { env } | Command::Rollback { env, .. } => Some(env),
            _ => None,
        }
    }
}

/// The canonical spelling without the prefix (`rollback production abc1234`, `queue p=3`),
/// for the audit log.
impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        match self {
            Command::Preview { destroy: true, .. } => f.write_str(" destroy"),
            Command::Preview {
                sha: Some(sha),
                destroy: false,
            } => write!(f, " {sha}"),
            Command::Retest { step, sha } => {
                for word in [step, sha].into_iter().flatten() {
                    write!(f, " {word}")?;
                }
                Ok(())
            }
            Command::Promote { env } => write!(f, " {env}"),
            Command::Rollback { env, sha } => {
                write!(f, " {env}")?;
                sha.as_ref().map_or(Ok(()), |sha| write!(f, " {sha}"))
            }
            Command::Queue { priority: Some(p) } => write!(f, " p={p}"),
            Command::QueueFreeze {
                reason: Some(reason),
            } => write!(f, " {reason}"),
            _ => Ok(()),
        }
    }
}

/// Why a command line is not a command gitferry can run. Both become a reply; neither is
/// audited as an attempt to act.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("`{name}` is not a command")]
    Unknown {
        name: String,
        /// The closest command name, when one is close enough to be what was meant.
        suggestion: Option<&'static str>,
    },
    #[error("bad arguments to `{command}`: {problem} (usage: `{usage}`)")]
    BadArguments {
        command: &'static str,
        usage: &'static str,
        /// Markdown: arguments are quoted in code spans.
        problem: String,
    },
}

/// Turns a command line into a [`Command`], checking its arguments.
///
/// `/help` ignores arguments (asking for help should never fail). Keywords (`destroy`,
/// `freeze`, `p=`) are matched in any case; environment and step names are kept as written.
pub fn parse_command(raw: &RawCommand) -> Result<Command, CommandError> {
    let args: Vec<&str> = raw.args.iter().map(String::as_str).collect();
    match raw.name.to_ascii_lowercase().as_str() {
        "help" => Ok(Command::Help),
        "preview" => match args.as_slice() {
            [] => Ok(Command::Preview {
                destroy: false,
                sha: None,
            }),
            [word] if word.eq_ignore_ascii_case("destroy") => Ok(Command::Preview {
                destroy: true,
                sha: None,
            }),
            [word] if is_sha(word) => Ok(Command::Preview {
                destroy: false,
                sha: Some(word.to_ascii_lowercase()),
            }),
            [word, ..] => Err(unexpected(CommandKind::Preview, word)),
        },
        // A word of 7 to 40 hex digits is a commit, anything else a step name.
        "retest" => match args.as_slice() {
            [] => Ok(Command::Retest {
                step: None,
                sha: None,
            }),
            [sha] if is_sha(sha) => Ok(Command::Retest {
                step: None,
                sha: Some(sha.to_ascii_lowercase()),
            }),
            [step] => {
                check_name(CommandKind::Retest, step, "step", 100)?;
                Ok(Command::Retest {
                    step: Some((*step).to_owned()),
                    sha: None,
                })
            }
            [step, sha] if is_sha(sha) => {
                check_name(CommandKind::Retest, step, "step", 100)?;
                Ok(Command::Retest {
                    step: Some((*step).to_owned()),
                    sha: Some(sha.to_ascii_lowercase()),
                })
            }
            [_, extra, ..] => Err(unexpected(CommandKind::Retest, extra)),
        },
        "drift" => no_arguments(CommandKind::Drift, &args).map(|()| Command::Drift),
        "approve" => no_arguments(CommandKind::Approve, &args).map(|()| Command::Approve),
        "dequeue" => no_arguments(CommandKind::Dequeue, &args).map(|()| Command::Dequeue),
        "promote" => match args.as_slice() {
            [] => Err(bad(
                CommandKind::Promote,
                "name the environment to promote to".into(),
            )),
            [env] => Ok(Command::Promote {
                env: environment(CommandKind::Promote, env)?,
            }),
            [_, extra, ..] => Err(unexpected(CommandKind::Promote, extra)),
        },
        "rollback" => parse_rollback(&args),
        "queue" => parse_queue(&args),
        name => Err(CommandError::Unknown {
            name: name.to_owned(),
            suggestion: suggest(name),
        }),
    }
}

fn parse_rollback(args: &[&str]) -> Result<Command, CommandError> {
    let kind = CommandKind::Rollback;
    match args {
        [] => Err(bad(kind, "name the environment to roll back".into())),
        [env] => Ok(Command::Rollback {
            env: environment(kind, env)?,
            sha: None,
        }),
        [env, to] => {
            let env = environment(kind, env)?;
            // A release's version (`production-3`) or a commit.
            let sha = match to
                .strip_prefix(env.as_str())
                .and_then(|n| n.strip_prefix('-'))
            {
                Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                    to.to_ascii_lowercase()
                }
                _ => commit_sha(to)?,
            };
            Ok(Command::Rollback {
                env,
                sha: Some(sha),
            })
        }
        [_, _, extra, ..] => Err(unexpected(kind, extra)),
    }
}

fn parse_queue(args: &[&str]) -> Result<Command, CommandError> {
    match args {
        [] => Ok(Command::Queue { priority: None }),
        [word, reason @ ..] if word.eq_ignore_ascii_case("freeze") => {
            let reason = reason.join(" ");
            if reason.chars().count() > MAX_REASON_LEN {
                return Err(bad(
                    CommandKind::QueueFreeze,
                    format!("the reason is longer than {MAX_REASON_LEN} characters"),
                ));
            }
            Ok(Command::QueueFreeze {
                reason: (!reason.is_empty()).then_some(reason),
            })
        }
        [word, rest @ ..] if word.eq_ignore_ascii_case("unfreeze") => {
            no_arguments(CommandKind::QueueUnfreeze, rest).map(|()| Command::QueueUnfreeze)
        }
        [word] => match priority_value(word) {
            Some(value) => Ok(Command::Queue {
                priority: Some(priority(value)?),
            }),
            None => {
                let mut error = unexpected(CommandKind::Queue, word);
                if let CommandError::BadArguments { problem, .. } = &mut error
                    && let Some(meant) = closest(word, &["freeze", "unfreeze"])
                {
                    problem.push_str(&format!("; did you mean {}?", code(meant)));
                }
                Err(error)
            }
        },
        [_, extra, ..] => Err(unexpected(CommandKind::Queue, extra)),
    }
}

/// The value of `p=<n>` or `priority=<n>`, if `word` has that shape.
fn priority_value(word: &str) -> Option<&str> {
    let (key, value) = word.split_once('=')?;
    (key.eq_ignore_ascii_case("p") || key.eq_ignore_ascii_case("priority")).then_some(value)
}

fn priority(value: &str) -> Result<u8, CommandError> {
    value
        .parse::<u8>()
        .ok()
        .filter(|p| *p <= MAX_PRIORITY)
        .ok_or_else(|| {
            bad(
                CommandKind::Queue,
                format!(
                    "the priority must be a whole number from 0 to {MAX_PRIORITY} \
                     (higher goes first), not {}",
                    code(value)
                ),
            )
        })
}

/// Whether `word` has the shape of a commit sha (7 to 40 hex digits).
fn is_sha(word: &str) -> bool {
    (7..=40).contains(&word.len()) && word.bytes().all(|b| b.is_ascii_hexdigit())
}

fn commit_sha(sha: &str) -> Result<String, CommandError> {
    if is_sha(sha) {
        Ok(sha.to_ascii_lowercase())
    } else {
        Err(bad(
            CommandKind::Rollback,
            format!(
                "{} is not a commit SHA (7 to 40 hexadecimal characters)",
                code(sha)
            ),
        ))
    }
}

fn environment(kind: CommandKind, env: &str) -> Result<String, CommandError> {
    check_name(kind, env, "environment", 63)?;
    Ok(env.to_owned())
}

/// Names (steps, environments) are echoed in replies and looked up in config: letters,
/// digits, `.`, `_`, `-`, `/`, `:`, starting with a letter or digit.
fn check_name(kind: CommandKind, name: &str, what: &str, max: usize) -> Result<(), CommandError> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || "._-/:".contains(c))
        && name.len() <= max;
    if ok {
        Ok(())
    } else {
        Err(bad(
            kind,
            format!("{} is not a valid {what} name", code(name)),
        ))
    }
}

fn no_arguments(kind: CommandKind, args: &[&str]) -> Result<(), CommandError> {
    match args.first() {
        None => Ok(()),
        Some(word) => Err(unexpected(kind, word)),
    }
}

fn unexpected(kind: CommandKind, word: &str) -> CommandError {
    bad(kind, format!("unexpected {}", code(word)))
}

fn bad(kind: CommandKind, problem: String) -> CommandError {
    CommandError::BadArguments {
        command: kind.name(),
        usage: kind.usage(),
        problem,
    }
}

/// Words that are not commands but clearly mean one.
const ALIASES: &[(&str, &str)] = &[
    ("freeze", "queue freeze"),
    ("unfreeze", "queue unfreeze"),
    ("queue-freeze", "queue freeze"),
    ("queue-unfreeze", "queue unfreeze"),
];

/// The command an unknown word most likely meant: the nearest name by Damerau-Levenshtein
/// distance, if within 1 edit (2 for words of 7+ letters). Tighter than "nearest" so that
/// prose like `/tmp` or `/revert` gets no misleading suggestion.
fn suggest(name: &str) -> Option<&'static str> {
    if let Some(&(_, meant)) = ALIASES.iter().find(|(alias, _)| *alias == name) {
        return Some(meant);
    }
    let names: Vec<&'static str> = CommandKind::ALL
        .iter()
        .map(|kind| kind.name())
        .filter(|name| !name.contains(' '))
        .collect();
    closest(name, &names)
}

fn closest(word: &str, candidates: &[&'static str]) -> Option<&'static str> {
    let word = word.to_ascii_lowercase();
    let limit = if word.chars().count() >= 7 { 2 } else { 1 };
    candidates
        .iter()
        .map(|candidate| (strsim::damerau_levenshtein(&word, candidate), *candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}
