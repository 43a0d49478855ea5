//! Line and word counts of a text, and its most frequent words.

use fnv::FnvHashMap;
use smallvec::SmallVec;

cfg_if::cfg_if! {
    if #[cfg(windows)] {
        /// The line ending this platform writes.
        pub const NEWLINE: &str = "\r\n";
    } else {
        /// The line ending this platform writes.
        pub const NEWLINE: &str = "\n";
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct Stats<'a> {
    pub lines: usize,
    pub words: usize,
    /// Up to three most frequent words, most frequent first (ties by word).
    pub top: SmallVec<[(&'a str, usize); 3]>,
}

pub fn stats(text: &str) -> Stats<'_> {
    let lines = memchr::memchr_iter(b'\n', text.as_bytes()).count();
    let mut counts: FnvHashMap<&str, usize> = FnvHashMap::default();
    let mut words = 0;
    for word in text.split_whitespace() {
        words += 1;
        *counts.entry(word).or_insert(0) += 1;
    }
    let mut ranked: Vec<(&str, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    Stats { lines, words, top: ranked.into_iter().take(3).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lines_words_and_top_words() {
        let s = stats("a b a\nc a b\n");
        assert_eq!(s.lines, 2);
        assert_eq!(s.words, 6);
        assert_eq!(s.top.as_slice(), &[("a", 3), ("b", 2), ("c", 1)]);
    }
}
