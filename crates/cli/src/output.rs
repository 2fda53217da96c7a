//! What the client commands print: aligned tables and short sentences for
//! people, one pretty JSON document for scripts (`--json`).

use serde::Serialize;

/// Prints `value` as pretty JSON on standard output.
pub(crate) fn json<T: Serialize + ?Sized>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("marketplace: cannot write JSON: {e}"),
    }
}

/// A table: a header and rows of cells, printed with aligned columns.
#[derive(Debug, Clone, Default)]
pub(crate) struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// The widest a cell is printed (longer text is cut with `…`); the last
/// column is never cut.
pub(crate) const MAX_CELL: usize = 48;

impl Table {
    /// A table with these column titles.
    pub(crate) fn new(header: &[&str]) -> Self {
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (missing cells are empty).
    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text, one line per row, columns separated by two spaces.
    pub(crate) fn render(&self) -> String {
        let columns = self.header.len();
        let last = columns.saturating_sub(1);
        let cell = |row: &[String], i: usize| -> String {
            let text = row.get(i).map(String::as_str).unwrap_or("");
            let text = text.replace(['\n', '\t'], " ");
            if i < last { cut(&text, MAX_CELL) } else { text }
        };
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, w) in widths.iter_mut().enumerate() {
                *w = (*w).max(cell(row, i).chars().count());
            }
        }
        let mut out = String::new();
        let mut line = |cells: Vec<String>| {
            let mut text = String::new();
            for (i, c) in cells.iter().enumerate() {
                if i > 0 {
                    text.push_str("  ");
                }
                text.push_str(c);
                if i < last {
                    text.extend(std::iter::repeat_n(' ', widths[i] - c.chars().count()));
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        line(self.header.clone());
        for row in &self.rows {
            line((0..columns).map(|i| cell(row, i)).collect());
        }
        out
    }

    /// Prints the table on standard output.
    pub(crate) fn print(&self) {
        print!("{}", self.render());
    }
}

/// `text` cut to at most `max` characters, ending with `…` when cut.
pub(crate) fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `value` or a dash.
pub(crate) fn or_dash(value: Option<&str>) -> String {
    match value {
        Some(v) if !v.is_empty() => v.to_string(),
        _ => "-".to_string(),
    }
}

/// A byte count for people: `1.5 GiB (1610612736 bytes)`.
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut value = n as f64;
    let mut unit = "";
    for u in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = u;
    }
    format!("{value:.1} {unit} ({n} bytes)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_and_cut() {
        let mut t = Table::new(&["ID", "TITLE"]);
        t.row(vec!["a".into(), "first".into()]);
        t.row(vec!["long-identifier".into(), "x".repeat(60)]);
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "ID               TITLE");
        assert_eq!(lines[1], "a                first");
        assert!(lines[2].ends_with(&"x".repeat(60)));
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(bytes(3 * 1024 * 1024), "3.0 MiB (3145728 bytes)");
        assert_eq!(bytes(12), "12 bytes");
    }
}
