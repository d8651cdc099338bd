//! `NodeUnschedulable` (upstream
//! `pkg/scheduler/framework/plugins/nodeunschedulable`): a cordoned node
//! (`spec.unschedulable`) takes only pods that tolerate the
//! `node.kubernetes.io/unschedulable:NoSchedule` taint.

use k8s_openapi::api::core::v1::Taint;
use rudder_common::scheduling::{TAINT_EFFECT_NO_SCHEDULE, TAINT_NODE_UNSCHEDULABLE, tolerations_tolerate_taint};

use crate::framework::{CycleState, NodeInfo, Plugin, PodInfo, Status};

/// The upstream plugin name.
pub const NAME: &str = "NodeUnschedulable";

/// The reason when the node is cordoned and the pod does not tolerate it.
pub const ERR_REASON_UNSCHEDULABLE: &str = "node(s) were unschedulable";

/// The plugin; it has no arguments.
pub struct NodeUnschedulable;

/// The plugin; it takes no arguments, so `args` are ignored as upstream
/// ignores them.
pub fn new(_args: Option<&serde_json::Value>) -> Result<Box<dyn Plugin>, String> {
    Ok(Box::new(NodeUnschedulable))
}

impl Plugin for NodeUnschedulable {
    fn name(&self) -> &'static str {
        NAME
    }

    fn filters(&self) -> bool {
        true
    }

    fn filter(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let Some(n) = node.node.as_deref() else { return Status::error("node not found") };
        if !n.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false) {
            return Status::success();
        }
        let taint = Taint { key: TAINT_NODE_UNSCHEDULABLE.into(), effect: TAINT_EFFECT_NO_SCHEDULE.into(), ..Taint::default() };
        let tolerations = pod.pod.spec.as_ref().and_then(|s| s.tolerations.as_deref()).unwrap_or_default();
        if tolerations_tolerate_taint(tolerations, &taint) { Status::success() } else { Status::unresolvable(ERR_REASON_UNSCHEDULABLE) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use std::sync::Arc;

    fn pod(spec: Value) -> PodInfo {
        PodInfo::new(Arc::new(serde_json::from_value(json!({ "spec": spec })).unwrap()))
    }

    fn node(unschedulable: bool) -> NodeInfo {
        NodeInfo::new(Arc::new(serde_json::from_value(json!({"spec": {"unschedulable": unschedulable}})).unwrap()))
    }

    #[test]
    fn filter() {
        let cases = [
            (
                "Does not schedule pod to unschedulable node (node.Spec.Unschedulable==true)",
                pod(json!({"containers": []})),
                node(true),
                Status::unresolvable(ERR_REASON_UNSCHEDULABLE),
            ),
            ("Schedule pod to normal node", pod(json!({"containers": []})), node(false), Status::success()),
            (
                "Schedule pod with toleration to unschedulable node (node.Spec.Unschedulable==true)",
                pod(json!({"containers": [], "tolerations": [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]})),
                node(true),
                Status::success(),
            ),
        ];
        let plugin = new(None).unwrap();
        for (name, pod, node, want) in cases {
            assert_eq!(plugin.filter(&CycleState::default(), &pod, &node), want, "{name}");
        }
    }
}
