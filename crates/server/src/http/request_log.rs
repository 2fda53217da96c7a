//! What the logs show of a request: the span of each request, with the
//! tokens of confirmation links masked (whoever reads the logs must not be
//! able to confirm an upload in its endorser's name).

use axum::extract::Request;
use std::borrow::Cow;

/// A request path with the token of `/action/{token}/…` replaced by `***`.
pub(crate) fn mask_path(path: &str) -> Cow<'_, str> {
    match path.strip_prefix("/action/") {
        Some(rest) if !rest.is_empty() => {
            let tail = rest.find('/').map_or("", |i| &rest[i..]);
            Cow::Owned(format!("/action/***{tail}"))
        }
        _ => Cow::Borrowed(path),
    }
}

/// The tracing span of a request (as tower-http's default one at INFO:
/// method, URI, version), with confirmation tokens masked. The URI is
/// written only when the span is recorded (not at all below INFO).
pub(crate) fn request_span(request: &Request) -> tracing::Span {
    tracing::info_span!(
        "request",
        method = %request.method(),
        uri = %ShownUri(request.uri()),
        version = ?request.version(),
    )
}

/// A request URI as logs show it: with [`mask_path`] applied (the masked
/// form drops the query).
struct ShownUri<'a>(&'a axum::http::Uri);

impl std::fmt::Display for ShownUri<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match mask_path(self.0.path()) {
            Cow::Owned(masked) => f.write_str(&masked),
            Cow::Borrowed(_) => write!(f, "{}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_masked() {
        let token = "a".repeat(43);
        assert_eq!(
            mask_path(&format!("/action/{token}/confirm")),
            "/action/***/confirm"
        );
        assert_eq!(mask_path(&format!("/action/{token}")), "/action/***");
        assert_eq!(mask_path("/metadata/x"), "/metadata/x");
        assert_eq!(mask_path("/action/"), "/action/");
        let shown = |uri: &str| ShownUri(&uri.parse().unwrap()).to_string();
        assert_eq!(
            shown(&format!("/action/{token}/abort?x=1")),
            "/action/***/abort"
        );
        assert_eq!(shown("/metadata/x?media=json"), "/metadata/x?media=json");
    }
}
