//! Conditional GET (ETag / If-None-Match, Last-Modified /
//! If-Modified-Since), `/healthz` (also with a store that is down) and the
//! Prometheus `/metrics`, over real HTTP.
// Tests and examples: a panic is the failure with its message, and helpers
// may be long and `pub` for the modules that share them (docs/structure.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    unreachable_pub
)]

mod common;

use chrono::{DateTime, Utc};
use common::*;
use marketplace_server::http::conditional::http_date;
use marketplace_server::runtime::state::{AppState, TrustSettings};
use marketplace_store::{
    Audience, EndorserBinding, EndorserSummary, EntryKey, EntrySummary, HistoryQuery, NewEntry,
    PendingEntry, PutOutcome, Reindex, SearchPage, SearchQuery, Store, StoreError, StoredEntry,
};
use std::sync::Arc;

async fn get_with(server: &TestServer, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut r = server.client.get(server.url(path));
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.send().await.unwrap()
}

fn header(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

#[tokio::test]
async fn etags_and_if_none_match() {
    let server = TestServer::start().await;
    server
        .upload_ok(&Doc::bee8().signed("2014-03-08T14:10:40Z"))
        .await;
    for path in [
        format!("/api/v1/images/{BEE8}"),
        "/api/v1/images".to_string(),
        "/feeds/entries.atom".to_string(),
        "/metadata?media=json".to_string(),
        format!("/metadata/{BEE8}"),
        format!("/metadata/{BEE8}/{JANE}/2014-03-08T14:10:40Z"),
    ] {
        let first = get_with(&server, &path, &[]).await;
        assert_eq!(first.status().as_u16(), 200, "{path}");
        let etag = header(&first, "etag").unwrap_or_else(|| panic!("{path}: no ETag"));
        assert!(etag.starts_with('"') && !etag.starts_with("W/"), "{etag}");
        let body = first.text().await.unwrap();
        // Same representation, same tag.
        let again = get_with(&server, &path, &[]).await;
        assert_eq!(header(&again, "etag").as_deref(), Some(etag.as_str()));
        // 304 without a body for a matching tag (also in a list, or *).
        for inm in [etag.clone(), format!("\"nope\", {etag}"), "*".to_string()] {
            let r = get_with(&server, &path, &[("If-None-Match", &inm)]).await;
            assert_eq!(r.status().as_u16(), 304, "{path} {inm}");
            assert_eq!(header(&r, "etag").as_deref(), Some(etag.as_str()));
            assert!(r.text().await.unwrap().is_empty());
        }
        let r = get_with(&server, &path, &[("If-None-Match", "\"other\"")]).await;
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.text().await.unwrap(), body);
    }

    // A change of the resource changes the tag: the image's page, and the
    // list of its signed documents, whose tag the handler derives from
    // the documents' digests instead of hashing the body.
    let paths = [
        format!("/api/v1/images/{BEE8}"),
        format!("/metadata/{BEE8}"),
    ];
    let mut before = Vec::new();
    for path in &paths {
        before.push(header(&get_with(&server, path, &[]).await, "etag").unwrap());
    }
    server
        .upload_ok(&Doc::bee8().signed_by(alice(), "2014-03-09T00:00:00Z"))
        .await;
    for (path, etag) in paths.iter().zip(&before) {
        let r = get_with(&server, path, &[("If-None-Match", etag)]).await;
        assert_eq!(r.status().as_u16(), 200, "{path}");
        assert_ne!(header(&r, "etag").as_ref(), Some(etag), "{path}");
    }
    // The list's tag follows what it shows: the two documents, then the
    // first one alone again once the second is deprecated (the list shows
    // valid entries), a tag of its own.
    let lookup = format!("/metadata/{BEE8}");
    let two = get_with(&server, &lookup, &[]).await;
    assert_eq!(header(&two, "x-total-count").as_deref(), Some("2"));
    let two = header(&two, "etag").unwrap();
    let mut deprecated = Doc::bee8();
    deprecated.deprecated = Some("superseded".into());
    server
        .upload_ok(&deprecated.signed_by(alice(), "2014-03-10T00:00:00Z"))
        .await;
    let one = get_with(&server, &lookup, &[("If-None-Match", &two)]).await;
    assert_eq!(one.status().as_u16(), 200);
    assert_eq!(header(&one, "x-total-count").as_deref(), Some("1"));
    let one = header(&one, "etag").unwrap();
    assert_ne!(one, two);
    assert_eq!(one, before[1], "the same single document, the same tag");

    // Each content coding has its own strong tag, hashed from the bytes
    // or derived by the handler.
    for path in ["/api/v1/images".to_string(), lookup.clone()] {
        let plain = header(&get_with(&server, &path, &[]).await, "etag").unwrap();
        let gz = get_with(&server, &path, &[("Accept-Encoding", "gzip")]).await;
        assert_eq!(header(&gz, "content-encoding").as_deref(), Some("gzip"));
        let gz_tag = header(&gz, "etag").unwrap();
        assert_ne!(gz_tag, plain, "{path}");
        let r = get_with(
            &server,
            &path,
            &[("Accept-Encoding", "gzip"), ("If-None-Match", &gz_tag)],
        )
        .await;
        assert_eq!(r.status().as_u16(), 304, "{path}");
        // The identity form's tag does not validate the gzip form.
        let r = get_with(
            &server,
            &path,
            &[("Accept-Encoding", "gzip"), ("If-None-Match", &plain)],
        )
        .await;
        assert_eq!(r.status().as_u16(), 200, "{path}");
    }
    let gz_one = Some(format!("{}-gzip\"", one.trim_end_matches('"')));
    assert_eq!(
        header(
            &get_with(&server, &lookup, &[("Accept-Encoding", "gzip")]).await,
            "etag"
        ),
        gz_one
    );
    // HEAD carries the tag its GET would: per coding too.
    let head = |coding: &'static str| {
        server
            .client
            .head(server.url(&lookup))
            .header("Accept-Encoding", coding)
            .send()
    };
    assert_eq!(
        header(&head("identity").await.unwrap(), "etag"),
        Some(one.clone())
    );
    assert_eq!(header(&head("gzip").await.unwrap(), "etag"), gz_one);

    // Errors and other methods are left alone.
    let r = get_with(&server, "/api/v1/images/unknown", &[("If-None-Match", "*")]).await;
    assert_eq!(r.status().as_u16(), 404);
    assert!(header(&r, "etag").is_none());
}

#[tokio::test]
async fn last_modified_and_if_modified_since() {
    let server = TestServer::start().await;
    server
        .upload_ok(&Doc::bee8().signed("2014-03-08T14:10:40Z"))
        .await;
    let accepted: DateTime<Utc> = server.store.entries_after(None, 1).await.unwrap()[0].accepted_at;
    let lm = http_date(accepted);
    let earlier = http_date(accepted - chrono::Duration::hours(1));
    for path in [
        format!("/api/v1/entries/{BEE8}/{JANE}/2014-03-08T14:10:40Z"),
        format!("/api/v1/images/{BEE8}"),
        format!("/api/v1/images/{BEE8}/history"),
        format!("/api/v1/endorsers/{JANE}"),
        "/feeds/entries.atom".to_string(),
        format!("/feeds/images/{BEE8}.atom"),
    ] {
        let r = get_with(&server, &path, &[]).await;
        assert_eq!(r.status().as_u16(), 200, "{path}");
        assert_eq!(
            header(&r, "last-modified").as_deref(),
            Some(lm.as_str()),
            "{path}"
        );
        let r = get_with(&server, &path, &[("If-Modified-Since", &lm)]).await;
        assert_eq!(r.status().as_u16(), 304, "{path}");
        assert_eq!(header(&r, "last-modified").as_deref(), Some(lm.as_str()));
        let r = get_with(&server, &path, &[("If-Modified-Since", &earlier)]).await;
        assert_eq!(r.status().as_u16(), 200, "{path}");
        // If-None-Match wins over If-Modified-Since.
        let r = get_with(
            &server,
            &path,
            &[("If-Modified-Since", &lm), ("If-None-Match", "\"other\"")],
        )
        .await;
        assert_eq!(r.status().as_u16(), 200, "{path}");
    }
    // An entry that expired since its acceptance changed then (the clock
    // is at 2015-01-01; the entry was valid until 2014-12-01).
    let mut short = Doc::with_id(NEWID);
    short.valid = Some("2014-12-01T00:00:00Z".into());
    server
        .upload_ok(&short.signed("2014-03-08T14:10:40Z"))
        .await;
    let r = get_with(&server, &format!("/api/v1/images/{NEWID}"), &[]).await;
    let newest: DateTime<Utc> = server.store.entries_after(None, 10).await.unwrap()[1].accepted_at;
    // The expiry (2014-12-01) is older than the acceptance (now), so the
    // acceptance is the change.
    assert_eq!(header(&r, "last-modified"), Some(http_date(newest)));
    // Searches have no Last-Modified (an entry can leave a filtered list
    // by a change elsewhere), only an ETag.
    let r = get_with(&server, "/api/v1/images", &[]).await;
    assert!(header(&r, "last-modified").is_none());
    assert!(header(&r, "etag").is_some());
}

#[tokio::test]
async fn healthz_ok() {
    let server = TestServer::start().await;
    let (status, content_type, body) = server.fetch("/healthz", None).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/json");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        serde_json::json!({"status": "ok"})
    );
}

/// A store that is down: every call fails.
struct Down;

fn down<T>() -> Result<T, StoreError> {
    Err(StoreError::Backend("connection refused".into()))
}

#[async_trait::async_trait]
impl Store for Down {
    async fn put(&self, _: NewEntry) -> Result<PutOutcome, StoreError> {
        down()
    }
    async fn get(&self, _: &EntryKey) -> Result<Option<StoredEntry>, StoreError> {
        down()
    }
    async fn search(&self, _: &SearchQuery, _: DateTime<Utc>) -> Result<SearchPage, StoreError> {
        down()
    }
    async fn history(&self, _: &HistoryQuery) -> Result<Vec<EntrySummary>, StoreError> {
        down()
    }
    async fn endorsers(&self, _: &Audience) -> Result<Vec<EndorserSummary>, StoreError> {
        down()
    }
    async fn tags(&self, _: &str, _: &Audience) -> Result<Vec<String>, StoreError> {
        down()
    }
    async fn resolve_tag(
        &self,
        _: &str,
        _: &str,
        _: &Audience,
    ) -> Result<Option<EntryKey>, StoreError> {
        down()
    }
    async fn entries_after(&self, _: Option<i64>, _: u32) -> Result<Vec<StoredEntry>, StoreError> {
        down()
    }
    async fn rebuild_index(&self, _: &Reindex<'_>) -> Result<u64, StoreError> {
        down()
    }
    async fn put_pending(&self, _: PendingEntry) -> Result<(), StoreError> {
        down()
    }
    async fn get_pending(
        &self,
        _: &str,
        _: DateTime<Utc>,
    ) -> Result<Option<PendingEntry>, StoreError> {
        down()
    }
    async fn delete_pending(&self, _: &str) -> Result<bool, StoreError> {
        down()
    }
    async fn purge_pending(&self, _: DateTime<Utc>) -> Result<u64, StoreError> {
        down()
    }
    async fn count(&self) -> Result<u64, StoreError> {
        down()
    }
    async fn binding(&self, _: &str) -> Result<Option<EndorserBinding>, StoreError> {
        down()
    }
    async fn rebind(
        &self,
        _: &str,
        _: Option<EndorserBinding>,
    ) -> Result<Option<EndorserBinding>, StoreError> {
        down()
    }
    async fn bind_unbound(&self, _: EndorserBinding) -> Result<bool, StoreError> {
        down()
    }
    async fn unbound_endorsers(&self, _: u32) -> Result<Vec<StoredEntry>, StoreError> {
        down()
    }
    fn write_fault(&self) -> Option<String> {
        Some("down".into())
    }
    async fn probe_write(&self) -> Result<(), StoreError> {
        down()
    }
    async fn check_integrity(&self, _: bool) -> Result<Vec<String>, StoreError> {
        down()
    }
    async fn last_sequence(&self) -> Result<Option<i64>, StoreError> {
        down()
    }
    async fn log_size(&self) -> Result<u64, StoreError> {
        down()
    }
    async fn log_hashes(
        &self,
        _: &[u64],
    ) -> Result<std::collections::HashMap<u64, marketplace_log::tree::Hash>, StoreError> {
        down()
    }
    async fn log_leaves(&self, _: std::ops::Range<u64>) -> Result<Vec<Vec<u8>>, StoreError> {
        down()
    }
    async fn log_position(
        &self,
        _: &EntryKey,
    ) -> Result<Option<marketplace_store::LogPosition>, StoreError> {
        down()
    }
    async fn first_cosigned_checkpoint(
        &self,
        _: u64,
    ) -> Result<Option<marketplace_store::StoredCheckpoint>, StoreError> {
        down()
    }
    async fn log_positions(
        &self,
        _: std::ops::Range<u64>,
    ) -> Result<Vec<marketplace_store::LogPosition>, StoreError> {
        down()
    }
    async fn put_logged(
        &self,
        _: Vec<(NewEntry, marketplace_store::LogPosition)>,
    ) -> Result<(), StoreError> {
        down()
    }
    async fn latest_checkpoint(
        &self,
    ) -> Result<Option<marketplace_store::StoredCheckpoint>, StoreError> {
        down()
    }
    async fn record_checkpoint(
        &self,
        _: u64,
        _: &str,
    ) -> Result<marketplace_store::StoredCheckpoint, StoreError> {
        down()
    }
    async fn claim_log_key(&self, _: &str) -> Result<(), StoreError> {
        down()
    }
    async fn record_cosignature(&self, _: u64, _: &str, _: &str) -> Result<(), StoreError> {
        down()
    }
    async fn cosignatures(&self, _: u64) -> Result<Vec<String>, StoreError> {
        down()
    }
    async fn witnessed(
        &self,
        _: &str,
    ) -> Result<Option<marketplace_store::StoredCheckpoint>, StoreError> {
        down()
    }
    async fn advance_witnessed(
        &self,
        _: &str,
        _: u64,
        _: u64,
        _: &str,
    ) -> Result<Option<u64>, StoreError> {
        down()
    }
}

#[tokio::test]
async fn healthz_and_metrics_when_the_store_is_down() {
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::new(
        Arc::new(Down),
        test_config(dir.path()),
        TrustSettings::default(),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(marketplace_server::runtime::serve::serve(
        listener,
        state,
        async {
            let _ = rx.await;
        },
    ));
    let r = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(r.status().as_u16(), 503);
    let body: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(body["status"], "unavailable");
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(value(&text, "marketplace_store_up"), 0.0);
    // The API answers 500 as JSON, without the cause.
    let r = reqwest::get(format!("{base}/api/v1/images")).await.unwrap();
    assert_eq!(r.status().as_u16(), 500);
    let body = r.text().await.unwrap();
    assert!(!body.contains("connection refused"), "{body}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["error"]["status"],
        500
    );
    let _ = tx.send(());
    task.await.unwrap().unwrap();
}

/// The value of the series `series` (name and labels exactly as exposed),
/// 0 when absent.
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0.0)
}

async fn metrics(server: &TestServer) -> String {
    let (status, content_type, body) = server.fetch("/metrics", None).await;
    assert_eq!(status, 200);
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    body
}

#[tokio::test]
async fn metrics_move_after_requests() {
    let server = TestServer::start().await;
    let image = r#"marketplace_http_requests_total{method="GET",route="/api/v1/images/{identifier}",status="200"}"#;
    let missing = r#"marketplace_http_requests_total{method="GET",route="/api/v1/images/{identifier}",status="404"}"#;
    let created = r#"marketplace_uploads_total{outcome="accepted",reason="created"}"#;
    let invalid = r#"marketplace_uploads_total{outcome="refused",reason="invalid"}"#;
    let older = r#"marketplace_uploads_total{outcome="refused",reason="older_than_latest"}"#;
    let before = metrics(&server).await;
    assert_eq!(value(&before, "marketplace_store_entries"), 0.0);
    assert_eq!(value(&before, "marketplace_store_up"), 1.0);

    server
        .upload_ok(&Doc::bee8().signed("2014-03-08T14:10:40Z"))
        .await;
    assert_eq!(
        server.upload("<not-metadata/>").await.status().as_u16(),
        400
    );
    assert_eq!(
        server
            .upload(&Doc::bee8().signed("2014-01-01T00:00:00Z"))
            .await
            .status()
            .as_u16(),
        400
    );
    for _ in 0..3 {
        server.fetch(&format!("/api/v1/images/{BEE8}"), None).await;
    }
    server.fetch("/api/v1/images/unknown-12345", None).await;
    server.fetch("/no/such/path/98765", None).await;

    let after = metrics(&server).await;
    assert_eq!(value(&after, image) - value(&before, image), 3.0);
    assert_eq!(value(&after, missing) - value(&before, missing), 1.0);
    assert_eq!(value(&after, created) - value(&before, created), 1.0);
    assert_eq!(value(&after, invalid) - value(&before, invalid), 1.0);
    assert_eq!(value(&after, older) - value(&before, older), 1.0);
    assert_eq!(value(&after, "marketplace_store_entries"), 1.0);
    let post = r#"marketplace_http_requests_total{method="POST",route="/metadata",status="201"}"#;
    assert_eq!(value(&after, post), 1.0);
    let duration = r#"marketplace_http_request_duration_seconds_count{method="GET",route="/api/v1/images/{identifier}"}"#;
    assert!(value(&after, duration) >= 4.0);
    // Route labels are templates: raw paths never become labels.
    assert!(
        !after.contains("12345") && !after.contains("98765"),
        "{after}"
    );
    assert!(after.contains(r#"route="unmatched""#), "{after}");
}
