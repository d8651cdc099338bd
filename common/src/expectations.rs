//! Controller expectations (upstream `ControllerExpectations` and
//! `UIDTrackingControllerExpectations` in
//! `k8s.io/kubernetes/pkg/controller/controller_utils.go`, Kubernetes v1.36).
//!
//! A controller that creates or deletes dependents (pods, say) records how
//! many creations and deletions it expects to observe through its watch
//! before it syncs the owner again; until then its cache is known to be
//! stale and a sync would create or delete too much. Each owner has one
//! record under its key (`"namespace/name"`):
//!
//! * [`ControllerExpectations::expect_creations`] / [`ControllerExpectations::expect_deletions`]
//!   / [`ControllerExpectations::set_expectations`] replace the record (and
//!   restart its clock);
//! * the watch handlers call [`ControllerExpectations::creation_observed`] /
//!   [`ControllerExpectations::deletion_observed`], which lower the counts;
//! * [`ControllerExpectations::satisfied_expectations`] is true when there is
//!   no record, when both counts are at or below zero, or when the record is
//!   older than [`EXPECTATIONS_TIMEOUT`] (5 minutes; a dropped watch event
//!   must not keep a controller asleep forever).
//!
//! Time comes from a [`Clock`], so tests can move it with [`ManualClock`]
//! instead of sleeping. Both types are thread-safe (one `Mutex` each) and
//! cheap to share behind an `Arc`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a record lives before it counts as satisfied anyway (upstream
/// `ExpectationsTimeout`).
pub const EXPECTATIONS_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// A source of monotonic time.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// The real monotonic clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that only moves when told to, for tests.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Instant>,
}

impl ManualClock {
    /// A clock stopped at the current instant.
    pub fn new() -> Self {
        ManualClock { now: Mutex::new(Instant::now()) }
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        let mut now = lock(&self.now);
        *now = now.checked_add(d).unwrap_or(*now);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        *lock(&self.now)
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Instant {
        (**self).now()
    }
}

/// Locks a mutex, recovering the data if another thread panicked while
/// holding it (the counters stay meaningful).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One owner's expectations (upstream `ControlleeExpectations`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expectation {
    /// Creations still expected (may go below zero).
    pub add: i64,
    /// Deletions still expected (may go below zero).
    pub del: i64,
    /// When the record was set.
    pub timestamp: Instant,
}

impl Expectation {
    /// True when no creation and no deletion is outstanding.
    pub fn fulfilled(&self) -> bool {
        self.add <= 0 && self.del <= 0
    }

    /// True when the record is older than [`EXPECTATIONS_TIMEOUT`] at `now`.
    pub fn is_expired(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.timestamp) > EXPECTATIONS_TIMEOUT
    }
}

/// The decision behind [`ControllerExpectations::satisfied_expectations`],
/// as a pure function of the record (if any) and the time.
pub fn expectations_satisfied(record: Option<&Expectation>, now: Instant) -> bool {
    match record {
        None => true,
        Some(e) => e.fulfilled() || e.is_expired(now),
    }
}

/// Expected creations and deletions per owner key (upstream `ControllerExpectations`).
pub struct ControllerExpectations {
    records: Mutex<HashMap<String, Expectation>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for ControllerExpectations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControllerExpectations").field("records", &*lock(&self.records)).finish_non_exhaustive()
    }
}

impl Default for ControllerExpectations {
    fn default() -> Self {
        Self::new()
    }
}

impl ControllerExpectations {
    /// Expectations on the system clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// Expectations on the given clock.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        ControllerExpectations { records: Mutex::new(HashMap::new()), clock }
    }

    /// The record for `key`, if any (upstream `GetExpectations`).
    pub fn get_expectations(&self, key: &str) -> Option<Expectation> {
        lock(&self.records).get(key).copied()
    }

    /// True when the owner may sync: no record, a fulfilled one, or one
    /// older than [`EXPECTATIONS_TIMEOUT`] (upstream `SatisfiedExpectations`).
    pub fn satisfied_expectations(&self, key: &str) -> bool {
        let records = lock(&self.records);
        let record = records.get(key);
        let satisfied = expectations_satisfied(record, self.clock.now());
        match record {
            None => tracing::trace!(key, "no expectations recorded"),
            Some(e) if e.fulfilled() => {}
            Some(e) if satisfied => tracing::debug!(key, add = e.add, del = e.del, "expectations expired"),
            Some(e) => tracing::trace!(key, add = e.add, del = e.del, "still waiting on expectations"),
        }
        satisfied
    }

    /// Forgets the record for `key` (upstream `DeleteExpectations`); call it
    /// when the owner is deleted, so a namesake starts clean.
    pub fn delete_expectations(&self, key: &str) {
        lock(&self.records).remove(key);
    }

    /// Replaces the record for `key` with `add` creations and `del`
    /// deletions, timestamped now (upstream `SetExpectations`).
    pub fn set_expectations(&self, key: &str, add: i64, del: i64) {
        let e = Expectation { add, del, timestamp: self.clock.now() };
        tracing::trace!(key, add, del, "setting expectations");
        lock(&self.records).insert(key.to_string(), e);
    }

    /// Expects `adds` creations and no deletion (upstream `ExpectCreations`).
    pub fn expect_creations(&self, key: &str, adds: i64) {
        self.set_expectations(key, adds, 0);
    }

    /// Expects `dels` deletions and no creation (upstream `ExpectDeletions`).
    pub fn expect_deletions(&self, key: &str, dels: i64) {
        self.set_expectations(key, 0, dels);
    }

    /// Raises the counts of an existing record; does nothing without one
    /// and keeps its timestamp (upstream `RaiseExpectations`).
    pub fn raise(&self, key: &str, add: i64, del: i64) {
        if let Some(e) = lock(&self.records).get_mut(key) {
            e.add = e.add.saturating_add(add);
            e.del = e.del.saturating_add(del);
            tracing::trace!(key, add = e.add, del = e.del, "raised expectations");
        }
    }

    /// Lowers the counts of an existing record; does nothing without one
    /// (upstream `LowerExpectations`).
    pub fn lower_expectations(&self, key: &str, add: i64, del: i64) {
        if let Some(e) = lock(&self.records).get_mut(key) {
            e.add = e.add.saturating_sub(add);
            e.del = e.del.saturating_sub(del);
            tracing::trace!(key, add = e.add, del = e.del, "lowered expectations");
        }
    }

    /// One expected creation was observed (upstream `CreationObserved`).
    pub fn creation_observed(&self, key: &str) {
        self.lower_expectations(key, 1, 0);
    }

    /// One expected deletion was observed (upstream `DeletionObserved`).
    pub fn deletion_observed(&self, key: &str) {
        self.lower_expectations(key, 0, 1);
    }
}

/// Expectations that also remember *which* deletions are expected (upstream
/// `UIDTrackingControllerExpectations`), so that a graceful deletion (first
/// seen as an update setting `deletionTimestamp`, later as the delete) is
/// counted once. The tracked strings are whatever the controller passes:
/// upstream's ReplicaSet controller uses pod keys (`"namespace/name"`).
#[derive(Debug, Default)]
pub struct UidTrackingControllerExpectations {
    expectations: ControllerExpectations,
    uids: Mutex<HashMap<String, HashSet<String>>>,
}

impl UidTrackingControllerExpectations {
    /// Tracking expectations on the system clock.
    pub fn new() -> Self {
        Self::default()
    }

    /// Tracking expectations on the given clock.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        UidTrackingControllerExpectations { expectations: ControllerExpectations::with_clock(clock), uids: Mutex::new(HashMap::new()) }
    }

    /// The underlying counters, for creations and queries.
    pub fn expectations(&self) -> &ControllerExpectations {
        &self.expectations
    }

    /// The deletions still expected for `key` (upstream `GetUIDs`).
    pub fn get_uids(&self, key: &str) -> Option<HashSet<String>> {
        lock(&self.uids).get(key).cloned()
    }

    /// Expects the deletion of exactly `uids` (duplicates count once),
    /// replacing any earlier expectations of `key` (upstream `ExpectDeletions`).
    pub fn expect_deletions<I, S>(&self, key: &str, uids: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut all = lock(&self.uids);
        if let Some(existing) = all.get(key)
            && !existing.is_empty()
        {
            tracing::warn!(key, existing = ?existing, "clobbering existing delete keys");
        }
        let set: HashSet<String> = uids.into_iter().map(Into::into).collect();
        let n = i64::try_from(set.len()).unwrap_or(i64::MAX);
        all.insert(key.to_string(), set);
        self.expectations.expect_deletions(key, n);
    }

    /// Records the deletion of `uid` for `key`; counts only if that deletion
    /// was expected and not yet observed (upstream `DeletionObserved`).
    pub fn deletion_observed(&self, key: &str, uid: &str) {
        let mut all = lock(&self.uids);
        if let Some(set) = all.get_mut(key)
            && set.remove(uid)
        {
            tracing::trace!(key, uid, "expected deletion observed");
            self.expectations.deletion_observed(key);
        }
    }

    /// Forgets both the counters and the tracked deletions of `key`
    /// (upstream `DeleteExpectations`).
    pub fn delete_expectations(&self, key: &str) {
        let mut all = lock(&self.uids);
        self.expectations.delete_expectations(key);
        all.remove(key);
    }

    /// See [`ControllerExpectations::satisfied_expectations`].
    pub fn satisfied_expectations(&self, key: &str) -> bool {
        self.expectations.satisfied_expectations(key)
    }

    /// See [`ControllerExpectations::expect_creations`].
    pub fn expect_creations(&self, key: &str, adds: i64) {
        self.expectations.expect_creations(key, adds);
    }

    /// See [`ControllerExpectations::creation_observed`].
    pub fn creation_observed(&self, key: &str) {
        self.expectations.creation_observed(key);
    }

    /// See [`ControllerExpectations::raise`].
    pub fn raise(&self, key: &str, add: i64, del: i64) {
        self.expectations.raise(key, add, del);
    }

    /// See [`ControllerExpectations::lower_expectations`].
    pub fn lower_expectations(&self, key: &str, add: i64, del: i64) {
        self.expectations.lower_expectations(key, add, del);
    }

    /// See [`ControllerExpectations::get_expectations`].
    pub fn get_expectations(&self, key: &str) -> Option<Expectation> {
        self.expectations.get_expectations(key)
    }
}

/// What one watch event of a dependent means for its owner's expectations
/// (upstream's pod handlers): the first sight of a dependent is its
/// creation, unless it is already being deleted; its first sight with a
/// deletionTimestamp, or its disappearance without one seen, is its deletion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sighting {
    Created,
    Deleted,
    Nothing,
}

impl Sighting {
    /// Lowers the owner's expectations accordingly.
    pub fn observe(self, expectations: &ControllerExpectations, key: &str) {
        match self {
            Sighting::Created => expectations.creation_observed(key),
            Sighting::Deleted => expectations.deletion_observed(key),
            Sighting::Nothing => {}
        }
    }
}

/// The dependents a watch has shown (by uid), to tell [`Sighting`]s apart.
#[derive(Debug, Default)]
pub struct Sightings {
    known: HashSet<String>,
    deleting: HashSet<String>,
}

impl Sightings {
    /// An added or updated dependent.
    pub fn apply(&mut self, uid: &str, deleting: bool) -> Sighting {
        let first = self.known.insert(uid.to_string());
        if deleting {
            if self.deleting.insert(uid.to_string()) { Sighting::Deleted } else { Sighting::Nothing }
        } else if first {
            Sighting::Created
        } else {
            Sighting::Nothing
        }
    }

    /// A dependent gone.
    pub fn delete(&mut self, uid: &str) -> Sighting {
        self.known.remove(uid);
        if self.deleting.remove(uid) { Sighting::Nothing } else { Sighting::Deleted }
    }
}

/// Per owner, the dependents (by uid) whose finalizer removal was issued
/// and not yet observed through the watch (upstream's Job-specific
/// `uidTrackingExpectations` in `pkg/controller/job/tracking_utils.go`).
/// The Job controller skips such pods: they were counted already.
/// Thread-safe.
#[derive(Debug, Default)]
pub struct FinalizerExpectations {
    by_owner: Mutex<HashMap<String, HashSet<String>>>,
}

impl FinalizerExpectations {
    /// Before patching: these uids will lose their finalizer.
    pub fn expect_removals<'a>(&self, key: &str, uids: impl IntoIterator<Item = &'a str>) {
        lock(&self.by_owner).entry(key.to_string()).or_default().extend(uids.into_iter().map(str::to_string));
    }

    /// A dependent without the finalizer (or gone for good) was observed,
    /// or its patch failed.
    pub fn removal_observed(&self, key: &str, uid: &str) {
        let mut all = lock(&self.by_owner);
        if let Some(set) = all.get_mut(key) {
            set.remove(uid);
            if set.is_empty() {
                all.remove(key);
            }
        }
    }

    /// The uids still expected for the owner.
    pub fn expected(&self, key: &str) -> std::collections::BTreeSet<String> {
        lock(&self.by_owner).get(key).map(|s| s.iter().cloned().collect()).unwrap_or_default()
    }

    /// The owner is gone.
    pub fn delete(&self, key: &str) {
        lock(&self.by_owner).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manual() -> (Arc<ManualClock>, ControllerExpectations) {
        let clock = Arc::new(ManualClock::new());
        let e = ControllerExpectations::with_clock(clock.clone());
        (clock, e)
    }

    #[test]
    fn no_record_is_satisfied() {
        let (_, e) = manual();
        assert!(e.satisfied_expectations("ns/rs"));
        assert!(e.get_expectations("ns/rs").is_none());
        // Observations without a record are ignored.
        e.creation_observed("ns/rs");
        e.deletion_observed("ns/rs");
        e.raise("ns/rs", 1, 1);
        assert!(e.get_expectations("ns/rs").is_none());
    }

    #[test]
    fn creations_must_all_be_observed() {
        let (_, e) = manual();
        e.expect_creations("ns/rs", 2);
        assert!(!e.satisfied_expectations("ns/rs"));
        e.creation_observed("ns/rs");
        assert!(!e.satisfied_expectations("ns/rs"));
        e.creation_observed("ns/rs");
        assert!(e.satisfied_expectations("ns/rs"));
        // Extra observations go below zero and stay satisfied.
        e.creation_observed("ns/rs");
        assert_eq!(e.get_expectations("ns/rs").map(|x| (x.add, x.del)), Some((-1, 0)));
        assert!(e.satisfied_expectations("ns/rs"));
        // Other keys are independent.
        assert!(e.satisfied_expectations("ns/other"));
    }

    #[test]
    fn deletions_and_mixed_counts() {
        let (_, e) = manual();
        e.expect_deletions("k", 1);
        assert!(!e.satisfied_expectations("k"));
        e.deletion_observed("k");
        assert!(e.satisfied_expectations("k"));
        e.set_expectations("k", 1, 1);
        e.creation_observed("k");
        assert!(!e.satisfied_expectations("k"));
        e.deletion_observed("k");
        assert!(e.satisfied_expectations("k"));
        e.set_expectations("k", 0, 0);
        assert!(e.satisfied_expectations("k"));
    }

    #[test]
    fn raise_and_lower_adjust_an_existing_record() {
        let (clock, e) = manual();
        e.expect_creations("k", 1);
        let set_at = e.get_expectations("k").map(|x| x.timestamp);
        clock.advance(Duration::from_secs(10));
        e.raise("k", 2, 3);
        assert_eq!(e.get_expectations("k").map(|x| (x.add, x.del)), Some((3, 3)));
        // Raising keeps the original timestamp.
        assert_eq!(e.get_expectations("k").map(|x| x.timestamp), set_at);
        e.lower_expectations("k", 3, 3);
        assert!(e.satisfied_expectations("k"));
        e.raise("k", i64::MAX, i64::MAX);
        e.raise("k", i64::MAX, 1);
        assert_eq!(e.get_expectations("k").map(|x| x.add), Some(i64::MAX));
    }

    #[test]
    fn records_expire_after_five_minutes() {
        let (clock, e) = manual();
        e.expect_creations("k", 5);
        clock.advance(EXPECTATIONS_TIMEOUT);
        // Exactly the timeout is not yet expired (upstream compares with >).
        assert!(!e.satisfied_expectations("k"));
        clock.advance(Duration::from_millis(1));
        assert!(e.satisfied_expectations("k"));
        // Setting again restarts the clock.
        e.expect_creations("k", 5);
        assert!(!e.satisfied_expectations("k"));
    }

    #[test]
    fn delete_expectations_forgets_the_record() {
        let (_, e) = manual();
        e.expect_creations("k", 5);
        e.delete_expectations("k");
        assert!(e.get_expectations("k").is_none());
        assert!(e.satisfied_expectations("k"));
        e.delete_expectations("missing");
    }

    #[test]
    fn pure_decision() {
        let now = Instant::now();
        assert!(expectations_satisfied(None, now));
        let pending = Expectation { add: 1, del: 0, timestamp: now };
        assert!(!expectations_satisfied(Some(&pending), now));
        assert!(expectations_satisfied(Some(&pending), now + EXPECTATIONS_TIMEOUT + Duration::from_secs(1)));
        // A record stamped after `now` is not expired (no underflow).
        let future = Expectation { add: 1, del: 0, timestamp: now + Duration::from_secs(10) };
        assert!(!future.is_expired(now));
        let done = Expectation { add: 0, del: -2, timestamp: now };
        assert!(expectations_satisfied(Some(&done), now));
    }

    #[test]
    fn uid_tracking_counts_each_expected_deletion_once() {
        let clock = Arc::new(ManualClock::new());
        let u = UidTrackingControllerExpectations::with_clock(clock.clone());
        u.expect_deletions("ns/rs", ["ns/a", "ns/b", "ns/b"]);
        assert_eq!(u.get_expectations("ns/rs").map(|x| (x.add, x.del)), Some((0, 2)));
        assert!(!u.satisfied_expectations("ns/rs"));
        // Unexpected deletions do not count.
        u.deletion_observed("ns/rs", "ns/zzz");
        u.deletion_observed("other", "ns/a");
        assert_eq!(u.get_expectations("ns/rs").map(|x| x.del), Some(2));
        // The update that sets deletionTimestamp and the final delete count once.
        u.deletion_observed("ns/rs", "ns/a");
        u.deletion_observed("ns/rs", "ns/a");
        assert_eq!(u.get_expectations("ns/rs").map(|x| x.del), Some(1));
        assert_eq!(u.get_uids("ns/rs"), Some(HashSet::from(["ns/b".to_string()])));
        u.deletion_observed("ns/rs", "ns/b");
        assert!(u.satisfied_expectations("ns/rs"));
    }

    #[test]
    fn uid_tracking_delete_clears_both() {
        let u = UidTrackingControllerExpectations::new();
        u.expect_deletions("k", vec!["a".to_string()]);
        u.delete_expectations("k");
        assert!(u.get_uids("k").is_none());
        assert!(u.get_expectations("k").is_none());
        assert!(u.satisfied_expectations("k"));
        // A later observation of the forgotten deletion is ignored.
        u.deletion_observed("k", "a");
        assert!(u.get_expectations("k").is_none());
    }

    #[test]
    fn uid_tracking_replaces_earlier_expectations_and_tracks_creations() {
        let u = UidTrackingControllerExpectations::new();
        u.expect_deletions("k", ["a", "b"]);
        u.expect_deletions("k", ["c"]);
        assert_eq!(u.get_uids("k"), Some(HashSet::from(["c".to_string()])));
        assert_eq!(u.get_expectations("k").map(|x| x.del), Some(1));
        u.deletion_observed("k", "a");
        assert_eq!(u.get_expectations("k").map(|x| x.del), Some(1));
        u.expect_creations("k", 2);
        u.creation_observed("k");
        u.raise("k", 0, 0);
        u.lower_expectations("k", 1, 0);
        assert!(u.satisfied_expectations("k"));
        // An empty expectation is immediately satisfied.
        u.expect_deletions("e", Vec::<String>::new());
        assert!(u.satisfied_expectations("e"));
    }

    #[test]
    fn expectations_are_shared_between_threads() {
        let e = Arc::new(ControllerExpectations::new());
        e.expect_creations("k", 800);
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let e = e.clone();
                std::thread::spawn(move || {
                    for _ in 0..100 {
                        e.creation_observed("k");
                    }
                })
            })
            .collect();
        for h in handles {
            assert!(h.join().is_ok());
        }
        assert_eq!(e.get_expectations("k").map(|x| x.add), Some(0));
        assert!(e.satisfied_expectations("k"));
    }

    #[test]
    fn finalizer_expectations_follow_each_uid() {
        let e = FinalizerExpectations::default();
        e.expect_removals("ns/j", ["a", "b"]);
        e.removal_observed("ns/j", "a");
        e.removal_observed("ns/other", "b");
        assert_eq!(e.expected("ns/j"), std::collections::BTreeSet::from(["b".to_string()]));
        e.delete("ns/j");
        assert!(e.expected("ns/j").is_empty());
    }

    #[test]
    fn sightings_count_each_creation_and_deletion_once() {
        let mut s = Sightings::default();
        assert_eq!(s.apply("a", false), Sighting::Created);
        assert_eq!(s.apply("a", false), Sighting::Nothing);
        assert_eq!(s.apply("a", true), Sighting::Deleted);
        assert_eq!(s.apply("a", true), Sighting::Nothing);
        assert_eq!(s.delete("a"), Sighting::Nothing, "its deletion was seen already");
        assert_eq!(s.apply("b", true), Sighting::Deleted, "first seen deleting: no creation");
        assert_eq!(s.apply("c", false), Sighting::Created);
        assert_eq!(s.delete("c"), Sighting::Deleted);
        let e = ControllerExpectations::new();
        e.set_expectations("ns/x", 1, 1);
        Sighting::Created.observe(&e, "ns/x");
        assert!(!e.satisfied_expectations("ns/x"));
        Sighting::Deleted.observe(&e, "ns/x");
        assert!(e.satisfied_expectations("ns/x"));
    }
}
