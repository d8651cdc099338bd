//! The Deployment benchmark runs end to end on a few small Deployments:
//! both rollouts complete; the figures are printed, never asserted. (It
//! needs the controller and scheduler binaries next to rudder-bench:
//! `cargo test --workspace` builds them.)

mod util;

#[tokio::test]
async fn deployment_benchmark_completes_both_rollouts() {
    let stdout = util::bench(&["deployment", "--deployments", "3", "--replicas", "4", "--nodes", "2"]).await;
    assert!(!stdout.contains("never"), "{stdout}");
    assert!(stdout.contains("created → all complete   "), "{stdout}");
    assert!(stdout.contains("rudder-deployment-controller"), "{stdout}");
}
