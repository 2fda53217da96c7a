//! The list query of `/metadata[/{arg1}[/{arg2}]]`: filter values
//! classified by shape (§4.2 of the server specification), the query
//! parameters, and the DataTables 1.8 server-side parameters — all turned
//! into a typed [`SearchQuery`]; nothing is ever pasted into query text.

use marketplace_store::query::MAX_LIMIT;
use marketplace_store::{LocationFilter, SearchQuery, SortKey, StatusFilter};

/// Decoded query-string (or form) parameters, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Params(pub Vec<(String, String)>);

impl Params {
    /// Parses `a=1&b=2` (percent- and `+`-decoded); malformed input gives
    /// no parameters rather than an error.
    pub(crate) fn parse(query: Option<&str>) -> Self {
        Params(
            query
                .and_then(|q| serde_urlencoded::from_str(q).ok())
                .unwrap_or_default(),
        )
    }

    /// Parses form bytes like a query string.
    pub(crate) fn parse_bytes(body: &[u8]) -> Self {
        Params(serde_urlencoded::from_bytes(body).unwrap_or_default())
    }

    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first non-blank value of `name`, trimmed.
    pub(crate) fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }

    /// `Err` naming the first parameter whose name or value holds a NUL
    /// character (`%00`): no stored text holds one, and PostgreSQL cannot
    /// compare with it.
    pub(crate) fn refuse_nul(&self) -> Result<(), String> {
        match self
            .0
            .iter()
            .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            None => Ok(()),
            Some((name, _)) => Err(format!(
                "the parameter {} contains a NUL character (%00); text parameters cannot \
                 hold it",
                name.replace('\0', "%00")
            )),
        }
    }

    /// These parameters followed by `other`'s (first value wins on lookup).
    pub(crate) fn then(mut self, other: Params) -> Self {
        self.0.extend(other.0);
        self
    }
}

/// What a filter value looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `local@domain`.
    Email,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    Date,
    /// Anything else.
    Identifier,
}

/// Classifies a filter value by its shape, as the original did.
pub(crate) fn classify(value: &str) -> Shape {
    if is_email_shaped(value) {
        Shape::Email
    } else if is_date_shaped(value) {
        Shape::Date
    } else {
        Shape::Identifier
    }
}

fn is_email_shaped(v: &str) -> bool {
    let Some((local, domain)) = v.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._%+-".contains(&b))
        && domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-".contains(&b))
}

fn is_date_shaped(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// The three coordinates a list can be filtered on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Coordinates {
    /// `identifier =`.
    pub identifier: Option<String>,
    /// `email =`.
    pub email: Option<String>,
    /// `created =`.
    pub created: Option<String>,
    /// Two different values for one coordinate: nothing can match.
    pub contradictory: bool,
}

impl Coordinates {
    /// Adds a value (empty and `null` are ignored).
    pub(crate) fn add(&mut self, value: &str) {
        let value = value.trim();
        if value.is_empty() || value == "null" {
            return;
        }
        let slot = match classify(value) {
            Shape::Email => &mut self.email,
            Shape::Date => &mut self.created,
            Shape::Identifier => &mut self.identifier,
        };
        match slot {
            Some(existing) if existing != value => self.contradictory = true,
            Some(_) => {}
            None => *slot = Some(value.to_string()),
        }
    }
}

/// A parsed list request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ListRequest {
    /// The store query.
    pub query: SearchQuery,
    /// DataTables `sEcho`, echoed back.
    pub echo: i64,
    /// Nothing can match (contradictory filters).
    pub contradictory: bool,
}

/// The DataTables columns: `["", os, osversion, arch, email, kind, created,
/// identifier, location, description, title]`.
fn sort_key(column: u32) -> Option<SortKey> {
    Some(match column {
        1 => SortKey::Os,
        2 => SortKey::OsVersion,
        3 => SortKey::OsArch,
        4 => SortKey::Endorser,
        7 => SortKey::Identifier,
        10 => SortKey::Title,
        // kind, location and description have no sort key of their own:
        // they sort by date, as the default.
        0 | 5 | 6 | 8 | 9 => SortKey::Created,
        _ => return None,
    })
}

fn number<T: std::str::FromStr>(params: &Params, name: &str) -> Result<Option<T>, String> {
    params
        .non_empty(name)
        .map(|v| {
            v.parse::<T>()
                .map_err(|_| format!("{name} must be an integer, not '{v}'"))
        })
        .transpose()
}

/// Builds the list request from the path values and the parameters.
/// `default_limit` rows are returned when the request gives no length.
pub(crate) fn list_request(
    path_values: &[String],
    params: &Params,
    default_limit: u32,
) -> Result<ListRequest, String> {
    let mut coordinates = Coordinates::default();
    for value in path_values {
        coordinates.add(value);
    }
    for name in ["identifier", "email", "created"] {
        for (k, v) in &params.0 {
            if k == name {
                coordinates.add(v);
            }
        }
    }
    let status = match params.get("status").map(|s| s.trim().to_ascii_lowercase()) {
        None => StatusFilter::Valid,
        Some(s) => match s.as_str() {
            "valid" => StatusFilter::Valid,
            "expired" => StatusFilter::Expired,
            "deprecated" => StatusFilter::Deprecated,
            // As the original: any other value applies no status filter.
            _ => StatusFilter::All,
        },
    };
    let location = match params
        .get("location")
        .map(|s| s.trim().to_ascii_lowercase())
    {
        Some(s) if s == "web" => LocationFilter::Web,
        Some(s) if s == "pdisk" => LocationFilter::Pdisk,
        _ => LocationFilter::Any,
    };
    // Free text: the global search plus the endorser column search (the
    // other columns have exact filters, kind included).
    let text: Vec<&str> = ["sSearch", "sSearch_4", "q"]
        .iter()
        .filter_map(|n| params.non_empty(n))
        .collect();
    let echo = number::<i64>(params, "sEcho")?.unwrap_or(0);
    let start = number::<u64>(params, "iDisplayStart")?.unwrap_or(0);
    let limit = match number::<i64>(params, "iDisplayLength")? {
        None => default_limit,
        Some(n) if n < 0 => MAX_LIMIT,
        Some(0) => default_limit,
        Some(n) => u32::try_from(n).unwrap_or(MAX_LIMIT).min(MAX_LIMIT),
    };
    let (sort, descending) = match number::<u32>(params, "iSortCol_0")? {
        None => (SortKey::Relevance, false),
        Some(col) => {
            let key = sort_key(col)
                .ok_or_else(|| format!("iSortCol_0 must be a column from 0 to 10, not {col}"))?;
            let descending = match params.non_empty("sSortDir_0").map(str::to_ascii_lowercase) {
                None => false,
                Some(d) if d == "asc" => false,
                Some(d) if d == "desc" => true,
                Some(d) => return Err(format!("sSortDir_0 must be asc or desc, not '{d}'")),
            };
            (key, descending)
        }
    };
    let query = SearchQuery {
        text: (!text.is_empty()).then(|| text.join(" ")),
        identifier: coordinates.identifier,
        email: coordinates.email,
        created: coordinates.created,
        os: params.non_empty("sSearch_1").map(str::to_string),
        os_version: params.non_empty("sSearch_2").map(str::to_string),
        os_arch: params.non_empty("sSearch_3").map(str::to_string),
        kind: params.non_empty("sSearch_5").map(str::to_string),
        tag: params.non_empty("tag").map(str::to_string),
        vo: params.non_empty("vo").map(str::to_string),
        status,
        location,
        sort,
        descending,
        offset: start,
        limit,
        ..SearchQuery::default()
    };
    Ok(ListRequest {
        query,
        echo,
        contradictory: coordinates.contradictory,
    })
}

/// Days of history shown by default.
pub(crate) const DEFAULT_RANGE_DAYS: u32 = 30;

/// The longest history range accepted (longer ranges are clamped).
pub(crate) const MAX_RANGE_DAYS: u32 = 36_500;

#[cfg(test)]
mod tests {
    use super::*;

    fn req(path: &[&str], q: &str) -> Result<ListRequest, String> {
        let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        list_request(&path, &Params::parse(Some(q)), 100)
    }

    #[test]
    fn values_are_classified_by_shape() {
        assert_eq!(classify("jane.tester@example.org"), Shape::Email);
        assert_eq!(classify("2014-03-08T14:10:40Z"), Shape::Date);
        assert_eq!(classify("BEE8-MMAw-Lk_IgsEExAy3d9R8h"), Shape::Identifier);
        assert_eq!(classify("x\") || true || (\""), Shape::Identifier);
        let r = req(&["jane@example.org"], "identifier=2014-03-08T14:10:40Z").unwrap();
        assert_eq!(r.query.email.as_deref(), Some("jane@example.org"));
        assert_eq!(r.query.created.as_deref(), Some("2014-03-08T14:10:40Z"));
        assert!(r.query.identifier.is_none());
    }

    #[test]
    fn contradictions_and_nulls() {
        assert!(req(&["A", "B"], "").unwrap().contradictory);
        assert!(
            !req(&["A"], "identifier=A&email=null&created=")
                .unwrap()
                .contradictory
        );
    }

    #[test]
    fn status_and_location() {
        assert_eq!(req(&[], "").unwrap().query.status, StatusFilter::Valid);
        assert_eq!(
            req(&[], "status=all").unwrap().query.status,
            StatusFilter::All
        );
        assert_eq!(
            req(&[], "status=bogus").unwrap().query.status,
            StatusFilter::All
        );
        assert_eq!(
            req(&[], "status=expired&location=pdisk")
                .unwrap()
                .query
                .location,
            LocationFilter::Pdisk
        );
    }

    #[test]
    fn vo_filter() {
        let r = req(&[], "vo=biomed&tag=t").unwrap();
        assert_eq!(r.query.vo.as_deref(), Some("biomed"));
        assert_eq!(req(&[], "vo=+").unwrap().query.vo, None);
    }

    #[test]
    fn kind_column_search_is_a_filter() {
        let r = req(&[], "sSearch_5=machine&sSearch_4=jane").unwrap();
        assert_eq!(r.query.kind.as_deref(), Some("machine"));
        assert_eq!(r.query.text.as_deref(), Some("jane"));
    }

    #[test]
    fn datatables_parameters_are_validated() {
        let r = req(
            &[],
            "sEcho=3&iDisplayStart=10&iDisplayLength=25&iSortCol_0=1&sSortDir_0=desc&sSearch=linux",
        )
        .unwrap();
        assert_eq!((r.echo, r.query.offset, r.query.limit), (3, 10, 25));
        assert_eq!((r.query.sort, r.query.descending), (SortKey::Os, true));
        assert_eq!(r.query.text.as_deref(), Some("linux"));
        assert!(req(&[], "iSortCol_0=1&sSortDir_0=desc;drop").is_err());
        assert!(req(&[], "iSortCol_0=99").is_err());
        assert!(req(&[], "iDisplayLength=abc").is_err());
        assert!(req(&[], "sEcho=x").is_err());
        assert_eq!(
            req(&[], "iDisplayLength=-1").unwrap().query.limit,
            MAX_LIMIT
        );
        assert_eq!(
            req(&[], "iDisplayLength=99999").unwrap().query.limit,
            MAX_LIMIT
        );
        assert_eq!(req(&[], "").unwrap().query.limit, 100);
    }
}
