//! Connection bounds over real sockets: a client flooding connections gets
//! its own few and no more while others keep being served; a connection
//! that sends no headers, or stays idle, is closed.
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
use marketplace_server::runtime::config::ServerConfig;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// The server's address.
fn addr(s: &TestServer) -> SocketAddr {
    s.base.trim_start_matches("http://").parse().unwrap()
}

/// A TCP connection to `server` from the loopback address `from`.
async fn connect_from(from: &str, server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(from.parse().unwrap(), 0))
        .unwrap();
    socket.connect(server).await.unwrap()
}

/// Whether the server closes `stream` within `limit` (reads end or fail).
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue, // a response; keep reading
        }
    }
}

/// GET /healthz from the loopback address `from`.
async fn health_from(from: &str, s: &TestServer) -> reqwest::Result<reqwest::StatusCode> {
    let client = reqwest::Client::builder()
        .local_address(from.parse::<IpAddr>().unwrap())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    Ok(client.get(s.url("/healthz")).send().await?.status())
}

#[tokio::test]
async fn a_flooding_client_gets_its_share_and_others_are_served() {
    let s = TestServer::start_with(Backend::Sqlite, |c: &mut ServerConfig| {
        c.max_connections = 8;
        c.max_connections_per_client = 4;
    })
    .await
    .unwrap();
    let server = addr(&s);
    let mut flood = Vec::new();
    for _ in 0..4 {
        flood.push(connect_from("127.0.0.2", server).await);
    }
    // Let the server take them in.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut fifth = connect_from("127.0.0.2", server).await;
    assert!(
        closed_within(&mut fifth, Duration::from_secs(5)).await,
        "the fifth connection of one client is closed"
    );
    // Another client is served meanwhile.
    assert_eq!(health_from("127.0.0.3", &s).await.unwrap(), 200);

    // Four more from a third address fill the total.
    for _ in 0..4 {
        flood.push(connect_from("127.0.0.4", server).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut over = connect_from("127.0.0.5", server).await;
    assert!(closed_within(&mut over, Duration::from_secs(5)).await);
    // Once the flood ends, everyone is served again.
    drop(flood);
    let mut served = false;
    for _ in 0..50 {
        if matches!(health_from("127.0.0.5", &s).await, Ok(status) if status == 200) {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served, "served once the connections closed");
}

#[tokio::test]
async fn slow_headers_and_idle_connections_are_closed() {
    let s = TestServer::start_with(Backend::Sqlite, |c: &mut ServerConfig| {
        c.header_timeout = Duration::from_secs(1);
        c.idle_timeout = Duration::from_secs(1);
    })
    .await
    .unwrap();
    let server = addr(&s);
    // Headers that never end.
    let mut slow = connect_from("127.0.0.6", server).await;
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    assert!(closed_within(&mut slow, Duration::from_secs(10)).await);
    // A kept-alive connection after its answer.
    let mut idle = connect_from("127.0.0.6", server).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    assert!(closed_within(&mut idle, Duration::from_secs(10)).await);
}
