//! Line numbers of nodes, for messages.

use std::collections::HashMap;

/// Offsets of every `\n` of the text, to find the line of a node in
/// O(log n). (`roxmltree::Document::text_pos_at` rescans the text from its
/// start at each call, which made documents with many elements quadratic:
/// 30,000 empty elements in 200 KiB took over a minute to read.)
pub(crate) struct NewLines(Vec<usize>);

impl NewLines {
    pub(crate) fn of(text: &str) -> Self {
        NewLines(
            text.bytes()
                .enumerate()
                .filter_map(|(i, b)| (b == b'\n').then_some(i))
                .collect(),
        )
    }

    /// The 1-based line where `node` starts (as `text_pos_at(..).row`).
    pub(crate) fn line_of(&self, node: roxmltree::Node<'_, '_>) -> u32 {
        let start = node.range().start;
        let before = self.0.partition_point(|&nl| nl < start);
        u32::try_from(before + 1).unwrap_or(u32::MAX)
    }
}

/// Where each element of the description first occurs, for messages.
#[derive(Debug, Default)]
pub(crate) struct Lines(HashMap<String, u32>);

impl Lines {
    /// The first line of the element `qname`, when the description has one.
    pub(crate) fn of(&self, qname: &str) -> Option<u32> {
        self.0.get(qname).copied()
    }

    /// Records `line` for `qname` unless an earlier line is recorded.
    pub(crate) fn record(&mut self, qname: String, line: u32) {
        self.0.entry(qname).or_insert(line);
    }
}
