//! rudder-sandbox: an in-memory, Kubernetes-compatible API server in one
//! process, for tests and laptops.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let sandbox = rudder_sandbox::Sandbox::start().await?;
//! let client = sandbox.client()?;
//! // ... use `client` as against any cluster; dropping `sandbox` stops it.
//! # Ok(()) }
//! ```

pub mod admission;
pub mod alloc;
pub mod api;
pub mod controllers;
pub mod convert;
pub mod defaults;
pub mod discovery;
pub mod managed;
pub mod meta;
pub mod metrics_api;
pub mod namespace_controller;
pub mod openapi;
pub mod protobuf;
pub mod rbac;
pub mod registry;
pub mod request;
pub mod resets;
pub mod server;
pub mod sim;
pub mod status;
pub mod store;
pub mod strategic;
pub mod table;
pub mod testing;
pub mod up;
pub mod validation;
pub mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

pub use api::Options;
pub use store::Store;

/// Settings for [`Sandbox::start_with`].
#[derive(Debug, Clone)]
pub struct Config {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Events kept per resource for watches from a resourceVersion.
    pub history: usize,
    pub api: Options,
}

impl Default for Config {
    fn default() -> Self {
        Self { port: 0, history: store::DEFAULT_HISTORY, api: Options::default() }
    }
}

/// A running sandbox API server. Dropping it stops the server.
pub struct Sandbox {
    addr: SocketAddr,
    api: Arc<api::Api>,
    stop: Option<oneshot::Sender<()>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Sandbox {
    /// Starts a sandbox on a free port with default settings.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(Config::default()).await
    }

    pub async fn start_with(cfg: Config) -> anyhow::Result<Self> {
        let store = Arc::new(Store::new(cfg.history));
        let api = Arc::new(api::Api::new(store, cfg.api));
        if api.opts.rbac {
            for (plural, obj) in rbac::bootstrap() {
                let r = registry::find("rbac.authorization.k8s.io", "v1", plural).expect("RBAC is served");
                api.create_internal(r, None, obj, "kube-apiserver").await.map_err(|e| anyhow::anyhow!("RBAC bootstrap: {}", e.message))?;
            }
        }
        let mut tasks = controllers::start(api.clone()).await;
        let (listener, addr) = server::bind(cfg.port).await.map_err(|e| anyhow::anyhow!("cannot listen on 127.0.0.1:{}: {e}", cfg.port))?;
        let (stop, stopped) = oneshot::channel::<()>();
        tasks.push(tokio::spawn(server::serve(api.clone(), listener, async move {
            let _ = stopped.await;
        })));
        Ok(Self { addr, api, stop: Some(stop), tasks })
    }

    /// The server's URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A client for the sandbox.
    pub fn client(&self) -> anyhow::Result<kube::Client> {
        let mut cfg = kube::Config::new(self.url().parse()?);
        cfg.default_namespace = "default".into();
        cfg.read_timeout = Some(Duration::from_secs(295));
        Ok(kube::Client::try_from(cfg)?)
    }

    /// A kubeconfig for the sandbox, as YAML.
    pub fn kubeconfig(&self) -> String {
        kubeconfig_yaml(&self.url())
    }

    /// A kubeconfig that authenticates as the ServiceAccount `namespace/name`
    /// (a token the sandbox issues; with RBAC on, what its roles allow).
    pub fn service_account_kubeconfig(&self, namespace: &str, name: &str) -> String {
        let token = self.api.tokens.issue(rbac::User::service_account(namespace, name));
        kubeconfig_yaml(&self.url()).replace(&format!("token: {}", rbac::ADMIN_TOKEN), &format!("token: {token}"))
    }

    /// The messages of every request RBAC refused so far.
    pub fn denials(&self) -> Vec<String> {
        self.api.denials.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The storage, for tests that need to reach behind the API (forcing a
    /// compaction, say).
    pub fn store(&self) -> &Arc<Store> {
        &self.api.store
    }

    /// Stops the server and waits for it.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        self.api.store.close_watches();
        for t in self.tasks.drain(..) {
            t.abort();
            let _ = t.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        self.api.store.close_watches();
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// A kubeconfig that kube-rs, kubectl and helm accept, for a server at `url`.
pub fn kubeconfig_yaml(url: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: rudder-sandbox
  cluster:
    server: {url}
users:
- name: rudder-sandbox
  user:
    token: rudder-sandbox
contexts:
- name: rudder-sandbox
  context:
    cluster: rudder-sandbox
    user: rudder-sandbox
    namespace: default
current-context: rudder-sandbox
"
    )
}
