//! `rudder-sandbox up`: the whole system on one machine. The sandbox API
//! server and simulated nodes run in this process; every Rudder component
//! runs as its own child process against them, the admission webhooks
//! registered through real admissionregistration objects over HTTPS.
//!
//! While it runs it prints a table of the components (state, pid, metrics
//! endpoint, log file) whenever a state changes. The stop future (Ctrl-C
//! or SIGTERM in the binary) stops the components first (SIGTERM, so they
//! release their leases while the API server is still there; SIGKILL after
//! a grace period), then the nodes, then the API server.

pub mod certs;
pub mod components;
pub mod webhooks;

use std::fmt::Write as _;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::sim::{self, SimConfig};
pub use components::{Component, find_binary, parse_components};

/// How long a component has to exit after SIGTERM before it is killed:
/// the Rudder runtime's own grace for in-flight work, plus the release.
pub const STOP_GRACE: Duration = Duration::from_secs(15);

/// The settings of one `up`.
#[derive(Debug, Clone)]
pub struct UpConfig {
    /// API server port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Simulated nodes.
    pub nodes: usize,
    /// The components to run.
    pub components: Vec<Component>,
    /// Whether a missing binary is an error (components named explicitly)
    /// or only reported (the default, `all`).
    pub require_all: bool,
    /// Look for binaries only here (default: next to this executable, then PATH).
    pub bin_dir: Option<PathBuf>,
    /// Where kubeconfig, logs and certificates go (default: a temporary
    /// directory removed on exit).
    pub dir: Option<PathBuf>,
    /// Also write the kubeconfig here.
    pub kubeconfig_out: Option<PathBuf>,
}

/// What a component is doing, as the table shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Missing,
    Starting,
    Ready,
    NotReady,
    Exited(String),
}

impl State {
    fn label(&self) -> String {
        match self {
            State::Missing => "missing".into(),
            State::Starting => "starting".into(),
            State::Ready => "ready".into(),
            State::NotReady => "not ready".into(),
            State::Exited(how) => format!("exited ({how})"),
        }
    }
}

/// One row of the table.
#[derive(Debug, Clone)]
pub struct Row {
    pub component: Component,
    pub state: State,
    pub pid: Option<u32>,
    pub metrics: Option<String>,
    pub log: Option<PathBuf>,
    pub note: Option<String>,
}

/// The components table.
pub fn table(rows: &[Row]) -> String {
    let mut lines = vec![["COMPONENT".to_string(), "STATE".into(), "PID".into(), "METRICS".into(), "LOG".into()]];
    for r in rows {
        let mut state = r.state.label();
        if let Some(note) = &r.note {
            state = format!("{state}, {note}");
        }
        lines.push([
            r.component.name().to_string(),
            state,
            r.pid.map_or("-".into(), |p| p.to_string()),
            r.metrics.clone().unwrap_or_else(|| "-".into()),
            r.log.as_ref().map_or("-".into(), |p| p.display().to_string()),
        ]);
    }
    let widths: Vec<usize> = (0..5).map(|i| lines.iter().map(|l| l[i].len()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for l in &lines {
        let mut line = String::from("  ");
        for (i, cell) in l.iter().enumerate() {
            let _ = write!(line, "{cell:<w$}  ", w = widths[i]);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The scheduler's configuration under `up`: both profiles, so ordinary
/// pods (`default-scheduler`) and pods asking for `rudder-scheduler` get
/// scheduled.
pub const SCHEDULER_CONFIG: &str = "\
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
  - schedulerName: default-scheduler
  - schedulerName: rudder-scheduler
";

/// A free port on 127.0.0.1, picked by the OS.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?.local_addr()?.port())
}

/// The HTTP status of `GET path` on `addr`, if it answers within a second.
pub async fn probe(addr: &str, path: &str) -> Option<u16> {
    let fut = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
        stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).await.ok()?;
        let mut buf = [0u8; 64];
        let mut got = 0;
        while got < 12 {
            let n = stream.read(&mut buf[got..]).await.ok()?;
            if n == 0 {
                break;
            }
            got += n;
        }
        std::str::from_utf8(&buf[..got]).ok()?.split(' ').nth(1)?.parse().ok()
    };
    tokio::time::timeout(Duration::from_secs(1), fut).await.ok().flatten()
}

struct Running {
    child: tokio::process::Child,
    health: String,
    /// The webhook server's base URL and CA bundle, until registered.
    webhooks: Option<(String, String)>,
}

/// Runs the whole system until `stop` completes, then stops it all.
pub async fn run(cfg: UpConfig, stop: impl Future<Output = ()>) -> anyhow::Result<()> {
    // Every binary first: a missing one named explicitly fails before anything starts.
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for c in &cfg.components {
        match find_binary(c.binary(), cfg.bin_dir.as_deref()) {
            Ok(path) => found.push((*c, path)),
            Err(_) => missing.push(*c),
        }
    }
    let missing_names: Vec<&str> = missing.iter().map(|c| c.binary()).collect();
    if cfg.require_all && !missing.is_empty() {
        bail!("{}", components::not_found(&missing_names, cfg.bin_dir.as_deref()));
    }

    let (_temp, dir) = match &cfg.dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
            (None, d.clone())
        }
        None => {
            let t = tempfile::Builder::new().prefix("rudder-sandbox-").tempdir().context("cannot create a temporary directory")?;
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    };

    // As kind-config/ does with kube-apiserver's: the plugins Rudder's
    // webhooks serve are off when the webhooks run.
    let runs_webhooks = found.iter().any(|(c, _)| *c == Component::AdmissionWebhooks);
    let admission = if runs_webhooks {
        crate::admission::Plugins::default().without(webhooks::REPLACED_PLUGINS)
    } else {
        crate::admission::Plugins::default()
    };
    let admission_line = admission.names().join(", ");
    let api = crate::Options { admission, ..Default::default() };
    let sandbox = crate::Sandbox::start_with(crate::Config { port: cfg.port, api, ..Default::default() }).await?;
    let client = sandbox.client()?;
    let kubeconfig = dir.join("kubeconfig");
    for path in std::iter::once(&kubeconfig).chain(cfg.kubeconfig_out.as_ref()) {
        std::fs::write(path, sandbox.kubeconfig()).with_context(|| format!("cannot write the kubeconfig to {}", path.display()))?;
    }

    let sim_cfg = SimConfig { count: cfg.nodes, ..SimConfig::default() };
    let (sim_stop, sim_stopped) = tokio::sync::oneshot::channel::<()>();
    let sim_client = client.clone();
    let sim_task = tokio::spawn(sim::run(sim_client, sim_cfg.clone(), async move {
        let _ = sim_stopped.await;
    }));

    println!("rudder-sandbox up");
    println!("  API server  {}", sandbox.url());
    match cfg.nodes {
        0 => println!("  nodes       none"),
        n => println!("  nodes       {n} simulated: {p}-0 .. {p}-{}", n - 1, p = sim_cfg.prefix),
    }
    let kept = if cfg.dir.is_some() { "kept on exit" } else { "removed on exit" };
    println!("  files       {} (kubeconfig, logs, certificates; {kept})", dir.display());
    println!("  admission   {admission_line}");
    if runs_webhooks {
        println!("              ({} served by rudder-admission-webhooks)", webhooks::REPLACED_PLUGINS.join(", "));
    }

    // Started in order; a failure to start drops (and so kills) what was started.
    let mut rows = Vec::new();
    let mut running = Vec::new();
    for c in &cfg.components {
        match found.iter().find(|(f, _)| f == c) {
            Some((_, binary)) => {
                let (row, proc) = start_component(*c, binary, &dir, &kubeconfig)?;
                rows.push(row);
                running.push(Some(proc));
            }
            None => {
                rows.push(Row { component: *c, state: State::Missing, pid: None, metrics: None, log: None, note: None });
                running.push(None);
            }
        }
    }

    println!();
    print!("{}", table(&rows));
    if !missing.is_empty() {
        println!("  missing: {}", components::not_found(&missing_names, cfg.bin_dir.as_deref()));
    }
    println!();
    println!("export KUBECONFIG={}", cfg.kubeconfig_out.as_ref().unwrap_or(&kubeconfig).display());
    println!("Ctrl-C stops everything.");

    tokio::pin!(stop);
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = tick.tick() => {}
        }
        let mut changed = false;
        for (row, proc) in rows.iter_mut().zip(running.iter_mut()) {
            let Some(p) = proc else { continue };
            let state = match p.child.try_wait() {
                Ok(Some(status)) => State::Exited(status.code().map_or_else(|| status.to_string(), |c| format!("status {c}"))),
                _ => match probe(&p.health, "/readyz").await {
                    Some(200) => State::Ready,
                    _ if row.state == State::Ready => State::NotReady,
                    _ if row.state == State::Starting => State::Starting,
                    _ => State::NotReady,
                },
            };
            if state == State::Ready
                && let Some((base, bundle)) = p.webhooks.take()
            {
                row.note = Some(match webhooks::register(&client, &base, &bundle).await {
                    Ok(()) => "webhooks registered".into(),
                    Err(e) => format!("registering the webhooks failed: {e}"),
                });
                changed = true;
            }
            if let State::Exited(_) = state {
                *proc = None;
            }
            if state != row.state {
                row.state = state;
                changed = true;
            }
        }
        if changed {
            println!();
            print!("{}", table(&rows));
        }
    }

    println!("rudder-sandbox up: stopping");
    let mut waits = Vec::new();
    for p in running.into_iter().flatten() {
        waits.push(stop_child(p.child));
    }
    futures::future::join_all(waits).await;
    let _ = sim_stop.send(());
    match tokio::time::timeout(Duration::from_secs(10), sim_task).await {
        Ok(Ok(Err(e))) => {
            eprintln!("rudder-sandbox up: the simulated nodes stopped with an error: {}", rudder_common::runtime::chain(e.as_ref()))
        }
        Err(_) => eprintln!("rudder-sandbox up: the simulated nodes did not stop in time"),
        _ => {}
    }
    sandbox.stop().await;
    println!("rudder-sandbox up: stopped");
    Ok(())
}

/// SIGTERM, then SIGKILL after [`STOP_GRACE`].
async fn stop_child(mut child: tokio::process::Child) {
    if let Some(pid) = child.id().and_then(|p| rustix::process::Pid::from_raw(p as i32)) {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    }
    if tokio::time::timeout(STOP_GRACE, child.wait()).await.is_err() {
        let _ = child.kill().await;
    }
}

fn start_component(c: Component, binary: &Path, dir: &Path, kubeconfig: &Path) -> anyhow::Result<(Row, Running)> {
    let endpoints = components::Endpoints { metrics: format!("127.0.0.1:{}", free_port()?), health: format!("127.0.0.1:{}", free_port()?) };
    let log = dir.join(format!("{}.log", c.name()));
    let mut cmd = components::command(binary, kubeconfig, &endpoints, &log)?;
    let mut webhooks = None;
    match c {
        Component::Scheduler => {
            let path = dir.join("scheduler-config.yaml");
            std::fs::write(&path, SCHEDULER_CONFIG).with_context(|| format!("cannot write {}", path.display()))?;
            cmd.arg("--config").arg(path);
        }
        Component::AdmissionWebhooks => {
            let certs = certs::Certs::generate()?;
            let files = certs.write(dir)?;
            let port = free_port()?;
            cmd.arg(format!("--secure-port={port}")).arg("--tls-cert-file").arg(files.cert).arg("--tls-private-key-file").arg(files.key);
            webhooks = Some((format!("https://127.0.0.1:{port}"), certs.ca_bundle()));
        }
        _ => {}
    }
    let child = cmd.spawn().with_context(|| format!("cannot start {}", binary.display()))?;
    let row = Row {
        component: c,
        state: State::Starting,
        pid: child.id(),
        metrics: Some(format!("http://{}/metrics", endpoints.metrics)),
        log: Some(log),
        note: None,
    };
    Ok((row, Running { child, health: endpoints.health, webhooks }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_lines_up_and_names_everything() {
        let rows = vec![
            Row {
                component: Component::AdmissionWebhooks,
                state: State::Ready,
                pid: Some(42),
                metrics: Some("http://127.0.0.1:1/metrics".into()),
                log: Some("/tmp/x/admission-webhooks.log".into()),
                note: Some("webhooks registered".into()),
            },
            Row { component: Component::Scheduler, state: State::Missing, pid: None, metrics: None, log: None, note: None },
            Row {
                component: Component::Job,
                state: State::Exited("status 1".into()),
                pid: Some(7),
                metrics: Some("http://127.0.0.1:2/metrics".into()),
                log: Some("/tmp/x/job.log".into()),
                note: None,
            },
        ];
        let t = table(&rows);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("  COMPONENT "), "{t}");
        assert!(lines[1].contains("ready, webhooks registered") && lines[1].contains("http://127.0.0.1:1/metrics"), "{t}");
        assert!(lines[2].starts_with("  scheduler ") && lines[2].contains("missing"), "{t}");
        assert!(lines[3].contains("exited (status 1)") && lines[3].ends_with("/tmp/x/job.log"), "{t}");
        // Columns line up: STATE starts at the same offset on every line.
        let col = lines[0].find("STATE").unwrap();
        assert!(lines[1..].iter().all(|l| l[col..].starts_with(|c: char| c.is_ascii_alphabetic())), "{t}");
    }
}
