//! `marketplace occi-link --endpoint URL --image NAME`: the URL of an image
//! in a site's OCCI 1.1 service, for `marketplace build --location` (what
//! `get-occi-link.pl` did).
//!
//! Asks the query interface (`/-/`, else `/.well-known/org/ogf/occi/-/`)
//! for its categories, with `Accept: text/plain`: OS template mixins (those
//! related to `…/infrastructure#os_tpl`) are matched by title, and their
//! identifier (scheme + term, a URL) is the link. Then the collection of
//! storage resources (the `storage` kind's location, else `/storage/`) is
//! listed as `text/uri-list` (or `text/plain` `X-OCCI-Location`s when the
//! service does not render URI lists), each resource is read as
//! `text/plain`, and its `occi.core.title` is matched: its URL is the link.

use crate::client;
use crate::failure::Failure;
use crate::occi::{self, Category, INFRASTRUCTURE};
use crate::output::{self, Table};
use reqwest::Url;
use reqwest::blocking::Client;
use reqwest::header::{ACCEPT, CONTENT_TYPE, WWW_AUTHENTICATE};
use serde::Serialize;
use std::process::ExitCode;
use std::time::Duration;

/// At most this many storage resources are read.
pub(crate) const MAX_RESOURCES: usize = 2000;

/// Which OCCI entities are searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Kind {
    /// OS template mixins and storage resources.
    Any,
    /// OS template mixins only.
    OsTpl,
    /// Storage resources only.
    Storage,
}

/// Options of `marketplace occi-link`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Prints the URL of the OS template (its mixin identifier, scheme + term) or storage resource
whose title is NAME (exactly; else ignoring case). Exit status 4 when nothing has that title
(the titles found are listed), 1 when several do (they are listed: pick one with --kind or a
more precise title), 5 when the service wants credentials (--user/--password for HTTP basic
authentication; X.509 proxies are not supported yet), 3 for network and server errors.

Examples:
  marketplace occi-link --endpoint https://occi.site.example.org:11443 --image 'Ubuntu 24.04'
  marketplace occi-link --endpoint https://occi.site.example.org:11443/occi1.1 --image ttylinux \\
      --kind storage --user jane --password \"$OCCI_PASSWORD\"
  marketplace build --location \"$(marketplace occi-link --endpoint $OCCI --image ttylinux)\" ... disk.img")]
pub(crate) struct OcciArgs {
    /// The OCCI service's base URL.
    #[arg(long, value_name = "URL")]
    pub endpoint: String,
    /// The title of the image at the site.
    #[arg(long, value_name = "NAME", alias = "name")]
    pub image: String,
    /// What to search.
    #[arg(long, value_enum, default_value_t = Kind::Any)]
    pub kind: Kind,
    /// User for HTTP basic authentication.
    #[arg(long, value_name = "USER", requires = "password")]
    pub user: Option<String>,
    /// Password for HTTP basic authentication [env: OCCI_PASSWORD].
    #[arg(
        long,
        value_name = "PASSWORD",
        env = "OCCI_PASSWORD",
        hide_env_values = true
    )]
    pub password: Option<String>,
    /// Seconds before a request gives up.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// An entity whose title may match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Candidate {
    /// `os_tpl` or `storage`.
    pub kind: &'static str,
    /// Its title.
    pub title: String,
    /// The link to print.
    pub url: String,
}

struct Occi {
    http: Client,
    base: Url,
    user: Option<(String, String)>,
}

/// The text of an answer: the body plus its headers as lines (for the
/// header rendering).
struct Answer {
    status: u16,
    content_type: String,
    text: String,
}

impl Occi {
    fn get(&self, url: &Url, accept: &str) -> Result<Answer, Failure> {
        let mut request = self.http.get(url.clone()).header(ACCEPT, accept);
        if let Some((u, p)) = &self.user {
            request = request.basic_auth(u, Some(p));
        }
        let response = request
            .send()
            .map_err(|e| client::send_failure("the OCCI service", &self.base, &e))?;
        let status = response.status().as_u16();
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header(CONTENT_TYPE).unwrap_or_default();
        let challenge = header(WWW_AUTHENTICATE);
        let mut text = String::new();
        for (name, value) in response.headers() {
            let n = name.as_str();
            if (n == "category" || n.starts_with("x-occi-"))
                && let Ok(v) = value.to_str()
            {
                text.push_str(&format!("{n}: {v}\n"));
            }
        }
        text.push_str(
            &response
                .text()
                .map_err(|e| client::send_failure("the OCCI service", &self.base, &e))?,
        );
        if status == 401 || status == 403 {
            let how = match (&self.user, status) {
                (Some((u, _)), _) => format!("the credentials of '{u}' were refused"),
                (None, _) => "give --user and --password (HTTP basic authentication); X.509 \
                              proxy authentication is not supported by this client yet"
                    .to_string(),
            };
            return Err(Failure::auth(format!(
                "the OCCI service at {} requires authentication ({status}{}): {how}",
                self.base,
                challenge
                    .as_deref()
                    .map(|c| format!(", WWW-Authenticate: {c}"))
                    .unwrap_or_default()
            )));
        }
        Ok(Answer {
            status,
            content_type,
            text,
        })
    }

    fn join(&self, location: &str) -> Result<Url, Failure> {
        self.base.join(location).map_err(|e| {
            Failure::network(format!(
                "the OCCI service gave the location '{location}', which is not a URL: {e}"
            ))
        })
    }

    /// The categories of the query interface.
    fn categories(&self) -> Result<Vec<Category>, Failure> {
        let mut last = None;
        for path in ["-/", ".well-known/org/ogf/occi/-/"] {
            let url = self.join(path)?;
            let a = self.get(&url, "text/plain")?;
            if a.status == 200 {
                let found = occi::categories(&a.text);
                if !found.is_empty() {
                    return Ok(found);
                }
                last = Some(format!("{url} lists no category"));
            } else {
                last = Some(format!("{url} answered {}", a.status));
            }
        }
        Err(Failure::network(format!(
            "{} does not look like an OCCI 1.1 service: {}; check --endpoint",
            self.base,
            last.unwrap_or_default()
        )))
    }

    /// The storage resources' URLs.
    fn storage_urls(&self, categories: &[Category]) -> Result<Vec<Url>, Failure> {
        let location = categories
            .iter()
            .find(|c| c.term == "storage" && c.scheme == INFRASTRUCTURE && c.class == "kind")
            .and_then(|c| c.location.clone())
            .unwrap_or_else(|| "storage/".into());
        let collection = self.join(&location)?;
        let a = self.get(&collection, "text/uri-list")?;
        let list = if a.status == 200 && a.content_type.starts_with("text/uri-list") {
            occi::uri_list(&a.text)
        } else if a.status == 200 && a.content_type.starts_with("text/plain") {
            occi::locations(&a.text)
        } else if a.status == 404 {
            return Ok(Vec::new());
        } else {
            let a = self.get(&collection, "text/plain")?;
            match a.status {
                200 => occi::locations(&a.text),
                404 => return Ok(Vec::new()),
                s => {
                    return Err(Failure::network(format!(
                        "the storage collection {collection} answered {s}"
                    )));
                }
            }
        };
        list.iter()
            .take(MAX_RESOURCES)
            .map(|l| self.join(l))
            .collect()
    }

    /// The title of one resource.
    fn title(&self, url: &Url) -> Result<Option<String>, Failure> {
        let a = self.get(url, "text/plain")?;
        if a.status != 200 {
            eprintln!("warning: {url} answered {}; skipped", a.status);
            return Ok(None);
        }
        Ok(occi::attributes(&a.text)
            .into_iter()
            .find(|(k, _)| k == "occi.core.title")
            .map(|(_, v)| v))
    }
}

/// The candidates whose title matches `name`: exactly, else ignoring case.
pub(crate) fn matching<'a>(candidates: &'a [Candidate], name: &str) -> Vec<&'a Candidate> {
    let name = name.trim();
    let exact: Vec<&Candidate> = candidates.iter().filter(|c| c.title == name).collect();
    if !exact.is_empty() {
        return exact;
    }
    candidates
        .iter()
        .filter(|c| c.title.to_lowercase() == name.to_lowercase())
        .collect()
}

/// Runs the command.
pub(crate) fn run(args: OcciArgs) -> anyhow::Result<ExitCode> {
    let mut base = crate::settings::normalise_endpoint(&args.endpoint)
        .map_err(|e| Failure::usage(format!("--endpoint '{}': {e}", args.endpoint)))?;
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    let occi = Occi {
        http: client::build(client::builder(Some(Duration::from_secs(
            args.timeout.max(1),
        ))))?,
        base,
        user: args
            .user
            .clone()
            .map(|u| (u, args.password.clone().unwrap_or_default())),
    };
    let categories = occi.categories()?;
    let mut candidates = Vec::new();
    if args.kind != Kind::Storage {
        for c in categories.iter().filter(|c| c.is_os_template()) {
            candidates.push(Candidate {
                kind: "os_tpl",
                title: c.title.clone().unwrap_or_else(|| c.term.clone()),
                url: c.id(),
            });
        }
    }
    if args.kind != Kind::OsTpl {
        for url in occi.storage_urls(&categories)? {
            if let Some(title) = occi.title(&url)? {
                candidates.push(Candidate {
                    kind: "storage",
                    title,
                    url: url.to_string(),
                });
            }
        }
    }
    let found = matching(&candidates, &args.image);
    match found.as_slice() {
        [one] => {
            if args.json {
                output::json(one);
            } else {
                println!("{}", one.url);
            }
            Ok(ExitCode::SUCCESS)
        }
        [] => {
            let mut titles: Vec<String> = candidates
                .iter()
                .map(|c| format!("{} ({})", c.title, c.kind))
                .collect();
            titles.sort();
            titles.dedup();
            let list = if titles.is_empty() {
                "the service lists no OS template or storage resource".to_string()
            } else {
                format!("titles there: {}", titles.join(", "))
            };
            Err(Failure::not_found(format!(
                "no OS template or storage resource titled '{}' at {}; {list}",
                args.image, occi.base
            ))
            .into())
        }
        several => {
            if args.json {
                output::json(&serde_json::json!({"error": "ambiguous", "matches": several}));
            } else {
                let mut t = Table::new(&["KIND", "TITLE", "URL"]);
                for c in several {
                    t.row(vec![c.kind.into(), c.title.clone(), c.url.clone()]);
                }
                eprint!("{}", t.render());
            }
            Err(Failure::refused(format!(
                "{} entities at {} are titled '{}' (listed above); choose one with --kind or \
                 use its URL directly",
                several.len(),
                occi.base,
                args.image
            ))
            .into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_titles_win_over_case_insensitive_ones() {
        let c = |t: &str| Candidate {
            kind: "storage",
            title: t.into(),
            url: format!("http://h/storage/{t}"),
        };
        let all = vec![c("Ubuntu"), c("ubuntu"), c("Debian")];
        assert_eq!(matching(&all, "ubuntu").len(), 1);
        assert_eq!(matching(&all, "UBUNTU").len(), 2);
        assert_eq!(matching(&all, "debian").len(), 1);
        assert!(matching(&all, "centos").is_empty());
    }
}
