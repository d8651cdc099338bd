//! The DaemonSet benchmark runs end to end on a few nodes: the DaemonSet
//! covers them, then rolls a new template over them; the figures are
//! printed, never asserted. (It needs the controller and scheduler binaries
//! next to rudder-bench: `cargo test --workspace` builds them.)

mod util;

#[tokio::test]
async fn daemonset_benchmark_covers_and_rolls_every_node() {
    let stdout = util::bench(&["daemonset", "--nodes", "4", "--max-unavailable", "2"]).await;
    assert!(!stdout.contains("never"), "{stdout}");
    assert!(stdout.contains("image change → rolled over every node"), "{stdout}");
    assert!(stdout.contains("rudder-daemonset-controller") && stdout.contains("peak RSS"), "{stdout}");
}
