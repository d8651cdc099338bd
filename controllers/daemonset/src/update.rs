//! The RollingUpdate strategy of a DaemonSet, as upstream's
//! `pkg/controller/daemon/update.go` decides it (`rollingUpdate`,
//! `findUpdatedPodsOnNode`, `updatedDesiredNodeCounts`, and the
//! `UnavailableCount`/`SurgeCount`/`IsPodUpdated` utilities): which old pods
//! to delete and on which nodes to create new ones, within maxUnavailable
//! (no surge: delete first) or maxSurge (create first, delete the old pod
//! once the new one is available).

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use rudder_common::field::go_quote;
use rudder_common::intstr::scaled_value_from_int_or_percent;
use rudder_common::pods::is_pod_available;

use crate::pods::{Placement, REVISION_HASH_LABEL, TEMPLATE_GENERATION_LABEL, template_generation};

/// Upstream `IsPodUpdated`: the pod carries the current revision's hash,
/// or (pods of old controllers) the current template generation.
pub fn is_pod_updated(pod: &Pod, hash: &str, generation: Option<i64>) -> bool {
    let label = |k: &str| pod.metadata.labels.as_ref().and_then(|l| l.get(k)).map(String::as_str);
    let template_matches = generation.is_some_and(|g| label(TEMPLATE_GENERATION_LABEL) == Some(g.to_string().as_str()));
    let hash_matches = !hash.is_empty() && label(REVISION_HASH_LABEL) == Some(hash);
    hash_matches || template_matches
}

/// Upstream `findUpdatedPodsOnNode`: of the pods on a node not being
/// deleted, the new one and the old one, or `None` when there are two of
/// either (the manage step removes the excess first).
pub fn updated_pods_on_node<'a>(ds: &DaemonSet, pods: &[&'a Pod], hash: &str) -> Option<(Option<&'a Pod>, Option<&'a Pod>)> {
    let generation = template_generation(ds).ok().flatten();
    let (mut new, mut old) = (None, None);
    for p in pods.iter().filter(|p| p.metadata.deletion_timestamp.is_none()) {
        let slot = if is_pod_updated(p, hash, generation) { &mut new } else { &mut old };
        if slot.is_some() {
            return None;
        }
        *slot = Some(*p);
    }
    Some((new, old))
}

fn rolling(ds: &DaemonSet) -> Option<&k8s_openapi::api::apps::v1::RollingUpdateDaemonSet> {
    let s = ds.spec.as_ref()?.update_strategy.as_ref()?;
    if s.type_.as_deref() != Some("RollingUpdate") {
        return None;
    }
    s.rolling_update.as_ref()
}

/// Upstream `UnavailableCount`: maxUnavailable of `desired`, rounded up (0
/// but for a RollingUpdate that sets it).
pub fn unavailable_count(ds: &DaemonSet, desired: i32) -> Result<i32, String> {
    match rolling(ds).and_then(|r| r.max_unavailable.as_ref()) {
        None => Ok(0),
        Some(v) => scaled_value_from_int_or_percent(Some(v), desired, true),
    }
}

/// Upstream `SurgeCount`: maxSurge of `desired`, rounded up (0 but for a
/// RollingUpdate that sets it).
pub fn surge_count(ds: &DaemonSet, desired: i32) -> Result<i32, String> {
    match rolling(ds).and_then(|r| r.max_surge.as_ref()) {
        None => Ok(0),
        Some(v) => scaled_value_from_int_or_percent(Some(v), desired, true),
    }
}

/// Upstream `updatedDesiredNodeCounts`: (maxSurge, maxUnavailable, desired
/// number scheduled), with maxUnavailable 1 when both come out 0 on a
/// DaemonSet that wants pods; every node that should run the pod gets an
/// entry in `by_node` (empty when it has none).
pub fn desired_counts(ds: &DaemonSet, nodes: &[&Node], by_node: &mut BTreeMap<String, Vec<&Pod>>) -> Result<(i32, i32, i32), String> {
    let mut desired = 0;
    let placement = Placement::of(ds);
    for node in nodes {
        if !placement.verdict(node).0 {
            continue;
        }
        desired += 1;
        by_node.entry(node.metadata.name.clone().unwrap_or_default()).or_default();
    }
    let wrap = |what: &str, e: String| format!("couldn't get unavailable numbers: invalid value for {what}: {e}");
    let mut unavailable = unavailable_count(ds, desired).map_err(|e| wrap("MaxUnavailable", e))?;
    let surge = surge_count(ds, desired).map_err(|e| wrap("MaxSurge", e))?;
    if desired > 0 && unavailable == 0 && surge == 0 {
        unavailable = 1;
    }
    Ok((surge, unavailable, desired))
}

/// What a rolling update step does: pods to delete (by name) and nodes to
/// create a new pod on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Step {
    pub delete: Vec<String>,
    pub create_on: Vec<String>,
}

fn pod_name(p: &Pod) -> String {
    p.metadata.name.clone().unwrap_or_default()
}

/// Upstream `rollingUpdate` without its I/O. `by_node` holds the
/// DaemonSet's pods by node (every phase but terminal ones deleted),
/// `nodes` every node; the result goes to the same creations/deletions step
/// as the manage loop (`syncNodes`).
pub fn rolling_update(
    ds: &DaemonSet,
    nodes: &[&Node],
    mut by_node: BTreeMap<String, Vec<&Pod>>,
    hash: &str,
    now: Timestamp,
) -> Result<Step, String> {
    let (max_surge, max_unavailable, desired) = desired_counts(ds, nodes, &mut by_node)?;
    let min_ready = ds.spec.as_ref().and_then(|s| s.min_ready_seconds).unwrap_or(0);
    let available = |p: &Pod| is_pod_available(p, min_ready, now);
    // Upstream reads the node from its lister: a pod pinned to a node that
    // is gone fails the step.
    let placement = Placement::of(ds);
    let by_name: std::collections::HashMap<&str, &Node> =
        nodes.iter().map(|n| (n.metadata.name.as_deref().unwrap_or_default(), *n)).collect();
    let should_run = |name: &str| match by_name.get(name) {
        Some(n) => Ok(placement.verdict(n).0),
        None => Err(format!("couldn't get node for nodeName {}: node {} not found", go_quote(name), go_quote(name))),
    };

    if max_surge == 0 {
        // Delete old pods up to maxUnavailable; the manage loop creates their replacements.
        let mut unavailable = 0;
        let mut replacements = Vec::new();
        let mut candidates = Vec::new();
        for pods in by_node.values() {
            let Some((new, old)) = updated_pods_on_node(ds, pods, hash) else {
                unavailable += 1;
                continue;
            };
            match (new, old) {
                (None, None) | (Some(_), Some(_)) => unavailable += 1,
                (Some(new), None) => {
                    if !available(new) {
                        unavailable += 1;
                    }
                }
                (None, Some(old)) => {
                    if !available(old) {
                        replacements.push(pod_name(old));
                        unavailable += 1;
                    } else if unavailable < max_unavailable {
                        candidates.push(pod_name(old));
                    }
                }
            }
        }
        let remaining = (max_unavailable - unavailable).max(0) as usize;
        replacements.extend(candidates.into_iter().take(remaining));
        return Ok(Step { delete: replacements, create_on: Vec::new() });
    }

    // Surge: new pods first, the old one goes once its replacement is available.
    let mut delete = Vec::new();
    let mut should_not_run = Vec::new();
    let mut candidates = Vec::new();
    let mut allowed = Vec::new();
    let (mut surging, mut available_count) = (0, 0);
    for (node, pods) in &by_node {
        let Some((new, old)) = updated_pods_on_node(ds, pods, hash) else {
            surging += 1;
            continue;
        };
        if let Some(p) = old.or(new)
            && available(p)
        {
            available_count += 1;
        }
        match (new, old) {
            (_, None) => {}
            (None, Some(old)) => {
                if !available(old) {
                    if !should_run(node)? {
                        delete.push(pod_name(old));
                        continue;
                    }
                    allowed.push(node.clone());
                } else {
                    if !should_run(node)? {
                        should_not_run.push(old);
                        continue;
                    }
                    if surging >= max_surge {
                        continue;
                    }
                    candidates.push(node.clone());
                }
            }
            (Some(new), Some(old)) => {
                if !available(new) {
                    surging += 1;
                    continue;
                }
                delete.push(pod_name(old));
            }
        }
    }
    // With surge the owner expects full availability: pods on nodes that no
    // longer qualify go only as far as other nodes' pods are available.
    let deletable = (available_count - desired).max(0) as usize;
    for p in should_not_run.into_iter().take(deletable) {
        if p.metadata.deletion_timestamp.is_none() {
            delete.push(pod_name(p));
        }
    }
    let remaining = (max_surge - surging).max(0) as usize;
    allowed.extend(candidates.into_iter().take(remaining));
    Ok(Step { delete, create_on: allowed })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    const NOW: &str = "2026-01-01T00:10:00Z";

    fn now() -> Timestamp {
        NOW.parse().unwrap()
    }

    fn ds(strategy: Value) -> DaemonSet {
        serde_json::from_value(json!({"metadata": {"name": "agent", "annotations": {"deprecated.daemonset.template.generation": "2"}},
            "spec": {"selector": {"matchLabels": {"app": "agent"}}, "updateStrategy": strategy,
                     "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "a", "image": "agent"}]}}}}))
        .unwrap()
    }

    fn nodes(n: usize) -> Vec<Node> {
        (0..n).map(|i| serde_json::from_value(json!({"metadata": {"name": format!("n{i}")}})).unwrap()).collect()
    }

    /// A pod on `node` of revision `hash`, ready (and so available) or not.
    fn pod(name: &str, node: &str, hash: &str, ready: bool) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": name, "labels": {"app": "agent", "controller-revision-hash": hash}},
            "spec": {"nodeName": node, "containers": []},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"},
                                                            "lastTransitionTime": "2026-01-01T00:00:00Z"}]}}))
        .unwrap()
    }

    fn by_node(pods: &[Pod]) -> BTreeMap<String, Vec<&Pod>> {
        let mut m: BTreeMap<String, Vec<&Pod>> = BTreeMap::new();
        for p in pods {
            m.entry(p.spec.as_ref().unwrap().node_name.clone().unwrap()).or_default().push(p);
        }
        m
    }

    fn step(d: &DaemonSet, n: &[Node], pods: &[Pod]) -> Step {
        let nodes: Vec<&Node> = n.iter().collect();
        rolling_update(d, &nodes, by_node(pods), "new", now()).unwrap()
    }

    #[test]
    fn updated_means_the_hash_or_the_template_generation() {
        let p = pod("p", "n0", "old", true);
        assert!(is_pod_updated(&p, "old", None));
        assert!(!is_pod_updated(&p, "new", Some(2)));
        let mut legacy = p.clone();
        legacy.metadata.labels.as_mut().unwrap().insert(TEMPLATE_GENERATION_LABEL.into(), "2".into());
        assert!(is_pod_updated(&legacy, "new", Some(2)));
        assert!(!is_pod_updated(&legacy, "", None));
    }

    #[test]
    fn counts_round_up_and_default_to_one_unavailable() {
        let d = ds(json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "10%", "maxSurge": 0}}));
        assert_eq!((unavailable_count(&d, 15), surge_count(&d, 15)), (Ok(2), Ok(0)));
        let both_zero = ds(json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}}));
        let n = nodes(3);
        let refs: Vec<&Node> = n.iter().collect();
        assert_eq!(desired_counts(&both_zero, &refs, &mut BTreeMap::new()), Ok((0, 1, 3)));
        let on_delete = ds(json!({"type": "OnDelete"}));
        assert_eq!(unavailable_count(&on_delete, 10), Ok(0));
    }

    #[test]
    fn without_surge_old_pods_go_within_max_unavailable() {
        let d = ds(json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}));
        let n = nodes(3);
        let pods = [pod("a", "n0", "old", true), pod("b", "n1", "old", true), pod("c", "n2", "old", true)];
        assert_eq!(step(&d, &n, &pods), Step { delete: vec!["a".into()], create_on: vec![] });
        // A new pod not yet available uses the budget: nothing more goes.
        let pods = [pod("a2", "n0", "new", false), pod("b", "n1", "old", true), pod("c", "n2", "old", true)];
        assert_eq!(step(&d, &n, &pods), Step::default());
        // An old pod that is not available is replaced anyway.
        let pods = [pod("a2", "n0", "new", false), pod("b", "n1", "old", false), pod("c", "n2", "old", true)];
        assert_eq!(step(&d, &n, &pods).delete, ["b"]);
        // A node without a pod counts as unavailable.
        let pods = [pod("b", "n1", "old", true), pod("c", "n2", "old", true)];
        assert_eq!(step(&d, &n, &pods), Step::default());
        // Two old pods on a node: left to the manage step, counted unavailable.
        let pods = [pod("a", "n0", "old", true), pod("a1", "n0", "old", true), pod("b", "n1", "old", true)];
        assert_eq!(step(&d, &nodes(2), &pods), Step::default());
    }

    #[test]
    fn with_surge_new_pods_come_first_then_the_old_go() {
        let d = ds(json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}));
        let n = nodes(3);
        let pods = [pod("a", "n0", "old", true), pod("b", "n1", "old", true), pod("c", "n2", "old", true)];
        assert_eq!(step(&d, &n, &pods), Step { delete: vec![], create_on: vec!["n0".into()] });
        // The surged pod is not available yet: wait.
        let pods = [pod("a", "n0", "old", true), pod("a2", "n0", "new", false), pod("b", "n1", "old", true)];
        assert_eq!(step(&d, &nodes(2), &pods), Step::default());
        // Available: the old pod on that node goes, and the next node surges.
        let pods = [pod("a", "n0", "old", true), pod("a2", "n0", "new", true), pod("b", "n1", "old", true)];
        assert_eq!(step(&d, &nodes(2), &pods), Step { delete: vec!["a".into()], create_on: vec!["n1".into()] });
        // An unavailable old pod gets its new one at once, beyond the surge budget.
        let pods = [pod("a", "n0", "old", false), pod("b", "n1", "old", false), pod("c", "n2", "old", true)];
        assert_eq!(step(&d, &n, &pods).create_on, ["n0", "n1", "n2"]);
    }

    #[test]
    fn with_surge_pods_on_nodes_that_no_longer_qualify_wait_for_availability_elsewhere() {
        let mut d = ds(json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}));
        d.spec.as_mut().unwrap().template.spec.as_mut().unwrap().node_selector = Some([("role".to_string(), "agent".to_string())].into());
        let mut n = nodes(2);
        n[1].metadata.labels = Some([("role".to_string(), "agent".to_string())].into());
        // n0 lost the label; its old pod stays until n1's new pod is available.
        let pods = [pod("a", "n0", "old", true), pod("b2", "n1", "new", false)];
        assert_eq!(step(&d, &n, &pods), Step::default());
        let pods = [pod("a", "n0", "old", true), pod("b2", "n1", "new", true)];
        assert_eq!(step(&d, &n, &pods).delete, ["a"]);
    }
}
