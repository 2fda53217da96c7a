//! Tables in the shape of the W3C SPARQL query results (XML and JSON), as
//! the original served `/endorsers`, `/endorsers/{email}` and
//! `/endorsers/{email}/tags`. Every value is a plain literal; unbound values
//! are left out of their row.

use crate::render::escape;
use serde_json::{Map, Value, json};

/// Named columns and rows of optional values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Table {
    /// Column (variable) names.
    pub vars: Vec<&'static str>,
    /// Rows, one value per column.
    pub rows: Vec<Vec<Option<String>>>,
}

impl Table {
    /// An empty table with these columns.
    pub(crate) fn new(vars: &[&'static str]) -> Self {
        Table {
            vars: vars.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (missing trailing values are unbound).
    pub(crate) fn push(&mut self, row: Vec<Option<String>>) {
        self.rows.push(row);
    }

    /// SPARQL Query Results XML.
    pub(crate) fn to_xml(&self) -> String {
        let mut out = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sparql xmlns=\"http://www.w3.org/2005/sparql-results#\">\n<head>",
        );
        for v in &self.vars {
            out.push_str(&format!("<variable name=\"{v}\"/>"));
        }
        out.push_str("</head>\n<results>\n");
        for row in &self.rows {
            out.push_str("<result>");
            for (var, value) in self.vars.iter().zip(row) {
                if let Some(value) = value {
                    out.push_str(&format!(
                        "<binding name=\"{var}\"><literal>{}</literal></binding>",
                        escape::xml(value)
                    ));
                }
            }
            out.push_str("</result>\n");
        }
        out.push_str("</results>\n</sparql>\n");
        out
    }

    /// SPARQL Query Results JSON.
    pub(crate) fn to_json(&self) -> Value {
        let bindings: Vec<Value> = self
            .rows
            .iter()
            .map(|row| {
                let mut b = Map::new();
                for (var, value) in self.vars.iter().zip(row) {
                    if let Some(value) = value {
                        b.insert(
                            (*var).to_string(),
                            json!({"type": "literal", "value": value}),
                        );
                    }
                }
                Value::Object(b)
            })
            .collect();
        json!({"head": {"vars": self.vars}, "results": {"bindings": bindings}})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_and_json() {
        let mut t = Table::new(&["email", "tag"]);
        t.push(vec![Some("a<b>@x".into()), None]);
        let xml = t.to_xml();
        assert!(xml.contains(
            "<binding name=\"email\"><literal>a&lt;b&gt;@x</literal></binding></result>"
        ));
        assert!(!xml.contains("name=\"tag\"><literal>"));
        let j = t.to_json();
        assert_eq!(j["results"]["bindings"][0]["email"]["value"], "a<b>@x");
        assert!(j["results"]["bindings"][0].get("tag").is_none());
    }
}
