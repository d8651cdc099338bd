//! Simulated Node objects: what a kubelet registers and reports, and what
//! the node lifecycle controller writes when a node stops reporting. Pure.

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{
    DaemonEndpoint, Node, NodeAddress, NodeCondition, NodeDaemonEndpoints, NodeSpec, NodeStatus, NodeSystemInfo, Taint,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

/// A node annotated with this (`"true"`) stops heart-beating, as if its
/// kubelet died; removing it (or `"false"`) brings it back.
pub const STOPPED_ANNOTATION: &str = "sim.rudder.dev/stopped";
pub const UNREACHABLE_TAINT: &str = "node.kubernetes.io/unreachable";

/// One simulated node's shape.
#[derive(Clone, Debug)]
pub struct Shape {
    pub name: String,
    pub index: usize,
    pub cpu: String,
    pub memory: String,
    pub pods: String,
    pub zone: String,
    pub taints: Vec<Taint>,
}

/// The node's InternalIP: 172.18.x.y, one per index.
pub fn node_ip(index: usize) -> String {
    format!("172.18.{}.{}", index / 250, index % 250 + 2)
}

/// The node's pod CIDR: 10.(244 + index / 256).(index % 256).0/24.
pub fn pod_cidr(index: usize) -> String {
    format!("10.{}.{}.0/24", 244 + index / 256, index % 256)
}

/// A pod's IP in its node's CIDR, stable for the pod's uid.
pub fn pod_ip(index: usize, uid: &str) -> String {
    let h = uid.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100000001b3));
    format!("10.{}.{}.{}", 244 + index / 256, index % 256, 2 + h % 252)
}

/// The Node a kubelet registers: metadata, spec and its first status.
pub fn node_object(s: &Shape) -> Node {
    let labels = BTreeMap::from([
        ("kubernetes.io/hostname".to_string(), s.name.clone()),
        ("kubernetes.io/os".to_string(), "linux".to_string()),
        ("kubernetes.io/arch".to_string(), "amd64".to_string()),
        ("beta.kubernetes.io/os".to_string(), "linux".to_string()),
        ("beta.kubernetes.io/arch".to_string(), "amd64".to_string()),
        ("topology.kubernetes.io/zone".to_string(), s.zone.clone()),
        ("type".to_string(), "rudder-sim".to_string()),
    ]);
    Node {
        metadata: ObjectMeta {
            name: Some(s.name.clone()),
            labels: Some(labels),
            annotations: Some(BTreeMap::from([("node.alpha.kubernetes.io/ttl".to_string(), "0".to_string())])),
            ..Default::default()
        },
        spec: Some(NodeSpec {
            pod_cidr: Some(pod_cidr(s.index)),
            pod_cidrs: Some(vec![pod_cidr(s.index)]),
            provider_id: Some(format!("sim://{}", s.name)),
            taints: (!s.taints.is_empty()).then(|| s.taints.clone()),
            ..Default::default()
        }),
        // A kubelet registers its node with its status (capacity,
        // allocatable, conditions) already set, so nothing sees a node with
        // room for no pods.
        status: Some(healthy_status(s, None, Timestamp::now())),
    }
}

fn condition(old: Option<&NodeStatus>, type_: &str, status: &str, reason: &str, message: &str, now: Timestamp) -> NodeCondition {
    let previous = old.and_then(|o| o.conditions.as_ref()).and_then(|c| c.iter().find(|c| c.type_ == type_));
    let since = match previous {
        Some(p) if p.status == status => p.last_transition_time.clone(),
        _ => Some(Time(now)),
    };
    NodeCondition {
        type_: type_.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        last_heartbeat_time: Some(Time(now)),
        last_transition_time: since,
    }
}

/// The status a healthy kubelet reports at `now`.
pub fn healthy_status(s: &Shape, old: Option<&NodeStatus>, now: Timestamp) -> NodeStatus {
    let resources = BTreeMap::from([
        ("cpu".to_string(), Quantity(s.cpu.clone())),
        ("memory".to_string(), Quantity(s.memory.clone())),
        ("pods".to_string(), Quantity(s.pods.clone())),
        ("ephemeral-storage".to_string(), Quantity("100Gi".into())),
    ]);
    NodeStatus {
        capacity: Some(resources.clone()),
        allocatable: Some(resources),
        conditions: Some(vec![
            condition(old, "MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available", now),
            condition(old, "DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure", now),
            condition(old, "PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available", now),
            condition(old, "Ready", "True", "KubeletReady", "kubelet is posting ready status", now),
        ]),
        addresses: Some(vec![
            NodeAddress { type_: "InternalIP".into(), address: node_ip(s.index) },
            NodeAddress { type_: "Hostname".into(), address: s.name.clone() },
        ]),
        daemon_endpoints: Some(NodeDaemonEndpoints { kubelet_endpoint: Some(DaemonEndpoint { port: 10250 }) }),
        node_info: Some(NodeSystemInfo {
            architecture: "amd64".into(),
            boot_id: format!("sim-{}", s.name),
            container_runtime_version: "sim://1.0.0".into(),
            kernel_version: "6.1.0-sim".into(),
            kube_proxy_version: String::new(),
            kubelet_version: "v1.36.0".into(),
            machine_id: format!("sim-{}", s.name),
            operating_system: "linux".into(),
            os_image: "Rudder simulated node".into(),
            system_uuid: format!("sim-{}", s.name),
            swap: None,
        }),
        ..Default::default()
    }
}

/// What the node lifecycle controller writes once a node has not reported
/// for the grace period: every condition Unknown, heartbeats kept.
pub fn unknown_status(old: &NodeStatus, now: Timestamp) -> NodeStatus {
    let mut status = old.clone();
    for c in status.conditions.iter_mut().flatten() {
        if c.status != "Unknown" {
            c.status = "Unknown".into();
            c.reason = Some("NodeStatusUnknown".into());
            c.message = Some("Kubelet stopped posting node status.".into());
            c.last_transition_time = Some(Time(now));
        }
    }
    status
}

/// The node's taints with (`unreachable`) or without the unreachable taints.
pub fn with_unreachable(taints: &[Taint], unreachable: bool, now: Timestamp) -> Vec<Taint> {
    let mut out: Vec<Taint> = taints.iter().filter(|t| t.key != UNREACHABLE_TAINT).cloned().collect();
    if unreachable {
        out.push(Taint { key: UNREACHABLE_TAINT.into(), effect: "NoSchedule".into(), time_added: None, value: None });
        out.push(Taint { key: UNREACHABLE_TAINT.into(), effect: "NoExecute".into(), time_added: Some(Time(now)), value: None });
    }
    out
}

/// `key[=value]:Effect`, as `kubectl taint` writes it.
pub fn parse_taint(s: &str) -> Result<Taint, String> {
    let (kv, effect) = s.rsplit_once(':').ok_or_else(|| format!("{s:?} is not a taint (key[=value]:Effect)"))?;
    if !matches!(effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
        return Err(format!("{s:?}: the effect must be NoSchedule, PreferNoSchedule or NoExecute"));
    }
    let (key, value) = match kv.split_once('=') {
        Some((k, v)) => (k, Some(v.to_string())),
        None => (kv, None),
    };
    if key.is_empty() {
        return Err(format!("{s:?}: the taint has no key"));
    }
    Ok(Taint { key: key.into(), value, effect: effect.into(), time_added: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape() -> Shape {
        Shape {
            name: "sim-node-1".into(),
            index: 1,
            cpu: "8".into(),
            memory: "32Gi".into(),
            pods: "110".into(),
            zone: "zone-b".into(),
            taints: vec![],
        }
    }

    #[test]
    fn nodes_carry_the_kubelets_labels_and_addresses() {
        let n = node_object(&shape());
        let labels = n.metadata.labels.expect("labels");
        assert_eq!(labels["kubernetes.io/hostname"], "sim-node-1");
        assert_eq!(labels["topology.kubernetes.io/zone"], "zone-b");
        assert_eq!(n.spec.and_then(|s| s.pod_cidr), Some("10.244.1.0/24".into()));
        let st = healthy_status(&shape(), None, Timestamp::UNIX_EPOCH);
        assert_eq!(st.addresses.expect("addresses")[0].address, "172.18.0.3");
        assert_eq!(st.allocatable.expect("allocatable")["pods"], Quantity("110".into()));
        assert!(pod_ip(1, "some-uid").starts_with("10.244.1."));
        assert_eq!(pod_ip(1, "some-uid"), pod_ip(1, "some-uid"));
    }

    #[test]
    fn an_unreported_node_turns_unknown_and_unreachable() {
        let t0 = Timestamp::from_second(1_800_000_000).expect("t");
        let t1 = Timestamp::from_second(1_800_000_060).expect("t");
        let healthy = healthy_status(&shape(), None, t0);
        let unknown = unknown_status(&healthy, t1);
        let ready = unknown.conditions.as_ref().and_then(|c| c.iter().find(|c| c.type_ == "Ready")).expect("ready");
        assert_eq!((ready.status.as_str(), ready.reason.as_deref()), ("Unknown", Some("NodeStatusUnknown")));
        assert_eq!(ready.last_heartbeat_time, Some(Time(t0)));
        assert_eq!(ready.last_transition_time, Some(Time(t1)));
        let taints = with_unreachable(&[parse_taint("dedicated=gpu:NoSchedule").expect("taint")], true, t1);
        assert_eq!(taints.len(), 3);
        assert_eq!(with_unreachable(&taints, false, t1).len(), 1);
        // Back: Ready True again, transition now.
        let back = healthy_status(&shape(), Some(&unknown), t1);
        let ready = back.conditions.as_ref().and_then(|c| c.iter().find(|c| c.type_ == "Ready")).expect("ready");
        assert_eq!((ready.status.as_str(), ready.last_transition_time.clone()), ("True", Some(Time(t1))));
    }

    #[test]
    fn taints_parse_as_kubectl_writes_them() {
        assert_eq!(parse_taint("a=b:NoExecute").expect("taint").value.as_deref(), Some("b"));
        assert_eq!(parse_taint("a:NoSchedule").expect("taint").value, None);
        assert!(parse_taint("a=b").is_err());
        assert!(parse_taint("a=b:Sometimes").is_err());
        assert!(parse_taint("=b:NoSchedule").is_err());
    }
}
