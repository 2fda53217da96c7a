//! RDF/JSON (the "Talis" layout) of a stored document, as the original
//! served single entries in JSON: the document without its `ds:Signature`,
//! read as RDF/XML with base `http://mp.stratuslab.eu/`, as
//! `{subject: {predicate: [{type, value, lang?, datatype?}]}}`.

use oxrdf::{NamedOrBlankNode, Term};
use oxrdfxml::RdfXmlParser;
use serde_json::{Map, Value, json};

const XSD_STRING: &str = "http://www.w3.org/2001/XMLSchema#string";

/// The RDF/JSON object of a signed document.
pub fn to_rdf_json(document: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(document).map_err(|e| e.to_string())?;
    let doc = crate::parse::parse_xml(text).map_err(|p| p.to_string())?;
    let stripped = crate::parse::strip_root_signatures(&doc, text);
    let parser = RdfXmlParser::new()
        .with_base_iri(crate::ns::XML_BASE)
        .map_err(|e| e.to_string())?;
    let mut out = Map::new();
    for triple in parser.for_slice(stripped.as_bytes()) {
        let triple = triple.map_err(|e| e.to_string())?;
        let subject = match &triple.subject {
            NamedOrBlankNode::NamedNode(n) => n.as_str().to_string(),
            NamedOrBlankNode::BlankNode(b) => format!("_:{}", b.as_str()),
        };
        let object = match &triple.object {
            Term::NamedNode(n) => json!({"type": "uri", "value": n.as_str()}),
            Term::BlankNode(b) => json!({"type": "bnode", "value": format!("_:{}", b.as_str())}),
            Term::Literal(l) => {
                let mut o = Map::new();
                o.insert("type".into(), "literal".into());
                o.insert("value".into(), l.value().into());
                if let Some(lang) = l.language() {
                    o.insert("lang".into(), lang.into());
                } else if l.datatype().as_str() != XSD_STRING {
                    o.insert("datatype".into(), l.datatype().as_str().into());
                }
                Value::Object(o)
            }
            #[allow(unreachable_patterns)]
            _ => continue,
        };
        let predicates = out
            .entry(subject)
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(p) = predicates
            && let Value::Array(list) = p
                .entry(triple.predicate.as_str().to_string())
                .or_insert_with(|| Value::Array(Vec::new()))
        {
            list.push(object);
        }
    }
    Ok(Value::Object(out))
}
