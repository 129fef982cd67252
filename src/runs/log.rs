//! The log of one deploy run: what gitferry did and what the commands printed. Kept in the
//! store and served behind the run's link, so it is capped: a command that prints gigabytes
//! must not take the server's memory with it.

use std::sync::{Arc, Mutex, PoisonError};

use crate::secrets::{Masker, StreamMasker};

/// Most bytes kept per run; beyond it the start and the end are kept and the middle is cut.
pub const DEFAULT_CAP: usize = 1024 * 1024;

/// A shared, capped log. Clones write to the same log.
#[derive(Clone, Debug)]
pub struct RunLog {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug)]
struct Inner {
    cap: usize,
    head: String,
    /// Once `head` is full: the most recent text, at most `cap / 2` bytes.
    tail: String,
    dropped: usize,
    /// Set once the run's secrets are known: everything written after is masked (a value split
    /// across two appends too; see [`StreamMasker`]).
    masker: Option<StreamMasker>,
}

impl Default for RunLog {
    fn default() -> Self {
        Self::with_cap(DEFAULT_CAP)
    }
}

impl RunLog {
    pub fn with_cap(cap: usize) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                cap: cap.max(64),
                head: String::new(),
                tail: String::new(),
                dropped: 0,
                masker: None,
            })),
        }
    }

    /// Masks the values of `masker` in everything written from now on (and in what it held
    /// back so far, which is then written).
    pub fn mask_with(&self, masker: Masker) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(mut previous) = inner.masker.take() {
            let rest = previous.finish();
            inner.push(&rest);
        }
        if !masker.is_empty() {
            inner.masker = Some(StreamMasker::new(masker));
        }
    }

    /// Appends one line (a newline is added). A line is complete: nothing of it, or of the
    /// output before it, is held back for masking.
    pub fn line(&self, text: impl AsRef<str>) {
        let mut text = text.as_ref().to_owned();
        text.push('\n');
        self.write(&text, true);
    }

    /// Appends text as it is (command output, which may end mid-line). With a masker, up to a
    /// secret's length of its end may be held back until the next write.
    pub fn append(&self, text: &str) {
        self.write(text, false);
    }

    /// Writes what masking held back: the output is over (a line does this too).
    pub fn flush(&self) {
        self.write("", true);
    }

    fn write(&self, text: &str, complete: bool) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let masked = match inner.masker.as_mut() {
            Some(masker) => {
                let mut out = masker.push(text);
                if complete {
                    out.push_str(&masker.finish());
                }
                out
            }
            None => {
                inner.push(text);
                return;
            }
        };
        inner.push(&masked);
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
        let log = RunLog::default();
        log.line("applying 3 objects");
        log.append("partial");
        assert_eq!(log.text(), "applying 3 objects\npartial");
    }

    #[test]
    fn secrets_are_masked_once_known_also_across_appends() {
        let log = RunLog::default();
        log.line("fetched abc");
        log.mask_with(Masker::new(["hunter2-horse"]));
        log.append("token=hunter");
        log.append("2-horse; again hunter2-");
        log.append("horse");
        log.line("gitferry: success");
        assert_eq!(
            log.text(),
            "fetched abc\ntoken=***; again ***gitferry: success\n"
        );
        log.append("the end, hunter2-horse and more");
        assert!(!log.text().ends_with("more"), "held back until the end");
        log.flush();
        assert!(
            log.text().ends_with("the end, *** and more"),
            "{}",
            log.text()
        );
    }

    #[test]
    fn a_huge_log_keeps_its_start_and_end_within_the_cap() {
        let log = RunLog::with_cap(100);
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
