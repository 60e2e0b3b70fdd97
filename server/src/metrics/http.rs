//! The `/metrics` HTTP endpoint: the exporter's rendering plus the
//! per-command histograms of [`super::command`]. Scrapes come a few times a
//! minute, so one thread answering one short-lived connection at a time
//! (HTTP/1.x, `Connection: close`) is all it needs.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::shared::Shared;

/// Longest request head read before answering 431.
const REQUEST_HEAD_BYTES_MAX: usize = 8 * 1024;
/// A scraper that stalls mid-request is dropped after this long.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

/// Binds `addr` and serves scrapes on a thread until shutdown.
pub fn start(
    addr: SocketAddr,
    handle: PrometheusHandle,
    shared: &Arc<Shared>,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(addr).with_context(|| {
        format!("can't start the metrics endpoint on {addr} (set metrics-port 0 to disable it)")
    })?;
    let shared = shared.clone();
    std::thread::Builder::new()
        .name("metrics-http".into())
        .spawn(move || {
            for conn in listener.incoming() {
                if shared.is_shutting_down() {
                    return;
                }
                match conn {
                    Ok(stream) => {
                        if let Err(e) = answer(stream, &handle) {
                            tracing::debug!("metrics scrape: {e}");
                        }
                    }
                    Err(e) => tracing::debug!("metrics accept: {e}"),
                }
            }
        })
        .context("spawning the metrics endpoint thread")?;
    Ok(())
}

fn answer(mut stream: TcpStream, handle: &PrometheusHandle) -> std::io::Result<()> {
    stream.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    stream.set_write_timeout(Some(CLIENT_TIMEOUT))?;
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() > REQUEST_HEAD_BYTES_MAX {
            return respond(&mut stream, "431 Request Header Fields Too Large", "");
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&chunk[..n]);
    }
    let request_line = head.split(|&b| b == b'\r').next().unwrap_or_default();
    let mut parts = request_line.split(|&b| b == b' ');
    let method = parts.next().unwrap_or_default();
    let target = parts.next().unwrap_or_default();
    let path = target.split(|&b| b == b'?').next().unwrap_or_default();
    match (method, path) {
        (b"GET", b"/metrics") | (b"GET", b"/") => {
            let mut body = handle.render();
            super::command::render(&mut body);
            respond(&mut stream, "200 OK", &body)
        }
        (b"GET", _) => respond(&mut stream, "404 Not Found", "not found: try /metrics\n"),
        _ => respond(&mut stream, "405 Method Not Allowed", ""),
    }
}

fn respond(stream: &mut TcpStream, status: &str, body: &str) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()
}
