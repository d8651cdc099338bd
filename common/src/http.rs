//! The HTTP endpoints every Rudder binary serves: `/metrics` (Prometheus
//! text, or OpenMetrics when the scraper asks for it) on the metrics
//! address, `/healthz` and `/readyz` on the health-probe address.
//!
//! `/healthz` answers 200 while the process runs. `/readyz` answers 200 when
//! the leader election is healthy and either this process stands by (a
//! standby runs no informers) or its informer caches have synced; 503 with
//! the reason otherwise.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use prometheus_client::registry::Registry;
use warp::Filter;
use warp::http::{Response, StatusCode, header};

/// What `/readyz` reports on.
#[derive(Debug, Default)]
pub struct Health {
    synced: AtomicBool,
    /// False while leader election cannot tell whether it leads (a lost
    /// lease that is not yet re-acquired, an unreachable API server).
    election_ok: AtomicBool,
    /// Standing by in a leader election: no informers run, none to sync.
    standby: AtomicBool,
}

impl Health {
    /// A new state: not synced, election healthy (binaries without leader
    /// election never change it).
    pub fn new() -> Arc<Self> {
        Arc::new(Self { synced: AtomicBool::new(false), election_ok: AtomicBool::new(true), standby: AtomicBool::new(false) })
    }

    pub fn set_synced(&self, v: bool) {
        self.synced.store(v, Ordering::SeqCst);
    }

    pub fn set_election_ok(&self, v: bool) {
        self.election_ok.store(v, Ordering::SeqCst);
    }

    pub fn is_synced(&self) -> bool {
        self.synced.load(Ordering::SeqCst)
    }

    pub fn set_standby(&self, v: bool) {
        self.standby.store(v, Ordering::SeqCst);
    }

    /// Ready, or why not.
    pub fn readiness(&self) -> Result<(), &'static str> {
        if !self.election_ok.load(Ordering::SeqCst) {
            return Err("leader election is not healthy");
        }
        if !self.standby.load(Ordering::SeqCst) && !self.synced.load(Ordering::SeqCst) {
            return Err("informer caches have not synced");
        }
        Ok(())
    }
}

/// Marks a [`Health`] synced once each of several caches has listed once
/// (upstream waits for every informer before its workers start).
///
/// ```
/// let health = rudder_common::http::Health::new();
/// let gate = rudder_common::http::SyncGate::new(health.clone(), 2);
/// let (mut pods, mut nodes) = (gate.part(), gate.part());
/// pods();
/// pods(); // a re-list counts once
/// assert!(!health.is_synced());
/// nodes();
/// assert!(health.is_synced());
/// ```
#[derive(Clone)]
pub struct SyncGate {
    health: Arc<Health>,
    remaining: Arc<std::sync::atomic::AtomicUsize>,
}

impl SyncGate {
    pub fn new(health: Arc<Health>, caches: usize) -> SyncGate {
        SyncGate { health, remaining: Arc::new(std::sync::atomic::AtomicUsize::new(caches)) }
    }

    /// One cache's part: call it on every InitDone; only the first counts.
    pub fn part(&self) -> impl FnMut() + Send + Sync + 'static {
        let gate = self.clone();
        let mut done = false;
        move || {
            if !std::mem::replace(&mut done, true) && gate.remaining.fetch_sub(1, Ordering::SeqCst) == 1 {
                gate.health.set_synced(true);
            }
        }
    }
}

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The registry in the format the Accept header asks for.
pub fn render_metrics(registry: &Registry, accept: Option<&str>) -> Result<(String, &'static str), std::fmt::Error> {
    let mut body = String::new();
    prometheus_client::encoding::text::encode(&mut body, registry)?;
    if accept.is_some_and(|a| a.contains("application/openmetrics-text")) {
        return Ok((body, OPENMETRICS));
    }
    // The Prometheus text format: OpenMetrics without its UNIT lines and EOF marker.
    let text: String = body.lines().filter(|l| *l != "# EOF" && !l.starts_with("# UNIT ")).flat_map(|l| [l, "\n"]).collect();
    Ok((text, PROMETHEUS_TEXT))
}

fn text(code: StatusCode, body: impl Into<String>, content_type: &'static str) -> Response<String> {
    let mut r = Response::new(body.into());
    *r.status_mut() = code;
    r.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static(content_type));
    r
}

/// Binds an address for one of the endpoints, with the error naming it.
pub async fn bind(addr: SocketAddr, what: &str) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.map_err(|e| std::io::Error::new(e.kind(), format!("cannot serve {what} on {addr}: {e}")))
}

/// Serves `/metrics` on `listener` until `shutdown` resolves.
pub async fn serve_metrics(
    listener: tokio::net::TcpListener,
    registry: Arc<Registry>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let route =
        warp::path!("metrics").and(warp::get()).and(warp::header::optional::<String>("accept")).map(move |accept: Option<String>| {
            match render_metrics(&registry, accept.as_deref()) {
                Ok((body, ct)) => text(StatusCode::OK, body, ct),
                Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("cannot encode metrics: {e}"), "text/plain; charset=utf-8"),
            }
        });
    warp::serve(route).incoming(listener).graceful(shutdown).run().await;
}

/// Serves `/healthz` and `/readyz` on `listener` until `shutdown` resolves.
pub async fn serve_health(listener: tokio::net::TcpListener, health: Arc<Health>, shutdown: impl Future<Output = ()> + Send + 'static) {
    let healthz = warp::path!("healthz").map(|| text(StatusCode::OK, "ok", "text/plain; charset=utf-8"));
    let readyz = warp::path!("readyz").map(move || match health.readiness() {
        Ok(()) => text(StatusCode::OK, "ok", "text/plain; charset=utf-8"),
        Err(why) => text(StatusCode::SERVICE_UNAVAILABLE, why, "text/plain; charset=utf-8"),
    });
    warp::serve(warp::get().and(healthz.or(readyz))).incoming(listener).graceful(shutdown).run().await;
}

/// Resolves on the first SIGTERM or SIGINT. The handlers are installed
/// when this is called, not when the future is first polled, so a signal
/// that arrives before the caller awaits is not lost (nor fatal).
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate()).ok();
    let int = signal(SignalKind::interrupt()).ok();
    async move {
        match (term, int) {
            (Some(mut term), Some(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}
