//! Serving connections with limits on slow and idle clients, and a shutdown that ends.
//!
//! `axum::serve` has no timeouts: a client that sends half a request header holds its
//! connection (and a file descriptor) forever, and graceful shutdown waits for it forever. So
//! each connection is served here, watched by its own task:
//! - the header of each request must arrive within [`ServerLimits::header_read`], counted
//!   from its first byte (hyper's own header timeout starts when a connection goes idle, which
//!   would make the keep-alive timeout and the header timeout one number);
//! - a connection idle between requests is closed after [`ServerLimits::keep_alive`]; it is
//!   longer than a load balancer's usual idle timeout, so the balancer closes first;
//! - a request body must arrive within [`ServerLimits::request_body`] of the request
//!   ([`request_body_deadline`]), or the request is answered `408`;
//! - after the shutdown signal, connections get [`ServerLimits::shutdown`] to finish, then
//!   they are dropped and the server returns;
//! - with TLS, the handshake must complete within [`ServerLimits::header_read`] too.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use crate::config::ServerLimits;

/// Serves `router` on `listener` (over TLS when given an acceptor) until `shutdown`
/// completes, then drains the connections within `limits.shutdown`. Returns how many
/// connections were still open at the deadline and were dropped.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) -> usize {
    let (closing, closing_seen) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, remote)) => {
                    let router = router.clone();
                    let closing = closing_seen.clone();
                    match &tls {
                        None => {
                            connections.spawn(serve_connection(stream, remote, router, limits, closing));
                        }
                        Some(acceptor) => {
                            let handshake = acceptor.accept(stream);
                            connections.spawn(async move {
                                match tokio::time::timeout(limits.header_read, handshake).await {
                                    Ok(Ok(stream)) => {
                                        serve_connection(stream, remote, router, limits, closing).await;
                                    }
                                    Ok(Err(err)) => {
                                        tracing::debug!(%remote, error = %err, "TLS handshake failed");
                                    }
                                    Err(_) => tracing::debug!(%remote, "TLS handshake too slow; connection dropped"),
                                }
                            });
                        }
                    }
                }
                // Out of file descriptors, typically: pause instead of spinning on the error.
                Err(err) => {
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let _ = closing.send(true);
    let drained = tokio::time::timeout(limits.shutdown, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_ok() {
        return 0;
    }
    let dropped = connections.len();
    tracing::warn!(
        connections = dropped,
        "shutdown deadline passed; closing the connections still open"
    );
    connections.shutdown().await;
    dropped
}

/// What the watchdog of one connection knows about it, in milliseconds since it was accepted.
struct Activity {
    accepted: Instant,
    /// Requests whose response has not been produced yet.
    in_flight: AtomicUsize,
    /// The last read, write or response.
    last: AtomicU64,
    /// When the first byte of a request header arrived, while no request is in flight;
    /// `u64::MAX` when none is being read.
    head_started: AtomicU64,
    /// Wakes the watchdog when a header starts: its deadline is sooner than the idle one.
    head_began: tokio::sync::Notify,
    /// The client spoke HTTP/2 (its preface came first). HTTP/2 clients send frames between
    /// requests (PING, WINDOW_UPDATE, SETTINGS), so bytes do not mean a header has begun:
    /// such a connection is only ever closed for idleness, with a GOAWAY.
    http2: AtomicBool,
    /// Whether anything has been read yet.
    read_any: AtomicBool,
}

const NOT_READING_HEAD: u64 = u64::MAX;

impl Activity {
    fn new() -> Self {
        Self {
            accepted: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last: AtomicU64::new(0),
            head_started: AtomicU64::new(NOT_READING_HEAD),
            head_began: tokio::sync::Notify::new(),
            http2: AtomicBool::new(false),
            read_any: AtomicBool::new(false),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.accepted.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
    }

    fn at(&self, millis: u64) -> Instant {
        self.accepted + Duration::from_millis(millis)
    }

    fn read(&self, bytes: &[u8]) {
        let now = self.now();
        self.last.store(now, Ordering::Release);
        if !self.read_any.swap(true, Ordering::AcqRel) && bytes.starts_with(b"PRI * HTTP/2.0") {
            self.http2.store(true, Ordering::Release);
        }
        if self.http2.load(Ordering::Acquire) {
            return;
        }
        if self.in_flight.load(Ordering::Acquire) == 0
            && self
                .head_started
                .compare_exchange(NOT_READING_HEAD, now, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            self.head_began.notify_one();
        }
    }

    fn wrote(&self) {
        self.last.store(self.now(), Ordering::Release);
    }

    fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.head_started.store(NOT_READING_HEAD, Ordering::Release);
    }

    fn request_answered(&self) {
        // `last` first: whoever sees the count drop also sees when it dropped.
        self.last.store(self.now(), Ordering::Release);
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What the watchdog decided.
enum Verdict {
    /// Nothing to do before this time.
    WaitUntil(Instant),
    /// Idle too long: close between requests.
    Idle,
    /// A header took too long: drop the connection.
    SlowHeader,
}

fn judge(activity: &Activity, limits: &ServerLimits) -> Verdict {
    let now = activity.now();
    let millis = |duration: Duration| u64::try_from(duration.as_millis()).unwrap_or(u64::MAX / 2);
    let head_started = activity.head_started.load(Ordering::Acquire);
    if head_started != NOT_READING_HEAD {
        let deadline = head_started.saturating_add(millis(limits.header_read));
        return if now >= deadline {
            Verdict::SlowHeader
        } else {
            Verdict::WaitUntil(activity.at(deadline))
        };
    }
    let in_flight = activity.in_flight.load(Ordering::Acquire);
    let idle_deadline = activity
        .last
        .load(Ordering::Acquire)
        .saturating_add(millis(limits.keep_alive));
    if in_flight > 0 {
        // A request is being handled; its body has its own deadline.
        return Verdict::WaitUntil(activity.at(now.saturating_add(millis(limits.keep_alive))));
    }
    if now >= idle_deadline {
        Verdict::Idle
    } else {
        Verdict::WaitUntil(activity.at(idle_deadline))
    }
}

async fn serve_connection<S>(
    stream: S,
    remote: SocketAddr,
    router: Router,
    limits: ServerLimits,
    mut closing: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(WatchedIo {
        inner: stream,
        activity: activity.clone(),
    });
    let service_activity = activity.clone();
    let service =
        hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            let router = router.clone();
            let activity = service_activity.clone();
            activity.request_started();
            let answered = RequestAnswered(activity);
            let mut request = request.map(axum::body::Body::new);
            request.extensions_mut().insert(ConnectInfo(remote));
            async move {
                let response = router.oneshot(request).await;
                drop(answered);
                response
            }
        });
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    let mut connection = pin!(builder.serve_connection_with_upgrades(io, service));
    let mut closing_down = false;
    loop {
        let verdict = judge(&activity, &limits);
        let wake = match verdict {
            Verdict::WaitUntil(at) => at,
            Verdict::SlowHeader => {
                tracing::debug!(%remote, "request header too slow; connection dropped");
                return;
            }
            Verdict::Idle if closing_down => {
                // Asked to close but still not done a keep-alive period later: a client
                // that does not read its response.
                return;
            }
            Verdict::Idle => {
                closing_down = true;
                connection.as_mut().graceful_shutdown();
                activity.wrote();
                continue;
            }
        };
        tokio::select! {
            _ = connection.as_mut() => return,
            changed = closing.changed(), if !closing_down => {
                if changed.is_err() || *closing.borrow() {
                    closing_down = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
            () = tokio::time::sleep_until(wake) => {}
            () = activity.head_began.notified() => {}
        }
    }
}

/// Marks a request answered when dropped, even if its handler is cancelled.
struct RequestAnswered(Arc<Activity>);

impl Drop for RequestAnswered {
    fn drop(&mut self) {
        self.0.request_answered();
    }
}

/// A stream (TCP, or TLS over TCP) that reports its reads and writes to the connection's
/// watchdog.
struct WatchedIo<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S: AsyncRead + Unpin> AsyncRead for WatchedIo<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read(&buf.filled()[before..]);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WatchedIo<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Middleware: the request body must arrive within `timeout` of the request, or the request
/// is answered `408` (in the endpoint's error shape, by the rejection shaping around it).
pub async fn request_body_deadline(
    axum::extract::State(timeout): axum::extract::State<Duration>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let expired = Arc::new(AtomicBool::new(false));
    let request = request.map(|body| {
        axum::body::Body::new(DeadlineBody {
            inner: body,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            expired: expired.clone(),
        })
    });
    let response = next.run(request).await;
    if expired.load(Ordering::Acquire) {
        return (
            StatusCode::REQUEST_TIMEOUT,
            "The request body did not arrive in time.",
        )
            .into_response();
    }
    response
}

/// A request body that fails once its deadline has passed.
struct DeadlineBody {
    inner: axum::body::Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
    expired: Arc<AtomicBool>,
}

#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
struct BodyTooSlow;

impl http_body::Body for DeadlineBody {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.expired.store(true, Ordering::Release);
            return Poll::Ready(Some(Err(axum::Error::new(BodyTooSlow))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
