//! The accept loop: hyper with a timer, so slow clients are cut off, and a connection cap.
//!
//! `axum::serve` runs hyper without a timer: a client that sends half its headers, or nothing
//! at all, holds its connection (and its buffers) forever. Here every connection is served by
//! hyper's HTTP/1 builder with a [`TokioTimer`] and a header-read timeout (which also closes
//! idle keep-alive connections), and at most `max_connections` are served at once: the next
//! one is accepted only when one closes, so the excess waits in the kernel's listen backlog
//! instead of in this process's memory. Body deadlines are the webhook's (`http::body`).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

/// How connections are bounded; from the settings.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    pub header_timeout: Duration,
    pub max_connections: usize,
    /// After shutdown is asked for, how long connections with a request in hand may finish.
    pub shutdown_grace: Duration,
}

/// Serves `app` on `listener` until `shutdown` is cancelled, then stops accepting, lets
/// in-flight requests finish (within the grace period) and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    loop {
        let slot = tokio::select! {
            () = shutdown.cancelled() => break,
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(err) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        if let Err(err) = stream.set_nodelay(true) {
            debug!(error = %err, "TCP_NODELAY not set");
        }
        let service = TowerToHyperService::new(app.clone());
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                debug!(error = %err, "connection closed with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        warn!("connections still open after the shutdown grace period: closing them");
    }
}
