//! Namespace URIs and the fixed `xml:base` of metadata documents.

/// RDF syntax namespace.
pub const RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
/// Dublin Core terms namespace.
pub const DCTERMS: &str = "http://purl.org/dc/terms/";
/// StratusLab required terms (`slreq:`).
pub const SLREQ: &str = "http://mp.stratuslab.eu/slreq#";
/// StratusLab optional terms (`slterms:`).
pub const SLTERMS: &str = "http://mp.stratuslab.eu/slterms#";
/// W3C XML Signature namespace.
pub const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// The XML namespace (`xml:base`, `xml:lang`).
pub const XML: &str = "http://www.w3.org/XML/1998/namespace";
/// This project's own terms (extensions that the original format lacks).
pub const MARKETPLACE: &str = "http://marketplace.egi.eu/terms#";
/// The value `xml:base` must have on `rdf:RDF`.
pub const XML_BASE: &str = "http://mp.stratuslab.eu/";

/// The conventional prefix of a namespace URI, for messages.
pub fn prefix_of(uri: &str) -> &'static str {
    match uri {
        RDF => "rdf",
        DCTERMS => "dcterms",
        SLREQ => "slreq",
        SLTERMS => "slterms",
        DS => "ds",
        XML => "xml",
        MARKETPLACE => "mp",
        _ => "",
    }
}

/// `prefix:local` for a known namespace, `{uri}local` otherwise.
pub fn qname(uri: &str, local: &str) -> String {
    match prefix_of(uri) {
        "" if uri.is_empty() => local.to_string(),
        "" => format!("{{{uri}}}{local}"),
        p => format!("{p}:{local}"),
    }
}

/// The [`qname`] of an element's name.
pub(crate) fn element_qname(node: roxmltree::Node<'_, '_>) -> String {
    let t = node.tag_name();
    qname(t.namespace().unwrap_or(""), t.name())
}
