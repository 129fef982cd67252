//! The shell script every step's pod runs around the step's command. It is a constant: the
//! command, the source URL and every other value reach it as positional arguments and
//! environment variables, so nothing from a pull request or a config is ever parsed as shell.
//!
//! It fetches the commit's tarball into `/workspace`, runs the command in the step's folder,
//! and then prints each JUnit report the step's globs match, base64-encoded between marker
//! lines, so the reports travel back through the pod's log (no volume, no `kubectl cp`). The
//! source URL is never echoed: it is a short-lived credential for the commit's archive.

/// The first line of a report block; the report's path relative to the repository root
/// follows, then [`MARKER_CLOSE`].
pub const BEGIN: &str = "::gitferry-junit begin ";
/// Ends the first line of a report block.
pub const MARKER_CLOSE: &str = "::";
/// The last line of a report block.
pub const END: &str = "::gitferry-junit end::";

/// `$0` of the script, as shells name it in their own error messages.
pub const SCRIPT_NAME: &str = "gitferry-step";

/// Where the source is unpacked; `GITFERRY_WORKSPACE` only exists so the script can be tested
/// outside a container, the runner always sets it to this.
pub const WORKSPACE: &str = "/workspace";

/// Run as `sh -c WRAPPER gitferry-step <argv...>`. Exits with the command's status, or 127 when
/// the command could not even be started (no source, no such folder).
pub const WRAPPER: &str = r#"
root="${GITFERRY_WORKSPACE:-/workspace}"
setup_failed() {
  printf 'gitferry: %s\n' "$1" >&2
  exit 127
}
mkdir -p "$root" || setup_failed "cannot create $root"
cd "$root" || setup_failed "cannot enter $root"
if [ -n "${GITFERRY_SOURCE_URL:-}" ]; then
  archive="${TMPDIR:-/tmp}/gitferry-source.tar.gz"
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL -o "$archive" "$GITFERRY_SOURCE_URL" || setup_failed "cannot download the commit's source"
  elif command -v wget >/dev/null 2>&1; then
    wget -qO "$archive" "$GITFERRY_SOURCE_URL" || setup_failed "cannot download the commit's source"
  else
    setup_failed "the image has neither curl nor wget to download the commit's source"
  fi
  tar -xzf "$archive" --strip-components=1 || setup_failed "cannot unpack the commit's source"
  rm -f "$archive"
fi
unset GITFERRY_SOURCE_URL
cd "$root/${GITFERRY_STEP_DIR:-.}" 2>/dev/null || setup_failed "the step's folder ${GITFERRY_STEP_DIR:-.} does not exist"
"$@"
code=$?
cd "$root" || exit "$code"
newline='
'
IFS="$newline"
set -f
for pattern in ${GITFERRY_JUNIT:-}; do
  set +f
  for file in $pattern; do
    if [ -L "$file" ] || [ ! -f "$file" ]; then
      continue
    fi
    printf '::gitferry-junit begin %s::\n' "$file"
    base64 < "$file"
    printf '::gitferry-junit end::\n'
  done
  set -f
done
exit "$code"
"#;

#[cfg(test)]
mod tests;
