//! Writing documents: a new unsigned document from [`Metadata`], and the
//! endorsement block that signing fills in.
//!
//! Written by hand rather than through an XML writer because the output is a
//! fixed, small shape whose exact layout we want to control (it is what people
//! read before they sign it); every value goes through [`escape`].

use crate::model::{Endorsement, Metadata};
use crate::ns;
use std::fmt::Write;

/// Escapes text for element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

fn element(out: &mut String, indent: &str, qname: &str, value: &str) {
    let _ = writeln!(out, "{indent}<{qname}>{}</{qname}>", escape(value));
}

fn optional(out: &mut String, qname: &str, value: &Option<String>) {
    if let Some(v) = value {
        element(out, "    ", qname, v);
    }
}

/// The `slreq:endorsement` element for `endorsement`, indented by `indent`
/// (an empty endorsement is written as the template's empty element).
pub fn endorsement_xml(endorsement: Option<&Endorsement>, indent: &str) -> String {
    let Some(e) = endorsement else {
        return format!("{indent}<slreq:endorsement rdf:parseType=\"Resource\"/>");
    };
    let inner = format!("{indent}    ");
    let deeper = format!("{indent}        ");
    let mut out = format!("{indent}<slreq:endorsement rdf:parseType=\"Resource\">\n");
    element(&mut out, &inner, "dcterms:created", &e.created);
    let _ = writeln!(out, "{inner}<slreq:endorser rdf:parseType=\"Resource\">");
    element(&mut out, &deeper, "slreq:email", &e.endorser.email);
    element(&mut out, &deeper, "slreq:subject", &e.endorser.subject);
    for issuer in &e.endorser.issuers {
        element(&mut out, &deeper, "slreq:issuer", issuer);
    }
    if e.endorser.email_unverified {
        let _ = writeln!(
            out,
            "{deeper}<mp:email-verified xmlns:mp=\"{}\">false</mp:email-verified>",
            ns::MARKETPLACE
        );
    }
    let _ = writeln!(out, "{inner}</slreq:endorser>");
    let _ = write!(out, "{indent}</slreq:endorsement>");
    out
}

/// A complete unsigned document for `m`.
pub fn to_xml(m: &Metadata) -> String {
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = write!(
        out,
        "<rdf:RDF xmlns:rdf=\"{}\" xmlns:dcterms=\"{}\" xmlns:slreq=\"{}\" xmlns:slterms=\"{}\"",
        ns::RDF,
        ns::DCTERMS,
        ns::SLREQ,
        ns::SLTERMS
    );
    if !m.visible_to.is_empty() {
        let _ = write!(out, " xmlns:mp=\"{}\"", ns::MARKETPLACE);
    }
    let _ = writeln!(out, " xml:base=\"{}\">", ns::XML_BASE);
    let _ = writeln!(
        out,
        "  <rdf:Description rdf:about=\"#{}\">",
        escape(&m.identifier)
    );
    element(&mut out, "    ", "dcterms:identifier", &m.identifier);
    optional(&mut out, "dcterms:isReplacedBy", &m.is_replaced_by);
    optional(&mut out, "dcterms:replaces", &m.replaces);
    optional(&mut out, "dcterms:isVersionOf", &m.is_version_of);
    if let Some(bytes) = m.bytes {
        element(&mut out, "    ", "slreq:bytes", &bytes.to_string());
    }
    for c in &m.checksums {
        let _ = writeln!(out, "    <slreq:checksum rdf:parseType=\"Resource\">");
        element(&mut out, "      ", "slreq:algorithm", c.algorithm.name());
        element(&mut out, "      ", "slreq:value", &c.value);
        let _ = writeln!(out, "    </slreq:checksum>");
    }
    out.push_str(&endorsement_xml(m.endorsement.as_ref(), "    "));
    out.push('\n');
    optional(&mut out, "dcterms:type", &m.kind_type);
    optional(&mut out, "slterms:kind", &m.kind);
    optional(&mut out, "dcterms:valid", &m.valid);
    optional(&mut out, "dcterms:title", &m.title);
    optional(&mut out, "dcterms:description", &m.description);
    optional(&mut out, "dcterms:creator", &m.creator);
    optional(&mut out, "dcterms:created", &m.created);
    optional(&mut out, "dcterms:publisher", &m.publisher);
    optional(&mut out, "dcterms:format", &m.format);
    optional(&mut out, "dcterms:alternative", &m.alternative);
    optional(&mut out, "dcterms:compression", &m.compression);
    for l in &m.locations {
        element(&mut out, "    ", "slterms:location", l);
    }
    if let Some(n) = m.serial_number {
        element(&mut out, "    ", "slterms:serial-number", &n.to_string());
    }
    optional(&mut out, "slterms:version", &m.version);
    optional(&mut out, "slterms:hypervisor", &m.hypervisor);
    for p in &m.inbound_ports {
        element(&mut out, "    ", "slterms:inbound-port", &p.to_string());
    }
    for p in &m.outbound_ports {
        element(&mut out, "    ", "slterms:outbound-port", &p.to_string());
    }
    for p in &m.icmp {
        element(&mut out, "    ", "slterms:icmp", &p.to_string());
    }
    optional(&mut out, "slterms:os", &m.os);
    optional(&mut out, "slterms:os-version", &m.os_version);
    optional(&mut out, "slterms:os-arch", &m.os_arch);
    for b in &m.disks_bus {
        element(&mut out, "    ", "slterms:disks-bus", b);
    }
    optional(&mut out, "slterms:deprecated", &m.deprecated);
    for vo in &m.visible_to {
        element(&mut out, "    ", "mp:visible-to", vo);
    }
    out.push_str("  </rdf:Description>\n</rdf:RDF>\n");
    out
}
