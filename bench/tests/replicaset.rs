//! The ReplicaSet benchmark runs end to end on a few ReplicaSets: every pod
//! is created and every status reports it; the figures are printed, never
//! asserted. (It needs the rudder-replicaset-controller binary next to
//! rudder-bench: `cargo test --workspace` builds it.)

mod util;

#[tokio::test]
async fn replicaset_benchmark_creates_every_pod() {
    let stdout = util::bench(&["replicaset", "--replicasets", "4", "--replicas", "15"]).await;
    assert!(stdout.contains("pods created         60 of 60 after"), "{stdout}");
    assert!(stdout.contains("statuses reported    4 of 4 after"), "{stdout}");
    assert!(stdout.contains("peak"), "{stdout}");
}
