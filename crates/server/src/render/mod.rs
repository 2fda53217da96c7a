//! Representations: escaping for every output format, the HTML pages'
//! templates, the original's SPARQL-results tables and list query, RDF/JSON
//! of a document, and the Atom feeds.

pub mod escape;
pub(crate) mod feeds;
pub(crate) mod html;
pub(crate) mod listing;
pub(crate) mod results;
