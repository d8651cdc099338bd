//! `TaintToleration` (upstream
//! `pkg/scheduler/framework/plugins/tainttoleration`): a node with a
//! `NoSchedule` or `NoExecute` taint the pod does not tolerate is filtered
//! out; among the rest, nodes with fewer untolerated `PreferNoSchedule`
//! taints score higher.

use k8s_openapi::api::core::v1::{Taint, Toleration};
use rudder_common::scheduling::{
    TAINT_EFFECT_PREFER_NO_SCHEDULE, find_matching_untolerated_taint, is_do_not_schedule_taint, tolerations_tolerate_taint,
};
use std::sync::Arc;

use crate::framework::{CycleState, MAX_NODE_SCORE, NodeInfo, Plugin, PodInfo, Snapshot, Status, default_normalize_score};

/// The upstream plugin name.
pub const NAME: &str = "TaintToleration";

/// The reason when the node has an untolerated `NoSchedule`/`NoExecute`
/// taint. Since v1.35 upstream no longer names the taint, whose key and
/// value may be sensitive.
pub const ERR_REASON_UNTOLERATED: &str = "node(s) had untolerated taint(s)";

const PRE_SCORE_KEY: &str = "PreScoreTaintToleration";

/// The pod's tolerations that can tolerate `PreferNoSchedule` taints.
#[derive(Clone)]
struct PreScoreState(Vec<Toleration>);

/// The plugin; it has no arguments.
pub struct TaintToleration;

/// The plugin; it takes no arguments, so `args` are ignored as upstream
/// ignores them.
pub fn new(_args: Option<&serde_json::Value>) -> Result<Box<dyn Plugin>, String> {
    Ok(Box::new(TaintToleration))
}

fn tolerations(pod: &PodInfo) -> &[Toleration] {
    pod.pod.spec.as_ref().and_then(|s| s.tolerations.as_deref()).unwrap_or_default()
}

fn taints(node: &NodeInfo) -> &[Taint] {
    node.node.as_ref().and_then(|n| n.spec.as_ref()).and_then(|s| s.taints.as_deref()).unwrap_or_default()
}

/// The tolerations with effect `PreferNoSchedule` or no effect (which
/// means all effects).
fn prefer_no_schedule_tolerations(pod: &PodInfo) -> Vec<Toleration> {
    tolerations(pod)
        .iter()
        .filter(|t| t.effect.as_deref().is_none_or(|e| e.is_empty() || e == TAINT_EFFECT_PREFER_NO_SCHEDULE))
        .cloned()
        .collect()
}

/// How many `PreferNoSchedule` taints of the node the tolerations do not
/// tolerate.
fn count_intolerable_prefer_no_schedule(taints: &[Taint], tolerations: &[Toleration]) -> i64 {
    let count =
        taints.iter().filter(|t| t.effect == TAINT_EFFECT_PREFER_NO_SCHEDULE && !tolerations_tolerate_taint(tolerations, t)).count();
    i64::try_from(count).unwrap_or(i64::MAX)
}

impl Plugin for TaintToleration {
    fn name(&self) -> &'static str {
        NAME
    }

    fn filters(&self) -> bool {
        true
    }

    fn scores(&self) -> bool {
        true
    }

    fn filter(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        if node.node.is_none() {
            return Status::error("node not found");
        }
        match find_matching_untolerated_taint(taints(node), tolerations(pod), is_do_not_schedule_taint) {
            Some(_) => Status::unresolvable(ERR_REASON_UNTOLERATED),
            None => Status::success(),
        }
    }

    fn pre_score(&self, state: &mut CycleState, pod: &PodInfo, _nodes: &[Arc<NodeInfo>], _snapshot: &Snapshot) -> Status {
        state.write(PRE_SCORE_KEY, PreScoreState(prefer_no_schedule_tolerations(pod)));
        Status::success()
    }

    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
        if node.node.is_none() {
            return Err(Status::error("node not found"));
        }
        let computed;
        let tolerations = match state.read::<PreScoreState>(PRE_SCORE_KEY) {
            Some(s) => &s.0,
            None => {
                computed = prefer_no_schedule_tolerations(pod);
                &computed
            }
        };
        Ok(count_intolerable_prefer_no_schedule(taints(node), tolerations))
    }

    fn normalize_score(&self, _state: &CycleState, _pod: &PodInfo, scores: &mut [i64]) -> Status {
        default_normalize_score(MAX_NODE_SCORE, true, scores);
        Status::success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn pod(tolerations: Value) -> PodInfo {
        PodInfo::new(Arc::new(
            serde_json::from_value(json!({"metadata": {"name": "pod1"}, "spec": {"containers": [], "tolerations": tolerations}})).unwrap(),
        ))
    }

    fn node(name: &str, taints: Value) -> Arc<NodeInfo> {
        Arc::new(NodeInfo::new(Arc::new(serde_json::from_value(json!({"metadata": {"name": name}, "spec": {"taints": taints}})).unwrap())))
    }

    fn scores(pod: &PodInfo, nodes: &[Arc<NodeInfo>]) -> Vec<i64> {
        let plugin = new(None).unwrap();
        let mut state = CycleState::default();
        assert!(plugin.pre_score(&mut state, pod, nodes, &Snapshot::default()).is_success());
        let mut scores: Vec<i64> = nodes.iter().map(|n| plugin.score(&state, pod, n).unwrap()).collect();
        assert!(plugin.normalize_score(&state, pod, &mut scores).is_success());
        scores
    }

    #[test]
    fn score() {
        let prefer = |k: &str, v: &str| json!({"key": k, "value": v, "effect": "PreferNoSchedule"});
        let cases = [
            (
                "node with taints tolerated by the pod, gets a higher score than those node with intolerable taints",
                pod(json!([{"key": "foo", "operator": "Equal", "value": "bar", "effect": "PreferNoSchedule"}])),
                vec![node("nodeA", json!([prefer("foo", "bar")])), node("nodeB", json!([prefer("foo", "blah")]))],
                vec![MAX_NODE_SCORE, 0],
            ),
            (
                "the nodes that all of their taints are tolerated by the pod, get the same score, no matter how many tolerable taints a node has",
                pod(json!([{"key": "cpu-type", "operator": "Equal", "value": "arm64", "effect": "PreferNoSchedule"},
                           {"key": "disk-type", "operator": "Equal", "value": "ssd", "effect": "PreferNoSchedule"}])),
                vec![
                    node("nodeA", json!([])),
                    node("nodeB", json!([prefer("cpu-type", "arm64")])),
                    node("nodeC", json!([prefer("cpu-type", "arm64"), prefer("disk-type", "ssd")])),
                ],
                vec![MAX_NODE_SCORE, MAX_NODE_SCORE, MAX_NODE_SCORE],
            ),
            (
                "the more intolerable taints a node has, the lower score it gets.",
                pod(json!([{"key": "foo", "operator": "Equal", "value": "bar", "effect": "PreferNoSchedule"}])),
                vec![
                    node("nodeA", json!([])),
                    node("nodeB", json!([prefer("cpu-type", "arm64")])),
                    node("nodeC", json!([prefer("cpu-type", "arm64"), prefer("disk-type", "ssd")])),
                ],
                vec![MAX_NODE_SCORE, 50, 0],
            ),
            (
                "only taints and tolerations that have effect PreferNoSchedule are checked by taints-tolerations priority function",
                pod(json!([{"key": "cpu-type", "operator": "Equal", "value": "arm64", "effect": "NoSchedule"},
                           {"key": "disk-type", "operator": "Equal", "value": "ssd", "effect": "NoSchedule"}])),
                vec![
                    node("nodeA", json!([])),
                    node("nodeB", json!([{"key": "cpu-type", "value": "arm64", "effect": "NoSchedule"}])),
                    node("nodeC", json!([prefer("cpu-type", "arm64"), prefer("disk-type", "ssd")])),
                ],
                vec![MAX_NODE_SCORE, MAX_NODE_SCORE, 0],
            ),
            (
                "Default behaviour No taints and tolerations, lands on node with no taints",
                pod(json!([])),
                vec![node("nodeA", json!([])), node("nodeB", json!([prefer("cpu-type", "arm64")]))],
                vec![MAX_NODE_SCORE, 0],
            ),
        ];
        for (name, pod, nodes, want) in cases {
            assert_eq!(scores(&pod, &nodes), want, "{name}");
        }
    }

    #[test]
    fn filter() {
        let untolerated = Status::unresolvable(ERR_REASON_UNTOLERATED);
        let dedicated = |v: &str, e: &str| json!([{"key": "dedicated", "value": v, "effect": e}]);
        let cases = [
            (
                "A pod having no tolerations can't be scheduled onto a node with nonempty taints",
                pod(json!([])),
                node("nodeA", dedicated("user1", "NoSchedule")),
                untolerated.clone(),
            ),
            (
                "A pod which can be scheduled on a dedicated node assigned to user1 with effect NoSchedule",
                pod(dedicated("user1", "NoSchedule")),
                node("nodeA", dedicated("user1", "NoSchedule")),
                Status::success(),
            ),
            (
                "A pod which can't be scheduled on a dedicated node assigned to user2 with effect NoSchedule",
                pod(json!([{"key": "dedicated", "operator": "Equal", "value": "user2", "effect": "NoSchedule"}])),
                node("nodeA", dedicated("user1", "NoSchedule")),
                untolerated.clone(),
            ),
            (
                "A pod can be scheduled onto the node, with a toleration uses operator Exists that tolerates the taints on the node",
                pod(json!([{"key": "foo", "operator": "Exists", "effect": "NoSchedule"}])),
                node("nodeA", json!([{"key": "foo", "value": "bar", "effect": "NoSchedule"}])),
                Status::success(),
            ),
            (
                "A pod has multiple tolerations, node has multiple taints, all the taints are tolerated, pod can be scheduled onto the node",
                pod(json!([{"key": "dedicated", "operator": "Equal", "value": "user2", "effect": "NoSchedule"},
                           {"key": "foo", "operator": "Exists", "effect": "NoSchedule"}])),
                node(
                    "nodeA",
                    json!([{"key": "dedicated", "value": "user2", "effect": "NoSchedule"}, {"key": "foo", "value": "bar", "effect": "NoSchedule"}]),
                ),
                Status::success(),
            ),
            (
                "A pod has a toleration that keys and values match the taint on the node, but (non-empty) effect doesn't match, can't be scheduled onto the node",
                pod(json!([{"key": "foo", "operator": "Equal", "value": "bar", "effect": "PreferNoSchedule"}])),
                node("nodeA", json!([{"key": "foo", "value": "bar", "effect": "NoSchedule"}])),
                untolerated.clone(),
            ),
            (
                "The pod has a toleration that keys and values match the taint on the node, the effect of toleration is empty, and the effect of taint is NoSchedule. Pod can be scheduled onto the node",
                pod(json!([{"key": "foo", "operator": "Equal", "value": "bar"}])),
                node("nodeA", json!([{"key": "foo", "value": "bar", "effect": "NoSchedule"}])),
                Status::success(),
            ),
            (
                "The pod has a toleration that key and value don't match the taint on the node, but the effect of taint on node is PreferNoSchedule. Pod can be scheduled onto the node",
                pod(json!([{"key": "dedicated", "operator": "Equal", "value": "user2", "effect": "NoSchedule"}])),
                node("nodeA", dedicated("user1", "PreferNoSchedule")),
                Status::success(),
            ),
            (
                "The pod has no toleration, but the effect of taint on node is PreferNoSchedule. Pod can be scheduled onto the node",
                pod(json!([])),
                node("nodeA", dedicated("user1", "PreferNoSchedule")),
                Status::success(),
            ),
            (
                "An untolerated NoExecute taint also keeps the pod off",
                pod(json!([])),
                node("nodeA", dedicated("user1", "NoExecute")),
                untolerated,
            ),
        ];
        let plugin = new(None).unwrap();
        for (name, pod, node, want) in cases {
            assert_eq!(plugin.filter(&CycleState::default(), &pod, &node), want, "{name}");
        }
    }
}
