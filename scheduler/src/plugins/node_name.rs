//! `NodeName` (upstream `pkg/scheduler/framework/plugins/nodename`): a pod
//! that names a node in `spec.nodeName` fits only that node.

use crate::framework::{CycleState, NodeInfo, Plugin, PodInfo, Status};

/// The upstream plugin name.
pub const NAME: &str = "NodeName";

/// The reason when the pod names another node.
pub const ERR_REASON: &str = "node(s) didn't match the requested node name";

/// The plugin; it has no arguments.
pub struct NodeName;

/// The plugin; `NodeName` takes no arguments, so `args` are ignored as
/// upstream ignores them.
pub fn new(_args: Option<&serde_json::Value>) -> Result<Box<dyn Plugin>, String> {
    Ok(Box::new(NodeName))
}

impl Plugin for NodeName {
    fn name(&self) -> &'static str {
        NAME
    }

    fn filters(&self) -> bool {
        true
    }

    fn filter(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let wanted = pod.pod.spec.as_ref().and_then(|s| s.node_name.as_deref()).unwrap_or_default();
        if wanted.is_empty() || wanted == node.name() { Status::success() } else { Status::unresolvable(ERR_REASON) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn pod(node_name: Option<&str>) -> PodInfo {
        PodInfo::new(Arc::new(serde_json::from_value(serde_json::json!({"spec": {"nodeName": node_name, "containers": []}})).unwrap()))
    }

    fn node(name: &str) -> NodeInfo {
        NodeInfo::new(Arc::new(serde_json::from_value(serde_json::json!({"metadata": {"name": name}})).unwrap()))
    }

    #[test]
    fn filter() {
        let cases = [
            ("no host specified", pod(None), node("foo"), None),
            ("host matches", pod(Some("foo")), node("foo"), None),
            ("host doesn't match", pod(Some("bar")), node("foo"), Some(Status::unresolvable(ERR_REASON))),
        ];
        let plugin = new(None).unwrap();
        for (name, pod, node, want) in cases {
            assert_eq!(plugin.filter(&CycleState::default(), &pod, &node), want.unwrap_or_else(Status::success), "{name}");
        }
    }
}
