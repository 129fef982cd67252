//! Checks on the raw bytes, before any YAML parser sees them.

use crate::repo_config::error::{ConfigError, ConfigErrors};

/// The largest config accepted: far above any real one (a few KB), small enough that parsing
/// it can never strain memory or time.
pub const MAX_CONFIG_BYTES: usize = 1024 * 1024;

pub(crate) fn check_size(len: usize) -> Result<(), ConfigErrors> {
    if len > MAX_CONFIG_BYTES {
        return Err(file_error(
            1,
            1,
            format!("the config is {len} bytes; the limit is {MAX_CONFIG_BYTES} bytes (1 MiB)"),
        ));
    }
    Ok(())
}

/// The text of `bytes`, which must be UTF-8 (as YAML files are). The error points at the first
/// byte that is not, so a stray Latin-1 character can be found.
pub(crate) fn decode(bytes: &[u8]) -> Result<&str, ConfigErrors> {
    check_size(bytes.len())?;
    std::str::from_utf8(bytes).map_err(|error| {
        let valid = bytes.get(..error.valid_up_to()).unwrap_or_default();
        let (line, column) = end_of(&String::from_utf8_lossy(valid));
        let byte = bytes.get(error.valid_up_to()).copied().unwrap_or_default();
        file_error(
            line,
            column,
            format!("the config is not UTF-8 text (byte 0x{byte:02x} here); save it as UTF-8"),
        )
    })
}

/// Refuses the Unicode line separators U+0085, U+2028 and U+2029. YAML 1.1 parsers (and some
/// editors) end a line there and YAML 1.2 parsers do not, so around one the line numbers of an
/// error would depend on who counts; in a config file they are always an accident of copy and
/// paste.
pub(crate) fn check_separators(text: &str) -> Result<(), ConfigErrors> {
    let separators = ['\u{85}', '\u{2028}', '\u{2029}'];
    match text.char_indices().find(|(_, c)| separators.contains(c)) {
        None => Ok(()),
        Some((at, separator)) => {
            let (line, column) = end_of(text.get(..at).unwrap_or_default());
            Err(file_error(
                line,
                column,
                format!(
                    "an invisible line separator (U+{:04X}) is here; delete it",
                    u32::from(separator)
                ),
            ))
        }
    }
}

/// The line and column just after `prefix` (1-based; lines end at `\n`, as GitHub counts them).
fn end_of(prefix: &str) -> (usize, usize) {
    let line = prefix.matches('\n').count() + 1;
    let column = prefix
        .rsplit('\n')
        .next()
        .map_or(0, |last| last.chars().count())
        + 1;
    (line, column)
}

fn file_error(line: usize, column: usize, message: String) -> ConfigErrors {
    ConfigErrors::one(ConfigError {
        line,
        column,
        path: String::new(),
        message,
    })
}
