//! What the PR shows about its preview: the sticky comment's preview section and the
//! `gitferry/preview` check run's texts. Pure functions of the preview's state.

use crate::github::short_sha;
use crate::report::markdown::{code, code_block, link};

/// The facts a preview section is drawn from.
#[derive(Clone, Debug)]
pub struct PreviewView<'a> {
    pub state: ViewState<'a>,
    pub sha: &'a str,
    pub url: Option<&'a str>,
    pub log_url: Option<&'a str>,
    /// The command prefix (`/`), for the hints.
    pub prefix: &'a str,
    /// When the preview was last deployed, as "3 minutes ago" (the caller knows the clock).
    pub age: Option<&'a str>,
}

#[derive(Clone, Debug)]
pub enum ViewState<'a> {
    Deploying,
    Ready,
    Failed {
        reason: &'a str,
    },
    AwaitingApproval,
    /// Waiting for a free slot, `position` in line (1 = next). Only those ahead of it change
    /// its place, so it is redrawn when one of them starts.
    Queued {
        position: usize,
        max_active: u32,
    },
    /// Waits for these pipeline steps, which run before the deploy.
    AwaitingSteps {
        steps: &'a [String],
    },
    /// Not deployed: `reason` says which steps did not pass.
    Blocked {
        reason: &'a str,
    },
    Destroyed {
        reason: &'a str,
    },
    Expired {
        ttl: &'a str,
    },
}
/// The sticky comment's preview section.
pub fn section(view: &PreviewView<'_>) -> String {
    let sha = code(short_sha(view.sha));
    let p = view.prefix;
    let logs = view
        .log_url
        .map(|url| format!(" · {}", link("deploy log", url)))
        .unwrap_or_default();
    let body = match &view.state {
        ViewState::Deploying => format!("⏳ Deploying {sha}…{logs}"),
        ViewState::Ready => {
            let at = view
                .url
                .map(|url| format!(" at {}", link(url, url)))
                .unwrap_or_default();
            let age = view
                .age
                .map(|a| format!(", deployed {a}"))
                .unwrap_or_default();
            format!(
                "✅ Ready{at} ({sha}{age}){logs}\n\n`{p}preview` redeploys it, \
                 `{p}preview destroy` tears it down."
            )
        }
        ViewState::Failed { reason } => format!(
            "❌ The deploy of {sha} failed{logs}\n\n{}\n\nPush a fix, or comment `{p}preview` to \
             try again.",
            code_block("text", reason)
        ),
        ViewState::AwaitingApproval => format!(
            "⏸️ This pull request comes from a fork, so its preview waits for someone with \
             write access to comment `{p}preview` (needed again after each push). Head: {sha}."
        ),
        ViewState::Queued {
            position,
            max_active,
        } => format!(
            "🕒 Waiting for a free preview slot ({max_active} at most at once): number \
             {position} in line. Head: {sha}."
        ),
        ViewState::AwaitingSteps { steps } => {
            let names: Vec<String> = steps.iter().map(|s| code(s)).collect();
            format!(
                "🕒 Waiting for {} to pass before deploying {sha}.",
                names.join(", ")
            )
        }
        ViewState::Blocked { reason } => format!(
            "⛔ {sha} was not deployed: {}. Push a fix, or comment `{p}retest` to run the \
             steps again.",
            crate::report::markdown::escape(reason)
        ),
        ViewState::Destroyed { reason } => format!(
            "🧹 Destroyed: {}.{logs}",
            crate::report::markdown::escape(reason)
        ),
        ViewState::Expired { ttl } => format!(
            "🧹 Destroyed after {ttl} without activity.{logs} Comment `{p}preview` to bring it \
             back."
        ),
    };
    format!("### Preview\n\n{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(state: ViewState<'static>) -> PreviewView<'static> {
        PreviewView {
            state,
            sha: "0123456789abcdef",
            url: Some("https://pr-7.preview.example.com"),
            log_url: Some("https://gitferry.example.com/runs/r1?token=t"),
            prefix: "/",
            age: Some("2 minutes ago"),
        }
    }

    #[test]
    fn sections_say_what_happened_and_what_to_do() {
        let ready = section(&view(ViewState::Ready));
        assert!(ready.contains("✅ Ready at ["), "{ready}");
        assert!(
            ready.contains("](https://pr-7.preview.example.com)"),
            "{ready}"
        );
        assert!(ready.contains("`0123456`"));
        assert!(ready.contains("`/preview destroy`"));
        let failed = section(&view(ViewState::Failed {
            reason: "`./deploy.sh` failed (exit status 3)",
        }));
        assert!(
            failed.contains("```text\n`./deploy.sh` failed (exit status 3)\n```"),
            "{failed}"
        );
        let queued = section(&view(ViewState::Queued {
            position: 2,
            max_active: 1,
        }));
        assert!(queued.contains("number 2 in line"), "{queued}");
        let expired = section(&view(ViewState::Expired { ttl: "2days" }));
        assert!(
            expired.contains("Comment `/preview` to bring it back"),
            "{expired}"
        );
    }
}
