//! `InterPodAffinity` (upstream `pkg/scheduler/framework/plugins/interpodaffinity`):
//! required and preferred pod affinity and anti-affinity.
//!
//! * Filter: the incoming pod's required affinity terms need, in the node's
//!   domain of every term's topology key, an existing pod matching all the
//!   terms (except for the first pod of a group whose terms match itself,
//!   which may go on any node with the topology keys); its required
//!   anti-affinity terms forbid domains holding a matching pod; and existing
//!   pods' required anti-affinity terms forbid their domains to a pod they
//!   match (symmetry).
//! * Score: per topology domain, the weights of the incoming pod's preferred
//!   terms its existing pods match (anti-affinity negative), plus the
//!   existing pods' preferred terms the incoming pod matches, plus
//!   `hardPodAffinityWeight` for their required affinity terms it matches;
//!   normalised between the lowest and highest node.
//!
//! Namespace selectors of the incoming pod's terms are resolved against the
//! snapshot's namespaces; those of existing pods' terms match the incoming
//! pod's namespace labels.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use rudder_common::field::{FieldError, aggregate_message};
use rudder_common::selector::Selector;
use serde::Deserialize;

use crate::framework::{AffinityTerm, CycleState, MAX_NODE_SCORE, NodeInfo, Plugin, PodInfo, Snapshot, Status, WeightedAffinityTerm};

/// The plugin's name in profiles and statuses.
pub const NAME: &str = "InterPodAffinity";

/// Filter reason: the incoming pod's required affinity is not met.
pub const ERR_REASON_AFFINITY_RULES_NOT_MATCH: &str = "node(s) didn't match pod affinity rules";
/// Filter reason: the incoming pod's required anti-affinity is violated.
pub const ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH: &str = "node(s) didn't match pod anti-affinity rules";
/// Filter reason: an existing pod's required anti-affinity is violated.
pub const ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH: &str = "node(s) didn't satisfy existing pods anti-affinity rules";

const PRE_FILTER_STATE_KEY: &str = "PreFilterInterPodAffinity";
const PRE_SCORE_STATE_KEY: &str = "PreScoreInterPodAffinity";

const DEFAULT_HARD_POD_AFFINITY_WEIGHT: i32 = 1;
const MIN_HARD_POD_AFFINITY_WEIGHT: i32 = 0;
const MAX_HARD_POD_AFFINITY_WEIGHT: i32 = 100;

// ---------------------------------------------------------------------------
// Arguments

/// `InterPodAffinityArgs` as written in a KubeSchedulerConfiguration (v1).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawArgs {
    #[serde(default)]
    #[allow(dead_code)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    hard_pod_affinity_weight: Option<i32>,
    #[serde(default)]
    ignore_preferred_terms_of_existing_pods: Option<bool>,
}

// ---------------------------------------------------------------------------
// Terms and counts

/// An incoming pod's term with its namespace selector resolved into
/// namespace names (upstream `mergeAffinityTermNamespacesIfNotEmpty`).
#[derive(Debug, Clone)]
struct ResolvedTerm {
    /// Usually one or two: a list beats hashing every pod's namespace.
    namespaces: Vec<String>,
    /// `namespaceSelector: {}`: every namespace.
    all_namespaces: bool,
    selector: Selector,
    topology_key: String,
}

impl ResolvedTerm {
    fn new(term: &AffinityTerm, snapshot: &Snapshot) -> ResolvedTerm {
        let mut namespaces: Vec<String> = term.namespaces.clone();
        let mut all_namespaces = false;
        if let Some(s) = &term.namespace_selector {
            if s.is_empty() {
                all_namespaces = true;
            } else {
                namespaces.extend(snapshot.namespace_labels.iter().filter(|(_, labels)| s.matches(labels)).map(|(ns, _)| ns.clone()));
            }
        }
        namespaces.sort();
        namespaces.dedup();
        ResolvedTerm { namespaces, all_namespaces, selector: term.selector.clone(), topology_key: term.topology_key.clone() }
    }

    fn matches(&self, pod: &Pod) -> bool {
        let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
        (self.all_namespaces || self.namespaces.iter().any(|n| n == ns))
            && self.selector.matches(pod.metadata.labels.as_ref().unwrap_or(&BTreeMap::new()))
    }
}

#[derive(Debug, Clone)]
struct WeightedResolvedTerm {
    term: ResolvedTerm,
    weight: i64,
}

fn resolve_weighted(terms: &[WeightedAffinityTerm], snapshot: &Snapshot) -> Vec<WeightedResolvedTerm> {
    terms.iter().map(|w| WeightedResolvedTerm { term: ResolvedTerm::new(&w.term, snapshot), weight: i64::from(w.weight) }).collect()
}

/// Upstream `podMatchesAllAffinityTerms`: false for no terms.
fn matches_all(terms: &[ResolvedTerm], pod: &Pod) -> bool {
    !terms.is_empty() && terms.iter().all(|t| t.matches(pod))
}

/// Matching pods per topology pair: topology key → value → count. Pairs
/// whose count drops to zero are removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct TopologyCounts(HashMap<String, HashMap<String, i64>>);

impl TopologyCounts {
    /// Adds `delta` to the node's domain of `key`, if the node has the key.
    fn add(&mut self, node_labels: &BTreeMap<String, String>, key: &str, delta: i64) {
        let Some(value) = node_labels.get(key) else { return };
        let inner = match self.0.get_mut(key) {
            Some(inner) => inner,
            None => self.0.entry(key.to_string()).or_default(),
        };
        let count = match inner.get_mut(value.as_str()) {
            Some(c) => c,
            None => inner.entry(value.clone()).or_insert(0),
        };
        *count += delta;
        if *count == 0 {
            inner.remove(value.as_str());
            if inner.is_empty() {
                self.0.remove(key);
            }
        }
    }

    fn get(&self, key: &str, value: &str) -> i64 {
        self.0.get(key).and_then(|m| m.get(value)).copied().unwrap_or(0)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Upstream `updateWithAffinityTerms`: when the pod matches all terms,
    /// every term's pair on the node.
    fn add_affinity(&mut self, terms: &[ResolvedTerm], pod: &Pod, node_labels: &BTreeMap<String, String>, delta: i64) {
        if matches_all(terms, pod) {
            for t in terms {
                self.add(node_labels, &t.topology_key, delta);
            }
        }
    }

    /// Upstream `updateWithAntiAffinityTerms` for the incoming pod's terms:
    /// the pair of each term the pod matches.
    fn add_anti_affinity(&mut self, terms: &[ResolvedTerm], pod: &Pod, node_labels: &BTreeMap<String, String>, delta: i64) {
        for t in terms.iter().filter(|t| t.matches(pod)) {
            self.add(node_labels, &t.topology_key, delta);
        }
    }

    /// Upstream `updateWithAntiAffinityTerms` for an existing pod's terms
    /// against the incoming pod (whose namespace has `ns_labels`).
    fn add_existing_anti_affinity(
        &mut self,
        terms: &[AffinityTerm],
        incoming: &Pod,
        ns_labels: Option<&BTreeMap<String, String>>,
        node_labels: &BTreeMap<String, String>,
        delta: i64,
    ) {
        for t in terms.iter().filter(|t| t.matches(incoming, ns_labels)) {
            self.add(node_labels, &t.topology_key, delta);
        }
    }
}

// ---------------------------------------------------------------------------
// States

/// What Filter needs (upstream `preFilterState`).
#[derive(Debug, Clone)]
struct PreFilterState {
    /// Existing pods' required anti-affinity terms the incoming pod matches.
    existing_anti_affinity: TopologyCounts,
    /// Existing pods matching all the incoming pod's required affinity terms.
    affinity: TopologyCounts,
    /// Existing pods matching the incoming pod's required anti-affinity terms.
    anti_affinity: TopologyCounts,
    affinity_terms: Arc<Vec<ResolvedTerm>>,
    anti_affinity_terms: Arc<Vec<ResolvedTerm>>,
    /// The incoming pod matches all its own required affinity terms.
    matches_own_affinity: bool,
    namespace_labels: Option<Arc<BTreeMap<String, String>>>,
}

impl PreFilterState {
    /// Upstream `updateWithPod`: `pod` (added or removed on `node`) counts
    /// `delta` more.
    fn update_with_pod(&mut self, incoming: &PodInfo, pod: &PodInfo, node: &NodeInfo, delta: i64) {
        let labels = node.labels();
        self.existing_anti_affinity.add_existing_anti_affinity(
            &pod.required_anti_affinity,
            &incoming.pod,
            self.namespace_labels.as_deref(),
            labels,
            delta,
        );
        self.affinity.add_affinity(&self.affinity_terms, &pod.pod, labels, delta);
        self.anti_affinity.add_anti_affinity(&self.anti_affinity_terms, &pod.pod, labels, delta);
    }

    fn satisfies_affinity(&self, pod: &PodInfo, labels: &BTreeMap<String, String>) -> bool {
        let mut pods_exist = true;
        for t in &pod.required_affinity {
            match labels.get(&t.topology_key) {
                // All topology keys must be on the node.
                None => return false,
                Some(value) => {
                    if self.affinity.get(&t.topology_key, value) <= 0 {
                        pods_exist = false;
                    }
                }
            }
        }
        // The first pod of a group with affinity to itself: no pod in the
        // cluster matches yet, and the pod matches its own terms.
        pods_exist || (self.affinity.is_empty() && self.matches_own_affinity)
    }

    fn satisfies_anti_affinity(&self, pod: &PodInfo, labels: &BTreeMap<String, String>) -> bool {
        if self.anti_affinity.is_empty() {
            return true;
        }
        !pod.required_anti_affinity
            .iter()
            .any(|t| labels.get(&t.topology_key).is_some_and(|v| self.anti_affinity.get(&t.topology_key, v) > 0))
    }

    fn satisfies_existing_anti_affinity(&self, labels: &BTreeMap<String, String>) -> bool {
        !self.existing_anti_affinity.0.iter().any(|(key, values)| labels.get(key).is_some_and(|v| values.get(v).is_some_and(|n| *n > 0)))
    }
}

/// Score per topology key and value (upstream `scoreMap`).
#[derive(Debug, Clone, Default)]
struct PreScoreState {
    topology_score: HashMap<String, HashMap<String, i64>>,
}

impl PreScoreState {
    fn add(&mut self, node_labels: &BTreeMap<String, String>, key: &str, delta: i64) {
        let Some(value) = node_labels.get(key) else { return };
        let inner = match self.topology_score.get_mut(key) {
            Some(inner) => inner,
            None => self.topology_score.entry(key.to_string()).or_default(),
        };
        match inner.get_mut(value.as_str()) {
            Some(s) => *s += delta,
            None => {
                inner.insert(value.clone(), delta);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The plugin

/// The `InterPodAffinity` plugin.
#[derive(Debug, Clone)]
pub struct InterPodAffinity {
    hard_pod_affinity_weight: i32,
    ignore_preferred_terms_of_existing_pods: bool,
}

/// Builds the plugin from its `InterPodAffinityArgs` (`None`: defaults,
/// `hardPodAffinityWeight` 1).
pub fn new(args: Option<&serde_json::Value>) -> Result<Box<dyn Plugin>, String> {
    Ok(Box::new(InterPodAffinity::from_args(args)?))
}

impl InterPodAffinity {
    fn from_args(args: Option<&serde_json::Value>) -> Result<InterPodAffinity, String> {
        let raw: RawArgs = match args {
            None | Some(serde_json::Value::Null) => RawArgs::default(),
            Some(v) => RawArgs::deserialize(v).map_err(|e| format!("decoding InterPodAffinityArgs: {e}"))?,
        };
        if let Some(kind) = raw.kind.as_deref()
            && kind != "InterPodAffinityArgs"
        {
            return Err(format!("want args to be of type InterPodAffinityArgs, got {kind}"));
        }
        let weight = raw.hard_pod_affinity_weight.unwrap_or(DEFAULT_HARD_POD_AFFINITY_WEIGHT);
        if !(MIN_HARD_POD_AFFINITY_WEIGHT..=MAX_HARD_POD_AFFINITY_WEIGHT).contains(&weight) {
            return Err(aggregate_message(&[FieldError::invalid(
                "hardPodAffinityWeight",
                weight,
                format!("not in valid range [{MIN_HARD_POD_AFFINITY_WEIGHT}-{MAX_HARD_POD_AFFINITY_WEIGHT}]"),
            )]));
        }
        Ok(InterPodAffinity {
            hard_pod_affinity_weight: weight,
            ignore_preferred_terms_of_existing_pods: raw.ignore_preferred_terms_of_existing_pods.unwrap_or(false),
        })
    }
}

/// Whether the pod's spec has preferred pod affinity or anti-affinity terms.
fn has_preferred_terms(pod: &Pod) -> bool {
    let Some(affinity) = pod.spec.as_ref().and_then(|s| s.affinity.as_ref()) else { return false };
    affinity
        .pod_affinity
        .as_ref()
        .and_then(|a| a.preferred_during_scheduling_ignored_during_execution.as_ref())
        .is_some_and(|t| !t.is_empty())
        || affinity
            .pod_anti_affinity
            .as_ref()
            .and_then(|a| a.preferred_during_scheduling_ignored_during_execution.as_ref())
            .is_some_and(|t| !t.is_empty())
}

impl Plugin for InterPodAffinity {
    fn name(&self) -> &'static str {
        NAME
    }

    fn pre_filter(&self, state: &mut CycleState, pod: &PodInfo, snapshot: &Snapshot) -> Status {
        if let Some(e) = &pod.parse_error {
            return Status::unresolvable(format!("parsing pod: {e}"));
        }
        let affinity_terms: Vec<ResolvedTerm> = pod.required_affinity.iter().map(|t| ResolvedTerm::new(t, snapshot)).collect();
        let anti_affinity_terms: Vec<ResolvedTerm> = pod.required_anti_affinity.iter().map(|t| ResolvedTerm::new(t, snapshot)).collect();
        let namespace_labels = snapshot.namespace_labels.get(pod.namespace());

        let mut existing_anti_affinity = TopologyCounts::default();
        for node in snapshot.have_pods_with_required_anti_affinity() {
            if node.node.is_none() {
                continue;
            }
            let labels = node.labels();
            for existing in &node.pods_with_required_anti_affinity {
                existing_anti_affinity.add_existing_anti_affinity(&existing.required_anti_affinity, &pod.pod, namespace_labels, labels, 1);
            }
        }
        if existing_anti_affinity.is_empty() && affinity_terms.is_empty() && anti_affinity_terms.is_empty() {
            return Status::skip();
        }

        let mut affinity = TopologyCounts::default();
        let mut anti_affinity = TopologyCounts::default();
        if !affinity_terms.is_empty() || !anti_affinity_terms.is_empty() {
            for node in &snapshot.nodes {
                if node.node.is_none() {
                    continue;
                }
                let labels = node.labels();
                for existing in &node.pods {
                    affinity.add_affinity(&affinity_terms, &existing.pod, labels, 1);
                    anti_affinity.add_anti_affinity(&anti_affinity_terms, &existing.pod, labels, 1);
                }
            }
        }
        let matches_own_affinity = matches_all(&affinity_terms, &pod.pod);
        state.write(
            PRE_FILTER_STATE_KEY,
            PreFilterState {
                existing_anti_affinity,
                affinity,
                anti_affinity,
                affinity_terms: Arc::new(affinity_terms),
                anti_affinity_terms: Arc::new(anti_affinity_terms),
                matches_own_affinity,
                namespace_labels: namespace_labels.cloned().map(Arc::new),
            },
        );
        Status::success()
    }

    fn add_pod(&self, state: &mut CycleState, pod: &PodInfo, added: &PodInfo, node: &NodeInfo) -> Status {
        match state.require_mut::<PreFilterState>(PRE_FILTER_STATE_KEY) {
            Ok(s) => {
                s.update_with_pod(pod, added, node, 1);
                Status::success()
            }
            Err(st) => st,
        }
    }

    fn remove_pod(&self, state: &mut CycleState, pod: &PodInfo, removed: &PodInfo, node: &NodeInfo) -> Status {
        match state.require_mut::<PreFilterState>(PRE_FILTER_STATE_KEY) {
            Ok(s) => {
                s.update_with_pod(pod, removed, node, -1);
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
        if !s.satisfies_affinity(pod, labels) {
            return Status::unresolvable(ERR_REASON_AFFINITY_RULES_NOT_MATCH);
        }
        if !s.satisfies_anti_affinity(pod, labels) {
            return Status::unschedulable(ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH);
        }
        if !s.satisfies_existing_anti_affinity(labels) {
            return Status::unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH);
        }
        Status::success()
    }

    fn pre_score(&self, state: &mut CycleState, pod: &PodInfo, nodes: &[Arc<NodeInfo>], snapshot: &Snapshot) -> Status {
        if nodes.is_empty() {
            return Status::skip();
        }
        let has_constraints = has_preferred_terms(&pod.pod);
        if self.ignore_preferred_terms_of_existing_pods && !has_constraints {
            return Status::skip();
        }
        if let Some(e) = &pod.parse_error {
            return Status::error(format!("failed to parse pod: {e}"));
        }
        let preferred_affinity = resolve_weighted(&pod.preferred_affinity, snapshot);
        let preferred_anti_affinity = resolve_weighted(&pod.preferred_anti_affinity, snapshot);
        let namespace_labels = snapshot.namespace_labels.get(pod.namespace());
        let hard_weight = i64::from(self.hard_pod_affinity_weight);

        let mut s = PreScoreState::default();
        for node in &snapshot.nodes {
            // Unless the incoming pod has preferred terms, only pods with
            // (anti-)affinity of their own matter.
            let pods = if has_constraints { &node.pods } else { &node.pods_with_affinity };
            let labels = node.labels();
            if pods.is_empty() || node.node.is_none() || labels.is_empty() {
                continue;
            }
            for existing in pods {
                for w in &preferred_affinity {
                    if w.term.matches(&existing.pod) {
                        s.add(labels, &w.term.topology_key, w.weight);
                    }
                }
                for w in &preferred_anti_affinity {
                    if w.term.matches(&existing.pod) {
                        s.add(labels, &w.term.topology_key, -w.weight);
                    }
                }
                if hard_weight > 0 {
                    for t in &existing.required_affinity {
                        if t.matches(&pod.pod, namespace_labels) {
                            s.add(labels, &t.topology_key, hard_weight);
                        }
                    }
                }
                for w in &existing.preferred_affinity {
                    if w.term.matches(&pod.pod, namespace_labels) {
                        s.add(labels, &w.term.topology_key, i64::from(w.weight));
                    }
                }
                for w in &existing.preferred_anti_affinity {
                    if w.term.matches(&pod.pod, namespace_labels) {
                        s.add(labels, &w.term.topology_key, -i64::from(w.weight));
                    }
                }
            }
        }
        if s.topology_score.is_empty() {
            return Status::skip();
        }
        state.write(PRE_SCORE_STATE_KEY, s);
        Status::success()
    }

    fn score(&self, state: &CycleState, _pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
        let s = state.require::<PreScoreState>(PRE_SCORE_STATE_KEY)?;
        let labels = node.labels();
        let mut score = 0;
        for (key, values) in &s.topology_score {
            if let Some(v) = labels.get(key) {
                score += values.get(v.as_str()).copied().unwrap_or(0);
            }
        }
        Ok(score)
    }

    fn normalize_score(&self, state: &CycleState, _pod: &PodInfo, scores: &mut [i64]) -> Status {
        let Some(s) = state.read::<PreScoreState>(PRE_SCORE_STATE_KEY) else {
            return Status::success();
        };
        if s.topology_score.is_empty() {
            return Status::success();
        }
        let (Some(min), Some(max)) = (scores.iter().copied().min(), scores.iter().copied().max()) else {
            return Status::success();
        };
        let diff = max.saturating_sub(min);
        for score in scores.iter_mut() {
            let f = if diff > 0 { MAX_NODE_SCORE as f64 * ((*score - min) as f64 / diff as f64) } else { 0.0 };
            *score = f as i64;
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
    use crate::framework::Code;
    use k8s_openapi::api::core::v1::{Affinity, Node, PodAffinity, PodAffinityTerm, PodAntiAffinity, PodSpec, WeightedPodAffinityTerm};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement, ObjectMeta};

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

    /// A pod in namespace "" (upstream's test default).
    fn pod(l: &str) -> Pod {
        Pod {
            metadata: ObjectMeta { namespace: Some(String::new()), labels: Some(labels(l)), ..Default::default() },
            spec: Some(PodSpec::default()),
            ..Default::default()
        }
    }

    /// One match expression; `values` empty for Exists / DoesNotExist.
    fn expr(key: &str, op: &str, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: (!values.is_empty()).then(|| values.iter().map(|v| v.to_string()).collect()),
        }
    }

    fn term(exprs: Vec<LabelSelectorRequirement>, topology_key: &str) -> PodAffinityTerm {
        PodAffinityTerm {
            label_selector: Some(LabelSelector { match_expressions: Some(exprs), ..Default::default() }),
            topology_key: topology_key.into(),
            ..Default::default()
        }
    }

    fn term_in(key: &str, values: &[&str], topology_key: &str) -> PodAffinityTerm {
        term(vec![expr(key, "In", values)], topology_key)
    }

    fn term_exists(key: &str, topology_key: &str) -> PodAffinityTerm {
        term(vec![expr(key, "Exists", &[])], topology_key)
    }

    fn team1() -> Option<LabelSelector> {
        Some(LabelSelector { match_expressions: Some(vec![expr("team", "In", &["team1"])]), ..Default::default() })
    }

    trait PodExt: Sized {
        fn with(self, f: impl FnOnce(&mut Pod)) -> Self;
        fn ns(self, ns: &str) -> Self {
            self.with(|p| p.metadata.namespace = Some(ns.into()))
        }
        fn on(self, node: &str) -> Self {
            self.with(|p| p.spec.get_or_insert_default().node_name = Some(node.into()))
        }
        fn affinity_mut(p: &mut Pod) -> &mut Affinity {
            p.spec.get_or_insert_default().affinity.get_or_insert_default()
        }
        fn required(self, t: PodAffinityTerm) -> Self {
            self.with(|p| {
                let a = Self::affinity_mut(p).pod_affinity.get_or_insert_with(PodAffinity::default);
                a.required_during_scheduling_ignored_during_execution.get_or_insert_default().push(t);
            })
        }
        fn required_anti(self, t: PodAffinityTerm) -> Self {
            self.with(|p| {
                let a = Self::affinity_mut(p).pod_anti_affinity.get_or_insert_with(PodAntiAffinity::default);
                a.required_during_scheduling_ignored_during_execution.get_or_insert_default().push(t);
            })
        }
        fn preferred(self, weight: i32, t: PodAffinityTerm) -> Self {
            self.with(|p| {
                let a = Self::affinity_mut(p).pod_affinity.get_or_insert_with(PodAffinity::default);
                a.preferred_during_scheduling_ignored_during_execution
                    .get_or_insert_default()
                    .push(WeightedPodAffinityTerm { weight, pod_affinity_term: t });
            })
        }
        fn preferred_anti(self, weight: i32, t: PodAffinityTerm) -> Self {
            self.with(|p| {
                let a = Self::affinity_mut(p).pod_anti_affinity.get_or_insert_with(PodAntiAffinity::default);
                a.preferred_during_scheduling_ignored_during_execution
                    .get_or_insert_default()
                    .push(WeightedPodAffinityTerm { weight, pod_affinity_term: t });
            })
        }
    }

    impl PodExt for Pod {
        fn with(mut self, f: impl FnOnce(&mut Pod)) -> Self {
            f(&mut self);
            self
        }
    }

    fn info(p: &Pod) -> PodInfo {
        PodInfo::new(Arc::new(p.clone()))
    }

    /// Upstream's test namespaces.
    fn namespaces() -> HashMap<String, BTreeMap<String, String>> {
        [
            ("subteam1.team1", "team=team1"),
            ("subteam2.team1", "team=team1"),
            ("subteam1.team2", "team=team2"),
            ("subteam2.team2", "team=team2"),
        ]
        .into_iter()
        .map(|(ns, l)| (ns.to_string(), labels(l)))
        .collect()
    }

    fn snapshot(nodes: &[Node], pods: &[Pod]) -> Snapshot {
        let mut infos: Vec<NodeInfo> = nodes.iter().map(|n| NodeInfo::new(Arc::new(n.clone()))).collect();
        for (i, p) in pods.iter().enumerate() {
            let mut p = p.clone();
            p.metadata.uid = Some(format!("uid-{i}"));
            let on = p.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_default();
            if let Some(n) = infos.iter_mut().find(|n| n.name() == on) {
                n.add_pod(Arc::new(info(&p)));
            }
        }
        Snapshot { nodes: infos.into_iter().map(Arc::new).collect(), namespace_labels: namespaces(), ..Default::default() }
    }

    fn plugin() -> InterPodAffinity {
        InterPodAffinity::from_args(None).expect("defaults")
    }

    type Want = Option<(Code, &'static str)>;
    const FITS: Want = None;
    const AFFINITY: Want = Some((Code::UnschedulableAndUnresolvable, ERR_REASON_AFFINITY_RULES_NOT_MATCH));
    const ANTI: Want = Some((Code::Unschedulable, ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH));
    const EXISTING: Want = Some((Code::Unschedulable, ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH));

    fn check(name: &str, got: &Status, want: &Want) {
        match want {
            None => assert!(got.is_success(), "{name}: {got:?}"),
            Some((code, reason)) => assert_eq!((got.code, got.reasons.clone()), (*code, vec![reason.to_string()]), "{name}"),
        }
    }

    // -- Filter --------------------------------------------------------------

    struct FilterCase {
        name: &'static str,
        pod: Pod,
        pods: Vec<Pod>,
        nodes: Vec<Node>,
        /// PreFilter returns Skip.
        skip: bool,
        want: Vec<Want>,
    }

    fn run_filter_cases(cases: Vec<FilterCase>) {
        let pl = plugin();
        for c in cases {
            let snap = snapshot(&c.nodes, &c.pods);
            let pod = info(&c.pod);
            let mut state = CycleState::default();
            let status = pl.pre_filter(&mut state, &pod, &snap);
            if c.skip {
                assert_eq!(status.code, Code::Skip, "{}", c.name);
                continue;
            }
            assert!(status.is_success(), "{}: {status:?}", c.name);
            for (n, want) in snap.nodes.iter().zip(&c.want) {
                check(&format!("{} on {}", c.name, n.name()), &pl.filter(&state, &pod, n), want);
            }
        }
    }

    #[test]
    fn required_affinity_single_node() {
        let node1 = || vec![node("node1", "region=r1,zone=z11")];
        let existing = || pod("service=securityscan").on("node1");
        let case = |name, pod, pods, skip, want| FilterCase { name, pod, pods, nodes: node1(), skip, want: vec![want] };
        let diff_ns_term =
            PodAffinityTerm { namespaces: Some(vec!["DiffNameSpace".into()]), ..term_in("service", &["securityscan", "value2"], "") };
        let ns_selector_term =
            |topology: &str| PodAffinityTerm { namespace_selector: team1(), ..term_in("service", &["securityscan", "value2"], topology) };
        run_filter_cases(vec![
            case(
                "A pod that has no required pod affinity scheduling rules can schedule onto a node with no existing pods",
                pod(""),
                vec![],
                true,
                FITS,
            ),
            case(
                "satisfies with requiredDuringSchedulingIgnoredDuringExecution in PodAffinity using In operator that matches the existing pod",
                pod("security=S1").required(term_in("service", &["securityscan", "value2"], "region")),
                vec![existing()],
                false,
                FITS,
            ),
            case(
                "satisfies the pod with requiredDuringSchedulingIgnoredDuringExecution in PodAffinity using not in operator in labelSelector that matches the existing pod",
                pod("security=S1").required(term(vec![expr("service", "NotIn", &["securityscan3", "value3"])], "region")),
                vec![existing()],
                false,
                FITS,
            ),
            case(
                "Does not satisfy the PodAffinity with labelSelector because of diff Namespace",
                pod("security=S1").required(diff_ns_term),
                vec![pod("service=securityscan").ns("ns").on("node1")],
                false,
                AFFINITY,
            ),
            case(
                "Doesn't satisfy the PodAffinity because of unmatching labelSelector with the existing pod",
                pod("service=securityscan").required(term_in("service", &["antivirusscan", "value2"], "")),
                vec![existing()],
                false,
                AFFINITY,
            ),
            case(
                "satisfies the PodAffinity with different label Operators in multiple RequiredDuringSchedulingIgnoredDuringExecution",
                pod("security=S1")
                    .required(term(vec![expr("service", "Exists", &[]), expr("wrongkey", "DoesNotExist", &[])], "region"))
                    .required(term(vec![expr("service", "In", &["securityscan"]), expr("service", "NotIn", &["WrongValue"])], "region")),
                vec![existing()],
                false,
                FITS,
            ),
            case(
                "The labelSelector requirements(items of matchExpressions) are ANDed, the pod cannot schedule onto the node because one of the matchExpression item don't match.",
                pod("security=S1")
                    .required(term(vec![expr("service", "Exists", &[]), expr("wrongkey", "DoesNotExist", &[])], "region"))
                    .required(term(vec![expr("service", "In", &["securityscan2"]), expr("service", "NotIn", &["WrongValue"])], "region")),
                vec![existing()],
                false,
                AFFINITY,
            ),
            case(
                "satisfies the PodAffinity and PodAntiAffinity with the existing pod",
                pod("security=S1").required(term_in("service", &["securityscan", "value2"], "region")).required_anti(term_in(
                    "service",
                    &["antivirusscan", "value2"],
                    "node",
                )),
                vec![existing()],
                false,
                FITS,
            ),
            case(
                "satisfies the PodAffinity and PodAntiAffinity and PodAntiAffinity symmetry with the existing pod",
                pod("security=S1").required(term_in("service", &["securityscan", "value2"], "region")).required_anti(term_in(
                    "service",
                    &["antivirusscan", "value2"],
                    "node",
                )),
                vec![existing().required_anti(term_in("service", &["antivirusscan", "value2"], "node"))],
                false,
                FITS,
            ),
            case(
                "satisfies the PodAffinity but doesn't satisfy the PodAntiAffinity with the existing pod",
                pod("security=S1").required(term_in("service", &["securityscan", "value2"], "region")).required_anti(term_in(
                    "service",
                    &["securityscan", "value2"],
                    "zone",
                )),
                vec![existing()],
                false,
                ANTI,
            ),
            case(
                "satisfies the PodAffinity and PodAntiAffinity but doesn't satisfy PodAntiAffinity symmetry with the existing pod",
                pod("service=securityscan").required(term_in("service", &["securityscan", "value2"], "region")).required_anti(term_in(
                    "service",
                    &["antivirusscan", "value2"],
                    "node",
                )),
                vec![existing().required_anti(term_in("service", &["securityscan", "value2"], "zone"))],
                false,
                EXISTING,
            ),
            case(
                "pod matches its own Label in PodAffinity and that matches the existing pod Labels",
                pod("service=securityscan").required(term(vec![expr("service", "NotIn", &["securityscan", "value2"])], "region")),
                vec![pod("service=securityscan").on("node2")],
                false,
                AFFINITY,
            ),
            case(
                "verify that PodAntiAffinity from existing pod is respected when pod has no AntiAffinity constraints. doesn't satisfy PodAntiAffinity symmetry with the existing pod",
                pod("service=securityscan"),
                vec![existing().required_anti(term_in("service", &["securityscan", "value2"], "zone"))],
                false,
                EXISTING,
            ),
            case(
                "verify that PodAntiAffinity from existing pod is respected when pod has no AntiAffinity constraints. satisfy PodAntiAffinity symmetry with the existing pod",
                pod("service=securityscan"),
                vec![existing().required_anti(term(vec![expr("service", "NotIn", &["securityscan", "value2"])], "zone"))],
                true,
                FITS,
            ),
            case(
                "satisfies the PodAntiAffinity with existing pod but doesn't satisfy PodAntiAffinity symmetry with incoming pod",
                pod("service=securityscan")
                    .required_anti(term_exists("service", "region"))
                    .required_anti(term_exists("security", "region")),
                vec![pod("security=S1").on("node1").required_anti(term_exists("security", "zone"))],
                false,
                ANTI,
            ),
            case(
                "PodAntiAffinity symmetry check a1: incoming pod and existing pod partially match each other on AffinityTerms",
                pod("service=securityscan").required_anti(term_exists("service", "zone")).required_anti(term_exists("security", "zone")),
                vec![pod("security=S1").on("node1").required_anti(term_exists("security", "zone"))],
                false,
                ANTI,
            ),
            case(
                "PodAntiAffinity symmetry check a2: incoming pod and existing pod partially match each other on AffinityTerms",
                pod("security=S1").required_anti(term_exists("security", "zone")),
                vec![existing().required_anti(term_exists("service", "zone")).required_anti(term_exists("security", "zone"))],
                false,
                EXISTING,
            ),
            case(
                "PodAntiAffinity symmetry check b1: incoming pod and existing pod partially match each other on AffinityTerms",
                pod("abc,xyz").required_anti(term_exists("abc", "zone")).required_anti(term_exists("def", "zone")),
                vec![pod("def,xyz").on("node1").required_anti(term_exists("abc", "zone")).required_anti(term_exists("def", "zone"))],
                false,
                ANTI,
            ),
            case(
                "PodAntiAffinity symmetry check b2: incoming pod and existing pod partially match each other on AffinityTerms",
                pod("def,xyz").required_anti(term_exists("abc", "zone")).required_anti(term_exists("def", "zone")),
                vec![pod("abc,xyz").on("node1").required_anti(term_exists("abc", "zone")).required_anti(term_exists("def", "zone"))],
                false,
                ANTI,
            ),
            case(
                "affinity with NamespaceSelector",
                pod("security=S1").required(ns_selector_term("region")),
                vec![pod("service=securityscan").ns("subteam1.team1").on("node1")],
                false,
                FITS,
            ),
            case(
                "affinity with non-matching NamespaceSelector",
                pod("security=S1").required(ns_selector_term("region")),
                vec![pod("service=securityscan").ns("subteam1.team2").on("node1")],
                false,
                AFFINITY,
            ),
            case(
                "anti-affinity with matching NamespaceSelector",
                pod("security=S1").ns("subteam1.team1").required_anti(ns_selector_term("zone")),
                vec![pod("service=securityscan").ns("subteam2.team1").on("node1")],
                false,
                ANTI,
            ),
            case(
                "anti-affinity with matching all NamespaceSelector",
                pod("security=S1").ns("subteam1.team1").required_anti(PodAffinityTerm {
                    namespace_selector: Some(LabelSelector::default()),
                    ..term_in("service", &["securityscan", "value2"], "zone")
                }),
                vec![pod("service=securityscan").ns("subteam2.team1").on("node1")],
                false,
                ANTI,
            ),
            case(
                "anti-affinity with non-matching NamespaceSelector",
                pod("security=S1").ns("subteam1.team1").required_anti(ns_selector_term("zone")),
                vec![pod("service=securityscan").ns("subteam1.team2").on("node1")],
                false,
                FITS,
            ),
        ]);
    }

    #[test]
    fn pre_filter_rejects_unparsable_terms() {
        let p = pod("service=securityscan").required(term_in("service", &["{{.bad-value.}}"], "region")).required(term_in(
            "service",
            &["antivirusscan", "value2"],
            "node",
        ));
        let snap = snapshot(&[node("node1", "region=r1,zone=z11")], &[]);
        let mut state = CycleState::default();
        let status = plugin().pre_filter(&mut state, &info(&p), &snap);
        assert_eq!(status.code, Code::UnschedulableAndUnresolvable);
        assert!(status.reasons[0].starts_with("parsing pod: "), "{status:?}");
        assert!(status.reasons[0].contains("{{.bad-value.}}"), "{status:?}");
    }

    #[test]
    fn required_affinity_multiple_nodes() {
        let china = "region=China";
        let china_az1 = "region=China,az=az1";
        let india = "region=India";
        let ab = |a: &str, b: &str| vec![node("nodeA", a), node("nodeB", b)];
        run_filter_cases(vec![
            FilterCase {
                name: "A pod can be scheduled onto all the nodes that have the same topology key & label value with one of them has an existing pod that matches the affinity rules",
                pod: pod("").required(term_in("foo", &["bar"], "region")),
                pods: vec![pod("foo=bar").on("node1")],
                nodes: vec![node("node1", china), node("node2", china_az1), node("node3", india)],
                skip: false,
                want: vec![FITS, FITS, AFFINITY],
            },
            FilterCase {
                name: "The affinity rule is to schedule all of the pods of this collection to the same zone. The first pod of the collection should not be blocked from being scheduled onto any node, even there's no existing pod that matches the rule anywhere.",
                pod: pod("foo=bar,service=securityscan").required(term_in("foo", &["bar"], "zone")).required(term_in(
                    "service",
                    &["securityscan"],
                    "zone",
                )),
                pods: vec![pod("foo=bar").on("nodeA")],
                nodes: ab("zone=az1,hostname=h1", "zone=az2,hostname=h2"),
                skip: false,
                want: vec![FITS, FITS],
            },
            FilterCase {
                name: "The first pod of the collection can only be scheduled on nodes labelled with the requested topology keys",
                pod: pod("foo=bar,service=securityscan").required(term_in("foo", &["bar"], "zone")).required(term_in(
                    "service",
                    &["securityscan"],
                    "zone",
                )),
                pods: vec![pod("foo=bar").on("nodeA")],
                nodes: ab("zoneLabel=az1,hostname=h1", "zoneLabel=az2,hostname=h2"),
                skip: false,
                want: vec![AFFINITY, AFFINITY],
            },
            FilterCase {
                name: "NodeA and nodeB have same topologyKey and label value. NodeA has an existing pod that matches the inter pod affinity rule. The pod can not be scheduled onto nodeA and nodeB.",
                pod: pod("").required_anti(term_in("foo", &["abc"], "region")),
                pods: vec![pod("foo=abc").on("nodeA")],
                nodes: ab("region=r1,hostname=nodeA", "region=r1,hostname=nodeB"),
                skip: false,
                want: vec![ANTI, ANTI],
            },
            FilterCase {
                name: "This test ensures that anti-affinity matches a pod when any term of the anti-affinity rule matches a pod.",
                pod: pod("").required_anti(term_in("foo", &["abc"], "region")).required_anti(term_in("service", &["securityscan"], "zone")),
                pods: vec![pod("foo=abc,service=securityscan").on("nodeA")],
                nodes: ab("region=r1,zone=z1,hostname=nodeA", "region=r1,zone=z2,hostname=nodeB"),
                skip: false,
                want: vec![ANTI, ANTI],
            },
            FilterCase {
                name: "NodeA and nodeB have same topologyKey and label value. NodeA has an existing pod that matches the inter pod affinity rule. The pod can not be scheduled onto nodeA and nodeB but can be scheduled onto nodeC",
                pod: pod("").required_anti(term_in("foo", &["abc"], "region")),
                pods: vec![pod("foo=abc").on("nodeA")],
                nodes: vec![node("nodeA", china), node("nodeB", china_az1), node("nodeC", india)],
                skip: false,
                want: vec![ANTI, ANTI, FITS],
            },
            FilterCase {
                name: "NodeA and nodeB have same topologyKey and label value. NodeA has an existing pod that matches the inter pod affinity rule. The pod can not be scheduled onto nodeA, nodeB, but can be scheduled onto nodeC (NodeC has an existing pod that match the inter pod affinity rule but in different namespace)",
                pod: pod("foo=123").ns("NS1").required_anti(term_in("foo", &["bar"], "region")),
                pods: vec![
                    pod("foo=bar").ns("NS1").on("nodeA"),
                    pod("").ns("NS2").on("nodeC").required_anti(term_in("foo", &["123"], "region")),
                ],
                nodes: vec![node("nodeA", china), node("nodeB", china_az1), node("nodeC", india)],
                skip: false,
                want: vec![ANTI, ANTI, FITS],
            },
            FilterCase {
                name: "Test existing pod's anti-affinity: if an existing pod has a term with invalid topologyKey, labelSelector of the term is firstly checked, and then topologyKey of the term is also checked",
                pod: pod("foo"),
                pods: vec![pod("").on("nodeA").required_anti(term_exists("foo", "invalid-node-label"))],
                nodes: ab("region=r1,zone=z1,hostname=nodeA", "region=r1,zone=z1,hostname=nodeB"),
                skip: true,
                want: vec![],
            },
            FilterCase {
                name: "Test incoming pod's anti-affinity: even if labelSelector matches, we still check if topologyKey matches",
                pod: pod("").on("nodeA").required_anti(term_exists("foo", "invalid-node-label")),
                pods: vec![pod("foo").on("nodeA")],
                nodes: ab("region=r1,zone=z1,hostname=nodeA", "region=r1,zone=z1,hostname=nodeB"),
                skip: false,
                want: vec![FITS, FITS],
            },
            FilterCase {
                name: "Test existing pod's anti-affinity: incoming pod wouldn't considered as a fit as it violates each existingPod's terms on all nodes",
                pod: pod("foo,bar"),
                pods: vec![
                    pod("").on("nodeA").required_anti(term_exists("foo", "zone")),
                    pod("").on("nodeA").required_anti(term_exists("bar", "region")),
                ],
                nodes: ab("region=r1,zone=z1,hostname=nodeA", "region=r1,zone=z2,hostname=nodeB"),
                skip: false,
                want: vec![EXISTING, EXISTING],
            },
            FilterCase {
                name: "Test incoming pod's anti-affinity: incoming pod wouldn't considered as a fit as it at least violates one anti-affinity rule of existingPod",
                pod: pod("").required_anti(term_exists("foo", "zone")).required_anti(term_exists("bar", "region")),
                pods: vec![pod("foo").on("nodeA"), pod("bar").on("nodeB")],
                nodes: ab("region=r1,zone=z1,hostname=nodeA", "region=r1,zone=z2,hostname=nodeB"),
                skip: false,
                want: vec![ANTI, ANTI],
            },
            FilterCase {
                name: "Test existing pod's anti-affinity: only when labelSelector and topologyKey both match, it's counted as a single term match - case when one term has invalid topologyKey",
                pod: pod("foo,bar"),
                pods: vec![
                    pod("").on("nodeA").required_anti(term_exists("foo", "invalid-node-label")).required_anti(term_exists("bar", "zone")),
                ],
                nodes: ab("region=r1,zone=z1,hostname=nodeA", "region=r1,zone=z2,hostname=nodeB"),
                skip: false,
                want: vec![EXISTING, FITS],
            },
            FilterCase {
                name: "Test incoming pod's anti-affinity: only when labelSelector and topologyKey both match, it's counted as a single term match - case when one term has invalid topologyKey",
                pod: pod("").required_anti(term_exists("foo", "invalid-node-label")).required_anti(term_exists("bar", "zone")),
                pods: vec![pod("foo,bar").on("nodeA")],
                nodes: ab("region=r1,zone=z1,hostname=nodeA", "region=r1,zone=z2,hostname=nodeB"),
                skip: false,
                want: vec![ANTI, FITS],
            },
            FilterCase {
                name: "Test existing pod's anti-affinity: only when labelSelector and topologyKey both match, it's counted as a single term match - case when all terms have valid topologyKey",
                pod: pod("foo,bar"),
                pods: vec![pod("").on("nodeA").required_anti(term_exists("foo", "region")).required_anti(term_exists("bar", "zone"))],
                nodes: ab("region=r1,zone=z1,hostname=nodeA", "region=r1,zone=z2,hostname=nodeB"),
                skip: false,
                want: vec![EXISTING, EXISTING],
            },
            FilterCase {
                name: "Test incoming pod's anti-affinity: only when labelSelector and topologyKey both match, it's counted as a single term match - case when all terms have valid topologyKey",
                pod: pod("").required_anti(term_exists("foo", "region")).required_anti(term_exists("bar", "zone")),
                pods: vec![pod("foo,bar").on("nodeA")],
                nodes: ab("region=r1,zone=z1,hostname=nodeA", "region=r1,zone=z2,hostname=nodeB"),
                skip: false,
                want: vec![ANTI, ANTI],
            },
            FilterCase {
                name: "Test existing pod's anti-affinity: existingPod on nodeA and nodeB has at least one anti-affinity term matches incoming pod, so incoming pod can only be scheduled to nodeC",
                pod: pod("foo,bar"),
                pods: vec![
                    pod("").on("nodeA").required_anti(term_exists("foo", "zone")).required_anti(term_exists("labelA", "zone")),
                    pod("").on("nodeB").required_anti(term_exists("bar", "zone")).required_anti(term_exists("labelB", "zone")),
                ],
                nodes: vec![
                    node("nodeA", "region=r1,zone=z1,hostname=nodeA"),
                    node("nodeB", "region=r1,zone=z2,hostname=nodeB"),
                    node("nodeC", "region=r1,zone=z3,hostname=nodeC"),
                ],
                skip: false,
                want: vec![EXISTING, EXISTING, FITS],
            },
            FilterCase {
                name: "Test incoming pod's affinity: firstly check if all affinityTerms match, and then check if all topologyKeys match",
                pod: pod("").required(term_exists("foo", "region")).required(term_exists("bar", "zone")),
                pods: vec![pod("foo,bar").on("nodeA")],
                nodes: ab("region=r1,zone=z1,hostname=nodeA", "region=r1,zone=z1,hostname=nodeB"),
                skip: false,
                want: vec![FITS, FITS],
            },
            FilterCase {
                name: "Test incoming pod's affinity: firstly check if all affinityTerms match, and then check if all topologyKeys match, and the match logic should be satisfied on the same pod",
                pod: pod("").required(term_exists("foo", "region")).required(term_exists("bar", "zone")),
                pods: vec![pod("foo").on("nodeA"), pod("bar").on("nodeB")],
                nodes: ab("region=r1,zone=z1,hostname=nodeA", "region=r1,zone=z2,hostname=nodeB"),
                skip: false,
                want: vec![AFFINITY, AFFINITY],
            },
        ]);
    }

    #[test]
    fn filter_without_pre_filter_state_is_an_error() {
        let n = NodeInfo::new(Arc::new(node("n", "")));
        let got = plugin().filter(&CycleState::default(), &info(&pod("")), &n);
        assert_eq!(got.code, Code::Error);
        assert_eq!(got.reasons, vec![r#"error reading "PreFilterInterPodAffinity" from cycleState: not found"#.to_string()]);
    }

    #[test]
    fn pre_filter_state_add_and_remove_pod() {
        let foo_bar = || term_in("foo", &["bar"], "region");
        let foo_bar_buzz = || term_in("foo", &["bar", "buzz"], "region");
        let not_service = || term(vec![expr("service", "NotIn", &["bar", "security", "test"])], "zone");
        let nodes = || vec![node("nodeA", "region=r1,zone=z11"), node("nodeB", "region=r1,zone=z12"), node("nodeC", "region=r2,zone=z21")];
        let counts = |pairs: &[(&str, &str, i64)]| {
            let mut c = TopologyCounts::default();
            for (k, v, n) in pairs {
                c.0.entry(k.to_string()).or_default().insert(v.to_string(), *n);
            }
            c
        };
        struct Case {
            name: &'static str,
            pending: Pod,
            existing: Vec<Pod>,
            added: Pod,
            added_node: usize,
            anti: TopologyCounts,
            affinity: TopologyCounts,
        }
        let cases = vec![
            Case {
                name: "preFilterState anti-affinity terms are updated correctly after adding and removing a pod",
                pending: pod("foo=bar").required_anti(foo_bar()),
                existing: vec![pod("foo=bar").on("nodeA"), pod("").on("nodeC").required_anti(foo_bar())],
                added: pod("foo=bar").on("nodeB").required_anti(foo_bar()),
                added_node: 1,
                anti: counts(&[("region", "r1", 2)]),
                affinity: counts(&[]),
            },
            Case {
                name: "preFilterState anti-affinity terms are updated correctly after adding and removing a pod (complex)",
                pending: pod("foo=bar").required_anti(foo_bar_buzz()).required_anti(not_service()),
                existing: vec![pod("foo=bar").on("nodeA"), pod("").on("nodeC").required_anti(foo_bar())],
                added: pod("foo=bar").on("nodeA").required_anti(foo_bar_buzz()).required_anti(not_service()),
                added_node: 0,
                anti: counts(&[("region", "r1", 2), ("zone", "z11", 2), ("zone", "z21", 1)]),
                affinity: counts(&[]),
            },
            Case {
                name: "preFilterState matching pod affinity and anti-affinity are updated correctly after adding and removing a pod",
                pending: pod("foo=bar")
                    .required(foo_bar_buzz())
                    .required(not_service())
                    .required_anti(foo_bar_buzz())
                    .required_anti(not_service()),
                existing: vec![pod("foo=bar").on("nodeA"), pod("").on("nodeC").required_anti(foo_bar())],
                added: pod("foo=bar").on("nodeA").required_anti(foo_bar_buzz()).required_anti(not_service()),
                added_node: 0,
                anti: counts(&[("region", "r1", 2), ("zone", "z11", 2), ("zone", "z21", 1)]),
                affinity: counts(&[("region", "r1", 2), ("zone", "z11", 2)]),
            },
        ];
        let pl = plugin();
        for c in cases {
            let snap = snapshot(&nodes(), &c.existing);
            let pending = info(&c.pending);
            let mut state = CycleState::default();
            assert!(pl.pre_filter(&mut state, &pending, &snap).is_success(), "{}", c.name);
            let before = state.read::<PreFilterState>(PRE_FILTER_STATE_KEY).expect("state").clone();
            let added = info(&c.added);
            let n = &snap.nodes[c.added_node];
            assert!(pl.add_pod(&mut state, &pending, &added, n).is_success());
            let s = state.read::<PreFilterState>(PRE_FILTER_STATE_KEY).expect("state");
            assert_eq!(s.anti_affinity, c.anti, "{}: anti-affinity after adding", c.name);
            assert_eq!(s.affinity, c.affinity, "{}: affinity after adding", c.name);
            assert!(pl.remove_pod(&mut state, &pending, &added, n).is_success());
            let s = state.read::<PreFilterState>(PRE_FILTER_STATE_KEY).expect("state");
            assert_eq!(s.anti_affinity, before.anti_affinity, "{}: anti-affinity after removing", c.name);
            assert_eq!(s.affinity, before.affinity, "{}: affinity after removing", c.name);
            assert_eq!(s.existing_anti_affinity, before.existing_anti_affinity, "{}: existing after removing", c.name);
        }
    }

    #[test]
    fn preemption_simulation_lifts_anti_affinity() {
        // An existing pod's anti-affinity keeps the pod off zone z1; removing
        // it (as preemption would) frees the node.
        let pl = plugin();
        let victim = pod("app=db").on("a").required_anti(term_exists("app", "zone"));
        let snap = snapshot(&[node("a", "zone=z1"), node("b", "zone=z1")], std::slice::from_ref(&victim));
        let incoming = info(&pod("app=web"));
        let mut state = CycleState::default();
        assert!(pl.pre_filter(&mut state, &incoming, &snap).is_success());
        check("before", &pl.filter(&state, &incoming, &snap.nodes[1]), &EXISTING);
        let mut sim = state.clone();
        assert!(pl.remove_pod(&mut sim, &incoming, &snap.nodes[0].pods[0], &snap.nodes[0]).is_success());
        check("after removing", &pl.filter(&sim, &incoming, &snap.nodes[1]), &FITS);
        check("original state untouched", &pl.filter(&state, &incoming, &snap.nodes[1]), &EXISTING);
    }

    // -- Score ----------------------------------------------------------------

    struct ScoreCase {
        name: &'static str,
        pod: Pod,
        pods: Vec<Pod>,
        nodes: Vec<Node>,
        /// None: PreScore skips.
        want: Option<Vec<i64>>,
    }

    fn run_score_cases(pl: &InterPodAffinity, cases: Vec<ScoreCase>) {
        for c in cases {
            let snap = snapshot(&c.nodes, &c.pods);
            let pod = info(&c.pod);
            let mut state = CycleState::default();
            let status = pl.pre_score(&mut state, &pod, &snap.nodes, &snap);
            let Some(want) = c.want else {
                assert_eq!(status.code, Code::Skip, "{}: {status:?}", c.name);
                continue;
            };
            assert!(status.is_success(), "{}: {status:?}", c.name);
            let mut scores: Vec<i64> = snap.nodes.iter().map(|n| pl.score(&state, &pod, n).expect("score")).collect();
            assert!(pl.normalize_score(&state, &pod, &mut scores).is_success());
            assert_eq!(scores, want, "{}", c.name);
        }
    }

    #[test]
    fn preferred_affinity() {
        let china = "region=China";
        let india = "region=India";
        let az1 = "az=az1";
        let az2 = "az=az2";
        let china_az1 = "region=China,az=az1";
        let s1 = "security=S1";
        let s2 = "security=S2";
        let stay_with_s1_in_region = |p: Pod| p.preferred(5, term_in("security", &["S1"], "region"));
        let stay_with_s2_in_region = |p: Pod| p.preferred(6, term_in("security", &["S2"], "region"));
        let affinity3 = |p: Pod| {
            p.preferred(8, term(vec![expr("security", "NotIn", &["S1"]), expr("security", "In", &["S2"])], "region"))
                .preferred(2, term(vec![expr("security", "Exists", &[]), expr("wrongkey", "DoesNotExist", &[])], "region"))
        };
        let hard_affinity = |p: Pod| {
            p.required(term_in("security", &["S1", "value2"], "region"))
                .required(term(vec![expr("security", "Exists", &[]), expr("wrongkey", "DoesNotExist", &[])], "region"))
        };
        let away_from_s1_in_az = |p: Pod| p.preferred_anti(5, term_in("security", &["S1"], "az"));
        let away_from_s2_in_az = |p: Pod| p.preferred_anti(5, term_in("security", &["S2"], "az"));
        let stay_s1_away_s2 =
            |p: Pod| p.preferred(8, term_in("security", &["S1"], "region")).preferred_anti(5, term_in("security", &["S2"], "az"));
        let ns_term = || PodAffinityTerm {
            namespaces: Some(vec!["subteam2.team2".into()]),
            namespace_selector: team1(),
            ..term_in("security", &["S1"], "region")
        };
        let affinity_ns_selector = |p: Pod| p.preferred(5, ns_term());
        let anti_affinity_ns_selector = |p: Pod| p.preferred_anti(5, ns_term());
        let n = |name: &str, l: &str| node(name, l);
        run_score_cases(
            &plugin(),
            vec![
                ScoreCase {
                    name: "all nodes are same priority as Affinity is nil",
                    pod: pod(s1),
                    pods: vec![],
                    nodes: vec![n("node1", china), n("node2", india), n("node3", az1)],
                    want: None,
                },
                ScoreCase {
                    name: "Affinity: pod that matches topology key & pods in nodes will get high score comparing to others which doesn't match either pods in nodes or in topology key",
                    pod: stay_with_s1_in_region(pod(s1)),
                    pods: vec![pod(s1).on("node1"), pod(s2).on("node2"), pod(s1).on("node3")],
                    nodes: vec![n("node1", china), n("node2", india), n("node3", az1)],
                    want: Some(vec![100, 0, 0]),
                },
                ScoreCase {
                    name: "All the nodes that have the same topology key & label value with one of them has an existing pod that match the affinity rules, have the same score",
                    pod: stay_with_s1_in_region(pod("")),
                    pods: vec![pod(s1).on("node1")],
                    nodes: vec![n("node1", china), n("node2", china_az1), n("node3", india)],
                    want: Some(vec![100, 100, 0]),
                },
                ScoreCase {
                    name: "Affinity: nodes in one region has more matching pods comparing to other region, so the region which has more matches will get high score",
                    pod: stay_with_s2_in_region(pod(s1)),
                    pods: vec![
                        pod(s2).on("node1"),
                        pod(s2).on("node1"),
                        pod(s2).on("node2"),
                        pod(s2).on("node3"),
                        pod(s2).on("node4"),
                        pod(s2).on("node5"),
                    ],
                    nodes: vec![n("node1", china), n("node2", india), n("node3", china), n("node4", china), n("node5", india)],
                    want: Some(vec![100, 0, 100, 100, 0]),
                },
                ScoreCase {
                    name: "Affinity: different Label operators and values for pod affinity scheduling preference, including some match failures",
                    pod: affinity3(pod(s1)),
                    pods: vec![pod(s1).on("node1"), pod(s2).on("node2"), pod(s1).on("node3")],
                    nodes: vec![n("node1", china), n("node2", india), n("node3", az1)],
                    want: Some(vec![20, 100, 0]),
                },
                ScoreCase {
                    name: "Affinity symmetry: considered only the preferredDuringSchedulingIgnoredDuringExecution in pod affinity symmetry",
                    pod: pod(s2),
                    pods: vec![stay_with_s1_in_region(pod(s1).on("node1")), stay_with_s2_in_region(pod(s2).on("node2"))],
                    nodes: vec![n("node1", china), n("node2", india), n("node3", az1)],
                    want: Some(vec![0, 100, 0]),
                },
                ScoreCase {
                    name: "Affinity symmetry with namespace selector",
                    pod: pod(s1).ns("subteam1.team1"),
                    pods: vec![affinity_ns_selector(pod(s1).on("node1")), stay_with_s2_in_region(pod(s2).on("node2"))],
                    nodes: vec![n("node1", china), n("node2", india), n("node3", az1)],
                    want: Some(vec![100, 0, 0]),
                },
                ScoreCase {
                    name: "AntiAffinity symmetry with namespace selector",
                    pod: pod(s1).ns("subteam1.team1"),
                    pods: vec![anti_affinity_ns_selector(pod(s1).on("node1")), stay_with_s2_in_region(pod(s2).on("node2"))],
                    nodes: vec![n("node1", china), n("node2", india), n("node3", az1)],
                    want: Some(vec![0, 100, 100]),
                },
                ScoreCase {
                    name: "Affinity symmetry: considered RequiredDuringSchedulingIgnoredDuringExecution in pod affinity symmetry",
                    pod: pod(s1),
                    pods: vec![hard_affinity(pod(s1).on("node1")), hard_affinity(pod(s2).on("node2"))],
                    nodes: vec![n("node1", china), n("node2", india), n("node3", az1)],
                    want: Some(vec![100, 100, 0]),
                },
                ScoreCase {
                    name: "Anti Affinity: pod that does not match existing pods in node will get high score",
                    pod: away_from_s1_in_az(pod(s1)),
                    pods: vec![pod(s1).on("node1"), pod(s2).on("node2")],
                    nodes: vec![n("node1", az1), n("node2", china)],
                    want: Some(vec![0, 100]),
                },
                ScoreCase {
                    name: "Anti Affinity: pod that does not match topology key & match the pods in nodes will get higher score comparing to others",
                    pod: away_from_s1_in_az(pod(s1)),
                    pods: vec![pod(s1).on("node1"), pod(s1).on("node2")],
                    nodes: vec![n("node1", az1), n("node2", china)],
                    want: Some(vec![0, 100]),
                },
                ScoreCase {
                    name: "Anti Affinity: one node has more matching pods comparing to other node, so the node which has more unmatches will get high score",
                    pod: away_from_s1_in_az(pod(s1)),
                    pods: vec![pod(s1).on("node1"), pod(s1).on("node1"), pod(s2).on("node2")],
                    nodes: vec![n("node1", az1), n("node2", india)],
                    want: Some(vec![0, 100]),
                },
                ScoreCase {
                    name: "Anti Affinity symmetry: the existing pods in node which has anti affinity match will get high score",
                    pod: pod(s2),
                    pods: vec![away_from_s2_in_az(pod(s1).on("node1")), away_from_s1_in_az(pod(s2).on("node2"))],
                    nodes: vec![n("node1", az1), n("node2", az2)],
                    want: Some(vec![0, 100]),
                },
                ScoreCase {
                    name: "Affinity and Anti Affinity: considered only preferredDuringSchedulingIgnoredDuringExecution in both pod affinity & anti affinity",
                    pod: stay_s1_away_s2(pod(s1)),
                    pods: vec![pod(s1).on("node1"), pod(s1).on("node2")],
                    nodes: vec![n("node1", china), n("node2", az1)],
                    want: Some(vec![100, 0]),
                },
                ScoreCase {
                    name: "Affinity and Anti Affinity: considering both affinity and anti-affinity, the pod to schedule and existing pods have the same labels",
                    pod: stay_s1_away_s2(pod(s1)),
                    pods: vec![
                        pod(s1).on("node1"),
                        pod(s1).on("node1"),
                        pod(s1).on("node2"),
                        pod(s1).on("node3"),
                        pod(s1).on("node3"),
                        pod(s1).on("node4"),
                        pod(s1).on("node5"),
                    ],
                    nodes: vec![n("node1", china_az1), n("node2", india), n("node3", china), n("node4", china), n("node5", india)],
                    want: Some(vec![100, 0, 100, 100, 0]),
                },
                ScoreCase {
                    name: "Affinity and Anti Affinity and symmetry: considered only preferredDuringSchedulingIgnoredDuringExecution in both pod affinity & anti affinity & symmetry",
                    pod: stay_s1_away_s2(pod(s1)),
                    pods: vec![
                        pod(s1).on("node1"),
                        pod(s2).on("node2"),
                        stay_s1_away_s2(pod("").on("node3")),
                        away_from_s1_in_az(pod("").on("node4")),
                    ],
                    nodes: vec![n("node1", china), n("node2", az1), n("node3", india), n("node4", az2)],
                    want: Some(vec![100, 0, 100, 0]),
                },
                ScoreCase {
                    name: "Avoid panic when partial nodes in a topology don't have pods with affinity",
                    pod: pod(s1),
                    pods: vec![pod(s1).on("node1"), stay_s1_away_s2(pod("").on("node2"))],
                    nodes: vec![n("node1", china), n("node2", china)],
                    want: Some(vec![0, 0]),
                },
                ScoreCase {
                    name: "Affinity with pods matching NamespaceSelector",
                    pod: affinity_ns_selector(pod(s1).ns("subteam1.team1")),
                    pods: vec![
                        pod(s1).ns("subteam1.team1").on("node1"),
                        pod(s1).ns("subteam1.team1").on("node1"),
                        pod(s1).ns("subteam1.team2").on("node1"),
                        pod(s1).ns("subteam2.team1").on("node2"),
                    ],
                    nodes: vec![n("node1", china), n("node2", india)],
                    want: Some(vec![100, 0]),
                },
                ScoreCase {
                    name: "Affinity with pods matching both NamespaceSelector and Namespaces fields",
                    pod: affinity_ns_selector(pod(s1).ns("subteam1.team1")),
                    pods: vec![
                        pod(s1).ns("subteam1.team1").on("node1"),
                        pod(s1).ns("subteam1.team1").on("node1"),
                        pod(s1).ns("subteam2.team2").on("node1"),
                        pod(s1).ns("subteam2.team1").on("node2"),
                    ],
                    nodes: vec![n("node1", china), n("node2", india)],
                    want: Some(vec![100, 0]),
                },
                ScoreCase {
                    name: "Anti-affinity with pods matching NamespaceSelector",
                    pod: anti_affinity_ns_selector(pod(s1).ns("subteam1.team1")),
                    pods: vec![
                        pod(s1).ns("subteam1.team1").on("node1"),
                        pod(s1).ns("subteam1.team1").on("node1"),
                        pod(s1).ns("subteam1.team2").on("node1"),
                        pod(s1).ns("subteam2.team1").on("node2"),
                    ],
                    nodes: vec![n("node1", china), n("node2", india)],
                    want: Some(vec![0, 100]),
                },
                ScoreCase {
                    name: "Anti-affinity with pods matching both NamespaceSelector and Namespaces fields",
                    pod: anti_affinity_ns_selector(pod(s1).ns("subteam1.team1")),
                    pods: vec![
                        pod(s1).ns("subteam1.team1").on("node1"),
                        pod(s1).ns("subteam1.team1").on("node1"),
                        pod(s1).ns("subteam2.team2").on("node1"),
                        pod(s1).ns("subteam2.team1").on("node2"),
                    ],
                    nodes: vec![n("node1", china), n("node2", india)],
                    want: Some(vec![0, 100]),
                },
                ScoreCase {
                    name: "Do not ignore preferred terms of existing pods",
                    pod: pod(s2),
                    pods: vec![stay_s1_away_s2(pod(s1).on("node1")), stay_with_s2_in_region(pod(s2).on("node2"))],
                    nodes: vec![n("node1", china), n("node2", india)],
                    want: Some(vec![0, 100]),
                },
                ScoreCase { name: "No nodes to score", pod: pod(s2), pods: vec![], nodes: vec![], want: None },
            ],
        );

        let ignoring = InterPodAffinity::from_args(Some(&serde_json::json!({"ignorePreferredTermsOfExistingPods": true}))).expect("args");
        run_score_cases(
            &ignoring,
            vec![ScoreCase {
                name: "Ignore preferred terms of existing pods",
                pod: pod(s2),
                pods: vec![stay_s1_away_s2(pod(s1).on("node1")), stay_with_s2_in_region(pod(s2).on("node2"))],
                nodes: vec![n("node1", china), n("node2", india)],
                want: None,
            }],
        );
    }

    #[test]
    fn pre_score_rejects_unparsable_terms() {
        let p = pod("").preferred(8, term_in("security", &["{{.bad-value.}}"], "region"));
        let snap = snapshot(&[node("node1", "region=China"), node("node2", "region=China")], &[]);
        let mut state = CycleState::default();
        let status = plugin().pre_score(&mut state, &info(&p), &snap.nodes, &snap);
        assert_eq!(status.code, Code::Error);
        assert!(status.reasons[0].contains(r#"Invalid value: "{{.bad-value.}}""#), "{status:?}");
    }

    #[test]
    fn preferred_affinity_with_hard_pod_affinity_symmetric_weight() {
        let hard = |p: Pod| {
            p.required(PodAffinityTerm {
                namespaces: Some(vec![String::new(), "subteam2.team2".into()]),
                namespace_selector: team1(),
                ..term_in("service", &["S1"], "region")
            })
        };
        let nodes = || vec![node("node1", "region=China"), node("node2", "region=India"), node("node3", "az=az1")];
        let existing = || vec![hard(pod("").on("node1")), hard(pod("").on("node2"))];
        let with_weight = |w: i32| InterPodAffinity::from_args(Some(&serde_json::json!({"hardPodAffinityWeight": w}))).expect("args");
        let case = |name, ns: &str, want| ScoreCase { name, pod: pod("service=S1").ns(ns), pods: existing(), nodes: nodes(), want };
        run_score_cases(&with_weight(1), vec![case("with default weight", "", Some(vec![100, 100, 0]))]);
        run_score_cases(&plugin(), vec![case("with default args", "", Some(vec![100, 100, 0]))]);
        run_score_cases(&with_weight(0), vec![case("with zero weight", "", None)]);
        run_score_cases(
            &with_weight(1),
            vec![
                case("with no matching namespace", "subteam1.team2", None),
                case("with matching NamespaceSelector", "subteam1.team1", Some(vec![100, 100, 0])),
                case("with matching Namespaces", "subteam2.team2", Some(vec![100, 100, 0])),
            ],
        );
    }

    #[test]
    fn normalize_spreads_scores_between_lowest_and_highest() {
        let mut state = CycleState::default();
        let mut s = PreScoreState::default();
        s.add(&labels("zone=a"), "zone", 1);
        state.write(PRE_SCORE_STATE_KEY, s);
        let mut scores = vec![-5, 0, 5, 10];
        assert!(plugin().normalize_score(&state, &info(&pod("")), &mut scores).is_success());
        assert_eq!(scores, vec![0, 33, 66, 100]);
        let mut same = vec![7, 7];
        assert!(plugin().normalize_score(&state, &info(&pod("")), &mut same).is_success());
        assert_eq!(same, vec![0, 0]);
        let mut empty: Vec<i64> = vec![];
        assert!(plugin().normalize_score(&state, &info(&pod("")), &mut empty).is_success());
    }

    #[test]
    fn args() {
        let pl = InterPodAffinity::from_args(None).expect("defaults");
        assert_eq!((pl.hard_pod_affinity_weight, pl.ignore_preferred_terms_of_existing_pods), (1, false));
        let pl = InterPodAffinity::from_args(Some(&serde_json::json!({
            "apiVersion": "kubescheduler.config.k8s.io/v1",
            "kind": "InterPodAffinityArgs",
            "hardPodAffinityWeight": 100,
            "ignorePreferredTermsOfExistingPods": true,
        })))
        .expect("valid");
        assert_eq!((pl.hard_pod_affinity_weight, pl.ignore_preferred_terms_of_existing_pods), (100, true));
        for (args, want) in [
            (serde_json::json!({"hardPodAffinityWeight": -1}), "hardPodAffinityWeight: Invalid value: -1: not in valid range [0-100]"),
            (serde_json::json!({"hardPodAffinityWeight": 101}), "hardPodAffinityWeight: Invalid value: 101: not in valid range [0-100]"),
            (
                serde_json::json!({"kind": "PodTopologySpreadArgs"}),
                "want args to be of type InterPodAffinityArgs, got PodTopologySpreadArgs",
            ),
        ] {
            assert_eq!(InterPodAffinity::from_args(Some(&args)).map(|_| ()), Err(want.to_string()), "{args}");
        }
        let err = InterPodAffinity::from_args(Some(&serde_json::json!({"hardPodAffinityWeigth": 1}))).expect_err("unknown field");
        assert!(err.starts_with("decoding InterPodAffinityArgs: unknown field `hardPodAffinityWeigth`"), "{err}");
        let plugin = new(Some(&serde_json::Value::Null)).expect("plugin");
        assert_eq!(plugin.name(), NAME);
        assert!(plugin.filters() && plugin.scores());
    }
}
