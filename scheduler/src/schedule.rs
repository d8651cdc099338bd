//! One scheduling cycle for one pod (upstream `schedulePod`): PreFilter,
//! Filter over enough nodes, PreScore, Score, NormalizeScore, weights, and
//! the pick of a host, ties broken at random. Pure: the snapshot comes in,
//! a node name (or why none) comes out.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::framework::{Code, CycleState, NodeInfo, Plugin, PodInfo, Snapshot, Status};

/// The error when there are no nodes at all.
pub const NO_NODES: &str = "no nodes available to schedule pods";

/// A plugin in a profile: whether it filters and scores here (the
/// configuration can turn either off), and its score weight.
pub struct Weighted {
    pub plugin: Box<dyn Plugin>,
    pub weight: i64,
    pub filter: bool,
    pub score: bool,
}

impl Weighted {
    fn filters(&self) -> bool {
        self.filter && self.plugin.filters()
    }

    fn scores(&self) -> bool {
        self.score && self.plugin.scores()
    }
}

/// One scheduler profile: plugins in order, and how many nodes to look at.
pub struct Profile {
    pub scheduler_name: String,
    pub plugins: Vec<Weighted>,
    /// 0 = adaptive (upstream's default).
    pub percentage_of_nodes_to_score: u32,
    /// DefaultPreemption enabled.
    pub preemption: bool,
    /// DynamicResources enabled (its PostFilter part of the message).
    pub dynamic_resources: bool,
}

/// Why no node fits: per node, the status that rejected it (upstream
/// `Diagnosis` + `FitError`).
#[derive(Debug, Clone)]
pub struct FitError {
    pub num_all_nodes: usize,
    /// A PreFilter rejection, for every node.
    pub pre_filter: Option<Status>,
    pub node_statuses: BTreeMap<String, Status>,
    /// What the PostFilter plugins said (appended to the message as is).
    pub post_filter_msg: Option<String>,
}

impl FitError {
    /// Upstream's message (`FitError.Error`): `0/5 nodes are available: 2
    /// Insufficient cpu, 3 node(s) had untolerated taint(s).` — the
    /// reasons counted over nodes and sorted; or, when a PreFilter rejected
    /// the pod, its reasons once, each ending with a period; then what the
    /// PostFilter plugins said, as they said it (upstream has added no
    /// period of its own there since v1.30).
    pub fn message(&self) -> String {
        let mut msg = format!("0/{} nodes are available:", self.num_all_nodes);
        if let Some(st) = &self.pre_filter {
            msg.push_str(&format!(" {}.", st.reasons.join(", ")));
        } else {
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for st in self.node_statuses.values() {
                for r in &st.reasons {
                    *counts.entry(r).or_default() += 1;
                }
            }
            let mut parts: Vec<String> = counts.iter().map(|(r, n)| format!("{n} {r}")).collect();
            parts.sort();
            if !parts.is_empty() {
                msg.push_str(&format!(" {}.", parts.join(", ")));
            }
        }
        if let Some(post) = &self.post_filter_msg {
            // No period of its own: the plugins' messages carry theirs.
            msg.push_str(&format!(" {post}"));
        }
        msg
    }

    /// The plugins that rejected the pod somewhere.
    pub fn rejected_by(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = self.pre_filter.iter().chain(self.node_statuses.values()).map(|s| s.plugin).collect();
        v.sort();
        v.dedup();
        v
    }
}

/// The outcome of one cycle.
#[derive(Debug)]
pub enum Outcome {
    Scheduled { node: String, evaluated: usize, feasible: usize },
    Unschedulable(FitError),
    Error(String),
}

/// How many nodes to find feasible before stopping (upstream
/// `numFeasibleNodesToFind`): all below 100 nodes; else the percentage
/// (adaptive: 50% minus 1% per 125 nodes, at least 5%), at least 100.
pub fn num_feasible_nodes_to_find(percentage: u32, num_all_nodes: usize) -> usize {
    const MIN_FEASIBLE: usize = 100;
    const MIN_PERCENTAGE: i64 = 5;
    if num_all_nodes < MIN_FEASIBLE || percentage >= 100 {
        return num_all_nodes;
    }
    let mut pct = percentage as i64;
    if pct == 0 {
        pct = (50 - num_all_nodes as i64 / 125).max(MIN_PERCENTAGE);
    }
    let n = num_all_nodes * pct as usize / 100;
    n.max(MIN_FEASIBLE)
}

/// The filter plugins' verdict for one node (upstream `RunFilterPlugins`):
/// the first rejection.
pub fn run_filters(profile: &Profile, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
    for w in &profile.plugins {
        let p = &w.plugin;
        if !w.filters() || state.skip_filter.contains(&p.name()) {
            continue;
        }
        let mut st = p.filter(state, pod, node);
        if !st.is_success() {
            st.plugin = p.name();
            return st;
        }
    }
    Status::success()
}

/// Runs PreFilter's RemovePod/AddPod extensions of the filtering plugins
/// (for preemption's simulation and nominated pods).
pub fn update_state(profile: &Profile, state: &mut CycleState, pod: &PodInfo, other: &PodInfo, node: &NodeInfo, add: bool) -> Status {
    for w in profile.plugins.iter().filter(|w| w.filters()) {
        if state.skip_filter.contains(&w.plugin.name()) {
            continue;
        }
        let st = if add { w.plugin.add_pod(state, pod, other, node) } else { w.plugin.remove_pod(state, pod, other, node) };
        if !st.is_success() {
            return st;
        }
    }
    Status::success()
}

/// Upstream `RunFilterPluginsWithNominatedPods`: when pods of equal or
/// higher priority are nominated to the node, the pod must fit with them
/// counted as running there, and also without them (a nominated pod may
/// never arrive, and affinity must not rest on it).
pub fn run_filters_with_nominated(profile: &Profile, state: &CycleState, pod: &PodInfo, node: &NodeInfo, snapshot: &Snapshot) -> Status {
    let nominated: Vec<&Arc<PodInfo>> = snapshot
        .nominated
        .get(node.name())
        .into_iter()
        .flatten()
        .filter(|p| p.uid() != pod.uid() && p.priority() >= pod.priority())
        .collect();
    if nominated.is_empty() {
        return run_filters(profile, state, pod, node);
    }
    let mut with = node.clone();
    let mut with_state = state.clone();
    for p in nominated {
        with.add_pod(p.clone());
        let st = update_state(profile, &mut with_state, pod, p, &with, true);
        if !st.is_success() {
            return st;
        }
    }
    let st = run_filters(profile, &with_state, pod, &with);
    if !st.is_success() {
        return st;
    }
    run_filters(profile, state, pod, node)
}

/// PreFilter over all plugins, as upstream's `RunPreFilterPlugins`: an
/// UnschedulableAndUnresolvable or Error rejection ends the run (later
/// plugins' PreFilter never runs); after an Unschedulable one the others
/// still run (preemption may need their state), and the last such
/// rejection is the result.
pub fn run_pre_filters(profile: &Profile, state: &mut CycleState, pod: &PodInfo, snapshot: &Snapshot) -> Result<(), Status> {
    let mut rejected = None;
    for w in profile.plugins.iter().filter(|w| w.filters()) {
        let p = &w.plugin;
        let mut st = p.pre_filter(state, pod, snapshot);
        match st.code {
            Code::Success => {}
            Code::Skip => state.skip_filter.push(p.name()),
            Code::Unschedulable => {
                st.plugin = p.name();
                rejected = Some(st);
            }
            _ => {
                st.plugin = p.name();
                return Err(st);
            }
        }
    }
    rejected.map_or(Ok(()), Err)
}

/// How long each extension point took in one cycle, with its status
/// (`scheduler_framework_extension_point_duration_seconds`).
pub type Timings = Vec<(&'static str, &'static str, std::time::Duration)>;

fn status_label(code: Code) -> &'static str {
    match code {
        Code::Success | Code::Skip => "Success",
        Code::Error => "Error",
        Code::Unschedulable => "Unschedulable",
        Code::UnschedulableAndUnresolvable => "UnschedulableAndUnresolvable",
    }
}

/// Schedules one pod. `start` rotates where filtering begins (upstream
/// `nextStartNodeIndex`) and is advanced by the nodes looked at; `rand`
/// picks among equal best scores.
pub fn schedule_pod(
    profile: &Profile,
    pod: &PodInfo,
    snapshot: &Snapshot,
    start: &mut usize,
    rand: impl FnMut(usize) -> usize,
) -> (Outcome, CycleState) {
    let mut timings = Timings::new();
    schedule_pod_timed(profile, pod, snapshot, start, rand, &mut timings)
}

/// [`schedule_pod`], recording how long PreFilter, Filter and Score took.
pub fn schedule_pod_timed(
    profile: &Profile,
    pod: &PodInfo,
    snapshot: &Snapshot,
    start: &mut usize,
    mut rand: impl FnMut(usize) -> usize,
    timings: &mut Timings,
) -> (Outcome, CycleState) {
    let mut state = CycleState::default();
    let n = snapshot.nodes.len();
    if let Some(e) = &pod.parse_error {
        return (Outcome::Error(format!("invalid pod affinity: {e}")), state);
    }
    if n == 0 {
        // Upstream ErrNoNodesAvailable: an error (back-off), not a FitError.
        return (Outcome::Error(NO_NODES.into()), state);
    }
    let t = std::time::Instant::now();
    let pre = run_pre_filters(profile, &mut state, pod, snapshot);
    timings.push(("PreFilter", pre.as_ref().map_or_else(|st| status_label(st.code), |_| "Success"), t.elapsed()));
    if let Err(st) = pre {
        if st.code == Code::Error {
            return (Outcome::Error(st.reasons.join(", ")), state);
        }
        return (
            Outcome::Unschedulable(FitError {
                num_all_nodes: n,
                pre_filter: Some(st),
                node_statuses: BTreeMap::new(),
                post_filter_msg: None,
            }),
            state,
        );
    }

    let mut feasible: Vec<Arc<NodeInfo>> = Vec::new();
    let mut statuses = BTreeMap::new();
    // A node nominated by an earlier preemption is tried first.
    let nominated = pod.pod.status.as_ref().and_then(|s| s.nominated_node_name.as_deref()).filter(|s| !s.is_empty());
    if let Some(node) = nominated.and_then(|name| snapshot.node(name)) {
        let st = run_filters_with_nominated(profile, &state, pod, node, snapshot);
        if st.is_success() {
            return (Outcome::Scheduled { node: node.name().to_string(), evaluated: 1, feasible: 1 }, state);
        }
    }
    let want = num_feasible_nodes_to_find(profile.percentage_of_nodes_to_score, n);
    let t = std::time::Instant::now();
    let mut evaluated = 0;
    for i in 0..n {
        let node = &snapshot.nodes[(*start + i) % n];
        evaluated += 1;
        let st = run_filters_with_nominated(profile, &state, pod, node, snapshot);
        match st.code {
            Code::Success => {
                feasible.push(node.clone());
                if feasible.len() >= want {
                    break;
                }
            }
            Code::Error => return (Outcome::Error(format!("running {}: {}", st.plugin, st.reasons.join(", "))), state),
            _ => {
                statuses.insert(node.name().to_string(), st);
            }
        }
    }
    *start = (*start + evaluated) % n;
    timings.push(("Filter", if feasible.is_empty() { "Unschedulable" } else { "Success" }, t.elapsed()));
    if feasible.is_empty() {
        return (
            Outcome::Unschedulable(FitError { num_all_nodes: n, pre_filter: None, node_statuses: statuses, post_filter_msg: None }),
            state,
        );
    }
    if feasible.len() == 1 {
        return (Outcome::Scheduled { node: feasible[0].name().to_string(), evaluated, feasible: 1 }, state);
    }
    let t = std::time::Instant::now();
    let scored = score_nodes(profile, &mut state, pod, &feasible, snapshot);
    timings.push(("Score", scored.as_ref().map_or_else(|st| status_label(st.code), |_| "Success"), t.elapsed()));
    let totals = match scored {
        Ok(t) => t,
        Err(st) => return (Outcome::Error(format!("running {}: {}", st.plugin, st.reasons.join(", "))), state),
    };
    let node = select_host(&feasible, &totals, &mut rand);
    (Outcome::Scheduled { node, evaluated, feasible: feasible.len() }, state)
}

/// PreScore, Score, NormalizeScore and weights: the total per node.
pub fn score_nodes(
    profile: &Profile,
    state: &mut CycleState,
    pod: &PodInfo,
    nodes: &[Arc<NodeInfo>],
    snapshot: &Snapshot,
) -> Result<Vec<i64>, Status> {
    let mut totals = vec![0i64; nodes.len()];
    for w in profile.plugins.iter().filter(|w| w.scores()) {
        let p = &w.plugin;
        let mut st = p.pre_score(state, pod, nodes, snapshot);
        match st.code {
            Code::Success => {}
            Code::Skip => {
                state.skip_score.push(p.name());
                continue;
            }
            _ => {
                st.plugin = p.name();
                return Err(st);
            }
        }
    }
    for w in profile.plugins.iter().filter(|w| w.scores()) {
        let p = &w.plugin;
        if state.skip_score.contains(&p.name()) {
            continue;
        }
        let mut scores = Vec::with_capacity(nodes.len());
        for node in nodes {
            match p.score(state, pod, node) {
                Ok(s) => scores.push(s),
                Err(mut st) => {
                    st.plugin = p.name();
                    return Err(st);
                }
            }
        }
        let mut st = p.normalize_score(state, pod, &mut scores);
        if !st.is_success() {
            st.plugin = p.name();
            return Err(st);
        }
        for (t, s) in totals.iter_mut().zip(&scores) {
            *t += s * w.weight;
        }
    }
    Ok(totals)
}

/// The node with the highest total; among equal ones, each equally likely
/// (upstream's reservoir sampling in `selectHost`).
pub fn select_host(nodes: &[Arc<NodeInfo>], totals: &[i64], rand: &mut impl FnMut(usize) -> usize) -> String {
    let mut best = 0;
    let mut ties = 1;
    for i in 1..nodes.len() {
        if totals[i] > totals[best] {
            best = i;
            ties = 1;
        } else if totals[i] == totals[best] {
            ties += 1;
            if rand(ties) == 0 {
                best = i;
            }
        }
    }
    nodes[best].name().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::MAX_NODE_SCORE;
    use k8s_openapi::api::core::v1::{Node, Pod};
    use serde_json::json;

    /// Rejects nodes whose name is in the list, with a reason.
    struct Reject(Vec<&'static str>, &'static str, Code);
    impl Plugin for Reject {
        fn name(&self) -> &'static str {
            "Reject"
        }
        fn filters(&self) -> bool {
            true
        }
        fn filter(&self, _: &CycleState, _: &PodInfo, node: &NodeInfo) -> Status {
            if self.0.contains(&node.name()) {
                Status { code: self.2, reasons: vec![self.1.into()], plugin: "" }
            } else {
                Status::success()
            }
        }
    }

    /// Scores a node by the number in its name.
    struct ByName;
    impl Plugin for ByName {
        fn name(&self) -> &'static str {
            "ByName"
        }
        fn scores(&self) -> bool {
            true
        }
        fn pre_score(&self, _: &mut CycleState, _: &PodInfo, _: &[Arc<NodeInfo>], _: &Snapshot) -> Status {
            Status::success()
        }
        fn score(&self, _: &CycleState, _: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
            Ok(node.name().trim_start_matches('n').parse().unwrap_or(0))
        }
        fn normalize_score(&self, _: &CycleState, _: &PodInfo, scores: &mut [i64]) -> Status {
            crate::framework::default_normalize_score(MAX_NODE_SCORE, false, scores);
            Status::success()
        }
    }

    fn snapshot(n: usize) -> Snapshot {
        let nodes = (0..n)
            .map(|i| {
                let node: Node = serde_json::from_value(json!({"metadata": {"name": format!("n{i}")}})).unwrap();
                Arc::new(NodeInfo::new(Arc::new(node)))
            })
            .collect();
        Snapshot { nodes, ..Default::default() }
    }

    fn pod() -> PodInfo {
        let p: Pod =
            serde_json::from_value(json!({"metadata": {"name": "p", "namespace": "default", "uid": "u"}, "spec": {"containers": []}}))
                .unwrap();
        PodInfo::new(Arc::new(p))
    }

    fn profile(plugins: Vec<Box<dyn Plugin>>) -> Profile {
        Profile {
            scheduler_name: "rudder-scheduler".into(),
            plugins: plugins.into_iter().map(|plugin| Weighted { plugin, weight: 1, filter: true, score: true }).collect(),
            percentage_of_nodes_to_score: 0,
            preemption: true,
            dynamic_resources: true,
        }
    }

    #[test]
    fn feasible_nodes_to_find_as_upstream() {
        assert_eq!(num_feasible_nodes_to_find(0, 10), 10);
        assert_eq!(num_feasible_nodes_to_find(0, 99), 99);
        assert_eq!(num_feasible_nodes_to_find(0, 1000), 420); // 50 - 8 = 42%
        assert_eq!(num_feasible_nodes_to_find(0, 5000), 5000 * 10 / 100); // 50 - 40 = 10%
        assert_eq!(num_feasible_nodes_to_find(0, 6000), 6000 * 5 / 100); // at least 5%
        assert_eq!(num_feasible_nodes_to_find(10, 500), 100); // at least 100
        assert_eq!(num_feasible_nodes_to_find(100, 500), 500);
    }

    #[test]
    fn the_best_scored_feasible_node_wins() {
        let prof = profile(vec![Box::new(Reject(vec!["n3"], "no", Code::Unschedulable)), Box::new(ByName)]);
        let mut start = 0;
        let (out, _) = schedule_pod(&prof, &pod(), &snapshot(4), &mut start, |_| 0);
        match out {
            Outcome::Scheduled { node, evaluated, feasible } => {
                assert_eq!((node.as_str(), evaluated, feasible), ("n2", 4, 3));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_fit_gives_upstreams_message() {
        let prof = profile(vec![
            Box::new(Reject(vec!["n0", "n1"], "Insufficient cpu", Code::Unschedulable)),
            Box::new(Reject(vec!["n2", "n3", "n4"], "node(s) had untolerated taint(s)", Code::UnschedulableAndUnresolvable)),
        ]);
        let mut start = 0;
        let (out, _) = schedule_pod(&prof, &pod(), &snapshot(5), &mut start, |_| 0);
        let Outcome::Unschedulable(fit) = out else { panic!("{out:?}") };
        assert_eq!(fit.message(), "0/5 nodes are available: 2 Insufficient cpu, 3 node(s) had untolerated taint(s).");
        assert_eq!(fit.rejected_by(), ["Reject"]);
        let pre = FitError {
            num_all_nodes: 5,
            pre_filter: Some(Status::unresolvable("node(s) didn't match pod topology spread constraints (missing required label)")),
            node_statuses: BTreeMap::new(),
            post_filter_msg: Some("no new claims to deallocate, preemption: not eligible due to preemptionPolicy=Never.".into()),
        };
        assert_eq!(
            pre.message(),
            "0/5 nodes are available: node(s) didn't match pod topology spread constraints (missing required label). no new claims to deallocate, preemption: not eligible due to preemptionPolicy=Never."
        );
        let (out, _) = schedule_pod(&prof, &pod(), &snapshot(0), &mut start, |_| 0);
        assert!(matches!(out, Outcome::Error(ref e) if e == NO_NODES), "{out:?}");
    }

    #[test]
    fn nominated_pods_of_equal_or_higher_priority_hold_their_room() {
        use crate::config::default_resolved;
        let prof = crate::registry::profile(&default_resolved().profiles[0]).unwrap();
        let node: Node = serde_json::from_value(
            json!({"metadata": {"name": "n0"}, "status": {"allocatable": {"cpu": "2", "memory": "1Gi", "pods": "10"}}}),
        )
        .unwrap();
        let with_cpu = |name: &str, priority: i32, cpu: &str| {
            let p: Pod = serde_json::from_value(json!({"metadata": {"name": name, "namespace": "default", "uid": name},
                "spec": {"priority": priority, "containers": [{"name": "c", "image": "i", "resources": {"requests": {"cpu": cpu}}}]}}))
            .unwrap();
            Arc::new(PodInfo::new(Arc::new(p)))
        };
        let mut snap = Snapshot { nodes: vec![Arc::new(NodeInfo::new(Arc::new(node)))], ..Default::default() };
        snap.nominated.insert("n0".into(), vec![with_cpu("waiting", 10, "1500m")]);
        let mut start = 0;
        let (out, _) = schedule_pod(&prof, &with_cpu("lower", 5, "1"), &snap, &mut start, |_| 0);
        let Outcome::Unschedulable(fit) = out else { panic!("{out:?}") };
        assert_eq!(fit.message(), "0/1 nodes are available: 1 Insufficient cpu.");
        let (out, _) = schedule_pod(&prof, &with_cpu("higher", 20, "1"), &snap, &mut start, |_| 0);
        assert!(matches!(out, Outcome::Scheduled { .. }), "{out:?}");
    }

    #[test]
    fn ties_are_broken_at_random_among_the_best() {
        let nodes = snapshot(3).nodes;
        let totals = [5, 5, 5];
        let mut seen = std::collections::BTreeSet::new();
        for seed in 0..30u64 {
            let mut rng = fastrand::Rng::with_seed(seed);
            seen.insert(select_host(&nodes, &totals, &mut |n| rng.usize(0..n)));
        }
        assert_eq!(seen.len(), 3);
        assert_eq!(select_host(&nodes, &[1, 9, 3], &mut |_| 0), "n1");
    }

    #[test]
    fn filtering_rotates_and_stops_when_enough_are_found() {
        let prof = profile(vec![]);
        let mut start = 0;
        let snap = snapshot(1000);
        let (out, _) = schedule_pod(&prof, &pod(), &snap, &mut start, |_| 0);
        let Outcome::Scheduled { evaluated, feasible, .. } = out else { panic!() };
        assert_eq!((evaluated, feasible), (420, 420));
        assert_eq!(start, 420);
    }
}
