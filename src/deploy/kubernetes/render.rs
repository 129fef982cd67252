//! Rendering manifests with a command (`render: [kustomize, build, deploy/preview]`).
//!
//! The command runs in the commit's checkout with the target's `GITFERRY_*` variables. Its
//! standard output is the manifests, taken whole: data with its middle cut out may still
//! parse and mean less (prune would then delete what is missing), so output past the limit
//! fails the deploy instead. Its standard error goes to the deploy log.

use std::time::Duration;

use super::files::MAX_TOTAL_BYTES;
use super::manifests::{self, Manifest};
use crate::deploy::{DeployError, Request};
use crate::process::{self, Spec};
use crate::repo_config::Argv;

/// How long a render command may run: rendering is seconds of work, a hung one must not
/// hold the preview for the whole deploy timeout.
pub const RENDER_TIMEOUT: Duration = Duration::from_secs(5 * 60);

pub async fn run(render: &Argv, request: Request<'_>) -> Result<Vec<Manifest>, DeployError> {
    let command = process::display_command(render.program(), render.args());
    request.log.line(format!("$ {command}"));
    let env = request.target.environment_variables();
    let spec = Spec {
        program: render.program(),
        args: render.args(),
        cwd: request.workspace.root(),
        env: &env,
        timeout: RENDER_TIMEOUT,
        cancel: request.cancel,
        output_cap: crate::runs::log::DEFAULT_CAP,
        sandbox: request.workspace.confinement(),
    };
    let limit = usize::try_from(MAX_TOTAL_BYTES).unwrap_or(usize::MAX);
    let captured = process::run_capturing_stdout(&spec, limit, &|text| request.log.append(text))
        .await
        .map_err(DeployError::from)?;
    if !captured.status.success() {
        return Err(DeployError::CommandFailed {
            command,
            status: process::describe_status(captured.status),
            output_tail: process::output_tail(&captured.stderr),
        });
    }
    let text = String::from_utf8(captured.stdout).map_err(|_| {
        DeployError::Manifests(format!("the output of `{command}` is not UTF-8 text"))
    })?;
    manifests::parse(&format!("the output of `{command}`"), &text, false)
}
