//! Commands added by editing someone else's comment: GitHub lets collaborators edit each
//! other's comments, and such a command would otherwise act with the author's role.

use super::{
    AppContext, Event, Extracted, HandlerError, InstallationClient, Payload, ReplyContext, Rules,
    Session, info, replies,
};

/// Most characters of an unparsed command line kept in the audit log.
const MAX_AUDITED_CHARS: usize = 120;

/// The comment's author, when the sender is someone else: an edit of another person's
/// comment (GitHub lets collaborators edit each other's comments).
pub(super) fn edited_by_someone_else(payload: &Payload) -> Option<&str> {
    let author = &payload.comment.user.login;
    (!payload.sender.login.eq_ignore_ascii_case(author)).then_some(author.as_str())
}

/// Answers an edit of someone else's comment that added commands: none runs, each is
/// audited as refused with the editor as actor, and the reply says why.
pub(super) async fn refuse_foreign_edit(
    ctx: &AppContext,
    gh: &InstallationClient,
    payload: &Payload,
    event: &Event,
    extracted: &Extracted,
    author: &str,
    prefix: &str,
) -> Result<(), HandlerError> {
    let editor = &payload.sender.login;
    let written: Vec<String> = extracted
        .commands
        .iter()
        .map(|c| {
            format!("{prefix}{} {}", c.name, c.args.join(" "))
                .trim_end()
                .to_owned()
        })
        .collect();
    let session = Session {
        ctx,
        gh,
        payload,
        event,
        rules: &Rules::default(),
        cx: &ReplyContext {
            prefix,
            app_slug: "",
            org: "",
        },
        pull: None,
    };
    let detail = format!("added by @{editor} editing a comment of @{author}; not run");
    for (index, command) in written.iter().enumerate() {
        // As written, so possibly long: the audit keeps the start.
        let action: String = command
            .strip_prefix(prefix)
            .unwrap_or(command)
            .chars()
            .take(MAX_AUDITED_CHARS)
            .collect();
        session
            .audit(index, &action, "refused", Some(detail.clone()))
            .await?;
    }
    info!(
        editor = %editor,
        author = %author,
        "commands added by editing someone else's comment were not run"
    );
    let identity = ctx.identity().await?.clone();
    session
        .answer(
            &identity.bot_login(),
            &replies::edited_by_someone_else(editor, author, &written),
        )
        .await?;
    Ok(())
}
