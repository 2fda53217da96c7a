//! The original server's test suite (its Java resource tests) over real
//! HTTP, with the clock at 2015-01-01T00:00:00Z (the instant its fixtures
//! hold at) and documents of the same
//! shapes as the original fixtures, signed here with the conformance
//! credential (`test.p12`, Jane Tester).
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

mod common;

use common::*;

// The original suite's fixtures, as (document, endorsement created).
fn indate() -> (Doc, &'static str) {
    (Doc::bee8(), "2014-03-08T14:10:40Z")
}
fn newer() -> (Doc, &'static str) {
    (Doc::bee8(), "2014-03-08T14:23:18Z")
}
fn deprecated() -> (Doc, &'static str) {
    let mut d = Doc::bee8();
    d.deprecated = Some("This is a test of deprecation".into());
    (d, "2014-03-08T14:10:17Z")
}
fn two_locations() -> (Doc, &'static str) {
    let mut d = Doc::bee8();
    d.locations = vec![
        "http://www.example.org/1234".into(),
        "http://www.example2.org/5678".into(),
    ];
    (d, "2014-03-08T14:28:15Z")
}
fn expired() -> (Doc, &'static str) {
    let mut d = Doc::with_id(EXPIRED_ID);
    d.valid = Some("2011-09-10T11:23:02Z".into());
    (d, "2011-09-12T11:23:44Z")
}
fn alternative() -> (Doc, &'static str) {
    let mut d = Doc::bee8();
    d.valid = Some("2020-03-05T14:12:57Z".into());
    d.alternative = Some("Alternative".into());
    d.description = Some("An image with an alternative tag".into());
    (d, "2014-05-04T16:47:11Z")
}
fn alternative_newid() -> (Doc, &'static str) {
    let mut d = Doc::with_id(NEWID);
    d.valid = Some("2020-12-31T13:50:54Z".into());
    d.alternative = Some("Alternative".into());
    d.description = Some("A new image with the same tag".into());
    d.version = Some("2.0".into());
    (d, "2014-05-04T16:49:03Z")
}
fn alternative_deprecated() -> (Doc, &'static str) {
    let mut d = Doc::bee8();
    d.valid = Some("2020-03-05T14:12:57Z".into());
    d.alternative = Some("Alternative".into());
    d.deprecated = Some("This is a test of deprecation".into());
    (d, "2014-08-17T15:16:48Z")
}
fn special_characters() -> (Doc, &'static str) {
    let mut d = Doc::with_id("MMZu9WvwKIro-rtBQfDk4PsKO7_");
    d.valid = Some("2016-03-05T14:12:57Z".into());
    d.description = Some(
        "A \"quoted\" description (with parentheses)\nover several lines,\n\
         http://example.org/a?b=c&d=e and a backslash \\ and 'single quotes'."
            .into(),
    );
    (d, "2012-01-19T15:46:18Z")
}

fn sign((doc, created): (Doc, &str)) -> String {
    doc.signed(created)
}

// ---- MDataResourceTest ----

#[tokio::test]
async fn invalid_post_no_signature() {
    let s = TestServer::start().await;
    let (doc, _) = indate();
    let r = s.upload(&doc.xml()).await;
    assert_eq!(r.status(), 400);
    let body = r.text().await.unwrap();
    assert_eq!(
        texts(&body, "error"),
        vec!["invalid metadata: no signature"]
    );
    assert!(s.keys().await.is_empty());
}

#[tokio::test]
async fn valid_post_signature() {
    let s = TestServer::start().await;
    let r = s.upload(&sign(indate())).await;
    assert_eq!(r.status(), 201);
    assert_eq!(
        r.headers()["location"],
        format!("{PUBLIC_URL}/metadata/{BEE8}/{JANE}/2014-03-08T14:10:40Z").as_str()
    );
    // The message, then the notes (this document is signed with RSA-SHA256,
    // which the original Java tools cannot check).
    let notes = notes_after(&r.text().await.unwrap(), "metadata entry created");
    assert!(
        notes.iter().any(|n| n.contains("--legacy-sha1")),
        "{notes:?}"
    );
}

#[tokio::test]
async fn get_metadata_entry_and_by_identifier() {
    let s = TestServer::start().await;
    s.upload_ok(&sign(indate())).await;
    let q = format!("/metadata?identifier={BEE8}&email={JANE}&created=2014-03-08T14:10:40Z");
    assert_eq!(s.fetch(&q, None).await.0, 200);
    assert_eq!(s.fetch(&format!("/metadata/{BEE8}"), None).await.0, 200);
}

#[tokio::test]
async fn identifier_query_strings() {
    let s = TestServer::start().await;
    s.upload_ok(&sign(indate())).await;
    for q in [
        format!("/metadata?identifier={BEE8}"),
        format!("/metadata?identifier={BEE8}&email={JANE}"),
    ] {
        let (status, ct, body) = s.fetch(&q, None).await;
        assert_eq!(status, 200, "{q}");
        assert!(ct.starts_with("application/xml"), "{ct}");
        assert_eq!(texts(&body, "identifier")[0], BEE8);
    }
    let (status, _, body) = s
        .fetch(
            &format!("/metadata?identifier={BEE8}&email=j.tester@example.org"),
            None,
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        texts(&body, "error"),
        vec!["no metadata matching query found"]
    );
}

#[tokio::test]
async fn created_query() {
    let s = TestServer::start().await;
    s.upload_ok(&sign(indate())).await;
    let (status, _, body) = s
        .fetch("/metadata?created=2014-03-08T14:10:40Z", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(texts(&body, "identifier")[0], BEE8);
}

#[tokio::test]
async fn identifier_returns_latest() {
    let s = TestServer::start().await;
    s.upload_ok(&sign(indate())).await;
    s.upload_ok(&sign(newer())).await;
    let (status, _, body) = s.fetch(&format!("/metadata/{BEE8}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(endorsement_dates(&body), vec!["2014-03-08T14:23:18Z"]);
}

#[tokio::test]
async fn uploading_older_metadata_fails() {
    let s = TestServer::start().await;
    assert_eq!(s.upload(&sign(newer())).await.status(), 201);
    let r = s.upload(&sign(indate())).await;
    assert_eq!(r.status(), 400);
    let body = r.text().await.unwrap();
    assert_eq!(
        texts(&body, "error"),
        vec!["invalid metadata: older than latest entry"]
    );
    assert_eq!(s.keys().await.len(), 1);
}

#[tokio::test]
async fn deprecated_not_in_list_but_flagged() {
    let s = TestServer::start().await;
    s.upload_ok(&sign(deprecated())).await;
    assert_eq!(s.fetch(&format!("/metadata/{BEE8}"), None).await.0, 404);
    let q = format!(
        "/metadata?identifier={BEE8}&email={JANE}&created=2014-03-08T14:10:17Z&status=deprecated"
    );
    assert_eq!(s.fetch(&q, None).await.0, 200);
}

#[tokio::test]
async fn expired_not_in_list_but_still_available() {
    let s = TestServer::start().await;
    s.upload_ok(&sign(expired())).await;
    assert_eq!(
        s.fetch(&format!("/metadata/{EXPIRED_ID}"), None).await.0,
        404
    );
    let q = format!(
        "/metadata?identifier={EXPIRED_ID}&email={JANE}&created=2011-09-12T11:23:44Z&status=expired"
    );
    assert_eq!(s.fetch(&q, None).await.0, 200);
}

#[tokio::test]
async fn creates_valid_json() {
    let s = TestServer::start().await;
    s.upload_ok(&sign(special_characters())).await;
    let mut form = String::from(
        "sEcho=1&iColumns=6&sColumns=&iDisplayStart=0&iDisplayLength=10&sSearch=&bRegex=false",
    );
    for i in 0..6 {
        form.push_str(&format!(
            "&mDataProp_{i}={i}&sSearch_{i}=&bRegex_{i}=false&bSearchable_{i}={}&bSortable_{i}={}",
            i == 0,
            i != 0
        ));
    }
    form.push_str("&iSortingCols=1&iSortCol_0=5&sSortDir_0=desc");
    for extra in ["", "&status=all"] {
        let r = s
            .client
            .post(s.url("/metadata"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json")
            .body(format!("{form}{extra}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
        assert_eq!(v["sEcho"], 1);
        assert_eq!(v["rMsg"], "no metadata matching query found");
        if extra.is_empty() {
            // At 2015-01-01 the entry is valid (until 2016).
            assert_eq!(v["aaData"].as_array().unwrap().len(), 1);
        } else {
            let row = &v["aaData"][0];
            assert_eq!(row[9], special_characters().0.description.unwrap().as_str());
            assert_eq!(row[10], "null");
        }
    }
}

#[tokio::test]
async fn duplicate_metadata_fields() {
    let s = TestServer::start().await;
    s.upload_ok(&sign(two_locations())).await;
    let (status, _, body) = s.fetch(&format!("/metadata/{BEE8}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(texts(&body, "RDF").len(), 1);
}

// ---- MDatumResourceTest ----

#[tokio::test]
async fn single_entry_in_three_media() {
    let s = TestServer::start().await;
    let doc = sign(indate());
    s.upload_ok(&doc).await;
    let path = format!("/metadata/{BEE8}/{JANE}/2014-03-08T14:10:40Z");
    let (status, ct, _) = s.fetch(&path, Some("text/html")).await;
    assert_eq!((status, ct.starts_with("text/html")), (200, true));
    let r = s.get(&path, Some("text/xml")).await;
    assert_eq!(r.headers()["content-type"], "application/rdf+xml");
    assert_eq!(
        r.headers()["content-disposition"],
        format!("attachment; filename={BEE8}.xml").as_str()
    );
    assert_eq!(r.text().await.unwrap(), doc, "stored bytes exactly");
    let (status, ct, body) = s.fetch(&path, Some("application/json")).await;
    assert_eq!((status, ct.as_str()), (200, "application/json"));
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let subject = &v[format!("http://mp.stratuslab.eu/#{BEE8}")];
    assert_eq!(
        subject["http://purl.org/dc/terms/identifier"][0]["value"],
        BEE8
    );
    assert!(!body.contains("SignatureValue"));
}

#[tokio::test]
async fn get_tag_both_routes() {
    let s = TestServer::start().await;
    s.upload_ok(&sign(alternative())).await;
    for path in [
        format!("/metadata/{JANE}?tag=Alternative"),
        format!("/tag/{JANE}/Alternative"),
        format!("/metadata/{JANE}?tag=%22Alternative%22"),
    ] {
        let (status, _, body) = s.fetch(&path, None).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(texts(&body, "identifier"), vec![BEE8]);
        assert_eq!(texts(&body, "alternative"), vec!["Alternative"]);
    }
}

#[tokio::test]
async fn get_tag_returns_latest_even_with_deprecated_entry() {
    let s = TestServer::start().await;
    s.upload_ok(&sign(alternative())).await;
    s.upload_ok(&sign(alternative_newid())).await;
    let check = |body: String| {
        assert_eq!(texts(&body, "identifier"), vec![NEWID]);
        assert_eq!(texts(&body, "alternative"), vec!["Alternative"]);
        assert_eq!(
            texts(&body, "description"),
            vec!["A new image with the same tag"]
        );
        assert_eq!(endorsement_dates(&body), vec!["2014-05-04T16:49:03Z"]);
    };
    check(s.fetch(&format!("/tag/{JANE}/Alternative"), None).await.2);
    // The deprecated, newer BEE8 entry removes BEE8 from consideration.
    s.upload_ok(&sign(alternative_deprecated())).await;
    check(
        s.fetch(&format!("/metadata/{JANE}?tag=Alternative"), None)
            .await
            .2,
    );
}

// ---- TagsResourceTest, EndorserResourceTest, EndorsersResourceTest ----

#[tokio::test]
async fn endorser_tags_history_and_endorsers() {
    let s = TestServer::start().await;
    s.upload_ok(&sign(alternative())).await;
    let (status, ct, body) = s.fetch(&format!("/endorsers/{JANE}/tags"), None).await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("application/xml"));
    assert!(body.contains("Alternative"));

    let s = TestServer::start().await;
    s.upload_ok(&sign(indate())).await;
    let (status, _, body) = s
        .fetch(&format!("/endorsers/{JANE}?range=1460"), None)
        .await;
    assert_eq!(status, 200);
    assert!(body.contains(BEE8), "{body}");
    // The default range (30 days before 2015-01-01) does not reach 2014-03-08.
    let (_, _, body) = s.fetch(&format!("/endorsers/{JANE}"), None).await;
    assert!(!body.contains(BEE8));

    let (status, _, body) = s.fetch("/endorsers", None).await;
    assert_eq!(status, 200);
    assert!(body.contains(JANE));
}

// ---- QueryResourceTest: /query is not provided (an open SPARQL endpoint; see the README) ----

#[tokio::test]
async fn no_sparql_endpoint() {
    let s = TestServer::start().await;
    let (status, _, _) = s
        .fetch(
            "/query?query=select%20%3Fx%20where%20%7B%3Fx%20%3Fy%20%3Fz%7D",
            None,
        )
        .await;
    assert_eq!(status, 404);
}
