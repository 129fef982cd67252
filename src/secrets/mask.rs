//! Replacing secret values with `***` in whatever gitferry shows: step and deploy logs (and so
//! the `/runs` pages, check-run text and the sticky comment's output tail built from them).
//!
//! A value is masked as written and in the forms a step is most likely to print it in:
//! - **URL-encoded**, as `encodeURIComponent`/`quote` would write it (a token in a query);
//! - **base64** (standard and URL-safe alphabets). The base64 of a value depends on where it
//!   starts in the encoded stream (its offset modulo 3), so, as GitHub Actions does, the value is
//!   encoded at each of the three alignments and only the *stable core* is masked: the
//!   characters that depend on the value's bytes alone, not on its neighbours.
//!
//! Values shorter than [`MIN_LEN`] characters are not masked: masking `1` or `true` would hide
//! every occurrence of it in every log and make them unreadable, while such a value is no
//! secret worth the name. Base64 cores shorter than [`MIN_BASE64_LEN`] are skipped for the same
//! reason (common short base64 runs occur in ordinary output).
//!
//! Output arrives in chunks, and a value may be split across two of them; [`StreamMasker`]
//! holds back a tail shorter than the longest pattern until the next chunk (or the end) shows
//! whether it starts one.

use std::borrow::Cow;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What a masked value is replaced with.
pub const MASK: &str = "***";

/// The shortest value (in characters) that is masked; see the module's documentation.
pub const MIN_LEN: usize = 4;

/// The shortest base64 core (in characters) that is masked: two groups of four.
pub const MIN_BASE64_LEN: usize = 8;

/// The characters `encodeURIComponent` and Python's `quote(safe="")` leave as they are
/// (RFC 3986's unreserved set).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The patterns of a set of secret values. Cheap to clone (shared).
#[derive(Clone, Debug, Default)]
pub struct Masker {
    patterns: Arc<[String]>,
    longest: usize,
}

impl Masker {
    /// The patterns for `values`: each value, its URL-encoded and base64 forms; for a value of
    /// several lines (a PEM key) also each line, since logs are often read (and printed) line
    /// by line. Values shorter than [`MIN_LEN`] are left out.
    pub fn new<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        let mut patterns: Vec<String> = Vec::new();
        let values: Vec<&str> = values
            .into_iter()
            .flat_map(|value| {
                let lines = value
                    .lines()
                    .map(str::trim)
                    .filter(|_| value.contains('\n'));
                std::iter::once(value).chain(lines)
            })
            .collect();
        for value in values {
            if value.chars().count() < MIN_LEN {
                continue;
            }
            patterns.push(value.to_owned());
            patterns.push(utf8_percent_encode(value, COMPONENT).to_string());
            patterns.push(utf8_percent_encode(value, NON_ALPHANUMERIC).to_string());
            patterns.push(
                utf8_percent_encode(value, COMPONENT)
                    .to_string()
                    .replace("%20", "+"),
            );
            patterns.extend(base64_cores(value.as_bytes()));
        }
        patterns.sort();
        patterns.dedup();
        let longest = patterns.iter().map(String::len).max().unwrap_or(0);
        Self {
            patterns: patterns.into(),
            longest,
        }
    }

    /// Whether nothing is masked.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// `text` with every occurrence of every pattern replaced by [`MASK`]; overlapping
    /// occurrences become one mask.
    pub fn mask<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let covered = self.covered(text);
        if covered.is_empty() {
            return Cow::Borrowed(text);
        }
        Cow::Owned(replace(text, &covered, text.len()))
    }

    /// The byte ranges of `text` that belong to an occurrence of some pattern, merged and
    /// sorted. Occurrences of one pattern may overlap each other (`aaaa` in `aaaaa`), so the
    /// search restarts one character after each match start.
    fn covered(&self, text: &str) -> Vec<(usize, usize)> {
        let mut ranges = Vec::new();
        for pattern in self.patterns.iter() {
            let mut from = 0;
            while let Some(found) = text
                .get(from..)
                .and_then(|rest| rest.find(pattern.as_str()))
            {
                let start = from + found;
                ranges.push((start, start + pattern.len()));
                from = start + text[start..].chars().next().map_or(1, char::len_utf8);
            }
        }
        ranges.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
        for (start, end) in ranges {
            match merged.last_mut() {
                Some(last) if start < last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        merged
    }
}

/// `text[..upto]` with the `covered` ranges (sorted, disjoint, within `upto`) replaced.
fn replace(text: &str, covered: &[(usize, usize)], upto: usize) -> String {
    let mut out = String::with_capacity(upto);
    let mut at = 0;
    for &(start, end) in covered {
        out.push_str(&text[at..start]);
        out.push_str(MASK);
        at = end;
    }
    out.push_str(&text[at..upto]);
    out
}

/// The base64 of `value` at the three alignments it can have in an encoded stream, each cut
/// to the whole groups of three bytes that the value alone fills, in both alphabets.
fn base64_cores(value: &[u8]) -> Vec<String> {
    let mut cores = Vec::new();
    for skip in 0..3 {
        let Some(rest) = value.get(skip..) else {
            continue;
        };
        let whole = rest.len() / 3 * 3;
        let Some(aligned) = rest.get(..whole) else {
            continue;
        };
        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            let core = engine.encode(aligned);
            if core.len() >= MIN_BASE64_LEN {
                cores.push(core);
            }
        }
    }
    cores
}

/// A [`Masker`] over a stream of chunks: what it returns is masked as if the whole stream had
/// been masked at once, except that up to the longest pattern's length minus one is held back
/// until the next [`StreamMasker::push`] or the [`StreamMasker::finish`].
#[derive(Debug, Default)]
pub struct StreamMasker {
    masker: Masker,
    pending: String,
}

impl StreamMasker {
    pub fn new(masker: Masker) -> Self {
        Self {
            masker,
            pending: String::new(),
        }
    }

    /// The masked text that can be passed on now that `chunk` arrived.
    pub fn push(&mut self, chunk: &str) -> String {
        if self.masker.is_empty() {
            return chunk.to_owned();
        }
        self.pending.push_str(chunk);
        let covered = self.masker.covered(&self.pending);
        // A match not complete yet starts at or after this point: before it, all is known.
        let mut cut = self
            .pending
            .len()
            .saturating_sub(self.masker.longest.saturating_sub(1));
        while !self.pending.is_char_boundary(cut) {
            cut -= 1;
        }
        // Never split a masked range: keep one that runs past the cut whole for later.
        if let Some(&(start, _)) = covered.iter().find(|&&(s, e)| s < cut && cut < e) {
            cut = start;
        }
        let before: Vec<(usize, usize)> = covered.into_iter().filter(|&(_, e)| e <= cut).collect();
        let out = replace(&self.pending, &before, cut);
        self.pending.drain(..cut);
        out
    }

    /// Whatever is still held back, masked: the stream has ended.
    pub fn finish(&mut self) -> String {
        let rest = std::mem::take(&mut self.pending);
        self.masker.mask(&rest).into_owned()
    }
}

#[cfg(test)]
#[path = "mask_tests.rs"]
mod tests;
