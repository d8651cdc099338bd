//! The `rudder-admission-webhooks` server: the rules of this crate served
//! as admission webhooks over HTTPS, with the caches they read, the quota
//! charging that writes `status.used` before a request is admitted, and the
//! quota status reconciler.
//!
//! | path | plugin | step |
//! | --- | --- | --- |
//! | `/mutate/limitranger` | LimitRanger | admit (defaults, as a JSONPatch) |
//! | `/validate/limitranger` | LimitRanger | validate |
//! | `/validate/resourcequota` | ResourceQuota | validate (and charge) |
//! | `/validate/namespacelifecycle` | NamespaceLifecycle | validate |
//!
//! Every review gets an AdmissionReview back within the request timeout:
//! a decision, or a refusal with a Status of code 500 when the server could
//! not decide (an API error, a timeout, a bug: decisions run in their own
//! task, so even a panic becomes an answer). A body that is not an
//! AdmissionReview gets a 400 with the reason.

pub mod metrics;
pub mod quota;
pub mod tls;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use k8s_openapi::api::core::v1::{LimitRange, Namespace, ResourceQuota};
use kube::Api;
use kube::api::ListParams;
use rudder_common::cache::{Indexer, by_namespace};
use serde_json::Value;
use tokio::time::Instant;
use tracing::{debug, warn};
use warp::Filter;
use warp::http::StatusCode;

use crate::namespace_lifecycle::{self as lifecycle, Denial, NamespaceState, Operation};
use crate::review::{self, Review};
use crate::{limit_ranger, resource_quota};
use metrics::{Metrics, RejectionLabels, RequestLabels, StepLabels};

/// The index of the namespaced caches.
const BY_NAMESPACE: &str = "namespace";

/// How long a live lookup stands in for an empty cache (upstream's
/// LimitRanger and ResourceQuota `liveTTL`), and how long a namespace seen
/// deleted is read live (NamespaceLifecycle's `forceLiveLookupTTL`).
pub const LIVE_TTL: Duration = Duration::from_secs(30);

/// How long NamespaceLifecycle waits for the cache before reading a
/// namespace it does not know live (upstream's `missingNamespaceWait`).
pub const MISSING_NAMESPACE_WAIT: Duration = Duration::from_millis(50);

/// The plugins, by their kube-apiserver names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Plugin {
    LimitRanger,
    ResourceQuota,
    NamespaceLifecycle,
}

impl Plugin {
    pub const ALL: [Plugin; 3] = [Plugin::LimitRanger, Plugin::ResourceQuota, Plugin::NamespaceLifecycle];

    pub fn name(self) -> &'static str {
        match self {
            Plugin::LimitRanger => limit_ranger::PLUGIN_NAME,
            Plugin::ResourceQuota => resource_quota::PLUGIN_NAME,
            Plugin::NamespaceLifecycle => lifecycle::PLUGIN_NAME,
        }
    }

    /// The path segment (`/validate/<segment>`).
    pub fn segment(self) -> &'static str {
        match self {
            Plugin::LimitRanger => "limitranger",
            Plugin::ResourceQuota => "resourcequota",
            Plugin::NamespaceLifecycle => "namespacelifecycle",
        }
    }

    /// Parses `--plugins`: comma-separated kube-apiserver names.
    pub fn parse_list(s: &str) -> Result<Vec<Plugin>, String> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some(p) = Plugin::ALL.into_iter().find(|p| p.name() == part) else {
                let known: Vec<&str> = Plugin::ALL.iter().map(|p| p.name()).collect();
                return Err(format!("unknown plugin {part:?}; known: {}", known.join(", ")));
            };
            if !out.contains(&p) {
                out.push(p);
            }
        }
        out.sort();
        Ok(out)
    }
}

/// Mutating (`admit`) or validating (`validate`), as the metrics say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Admit,
    Validate,
}

impl Step {
    fn as_str(self) -> &'static str {
        match self {
            Step::Admit => "admit",
            Step::Validate => "validate",
        }
    }
}

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub plugins: Vec<Plugin>,
    /// How long a review may take before it is answered with a 500.
    pub request_timeout: Duration,
    /// How often the reconciler recomputes every quota's usage.
    pub quota_resync: Duration,
    /// Quotas reconciled at once.
    pub quota_workers: u16,
}

/// A live list and when it was made.
type Listed<K> = (Instant, Vec<Arc<K>>);

/// A namespaced cache backed by live lookups while it has nothing for a
/// namespace (an object created a moment ago may not be in it yet).
struct Namespaced<K> {
    cache: Indexer<K>,
    live: Mutex<HashMap<String, Listed<K>>>,
}

impl<K> Namespaced<K>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    fn new() -> Namespaced<K> {
        Namespaced { cache: Indexer::new(vec![(BY_NAMESPACE, by_namespace)]), live: Mutex::new(HashMap::new()) }
    }

    /// The namespace's objects, sorted by name.
    async fn get(&self, client: &kube::Client, ns: &str) -> Result<Vec<Arc<K>>, kube::Error> {
        let mut items = self.cache.by_index(BY_NAMESPACE, ns);
        if items.is_empty() {
            let cached = self.live.lock().unwrap_or_else(|e| e.into_inner()).get(ns).filter(|(at, _)| at.elapsed() < LIVE_TTL).cloned();
            items = match cached {
                Some((_, items)) => items,
                None => {
                    let listed = Api::<K>::namespaced(client.clone(), ns).list(&ListParams::default()).await?;
                    let items: Vec<Arc<K>> = listed.items.into_iter().map(Arc::new).collect();
                    let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
                    live.retain(|_, (at, _)| at.elapsed() < LIVE_TTL);
                    live.insert(ns.to_string(), (Instant::now(), items.clone()));
                    items
                }
            };
        }
        items.sort_by(|a, b| a.meta().name.cmp(&b.meta().name));
        Ok(items)
    }
}

/// What the handlers share.
pub struct State {
    pub client: kube::Client,
    pub config: Config,
    pub metrics: Metrics,
    namespaces: Indexer<Namespace>,
    /// Namespaces whose deletion was admitted lately, read live.
    deleted: Mutex<HashMap<String, Instant>>,
    limit_ranges: Namespaced<LimitRange>,
    quotas: Namespaced<ResourceQuota>,
    pub charger: quota::Charger,
}

fn internal(message: String) -> Denial {
    Denial::internal(&message)
}

fn operation_name(op: Operation) -> &'static str {
    match op {
        Operation::Create => "CREATE",
        Operation::Update => "UPDATE",
        Operation::Delete => "DELETE",
        Operation::Connect => "CONNECT",
    }
}

/// A decision: allowed (with the object to patch to, for mutations) or not.
type Decided = Result<Option<Value>, Denial>;

impl State {
    pub fn new(client: kube::Client, config: Config, metrics: Metrics) -> Arc<State> {
        Arc::new(State {
            client,
            config,
            metrics,
            namespaces: Indexer::new(vec![]),
            deleted: Mutex::new(HashMap::new()),
            limit_ranges: Namespaced::new(),
            quotas: Namespaced::new(),
            charger: quota::Charger::default(),
        })
    }

    pub fn enabled(&self, p: Plugin) -> bool {
        self.config.plugins.contains(&p)
    }

    /// The caches to feed (`Indexer::watch`) before serving.
    pub fn caches(&self) -> (Indexer<Namespace>, Indexer<LimitRange>, Indexer<ResourceQuota>) {
        (self.namespaces.clone(), self.limit_ranges.cache.clone(), self.quotas.cache.clone())
    }

    /// NamespaceLifecycle's view of a namespace: the cache, a second look
    /// after [`MISSING_NAMESPACE_WAIT`] for a create, then storage for a
    /// namespace it does not know or saw deleted.
    async fn namespace_state(&self, name: &str, op: Operation) -> NamespaceState {
        if !self.namespaces.synced() {
            return NamespaceState::NotReady;
        }
        let mut cached = self.namespaces.get("", name);
        let force = {
            let mut deleted = self.deleted.lock().unwrap_or_else(|e| e.into_inner());
            deleted.retain(|_, at| at.elapsed() < LIVE_TTL);
            deleted.contains_key(name)
                && cached.as_ref().is_some_and(|n| NamespaceState::of(&to_json(n.as_ref())) == NamespaceState::Active)
        };
        if cached.is_none() && op == Operation::Create {
            tokio::time::sleep(MISSING_NAMESPACE_WAIT).await;
            cached = self.namespaces.get("", name);
        }
        match cached {
            Some(n) if !force => NamespaceState::of(&to_json(n.as_ref())),
            _ => match Api::<Namespace>::all(self.client.clone()).get(name).await {
                Ok(n) => NamespaceState::of(&to_json(&n)),
                Err(kube::Error::Api(s)) if s.code == 404 => NamespaceState::NotFound,
                Err(e) => NamespaceState::Unknown(rudder_common::errors::message(&e)),
            },
        }
    }

    async fn namespace_lifecycle(&self, r: &Review) -> Decided {
        let req = lifecycle::Request {
            operation: r.operation,
            kind_group: &r.kind.0,
            kind: &r.kind.2,
            group: &r.resource.0,
            resource: &r.resource.2,
            name: &r.name,
            namespace: &r.namespace,
            object: r.object.as_ref(),
        };
        if r.operation == Operation::Delete && req.kind_group.is_empty() && req.kind == "Namespace" {
            self.deleted.lock().unwrap_or_else(|e| e.into_inner()).insert(r.name.clone(), Instant::now());
        }
        let state = if lifecycle::needs_namespace(&req) { Some(self.namespace_state(&r.namespace, r.operation).await) } else { None };
        match lifecycle::admit(&req, |_| state.unwrap_or(NamespaceState::Active)) {
            lifecycle::Decision::Allow => Ok(None),
            lifecycle::Decision::Deny(d) => Err(d),
        }
    }

    async fn limit_ranger(&self, r: &Review, step: Step) -> Decided {
        let Some(object) = r.object.as_ref() else { return Ok(None) };
        let req = limit_ranger::Request {
            operation: r.operation,
            kind: &r.kind.2,
            resource: &r.resource.2,
            subresource: &r.sub_resource,
            name: &r.name,
            object,
            old_object: r.old_object.as_ref(),
        };
        if !r.kind.0.is_empty() || !limit_ranger::handles(&req) {
            return Ok(None);
        }
        let ranges = self.limit_ranges.get(&self.client, &r.namespace).await.map_err(|e| internal(rudder_common::errors::message(&e)))?;
        if ranges.is_empty() {
            return Ok(None);
        }
        let ranges: Vec<LimitRange> = ranges.iter().map(|r| r.as_ref().clone()).collect();
        match step {
            Step::Admit => limit_ranger::mutate(&req, &ranges),
            Step::Validate => limit_ranger::validate(&req, &ranges).map(|()| None),
        }
    }

    async fn resource_quota(&self, r: &Review) -> Decided {
        let req = resource_quota::Request {
            operation: r.operation,
            group: &r.resource.0,
            version: &r.resource.1,
            resource: &r.resource.2,
            subresource: &r.sub_resource,
            namespace: &r.namespace,
            name: &r.name,
            object: r.object.as_ref(),
            old_object: r.old_object.as_ref(),
        };
        if r.namespace.is_empty() || !matches!(r.operation, Operation::Create | Operation::Update) {
            return Ok(None);
        }
        self.charger.charge(self, &req, r.dry_run).await.map(|()| None)
    }

    /// The namespace's quotas (cache, else a live list).
    pub async fn quotas_of(&self, ns: &str) -> Result<Vec<ResourceQuota>, kube::Error> {
        Ok(self.quotas.get(&self.client, ns).await?.iter().map(|q| q.as_ref().clone()).collect())
    }

    async fn decide(self: Arc<Self>, plugin: Plugin, step: Step, r: Arc<Review>) -> Decided {
        match (plugin, step) {
            (Plugin::NamespaceLifecycle, _) => self.namespace_lifecycle(&r).await,
            (Plugin::LimitRanger, step) => self.limit_ranger(&r, step).await,
            (Plugin::ResourceQuota, _) => self.resource_quota(&r).await,
        }
    }

    /// Answers one request body: the HTTP status and the JSON or text body.
    pub async fn handle(self: Arc<Self>, plugin: Plugin, step: Step, body: &[u8]) -> (StatusCode, Value) {
        let started = Instant::now();
        let r = match review::parse(body) {
            Ok(r) => Arc::new(r),
            Err(message) => {
                debug!(plugin = plugin.name(), %message, "not an admission review");
                let labels = StepLabels { name: plugin.name(), kind: step.as_str(), operation: "", rejected: true };
                self.metrics.requests.get_or_create(&RequestLabels { step: labels, code: 400 }).inc();
                return (StatusCode::BAD_REQUEST, Value::String(message));
            }
        };
        let task = tokio::spawn(self.clone().decide(plugin, step, r.clone()));
        let abort = task.abort_handle();
        let (decided, error_type) = match tokio::time::timeout(self.config.request_timeout, task).await {
            Ok(Ok(d)) => {
                let error_type = if matches!(&d, Err(d) if d.code == 500) { "calling_webhook_error" } else { "no_error" };
                (d, error_type)
            }
            Ok(Err(e)) => {
                warn!(plugin = plugin.name(), uid = %r.uid, error = %e, "the decision failed");
                (Err(internal(format!("the {} webhook failed to decide: {e}", plugin.name()))), "calling_webhook_error")
            }
            Err(_) => {
                abort.abort();
                let t = self.config.request_timeout;
                (Err(internal(format!("the {} webhook did not decide within {t:?}", plugin.name()))), "calling_webhook_error")
            }
        };
        let operation = operation_name(r.operation);
        let labels = StepLabels { name: plugin.name(), kind: step.as_str(), operation, rejected: decided.is_err() };
        self.metrics.duration.get_or_create(&labels).observe(started.elapsed().as_secs_f64());
        self.metrics.requests.get_or_create(&RequestLabels { step: labels, code: 200 }).inc();
        let answer = match decided {
            Ok(None) => review::allow(&r.uid, None),
            Ok(Some(new)) => {
                let old = r.object.clone().unwrap_or(Value::Null);
                review::allow(&r.uid, Some(&review::patch(&old, &new)))
            }
            Err(d) => {
                let labels = RejectionLabels { name: plugin.name(), kind: step.as_str(), operation, rejection_code: d.code, error_type };
                self.metrics.rejections.get_or_create(&labels).inc();
                review::deny(&r.uid, &d)
            }
        };
        (StatusCode::OK, answer)
    }
}

fn to_json<K: serde::Serialize>(o: &K) -> Value {
    serde_json::to_value(o).unwrap_or(Value::Null)
}

/// The routes: `POST /mutate/<plugin>` and `POST /validate/<plugin>`.
pub fn routes(
    state: Arc<State>,
) -> impl Filter<Extract = (warp::reply::Response,), Error = std::convert::Infallible> + Clone + Send + Sync + 'static {
    use warp::Reply;
    let state = warp::any().map(move || state.clone());
    warp::post()
        .and(warp::path::param::<String>())
        .and(warp::path::param::<String>())
        .and(warp::path::end())
        .and(warp::body::content_length_limit(review::MAX_BODY))
        .and(warp::body::bytes())
        .and(state)
        .then(|step: String, plugin: String, body: Bytes, state: Arc<State>| async move {
            let step = match step.as_str() {
                "mutate" => Step::Admit,
                "validate" => Step::Validate,
                _ => return text(StatusCode::NOT_FOUND, format!("no such path: /{step}/{plugin}")),
            };
            let Some(p) = Plugin::ALL.into_iter().find(|p| p.segment() == plugin) else {
                return text(StatusCode::NOT_FOUND, format!("no such plugin: {plugin}"));
            };
            if step == Step::Admit && p != Plugin::LimitRanger {
                return text(StatusCode::NOT_FOUND, format!("{} has no mutating webhook", p.name()));
            }
            if !state.enabled(p) {
                return text(StatusCode::NOT_FOUND, format!("the {} plugin is not enabled (--plugins)", p.name()));
            }
            match state.handle(p, step, &body).await {
                (StatusCode::OK, v) => warp::reply::with_status(warp::reply::json(&v), StatusCode::OK).into_response(),
                (code, v) => text(code, v.as_str().unwrap_or_default().to_string()),
            }
        })
        .recover(|rejection: warp::Rejection| async move {
            let (code, message) = if rejection.is_not_found() {
                (
                    StatusCode::NOT_FOUND,
                    "not found: the webhooks are POST /mutate/limitranger, /validate/{limitranger,resourcequota,namespacelifecycle}"
                        .to_string(),
                )
            } else if let Some(e) = rejection.find::<warp::reject::PayloadTooLarge>() {
                (StatusCode::BAD_REQUEST, format!("{e}: the limit is {} bytes", review::MAX_BODY))
            } else if rejection.find::<warp::reject::MethodNotAllowed>().is_some() {
                (StatusCode::METHOD_NOT_ALLOWED, "only POST is served".to_string())
            } else {
                (StatusCode::BAD_REQUEST, format!("{rejection:?}"))
            };
            Ok::<_, std::convert::Infallible>(text(code, message))
        })
        .unify()
}

fn text(code: StatusCode, message: String) -> warp::reply::Response {
    use warp::Reply;
    warp::reply::with_status(format!("{message}\n"), code).into_response()
}

/// Serves the routes over TLS on `listener` until `stop` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: Arc<tokio_rustls::rustls::ServerConfig>,
    state: Arc<State>,
    stop: impl std::future::Future<Output = ()>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let filter = routes(state);
    let mut stop = std::pin::pin!(stop);
    loop {
        let (tcp, peer): (tokio::net::TcpStream, SocketAddr) = tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let acceptor = acceptor.clone();
        let service = hyper_util::service::TowerToHyperService::new(warp::service(filter.clone()));
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => return debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => return debug!(%peer, "TLS handshake timed out"),
            };
            let io = hyper_util::rt::TokioIo::new(tls);
            let builder = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
            if let Err(e) = builder.http1_only().serve_connection(io, service).await {
                debug!(%peer, error = %e, "connection closed with an error");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugins_are_named_as_kube_apiserver_names_them() {
        assert_eq!(
            Plugin::parse_list("NamespaceLifecycle, LimitRanger,LimitRanger").unwrap(),
            [Plugin::LimitRanger, Plugin::NamespaceLifecycle]
        );
        assert_eq!(Plugin::parse_list("").unwrap(), []);
        let err = Plugin::parse_list("LimitRanger,PodSecurity").unwrap_err();
        assert_eq!(err, "unknown plugin \"PodSecurity\"; known: LimitRanger, ResourceQuota, NamespaceLifecycle");
    }
}
