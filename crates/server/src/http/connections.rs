//! Bounds on connections, so that one client cannot take the server's file
//! descriptors or its attention: at most `max_connections` open at once
//! and `max_connections_per_client` from one address (trusted proxies,
//! which carry many clients, count only towards the total); a connection
//! over a limit is closed at once, so that it neither waits in the
//! kernel's backlog nor holds a descriptor. Request headers must arrive
//! within `header_timeout_secs` (default [`HEADER_READ_TIMEOUT`]; hyper's
//! header read timeout), and a connection idle between requests is closed
//! after `idle_timeout_secs` (default [`IDLE_TIMEOUT`]; [`IdleWatch`],
//! since hyper has no idle timeout of its own for HTTP/1.1 keep-alive).

use crate::auth::authn::AddrRange;
use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Time a client has to send the headers of its first request.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Time a connection may stay open without any byte read or written while
/// no request is being answered.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Connections open at once unless configured (`max_connections`).
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// Connections from one address unless configured
/// (`max_connections_per_client`).
pub const DEFAULT_MAX_PER_CLIENT: usize = 64;

/// Counts open connections and admits new ones within the limits; holds
/// the time limits of a connection.
#[derive(Debug)]
pub struct ConnectionGate {
    /// Time a client has to send a request's headers.
    pub header_timeout: Duration,
    /// Time a connection may stay idle between requests.
    pub idle_timeout: Duration,
    max_total: usize,
    max_per_client: usize,
    trusted_proxies: Vec<AddrRange>,
    total: AtomicUsize,
    per_client: Mutex<HashMap<IpAddr, usize>>,
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `max_connections` are open.
    Total,
    /// `max_connections_per_client` are open from this address.
    PerClient,
}

/// An admitted connection: counted until dropped.
#[derive(Debug)]
pub struct Admitted {
    gate: Arc<ConnectionGate>,
    client: Option<IpAddr>,
}

impl ConnectionGate {
    /// A gate with these limits (each at least 1); connections from
    /// `trusted_proxies` count only towards the total.
    pub fn new(max_total: usize, max_per_client: usize, trusted_proxies: Vec<AddrRange>) -> Self {
        ConnectionGate {
            header_timeout: HEADER_READ_TIMEOUT,
            idle_timeout: IDLE_TIMEOUT,
            max_total: max_total.max(1),
            max_per_client: max_per_client.max(1),
            trusted_proxies,
            total: AtomicUsize::new(0),
            per_client: Mutex::new(HashMap::new()),
        }
    }

    /// Admits a connection from `peer`, or says which limit it is over.
    pub fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<Admitted, Refusal> {
        let client = (!self.trusted_proxies.iter().any(|r| r.contains(peer))).then_some(peer);
        // The map's lock also orders the total, so that the two counts
        // move together.
        let mut per_client = self.per_client.lock().unwrap_or_else(|p| p.into_inner());
        if self.total.load(Ordering::Relaxed) >= self.max_total {
            return Err(Refusal::Total);
        }
        if let Some(ip) = client {
            let open = per_client.entry(ip).or_insert(0);
            if *open >= self.max_per_client {
                return Err(Refusal::PerClient);
            }
            *open += 1;
        }
        self.total.fetch_add(1, Ordering::Relaxed);
        Ok(Admitted {
            gate: self.clone(),
            client,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut per_client = self
            .gate
            .per_client
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(ip) = self.client
            && let Some(open) = per_client.get_mut(&ip)
        {
            *open -= 1;
            if *open == 0 {
                per_client.remove(&ip);
            }
        }
        self.gate.total.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The activity of one connection: when a byte last moved, and how many
/// requests are being answered.
#[derive(Debug)]
pub struct Activity {
    started: Instant,
    /// Milliseconds since `started` of the last read or write.
    last: AtomicU64,
    /// Requests whose response is not finished.
    in_flight: AtomicUsize,
}

impl Activity {
    /// A connection opened now.
    pub fn new() -> Arc<Self> {
        Arc::new(Activity {
            started: Instant::now(),
            last: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        })
    }

    fn touch(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(ms, Ordering::Relaxed);
    }

    /// Counts a request until the returned guard is dropped.
    pub fn request(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }

    /// How long the connection has been idle (zero while a request is
    /// being answered).
    pub fn idle_for(&self) -> Duration {
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            return Duration::ZERO;
        }
        let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
        self.started.elapsed().saturating_sub(last)
    }
}

/// A request being answered ([`Activity::request`]).
#[derive(Debug)]
pub struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// An I/O stream that records its [`Activity`] on every read and write.
#[derive(Debug)]
pub struct IdleWatch<I> {
    inner: I,
    activity: Arc<Activity>,
}

impl<I> IdleWatch<I> {
    /// Watches `inner`.
    pub fn new(inner: I, activity: Arc<Activity>) -> Self {
        IdleWatch { inner, activity }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for IdleWatch<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for IdleWatch<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_client_and_in_all() {
        let proxy: AddrRange = "10.0.0.1".parse().unwrap();
        let gate = Arc::new(ConnectionGate::new(4, 2, vec![proxy]));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let first = gate.admit(a).unwrap();
        let _second = gate.admit(a).unwrap();
        assert_eq!(gate.admit(a).unwrap_err(), Refusal::PerClient);
        let _b = gate.admit(b).unwrap();
        // The proxy is not limited per client, only in all.
        let _p = gate.admit("10.0.0.1".parse().unwrap()).unwrap();
        assert_eq!(gate.admit(b).unwrap_err(), Refusal::Total);
        assert_eq!(gate.open(), 4);
        drop(first);
        assert_eq!(gate.open(), 3);
        let _again = gate.admit(a).unwrap();
    }

    #[test]
    fn idle_only_without_requests() {
        let activity = Activity::new();
        let request = activity.request();
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(activity.idle_for(), Duration::ZERO);
        drop(request);
        assert!(activity.idle_for() < Duration::from_millis(15));
        std::thread::sleep(Duration::from_millis(20));
        assert!(activity.idle_for() >= Duration::from_millis(20));
    }
}
