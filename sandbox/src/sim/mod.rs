//! Simulated nodes (in the spirit of kwok): Node objects with heartbeats
//! and kube-node-lease Leases, and the kubelet's part of the life of every
//! pod bound to them, with no containers. Only the public API is used, so
//! the simulator works against any API server.
//!
//! The scenario annotations of pods are documented in [`pod`]; node faults
//! are asked for through the API too (the [`node::STOPPED_ANNOTATION`] on a
//! Node, or taints), so that tests, kubectl and `rudder-sandbox node
//! stop|start|taint` all drive the same thing.
//!
//! When a node stops, the simulator also plays the node lifecycle
//! controller's part: after the grace period its conditions turn Unknown and
//! it gets the `node.kubernetes.io/unreachable` taints; they go when it comes back.

pub mod node;
pub mod pod;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, Taint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::watcher;
use kube::{Api, Client};
use serde_json::json;
use tracing::{info, warn};

use node::Shape;

/// The simulator's settings.
#[derive(Clone, Debug)]
pub struct SimConfig {
    pub count: usize,
    pub prefix: String,
    pub cpu: String,
    pub memory: String,
    pub pods: String,
    pub zones: Vec<String>,
    pub taints: Vec<Taint>,
    /// How often nodes heart-beat and renew their Lease (the kubelet: 10 s).
    pub heartbeat: Duration,
    /// How long a silent node stays Ready before it turns Unknown (the node
    /// lifecycle controller's --node-monitor-grace-period: 50 s).
    pub grace: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            count: 3,
            prefix: "sim-node".into(),
            cpu: "8".into(),
            memory: "32Gi".into(),
            pods: "110".into(),
            zones: vec!["zone-a".into(), "zone-b".into(), "zone-c".into()],
            taints: vec![],
            heartbeat: Duration::from_secs(10),
            grace: Duration::from_secs(50),
        }
    }
}

impl SimConfig {
    pub fn shapes(&self) -> Vec<Shape> {
        (0..self.count)
            .map(|i| Shape {
                name: format!("{}-{i}", self.prefix),
                index: i,
                cpu: self.cpu.clone(),
                memory: self.memory.clone(),
                pods: self.pods.clone(),
                zone: if self.zones.is_empty() { "zone-a".into() } else { self.zones[i % self.zones.len()].clone() },
                taints: self.taints.clone(),
            })
            .collect()
    }
}

/// Pod updates in flight at once. Bounded so that a flood of pods keeps a
/// short queue in front of the heartbeats, which share the client.
const RECONCILE_CONCURRENCY: u16 = 32;

fn ignore_conflict<T>(r: Result<T, kube::Error>) -> Result<(), kube::Error> {
    match r {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        Err(e) => Err(e),
    }
}

/// Registers the nodes (and the kube-node-lease namespace), then runs
/// heartbeats and pod lifecycles until `stop` resolves.
pub async fn run(client: Client, cfg: SimConfig, stop: impl Future<Output = ()> + Send + Sync + 'static) -> anyhow::Result<()> {
    let shapes = cfg.shapes();
    let nodes: Api<Node> = Api::all(client.clone());
    let ns = Namespace { metadata: ObjectMeta { name: Some("kube-node-lease".into()), ..Default::default() }, ..Default::default() };
    ignore_conflict(Api::<Namespace>::all(client.clone()).create(&PostParams::default(), &ns).await)?;
    for s in &shapes {
        ignore_conflict(nodes.create(&PostParams::default(), &node::node_object(s)).await)?;
    }
    info!(nodes = shapes.len(), "simulated nodes registered");

    let state = Arc::new(Sim {
        client: client.clone(),
        index: shapes.iter().map(|s| (s.name.clone(), s.index)).collect(),
        stopped: Mutex::new(HashSet::new()),
        warned: Mutex::new(HashSet::new()),
        heartbeat: cfg.heartbeat,
    });
    let beats = tokio::spawn(heartbeats(client.clone(), shapes, cfg.clone(), state.clone()));
    // Only bound pods concern a kubelet: pending pods (all of them, until a
    // scheduler binds them) are not even sent.
    Controller::new(Api::<Pod>::all(client), watcher::Config::default().fields("spec.nodeName!="))
        .with_config(controller::Config::default().concurrency(RECONCILE_CONCURRENCY))
        .graceful_shutdown_on(stop)
        .run(reconcile, error_policy, state)
        .for_each(|_| async {})
        .await;
    beats.abort();
    Ok(())
}

struct Sim {
    client: Client,
    /// Our nodes by name, with their index.
    index: HashMap<String, usize>,
    /// Nodes that are stopped now.
    stopped: Mutex<HashSet<String>>,
    /// Pods whose malformed annotations were reported.
    warned: Mutex<HashSet<String>>,
    heartbeat: Duration,
}

/// Every node heart-beats on its own, as separate kubelets would: a slow
/// answer for one node (or a flood of pod updates) never delays the others.
/// The first beat is at once; after it the nodes are spread over the period.
async fn heartbeats(client: Client, shapes: Vec<Shape>, cfg: SimConfig, sim: Arc<Sim>) {
    let n = shapes.len().max(1) as u32;
    let mut tasks = tokio::task::JoinSet::new();
    for s in shapes {
        let offset = cfg.heartbeat.saturating_mul(s.index as u32 % n + 1) / n;
        tasks.spawn(node_heartbeats(client.clone(), s, cfg.clone(), sim.clone(), offset));
    }
    // The tasks run until this future is dropped (which aborts them).
    while tasks.join_next().await.is_some() {}
}

/// One node: each period it renews its Lease and reports its status; a
/// stopped node is silent, and turns Unknown after the grace period.
async fn node_heartbeats(client: Client, s: Shape, cfg: SimConfig, sim: Arc<Sim>, offset: Duration) {
    let nodes: Api<Node> = Api::all(client.clone());
    let leases: Api<Lease> = Api::namespaced(client, "kube-node-lease");
    let grace = jiff::SignedDuration::try_from(cfg.grace).unwrap_or_default();
    let mut last_beat: Option<Timestamp> = None;
    let mut first = true;
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + offset, cfg.heartbeat.max(Duration::from_millis(1)));
    // A late beat does not make the next ones come in a burst.
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if !std::mem::take(&mut first) {
            tick.tick().await;
        }
        let now = Timestamp::now();
        let current = match nodes.get(&s.name).await {
            Ok(n) => n,
            // Deleted: nothing to report on.
            Err(kube::Error::Api(e)) if e.code == 404 => continue,
            Err(e) => {
                warn!(node = %s.name, error = %e, "heartbeat: cannot read the node");
                continue;
            }
        };
        let stopped = current.metadata.annotations.as_ref().and_then(|a| a.get(node::STOPPED_ANNOTATION)).is_some_and(|v| v == "true");
        {
            let mut set = sim.stopped.lock().unwrap_or_else(|p| p.into_inner());
            if stopped {
                set.insert(s.name.clone());
            } else {
                set.remove(&s.name);
            }
        }
        if stopped {
            let silent_since = *last_beat.get_or_insert(now);
            if now.duration_since(silent_since) >= grace
                && let Err(e) = mark_unreachable(&nodes, &current, now).await
            {
                warn!(node = %s.name, error = %e, "cannot mark the node unreachable");
            }
            continue;
        }
        last_beat = Some(now);
        if let Err(e) = beat(&nodes, &leases, &s, &current, now).await {
            warn!(node = %s.name, error = %e, "heartbeat failed");
        }
    }
}

/// Renews the node's Lease (one merge patch; created when missing) and
/// reports its status, removing the unreachable taints if it has them.
async fn beat(nodes: &Api<Node>, leases: &Api<Lease>, s: &Shape, current: &Node, now: Timestamp) -> Result<(), kube::Error> {
    let spec = LeaseSpec {
        holder_identity: Some(s.name.clone()),
        lease_duration_seconds: Some(40),
        renew_time: Some(MicroTime(now)),
        ..Default::default()
    };
    match leases.patch(&s.name, &PatchParams::default(), &Patch::Merge(json!({ "spec": spec }))).await {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 404 => {
            let lease = Lease { metadata: ObjectMeta { name: Some(s.name.clone()), ..Default::default() }, spec: Some(spec) };
            ignore_conflict(leases.create(&PostParams::default(), &lease).await)?;
        }
        Err(e) => return Err(e),
    }
    let status = node::healthy_status(s, current.status.as_ref(), now);
    nodes.patch_status(&s.name, &PatchParams::default(), &Patch::Merge(json!({ "status": status }))).await?;
    let taints = current.spec.as_ref().and_then(|sp| sp.taints.clone()).unwrap_or_default();
    if taints.iter().any(|t| t.key == node::UNREACHABLE_TAINT) {
        let kept = node::with_unreachable(&taints, false, now);
        nodes.patch(&s.name, &PatchParams::default(), &Patch::Merge(json!({ "spec": { "taints": kept } }))).await?;
    }
    Ok(())
}

async fn mark_unreachable(nodes: &Api<Node>, current: &Node, now: Timestamp) -> Result<(), kube::Error> {
    let name = current.metadata.name.as_deref().unwrap_or_default();
    let old = current.status.clone().unwrap_or_default();
    let unknown = node::unknown_status(&old, now);
    if unknown != old {
        nodes.patch_status(name, &PatchParams::default(), &Patch::Merge(json!({ "status": unknown }))).await?;
        mark_pods_not_ready(nodes, name, now).await?;
    }
    let taints = current.spec.as_ref().and_then(|sp| sp.taints.clone()).unwrap_or_default();
    if taints.iter().filter(|t| t.key == node::UNREACHABLE_TAINT).count() < 2 {
        let tainted = node::with_unreachable(&taints, true, now);
        nodes.patch(name, &PatchParams::default(), &Patch::Merge(json!({ "spec": { "taints": tainted } }))).await?;
    }
    Ok(())
}

/// The node lifecycle controller's `MarkPodsNotReady`: once a node is not
/// ready, the Ready condition of every pod on it turns False (the pods stay:
/// what happens to them is up to their controllers and taints).
async fn mark_pods_not_ready(nodes: &Api<Node>, node: &str, now: Timestamp) -> Result<(), kube::Error> {
    let pods: Api<Pod> = Api::all(nodes.clone().into_client());
    let lp = kube::api::ListParams::default().fields(&format!("spec.nodeName={node}"));
    for p in pods.list(&lp).await?.items {
        let Some(patch) = pod::not_ready_patch(&p, now) else { continue };
        let api: Api<Pod> = Api::namespaced(pods.clone().into_client(), p.metadata.namespace.as_deref().unwrap_or_default());
        match api.patch_status(p.metadata.name.as_deref().unwrap_or_default(), &PatchParams::default(), &Patch::Merge(patch)).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 || e.code == 422 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

async fn reconcile(p: Arc<Pod>, sim: Arc<Sim>) -> Result<Action, kube::Error> {
    let node_name = p.spec.as_ref().and_then(|s| s.node_name.as_deref()).unwrap_or_default();
    let Some(&index) = sim.index.get(node_name) else { return Ok(Action::await_change()) };
    if sim.stopped.lock().unwrap_or_else(|p| p.into_inner()).contains(node_name) {
        // A dead kubelet changes nothing; look again when it may be back.
        return Ok(Action::requeue(sim.heartbeat));
    }
    let (name, ns) = (p.metadata.name.clone().unwrap_or_default(), p.metadata.namespace.clone().unwrap_or_default());
    let uid = p.metadata.uid.clone().unwrap_or_default();
    let (scenario, bad) = pod::scenario(&p);
    if !bad.is_empty() && sim.warned.lock().unwrap_or_else(|p| p.into_inner()).insert(uid.clone()) {
        warn!(pod = %format!("{ns}/{name}"), problems = %bad.join("; "), "malformed scenario annotations; using the defaults");
    }
    let at = pod::Placement { node_ip: node::node_ip(index), pod_ip: node::pod_ip(index, &uid) };
    let now = Timestamp::now();
    let outcome = pod::step(&p, &scenario, &at, now);
    let api: Api<Pod> = Api::namespaced(sim.client.clone(), &ns);
    match outcome.step {
        pod::Step::Nothing => {}
        pod::Step::Status(status) => {
            let patch = json!({ "metadata": { "uid": uid }, "status": status });
            let req = kube::core::Request::new(api.resource_url()).patch_subresource(
                "status",
                &name,
                &PatchParams::default(),
                &Patch::Merge(patch),
            );
            match send(&sim.client, req).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 404 || s.code == 422 => return Ok(Action::await_change()),
                Err(e) => return Err(e),
            }
        }
        pod::Step::Delete => {
            let dp = DeleteParams {
                grace_period_seconds: Some(0),
                preconditions: Some(Preconditions { uid: Some(uid), resource_version: None }),
                ..Default::default()
            };
            match send(&sim.client, kube::core::Request::new(api.resource_url()).delete(&name, &dp)).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => {}
                Err(e) => return Err(e),
            }
            return Ok(Action::await_change());
        }
    }
    Ok(match outcome.wake {
        Some(at) => {
            Action::requeue(Duration::try_from(at.duration_since(Timestamp::now())).unwrap_or_default().max(Duration::from_millis(10)))
        }
        None => Action::await_change(),
    })
}

/// Sends a write and leaves the answer undecoded: the pod comes back
/// through the watch anyway, and with thousands of pods decoding every
/// answer is a good part of the simulator's CPU time.
async fn send(client: &Client, req: Result<http::Request<Vec<u8>>, kube::core::request::Error>) -> Result<(), kube::Error> {
    client.request_text(req.map_err(kube::Error::BuildRequest)?).await.map(|_| ())
}

fn error_policy(p: Arc<Pod>, e: &kube::Error, _sim: Arc<Sim>) -> Action {
    warn!(pod = %p.metadata.name.as_deref().unwrap_or_default(), error = %e, "simulated kubelet: cannot update the pod");
    Action::requeue(Duration::from_secs(1))
}

/// Stops (`true`) or restarts a simulated node, as `rudder-sandbox node stop|start` does.
pub async fn set_stopped(client: Client, name: &str, stopped: bool) -> Result<(), kube::Error> {
    let value = if stopped { json!("true") } else { serde_json::Value::Null };
    let patch = json!({ "metadata": { "annotations": { node::STOPPED_ANNOTATION: value } } });
    Api::<Node>::all(client).patch(name, &PatchParams::default(), &Patch::Merge(patch)).await.map(|_| ())
}

/// Adds a taint to a node (replacing one with the same key and effect).
/// The write is conditional on the node read, so that a concurrent change
/// to the taints is not lost; a conflict (a heartbeat's status update is
/// enough to cause one) is retried with the node read again.
pub async fn taint(client: Client, name: &str, taint: Taint) -> Result<(), kube::Error> {
    let nodes: Api<Node> = Api::all(client);
    let mut attempt = 0;
    loop {
        let n = nodes.get(name).await?;
        let mut taints: Vec<Taint> = n.spec.and_then(|s| s.taints).unwrap_or_default();
        taints.retain(|t| !(t.key == taint.key && t.effect == taint.effect));
        taints.push(taint.clone());
        let patch = json!({ "metadata": { "resourceVersion": n.metadata.resource_version }, "spec": { "taints": taints } });
        match nodes.patch(name, &PatchParams::default(), &Patch::Merge(patch)).await {
            Err(kube::Error::Api(s)) if s.code == 409 && attempt < 10 => attempt += 1,
            r => return r.map(|_| ()),
        }
    }
}
