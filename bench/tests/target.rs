//! `--target-kubeconfig`: a scenario against a cluster whose components
//! already run, each known only by its metrics URL. The cluster here is
//! `rudder-sandbox up` (a child process, like a user's): the records must
//! say what the components did there, read from their metrics alone.
//! (It needs rudder-sandbox and the component binaries next to
//! rudder-bench: `cargo test --workspace` builds them.)

mod util;

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::test]
async fn a_scenario_runs_against_a_cluster_whose_components_already_run() {
    let exe = std::path::Path::new(env!("CARGO_BIN_EXE_rudder-bench"));
    let sandbox = exe.with_file_name("rudder-sandbox");
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let mut up = tokio::process::Command::new(&sandbox)
        .args(["up", "--port", "0", "--nodes", "2", "--components", "scheduler,replicaset", "--kubeconfig-out"])
        .arg(&kubeconfig)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", sandbox.display()));
    let out = Arc::new(Mutex::new(String::new()));
    let collected = out.clone();
    let stdout = up.stdout.take().unwrap();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            collected.lock().unwrap().push_str(&(line + "\n"));
        }
    });
    // The components' metrics URLs, from up's table once both are ready.
    let metrics = |name: &str| -> Option<String> {
        let text = out.lock().unwrap().clone();
        let line = text.lines().rev().find(|l| l.split_whitespace().take(2).eq([name, "ready"]))?;
        line.split_whitespace().find(|w| w.starts_with("http://")).map(String::from)
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let (scheduler, controller) = loop {
        if let (Some(s), Some(c)) = (metrics("scheduler"), metrics("replicaset")) {
            break (s, c);
        }
        assert!(Instant::now() < deadline, "up never showed both components ready:\n{}", out.lock().unwrap());
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let results = dir.path().join("results");
    let stdout = util::bench(&[
        "replicaset-scale",
        "--replicasets",
        "2",
        "--replicas",
        "3",
        "--target-kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--component",
        &format!("rudder-scheduler={scheduler}"),
        "--component",
        &format!("rudder-replicaset-controller={controller}"),
        "--out",
        results.to_str().unwrap(),
    ])
    .await;
    let _ = up.kill().await;

    let r = util::record(&results, "replicaset-scale");
    assert!(r["target"].as_str().unwrap().starts_with("kubeconfig "), "{r}");
    assert!(r["converged_seconds"].as_f64().is_some(), "{stdout}");
    // The 6 pods (and their events) were the controller's, the bindings the scheduler's.
    assert!(util::requests(&r, "rudder-replicaset-controller", "POST") >= 6, "{r}");
    assert!(util::requests(&r, "rudder-scheduler", "POST") >= 6, "{r}");
    for c in r["components"].as_array().unwrap() {
        assert!(c["cpu_seconds"].as_f64().is_some_and(|s| s >= 0.0), "{r}");
        assert!(c["peak_rss_mib"].as_f64().is_some_and(|m| m > 1.0), "{r}");
    }
    assert!(r.get("api_server").is_none(), "{r}");
    assert_eq!(r["ceiling"]["writes"], "6 pod creates, 6 bindings", "{r}");
}
