//! Where a scenario runs, and what it costs there.
//!
//! On the sandbox (the default): the sandbox API server (a child process),
//! simulated nodes (in this process) and the Rudder components a scenario
//! needs (child processes, the binaries next to this one, client rate
//! limits lifted so that the figures are the components' own). Their CPU
//! time and peak RSS come from /proc.
//!
//! On a real cluster (`--target-kubeconfig`): the components under test
//! already run there (Rudder's, or the built-in ones of
//! kube-controller-manager and kube-scheduler, to compare the two on the
//! same API server); each is known by its metrics URL (`--component
//! NAME=URL`), its CPU time and RSS read from `process_cpu_seconds_total`
//! and `process_resident_memory_bytes` (the peak as sampled while the
//! scenario runs). Scenarios work in a namespace of their own, deleted at
//! the end.
//!
//! Either way, API requests come from each component's
//! `rest_client_requests_total`, counted from when the scenario starts.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::api::{DeleteParams, PostParams};
use rudder_sandbox::sim::{self, SimConfig};

use crate::SandboxChild;
use crate::record::{Component, Record, Series};

/// Where the scenarios run.
#[derive(Clone, Debug, Default)]
pub enum Target {
    /// The sandbox, the simulated nodes and the components, started here.
    #[default]
    Sandbox,
    /// A real cluster whose components already run.
    Cluster {
        kubeconfig: PathBuf,
        /// Name → metrics URL of each component to measure.
        components: BTreeMap<String, String>,
    },
}

impl Target {
    /// `sandbox` or `kubeconfig <path>`, as records name it.
    pub fn label(&self) -> String {
        match self {
            Target::Sandbox => "sandbox".into(),
            Target::Cluster { kubeconfig, .. } => format!("kubeconfig {}", kubeconfig.display()),
        }
    }

    pub fn is_sandbox(&self) -> bool {
        matches!(self, Target::Sandbox)
    }
}

/// `NAME=URL` of `--component`.
pub fn parse_component(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, url)) if !name.is_empty() && !url.is_empty() => Ok((name.to_string(), url.to_string())),
        _ => Err(format!("{s:?} is not NAME=URL (for example rudder-scheduler=http://127.0.0.1:8080/metrics)")),
    }
}

/// What a process's metrics said at one moment.
#[derive(Debug, Default, Clone)]
struct Sample {
    cpu: Option<f64>,
    rss_bytes: Option<f64>,
    requests: BTreeMap<String, u64>,
}

impl Sample {
    fn parse(text: &str) -> Sample {
        let mut s = Sample::default();
        let value = |line: &str| line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok());
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("rest_client_requests_total{") {
                let method = rest.split("method=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or("?");
                *s.requests.entry(method.to_string()).or_default() += value(line).map_or(0, |v| v as u64);
            } else if line.starts_with("process_cpu_seconds_total ") {
                s.cpu = value(line);
            } else if line.starts_with("process_resident_memory_bytes ") {
                s.rss_bytes = value(line);
            }
        }
        s
    }
}

/// A metrics endpoint's text: `http://host:port/path` or `host:port`
/// (path `/metrics`), plain HTTP; None if it does not answer 200 in 5 s.
pub async fn scrape(url: &str) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/metrics"),
    };
    let fetch = async {
        let mut conn = tokio::net::TcpStream::connect(authority).await.ok()?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nAccept: text/plain\r\nConnection: close\r\n\r\n");
        conn.write_all(request.as_bytes()).await.ok()?;
        let mut raw = Vec::new();
        conn.read_to_end(&mut raw).await.ok()?;
        response_body(&raw)
    };
    tokio::time::timeout(Duration::from_secs(5), fetch).await.ok().flatten()
}

/// The body of a raw HTTP/1.x response if its status is 200, its chunks
/// joined when it came chunked (as Go's servers send long metrics pages).
fn response_body(raw: &[u8]) -> Option<String> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let mut body = &raw[split + 4..];
    if !head.starts_with("http/1.1 200") && !head.starts_with("http/1.0 200") {
        return None;
    }
    if !head.lines().any(|l| l.starts_with("transfer-encoding:") && l.contains("chunked")) {
        return Some(String::from_utf8_lossy(body).into_owned());
    }
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n")?;
        let size_text = String::from_utf8_lossy(&body[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Some(String::from_utf8_lossy(&out).into_owned());
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}

/// One component under test.
struct Handle {
    name: String,
    /// Started here (sandbox target): the process and its pid.
    child: Option<(tokio::process::Child, u32)>,
    metrics: Option<String>,
    /// The metrics when the scenario started.
    base: Sample,
    /// The highest RSS sampled (real clusters).
    peak_rss_bytes: Option<f64>,
}

impl Handle {
    async fn sample(&self) -> Sample {
        match &self.metrics {
            Some(url) => scrape(url).await.map(|t| Sample::parse(&t)).unwrap_or_default(),
            None => Sample::default(),
        }
    }

    /// What it cost since `base`.
    async fn figures(&mut self) -> Component {
        let now = self.sample().await;
        let requests = now.requests.iter().map(|(m, n)| (m.clone(), n.saturating_sub(self.base.requests.get(m).copied().unwrap_or(0))));
        let requests = requests.filter(|(_, n)| *n > 0).collect();
        let (cpu_seconds, peak_rss_mib) = match &self.child {
            Some((_, pid)) => (Some(crate::cpu_seconds(*pid)), crate::proc_status_kib(*pid, "VmHWM:").map(|k| k as f64 / 1024.0)),
            None => {
                let peak = [self.peak_rss_bytes, now.rss_bytes].into_iter().flatten().reduce(f64::max);
                (now.cpu.zip(self.base.cpu).map(|(a, b)| a - b), peak.map(|b| b / 1024.0 / 1024.0))
            }
        };
        Component { name: self.name.clone(), cpu_seconds, peak_rss_mib, api_requests: requests }
    }
}

/// A running target for one scenario.
pub struct Cluster {
    pub client: kube::Client,
    /// The namespace the scenario works in.
    pub ns: String,
    target: Target,
    sandbox: Option<SandboxChild>,
    sim: Option<(tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<anyhow::Result<()>>)>,
    components: Vec<Handle>,
    series: Vec<Series>,
    dir: tempfile::TempDir,
}

impl Cluster {
    /// On the sandbox: it and `nodes` simulated nodes of room for 250 pods
    /// each, Ready (the components come with [`Cluster::start_components`],
    /// after the ceiling is measured). On a real cluster: its client and
    /// the components given by their metrics URLs. Either way, the
    /// scenario's namespace.
    pub async fn start(target: &Target, nodes: usize) -> anyhow::Result<Cluster> {
        let dir = tempfile::tempdir()?;
        let mut cluster = match target {
            Target::Sandbox => {
                let sandbox = SandboxChild::start().await?;
                let client = sandbox.client()?;
                std::fs::write(dir.path().join("kubeconfig"), rudder_sandbox::kubeconfig_yaml(sandbox.url()))?;
                std::fs::write(dir.path().join("scheduler.yaml"), rudder_sandbox::up::SCHEDULER_CONFIG)?;
                let sim = (nodes > 0).then(|| {
                    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
                    let cfg = SimConfig { count: nodes, pods: "250".into(), heartbeat: Duration::from_secs(10), ..SimConfig::default() };
                    let sim_client = client.clone();
                    let task = tokio::spawn(async move {
                        sim::run(sim_client, cfg, async move {
                            let _ = stopped.await;
                        })
                        .await
                    });
                    (stop, task)
                });
                let ns = "rudder-bench".to_string();
                Cluster { client, ns, target: target.clone(), sandbox: Some(sandbox), sim, components: Vec::new(), series: Vec::new(), dir }
            }
            Target::Cluster { kubeconfig, components } => {
                let kc = kube::config::Kubeconfig::read_from(kubeconfig).with_context(|| format!("reading {}", kubeconfig.display()))?;
                let config = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?;
                let client = kube::Client::try_from(config)?;
                let ns = format!("rudder-bench-{}", jiff::Timestamp::now().as_second());
                let handles = components
                    .iter()
                    .map(|(name, url)| Handle {
                        name: name.clone(),
                        child: None,
                        metrics: Some(url.clone()),
                        base: Sample::default(),
                        peak_rss_bytes: None,
                    })
                    .collect();
                Cluster { client, ns, target: target.clone(), sandbox: None, sim: None, components: handles, series: Vec::new(), dir }
            }
        };
        let ns: Namespace = serde_json::from_value(serde_json::json!({"metadata": {"name": cluster.ns}}))?;
        Api::<Namespace>::all(cluster.client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .context("creating the scenario's namespace")?;
        if nodes > 0 && target.is_sandbox() {
            let want = nodes as u64;
            let ready = move |c: kube::Client| async move {
                let list = Api::<k8s_openapi::api::core::v1::Node>::all(c).list(&Default::default()).await?;
                let ready = list.items.iter().filter(|n| crate::node_ready(n)).count() as u64;
                Ok((ready, ready >= want))
            };
            let waited = cluster.converge("nodes Ready", want, Instant::now(), None, ready).await?;
            anyhow::ensure!(waited.is_some(), "the simulated nodes never turned Ready");
        }
        Ok(cluster)
    }

    /// [`Cluster::start_component`] for each, in order, then [`Cluster::mark`].
    pub async fn start_components(&mut self, components: &[&str]) -> anyhow::Result<()> {
        for name in components {
            self.start_component(name, &[]).await?;
        }
        self.mark().await;
        Ok(())
    }

    /// Measures the API server's ceiling for `writes` into `record`'s
    /// scenario (before the components start, so that they see none of it).
    pub async fn ceiling(&self, writes: crate::ceiling::Writes) -> anyhow::Result<(String, f64)> {
        Ok((writes.describe(), crate::ceiling::measure(&self.client, &self.ns, writes).await?))
    }

    /// A scratch directory that lives as long as the cluster.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// An API of the scenario's namespace.
    pub fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    /// On the sandbox, starts a component (client rate limits lifted,
    /// `extra` flags added) and waits until it is ready. On a real cluster
    /// the components already run: nothing to do.
    pub async fn start_component(&mut self, name: &str, extra: &[String]) -> anyhow::Result<()> {
        if !self.target.is_sandbox() {
            return Ok(());
        }
        let dir = self.dir.path();
        let mut args = vec!["--kube-api-qps=1000000".to_string(), "--kube-api-burst=1000000".to_string()];
        if name == "rudder-scheduler" {
            args.push(format!("--config={}", dir.join("scheduler.yaml").display()));
        }
        args.extend_from_slice(extra);
        let (child, pid, metrics) = crate::start_component(name, &dir.join("kubeconfig"), &dir.join(format!("{name}.log")), &args).await?;
        self.components.push(Handle {
            name: name.to_string(),
            child: Some((child, pid)),
            metrics: Some(metrics),
            base: Sample::default(),
            peak_rss_bytes: None,
        });
        Ok(())
    }

    /// The pid of a component started here.
    pub fn pid(&self, name: &str) -> Option<u32> {
        self.components.iter().find(|h| h.name == name).and_then(|h| h.child.as_ref()).map(|(_, pid)| *pid)
    }

    /// The scenario starts now: on a real cluster, API requests and CPU
    /// time are counted from here (components started here are counted
    /// whole, their start included, as /proc counts their CPU time).
    pub async fn mark(&mut self) {
        for h in self.components.iter_mut().filter(|h| h.child.is_none()) {
            h.base = h.sample().await;
            h.peak_rss_bytes = h.base.rss_bytes;
        }
    }

    /// CPU seconds of every component so far (from /proc or metrics).
    pub async fn cpu_seconds(&self) -> f64 {
        let mut total = 0.0;
        for h in &self.components {
            total += match &h.child {
                Some((_, pid)) => crate::cpu_seconds(*pid),
                None => h.sample().await.cpu.unwrap_or(0.0),
            };
        }
        total
    }

    /// An error if a component started here exited.
    pub fn check_running(&mut self) -> anyhow::Result<()> {
        for h in self.components.iter_mut() {
            if let Some((child, _)) = &mut h.child
                && let Some(status) = child.try_wait()?
            {
                anyhow::bail!("{} exited ({status}); see its log in {}", h.name, self.dir.path().display());
            }
        }
        Ok(())
    }

    /// Calls `count` every 200 ms until it says done (the time since
    /// `started`) or 30 minutes passed (None), showing a progress bar of
    /// its count towards `goal`; the counts go into the series `name` of
    /// the record. Fails if a component exits meanwhile.
    pub async fn converge<F, Fut>(
        &mut self,
        what: &str,
        goal: u64,
        started: Instant,
        series: Option<&str>,
        mut count: F,
    ) -> anyhow::Result<Option<Duration>>
    where
        F: FnMut(kube::Client) -> Fut,
        Fut: Future<Output = anyhow::Result<(u64, bool)>>,
    {
        let bar = indicatif::ProgressBar::new(goal);
        bar.set_style(
            indicatif::ProgressStyle::with_template("  {msg:<28} [{bar:40}] {pos}/{len} {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(what.to_string());
        let mut points = Vec::new();
        let mut last_sample = Instant::now();
        let result = loop {
            if started.elapsed() > Duration::from_secs(1800) {
                break None;
            }
            self.check_running()?;
            let (n, done) = count(self.client.clone()).await?;
            bar.set_position(n);
            let t = started.elapsed().as_secs_f64();
            if points.last().is_none_or(|(_, last)| *last != n as f64) {
                points.push((t, n as f64));
            }
            if done {
                points.push((t, n as f64));
                break Some(started.elapsed());
            }
            if !self.target.is_sandbox() && last_sample.elapsed() > Duration::from_secs(1) {
                last_sample = Instant::now();
                for h in &mut self.components {
                    let rss = h.sample().await.rss_bytes;
                    h.peak_rss_bytes = [h.peak_rss_bytes, rss].into_iter().flatten().reduce(f64::max);
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        bar.finish_and_clear();
        if let Some(name) = series {
            self.series.push(Series { name: name.into(), points });
        }
        Ok(result)
    }

    /// Fills the record's components, API server and series, then stops
    /// everything (on a real cluster: deletes the scenario's namespace).
    pub async fn finish(mut self, record: &mut Record) -> anyhow::Result<()> {
        for h in &mut self.components {
            record.components.push(h.figures().await);
        }
        record.series.append(&mut self.series);
        for h in &mut self.components {
            if let Some((child, _)) = &mut h.child {
                let _ = child.kill().await;
            }
        }
        if let Some((stop, task)) = self.sim.take() {
            let _ = stop.send(());
            let _ = task.await;
        }
        match self.sandbox.take() {
            Some(sandbox) => {
                record.api_server = Some(Component {
                    name: "sandbox".into(),
                    cpu_seconds: Some(crate::cpu_seconds(sandbox.pid)),
                    peak_rss_mib: crate::proc_status_kib(sandbox.pid, "VmHWM:").map(|k| k as f64 / 1024.0),
                    api_requests: BTreeMap::new(),
                });
                sandbox.stop().await?;
            }
            None => {
                let namespaces: Api<Namespace> = Api::all(self.client.clone());
                namespaces
                    .delete(&self.ns, &DeleteParams::background())
                    .await
                    .with_context(|| format!("deleting namespace {}", self.ns))?;
            }
        }
        Ok(())
    }
}

/// Creates `objects` (JSON) through `api`, 16 at a time.
pub async fn create_all<K>(api: &Api<K>, objects: impl IntoIterator<Item = serde_json::Value>) -> anyhow::Result<()>
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::Serialize + serde::de::DeserializeOwned,
{
    use futures::{StreamExt, TryStreamExt};
    futures::stream::iter(objects)
        .map(|o| {
            let api = api.clone();
            async move {
                let obj: K = serde_json::from_value(o)?;
                api.create(&PostParams::default(), &obj).await?;
                Ok::<_, anyhow::Error>(())
            }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_sums_requests_by_method_and_reads_process_figures() {
        let text = "# HELP x\n\
            rest_client_requests_total{code=\"200\",host=\"h\",method=\"GET\"} 3\n\
            rest_client_requests_total{code=\"201\",host=\"h\",method=\"POST\"} 10\n\
            rest_client_requests_total{code=\"409\",host=\"h\",method=\"POST\"} 2\n\
            rest_client_requests_total_created{code=\"200\"} 1.7e9\n\
            process_cpu_seconds_total 1.5\n\
            process_resident_memory_bytes 2.097152e+07\n";
        let s = Sample::parse(text);
        assert_eq!(s.requests, [("GET".to_string(), 3), ("POST".to_string(), 12)].into_iter().collect());
        assert_eq!(s.cpu, Some(1.5));
        assert_eq!(s.rss_bytes, Some(20_971_520.0));
    }

    #[test]
    fn components_are_name_equals_url() {
        assert_eq!(parse_component("kcm=http://127.0.0.1:1/metrics"), Ok(("kcm".into(), "http://127.0.0.1:1/metrics".into())));
        assert!(parse_component("kcm").is_err());
        assert!(parse_component("=http://x").is_err());
    }

    #[test]
    fn a_chunked_body_is_joined_and_a_plain_one_kept() {
        let chunked = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n\
            1a\r\nprocess_cpu_seconds_total \r\n3;ext=1\r\n2.5\r\n1\r\n\n\r\n0\r\n\r\n";
        assert_eq!(response_body(chunked).as_deref(), Some("process_cpu_seconds_total 2.5\n"));
        assert_eq!(Sample::parse(&response_body(chunked).unwrap()).cpu, Some(2.5));
        assert_eq!(response_body(b"HTTP/1.0 200 OK\r\n\r\na 1\n").as_deref(), Some("a 1\n"));
        assert_eq!(response_body(b"HTTP/1.1 500 Oops\r\n\r\nno"), None);
        // Cut short: nothing rather than half a page.
        assert_eq!(response_body(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nff\r\nabc"), None);
    }

    #[tokio::test]
    async fn scrape_reads_a_metrics_page_and_gives_up_on_errors() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            for answer in ["HTTP/1.1 200 OK\r\n\r\nprocess_cpu_seconds_total 2\n", "HTTP/1.1 404 Not Found\r\n\r\nno"] {
                let (mut conn, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 1024];
                let n = conn.read(&mut buf).await.unwrap();
                assert!(String::from_utf8_lossy(&buf[..n]).starts_with("GET /custom/metrics HTTP/1.1"));
                conn.write_all(answer.as_bytes()).await.unwrap();
            }
        });
        let url = format!("http://{addr}/custom/metrics");
        assert_eq!(scrape(&url).await.as_deref(), Some("process_cpu_seconds_total 2\n"));
        assert_eq!(scrape(&url).await, None);
    }
}
