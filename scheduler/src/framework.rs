//! The scheduling framework's data model (upstream `pkg/scheduler/framework`):
//! what a plugin sees of a pod ([`PodInfo`]) and of a node ([`NodeInfo`]),
//! the cluster as of one scheduling cycle ([`Snapshot`]), per-cycle plugin
//! state ([`CycleState`]), plugin verdicts ([`Status`]), and the
//! [`Plugin`] trait with upstream's extension points.
//!
//! Everything here is pure: no I/O, no clocks.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod, PodAffinityTerm};
use rudder_common::quantity;
use rudder_common::selector::Selector;

/// The highest score a plugin gives a node (upstream `MaxNodeScore`).
pub const MAX_NODE_SCORE: i64 = 100;

/// CPU assumed for a container without a CPU request, when scoring
/// (upstream `DefaultMilliCPURequest`).
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// Memory assumed for a container without a memory request, when scoring
/// (upstream `DefaultMemoryRequest`, 200 MiB).
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

// ---------------------------------------------------------------------------
// Resources

/// Amounts of resources: requests of a pod, allocatable or requested of a
/// node (upstream `framework.Resource`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resource {
    pub milli_cpu: i64,
    /// Bytes.
    pub memory: i64,
    /// Bytes.
    pub ephemeral_storage: i64,
    /// Pod count (only for allocatable).
    pub allowed_pod_number: i64,
    /// Extended resources, hugepages and attachable volumes, by name, in
    /// whole units.
    pub scalar: BTreeMap<String, i64>,
}

impl Resource {
    /// From a ResourceList (`requests`, `allocatable`). Malformed quantities
    /// count as zero (the API server rejects them).
    pub fn from_list(list: Option<&BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>) -> Resource {
        let mut r = Resource::default();
        for (name, q) in list.into_iter().flatten() {
            let Some(q) = quantity::of(q) else { continue };
            match name.as_str() {
                "cpu" => r.milli_cpu = q.milli_value(),
                "memory" => r.memory = q.value(),
                "ephemeral-storage" => r.ephemeral_storage = q.value(),
                "pods" => r.allowed_pod_number = q.value(),
                other if is_scalar(other) => {
                    r.scalar.insert(other.to_string(), q.value());
                }
                _ => {}
            }
        }
        r
    }

    pub fn add(&mut self, o: &Resource) {
        self.milli_cpu += o.milli_cpu;
        self.memory += o.memory;
        self.ephemeral_storage += o.ephemeral_storage;
        self.allowed_pod_number += o.allowed_pod_number;
        for (k, v) in &o.scalar {
            *self.scalar.entry(k.clone()).or_default() += v;
        }
    }

    pub fn sub(&mut self, o: &Resource) {
        self.milli_cpu -= o.milli_cpu;
        self.memory -= o.memory;
        self.ephemeral_storage -= o.ephemeral_storage;
        self.allowed_pod_number -= o.allowed_pod_number;
        for (k, v) in &o.scalar {
            *self.scalar.entry(k.clone()).or_default() -= v;
        }
    }

    /// Each amount the larger of the two.
    pub fn max_with(&mut self, o: &Resource) {
        self.milli_cpu = self.milli_cpu.max(o.milli_cpu);
        self.memory = self.memory.max(o.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(o.ephemeral_storage);
        self.allowed_pod_number = self.allowed_pod_number.max(o.allowed_pod_number);
        for (k, v) in &o.scalar {
            let e = self.scalar.entry(k.clone()).or_default();
            *e = (*e).max(*v);
        }
    }

    /// The amount of one named resource.
    pub fn get(&self, name: &str) -> i64 {
        match name {
            "cpu" => self.milli_cpu,
            "memory" => self.memory,
            "ephemeral-storage" => self.ephemeral_storage,
            "pods" => self.allowed_pod_number,
            other => self.scalar.get(other).copied().unwrap_or(0),
        }
    }
}

/// Resources counted by name beyond cpu/memory/storage: extended resources
/// (`domain/name` outside `kubernetes.io`), `hugepages-*`,
/// `attachable-volumes-*` and prefixed native ones (`*kubernetes.io/*`)
/// (upstream `IsScalarResourceName`).
pub fn is_scalar(name: &str) -> bool {
    name.starts_with("hugepages-") || name.starts_with("attachable-volumes-") || name.contains("kubernetes.io/") || is_extended(name)
}

/// An extended resource: a qualified name whose domain is not (a subdomain
/// of) `kubernetes.io`, and not prefixed `requests.`.
pub fn is_extended(name: &str) -> bool {
    match name.split_once('/') {
        Some((domain, _)) => domain != "kubernetes.io" && !domain.ends_with(".kubernetes.io") && !name.starts_with("requests."),
        None => false,
    }
}

/// What a pod asks for (upstream `resourcehelper.PodRequests` without
/// in-place resize): the sum over its containers; init containers run one
/// at a time before them, so each counts with the restartable (sidecar)
/// init containers started before it, and the pod needs the larger of that
/// and the steady state; plus the pod's overhead. Pod-level
/// `spec.resources.requests` replace the containers' cpu and memory.
pub fn pod_requests(pod: &Pod) -> Resource {
    let Some(spec) = pod.spec.as_ref() else { return Resource::default() };
    let requests = |c: &k8s_openapi::api::core::v1::Container| Resource::from_list(c.resources.as_ref().and_then(|r| r.requests.as_ref()));
    let mut reqs = Resource::default();
    for c in &spec.containers {
        reqs.add(&requests(c));
    }
    let mut sidecars = Resource::default();
    let mut init_max = Resource::default();
    for c in spec.init_containers.iter().flatten() {
        let r = requests(c);
        if c.restart_policy.as_deref() == Some("Always") {
            sidecars.add(&r);
            init_max.max_with(&sidecars);
        } else {
            let mut peak = sidecars.clone();
            peak.add(&r);
            init_max.max_with(&peak);
        }
    }
    reqs.add(&sidecars);
    reqs.max_with(&init_max);
    if let Some(pod_level) = spec.resources.as_ref().and_then(|r| r.requests.as_ref()) {
        let p = Resource::from_list(Some(pod_level));
        if pod_level.contains_key("cpu") {
            reqs.milli_cpu = p.milli_cpu;
        }
        if pod_level.contains_key("memory") {
            reqs.memory = p.memory;
        }
    }
    if let Some(overhead) = spec.overhead.as_ref() {
        reqs.add(&Resource::from_list(Some(overhead)));
    }
    reqs
}

/// CPU and memory for scoring: as [`pod_requests`], but a container
/// without a CPU (memory) request counts [`DEFAULT_MILLI_CPU_REQUEST`]
/// ([`DEFAULT_MEMORY_REQUEST`]) (upstream `NonMissingContainerRequests`).
pub fn pod_non_zero_requests(pod: &Pod) -> (i64, i64) {
    let Some(spec) = pod.spec.as_ref() else { return (0, 0) };
    let non_zero = |c: &k8s_openapi::api::core::v1::Container| {
        let list = c.resources.as_ref().and_then(|r| r.requests.as_ref());
        let r = Resource::from_list(list);
        let has = |k: &str| list.is_some_and(|l| l.contains_key(k));
        (if has("cpu") { r.milli_cpu } else { DEFAULT_MILLI_CPU_REQUEST }, if has("memory") { r.memory } else { DEFAULT_MEMORY_REQUEST })
    };
    let (mut cpu, mut mem) = (0, 0);
    for c in &spec.containers {
        let (c, m) = non_zero(c);
        cpu += c;
        mem += m;
    }
    let (mut side_cpu, mut side_mem, mut init_cpu, mut init_mem) = (0, 0, 0, 0);
    for c in spec.init_containers.iter().flatten() {
        let (c_cpu, c_mem) = non_zero(c);
        if c.restart_policy.as_deref() == Some("Always") {
            side_cpu += c_cpu;
            side_mem += c_mem;
            init_cpu = init_cpu.max(side_cpu);
            init_mem = init_mem.max(side_mem);
        } else {
            init_cpu = init_cpu.max(side_cpu + c_cpu);
            init_mem = init_mem.max(side_mem + c_mem);
        }
    }
    cpu = (cpu + side_cpu).max(init_cpu);
    mem = (mem + side_mem).max(init_mem);
    if let Some(pod_level) = spec.resources.as_ref().and_then(|r| r.requests.as_ref()) {
        let p = Resource::from_list(Some(pod_level));
        if pod_level.contains_key("cpu") {
            cpu = p.milli_cpu;
        }
        if pod_level.contains_key("memory") {
            mem = p.memory;
        }
    }
    if let Some(overhead) = spec.overhead.as_ref() {
        let o = Resource::from_list(Some(overhead));
        cpu += o.milli_cpu;
        mem += o.memory;
    }
    (cpu, mem)
}

// ---------------------------------------------------------------------------
// Pods

/// A pod affinity term made ready for matching (upstream `AffinityTerm`):
/// the namespaces it applies to, its selector (with matchLabelKeys /
/// mismatchLabelKeys folded in), the topology key.
#[derive(Debug, Clone)]
pub struct AffinityTerm {
    /// Explicit namespaces; empty with no namespace selector means the
    /// pod's own namespace (already filled in).
    pub namespaces: Vec<String>,
    /// `namespaceSelector`; `Some(everything)` for `{}` (all namespaces).
    pub namespace_selector: Option<Selector>,
    pub selector: Selector,
    pub topology_key: String,
}

impl AffinityTerm {
    /// Upstream `AffinityTerm.Matches`: the pod is in one of the namespaces
    /// (by name or by its namespace's labels) and its labels match.
    pub fn matches(&self, pod: &Pod, namespace_labels: Option<&BTreeMap<String, String>>) -> bool {
        let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
        let in_ns = self.namespaces.iter().any(|n| n == ns)
            || self.namespace_selector.as_ref().is_some_and(|s| s.matches(namespace_labels.unwrap_or(&BTreeMap::new())));
        in_ns && self.selector.matches(pod.metadata.labels.as_ref().unwrap_or(&BTreeMap::new()))
    }
}

/// A weighted affinity term (preferred affinity/anti-affinity).
#[derive(Debug, Clone)]
pub struct WeightedAffinityTerm {
    pub term: AffinityTerm,
    pub weight: i32,
}

/// A pod with what the plugins compute from it once (upstream `PodInfo`).
#[derive(Debug, Clone)]
pub struct PodInfo {
    pub pod: Arc<Pod>,
    pub requests: Resource,
    /// (milli CPU, memory) for scoring: see [`pod_non_zero_requests`].
    pub non_zero: (i64, i64),
    pub required_affinity: Vec<AffinityTerm>,
    pub required_anti_affinity: Vec<AffinityTerm>,
    pub preferred_affinity: Vec<WeightedAffinityTerm>,
    pub preferred_anti_affinity: Vec<WeightedAffinityTerm>,
    /// Terms that could not be parsed (invalid selectors; the API server
    /// rejects them, so only from a buggy writer): the pod is unschedulable.
    pub parse_error: Option<String>,
}

impl PodInfo {
    pub fn new(pod: Arc<Pod>) -> PodInfo {
        let requests = pod_requests(&pod);
        let non_zero = pod_non_zero_requests(&pod);
        let mut info = PodInfo {
            pod,
            requests,
            non_zero,
            required_affinity: vec![],
            required_anti_affinity: vec![],
            preferred_affinity: vec![],
            preferred_anti_affinity: vec![],
            parse_error: None,
        };
        let affinity = info.pod.spec.as_ref().and_then(|s| s.affinity.clone());
        if let Some(affinity) = affinity {
            let (pa, paa) = (affinity.pod_affinity, affinity.pod_anti_affinity);
            let required = |terms: Option<Vec<PodAffinityTerm>>, info: &mut PodInfo| -> Vec<AffinityTerm> {
                terms.into_iter().flatten().filter_map(|t| info.term(&t)).collect()
            };
            let preferred = |terms: Option<Vec<k8s_openapi::api::core::v1::WeightedPodAffinityTerm>>, info: &mut PodInfo| {
                terms
                    .into_iter()
                    .flatten()
                    .filter_map(|w| Some(WeightedAffinityTerm { term: info.term(&w.pod_affinity_term)?, weight: w.weight }))
                    .collect::<Vec<_>>()
            };
            if let Some(pa) = pa {
                info.required_affinity = required(pa.required_during_scheduling_ignored_during_execution, &mut info);
                info.preferred_affinity = preferred(pa.preferred_during_scheduling_ignored_during_execution, &mut info);
            }
            if let Some(paa) = paa {
                info.required_anti_affinity = required(paa.required_during_scheduling_ignored_during_execution, &mut info);
                info.preferred_anti_affinity = preferred(paa.preferred_during_scheduling_ignored_during_execution, &mut info);
            }
        }
        info
    }

    /// Upstream `newAffinityTerm`: matchLabelKeys add `key in (pod's
    /// value)`, mismatchLabelKeys `key notin (pod's value)`, for keys the
    /// pod has.
    fn term(&mut self, t: &PodAffinityTerm) -> Option<AffinityTerm> {
        let labels = self.pod.metadata.labels.clone().unwrap_or_default();
        let mut selector = match Selector::from_label_selector(t.label_selector.as_ref()) {
            Ok(s) => s,
            Err(e) => {
                self.parse_error = Some(e.to_string());
                return None;
            }
        };
        let mut extra = Vec::new();
        for (keys, op) in [
            (&t.match_label_keys, rudder_common::selector::Operator::In),
            (&t.mismatch_label_keys, rudder_common::selector::Operator::NotIn),
        ] {
            for key in keys.iter().flatten() {
                if let Some(v) = labels.get(key)
                    && let Ok(r) = rudder_common::selector::Requirement::new(key.clone(), op, vec![v.clone()])
                {
                    extra.push(r);
                }
            }
        }
        if !extra.is_empty() && t.label_selector.is_some() {
            selector = selector.add(extra);
        }
        let namespace_selector = match &t.namespace_selector {
            None => None,
            Some(s) => match Selector::from_label_selector(Some(s)) {
                Ok(s) => Some(s),
                Err(e) => {
                    self.parse_error = Some(e.to_string());
                    return None;
                }
            },
        };
        let mut namespaces = t.namespaces.clone().unwrap_or_default();
        if namespaces.is_empty() && namespace_selector.is_none() {
            namespaces.push(self.pod.metadata.namespace.clone().unwrap_or_default());
        }
        Some(AffinityTerm { namespaces, namespace_selector, selector, topology_key: t.topology_key.clone() })
    }

    pub fn name(&self) -> &str {
        self.pod.metadata.name.as_deref().unwrap_or_default()
    }

    pub fn namespace(&self) -> &str {
        self.pod.metadata.namespace.as_deref().unwrap_or_default()
    }

    pub fn uid(&self) -> &str {
        self.pod.metadata.uid.as_deref().unwrap_or_default()
    }

    /// `spec.priority`, 0 when unset.
    pub fn priority(&self) -> i32 {
        self.pod.spec.as_ref().and_then(|s| s.priority).unwrap_or(0)
    }

    pub fn labels(&self) -> &BTreeMap<String, String> {
        static EMPTY: BTreeMap<String, String> = BTreeMap::new();
        self.pod.metadata.labels.as_ref().unwrap_or(&EMPTY)
    }
}

// ---------------------------------------------------------------------------
// Nodes

/// A host port in use: (ip, protocol, port) (upstream `HostPortInfo`).
pub type HostPort = (String, String, i32);

/// A node with the pods on it and what they use (upstream `NodeInfo`).
#[derive(Debug, Clone, Default)]
pub struct NodeInfo {
    pub node: Option<Arc<Node>>,
    pub pods: Vec<Arc<PodInfo>>,
    /// Pods with required or preferred pod (anti-)affinity.
    pub pods_with_affinity: Vec<Arc<PodInfo>>,
    /// Pods with required anti-affinity.
    pub pods_with_required_anti_affinity: Vec<Arc<PodInfo>>,
    /// Sum of the pods' requests.
    pub requested: Resource,
    /// Sum of the pods' requests for scoring (see [`pod_non_zero_requests`]).
    pub non_zero_requested: (i64, i64),
    pub allocatable: Resource,
    pub used_ports: Vec<HostPort>,
    /// Changes every time the node or its pods change.
    pub generation: u64,
}

impl NodeInfo {
    pub fn new(node: Arc<Node>) -> NodeInfo {
        let mut info = NodeInfo::default();
        info.set_node(node);
        info
    }

    pub fn set_node(&mut self, node: Arc<Node>) {
        self.allocatable = Resource::from_list(node.status.as_ref().and_then(|s| s.allocatable.as_ref()));
        self.node = Some(node);
    }

    pub fn name(&self) -> &str {
        self.node.as_ref().and_then(|n| n.metadata.name.as_deref()).unwrap_or_default()
    }

    pub fn labels(&self) -> &BTreeMap<String, String> {
        static EMPTY: BTreeMap<String, String> = BTreeMap::new();
        self.node.as_ref().and_then(|n| n.metadata.labels.as_ref()).unwrap_or(&EMPTY)
    }

    pub fn add_pod(&mut self, pod: Arc<PodInfo>) {
        self.requested.add(&pod.requests);
        self.non_zero_requested.0 += pod.non_zero.0;
        self.non_zero_requested.1 += pod.non_zero.1;
        for p in host_ports(&pod.pod) {
            self.used_ports.push(p);
        }
        if !pod.required_affinity.is_empty()
            || !pod.required_anti_affinity.is_empty()
            || !pod.preferred_affinity.is_empty()
            || !pod.preferred_anti_affinity.is_empty()
        {
            self.pods_with_affinity.push(pod.clone());
        }
        if !pod.required_anti_affinity.is_empty() {
            self.pods_with_required_anti_affinity.push(pod.clone());
        }
        self.pods.push(pod);
    }

    /// Removes the pod with this uid; false if it was not there.
    pub fn remove_pod(&mut self, uid: &str) -> bool {
        let Some(i) = self.pods.iter().position(|p| p.uid() == uid) else { return false };
        let pod = self.pods.swap_remove(i);
        self.requested.sub(&pod.requests);
        self.non_zero_requested.0 -= pod.non_zero.0;
        self.non_zero_requested.1 -= pod.non_zero.1;
        for p in host_ports(&pod.pod) {
            if let Some(j) = self.used_ports.iter().position(|u| *u == p) {
                self.used_ports.swap_remove(j);
            }
        }
        self.pods_with_affinity.retain(|p| p.uid() != uid);
        self.pods_with_required_anti_affinity.retain(|p| p.uid() != uid);
        true
    }
}

/// The host ports a pod holds (its containers' and sidecars' — restartable
/// init containers — ports with a hostPort; other init containers have
/// finished by then), with upstream's defaults: ip `0.0.0.0`, protocol TCP.
pub fn host_ports(pod: &Pod) -> Vec<HostPort> {
    let Some(spec) = pod.spec.as_ref() else { return vec![] };
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten().filter(|c| c.restart_policy.as_deref() == Some("Always")))
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| {
            let port = p.host_port.filter(|&h| h > 0)?;
            let ip = p.host_ip.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "0.0.0.0".into());
            let protocol = p.protocol.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "TCP".into());
            Some((ip, protocol, port))
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The cluster as of one cycle

/// Nodes (with their pods) as one scheduling cycle sees them, and the
/// namespaces' labels for namespace selectors.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub nodes: Vec<Arc<NodeInfo>>,
    pub namespace_labels: HashMap<String, BTreeMap<String, String>>,
    /// The selectors of the cluster's Services, ReplicationControllers,
    /// ReplicaSets and StatefulSets: PodTopologySpread's default constraints
    /// spread a pod among the pods these select (upstream
    /// `helper.DefaultSelector`).
    pub workload_selectors: Vec<WorkloadSelector>,
    /// Pending pods nominated to a node by an earlier preemption, by node:
    /// filtering counts those of equal or higher priority as already there
    /// (upstream `RunFilterPluginsWithNominatedPods`).
    pub nominated: HashMap<String, Vec<Arc<PodInfo>>>,
    /// ResourceClaims and DeviceClasses, for DynamicResources.
    pub dra: Arc<DraObjects>,
}

/// The resource.k8s.io objects the DynamicResources plugin reads.
#[derive(Debug, Clone, Default)]
pub struct DraObjects {
    /// ResourceClaims by `namespace/name`.
    pub claims: HashMap<String, Arc<k8s_openapi::api::resource::v1::ResourceClaim>>,
    /// The names of the DeviceClasses.
    pub classes: std::collections::HashSet<String>,
}

/// The label selector of one Service, ReplicationController, ReplicaSet or
/// StatefulSet (see [`Snapshot::workload_selectors`]).
#[derive(Debug, Clone)]
pub struct WorkloadSelector {
    /// `Service`, `ReplicationController`, `ReplicaSet` or `StatefulSet`.
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// Services and ReplicationControllers: `Selector::from_set` of
    /// `spec.selector` (leave out Services without one: they select
    /// nothing). ReplicaSets and StatefulSets: `Selector::from_label_selector`
    /// of `spec.selector` (leave out invalid ones).
    pub selector: Selector,
}

impl Snapshot {
    pub fn node(&self, name: &str) -> Option<&Arc<NodeInfo>> {
        self.nodes.iter().find(|n| n.name() == name)
    }

    /// Nodes with at least one pod with (anti-)affinity.
    pub fn have_pods_with_affinity(&self) -> impl Iterator<Item = &Arc<NodeInfo>> {
        self.nodes.iter().filter(|n| !n.pods_with_affinity.is_empty())
    }

    /// Nodes with at least one pod with required anti-affinity.
    pub fn have_pods_with_required_anti_affinity(&self) -> impl Iterator<Item = &Arc<NodeInfo>> {
        self.nodes.iter().filter(|n| !n.pods_with_required_anti_affinity.is_empty())
    }
}

// ---------------------------------------------------------------------------
// Verdicts

/// Upstream `framework.Code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Success,
    /// An internal error; the pod is retried with back-off.
    Error,
    /// Does not fit now; preemption may help.
    Unschedulable,
    /// Does not fit, and preemption on this node cannot help.
    UnschedulableAndUnresolvable,
    /// PreFilter: skip this plugin's Filter for this pod.
    Skip,
}

/// A plugin's verdict, with reasons users read in the pod's condition
/// message and FailedScheduling event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub code: Code,
    pub reasons: Vec<String>,
    /// The plugin that failed (set by the framework).
    pub plugin: &'static str,
}

impl Status {
    pub fn success() -> Status {
        Status { code: Code::Success, reasons: vec![], plugin: "" }
    }

    pub fn skip() -> Status {
        Status { code: Code::Skip, reasons: vec![], plugin: "" }
    }

    pub fn unschedulable(reason: impl Into<String>) -> Status {
        Status { code: Code::Unschedulable, reasons: vec![reason.into()], plugin: "" }
    }

    pub fn unresolvable(reason: impl Into<String>) -> Status {
        Status { code: Code::UnschedulableAndUnresolvable, reasons: vec![reason.into()], plugin: "" }
    }

    pub fn error(reason: impl Into<String>) -> Status {
        Status { code: Code::Error, reasons: vec![reason.into()], plugin: "" }
    }

    pub fn is_success(&self) -> bool {
        self.code == Code::Success
    }

    pub fn is_rejected(&self) -> bool {
        matches!(self.code, Code::Unschedulable | Code::UnschedulableAndUnresolvable)
    }
}

// ---------------------------------------------------------------------------
// Per-cycle state

/// Data a plugin keeps between its extension points in one cycle. Cloned
/// when preemption simulates removing pods.
pub trait StateData: Any + Send + Sync {
    fn clone_box(&self) -> Box<dyn StateData>;
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: Any + Send + Sync + Clone> StateData for T {
    fn clone_box(&self) -> Box<dyn StateData> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// Upstream `CycleState`: plugin data by key, for one pod's cycle.
#[derive(Default)]
pub struct CycleState {
    data: HashMap<&'static str, Box<dyn StateData>>,
    /// Plugins whose PreFilter returned Skip: their Filter is not run.
    pub skip_filter: Vec<&'static str>,
    /// Plugins whose PreScore returned Skip.
    pub skip_score: Vec<&'static str>,
}

impl Clone for CycleState {
    fn clone(&self) -> Self {
        CycleState {
            data: self.data.iter().map(|(k, v)| (*k, (**v).clone_box())).collect(),
            skip_filter: self.skip_filter.clone(),
            skip_score: self.skip_score.clone(),
        }
    }
}

impl CycleState {
    pub fn write<T: StateData + Clone>(&mut self, key: &'static str, value: T) {
        self.data.insert(key, Box::new(value));
    }

    pub fn read<T: 'static>(&self, key: &'static str) -> Option<&T> {
        self.data.get(key).and_then(|v| v.as_ref().as_any().downcast_ref::<T>())
    }

    pub fn read_mut<T: 'static>(&mut self, key: &'static str) -> Option<&mut T> {
        self.data.get_mut(key).and_then(|v| v.as_mut().as_any_mut().downcast_mut::<T>())
    }

    /// [`CycleState::read`], or the Error status upstream's framework gives
    /// for missing state.
    pub fn require<T: 'static>(&self, key: &'static str) -> Result<&T, Status> {
        self.read(key).ok_or_else(|| missing(key))
    }

    /// [`CycleState::read_mut`], or the Error status for missing state.
    pub fn require_mut<T: 'static>(&mut self, key: &'static str) -> Result<&mut T, Status> {
        self.read_mut(key).ok_or_else(|| missing(key))
    }
}

fn missing(key: &str) -> Status {
    Status::error(format!("error reading {key:?} from cycleState: not found"))
}

// ---------------------------------------------------------------------------
// Plugins

/// A scheduling plugin: each extension point has a default that does
/// nothing, so a plugin implements only the ones it takes part in.
pub trait Plugin: Send + Sync {
    /// The upstream plugin name (`NodeResourcesFit`, ...).
    fn name(&self) -> &'static str;

    /// Once per pod before filtering: compute state into `state`. Success,
    /// Skip (this plugin's Filter is not needed for this pod), or a
    /// rejection for every node.
    fn pre_filter(&self, _state: &mut CycleState, _pod: &PodInfo, _snapshot: &Snapshot) -> Status {
        Status::success()
    }

    /// Preemption's simulation: `added` (a pod nominated to `node`) now
    /// counts in the state built by `pre_filter` (upstream
    /// `PreFilterExtensions.AddPod`).
    fn add_pod(&self, _state: &mut CycleState, _pod: &PodInfo, _added: &PodInfo, _node: &NodeInfo) -> Status {
        Status::success()
    }

    /// Preemption's simulation: `removed` no longer counts (upstream
    /// `PreFilterExtensions.RemovePod`).
    fn remove_pod(&self, _state: &mut CycleState, _pod: &PodInfo, _removed: &PodInfo, _node: &NodeInfo) -> Status {
        Status::success()
    }

    /// Whether the pod can run on the node.
    fn filter(&self, _state: &CycleState, _pod: &PodInfo, _node: &NodeInfo) -> Status {
        Status::success()
    }

    /// Once per pod before scoring the nodes that passed the filters.
    fn pre_score(&self, _state: &mut CycleState, _pod: &PodInfo, _nodes: &[Arc<NodeInfo>], _snapshot: &Snapshot) -> Status {
        Status::skip()
    }

    /// A node's raw score.
    fn score(&self, _state: &CycleState, _pod: &PodInfo, _node: &NodeInfo) -> Result<i64, Status> {
        Ok(0)
    }

    /// Scales raw scores (same order as the nodes) into 0..=MAX_NODE_SCORE.
    fn normalize_score(&self, _state: &CycleState, _pod: &PodInfo, _scores: &mut [i64]) -> Status {
        Status::success()
    }

    /// Whether this plugin scores at all (has a Score extension point).
    fn scores(&self) -> bool {
        false
    }

    /// Whether this plugin filters (has a Filter extension point).
    fn filters(&self) -> bool {
        false
    }
}

/// Upstream `DefaultNormalizeScore`: scales scores so the highest becomes
/// `max` (or, reversed, the highest becomes 0 and 0 becomes `max`).
pub fn default_normalize_score(max: i64, reverse: bool, scores: &mut [i64]) {
    let highest = scores.iter().copied().max().unwrap_or(0);
    if highest == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = max);
        }
        return;
    }
    for s in scores.iter_mut() {
        let mut v = max * *s / highest;
        if reverse {
            v = max - v;
        }
        *s = v;
    }
}
