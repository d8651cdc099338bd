//! The Deployment benchmark runs end to end on a few small Deployments:
//! both rollouts complete; the figures are printed, never asserted. (It
//! needs the controller and scheduler binaries next to rudder-bench:
//! `cargo test --workspace` builds them.)

#[tokio::test]
async fn deployment_benchmark_completes_both_rollouts() {
    let exe = env!("CARGO_BIN_EXE_rudder-bench");
    let out = tokio::process::Command::new(exe)
        .args(["deployment", "--deployments", "3", "--replicas", "4", "--nodes", "2"])
        .kill_on_drop(true)
        .output()
        .await
        .expect("rudder-bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(!stdout.contains("never"), "{stdout}");
    assert!(stdout.contains("created → all complete   "), "{stdout}");
    assert!(stdout.contains("rudder-deployment-controller"), "{stdout}");
}
