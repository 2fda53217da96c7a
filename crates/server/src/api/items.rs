//! The API's items built from the store's rows: absolute links from the
//! public base URL ([`Linker`]), an entry's item, endorsers grouped with
//! their certificates. The shapes themselves are the `marketplace-api`
//! crate's.

use marketplace_api::{
    Assurance, CertificateItem, ChecksumItem, EndorserItem, EndorserLinks, EndorserRef, EntryItem,
    EntryLinks,
};
use marketplace_store::{EndorserSummary, EntrySummary, Signer};

/// The assurance of a verified signer.
pub(crate) fn assurance_of(signer: &Signer) -> Assurance {
    if signer.chained {
        Assurance::Certified
    } else {
        Assurance::SelfAsserted
    }
}

/// Builds absolute links from the public base URL.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Linker<'a> {
    /// The public base URL without a trailing `/`.
    pub(crate) base: &'a str,
}

impl Linker<'_> {
    /// `base` + `path` (which starts with `/`).
    pub(crate) fn abs(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The API URL of an image.
    pub(crate) fn image(&self, identifier: &str) -> String {
        self.abs(&format!(
            "/api/v1/images/{}",
            crate::render::escape::path_segment(identifier)
        ))
    }

    /// The API URL of an endorser.
    pub(crate) fn endorser(&self, email: &str) -> String {
        self.abs(&format!(
            "/api/v1/endorsers/{}",
            crate::render::escape::path_segment(email)
        ))
    }

    /// The links of the entry with `key`.
    pub(crate) fn entry(&self, key: &marketplace_store::EntryKey) -> EntryLinks {
        let original = format!("/{}", crate::http::links::entry_path(key));
        let this = self.abs(&format!(
            "/api/v1/entries{}",
            &original["/metadata".len()..]
        ));
        EntryLinks {
            log: format!("{this}/log"),
            receipt: format!("{this}/receipt"),
            this,
            image: self.image(&key.identifier),
            document: self.abs(&format!("{original}?media=xml")),
            page: self.abs(&format!("{original}?media=html")),
        }
    }
}

/// The item of a store summary.
pub(crate) fn entry_item(summary: &EntrySummary, links: Linker<'_>) -> EntryItem {
    let m = &summary.metadata;
    let s = &summary.signer;
    EntryItem {
        identifier: summary.key.identifier.to_string(),
        endorser: EndorserRef {
            email: summary.key.email.to_string(),
            subject: s.subject.clone(),
            issuer: s.issuer.clone(),
            email_certified: s.email_certified,
            identity: assurance_of(s),
            vo: s.vo.clone(),
            fqans: s.fqans.clone(),
        },
        created: summary.key.created.to_string(),
        accepted_at: summary.accepted_at,
        status: summary.status,
        latest: summary.latest,
        rank: summary.rank.filter(|r| r.is_finite()),
        title: m.title.clone(),
        description: m.description.clone(),
        os: m.os.clone(),
        os_version: m.os_version.clone(),
        os_arch: m.os_arch.clone(),
        kind_type: m.kind_type.clone(),
        kind: m.kind.clone(),
        format: m.format.clone(),
        hypervisor: m.hypervisor.clone(),
        tag: m.alternative.clone(),
        version: m.version.clone(),
        valid: m.valid.clone(),
        deprecated: m.deprecated.clone(),
        publisher: m.publisher.clone(),
        creator: m.creator.clone(),
        compression: m.compression.clone(),
        bytes: m.bytes,
        checksums: m
            .checksums
            .iter()
            .map(|c| ChecksumItem {
                algorithm: c.algorithm.name().to_string(),
                value: c.value.clone(),
            })
            .collect(),
        locations: m.locations.clone(),
        visible_to: marketplace_store::visibility(m),
        links: links.entry(&summary.key),
    }
}

/// Groups the store's rows (sorted by e-mail) into one item per e-mail.
pub(crate) fn endorser_items(rows: Vec<EndorserSummary>, links: Linker<'_>) -> Vec<EndorserItem> {
    let mut items: Vec<EndorserItem> = Vec::new();
    for row in rows {
        let certificate = CertificateItem {
            subject: row.subject,
            issuer: row.issuer,
            entries: row.entries,
            latest: row.latest.clone(),
        };
        match items.last_mut() {
            Some(item) if item.email == row.email => {
                item.entry_count += certificate.entries;
                if certificate.latest > item.latest {
                    item.latest = certificate.latest.clone();
                }
                item.certificates.push(certificate);
            }
            _ => items.push(EndorserItem {
                links: EndorserLinks {
                    this: links.endorser(&row.email),
                    feed: links.abs(&format!(
                        "/feeds/endorsers/{}.atom",
                        crate::render::escape::path_segment(&row.email)
                    )),
                },
                email: row.email,
                entry_count: certificate.entries,
                latest: row.latest,
                certificates: vec![certificate],
            }),
        }
    }
    items
}
