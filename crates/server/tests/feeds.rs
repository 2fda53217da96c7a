//! Atom feeds over real HTTP: they parse back with `atom_syndication`,
//! carry the right entries newest first with ids and links under the
//! public URL, and escape what the documents say.
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

mod common;

use atom_syndication::Feed;
use common::*;
use std::str::FromStr;

const ALICE: &str = "alice@example.org";
const NASTY: &str = "<script>alert(1)</script> & \"quotes\" ]]>";

/// Jane on BEE8 (a nasty title), Alice on BEE8, Jane on NEWID deprecated,
/// in this order.
async fn load(server: &TestServer) {
    let mut bee8 = Doc::bee8();
    bee8.title = Some(NASTY.into());
    bee8.description = Some("A tiny <b>image</b>".into());
    server
        .upload_ok(&bee8.signed_by(jane(), "2014-03-01T00:00:00Z"))
        .await;
    server
        .upload_ok(&Doc::bee8().signed_by(alice(), "2014-03-02T00:00:00Z"))
        .await;
    let mut newid = Doc::with_id(NEWID);
    newid.deprecated = Some("broken".into());
    server
        .upload_ok(&newid.signed_by(jane(), "2014-04-01T00:00:00Z"))
        .await;
}

async fn feed(server: &TestServer, path: &str) -> (Feed, String, reqwest::header::HeaderMap) {
    let r = server.get(path, None).await;
    assert_eq!(r.status().as_u16(), 200, "{path}");
    let headers = r.headers().clone();
    assert_eq!(
        headers["content-type"].to_str().unwrap(),
        "application/atom+xml; charset=utf-8"
    );
    let body = r.text().await.unwrap();
    roxmltree::Document::parse(&body).unwrap_or_else(|e| panic!("{path}: not XML: {e}"));
    let feed = Feed::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
    (feed, body, headers)
}

fn entry_url(id: &str, email: &str, created: &str) -> String {
    format!("{PUBLIC_URL}/metadata/{id}/{email}/{created}")
}

#[tokio::test]
async fn feeds_carry_the_right_entries() {
    let server = TestServer::start().await;
    load(&server).await;
    let stored = server.store.entries_after(None, 10).await.unwrap();

    let (all, body, headers) = feed(&server, "/feeds/entries.atom").await;
    assert_eq!(all.id, format!("{PUBLIC_URL}/feeds/entries.atom"));
    assert!(
        all.links
            .iter()
            .any(|l| l.rel == "self" && l.href == all.id)
    );
    let ids: Vec<&str> = all.entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            entry_url(NEWID, JANE, "2014-04-01T00:00:00Z"),
            entry_url(BEE8, ALICE, "2014-03-02T00:00:00Z"),
            entry_url(BEE8, JANE, "2014-03-01T00:00:00Z"),
        ]
    );
    // updated = acceptance; the feed's = the newest.
    for entry in &all.entries {
        let s = stored
            .iter()
            .find(|s| {
                entry_url(
                    &s.entry.key.identifier,
                    &s.entry.key.email,
                    &s.entry.key.created,
                ) == entry.id
            })
            .unwrap();
        assert_eq!(
            entry.updated.timestamp_micros(),
            s.accepted_at.timestamp_micros()
        );
        let signed = entry
            .links
            .iter()
            .find(|l| l.mime_type.as_deref() == Some("application/rdf+xml"))
            .expect("a link to the signed document");
        assert_eq!(signed.href, format!("{}?media=xml", entry.id));
        // The link leads to the signed bytes.
        let local = signed.href.strip_prefix(PUBLIC_URL).unwrap();
        let (status, _, doc) = server.fetch(local, None).await;
        assert_eq!(status, 200);
        assert_eq!(doc.as_bytes(), s.entry.document.as_slice());
    }
    assert_eq!(all.updated, all.entries[0].updated);
    let newest = stored.iter().map(|s| s.accepted_at).max().unwrap();
    assert_eq!(
        headers["last-modified"].to_str().unwrap(),
        marketplace_server::http::conditional::http_date(newest)
    );

    // Text is escaped: the markup comes back as text, never as markup.
    assert!(!body.contains("<script>"), "{body}");
    assert!(!body.contains("<b>"), "{body}");
    let jane_bee8 = &all.entries[2];
    assert!(
        jane_bee8.title.value.contains(NASTY),
        "{:?}",
        jane_bee8.title
    );
    let content = jane_bee8
        .content
        .as_ref()
        .unwrap()
        .value
        .as_deref()
        .unwrap();
    assert!(content.contains(&format!("Title: {NASTY}")), "{content}");
    assert!(
        content.contains("Description: A tiny <b>image</b>"),
        "{content}"
    );
    assert!(content.contains("OS: ttylinux 9.3 i686"), "{content}");
    assert!(all.entries[0].title.value.starts_with("[deprecated] "));

    // Per endorser.
    let (alice_feed, _, _) = feed(&server, &format!("/feeds/endorsers/{ALICE}.atom")).await;
    assert_eq!(alice_feed.entries.len(), 1);
    assert_eq!(
        alice_feed.entries[0].id,
        entry_url(BEE8, ALICE, "2014-03-02T00:00:00Z")
    );
    assert_eq!(
        alice_feed.id,
        format!("{PUBLIC_URL}/feeds/endorsers/{ALICE}.atom")
    );
    let (jane_feed, _, _) = feed(&server, &format!("/feeds/endorsers/{JANE}.atom")).await;
    assert_eq!(jane_feed.entries.len(), 2);
    assert_eq!(jane_feed.entries[0].authors[0].email.as_deref(), Some(JANE));

    // Per image.
    let (image, _, _) = feed(&server, &format!("/feeds/images/{BEE8}.atom")).await;
    let ids: Vec<&str> = image.entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            entry_url(BEE8, ALICE, "2014-03-02T00:00:00Z"),
            entry_url(BEE8, JANE, "2014-03-01T00:00:00Z"),
        ]
    );

    // Unknown feeds.
    for path in [
        "/feeds/images/AAAAAAAAAAAAAAAAAAAAAAAAAAA.atom",
        "/feeds/endorsers/nobody@example.org.atom",
        &format!("/feeds/images/{BEE8}"),
        "/feeds/images/.atom",
    ] {
        let (status, _, _) = server.fetch(path, None).await;
        assert_eq!(status, 404, "{path}");
    }
}

#[tokio::test]
async fn an_empty_marketplace_has_an_empty_feed() {
    let server = TestServer::start().await;
    let (feed, _, headers) = feed(&server, "/feeds/entries.atom").await;
    assert!(feed.entries.is_empty());
    assert!(headers.get("last-modified").is_none());
}
