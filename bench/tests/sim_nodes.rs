//! The sim-nodes benchmark runs end to end on a few nodes and pods: every
//! pod runs and is removed, every node stays Ready and its heartbeats are
//! followed; the figures (rates, CPU, heartbeat gaps) are printed, never
//! asserted.

mod util;

#[tokio::test]
async fn sim_nodes_runs_and_removes_every_pod() {
    let stdout = util::bench(&["sim-nodes", "--nodes", "3", "--pods", "30", "--concurrency", "8", "--heartbeat", "500ms"]).await;
    assert!(stdout.contains("sim-nodes: 3 nodes, 30 pods"), "{stdout}");
    assert!(stdout.contains("until all 30 pods were Running and Ready"), "{stdout}");
    assert!(stdout.contains("until all 30 pods were removed by their kubelet"), "{stdout}");
    assert!(stdout.contains("nodes seen not Ready: 0 []"), "{stdout}");
    assert!(stdout.contains("longest gap between two Lease renewals") && stdout.contains("kept up"), "{stdout}");
    assert!(stdout.contains("CPU                 simulator"), "{stdout}");
}
