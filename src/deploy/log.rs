//! The log of one deploy run: what gitferry did and what the commands printed. Kept in the
//! store and served behind the run's link, so it is capped: a command that prints gigabytes
//! must not take the server's memory with it.

use std::sync::{Arc, Mutex, PoisonError};

/// Most bytes kept per run; beyond it the start and the end are kept and the middle is cut.
pub const DEFAULT_CAP: usize = 1024 * 1024;

/// A shared, capped log. Clones write to the same log.
#[derive(Clone, Debug)]
pub struct DeployLog {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug)]
struct Inner {
    cap: usize,
    head: String,
    /// Once `head` is full: the most recent text, at most `cap / 2` bytes.
    tail: String,
    dropped: usize,
}

impl Default for DeployLog {
    fn default() -> Self {
        Self::with_cap(DEFAULT_CAP)
    }
}

impl DeployLog {
    pub fn with_cap(cap: usize) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                cap: cap.max(64),
                head: String::new(),
                tail: String::new(),
                dropped: 0,
            })),
        }
    }

    /// Appends one line (a newline is added).
    pub fn line(&self, text: impl AsRef<str>) {
        let mut text = text.as_ref().to_owned();
        text.push('\n');
        self.append(&text);
    }

    /// Appends text as it is (command output, which may end mid-line).
    pub fn append(&self, text: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.push(text);
    }

    /// The log so far.
    pub fn text(&self) -> String {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.dropped == 0 && inner.tail.is_empty() {
            return inner.head.clone();
        }
        format!(
            "{}\n… {} bytes left out …\n{}",
            inner.head, inner.dropped, inner.tail
        )
    }
}

impl Inner {
    fn push(&mut self, text: &str) {
        let head_cap = self.cap / 2;
        let mut rest = text;
        if self.tail.is_empty() && self.dropped == 0 {
            let room = head_cap.saturating_sub(self.head.len());
            let take = floor_char_boundary(rest, room);
            self.head.push_str(&rest[..take]);
            rest = &rest[take..];
        }
        if rest.is_empty() {
            return;
        }
        self.tail.push_str(rest);
        let tail_cap = self.cap - head_cap;
        if self.tail.len() > tail_cap {
            let excess = self.tail.len() - tail_cap;
            let cut = ceil_char_boundary(&self.tail, excess);
            self.dropped += cut;
            self.tail.drain(..cut);
        }
    }
}

fn floor_char_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn ceil_char_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_log_is_kept_whole() {
        let log = DeployLog::default();
        log.line("applying 3 objects");
        log.append("partial");
        assert_eq!(log.text(), "applying 3 objects\npartial");
    }

    #[test]
    fn a_huge_log_keeps_its_start_and_end_within_the_cap() {
        let log = DeployLog::with_cap(100);
        log.line("START");
        for n in 0..10_000 {
            log.line(format!("line {n} ✓"));
        }
        log.line("END");
        let text = log.text();
        assert!(text.starts_with("START\n"), "{text}");
        assert!(text.ends_with("END\n"), "{text}");
        assert!(text.contains("bytes left out"));
        assert!(text.len() < 160, "{}", text.len());
    }
}
