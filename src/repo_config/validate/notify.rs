//! Rules for `notify:`.

use super::Context;
use crate::repo_config::load::{Problem, Section};

pub(super) fn check(cx: &mut Context<'_>) {
    for (index, notification) in cx.config.notify.iter().enumerate() {
        if notification.on.is_empty() {
            cx.report(Problem::at(
                cx.item(Section::Notify, index).key("on"),
                "list the events to send, e.g. [preview_ready, tests_failed]",
            ));
        }
    }
}
