//! The routes' media types, status codes and shapes beyond the original
//! suite: negotiation, uploads from the browser form, error bodies, lists.
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

const CREATED: &str = "2014-03-08T14:10:40Z";
const FIREFOX: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

#[tokio::test]
async fn upload_content_types() {
    let s = TestServer::start().await;
    let doc = Doc::bee8().signed(CREATED);
    // text/xml is not an upload type (as the original): 415.
    let r = s
        .client
        .post(s.url("/metadata"))
        .header("Content-Type", "text/xml")
        .body(doc.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    // No entity at all.
    let r = s.client.post(s.url("/metadata")).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        texts(&r.text().await.unwrap(), "error"),
        vec!["post with null entity"]
    );
    let r = s
        .client
        .post(s.url("/metadata"))
        .header("Content-Type", "application/xml")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Multipart without a file part.
    let form = reqwest::multipart::Form::new().text("comment", "no file");
    let r = s
        .client
        .post(s.url("/metadata"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        texts(&r.text().await.unwrap(), "error"),
        vec!["no valid file uploaded"]
    );
    // The browser form: first part with a file name; an HTML status page.
    let part = reqwest::multipart::Part::text(doc.clone()).file_name("image.xml");
    let form = reqwest::multipart::Form::new()
        .text("comment", "ignored")
        .part("Metadata File", part);
    let r = s
        .client
        .post(s.url("/metadata"))
        .header("Accept", FIREFOX)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(r.headers().contains_key("location"));
    let page = r.text().await.unwrap();
    assert!(page.contains("<title>Upload") && page.contains("metadata entry created"));
    // application/xml works like application/rdf+xml.
    let r = s
        .client
        .post(s.url("/metadata"))
        .header("Content-Type", "application/xml; charset=utf-8")
        .body(doc)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "already present");
    notes_after(&r.text().await.unwrap(), "metadata entry already present");
}

#[tokio::test]
async fn list_media_and_paging() {
    let s = TestServer::start().await;
    for (i, id) in [BEE8, NEWID, EXPIRED_ID].iter().enumerate() {
        let mut d = Doc::with_id(id);
        d.title = Some(format!("Image {i}"));
        s.upload_ok(&d.signed(CREATED)).await;
    }
    let r = s
        .get("/metadata?iDisplayStart=0&iDisplayLength=2", None)
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-total-count"], "3");
    assert_eq!(texts(&r.text().await.unwrap(), "RDF").len(), 2);
    // JSON via Accept and via ?media=json.
    for (path, accept) in [
        ("/metadata", Some("application/json")),
        ("/metadata?media=json", Some("text/html")),
    ] {
        let (status, ct, body) = s.fetch(path, accept).await;
        assert_eq!((status, ct.as_str()), (200, "application/json"));
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["iTotalRecords"], 3);
        assert_eq!(v["aaData"].as_array().unwrap().len(), 3);
        assert_eq!(v["aaData"][0].as_array().unwrap().len(), 11);
        assert_eq!(v["aaData"][0][1], "ttylinux");
    }
    // Sorted by title descending, paged.
    let (_, _, body) = s
        .fetch(
            "/metadata?media=json&iDisplayStart=1&iDisplayLength=1&iSortCol_0=10&sSortDir_0=desc&sEcho=7",
            None,
        )
        .await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["sEcho"], 7);
    assert_eq!(v["iTotalDisplayRecords"], 3);
    assert_eq!(v["aaData"][0][10], "Image 1");
    // JSON empty list is 200 with the message.
    let (status, _, body) = s
        .fetch("/metadata/nobody@example.org?media=json", None)
        .await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["aaData"].as_array().unwrap().len(), 0);
    // HTML for browsers, with the rows.
    let (status, ct, body) = s.fetch("/metadata", Some(FIREFOX)).await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/html"));
    assert!(
        body.contains("Image 2") && body.contains(&format!("metadata/{BEE8}/{JANE}/{CREATED}"))
    );
    // Path filters by shape: email then identifier, in either order.
    for path in [
        format!("/metadata/{JANE}/{NEWID}"),
        format!("/metadata/{NEWID}/{JANE}"),
        format!("/metadata/{JANE}?identifier={NEWID}"),
    ] {
        let (status, _, body) = s.fetch(&path, None).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(texts(&body, "identifier"), vec![NEWID]);
    }
    // Two identifiers contradict each other.
    assert_eq!(
        s.fetch(&format!("/metadata/{BEE8}/{NEWID}"), None).await.0,
        404
    );
}

#[tokio::test]
async fn datatables_post_uses_path_filters() {
    let s = TestServer::start().await;
    s.upload_ok(&Doc::bee8().signed(CREATED)).await;
    s.upload_ok(&Doc::with_id(NEWID).signed(CREATED)).await;
    let r = s
        .client
        .post(s.url(&format!("/metadata/{NEWID}?status=valid")))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("sEcho=2&iDisplayStart=0&iDisplayLength=10")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(v["sEcho"], 2);
    assert_eq!(v["aaData"].as_array().unwrap().len(), 1);
    assert_eq!(v["aaData"][0][7], NEWID);
}

#[tokio::test]
async fn endorsers_history_tags_shapes() {
    let s = TestServer::start().await;
    let mut d = Doc::bee8();
    d.alternative = Some("stable & <new>".into());
    d.locations = vec!["http://a.example/1".into(), "http://b.example/2".into()];
    s.upload_ok(&d.signed("2014-12-20T00:00:00Z")).await;
    s.upload_ok(&Doc::with_id(NEWID).signed_by(alice(), CREATED))
        .await;

    let (_, ct, body) = s.fetch("/endorsers", None).await;
    assert!(ct.starts_with("application/xml"));
    assert_eq!(
        texts(&body, "literal")
            .iter()
            .filter(|t| t.contains('@'))
            .count(),
        2
    );
    let (_, ct, body) = s.fetch("/endorsers", Some("application/json")).await;
    assert_eq!(ct, "application/json");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["head"]["vars"],
        serde_json::json!(["email", "subject", "issuer"])
    );
    assert_eq!(v["results"]["bindings"].as_array().unwrap().len(), 2);
    let (_, _, html) = s.fetch("/endorsers", Some(FIREFOX)).await;
    assert!(html.contains("Jane Tester") && html.contains("Alice Example"));

    // History: one row per location, within the default 30 days.
    let (status, _, body) = s
        .fetch(&format!("/endorsers/{JANE}"), Some("application/json"))
        .await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["results"]["bindings"].as_array().unwrap().len(), 2);
    let (status, _, body) = s.fetch("/endorsers/nobody@example.org", None).await;
    assert_eq!(status, 200, "no 404 for unknown endorsers");
    assert!(texts(&body, "result").is_empty());

    // Tags: the tag with markup, escaped in XML, linked in HTML.
    let (_, _, body) = s.fetch(&format!("/endorsers/{JANE}/tags"), None).await;
    assert_eq!(texts(&body, "literal"), vec!["stable & <new>"]);
    let (_, _, html) = s
        .fetch(&format!("/endorsers/{JANE}/tags"), Some(FIREFOX))
        .await;
    assert!(
        html.contains("tag/jane.tester@example.org/stable%20%26%20%3Cnew%3E"),
        "{html}"
    );
    let (status, _, _) = s
        .fetch(&format!("/tag/{JANE}/stable%20%26%20%3Cnew%3E"), None)
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn home_upload_unknown_and_methods() {
    let s = TestServer::start().await;
    let (status, ct, body) = s.fetch("/", None).await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/html"));
    assert!(body.contains("http-equiv=\"refresh\"") && body.contains("url=metadata"));
    let (status, _, body) = s.fetch("/upload/", Some(FIREFOX)).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("enctype=\"multipart/form-data\"") && body.contains("name=\"Metadata File\"")
    );
    let (status, ct, body) = s.fetch("/no/such/page", None).await;
    assert_eq!(status, 404, "unknown paths are not the home page");
    assert!(ct.starts_with("application/xml"));
    assert_eq!(texts(&body, "error"), vec!["not found"]);
    let r = s.client.delete(s.url("/metadata")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    let r = s.client.post(s.url("/endorsers")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    let (status, ct, body) = s.fetch("/no/such/page?media=json", None).await;
    assert_eq!((status, ct.as_str()), (404, "application/json"));
    assert_eq!(body, r#"{"404":"not found"}"#);
    let (_, ct, body) = s.fetch("/no/such/page?media=txt", None).await;
    assert!(ct.starts_with("text/plain"));
    assert_eq!(body, "not found\n");
}
