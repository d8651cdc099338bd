//! `rudder-admission-webhooks`: kube-apiserver's LimitRanger, ResourceQuota
//! and NamespaceLifecycle admission plugins as admission webhooks over
//! HTTPS, with the quota status reconciler of kube-controller-manager's
//! resourcequota controller. See `rudder_admission_webhooks::server`.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use futures::StreamExt;
use kube::Api;
use rudder_admission_webhooks::server::{self, Config, Plugin, State, metrics::Metrics, quota, tls};
use rudder_common::controller::Shell;
use rudder_common::flags::{self, CommonArgs, HasCommon, parse_duration};
use rudder_common::runtime::{self, Context};
use tracing::info;

#[derive(Debug, Clone)]
struct Plugins(Vec<Plugin>);

fn parse_plugins(s: &str) -> Result<Plugins, String> {
    Plugin::parse_list(s).map(Plugins)
}

#[derive(Debug, Parser)]
#[command(
    name = "rudder-admission-webhooks",
    version,
    about = "Admission webhooks for LimitRanger, ResourceQuota and NamespaceLifecycle, with the quota status reconciler"
)]
struct Args {
    #[command(flatten)]
    common: CommonArgs,

    /// Port of the HTTPS webhook server.
    #[arg(long, value_name = "PORT", default_value_t = 9443)]
    secure_port: u16,

    /// Address the webhook server listens on.
    #[arg(long, value_name = "IP", default_value = "0.0.0.0")]
    bind_address: IpAddr,

    /// PEM certificate (chain) the webhook server presents; reloaded when the file changes.
    #[arg(long, value_name = "PATH", required = true)]
    tls_cert_file: PathBuf,

    /// PEM private key of --tls-cert-file; reloaded when the file changes.
    #[arg(long, value_name = "PATH", required = true)]
    tls_private_key_file: PathBuf,

    /// The plugins served, comma-separated: LimitRanger, ResourceQuota, NamespaceLifecycle.
    #[arg(long, value_name = "NAMES", default_value = "LimitRanger,ResourceQuota,NamespaceLifecycle", value_parser = parse_plugins)]
    plugins: Plugins,

    /// How long a review may take before it is answered with an error
    /// (keep it under the webhooks' timeoutSeconds, 10s in the chart).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    request_timeout: Duration,

    /// How often every quota's usage is recomputed from the live objects.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    resource_quota_sync_period: Duration,

    /// Quotas reconciled at once.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    concurrent_resource_quota_syncs: u16,
}

impl HasCommon for Args {
    fn common(&self) -> &CommonArgs {
        &self.common
    }
}

async fn work(ctx: Context, args: Args, metrics: Metrics) -> anyhow::Result<()> {
    // The certificate first: a wrong file is reported before anything runs.
    let reloader = tls::Reloader::new(args.tls_cert_file.clone(), args.tls_private_key_file.clone())?;
    let tls_config = Arc::new(tls::server_config(reloader.certificate.clone())?);
    let addr = SocketAddr::new(args.bind_address, args.secure_port);
    let listener = rudder_common::http::bind(addr, "the webhooks").await?;
    info!(address = %listener.local_addr()?, plugins = ?args.plugins.0.iter().map(|p| p.name()).collect::<Vec<_>>(), "serving the admission webhooks over HTTPS");
    tokio::spawn(reloader.run());

    let config = Config {
        plugins: args.plugins.0.clone(),
        request_timeout: args.request_timeout,
        quota_resync: args.resource_quota_sync_period,
        quota_workers: args.concurrent_resource_quota_syncs,
    };
    let state = State::new(ctx.client.clone(), config, metrics);
    let reconciles = state.enabled(Plugin::ResourceQuota);
    // Namespaces, LimitRanges, ResourceQuotas, and the reconciler's own quota watch.
    let shell = Shell::new(&ctx, "resourcequota", if reconciles { 4 } else { 3 });
    let (namespaces, limit_ranges, quotas) = state.caches();
    let client = ctx.client.clone();
    tokio::spawn(namespaces.watch(Api::all(client.clone()), shell.synced_part()).for_each(|_| async {}));
    tokio::spawn(limit_ranges.watch(Api::all(client.clone()), shell.synced_part()).for_each(|_| async {}));
    tokio::spawn(quotas.watch(Api::all(client.clone()), shell.synced_part()).for_each(|_| async {}));

    let stop = ctx.stop.clone();
    let serving = tokio::spawn(server::serve(listener, tls_config, state.clone(), stop.wait()));
    if reconciles {
        let reconciler = quota::Reconciler::new(client, args.resource_quota_sync_period);
        quota::run(shell, reconciler, args.concurrent_resource_quota_syncs).await;
    } else {
        ctx.stop.clone().wait().await;
    }
    let _ = serving.await;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    // Every replica serves: a webhook behind a Service must answer from all
    // of them. The reconciler's writes carry resourceVersions, so replicas
    // recounting at once only retry.
    let args: Args = flags::parse_or_exit_with_defaults(&[("leader_elect", "false")]);
    let common = args.common.clone();
    runtime::run_with_metrics(&common, "rudder-admission-webhooks", Metrics::new, |ctx, m| work(ctx, args, m)).await
}
