//! The HTTP side: a listener whose connections can be dropped on purpose, and the middleware
//! every request goes through (request log, scripted faults, credentials, rate limits,
//! permissions, ETags).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::body::{Body, to_bytes};
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::api::{ApiError, AppState};
use super::auth::{self, Auth};
use super::faults::{self, Fault};
use super::log::{AuthUsed, RequestRecord};
use super::permissions;

const MAX_BODY: usize = 64 * 1024 * 1024;

/// Accepts TCP connections, each with a switch that makes it fail all further I/O.
pub struct KillableListener(pub TcpListener);

/// Per-connection switch, handed to the middleware as connect info.
#[derive(Clone, Debug)]
pub struct ConnKill(Arc<AtomicBool>);

impl ConnKill {
    fn kill(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

pub struct KillableStream {
    inner: TcpStream,
    killed: Arc<AtomicBool>,
}

impl Listener for KillableListener {
    type Io = KillableStream;
    type Addr = ConnKill;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((inner, _)) => {
                    let killed = Arc::new(AtomicBool::new(false));
                    let io = KillableStream {
                        inner,
                        killed: killed.clone(),
                    };
                    return (io, ConnKill(killed));
                }
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(5)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(ConnKill(Arc::new(AtomicBool::new(false))))
    }
}

impl Connected<IncomingStream<'_, KillableListener>> for ConnKill {
    fn connect_info(stream: IncomingStream<'_, KillableListener>) -> Self {
        stream.remote_addr().clone()
    }
}

fn dropped() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionReset, "dropped by fault injection")
}

impl AsyncRead for KillableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.killed.load(Ordering::SeqCst) {
            return Poll::Ready(Err(dropped()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.killed.load(Ordering::SeqCst) {
            return Poll::Ready(Err(dropped()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.killed.load(Ordering::SeqCst) {
            return Poll::Ready(Err(dropped()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The middleware in front of every route.
pub async fn observe(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let bytes = match to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => {
            return ApiError::new(400, format!("Problems reading the body: {e}")).into_response();
        }
    };
    let method = parts.method.clone();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    let template = parts
        .extensions
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let conn = parts
        .extensions
        .get::<ConnectInfo<ConnKill>>()
        .map(|c| c.0.clone());

    let (latency, fault, auth, limit) = {
        let mut m = st.lock();
        let fault = faults::take(&mut m.faults, method.as_str(), &path);
        (
            m.latency,
            fault,
            auth::authenticate(&m, &parts.headers),
            m.rate.limit,
        )
    };
    let mut record = RequestRecord {
        method: method.to_string(),
        path: path.clone(),
        query,
        auth: auth::auth_used(&auth),
        status: 0,
        body: bytes.to_vec(),
        fault: fault.clone(),
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let answer = match fault {
        Some(Fault::DropConnection) => {
            if let Some(conn) = conn {
                conn.kill();
            }
            st.lock().requests.push(record);
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            None
        }
        Some(f) => Some(faults::response(&f, limit)),
        None => None,
    };
    let mut rate_key = auth
        .as_ref()
        .map_or("anonymous".to_string(), Auth::rate_key);
    let resp = match answer {
        Some(resp) => resp,
        None => match admit(&st, auth, &method, &template, &path) {
            Err(e) => e.into_response(),
            Ok(auth) => {
                rate_key = auth.rate_key();
                parts.extensions.insert(auth);
                let if_none_match = parts.headers.get("if-none-match").cloned();
                let req = Request::from_parts(parts, Body::from(bytes));
                let resp = next.run(req).await;
                let resp = etag(&method, if_none_match, resp).await;
                if resp.status() == StatusCode::NOT_MODIFIED {
                    refund(&st, &rate_key);
                }
                resp
            }
        },
    };
    let resp = with_rate_headers(&st, &rate_key, resp);
    record.status = resp.status().as_u16();
    if record.auth == AuthUsed::Invalid && record.status < 400 {
        record.auth = AuthUsed::None;
    }
    let mut resp = resp;
    if let Ok(v) = HeaderValue::from_str(&format!("FAKE:{:08X}", st.lock().requests.len())) {
        resp.headers_mut().insert("x-github-request-id", v);
    }
    st.lock().requests.push(record);
    resp
}

/// Credentials, rate limit and App permission checks, in GitHub's order.
fn admit(
    st: &AppState,
    auth: Result<Auth, ApiError>,
    method: &Method,
    template: &str,
    path: &str,
) -> Result<Auth, ApiError> {
    // Endpoints that ignore credentials (manifest flow, codeload) never fail on them.
    let public = template.starts_with("/app-manifests")
        || template.contains("/settings/apps")
        || template.starts_with("/_codeload")
        || template.starts_with("/apps/");
    let auth = match auth {
        Ok(a) => a,
        Err(_) if public => Auth::Anonymous,
        Err(e) => return Err(e),
    };
    let mut m = st.lock();
    let key = auth.rate_key();
    let window = m.rate_window(&key);
    if window.remaining == 0 {
        return Err(ApiError::new(
            403,
            "API rate limit exceeded. If you reach out to GitHub Support for help, please include the request ID.",
        ));
    }
    if let Some(w) = m.rate.windows.get_mut(&key) {
        w.remaining -= 1;
    }
    if let Auth::Installation(t) = &auth {
        let need = permissions::required(method, template, path)
            .or_else(|| permissions::required_org(template));
        if need.is_some_and(|n| !permissions::satisfied(&t.permissions, n)) {
            return Err(ApiError::new(403, "Resource not accessible by integration"));
        }
    }
    Ok(auth)
}

fn refund(st: &AppState, key: &str) {
    let mut m = st.lock();
    let limit = m.rate.limit;
    if let Some(w) = m.rate.windows.get_mut(key) {
        w.remaining = (w.remaining + 1).min(limit);
    }
}

/// Adds a strong ETag to successful GET answers and turns a matching `If-None-Match` into
/// 304 (which GitHub does not count against the rate limit).
async fn etag(method: &Method, if_none_match: Option<HeaderValue>, resp: Response) -> Response {
    if *method != Method::GET || resp.status() != StatusCode::OK {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let bytes = match to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => {
            return ApiError::new(500, format!("fake GitHub answer body: {e}")).into_response();
        }
    };
    let tag = format!("\"{}\"", super::git::blob_sha(&bytes));
    if if_none_match.as_ref().and_then(|v| v.to_str().ok()) == Some(tag.as_str()) {
        let mut resp = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(v) = HeaderValue::from_str(&tag) {
            resp.headers_mut().insert("etag", v);
        }
        return resp;
    }
    if let Ok(v) = HeaderValue::from_str(&tag) {
        parts.headers.insert("etag", v);
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn with_rate_headers(st: &AppState, key: &str, mut resp: Response) -> Response {
    if resp.headers().contains_key("x-ratelimit-remaining") {
        return resp;
    }
    let (limit, window) = {
        let mut m = st.lock();
        (m.rate.limit, m.rate_window(key))
    };
    let headers = [
        ("x-ratelimit-limit", limit.to_string()),
        ("x-ratelimit-remaining", window.remaining.to_string()),
        ("x-ratelimit-reset", window.reset.to_string()),
        (
            "x-ratelimit-used",
            (limit.saturating_sub(window.remaining)).to_string(),
        ),
        ("x-ratelimit-resource", "core".to_string()),
    ];
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            resp.headers_mut().insert(name, v);
        }
    }
    resp
}
