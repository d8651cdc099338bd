//! Preemption (upstream's DefaultPreemption PostFilter), pure: when a pod
//! with a priority fits nowhere, find the node where evicting the fewest,
//! least important lower-priority pods makes it fit, respecting
//! PodDisruptionBudgets where possible. The caller deletes the victims and
//! nominates the node; the pod is scheduled once they are gone.

use std::collections::HashSet;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use rudder_common::selector::Selector;

use crate::framework::{Code, CycleState, NodeInfo, PodInfo, Snapshot, Status};
use crate::schedule::{FitError, Profile, run_filters_with_nominated as run_filters, update_state};

/// Upstream `MinCandidateNodesPercentage` and `MinCandidateNodesAbsolute`.
const MIN_CANDIDATE_NODES_PERCENTAGE: usize = 10;
const MIN_CANDIDATE_NODES_ABSOLUTE: usize = 100;

/// The reasons upstream gives.
pub const NO_VICTIMS: &str = "No preemption victims found for incoming pod";
pub const NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";
pub const NEVER: &str = "not eligible due to preemptionPolicy=Never.";
pub const TERMINATING: &str = "not eligible due to a terminating pod on the nominated node.";

/// A PodDisruptionBudget as preemption needs it.
#[derive(Debug, Clone)]
pub struct Pdb {
    pub namespace: String,
    /// `None`: an empty or invalid selector, which selects nothing here.
    pub selector: Option<Selector>,
    pub disruptions_allowed: i32,
    /// `status.disruptedPods`: already counted against the budget.
    pub disrupted_pods: HashSet<String>,
}

/// The node chosen and the pods to evict there, most important first.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub node: String,
    pub victims: Vec<Arc<PodInfo>>,
    pub pdb_violations: usize,
}

/// What preemption decided.
#[derive(Debug)]
pub enum Decision {
    /// Evict these and nominate the node.
    Preempt(Candidate),
    /// Preemption cannot help: the message (upstream's, without the
    /// `preemption: ` prefix the caller adds), and whether a nomination the
    /// pod holds should be cleared.
    NotHelpful { message: String, clear_nomination: bool },
}

fn priority(pod: &Pod) -> i32 {
    pod.spec.as_ref().and_then(|s| s.priority).unwrap_or(0)
}

/// Upstream `MoreImportantPod`: higher priority, then started earlier (a
/// pod not started yet counts as starting now, i.e. last).
pub fn more_important(a: &Pod, b: &Pod) -> std::cmp::Ordering {
    let start = |p: &Pod| p.status.as_ref().and_then(|s| s.start_time.as_ref()).map(|t| t.0);
    priority(b).cmp(&priority(a)).then_with(|| match (start(a), start(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    })
}

/// Splits pods (in order) into those whose eviction would break a
/// PodDisruptionBudget and the others (upstream `filterPodsWithPDBViolation`).
fn split_by_pdb(pods: Vec<Arc<PodInfo>>, pdbs: &[Pdb]) -> (Vec<Arc<PodInfo>>, Vec<Arc<PodInfo>>) {
    let mut allowed: Vec<i32> = pdbs.iter().map(|p| p.disruptions_allowed).collect();
    let (mut violating, mut fine) = (Vec::new(), Vec::new());
    for p in pods {
        let mut violates = false;
        for (i, pdb) in pdbs.iter().enumerate() {
            let Some(sel) = &pdb.selector else { continue };
            if pdb.namespace != p.namespace() || !sel.matches(p.labels()) {
                continue;
            }
            // Already disrupted pods are counted in the budget already.
            if pdb.disrupted_pods.contains(p.name()) {
                continue;
            }
            allowed[i] -= 1;
            if allowed[i] < 0 {
                violates = true;
            }
        }
        if violates { violating.push(p) } else { fine.push(p) }
    }
    (violating, fine)
}

/// Upstream `SelectVictimsOnNode`: remove every lower-priority pod; if the
/// pod then fits, put back as many as possible (PDB-protected ones first,
/// most important first); the rest are the victims.
pub fn select_victims(
    profile: &Profile,
    state: &CycleState,
    pod: &PodInfo,
    node: &NodeInfo,
    snapshot: &Snapshot,
    pdbs: &[Pdb],
) -> Result<(Vec<Arc<PodInfo>>, usize), Status> {
    let mut node = node.clone();
    let mut state = state.clone();
    let own = pod.priority();
    let mut potential: Vec<Arc<PodInfo>> = node.pods.iter().filter(|p| p.priority() < own).cloned().collect();
    if potential.is_empty() {
        return Err(Status::unresolvable(NO_VICTIMS));
    }
    for p in &potential {
        node.remove_pod(p.uid());
        let st = update_state(profile, &mut state, pod, p, &node, false);
        if !st.is_success() {
            return Err(st);
        }
    }
    let st = run_filters(profile, &state, pod, &node, snapshot);
    if !st.is_success() {
        return Err(st);
    }
    potential.sort_by(|a, b| more_important(&a.pod, &b.pod));
    let (violating, fine) = split_by_pdb(potential, pdbs);
    let mut victims = Vec::new();
    let mut violations = 0;
    for (group, counts) in [(violating, true), (fine, false)] {
        for p in group {
            node.add_pod(p.clone());
            let st = update_state(profile, &mut state, pod, &p, &node, true);
            if !st.is_success() {
                return Err(st);
            }
            if !run_filters(profile, &state, pod, &node, snapshot).is_success() {
                node.remove_pod(p.uid());
                let st = update_state(profile, &mut state, pod, &p, &node, false);
                if !st.is_success() {
                    return Err(st);
                }
                if counts {
                    violations += 1;
                }
                victims.push(p);
            }
        }
    }
    victims.sort_by(|a, b| more_important(&a.pod, &b.pod));
    Ok((victims, violations))
}

/// Upstream `pickOneNodeForPreemption`: fewest PDB violations, then the
/// lowest highest-priority victim, then the lowest sum of priorities, then
/// the fewest victims, then the latest start among the most important
/// victims, then the first.
pub fn pick_one(mut candidates: Vec<Candidate>) -> Option<Candidate> {
    let start = |c: &Candidate| {
        let top = c.victims.first().map(|v| v.priority());
        c.victims
            .iter()
            .filter(|v| Some(v.priority()) == top)
            .filter_map(|v| v.pod.status.as_ref().and_then(|s| s.start_time.as_ref()).map(|t| t.0))
            .min()
    };
    candidates.sort_by(|a, b| {
        let top = |c: &Candidate| c.victims.first().map_or(i32::MIN, |v| v.priority());
        let sum = |c: &Candidate| c.victims.iter().map(|v| i64::from(v.priority()) + i64::from(i32::MAX) + 1).sum::<i64>();
        a.pdb_violations
            .cmp(&b.pdb_violations)
            .then(top(a).cmp(&top(b)))
            .then(sum(a).cmp(&sum(b)))
            .then(a.victims.len().cmp(&b.victims.len()))
            .then(start(b).cmp(&start(a)))
    });
    candidates.into_iter().next()
}

/// Whether the pod may preempt (upstream `PodEligibleToPreemptOthers`).
pub fn eligible(pod: &PodInfo, snapshot: &Snapshot, fit: &FitError) -> Result<(), &'static str> {
    let spec = pod.pod.spec.as_ref();
    if spec.and_then(|s| s.preemption_policy.as_deref()) == Some("Never") {
        return Err(NEVER);
    }
    let nominated = pod.pod.status.as_ref().and_then(|s| s.nominated_node_name.as_deref()).filter(|n| !n.is_empty());
    if let Some(name) = nominated {
        let unresolvable = fit.node_statuses.get(name).is_some_and(|s| s.code == Code::UnschedulableAndUnresolvable);
        if !unresolvable
            && let Some(node) = snapshot.node(name)
            && node.pods.iter().any(|p| p.pod.metadata.deletion_timestamp.is_some() && p.priority() < pod.priority())
        {
            return Err(TERMINATING);
        }
    }
    Ok(())
}

/// Preemption for a pod that fits nowhere. `rand(n)` picks where to start
/// among the potential nodes.
pub fn preempt(
    profile: &Profile,
    state: &CycleState,
    pod: &PodInfo,
    snapshot: &Snapshot,
    fit: &FitError,
    pdbs: &[Pdb],
    mut rand: impl FnMut(usize) -> usize,
) -> Decision {
    if let Err(why) = eligible(pod, snapshot, fit) {
        return Decision::NotHelpful { message: why.to_string(), clear_nomination: false };
    }
    let n = snapshot.nodes.len();
    let code_of = |name: &str| match &fit.pre_filter {
        Some(st) => Some(st.code),
        None => fit.node_statuses.get(name).map(|s| s.code),
    };
    let potential: Vec<&Arc<NodeInfo>> = snapshot.nodes.iter().filter(|node| code_of(node.name()) == Some(Code::Unschedulable)).collect();
    let not_helpful = |statuses: std::collections::BTreeMap<String, Status>| {
        let mut all = statuses;
        for node in &snapshot.nodes {
            all.entry(node.name().to_string()).or_insert_with(|| Status::unresolvable(NOT_HELPFUL));
        }
        FitError { num_all_nodes: n, pre_filter: None, node_statuses: all, post_filter_msg: None }.message()
    };
    if potential.is_empty() {
        return Decision::NotHelpful { message: not_helpful(Default::default()), clear_nomination: true };
    }
    let wanted = (potential.len() * MIN_CANDIDATE_NODES_PERCENTAGE / 100).max(MIN_CANDIDATE_NODES_ABSOLUTE).min(potential.len());
    let offset = rand(potential.len());
    let mut candidates = Vec::new();
    let mut non_violating = 0;
    let mut statuses = std::collections::BTreeMap::new();
    for i in 0..potential.len() {
        let node = potential[(offset + i) % potential.len()];
        match select_victims(profile, state, pod, node, snapshot, pdbs) {
            Ok((victims, violations)) if !victims.is_empty() => {
                if violations == 0 {
                    non_violating += 1;
                }
                candidates.push(Candidate { node: node.name().to_string(), victims, pdb_violations: violations });
                if non_violating > 0 && candidates.len() >= wanted {
                    break;
                }
            }
            Ok(_) => {
                statuses
                    .insert(node.name().to_string(), Status::error(format!("expected at least one victim pod on node {:?}", node.name())));
            }
            Err(st) => {
                statuses.insert(node.name().to_string(), st);
            }
        }
    }
    match pick_one(candidates) {
        Some(c) => Decision::Preempt(c),
        // Upstream answers every "no candidate" with an empty nomination.
        None => Decision::NotHelpful { message: not_helpful(statuses), clear_nomination: true },
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::default_resolved;
    use crate::registry;
    use crate::schedule::{Outcome, schedule_pod};
    use k8s_openapi::api::core::v1::Node;
    use serde_json::{Value, json};

    pub(crate) fn node(name: &str, cpu: &str) -> Arc<Node> {
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
                "status": {"allocatable": {"cpu": cpu, "memory": "8Gi", "pods": "110"}}
            }))
            .unwrap(),
        )
    }

    pub(crate) fn pod(name: &str, priority: i32, cpu: &str, extra: Value) -> PodInfo {
        let mut p = json!({
            "metadata": {"name": name, "namespace": "default", "uid": name, "labels": {"app": name}},
            "spec": {"priority": priority, "containers": [{"name": "c", "image": "i", "resources": {"requests": {"cpu": cpu}}}]}
        });
        if let Value::Object(m) = extra {
            for (k, v) in m {
                p["spec"][k] = v;
            }
        }
        PodInfo::new(Arc::new(serde_json::from_value(p).unwrap()))
    }

    pub(crate) fn snapshot(nodes: Vec<(Arc<Node>, Vec<PodInfo>)>) -> Snapshot {
        let nodes = nodes
            .into_iter()
            .map(|(n, pods)| {
                let mut info = NodeInfo::new(n);
                for p in pods {
                    info.add_pod(Arc::new(p));
                }
                Arc::new(info)
            })
            .collect();
        Snapshot { nodes, ..Default::default() }
    }

    pub(crate) fn profile() -> Profile {
        registry::profile(&default_resolved().profiles[0]).unwrap()
    }

    /// Schedules, and on no fit runs preemption as the scheduler does.
    fn run(snap: &Snapshot, p: &PodInfo, pdbs: &[Pdb]) -> Decision {
        let prof = profile();
        let mut start = 0;
        let (out, state) = schedule_pod(&prof, p, snap, &mut start, |_| 0);
        let Outcome::Unschedulable(fit) = out else { panic!("expected no fit: {out:?}") };
        preempt(&prof, &state, p, snap, &fit, pdbs, |_| 0)
    }

    fn names(c: &Candidate) -> Vec<&str> {
        c.victims.iter().map(|v| v.name()).collect()
    }

    #[test]
    fn the_fewest_and_least_important_victims_are_chosen() {
        let snap = snapshot(vec![
            (node("a", "4"), vec![pod("a-low", 1, "2", json!({})), pod("a-mid", 5, "2", json!({}))]),
            (node("b", "4"), vec![pod("b-low1", 1, "1", json!({})), pod("b-low2", 1, "1", json!({})), pod("b-low3", 2, "2", json!({}))]),
        ]);
        let Decision::Preempt(c) = run(&snap, &pod("high", 10, "2", json!({})), &[]) else { panic!() };
        // a: one victim of priority 1; b: a priority-2 pod would have to go.
        assert_eq!((c.node.as_str(), names(&c)), ("a", vec!["a-low"]));
    }

    #[test]
    fn victims_are_reprieved_when_the_pod_fits_without_them() {
        let snap = snapshot(vec![(
            node("a", "4"),
            vec![pod("l1", 1, "1", json!({})), pod("l2", 1, "1", json!({})), pod("l3", 2, "1", json!({})), pod("l4", 3, "1", json!({}))],
        )]);
        let Decision::Preempt(c) = run(&snap, &pod("high", 10, "2", json!({})), &[]) else { panic!() };
        // The most important (l4, l3) are put back first; l1 and l2 go.
        let mut v = names(&c);
        v.sort();
        assert_eq!(v, ["l1", "l2"]);
    }

    #[test]
    fn budgets_are_respected_where_possible() {
        let snap = snapshot(vec![
            (node("a", "2"), vec![pod("guarded", 1, "2", json!({}))]),
            (node("b", "2"), vec![pod("free", 1, "2", json!({}))]),
        ]);
        let pdb = Pdb {
            namespace: "default".into(),
            selector: Some(Selector::parse("app=guarded").unwrap()),
            disruptions_allowed: 0,
            disrupted_pods: HashSet::new(),
        };
        let Decision::Preempt(c) = run(&snap, &pod("high", 10, "2", json!({})), std::slice::from_ref(&pdb)) else { panic!() };
        assert_eq!((c.node.as_str(), c.pdb_violations), ("b", 0));
        // With no other choice, the budget is broken.
        let snap = snapshot(vec![(node("a", "2"), vec![pod("guarded", 1, "2", json!({}))])]);
        let Decision::Preempt(c) = run(&snap, &pod("high", 10, "2", json!({})), &[pdb]) else { panic!() };
        assert_eq!((c.node.as_str(), c.pdb_violations), ("a", 1));
    }

    #[test]
    fn equal_or_higher_priority_pods_are_never_victims() {
        let snap = snapshot(vec![(node("a", "2"), vec![pod("same", 10, "2", json!({}))])]);
        let Decision::NotHelpful { message, .. } = run(&snap, &pod("high", 10, "2", json!({})), &[]) else { panic!() };
        assert_eq!(message, "0/1 nodes are available: 1 No preemption victims found for incoming pod.");
    }

    #[test]
    fn unresolvable_rejections_make_preemption_unhelpful() {
        let snap = snapshot(vec![(node("a", "2"), vec![pod("low", 1, "2", json!({}))])]);
        let p = pod("picky", 10, "1", json!({"nodeSelector": {"disk": "ssd"}}));
        let Decision::NotHelpful { message, clear_nomination } = run(&snap, &p, &[]) else { panic!() };
        assert_eq!(message, "0/1 nodes are available: 1 Preemption is not helpful for scheduling.");
        assert!(clear_nomination);
    }

    #[test]
    fn a_pod_that_never_preempts_says_so() {
        let snap = snapshot(vec![(node("a", "2"), vec![pod("low", 1, "2", json!({}))])]);
        let p = pod("polite", 10, "2", json!({"preemptionPolicy": "Never"}));
        let Decision::NotHelpful { message, .. } = run(&snap, &p, &[]) else { panic!() };
        assert_eq!(message, NEVER);
    }

    #[test]
    fn evicting_every_lower_priority_pod_must_be_enough() {
        // The peer (same priority) keeps half the node: still no room.
        let snap = snapshot(vec![(node("a", "2"), vec![pod("low", 1, "1", json!({})), pod("peer", 10, "1", json!({}))])]);
        let Decision::NotHelpful { message, .. } = run(&snap, &pod("big", 10, "2", json!({})), &[]) else { panic!() };
        assert_eq!(message, "0/1 nodes are available: 1 Insufficient cpu.");
        // More than the node has at all: upstream calls that unresolvable.
        let Decision::NotHelpful { message, .. } = run(&snap, &pod("huge", 10, "3", json!({})), &[]) else { panic!() };
        assert_eq!(message, "0/1 nodes are available: 1 Preemption is not helpful for scheduling.");
    }
}
