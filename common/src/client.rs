//! The Kubernetes client every Rudder binary uses: kube-rs's client with
//! client-go's client-side rate limiter (`--kube-api-qps`,
//! `--kube-api-burst`) in front of every request, and client-go's
//! `rest_client_*` metrics.
//!
//! The limiter is a token bucket with client-go's semantics (Go's
//! `rate.Limiter` behind `flowcontrol.NewTokenBucketRateLimiter`): it holds
//! up to `burst` tokens, refills at `qps` per second, and every request takes
//! one, waiting for it in arrival order. A request *reserves* its token on
//! arrival, so concurrent requests are spread over time instead of racing.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use kube::client::{Body, ClientBuilder};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tokio::time::Instant;
use tower::{BoxError, Layer, Service, ServiceExt};

/// A token bucket: `burst` tokens at most, `qps` new tokens per second.
#[derive(Debug)]
pub struct TokenBucket {
    qps: f64,
    burst: f64,
    state: Mutex<BucketState>,
}

#[derive(Debug)]
struct BucketState {
    /// Tokens left at `at`; negative when requests have reserved tokens
    /// that have not been minted yet.
    tokens: f64,
    at: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(qps: f64, burst: u32, now: Instant) -> TokenBucket {
        let burst = f64::from(burst.max(1));
        TokenBucket { qps, burst, state: Mutex::new(BucketState { tokens: burst, at: now }) }
    }

    /// Takes a token at `now`, and says how long its holder must wait
    /// before it may send.
    pub fn reserve(&self, now: Instant) -> Duration {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let elapsed = now.saturating_duration_since(s.at).as_secs_f64();
        s.tokens = (s.tokens + elapsed * self.qps).min(self.burst);
        s.at = now.max(s.at);
        s.tokens -= 1.0;
        if s.tokens >= 0.0 { Duration::ZERO } else { Duration::from_secs_f64(-s.tokens / self.qps) }
    }

    /// Waits for a token; returns how long it waited.
    pub async fn acquire(&self) -> Duration {
        let wait = self.reserve(Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        wait
    }
}

/// client-go's label set for latencies: the HTTP verb and the API server's host.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VerbHost {
    pub verb: String,
    pub host: String,
}

/// client-go's label set for results.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeMethodHost {
    pub code: String,
    pub method: String,
    pub host: String,
}

type Histograms = Family<VerbHost, Histogram, fn() -> Histogram>;

/// client-go's buckets for request and rate-limiter latencies.
const LATENCY_BUCKETS: [f64; 12] = [0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0];

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The `rest_client_*` metric families.
#[derive(Clone, Debug)]
pub struct ClientMetrics {
    pub requests: Family<CodeMethodHost, Counter>,
    pub request_duration: Histograms,
    pub rate_limiter_duration: Histograms,
}

impl ClientMetrics {
    /// New families, registered in `registry` under client-go's names.
    pub fn new(registry: &mut Registry) -> ClientMetrics {
        let m = ClientMetrics {
            requests: Family::default(),
            request_duration: Family::new_with_constructor(latency_histogram),
            rate_limiter_duration: Family::new_with_constructor(latency_histogram),
        };
        // prometheus-client appends `_total` to counters and `.` to help texts.
        registry.register(
            "rest_client_requests",
            "Number of HTTP requests, partitioned by status code, method, and host",
            m.requests.clone(),
        );
        registry.register(
            "rest_client_request_duration_seconds",
            "Request latency in seconds. Broken down by verb, and host",
            m.request_duration.clone(),
        );
        registry.register(
            "rest_client_rate_limiter_duration_seconds",
            "Client side rate limiter latency in seconds. Broken down by verb, and host",
            m.rate_limiter_duration.clone(),
        );
        m
    }
}

/// A tower layer putting the token bucket and the metrics in front of a
/// client's requests.
#[derive(Clone, Debug)]
pub struct RateLimitLayer {
    bucket: Arc<TokenBucket>,
    metrics: ClientMetrics,
    host: String,
}

impl RateLimitLayer {
    pub fn new(bucket: Arc<TokenBucket>, metrics: ClientMetrics, host: impl Into<String>) -> RateLimitLayer {
        RateLimitLayer { bucket, metrics, host: host.into() }
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimited<S>;
    fn layer(&self, inner: S) -> RateLimited<S> {
        RateLimited { inner, layer: self.clone() }
    }
}

/// The service [`RateLimitLayer`] makes. `S` must be cheap to clone (a
/// `tower::buffer::Buffer`): each request takes its own handle, so that a
/// request waiting for a token holds nobody else up.
#[derive(Clone, Debug)]
pub struct RateLimited<S> {
    inner: S,
    layer: RateLimitLayer,
}

impl<S, B> Service<Request<Body>> for RateLimited<S>
where
    S: Service<Request<Body>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Send + 'static,
{
    type Response = Response<B>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Response<B>, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // Readiness is checked on the handle each request takes (oneshot).
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let inner = self.inner.clone();
        let layer = self.layer.clone();
        Box::pin(async move {
            let verb = req.method().as_str().to_string();
            let labels = VerbHost { verb: verb.clone(), host: layer.host.clone() };
            let waited = layer.bucket.acquire().await;
            layer.metrics.rate_limiter_duration.get_or_create(&labels).observe(waited.as_secs_f64());
            let start = Instant::now();
            let result = inner.oneshot(req).await.map_err(Into::into);
            layer.metrics.request_duration.get_or_create(&labels).observe(start.elapsed().as_secs_f64());
            let code = match &result {
                Ok(resp) => resp.status().as_u16().to_string(),
                Err(_) => "<error>".to_string(),
            };
            layer.metrics.requests.get_or_create(&CodeMethodHost { code, method: verb, host: layer.host.clone() }).inc();
            result
        })
    }
}

/// Where the client's configuration came from failed to load.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The file could not be read (`source` is the I/O error then, so the
    /// path is named once) or its contents are not a usable kubeconfig.
    #[error("cannot load kubeconfig {path}: {source}")]
    Kubeconfig { path: String, source: Box<dyn std::error::Error + Send + Sync> },
    #[error("no Kubernetes configuration: {0}")]
    Infer(#[from] kube::config::InferConfigError),
    #[error("cannot build the Kubernetes client: {0}")]
    Build(#[from] kube::Error),
}

/// The configuration: `--kubeconfig` if given, else in-cluster, else
/// `KUBECONFIG` / `~/.kube/config` (kube-rs's inference).
pub async fn load_config(kubeconfig: Option<&Path>) -> Result<kube::Config, ClientError> {
    match kubeconfig {
        Some(path) => {
            let err = |e: kube::config::KubeconfigError| ClientError::Kubeconfig {
                path: path.display().to_string(),
                source: match e {
                    kube::config::KubeconfigError::ReadConfig(io, _) => Box::new(io),
                    other => Box::new(other),
                },
            };
            let kc = kube::config::Kubeconfig::read_from(path).map_err(err)?;
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default()).await.map_err(err)
        }
        None => Ok(kube::Config::infer().await?),
    }
}

/// A client whose every request goes through the token bucket and is
/// counted in `metrics`.
pub fn build_client(config: kube::Config, bucket: Arc<TokenBucket>, metrics: ClientMetrics) -> Result<kube::Client, ClientError> {
    let host = config.cluster_url.authority().map(|a| a.to_string()).unwrap_or_default();
    Ok(ClientBuilder::try_from(config)?
        .with_layer(&tower::buffer::BufferLayer::new(1024))
        .with_layer(&RateLimitLayer::new(bucket, metrics, host))
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_bucket_lets_a_burst_through_then_paces_at_qps() {
        let t0 = Instant::now();
        let b = TokenBucket::new(20.0, 30, t0);
        for _ in 0..30 {
            assert_eq!(b.reserve(t0), Duration::ZERO);
        }
        // The 31st waits one token's time, the 40th ten.
        assert_eq!(b.reserve(t0), Duration::from_millis(50));
        for _ in 0..8 {
            b.reserve(t0);
        }
        assert_eq!(b.reserve(t0), Duration::from_millis(500));
    }

    #[test]
    fn a_thousand_requests_at_qps_20_burst_30_take_48_and_a_half_seconds() {
        let t0 = Instant::now();
        let b = TokenBucket::new(20.0, 30, t0);
        let last = (0..1000).map(|_| b.reserve(t0)).last().unwrap_or_default();
        assert_eq!(last, Duration::from_secs_f64(970.0 / 20.0));
    }

    #[test]
    fn the_bucket_refills_but_never_above_burst() {
        let t0 = Instant::now();
        let b = TokenBucket::new(10.0, 2, t0);
        assert_eq!(b.reserve(t0), Duration::ZERO);
        assert_eq!(b.reserve(t0), Duration::ZERO);
        assert_eq!(b.reserve(t0), Duration::from_millis(100));
        // An hour idle refills to 2 tokens, not 36,000.
        let later = t0 + Duration::from_secs(3600);
        assert_eq!(b.reserve(later), Duration::ZERO);
        assert_eq!(b.reserve(later), Duration::ZERO);
        assert_eq!(b.reserve(later), Duration::from_millis(100));
    }

    #[test]
    fn metric_families_have_client_go_names() {
        let mut registry = Registry::default();
        let m = ClientMetrics::new(&mut registry);
        let labels = VerbHost { verb: "GET".into(), host: "127.0.0.1:6443".into() };
        m.rate_limiter_duration.get_or_create(&labels).observe(0.2);
        m.request_duration.get_or_create(&labels).observe(0.01);
        m.requests.get_or_create(&CodeMethodHost { code: "200".into(), method: "GET".into(), host: "127.0.0.1:6443".into() }).inc();
        let (text, _) = crate::http::render_metrics(&registry, None).expect("encodes");
        assert!(text.contains(r#"rest_client_requests_total{code="200",method="GET",host="127.0.0.1:6443"} 1"#), "{text}");
        assert!(
            text.contains(r#"rest_client_rate_limiter_duration_seconds_bucket{le="0.25",verb="GET",host="127.0.0.1:6443"} 1"#),
            "{text}"
        );
        assert!(text.contains(r#"rest_client_request_duration_seconds_count{verb="GET",host="127.0.0.1:6443"} 1"#), "{text}");
    }
}
