//! The sandbox-objects benchmark runs end to end on a small count and
//! counts every object; the figures themselves are printed, never asserted.

mod util;

#[tokio::test]
async fn sandbox_objects_counts_every_object() {
    let stdout = util::bench(&["sandbox-objects", "--pods", "200", "--concurrency", "8"]).await;
    assert!(stdout.contains("list them (one page, 200 items)") && stdout.contains("list them (limit=500, 200 items)"), "{stdout}");
    assert!(stdout.contains("watch from rv 0 (200 events)"), "{stdout}");
    assert!(stdout.contains("server peak RSS") && stdout.contains("MiB"), "{stdout}");
}

/// The rate-limit benchmark on a small burst: every request answered, and
/// the limiter's histogram counted every request (the waits are printed,
/// never asserted).
#[tokio::test]
async fn client_rate_limit_counts_every_request() {
    let stdout = util::bench(&["client-rate-limit", "--requests", "40", "--qps", "50", "--burst", "30"]).await;
    assert!(stdout.contains("requests answered 200        40     (0 failed)"), "{stdout}");
    assert!(stdout.contains("rest_client_rate_limiter_duration_seconds: count 40,"), "{stdout}");
}
