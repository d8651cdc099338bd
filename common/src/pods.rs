//! Pod predicates and the order in which controllers delete pods, as
//! upstream Kubernetes v1.36 (`k8s.io/kubernetes/pkg/api/v1/pod/util.go` and
//! `pkg/controller/controller_utils.go`).
//!
//! # Which pods go first
//!
//! [`sort_pods_for_deletion`] is upstream `ActivePodsWithRanks` (what the
//! ReplicaSet controller sorts by before scaling down). Comparing two pods,
//! the first rule that tells them apart decides; the pod put first is the
//! one to delete first:
//!
//! 1. unassigned (no `spec.nodeName`) before assigned;
//! 2. phase `Pending` before `Unknown` before `Running` (any other phase,
//!    or none, counts as `Pending`);
//! 3. not ready before ready;
//! 4. lower `controller.kubernetes.io/pod-deletion-cost` before higher
//!    (feature gate `PodDeletionCost`, on by default; a missing or invalid
//!    annotation counts as 0);
//! 5. higher rank before lower rank (for the ReplicaSet controller, the rank
//!    is the number of active related pods on the same node: see
//!    [`ranks_by_pods_on_same_node`]);
//! 6. when both are ready and their Ready conditions changed at different
//!    times: a missing time first, then the pod ready for less time first,
//!    where times are compared on a logarithmic scale (see below);
//! 7. more container restarts (the highest `restartCount` among
//!    `status.containerStatuses`) before fewer;
//! 8. when the creation timestamps differ: a missing one first, then the
//!    newer pod first, again on a logarithmic scale.
//!
//! **Logarithmic scale** (upstream feature `LogarithmicScaleDown`, GA and
//! always on in v1.36): for rules 6 and 8 the two ages `now - t` are
//! bucketed as `⌊log2(age in nanoseconds)⌋` (ages ≤ 0 in bucket −1); the
//! younger bucket goes first, and within one bucket the pod with the smaller
//! uid goes first (uids are random, so this spreads deletions among pods of
//! a similar age). Note that two pods in the same bucket with *different*
//! times are decided by uid at that rule and never reach the later rules,
//! while identical times fall through, exactly as upstream.
//!
//! [`sort_active_pods`] is the older upstream `ActivePods` order (rules 1,
//! 2, 3, 6, 7, 8 with plain time comparisons, no cost, no rank, no
//! logarithmic scale), still used where no ranks exist.
//!
//! Upstream sorts with Go's unstable `sort.Sort`; these functions use a
//! stable merge sort that never panics, even though the rules above are not
//! a strict total order (rule 6 and 8 can be cyclic through uid tie-breaks).
//! Pods the rules cannot tell apart keep their input order.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::HashMap;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Pod, PodCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// Upstream `getPodsPrefix`: `<name>-`, or the bare name when the dash
/// would make it an invalid name prefix.
pub fn pods_prefix(name: &str) -> String {
    // Validated as a name prefix: the trailing dash counts as a letter.
    if crate::selector::is_dns1123_subdomain(&format!("{name}a")).is_empty() { format!("{name}-") } else { name.to_string() }
}

/// Upstream `GetPodFromTemplate`: a pod from a controller's template (its
/// labels, annotations and finalizers, its spec), `generateName` from the
/// controller's name, in the controller's namespace, with its ControllerRef.
pub fn pod_from_template(
    template: &k8s_openapi::api::core::v1::PodTemplateSpec,
    controller_name: &str,
    namespace: Option<String>,
    controller_ref: k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference,
) -> Pod {
    let from = template.metadata.clone().unwrap_or_default();
    let metadata = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
        labels: from.labels,
        annotations: from.annotations,
        finalizers: from.finalizers,
        generate_name: Some(pods_prefix(controller_name)),
        namespace,
        owner_references: Some(vec![controller_ref]),
        ..Default::default()
    };
    Pod { metadata, spec: template.spec.clone(), status: None }
}

/// The pod annotation that orders deletions (upstream `PodDeletionCost`).
pub const POD_DELETION_COST_ANNOTATION: &str = "controller.kubernetes.io/pod-deletion-cost";

fn phase(pod: &Pod) -> &str {
    pod.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or_default()
}

fn node_name(pod: &Pod) -> &str {
    pod.spec.as_ref().and_then(|s| s.node_name.as_deref()).unwrap_or_default()
}

/// True for phase `Succeeded` or `Failed` (upstream `IsPodTerminal`).
pub fn is_pod_terminal(pod: &Pod) -> bool {
    matches!(phase(pod), "Succeeded" | "Failed")
}

/// True when the pod still counts: not `Succeeded`, not `Failed`, and not
/// being deleted (upstream `IsPodActive`).
pub fn is_pod_active(pod: &Pod) -> bool {
    !is_pod_terminal(pod) && pod.metadata.deletion_timestamp.is_none()
}

/// True when the pod is being deleted but has not reached a terminal phase
/// (upstream `IsPodTerminating`, behind the ReplicaSet and Deployment
/// `status.terminatingReplicas`).
pub fn is_pod_terminating(pod: &Pod) -> bool {
    !is_pod_terminal(pod) && pod.metadata.deletion_timestamp.is_some()
}

/// The pod's `Ready` condition (the first one of that type), if any
/// (upstream `GetPodReadyCondition`).
pub fn pod_ready_condition(pod: &Pod) -> Option<&PodCondition> {
    pod.status.as_ref()?.conditions.as_deref()?.iter().find(|c| c.type_ == "Ready")
}

/// True when the `Ready` condition is `True` (upstream `IsPodReady`).
pub fn is_pod_ready(pod: &Pod) -> bool {
    pod_ready_condition(pod).is_some_and(|c| c.status == "True")
}

/// True when the pod is ready and, unless `min_ready_seconds` is 0, has been
/// for more than `min_ready_seconds` at `now` by the `lastTransitionTime` of
/// its `Ready` condition; a missing transition time is never available
/// (upstream `IsPodAvailable`).
pub fn is_pod_available(pod: &Pod, min_ready_seconds: i32, now: Timestamp) -> bool {
    if !is_pod_ready(pod) {
        return false;
    }
    if min_ready_seconds == 0 {
        return true;
    }
    let Some(since) = pod_ready_condition(pod).and_then(|c| c.last_transition_time.as_ref()).and_then(non_zero) else {
        return false;
    };
    since.checked_add(jiff::SignedDuration::from_secs(i64::from(min_ready_seconds))).is_ok_and(|t| t < now)
}

/// The active pods, in their order (upstream `FilterActivePods`).
pub fn filter_active_pods<P: Borrow<Pod>>(pods: impl IntoIterator<Item = P>) -> Vec<P> {
    pods.into_iter().filter(|p| is_pod_active(p.borrow())).collect()
}

/// The terminating pods, in their order (upstream `FilterTerminatingPods`).
pub fn filter_terminating_pods<P: Borrow<Pod>>(pods: impl IntoIterator<Item = P>) -> Vec<P> {
    pods.into_iter().filter(|p| is_pod_terminating(p.borrow())).collect()
}

/// How many pods are terminating (upstream `CountTerminatingPods`).
pub fn count_terminating_pods<P: Borrow<Pod>>(pods: impl IntoIterator<Item = P>) -> usize {
    pods.into_iter().filter(|p| is_pod_terminating(p.borrow())).count()
}

/// The pod's deletion cost: the integer value of the
/// `controller.kubernetes.io/pod-deletion-cost` annotation, 0 when missing
/// or invalid (upstream `GetDeletionCostFromPodAnnotations`: a 32-bit
/// decimal without `+` and without leading zeros).
pub fn pod_deletion_cost(pod: &Pod) -> i32 {
    let Some(v) = pod.metadata.annotations.as_ref().and_then(|a| a.get(POD_DELETION_COST_ANNOTATION)) else {
        return 0;
    };
    let valid_start = match v.as_bytes() {
        [] => false,
        [b'-', ..] => true,
        [b'0', rest @ ..] => rest.is_empty(),
        [b'1'..=b'9', ..] => true,
        _ => false,
    };
    if !valid_start {
        return 0;
    }
    v.parse::<i32>().unwrap_or(0)
}

/// The rank of each pod of `pods_to_rank`: how many active pods of `related`
/// run on its node (unassigned pods share the "" node), as the ReplicaSet
/// controller ranks before scaling down (upstream
/// `getPodsRankedByRelatedPodsOnSameNode`; `related` is every pod of the
/// ReplicaSets owned by the same Deployment, or the ReplicaSet's own pods).
pub fn ranks_by_pods_on_same_node<P: Borrow<Pod>, Q: Borrow<Pod>>(pods_to_rank: &[P], related: &[Q]) -> Vec<usize> {
    let mut on_node: HashMap<&str, usize> = HashMap::new();
    for pod in related {
        let pod = pod.borrow();
        if is_pod_active(pod) {
            *on_node.entry(node_name(pod)).or_default() += 1;
        }
    }
    pods_to_rank.iter().map(|p| on_node.get(node_name(p.borrow())).copied().unwrap_or(0)).collect()
}

/// The ordinal of the phase for rule 2 (missing phases count as `Pending`).
fn phase_ordinal(pod: &Pod) -> u8 {
    match phase(pod) {
        "Unknown" => 1,
        "Running" => 2,
        _ => 0,
    }
}

/// A timestamp unless it is Go's zero time (what an absent time decodes to upstream).
fn non_zero(t: &Time) -> Option<Timestamp> {
    const GO_ZERO_SECONDS: i64 = -62_135_596_800; // 0001-01-01T00:00:00Z
    (t.0.as_second() != GO_ZERO_SECONDS || t.0.subsec_nanosecond() != 0).then_some(t.0)
}

/// When the pod became ready (`None` when not ready or unknown; upstream `podReadyTime`).
fn pod_ready_time(pod: &Pod) -> Option<Timestamp> {
    if !is_pod_ready(pod) {
        return None;
    }
    pod.status
        .as_ref()?
        .conditions
        .as_deref()?
        .iter()
        .find(|c| c.type_ == "Ready" && c.status == "True")?
        .last_transition_time
        .as_ref()
        .and_then(non_zero)
}

fn creation_time(pod: &Pod) -> Option<Timestamp> {
    pod.metadata.creation_timestamp.as_ref().and_then(non_zero)
}

fn max_container_restarts(pod: &Pod) -> i32 {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or_default()
        .iter()
        .map(|c| c.restart_count)
        .max()
        .unwrap_or(0)
        .max(0)
}

fn uid(pod: &Pod) -> &str {
    pod.metadata.uid.as_deref().unwrap_or_default()
}

/// Upstream `afterOrZero`: a missing time first, else the later time first.
fn after_or_zero(t1: Option<Timestamp>, t2: Option<Timestamp>) -> bool {
    match (t1, t2) {
        (Some(a), Some(b)) => a > b,
        (a, _) => a.is_none(),
    }
}

/// `⌊log2(now - t)⌋` in nanoseconds as upstream computes it (Go's
/// `int64(math.Log2(float64(d)))`), −1 for ages ≤ 0.
pub fn logarithmic_age_bucket(t: Timestamp, now: Timestamp) -> i64 {
    let nanos = now.duration_since(t).as_nanos();
    let d = i64::try_from(nanos).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX });
    if d <= 0 {
        return -1;
    }
    go_log2(d as f64) as i64
}

/// Go's `math.Log2`: exact for powers of two, `log(frac)/ln 2 + exp` otherwise.
fn go_log2(x: f64) -> f64 {
    if !x.is_normal() || x <= 0.0 {
        return x.log2();
    }
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64 - 1022;
    let frac = f64::from_bits((bits & !(0x7ff_u64 << 52)) | (1022_u64 << 52));
    if frac == 0.5 {
        return (exp - 1) as f64;
    }
    frac.ln() * (1.0 / std::f64::consts::LN_2) + exp as f64
}

/// Rules 6 and 8 on a logarithmic scale; `None` when the times are equal.
fn log_scale_less(t1: Option<Timestamp>, t2: Option<Timestamp>, a: &Pod, b: &Pod, now: Timestamp) -> Option<bool> {
    if t1 == t2 {
        return None;
    }
    let (Some(x), Some(y)) = (t1, t2) else {
        return Some(after_or_zero(t1, t2));
    };
    let diff = logarithmic_age_bucket(x, now) - logarithmic_age_bucket(y, now);
    Some(if diff == 0 { uid(a) < uid(b) } else { diff < 0 })
}

/// The first three rules both orders share: unassigned before assigned,
/// Pending before Unknown before Running, not ready before ready. None when
/// they do not decide.
fn placement_phase_readiness_less(a: &Pod, b: &Pod) -> Option<bool> {
    let (na, nb) = (node_name(a), node_name(b));
    if na != nb && (na.is_empty() || nb.is_empty()) {
        return Some(na.is_empty());
    }
    let (pa, pb) = (phase_ordinal(a), phase_ordinal(b));
    if pa != pb {
        return Some(pa < pb);
    }
    let (ra, rb) = (is_pod_ready(a), is_pod_ready(b));
    (ra != rb).then_some(!ra)
}

/// Upstream `ActivePodsWithRanks.Less`: true when pod `a` (with rank
/// `rank_a`) is to be deleted before pod `b` (see the module documentation).
pub fn deletion_less(a: &Pod, rank_a: usize, b: &Pod, rank_b: usize, now: Timestamp) -> bool {
    if let Some(less) = placement_phase_readiness_less(a, b) {
        return less;
    }
    let (ra, rb) = (is_pod_ready(a), is_pod_ready(b));
    let (ca, cb) = (pod_deletion_cost(a), pod_deletion_cost(b));
    if ca != cb {
        return ca < cb;
    }
    if rank_a != rank_b {
        return rank_a > rank_b;
    }
    if ra
        && rb
        && let Some(less) = log_scale_less(pod_ready_time(a), pod_ready_time(b), a, b, now)
    {
        return less;
    }
    let (xa, xb) = (max_container_restarts(a), max_container_restarts(b));
    if xa != xb {
        return xa > xb;
    }
    log_scale_less(creation_time(a), creation_time(b), a, b, now).unwrap_or(false)
}

/// Upstream `ActivePods.Less`: true when pod `a` sorts before pod `b`
/// (rules 1, 2, 3, 6, 7 and 8 with plain time comparisons).
pub fn active_pods_less(a: &Pod, b: &Pod) -> bool {
    if let Some(less) = placement_phase_readiness_less(a, b) {
        return less;
    }
    let (ra, rb) = (is_pod_ready(a), is_pod_ready(b));
    if ra && rb {
        let (ta, tb) = (pod_ready_time(a), pod_ready_time(b));
        if ta != tb {
            return after_or_zero(ta, tb);
        }
    }
    let (xa, xb) = (max_container_restarts(a), max_container_restarts(b));
    if xa != xb {
        return xa > xb;
    }
    let (ta, tb) = (creation_time(a), creation_time(b));
    ta != tb && after_or_zero(ta, tb)
}

/// A stable merge sort by a "less" predicate that need not be a total
/// order; it never panics and always returns a permutation of `items`.
fn stable_sort_by_less<T>(items: Vec<T>, less: impl Fn(usize, usize) -> bool) -> Vec<T> {
    let n = items.len();
    let mut order: Vec<usize> = (0..n).collect();
    let mut buf: Vec<usize> = Vec::with_capacity(n);
    let mut width = 1;
    while width < n {
        buf.clear();
        let mut start = 0;
        while start < n {
            let mid = (start + width).min(n);
            let end = (start + 2 * width).min(n);
            let (mut i, mut j) = (start, mid);
            while i < mid && j < end {
                // Take from the right only when it is strictly less: stable.
                if less(order[j], order[i]) {
                    buf.push(order[j]);
                    j += 1;
                } else {
                    buf.push(order[i]);
                    i += 1;
                }
            }
            buf.extend_from_slice(&order[i..mid]);
            buf.extend_from_slice(&order[j..end]);
            start = end;
        }
        std::mem::swap(&mut order, &mut buf);
        width *= 2;
    }
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots.get_mut(i).and_then(Option::take)).collect()
}

/// Sorts pods so that the ones to delete first come first (upstream
/// `sort.Sort(ActivePodsWithRanks{Pods, Rank, Now})`). `ranks[i]` is the rank
/// of `pods[i]` (missing ranks count as 0); `now` is the reference time of
/// the logarithmic comparisons.
pub fn sort_pods_for_deletion<P: Borrow<Pod>>(pods: Vec<P>, ranks: &[usize], now: Timestamp) -> Vec<P> {
    let rank = |i: usize| ranks.get(i).copied().unwrap_or(0);
    let refs: Vec<&Pod> = pods.iter().map(Borrow::borrow).collect();
    let order = stable_sort_by_less((0..pods.len()).collect::<Vec<_>>(), |i, j| deletion_less(refs[i], rank(i), refs[j], rank(j), now));
    drop(refs);
    let mut slots: Vec<Option<P>> = pods.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots.get_mut(i).and_then(Option::take)).collect()
}

/// Sorts pods by upstream's `ActivePods` order (less active first).
pub fn sort_active_pods<P: Borrow<Pod>>(pods: Vec<P>) -> Vec<P> {
    let refs: Vec<&Pod> = pods.iter().map(Borrow::borrow).collect();
    let order = stable_sort_by_less((0..pods.len()).collect::<Vec<_>>(), |i, j| active_pods_less(refs[i], refs[j]));
    drop(refs);
    let mut slots: Vec<Option<P>> = pods.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots.get_mut(i).and_then(Option::take)).collect()
}

/// The `diff` pods of `filtered` to delete when scaling down, ranked by the
/// active pods of `related` on the same node (upstream ReplicaSet
/// `getPodsToDelete`: no sorting when every pod goes).
pub fn pods_to_delete<P: Borrow<Pod>, Q: Borrow<Pod>>(filtered: Vec<P>, related: &[Q], diff: usize, now: Timestamp) -> Vec<P> {
    let mut pods = if diff < filtered.len() {
        let ranks = ranks_by_pods_on_same_node(&filtered, related);
        sort_pods_for_deletion(filtered, &ranks, now)
    } else {
        filtered
    };
    pods.truncate(diff);
    pods
}

/// A total order on pods by [`deletion_less`], for callers that need an
/// `Ordering` (ties and cycles resolve to `Equal`; do not feed it to
/// `slice::sort_by`, which may panic on inconsistent orders: use
/// [`sort_pods_for_deletion`]).
pub fn deletion_ordering(a: &Pod, rank_a: usize, b: &Pod, rank_b: usize, now: Timestamp) -> Ordering {
    if deletion_less(a, rank_a, b, rank_b, now) {
        Ordering::Less
    } else if deletion_less(b, rank_b, a, rank_a, now) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use k8s_openapi::api::core::v1::{ContainerStatus, PodSpec, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn t(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    const NOW: &str = "2024-05-01T12:00:00Z";

    /// A pod builder for the tests.
    #[derive(Clone, Default)]
    struct P {
        name: &'static str,
        uid: &'static str,
        node: &'static str,
        phase: &'static str,
        ready_since: Option<&'static str>,
        not_ready: bool,
        restarts: Vec<i32>,
        created: Option<&'static str>,
        cost: Option<&'static str>,
        deleting: bool,
    }

    impl P {
        fn new(name: &'static str) -> P {
            P { name, uid: name, node: "n1", phase: "Running", created: Some("2024-05-01T00:00:00Z"), ..Default::default() }
        }
        fn pod(&self) -> Pod {
            let mut conditions = Vec::new();
            if let Some(since) = self.ready_since {
                conditions.push(PodCondition {
                    type_: "Ready".into(),
                    status: "True".into(),
                    last_transition_time: (!since.is_empty()).then(|| Time(t(since))),
                    ..Default::default()
                });
            } else if self.not_ready {
                conditions.push(PodCondition { type_: "Ready".into(), status: "False".into(), ..Default::default() });
            }
            Pod {
                metadata: ObjectMeta {
                    name: Some(self.name.into()),
                    uid: Some(self.uid.into()),
                    creation_timestamp: self.created.map(|c| Time(t(c))),
                    deletion_timestamp: self.deleting.then(|| Time(t(NOW))),
                    annotations: self.cost.map(|c| BTreeMap::from([(POD_DELETION_COST_ANNOTATION.to_string(), c.to_string())])),
                    ..Default::default()
                },
                spec: Some(PodSpec { node_name: (!self.node.is_empty()).then(|| self.node.into()), ..Default::default() }),
                status: Some(PodStatus {
                    phase: (!self.phase.is_empty()).then(|| self.phase.into()),
                    conditions: Some(conditions),
                    container_statuses: Some(
                        self.restarts.iter().map(|r| ContainerStatus { restart_count: *r, ..Default::default() }).collect(),
                    ),
                    ..Default::default()
                }),
            }
        }
    }

    fn names<P: Borrow<Pod>>(pods: &[P]) -> Vec<String> {
        pods.iter().map(|p| p.borrow().metadata.name.clone().unwrap_or_default()).collect()
    }

    #[test]
    fn activity_predicates() {
        let running = P::new("a").pod();
        assert!(is_pod_active(&running));
        assert!(!is_pod_terminating(&running));
        assert!(!is_pod_terminal(&running));
        for phase in ["Succeeded", "Failed"] {
            let p = P { phase, ..P::new("a") }.pod();
            assert!(!is_pod_active(&p));
            assert!(is_pod_terminal(&p));
            assert!(!is_pod_terminating(&P { phase, deleting: true, ..P::new("a") }.pod()));
        }
        let deleting = P { deleting: true, ..P::new("a") }.pod();
        assert!(!is_pod_active(&deleting));
        assert!(is_pod_terminating(&deleting));
        assert!(is_pod_active(&Pod::default()));
        assert!(!is_pod_terminating(&Pod::default()));
        let pods = vec![running.clone(), deleting.clone(), P { phase: "Failed", ..P::new("f") }.pod()];
        assert_eq!(filter_active_pods(&pods).len(), 1);
        assert_eq!(filter_terminating_pods(pods.iter()).len(), 1);
        assert_eq!(count_terminating_pods(&pods), 1);
        let arcs: Vec<Arc<Pod>> = pods.into_iter().map(Arc::new).collect();
        assert_eq!(filter_active_pods(arcs).len(), 1);
    }

    #[test]
    fn readiness_and_availability() {
        let now = t(NOW);
        assert!(!is_pod_ready(&Pod::default()));
        assert!(!is_pod_ready(&P { not_ready: true, ..P::new("a") }.pod()));
        let ready = P { ready_since: Some("2024-05-01T11:59:00Z"), ..P::new("a") }.pod();
        assert!(is_pod_ready(&ready));
        assert!(is_pod_available(&ready, 0, now));
        assert!(is_pod_available(&ready, 59, now));
        // Ready for exactly minReadySeconds is not yet available (strictly before).
        assert!(!is_pod_available(&ready, 60, now));
        assert!(!is_pod_available(&ready, 61, now));
        // Without a transition time only minReadySeconds 0 makes it available.
        let unknown = P { ready_since: Some(""), ..P::new("a") }.pod();
        assert!(is_pod_available(&unknown, 0, now));
        assert!(!is_pod_available(&unknown, 1, now));
        assert!(!is_pod_available(&P { not_ready: true, ..P::new("a") }.pod(), 0, now));
        // Negative and huge values never panic.
        assert!(is_pod_available(&ready, -5, now));
        assert!(!is_pod_available(&ready, i32::MAX, now));
        // Only the first Ready condition counts.
        let mut twice = ready.clone();
        if let Some(c) = twice.status.as_mut().and_then(|s| s.conditions.as_mut()) {
            c.insert(0, PodCondition { type_: "Ready".into(), status: "False".into(), ..Default::default() });
        }
        assert!(!is_pod_ready(&twice));
    }

    #[test]
    fn deletion_cost_annotation() {
        let cost = |v: &'static str| pod_deletion_cost(&P { cost: Some(v), ..P::new("a") }.pod());
        assert_eq!(pod_deletion_cost(&P::new("a").pod()), 0);
        assert_eq!(cost("10"), 10);
        assert_eq!(cost("-10"), -10);
        assert_eq!(cost("0"), 0);
        assert_eq!(cost("+10"), 0);
        assert_eq!(cost("007"), 0);
        assert_eq!(cost(""), 0);
        assert_eq!(cost("abc"), 0);
        assert_eq!(cost("2147483647"), i32::MAX);
        assert_eq!(cost("2147483648"), 0);
        assert_eq!(cost("-2147483648"), i32::MIN);
        assert_eq!(cost(" 1"), 0);
    }

    #[test]
    fn ranks_count_active_related_pods_per_node() {
        let related = vec![
            P::new("a").pod(),
            P::new("b").pod(),
            P { node: "n2", ..P::new("c") }.pod(),
            P { node: "n2", deleting: true, ..P::new("d") }.pod(),
            P { node: "", ..P::new("e") }.pod(),
        ];
        let to_rank = vec![
            P::new("x").pod(),
            P { node: "n2", ..P::new("y") }.pod(),
            P { node: "", ..P::new("z") }.pod(),
            P { node: "n3", ..P::new("w") }.pod(),
        ];
        assert_eq!(ranks_by_pods_on_same_node(&to_rank, &related), vec![2, 1, 1, 0]);
        assert_eq!(ranks_by_pods_on_same_node(&to_rank, &Vec::<Pod>::new()), vec![0, 0, 0, 0]);
    }

    /// Checks that `first` goes before `second` and not the other way round.
    fn before(first: &P, second: &P) {
        before_ranked(first, 0, second, 0);
    }

    fn before_ranked(first: &P, rf: usize, second: &P, rs: usize) {
        let (a, b, now) = (first.pod(), second.pod(), t(NOW));
        assert!(deletion_less(&a, rf, &b, rs, now), "{} should go before {}", first.name, second.name);
        assert!(!deletion_less(&b, rs, &a, rf, now), "{} should not go before {}", second.name, first.name);
        let sorted = sort_pods_for_deletion(vec![b, a], &[rs, rf], now);
        assert_eq!(names(&sorted), vec![first.name, second.name]);
    }

    #[test]
    fn rule_1_unassigned_first() {
        before(&P { node: "", ..P::new("unassigned") }, &P { phase: "Pending", ..P::new("assigned") });
        // Two different nodes are not ordered by this rule.
        let (a, b) = (P { node: "n1", ..P::new("a") }.pod(), P { node: "n2", ..P::new("b") }.pod());
        assert!(!deletion_less(&a, 0, &b, 0, t(NOW)) && !deletion_less(&b, 0, &a, 0, t(NOW)));
    }

    #[test]
    fn rule_2_phases() {
        before(&P { phase: "Pending", ..P::new("pending") }, &P { phase: "Unknown", ..P::new("unknown") });
        before(&P { phase: "Unknown", ..P::new("unknown") }, &P { phase: "Running", ..P::new("running") });
        before(&P { phase: "", ..P::new("none") }, &P { phase: "Unknown", ..P::new("unknown") });
    }

    #[test]
    fn rule_3_not_ready_first() {
        before(&P { not_ready: true, ..P::new("not-ready") }, &P { ready_since: Some("2024-05-01T11:00:00Z"), ..P::new("ready") });
        before(&P::new("no-condition"), &P { ready_since: Some("2024-05-01T11:00:00Z"), ..P::new("ready") });
    }

    #[test]
    fn rule_4_lower_deletion_cost_first() {
        before(&P { cost: Some("-5"), ..P::new("cheap") }, &P { cost: Some("5"), ..P::new("expensive") });
        // Cost beats rank.
        before_ranked(&P { cost: Some("1"), ..P::new("cheap") }, 0, &P { cost: Some("2"), ..P::new("costly") }, 10);
        // Readiness beats cost.
        before(&P { cost: Some("100"), not_ready: true, ..P::new("not-ready") }, &P { ready_since: Some(NOW), ..P::new("ready") });
    }

    #[test]
    fn rule_5_higher_rank_first() {
        before_ranked(&P::new("crowded"), 3, &P::new("alone"), 1);
    }

    #[test]
    fn rule_6_ready_for_less_time_first_on_a_log_scale() {
        // 1 minute vs 1 hour: different buckets.
        before(
            &P { ready_since: Some("2024-05-01T11:59:00Z"), ..P::new("recent") },
            &P { ready_since: Some("2024-05-01T11:00:00Z"), ..P::new("old") },
        );
        // A missing ready time goes first.
        before(&P { ready_since: Some(""), ..P::new("unknown") }, &P { ready_since: Some("2024-05-01T11:59:59Z"), ..P::new("recent") });
        // Same bucket (1000s and 1001s are both in 2^39..2^40 ns): the smaller uid first,
        // even against the later rules (restarts).
        let a = P { ready_since: Some("2024-05-01T11:43:20Z"), uid: "u-1", ..P::new("a") };
        let b = P { ready_since: Some("2024-05-01T11:43:19Z"), uid: "u-2", restarts: vec![9], ..P::new("b") };
        before(&a, &b);
        // Same time: falls through to restarts.
        let c = P { ready_since: Some("2024-05-01T11:00:00Z"), uid: "u-1", ..P::new("c") };
        let d = P { ready_since: Some("2024-05-01T11:00:00Z"), uid: "u-2", restarts: vec![1], ..P::new("d") };
        before(&d, &c);
    }

    #[test]
    fn rule_7_more_restarts_first() {
        before(&P { restarts: vec![0, 5], ..P::new("flappy") }, &P { restarts: vec![4], ..P::new("steady") });
        // Negative counts (invalid) are treated as 0.
        let a = P { restarts: vec![-3], ..P::new("a") }.pod();
        let b = P::new("b").pod();
        assert_eq!(deletion_ordering(&a, 0, &b, 0, t(NOW)), Ordering::Equal);
    }

    #[test]
    fn rule_8_newer_first_on_a_log_scale() {
        before(
            &P { created: Some("2024-05-01T11:59:00Z"), ..P::new("new") },
            &P { created: Some("2024-04-01T00:00:00Z"), ..P::new("old") },
        );
        before(&P { created: None, ..P::new("no-time") }, &P { created: Some("2024-05-01T11:59:59Z"), ..P::new("new") });
        // Same bucket: by uid.
        before(
            &P { created: Some("2024-05-01T11:43:19Z"), uid: "a", ..P::new("older-but-a") },
            &P { created: Some("2024-05-01T11:43:20Z"), uid: "b", ..P::new("newer-but-b") },
        );
        // Identical in every respect: neither goes first.
        let (a, b) = (P::new("x").pod(), P::new("x").pod());
        assert_eq!(deletion_ordering(&a, 0, &b, 0, t(NOW)), Ordering::Equal);
        // Created in the future (clock skew): bucket -1, the youngest.
        before(
            &P { created: Some("2024-05-01T12:00:05Z"), ..P::new("future") },
            &P { created: Some("2024-05-01T11:59:59Z"), ..P::new("past") },
        );
    }

    #[test]
    fn logarithmic_buckets() {
        let now = t(NOW);
        assert_eq!(logarithmic_age_bucket(now, now), -1);
        assert_eq!(logarithmic_age_bucket(t("2024-05-01T12:00:01Z"), now), -1);
        // 1 ns → 0; 1 s = 1e9 ns → 29 (2^29 = 5.4e8, 2^30 = 1.07e9).
        assert_eq!(logarithmic_age_bucket(now - jiff::SignedDuration::from_nanos(1), now), 0);
        assert_eq!(logarithmic_age_bucket(now - jiff::SignedDuration::from_nanos(2), now), 1);
        assert_eq!(logarithmic_age_bucket(now - jiff::SignedDuration::from_nanos(3), now), 1);
        assert_eq!(logarithmic_age_bucket(now - jiff::SignedDuration::from_nanos(1 << 40), now), 40);
        assert_eq!(logarithmic_age_bucket(now - jiff::SignedDuration::from_nanos((1 << 40) - 1), now), 39);
        assert_eq!(logarithmic_age_bucket(now - jiff::SignedDuration::from_secs(1), now), 29);
        // Very old timestamps saturate instead of overflowing.
        assert_eq!(logarithmic_age_bucket(Timestamp::MIN, Timestamp::MAX), 63);
    }

    #[test]
    fn active_pods_order() {
        let a = P { node: "", ..P::new("unassigned") };
        let b = P { phase: "Pending", ..P::new("pending") };
        let c = P { not_ready: true, ..P::new("not-ready") };
        let d = P { ready_since: Some("2024-05-01T11:59:00Z"), restarts: vec![3], ..P::new("ready-recently") };
        let e = P { ready_since: Some("2024-05-01T11:00:00Z"), restarts: vec![7], ..P::new("ready-long-restarts") };
        let f = P { ready_since: Some("2024-05-01T11:00:00Z"), created: Some("2024-05-01T10:00:00Z"), ..P::new("ready-long-new") };
        let g = P { ready_since: Some("2024-05-01T11:00:00Z"), ..P::new("ready-long-old") };
        let input = vec![g.pod(), f.pod(), e.pod(), d.pod(), c.pod(), b.pod(), a.pod()];
        assert_eq!(
            names(&sort_active_pods(input)),
            vec!["unassigned", "pending", "not-ready", "ready-recently", "ready-long-restarts", "ready-long-new", "ready-long-old"]
        );
        // Unlike the ranked order, plain ActivePods compares times exactly.
        let x = P { created: Some("2024-05-01T11:43:20Z"), uid: "b", ..P::new("x") }.pod();
        let y = P { created: Some("2024-05-01T11:43:19Z"), uid: "a", ..P::new("y") }.pod();
        assert!(active_pods_less(&x, &y));
        assert!(!active_pods_less(&y, &x));
        assert!(!active_pods_less(&x, &x));
    }

    #[test]
    fn full_deletion_order() {
        let now = t(NOW);
        let pods = [
            P { ready_since: Some("2024-05-01T00:00:00Z"), ..P::new("old-ready") },
            P { node: "", phase: "Pending", ..P::new("unscheduled") },
            P { ready_since: Some("2024-05-01T11:59:50Z"), ..P::new("just-ready") },
            P { phase: "Pending", ..P::new("pending") },
            P { not_ready: true, ..P::new("not-ready") },
            P { ready_since: Some("2024-05-01T00:00:00Z"), node: "n2", ..P::new("old-ready-n2") },
        ];
        let objs: Vec<Pod> = pods.iter().map(P::pod).collect();
        let ranks = ranks_by_pods_on_same_node(&objs, &objs);
        let sorted = sort_pods_for_deletion(objs.clone(), &ranks, now);
        assert_eq!(names(&sorted), vec!["unscheduled", "pending", "not-ready", "just-ready", "old-ready", "old-ready-n2"]);
        let to_delete = pods_to_delete(objs.iter().collect::<Vec<_>>(), &objs, 2, now);
        assert_eq!(names(&to_delete), vec!["unscheduled", "pending"]);
        // Deleting all of them (or more) keeps the input order, as upstream skips sorting.
        assert_eq!(names(&pods_to_delete(objs.clone(), &objs, 10, now)), names(&objs));
        assert!(pods_to_delete(objs.clone(), &objs, 0, now).is_empty());
    }

    #[test]
    fn sorting_is_stable_and_never_panics_on_inconsistent_orders() {
        let now = t(NOW);
        // A cycle through the uid tie-break: b < a (restarts, same time), a < c (uid, same
        // bucket), c < b (uid, same bucket).
        let a = P { ready_since: Some("2024-05-01T11:43:20Z"), uid: "1", ..P::new("a") };
        let b = P { ready_since: Some("2024-05-01T11:43:20Z"), uid: "3", restarts: vec![2], ..P::new("b") };
        let c = P { ready_since: Some("2024-05-01T11:43:21Z"), uid: "2", ..P::new("c") };
        let (pa, pb, pc) = (a.pod(), b.pod(), c.pod());
        assert!(deletion_less(&pb, 0, &pa, 0, now));
        assert!(deletion_less(&pa, 0, &pc, 0, now));
        assert!(deletion_less(&pc, 0, &pb, 0, now));
        for perm in [[0, 1, 2], [2, 1, 0], [1, 0, 2], [1, 2, 0], [0, 2, 1], [2, 0, 1]] {
            let all = [pa.clone(), pb.clone(), pc.clone()];
            let input: Vec<Pod> = perm.iter().map(|&i| all[i].clone()).collect();
            let mut out = names(&sort_pods_for_deletion(input, &[], now));
            out.sort();
            assert_eq!(out, vec!["a", "b", "c"]);
        }
        // Equal pods keep their order.
        let same: Vec<Pod> = (0..20)
            .map(|i| {
                let mut p = P::new("same").pod();
                p.metadata.name = Some(format!("p{i:02}"));
                p
            })
            .collect();
        let sorted = sort_pods_for_deletion(same.clone(), &[1, 2, 3], now);
        let expected: Vec<String> = {
            // p00..p02 have ranks 1..3 (higher first), the rest rank 0 in input order.
            let mut v = vec!["p02".to_string(), "p01".to_string(), "p00".to_string()];
            v.extend((3..20).map(|i| format!("p{i:02}")));
            v
        };
        assert_eq!(names(&sorted), expected);
        assert!(sort_pods_for_deletion(Vec::<Pod>::new(), &[], now).is_empty());
        assert_eq!(sort_pods_for_deletion(vec![Pod::default(), Pod::default()], &[5], now).len(), 2);
    }

    #[test]
    fn merge_sort_sorts() {
        let v: Vec<i32> = vec![5, 3, 9, 1, 1, 7, 2, 8, 6, 4, 0];
        let keys = v.clone();
        let sorted = stable_sort_by_less(v, |i, j| keys[i] < keys[j]);
        assert_eq!(sorted, vec![0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        let junk = stable_sort_by_less((0..37).collect::<Vec<usize>>(), |i, j| (i * 7 + j) % 3 == 0);
        let mut check = junk.clone();
        check.sort();
        assert_eq!(check, (0..37).collect::<Vec<_>>());
    }

    #[test]
    fn go_log2_matches_powers_of_two() {
        for k in 0..62 {
            assert_eq!(go_log2((1_i64 << k) as f64), k as f64);
        }
        assert!(go_log2(3.0) > 1.5 && go_log2(3.0) < 1.6);
    }
}
