//! The JSON API under `/api/v1` over real HTTP: search filters, ranking,
//! paging with counts, the image view with two endorsers (one
//! deprecating), history, entries, endorsers, JSON errors, and the OpenAPI
//! document (every route described; real responses valid against it).
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
use serde_json::Value;

/// The identifiers of the fixtures.
struct Ids {
    quasar: String,
    plain: String,
    nebula: String,
    expired: String,
    double: String,
}

/// An unsigned document: [`Doc`] with OS, format and hypervisor set.
fn document(doc: &Doc, os: (&str, &str, &str), format: &str, hypervisor: &str) -> String {
    let mut doc = doc.clone();
    doc.extra = format!(
        "\t\t<dcterms:format>{format}</dcterms:format>\n\t\t<slterms:hypervisor>{hypervisor}</slterms:hypervisor>\n"
    );
    doc.xml()
        .replace(
            "<slterms:os>ttylinux</slterms:os>",
            &format!("<slterms:os>{}</slterms:os>", os.0),
        )
        .replace(
            "<slterms:os-version>9.3</slterms:os-version>",
            &format!("<slterms:os-version>{}</slterms:os-version>", os.1),
        )
        .replace(
            "<slterms:os-arch>i686</slterms:os-arch>",
            &format!("<slterms:os-arch>{}</slterms:os-arch>", os.2),
        )
}

fn titled(id: &str, title: &str, description: &str) -> Doc {
    let mut d = Doc::with_id(id);
    d.title = Some(title.into());
    d.description = Some(description.into());
    d
}

/// Loads the fixtures (clock at 2015-01-01):
/// - quasar (Jane): ubuntu 14.04 x86_64, qcow2, kvm, tag `quasar`;
/// - plain (Jane): centos 6.5 x86_64, raw, xen; mentions quasar in its description;
/// - nebula (Alice): ttylinux 9.3 i686;
/// - expired (Jane): valid until 2014-10-01;
/// - double: endorsed by Jane and by Alice, then deprecated by Alice.
async fn load(server: &TestServer) -> Ids {
    let ids = Ids {
        quasar: test_identifier(1),
        plain: test_identifier(2),
        nebula: test_identifier(3),
        expired: test_identifier(4),
        double: test_identifier(5),
    };
    let mut quasar = titled(&ids.quasar, "Quasar compute node", "Runs the quasar engine");
    quasar.alternative = Some("quasar".into());
    let quasar = document(&quasar, ("ubuntu", "14.04", "x86_64"), "qcow2", "kvm");
    server
        .upload_ok(&sign_xml(&quasar, jane(), "2014-05-01T00:00:00Z"))
        .await;
    let plain = titled(
        &ids.plain,
        "Plain server image",
        "A server that mentions quasar once",
    );
    let plain = document(&plain, ("centos", "6.5", "x86_64"), "raw", "xen");
    server
        .upload_ok(&sign_xml(&plain, jane(), "2014-06-01T00:00:00Z"))
        .await;
    let nebula = titled(&ids.nebula, "Nebula desktop", "A small desktop");
    let nebula = document(&nebula, ("ttylinux", "9.3", "i686"), "raw", "kvm");
    server
        .upload_ok(&sign_xml(&nebula, alice(), "2014-07-01T00:00:00Z"))
        .await;
    let mut expired = titled(&ids.expired, "Old image", "An old image");
    expired.valid = Some("2014-10-01T00:00:00Z".into());
    let expired = document(&expired, ("ttylinux", "9.3", "i686"), "raw", "kvm");
    server
        .upload_ok(&sign_xml(&expired, jane(), "2014-02-01T00:00:00Z"))
        .await;
    let double = titled(&ids.double, "Double endorsed image", "Two endorsers");
    let double_xml = document(&double, ("ttylinux", "9.3", "i686"), "raw", "kvm");
    server
        .upload_ok(&sign_xml(&double_xml, jane(), "2014-08-01T00:00:00Z"))
        .await;
    server
        .upload_ok(&sign_xml(&double_xml, alice(), "2014-08-02T00:00:00Z"))
        .await;
    let mut deprecated = double.clone();
    deprecated.deprecated = Some("superseded by a newer build".into());
    let deprecated = document(&deprecated, ("ttylinux", "9.3", "i686"), "raw", "kvm");
    server
        .upload_ok(&sign_xml(&deprecated, alice(), "2014-09-01T00:00:00Z"))
        .await;
    ids
}

/// GET `path` as JSON: (status, body).
async fn json(server: &TestServer, path: &str) -> (u16, Value) {
    let (status, content_type, body) = server.fetch(path, None).await;
    assert_eq!(content_type, "application/json", "{path}: {body}");
    let value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
    (status, value)
}

/// The search result items' (identifier, email).
fn coordinates(result: &Value) -> Vec<(String, String)> {
    result["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["identifier"].as_str().unwrap().to_string(),
                i["endorser"]["email"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn identifiers(result: &Value) -> Vec<String> {
    coordinates(result).into_iter().map(|(i, _)| i).collect()
}

const ALICE: &str = "alice@example.org";

/// Runs `scenario` on SQLite, then on PostgreSQL when it is reachable.
macro_rules! on_both_stores {
    ($sqlite:ident, $postgres:ident, $scenario:ident) => {
        #[tokio::test]
        async fn $sqlite() {
            $scenario(&TestServer::start().await).await;
        }

        #[tokio::test]
        async fn $postgres() {
            if let Some(server) = TestServer::start_with(Backend::Postgres, |_| {}).await {
                $scenario(&server).await;
            }
        }
    };
}

on_both_stores!(
    search_on_sqlite,
    search_on_postgres,
    search_filters_ranking_and_paging
);
on_both_stores!(
    views_on_sqlite,
    views_on_postgres,
    image_view_history_entries_and_endorsers
);

async fn search_filters_ranking_and_paging(server: &TestServer) {
    let ids = load(server).await;

    // The default catalogue: the valid latest entries.
    let (status, all) = json(server, "/api/v1/images").await;
    assert_eq!(status, 200);
    assert_eq!(all["total"], 4);
    assert_eq!(all["matching"], 4);
    let mut got = identifiers(&all);
    got.sort();
    let mut expected = vec![
        ids.quasar.clone(),
        ids.plain.clone(),
        ids.nebula.clone(),
        ids.double.clone(),
    ];
    expected.sort();
    assert_eq!(got, expected);
    assert!(
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["status"] == "valid")
    );

    // Exact filters (case-insensitive where the store says so).
    for (query, expected) in [
        ("os=ubuntu", vec![&ids.quasar]),
        (
            "os=UBUNTU&os_version=14.04&os_arch=x86_64",
            vec![&ids.quasar],
        ),
        ("format=raw&hypervisor=xen", vec![&ids.plain]),
        ("hypervisor=kvm&os=ubuntu", vec![&ids.quasar]),
        ("tag=quasar", vec![&ids.quasar]),
        ("endorser=alice%40example.org", vec![&ids.nebula]),
        ("vo=atlas", vec![]),
        ("status=expired", vec![&ids.expired]),
        ("status=deprecated", vec![&ids.double]),
        ("created_to=2014-06-01T00:00:00Z", vec![&ids.quasar]),
        (
            "created_from=2014-07-01T00:00:00Z&type=base",
            vec![&ids.nebula, &ids.double],
        ),
        (
            "valid_to=2015-01-01T00:00:00Z&status=all",
            vec![&ids.expired],
        ),
    ] {
        let (status, result) = json(
            server,
            &format!("/api/v1/images?sort=created&order=asc&{query}"),
        )
        .await;
        assert_eq!(status, 200, "{query}");
        let expected: Vec<String> = expected.into_iter().cloned().collect();
        assert_eq!(identifiers(&result), expected, "{query}");
        assert_eq!(result["matching"], expected.len(), "{query}");
    }
    // status=all shows the deprecated latest entry of Alice, with its status.
    let (_, result) = json(
        server,
        "/api/v1/images?endorser=alice%40example.org&status=all&sort=created",
    )
    .await;
    assert_eq!(
        identifiers(&result),
        [ids.double.clone(), ids.nebula.clone()]
    );
    assert_eq!(result["items"][0]["status"], "deprecated");
    assert_eq!(result["total"], 6);

    // Free text with relevance ranking: the title outweighs the description.
    let (_, result) = json(server, "/api/v1/images?q=quasar").await;
    assert_eq!(
        identifiers(&result),
        [ids.quasar.clone(), ids.plain.clone()]
    );
    let r0 = result["items"][0]["rank"].as_f64().unwrap();
    let r1 = result["items"][1]["rank"].as_f64().unwrap();
    assert!(r0 > r1, "{r0} {r1}");
    assert_eq!(
        (result["matching"].as_u64(), result["total"].as_u64()),
        (Some(2), Some(4))
    );
    let (_, result) = json(server, "/api/v1/images?q=QUASAR+compute").await;
    assert_eq!(identifiers(&result), vec![ids.quasar.clone()]);
    // Query syntax is plain text.
    let (status, result) = json(server, "/api/v1/images?q=%22quasar%22+OR+*").await;
    assert_eq!(status, 200);
    assert_eq!(result["matching"], 0);

    // Sorting and paging with counts.
    let (_, page) = json(server, "/api/v1/images?sort=title&per_page=2&page=2").await;
    assert_eq!(identifiers(&page), [ids.plain.clone(), ids.quasar.clone()]);
    assert_eq!(
        (page["offset"].as_u64(), page["limit"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(
        (page["total"].as_u64(), page["matching"].as_u64()),
        (Some(4), Some(4))
    );
    let (_, page) = json(
        server,
        "/api/v1/images?sort=title&order=desc&offset=3&limit=10",
    )
    .await;
    assert_eq!(identifiers(&page), vec![ids.double.clone()]);
    assert_eq!(page["matching"], 4);
    let (_, page) = json(server, "/api/v1/images?limit=100000").await;
    assert_eq!(page["limit"], 1000);

    // Links come from the public URL.
    let item = &page["items"].as_array().unwrap()[0];
    assert!(
        item["links"]["self"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{PUBLIC_URL}/api/v1/entries/"))
    );
    assert!(
        item["links"]["document"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{PUBLIC_URL}/metadata/"))
    );

    // Bad parameters: 400 with a JSON error.
    for query in [
        "status=fresh",
        "colour=red",
        "created_from=yesterday",
        "page=0",
        "page=1&offset=2",
        "order=up",
        "sort=size",
    ] {
        let (status, body) = json(server, &format!("/api/v1/images?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(body["error"]["status"], 400, "{query}");
        assert!(body["error"]["message"].as_str().unwrap().len() > 5);
    }
    let long = "word+".repeat(40);
    let (status, body) = json(server, &format!("/api/v1/images?q={long}")).await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid query")
    );
}

async fn image_view_history_entries_and_endorsers(server: &TestServer) {
    let ids = load(server).await;

    // Double endorsement, one deprecated: only Jane's is current.
    let (status, image) = json(server, &format!("/api/v1/images/{}", ids.double)).await;
    assert_eq!(status, 200);
    assert_eq!(image["identifier"], ids.double.as_str());
    assert_eq!(image["status"], "valid");
    let current = image["current"].as_array().unwrap();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["endorser"]["email"], JANE);
    assert_eq!(current[0]["created"], "2014-08-01T00:00:00Z");
    assert_eq!(current[0]["status"], "valid");
    let inactive = image["inactive"].as_array().unwrap();
    assert_eq!(inactive.len(), 1);
    assert_eq!(inactive[0]["endorser"]["email"], ALICE);
    assert_eq!(inactive[0]["created"], "2014-09-01T00:00:00Z");
    assert_eq!(inactive[0]["status"], "deprecated");
    assert_eq!(inactive[0]["deprecated"], "superseded by a newer build");
    assert_eq!(
        image["links"]["history"],
        format!("{PUBLIC_URL}/api/v1/images/{}/history", ids.double)
    );

    // An expired image: nothing current.
    let (_, image) = json(server, &format!("/api/v1/images/{}", ids.expired)).await;
    assert_eq!(image["status"], "expired");
    assert!(image["current"].as_array().unwrap().is_empty());
    assert_eq!(image["inactive"][0]["status"], "expired");

    // Unknown: 404 JSON.
    let (status, body) = json(server, "/api/v1/images/AAAAAAAAAAAAAAAAAAAAAAAAAAA").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["status"], 404);

    // History: every entry, every endorser, newest first.
    let (status, history) = json(server, &format!("/api/v1/images/{}/history", ids.double)).await;
    assert_eq!(status, 200);
    assert_eq!(history["count"], 3);
    let rows: Vec<(String, String, bool)> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["endorser"]["email"].as_str().unwrap().to_string(),
                i["created"].as_str().unwrap().to_string(),
                i["latest"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (ALICE.to_string(), "2014-09-01T00:00:00Z".to_string(), true),
            (ALICE.to_string(), "2014-08-02T00:00:00Z".to_string(), false),
            (JANE.to_string(), "2014-08-01T00:00:00Z".to_string(), true),
        ]
    );
    let (_, history) = json(
        server,
        &format!("/api/v1/images/{}/history?limit=1", ids.double),
    )
    .await;
    assert_eq!(history["count"], 1);
    let (status, _) = json(server, "/api/v1/images/AAAAAAAAAAAAAAAAAAAAAAAAAAA/history").await;
    assert_eq!(status, 404);
    let (status, _) = json(
        server,
        &format!("/api/v1/images/{}/history?limit=0", ids.double),
    )
    .await;
    assert_eq!(status, 400);

    // One entry (a superseded one), with a link to the signed document.
    let path = format!(
        "/api/v1/entries/{}/{ALICE}/2014-08-02T00:00:00Z",
        ids.double
    );
    let (status, entry) = json(server, &path).await;
    assert_eq!(status, 200);
    assert_eq!(entry["latest"], false);
    assert_eq!(entry["title"], "Double endorsed image");
    assert_eq!(entry["links"]["self"], format!("{PUBLIC_URL}{path}"));
    let document = entry["links"]["document"].as_str().unwrap();
    let local = document.strip_prefix(PUBLIC_URL).unwrap();
    let (status, content_type, body) = server.fetch(local, None).await;
    assert_eq!(status, 200);
    assert!(
        content_type.starts_with("application/rdf+xml"),
        "{content_type}"
    );
    let stored = server
        .store
        .get(
            &marketplace_store::EntryKey::parse(&ids.double, ALICE, "2014-08-02T00:00:00Z")
                .unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(body.as_bytes(), stored.entry.document.as_slice());
    let (_, latest) = json(
        server,
        &format!(
            "/api/v1/entries/{}/{ALICE}/2014-09-01T00:00:00Z",
            ids.double
        ),
    )
    .await;
    assert_eq!(
        (latest["latest"].as_bool(), latest["status"].as_str()),
        (Some(true), Some("deprecated"))
    );
    let (status, body) = json(
        server,
        &format!(
            "/api/v1/entries/{}/{ALICE}/2014-08-03T00:00:00Z",
            ids.double
        ),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["status"], 404);

    // Endorsers.
    let (status, list) = json(server, "/api/v1/endorsers").await;
    assert_eq!(status, 200);
    assert_eq!(list["total"], 2);
    assert_eq!(list["items"][0]["email"], ALICE);
    assert_eq!(list["items"][0]["entry_count"], 3);
    assert_eq!(list["items"][1]["email"], JANE);
    assert_eq!(list["items"][1]["entry_count"], 4);
    assert_eq!(list["items"][1]["latest"], "2014-08-01T00:00:00Z");
    let (status, alice) = json(server, &format!("/api/v1/endorsers/{ALICE}")).await;
    assert_eq!(status, 200);
    assert_eq!(alice["email"], ALICE);
    let created: Vec<&str> = alice["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["created"].as_str().unwrap())
        .collect();
    assert_eq!(
        created,
        [
            "2014-09-01T00:00:00Z",
            "2014-08-02T00:00:00Z",
            "2014-07-01T00:00:00Z"
        ]
    );
    let (status, body) = json(server, "/api/v1/endorsers/nobody@example.org").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["status"], 404);
}

#[tokio::test]
async fn errors_are_json_under_the_api() {
    let server = TestServer::start().await;
    let (status, body) = json(&server, "/api/v1/nothing/here").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["status"], 404);
    let r = server
        .client
        .post(server.url("/api/v1/images"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
    assert!(r.headers().get("allow").is_some());
    let body: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(body["error"]["status"], 405);
    // Outside the API the original error bodies are unchanged.
    let (status, _, body) = server.fetch("/nothing", Some("application/json")).await;
    assert_eq!(status, 404);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["404"],
        "not found"
    );
}

// ------------------------------------------------------------------ OpenAPI

/// Checks `value` against `schema` structurally: `$ref`, `type` (one or a
/// list), `enum`, `required`, `properties`, `additionalProperties: false`,
/// `items`, `minimum`/`maximum` and the `date-time` / `uri` formats.
fn validate(doc: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r
            .strip_prefix("#/components/schemas/")
            .expect("local reference");
        let target = &doc["components"]["schemas"][name];
        assert!(!target.is_null(), "{r} is not defined");
        return validate(doc, target, value, at, errors);
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().map(|v| v.as_str().unwrap()).collect(),
            _ => panic!("bad type at {at}"),
        };
        let fits = |t: &str| match t {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            other => panic!("unknown type {other}"),
        };
        if !types.iter().any(|t| fits(t)) {
            errors.push(format!("{at}: {value} is not {types:?}"));
            return;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        errors.push(format!("{at}: {value} is not one of {options:?}"));
    }
    if let (Some(n), Some(min)) = (
        value.as_f64(),
        schema.get("minimum").and_then(Value::as_f64),
    ) && n < min
    {
        errors.push(format!("{at}: {n} < {min}"));
    }
    if let (Some(n), Some(max)) = (
        value.as_f64(),
        schema.get("maximum").and_then(Value::as_f64),
    ) && n > max
    {
        errors.push(format!("{at}: {n} > {max}"));
    }
    if let (Some(s), Some(format)) = (value.as_str(), schema.get("format").and_then(Value::as_str))
    {
        let ok = match format {
            "date-time" => chrono::DateTime::parse_from_rfc3339(s).is_ok(),
            "uri" => s.starts_with("http://") || s.starts_with("https://"),
            _ => true,
        };
        if !ok {
            errors.push(format!("{at}: '{s}' is not a {format}"));
        }
    }
    if let Some(object) = value.as_object() {
        let properties = schema.get("properties").and_then(Value::as_object);
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = name.as_str().unwrap();
            if !object.contains_key(name) {
                errors.push(format!("{at}: missing {name}"));
            }
        }
        for (name, v) in object {
            match properties.and_then(|p| p.get(name)) {
                Some(s) => validate(doc, s, v, &format!("{at}.{name}"), errors),
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    errors.push(format!("{at}: unexpected property {name}"))
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(schema)) = (value.as_array(), schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            validate(doc, schema, v, &format!("{at}[{i}]"), errors);
        }
    }
}

/// The schema of `route`'s response with `status`.
fn response_schema<'a>(doc: &'a Value, route: &str, status: u16) -> &'a Value {
    let schema = &doc["paths"][route]["get"]["responses"][status.to_string()]["content"]["application/json"]
        ["schema"];
    assert!(!schema.is_null(), "{route} {status} is not described");
    schema
}

#[tokio::test]
async fn openapi_describes_every_route_and_the_responses_fit() {
    let server = TestServer::start().await;
    let ids = load(&server).await;
    // Entries stored directly: a checkpoint covers them at once.
    server.state.log.refresh().await.unwrap();
    let (status, doc) = json(&server, "/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"][0]["url"], format!("{PUBLIC_URL}/api/v1"));
    let paths = doc["paths"].as_object().unwrap();
    let mut documented: Vec<&str> = paths.keys().map(String::as_str).collect();
    let mut routed: Vec<&str> = marketplace_server::api::ROUTES.to_vec();
    documented.sort();
    routed.sort();
    assert_eq!(documented, routed, "the document and the router differ");
    // Every path parameter of a route is declared.
    for (route, item) in paths {
        let declared: Vec<&str> = item["get"]["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter(|p| p["in"] == "path")
                    .map(|p| p["name"].as_str().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        let in_template: Vec<&str> = route
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        assert_eq!(declared, in_template, "{route}");
    }
    // Every route answers over HTTP, and its answer fits the description.
    let examples = [
        ("/images", "/images?status=all&q=quasar".to_string()),
        ("/images/{identifier}", format!("/images/{}", ids.double)),
        (
            "/images/{identifier}/history",
            format!("/images/{}/history", ids.double),
        ),
        (
            "/entries/{identifier}/{email}/{created}",
            format!("/entries/{}/{ALICE}/2014-09-01T00:00:00Z", ids.double),
        ),
        ("/endorsers", "/endorsers".to_string()),
        ("/endorsers/{email}", format!("/endorsers/{JANE}")),
        ("/openapi.json", "/openapi.json".to_string()),
        (
            "/entries/{identifier}/{email}/{created}/log",
            format!("/entries/{}/{ALICE}/2014-09-01T00:00:00Z/log", ids.double),
        ),
        ("/log", "/log".to_string()),
        (
            "/log/proof/inclusion",
            "/log/proof/inclusion?index=1".to_string(),
        ),
        (
            "/log/proof/consistency",
            "/log/proof/consistency?first=1".to_string(),
        ),
        ("/log/leaves", "/log/leaves?start=0".to_string()),
    ];
    // The receipt is text (a C2SP tlog-proof), the one route not in JSON.
    let receipt = format!(
        "/api/v1/entries/{}/{ALICE}/2014-09-01T00:00:00Z/receipt",
        ids.double
    );
    let (status, content_type, body) = server.fetch(&receipt, None).await;
    assert_eq!(
        (status, content_type.as_str()),
        (200, "text/plain; charset=utf-8")
    );
    assert!(body.starts_with("c2sp.org/tlog-proof@v1\n"), "{body}");
    assert_eq!(examples.len() + 1, routed.len());
    let mut errors = Vec::new();
    for (route, path) in &examples {
        let (status, body) = json(&server, &format!("/api/v1{path}")).await;
        assert_eq!(status, 200, "{path}");
        validate(
            &doc,
            response_schema(&doc, route, 200),
            &body,
            path,
            &mut errors,
        );
    }
    // Errors fit the Error schema.
    for (route, path, status) in [
        ("/images", "/images?status=x", 400),
        ("/images/{identifier}", "/images/unknown", 404),
        ("/endorsers/{email}", "/endorsers/nobody@example.org", 404),
    ] {
        let (got, body) = json(&server, &format!("/api/v1{path}")).await;
        assert_eq!(got, status, "{path}");
        validate(
            &doc,
            response_schema(&doc, route, status),
            &body,
            path,
            &mut errors,
        );
    }
    assert!(errors.is_empty(), "{errors:#?}");

    // The validator bites: an extra field, a wrong type, a missing field.
    let (_, mut entry) = json(
        &server,
        &examples[3].1.replace("/entries", "/api/v1/entries"),
    )
    .await;
    entry["surprise"] = Value::Bool(true);
    entry["latest"] = Value::String("yes".into());
    entry.as_object_mut().unwrap().remove("links");
    let mut errors = Vec::new();
    validate(
        &doc,
        &serde_json::json!({"$ref": "#/components/schemas/Entry"}),
        &entry,
        "entry",
        &mut errors,
    );
    assert_eq!(errors.len(), 3, "{errors:#?}");
}
