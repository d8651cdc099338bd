//! `NodePorts` (upstream `pkg/scheduler/framework/plugins/nodeports`): a
//! pod fits a node only if none of its host ports is already taken there.
//! A port bound on `0.0.0.0` conflicts with the same protocol and port on
//! any address.

use crate::framework::{CycleState, HostPort, NodeInfo, Plugin, PodInfo, Snapshot, Status};

/// The upstream plugin name.
pub const NAME: &str = "NodePorts";

/// The reason when a wanted host port is in use on the node.
pub const ERR_REASON: &str = "node(s) didn't have free ports for the requested pod ports";

const PRE_FILTER_KEY: &str = "PreFilterNodePorts";
const ALL_ADDRESSES: &str = "0.0.0.0";

/// The host ports the pod wants, from PreFilter.
#[derive(Clone)]
struct PreFilterState(Vec<HostPort>);

/// The plugin; it has no arguments.
pub struct NodePorts;

/// The plugin; it takes no arguments, so `args` are ignored as upstream
/// ignores them.
pub fn new(_args: Option<&serde_json::Value>) -> Result<Box<dyn Plugin>, String> {
    Ok(Box::new(NodePorts))
}

/// The host ports of the pod's containers and of its restartable (sidecar)
/// init containers, which run as long as the pod; other init containers
/// have exited before the pod runs (upstream `util.GetHostPorts`). Empty
/// address means `0.0.0.0`, empty protocol TCP.
fn wanted_host_ports(pod: &PodInfo) -> Vec<HostPort> {
    let Some(spec) = pod.pod.spec.as_ref() else { return vec![] };
    let sidecars = spec.init_containers.iter().flatten().filter(|c| c.restart_policy.as_deref() == Some("Always"));
    sidecars
        .chain(spec.containers.iter())
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| {
            let port = p.host_port.filter(|&h| h > 0)?;
            let ip = p.host_ip.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| ALL_ADDRESSES.into());
            let protocol = p.protocol.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "TCP".into());
            Some((ip, protocol, port))
        })
        .collect()
}

/// Whether `wanted` collides with a port in use (upstream
/// `HostPortInfo.CheckConflict`): same protocol and port, and the same
/// address, or either address `0.0.0.0`.
fn conflicts(wanted: &HostPort, used: &[HostPort]) -> bool {
    let (ip, protocol, port) = wanted;
    used.iter().any(|(u_ip, u_protocol, u_port)| {
        u_port == port && u_protocol == protocol && (ip == ALL_ADDRESSES || u_ip == ALL_ADDRESSES || u_ip == ip)
    })
}

impl Plugin for NodePorts {
    fn name(&self) -> &'static str {
        NAME
    }

    fn filters(&self) -> bool {
        true
    }

    fn pre_filter(&self, state: &mut CycleState, pod: &PodInfo, _snapshot: &Snapshot) -> Status {
        let ports = wanted_host_ports(pod);
        if ports.is_empty() {
            return Status::skip();
        }
        state.write(PRE_FILTER_KEY, PreFilterState(ports));
        Status::success()
    }

    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let computed;
        let wanted = match state.read::<PreFilterState>(PRE_FILTER_KEY) {
            Some(s) => &s.0,
            None => {
                computed = wanted_host_ports(pod);
                &computed
            }
        };
        if wanted.iter().any(|w| conflicts(w, &node.used_ports)) { Status::unschedulable(ERR_REASON) } else { Status::success() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    /// A pod with one container whose host ports are `PROTOCOL/IP/PORT`.
    fn pod(ports: &[&str]) -> PodInfo {
        let ports: Vec<_> = ports
            .iter()
            .map(|p| {
                let parts: Vec<&str> = p.split('/').collect();
                json!({"containerPort": 80, "protocol": parts[0], "hostIP": parts[1], "hostPort": parts[2].parse::<i32>().unwrap()})
            })
            .collect();
        PodInfo::new(Arc::new(
            serde_json::from_value(json!({"spec": {"nodeName": "m1", "containers": [{"name": "c", "ports": ports}]}})).unwrap(),
        ))
    }

    fn node_with(pods: &[PodInfo]) -> NodeInfo {
        let mut node = NodeInfo::new(Arc::new(serde_json::from_value(json!({"metadata": {"name": "m1"}})).unwrap()));
        for p in pods {
            node.add_pod(Arc::new(p.clone()));
        }
        node
    }

    #[test]
    fn node_ports() {
        let conflict = Some(Status::unschedulable(ERR_REASON));
        let cases = [
            ("other port", pod(&["UDP/127.0.0.1/8080"]), pod(&["UDP/127.0.0.1/9090"]), None),
            ("same udp port", pod(&["UDP/127.0.0.1/8080"]), pod(&["UDP/127.0.0.1/8080"]), conflict.clone()),
            ("same tcp port", pod(&["TCP/127.0.0.1/8080"]), pod(&["TCP/127.0.0.1/8080"]), conflict.clone()),
            ("different host ip", pod(&["TCP/127.0.0.1/8080"]), pod(&["TCP/127.0.0.2/8080"]), None),
            ("different protocol", pod(&["UDP/127.0.0.1/8080"]), pod(&["TCP/127.0.0.1/8080"]), None),
            (
                "second udp port conflict",
                pod(&["UDP/127.0.0.1/8000", "UDP/127.0.0.1/8080"]),
                pod(&["UDP/127.0.0.1/8080"]),
                conflict.clone(),
            ),
            (
                "first tcp port conflict",
                pod(&["TCP/127.0.0.1/8001", "UDP/127.0.0.1/8080"]),
                pod(&["TCP/127.0.0.1/8001", "UDP/127.0.0.1/8081"]),
                conflict.clone(),
            ),
            ("first tcp port conflict due to 0.0.0.0 hostIP", pod(&["TCP/0.0.0.0/8001"]), pod(&["TCP/127.0.0.1/8001"]), conflict.clone()),
            (
                "TCP hostPort conflict due to 0.0.0.0 hostIP",
                pod(&["TCP/10.0.10.10/8001", "TCP/0.0.0.0/8001"]),
                pod(&["TCP/127.0.0.1/8001"]),
                conflict.clone(),
            ),
            ("second tcp port conflict to 0.0.0.0 hostIP", pod(&["TCP/127.0.0.1/8001"]), pod(&["TCP/0.0.0.0/8001"]), conflict.clone()),
            ("second different protocol", pod(&["UDP/127.0.0.1/8001"]), pod(&["TCP/0.0.0.0/8001"]), None),
            (
                "UDP hostPort conflict due to 0.0.0.0 hostIP",
                pod(&["UDP/127.0.0.1/8001"]),
                pod(&["TCP/0.0.0.0/8001", "UDP/0.0.0.0/8001"]),
                conflict,
            ),
        ];
        let plugin = new(None).unwrap();
        for (name, incoming, existing, want) in cases {
            let mut state = CycleState::default();
            assert!(plugin.pre_filter(&mut state, &incoming, &Snapshot::default()).is_success(), "{name}");
            let got = plugin.filter(&state, &incoming, &node_with(&[existing]));
            assert_eq!(got, want.unwrap_or_else(Status::success), "{name}");
        }
    }

    #[test]
    fn skip_without_host_ports() {
        let pod = PodInfo::new(Arc::new(
            serde_json::from_value(json!({"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80}]}]}})).unwrap(),
        ));
        assert_eq!(new(None).unwrap().pre_filter(&mut CycleState::default(), &pod, &Snapshot::default()), Status::skip());
    }

    #[test]
    fn only_sidecar_init_containers_hold_ports() {
        let pod = PodInfo::new(Arc::new(
            serde_json::from_value(json!({"spec": {
                "initContainers": [
                    {"name": "init", "ports": [{"containerPort": 1, "hostPort": 8001}]},
                    {"name": "sidecar", "restartPolicy": "Always", "ports": [{"containerPort": 2, "hostPort": 8002}]}
                ],
                "containers": [{"name": "c", "ports": [{"containerPort": 3, "hostPort": 8003, "hostIP": "10.0.0.1", "protocol": "UDP"}, {"containerPort": 4}]}]
            }}))
            .unwrap(),
        ));
        assert_eq!(
            wanted_host_ports(&pod),
            [("0.0.0.0".to_string(), "TCP".to_string(), 8002), ("10.0.0.1".to_string(), "UDP".to_string(), 8003)]
        );
    }
}
