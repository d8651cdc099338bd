//! A whole system for the end-to-end benchmarks: the sandbox (a child
//! process), simulated nodes (in this process) and Rudder components (child
//! processes, the binaries next to this one, client rate limits lifted so
//! that the figures are the components' own). Each component's CPU time and
//! peak RSS are read from /proc when the cluster stops.

use std::time::{Duration, Instant};

use rudder_sandbox::sim::{self, SimConfig};

use crate::SandboxChild;

pub(crate) struct Cluster {
    pub(crate) client: kube::Client,
    sandbox: SandboxChild,
    components: Vec<(&'static str, tokio::process::Child, u32)>,
    stop_sim: tokio::sync::oneshot::Sender<()>,
    sim: tokio::task::JoinHandle<anyhow::Result<()>>,
    _dir: tempfile::TempDir,
}

impl Cluster {
    /// The sandbox, `nodes` simulated nodes of room for 250 pods each, then
    /// `components` started in order, each ready before the next.
    pub(crate) async fn start(components: &[&'static str], nodes: usize) -> anyhow::Result<Cluster> {
        let mut cluster = Cluster::nodes(nodes).await?;
        for &name in components {
            cluster.start_component(name, &[]).await?;
        }
        Ok(cluster)
    }

    /// The sandbox and `nodes` simulated nodes, no component yet.
    pub(crate) async fn nodes(nodes: usize) -> anyhow::Result<Cluster> {
        let sandbox = SandboxChild::start().await?;
        let client = sandbox.client()?;
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("kubeconfig"), rudder_sandbox::kubeconfig_yaml(sandbox.url()))?;
        std::fs::write(dir.path().join("scheduler.yaml"), rudder_sandbox::up::SCHEDULER_CONFIG)?;
        let (stop_sim, sim_stopped) = tokio::sync::oneshot::channel::<()>();
        let cfg = SimConfig { count: nodes, pods: "250".into(), heartbeat: Duration::from_secs(10), ..SimConfig::default() };
        let sim_client = client.clone();
        let sim = tokio::spawn(async move {
            sim::run(sim_client, cfg, async move {
                let _ = sim_stopped.await;
            })
            .await
        });
        Ok(Cluster { client, sandbox, components: Vec::new(), stop_sim, sim, _dir: dir })
    }

    /// Starts one component (client rate limits lifted, `extra` flags
    /// added) and waits until it is ready.
    pub(crate) async fn start_component(&mut self, name: &'static str, extra: &[String]) -> anyhow::Result<()> {
        let dir = self._dir.path();
        let mut args = vec!["--kube-api-qps=1000000".to_string(), "--kube-api-burst=1000000".to_string()];
        if name == "rudder-scheduler" {
            args.push(format!("--config={}", dir.join("scheduler.yaml").display()));
        }
        args.extend_from_slice(extra);
        let (child, pid) = crate::start_component(name, &dir.join("kubeconfig"), &dir.join(format!("{name}.log")), &args).await?;
        self.components.push((name, child, pid));
        Ok(())
    }

    /// The pid of a started component.
    pub(crate) fn pid(&self, name: &str) -> Option<u32> {
        self.components.iter().find(|(n, _, _)| *n == name).map(|(_, _, pid)| *pid)
    }

    /// An error if a component exited.
    pub(crate) fn check_running(&mut self) -> anyhow::Result<()> {
        for (name, child, _) in self.components.iter_mut() {
            if let Some(status) = child.try_wait()? {
                anyhow::bail!("{name} exited ({status})");
            }
        }
        Ok(())
    }

    /// Calls `done` every 200 ms until it is true (the time it took) or 30
    /// minutes passed (None); fails if a component exits meanwhile.
    pub(crate) async fn wait_until<F, Fut>(&mut self, mut done: F) -> anyhow::Result<Option<Duration>>
    where
        F: FnMut(kube::Client) -> Fut,
        Fut: Future<Output = anyhow::Result<bool>>,
    {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(1800) {
            self.check_running()?;
            if done(self.client.clone()).await? {
                return Ok(Some(start.elapsed()));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(None)
    }

    /// Stops everything; one line per component (CPU time, peak RSS) and
    /// one for the sandbox (CPU time).
    pub(crate) async fn stop(self) -> anyhow::Result<String> {
        let mut out = String::new();
        for (name, mut child, pid) in self.components {
            let (cpu, rss) = (crate::cpu_seconds(pid), crate::proc_status_kib(pid, "VmHWM:").unwrap_or(0));
            out.push_str(&format!("  {name:<29} CPU {cpu:.2}s, peak RSS {:.1} MiB\n", rss as f64 / 1024.0));
            let _ = child.kill().await;
        }
        let _ = self.stop_sim.send(());
        let _ = self.sim.await;
        out.push_str(&format!("  sandbox                       CPU {:.2}s\n", crate::cpu_seconds(self.sandbox.pid)));
        self.sandbox.stop().await?;
        Ok(out)
    }
}

/// A duration as the reports print it.
pub(crate) fn secs(d: Option<Duration>) -> String {
    d.map_or_else(|| "never (gave up after 30 min)".to_string(), |d| format!("{:.2}s", d.as_secs_f64()))
}
