//! The same HTTP scenario against both stores: SQLite, and PostgreSQL at
//! postgres://postgres@127.0.0.1:5432/test in a fresh schema (skipped with
//! a message when unreachable, except in CI).
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

async fn scenario(s: &TestServer) {
    let first = "2014-03-08T14:10:40Z";
    let second = "2014-03-09T00:00:00Z";
    let old = Doc::bee8().signed(first);
    let mut tagged = Doc::bee8();
    tagged.alternative = Some("stable".into());
    let new = tagged.signed(second);
    assert_eq!(s.upload(&old).await.status(), 201);
    assert_eq!(s.upload(&new).await.status(), 201);
    assert_eq!(s.upload(&new).await.status(), 200);
    assert_eq!(
        s.upload(&Doc::bee8().signed("2014-01-01T00:00:00Z"))
            .await
            .status(),
        400
    );
    let mut other = Doc::bee8();
    other.title = Some("other".into());
    assert_eq!(s.upload(&other.signed(second)).await.status(), 409);
    assert_eq!(
        s.upload(&Doc::with_id(NEWID).signed_by(alice(), first))
            .await
            .status(),
        201
    );

    let (status, _, body) = s.fetch(&format!("/metadata/{BEE8}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(endorsement_dates(&body), vec![second]);
    let (_, _, body) = s.fetch("/metadata?media=json", None).await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["iTotalRecords"], 2);
    let (status, _, body) = s
        .fetch(&format!("/metadata/{BEE8}/{JANE}/{first}"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(body, old);
    let (status, _, body) = s.fetch(&format!("/tag/{JANE}/stable"), None).await;
    assert_eq!(status, 200);
    assert_eq!(endorsement_dates(&body), vec![second]);
    let (_, _, body) = s.fetch("/endorsers", Some("application/json")).await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["results"]["bindings"].as_array().unwrap().len(), 2);
    let (_, _, body) = s
        .fetch(&format!("/endorsers/{JANE}?range=3650"), None)
        .await;
    assert_eq!(texts(&body, "result").len(), 2);

    // Concurrent uploads of one pair: one latest, every entry kept.
    let dates: Vec<String> = (10..20).map(|d| format!("2014-04-{d}T00:00:00Z")).collect();
    let docs: Vec<String> = dates
        .iter()
        .map(|d| Doc::with_id(NEWID).signed(d))
        .collect();
    let mut tasks = Vec::new();
    for doc in docs {
        let client = s.client.clone();
        let url = s.url("/metadata");
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .header("Content-Type", "application/rdf+xml")
                .body(doc)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 400),
        "{statuses:?}"
    );
    assert!(statuses.contains(&201));
    let (_, _, body) = s.fetch(&format!("/metadata/{NEWID}/{JANE}"), None).await;
    let latest = endorsement_dates(&body);
    assert_eq!(latest.len(), 1, "exactly one latest entry");
    let created = statuses.iter().filter(|s| **s == 201).count();
    assert_eq!(s.keys().await.len(), 3 + created);
}

#[tokio::test]
async fn sqlite_scenario() {
    scenario(&TestServer::start().await).await;
}

#[tokio::test]
async fn postgres_scenario() {
    let Some(s) = TestServer::start_with(Backend::Postgres, |_| {}).await else {
        return;
    };
    scenario(&s).await;
}
