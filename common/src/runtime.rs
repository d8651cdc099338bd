//! What every binary's `main` runs: logging, the client (rate-limited and
//! measured), `/metrics` and the health probes, leader election, and a
//! graceful shutdown, around the binary's own work.
//!
//! ```no_run
//! # use rudder_common::{flags, runtime};
//! #[derive(clap::Parser)]
//! struct Args {
//!     #[command(flatten)]
//!     common: flags::CommonArgs,
//! }
//! impl flags::HasCommon for Args {
//!     fn common(&self) -> &flags::CommonArgs { &self.common }
//! }
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     let args: Args = flags::parse_or_exit();
//!     runtime::run(&args.common, "rudder-example", |ctx| async move {
//!         ctx.health.set_synced(true);
//!         ctx.stop.wait().await;
//!         Ok(())
//!     })
//!     .await
//! }
//! ```
//!
//! Exit status: 0 after a SIGTERM/SIGINT (in-flight work finished or cut at
//! [`SHUTDOWN_GRACE`], the lease released); 1 when the work fails, when the
//! configuration or an address is unusable, or when the lease is lost (as
//! kube-controller-manager, which exits so that it restarts as a clean
//! standby).

use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::registry::Registry;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::{error, info, warn};
use tracing_subscriber::EnvFilter;

use crate::client::{ClientMetrics, TokenBucket, build_client, load_config};
use crate::flags::{Bind, CommonArgs, LogFormat};
use crate::http::{Health, bind, serve_health, serve_metrics, shutdown_signal};
use crate::leader::{ElectionConfig, ElectionMetrics, Elector, default_identity};
use crate::process::ProcessCollector;
use crate::workqueue::WorkqueueFamilies;

/// How long in-flight work may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How often the unfinished-work gauges are refreshed (client-go's period).
const UNFINISHED_WORK_PERIOD: Duration = Duration::from_millis(500);

/// Resolves when the binary is asked to stop taking work.
#[derive(Clone, Debug)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    /// A stop signal and the handle that fires it.
    pub fn new() -> (watch::Sender<bool>, Stop) {
        let (tx, rx) = watch::channel(false);
        (tx, Stop(rx))
    }

    pub async fn wait(mut self) {
        let _ = self.0.wait_for(|stopped| *stopped).await;
    }

    pub fn is_stopped(&self) -> bool {
        *self.0.borrow()
    }
}

/// What the work gets.
#[derive(Clone)]
pub struct Context {
    pub client: kube::Client,
    /// Set `synced` once the informer caches are.
    pub health: Arc<Health>,
    /// Make one queue per controller: `workqueues.queue("replicaset")`.
    pub workqueues: WorkqueueFamilies,
    /// This process's identity in the leader election (also fine for events'
    /// reportingInstance).
    pub identity: String,
    /// Stop taking work when it resolves (kube-runtime: `graceful_shutdown_on(stop.wait())`).
    pub stop: Stop,
}

/// Sets up tracing: `RUST_LOG` (default `info`), text or JSON on stderr.
pub fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// An error with its causes, `outer: inner: innermost`, each named once, for
/// logs and error lines (kube's errors say "client error (Connect)" at the
/// top and "Connection refused" only at the bottom, while others, like
/// kube's kubeconfig errors or anyhow's context, already repeat their
/// source's text in their own: a cause already said is not said again).
/// Paths that an error formatted with `{:?}` inside quotes of its own
/// (`'"/etc/x"'`) are printed once, bare, as kubectl prints them.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = unquote_paths(&e.to_string());
    let mut source = e.source();
    while let Some(s) = source {
        let text = unquote_paths(&s.to_string());
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// `'"x"'` (a Debug-formatted path inside quotes) becomes `x`.
fn unquote_paths(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("'\"") {
        let inner = &rest[start + 2..];
        match inner.find("\"'") {
            Some(end) if !inner[..end].contains('"') => {
                out.push_str(&rest[..start]);
                out.push_str(&inner[..end]);
                rest = &inner[end + 2..];
            }
            _ => {
                out.push_str(&rest[..start + 2]);
                rest = inner;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Runs `work` under the common runtime and returns the exit status.
pub async fn run<F, Fut>(common: &CommonArgs, component: &str, work: F) -> ExitCode
where
    F: FnOnce(Context) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    run_with_metrics(common, component, |_| (), |ctx, ()| work(ctx)).await
}

/// Like [`run`], for a component with metrics of its own: `register` adds
/// them to the registry `/metrics` serves (before anything starts), and
/// what it returns is handed to `work`.
pub async fn run_with_metrics<M, R, F, Fut>(common: &CommonArgs, component: &str, register: R, work: F) -> ExitCode
where
    R: FnOnce(&mut Registry) -> M,
    F: FnOnce(Context, M) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    init_logging(common.log_format);
    match run_inner(common, component, register, work).await {
        Ok(()) => {
            info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            error!("{}", chain(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

async fn serve(address: Bind, what: &'static str) -> anyhow::Result<Option<tokio::net::TcpListener>> {
    let Bind::At(addr) = address else { return Ok(None) };
    let listener = bind(addr, what).await?;
    info!(address = %listener.local_addr()?, "serving {what}");
    Ok(Some(listener))
}

async fn run_inner<M, R, F, Fut>(common: &CommonArgs, component: &str, register: R, work: F) -> anyhow::Result<()>
where
    R: FnOnce(&mut Registry) -> M,
    F: FnOnce(Context, M) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let mut registry = Registry::default();
    let client_metrics = ClientMetrics::new(&mut registry);
    let election_metrics = ElectionMetrics::new(&mut registry);
    let workqueues = WorkqueueFamilies::new(&mut registry);
    registry.register_collector(Box::new(ProcessCollector));
    let own = register(&mut registry);
    let registry = Arc::new(registry);
    let health = Health::new();

    // Addresses first: a port in use is reported before anything else happens.
    if let Some(l) = serve(common.metrics_bind_address, "/metrics").await? {
        tokio::spawn(serve_metrics(l, registry.clone(), std::future::pending()));
    }
    if let Some(l) = serve(common.health_probe_bind_address, "/healthz and /readyz").await? {
        tokio::spawn(serve_health(l, health.clone(), std::future::pending()));
    }

    let config = load_config(common.kubeconfig.as_deref()).await?;
    info!(server = %config.cluster_url, qps = common.kube_api_qps, burst = common.kube_api_burst, "Kubernetes API server");
    let bucket = Arc::new(TokenBucket::new(common.kube_api_qps, common.kube_api_burst, Instant::now()));
    let client = build_client(config, bucket, client_metrics)?;

    let queues = workqueues.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(UNFINISHED_WORK_PERIOD);
        loop {
            tick.tick().await;
            queues.update_unfinished(Instant::now());
        }
    });

    let identity = default_identity();
    let (stop_tx, stop) = Stop::new();
    let ctx = Context { client: client.clone(), health: health.clone(), workqueues, identity: identity.clone(), stop };
    let mut signal = Box::pin(shutdown_signal());

    if !common.leader_elect {
        let mut work = tokio::spawn(work(ctx, own));
        tokio::select! {
            r = &mut work => return flatten(r),
            _ = &mut signal => info!("shutting down"),
        }
        let _ = stop_tx.send(true);
        return finish(&mut work, &health).await;
    }

    health.set_standby(true);
    let cfg = ElectionConfig {
        namespace: common.lease_namespace(),
        name: common.leader_elect_resource_name.clone().unwrap_or_else(|| component.to_string()),
        identity,
        lease_duration: common.leader_elect_lease_duration,
        renew_deadline: common.leader_elect_renew_deadline,
        retry_period: common.leader_elect_retry_period,
    };
    let mut elector = Elector::new(client, cfg, election_metrics).with_health(health.clone());
    if !elector.acquire(&mut signal).await {
        info!("shutting down while standing by");
        return Ok(());
    }
    health.set_standby(false);
    let mut work = tokio::spawn(work(ctx, own));
    tokio::select! {
        lost = elector.hold() => {
            // Nothing may act once the lease may be someone else's.
            work.abort();
            return Err(lost.into());
        }
        r = &mut work => {
            elector.release().await;
            return flatten(r);
        }
        _ = &mut signal => info!("shutting down: finishing in-flight work, then releasing the lease"),
    }
    let _ = stop_tx.send(true);
    // Keep renewing while the work finishes: it still acts as the leader.
    let result = tokio::select! {
        lost = elector.hold() => {
            work.abort();
            return Err(lost.into());
        }
        r = finish(&mut work, &health) => r,
    };
    elector.release().await;
    result
}

fn flatten(r: Result<anyhow::Result<()>, tokio::task::JoinError>) -> anyhow::Result<()> {
    match r {
        Ok(r) => r,
        Err(e) => Err(anyhow::anyhow!("the work stopped abnormally: {e}")),
    }
}

/// Waits for stopped work, at most [`SHUTDOWN_GRACE`]. Work whose caches
/// never synced has reconciled nothing (kube-runtime holds reconciles until
/// the store is ready), so it is not waited for.
async fn finish(work: &mut tokio::task::JoinHandle<anyhow::Result<()>>, health: &Health) -> anyhow::Result<()> {
    if !health.is_synced() {
        work.abort();
        return Ok(());
    }
    match tokio::time::timeout(SHUTDOWN_GRACE, &mut *work).await {
        Ok(r) => flatten(r),
        Err(_) => {
            warn!("in-flight work did not finish within {SHUTDOWN_GRACE:?}; cutting it");
            work.abort();
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("client error (Connect)")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn chains_name_every_cause_once() {
        let e = Outer(std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused (os error 111)"));
        assert_eq!(chain(&e), "client error (Connect): Connection refused (os error 111)");
        let plain = std::io::Error::other("just this");
        assert_eq!(chain(&plain), "just this");
        // anyhow's context repeats nothing; the chain says each part once.
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory (os error 2)");
        let wrapped = anyhow::Error::new(io).context("cannot read /x");
        assert_eq!(chain(wrapped.as_ref()), "cannot read /x: No such file or directory (os error 2)");
    }

    #[tokio::test]
    async fn a_missing_kubeconfig_is_named_once_with_its_cause_once() {
        let e = crate::client::load_config(Some(std::path::Path::new("/nonexistent"))).await.expect_err("no such file");
        assert_eq!(chain(&e), "cannot load kubeconfig /nonexistent: No such file or directory (os error 2)");
        // kube's own error, as any binary may meet it: its Debug-quoted path is printed bare.
        let kube_err = kube::config::Kubeconfig::read_from("/nonexistent").expect_err("no such file");
        assert_eq!(chain(&kube_err), "failed to read kubeconfig from /nonexistent: No such file or directory (os error 2)");
        // As anyhow carries it out of a component's work (the runtime's error line).
        let any = anyhow::Error::new(kube_err).context("starting");
        assert_eq!(chain(any.as_ref()), "starting: failed to read kubeconfig from /nonexistent: No such file or directory (os error 2)");
    }

    #[test]
    fn quoted_paths_are_unquoted_and_other_quotes_kept() {
        assert_eq!(unquote_paths("read '\"/a b\"': gone"), "read /a b: gone");
        assert_eq!(unquote_paths("pods \"web\" is forbidden"), "pods \"web\" is forbidden");
        assert_eq!(unquote_paths("odd '\"x"), "odd '\"x");
    }

    #[tokio::test]
    async fn stop_resolves_once_fired() {
        let (tx, stop) = Stop::new();
        assert!(!stop.is_stopped());
        let waiter = tokio::spawn(stop.clone().wait());
        let _ = tx.send(true);
        waiter.await.expect("resolves");
        assert!(stop.is_stopped());
    }
}
