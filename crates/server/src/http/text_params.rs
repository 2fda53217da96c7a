//! Refuses requests whose text cannot be text: a NUL character (`%00`) in
//! a query parameter or in the path. No stored text holds one (XML cannot),
//! PostgreSQL cannot even compare with one, and passed on it would reach a
//! search as a server error; here it is a 400 naming the parameter, in the
//! representation of the route (the API's JSON errors under `/api/v1`, the
//! negotiated error body elsewhere). Form bodies (the DataTables POST) are
//! checked where they are read, with [`Params::refuse_nul`].

use crate::http::error::AppError;
use crate::http::middleware::{Before, Middleware};
use crate::render::listing::Params;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Middleware: 400 for a NUL character in the query or the path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TextParams;

impl Middleware for TextParams {
    type Carry = ();

    fn before(&self, request: Request) -> Before<()> {
        let uri = request.uri();
        let problem =
            path_problem(uri.path()).or_else(|| Params::parse(uri.query()).refuse_nul().err());
        match problem {
            None => Before::Pass(request, ()),
            Some(message) if uri.path().starts_with(crate::api::PREFIX) => {
                Before::Answer(crate::api::error::render(StatusCode::BAD_REQUEST, message))
            }
            Some(message) => Before::Answer(AppError::bad_request(message).into_response()),
        }
    }

    async fn after(&self, _: (), response: Response) -> Response {
        response
    }
}

/// Why `path` cannot be served, if it holds an encoded NUL.
fn path_problem(path: &str) -> Option<String> {
    let decoded = percent_encoding::percent_decode_str(path).collect::<Vec<u8>>();
    decoded
        .contains(&0)
        .then(|| "the path contains a NUL character (%00), which no name or value holds".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_in_the_path_is_named() {
        assert!(path_problem("/metadata/a%00b").is_some());
        assert!(path_problem("/metadata/a%20b").is_none());
    }
}
