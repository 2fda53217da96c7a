//! Middleware as tower layers that start the inner service in `call`.
//!
//! axum's `middleware::from_fn` runs a middleware as an `async fn(request,
//! next)`: to move the inner service into that future it clones the inner
//! service — the whole stack below it, boxed services included — and boxes
//! it again, on every request and at every layer. With the server's six
//! middlewares that was a third of the instructions of a lookup
//! (`docs/performance.md`). A [`Middleware`] here is split where its work
//! is: a synchronous [`Middleware::before`] that sees the request first,
//! the inner service's future started right away (no clone), an optional
//! [`Middleware::scope`] around that future, and [`Middleware::after`] on
//! the response. A middleware that must wait for something before the
//! inner service runs (reading a form body, verifying a certificate chain)
//! returns [`Before::Prepare`]; only then is the inner service cloned.
//!
//! No crate offers this shape: tower's `MapRequest`/`MapResponse` are
//! synchronous on both sides, and axum's `from_fn` is the cloning form.

use axum::extract::Request;
use axum::response::Response;
use futures_util::future::BoxFuture;
use std::convert::Infallible;
use std::future::Future;
use std::task::{Context, Poll};
use tower::{Layer, Service};

/// What [`Middleware::before`] decided.
pub enum Before<C> {
    /// Pass the request to the inner service; `C` goes to
    /// [`Middleware::scope`] and [`Middleware::after`].
    Pass(Request, C),
    /// Answer at once: the inner service does not run, and neither does
    /// [`Middleware::after`].
    Answer(Response),
    /// Finish preparing asynchronously, then pass the request on
    /// (`Ok`) or answer (`Err`).
    Prepare(BoxFuture<'static, Result<(Request, C), Response>>),
}

/// A middleware in the parts described in the module documentation.
pub trait Middleware: Clone + Send + Sync + 'static {
    /// What [`Middleware::before`] hands to the later parts.
    type Carry: Send + Sync + 'static;

    /// Sees the request before the inner service.
    fn before(&self, request: Request) -> Before<Self::Carry>;

    /// Runs the inner service's response future `inner` (by default as
    /// it is; e.g. inside a task-local scope).
    fn scope<F>(&self, carry: &Self::Carry, inner: F) -> impl Future<Output = Response> + Send
    where
        F: Future<Output = Response> + Send,
    {
        let _ = carry;
        inner
    }

    /// Sees the inner service's response.
    fn after(
        &self,
        carry: Self::Carry,
        response: Response,
    ) -> impl Future<Output = Response> + Send;
}

/// The layer of a [`Middleware`].
#[derive(Clone)]
pub struct MiddlewareLayer<M>(M);

impl<M> MiddlewareLayer<M> {
    /// The layer running `middleware`.
    pub fn new(middleware: M) -> Self {
        MiddlewareLayer(middleware)
    }
}

impl<M: Clone, S> Layer<S> for MiddlewareLayer<M> {
    type Service = Wrapped<M, S>;

    fn layer(&self, inner: S) -> Wrapped<M, S> {
        Wrapped {
            middleware: self.0.clone(),
            inner,
        }
    }
}

/// A service behind a [`Middleware`].
#[derive(Clone)]
pub struct Wrapped<M, S> {
    middleware: M,
    inner: S,
}

impl<M, S> Service<Request> for Wrapped<M, S>
where
    M: Middleware,
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let middleware = self.middleware.clone();
        match middleware.before(request) {
            Before::Pass(request, carry) => {
                let inner = self.inner.call(request);
                Box::pin(async move { Ok(around(&middleware, carry, inner).await) })
            }
            Before::Answer(response) => Box::pin(std::future::ready(Ok(response))),
            Before::Prepare(prepared) => {
                // The inner service was made ready for this call: it goes
                // into the future, a clone stays for the next call.
                let clone = self.inner.clone();
                let mut ready = std::mem::replace(&mut self.inner, clone);
                Box::pin(async move {
                    Ok(match prepared.await {
                        Ok((request, carry)) => {
                            around(&middleware, carry, ready.call(request)).await
                        }
                        Err(response) => response,
                    })
                })
            }
        }
    }
}

/// The inner service's future `inner` inside the middleware's scope, then
/// its response through the middleware's `after`.
async fn around<M, F>(middleware: &M, carry: M::Carry, inner: F) -> Response
where
    M: Middleware,
    F: Future<Output = Result<Response, Infallible>> + Send,
{
    let inner = async move {
        match inner.await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    };
    let response = middleware.scope(&carry, inner).await;
    middleware.after(carry, response).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{HeaderValue, StatusCode};
    use axum::response::IntoResponse;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tower::ServiceExt;

    /// Marks requests and responses, answers `/stop` itself and prepares
    /// `/later` asynchronously.
    #[derive(Clone)]
    struct Marker;

    impl Middleware for Marker {
        type Carry = &'static str;

        fn before(&self, mut request: Request) -> Before<&'static str> {
            request
                .headers_mut()
                .insert("x-before", HeaderValue::from_static("1"));
            match request.uri().path() {
                "/stop" => Before::Answer((StatusCode::FORBIDDEN, "stopped").into_response()),
                "/later" => Before::Prepare(Box::pin(async move {
                    tokio::task::yield_now().await;
                    Ok((request, "prepared"))
                })),
                _ => Before::Pass(request, "passed"),
            }
        }

        async fn after(&self, carry: &'static str, mut response: Response) -> Response {
            response
                .headers_mut()
                .insert("x-after", HeaderValue::from_static(carry));
            response
        }
    }

    /// A handler service that counts its clones and says whether the
    /// request went through [`Marker::before`].
    struct Handler(Arc<AtomicUsize>);

    impl Clone for Handler {
        fn clone(&self) -> Self {
            self.0.fetch_add(1, Ordering::Relaxed);
            Handler(self.0.clone())
        }
    }

    impl Service<Request> for Handler {
        type Response = Response;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Response, Infallible>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: Request) -> Self::Future {
            let seen = request.headers().contains_key("x-before");
            std::future::ready(Ok(format!("handler saw before: {seen}").into_response()))
        }
    }

    /// Status, `x-after` and body of `path`, and the handler's clones.
    async fn send(path: &str) -> (StatusCode, Option<String>, String, usize) {
        let clones = Arc::new(AtomicUsize::new(0));
        let service = MiddlewareLayer::new(Marker).layer(Handler(clones.clone()));
        let r = service
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let after = r
            .headers()
            .get("x-after")
            .map(|v| v.to_str().unwrap().to_string());
        let status = r.status();
        let body = axum::body::to_bytes(r.into_body(), 1024).await.unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        (status, after, body, clones.load(Ordering::Relaxed))
    }

    #[tokio::test]
    async fn passed_requests_reach_the_handler_without_a_clone() {
        let (status, after, body, clones) = send("/x").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(after.as_deref(), Some("passed"));
        assert_eq!(body, "handler saw before: true");
        assert_eq!(clones, 0);
    }

    #[tokio::test]
    async fn prepared_requests_use_a_clone() {
        let (status, after, body, clones) = send("/later").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(after.as_deref(), Some("prepared"));
        assert_eq!(body, "handler saw before: true");
        assert_eq!(clones, 1);
    }

    #[tokio::test]
    async fn answered_requests_skip_the_handler_and_after() {
        let (status, after, body, clones) = send("/stop").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(after, None);
        assert_eq!(body, "stopped");
        assert_eq!(clones, 0);
    }
}
