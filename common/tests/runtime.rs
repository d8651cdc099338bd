//! The common runtime, through the sample controller binary run as child
//! processes against the sandbox: leader election and handover, the
//! endpoints, metrics, flags and an unreachable API server.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{ObjectMeta, PostParams};
use rudder_sandbox::Sandbox;
use rudder_sandbox::testing::eventually;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_rudder-sample-controller");
const LEASE: &str = "rudder-sample-controller";

/// Fast election settings for tests: lease 4 s, renew deadline 3 s, retry 1 s.
const FAST: [&str; 6] = ["--leader-elect-lease-duration", "4s", "--leader-elect-renew-deadline", "3s", "--leader-elect-retry-period", "1s"];

struct Env {
    sandbox: Sandbox,
    dir: tempfile::TempDir,
}

impl Env {
    async fn start() -> Env {
        let sandbox = Sandbox::start().await.expect("sandbox starts");
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("kubeconfig"), sandbox.kubeconfig()).expect("kubeconfig written");
        Env { sandbox, dir }
    }

    fn kubeconfig(&self) -> String {
        self.dir.path().join("kubeconfig").display().to_string()
    }

    fn client(&self) -> kube::Client {
        self.sandbox.client().expect("client")
    }

    fn spawn(&self, extra: &[&str]) -> Instance {
        Instance::spawn(&self.kubeconfig(), extra)
    }

    async fn lease(&self) -> Option<Lease> {
        Api::<Lease>::namespaced(self.client(), "default").get_opt(LEASE).await.expect("lease read")
    }

    async fn holder(&self) -> Option<String> {
        self.lease().await.and_then(|l| l.spec?.holder_identity).filter(|h| !h.is_empty())
    }

    async fn create_configmap(&self, name: &str) {
        let cm = ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: Some(BTreeMap::from([("rudder.dev/sample".to_string(), "yes".to_string())])),
                ..Default::default()
            },
            ..Default::default()
        };
        Api::<ConfigMap>::namespaced(self.client(), "default").create(&PostParams::default(), &cm).await.expect("configmap created");
    }

    async fn reconciled_by(&self, name: &str) -> Option<String> {
        let cm = Api::<ConfigMap>::namespaced(self.client(), "default").get(name).await.ok()?;
        cm.metadata.annotations?.get("rudder.dev/reconciled-by").cloned()
    }
}

/// A running sample controller, killed when dropped.
struct Instance {
    child: Child,
    logs: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl Instance {
    fn spawn(kubeconfig: &str, extra: &[&str]) -> Instance {
        let mut child = Command::new(BIN)
            .args(["--kubeconfig", kubeconfig, "--metrics-bind-address", "127.0.0.1:0", "--health-probe-bind-address", "127.0.0.1:0"])
            .args(["--leader-elect-resource-namespace", "default", "--log-format", "json"])
            .args(extra)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("sample controller starts");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr");
        let sink = logs.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let v = serde_json::from_str(&line).unwrap_or(serde_json::Value::String(line));
                sink.lock().expect("logs").push(v);
            }
        });
        Instance { child, logs }
    }

    fn log_text(&self) -> String {
        self.logs.lock().expect("logs").iter().map(|v| v.to_string()).collect::<Vec<_>>().join("\n")
    }

    /// The address a "serving ..." log line announced.
    async fn address(&self, what: &str) -> String {
        eventually(20, &format!("the address of {what}"), || async {
            let logs = self.logs.lock().expect("logs");
            logs.iter()
                .find(|v| v["fields"]["message"] == format!("serving {what}"))
                .and_then(|v| v["fields"]["address"].as_str().map(String::from))
        })
        .await
    }

    async fn get(&self, what: &str, path: &str) -> (u16, String) {
        get(&self.address(what).await, path).await
    }

    async fn metrics(&self) -> String {
        self.get("/metrics", "/metrics").await.1
    }

    async fn leading(&self) -> Option<bool> {
        let m = self.metrics().await;
        let line = m.lines().find(|l| l.starts_with(&format!("leader_election_master_status{{name=\"{LEASE}\"}}")))?;
        Some(line.ends_with(" 1"))
    }

    fn identity_in(&self, lease_holder: &str) -> bool {
        self.log_text().contains(lease_holder)
    }

    fn signal(&self, sig: &str) {
        let pid = self.child.id().expect("running").to_string();
        let ok = std::process::Command::new("kill").args([sig, &pid]).status().expect("kill runs").success();
        assert!(ok, "kill {sig} {pid}");
    }

    async fn exit_code(&mut self, secs: u64) -> Option<i32> {
        tokio::time::timeout(Duration::from_secs(secs), self.child.wait()).await.expect("process exits in time").expect("wait").code()
    }
}

async fn get(addr: &str, path: &str) -> (u16, String) {
    let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else { return (0, String::new()) };
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).await.is_err() {
        return (0, String::new());
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out).await;
    let code = out.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (code, body)
}

/// Waits until exactly one of the two leads and the other stands by; returns the leader's index.
async fn one_leader(a: &Instance, b: &Instance) -> usize {
    eventually(30, "exactly one leader", || async {
        match (a.leading().await?, b.leading().await?) {
            (true, false) => Some(0),
            (false, true) => Some(1),
            _ => None,
        }
    })
    .await
}

#[tokio::test]
async fn exactly_one_of_two_instances_leads_and_sigkill_hands_over_after_expiry() {
    let env = Env::start().await;
    let mut instances = vec![env.spawn(&FAST), env.spawn(&FAST)];
    let leader = one_leader(&instances[0], &instances[1]).await;
    let holder = eventually(10, "a lease holder", || env.holder()).await;
    assert!(instances[leader].identity_in(&holder), "the leader's identity {holder} is in its logs");
    let transitions = env.lease().await.and_then(|l| l.spec?.lease_transitions).unwrap_or_default();

    // Only the leader acts.
    env.create_configmap("first").await;
    let by = eventually(20, "the leader reconciling", || env.reconciled_by("first")).await;
    assert_eq!(by, holder);

    // SIGKILL: no release; the standby takes over once the lease has expired.
    instances[leader].signal("-KILL");
    let standby = 1 - leader;
    eventually(30, "the standby taking over", || async { instances[standby].leading().await.filter(|l| *l) }).await;
    let new_holder = eventually(10, "a new holder", || async { env.holder().await.filter(|h| *h != holder) }).await;
    assert!(instances[standby].identity_in(&new_holder));
    let after = env.lease().await.and_then(|l| l.spec?.lease_transitions).unwrap_or_default();
    assert_eq!(after, transitions + 1);

    env.create_configmap("second").await;
    let by = eventually(20, "the new leader reconciling", || env.reconciled_by("second")).await;
    assert_eq!(by, new_holder);
    instances.clear();
}

#[tokio::test]
async fn sigterm_releases_the_lease_so_the_standby_takes_over_before_it_would_expire() {
    let env = Env::start().await;
    // A lease of 60 s: a handover within the test's deadline can only come from a release.
    let slow = ["--leader-elect-lease-duration", "60s", "--leader-elect-renew-deadline", "40s", "--leader-elect-retry-period", "1s"];
    let mut first = env.spawn(&slow);
    eventually(20, "the first instance leading", || async { first.leading().await.filter(|l| *l) }).await;
    let second = env.spawn(&slow);
    assert_eq!(one_leader(&first, &second).await, 0);
    // A healthy standby is ready.
    assert_eq!(second.get("/healthz and /readyz", "/readyz").await.0, 200);

    first.signal("-TERM");
    assert_eq!(first.exit_code(20).await, Some(0), "clean exit after SIGTERM:\n{}", first.log_text());
    eventually(20, "the standby taking over", || async { second.leading().await.filter(|l| *l) }).await;
    let holder = eventually(10, "the new holder", || env.holder()).await;
    assert!(second.identity_in(&holder));
}

#[tokio::test]
async fn a_leader_that_cannot_renew_stops_and_exits() {
    let env = Env::start().await;
    let mut leader = env.spawn(&FAST);
    eventually(20, "leading", || async { leader.leading().await.filter(|l| *l) }).await;
    // Another party takes the lease over: every renewal now fails.
    let api = Api::<Lease>::namespaced(env.client(), "default");
    let mut lease = api.get(LEASE).await.expect("lease");
    let spec = lease.spec.get_or_insert_default();
    spec.holder_identity = Some("intruder".into());
    spec.lease_duration_seconds = Some(3600);
    api.replace(LEASE, &PostParams::default(), &lease).await.expect("lease taken over");

    assert_eq!(leader.exit_code(30).await, Some(1), "exit 1 once the renew deadline passes");
    assert!(leader.log_text().contains("leader election lost"), "{}", leader.log_text());
    // It did not overwrite the other holder.
    assert_eq!(env.holder().await.as_deref(), Some("intruder"));
}

#[tokio::test]
async fn metrics_show_every_family_with_real_values() {
    let env = Env::start().await;
    let instance = env.spawn(&FAST);
    eventually(20, "leading", || async { instance.leading().await.filter(|l| *l) }).await;
    env.create_configmap("measured").await;
    eventually(20, "reconciled", || env.reconciled_by("measured")).await;
    // The reconcile's duration is observed when it returns, just after its write.
    let done = r#"workqueue_work_duration_seconds_count{name="sample"} "#;
    let m = eventually(20, "the finished reconcile in the metrics", || async {
        let m = instance.metrics().await;
        m.lines().any(|l| l.strip_prefix(done).is_some_and(|v| v != "0")).then_some(m)
    })
    .await;
    let value = |prefix: &str| -> f64 {
        let line = m.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no {prefix} in\n{m}"));
        line.rsplit(' ').next().and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("no value in {line}"))
    };
    assert!(value(r#"workqueue_adds_total{name="sample"}"#) >= 1.0);
    assert!(value(r#"workqueue_work_duration_seconds_count{name="sample"}"#) >= 1.0);
    assert!(value(r#"workqueue_queue_duration_seconds_count{name="sample"}"#) >= 1.0);
    for family in [
        "workqueue_depth{",
        "workqueue_retries_total{",
        "workqueue_unfinished_work_seconds{",
        "workqueue_longest_running_processor_seconds{",
    ] {
        value(family);
    }
    assert!(value(r#"rest_client_requests_total{code="200",method="GET""#) >= 1.0);
    assert!(value(r#"rest_client_request_duration_seconds_count{verb="GET""#) >= 1.0);
    assert!(value(r#"rest_client_rate_limiter_duration_seconds_count{verb="GET""#) >= 1.0);
    assert_eq!(value(&format!("leader_election_master_status{{name=\"{LEASE}\"}}")), 1.0);
    assert!(value("process_cpu_seconds_total ") >= 0.0);
    assert!(value("process_resident_memory_bytes ") > 0.0);
    assert!(value("process_open_fds ") > 0.0);
    assert!(value("process_start_time_seconds ") > 1.0e9);
    // OpenMetrics when asked.
    let addr = instance.address("/metrics").await;
    let mut s = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    let req =
        format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nAccept: application/openmetrics-text;version=1.0.0\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).await.expect("read");
    assert!(out.contains("application/openmetrics-text") && out.trim_end().ends_with("# EOF"), "{out}");
}

#[tokio::test]
async fn readyz_is_503_until_caches_sync_and_an_unreachable_server_is_reported() {
    // An address where nothing listens.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, rudder_sandbox::kubeconfig_yaml(&format!("http://127.0.0.1:{port}"))).expect("kubeconfig");
    let unreachable = Instance::spawn(&kubeconfig.display().to_string(), &["--leader-elect=false"]);
    let (code, body) = unreachable.get("/healthz and /readyz", "/readyz").await;
    assert_eq!((code, body.as_str()), (503, "informer caches have not synced"));
    assert_eq!(unreachable.get("/healthz and /readyz", "/healthz").await.0, 200);
    eventually(20, "the connection error logged", || async { unreachable.log_text().contains("Connection refused").then_some(()) }).await;
    assert_eq!(unreachable.get("/healthz and /readyz", "/readyz").await.0, 503, "still not ready");

    let env = Env::start().await;
    let reachable = env.spawn(&["--leader-elect=false"]);
    eventually(20, "ready", || async { (reachable.get("/healthz and /readyz", "/readyz").await.0 == 200).then_some(()) }).await;
}

#[tokio::test]
async fn bad_flags_exit_2_with_one_line_naming_the_flag() {
    for (args, flag) in [
        (vec!["--kube-api-qps", "fast"], "--kube-api-qps"),
        (vec!["--leader-elect-retry-period", "2"], "--leader-elect-retry-period"),
        (vec!["--leader-elect-renew-deadline", "20s"], "--leader-elect-lease-duration"),
        (vec!["--metrics-bind-address", "nowhere"], "--metrics-bind-address"),
    ] {
        let out = Command::new(BIN).args(&args).output().await.expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
    }
}

#[tokio::test]
async fn a_port_in_use_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let out = Command::new(BIN).args(["--metrics-bind-address", &addr, "--leader-elect=false"]).output().await.expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("cannot serve /metrics on {addr}")), "{stderr}");
}

#[tokio::test]
async fn a_missing_kubeconfig_exits_1_naming_the_path_and_its_cause_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nonexistent").display().to_string();
    let out = Command::new(BIN)
        .args(["--kubeconfig", &missing, "--leader-elect=false"])
        .args(["--metrics-bind-address", "127.0.0.1:0", "--health-probe-bind-address", "127.0.0.1:0"])
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let line = stderr.lines().find(|l| l.contains("ERROR")).unwrap_or_else(|| panic!("an error line: {stderr}"));
    assert!(line.ends_with(&format!("cannot load kubeconfig {missing}: No such file or directory (os error 2)")), "{line}");
    assert_eq!(line.matches(&missing).count(), 1, "{line}");
    assert_eq!(line.matches("No such file").count(), 1, "{line}");
}
