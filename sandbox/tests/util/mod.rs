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
