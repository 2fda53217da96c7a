//! The parts of OCCI 1.1 (OGF GFD.185, "RESTful HTTP Rendering") that
//! finding an image at a site needs: the `text/plain` rendering — the
//! header rendering written as body lines (`Category:`, `X-OCCI-Attribute:`,
//! `X-OCCI-Location:`), several values on one line separated by commas —
//! and the `text/uri-list` rendering of collections (RFC 2483: one URI per
//! line, `#` comments). Header-rendered (`text/occi`) answers are read the
//! same way from the response headers.

/// The OCCI infrastructure scheme.
pub(crate) const INFRASTRUCTURE: &str = "http://schemas.ogf.org/occi/infrastructure#";

/// The `rel` of OS template mixins.
pub(crate) const OS_TPL: &str = "http://schemas.ogf.org/occi/infrastructure#os_tpl";

/// One `Category` of the query interface.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Category {
    /// The term.
    pub term: String,
    /// The scheme (ends with `#`).
    pub scheme: String,
    /// `kind`, `mixin` or `action`.
    pub class: String,
    /// The title, if given.
    pub title: Option<String>,
    /// The related categories (`rel`), space separated in the rendering.
    pub rel: Vec<String>,
    /// The location of the category's collection, if given.
    pub location: Option<String>,
}

impl Category {
    /// The category identifier: scheme followed by term.
    pub(crate) fn id(&self) -> String {
        format!("{}{}", self.scheme, self.term)
    }

    /// Whether this is an OS template mixin.
    pub(crate) fn is_os_template(&self) -> bool {
        self.class == "mixin" && self.rel.iter().any(|r| r == OS_TPL)
    }
}

/// A value without its surrounding double quotes, `\"` and `\\` unescaped.
pub(crate) fn unquote(value: &str) -> String {
    let v = value.trim();
    let Some(inner) = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
        return v.to_string();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The values of every `name:` line of `text` (name compared without case),
/// comma-separated values split apart.
pub(crate) fn header_values<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    text.lines()
        .filter_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then_some(v)
        })
        .flat_map(|v| marketplace_trust::dn::split_unquoted(v, ','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect()
}

/// One category rendering: `term; scheme="…"; class="…"; title="…"; …`.
pub(crate) fn parse_category(value: &str) -> Option<Category> {
    let mut parts = marketplace_trust::dn::split_unquoted(value, ';').into_iter();
    let term = parts.next()?.trim().to_string();
    if term.is_empty() {
        return None;
    }
    let mut c = Category {
        term,
        ..Category::default()
    };
    for p in parts {
        let Some((k, v)) = p.split_once('=') else {
            continue;
        };
        let v = unquote(v);
        match k.trim() {
            "scheme" => c.scheme = v,
            "class" => c.class = v,
            "title" => c.title = Some(v),
            "rel" => c.rel = v.split_whitespace().map(str::to_string).collect(),
            "location" => c.location = Some(v),
            _ => {}
        }
    }
    Some(c)
}

/// Every `Category` of a text/plain rendering.
pub(crate) fn categories(text: &str) -> Vec<Category> {
    header_values(text, "Category")
        .into_iter()
        .filter_map(parse_category)
        .collect()
}

/// Every `X-OCCI-Attribute: name="value"` (or unquoted number/boolean).
pub(crate) fn attributes(text: &str) -> Vec<(String, String)> {
    header_values(text, "X-OCCI-Attribute")
        .into_iter()
        .filter_map(|a| {
            let (k, v) = a.split_once('=')?;
            Some((k.trim().to_string(), unquote(v)))
        })
        .collect()
}

/// Every `X-OCCI-Location` of a text/plain rendering.
pub(crate) fn locations(text: &str) -> Vec<String> {
    header_values(text, "X-OCCI-Location")
        .into_iter()
        .map(unquote)
        .collect()
}

/// The URIs of a `text/uri-list` body.
pub(crate) fn uri_list(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUERY: &str = r#"Category: compute; scheme="http://schemas.ogf.org/occi/infrastructure#"; class="kind"; title="Compute Resource"; rel="http://schemas.ogf.org/occi/core#resource"; location="/compute/"; attributes="occi.compute.cores occi.compute.memory"; actions="http://schemas.ogf.org/occi/infrastructure/compute/action#start"
Category: storage; scheme="http://schemas.ogf.org/occi/infrastructure#"; class="kind"; title="Storage Resource"; location="/storage/"
Category: os_tpl; scheme="http://schemas.ogf.org/occi/infrastructure#"; class="mixin"; title="Operating System Template"; location="/os_tpl/"
Category: uuid_ubuntu_1; scheme="http://site.example.org/occi/os_tpl#"; class="mixin"; title="Ubuntu 24.04, \"LTS\""; rel="http://schemas.ogf.org/occi/infrastructure#os_tpl"; location="/mixin/os_tpl/uuid_ubuntu_1/", small; scheme="http://site.example.org/occi/resource_tpl#"; class="mixin"; title="Small; 1 core"; rel="http://schemas.ogf.org/occi/infrastructure#resource_tpl"
"#;

    #[test]
    fn categories_of_the_query_interface() {
        let all = categories(QUERY);
        assert_eq!(all.len(), 5);
        assert_eq!(all[0].term, "compute");
        assert_eq!(all[0].location.as_deref(), Some("/compute/"));
        let os: Vec<&Category> = all.iter().filter(|c| c.is_os_template()).collect();
        assert_eq!(os.len(), 1);
        assert_eq!(os[0].title.as_deref(), Some("Ubuntu 24.04, \"LTS\""));
        assert_eq!(
            os[0].id(),
            "http://site.example.org/occi/os_tpl#uuid_ubuntu_1"
        );
        assert_eq!(all[4].title.as_deref(), Some("Small; 1 core"));
    }

    #[test]
    fn attributes_locations_and_uri_lists() {
        let entity = "Category: storage; scheme=\"http://schemas.ogf.org/occi/infrastructure#\"; class=\"kind\"\n\
            X-OCCI-Attribute: occi.core.id=\"42\"\n\
            X-OCCI-Attribute: occi.core.title=\"ttylinux, small\"\n\
            X-OCCI-Attribute: occi.storage.size=1.5, occi.storage.state=\"online\"\n";
        let a = attributes(entity);
        assert!(a.contains(&("occi.core.title".into(), "ttylinux, small".into())));
        assert!(a.contains(&("occi.storage.size".into(), "1.5".into())));
        assert!(a.contains(&("occi.storage.state".into(), "online".into())));
        let coll = "X-OCCI-Location: http://h/storage/1\nX-OCCI-Location: http://h/storage/2, http://h/storage/3\n";
        assert_eq!(locations(coll).len(), 3);
        assert_eq!(
            uri_list("# storage\nhttp://h/storage/1\r\n\nhttp://h/storage/2\n"),
            ["http://h/storage/1", "http://h/storage/2"]
        );
    }
}
