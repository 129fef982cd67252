//! Running child processes: deploy commands, render commands, pipeline steps.
//!
//! Everything gitferry runs on its own host goes through [`run`] (or [`run_capturing_stdout`]
//! for a command whose output is data), so the rules of the trust boundary (design principle
//! 4) are enforced in one place:
//!
//! - **No shell.** The program and its arguments go to the OS as they are; a branch named
//!   `$(touch /tmp/pwned)` is just bytes in an argument or an environment variable.
//! - **No secrets.** The child's environment is cleared and gets only [`INHERITED_VARIABLES`]
//!   plus what the caller passes, so `GITHUB_PRIVATE_KEY`, `DATABASE_URL` and friends stay in
//!   gitferry.
//! - **Nothing left behind.** The child leads its own process group. On timeout or cancel the
//!   whole group gets `SIGTERM`, then `SIGKILL` after [`KILL_GRACE`]; after a normal exit,
//!   whatever the command left running in its group is killed too.
//! - **Bounded memory.** Output streams to a callback as it arrives; only a capped copy is kept.
//! - **Confined.** The run's [`Confinement`] (Landlock, another user, a private `HOME` and
//!   `TMPDIR`; see `sandbox`) is applied to the child before `exec`, or the command refuses to
//!   run.

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::unix::pipe;
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

use crate::runs::RunLog;
use crate::sandbox::{Confinement, SandboxError};

/// How long a stopped command gets between `SIGTERM` and `SIGKILL`: long enough for a script to
/// remove a lock file or print why it stopped, short enough that a shutdown is not held up.
pub const KILL_GRACE: Duration = Duration::from_secs(2);

/// Variables of gitferry's own environment that a child gets, when they are set. Everything
/// else (notably gitferry's secrets) is withheld: tools need a `PATH`, a home, a locale, a time
/// zone and a temp folder to behave normally, and nothing more. A confined child's `HOME` and
/// `TMPDIR` are its run's private ones instead (see `sandbox::confinement`).
pub const INHERITED_VARIABLES: &[&str] = &["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"];

/// How long to keep reading output once the command is over. Only a process that escaped the
/// group (`setsid`) can still hold the pipes open then, and it must not hold up the caller.
const DRAIN_LIMIT: Duration = KILL_GRACE;

/// What to run, where, and for how long.
pub struct Spec<'a> {
    /// The program (argv\[0\]). A name without a `/` is looked up on `PATH`; one with a `/`
    /// (`./scripts/deploy.sh`) is resolved relative to `cwd`, never to gitferry's own working
    /// folder.
    pub program: &'a str,
    pub args: &'a [String],
    /// The working folder, e.g. the workspace's root.
    pub cwd: &'a Path,
    /// Variables added to the minimal inherited environment ([`INHERITED_VARIABLES`]); they
    /// win over inherited ones of the same name.
    pub env: &'a [(&'a str, String)],
    /// How long the command may run before it is stopped.
    pub timeout: Duration,
    /// Stops the command when cancelled (a newer push, a shutdown).
    pub cancel: &'a CancellationToken,
    /// Most bytes of output kept in [`Outcome::output`] (at least 64). Beyond it the start and
    /// the end are kept and the middle is replaced by a short `… N bytes left out …` marker, as
    /// in the deploy log: the start says what the command set out to do, the end why it failed.
    pub output_cap: usize,
    /// What the child may touch: its run's confinement (the workspace's).
    pub sandbox: &'a Confinement,
}

/// A command that ran to its end (successfully or not: check `status`).
#[derive(Debug)]
pub struct Outcome {
    pub status: ExitStatus,
    /// Standard output and standard error in the order the command wrote them (they share one
    /// pipe), capped ([`Spec::output_cap`]); invalid UTF-8 is replaced.
    pub output: String,
}

/// A command run with [`run_capturing_stdout`] that ran to its end.
#[derive(Debug)]
pub struct Captured {
    pub status: ExitStatus,
    /// Standard output, byte for byte.
    pub stdout: Vec<u8>,
    /// Standard error, capped ([`Spec::output_cap`]); invalid UTF-8 is replaced.
    pub stderr: String,
}

/// Why a command did not run to its end, or its output cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot run `{command}`: {reason}")]
    Spawn { command: String, reason: String },
    #[error("cannot run `{command}`: {source}")]
    Sandbox {
        command: String,
        #[source]
        source: SandboxError,
    },
    #[error("`{command}` did not finish within {}", humantime::format_duration(*.after))]
    Timeout {
        command: String,
        after: Duration,
        /// What it printed before it was stopped (capped).
        output: String,
    },
    #[error("cancelled")]
    Cancelled {
        /// What it printed before it was stopped (capped).
        output: String,
    },
    #[error("`{command}` printed more than {limit} bytes on its standard output")]
    OutputTooLarge { command: String, limit: usize },
    #[error("cannot read the output of `{command}`: {source}")]
    Io {
        command: String,
        #[source]
        source: io::Error,
    },
}

/// Runs a command to its end, streaming its output to `on_output` (e.g. into a
/// [`RunLog`]) as it arrives.
///
/// Returns `Ok` whatever the exit status; only not being able to start, a timeout, a cancel or
/// a broken pipe are errors. The child and everything it started in its process group are gone
/// when this returns, also when the returned future is dropped early.
pub async fn run(
    spec: &Spec<'_>,
    on_output: &(dyn Fn(&str) + Send + Sync),
) -> Result<Outcome, ProcessError> {
    let (status, output) = execute(spec, on_output, None).await?;
    Ok(Outcome {
        status,
        output: output.into_text(),
    })
}

/// Runs a command whose standard output is data, e.g. manifests from `kustomize build`: that
/// is returned whole and apart, while standard error streams to `on_stderr` as [`run`] streams
/// all output (and is what [`ProcessError::Timeout`] and [`ProcessError::Cancelled`] carry).
///
/// Standard output is never cut: data with its middle missing may still parse, and mean
/// something else (a manifest list without some objects, which prune would then delete). Past
/// `stdout_limit` bytes the run is [`ProcessError::OutputTooLarge`] instead; the command still
/// runs to its end, its further output discarded.
pub async fn run_capturing_stdout(
    spec: &Spec<'_>,
    stdout_limit: usize,
    on_stderr: &(dyn Fn(&str) + Send + Sync),
) -> Result<Captured, ProcessError> {
    let (status, mut output) = execute(spec, on_stderr, Some(stdout_limit)).await?;
    let stdout = output.data.take().and_then(Data::into_bytes);
    let Some(stdout) = stdout else {
        return Err(ProcessError::OutputTooLarge {
            command: display_command(spec.program, spec.args),
            limit: stdout_limit,
        });
    };
    Ok(Captured {
        status,
        stdout,
        stderr: output.into_text(),
    })
}

/// Runs the command to its end or stops it; with `stdout_limit`, standard output is kept as
/// data instead of being streamed.
async fn execute<'a>(
    spec: &Spec<'_>,
    on_output: &'a (dyn Fn(&str) + Send + Sync),
    stdout_limit: Option<usize>,
) -> Result<(ExitStatus, Output<'a>), ProcessError> {
    let command = display_command(spec.program, spec.args);
    if spec.cancel.is_cancelled() {
        return Err(ProcessError::Cancelled {
            output: String::new(),
        });
    }
    let prepared = build_command(spec).map_err(|source| ProcessError::Sandbox {
        command: command.clone(),
        source,
    })?;
    let (mut child, stdout, stderr) =
        spawn(prepared, stdout_limit.is_some()).map_err(|error| ProcessError::Spawn {
            reason: spawn_failure(spec, &error),
            command: command.clone(),
        })?;
    let io_error = |source| ProcessError::Io {
        command: command.clone(),
        source,
    };
    let mut group = ProcessGroup::of(&child).map_err(io_error)?;
    let mut output = Output {
        stdout: Pipe::new(stdout),
        stderr: Pipe::new(stderr),
        on_output,
        kept: RunLog::with_cap(spec.output_cap),
        data: stdout_limit.map(Data::new),
    };

    let stop = wait_or_stop(&mut child, &mut output, spec)
        .await
        .map_err(io_error)?;
    match stop {
        // Whatever the command left running (a backgrounded server, a forgotten `sleep`) goes
        // with it: a step is over when its command is, and a leftover would hold the output
        // pipes open and outlive the deploy it belonged to.
        Stop::Exited(_) => group.kill(),
        Stop::TimedOut | Stop::Cancelled => group.terminate(&mut child, &mut output).await,
    }
    output.drain().await.map_err(io_error)?;
    match stop {
        Stop::Exited(status) => Ok((status, output)),
        Stop::TimedOut => Err(ProcessError::Timeout {
            command,
            after: spec.timeout,
            output: output.into_text(),
        }),
        Stop::Cancelled => Err(ProcessError::Cancelled {
            output: output.into_text(),
        }),
    }
}

/// How a command is shown in logs and errors: the program and its arguments, quoted like a
/// POSIX shell would need them so that a reader can tell the arguments apart. Display only:
/// nothing ever runs this text.
pub fn display_command(program: &str, args: &[String]) -> String {
    std::iter::once(program)
        .chain(args.iter().map(String::as_str))
        .map(quoted)
        .collect::<Vec<_>>()
        .join(" ")
}

fn quoted(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// A pipe's read end.
type Reader = Box<dyn AsyncRead + Send + Unpin>;

/// Starts the child, with its output pipes' read ends: one pipe shared by standard output and
/// error, so that the two interleave exactly as the command wrote them (as `2>&1` would), or,
/// when standard output is data, one pipe each.
fn spawn(
    mut command: Command,
    stdout_is_data: bool,
) -> io::Result<(Child, Option<Reader>, Option<Reader>)> {
    if stdout_is_data {
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn()?;
        let stdout = child.stdout.take().map(|out| Box::new(out) as Reader);
        let stderr = child.stderr.take().map(|err| Box::new(err) as Reader);
        return Ok((child, stdout, stderr));
    }
    let (reader, writer) = std::io::pipe()?;
    let reader = pipe::Receiver::from_owned_fd(OwnedFd::from(reader))?;
    command.stdout(writer.try_clone()?).stderr(writer);
    let child = command.spawn()?;
    // `command` holds gitferry's copies of the write end; until they are closed, the output
    // would never end.
    drop(command);
    Ok((child, Some(Box::new(reader)), None))
}

fn build_command(spec: &Spec<'_>) -> Result<Command, SandboxError> {
    // A program with a `/` is a path; resolve it here, because whether the OS resolves a
    // relative path against the parent's or the child's working folder is unspecified.
    let program = if spec.program.contains('/') {
        spec.cwd.join(spec.program).into_os_string()
    } else {
        OsString::from(spec.program)
    };
    let mut command = Command::new(program);
    command
        .args(spec.args)
        .current_dir(spec.cwd)
        .env_clear()
        .envs(inherited(std::env::vars_os()))
        .envs(spec.env.iter().map(|(name, value)| (name, value)))
        .stdin(Stdio::null())
        .process_group(0)
        .kill_on_drop(true);
    spec.sandbox.apply(&mut command)?;
    Ok(command)
}

/// The part of gitferry's environment a child may see.
fn inherited(parent: impl IntoIterator<Item = (OsString, OsString)>) -> Vec<(OsString, OsString)> {
    parent
        .into_iter()
        .filter(|(name, _)| INHERITED_VARIABLES.iter().any(|allowed| name == allowed))
        .collect()
}

/// Why spawning failed, in words that point at the fix.
fn spawn_failure(spec: &Spec<'_>, error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::NotFound if !spec.cwd.is_dir() => {
            format!("the working folder {} does not exist", spec.cwd.display())
        }
        io::ErrorKind::NotFound if !spec.program.contains('/') => {
            "no such program on PATH".to_owned()
        }
        io::ErrorKind::NotFound if spec.cwd.join(spec.program).is_file() => {
            "the interpreter named on its `#!` line does not exist".to_owned()
        }
        io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        io::ErrorKind::PermissionDenied if spec.sandbox.is_confined() => {
            "permission denied (is it executable, and inside the workspace, a system folder or \
             a path in GITFERRY_SANDBOX_READ?)"
                .to_owned()
        }
        io::ErrorKind::PermissionDenied => "permission denied (is it executable?)".to_owned(),
        _ => error.to_string(),
    }
}

#[derive(Debug, Clone, Copy)]
enum Stop {
    Exited(ExitStatus),
    TimedOut,
    Cancelled,
}

/// Streams output until the child exits, the timeout passes or the token is cancelled.
async fn wait_or_stop(
    child: &mut Child,
    output: &mut Output<'_>,
    spec: &Spec<'_>,
) -> io::Result<Stop> {
    let deadline = tokio::time::sleep(spec.timeout);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            read = output.read_some(), if output.is_open() => read?,
            status = child.wait() => return Ok(Stop::Exited(status?)),
            () = &mut deadline => return Ok(Stop::TimedOut),
            () = spec.cancel.cancelled() => return Ok(Stop::Cancelled),
        }
    }
}

/// The child's process group. Killed when dropped, so that an error or a dropped future
/// cannot leave processes behind (`kill_on_drop` alone reaches only the group's leader).
struct ProcessGroup {
    id: Pid,
    /// Cleared once the group was killed on purpose: after that its id may, in theory, be
    /// reused by another group.
    armed: bool,
}

impl ProcessGroup {
    fn of(child: &Child) -> io::Result<Self> {
        let pid = child
            .id()
            .ok_or_else(|| io::Error::other("the child exited before its id was read"))?;
        let pid = i32::try_from(pid).map_err(io::Error::other)?;
        Ok(Self {
            id: Pid::from_raw(pid),
            armed: true,
        })
    }

    /// `SIGTERM` to the group, up to [`KILL_GRACE`] for the leader to exit (still streaming
    /// its last words), then `SIGKILL` to whatever is left, and the leader reaped.
    async fn terminate(&mut self, child: &mut Child, output: &mut Output<'_>) {
        self.signal(Signal::SIGTERM);
        let exited = async {
            loop {
                tokio::select! {
                    read = output.read_some(), if output.is_open() => {
                        if read.is_err() {
                            // The output is lost, not the need to wait: keep waiting for exit.
                            output.close();
                        }
                    }
                    _ = child.wait() => return,
                }
            }
        };
        let _ = tokio::time::timeout(KILL_GRACE, exited).await;
        self.kill();
        // Also by pid, in case the leader moved itself to another group. An error only means
        // it is already gone.
        let _ = child.start_kill();
        if let Err(error) = child.wait().await {
            tracing::warn!(%error, "cannot reap a stopped command");
        }
    }

    fn kill(&mut self) {
        self.signal(Signal::SIGKILL);
        self.armed = false;
    }

    fn signal(&self, signal: Signal) {
        match killpg(self.id, signal) {
            // ESRCH: nobody left in the group, which is the goal.
            Ok(()) | Err(Errno::ESRCH) => {}
            Err(error) => {
                tracing::warn!(group = %self.id, %signal, %error, "cannot signal a process group");
            }
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        if self.armed {
            self.signal(Signal::SIGKILL);
        }
    }
}

/// The child's output, passed on as text as it arrives and kept in a capped copy; or, for
/// [`run_capturing_stdout`], standard output kept as data and standard error as text.
struct Output<'a> {
    /// Standard output; in [`run`] standard error too, which shares its pipe.
    stdout: Pipe,
    /// Standard error, when it has a pipe of its own.
    stderr: Pipe,
    on_output: &'a (dyn Fn(&str) + Send + Sync),
    /// The deploy log's buffer does exactly the capping wanted here (start and end kept,
    /// middle cut on a character boundary), so it is reused rather than written twice.
    kept: RunLog,
    data: Option<Data>,
}

impl Output<'_> {
    fn is_open(&self) -> bool {
        self.stdout.is_open() || self.stderr.is_open()
    }

    fn close(&mut self) {
        self.stdout.reader = None;
        self.stderr.reader = None;
    }

    /// Reads whatever one of the pipes has next. Cancel-safe: a read that did not complete
    /// consumed nothing.
    async fn read_some(&mut self) -> io::Result<()> {
        let text = tokio::select! {
            read = self.stdout.read(), if self.stdout.is_open() => {
                let read = read?;
                match &mut self.data {
                    Some(data) => {
                        data.push(self.stdout.bytes(read));
                        return Ok(());
                    }
                    None => self.stdout.text(read),
                }
            }
            read = self.stderr.read(), if self.stderr.is_open() => {
                let read = read?;
                self.stderr.text(read)
            }
            else => return Ok(()),
        };
        if !text.is_empty() {
            (self.on_output)(&text);
            self.kept.append(&text);
        }
        Ok(())
    }

    /// Reads what is left in the pipes once the command is over, for at most [`DRAIN_LIMIT`].
    async fn drain(&mut self) -> io::Result<()> {
        let rest = async {
            while self.is_open() {
                self.read_some().await?;
            }
            Ok(())
        };
        match tokio::time::timeout(DRAIN_LIMIT, rest).await {
            Ok(result) => result,
            Err(_) => {
                tracing::warn!("a process that left its group still holds the output open");
                Ok(())
            }
        }
    }

    /// The capped copy of what was streamed.
    fn into_text(self) -> String {
        self.kept.text()
    }
}

/// Standard output kept as data: whole, or given up on once over the limit.
struct Data {
    bytes: Vec<u8>,
    limit: usize,
    too_large: bool,
}

impl Data {
    fn new(limit: usize) -> Self {
        Self {
            bytes: Vec::new(),
            limit,
            too_large: false,
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        if self.too_large {
            return;
        }
        if self.bytes.len() + bytes.len() > self.limit {
            self.too_large = true;
            self.bytes = Vec::new();
        } else {
            self.bytes.extend_from_slice(bytes);
        }
    }

    /// The data, if it stayed within the limit.
    fn into_bytes(self) -> Option<Vec<u8>> {
        (!self.too_large).then_some(self.bytes)
    }
}

/// One output pipe, read in chunks and decoded to text without splitting a character across
/// two chunks.
struct Pipe {
    reader: Option<Reader>,
    buffer: Box<[u8]>,
    /// The start of a character whose remaining bytes have not arrived yet.
    pending: Vec<u8>,
}

impl Pipe {
    fn new(reader: Option<Reader>) -> Self {
        Self {
            reader,
            buffer: vec![0; 8 * 1024].into_boxed_slice(),
            pending: Vec::new(),
        }
    }

    fn is_open(&self) -> bool {
        self.reader.is_some()
    }

    /// Reads the next chunk into the buffer and says how long it is; 0 is the end of the
    /// stream, which closes the pipe. Cancel-safe.
    async fn read(&mut self) -> io::Result<usize> {
        let Some(reader) = self.reader.as_mut() else {
            return Ok(0);
        };
        let read = reader.read(&mut self.buffer).await?;
        if read == 0 {
            self.reader = None;
        }
        Ok(read)
    }

    /// The chunk that [`Pipe::read`] just read, as bytes.
    fn bytes(&self, read: usize) -> &[u8] {
        self.buffer.get(..read).unwrap_or_default()
    }

    /// The chunk that [`Pipe::read`] just read, as text; at the end of the stream, whatever
    /// incomplete character was still pending.
    fn text(&mut self, read: usize) -> String {
        if read == 0 {
            let rest = std::mem::take(&mut self.pending);
            return String::from_utf8_lossy(&rest).into_owned();
        }
        self.pending
            .extend_from_slice(self.buffer.get(..read).unwrap_or_default());
        let complete = self.pending.len() - incomplete_utf8_suffix(&self.pending);
        let text = String::from_utf8_lossy(&self.pending[..complete]).into_owned();
        self.pending.drain(..complete);
        text
    }
}

/// How many bytes at the end of `bytes` are the start of a UTF-8 character still missing its
/// continuation bytes (0 to 3).
fn incomplete_utf8_suffix(bytes: &[u8]) -> usize {
    for back in 1..=bytes.len().min(3) {
        let byte = bytes[bytes.len() - back];
        if byte & 0b1100_0000 == 0b1000_0000 {
            continue; // a continuation byte: the lead byte is further back
        }
        let length = match byte {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1,
        };
        return if length > back { back } else { 0 };
    }
    0
}

impl fmt::Debug for Spec<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values of `env` are left out: they may be credentials the caller passes on purpose.
        let names: Vec<&str> = self.env.iter().map(|(name, _)| *name).collect();
        f.debug_struct("Spec")
            .field("command", &display_command(self.program, self.args))
            .field("cwd", &self.cwd)
            .field("env", &names)
            .field("timeout", &self.timeout)
            .field("output_cap", &self.output_cap)
            .finish_non_exhaustive()
    }
}

/// How much of a failed command's output goes into its error, which the PR comment and the
/// deployment status show: enough to see why, little enough to stay readable (the whole
/// output is in the run's log).
pub const TAIL_LINES: usize = 15;
pub const TAIL_CHARS: usize = 2_000;

/// The end of a failed command's output: its last [`TAIL_LINES`] lines, at most
/// [`TAIL_CHARS`] characters.
pub fn output_tail(output: &str) -> String {
    let lines: Vec<&str> = output.trim_end().lines().collect();
    let text = lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n");
    let count = text.chars().count();
    if count <= TAIL_CHARS {
        return text;
    }
    let rest: String = text.chars().skip(count - (TAIL_CHARS - 1)).collect();
    format!("…{rest}")
}

/// "exit status 3" or "killed by signal 9 (SIGKILL)".
pub fn describe_status(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(number)) => match nix::sys::signal::Signal::try_from(number) {
            Ok(signal) => format!("killed by signal {number} ({signal})"),
            Err(_) => format!("killed by signal {number}"),
        },
        (None, None) => status.to_string(),
    }
}

#[cfg(test)]
mod tests;
