//! `rudder-scheduler`: assigns pending pods whose `spec.schedulerName` is one
//! of its profiles to nodes, as kube-scheduler does.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use rudder_common::flags::{self, CommonArgs, HasCommon};
use rudder_common::runtime;
use rudder_scheduler::{config, metrics::Metrics, registry, run};

#[derive(Debug, Parser)]
#[command(name = "rudder-scheduler", version, about = "Assigns pods to nodes with kube-scheduler's semantics")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,

    /// A KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1) file;
    /// without it, one default profile named rudder-scheduler.
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
}

impl HasCommon for Args {
    fn common(&self) -> &CommonArgs {
        &self.common
    }
}

fn load(path: Option<&PathBuf>) -> Result<config::Resolved, String> {
    let Some(path) = path else { return Ok(config::default_resolved()) };
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    config::parse(&text).map_err(|e| format!("invalid configuration {}: {e}", path.display()))
}

#[tokio::main]
async fn main() -> ExitCode {
    // kube-scheduler's client defaults: 50 QPS, burst 100 (KCM's are 20/30).
    let args: Args = flags::parse_or_exit_with_defaults(&[("kube_api_qps", "50"), ("kube_api_burst", "100")]);
    let resolved = match load(args.config.as_ref()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rudder-scheduler: {e}");
            return ExitCode::from(1);
        }
    };
    let profiles = match resolved.profiles.iter().map(registry::profile).collect::<Result<Vec<_>, _>>() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("rudder-scheduler: invalid configuration: {e}");
            return ExitCode::from(1);
        }
    };
    let backoff = (Duration::from_secs(resolved.initial_backoff_seconds), Duration::from_secs(resolved.max_backoff_seconds));
    runtime::run_with_metrics(&args.common, "rudder-scheduler", Metrics::new, move |ctx, metrics| run::run(ctx, profiles, backoff, metrics))
        .await
}
