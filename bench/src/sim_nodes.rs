//! `sim-nodes`: the node simulator (`rudder_sandbox::sim::run`) under load.
//!
//! The sandbox runs in a child process (as for `sandbox-objects`); the
//! simulator runs in this process on a runtime of its own, so its CPU time
//! can be told apart from the bench's own (its creates, deletes and
//! watches). N nodes register and turn Ready, then P pods already bound to
//! them (round-robin; there is no scheduler) are created: the figures are
//! the time until every pod is Running and Ready, then, after deleting them
//! all, the time until the simulated kubelets have finished every graceful
//! termination. Throughout, the nodes' Leases and Ready conditions are
//! watched, to see whether the simulator kept heart-beating on time.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::StreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{DeleteParams, PostParams};
use kube::runtime::watcher;
use kube::{Api, Client};

use crate::SandboxChild;

/// What `sim-nodes` is asked to do.
#[derive(Clone, Debug)]
pub struct Params {
    pub nodes: usize,
    pub pods: usize,
    pub concurrency: usize,
    pub heartbeat: Duration,
    pub sim_threads: usize,
}

/// CPU seconds (user + system) of the bench process, of the simulator's
/// runtime threads and of the sandbox child, at one moment.
#[derive(Clone, Copy, Debug, Default)]
struct Cpu {
    process: f64,
    sim: f64,
    server: f64,
}

impl std::ops::Sub for Cpu {
    type Output = Cpu;
    fn sub(self, o: Cpu) -> Cpu {
        Cpu { process: self.process - o.process, sim: self.sim - o.sim, server: self.server - o.server }
    }
}

/// utime + stime of a `/proc/.../stat` file, in seconds.
fn stat_cpu(path: &str) -> Option<f64> {
    rudder_common::process::parse_stat(&std::fs::read_to_string(path).ok()?).map(|(cpu, _)| cpu)
}

struct CpuProbe {
    sim_threads: Arc<Mutex<Vec<String>>>,
    server_pid: u32,
}

impl CpuProbe {
    fn read(&self) -> Cpu {
        let threads = self.sim_threads.lock().unwrap_or_else(|p| p.into_inner()).clone();
        Cpu {
            process: stat_cpu("/proc/self/stat").unwrap_or(f64::NAN),
            sim: threads.iter().map(|t| stat_cpu(&format!("/proc/self/task/{t}/stat")).unwrap_or(0.0)).sum(),
            server: stat_cpu(&format!("/proc/{}/stat", self.server_pid)).unwrap_or(f64::NAN),
        }
    }
}

/// One measured phase: how long, and the CPU spent meanwhile.
#[derive(Clone, Copy, Debug)]
struct Phase {
    wall: Duration,
    cpu: Cpu,
}

/// How the nodes heart-beat while they were watched.
#[derive(Clone, Debug, Default)]
struct Heartbeats {
    /// Lease renewals seen, and the longest time between two of one node's.
    renewals: usize,
    max_renew_gap: Duration,
    /// Nodes renewed at least twice while watched (so with a gap measured).
    renewed_twice: HashSet<String>,
    /// The oldest renewTime (now minus renewTime) seen by the sampler.
    max_lease_age: Duration,
    /// The same for the Ready condition's lastHeartbeatTime (whole seconds).
    max_ready_age: Duration,
    /// Nodes whose Ready condition was seen other than True.
    not_ready: HashSet<String>,
    samples: usize,
}

/// The figures of one run.
#[derive(Debug)]
pub struct Report {
    params: Params,
    nodes_ready: Duration,
    create: Duration,
    running: Phase,
    delete_calls: Duration,
    gone: Phase,
    beats: Heartbeats,
    /// How long the heartbeats were watched.
    watched: Duration,
}

impl Report {
    /// Whether the simulator kept up: every node stayed Ready and no Lease
    /// went unrenewed for more than 1.5 heartbeat periods.
    pub fn kept_up(&self) -> bool {
        let limit = self.params.heartbeat.mul_f64(1.5);
        let b = &self.beats;
        b.not_ready.is_empty() && b.renewed_twice.len() == self.params.nodes && b.max_renew_gap <= limit && b.max_lease_age <= limit
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rate = |n: usize, d: Duration| n as f64 / d.as_secs_f64().max(1e-9);
        let p = &self.params;
        let cpu = |ph: &Phase| {
            format!(
                "simulator {:.2} s, bench process {:.2} s (simulator, creates/deletes, watches), sandbox {:.2} s, in {:.2} s of wall time",
                ph.cpu.sim,
                ph.cpu.process,
                ph.cpu.server,
                ph.wall.as_secs_f64()
            )
        };
        writeln!(
            f,
            "sim-nodes: {} nodes, {} pods, heartbeat {:?}, simulator on {} threads in this process, sandbox in a child process",
            p.nodes, p.pods, p.heartbeat, p.sim_threads
        )?;
        writeln!(f, "  nodes Ready           {:.2?}", self.nodes_ready)?;
        writeln!(f, "  create (bound)        {:>8.0} pods/s  ({:.2?})", rate(p.pods, self.create), self.create)?;
        writeln!(
            f,
            "  Running and Ready     {:>8.0} pods/s  ({:.2?} from the first create until all {} pods were Running and Ready)",
            rate(p.pods, self.running.wall),
            self.running.wall,
            p.pods
        )?;
        writeln!(f, "    CPU                 {}", cpu(&self.running))?;
        writeln!(
            f,
            "  delete (graceful)     {:>8.0} pods/s  ({:.2?} for the deletes)",
            rate(p.pods, self.delete_calls),
            self.delete_calls
        )?;
        writeln!(
            f,
            "  gone                  {:>8.0} pods/s  ({:.2?} from the first delete until all {} pods were removed by their kubelet)",
            rate(p.pods, self.gone.wall),
            self.gone.wall,
            p.pods
        )?;
        writeln!(f, "    CPU                 {}", cpu(&self.gone))?;
        let b = &self.beats;
        writeln!(
            f,
            "  heartbeats            longest gap between two Lease renewals {:.2?} (period {:?}; {} renewals of {} nodes seen in {:.1?})",
            b.max_renew_gap,
            p.heartbeat,
            b.renewals,
            b.renewed_twice.len(),
            self.watched
        )?;
        writeln!(
            f,
            "                        oldest Lease renewTime seen {:.2?}, oldest Ready heartbeat seen {:.0?} ({} samples)",
            b.max_lease_age, b.max_ready_age, b.samples
        )?;
        let mut not_ready: Vec<_> = b.not_ready.iter().cloned().collect();
        not_ready.sort();
        writeln!(f, "                        nodes seen not Ready: {} {:?}", not_ready.len(), not_ready)?;
        writeln!(
            f,
            "  kept up               {}",
            if self.kept_up() { "yes (every node stayed Ready and renewed its Lease within 1.5 periods)" } else { "NO" }
        )
    }
}

/// Counts of the bench's pods as the pod watch sees them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct PodCounts {
    present: usize,
    ready: usize,
    /// A re-list is under way: the counts are partial.
    relisting: bool,
}

fn running_and_ready(p: &Pod) -> bool {
    let Some(s) = p.status.as_ref() else { return false };
    s.phase.as_deref() == Some("Running")
        && s.conditions.as_ref().is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Follows the bench's pods; publishes the counts after every event.
async fn track_pods(api: Api<Pod>, tx: tokio::sync::watch::Sender<PodCounts>) {
    let mut present: HashSet<String> = HashSet::new();
    let mut ready: HashSet<String> = HashSet::new();
    let mut relisting = false;
    let cfg = watcher::Config::default().labels("app=sim-bench");
    let mut events = watcher::watcher(api, cfg).boxed();
    while let Some(ev) = events.next().await {
        match ev {
            Ok(watcher::Event::Init) => {
                relisting = true;
                present.clear();
                ready.clear();
            }
            Ok(watcher::Event::InitDone) => relisting = false,
            Ok(watcher::Event::Apply(p) | watcher::Event::InitApply(p)) => {
                let name = p.metadata.name.clone().unwrap_or_default();
                if running_and_ready(&p) {
                    ready.insert(name.clone());
                } else {
                    ready.remove(&name);
                }
                present.insert(name);
            }
            Ok(watcher::Event::Delete(p)) => {
                let name = p.metadata.name.clone().unwrap_or_default();
                ready.remove(&name);
                present.remove(&name);
            }
            Err(e) => eprintln!("rudder-bench: pod watch: {e}"),
        }
        tx.send_replace(PodCounts { present: present.len(), ready: ready.len(), relisting });
    }
}

pub(crate) fn ready_condition(n: &Node) -> Option<&k8s_openapi::api::core::v1::NodeCondition> {
    n.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == "Ready")
}

fn since(t: jiff::Timestamp, now: jiff::Timestamp) -> Duration {
    Duration::try_from(now.duration_since(t)).unwrap_or_default()
}

/// Watches the simulated nodes' Leases and Node objects, and samples how old
/// their last heartbeats are every 200 ms, until aborted.
async fn track_heartbeats(client: Client, prefix: String, stats: Arc<Mutex<Heartbeats>>) {
    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
    let nodes: Api<Node> = Api::all(client);
    let mut lease_events = watcher::watcher(leases, watcher::Config::default()).boxed();
    let mut node_events = watcher::watcher(nodes, watcher::Config::default().labels("type=rudder-sim")).boxed();
    let mut renewed: HashMap<String, jiff::Timestamp> = HashMap::new();
    let mut beat: HashMap<String, jiff::Timestamp> = HashMap::new();
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let ours = |name: &Option<String>| name.as_deref().is_some_and(|n| n.starts_with(&prefix));
    loop {
        tokio::select! {
            Some(ev) = lease_events.next() => {
                let Ok(watcher::Event::Apply(l) | watcher::Event::InitApply(l)) = ev else { continue };
                if !ours(&l.metadata.name) {
                    continue;
                }
                let Some(t) = l.spec.and_then(|s| s.renew_time).map(|t| t.0) else { continue };
                let name = l.metadata.name.unwrap_or_default();
                let mut s = stats.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(prev) = renewed.insert(name.clone(), t)
                    && t > prev
                {
                    s.renewals += 1;
                    s.max_renew_gap = s.max_renew_gap.max(since(prev, t));
                    s.renewed_twice.insert(name);
                }
            }
            Some(ev) = node_events.next() => {
                let Ok(watcher::Event::Apply(n) | watcher::Event::InitApply(n)) = ev else { continue };
                if !ours(&n.metadata.name) {
                    continue;
                }
                let name = n.metadata.name.clone().unwrap_or_default();
                let Some(c) = ready_condition(&n) else { continue };
                if c.status != "True" {
                    stats.lock().unwrap_or_else(|p| p.into_inner()).not_ready.insert(name.clone());
                }
                if let Some(t) = c.last_heartbeat_time.as_ref() {
                    beat.insert(name, t.0);
                }
            }
            _ = tick.tick() => {
                let now = jiff::Timestamp::now();
                let mut s = stats.lock().unwrap_or_else(|p| p.into_inner());
                s.samples += 1;
                if let Some(age) = renewed.values().map(|t| since(*t, now)).max() {
                    s.max_lease_age = s.max_lease_age.max(age);
                }
                if let Some(age) = beat.values().map(|t| since(*t, now)).max() {
                    s.max_ready_age = s.max_ready_age.max(age);
                }
            }
        }
    }
}

fn bound_pod(i: usize, node: &str) -> Pod {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": format!("sim-bench-{i}"), "labels": {"app": "sim-bench"}},
        "spec": {"nodeName": node,
                 "containers": [{"name": "main", "image": "registry.k8s.io/pause:3.10",
                                 "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}
    }))
    .unwrap_or_default()
}

/// Runs `f` for every index with `concurrency` calls in flight.
async fn for_each_concurrent<F, Fut>(n: usize, concurrency: usize, f: F) -> anyhow::Result<()>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<(), kube::Error>>,
{
    let mut results = futures::stream::iter(0..n).map(f).buffer_unordered(concurrency.max(1));
    while let Some(r) = results.next().await {
        r?;
    }
    Ok(())
}

/// Waits until `done` holds for the pod counts, or fails naming `what`.
async fn wait_for_pods(
    rx: &mut tokio::sync::watch::Receiver<PodCounts>,
    deadline: Duration,
    what: &str,
    done: impl Fn(&PodCounts) -> bool,
) -> anyhow::Result<()> {
    let outcome = tokio::time::timeout(deadline, rx.wait_for(|c| !c.relisting && done(c))).await.map(|r| r.is_ok());
    match outcome {
        Ok(true) => Ok(()),
        Ok(false) => bail!("the pod watch ended"),
        Err(_) => bail!("{what}: not within {deadline:?} ({:?})", *rx.borrow()),
    }
}

pub async fn run(p: Params) -> anyhow::Result<Report> {
    if p.nodes == 0 {
        bail!("--nodes must be at least 1");
    }
    let sandbox = SandboxChild::start().await?;
    let client = sandbox.client()?;
    let sim_config = sandbox.config()?;

    // The simulator on a runtime of its own, whose threads' CPU time is read
    // from /proc/self/task/<tid>/stat. (No `?` from here until it is shut
    // down: a runtime must not be dropped inside another one.)
    let sim_threads: Arc<Mutex<Vec<String>>> = Arc::default();
    let recorded = sim_threads.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(p.sim_threads.max(1))
        .thread_name("rudder-sim")
        .enable_all()
        .on_thread_start(move || {
            if let Some(tid) =
                std::fs::read_link("/proc/thread-self").ok().and_then(|l| l.file_name().map(|t| t.to_string_lossy().into_owned()))
            {
                recorded.lock().unwrap_or_else(|p| p.into_inner()).push(tid);
            }
        })
        .build()
        .context("cannot build the simulator's runtime")?;
    let probe = CpuProbe { sim_threads, server_pid: sandbox.pid };
    let cfg = rudder_sandbox::sim::SimConfig {
        count: p.nodes,
        heartbeat: p.heartbeat,
        grace: p.heartbeat.saturating_mul(5),
        ..Default::default()
    };
    let prefix = cfg.prefix.clone();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let sim = rt.spawn(async move {
        // The client is built here so that its connections live on this runtime.
        let client = Client::try_from(sim_config)?;
        rudder_sandbox::sim::run(client, cfg, async move {
            let _ = stop_rx.await;
        })
        .await
    });

    let result = measure(&p, client, &prefix, &probe).await;

    let _ = stop_tx.send(());
    let stopped = tokio::time::timeout(Duration::from_secs(10), sim).await;
    rt.shutdown_background();
    sandbox.stop().await?;
    match stopped {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => bail!("the simulator failed: {}", rudder_common::runtime::chain(e.as_ref())),
        Ok(Err(e)) => bail!("the simulator panicked: {e}"),
        Err(_) => bail!("the simulator did not stop"),
    }
    result
}

async fn measure(p: &Params, client: Client, prefix: &str, probe: &CpuProbe) -> anyhow::Result<Report> {
    let nodes: Api<Node> = Api::all(client.clone());
    let start = Instant::now();
    let names: Vec<String> = (0..p.nodes).map(|i| format!("{prefix}-{i}")).collect();
    let deadline = start + Duration::from_secs(60) + p.heartbeat.saturating_mul(3);
    loop {
        let list = nodes.list(&kube::api::ListParams::default().labels("type=rudder-sim")).await?;
        let ready: HashSet<&str> = list.items.iter().filter(|n| crate::node_ready(n)).filter_map(|n| n.metadata.name.as_deref()).collect();
        if names.iter().all(|n| ready.contains(n.as_str())) {
            break;
        }
        if Instant::now() > deadline {
            bail!("only {} of {} nodes turned Ready", ready.len(), p.nodes);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let nodes_ready = start.elapsed();

    let stats = Arc::new(Mutex::new(Heartbeats::default()));
    let watch_start = Instant::now();
    let beats = tokio::spawn(track_heartbeats(client.clone(), prefix.to_string(), stats.clone()));
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let (tx, mut rx) = tokio::sync::watch::channel(PodCounts { relisting: true, ..Default::default() });
    let tracker = tokio::spawn(track_pods(pods.clone(), tx));
    let result = async {
        wait_for_pods(&mut rx, Duration::from_secs(30), "the pod watch", |_| true).await?;
        let patience = Duration::from_secs(120) + Duration::from_millis(20).saturating_mul(p.pods as u32);

        let (start, cpu0) = (Instant::now(), probe.read());
        for_each_concurrent(p.pods, p.concurrency, |i| {
            let (pods, pod) = (pods.clone(), bound_pod(i, &names[i % names.len()]));
            async move { pods.create(&PostParams::default(), &pod).await.map(|_| ()) }
        })
        .await
        .context("a create failed")?;
        let create = start.elapsed();
        wait_for_pods(&mut rx, patience, "every pod Running and Ready", |c| c.ready == p.pods).await?;
        let running = Phase { wall: start.elapsed(), cpu: probe.read() - cpu0 };

        let (start, cpu0) = (Instant::now(), probe.read());
        for_each_concurrent(p.pods, p.concurrency, |i| {
            let pods = pods.clone();
            async move {
                match pods.delete(&format!("sim-bench-{i}"), &DeleteParams::default()).await {
                    Ok(_) => Ok(()),
                    Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
                    Err(e) => Err(e),
                }
            }
        })
        .await
        .context("a delete failed")?;
        let delete_calls = start.elapsed();
        wait_for_pods(&mut rx, patience, "every pod gone", |c| c.present == 0).await?;
        let gone = Phase { wall: start.elapsed(), cpu: probe.read() - cpu0 };

        // A short load may end before every node renewed its Lease twice:
        // watch on until each has (or a Lease is clearly overdue).
        let deadline = Instant::now() + p.heartbeat.saturating_mul(3);
        while stats.lock().unwrap_or_else(|p| p.into_inner()).renewed_twice.len() < p.nodes && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::Ok((create, running, delete_calls, gone))
    }
    .await;
    tracker.abort();
    beats.abort();
    let (create, running, delete_calls, gone) = result?;
    let watched = watch_start.elapsed();
    let beats = stats.lock().unwrap_or_else(|p| p.into_inner()).clone();
    Ok(Report { params: p.clone(), nodes_ready, create, running, delete_calls, gone, beats, watched })
}
