//! kubectl against the sandbox, with nothing but the kubeconfig it writes:
//! apply (client- and server-side), the typed create commands (secret,
//! configmap, deployment, job, service, quota, ..., autoscale: protobuf
//! bodies, compared with their JSON-created twins), get -o yaml, get -w, patch (strategic, merge, json), scale,
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

/// `kubectl get KIND NAME -o json` in namespace `ns` ("" for cluster-scoped).
async fn get_json(env: &Env, ns: &str, what: &[&str]) -> serde_json::Value {
    let mut args = vec!["get"];
    args.extend_from_slice(what);
    args.extend(["-o", "json"]);
    if !ns.is_empty() {
        args.extend(["-n", ns]);
    }
    serde_json::from_str(&env.run(&args).await).expect("kubectl get -o json")
}

#[tokio::test]
async fn typed_create_commands_send_protobuf_bodies() {
    let env = Env::start().await;
    // Every command below sends its object as application/vnd.kubernetes.protobuf.
    for (args, out) in [
        (&["create", "namespace", "shop"][..], "namespace/shop created"),
        (
            &["create", "deployment", "web", "--image", "nginx", "--replicas", "2", "--port", "80", "-n", "shop"],
            "deployment.apps/web created",
        ),
        (&["create", "job", "pi", "--image", "busybox", "-n", "shop", "--", "echo", "hi"], "job.batch/pi created"),
        (
            &["create", "cronjob", "tick", "--image", "busybox", "--schedule", "*/5 * * * *", "-n", "shop", "--", "date"],
            "cronjob.batch/tick created",
        ),
        (&["create", "service", "clusterip", "api", "--tcp", "80:8080", "-n", "shop"], "service/api created"),
        (&["create", "serviceaccount", "bot", "-n", "shop"], "serviceaccount/bot created"),
        (&["create", "quota", "q", "--hard", "cpu=1,memory=1Gi,pods=10", "-n", "shop"], "resourcequota/q created"),
        (
            &["create", "priorityclass", "high", "--value", "1000", "--description", "important"],
            "priorityclass.scheduling.k8s.io/high created",
        ),
        (
            &["create", "pdb", "web", "--selector", "app=web", "--min-available", "1", "-n", "shop"],
            "poddisruptionbudget.policy/web created",
        ),
        (
            &["autoscale", "deployment", "web", "--min", "2", "--max", "5", "--cpu", "80%", "-n", "shop"],
            "horizontalpodautoscaler.autoscaling/web autoscaled",
        ),
    ] {
        assert_eq!(env.run(args).await.trim(), out, "kubectl {args:?}");
    }

    let ns = get_json(&env, "", &["namespace", "shop"]).await;
    assert_eq!(ns["metadata"]["labels"], json!({"kubernetes.io/metadata.name": "shop"}));
    assert_eq!(ns["spec"], json!({"finalizers": ["kubernetes"]}));
    assert_eq!(ns["status"], json!({"phase": "Active"}));

    let d = get_json(&env, "shop", &["deployment", "web"]).await;
    assert_eq!(d["metadata"]["labels"], json!({"app": "web"}));
    assert_eq!(d["metadata"]["generation"], 1);
    assert_eq!(d["spec"]["replicas"], 2);
    assert_eq!(d["spec"]["selector"], json!({"matchLabels": {"app": "web"}}));
    assert_eq!(d["spec"]["strategy"], json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}));
    assert_eq!((d["spec"]["revisionHistoryLimit"].as_i64(), d["spec"]["progressDeadlineSeconds"].as_i64()), (Some(10), Some(600)));
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"],
        json!([{
            "name": "nginx", "image": "nginx", "imagePullPolicy": "Always",
            "ports": [{"containerPort": 80, "protocol": "TCP"}],
            "resources": {}, "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
        }])
    );
    assert_eq!(d["spec"]["template"]["spec"]["restartPolicy"], "Always");

    let job = get_json(&env, "shop", &["job", "pi"]).await;
    let spec = &job["spec"];
    assert_eq!((spec["completions"].as_i64(), spec["parallelism"].as_i64(), spec["backoffLimit"].as_i64()), (Some(1), Some(1), Some(6)));
    assert_eq!(spec["template"]["spec"]["containers"][0]["command"], json!(["echo", "hi"]));
    assert_eq!(spec["template"]["spec"]["restartPolicy"], "Never");
    assert_eq!(spec["template"]["metadata"]["labels"]["job-name"], "pi");
    let uid = job["metadata"]["uid"].as_str().expect("uid");
    assert_eq!(spec["selector"], json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}));

    let cj = get_json(&env, "shop", &["cronjob", "tick"]).await;
    assert_eq!(cj["spec"]["schedule"], "*/5 * * * *");
    assert_eq!((cj["spec"]["concurrencyPolicy"].as_str(), cj["spec"]["suspend"].as_bool()), (Some("Allow"), Some(false)));
    assert_eq!((cj["spec"]["successfulJobsHistoryLimit"].as_i64(), cj["spec"]["failedJobsHistoryLimit"].as_i64()), (Some(3), Some(1)));
    let pod = &cj["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!((pod["containers"][0]["command"].clone(), pod["restartPolicy"].clone()), (json!(["date"]), json!("OnFailure")));

    let svc = get_json(&env, "shop", &["service", "api"]).await;
    assert_eq!(svc["spec"]["ports"], json!([{"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080}]));
    assert_eq!(svc["spec"]["selector"], json!({"app": "api"}));
    assert_eq!((svc["spec"]["type"].as_str(), svc["spec"]["sessionAffinity"].as_str()), (Some("ClusterIP"), Some("None")));

    let sa = get_json(&env, "shop", &["serviceaccount", "bot"]).await;
    assert_eq!(sa["metadata"]["name"], "bot");
    let quota = get_json(&env, "shop", &["resourcequota", "q"]).await;
    assert_eq!(quota["spec"], json!({"hard": {"cpu": "1", "memory": "1Gi", "pods": "10"}}));
    let pc = get_json(&env, "", &["priorityclass", "high"]).await;
    assert_eq!((pc["value"].as_i64(), pc["description"].as_str()), (Some(1000), Some("important")));
    assert_eq!(pc["preemptionPolicy"], "PreemptLowerPriority");
    assert_eq!(pc.get("globalDefault"), None, "false is left out, as Go's omitempty does");
    let pdb = get_json(&env, "shop", &["pdb", "web"]).await;
    assert_eq!(pdb["spec"], json!({"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}));
    let hpa = get_json(&env, "shop", &["hpa", "web"]).await;
    assert_eq!(hpa["apiVersion"], "autoscaling/v2");
    assert_eq!(hpa["spec"]["scaleTargetRef"], json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}));
    assert_eq!((hpa["spec"]["minReplicas"].as_i64(), hpa["spec"]["maxReplicas"].as_i64()), (Some(2), Some(5)));
    assert_eq!(
        hpa["spec"]["metrics"],
        json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}])
    );
    // kubectl get hpa: upstream's columns, TARGETS with the resource name.
    let table = env.run(&["get", "hpa", "web", "-n", "shop"]).await;
    let header: Vec<&str> = table.lines().next().unwrap_or_default().split_whitespace().collect();
    assert_eq!(header, ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"], "{table}");
    let row: Vec<&str> = table.lines().nth(1).unwrap_or_default().split_whitespace().collect();
    assert_eq!(&row[..7], ["web", "Deployment/web", "cpu:", "<unknown>/80%", "2", "5", "0"], "{table}");

    // --dry-run=server decodes and defaults, and stores nothing.
    let out = env.run(&["create", "deployment", "dry", "--image", "nginx", "--dry-run=server", "-o", "json", "-n", "shop"]).await;
    let dry: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(dry["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"], "Always");
    let (ok, _, stderr) = env.run_tool(Tool::Kubectl, &["get", "deployment", "dry", "-n", "shop"], "").await;
    assert!(!ok && stderr.contains("not found"), "{stderr}");
}

#[tokio::test]
async fn created_services_get_cluster_ips_and_node_ports_shown_by_get() {
    let env = Env::start().await;
    env.run(&["create", "service", "clusterip", "web", "--tcp", "80"]).await;
    env.run(&["create", "service", "nodeport", "edge", "--tcp", "80:8080", "--node-port", "30080"]).await;
    env.run(&["create", "service", "nodeport", "auto", "--tcp", "443"]).await;
    env.run(&["create", "service", "clusterip", "hl", "--clusterip", "None"]).await;
    env.run(&["create", "service", "externalname", "ext", "--external-name", "example.com"]).await;
    let web = get_json(&env, "default", &["service", "web"]).await;
    let ip = web["spec"]["clusterIP"].as_str().expect("a ClusterIP").to_string();
    assert!(ip.starts_with("10.96.") && ip != "10.96.0.1", "{ip}");
    assert_eq!(web["spec"]["clusterIPs"], json!([ip]));
    let auto = get_json(&env, "default", &["service", "auto"]).await;
    let np = auto["spec"]["ports"][0]["nodePort"].as_i64().expect("a node port");
    assert!((30000..=32767).contains(&np), "{np}");
    let edge_ip = get_json(&env, "default", &["service", "edge"]).await["spec"]["clusterIP"].as_str().unwrap().to_string();

    let out = env.run(&["get", "svc", "--sort-by", ".metadata.name"]).await;
    let rows: Vec<Vec<&str>> = out.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows[0], ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"], "{out}");
    let row = |name: &str| rows.iter().find(|r| r[0] == name).unwrap_or_else(|| panic!("{name} in {out}"))[..5].to_vec();
    let auto_ip = auto["spec"]["clusterIP"].as_str().unwrap();
    let auto_ports = format!("443:{np}/TCP");
    assert_eq!(row("auto"), ["auto", "NodePort", auto_ip, "<none>", auto_ports.as_str()]);
    assert_eq!(row("edge"), ["edge", "NodePort", edge_ip.as_str(), "<none>", "80:30080/TCP"]);
    assert_eq!(row("ext"), ["ext", "ExternalName", "<none>", "example.com", "<none>"]);
    assert_eq!(row("hl"), ["hl", "ClusterIP", "None", "<none>", "<none>"]);
    assert_eq!(row("web"), ["web", "ClusterIP", ip.as_str(), "<none>", "80/TCP"]);

    // The address and port are taken until the Services go.
    let (ok, _, err) =
        env.run_tool(Tool::Kubectl, &["create", "service", "nodeport", "again", "--tcp", "80", "--node-port", "30080"], "").await;
    assert!(!ok && err.contains("spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated"), "{err}");
    env.run(&["delete", "service", "edge"]).await;
    env.run(&["create", "service", "nodeport", "again", "--tcp", "80", "--node-port", "30080"]).await;
}

#[tokio::test]
async fn a_protobuf_created_object_equals_its_json_created_twin() {
    let env = Env::start().await;
    // The same commands, once sent as protobuf (kubectl create KIND) and once
    // as JSON (the object printed by --dry-run=client, then kubectl create -f).
    // Less what differs between any two objects: names, uids (a Job's
    // selector holds its uid), times, resourceVersions.
    let strip = |mut v: serde_json::Value, name: &str| {
        let uid = v["metadata"]["uid"].as_str().expect("uid").to_string();
        let m = v["metadata"].as_object_mut().expect("metadata");
        for k in ["uid", "resourceVersion", "creationTimestamp", "managedFields", "name"] {
            m.remove(k);
        }
        // And the ClusterIP and node ports each Service is given.
        if v["kind"] == "Service"
            && let Some(spec) = v["spec"].as_object_mut()
        {
            spec.remove("clusterIP");
            spec.remove("clusterIPs");
            for p in spec.get_mut("ports").and_then(serde_json::Value::as_array_mut).into_iter().flatten() {
                p.as_object_mut().expect("port").remove("nodePort");
            }
        }
        serde_json::from_str::<serde_json::Value>(&v.to_string().replace(name, "NAME").replace(&uid, "UID")).expect("json")
    };
    for (kind, args) in [
        ("deployment", &["create", "deployment", "NAME", "--image", "nginx:1.27", "--replicas", "3", "--port", "8080"][..]),
        ("job", &["create", "job", "NAME", "--image", "busybox", "--", "sh", "-c", "exit 0"]),
        ("cronjob", &["create", "cronjob", "NAME", "--image", "busybox", "--schedule", "0 * * * *", "--restart", "Never"]),
        ("service", &["create", "service", "nodeport", "NAME", "--tcp", "80:http"]),
        ("resourcequota", &["create", "quota", "NAME", "--hard", "requests.cpu=500m,limits.memory=2Gi", "--scopes", "NotBestEffort"]),
        ("pdb", &["create", "pdb", "NAME", "--selector", "app=x", "--max-unavailable", "25%"]),
        ("role", &["create", "role", "NAME", "--verb", "get,list", "--resource", "pods,deployments.apps", "--resource-name", "a"]),
        ("rolebinding", &["create", "rolebinding", "NAME", "--clusterrole", "view", "--user", "bob", "--serviceaccount", "default:bot"]),
        ("clusterrole", &["create", "clusterrole", "NAME", "--verb", "get", "--non-resource-url", "/healthz"]),
        (
            "secret",
            &[
                "create",
                "secret",
                "docker-registry",
                "NAME",
                "--docker-server",
                "r.example",
                "--docker-username",
                "u",
                "--docker-password",
                "p",
            ],
        ),
    ] {
        let pb_args: Vec<String> = args.iter().map(|a| a.replace("NAME", "viapb")).collect();
        let js_args: Vec<String> = args.iter().map(|a| a.replace("NAME", "viajson")).collect();
        let pb_args: Vec<&str> = pb_args.iter().map(String::as_str).collect();
        let mut js_args: Vec<&str> = js_args.iter().map(String::as_str).collect();
        // Flags go before a `--` command.
        js_args.insert(2, "--dry-run=client");
        js_args.insert(3, "-ojson");
        env.run(&pb_args).await;
        let object = env.run(&js_args).await;
        env.run_with(&["create", "-f", "-"], &object).await;
        let (pb, js) = (get_json(&env, "default", &[kind, "viapb"]).await, get_json(&env, "default", &[kind, "viajson"]).await);
        assert_eq!(strip(pb, "viapb"), strip(js, "viajson"), "{kind}");
    }
}
