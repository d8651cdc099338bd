//! `rudder-sandbox`: the sandbox API server as a command.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use rudder_common::http::shutdown_signal;

#[derive(Parser)]
#[command(name = "rudder-sandbox", version, about = "An in-memory, Kubernetes-compatible API server for tests and laptops")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the sandbox API server on 127.0.0.1 (plain HTTP).
    Apiserver {
        /// Port to listen on; 0 picks a free one.
        #[arg(long, default_value_t = 6443)]
        port: u16,
        /// Where to write a kubeconfig for the server.
        #[arg(long)]
        kubeconfig_out: Option<PathBuf>,
        /// Events kept per resource for watches from a resourceVersion.
        #[arg(long, default_value_t = rudder_sandbox::store::DEFAULT_HISTORY)]
        watch_history: usize,
        /// Admission plugins to enable besides the defaults, as
        /// kube-apiserver's flag (comma-separated; repeatable). The sandbox
        /// has NamespaceLifecycle, Priority, DefaultTolerationSeconds,
        /// MutatingAdmissionWebhook and ValidatingAdmissionWebhook, all on by
        /// default.
        #[arg(long, value_name = "NAMES")]
        enable_admission_plugins: Vec<String>,
        /// Admission plugins to disable, as kube-apiserver's flag
        /// (comma-separated; repeatable).
        #[arg(long, value_name = "NAMES")]
        disable_admission_plugins: Vec<String>,
        /// AlwaysAllow, or RBAC (Roles, ClusterRoles and their bindings
        /// decide; the kubeconfig written is the administrator's).
        #[arg(long, value_name = "MODE", default_value = "AlwaysAllow", value_parser = ["AlwaysAllow", "RBAC"])]
        authorization_mode: String,
    },
    /// Run simulated nodes against an API server (any, through its public
    /// API): Node objects with heartbeats and Leases, and the kubelet's part
    /// of the life of the pods bound to them.
    Nodes {
        /// Kubeconfig of the API server (default: KUBECONFIG, ~/.kube/config).
        #[arg(long)]
        kubeconfig: Option<PathBuf>,
        /// How many nodes: PREFIX-0 .. PREFIX-(N-1).
        #[arg(long, default_value_t = 3)]
        count: usize,
        #[arg(long, default_value = "sim-node")]
        prefix: String,
        /// Capacity and allocatable CPU of each node.
        #[arg(long, default_value = "8")]
        cpu: String,
        #[arg(long, default_value = "32Gi")]
        memory: String,
        #[arg(long, default_value = "110")]
        pods: String,
        /// Zones the nodes are spread over (comma-separated).
        #[arg(long, default_value = "zone-a,zone-b,zone-c", value_delimiter = ',')]
        zones: Vec<String>,
        /// A taint on every node (key[=value]:Effect); repeatable.
        #[arg(long, value_parser = rudder_sandbox::sim::node::parse_taint)]
        taint: Vec<k8s_openapi::api::core::v1::Taint>,
        /// Heartbeat and Lease renewal period.
        #[arg(long, default_value = "10s", value_parser = rudder_common::flags::parse_duration)]
        heartbeat: std::time::Duration,
        /// How long a stopped node stays Ready before it turns Unknown.
        #[arg(long, default_value = "50s", value_parser = rudder_common::flags::parse_duration)]
        grace_period: std::time::Duration,
    },
    /// The whole system: the API server, simulated nodes and every Rudder
    /// component as a child process, with the admission webhooks registered.
    /// Ctrl-C stops everything.
    Up {
        /// API server port on 127.0.0.1; 0 picks a free one.
        #[arg(long, default_value_t = 6443)]
        port: u16,
        /// How many simulated nodes.
        #[arg(long, default_value_t = 3)]
        nodes: usize,
        /// Which components: a comma-separated subset of admission-webhooks,
        /// scheduler, replicaset, deployment, daemonset, job, hpa; or all, or
        /// none. Named components must exist; with the default (all) missing
        /// ones are reported and the rest run.
        #[arg(long, value_name = "LIST", value_parser = |s: &str| rudder_sandbox::up::parse_components(s).map(ComponentList))]
        components: Option<ComponentList>,
        /// Look for the component binaries only in this directory (default:
        /// next to rudder-sandbox, then PATH).
        #[arg(long, value_name = "DIR")]
        bin_dir: Option<PathBuf>,
        /// Where the kubeconfig, logs and certificates go; kept on exit
        /// (default: a temporary directory, removed on exit).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Also write the kubeconfig here.
        #[arg(long, value_name = "PATH")]
        kubeconfig_out: Option<PathBuf>,
    },
    /// Node faults on demand: stop or start a simulated node's kubelet, or taint a node.
    Node {
        #[arg(long, global = true)]
        kubeconfig: Option<PathBuf>,
        #[command(subcommand)]
        action: NodeAction,
    },
}

/// The value of `up --components`.
#[derive(Clone)]
struct ComponentList(Vec<rudder_sandbox::up::Component>);

#[derive(Subcommand)]
enum NodeAction {
    /// The node stops heart-beating; after the grace period it turns Unknown and unreachable.
    Stop { name: String },
    /// The node heart-beats again: Ready, the unreachable taints removed.
    Start { name: String },
    /// Adds a taint (key[=value]:Effect).
    Taint {
        name: String,
        #[arg(value_parser = rudder_sandbox::sim::node::parse_taint)]
        taint: k8s_openapi::api::core::v1::Taint,
    },
}

async fn client_for(kubeconfig: Option<PathBuf>) -> anyhow::Result<kube::Client> {
    let config = match kubeconfig {
        Some(path) => {
            let kc = kube::config::Kubeconfig::read_from(&path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?
        }
        None => kube::Config::infer().await?,
    };
    Ok(kube::Client::try_from(config)?)
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        // warp logs every connection a client drops mid-request (a watch
        // closed by a stopping component) as an error; those are not ours.
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,warp::server=off".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Err(e) = run(cli).await {
        // An API error is its Status message, as kubectl prints it.
        match e.downcast_ref::<kube::Error>() {
            Some(kube::Error::Api(status)) => eprintln!("rudder-sandbox: {}", status.message),
            _ => eprintln!("rudder-sandbox: {}", rudder_common::runtime::chain(e.as_ref())),
        }
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Nodes { kubeconfig, count, prefix, cpu, memory, pods, zones, taint, heartbeat, grace_period } => {
            let client = client_for(kubeconfig).await?;
            let cfg =
                rudder_sandbox::sim::SimConfig { count, prefix, cpu, memory, pods, zones, taints: taint, heartbeat, grace: grace_period };
            rudder_sandbox::sim::run(client, cfg, shutdown_signal()).await
        }
        Command::Up { port, nodes, components, bin_dir, dir, kubeconfig_out } => {
            let cfg = rudder_sandbox::up::UpConfig {
                port,
                nodes,
                require_all: components.is_some(),
                components: components.map_or_else(|| rudder_sandbox::up::Component::ALL.to_vec(), |c| c.0),
                bin_dir,
                dir,
                kubeconfig_out,
            };
            rudder_sandbox::up::run(cfg, shutdown_signal()).await
        }
        Command::Node { kubeconfig, action } => {
            let client = client_for(kubeconfig).await?;
            match action {
                NodeAction::Stop { name } => rudder_sandbox::sim::set_stopped(client, &name, true).await?,
                NodeAction::Start { name } => rudder_sandbox::sim::set_stopped(client, &name, false).await?,
                NodeAction::Taint { name, taint } => rudder_sandbox::sim::taint(client, &name, taint).await?,
            }
            Ok(())
        }
        Command::Apiserver {
            port,
            kubeconfig_out,
            watch_history,
            enable_admission_plugins,
            disable_admission_plugins,
            authorization_mode,
        } => {
            if watch_history == 0 {
                anyhow::bail!("--watch-history must be at least 1");
            }
            let split = |v: &[String]| v.iter().flat_map(|x| rudder_sandbox::admission::split_flag(x)).collect::<Vec<_>>();
            let admission =
                rudder_sandbox::admission::Plugins::from_flags(&split(&enable_admission_plugins), &split(&disable_admission_plugins))
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            let plugins = admission.names().join(",");
            let signal = shutdown_signal();
            let api = rudder_sandbox::Options { admission, rbac: authorization_mode == "RBAC", ..Default::default() };
            let cfg = rudder_sandbox::Config { port, history: watch_history, api };
            let sandbox = rudder_sandbox::Sandbox::start_with(cfg).await?;
            println!("rudder-sandbox apiserver listening on {}", sandbox.url());
            println!("admission plugins: {plugins}");
            println!("authorization mode: {authorization_mode}");
            if let Some(path) = kubeconfig_out {
                std::fs::write(&path, sandbox.kubeconfig())
                    .map_err(|e| anyhow::anyhow!("cannot write kubeconfig to {}: {e}", path.display()))?;
                println!("kubeconfig written to {}", path.display());
                println!("export KUBECONFIG={}", path.display());
            } else {
                print!("{}", sandbox.kubeconfig());
            }
            signal.await;
            println!("rudder-sandbox: stopping");
            sandbox.stop().await;
            Ok(())
        }
    }
}
