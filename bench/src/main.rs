//! `rudder-bench`: Rudder's benchmarks. Each scenario is a subcommand that
//! prints its figures and, with `--out DIR`, writes them as a JSON record,
//! a plot and a Markdown table (`record`); `suite` runs every scenario at
//! one size into `bench/results/`. None asserts a timing.
//!
//! ```sh
//! cargo run --release -p rudder-bench -- suite                     # every scenario, default sizes
//! cargo run --release -p rudder-bench -- replicaset-scale --replicasets 100 --replicas 100
//! cargo run --release -p rudder-bench -- scheduler-throughput --shape spread
//! cargo run --release -p rudder-bench -- suite --target-kubeconfig ~/.kube/config \
//!     --component kube-controller-manager=http://127.0.0.1:8001/...   # a real cluster
//! cargo run --release -p rudder-bench -- sim-nodes --nodes 100 --pods 10000
//! cargo run --release -p rudder-bench -- client-rate-limit --requests 1000 --qps 20 --burst 30
//! ```

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{ListParams, PostParams, WatchEvent, WatchParams};
use tokio::io::{AsyncBufReadExt, BufReader};

mod admission;
mod ceiling;
mod cluster;
mod daemonset;
mod deployment;
mod hpa;
mod job;
mod plot;
mod record;
mod replicaset;
mod scheduler;
mod sim_nodes;
mod suite;

use cluster::Target;
use suite::Run;

#[derive(Parser)]
#[command(name = "rudder-bench", about = "Rudder's benchmarks: they print figures, they assert no timings")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where a scenario runs and where its record goes.
#[derive(Args, Clone, Debug, Default)]
struct Common {
    /// Also write the record (JSON), its plot (SVG) and the table of every
    /// record there (README.md) into this directory.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Run against this cluster instead of the sandbox: the components
    /// under test already run there, each named with --component.
    #[arg(long, value_name = "PATH")]
    target_kubeconfig: Option<PathBuf>,
    /// A component to measure on the target cluster, by its metrics URL
    /// (plain HTTP, for example through `kubectl proxy`); repeatable.
    #[arg(long, value_name = "NAME=URL", value_parser = cluster::parse_component, requires = "target_kubeconfig")]
    component: Vec<(String, String)>,
}

impl Common {
    fn target(&self) -> Target {
        match &self.target_kubeconfig {
            Some(path) => Target::Cluster { kubeconfig: path.clone(), components: self.component.iter().cloned().collect() },
            None => Target::Sandbox,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Every scenario at one size, one after the other; the records, plots
    /// and table go to --out (default bench/results).
    Suite {
        #[arg(long, value_enum, default_value = "default")]
        size: suite::Size,
        /// Only these scenarios (comma-separated names).
        #[arg(long, value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(suite::SCENARIOS))]
        only: Vec<String>,
        /// The schedulerName of the scheduler scenarios' pods (on a real
        /// cluster: default-scheduler measures kube-scheduler).
        #[arg(long, default_value = "rudder-scheduler")]
        scheduler_name: String,
        /// Afterwards, rewrite the table between the rudder-bench markers
        /// of this README with every record in the results directory.
        #[arg(long, value_name = "PATH")]
        readme: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// The sandbox API server, in a child process: N pod creates, a full
    /// list, a paginated list and a watch from resourceVersion 0: objects/s
    /// for each and the server's peak RSS after each phase.
    SandboxObjects {
        /// How many pods to create.
        #[arg(long, default_value_t = 10_000)]
        pods: usize,
        /// Creates in flight at once.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        #[command(flatten)]
        common: Common,
    },
    /// N ReplicaSets of R replicas created at once: the time until every
    /// pod is Ready (rudder-replicaset-controller and rudder-scheduler on
    /// simulated nodes).
    #[command(alias = "replicaset")]
    ReplicasetScale {
        #[arg(long, default_value_t = 20)]
        replicasets: usize,
        #[arg(long, default_value_t = 100)]
        replicas: usize,
        /// Simulated nodes (250 pods each; default: room for every pod).
        #[arg(long)]
        nodes: Option<usize>,
        #[command(flatten)]
        common: Common,
    },
    /// N Deployments of R replicas created at once, then all their
    /// templates changed at once: the time until every rollout is complete
    /// (rudder-deployment-controller, rudder-replicaset-controller and
    /// rudder-scheduler on simulated nodes).
    #[command(alias = "deployment")]
    DeploymentRollout {
        #[arg(long, default_value_t = 50)]
        deployments: usize,
        #[arg(long, default_value_t = 20)]
        replicas: usize,
        /// Simulated nodes (250 pods each; default: room for every pod).
        #[arg(long)]
        nodes: Option<usize>,
        #[command(flatten)]
        common: Common,
    },
    /// One DaemonSet over N simulated nodes, then its template changed: the
    /// time until a pod is available on every node and until the new
    /// template is (rudder-daemonset-controller and rudder-scheduler).
    #[command(alias = "daemonset")]
    DaemonsetRollout {
        #[arg(long, default_value_t = 500)]
        nodes: usize,
        /// The rolling update's maxUnavailable (a number or a percentage).
        #[arg(long, default_value = "10%")]
        max_unavailable: String,
        #[command(flatten)]
        common: Common,
    },
    /// N Jobs of C completions created at once, their pods running 1 s
    /// each: the time until every Job is Complete (rudder-job-controller and
    /// rudder-scheduler on simulated nodes).
    #[command(alias = "job")]
    JobThroughput {
        #[arg(long, default_value_t = 100)]
        jobs: usize,
        #[arg(long, default_value_t = 20)]
        completions: usize,
        /// Pods of one Job running at once.
        #[arg(long, default_value_t = 10)]
        parallelism: usize,
        /// Simulated nodes (250 pods each; default: room for every pod).
        #[arg(long)]
        nodes: Option<usize>,
        #[command(flatten)]
        common: Common,
    },
    /// N nodes and P pending pods: pods bound per second (rudder-scheduler).
    #[command(alias = "scheduler")]
    SchedulerThroughput {
        #[arg(long, default_value_t = 500)]
        nodes: usize,
        #[arg(long, default_value_t = 2000)]
        pods: usize,
        /// plain, spread (zone topology spread per group) or anti-affinity
        /// (required, by hostname, per group).
        #[arg(long, value_enum, default_value = "plain")]
        shape: scheduler::Shape,
        /// Pods per group.
        #[arg(long, default_value_t = 10)]
        group: usize,
        /// The pods' schedulerName.
        #[arg(long, default_value = "rudder-scheduler")]
        scheduler_name: String,
        #[command(flatten)]
        common: Common,
    },
    /// N HorizontalPodAutoscalers at target: the time until every one
    /// synced once and the CPU time of a sync of all (rudder-hpa-controller).
    #[command(alias = "hpa")]
    HpaSync {
        #[arg(long, default_value_t = 1000)]
        hpas: usize,
        /// Simulated nodes (250 pods each; default: room for every pod).
        #[arg(long)]
        nodes: Option<usize>,
        /// The controller's sync period, in seconds.
        #[arg(long, default_value_t = 5)]
        sync_period: u64,
        /// Sync periods the CPU time is measured over.
        #[arg(long, default_value_t = 3)]
        periods: u64,
        #[command(flatten)]
        common: Common,
    },
    /// AdmissionReviews of pod creates at a fixed rate over the four
    /// webhooks of rudder-admission-webhooks (the quota ones charging for
    /// real): latency p50/p99/p999 per webhook, reviews per second per core.
    #[command(alias = "admission")]
    AdmissionLatency {
        /// Reviews per second.
        #[arg(long, default_value_t = 1000)]
        rate: u64,
        /// Seconds of load.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[command(flatten)]
        common: Common,
    },
    /// Diagnostics: the node simulator (`rudder_sandbox::sim`, in this
    /// process) against the sandbox (in a child process): N nodes, then P
    /// pods bound to them round-robin; pods/s until all are Running and
    /// Ready and until all are gone after a graceful delete, the CPU time
    /// spent, and whether the nodes kept heart-beating on time meanwhile.
    SimNodes {
        #[arg(long, default_value_t = 100)]
        nodes: usize,
        #[arg(long, default_value_t = 10_000)]
        pods: usize,
        /// Creates (and deletes) in flight at once.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// The nodes' heartbeat and Lease renewal period (the kubelet's: 10s).
        #[arg(long, default_value = "10s", value_parser = rudder_common::flags::parse_duration)]
        heartbeat: Duration,
        /// Worker threads of the simulator's runtime.
        #[arg(long, default_value_t = 2)]
        sim_threads: usize,
    },
    /// Diagnostics: Rudder's client-side rate limiter (`--kube-api-qps`,
    /// `--kube-api-burst`): a burst of N requests at once against the
    /// sandbox; the client time it took and what
    /// `rest_client_rate_limiter_duration_seconds` recorded.
    ClientRateLimit {
        #[arg(long, default_value_t = 1000)]
        requests: usize,
        #[arg(long, default_value_t = 20.0)]
        qps: f64,
        #[arg(long, default_value_t = 30)]
        burst: u32,
    },
    /// Internal: serve a sandbox and print its URL (the child of every scenario).
    #[command(hide = true)]
    Serve,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve) {
        // The simulator's warnings, if any. Not for the sandbox child,
        // whose connections are cut when it is stopped.
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
            .with_writer(std::io::stderr)
            .init();
    }
    let (run, common) = match cli.command {
        Command::Suite { size, only, scheduler_name, readme, common } => {
            let runs = suite::plan(size, &scheduler_name).into_iter().filter(|r| only.is_empty() || only.iter().any(|o| o == r.scenario()));
            let out = common.out.clone().unwrap_or_else(|| PathBuf::from("bench/results"));
            let ran = suite::run(runs.collect(), &common.target(), &out).await;
            let readme = match readme {
                Some(path) => record::read_all(&out).and_then(|records| {
                    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
                    Ok(std::fs::write(&path, record::update_readme(&text, &records)?)?)
                }),
                None => Ok(()),
            };
            exit(ran.and(readme));
        }
        Command::SandboxObjects { pods, concurrency, common } => (Run::SandboxObjects { pods, concurrency }, common),
        Command::ReplicasetScale { replicasets, replicas, nodes, common } => {
            let nodes = nodes.unwrap_or_else(|| suite::nodes_for(replicasets * replicas));
            (Run::Replicaset(replicaset::Params { replicasets, replicas, nodes }), common)
        }
        Command::DeploymentRollout { deployments, replicas, nodes, common } => {
            let nodes = nodes.unwrap_or_else(|| suite::nodes_for(deployments * replicas * 5 / 4));
            (Run::Deployment(deployment::Params { deployments, replicas, nodes }), common)
        }
        Command::DaemonsetRollout { nodes, max_unavailable, common } => {
            (Run::Daemonset(daemonset::Params { nodes, max_unavailable }), common)
        }
        Command::JobThroughput { jobs, completions, parallelism, nodes, common } => {
            let nodes = nodes.unwrap_or_else(|| suite::nodes_for(jobs * parallelism.min(completions)));
            (Run::Job(job::Params { jobs, completions, parallelism, nodes }), common)
        }
        Command::SchedulerThroughput { nodes, pods, shape, group, scheduler_name, common } => {
            (Run::Scheduler(scheduler::Params { nodes, pods, shape, group, scheduler_name }), common)
        }
        Command::HpaSync { hpas, nodes, sync_period, periods, common } => {
            let nodes = nodes.unwrap_or_else(|| suite::nodes_for(hpas));
            (Run::Hpa(hpa::Params { hpas, nodes, sync_period, periods }), common)
        }
        Command::AdmissionLatency { rate, seconds, common } => (Run::Admission(admission::Params { rate, seconds }), common),
        Command::SimNodes { nodes, pods, concurrency, heartbeat, sim_threads } => {
            exit(sim_nodes::run(sim_nodes::Params { nodes, pods, concurrency, heartbeat, sim_threads }).await.map(|r| print!("{r}")))
        }
        Command::ClientRateLimit { requests, qps, burst } => exit(client_rate_limit(requests, qps, burst).await.map(|r| print!("{r}"))),
        Command::Serve => exit(serve().await),
    };
    let result = async {
        let record = run.run(&common.target()).await?;
        print!("{record}");
        if let Some(out) = &common.out {
            record::write(out, &record)?;
        }
        Ok(())
    };
    exit(result.await)
}

/// Exits 0, or 1 after printing the error.
fn exit(result: anyhow::Result<()>) -> ! {
    if let Err(e) = result {
        eprintln!("rudder-bench: {}", rudder_common::runtime::chain(e.as_ref()));
        std::process::exit(1);
    }
    std::process::exit(0)
}

/// Whether a Node's Ready condition is True.
pub(crate) fn node_ready(node: &k8s_openapi::api::core::v1::Node) -> bool {
    sim_nodes::ready_condition(node).is_some_and(|c| c.status == "True")
}

async fn serve() -> anyhow::Result<()> {
    let sandbox = rudder_sandbox::Sandbox::start().await?;
    println!("{}", sandbox.url());
    // Serve until the parent closes our stdin (or kills us).
    let mut line = String::new();
    let _ = BufReader::new(tokio::io::stdin()).read_line(&mut line).await;
    sandbox.stop().await;
    Ok(())
}

/// The figures of one run.
#[derive(Debug)]
struct Report {
    pods: usize,
    create: Duration,
    list: Duration,
    listed: usize,
    paged: Duration,
    paged_listed: usize,
    watch: Duration,
    watched: usize,
    peak_rss_kib: Option<u64>,
    rss_kib: Option<u64>,
    /// The server's peak RSS at the end of each phase (the high-water
    /// mark: which phase raised it).
    peaks: Vec<(&'static str, Option<u64>)>,
    /// The server's CPU time.
    cpu_seconds: f64,
}

impl Report {
    /// The figures as the suite's record.
    fn record(&self) -> record::Record {
        let rate = |n: usize, d: Duration| n as f64 / d.as_secs_f64().max(1e-9);
        let mib = |k: Option<u64>| k.map(|k| k as f64 / 1024.0);
        let mut r = record::Record::new("sandbox-objects", None, &[("pods", self.pods.to_string())], "sandbox");
        r.phase(&format!("create {} pods", self.pods), Some(self.create));
        r.phase(&format!("list them (one page, {} items)", self.listed), Some(self.list));
        r.phase(&format!("list them (limit=500, {} items)", self.paged_listed), Some(self.paged));
        r.phase(&format!("watch from rv 0 ({} events)", self.watched), Some(self.watch));
        r.converged_seconds = Some(self.create.as_secs_f64());
        r.figure("create", rate(self.pods, self.create), "objects/s", true);
        r.figure("list (one page)", rate(self.listed, self.list), "objects/s", true);
        r.figure("list (limit=500)", rate(self.paged_listed, self.paged), "objects/s", false);
        r.figure("watch from rv 0", rate(self.watched, self.watch), "objects/s", false);
        for (phase, k) in &self.peaks {
            r.figure(&format!("peak RSS after {phase}"), mib(*k).unwrap_or(-1.0), "MiB", false);
        }
        r.figure("server peak RSS", mib(self.peak_rss_kib).unwrap_or(-1.0), "MiB", true);
        r.figure("server RSS at the end", mib(self.rss_kib).unwrap_or(-1.0), "MiB", false);
        r.api_server = Some(record::Component {
            name: "sandbox".into(),
            cpu_seconds: Some(self.cpu_seconds),
            peak_rss_mib: mib(self.peak_rss_kib),
            api_requests: Default::default(),
        });
        r
    }
}

/// A process's CPU time (user + system) so far, in seconds.
pub(crate) fn cpu_seconds(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).ok().and_then(|s| rudder_common::process::parse_stat(&s)).map_or(0.0, |(c, _)| c)
}

/// Starts a Rudder binary (next to this one, else on PATH) against
/// `kubeconfig`: leader election and metrics off, health on a free port,
/// stderr to `log`, then `extra`; returns it with its pid once its
/// `/readyz` answers 200 (its caches are listed).
pub(crate) async fn start_component(
    name: &str,
    kubeconfig: &std::path::Path,
    log: &std::path::Path,
    extra: &[String],
) -> anyhow::Result<(tokio::process::Child, u32, String)> {
    let bin = rudder_sandbox::up::find_binary(name, None)?;
    let health = format!("127.0.0.1:{}", rudder_sandbox::up::free_port()?);
    let metrics = format!("127.0.0.1:{}", rudder_sandbox::up::free_port()?);
    let mut child = tokio::process::Command::new(&bin)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--leader-elect=false")
        .arg(format!("--metrics-bind-address={metrics}"))
        .arg(format!("--health-probe-bind-address={health}"))
        .args(extra)
        .stderr(std::fs::File::create(log)?)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let pid = child.id().with_context(|| format!("{name} has no pid"))?;
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait()? {
            bail!("{name} exited ({status}); see {}", log.display());
        }
        if rudder_sandbox::up::probe(&health, "/readyz").await == Some(200) {
            return Ok((child, pid, metrics));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("{name} not ready after 120 s; see {}", log.display())
}

/// A `VmHWM`/`VmRSS` figure of a process, in KiB.
pub(crate) fn proc_status_kib(pid: u32, key: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines().find_map(|l| l.strip_prefix(key)?.trim().strip_suffix("kB")?.trim().parse().ok())
}

fn pod(i: usize) -> Pod {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": format!("bench-{i}"), "labels": {"app": "bench", "shard": (i % 16).to_string()}},
        "spec": {"containers": [{"name": "main", "image": "registry.k8s.io/pause:3.10",
                                 "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}
    }))
    .unwrap_or_default()
}

/// A sandbox served by a child process (this binary's hidden `serve`
/// command), so that its CPU time and RSS are its own.
pub(crate) struct SandboxChild {
    child: tokio::process::Child,
    pub(crate) pid: u32,
    url: String,
    /// Kept open: the child's stdout after the URL.
    _out: BufReader<tokio::process::ChildStdout>,
}

impl SandboxChild {
    pub(crate) async fn start() -> anyhow::Result<SandboxChild> {
        let exe = std::env::current_exe().context("cannot find this binary")?;
        let mut child = tokio::process::Command::new(exe)
            .arg("serve")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start the sandbox child")?;
        let pid = child.id().context("the sandbox child has no pid")?;
        let mut out = BufReader::new(child.stdout.take().context("no stdout")?);
        let mut url = String::new();
        tokio::time::timeout(Duration::from_secs(30), out.read_line(&mut url)).await.context("the sandbox did not start")??;
        let url = url.trim().to_string();
        if !url.starts_with("http://") {
            bail!("the sandbox child printed {url:?}, not its URL");
        }
        Ok(SandboxChild { child, pid, url, _out: out })
    }

    /// Its URL, `http://127.0.0.1:PORT`.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// A client configuration for it, default namespace `default`.
    pub(crate) fn config(&self) -> anyhow::Result<kube::Config> {
        let mut cfg = kube::Config::new(self.url.parse()?);
        cfg.default_namespace = "default".into();
        Ok(cfg)
    }

    pub(crate) fn client(&self) -> anyhow::Result<kube::Client> {
        Ok(kube::Client::try_from(self.config()?)?)
    }

    /// Closes its stdin, which stops it; kills it if it does not stop.
    pub(crate) async fn stop(mut self) -> anyhow::Result<()> {
        drop(self.child.stdin.take());
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await.is_err() {
            self.child.kill().await.context("cannot stop the sandbox child")?;
        }
        Ok(())
    }
}

/// Runs the benchmark against a sandbox in a child process, so the RSS
/// measured is the server's alone.
pub(crate) async fn sandbox_objects(pods: usize, concurrency: usize) -> anyhow::Result<Report> {
    let sandbox = SandboxChild::start().await?;
    let pid = sandbox.pid;
    let api: Api<Pod> = Api::namespaced(sandbox.client()?, "default");

    let start = Instant::now();
    futures::stream::iter(0..pods)
        .map(|i| {
            let api = api.clone();
            async move { api.create(&PostParams::default(), &pod(i)).await }
        })
        .buffer_unordered(concurrency.max(1))
        .try_for_each(|_| async { Ok(()) })
        .await
        .context("a create failed")?;
    let create = start.elapsed();
    let mut peaks = vec![("create", proc_status_kib(pid, "VmHWM:"))];

    let start = Instant::now();
    let listed = api.list(&ListParams::default()).await?.items.len();
    let list = start.elapsed();
    peaks.push(("list", proc_status_kib(pid, "VmHWM:")));

    let start = Instant::now();
    let mut paged_listed = 0;
    let mut lp = ListParams::default().limit(500);
    loop {
        let page = api.list(&lp).await?;
        paged_listed += page.items.len();
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => lp = lp.continue_token(&c),
            None => break,
        }
    }
    let paged = start.elapsed();
    peaks.push(("paged list", proc_status_kib(pid, "VmHWM:")));

    let start = Instant::now();
    let mut watched = 0;
    let mut events = api.watch(&WatchParams::default().timeout(290), "0").await?.boxed();
    while watched < pods {
        match tokio::time::timeout(Duration::from_secs(60), events.try_next()).await.context("the watch stalled")?? {
            Some(WatchEvent::Added(_)) => watched += 1,
            Some(WatchEvent::Error(e)) => bail!("the watch failed: {e:?}"),
            Some(_) => {}
            None => break,
        }
    }
    let watch = start.elapsed();
    drop(events);
    peaks.push(("watch", proc_status_kib(pid, "VmHWM:")));

    let peak_rss_kib = proc_status_kib(pid, "VmHWM:");
    let rss_kib = proc_status_kib(pid, "VmRSS:");
    let cpu_seconds = cpu_seconds(pid);
    sandbox.stop().await?;
    Ok(Report { pods, create, list, listed, paged, paged_listed, watch, watched, peak_rss_kib, rss_kib, peaks, cpu_seconds })
}

/// A burst of `requests` GETs, all issued at once through Rudder's client.
async fn client_rate_limit(requests: usize, qps: f64, burst: u32) -> anyhow::Result<String> {
    use rudder_common::client::{ClientMetrics, TokenBucket, build_client};
    if !(qps > 0.0 && qps.is_finite()) || burst == 0 {
        bail!("--qps must be greater than zero and --burst at least 1");
    }
    let sandbox = rudder_sandbox::Sandbox::start().await?;
    let mut config = kube::Config::new(sandbox.url().parse().context("sandbox URL")?);
    config.default_namespace = "default".into();
    let mut registry = prometheus_client::registry::Registry::default();
    let metrics = ClientMetrics::new(&mut registry);
    let bucket = std::sync::Arc::new(TokenBucket::new(qps, burst, tokio::time::Instant::now()));
    let client = build_client(config, bucket, metrics)?;
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client);

    let start = Instant::now();
    let results: Vec<_> = futures::stream::iter(0..requests).map(|_| api.get("default")).buffer_unordered(requests.max(1)).collect().await;
    let elapsed = start.elapsed();
    let failed = results.iter().filter(|r| r.is_err()).count();
    sandbox.stop().await;

    let (text, _) = rudder_common::http::render_metrics(&registry, None)?;
    let find = |prefix: &str| -> f64 {
        text.lines().filter(|l| l.starts_with(prefix)).filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok()).sum()
    };
    let waited_sum = find("rest_client_rate_limiter_duration_seconds_sum{");
    let waited_count = find("rest_client_rate_limiter_duration_seconds_count{");
    let waited_over_1s = waited_count - find(r#"rest_client_rate_limiter_duration_seconds_bucket{le="1.0""#);
    let ok = find(r#"rest_client_requests_total{code="200""#);
    let expected = (requests as f64 - f64::from(burst)).max(0.0) / qps;
    Ok(format!(
        "client-rate-limit: {requests} GETs at once, qps {qps}, burst {burst}\n\
         \x20 client time           {:>9.2} s   (token bucket: ({requests} - {burst}) / {qps} = {expected:.2} s)\n\
         \x20 requests answered 200 {ok:>9}     ({failed} failed)\n\
         \x20 rest_client_rate_limiter_duration_seconds: count {waited_count}, sum {waited_sum:.1} s, mean {:.2} s, {waited_over_1s} waited over 1 s\n",
        elapsed.as_secs_f64(),
        if waited_count > 0.0 { waited_sum / waited_count } else { 0.0 },
    ))
}
