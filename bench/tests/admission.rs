//! The admission benchmark runs end to end at a low rate: every review is
//! answered and allowed, the quota charged; the figures are printed, never
//! asserted. (It needs the rudder-admission-webhooks binary next to
//! rudder-bench: `cargo test --workspace` builds it.)

mod util;

#[tokio::test]
async fn admission_benchmark_answers_every_review() {
    let stdout = util::bench(&["admission", "--rate", "100", "--seconds", "2"]).await;
    assert!(stdout.contains("(0 failed)"), "{stdout}");
    for path in ["/validate/namespacelifecycle", "/mutate/limitranger", "/validate/limitranger", "/validate/resourcequota"] {
        assert!(stdout.contains(path), "{stdout}");
    }
    // 50 quota reviews in the load, 5 in the warm-up: each charged once.
    assert!(stdout.contains("quota status.used.pods         55"), "{stdout}");
    assert!(stdout.contains("reviews/s per core") && stdout.contains("rudder-admission-webhooks"), "{stdout}");
}
