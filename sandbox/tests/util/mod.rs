//! Shared helpers for the sandbox conformance tests.
#![allow(dead_code)]

pub mod hooks;

use kube::Client;
use rudder_sandbox::Sandbox;
use serde_json::Value;

/// A sandbox with its kubeconfig written to a temporary directory, for
/// tests that run kubectl or helm.
pub struct ToolEnv {
    pub sandbox: Sandbox,
    pub dir: tempfile::TempDir,
}

impl ToolEnv {
    pub async fn start() -> ToolEnv {
        let sandbox = Sandbox::start().await.expect("sandbox starts");
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("kubeconfig"), sandbox.kubeconfig()).expect("kubeconfig written");
        ToolEnv { sandbox, dir }
    }

    pub fn kubeconfig(&self) -> std::path::PathBuf {
        self.dir.path().join("kubeconfig")
    }

    pub fn client(&self) -> Client {
        self.sandbox.client().expect("client")
    }

    /// `tool` with only this sandbox's kubeconfig and a private HOME (and
    /// helm's directories under it), run in that directory; stdio piped,
    /// killed when dropped.
    pub fn command(&self, tool: Tool, args: &[&str]) -> tokio::process::Command {
        let home = self.dir.path();
        let mut c = tokio::process::Command::new(tool.path());
        c.args(args)
            .current_dir(home)
            .env("KUBECONFIG", self.kubeconfig())
            .env("HOME", home)
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_DATA_HOME", home.join("data"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        c
    }

    /// Runs `tool` to completion (within two minutes) with `stdin` fed in;
    /// returns (success, stdout, stderr).
    pub async fn run_tool(&self, tool: Tool, args: &[&str], stdin: &str) -> (bool, String, String) {
        let mut child = self
            .command(tool, args)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {} ({}): {e}; run scripts/test.sh, or set {}", tool.name(), tool.path(), tool.var()));
        {
            use tokio::io::AsyncWriteExt;
            let mut input = child.stdin.take().expect("stdin");
            input.write_all(stdin.as_bytes()).await.expect("stdin written");
        }
        let out = tokio::time::timeout(std::time::Duration::from_secs(120), child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("{} {args:?} did not finish", tool.name()))
            .expect("tool output");
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The command-line tools the tests run, from scripts/tools.sh.
#[derive(Clone, Copy, Debug)]
pub enum Tool {
    Kubectl,
    Helm,
}

impl Tool {
    pub fn name(self) -> &'static str {
        match self {
            Tool::Kubectl => "kubectl",
            Tool::Helm => "helm",
        }
    }

    fn var(self) -> &'static str {
        match self {
            Tool::Kubectl => "RUDDER_KUBECTL",
            Tool::Helm => "RUDDER_HELM",
        }
    }

    /// `$RUDDER_KUBECTL` / `$RUDDER_HELM`, else the name on PATH.
    pub fn path(self) -> String {
        std::env::var(self.var()).ok().filter(|p| !p.is_empty()).unwrap_or_else(|| self.name().into())
    }
}

/// A client that does not retry 429/503/504 by itself (kube-rs's default
/// client does), for tests that expect those answers.
pub fn no_retry(s: &Sandbox) -> Client {
    let mut cfg = kube::Config::new(s.url().parse().expect("url"));
    cfg.default_namespace = "default".into();
    cfg.default_retry = false;
    Client::try_from(cfg).expect("client")
}

/// A raw request: (status code, body as JSON, or as a string if not JSON).
pub async fn raw(client: &Client, method: &str, path: &str, content_type: &str, body: &str) -> (u16, Value) {
    let req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type)
        .body(body.as_bytes().to_vec())
        .expect("request");
    let resp = client.send(req.map(kube::client::Body::from)).await.expect("response");
    let code = resp.status().as_u16();
    let bytes = http_body_util::BodyExt::collect(resp.into_body()).await.expect("body").to_bytes();
    let v = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (code, v)
}

#[allow(unused_imports)]
pub use rudder_sandbox::testing::{eventually, start};

/// The error a kube call failed with, as the API's Status.
pub fn status(e: kube::Error) -> kube::core::Status {
    match e {
        kube::Error::Api(s) => *s,
        other => panic!("expected an API error, got {other:?}"),
    }
}
