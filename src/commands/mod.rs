//! Slash commands: finding them in a comment, parsing them, deciding who may run them, and the
//! replies. Everything here is pure; the caller does the I/O. For each comment:
//!
//! 1. [`extract`] the command lines (at most [`MAX_COMMANDS`]; if
//!    [`replies::too_many_commands`] has a note, post it).
//! 2. [`parse_command`] each; on error reply [`replies::command_error`].
//! 3. Look up the actor's permission ([`Permission::from_github`]) and the memberships of
//!    [`Rules::teams_to_check`] (often none), then [`authorize`]; on refusal reply
//!    [`replies::refusal`]. Either way, write the audit entry ([`Command::name`],
//!    [`Command`]'s `Display` for the arguments).
//! 4. Run the handler for the [`Command`].

pub mod approval;
mod auth;
mod config_rules;
mod extract;
mod grammar;
pub mod handler;
pub mod lookup;
mod markdown;
pub mod replies;
pub mod rerun;
mod roles;
mod text;

pub use auth::{Refusal, authorize};
pub use config_rules::{permission as config_permission, rules_from_config};
pub use extract::{Extracted, MAX_COMMANDS, MAX_NAME_LEN, RawCommand, extract};
pub use grammar::{
    Command, CommandError, CommandKind, MAX_PRIORITY, MAX_REASON_LEN, parse_command,
};
pub use replies::ReplyContext;
pub use roles::{Actor, Permission, PullRequestFacts, Rule, Rules, RulesError, UnknownPermission};

#[cfg(test)]
mod tests;
