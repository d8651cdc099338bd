//! `rudder-sandbox`: the sandbox API server as a command.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

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
    },
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Err(e) = run(cli).await {
        eprintln!("rudder-sandbox: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Apiserver { port, kubeconfig_out, watch_history } => {
            if watch_history == 0 {
                anyhow::bail!("--watch-history must be at least 1");
            }
            let cfg = rudder_sandbox::Config { port, history: watch_history, ..Default::default() };
            let sandbox = rudder_sandbox::Sandbox::start_with(cfg).await?;
            println!("rudder-sandbox apiserver listening on {}", sandbox.url());
            if let Some(path) = kubeconfig_out {
                std::fs::write(&path, sandbox.kubeconfig())
                    .map_err(|e| anyhow::anyhow!("cannot write kubeconfig to {}: {e}", path.display()))?;
                println!("kubeconfig written to {}", path.display());
                println!("export KUBECONFIG={}", path.display());
            } else {
                print!("{}", sandbox.kubeconfig());
            }
            wait_for_signal().await;
            println!("rudder-sandbox: stopping");
            sandbox.stop().await;
            Ok(())
        }
    }
}

async fn wait_for_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
