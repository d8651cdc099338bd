//! `PodTopologySpread` (upstream `pkg/scheduler/framework/plugins/podtopologyspread`):
//! spreads the pods a constraint's selector matches evenly across topology
//! domains (zones, nodes, ...).
//!
//! * `DoNotSchedule` constraints filter: placing the pod on a node must not
//!   make its domain hold more than `maxSkew` matching pods above the least
//!   loaded eligible domain (the "global minimum", 0 while fewer than
//!   `minDomains` domains exist). Nodes without a constraint's topology key
//!   are unresolvable.
//! * `ScheduleAnyway` constraints score: the fewer matching pods in a node's
//!   domains, the higher its score; each constraint's counts weigh by the
//!   log of its number of domains, so small topologies are not drowned by
//!   big ones.
//! * A pod without constraints of its own gets the plugin's default
//!   constraints (`PodTopologySpreadArgs`; upstream's system defaults are
//!   hostname `maxSkew` 3 and zone `maxSkew` 5, both `ScheduleAnyway`), whose
//!   selector is the merged selector of the Services, ReplicationController,
//!   ReplicaSet or StatefulSet that own or select the pod.
//!
//! Only nodes with every constraint's topology key take part in the counts;
//! `nodeAffinityPolicy` (default `Honor`) and `nodeTaintsPolicy` (default
//! `Ignore`) decide whether nodes the pod's node affinity / untolerated
//! taints exclude count too. `matchLabelKeys` add `key=value` (the pod's
//! value) to the selector.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod, Toleration, TopologySpreadConstraint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use rudder_common::field::{FieldError, FieldPath, aggregate_message};
use rudder_common::scheduling::{RequiredNodeAffinity, find_matching_untolerated_taint, is_do_not_schedule_taint};
use rudder_common::selector::{Operator, Requirement, Selector, is_label_key};
use serde::Deserialize;

use crate::framework::{CycleState, MAX_NODE_SCORE, NodeInfo, Plugin, PodInfo, Snapshot, Status};

/// The plugin's name in profiles and statuses.
pub const NAME: &str = "PodTopologySpread";

/// Filter reason: placing the pod on the node would exceed a `maxSkew`.
pub const ERR_REASON_CONSTRAINTS_NOT_MATCH: &str = "node(s) didn't match pod topology spread constraints";
/// Filter reason: the node lacks a constraint's topology key.
pub const ERR_REASON_NODE_LABEL_NOT_MATCH: &str = "node(s) didn't match pod topology spread constraints (missing required label)";

const PRE_FILTER_STATE_KEY: &str = "PreFilterPodTopologySpread";
const PRE_SCORE_STATE_KEY: &str = "PreScorePodTopologySpread";

const LABEL_HOSTNAME: &str = "kubernetes.io/hostname";
const LABEL_TOPOLOGY_ZONE: &str = "topology.kubernetes.io/zone";

const DO_NOT_SCHEDULE: &str = "DoNotSchedule";
const SCHEDULE_ANYWAY: &str = "ScheduleAnyway";
const POLICY_HONOR: &str = "Honor";

const SYSTEM_DEFAULTING: &str = "System";
const LIST_DEFAULTING: &str = "List";

/// Upstream's system default constraints.
fn system_default_constraints() -> Vec<TopologySpreadConstraint> {
    vec![
        TopologySpreadConstraint {
            topology_key: LABEL_HOSTNAME.to_string(),
            when_unsatisfiable: SCHEDULE_ANYWAY.to_string(),
            max_skew: 3,
            ..Default::default()
        },
        TopologySpreadConstraint {
            topology_key: LABEL_TOPOLOGY_ZONE.to_string(),
            when_unsatisfiable: SCHEDULE_ANYWAY.to_string(),
            max_skew: 5,
            ..Default::default()
        },
    ]
}

// ---------------------------------------------------------------------------
// Arguments

/// `PodTopologySpreadArgs` as written in a KubeSchedulerConfiguration (v1).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawArgs {
    #[serde(default)]
    #[allow(dead_code)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    default_constraints: Option<Vec<RawConstraint>>,
    #[serde(default)]
    defaulting_type: Option<String>,
}

/// A `v1.TopologySpreadConstraint` in the args; missing fields are zero
/// values, as upstream decodes them, so that validation reports them.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawConstraint {
    #[serde(default)]
    max_skew: i32,
    #[serde(default)]
    topology_key: String,
    #[serde(default)]
    when_unsatisfiable: String,
    #[serde(default)]
    label_selector: Option<LabelSelector>,
    #[serde(default)]
    min_domains: Option<i32>,
    #[serde(default)]
    node_affinity_policy: Option<String>,
    #[serde(default)]
    node_taints_policy: Option<String>,
    #[serde(default)]
    match_label_keys: Option<Vec<String>>,
}

impl From<RawConstraint> for TopologySpreadConstraint {
    fn from(c: RawConstraint) -> Self {
        TopologySpreadConstraint {
            max_skew: c.max_skew,
            topology_key: c.topology_key,
            when_unsatisfiable: c.when_unsatisfiable,
            label_selector: c.label_selector,
            min_domains: c.min_domains,
            node_affinity_policy: c.node_affinity_policy,
            node_taints_policy: c.node_taints_policy,
            match_label_keys: c.match_label_keys,
        }
    }
}

/// Upstream `ValidatePodTopologySpreadArgs`.
fn validate_args(defaulting_type: &str, constraints: &[TopologySpreadConstraint]) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if defaulting_type != SYSTEM_DEFAULTING && defaulting_type != LIST_DEFAULTING {
        errs.push(FieldError::not_supported("defaultingType", defaulting_type, &[SYSTEM_DEFAULTING, LIST_DEFAULTING]));
    } else if defaulting_type == SYSTEM_DEFAULTING && !constraints.is_empty() {
        errs.push(FieldError::invalid("defaultingType", defaulting_type, "when .defaultConstraints are not empty"));
    }
    let path = FieldPath::root("defaultConstraints");
    for (i, c) in constraints.iter().enumerate() {
        let p = path.index(i);
        if c.max_skew <= 0 {
            errs.push(FieldError::invalid(p.child("maxSkew").render(), c.max_skew, "not in valid range"));
        }
        let key_path = p.child("topologyKey").render();
        if c.topology_key.is_empty() {
            errs.push(FieldError::required(key_path, "can not be empty"));
        } else {
            for msg in is_label_key(&c.topology_key) {
                errs.push(FieldError::invalid(key_path.clone(), c.topology_key.as_str(), msg));
            }
        }
        let wu_path = p.child("whenUnsatisfiable").render();
        if c.when_unsatisfiable.is_empty() {
            errs.push(FieldError::required(wu_path, "can not be empty"));
        } else if c.when_unsatisfiable != DO_NOT_SCHEDULE && c.when_unsatisfiable != SCHEDULE_ANYWAY {
            errs.push(FieldError::not_supported(wu_path, c.when_unsatisfiable.as_str(), &[DO_NOT_SCHEDULE, SCHEDULE_ANYWAY]));
        }
        if c.label_selector.is_some() {
            errs.push(FieldError::forbidden(
                p.child("labelSelector").render(),
                "constraint must not define a selector, as they deduced for each pod",
            ));
        }
        if constraints[..i].iter().any(|o| o.topology_key == c.topology_key && o.when_unsatisfiable == c.when_unsatisfiable) {
            errs.push(FieldError::duplicate(p.render(), format!("{{{}, {}}}", c.topology_key, c.when_unsatisfiable)));
        }
    }
    errs
}

// ---------------------------------------------------------------------------
// Constraints

/// A spread constraint with its selector parsed and its defaults applied
/// (upstream `topologySpreadConstraint`).
#[derive(Debug, Clone)]
struct Constraint {
    max_skew: i32,
    topology_key: String,
    selector: Selector,
    min_domains: i32,
    honor_node_affinity: bool,
    honor_node_taints: bool,
}

/// Upstream `filterTopologySpreadConstraints`: the constraints with this
/// `whenUnsatisfiable`, `matchLabelKeys` merged into their selectors.
fn filter_constraints(
    constraints: &[TopologySpreadConstraint],
    pod_labels: &BTreeMap<String, String>,
    action: &str,
) -> Result<Vec<Constraint>, String> {
    let mut out = Vec::new();
    for c in constraints.iter().filter(|c| c.when_unsatisfiable == action) {
        let mut selector = Selector::from_label_selector(c.label_selector.as_ref()).map_err(|e| e.to_string())?;
        let extra: Vec<Requirement> = c
            .match_label_keys
            .iter()
            .flatten()
            .filter_map(|k| pod_labels.get(k).map(|v| Requirement { key: k.clone(), operator: Operator::Equals, values: vec![v.clone()] }))
            .collect();
        // A nil selector stays "nothing"; `add` leaves it so.
        if !extra.is_empty() {
            selector = selector.add(extra);
        }
        out.push(Constraint {
            max_skew: c.max_skew,
            topology_key: c.topology_key.clone(),
            selector,
            min_domains: c.min_domains.unwrap_or(1),
            // Anything but "Honor" behaves as "Ignore", as upstream compares.
            honor_node_affinity: c.node_affinity_policy.as_deref().is_none_or(|p| p == POLICY_HONOR),
            honor_node_taints: c.node_taints_policy.as_deref() == Some(POLICY_HONOR),
        });
    }
    Ok(out)
}

fn has_all_topology_keys(labels: &BTreeMap<String, String>, constraints: &[Constraint]) -> bool {
    constraints.iter().all(|c| labels.contains_key(&c.topology_key))
}

/// Upstream `countPodsMatchSelector`: pods of the namespace the selector
/// matches, terminating ones left out; an empty selector counts none.
fn count_matching(pods: &[Arc<PodInfo>], selector: &Selector, namespace: &str) -> i64 {
    if selector.is_empty() {
        return 0;
    }
    let mut n = 0;
    for p in pods {
        let meta = &p.pod.metadata;
        if meta.deletion_timestamp.is_some() || meta.namespace.as_deref().unwrap_or_default() != namespace {
            continue;
        }
        if selector.matches(p.labels()) {
            n += 1;
        }
    }
    n
}

/// Upstream `helper.DefaultSelector`: the selectors of the Services in the
/// pod's namespace that select it, and of its controller if that is a
/// ReplicationController, ReplicaSet or StatefulSet.
fn default_selector(pod: &Pod, snapshot: &Snapshot) -> Selector {
    let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
    let empty = BTreeMap::new();
    let pod_labels = pod.metadata.labels.as_ref().unwrap_or(&empty);
    let mut set = BTreeMap::new();
    let merge = |set: &mut BTreeMap<String, String>, selector: &Selector| {
        for r in selector.requirements() {
            if let (Operator::Equals | Operator::DoubleEquals | Operator::In, [v]) = (r.operator, r.values.as_slice()) {
                set.insert(r.key.clone(), v.clone());
            }
        }
    };
    for w in snapshot.workload_selectors.iter().filter(|w| w.kind == "Service" && w.namespace == ns) {
        if !w.selector.matches_nothing() && w.selector.matches(pod_labels) {
            merge(&mut set, &w.selector);
        }
    }
    let mut selector = Selector::from_set(&set);
    let Some(owner) = pod.metadata.owner_references.iter().flatten().find(|o| o.controller == Some(true)) else {
        return selector;
    };
    // schema.ParseGroupVersion: "v1" is the core group; more than one '/'
    // is an error.
    let (group, version) = match owner.api_version.split('/').collect::<Vec<_>>().as_slice() {
        [v] => ("", *v),
        [g, v] => (*g, *v),
        _ => return selector,
    };
    let find = |kind: &str| snapshot.workload_selectors.iter().find(|w| w.kind == kind && w.namespace == ns && w.name == owner.name);
    match (group, version, owner.kind.as_str()) {
        ("", "v1", "ReplicationController") => {
            if let Some(w) = find("ReplicationController") {
                merge(&mut set, &w.selector);
                selector = Selector::from_set(&set);
            }
        }
        ("apps", "v1", kind @ ("ReplicaSet" | "StatefulSet")) => {
            if let Some(w) = find(kind)
                && !w.selector.matches_nothing()
            {
                selector = selector.add(w.selector.requirements().to_vec());
            }
        }
        _ => {}
    }
    selector
}

// ---------------------------------------------------------------------------
// Node inclusion (nodeAffinityPolicy / nodeTaintsPolicy)

/// Evaluates, at most once per node, whether the node passes the incoming
/// pod's node affinity and tolerates its taints.
struct Inclusion<'a> {
    /// None when the pod has neither a node selector nor required node
    /// affinity: every node passes.
    affinity: Option<&'a RequiredNodeAffinity>,
    tolerations: &'a [Toleration],
    node: &'a Node,
    affinity_ok: Option<bool>,
    taints_ok: Option<bool>,
}

impl<'a> Inclusion<'a> {
    fn new(affinity: Option<&'a RequiredNodeAffinity>, tolerations: &'a [Toleration], node: &'a Node) -> Self {
        Inclusion { affinity, tolerations, node, affinity_ok: None, taints_ok: None }
    }

    /// Upstream `matchNodeInclusionPolicies`: with `Honor`, the pod's
    /// required node affinity must admit the node, and every
    /// `NoSchedule`/`NoExecute` taint must be tolerated.
    fn includes(&mut self, c: &Constraint) -> bool {
        if c.honor_node_affinity && !*self.affinity_ok.get_or_insert_with(|| self.affinity.is_none_or(|a| a.matches(self.node))) {
            return false;
        }
        if c.honor_node_taints
            && !*self.taints_ok.get_or_insert_with(|| {
                let taints = self.node.spec.as_ref().and_then(|s| s.taints.as_deref()).unwrap_or_default();
                find_matching_untolerated_taint(taints, self.tolerations, is_do_not_schedule_taint).is_none()
            })
        {
            return false;
        }
        true
    }
}

/// The pod's node selector and required node affinity, None when it has
/// neither.
fn required_node_affinity(pod: &Pod) -> Option<RequiredNodeAffinity> {
    let spec = pod.spec.as_ref()?;
    let has_selector = spec.node_selector.as_ref().is_some_and(|s| !s.is_empty());
    let has_affinity = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .is_some_and(|na| na.required_during_scheduling_ignored_during_execution.is_some());
    (has_selector || has_affinity).then(|| RequiredNodeAffinity::of_pod(pod))
}

fn tolerations(pod: &Pod) -> &[Toleration] {
    pod.spec.as_ref().and_then(|s| s.tolerations.as_deref()).unwrap_or_default()
}

// ---------------------------------------------------------------------------
// PreFilter / Filter state

/// One domain and its number of matching pods.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Path {
    value: String,
    count: i64,
}

/// The two least loaded domains of a constraint; `0` always holds the
/// minimum. Enough for preemption, which changes pods of one node at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CriticalPaths([Path; 2]);

impl CriticalPaths {
    fn new() -> Self {
        let empty = || Path { value: String::new(), count: i64::from(i32::MAX) };
        CriticalPaths([empty(), empty()])
    }

    fn update(&mut self, value: &str, count: i64) {
        let p = &mut self.0;
        if let Some(i) = p.iter().position(|path| path.value == value) {
            p[i].count = count;
            if p[0].count > p[1].count {
                p.swap(0, 1);
            }
        } else if count < p[0].count {
            p[1] = p[0].clone();
            p[0] = Path { value: value.to_string(), count };
        } else if count < p[1].count {
            p[1] = Path { value: value.to_string(), count };
        }
    }
}

/// What Filter needs: per `DoNotSchedule` constraint, the matching pods of
/// each eligible domain and the two least loaded domains.
#[derive(Debug, Clone)]
struct PreFilterState {
    constraints: Arc<Vec<Constraint>>,
    critical_paths: Vec<CriticalPaths>,
    counts: Vec<HashMap<String, i64>>,
}

impl PreFilterState {
    /// The global minimum for the skew: 0 while fewer than `minDomains`
    /// domains are eligible.
    fn min_match(&self, i: usize) -> i64 {
        let domains = self.counts[i].len();
        let min_domains = usize::try_from(self.constraints[i].min_domains).unwrap_or(0);
        if domains < min_domains { 0 } else { self.critical_paths[i].0[0].count }
    }

    /// Upstream `updateWithPod`: `pod` (added or removed on `node`) counts
    /// `delta` more for the constraints it matches.
    fn update_with_pod(&mut self, pod: &PodInfo, preemptor: &PodInfo, node: &NodeInfo, delta: i64) {
        let Some(n) = node.node.as_deref() else { return };
        if pod.namespace() != preemptor.namespace() {
            return;
        }
        let labels = node.labels();
        if !has_all_topology_keys(labels, &self.constraints) {
            return;
        }
        let affinity = required_node_affinity(&preemptor.pod);
        let mut inclusion = Inclusion::new(affinity.as_ref(), tolerations(&preemptor.pod), n);
        let constraints = Arc::clone(&self.constraints);
        for (i, c) in constraints.iter().enumerate() {
            if !c.selector.matches(pod.labels()) || !inclusion.includes(c) {
                continue;
            }
            let Some(value) = labels.get(&c.topology_key) else { continue };
            let count = self.counts[i].entry(value.clone()).or_insert(0);
            *count += delta;
            let count = *count;
            self.critical_paths[i].update(value, count);
        }
    }
}

// ---------------------------------------------------------------------------
// PreScore / Score state

#[derive(Debug, Clone)]
struct PreScoreState {
    constraints: Vec<Constraint>,
    /// By position in the nodes given to PreScore (the order NormalizeScore
    /// sees them in): nodes lacking a topology key, scored 0.
    ignored: Vec<bool>,
    ignored_names: HashSet<String>,
    /// Per constraint, matching pods per domain of the scored nodes; empty
    /// for hostname constraints, which count each node's pods in Score.
    counts: Vec<HashMap<String, i64>>,
    weights: Vec<f64>,
}

/// Upstream `topologyNormalizingWeight`: ln(domains + 2).
fn topology_normalizing_weight(size: usize) -> f64 {
    (size as f64 + 2.0).ln()
}

/// Upstream `scoreForCount`: `maxSkew - 1` dampens small differences.
fn score_for_count(count: i64, max_skew: i32, weight: f64) -> f64 {
    count as f64 * weight + f64::from(max_skew) - 1.0
}

// ---------------------------------------------------------------------------
// The plugin

/// The `PodTopologySpread` plugin.
#[derive(Debug, Clone)]
pub struct PodTopologySpread {
    default_constraints: Vec<TopologySpreadConstraint>,
    system_defaulted: bool,
}

/// Builds the plugin from its `PodTopologySpreadArgs` (`None`: defaults,
/// i.e. system defaulting).
pub fn new(args: Option<&serde_json::Value>) -> Result<Box<dyn Plugin>, String> {
    Ok(Box::new(PodTopologySpread::from_args(args)?))
}

impl PodTopologySpread {
    fn from_args(args: Option<&serde_json::Value>) -> Result<PodTopologySpread, String> {
        let raw: RawArgs = match args {
            None | Some(serde_json::Value::Null) => RawArgs::default(),
            Some(v) => RawArgs::deserialize(v).map_err(|e| format!("decoding PodTopologySpreadArgs: {e}"))?,
        };
        if let Some(kind) = raw.kind.as_deref()
            && kind != "PodTopologySpreadArgs"
        {
            return Err(format!("want args to be of type PodTopologySpreadArgs, got {kind}"));
        }
        // v1 defaulting: an unset defaultingType is "System".
        let defaulting_type = raw.defaulting_type.filter(|t| !t.is_empty()).unwrap_or_else(|| SYSTEM_DEFAULTING.to_string());
        let constraints: Vec<TopologySpreadConstraint> = raw.default_constraints.unwrap_or_default().into_iter().map(Into::into).collect();
        let errs = validate_args(&defaulting_type, &constraints);
        if !errs.is_empty() {
            return Err(aggregate_message(&errs));
        }
        Ok(if defaulting_type == SYSTEM_DEFAULTING {
            PodTopologySpread { default_constraints: system_default_constraints(), system_defaulted: true }
        } else {
            PodTopologySpread { default_constraints: constraints, system_defaulted: false }
        })
    }

    /// The pod's constraints with this `whenUnsatisfiable`, or the default
    /// ones when the pod has none (upstream `getConstraints` /
    /// `buildDefaultConstraints`).
    fn constraints(&self, pod: &PodInfo, action: &str, snapshot: &Snapshot) -> Result<Vec<Constraint>, String> {
        let kind = if action == DO_NOT_SCHEDULE { "hard" } else { "soft" };
        let own = pod.pod.spec.as_ref().and_then(|s| s.topology_spread_constraints.as_deref()).unwrap_or_default();
        if !own.is_empty() {
            return filter_constraints(own, pod.labels(), action)
                .map_err(|e| format!("obtaining pod's {kind} topology spread constraints: {e}"));
        }
        let mut constraints = filter_constraints(&self.default_constraints, pod.labels(), action)
            .map_err(|e| format!("setting default {kind} topology spread constraints: {e}"))?;
        if constraints.is_empty() {
            return Ok(constraints);
        }
        let selector = default_selector(&pod.pod, snapshot);
        if selector.is_empty() {
            return Ok(Vec::new());
        }
        for c in &mut constraints {
            c.selector = selector.clone();
        }
        Ok(constraints)
    }

    fn has_own_constraints(pod: &PodInfo) -> bool {
        pod.pod.spec.as_ref().and_then(|s| s.topology_spread_constraints.as_ref()).is_some_and(|c| !c.is_empty())
    }
}

impl Plugin for PodTopologySpread {
    fn name(&self) -> &'static str {
        NAME
    }

    fn pre_filter(&self, state: &mut CycleState, pod: &PodInfo, snapshot: &Snapshot) -> Status {
        let constraints = match self.constraints(pod, DO_NOT_SCHEDULE, snapshot) {
            Ok(c) => c,
            Err(e) => return Status::error(format!("get constraints from pod: {e}")),
        };
        if constraints.is_empty() {
            return Status::skip();
        }
        let affinity = required_node_affinity(&pod.pod);
        let tolerations = tolerations(&pod.pod);
        let namespace = pod.namespace();
        let mut counts: Vec<HashMap<String, i64>> = vec![HashMap::new(); constraints.len()];
        for node in &snapshot.nodes {
            let Some(n) = node.node.as_deref() else { continue };
            let labels = node.labels();
            if !has_all_topology_keys(labels, &constraints) {
                continue;
            }
            let mut inclusion = Inclusion::new(affinity.as_ref(), tolerations, n);
            for (i, c) in constraints.iter().enumerate() {
                if !inclusion.includes(c) {
                    continue;
                }
                let Some(value) = labels.get(&c.topology_key) else { continue };
                let count = count_matching(&node.pods, &c.selector, namespace);
                match counts[i].get_mut(value.as_str()) {
                    Some(n) => *n += count,
                    None => {
                        counts[i].insert(value.clone(), count);
                    }
                }
            }
        }
        let critical_paths = counts
            .iter()
            .map(|domains| {
                let mut paths = CriticalPaths::new();
                for (value, count) in domains {
                    paths.update(value, *count);
                }
                paths
            })
            .collect();
        state.write(PRE_FILTER_STATE_KEY, PreFilterState { constraints: Arc::new(constraints), critical_paths, counts });
        Status::success()
    }

    fn add_pod(&self, state: &mut CycleState, pod: &PodInfo, added: &PodInfo, node: &NodeInfo) -> Status {
        match state.require_mut::<PreFilterState>(PRE_FILTER_STATE_KEY) {
            Ok(s) => {
                s.update_with_pod(added, pod, node, 1);
                Status::success()
            }
            Err(st) => st,
        }
    }

    fn remove_pod(&self, state: &mut CycleState, pod: &PodInfo, removed: &PodInfo, node: &NodeInfo) -> Status {
        match state.require_mut::<PreFilterState>(PRE_FILTER_STATE_KEY) {
            Ok(s) => {
                s.update_with_pod(removed, pod, node, -1);
                Status::success()
            }
            Err(st) => st,
        }
    }

    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let s = match state.require::<PreFilterState>(PRE_FILTER_STATE_KEY) {
            Ok(s) => s,
            Err(st) => return st,
        };
        let labels = node.labels();
        for (i, c) in s.constraints.iter().enumerate() {
            let Some(value) = labels.get(&c.topology_key) else {
                return Status::unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH);
            };
            let self_match = i64::from(c.selector.matches(pod.labels()));
            let matching = s.counts[i].get(value.as_str()).copied().unwrap_or(0);
            if matching + self_match - s.min_match(i) > i64::from(c.max_skew) {
                return Status::unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH);
            }
        }
        Status::success()
    }

    fn pre_score(&self, state: &mut CycleState, pod: &PodInfo, nodes: &[Arc<NodeInfo>], snapshot: &Snapshot) -> Status {
        if snapshot.nodes.is_empty() {
            return Status::skip();
        }
        let constraints = match self.constraints(pod, SCHEDULE_ANYWAY, snapshot) {
            Ok(c) => c,
            Err(e) => return Status::error(format!("calculating preScoreState: {e}")),
        };
        if constraints.is_empty() {
            return Status::skip();
        }
        // Only the system defaults let nodes without a zone still spread by
        // hostname.
        let require_all = Self::has_own_constraints(pod) || !self.system_defaulted;
        let mut ignored = vec![false; nodes.len()];
        let mut ignored_names = HashSet::new();
        let mut counts: Vec<HashMap<String, i64>> = vec![HashMap::new(); constraints.len()];
        for (n, node) in nodes.iter().enumerate() {
            let labels = node.labels();
            if require_all && !has_all_topology_keys(labels, &constraints) {
                ignored[n] = true;
                ignored_names.insert(node.name().to_string());
                continue;
            }
            for (i, c) in constraints.iter().enumerate() {
                if c.topology_key == LABEL_HOSTNAME {
                    continue;
                }
                let value = labels.get(&c.topology_key).map(String::as_str).unwrap_or_default();
                if !counts[i].contains_key(value) {
                    counts[i].insert(value.to_string(), 0);
                }
            }
        }
        let scored = nodes.len() - ignored_names.len().min(nodes.len());
        let weights = constraints
            .iter()
            .enumerate()
            .map(|(i, c)| topology_normalizing_weight(if c.topology_key == LABEL_HOSTNAME { scored } else { counts[i].len() }))
            .collect();

        let affinity = required_node_affinity(&pod.pod);
        let tolerations = tolerations(&pod.pod);
        let namespace = pod.namespace();
        for node in &snapshot.nodes {
            let Some(n) = node.node.as_deref() else { continue };
            let labels = node.labels();
            if require_all && !has_all_topology_keys(labels, &constraints) {
                continue;
            }
            let mut inclusion = Inclusion::new(affinity.as_ref(), tolerations, n);
            for (i, c) in constraints.iter().enumerate() {
                if c.topology_key == LABEL_HOSTNAME || !inclusion.includes(c) {
                    continue;
                }
                let value = labels.get(&c.topology_key).map(String::as_str).unwrap_or_default();
                // Domains without a scored node need no count.
                if let Some(count) = counts[i].get_mut(value) {
                    *count += count_matching(&node.pods, &c.selector, namespace);
                }
            }
        }
        state.write(PRE_SCORE_STATE_KEY, PreScoreState { constraints, ignored, ignored_names, counts, weights });
        Status::success()
    }

    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
        let s = state.require::<PreScoreState>(PRE_SCORE_STATE_KEY)?;
        if s.ignored_names.contains(node.name()) {
            return Ok(0);
        }
        let labels = node.labels();
        let mut score = 0.0;
        for (i, c) in s.constraints.iter().enumerate() {
            let Some(value) = labels.get(&c.topology_key) else { continue };
            let count = if c.topology_key == LABEL_HOSTNAME {
                count_matching(&node.pods, &c.selector, pod.namespace())
            } else {
                s.counts[i].get(value.as_str()).copied().unwrap_or(0)
            };
            score += score_for_count(count, c.max_skew, s.weights[i]);
        }
        Ok(score.round() as i64)
    }

    fn normalize_score(&self, state: &CycleState, _pod: &PodInfo, scores: &mut [i64]) -> Status {
        let Some(s) = state.read::<PreScoreState>(PRE_SCORE_STATE_KEY) else {
            return Status::success();
        };
        let is_ignored = |i: usize| s.ignored.get(i).copied().unwrap_or(false);
        let (mut min, mut max) = (i64::MAX, 0i64);
        for (i, score) in scores.iter().enumerate() {
            if !is_ignored(i) {
                min = min.min(*score);
                max = max.max(*score);
            }
        }
        for (i, score) in scores.iter_mut().enumerate() {
            *score = if is_ignored(i) {
                0
            } else if max == 0 {
                MAX_NODE_SCORE
            } else {
                MAX_NODE_SCORE * (max + min - *score) / max
            };
        }
        Status::success()
    }

    fn scores(&self) -> bool {
        true
    }

    fn filters(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{Code, WorkloadSelector};
    use k8s_openapi::api::core::v1::{
        Affinity, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, NodeSpec, PodSpec, Taint,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelectorRequirement, ObjectMeta, OwnerReference, Time};

    // -- builders ------------------------------------------------------------

    /// `"a=b,c"` → {a: b, c: ""}.
    fn labels(s: &str) -> BTreeMap<String, String> {
        s.split(',')
            .filter(|kv| !kv.is_empty())
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (kv.to_string(), String::new()),
            })
            .collect()
    }

    fn node(name: &str, l: &str) -> Node {
        Node { metadata: ObjectMeta { name: Some(name.into()), labels: Some(labels(l)), ..Default::default() }, ..Default::default() }
    }

    /// Upstream's test taint: `node.kubernetes.io/unschedulable:NoSchedule`.
    fn tainted(mut n: Node) -> Node {
        n.spec = Some(NodeSpec {
            taints: Some(vec![Taint { key: "node.kubernetes.io/unschedulable".into(), effect: "NoSchedule".into(), ..Default::default() }]),
            ..Default::default()
        });
        n
    }

    /// The usual layout: node-a, node-b in zone1; node-x, node-y in zone2.
    fn abxy() -> Vec<Node> {
        vec![
            node("node-a", "zone=zone1,node=node-a"),
            node("node-b", "zone=zone1,node=node-b"),
            node("node-x", "zone=zone2,node=node-x"),
            node("node-y", "zone=zone2,node=node-y"),
        ]
    }

    fn hostnames(names: &[&str]) -> Vec<Node> {
        names.iter().map(|n| node(n, &format!("{LABEL_HOSTNAME}={n}"))).collect()
    }

    fn pod(name: &str, l: &str) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some(String::new()),
                uid: Some(name.into()),
                labels: Some(labels(l)),
                ..Default::default()
            },
            spec: Some(PodSpec::default()),
            ..Default::default()
        }
    }

    /// An existing pod on a node.
    fn on(name: &str, node: &str, l: &str) -> Pod {
        let mut p = pod(name, l);
        p.spec.get_or_insert_default().node_name = Some(node.into());
        p
    }

    /// `n` pods with these labels on the node.
    fn on_n(node: &str, n: usize, l: &str) -> Vec<Pod> {
        (0..n).map(|i| on(&format!("p-{node}-{l}-{i}"), node, l)).collect()
    }

    fn exists(key: &str) -> Option<LabelSelector> {
        Some(LabelSelector {
            match_expressions: Some(vec![LabelSelectorRequirement { key: key.into(), operator: "Exists".into(), values: None }]),
            ..Default::default()
        })
    }

    fn match_labels(l: &str) -> Option<LabelSelector> {
        Some(LabelSelector { match_labels: Some(labels(l)), ..Default::default() })
    }

    fn everything() -> Option<LabelSelector> {
        Some(LabelSelector::default())
    }

    fn dns() -> &'static str {
        DO_NOT_SCHEDULE
    }

    fn sa() -> &'static str {
        SCHEDULE_ANYWAY
    }

    trait PodExt: Sized {
        fn spec_mut(&mut self) -> &mut PodSpec;
        fn ns(self, ns: &str) -> Self;
        fn spread(mut self, max_skew: i32, key: &str, action: &str, selector: Option<LabelSelector>) -> Self {
            self.spec_mut().topology_spread_constraints.get_or_insert_default().push(TopologySpreadConstraint {
                max_skew,
                topology_key: key.into(),
                when_unsatisfiable: action.into(),
                label_selector: selector,
                ..Default::default()
            });
            self
        }
        fn last(&mut self) -> &mut TopologySpreadConstraint {
            self.spec_mut().topology_spread_constraints.get_or_insert_default().last_mut().expect("a constraint")
        }
        fn min_domains(mut self, n: i32) -> Self {
            self.last().min_domains = Some(n);
            self
        }
        fn affinity_policy(mut self, p: &str) -> Self {
            self.last().node_affinity_policy = Some(p.into());
            self
        }
        fn taints_policy(mut self, p: &str) -> Self {
            self.last().node_taints_policy = Some(p.into());
            self
        }
        fn match_label_keys(mut self, keys: &[&str]) -> Self {
            self.last().match_label_keys = Some(keys.iter().map(|k| k.to_string()).collect());
            self
        }
        fn node_selector(mut self, l: &str) -> Self {
            self.spec_mut().node_selector = Some(labels(l));
            self
        }
        fn node_affinity(mut self, key: &str, op: &str, values: &[&str]) -> Self {
            self.spec_mut().affinity = Some(Affinity {
                node_affinity: Some(NodeAffinity {
                    required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                        node_selector_terms: vec![NodeSelectorTerm {
                            match_expressions: Some(vec![NodeSelectorRequirement {
                                key: key.into(),
                                operator: op.into(),
                                values: Some(values.iter().map(|v| v.to_string()).collect()),
                            }]),
                            match_fields: None,
                        }],
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            });
            self
        }
        fn toleration(mut self, key: &str) -> Self {
            self.spec_mut().tolerations.get_or_insert_default().push(Toleration {
                key: Some(key.into()),
                operator: Some("Exists".into()),
                ..Default::default()
            });
            self
        }
        fn terminating(self) -> Self;
        fn owner(self, api_version: &str, kind: &str, name: &str) -> Self;
    }

    impl PodExt for Pod {
        fn spec_mut(&mut self) -> &mut PodSpec {
            self.spec.get_or_insert_default()
        }
        fn ns(mut self, ns: &str) -> Self {
            self.metadata.namespace = Some(ns.into());
            self
        }
        fn terminating(mut self) -> Self {
            self.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::UNIX_EPOCH));
            self
        }
        fn owner(mut self, api_version: &str, kind: &str, name: &str) -> Self {
            self.metadata.owner_references = Some(vec![OwnerReference {
                api_version: api_version.into(),
                kind: kind.into(),
                name: name.into(),
                uid: format!("uid-{name}"),
                controller: Some(true),
                ..Default::default()
            }]);
            self
        }
    }

    fn info(p: &Pod) -> PodInfo {
        PodInfo::new(Arc::new(p.clone()))
    }

    fn snapshot(nodes: &[Node], pods: &[Pod]) -> Snapshot {
        let mut infos: Vec<NodeInfo> = nodes.iter().map(|n| NodeInfo::new(Arc::new(n.clone()))).collect();
        for p in pods {
            let on = p.spec.as_ref().and_then(|s| s.node_name.as_deref()).unwrap_or_default();
            if let Some(n) = infos.iter_mut().find(|n| n.name() == on) {
                n.add_pod(Arc::new(info(p)));
            }
        }
        Snapshot { nodes: infos.into_iter().map(Arc::new).collect(), ..Default::default() }
    }

    fn service(ns: &str, name: &str, selector: &str) -> WorkloadSelector {
        WorkloadSelector {
            kind: "Service".into(),
            namespace: ns.into(),
            name: name.into(),
            selector: Selector::from_set(&labels(selector)),
        }
    }

    fn replica_set(ns: &str, name: &str, selector: Option<LabelSelector>) -> WorkloadSelector {
        WorkloadSelector {
            kind: "ReplicaSet".into(),
            namespace: ns.into(),
            name: name.into(),
            selector: Selector::from_label_selector(selector.as_ref()).expect("valid selector"),
        }
    }

    fn list_defaulting(defaults: Vec<TopologySpreadConstraint>) -> PodTopologySpread {
        PodTopologySpread { default_constraints: defaults, system_defaulted: false }
    }

    fn system_defaulting() -> PodTopologySpread {
        PodTopologySpread::from_args(None).expect("defaults are valid")
    }

    fn default_constraint(max_skew: i32, key: &str, action: &str) -> TopologySpreadConstraint {
        TopologySpreadConstraint { max_skew, topology_key: key.into(), when_unsatisfiable: action.into(), ..Default::default() }
    }

    // -- PreFilter state ---------------------------------------------------------

    /// Per constraint: (topology key, maxSkew, selector string), counts per
    /// domain, the two critical paths.
    type WantConstraint = ((&'static str, i32, &'static str), Vec<(&'static str, i64)>, [(&'static str, i64); 2]);

    struct StateCase {
        name: &'static str,
        pod: Pod,
        nodes: Vec<Node>,
        pods: Vec<Pod>,
        defaults: Vec<TopologySpreadConstraint>,
        workloads: Vec<WorkloadSelector>,
        /// None: PreFilter returns Skip.
        want: Option<Vec<WantConstraint>>,
    }

    fn sorted_paths(p: &CriticalPaths) -> [(String, i64); 2] {
        let mut out = [(p.0[0].value.clone(), p.0[0].count), (p.0[1].value.clone(), p.0[1].count)];
        if out[0].1 == out[1].1 && out[0].0 > out[1].0 {
            let (a, b) = (out[0].0.clone(), out[1].0.clone());
            out[0].0 = b;
            out[1].0 = a;
        }
        out
    }

    fn check_state(name: &str, s: &PreFilterState, want: &[WantConstraint]) {
        assert_eq!(s.constraints.len(), want.len(), "{name}: constraints");
        for (i, ((key, skew, selector), counts, paths)) in want.iter().enumerate() {
            let c = &s.constraints[i];
            assert_eq!(
                (c.topology_key.as_str(), c.max_skew, c.selector.to_string().as_str()),
                (*key, *skew, *selector),
                "{name}: constraint {i}"
            );
            let want_counts: HashMap<String, i64> = counts.iter().map(|(k, v)| (k.to_string(), *v)).collect();
            assert_eq!(s.counts[i], want_counts, "{name}: counts of constraint {i}");
            let want_paths = [(paths[0].0.to_string(), paths[0].1), (paths[1].0.to_string(), paths[1].1)];
            assert_eq!(sorted_paths(&s.critical_paths[i]), want_paths, "{name}: critical paths of constraint {i}");
        }
    }

    const MAX: i64 = i32::MAX as i64;

    #[test]
    fn pre_filter_state() {
        let foo_pods = || [on_n("node-a", 2, "foo"), on_n("node-b", 1, "foo"), on_n("node-y", 2, "foo")].concat();
        let foo_pods_y4 = || [on_n("node-a", 2, "foo"), on_n("node-b", 1, "foo"), on_n("node-y", 4, "foo")].concat();
        let abc = || vec![node("node-a", "node=node-a,foo"), node("node-b", "node=node-b,foo"), node("node-c", "node=node-c,bar")];
        let bar_abc_pods =
            || vec![on("p-a", "node-a", "bar"), on("p-b", "node-b", "bar"), on("p-c", "node-b", "bar"), on("p-d", "node-c", "")];
        let taint_abc = || vec![node("node-a", "node=node-a"), node("node-b", "node=node-b"), tainted(node("node-c", "node=node-c,bar"))];
        let fa = |n: &str| on(&format!("p-{n}-a"), n, "foo=a");
        let cases = vec![
            StateCase {
                name: "clean cluster with one spreadConstraint",
                pod: pod("p", "foo").spread(5, "zone", dns(), match_labels("foo=bar")),
                nodes: abxy(),
                pods: vec![],
                defaults: vec![],
                workloads: vec![],
                want: Some(vec![(("zone", 5, "foo=bar"), vec![("zone1", 0), ("zone2", 0)], [("zone1", 0), ("zone2", 0)])]),
            },
            StateCase {
                name: "normal case with one spreadConstraint",
                pod: pod("p", "foo").spread(1, "zone", dns(), exists("foo")),
                nodes: abxy(),
                pods: foo_pods(),
                defaults: vec![],
                workloads: vec![],
                want: Some(vec![(("zone", 1, "foo"), vec![("zone1", 3), ("zone2", 2)], [("zone2", 2), ("zone1", 3)])]),
            },
            StateCase {
                name: "normal case with null label selector",
                pod: pod("p", "foo").spread(1, "zone", dns(), None),
                nodes: abxy(),
                pods: foo_pods(),
                defaults: vec![],
                workloads: vec![],
                want: Some(vec![(("zone", 1, ""), vec![("zone1", 0), ("zone2", 0)], [("zone1", 0), ("zone2", 0)])]),
            },
            StateCase {
                name: "normal case with one spreadConstraint, on a 3-zone cluster",
                pod: pod("p", "foo").spread(1, "zone", dns(), exists("foo")),
                nodes: [abxy(), vec![node("node-o", "zone=zone3,node=node-o"), node("node-p", "zone=zone3,node=node-p")]].concat(),
                pods: foo_pods(),
                defaults: vec![],
                workloads: vec![],
                want: Some(vec![(("zone", 1, "foo"), vec![("zone1", 3), ("zone2", 2), ("zone3", 0)], [("zone3", 0), ("zone2", 2)])]),
            },
            StateCase {
                name: "namespace mismatch doesn't count",
                pod: pod("p", "foo").spread(1, "zone", dns(), exists("foo")),
                nodes: abxy(),
                pods: vec![
                    on("p-a1", "node-a", "foo"),
                    on("p-a2", "node-a", "foo").ns("ns1"),
                    on("p-b1", "node-b", "foo"),
                    on("p-y1", "node-y", "foo").ns("ns2"),
                    on("p-y2", "node-y", "foo"),
                ],
                defaults: vec![],
                workloads: vec![],
                want: Some(vec![(("zone", 1, "foo"), vec![("zone1", 2), ("zone2", 1)], [("zone2", 1), ("zone1", 2)])]),
            },
            StateCase {
                name: "normal case with two spreadConstraints",
                pod: pod("p", "foo").spread(1, "zone", dns(), exists("foo")).spread(1, "node", dns(), exists("foo")),
                nodes: abxy(),
                pods: foo_pods_y4(),
                defaults: vec![],
                workloads: vec![],
                want: Some(vec![
                    (("zone", 1, "foo"), vec![("zone1", 3), ("zone2", 4)], [("zone1", 3), ("zone2", 4)]),
                    (("node", 1, "foo"), vec![("node-a", 2), ("node-b", 1), ("node-x", 0), ("node-y", 4)], [("node-x", 0), ("node-b", 1)]),
                ]),
            },
            StateCase {
                name: "soft spreadConstraints should be bypassed",
                pod: pod("p", "foo")
                    .spread(1, "zone", sa(), exists("foo"))
                    .spread(1, "zone", dns(), exists("foo"))
                    .spread(1, "node", sa(), exists("foo"))
                    .spread(1, "node", dns(), exists("foo")),
                nodes: vec![
                    node("node-a", "zone=zone1,node=node-a"),
                    node("node-b", "zone=zone1,node=node-b"),
                    node("node-y", "zone=zone2,node=node-y"),
                ],
                pods: foo_pods_y4(),
                defaults: vec![],
                workloads: vec![],
                want: Some(vec![
                    (("zone", 1, "foo"), vec![("zone1", 3), ("zone2", 4)], [("zone1", 3), ("zone2", 4)]),
                    (("node", 1, "foo"), vec![("node-a", 2), ("node-b", 1), ("node-y", 4)], [("node-b", 1), ("node-a", 2)]),
                ]),
            },
            StateCase {
                name: "different labelSelectors - simple version",
                pod: pod("p", "foo,bar").spread(1, "zone", dns(), exists("foo")).spread(1, "node", dns(), exists("bar")),
                nodes: vec![
                    node("node-a", "zone=zone1,node=node-a"),
                    node("node-b", "zone=zone1,node=node-b"),
                    node("node-y", "zone=zone2,node=node-y"),
                ],
                pods: vec![on("p-a", "node-a", "foo"), on("p-b", "node-b", "bar")],
                defaults: vec![],
                workloads: vec![],
                want: Some(vec![
                    (("zone", 1, "foo"), vec![("zone1", 1), ("zone2", 0)], [("zone2", 0), ("zone1", 1)]),
                    (("node", 1, "bar"), vec![("node-a", 0), ("node-b", 1), ("node-y", 0)], [("node-a", 0), ("node-y", 0)]),
                ]),
            },
            StateCase {
                name: "different labelSelectors - complex pods",
                pod: pod("p", "foo,bar").spread(1, "zone", dns(), exists("foo")).spread(1, "node", dns(), exists("bar")),
                nodes: vec![
                    node("node-a", "zone=zone1,node=node-a"),
                    node("node-b", "zone=zone1,node=node-b"),
                    node("node-y", "zone=zone2,node=node-y"),
                ],
                pods: vec![
                    on("p-a1", "node-a", "foo"),
                    on("p-a2", "node-a", "foo,bar"),
                    on("p-b1", "node-b", "foo"),
                    on("p-y1", "node-y", "foo"),
                    on("p-y2", "node-y", "foo,bar"),
                    on("p-y3", "node-y", "foo"),
                    on("p-y4", "node-y", "foo,bar"),
                ],
                defaults: vec![],
                workloads: vec![],
                want: Some(vec![
                    (("zone", 1, "foo"), vec![("zone1", 3), ("zone2", 4)], [("zone1", 3), ("zone2", 4)]),
                    (("node", 1, "bar"), vec![("node-a", 1), ("node-b", 0), ("node-y", 2)], [("node-b", 0), ("node-a", 1)]),
                ]),
            },
            StateCase {
                name: "two spreadConstraints, and with podAffinity",
                pod: pod("p", "foo").node_affinity("node", "NotIn", &["node-x"]).spread(1, "zone", dns(), exists("foo")).spread(
                    1,
                    "node",
                    dns(),
                    exists("foo"),
                ),
                nodes: abxy(),
                pods: foo_pods_y4(),
                defaults: vec![],
                workloads: vec![],
                want: Some(vec![
                    (("zone", 1, "foo"), vec![("zone1", 3), ("zone2", 4)], [("zone1", 3), ("zone2", 4)]),
                    (("node", 1, "foo"), vec![("node-a", 2), ("node-b", 1), ("node-y", 4)], [("node-b", 1), ("node-a", 2)]),
                ]),
            },
            StateCase {
                name: "default constraints and a service",
                pod: pod("p", "foo=bar,baz=kar"),
                nodes: vec![],
                pods: vec![],
                defaults: vec![
                    default_constraint(3, "node", dns()),
                    default_constraint(2, "node", sa()),
                    default_constraint(5, "rack", dns()),
                ],
                workloads: vec![service("", "s", "foo=bar")],
                want: Some(vec![
                    (("node", 3, "foo=bar"), vec![], [("", MAX), ("", MAX)]),
                    (("rack", 5, "foo=bar"), vec![], [("", MAX), ("", MAX)]),
                ]),
            },
            StateCase {
                name: "default constraints and a service that doesn't match",
                pod: pod("p", "foo=bar"),
                nodes: vec![],
                pods: vec![],
                defaults: vec![default_constraint(3, "node", dns())],
                workloads: vec![service("", "s", "baz=kep")],
                want: None,
            },
            StateCase {
                name: "default constraints and a service, but pod has constraints",
                pod: pod("p", "foo=bar,baz=tar").spread(1, "zone", dns(), match_labels("baz=tar")).spread(
                    2,
                    "planet",
                    sa(),
                    match_labels("fot=rok"),
                ),
                nodes: vec![],
                pods: vec![],
                defaults: vec![default_constraint(2, "node", dns())],
                workloads: vec![service("", "s", "foo=bar")],
                want: Some(vec![(("zone", 1, "baz=tar"), vec![], [("", MAX), ("", MAX)])]),
            },
            StateCase {
                name: "default soft constraints and a service",
                pod: pod("p", "foo=bar"),
                nodes: vec![],
                pods: vec![],
                defaults: vec![default_constraint(2, "node", sa())],
                workloads: vec![service("", "s", "foo=bar")],
                want: None,
            },
            StateCase {
                name: "NodeAffinityPolicy honored with labelSelectors",
                pod: pod("p", "foo").node_selector("foo").spread(1, "node", dns(), exists("bar")),
                nodes: abc(),
                pods: bar_abc_pods(),
                defaults: vec![],
                workloads: vec![],
                want: Some(vec![(("node", 1, "bar"), vec![("node-a", 1), ("node-b", 2)], [("node-a", 1), ("node-b", 2)])]),
            },
            StateCase {
                name: "NodeAffinityPolicy ignored with labelSelectors",
                pod: pod("p", "foo").node_selector("foo").spread(1, "node", dns(), exists("bar")).affinity_policy("Ignore"),
                nodes: abc(),
                pods: bar_abc_pods(),
                defaults: vec![],
                workloads: vec![],
                want: Some(vec![(("node", 1, "bar"), vec![("node-a", 1), ("node-b", 2), ("node-c", 0)], [("node-c", 0), ("node-a", 1)])]),
            },
            StateCase {
                name: "NodeAffinityPolicy honored with nodeAffinity",
                pod: pod("p", "foo").node_affinity("foo", "In", &[""]).spread(1, "node", dns(), exists("bar")),
                nodes: abc(),
                pods: bar_abc_pods(),
                defaults: vec![],
                workloads: vec![],
                want: Some(vec![(("node", 1, "bar"), vec![("node-a", 1), ("node-b", 2)], [("node-a", 1), ("node-b", 2)])]),
            },
            StateCase {
                name: "NodeAffinityPolicy ignored with nodeAffinity",
                pod: pod("p", "foo").node_affinity("foo", "In", &[""]).spread(1, "node", dns(), exists("bar")).affinity_policy("Ignore"),
                nodes: abc(),
                pods: bar_abc_pods(),
                defaults: vec![],
                workloads: vec![],
                want: Some(vec![(("node", 1, "bar"), vec![("node-a", 1), ("node-b", 2), ("node-c", 0)], [("node-c", 0), ("node-a", 1)])]),
            },
            StateCase {
                name: "NodeTaintsPolicy ignored",
                pod: pod("p", "foo").spread(1, "node", dns(), exists("bar")),
                nodes: taint_abc(),
                pods: bar_abc_pods(),
                defaults: vec![],
                workloads: vec![],
                want: Some(vec![(("node", 1, "bar"), vec![("node-a", 1), ("node-b", 2), ("node-c", 0)], [("node-c", 0), ("node-a", 1)])]),
            },
            StateCase {
                name: "NodeTaintsPolicy honored",
                pod: pod("p", "foo").spread(1, "node", dns(), exists("bar")).taints_policy("Honor"),
                nodes: taint_abc(),
                pods: bar_abc_pods(),
                defaults: vec![],
                workloads: vec![],
                want: Some(vec![(("node", 1, "bar"), vec![("node-a", 1), ("node-b", 2)], [("node-a", 1), ("node-b", 2)])]),
            },
            StateCase {
                name: "NodeTaintsPolicy honored with tolerated taints",
                pod: pod("p", "foo")
                    .toleration("node.kubernetes.io/unschedulable")
                    .spread(1, "node", dns(), exists("bar"))
                    .taints_policy("Honor"),
                nodes: taint_abc(),
                pods: bar_abc_pods(),
                defaults: vec![],
                workloads: vec![],
                want: Some(vec![(("node", 1, "bar"), vec![("node-a", 1), ("node-b", 2), ("node-c", 0)], [("node-c", 0), ("node-a", 1)])]),
            },
            StateCase {
                name: "two node inclusion Constraints, zone: honor/ignore, node: ignore/ignore",
                pod: pod("p", "foo")
                    .node_selector("foo")
                    .spread(1, "zone", dns(), exists("foo"))
                    .spread(1, "node", dns(), exists("foo"))
                    .affinity_policy("Ignore"),
                nodes: vec![
                    node("node-a", "zone=zone1,node=node-a,foo"),
                    node("node-b", "zone=zone1,node=node-b"),
                    node("node-x", "zone=zone2,node=node-x,foo"),
                ],
                pods: vec![on("p-b1", "node-b", "foo"), on("p-b2", "node-b", "foo"), on("p-x1", "node-x", "foo")],
                defaults: vec![],
                workloads: vec![],
                want: Some(vec![
                    (("zone", 1, "foo"), vec![("zone1", 0), ("zone2", 1)], [("zone1", 0), ("zone2", 1)]),
                    (("node", 1, "foo"), vec![("node-a", 0), ("node-b", 2), ("node-x", 1)], [("node-a", 0), ("node-x", 1)]),
                ]),
            },
            StateCase {
                name: "two node inclusion Constraints, zone: honor/honor, node: honor/ignore",
                pod: pod("p", "foo").spread(1, "zone", dns(), exists("foo")).taints_policy("Honor").spread(1, "node", dns(), exists("foo")),
                nodes: vec![
                    node("node-a", "zone=zone1,node=node-a,foo"),
                    tainted(node("node-b", "zone=zone1,node=node-b")),
                    node("node-x", "zone=zone2,node=node-x,foo"),
                ],
                pods: vec![on("p-b1", "node-b", "foo"), on("p-b2", "node-b", "foo"), on("p-x1", "node-x", "foo")],
                defaults: vec![],
                workloads: vec![],
                want: Some(vec![
                    (("zone", 1, "foo"), vec![("zone1", 0), ("zone2", 1)], [("zone1", 0), ("zone2", 1)]),
                    (("node", 1, "foo"), vec![("node-a", 0), ("node-b", 2), ("node-x", 1)], [("node-a", 0), ("node-x", 1)]),
                ]),
            },
            StateCase {
                name: "two node inclusion Constraints, zone: honor/ignore, node: honor/ignore",
                pod: pod("p", "foo").node_selector("foo").spread(1, "zone", dns(), exists("foo")).spread(1, "node", dns(), exists("foo")),
                nodes: vec![
                    node("node-a", "zone=zone1,node=node-a"),
                    tainted(node("node-b", "zone=zone1,node=node-b,foo")),
                    node("node-x", "zone=zone2,node=node-x,foo"),
                    node("node-y", "zone=zone2,node=node-y"),
                ],
                pods: vec![
                    on("p-a1", "node-a", "foo"),
                    on("p-a2", "node-a", "foo"),
                    on("p-x1", "node-x", "foo"),
                    on("p-y1", "node-y", "foo"),
                ],
                defaults: vec![],
                workloads: vec![],
                want: Some(vec![
                    (("zone", 1, "foo"), vec![("zone1", 0), ("zone2", 1)], [("zone1", 0), ("zone2", 1)]),
                    (("node", 1, "foo"), vec![("node-b", 0), ("node-x", 1)], [("node-b", 0), ("node-x", 1)]),
                ]),
            },
            StateCase {
                name: "two node inclusion Constraints, zone: ignore/ignore, node: honor/honor",
                pod: pod("p", "foo")
                    .node_selector("foo")
                    .spread(1, "zone", dns(), exists("foo"))
                    .affinity_policy("Ignore")
                    .spread(1, "node", dns(), exists("foo"))
                    .taints_policy("Honor"),
                nodes: vec![
                    node("node-a", "zone=zone1,node=node-a"),
                    tainted(node("node-b", "zone=zone1,node=node-b,foo")),
                    node("node-x", "zone=zone2,node=node-x,foo"),
                    node("node-y", "zone=zone2,node=node-y,foo"),
                ],
                pods: vec![
                    on("p-a1", "node-a", "foo"),
                    on("p-a2", "node-a", "foo"),
                    on("p-x1", "node-x", "foo"),
                    on("p-x2", "node-x", "foo"),
                    on("p-y1", "node-y", "foo"),
                ],
                defaults: vec![],
                workloads: vec![],
                want: Some(vec![
                    (("zone", 1, "foo"), vec![("zone1", 2), ("zone2", 3)], [("zone1", 2), ("zone2", 3)]),
                    (("node", 1, "foo"), vec![("node-x", 2), ("node-y", 1)], [("node-y", 1), ("node-x", 2)]),
                ]),
            },
            StateCase {
                name: "matchLabelKeys ANDed with LabelSelector when LabelSelector isn't empty",
                pod: pod("p", "foo,bar=a").spread(1, "zone", dns(), exists("foo")).match_label_keys(&["bar"]),
                nodes: abxy(),
                pods: vec![
                    on("p-a1", "node-a", "foo"),
                    on("p-a2", "node-a", "foo,bar=a"),
                    on("p-b1", "node-b", "foo"),
                    on("p-y1", "node-y", "foo,bar=a"),
                    on("p-y2", "node-y", "bar"),
                ],
                defaults: vec![],
                workloads: vec![],
                want: Some(vec![(("zone", 1, "bar=a,foo"), vec![("zone1", 1), ("zone2", 1)], [("zone1", 1), ("zone2", 1)])]),
            },
            StateCase {
                name: "matchLabelKeys ANDed with LabelSelector when LabelSelector is empty",
                pod: pod("p", "foo=a").spread(1, "zone", dns(), everything()).match_label_keys(&["foo"]),
                nodes: abxy(),
                pods: vec![fa("node-a"), on("p-a2", "node-a", "foo=a"), fa("node-b"), fa("node-y"), on("p-y2", "node-y", "foo=a")],
                defaults: vec![],
                workloads: vec![],
                want: Some(vec![(("zone", 1, "foo=a"), vec![("zone1", 3), ("zone2", 2)], [("zone2", 2), ("zone1", 3)])]),
            },
            StateCase {
                name: "key in matchLabelKeys is ignored when LabelSelector is nil",
                pod: pod("p", "foo").spread(1, "zone", dns(), None).match_label_keys(&["bar"]),
                nodes: abxy(),
                pods: vec![fa("node-a"), on("p-a2", "node-a", "foo=a"), fa("node-b"), fa("node-y"), on("p-y2", "node-y", "foo=a")],
                defaults: vec![],
                workloads: vec![],
                want: Some(vec![(("zone", 1, ""), vec![("zone1", 0), ("zone2", 0)], [("zone1", 0), ("zone2", 0)])]),
            },
            StateCase {
                name: "key in matchLabelKeys is ignored when it isn't exist in pod.labels",
                pod: pod("p", "foo").spread(1, "zone", dns(), exists("foo")).match_label_keys(&["bar"]),
                nodes: abxy(),
                pods: vec![fa("node-a"), on("p-a2", "node-a", "foo=a"), fa("node-b"), fa("node-y"), on("p-y2", "node-y", "foo=a")],
                defaults: vec![],
                workloads: vec![],
                want: Some(vec![(("zone", 1, "foo"), vec![("zone1", 3), ("zone2", 2)], [("zone2", 2), ("zone1", 3)])]),
            },
            StateCase {
                name: "two spreadConstraints with the same topologyKey",
                pod: pod("p", "foo,bar").spread(1, "zone", dns(), exists("foo")).spread(1, "zone", dns(), exists("bar")),
                nodes: abxy(),
                pods: vec![
                    on("p-a1", "node-a", "foo,bar"),
                    on("p-b1", "node-b", "foo"),
                    on("p-x1", "node-x", "bar"),
                    on("p-y1", "node-y", "foo,bar"),
                    on("p-y2", "node-y", "bar"),
                ],
                defaults: vec![],
                workloads: vec![],
                want: Some(vec![
                    (("zone", 1, "foo"), vec![("zone1", 2), ("zone2", 1)], [("zone2", 1), ("zone1", 2)]),
                    (("zone", 1, "bar"), vec![("zone1", 1), ("zone2", 3)], [("zone1", 1), ("zone2", 3)]),
                ]),
            },
            StateCase {
                name: "skip if not specified",
                pod: pod("p", "foo"),
                nodes: vec![node("node-a", "zone=zone1,node=node-a")],
                pods: vec![],
                defaults: vec![],
                workloads: vec![],
                want: None,
            },
        ];
        for c in cases {
            let mut snap = snapshot(&c.nodes, &c.pods);
            snap.workload_selectors = c.workloads;
            let pl = list_defaulting(c.defaults);
            let mut state = CycleState::default();
            let status = pl.pre_filter(&mut state, &info(&c.pod), &snap);
            match &c.want {
                None => assert_eq!(status.code, Code::Skip, "{}", c.name),
                Some(want) => {
                    assert!(status.is_success(), "{}: {status:?}", c.name);
                    let s = state.read::<PreFilterState>(PRE_FILTER_STATE_KEY).expect("state written");
                    check_state(c.name, s, want);
                }
            }
        }
    }

    // -- AddPod / RemovePod --------------------------------------------------------

    struct UpdateCase {
        name: &'static str,
        preemptor: Pod,
        nodes: Vec<Node>,
        pods: Vec<Pod>,
        /// The pod added or removed, and its node's index.
        changed: Pod,
        node: usize,
        add: bool,
        want: Vec<WantConstraint>,
    }

    #[test]
    fn pre_filter_state_add_and_remove_pod() {
        let foo = || exists("foo");
        let node_c = ("node", 1, "foo");
        let zone_c = ("zone", 1, "foo");
        let ab = || vec![node("node-a", "zone=zone1,node=node-a"), node("node-b", "zone=zone1,node=node-b")];
        let abx = || {
            vec![
                node("node-a", "zone=zone1,node=node-a"),
                node("node-b", "zone=zone1,node=node-b"),
                node("node-x", "zone=zone2,node=node-x"),
            ]
        };
        let affinity_nodes = || vec![node("node-a", "zone=zone1,node=node-a,foo=bar"), node("node-b", "zone=zone2,node=node-b,foo")];
        let cases = vec![
            UpdateCase {
                name: "node a and b both impact current min match",
                preemptor: pod("p", "foo").spread(1, "node", dns(), foo()),
                nodes: ab(),
                pods: vec![],
                changed: on("p-a1", "node-a", "foo"),
                node: 0,
                add: true,
                want: vec![(node_c, vec![("node-a", 1), ("node-b", 0)], [("node-b", 0), ("node-a", 1)])],
            },
            UpdateCase {
                name: "only node a impacts current min match",
                preemptor: pod("p", "foo").spread(1, "node", dns(), foo()),
                nodes: ab(),
                pods: vec![on("p-b1", "node-b", "foo")],
                changed: on("p-a1", "node-a", "foo"),
                node: 0,
                add: true,
                want: vec![(node_c, vec![("node-a", 1), ("node-b", 1)], [("node-a", 1), ("node-b", 1)])],
            },
            UpdateCase {
                name: "add a pod in a different namespace doesn't change topologyKeyToMinPodsMap",
                preemptor: pod("p", "foo").spread(1, "node", dns(), foo()),
                nodes: ab(),
                pods: vec![on("p-b1", "node-b", "foo")],
                changed: on("p-a1", "node-a", "foo").ns("ns1"),
                node: 0,
                add: true,
                want: vec![(node_c, vec![("node-a", 0), ("node-b", 1)], [("node-a", 0), ("node-b", 1)])],
            },
            UpdateCase {
                name: "add pod on non-critical node won't trigger re-calculation",
                preemptor: pod("p", "foo").spread(1, "node", dns(), foo()),
                nodes: ab(),
                pods: vec![on("p-b1", "node-b", "foo")],
                changed: on("p-b2", "node-b", "foo"),
                node: 1,
                add: true,
                want: vec![(node_c, vec![("node-a", 0), ("node-b", 2)], [("node-a", 0), ("node-b", 2)])],
            },
            UpdateCase {
                name: "node a impacts topologyKeyToMinPodsMap on node, node x impacts topologyKeyToMinPodsMap on zone",
                preemptor: pod("p", "foo").spread(1, "zone", dns(), foo()).spread(1, "node", dns(), foo()),
                nodes: abx(),
                pods: vec![on("p-b1", "node-b", "foo"), on("p-b2", "node-b", "foo"), on("p-x1", "node-x", "foo")],
                changed: on("p-a1", "node-a", "foo"),
                node: 0,
                add: true,
                want: vec![
                    (zone_c, vec![("zone1", 3), ("zone2", 1)], [("zone2", 1), ("zone1", 3)]),
                    (node_c, vec![("node-a", 1), ("node-b", 2), ("node-x", 1)], [("node-a", 1), ("node-x", 1)]),
                ],
            },
            UpdateCase {
                name: "Constraints hold different labelSelectors, node a impacts topologyKeyToMinPodsMap on zone",
                preemptor: pod("p", "foo,bar").spread(1, "zone", dns(), foo()).spread(1, "node", dns(), exists("bar")),
                nodes: abx(),
                pods: vec![on("p-b1", "node-b", "foo,bar"), on("p-x1", "node-x", "foo,bar"), on("p-x2", "node-x", "bar")],
                changed: on("p-a1", "node-a", "foo"),
                node: 0,
                add: true,
                want: vec![
                    (zone_c, vec![("zone1", 2), ("zone2", 1)], [("zone2", 1), ("zone1", 2)]),
                    (("node", 1, "bar"), vec![("node-a", 0), ("node-b", 1), ("node-x", 2)], [("node-a", 0), ("node-b", 1)]),
                ],
            },
            UpdateCase {
                name: "add a pod when scheduling node affinity unmatched pod",
                preemptor: pod("p", "foo").node_affinity("foo", "NotIn", &["bar"]).spread(1, "zone", dns(), foo()),
                nodes: affinity_nodes(),
                pods: vec![on("p-a2", "node-a", "foo,zone=zone1"), on("p-b1", "node-b", "foo,zone=zone2")],
                changed: on("p-a1", "node-a", "foo,zone=zone1"),
                node: 0,
                add: true,
                want: vec![(zone_c, vec![("zone2", 1)], [("zone2", 1), ("", MAX)])],
            },
            UpdateCase {
                name: "add a pod when scheduling node affinity matched pod",
                preemptor: pod("p", "foo").spread(1, "zone", dns(), foo()),
                nodes: affinity_nodes(),
                pods: vec![on("p-a1", "node-a", "foo,zone=zone1"), on("p-b2", "node-b", "foo,zone=zone2")],
                changed: on("p-b1", "node-b", "foo,zone=zone2"),
                node: 1,
                add: true,
                want: vec![(zone_c, vec![("zone1", 1), ("zone2", 2)], [("zone1", 1), ("zone2", 2)])],
            },
            UpdateCase {
                name: "add a label selector not matched pod",
                preemptor: pod("p", "foo").spread(1, "zone", dns(), foo()),
                nodes: affinity_nodes(),
                pods: vec![on("p-a1", "node-a", "foo,zone=zone1"), on("p-b2", "node-b", "foo,zone=zone2")],
                changed: on("p-b1", "node-b", "zone=zone2"),
                node: 1,
                add: true,
                want: vec![(zone_c, vec![("zone1", 1), ("zone2", 1)], [("zone1", 1), ("zone2", 1)])],
            },
            UpdateCase {
                name: "add a pod when scheduling taint tolerated pod",
                preemptor: pod("p", "foo").toleration("node.kubernetes.io/unschedulable").spread(1, "zone", dns(), foo()),
                nodes: vec![tainted(node("node-a", "zone=zone1,node=node-a")), node("node-b", "zone=zone2,node=node-b")],
                pods: vec![on("p-a1", "node-a", "foo,zone=zone1"), on("p-b2", "node-b", "foo,zone=zone2")],
                changed: on("p-b1", "node-b", "foo,zone=zone2"),
                node: 1,
                add: true,
                want: vec![(zone_c, vec![("zone1", 1), ("zone2", 2)], [("zone1", 1), ("zone2", 2)])],
            },
            UpdateCase {
                name: "one spreadConstraint on zone, topologyKeyToMinPodsMap unchanged",
                preemptor: pod("p", "foo").spread(1, "zone", dns(), foo()),
                nodes: abx(),
                pods: vec![on("p-a1", "node-a", "foo"), on("p-b1", "node-b", "foo"), on("p-x1", "node-x", "foo")],
                changed: on("p-a1", "node-a", "foo"),
                node: 0,
                add: false,
                want: vec![(zone_c, vec![("zone1", 1), ("zone2", 1)], [("zone1", 1), ("zone2", 1)])],
            },
            UpdateCase {
                name: "one spreadConstraint on node, topologyKeyToMinPodsMap changed",
                preemptor: pod("p", "foo").spread(1, "zone", dns(), foo()),
                nodes: abxy(),
                pods: vec![
                    on("p-a1", "node-a", "foo"),
                    on("p-b1", "node-b", "foo"),
                    on("p-x1", "node-x", "foo"),
                    on("p-y1", "node-y", "foo"),
                ],
                changed: on("p-a1", "node-a", "foo"),
                node: 0,
                add: false,
                want: vec![(zone_c, vec![("zone1", 1), ("zone2", 2)], [("zone1", 1), ("zone2", 2)])],
            },
            UpdateCase {
                name: "delete an irrelevant pod won't help",
                preemptor: pod("p", "foo").spread(1, "zone", dns(), foo()),
                nodes: abxy(),
                pods: vec![
                    on("p-a0", "node-a", "bar"),
                    on("p-a1", "node-a", "foo"),
                    on("p-b1", "node-b", "foo"),
                    on("p-x1", "node-x", "foo"),
                    on("p-y1", "node-y", "foo"),
                ],
                changed: on("p-a0", "node-a", "bar"),
                node: 0,
                add: false,
                want: vec![(zone_c, vec![("zone1", 2), ("zone2", 2)], [("zone1", 2), ("zone2", 2)])],
            },
            UpdateCase {
                name: "two spreadConstraints",
                preemptor: pod("p", "foo").spread(1, "zone", dns(), foo()).spread(1, "node", dns(), foo()),
                nodes: abx(),
                pods: vec![
                    on("p-a1", "node-a", "foo"),
                    on("p-a2", "node-a", "foo"),
                    on("p-b1", "node-b", "foo"),
                    on("p-x1", "node-x", "foo"),
                    on("p-x2", "node-x", "foo"),
                ],
                changed: on("p-x1", "node-x", "foo"),
                node: 2,
                add: false,
                want: vec![
                    (zone_c, vec![("zone1", 3), ("zone2", 1)], [("zone2", 1), ("zone1", 3)]),
                    (node_c, vec![("node-a", 2), ("node-b", 1), ("node-x", 1)], [("node-b", 1), ("node-x", 1)]),
                ],
            },
            UpdateCase {
                name: "remove a pod when scheduling node affinity unmatched pod",
                preemptor: pod("p", "foo").node_affinity("foo", "NotIn", &["bar"]).spread(1, "zone", dns(), foo()),
                nodes: affinity_nodes(),
                pods: vec![on("p-a2", "node-a", "foo,zone=zone1"), on("p-b1", "node-b", "foo,zone=zone2")],
                changed: on("p-a1", "node-a", "foo,zone=zone1"),
                node: 0,
                add: false,
                want: vec![(zone_c, vec![("zone2", 1)], [("zone2", 1), ("", MAX)])],
            },
            UpdateCase {
                name: "remove a pod when scheduling node affinity matched pod",
                preemptor: pod("p", "foo").spread(1, "zone", dns(), foo()),
                nodes: affinity_nodes(),
                pods: vec![on("p-a1", "node-a", "foo,zone=zone1"), on("p-b2", "node-b", "foo,zone=zone2")],
                changed: on("p-b1", "node-b", "foo,zone=zone2"),
                node: 1,
                add: false,
                want: vec![(zone_c, vec![("zone1", 1), ("zone2", 0)], [("zone2", 0), ("zone1", 1)])],
            },
        ];
        let pl = list_defaulting(vec![]);
        for c in cases {
            let snap = snapshot(&c.nodes, &c.pods);
            let mut state = CycleState::default();
            let preemptor = info(&c.preemptor);
            assert!(pl.pre_filter(&mut state, &preemptor, &snap).is_success(), "{}", c.name);
            let status = if c.add {
                pl.add_pod(&mut state, &preemptor, &info(&c.changed), &snap.nodes[c.node])
            } else {
                pl.remove_pod(&mut state, &preemptor, &info(&c.changed), &snap.nodes[c.node])
            };
            assert!(status.is_success(), "{}", c.name);
            check_state(c.name, state.read::<PreFilterState>(PRE_FILTER_STATE_KEY).expect("state"), &c.want);
        }
    }

    // -- Filter --------------------------------------------------------------------

    struct FilterCase {
        name: &'static str,
        pod: Pod,
        nodes: Vec<Node>,
        pods: Vec<Pod>,
        /// Per node, in order: None fits, Some(code) with upstream's reason.
        want: Vec<Option<Code>>,
    }

    const OK: Option<Code> = None;
    const UNSCHED: Option<Code> = Some(Code::Unschedulable);
    const UNRESOLVABLE: Option<Code> = Some(Code::UnschedulableAndUnresolvable);

    fn run_filter_cases(cases: Vec<FilterCase>) {
        let pl = list_defaulting(vec![]);
        for c in cases {
            let snap = snapshot(&c.nodes, &c.pods);
            let pod = info(&c.pod);
            let mut state = CycleState::default();
            assert!(pl.pre_filter(&mut state, &pod, &snap).is_success(), "{}", c.name);
            for (n, want) in snap.nodes.iter().zip(&c.want) {
                let got = pl.filter(&state, &pod, n);
                match want {
                    None => assert!(got.is_success(), "{} on {}: {got:?}", c.name, n.name()),
                    Some(code) => {
                        let reason =
                            if *code == Code::Unschedulable { ERR_REASON_CONSTRAINTS_NOT_MATCH } else { ERR_REASON_NODE_LABEL_NOT_MATCH };
                        assert_eq!(
                            (got.code, got.reasons.as_slice()),
                            (*code, [reason.to_string()].as_slice()),
                            "{} on {}",
                            c.name,
                            n.name()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn filter_single_constraint() {
        let foo = || exists("foo");
        let p2103 = || [on_n("node-a", 2, "foo"), on_n("node-b", 1, "foo"), on_n("node-y", 3, "foo")].concat();
        let abc = || vec![node("node-a", "node=node-a"), node("node-b", "node=node-b"), node("node-c", "node=node-c")];
        let p221 = || [on_n("node-a", 2, "foo"), on_n("node-b", 2, "foo"), on_n("node-c", 1, "foo")].concat();
        let p11_1 = || vec![on("p-b1", "node-a", "foo"), on("p-b2", "node-b", "foo"), on("p-y1", "node-y", "foo")];
        let policy_nodes = || {
            vec![
                node("node-a", "node=node-a,foo"),
                node("node-b", "node=node-b,foo"),
                node("node-x", "node=node-x,foo"),
                node("node-y", "node=node-y"),
            ]
        };
        let taint_nodes = || {
            vec![
                node("node-a", "node=node-a,foo"),
                node("node-b", "node=node-b,foo"),
                node("node-x", "node=node-x,foo"),
                tainted(node("node-y", "node=node-y")),
            ]
        };
        run_filter_cases(vec![
            FilterCase {
                name: "no existing pods",
                pod: pod("p", "foo").spread(1, "zone", dns(), foo()),
                nodes: abxy(),
                pods: vec![],
                want: vec![OK, OK, OK, OK],
            },
            FilterCase {
                name: "no existing pods, incoming pod doesn't match itself",
                pod: pod("p", "foo").spread(1, "zone", dns(), exists("bar")),
                nodes: abxy(),
                pods: vec![],
                want: vec![OK, OK, OK, OK],
            },
            FilterCase {
                name: "existing pods in a different namespace do not count",
                pod: pod("p", "foo").spread(1, "zone", dns(), foo()),
                nodes: abxy(),
                pods: vec![
                    on("p-a1", "node-a", "foo").ns("ns1"),
                    on("p-b1", "node-a", "foo").ns("ns2"),
                    on("p-x1", "node-x", "foo"),
                    on("p-y1", "node-y", "foo"),
                ],
                want: vec![OK, OK, UNSCHED, UNSCHED],
            },
            FilterCase {
                name: "existing pods do not match null selector",
                pod: pod("p", "foo").spread(1, "zone", dns(), None),
                nodes: abxy(),
                pods: vec![on("p-x1", "node-x", "foo"), on("p-y1", "node-y", "foo")],
                want: vec![OK, OK, OK, OK],
            },
            FilterCase {
                name: "pods spread across zones as 3/3, all nodes fit",
                pod: pod("p", "foo").spread(1, "zone", dns(), foo()),
                nodes: abxy(),
                pods: p2103(),
                want: vec![OK, OK, OK, OK],
            },
            FilterCase {
                name: "pods spread across zones as 1/2 due to absence of label 'zone' on node-b",
                pod: pod("p", "foo").spread(1, "zone", dns(), foo()),
                nodes: vec![
                    node("node-a", "zone=zone1,node=node-a"),
                    node("node-b", "zon=zone1,node=node-b"),
                    node("node-x", "zone=zone2,node=node-x"),
                    node("node-y", "zone=zone2,node=node-y"),
                ],
                pods: vec![
                    on("p-a1", "node-a", "foo"),
                    on("p-b1", "node-b", "foo"),
                    on("p-x1", "node-x", "foo"),
                    on("p-y1", "node-y", "foo"),
                ],
                want: vec![OK, UNRESOLVABLE, UNSCHED, UNSCHED],
            },
            FilterCase {
                name: "pod cannot be scheduled as all nodes don't have label 'rack'",
                pod: pod("p", "foo").spread(1, "rack", dns(), foo()),
                nodes: vec![node("node-a", "zone=zone1,node=node-a"), node("node-x", "zone=zone2,node=node-x")],
                pods: vec![],
                want: vec![UNRESOLVABLE, UNRESOLVABLE],
            },
            FilterCase {
                name: "pods spread across nodes as 2/1/0/3, only node-x fits",
                pod: pod("p", "foo").spread(1, "node", dns(), foo()),
                nodes: abxy(),
                pods: p2103(),
                want: vec![UNSCHED, UNSCHED, OK, UNSCHED],
            },
            FilterCase {
                name: "pods spread across nodes as 2/1/0/3, maxSkew is 2, node-b and node-x fit",
                pod: pod("p", "foo").spread(2, "node", dns(), foo()),
                nodes: abxy(),
                pods: p2103(),
                want: vec![UNSCHED, OK, OK, UNSCHED],
            },
            FilterCase {
                name: "pods spread across nodes as 2/1/0/3, but pod doesn't match itself",
                pod: pod("p", "bar").spread(1, "node", dns(), foo()),
                nodes: abxy(),
                pods: p2103(),
                want: vec![UNSCHED, OK, OK, UNSCHED],
            },
            FilterCase {
                name: "incoming pod has nodeAffinity, pods spread as 2/~1~/~0~/3, hence node-a fits",
                pod: pod("p", "foo").node_affinity("node", "In", &["node-a", "node-y"]).spread(1, "node", dns(), foo()),
                nodes: abxy(),
                pods: p2103(),
                want: vec![OK, OK, OK, UNSCHED],
            },
            FilterCase {
                name: "terminating Pods should be excluded",
                pod: pod("p", "foo").spread(1, "node", dns(), foo()),
                nodes: vec![node("node-a", "node=node-a"), node("node-b", "node=node-b")],
                pods: vec![on("p-a", "node-a", "foo").terminating(), on("p-b", "node-b", "foo")],
                want: vec![OK, UNSCHED],
            },
            FilterCase {
                name: "incoming pod has nodeAffinity, pods spread as 0/~2~/0/1, hence node-a fits",
                pod: pod("p", "foo").node_affinity("node", "NotIn", &["node-b"]).spread(1, "zone", dns(), foo()),
                nodes: abxy(),
                pods: vec![on("p-b1", "node-b", "foo"), on("p-b2", "node-b", "foo"), on("p-y1", "node-y", "foo")],
                want: vec![OK, OK, UNSCHED, UNSCHED],
            },
            FilterCase {
                name: "pods spread across nodes as 2/2/1, maxSkew is 2, and the number of domains < minDomains, then the third node fits",
                pod: pod("p", "foo").spread(2, "node", dns(), foo()).min_domains(4),
                nodes: abc(),
                pods: p221(),
                want: vec![UNSCHED, UNSCHED, OK],
            },
            FilterCase {
                name: "pods spread across nodes as 2/2/1, maxSkew is 2, and the number of domains > minDomains, then the all nodes fit",
                pod: pod("p", "foo").spread(2, "node", dns(), foo()).min_domains(2),
                nodes: abc(),
                pods: p221(),
                want: vec![OK, OK, OK],
            },
            FilterCase {
                name: "pods spread across zone as 2/1, maxSkew is 2 and the number of domains < minDomains, then the third and fourth nodes fit",
                pod: pod("p", "foo").spread(2, "zone", dns(), foo()).min_domains(3),
                nodes: abxy(),
                pods: p11_1(),
                want: vec![UNSCHED, UNSCHED, OK, OK],
            },
            FilterCase {
                name: "pods spread across zone as 2/1, maxSkew is 2 and the number of domains > minDomains, then the all nodes fit",
                pod: pod("p", "foo").spread(2, "zone", dns(), foo()).min_domains(1),
                nodes: abxy(),
                pods: p11_1(),
                want: vec![OK, OK, OK, OK],
            },
            FilterCase {
                name: "NodeAffinityPolicy honored with labelSelectors",
                pod: pod("p", "foo").node_selector("foo").spread(1, "node", dns(), foo()),
                nodes: policy_nodes(),
                pods: p11_1(),
                want: vec![UNSCHED, UNSCHED, OK, OK],
            },
            FilterCase {
                name: "NodeAffinityPolicy ignored with labelSelectors",
                pod: pod("p", "foo").node_selector("foo").spread(1, "node", dns(), foo()).affinity_policy("Ignore"),
                nodes: policy_nodes(),
                pods: p11_1(),
                want: vec![UNSCHED, UNSCHED, OK, UNSCHED],
            },
            FilterCase {
                name: "NodeAffinityPolicy honored with nodeAffinity",
                pod: pod("p", "foo").node_affinity("foo", "In", &[""]).spread(1, "node", dns(), foo()),
                nodes: policy_nodes(),
                pods: p11_1(),
                want: vec![UNSCHED, UNSCHED, OK, OK],
            },
            FilterCase {
                name: "NodeAffinityPolicy ignored with nodeAffinity",
                pod: pod("p", "foo").node_affinity("foo", "In", &[""]).spread(1, "node", dns(), foo()).affinity_policy("Ignore"),
                nodes: policy_nodes(),
                pods: p11_1(),
                want: vec![UNSCHED, UNSCHED, OK, UNSCHED],
            },
            FilterCase {
                name: "NodeTaintsPolicy honored",
                pod: pod("p", "foo").spread(1, "node", dns(), foo()).taints_policy("Honor"),
                nodes: taint_nodes(),
                pods: p11_1(),
                want: vec![UNSCHED, UNSCHED, OK, OK],
            },
            FilterCase {
                name: "NodeTaintsPolicy ignored",
                pod: pod("p", "foo").spread(1, "node", dns(), foo()),
                nodes: taint_nodes(),
                pods: p11_1(),
                want: vec![UNSCHED, UNSCHED, OK, UNSCHED],
            },
        ]);
    }

    #[test]
    fn filter_multiple_constraints() {
        let foo = || exists("foo");
        let bar = || exists("bar");
        run_filter_cases(vec![
            FilterCase {
                name: "two Constraints on zone and node, spreads = [3/3, 2/1/0/3]",
                pod: pod("p", "foo").spread(1, "zone", dns(), foo()).spread(1, "node", dns(), foo()),
                nodes: abxy(),
                pods: [on_n("node-a", 2, "foo"), on_n("node-b", 1, "foo"), on_n("node-y", 3, "foo")].concat(),
                want: vec![UNSCHED, UNSCHED, OK, UNSCHED],
            },
            FilterCase {
                name: "two Constraints on zone and node, spreads = [3/4, 2/1/0/4]",
                pod: pod("p", "foo").spread(1, "zone", dns(), foo()).spread(1, "node", dns(), foo()),
                nodes: abxy(),
                pods: [on_n("node-a", 2, "foo"), on_n("node-b", 1, "foo"), on_n("node-y", 4, "foo")].concat(),
                want: vec![UNSCHED, UNSCHED, UNSCHED, UNSCHED],
            },
            FilterCase {
                name: "Constraints hold different labelSelectors, spreads = [1/0, 1/0/0/1]",
                pod: pod("p", "foo,bar").spread(1, "zone", dns(), foo()).spread(1, "node", dns(), bar()),
                nodes: abxy(),
                pods: vec![on("p-a1", "node-a", "foo"), on("p-y1", "node-y", "bar")],
                want: vec![UNSCHED, UNSCHED, OK, UNSCHED],
            },
            FilterCase {
                name: "two node inclusion Constraints, zone: honor/honor, node: ignore/ignore",
                pod: pod("p", "foo")
                    .node_selector("foo")
                    .spread(1, "zone", dns(), foo())
                    .taints_policy("Honor")
                    .spread(1, "node", dns(), foo())
                    .affinity_policy("Ignore"),
                nodes: vec![
                    node("node-a", "zone=zone1,node=node-a,foo"),
                    node("node-b", "zone=zone1,node=node-b"),
                    node("node-x", "zone=zone2,node=node-x,foo"),
                    tainted(node("node-y", "zone=zone2,node=node-y,foo")),
                ],
                pods: vec![on("p-a1", "node-a", "foo"), on("p-b1", "node-b", "foo"), on("p-y1", "node-y", "foo")],
                want: vec![UNSCHED, UNSCHED, OK, UNSCHED],
            },
            FilterCase {
                name: "two Constraints on zone, spreads = [3/3, 2/1]",
                pod: pod("p", "foo,bar").spread(1, "zone", dns(), bar()).spread(1, "zone", dns(), foo()),
                nodes: abxy(),
                pods: vec![
                    on("p-a1", "node-a", "foo,bar"),
                    on("p-a2", "node-a", "foo"),
                    on("p-b1", "node-b", "foo,bar"),
                    on("p-y1", "node-y", "foo"),
                    on("p-y2", "node-y", "foo,bar"),
                    on("p-y3", "node-y", "foo"),
                ],
                want: vec![UNSCHED, UNSCHED, OK, OK],
            },
            FilterCase {
                name: "two Constraints on zone, spreads = [3/4, 2/1]",
                pod: pod("p", "foo,bar").spread(1, "zone", dns(), bar()).spread(1, "zone", dns(), foo()),
                nodes: abxy(),
                pods: vec![
                    on("p-a1", "node-a", "foo,bar"),
                    on("p-a2", "node-a", "foo"),
                    on("p-b1", "node-b", "foo,bar"),
                    on("p-y1", "node-y", "foo"),
                    on("p-y2", "node-y", "foo,bar"),
                    on("p-y3", "node-y", "foo"),
                    on("p-y4", "node-y", "foo"),
                ],
                want: vec![UNSCHED, UNSCHED, UNSCHED, UNSCHED],
            },
        ]);
    }

    #[test]
    fn invalid_selectors_are_errors() {
        let bad = Some(LabelSelector {
            match_expressions: Some(vec![LabelSelectorRequirement { key: "foo".into(), operator: "Bogus".into(), values: None }]),
            ..Default::default()
        });
        let pl = list_defaulting(vec![]);
        let snap = snapshot(&abxy(), &[]);
        let mut state = CycleState::default();
        let p = info(&pod("p", "foo").spread(1, "zone", dns(), bad.clone()));
        let got = pl.pre_filter(&mut state, &p, &snap);
        assert_eq!(got.code, Code::Error);
        assert_eq!(got.reasons, vec![r#"get constraints from pod: obtaining pod's hard topology spread constraints: "Bogus" is not a valid label selector operator"#.to_string()]);
        let p = info(&pod("p", "foo").spread(1, "zone", sa(), bad));
        let got = pl.pre_score(&mut state, &p, &snap.nodes, &snap);
        assert_eq!(got.code, Code::Error);
        assert_eq!(got.reasons, vec![r#"calculating preScoreState: obtaining pod's soft topology spread constraints: "Bogus" is not a valid label selector operator"#.to_string()]);
    }

    #[test]
    fn filter_without_pre_filter_state_is_an_error() {
        let pl = list_defaulting(vec![]);
        let n = NodeInfo::new(Arc::new(node("n", "")));
        let got = pl.filter(&CycleState::default(), &info(&pod("p", "")), &n);
        assert_eq!(got.code, Code::Error);
        assert_eq!(got.reasons, vec![r#"error reading "PreFilterPodTopologySpread" from cycleState: not found"#.to_string()]);
    }

    // -- PreScore / Score --------------------------------------------------------------

    #[test]
    fn pre_score_skip() {
        let pl = list_defaulting(vec![]);
        let nodes = hostnames(&["node-a", "node-b"]);
        let snap = snapshot(&nodes, &[]);
        let mut state = CycleState::default();
        let status = pl.pre_score(&mut state, &info(&pod("p", "").ns("default")), &snap.nodes, &snap);
        assert_eq!(status.code, Code::Skip, "the pod doesn't have soft topology spread constraints");

        let pl = list_defaulting(vec![default_constraint(2, "planet", sa())]);
        let mut snap = snapshot(&[node("node-a", "planet=mars")], &[]);
        snap.workload_selectors = vec![replica_set("default", "rs1", exists("tar"))];
        let p = pod("p", "foo=bar,baz=sup").ns("default").owner("apps/v1", "ReplicaSet", "rs2");
        let status = pl.pre_score(&mut state, &info(&p), &snap.nodes, &snap);
        assert_eq!(status.code, Code::Skip, "default constraints and a replicaset that doesn't match");
    }

    /// Per constraint (key, maxSkew, selector), then ignored nodes, counts
    /// per constraint, normalizing weights by domain count.
    struct PreScoreCase {
        name: &'static str,
        pl: PodTopologySpread,
        pod: Pod,
        nodes: Vec<Node>,
        workloads: Vec<WorkloadSelector>,
        constraints: Vec<(&'static str, i32, &'static str)>,
        ignored: Vec<&'static str>,
        counts: Vec<Vec<(&'static str, i64)>>,
        weight_sizes: Vec<usize>,
    }

    #[test]
    fn pre_score_state() {
        let foo = || exists("foo");
        let zone3 = || {
            vec![
                node("node-a", &format!("zone=zone1,{LABEL_HOSTNAME}=node-a")),
                node("node-b", &format!("zone=zone1,{LABEL_HOSTNAME}=node-b")),
                node("node-x", &format!("zone=zone2,{LABEL_HOSTNAME}=node-x")),
            ]
        };
        let cases = vec![
            PreScoreCase {
                name: "normal case",
                pl: list_defaulting(vec![]),
                pod: pod("p", "foo").spread(1, "zone", sa(), foo()).spread(1, LABEL_HOSTNAME, sa(), foo()),
                nodes: zone3(),
                workloads: vec![],
                constraints: vec![("zone", 1, "foo"), (LABEL_HOSTNAME, 1, "foo")],
                ignored: vec![],
                counts: vec![vec![("zone1", 0), ("zone2", 0)], vec![]],
                weight_sizes: vec![2, 3],
            },
            PreScoreCase {
                name: "null selector",
                pl: list_defaulting(vec![]),
                pod: pod("p", "foo").spread(1, "zone", sa(), None),
                nodes: zone3(),
                workloads: vec![],
                constraints: vec![("zone", 1, "")],
                ignored: vec![],
                counts: vec![vec![("zone1", 0), ("zone2", 0)]],
                weight_sizes: vec![2],
            },
            PreScoreCase {
                name: "node-x doesn't have label zone",
                pl: list_defaulting(vec![]),
                pod: pod("p", "foo").spread(1, "zone", sa(), foo()).spread(1, LABEL_HOSTNAME, sa(), exists("bar")),
                nodes: vec![
                    node("node-a", &format!("zone=zone1,{LABEL_HOSTNAME}=node-a")),
                    node("node-b", &format!("zone=zone1,{LABEL_HOSTNAME}=node-b")),
                    node("node-x", &format!("{LABEL_HOSTNAME}=node-x")),
                ],
                workloads: vec![],
                constraints: vec![("zone", 1, "foo"), (LABEL_HOSTNAME, 1, "bar")],
                ignored: vec!["node-x"],
                counts: vec![vec![("zone1", 0)], vec![]],
                weight_sizes: vec![1, 2],
            },
            PreScoreCase {
                name: "system default constraints and a replicaset",
                pl: system_defaulting(),
                pod: pod("p", "foo=tar,baz=sup").ns("default").owner("apps/v1", "ReplicaSet", "rs1"),
                nodes: vec![
                    node("node-a", &format!("{LABEL_HOSTNAME}=node-a,{LABEL_TOPOLOGY_ZONE}=mars")),
                    node("node-b", &format!("{LABEL_HOSTNAME}=node-b,{LABEL_TOPOLOGY_ZONE}=mars")),
                    // Nodes with no zone are not excluded: they form a zone "".
                    node("node-c", &format!("{LABEL_HOSTNAME}=node-c")),
                    node("node-d", &format!("{LABEL_HOSTNAME}=node-d")),
                ],
                workloads: vec![replica_set("default", "rs1", foo())],
                constraints: vec![(LABEL_HOSTNAME, 3, "foo"), (LABEL_TOPOLOGY_ZONE, 5, "foo")],
                ignored: vec![],
                counts: vec![vec![], vec![("mars", 0), ("", 0)]],
                weight_sizes: vec![4, 2],
            },
            PreScoreCase {
                name: "default constraints and a replicaset",
                pl: list_defaulting(vec![
                    default_constraint(1, LABEL_HOSTNAME, sa()),
                    default_constraint(2, "rack", dns()),
                    default_constraint(2, "planet", sa()),
                ]),
                pod: pod("p", "foo=tar,baz=sup").ns("default").owner("apps/v1", "ReplicaSet", "rs1"),
                nodes: vec![node("node-a", &format!("rack=rack1,{LABEL_HOSTNAME}=node-a,planet=mars"))],
                workloads: vec![replica_set("default", "rs1", foo())],
                constraints: vec![(LABEL_HOSTNAME, 1, "foo"), ("planet", 2, "foo")],
                ignored: vec![],
                counts: vec![vec![], vec![("mars", 0)]],
                weight_sizes: vec![1, 1],
            },
            PreScoreCase {
                name: "default constraints and a replicaset, but pod has constraints",
                pl: list_defaulting(vec![default_constraint(2, "galaxy", sa())]),
                pod: pod("p", "foo=bar,baz=sup")
                    .ns("default")
                    .owner("apps/v1", "ReplicaSet", "rs1")
                    .spread(1, "zone", dns(), exists("bar"))
                    .spread(2, "planet", sa(), match_labels("baz=sup")),
                nodes: vec![node("node-a", "planet=mars,galaxy=andromeda")],
                workloads: vec![replica_set("default", "rs1", foo())],
                constraints: vec![("planet", 2, "baz=sup")],
                ignored: vec![],
                counts: vec![vec![("mars", 0)]],
                weight_sizes: vec![1],
            },
            PreScoreCase {
                name: "NodeTaintsPolicy honored",
                pl: list_defaulting(vec![]),
                pod: pod("p", "foo").spread(1, "zone", sa(), exists("bar")).taints_policy("Honor"),
                nodes: vec![
                    node("node-a", &format!("zone=zone1,foo,{LABEL_HOSTNAME}=node-a")),
                    node("node-b", &format!("zone=zone1,foo,{LABEL_HOSTNAME}=node-b")),
                    tainted(node("node-x", &format!("zone=zone2,{LABEL_HOSTNAME}=node-x"))),
                ],
                workloads: vec![],
                constraints: vec![("zone", 1, "bar")],
                ignored: vec![],
                counts: vec![vec![("zone1", 0), ("zone2", 0)]],
                weight_sizes: vec![2],
            },
        ];
        for c in cases {
            let mut snap = snapshot(&c.nodes, &[]);
            snap.workload_selectors = c.workloads;
            let mut state = CycleState::default();
            let status = c.pl.pre_score(&mut state, &info(&c.pod), &snap.nodes, &snap);
            assert!(status.is_success(), "{}: {status:?}", c.name);
            let s = state.read::<PreScoreState>(PRE_SCORE_STATE_KEY).expect("state");
            let got: Vec<_> = s.constraints.iter().map(|c| (c.topology_key.as_str(), c.max_skew, c.selector.to_string())).collect();
            let want: Vec<_> = c.constraints.iter().map(|(k, m, sel)| (*k, *m, sel.to_string())).collect();
            assert_eq!(got, want, "{}: constraints", c.name);
            let mut ignored: Vec<&str> = s.ignored_names.iter().map(String::as_str).collect();
            ignored.sort();
            assert_eq!(ignored, c.ignored, "{}: ignored nodes", c.name);
            let counts: Vec<HashMap<String, i64>> = c.counts.iter().map(|m| m.iter().map(|(k, v)| (k.to_string(), *v)).collect()).collect();
            assert_eq!(s.counts, counts, "{}: counts", c.name);
            let weights: Vec<f64> = c.weight_sizes.iter().map(|n| topology_normalizing_weight(*n)).collect();
            assert_eq!(s.weights, weights, "{}: weights", c.name);
        }
    }

    struct ScoreCase {
        name: &'static str,
        pod: Pod,
        pods: Vec<Pod>,
        nodes: Vec<Node>,
        failed: Vec<Node>,
        workloads: Vec<WorkloadSelector>,
        want: Vec<i64>,
    }

    fn run_score_cases(pl: &PodTopologySpread, cases: Vec<ScoreCase>) {
        for c in cases {
            let all: Vec<Node> = c.nodes.iter().chain(&c.failed).cloned().collect();
            let mut snap = snapshot(&all, &c.pods);
            snap.workload_selectors = c.workloads;
            let candidates: Vec<Arc<NodeInfo>> = snap.nodes[..c.nodes.len()].to_vec();
            let pod = info(&c.pod);
            let mut state = CycleState::default();
            let status = pl.pre_score(&mut state, &pod, &candidates, &snap);
            assert!(status.is_success(), "{}: {status:?}", c.name);
            let mut scores: Vec<i64> = candidates.iter().map(|n| pl.score(&state, &pod, n).expect("score")).collect();
            assert!(pl.normalize_score(&state, &pod, &mut scores).is_success(), "{}", c.name);
            assert_eq!(scores, c.want, "{}", c.name);
        }
    }

    #[test]
    fn score() {
        let foo = || exists("foo");
        let bar = || exists("bar");
        let hn = |n: &[&str]| hostnames(n);
        let zones = |names: &[(&str, &str)]| -> Vec<Node> {
            names.iter().map(|(n, z)| node(n, &format!("zone={z},{LABEL_HOSTNAME}={n}"))).collect()
        };
        let abxy_zones = || zones(&[("node-a", "zone1"), ("node-b", "zone1"), ("node-x", "zone2"), ("node-y", "zone2")]);
        let p2103 = || [on_n("node-a", 2, "foo"), on_n("node-b", 1, "foo"), on_n("node-d", 3, "foo")].concat();
        let p4321 = || [on_n("node-a", 4, "foo"), on_n("node-b", 3, "foo"), on_n("node-c", 2, "foo"), on_n("node-d", 1, "foo")].concat();
        let p4213 = || [on_n("node-a", 4, "foo"), on_n("node-b", 2, "foo"), on_n("node-x", 1, "foo"), on_n("node-y", 3, "foo")].concat();
        let policy_nodes = || vec![node("node-a", "node=node-a,foo"), node("node-b", "node=node-b,foo"), node("node-c", "node=node-c")];
        let p211 = || [on_n("node-a", 2, "foo"), on_n("node-b", 1, "foo"), on_n("node-c", 1, "foo")].concat();
        let abcd_zones = || zones(&[("node-a", "zone1"), ("node-b", "zone1"), ("node-c", "zone2"), ("node-d", "zone2")]);
        run_score_cases(
            &system_defaulting(),
            vec![
                ScoreCase {
                    name: "one constraint on node, no existing pods",
                    pod: pod("p", "foo").spread(1, LABEL_HOSTNAME, sa(), foo()),
                    pods: vec![],
                    nodes: hn(&["node-a", "node-b"]),
                    failed: vec![],
                    workloads: vec![],
                    want: vec![100, 100],
                },
                ScoreCase {
                    name: "one constraint on node, only one node is candidate",
                    pod: pod("p", "foo").spread(1, LABEL_HOSTNAME, sa(), foo()),
                    pods: [on_n("node-a", 2, "foo"), on_n("node-b", 1, "foo")].concat(),
                    nodes: hn(&["node-a"]),
                    failed: hn(&["node-b"]),
                    workloads: vec![],
                    want: vec![100],
                },
                ScoreCase {
                    name: "one constraint on node, all nodes have the same number of matching pods",
                    pod: pod("p", "foo").spread(1, LABEL_HOSTNAME, sa(), foo()),
                    pods: [on_n("node-a", 1, "foo"), on_n("node-b", 1, "foo")].concat(),
                    nodes: hn(&["node-a", "node-b"]),
                    failed: vec![],
                    workloads: vec![],
                    want: vec![100, 100],
                },
                ScoreCase {
                    name: "one constraint on node, all 4 nodes are candidates",
                    pod: pod("p", "foo").spread(1, LABEL_HOSTNAME, sa(), foo()),
                    pods: p2103(),
                    nodes: hn(&["node-a", "node-b", "node-c", "node-d"]),
                    failed: vec![],
                    workloads: vec![],
                    want: vec![20, 60, 100, 0],
                },
                ScoreCase {
                    name: "one constraint on node, null selector",
                    pod: pod("p", "foo").spread(1, LABEL_HOSTNAME, sa(), None),
                    pods: p2103(),
                    nodes: hn(&["node-a", "node-b", "node-c", "node-d"]),
                    failed: vec![],
                    workloads: vec![],
                    want: vec![100, 100, 100, 100],
                },
                ScoreCase {
                    name: "one constraint on node, all 4 nodes are candidates, maxSkew=2",
                    pod: pod("p", "foo").spread(2, LABEL_HOSTNAME, sa(), foo()),
                    pods: p2103(),
                    nodes: hn(&["node-a", "node-b", "node-c", "node-d"]),
                    failed: vec![],
                    workloads: vec![],
                    want: vec![33, 66, 100, 16],
                },
                ScoreCase {
                    name: "one constraint on node, all 4 nodes are candidates, maxSkew=3",
                    pod: pod("p", "foo").spread(3, LABEL_HOSTNAME, sa(), foo()),
                    pods: p4321(),
                    nodes: hn(&["node-a", "node-b", "node-c", "node-d"]),
                    failed: vec![],
                    workloads: vec![],
                    want: vec![44, 66, 77, 100],
                },
                ScoreCase {
                    name: "system defaulting, nodes don't have zone, pods match service",
                    pod: pod("p", "foo"),
                    pods: p4321(),
                    nodes: hn(&["node-a", "node-b", "node-c", "node-d"]),
                    failed: vec![],
                    workloads: vec![service("", "svc", "foo=")],
                    want: vec![44, 66, 77, 100],
                },
                ScoreCase {
                    name: "one constraint on node, 3 out of 4 nodes are candidates",
                    pod: pod("p", "foo").spread(1, LABEL_HOSTNAME, sa(), foo()),
                    pods: p4213(),
                    nodes: hn(&["node-a", "node-b", "node-x"]),
                    failed: hn(&["node-y"]),
                    workloads: vec![],
                    want: vec![33, 83, 100],
                },
                ScoreCase {
                    name: "one constraint on node, 3 out of 4 nodes are candidates, one node doesn't match topology key",
                    pod: pod("p", "foo").spread(1, LABEL_HOSTNAME, sa(), foo()),
                    pods: p4213(),
                    nodes: vec![
                        node("node-a", &format!("{LABEL_HOSTNAME}=node-a")),
                        node("node-b", "n=node-b"),
                        node("node-x", &format!("{LABEL_HOSTNAME}=node-x")),
                    ],
                    failed: hn(&["node-y"]),
                    workloads: vec![],
                    want: vec![16, 0, 100],
                },
                ScoreCase {
                    name: "one constraint on zone, 3 out of 4 nodes are candidates",
                    pod: pod("p", "foo").spread(1, "zone", sa(), foo()),
                    pods: p4213(),
                    nodes: zones(&[("node-a", "zone1"), ("node-b", "zone1"), ("node-x", "zone2")]),
                    failed: zones(&[("node-y", "zone2")]),
                    workloads: vec![],
                    want: vec![75, 75, 100],
                },
                ScoreCase {
                    name: "two Constraints on zone and node, 2 out of 4 nodes are candidates",
                    pod: pod("p", "foo").spread(1, "zone", sa(), foo()).spread(1, LABEL_HOSTNAME, sa(), foo()),
                    pods: [on_n("node-a", 2, "foo"), on_n("node-b", 1, "foo"), on_n("node-x", 2, "foo"), on_n("node-y", 4, "foo")].concat(),
                    nodes: zones(&[("node-a", "zone1"), ("node-x", "zone2")]),
                    failed: zones(&[("node-b", "zone1"), ("node-y", "zone2")]),
                    workloads: vec![],
                    want: vec![100, 63],
                },
                ScoreCase {
                    name: "two Constraints on zone and node, with different labelSelectors",
                    pod: pod("p", "foo,bar").spread(1, "zone", sa(), foo()).spread(1, LABEL_HOSTNAME, sa(), bar()),
                    pods: vec![
                        on("p-a1", "node-a", "foo"),
                        on("p-b1", "node-b", "foo,bar"),
                        on("p-y1", "node-y", "foo"),
                        on("p-y2", "node-y", "bar"),
                    ],
                    nodes: abxy_zones(),
                    failed: vec![],
                    workloads: vec![],
                    want: vec![60, 20, 100, 60],
                },
                ScoreCase {
                    name: "two Constraints on zone and node, with different labelSelectors, some nodes have 0 pods",
                    pod: pod("p", "foo,bar").spread(1, "zone", sa(), foo()).spread(1, LABEL_HOSTNAME, sa(), bar()),
                    pods: vec![on("p-b1", "node-b", "bar"), on("p-x1", "node-x", "foo"), on("p-y1", "node-y", "foo,bar")],
                    nodes: abxy_zones(),
                    failed: vec![],
                    workloads: vec![],
                    want: vec![100, 60, 40, 0],
                },
                ScoreCase {
                    name: "two Constraints on zone and node, with different labelSelectors, 3 out of 4 nodes are candidates",
                    pod: pod("p", "foo,bar").spread(1, "zone", sa(), foo()).spread(1, LABEL_HOSTNAME, sa(), bar()),
                    pods: vec![
                        on("p-a1", "node-a", "foo"),
                        on("p-b1", "node-b", "foo,bar"),
                        on("p-y1", "node-y", "foo"),
                        on("p-y2", "node-y", "bar"),
                    ],
                    nodes: zones(&[("node-a", "zone1"), ("node-b", "zone1"), ("node-x", "zone2")]),
                    failed: zones(&[("node-y", "zone2")]),
                    workloads: vec![],
                    want: vec![50, 25, 100],
                },
                ScoreCase {
                    name: "existing pods in a different namespace do not count",
                    pod: pod("p", "foo").spread(1, LABEL_HOSTNAME, sa(), foo()),
                    pods: vec![
                        on("p-a1", "node-a", "foo").ns("ns1"),
                        on("p-a2", "node-a", "foo"),
                        on("p-b1", "node-b", "foo"),
                        on("p-b2", "node-b", "foo"),
                    ],
                    nodes: hn(&["node-a", "node-b"]),
                    failed: vec![],
                    workloads: vec![],
                    want: vec![100, 33],
                },
                ScoreCase {
                    name: "terminating Pods should be excluded",
                    pod: pod("p", "foo").spread(1, LABEL_HOSTNAME, sa(), foo()),
                    pods: vec![on("p-a", "node-a", "foo").terminating(), on("p-b", "node-b", "foo")],
                    nodes: hn(&["node-a", "node-b"]),
                    failed: vec![],
                    workloads: vec![],
                    want: vec![100, 0],
                },
                ScoreCase {
                    name: "minDomains has no effect when ScheduleAnyway",
                    pod: pod("p", "foo").spread(2, "node", sa(), foo()).min_domains(10),
                    pods: [on_n("node-a", 2, "foo"), on_n("node-b", 2, "foo"), on_n("node-c", 1, "foo")].concat(),
                    nodes: vec![node("node-a", "node=node-a"), node("node-b", "node=node-b"), node("node-c", "node=node-c")],
                    failed: vec![],
                    workloads: vec![],
                    want: vec![75, 75, 100],
                },
                ScoreCase {
                    name: "NodeAffinityPolicy honoed with labelSelectors",
                    pod: pod("p", "foo").node_selector("foo").spread(1, "node", sa(), foo()),
                    pods: p211(),
                    nodes: policy_nodes(),
                    failed: vec![],
                    workloads: vec![],
                    want: vec![0, 33, 100],
                },
                ScoreCase {
                    name: "NodeAffinityPolicy ignored with labelSelectors",
                    pod: pod("p", "foo").node_selector("foo").spread(1, "node", sa(), foo()).affinity_policy("Ignore"),
                    pods: p211(),
                    nodes: policy_nodes(),
                    failed: vec![],
                    workloads: vec![],
                    want: vec![66, 100, 100],
                },
                ScoreCase {
                    name: "NodeAffinityPolicy honoed with nodeAffinity",
                    pod: pod("p", "foo").node_affinity("foo", "In", &[""]).spread(1, "node", sa(), foo()),
                    pods: p211(),
                    nodes: policy_nodes(),
                    failed: vec![],
                    workloads: vec![],
                    want: vec![0, 33, 100],
                },
                ScoreCase {
                    name: "NodeAffinityPolicy ignored with nodeAffinity",
                    pod: pod("p", "foo").node_affinity("foo", "In", &[""]).spread(1, "node", sa(), foo()).affinity_policy("Ignore"),
                    pods: p211(),
                    nodes: policy_nodes(),
                    failed: vec![],
                    workloads: vec![],
                    want: vec![66, 100, 100],
                },
                ScoreCase {
                    name: "NodeTaintsPolicy honored",
                    pod: pod("p", "foo").spread(1, "node", sa(), foo()).taints_policy("Honor"),
                    pods: p211(),
                    nodes: vec![node("node-a", "node=node-a"), node("node-b", "node=node-b"), tainted(node("node-c", "node=node-c"))],
                    failed: vec![],
                    workloads: vec![],
                    want: vec![0, 33, 100],
                },
                ScoreCase {
                    name: "NodeTaintsPolicy ignored",
                    pod: pod("p", "foo").spread(1, "node", sa(), foo()),
                    pods: p211(),
                    nodes: vec![node("node-a", "node=node-a"), node("node-b", "node=node-b"), tainted(node("node-c", "node=node-c"))],
                    failed: vec![],
                    workloads: vec![],
                    want: vec![66, 100, 100],
                },
                ScoreCase {
                    name: "matchLabelKeys ANDed with LabelSelector when LabelSelector is empty",
                    pod: pod("p", "foo,bar")
                        .spread(1, "zone", sa(), everything())
                        .match_label_keys(&["foo"])
                        .spread(1, LABEL_HOSTNAME, sa(), everything())
                        .match_label_keys(&["bar"]),
                    pods: vec![
                        on("p-a1", "node-a", "foo"),
                        on("p-b1", "node-b", "foo,bar"),
                        on("p-y1", "node-c", "foo"),
                        on("p-y2", "node-c", "bar"),
                    ],
                    nodes: abcd_zones(),
                    failed: vec![],
                    workloads: vec![],
                    want: vec![60, 20, 60, 100],
                },
                ScoreCase {
                    name: "matchLabelKeys ANDed with LabelSelector when LabelSelector isn't empty",
                    pod: pod("p", "foo,bar,baz")
                        .spread(1, "zone", sa(), foo())
                        .spread(1, LABEL_HOSTNAME, sa(), bar())
                        .match_label_keys(&["baz"]),
                    pods: vec![
                        on("p-a1", "node-a", "foo"),
                        on("p-b1", "node-b", "foo,bar,baz"),
                        on("p-c1", "node-c", "foo"),
                        on("p-c2", "node-c", "bar"),
                        on("p-d3", "node-c", "bar,baz"),
                    ],
                    nodes: abcd_zones(),
                    failed: vec![],
                    workloads: vec![],
                    want: vec![60, 20, 60, 100],
                },
            ],
        );
    }

    #[test]
    fn default_selector_merges_services_and_controller() {
        let snap = Snapshot {
            workload_selectors: vec![
                service("ns", "s1", "app=web"),
                service("ns", "s2", "tier=front"),
                service("ns", "other", "app=db"),
                service("elsewhere", "s3", "app=web"),
                replica_set("ns", "rs", exists("pod-template-hash")),
                WorkloadSelector {
                    kind: "ReplicationController".into(),
                    namespace: "ns".into(),
                    name: "rc".into(),
                    selector: Selector::from_set(&labels("rc=yes")),
                },
            ],
            ..Default::default()
        };
        let p = pod("p", "app=web,tier=front,pod-template-hash=abc").ns("ns");
        assert_eq!(default_selector(&p, &snap).to_string(), "app=web,tier=front");
        let rs_owned = p.clone().owner("apps/v1", "ReplicaSet", "rs");
        assert_eq!(default_selector(&rs_owned, &snap).to_string(), "app=web,pod-template-hash,tier=front");
        let rc_owned = p.clone().owner("v1", "ReplicationController", "rc");
        assert_eq!(default_selector(&rc_owned, &snap).to_string(), "app=web,rc=yes,tier=front");
        let unknown_owner = p.clone().owner("apps/v1", "Deployment", "rs");
        assert_eq!(default_selector(&unknown_owner, &snap).to_string(), "app=web,tier=front");
        let bad_version = p.owner("a/b/c", "ReplicaSet", "rs");
        assert_eq!(default_selector(&bad_version, &snap).to_string(), "app=web,tier=front");
    }

    #[test]
    fn system_defaults_filter_nothing_and_score_by_hostname_and_zone() {
        let pl = system_defaulting();
        let mut snap = snapshot(
            &[
                node("a", &format!("{LABEL_HOSTNAME}=a,{LABEL_TOPOLOGY_ZONE}=z1")),
                node("b", &format!("{LABEL_HOSTNAME}=b,{LABEL_TOPOLOGY_ZONE}=z2")),
            ],
            &[on("w1", "a", "app=web").ns("ns"), on("w2", "a", "app=web").ns("ns")],
        );
        snap.workload_selectors = vec![service("ns", "web", "app=web")];
        let p = info(&pod("p", "app=web").ns("ns"));
        let mut state = CycleState::default();
        assert_eq!(pl.pre_filter(&mut state, &p, &snap).code, Code::Skip);
        let nodes = snap.nodes.clone();
        assert!(pl.pre_score(&mut state, &p, &nodes, &snap).is_success());
        let mut scores: Vec<i64> = nodes.iter().map(|n| pl.score(&state, &p, n).expect("score")).collect();
        assert!(pl.normalize_score(&state, &p, &mut scores).is_success());
        assert_eq!(scores[1], MAX_NODE_SCORE);
        assert!(scores[0] < scores[1], "{scores:?}");
    }

    // -- Arguments -----------------------------------------------------------------------

    #[test]
    fn args() {
        let pl = PodTopologySpread::from_args(None).expect("defaults");
        assert!(pl.system_defaulted);
        assert_eq!(pl.default_constraints, system_default_constraints());
        let pl = PodTopologySpread::from_args(Some(&serde_json::json!({}))).expect("empty args");
        assert!(pl.system_defaulted);

        let pl = PodTopologySpread::from_args(Some(&serde_json::json!({
            "apiVersion": "kubescheduler.config.k8s.io/v1",
            "kind": "PodTopologySpreadArgs",
            "defaultingType": "List",
            "defaultConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}],
        })))
        .expect("list defaulting");
        assert!(!pl.system_defaulted);
        assert_eq!(pl.default_constraints, vec![default_constraint(1, "zone", dns())]);

        let pl = PodTopologySpread::from_args(Some(&serde_json::json!({"defaultingType": "List"}))).expect("no defaults");
        assert!(pl.default_constraints.is_empty());

        let cases: Vec<(serde_json::Value, &str)> = vec![
            (
                serde_json::json!({"defaultingType": "Foo"}),
                r#"defaultingType: Unsupported value: "Foo": supported values: "System", "List""#,
            ),
            (
                serde_json::json!({"defaultConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]}),
                r#"defaultingType: Invalid value: "System": when .defaultConstraints are not empty"#,
            ),
            (
                serde_json::json!({"defaultingType": "List", "defaultConstraints": [{"maxSkew": 0, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]}),
                "defaultConstraints[0].maxSkew: Invalid value: 0: not in valid range",
            ),
            (
                serde_json::json!({"defaultingType": "List", "defaultConstraints": [{"maxSkew": 1, "whenUnsatisfiable": "DoNotSchedule"}]}),
                "defaultConstraints[0].topologyKey: Required value: can not be empty",
            ),
            (
                serde_json::json!({"defaultingType": "List", "defaultConstraints": [{"maxSkew": 1, "topologyKey": "zone"}]}),
                "defaultConstraints[0].whenUnsatisfiable: Required value: can not be empty",
            ),
            (
                serde_json::json!({"defaultingType": "List", "defaultConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "Sometimes"}]}),
                r#"defaultConstraints[0].whenUnsatisfiable: Unsupported value: "Sometimes": supported values: "DoNotSchedule", "ScheduleAnyway""#,
            ),
            (
                serde_json::json!({"defaultingType": "List", "defaultConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {}}]}),
                "defaultConstraints[0].labelSelector: Forbidden: constraint must not define a selector, as they deduced for each pod",
            ),
            (
                serde_json::json!({"defaultingType": "List", "defaultConstraints": [
                    {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"},
                    {"maxSkew": 2, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"},
                ]}),
                r#"defaultConstraints[1]: Duplicate value: "{zone, DoNotSchedule}""#,
            ),
            (
                serde_json::json!({"defaultingType": "List", "defaultConstraints": [{"maxSkew": -1, "topologyKey": "zone", "whenUnsatisfiable": "Never"}]}),
                r#"[defaultConstraints[0].maxSkew: Invalid value: -1: not in valid range, defaultConstraints[0].whenUnsatisfiable: Unsupported value: "Never": supported values: "DoNotSchedule", "ScheduleAnyway"]"#,
            ),
            (
                serde_json::json!({"kind": "InterPodAffinityArgs"}),
                "want args to be of type PodTopologySpreadArgs, got InterPodAffinityArgs",
            ),
        ];
        for (args, want) in cases {
            assert_eq!(PodTopologySpread::from_args(Some(&args)).map(|_| ()), Err(want.to_string()), "{args}");
        }
        let err = PodTopologySpread::from_args(Some(&serde_json::json!({"defaultConstraint": []}))).expect_err("unknown field");
        assert!(err.starts_with("decoding PodTopologySpreadArgs: unknown field `defaultConstraint`"), "{err}");
        let err = PodTopologySpread::from_args(Some(&serde_json::json!({"defaultingType": 3}))).expect_err("wrong type");
        assert!(err.starts_with("decoding PodTopologySpreadArgs: "), "{err}");
        let plugin = new(None).expect("plugin");
        assert_eq!(plugin.name(), NAME);
        assert!(plugin.filters() && plugin.scores());
    }

    #[test]
    fn critical_paths_track_the_two_least_loaded_domains() {
        let mut p = CriticalPaths::new();
        for (v, n) in [("a", 3), ("b", 1), ("c", 2), ("d", 5)] {
            p.update(v, n);
        }
        assert_eq!(sorted_paths(&p), [("b".to_string(), 1), ("c".to_string(), 2)]);
        p.update("b", 4);
        assert_eq!(sorted_paths(&p), [("c".to_string(), 2), ("b".to_string(), 4)]);
        p.update("d", 0);
        assert_eq!(sorted_paths(&p), [("d".to_string(), 0), ("c".to_string(), 2)]);
    }
}
