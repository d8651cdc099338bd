//! The end-to-end harness.
//!
//! By default a test gets its own world: the sandbox API server in-process,
//! simulated nodes (fast heartbeats), and the Rudder binaries it asks for as
//! real child processes (found next to the test executable, i.e. in cargo's
//! target directory, or on PATH), killed when the world is dropped. With
//! `E2E_KUBECONFIG` set, the same tests run against that cluster instead,
//! where Rudder is already installed: nothing is started, and
//! [`World::restart`] deletes the component's pods (label
//! `app.kubernetes.io/name=<binary>`, namespace `E2E_RUDDER_NAMESPACE`,
//! default `rudder-system`) for its Deployment or a standby to take over.
//!
//! Every test works in a fresh namespace ([`World::namespace`]).
//!
//! With `E2E_RBAC=1` (on the sandbox), the sandbox authorizes with RBAC,
//! the chart's ServiceAccounts, ClusterRoles, Roles and bindings are loaded
//! (`helm template charts/rudder`, release `rudder` in `rudder-system`),
//! and each binary runs with its ServiceAccount's token and leader
//! election on (its Lease in `rudder-system`): a world whose components
//! were refused anything fails its test when it is dropped.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::api::{ObjectMeta, PostParams};
use rudder_sandbox::sim::{self, SimConfig};
use rudder_sandbox::up::components;

pub use rudder_sandbox::testing::eventually;

/// A running test world.
pub struct World {
    pub client: kube::Client,
    /// The kubeconfig binaries (and kubectl) use.
    pub kubeconfig: PathBuf,
    sandbox: Option<rudder_sandbox::Sandbox>,
    dir: Option<tempfile::TempDir>,
    _sim: Option<tokio::sync::oneshot::Sender<()>>,
    children: Vec<tokio::process::Child>,
    /// What each child was started as (binary name, extra arguments), in the order of `children`.
    started: Vec<(String, Vec<String>)>,
    /// The admission webhooks' port and certificate, once made.
    webhooks: Option<(u16, rudder_sandbox::up::certs::CertFiles, String)>,
}

/// Where the chart is installed (and its Leases are) in `E2E_RBAC` mode.
pub const CHART_NAMESPACE: &str = "rudder-system";

/// `E2E_RBAC=1`: see the crate's documentation.
pub fn rbac_mode() -> bool {
    std::env::var("E2E_RBAC").is_ok_and(|v| v == "1")
}

/// The ServiceAccount the chart (release `rudder`) gives a binary.
fn chart_service_account(binary: &str) -> anyhow::Result<String> {
    let key = match binary {
        "rudder-admission-webhooks" => "admission-webhooks",
        "rudder-scheduler" => "scheduler",
        "rudder-replicaset-controller" => "replicaset",
        "rudder-deployment-controller" => "deployment",
        "rudder-daemonset-controller" => "daemonset",
        "rudder-job-controller" => "job",
        "rudder-hpa-controller" => "hpa",
        other => anyhow::bail!("{other} has no ServiceAccount in the chart"),
    };
    Ok(format!("rudder-{key}"))
}

/// The webhook server's binary: a world that runs it starts the sandbox
/// without the built-in plugins it replaces and registers it as `up` does.
pub const WEBHOOKS: &str = "rudder-admission-webhooks";

/// With `E2E_KEEP_LOGS` set, a world's directory (the binaries' logs) is
/// kept when it is dropped, and its path printed.
impl Drop for World {
    fn drop(&mut self) {
        if let Some(s) = &self.sandbox
            && rbac_mode()
        {
            let denials = s.denials();
            let said = format!("the chart's RBAC refused the components {} request(s):\n{}", denials.len(), denials.join("\n"));
            if std::thread::panicking() {
                if !denials.is_empty() {
                    eprintln!("{said}");
                }
            } else {
                assert!(denials.is_empty(), "{said}");
            }
        }
        if std::env::var_os("E2E_KEEP_LOGS").is_some()
            && let Some(dir) = self.dir.take()
        {
            eprintln!("world logs kept in {}", dir.keep().display());
        }
    }
}

/// Keeps nodes added with [`World::add_nodes`] running.
pub struct NodesGuard {
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// The simulated nodes a world gets: three, with second-scale heartbeats.
pub fn sim_config() -> SimConfig {
    SimConfig { count: 3, heartbeat: Duration::from_millis(500), grace: Duration::from_secs(2), ..SimConfig::default() }
}

/// Where a Rudder binary is: next to the running test executable's
/// directory (cargo puts binaries in `target/<profile>/`, tests in
/// `target/<profile>/deps/`), else on PATH.
pub fn binary(name: &str) -> anyhow::Result<PathBuf> {
    components::find_binary(name, None)
}

impl World {
    /// A world with the given Rudder binaries running (e.g.
    /// `["rudder-replicaset-controller"]`), each with `--leader-elect=false`
    /// and OS-picked ports.
    pub async fn start(binaries: &[&str]) -> anyhow::Result<World> {
        let with: Vec<(&str, &[&str])> = binaries.iter().map(|b| (*b, &[][..])).collect();
        World::start_with_args(&with).await
    }

    /// As [`World::start`], with extra arguments for some binaries (e.g. a
    /// lower `--kube-api-qps`). Against E2E_KUBECONFIG the arguments are
    /// not applied: Rudder runs as installed there.
    pub async fn start_with_args(binaries: &[(&str, &[&str])]) -> anyhow::Result<World> {
        if let Some(path) = std::env::var_os("E2E_KUBECONFIG") {
            let path = PathBuf::from(path);
            let kc = kube::config::Kubeconfig::read_from(&path).with_context(|| format!("E2E_KUBECONFIG {}", path.display()))?;
            let config = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?;
            return Ok(World {
                client: kube::Client::try_from(config)?,
                kubeconfig: path,
                sandbox: None,
                dir: None,
                _sim: None,
                children: vec![],
                started: vec![],
                webhooks: None,
            });
        }
        let runs_webhooks = binaries.iter().any(|(b, _)| *b == WEBHOOKS);
        let mut cfg = rudder_sandbox::Config::default();
        cfg.api.rbac = rbac_mode();
        if runs_webhooks {
            cfg.api.admission = cfg.api.admission.without(rudder_sandbox::up::webhooks::REPLACED_PLUGINS);
        }
        let sandbox = rudder_sandbox::Sandbox::start_with(cfg).await?;
        let client = sandbox.client()?;
        let dir = tempfile::tempdir()?;
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, sandbox.kubeconfig())?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let sim_client = client.clone();
        tokio::spawn(async move {
            let _ = sim::run(sim_client, sim_config(), async move {
                let _ = stopped.await;
            })
            .await;
        });
        let mut world = World {
            client,
            kubeconfig,
            sandbox: Some(sandbox),
            dir: Some(dir),
            _sim: Some(stop),
            children: vec![],
            started: vec![],
            webhooks: None,
        };
        if runs_webhooks {
            let certs = rudder_sandbox::up::certs::Certs::generate()?;
            let files = certs.write(world.dir.as_ref().context("no world directory")?.path())?;
            world.webhooks = Some((rudder_sandbox::up::free_port()?, files, certs.ca_bundle()));
        }
        // As on a real cluster, the nodes are there before the components
        // start: a scheduler that begins with two of three zones would
        // spread over two (seen in CI).
        world.nodes_ready(sim_config().count).await?;
        if rbac_mode() {
            world.load_chart_rbac().await?;
        }
        for (name, extra) in binaries {
            let child = world.spawn(name, extra)?;
            world.children.push(child);
            world.started.push((name.to_string(), extra.iter().map(|a| a.to_string()).collect()));
        }
        if let Some((port, _, bundle)) = &world.webhooks {
            rudder_sandbox::up::webhooks::register(&world.client, &format!("https://127.0.0.1:{port}"), bundle).await?;
            world.webhooks_answer().await?;
        }
        Ok(world)
    }

    /// Creates `rudder-system` and the chart's ServiceAccounts and RBAC
    /// objects in it (what `helm install` would), as the administrator.
    async fn load_chart_rbac(&self) -> anyhow::Result<()> {
        use k8s_openapi::api::core::v1::ServiceAccount;
        use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
        let ns = Namespace { metadata: ObjectMeta { name: Some(CHART_NAMESPACE.into()), ..Default::default() }, ..Default::default() };
        Api::<Namespace>::all(self.client.clone()).create(&PostParams::default(), &ns).await?;
        let chart = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string()))
            .join("../charts/rudder");
        let helm = std::env::var("RUDDER_HELM").unwrap_or_else(|_| "helm".into());
        let out = tokio::process::Command::new(&helm)
            .args(["template", "rudder"])
            .arg(&chart)
            .args(["--namespace", CHART_NAMESPACE])
            .output()
            .await
            .with_context(|| format!("running {helm} (E2E_RBAC needs helm: RUDDER_HELM or PATH)"))?;
        anyhow::ensure!(out.status.success(), "helm template: {}", String::from_utf8_lossy(&out.stderr));
        let rendered = String::from_utf8(out.stdout)?;
        let pp = PostParams::default();
        let c = &self.client;
        for doc in rendered.split("\n---") {
            let Ok(v) = serde_yaml::from_str::<serde_json::Value>(doc) else { continue };
            match v.get("kind").and_then(|k| k.as_str()) {
                Some("ServiceAccount") => {
                    drop(Api::<ServiceAccount>::namespaced(c.clone(), CHART_NAMESPACE).create(&pp, &serde_json::from_value(v)?).await?)
                }
                Some("ClusterRole") => drop(Api::<ClusterRole>::all(c.clone()).create(&pp, &serde_json::from_value(v)?).await?),
                Some("ClusterRoleBinding") => {
                    drop(Api::<ClusterRoleBinding>::all(c.clone()).create(&pp, &serde_json::from_value(v)?).await?)
                }
                Some("Role") => drop(Api::<Role>::namespaced(c.clone(), CHART_NAMESPACE).create(&pp, &serde_json::from_value(v)?).await?),
                Some("RoleBinding") => {
                    drop(Api::<RoleBinding>::namespaced(c.clone(), CHART_NAMESPACE).create(&pp, &serde_json::from_value(v)?).await?)
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Waits (30 s at most) until `count` nodes exist and all are Ready.
    async fn nodes_ready(&self, count: usize) -> anyhow::Result<()> {
        let nodes: Api<k8s_openapi::api::core::v1::Node> = Api::all(self.client.clone());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let list = nodes.list(&Default::default()).await?;
            let ready = list.items.iter().filter(|n| {
                let conditions = n.status.as_ref().and_then(|s| s.conditions.as_ref());
                conditions.is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
            });
            if list.items.len() == count && ready.count() == count {
                return Ok(());
            }
            anyhow::ensure!(tokio::time::Instant::now() < deadline, "the {count} simulated nodes did not become Ready in 30 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits (30 s at most) until the registered webhooks admit a dry-run
    /// create: the server listens and its caches have listed.
    pub async fn webhooks_answer(&self) -> anyhow::Result<()> {
        let cms: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(self.client.clone(), "default");
        let cm = k8s_openapi::api::core::v1::ConfigMap {
            metadata: ObjectMeta { generate_name: Some("probe-".into()), ..Default::default() },
            ..Default::default()
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            match cms.create(&PostParams { dry_run: true, ..Default::default() }, &cm).await {
                Ok(_) => return Ok(()),
                Err(e) if tokio::time::Instant::now() > deadline => anyhow::bail!("the admission webhooks did not answer in 30 s: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Writes a certificate from a new authority over the webhook server's
    /// files and registers the new authority: requests succeed again once
    /// the running server serves the new certificate.
    pub async fn rotate_webhook_certificate(&self) -> anyhow::Result<()> {
        let (port, files, _) = self.webhooks.as_ref().context("this world runs no webhooks")?;
        let certs = rudder_sandbox::up::certs::Certs::generate()?;
        // Written aside and renamed, as a kubelet updates a mounted Secret.
        let dir = self.dir.as_ref().context("no world directory")?.path().join("rotated");
        std::fs::create_dir_all(&dir)?;
        let new = certs.write(&dir)?;
        std::fs::rename(&new.key, &files.key)?;
        std::fs::rename(&new.cert, &files.cert)?;
        rudder_sandbox::up::webhooks::register(&self.client, &format!("https://127.0.0.1:{port}"), &certs.ca_bundle()).await?;
        Ok(())
    }

    /// Starts one binary against this world's sandbox; its log goes to
    /// `<world dir>/<name>.log` (appended to, see [`World::log`]).
    fn spawn(&self, name: &str, extra: &[impl AsRef<std::ffi::OsStr>]) -> anyhow::Result<tokio::process::Child> {
        let dir = self.dir.as_ref().context("no world directory")?.path();
        let log = dir.join(format!("{name}.log"));
        let endpoints = components::Endpoints { metrics: "127.0.0.1:0".into(), health: "127.0.0.1:0".into() };
        let mut kubeconfig = self.kubeconfig.clone();
        if rbac_mode() {
            // The component as its chart ServiceAccount, electing its leader
            // through its Lease as the chart runs it (short terms, so that a
            // restarted component takes over quickly).
            let sandbox = self.sandbox.as_ref().context("no sandbox")?;
            kubeconfig = dir.join(format!("{name}.kubeconfig"));
            std::fs::write(&kubeconfig, sandbox.service_account_kubeconfig(CHART_NAMESPACE, &chart_service_account(name)?))?;
        }
        let mut cmd = components::command(&binary(name)?, &kubeconfig, &endpoints, &log)?;
        if rbac_mode() && name != WEBHOOKS {
            cmd.args(["--leader-elect=true", "--leader-elect-lease-duration=6s", "--leader-elect-renew-deadline=4s"]);
            cmd.args(["--leader-elect-retry-period=1s", &format!("--leader-elect-resource-namespace={CHART_NAMESPACE}")]);
        } else {
            cmd.arg("--leader-elect=false");
        }
        if name == "rudder-scheduler" {
            // As under `rudder-sandbox up`: both profiles, so that pods
            // naming no scheduler (default-scheduler) are placed too.
            let config = dir.join("scheduler-config.yaml");
            std::fs::write(&config, rudder_sandbox::up::SCHEDULER_CONFIG)?;
            cmd.arg("--config").arg(config);
        }
        if name == WEBHOOKS {
            let (port, files, _) = self.webhooks.as_ref().context("no webhook certificate")?;
            cmd.arg("--bind-address=127.0.0.1").arg(format!("--secure-port={port}"));
            cmd.arg("--tls-cert-file").arg(&files.cert).arg("--tls-private-key-file").arg(&files.key);
        }
        cmd.args(extra);
        cmd.spawn().with_context(|| format!("starting {name}"))
    }

    /// Kills a component abruptly (SIGKILL: no lease release, no cleanup)
    /// and starts it again with the same arguments. Against E2E_KUBECONFIG
    /// the component's pods are deleted with no grace period instead (pods
    /// labelled `app.kubernetes.io/name=<name>` in the namespace
    /// `E2E_RUDDER_NAMESPACE`, default `rudder-system`): its Deployment, or a
    /// standby replica holding the lease next, takes over.
    pub async fn restart(&mut self, name: &str) -> anyhow::Result<()> {
        if self.external() {
            let ns = std::env::var("E2E_RUDDER_NAMESPACE").unwrap_or_else(|_| "rudder-system".into());
            let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(self.client.clone(), &ns);
            let lp = kube::api::ListParams::default().labels(&format!("app.kubernetes.io/name={name}"));
            let dp = kube::api::DeleteParams { grace_period_seconds: Some(0), ..Default::default() };
            let deleted = pods.delete_collection(&dp, &lp).await?;
            anyhow::ensure!(deleted.is_right() || deleted.left().is_some_and(|l| !l.items.is_empty()), "no pod of {name} in {ns}");
            return Ok(());
        }
        let i = self.started.iter().position(|(n, _)| n == name).with_context(|| format!("{name} was not started in this world"))?;
        let child = &mut self.children[i];
        child.start_kill()?;
        child.wait().await?;
        let extra = self.started[i].1.clone();
        self.children[i] = self.spawn(name, &extra)?;
        Ok(())
    }

    /// True when running against a cluster given by E2E_KUBECONFIG.
    pub fn external(&self) -> bool {
        self.sandbox.is_none()
    }

    /// A fresh namespace for one test, `e2e-<random>`.
    pub async fn namespace(&self) -> anyhow::Result<String> {
        let name = format!("e2e-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let ns = Namespace { metadata: ObjectMeta { name: Some(name.clone()), ..Default::default() }, ..Default::default() };
        Api::<Namespace>::all(self.client.clone()).create(&PostParams::default(), &ns).await?;
        Ok(name)
    }

    /// More simulated nodes (against the sandbox, or the E2E_KUBECONFIG
    /// cluster), running until the returned guard is dropped. Give each
    /// test's nodes their own `prefix`.
    pub fn add_nodes(&self, cfg: SimConfig) -> NodesGuard {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let client = self.client.clone();
        tokio::spawn(async move {
            let _ = sim::run(client, cfg, async move {
                let _ = stopped.await;
            })
            .await;
        });
        NodesGuard { _stop: stop }
    }

    /// Runs kubectl (`$RUDDER_KUBECTL`, else `kubectl` on PATH; the
    /// README's test command installs one) against this world; returns its
    /// exit status and what it printed (stdout, then stderr).
    pub async fn kubectl(&self, args: &[&str]) -> anyhow::Result<(std::process::ExitStatus, String)> {
        kubectl(&self.kubeconfig, args).await
    }

    /// What a started binary has logged so far.
    pub fn log(&self, name: &str) -> String {
        self.dir.as_ref().and_then(|d| std::fs::read_to_string(d.path().join(format!("{name}.log"))).ok()).unwrap_or_default()
    }

    /// What a started binary serves on `/metrics` now (its address read
    /// from its log's `serving /metrics` line). Not against E2E_KUBECONFIG.
    pub async fn metrics(&self, name: &str) -> anyhow::Result<String> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let log = self.log(name);
        let line = log.lines().rfind(|l| l.contains("serving /metrics")).with_context(|| format!("{name} serves no /metrics"))?;
        let address = line.split_whitespace().find_map(|w| w.strip_prefix("address=")).context("no address in the log line")?;
        let mut conn = tokio::net::TcpStream::connect(address).await.with_context(|| format!("connecting to {address}"))?;
        conn.write_all(format!("GET /metrics HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").as_bytes()).await?;
        let mut body = String::new();
        conn.read_to_string(&mut body).await?;
        anyhow::ensure!(body.starts_with("HTTP/1.1 200"), "GET /metrics: {body}");
        Ok(body)
    }

    /// The started binaries' processes.
    pub fn children(&mut self) -> &mut [tokio::process::Child] {
        &mut self.children
    }
}

/// Runs kubectl in namespace `ns` (see [`kubectl`]); panics if kubectl
/// cannot be run at all.
pub async fn kubectl_in(kubeconfig: &std::path::Path, ns: &str, args: &[&str]) -> (std::process::ExitStatus, String) {
    let mut all = vec!["-n", ns];
    all.extend_from_slice(args);
    kubectl(kubeconfig, &all).await.expect("kubectl runs")
}

/// As [`kubectl_in`], asserting that kubectl succeeded; what it printed.
pub async fn kubectl_in_ok(kubeconfig: &std::path::Path, ns: &str, args: &[&str]) -> String {
    let (status, out) = kubectl_in(kubeconfig, ns, args).await;
    assert!(status.success(), "kubectl {args:?}: {out}");
    out
}

/// Runs kubectl (`$RUDDER_KUBECTL`, else `kubectl` on PATH) with this
/// kubeconfig; returns its exit status and what it printed (stdout, then
/// stderr).
pub async fn kubectl(kubeconfig: &std::path::Path, args: &[&str]) -> anyhow::Result<(std::process::ExitStatus, String)> {
    let exe = std::env::var_os("RUDDER_KUBECTL").unwrap_or_else(|| "kubectl".into());
    let out = tokio::process::Command::new(&exe)
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .kill_on_drop(true)
        .output()
        .await
        .with_context(|| format!("running {}", exe.to_string_lossy()))?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    Ok((out.status, text))
}
