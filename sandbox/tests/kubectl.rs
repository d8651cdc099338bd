//! kubectl against the sandbox, with nothing but the kubeconfig it writes:
//! apply (client- and server-side), create secret/configmap (protobuf
//! bodies), get -o yaml, get -w, patch (strategic, merge, json), scale,
//! delete --cascade=foreground and describe.
//!
//! kubectl comes from `RUDDER_KUBECTL`, else `PATH`; `scripts/test.sh`
//! installs it. A missing kubectl fails these tests: they are never skipped.

mod util;

use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::PostParams;
use serde_json::json;
use tokio::io::AsyncReadExt;
use util::{Tool, ToolEnv, eventually};

/// kubectl over a [`ToolEnv`].
struct Env(ToolEnv);

impl std::ops::Deref for Env {
    type Target = ToolEnv;
    fn deref(&self) -> &ToolEnv {
        &self.0
    }
}

impl Env {
    async fn start() -> Env {
        Env(ToolEnv::start().await)
    }

    fn command(&self, args: &[&str]) -> tokio::process::Command {
        self.0.command(Tool::Kubectl, args)
    }

    /// Runs kubectl to completion (bounded), with `stdin` fed in; returns stdout.
    /// Panics with kubectl's stderr if it fails.
    async fn run_with(&self, args: &[&str], stdin: &str) -> String {
        let (ok, stdout, stderr) = self.run_tool(Tool::Kubectl, args, stdin).await;
        assert!(ok, "kubectl {args:?} failed: {stderr}\n{stdout}");
        stdout
    }

    async fn run(&self, args: &[&str]) -> String {
        self.run_with(args, "").await
    }
}

const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports:
        - containerPort: 80
      - name: sidecar
        image: busybox:1.36
"#;

fn images(d: &Deployment) -> Vec<(String, String)> {
    d.spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .map(|p| p.containers.iter().map(|c| (c.name.clone(), c.image.clone().unwrap_or_default())).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn apply_creates_then_updates_from_a_file() {
    let env = Env::start().await;
    let file = env.dir.path().join("web.yaml");
    std::fs::write(&file, DEPLOYMENT).expect("manifest written");
    let out = env.run(&["apply", "-f", file.to_str().expect("path")]).await;
    assert_eq!(out.trim(), "deployment.apps/web created");
    let api: Api<Deployment> = Api::namespaced(env.client(), "default");
    let d = api.get("web").await.expect("deployment");
    assert!(
        d.metadata.annotations.unwrap_or_default().contains_key("kubectl.kubernetes.io/last-applied-configuration"),
        "kubectl apply records the last applied configuration"
    );
    // Defaults were applied by the server.
    let spec = d.spec.expect("spec");
    assert_eq!(spec.revision_history_limit, Some(10));
    assert_eq!(spec.progress_deadline_seconds, Some(600));

    std::fs::write(&file, DEPLOYMENT.replace("nginx:1.27", "nginx:1.28")).expect("manifest written");
    let out = env.run(&["apply", "-f", file.to_str().expect("path")]).await;
    assert_eq!(out.trim(), "deployment.apps/web configured");
    let d = api.get("web").await.expect("deployment");
    assert_eq!(images(&d), [("nginx".to_string(), "nginx:1.28".to_string()), ("sidecar".to_string(), "busybox:1.36".to_string())]);
    assert_eq!(d.metadata.generation, Some(2));

    let out = env.run(&["apply", "-f", file.to_str().expect("path")]).await;
    assert_eq!(out.trim(), "deployment.apps/web unchanged");
}

#[tokio::test]
async fn apply_server_side_creates_updates_prunes_fields_and_reports_conflicts() {
    let env = Env::start().await;
    let file = env.dir.path().join("web.yaml");
    let path = file.to_str().expect("path");
    std::fs::write(&file, DEPLOYMENT).expect("manifest written");
    let out = env.run(&["apply", "--server-side", "-f", path]).await;
    assert_eq!(out.trim(), "deployment.apps/web serverside-applied");
    let api: Api<Deployment> = Api::namespaced(env.client(), "default");
    let d = api.get("web").await.expect("deployment");
    let managers: Vec<(String, String)> = d
        .metadata
        .managed_fields
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|e| (e.manager.unwrap_or_default(), e.operation.unwrap_or_default()))
        .collect();
    assert_eq!(managers, [("kubectl".to_string(), "Apply".to_string())]);
    assert!(!d.metadata.annotations.unwrap_or_default().contains_key("kubectl.kubernetes.io/last-applied-configuration"));

    // The sidecar leaves the manifest: it leaves the object.
    let without_sidecar = DEPLOYMENT.replace("      - name: sidecar\n        image: busybox:1.36\n", "");
    std::fs::write(&file, &without_sidecar).expect("manifest written");
    let out = env.run(&["apply", "--server-side", "-f", path]).await;
    assert_eq!(out.trim(), "deployment.apps/web serverside-applied");
    let d = api.get("web").await.expect("deployment");
    assert_eq!(images(&d), [("nginx".to_string(), "nginx:1.27".to_string())]);

    // kubectl scale takes spec.replicas; applying another count conflicts.
    env.run(&["scale", "deployment/web", "--replicas=4"]).await;
    std::fs::write(&file, without_sidecar.replace("replicas: 2", "replicas: 3")).expect("manifest written");
    let out = env.command(&["apply", "--server-side", "-f", path]).output().await.expect("kubectl runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Apply failed with 1 conflict: conflict with \"kubectl\" with subresource \"scale\""), "{stderr}");
    assert!(stderr.contains(".spec.replicas"), "{stderr}");
    let out = env.run(&["apply", "--server-side", "--force-conflicts", "-f", path]).await;
    assert_eq!(out.trim(), "deployment.apps/web serverside-applied");
    assert_eq!(api.get("web").await.expect("deployment").spec.expect("spec").replicas, Some(3));
}

#[tokio::test]
async fn create_secret_and_configmap_send_protobuf_bodies() {
    let env = Env::start().await;
    // kubectl's typed clients send these as application/vnd.kubernetes.protobuf.
    let out = env.run(&["create", "secret", "generic", "creds", "--from-literal=user=admin", "--from-literal=pass=s3cr3t"]).await;
    assert_eq!(out.trim(), "secret/creds created");
    let out = env.run(&["create", "configmap", "settings", "--from-literal=mode=fast"]).await;
    assert_eq!(out.trim(), "configmap/settings created");
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(env.client(), "default");
    let s = secrets.get("creds").await.expect("secret");
    let data = s.data.expect("data");
    assert_eq!(data["user"].0, b"admin");
    assert_eq!(data["pass"].0, b"s3cr3t");
    assert_eq!(s.type_.as_deref(), Some("Opaque"));
    let cms: Api<ConfigMap> = Api::namespaced(env.client(), "default");
    assert_eq!(cms.get("settings").await.expect("configmap").data.expect("data")["mode"], "fast");
    // Deleting sends DeleteOptions as protobuf too.
    let out = env.run(&["delete", "secret", "creds"]).await;
    assert!(out.starts_with("secret \"creds\" deleted"), "{out}");
    assert!(secrets.get_opt("creds").await.expect("get").is_none());
}

#[tokio::test]
async fn apply_reads_from_stdin_and_reports_invalid_objects() {
    let env = Env::start().await;
    let out = env.run_with(&["apply", "-f", "-"], "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: '1'}\n").await;
    assert_eq!(out.trim(), "configmap/settings created");
    let mut child = env.command(&["apply", "-f", "-"]).spawn().expect("kubectl runs");
    {
        use tokio::io::AsyncWriteExt;
        let mut input = child.stdin.take().expect("stdin");
        input.write_all(DEPLOYMENT.replace("replicas: 2", "replicas: -1").as_bytes()).await.expect("stdin");
    }
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output()).await.expect("finishes").expect("output");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("The Deployment \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"),
        "{stderr}"
    );
}

#[tokio::test]
async fn get_prints_yaml_and_tables() {
    let env = Env::start().await;
    let api: Api<ConfigMap> = Api::namespaced(env.client(), "default");
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "hello"}, "data": {"greeting": "hi"}})).expect("cm");
    api.create(&PostParams::default(), &cm).await.expect("created");
    let yaml = env.run(&["get", "configmap", "hello", "-o", "yaml"]).await;
    let v: serde_json::Value = serde_yaml::from_str(&yaml).expect("kubectl prints YAML");
    assert_eq!(v["kind"], "ConfigMap");
    assert_eq!(v["data"]["greeting"], "hi");
    assert!(v["metadata"]["uid"].as_str().is_some_and(|u| !u.is_empty()));
    let table = env.run(&["get", "namespaces"]).await;
    let first = table.lines().next().unwrap_or_default();
    assert!(first.starts_with("NAME") && first.contains("STATUS") && first.contains("AGE"), "{table}");
    assert!(table.lines().any(|l| l.starts_with("kube-system") && l.contains("Active")), "{table}");
}

#[tokio::test]
async fn get_watch_streams_changes() {
    let env = Env::start().await;
    let mut child = env.command(&["get", "configmaps", "-w", "--output-watch-events"]).spawn().expect("kubectl runs");
    let mut stdout = child.stdout.take().expect("stdout");
    // The initial list is printed first (kube-root-ca.crt may or may not
    // exist: wait for the watch to be established by creating after a list).
    let api: Api<ConfigMap> = Api::namespaced(env.client(), "default");
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    let mut created = 0;
    let found = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            // Keep creating until one shows up: the watch may start after the first.
            created += 1;
            let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": format!("watched-{created}")}})).expect("cm");
            api.create(&PostParams::default(), &cm).await.expect("created");
            match tokio::time::timeout(Duration::from_millis(500), stdout.read(&mut buf)).await {
                Ok(Ok(0)) => return false,
                Ok(Ok(n)) => {
                    seen.push_str(&String::from_utf8_lossy(&buf[..n]));
                    if seen.lines().any(|l| l.starts_with("ADDED") && l.contains("watched-")) {
                        return true;
                    }
                }
                Ok(Err(_)) => return false,
                Err(_) => {}
            }
        }
    })
    .await;
    child.kill().await.expect("kubectl stopped");
    assert_eq!(found, Ok(true), "kubectl get -w printed: {seen}");
}

#[tokio::test]
async fn patch_with_each_patch_type() {
    let env = Env::start().await;
    env.run_with(&["apply", "-f", "-"], DEPLOYMENT).await;
    let api: Api<Deployment> = Api::namespaced(env.client(), "default");

    // Strategic (kubectl's default): containers merge by name.
    env.run(&["patch", "deployment", "web", "-p", r#"{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:2"}]}}}}"#])
        .await;
    let d = api.get("web").await.expect("deployment");
    assert_eq!(images(&d), [("nginx".to_string(), "nginx:2".to_string()), ("sidecar".to_string(), "busybox:1.36".to_string())]);

    // Merge: the list is replaced whole.
    env.run(&[
        "patch",
        "deployment",
        "web",
        "--type=merge",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"only","image":"only:1"}]}}}}"#,
    ])
    .await;
    let d = api.get("web").await.expect("deployment");
    assert_eq!(images(&d), [("only".to_string(), "only:1".to_string())]);

    // JSON patch.
    env.run(&["patch", "deployment", "web", "--type=json", "-p", r#"[{"op":"replace","path":"/spec/replicas","value":5}]"#]).await;
    let d = api.get("web").await.expect("deployment");
    assert_eq!(d.spec.and_then(|s| s.replicas), Some(5));
}

#[tokio::test]
async fn scale_deployment() {
    let env = Env::start().await;
    env.run_with(&["apply", "-f", "-"], DEPLOYMENT).await;
    let out = env.run(&["scale", "deployment", "web", "--replicas=7"]).await;
    assert_eq!(out.trim(), "deployment.apps/web scaled");
    let api: Api<Deployment> = Api::namespaced(env.client(), "default");
    assert_eq!(api.get("web").await.expect("deployment").spec.and_then(|s| s.replicas), Some(7));
}

#[tokio::test]
async fn delete_with_foreground_cascade_removes_dependents_first() {
    let env = Env::start().await;
    env.run_with(&["apply", "-f", "-"], DEPLOYMENT).await;
    let client = env.client();
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let d = deployments.get("web").await.expect("deployment");
    let rs: ReplicaSet = serde_json::from_value(json!({
        "metadata": {"name": "web-1", "labels": {"app": "web"}, "ownerReferences": [{
            "apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": d.metadata.uid,
            "controller": true, "blockOwnerDeletion": true}]},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}
    }))
    .expect("rs");
    let replicasets: Api<ReplicaSet> = Api::namespaced(client, "default");
    replicasets.create(&PostParams::default(), &rs).await.expect("rs created");

    let out = env.run(&["delete", "deployment", "web", "--cascade=foreground", "--wait=true", "--timeout=30s"]).await;
    // kubectl 1.35+ adds " from default namespace".
    assert!(out.trim().starts_with("deployment.apps \"web\" deleted"), "{out}");
    eventually(10, "the ReplicaSet to be collected", || async { replicasets.get_opt("web-1").await.expect("get").is_none().then_some(()) })
        .await;
    assert!(deployments.get_opt("web").await.expect("get").is_none());
}

#[tokio::test]
async fn describe_a_pod() {
    let env = Env::start().await;
    env.run_with(
        &["apply", "-f", "-"],
        "apiVersion: v1\nkind: Pod\nmetadata: {name: one, labels: {app: one}}\nspec:\n  containers:\n  - {name: main, image: 'nginx:1.27'}\n",
    )
    .await;
    let out = env.run(&["describe", "pod", "one"]).await;
    for want in
        ["Name:", "one", "Namespace:", "default", "Labels:", "app=one", "Status:", "Pending", "nginx:1.27", "QoS Class:", "BestEffort"]
    {
        assert!(out.contains(want), "describe lacks {want:?}:\n{out}");
    }
}

#[tokio::test]
async fn get_events_and_describe_show_events_recorded_through_events_k8s_io() {
    let env = Env::start().await;
    env.run_with(&["apply", "-f", "-"], DEPLOYMENT).await;
    let deployments: Api<Deployment> = Api::namespaced(env.client(), "default");
    let uid = deployments.get("web").await.expect("deployment").metadata.uid.expect("uid");
    // As Rudder's controllers record them.
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(env.client(), "default");
    let event = serde_json::from_value(json!({
        "metadata": {"name": "web.17f0", "namespace": "default"},
        "eventTime": "2026-01-02T03:04:05.123456Z",
        "reportingController": "deployment-controller", "reportingInstance": "deployment-controller-host",
        "action": "Scale", "reason": "ScalingReplicaSet", "type": "Normal",
        "note": "Scaled up replica set web-5d4 from 0 to 2",
        "regarding": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "default", "name": "web", "uid": uid},
    }))
    .expect("event");
    events.create(&PostParams::default(), &event).await.expect("event recorded");

    // kubectl get events reads core/v1 Events.
    let out = env.run(&["get", "events"]).await;
    let header = out.lines().next().unwrap_or_default();
    for col in ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"] {
        assert!(header.contains(col), "{out}");
    }
    let row = out.lines().find(|l| l.contains("ScalingReplicaSet")).unwrap_or_else(|| panic!("no event row:\n{out}"));
    for want in ["Normal", "deployment/web", "Scaled up replica set web-5d4 from 0 to 2"] {
        assert!(row.contains(want), "{want:?} missing from {row:?}");
    }
    let wide = env.run(&["get", "events", "-o", "wide"]).await;
    assert!(wide.lines().any(|l| l.contains("deployment-controller, deployment-controller-host") && l.contains("web.17f0")), "{wide}");
    let yaml = env.run(&["get", "events", "--field-selector", "involvedObject.name=web", "-o", "yaml"]).await;
    let v: serde_json::Value = serde_yaml::from_str(&yaml).expect("kubectl prints YAML");
    assert_eq!(v["items"][0]["apiVersion"], "v1");
    assert_eq!(v["items"][0]["involvedObject"]["kind"], "Deployment");
    assert_eq!(v["items"][0]["reportingComponent"], "deployment-controller");
    let new = env.run(&["get", "events.events.k8s.io", "web.17f0", "-o", "jsonpath={.regarding.name} {.note}"]).await;
    assert_eq!(new, "web Scaled up replica set web-5d4 from 0 to 2");

    // kubectl describe finds it by involvedObject (field selectors on core/v1).
    let out = env.run(&["describe", "deployment", "web"]).await;
    let events_section = out.split("Events:").nth(1).unwrap_or_else(|| panic!("no Events section:\n{out}"));
    assert!(
        events_section.lines().any(|l| l.contains("ScalingReplicaSet")
            && l.contains("deployment-controller")
            && l.contains("Scaled up replica set web-5d4 from 0 to 2")),
        "{out}"
    );
}
