//! The byte source under the XML reader: it enforces [`super::Limits::max_bytes`] while
//! streaming (a pipe or a gzip stream has no size to check up front) and remembers where
//! recent lines started, so a syntax error can be reported as a line and column a person can
//! open, without keeping the whole report in memory.

use std::collections::VecDeque;
use std::io::{self, BufRead, Read};

/// Newline offsets kept for turning an error's byte offset into a column. An error is almost
/// always within the last few lines read; older offsets are dropped to keep memory bounded.
const RECENT_NEWLINES: usize = 4096;

/// A [`BufRead`] that counts what its reader consumed and fails past a byte limit.
pub(crate) struct Input<R> {
    inner: R,
    consumed: u64,
    limit: u64,
    exceeded: bool,
    newlines: u64,
    recent: VecDeque<u64>,
}

impl<R: BufRead> Input<R> {
    pub(crate) fn new(inner: R, limit: u64) -> Self {
        Input {
            inner,
            consumed: 0,
            limit,
            exceeded: false,
            newlines: 0,
            recent: VecDeque::new(),
        }
    }

    /// Whether reading stopped because the limit was passed (the XML reader only sees an
    /// I/O error, so the parser asks here to report [`super::JunitError::TooLarge`]).
    pub(crate) fn exceeded(&self) -> bool {
        self.exceeded
    }

    /// The 1-based line and column of byte `offset`, counted over what was consumed so far.
    pub(crate) fn line_column(&self, offset: u64) -> (u64, u64) {
        let after = self
            .recent
            .iter()
            .rev()
            .take_while(|&&at| at >= offset)
            .count() as u64;
        let line = self.newlines.saturating_sub(after) + 1;
        let line_start = self
            .recent
            .iter()
            .rev()
            .find(|&&at| at < offset)
            .map_or(0, |at| at + 1);
        (line, offset.saturating_sub(line_start) + 1)
    }
}

impl<R: BufRead> Read for Input<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Input<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.consumed > self.limit {
            self.exceeded = true;
            return Err(io::Error::other("JUnit report exceeds the byte limit"));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        // `fill_buf` on a reader whose buffer still holds data does no I/O: it hands back the
        // bytes about to be consumed, which is the only way to see them from here.
        if let Ok(buf) = self.inner.fill_buf() {
            let seen = &buf[..amt.min(buf.len())];
            for (i, _) in seen.iter().enumerate().filter(|(_, b)| **b == b'\n') {
                self.newlines += 1;
                if self.recent.len() == RECENT_NEWLINES {
                    self.recent.pop_front();
                }
                self.recent.push_back(self.consumed + i as u64);
            }
        }
        self.consumed += amt as u64;
        self.inner.consume(amt);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_line_and_column_of_an_offset() {
        let mut input = Input::new(&b"ab\ncd\nef"[..], 100);
        let mut all = Vec::new();
        input.read_to_end(&mut all).unwrap();
        assert_eq!(input.line_column(0), (1, 1));
        assert_eq!(input.line_column(4), (2, 2));
        assert_eq!(input.line_column(6), (3, 1));
    }

    #[test]
    fn fails_past_the_limit() {
        let data = [b'x'; 100];
        let mut input = Input::new(io::BufReader::with_capacity(10, &data[..]), 50);
        let mut all = Vec::new();
        assert!(input.read_to_end(&mut all).is_err());
        assert!(input.exceeded());
    }
}
