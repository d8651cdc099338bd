//! The ReplicaSet benchmark runs end to end on a few ReplicaSets: every pod
//! is created and every status reports it; the figures are printed, never
//! asserted. (It needs the rudder-replicaset-controller binary next to
//! rudder-bench: `cargo test --workspace` builds it.)

#[tokio::test]
async fn replicaset_benchmark_creates_every_pod() {
    let exe = env!("CARGO_BIN_EXE_rudder-bench");
    let out = tokio::process::Command::new(exe)
        .args(["replicaset", "--replicasets", "4", "--replicas", "15"])
        .kill_on_drop(true)
        .output()
        .await
        .expect("rudder-bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("pods created         60 of 60 after"), "{stdout}");
    assert!(stdout.contains("statuses reported    4 of 4 after"), "{stdout}");
    assert!(stdout.contains("peak"), "{stdout}");
}
