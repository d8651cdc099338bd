//! The Job benchmark runs end to end on a few small Jobs: every Job
//! completes with every pod counted; the figures are printed, never
//! asserted. (It needs the controller and scheduler binaries next to
//! rudder-bench: `cargo test --workspace` builds them.)

mod util;

#[tokio::test]
async fn job_benchmark_completes_every_job() {
    let stdout = util::bench(&["job", "--jobs", "3", "--completions", "4", "--parallelism", "2", "--nodes", "2"]).await;
    assert!(!stdout.contains("never"), "{stdout}");
    assert!(stdout.contains("Jobs complete            3 of 3, 12 pods counted succeeded of 12"), "{stdout}");
    assert!(stdout.contains("rudder-job-controller") && stdout.contains("peak RSS"), "{stdout}");
}
