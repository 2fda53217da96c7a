//! The query parameters of `GET /api/v1/images`, turned into a typed
//! [`SearchQuery`] (values are never pasted into query text). Unknown
//! parameters and malformed values are refused with 400 so that a typo is
//! not silently ignored.

use crate::http::error::AppError;
use crate::render::listing::Params;
use chrono::{DateTime, Utc};
use marketplace_store::{MAX_LIMIT, SearchQuery, SortKey, StatusFilter};

/// Page size when the request does not give one.
pub(crate) const DEFAULT_PER_PAGE: u32 = 50;

/// The parameters `GET /api/v1/images` understands.
pub(crate) const PARAMETERS: &[&str] = &[
    "q",
    "identifier",
    "os",
    "os_version",
    "os_arch",
    "type",
    "kind",
    "format",
    "hypervisor",
    "endorser",
    "vo",
    "tag",
    "created_from",
    "created_to",
    "valid_from",
    "valid_to",
    "status",
    "sort",
    "order",
    "page",
    "per_page",
    "offset",
    "limit",
];

/// The sort keys (`sort=`) and what they mean.
pub(crate) const SORT_KEYS: &[(&str, SortKey)] = &[
    ("relevance", SortKey::Relevance),
    ("created", SortKey::Created),
    ("title", SortKey::Title),
    ("os", SortKey::Os),
    ("os_version", SortKey::OsVersion),
    ("os_arch", SortKey::OsArch),
    ("endorser", SortKey::Endorser),
    ("identifier", SortKey::Identifier),
    ("valid", SortKey::Valid),
];

/// The status filters (`status=`).
pub(crate) const STATUSES: &[(&str, StatusFilter)] = &[
    ("valid", StatusFilter::Valid),
    ("expired", StatusFilter::Expired),
    ("deprecated", StatusFilter::Deprecated),
    ("all", StatusFilter::All),
];

/// An RFC 3339 instant.
fn instant(params: &Params, name: &str) -> Result<Option<DateTime<Utc>>, AppError> {
    params
        .non_empty(name)
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|d| d.with_timezone(&Utc))
                .map_err(|e| {
                    AppError::bad_request(format!(
                        "{name} must be an RFC 3339 instant (e.g. 2015-01-01T00:00:00Z): {e}"
                    ))
                })
        })
        .transpose()
}

/// A non-negative integer parameter.
fn number(params: &Params, name: &str) -> Result<Option<u64>, AppError> {
    params
        .non_empty(name)
        .map(|v| {
            v.parse::<u64>().map_err(|_| {
                AppError::bad_request(format!("{name} must be a non-negative integer"))
            })
        })
        .transpose()
}

/// One of the `choices`, by name.
fn choice<T: Copy>(
    params: &Params,
    name: &str,
    choices: &[(&str, T)],
) -> Result<Option<T>, AppError> {
    let Some(value) = params.non_empty(name) else {
        return Ok(None);
    };
    let wanted = value.to_ascii_lowercase().replace('-', "_");
    choices
        .iter()
        .find(|(n, _)| *n == wanted)
        .map(|(_, v)| Some(*v))
        .ok_or_else(|| {
            let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
            AppError::bad_request(format!("{name} must be one of {}", names.join(", ")))
        })
}

/// The page size: 1 to [`MAX_LIMIT`] (larger values are clamped).
fn page_size(value: Option<u64>, name: &str) -> Result<u32, AppError> {
    match value {
        None => Ok(DEFAULT_PER_PAGE),
        Some(0) => Err(AppError::bad_request(format!(
            "{name} must be between 1 and {MAX_LIMIT}"
        ))),
        Some(n) => Ok(n.min(u64::from(MAX_LIMIT)) as u32),
    }
}

/// The store query of the request's parameters.
pub(crate) fn search_query(params: &Params) -> Result<SearchQuery, AppError> {
    if let Some((unknown, _)) = params
        .0
        .iter()
        .find(|(k, _)| !PARAMETERS.contains(&k.as_str()))
    {
        return Err(AppError::bad_request(format!(
            "unknown parameter '{unknown}'; the parameters are {}",
            PARAMETERS.join(", ")
        )));
    }
    let text = |name: &str| params.non_empty(name).map(str::to_string);
    let sort = choice(params, "sort", SORT_KEYS)?.unwrap_or_default();
    let descending = match params.non_empty("order").map(str::to_ascii_lowercase) {
        None => sort == SortKey::Created || sort == SortKey::Valid,
        Some(o) if o == "asc" => false,
        Some(o) if o == "desc" => true,
        Some(_) => return Err(AppError::bad_request("order must be asc or desc")),
    };
    let (offset, limit) = paging(params)?;
    Ok(SearchQuery {
        text: text("q"),
        identifier: text("identifier"),
        email: text("endorser"),
        os: text("os"),
        os_version: text("os_version"),
        os_arch: text("os_arch"),
        kind_type: text("type"),
        kind: text("kind"),
        format: text("format"),
        hypervisor: text("hypervisor"),
        vo: text("vo"),
        tag: text("tag"),
        created_from: instant(params, "created_from")?,
        created_to: instant(params, "created_to")?,
        valid_from: instant(params, "valid_from")?,
        valid_to: instant(params, "valid_to")?,
        status: choice(params, "status", STATUSES)?.unwrap_or_default(),
        sort,
        descending,
        offset,
        limit,
        ..SearchQuery::default()
    })
}

/// `(offset, limit)` from `page`/`per_page` or `offset`/`limit` (not both).
fn paging(params: &Params) -> Result<(u64, u32), AppError> {
    let page = number(params, "page")?;
    let per_page = number(params, "per_page")?;
    let offset = number(params, "offset")?;
    let limit = number(params, "limit")?;
    if (page.is_some() || per_page.is_some()) && (offset.is_some() || limit.is_some()) {
        return Err(AppError::bad_request(
            "use either page and per_page or offset and limit, not both",
        ));
    }
    if page.is_some() || per_page.is_some() {
        let size = page_size(per_page, "per_page")?;
        let page = page.unwrap_or(1);
        if page == 0 {
            return Err(AppError::bad_request("page starts at 1"));
        }
        let offset = (page - 1)
            .checked_mul(u64::from(size))
            .filter(|o| *o <= i64::MAX as u64)
            .ok_or_else(|| AppError::bad_request("page is too large"))?;
        Ok((offset, size))
    } else {
        let offset = offset.unwrap_or(0);
        if offset > i64::MAX as u64 {
            return Err(AppError::bad_request("offset is too large"));
        }
        Ok((offset, page_size(limit, "limit")?))
    }
}

/// A bounded `limit` parameter for unpaged lists (history, an endorser's
/// entries): 1 to [`MAX_LIMIT`], default [`MAX_LIMIT`].
pub(crate) fn list_limit(params: &Params) -> Result<u32, AppError> {
    if let Some((unknown, _)) = params.0.iter().find(|(k, _)| k != "limit") {
        return Err(AppError::bad_request(format!(
            "unknown parameter '{unknown}'; the only parameter is limit"
        )));
    }
    match number(params, "limit")? {
        None => Ok(MAX_LIMIT),
        Some(n) => page_size(Some(n), "limit"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Result<SearchQuery, AppError> {
        search_query(&Params::parse(Some(s)))
    }

    #[test]
    fn filters_and_defaults() {
        let query =
            q("q=tty+linux&os=ubuntu&type=base&kind=disk&endorser=a%40b.org&status=all").unwrap();
        assert_eq!(query.kind.as_deref(), Some("disk"));
        assert_eq!(query.text.as_deref(), Some("tty linux"));
        assert_eq!(query.os.as_deref(), Some("ubuntu"));
        assert_eq!(query.kind_type.as_deref(), Some("base"));
        assert_eq!(query.email.as_deref(), Some("a@b.org"));
        assert_eq!(query.status, StatusFilter::All);
        assert_eq!((query.offset, query.limit), (0, DEFAULT_PER_PAGE));
        assert_eq!(q("").unwrap().status, StatusFilter::Valid);
    }

    #[test]
    fn paging_is_bounded() {
        let query = q("page=3&per_page=10").unwrap();
        assert_eq!((query.offset, query.limit), (20, 10));
        let query = q("offset=5&limit=5000").unwrap();
        assert_eq!((query.offset, query.limit), (5, MAX_LIMIT));
        assert!(q("page=0").is_err());
        assert!(q("limit=0").is_err());
        assert!(q("page=2&offset=3").is_err());
        assert!(q("page=18446744073709551615&per_page=1000").is_err());
    }

    #[test]
    fn sorting() {
        let query = q("sort=created").unwrap();
        assert!(query.descending);
        let query = q("sort=os-version&order=desc").unwrap();
        assert_eq!(query.sort, SortKey::OsVersion);
        assert!(query.descending);
        assert!(q("sort=bogus").is_err());
        assert!(q("order=up").is_err());
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(q("created_from=yesterday").is_err());
        assert!(q("status=fresh").is_err());
        assert!(q("colour=red").is_err());
        let query = q("created_from=2014-01-01T00:00:00%2B01:00").unwrap();
        assert_eq!(
            query.created_from.unwrap().to_rfc3339(),
            "2013-12-31T23:00:00+00:00"
        );
    }
}
