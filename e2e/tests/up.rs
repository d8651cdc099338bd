//! `rudder-sandbox up` as a user runs it: a real process printing its
//! table, Rudder components as its children, Ctrl-C stopping everything.
//! Component binaries are stood in for by rudder-common's sample controller
//! (it takes the flags every Rudder binary takes) until they exist.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::Node;
use kube::Api;
use rudder_e2e::{binary, eventually};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// A running `rudder-sandbox up`, its output collected as it comes.
struct Up {
    child: tokio::process::Child,
    out: Arc<Mutex<String>>,
    err: Arc<Mutex<String>>,
}

fn collect(stream: impl tokio::io::AsyncRead + Unpin + Send + 'static) -> Arc<Mutex<String>> {
    let buf = Arc::new(Mutex::new(String::new()));
    let b = buf.clone();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let mut b = b.lock().unwrap();
            b.push_str(&line);
            b.push('\n');
        }
    });
    buf
}

impl Up {
    fn start(args: &[&str]) -> Up {
        let mut child = tokio::process::Command::new(binary("rudder-sandbox").expect("rudder-sandbox is built"))
            .arg("up")
            .args(["--port", "0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("up starts");
        let out = collect(child.stdout.take().unwrap());
        let err = collect(child.stderr.take().unwrap());
        Up { child, out, err }
    }

    fn out(&self) -> String {
        self.out.lock().unwrap().clone()
    }

    /// Waits until the output has a line for which `f` is Some.
    async fn line<T>(&self, what: &str, f: impl Fn(&str) -> Option<T>) -> T {
        eventually(60, what, || async { self.out().lines().find_map(&f) }).await
    }

    /// Waits until a components table (the latest printed) satisfies `f`.
    async fn table(&self, what: &str, f: impl Fn(&[Vec<String>]) -> bool) -> Vec<Vec<String>> {
        eventually(60, what, || async {
            let out = self.out();
            let start = out.rfind("  COMPONENT ")?;
            let rows: Vec<Vec<String>> = out[start..]
                .lines()
                .skip(1)
                .take_while(|l| l.starts_with("  ") && !l.starts_with("  missing:"))
                .map(|l| l.split("  ").map(str::trim).filter(|c| !c.is_empty()).map(String::from).collect())
                .collect();
            f(&rows).then_some(rows)
        })
        .await
    }

    fn interrupt(&self) {
        let pid = self.child.id().expect("running").to_string();
        assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().expect("kill runs").success());
    }

    async fn exit(&mut self) -> ExitStatus {
        tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("up did not exit; output:\n{}\n{}", self.out(), self.err.lock().unwrap()))
            .expect("exit status")
    }
}

async fn client(kubeconfig: &Path) -> kube::Client {
    let kc = kube::config::Kubeconfig::read_from(kubeconfig).expect("kubeconfig");
    kube::Client::try_from(kube::Config::from_custom_kubeconfig(kc, &Default::default()).await.expect("config")).expect("client")
}

/// The body of `GET url` (plain http://host:port/path).
async fn get(url: &str) -> String {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut s = tokio::net::TcpStream::connect(host).await.expect("connects");
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).await.unwrap();
    body
}

fn running(pid: &str) -> bool {
    Path::new("/proc").join(pid).exists()
}

#[tokio::test]
async fn up_runs_the_api_server_and_nodes_and_reports_missing_components() {
    let empty = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let kubeconfig = out.path().join("kubeconfig");
    let mut up =
        Up::start(&["--nodes", "2", "--bin-dir", empty.path().to_str().unwrap(), "--kubeconfig-out", kubeconfig.to_str().unwrap()]);
    let exported = up.line("the export line", |l| l.strip_prefix("export KUBECONFIG=").map(PathBuf::from)).await;
    assert_eq!(exported, kubeconfig);
    let files =
        up.line("the files line", |l| l.trim().strip_prefix("files").map(|f| PathBuf::from(f.trim().split(' ').next().unwrap()))).await;
    assert!(files.join("kubeconfig").is_file());

    // Every component is listed, none of them found: the system runs without them.
    let rows = up.table("the components table", |rows| rows.len() == 7).await;
    let names: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names, ["admission-webhooks", "scheduler", "replicaset", "deployment", "daemonset", "job", "hpa"]);
    assert!(rows.iter().all(|r| r[1] == "missing"), "{rows:?}");
    let missing = up.line("the missing line", |l| l.trim().strip_prefix("missing: ").map(String::from)).await;
    assert!(missing.contains("rudder-admission-webhooks, rudder-scheduler, rudder-replicaset-controller"), "{missing}");
    assert!(missing.contains(&empty.path().display().to_string()), "{missing}");

    let nodes: Api<Node> = Api::all(client(&kubeconfig).await);
    eventually(60, "two Ready simulated nodes", || async {
        let list = nodes.list(&Default::default()).await.ok()?;
        let ready = list
            .items
            .iter()
            .filter(|n| {
                let conditions = n.status.as_ref().and_then(|s| s.conditions.as_ref());
                conditions.is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
            })
            .count();
        (ready == 2).then_some(())
    })
    .await;

    up.interrupt();
    let status = up.exit().await;
    assert!(status.success(), "{status}: {}", up.err.lock().unwrap());
    up.line("the stopped line", |l| (l == "rudder-sandbox up: stopped").then_some(())).await;
    assert!(!files.exists(), "the temporary directory {} is removed", files.display());
}

#[tokio::test]
async fn up_runs_components_as_children_and_ctrl_c_stops_them() {
    let sample = binary("rudder-sample-controller").expect("rudder-sample-controller is built");
    let bin = tempfile::tempdir().unwrap();
    for name in ["rudder-replicaset-controller", "rudder-deployment-controller"] {
        std::os::unix::fs::symlink(&sample, bin.path().join(name)).unwrap();
    }
    // A component that dies at once is shown as exited, with its status.
    std::fs::write(bin.path().join("rudder-hpa-controller"), "#!/bin/sh\necho 'cannot start' >&2\nexit 3\n").unwrap();
    std::fs::set_permissions(bin.path().join("rudder-hpa-controller"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut up = Up::start(&[
        "--nodes",
        "1",
        "--bin-dir",
        bin.path().to_str().unwrap(),
        "--components",
        "hpa,replicaset,deployment",
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    let rows = up
        .table("both controllers ready and hpa exited", |rows| {
            rows.len() == 3
                && rows.iter().filter(|r| r[1] == "ready").count() == 2
                && rows.iter().any(|r| r[0] == "hpa" && r[1] == "exited (status 3)")
        })
        .await;
    assert_eq!(rows.iter().map(|r| r[0].as_str()).collect::<Vec<_>>(), ["replicaset", "deployment", "hpa"]);
    assert!(std::fs::read_to_string(dir.path().join("hpa.log")).unwrap().contains("cannot start"));

    let mut pids = Vec::new();
    for row in rows.iter().filter(|r| r[1] == "ready") {
        let [_, _, pid, metrics, log] = &row[..] else { panic!("a row of five cells: {row:?}") };
        assert!(running(pid), "{pid} runs");
        let body = get(metrics).await;
        assert!(body.starts_with("HTTP/1.1 200") && body.contains("leader_election_master_status"), "{body}");
        assert!(Path::new(log).starts_with(dir.path()));
        pids.push((pid.clone(), log.clone()));
    }

    up.interrupt();
    let status = up.exit().await;
    assert!(status.success(), "{status}: {}", up.err.lock().unwrap());
    for (pid, log) in pids {
        assert!(!running(&pid), "component {pid} was left running");
        // Stopped with SIGTERM, not killed: the runtime's shutdown ran.
        let log = std::fs::read_to_string(log).unwrap();
        assert!(log.contains("shutting down"), "{log}");
    }
    assert!(dir.path().join("kubeconfig").is_file(), "--dir is kept");
}

#[tokio::test]
async fn naming_a_missing_component_is_an_error() {
    let empty = tempfile::tempdir().unwrap();
    let mut up = Up::start(&["--bin-dir", empty.path().to_str().unwrap(), "--components", "scheduler,job"]);
    let status = up.exit().await;
    assert!(!status.success());
    let expected = "the Rudder binaries rudder-scheduler, rudder-job-controller were not found in";
    eventually(10, expected, || async { up.err.lock().unwrap().contains(expected).then_some(()) }).await;
    assert!(!up.out().contains("API server"), "nothing was started: {}", up.out());
}

/// With the real scheduler: `up` gives it both profiles, so a pod that
/// names no scheduler (`default-scheduler`) and one naming
/// `rudder-scheduler` are both placed and run on the simulated nodes.
#[tokio::test]
async fn up_schedules_ordinary_pods_with_the_real_scheduler() {
    let scheduler = binary("rudder-scheduler").expect("rudder-scheduler is built");
    let bin = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(&scheduler, bin.path().join("rudder-scheduler")).unwrap();
    let mut up = Up::start(&["--nodes", "2", "--bin-dir", bin.path().to_str().unwrap(), "--components", "scheduler"]);
    let kubeconfig = up.line("the export line", |l| l.strip_prefix("export KUBECONFIG=").map(PathBuf::from)).await;
    let rows = up.table("the scheduler ready", |rows| rows.len() == 1 && rows[0][1] == "ready").await;
    let metrics_url = rows[0][3].clone();
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::default_namespaced(client(&kubeconfig).await);
    for (name, scheduler) in [("ordinary", None), ("ours", Some("rudder-scheduler"))] {
        let pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name},
            "spec": {"schedulerName": scheduler, "containers": [{"name": "c", "image": "nginx"}]}
        }))
        .unwrap();
        pods.create(&Default::default(), &pod).await.expect("pod created");
    }
    for name in ["ordinary", "ours"] {
        eventually(60, &format!("{name} running on a simulated node"), || async {
            let p = pods.get(name).await.ok()?;
            let on = p.spec?.node_name?;
            (on.starts_with("sim-node-") && p.status?.phase.as_deref() == Some("Running")).then_some(())
        })
        .await;
    }
    // Its metrics carry upstream's names and labels.
    let body = eventually(30, "both attempts counted", || async {
        let body = get(&metrics_url).await;
        (body.contains(r#"scheduler_schedule_attempts_total{result="scheduled",profile="default-scheduler"} 1"#)
            && body.contains(r#"scheduler_schedule_attempts_total{result="scheduled",profile="rudder-scheduler"} 1"#))
        .then_some(body)
    })
    .await;
    for family in [
        "scheduler_scheduling_attempt_duration_seconds_bucket",
        r#"scheduler_pending_pods{queue="active"} 0"#,
        r#"extension_point="Filter",status="Success",profile="default-scheduler"}"#,
        "scheduler_pod_scheduling_attempts_bucket",
        "scheduler_preemption_attempts_total 0",
        "leader_election_master_status",
        "rest_client_requests_total",
    ] {
        assert!(body.contains(family), "{family} missing:\n{body}");
    }
    up.interrupt();
    assert!(up.exit().await.success());
}

/// With the real admission webhooks: `up` gives them a certificate,
/// registers them, and switches the sandbox's own NamespaceLifecycle off;
/// LimitRange defaults then reach pods created through its kubeconfig.
#[tokio::test]
async fn up_serves_the_real_admission_webhooks() {
    let webhooks = binary("rudder-admission-webhooks").expect("rudder-admission-webhooks is built");
    let bin = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(&webhooks, bin.path().join("rudder-admission-webhooks")).unwrap();
    let mut up = Up::start(&["--nodes", "1", "--bin-dir", bin.path().to_str().unwrap(), "--components", "admission-webhooks"]);
    let kubeconfig = up.line("the export line", |l| l.strip_prefix("export KUBECONFIG=").map(PathBuf::from)).await;
    up.table("the webhooks ready and registered", |rows| rows.len() == 1 && rows[0][1] == "ready, webhooks registered").await;
    let client = client(&kubeconfig).await;
    let ranges: Api<k8s_openapi::api::core::v1::LimitRange> = Api::default_namespaced(client.clone());
    let range = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "defaults"},
        "spec": {"limits": [{"type": "Container", "default": {"cpu": "300m"}}]}
    }))
    .unwrap();
    ranges.create(&Default::default(), &range).await.expect("limit range created");
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::default_namespaced(client.clone());
    let pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "defaulted"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}
    }))
    .unwrap();
    let created =
        eventually(30, "the pod created through the webhooks", || async { pods.create(&Default::default(), &pod).await.ok() }).await;
    let limits = created.spec.unwrap().containers[0].resources.clone().unwrap().limits.unwrap();
    assert_eq!(limits["cpu"].0, "300m");
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client);
    let err = namespaces.delete("kube-public", &Default::default()).await.expect_err("kube-public may not be deleted");
    assert!(err.to_string().contains("namespacelifecycle.admission.rudder.dev"), "{err}");
    up.interrupt();
    assert!(up.exit().await.success());
}
