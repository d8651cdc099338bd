//! `NodeAffinity` (upstream `pkg/scheduler/framework/plugins/nodeaffinity`):
//! filters nodes by the pod's `spec.nodeSelector` and required node
//! affinity, and by the scheduler-enforced `addedAffinity` of
//! `NodeAffinityArgs`; scores nodes by the weights of the preferred terms
//! (the pod's and the added ones) they match.

use std::collections::BTreeSet;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, NodeAffinity as ApiNodeAffinity, NodeSelectorTerm};
use rudder_common::field::{FieldError, FieldPath, aggregate_message};
use rudder_common::scheduling::{NODE_NAME_FIELD, NodeSelector, PreferredSchedulingTerms, RequiredNodeAffinity};
use serde::Deserialize;

use crate::framework::{CycleState, MAX_NODE_SCORE, NodeInfo, Plugin, PodInfo, Snapshot, Status, default_normalize_score};

/// The upstream plugin name.
pub const NAME: &str = "NodeAffinity";

/// The reason when the pod's node selector or required affinity does not
/// match the node.
pub const ERR_REASON_POD: &str = "node(s) didn't match Pod's node affinity/selector";
/// The reason when the scheduler-enforced affinity does not match.
pub const ERR_REASON_ENFORCED: &str = "node(s) didn't match scheduler-enforced node affinity";
/// The PreFilter reason when the pod's terms pin it to no node name at all.
pub const ERR_REASON_CONFLICT: &str = "pod affinity terms conflict";

const PRE_FILTER_KEY: &str = "PreFilterNodeAffinity";
const PRE_SCORE_KEY: &str = "PreScoreNodeAffinity";

/// `NodeAffinityArgs` as written in a `KubeSchedulerConfiguration`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Args {
    #[serde(rename = "apiVersion")]
    _api_version: Option<String>,
    #[serde(rename = "kind")]
    _kind: Option<String>,
    added_affinity: Option<ApiNodeAffinity>,
}

/// The pod's required node selector and affinity, from PreFilter.
#[derive(Clone)]
struct PreFilterState(RequiredNodeAffinity);

/// The pod's preferred terms, from PreScore.
#[derive(Clone)]
struct PreScoreState(Option<PreferredSchedulingTerms>);

/// The plugin with its parsed `addedAffinity`.
pub struct NodeAffinity {
    added_required: Option<NodeSelector>,
    added_preferred: Option<PreferredSchedulingTerms>,
}

/// The plugin from its `NodeAffinityArgs` (`{"addedAffinity": {...}}`),
/// validated as upstream's `ValidateNodeAffinityArgs`.
pub fn new(args: Option<&serde_json::Value>) -> Result<Box<dyn Plugin>, String> {
    let args: Args = match args {
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| format!("decoding NodeAffinityArgs: {e}"))?,
        None => Args::default(),
    };
    let Some(added) = args.added_affinity else {
        return Ok(Box::new(NodeAffinity { added_required: None, added_preferred: None }));
    };
    let path = FieldPath::root("addedAffinity");
    let mut errors: Vec<FieldError> = Vec::new();
    let added_required = match &added.required_during_scheduling_ignored_during_execution {
        None => None,
        Some(s) => NodeSelector::new(s, &path.child("requiredDuringSchedulingIgnoredDuringExecution")).map_err(|e| errors.extend(e)).ok(),
    };
    let preferred = added.preferred_during_scheduling_ignored_during_execution.as_deref().unwrap_or_default();
    let added_preferred = match preferred {
        [] => None,
        terms => PreferredSchedulingTerms::new(terms, &path.child("preferredDuringSchedulingIgnoredDuringExecution"))
            .map_err(|e| errors.extend(e))
            .ok(),
    };
    if !errors.is_empty() {
        return Err(aggregate_message(&errors));
    }
    Ok(Box::new(NodeAffinity { added_required, added_preferred }))
}

/// The pod's `requiredDuringSchedulingIgnoredDuringExecution` terms, if set.
fn required_terms(pod: &PodInfo) -> Option<&[NodeSelectorTerm]> {
    let affinity = pod.pod.spec.as_ref()?.affinity.as_ref()?.node_affinity.as_ref()?;
    affinity.required_during_scheduling_ignored_during_execution.as_ref().map(|s| s.node_selector_terms.as_slice())
}

/// The pod's preferred terms, if set (upstream
/// `getPodPreferredNodeAffinity`); an error for unparsable terms.
fn pod_preferred(pod: &PodInfo) -> Result<Option<PreferredSchedulingTerms>, String> {
    let terms = pod
        .pod
        .spec
        .as_ref()
        .and_then(|s| s.affinity.as_ref())
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|a| a.preferred_during_scheduling_ignored_during_execution.as_deref());
    match terms {
        None => Ok(None),
        Some(terms) => PreferredSchedulingTerms::new(terms, &FieldPath::default()).map(Some).map_err(|e| aggregate_message(&e)),
    }
}

/// The node names the terms allow, when every term pins
/// `metadata.name` with `In` (the terms are ORed, the requirements of a
/// term ANDed); `None` when some term allows any node.
fn pinned_node_names(terms: &[NodeSelectorTerm]) -> Option<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    for term in terms {
        let mut term_names: Option<BTreeSet<String>> = None;
        for r in term.match_fields.iter().flatten().filter(|r| r.key == NODE_NAME_FIELD && r.operator == "In") {
            let values: BTreeSet<String> = r.values.iter().flatten().cloned().collect();
            term_names = Some(match term_names {
                None => values,
                Some(prev) => prev.intersection(&values).cloned().collect(),
            });
        }
        names.extend(term_names?);
    }
    Some(names)
}

fn node_of(node: &NodeInfo) -> Option<&Node> {
    node.node.as_deref()
}

impl Plugin for NodeAffinity {
    fn name(&self) -> &'static str {
        NAME
    }

    fn filters(&self) -> bool {
        true
    }

    fn scores(&self) -> bool {
        true
    }

    fn pre_filter(&self, state: &mut CycleState, pod: &PodInfo, _snapshot: &Snapshot) -> Status {
        let terms = required_terms(pod);
        let has_node_selector = pod.pod.spec.as_ref().is_some_and(|s| s.node_selector.is_some());
        if terms.is_none() && self.added_required.is_none() && !has_node_selector {
            return Status::skip();
        }
        state.write(PRE_FILTER_KEY, PreFilterState(RequiredNodeAffinity::of_pod(&pod.pod)));
        match terms.filter(|t| !t.is_empty()).and_then(pinned_node_names) {
            Some(names) if names.is_empty() => Status::unresolvable(ERR_REASON_CONFLICT),
            _ => Status::success(),
        }
    }

    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let Some(n) = node_of(node) else { return Status::error("node not found") };
        if self.added_required.as_ref().is_some_and(|s| !s.matches(n)) {
            return Status::unresolvable(ERR_REASON_ENFORCED);
        }
        let matches = match state.read::<PreFilterState>(PRE_FILTER_KEY) {
            Some(s) => s.0.matches(n),
            None => RequiredNodeAffinity::of_pod(&pod.pod).matches(n),
        };
        if matches { Status::success() } else { Status::unresolvable(ERR_REASON_POD) }
    }

    fn pre_score(&self, state: &mut CycleState, pod: &PodInfo, _nodes: &[Arc<NodeInfo>], _snapshot: &Snapshot) -> Status {
        let preferred = match pod_preferred(pod) {
            Ok(p) => p,
            Err(e) => return Status::error(e),
        };
        if preferred.is_none() && self.added_preferred.is_none() {
            return Status::skip();
        }
        state.write(PRE_SCORE_KEY, PreScoreState(preferred));
        Status::success()
    }

    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
        let Some(n) = node_of(node) else { return Err(Status::error("node not found")) };
        let added = self.added_preferred.as_ref().map_or(0, |t| t.score(n));
        let own = match state.read::<PreScoreState>(PRE_SCORE_KEY) {
            Some(s) => s.0.as_ref().map_or(0, |t| t.score(n)),
            None => pod_preferred(pod).map_err(Status::error)?.map_or(0, |t| t.score(n)),
        };
        Ok(added + own)
    }

    fn normalize_score(&self, _state: &CycleState, _pod: &PodInfo, scores: &mut [i64]) -> Status {
        default_normalize_score(MAX_NODE_SCORE, false, scores);
        Status::success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Code;
    use serde_json::{Value, json};

    fn pod(spec: Value) -> PodInfo {
        let mut spec = spec;
        spec["containers"] = json!([]);
        PodInfo::new(Arc::new(serde_json::from_value(json!({ "spec": spec })).unwrap()))
    }

    fn node(name: &str, labels: Value) -> Arc<NodeInfo> {
        Arc::new(NodeInfo::new(Arc::new(serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}})).unwrap())))
    }

    fn required(terms: Value) -> Value {
        json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}})
    }

    fn expr(key: &str, op: &str, values: Value) -> Value {
        json!({"key": key, "operator": op, "values": values})
    }

    fn name_in(names: &[&str]) -> Value {
        json!({"key": "metadata.name", "operator": "In", "values": names})
    }

    struct FilterCase {
        name: &'static str,
        pod: PodInfo,
        labels: Value,
        node_name: &'static str,
        args: Option<Value>,
        pre_filter: Option<Status>,
        filter: Option<Status>,
        run_pre_filter: bool,
    }

    fn case(name: &'static str, pod: PodInfo, labels: Value, node_name: &'static str) -> FilterCase {
        FilterCase { name, pod, labels, node_name, args: None, pre_filter: None, filter: None, run_pre_filter: true }
    }

    fn rejects(mut c: FilterCase) -> FilterCase {
        c.filter = Some(Status::unresolvable(ERR_REASON_POD));
        c
    }

    #[test]
    fn filter() {
        let foo_bar = json!({"foo": "bar"});
        let gpu = json!({"GPU": "NVIDIA-GRID-K1"});
        let added_name = json!({"addedAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchFields": [name_in(&["node2"])]}]}}});
        let cases = vec![
            rejects(case("missing labels", pod(json!({"nodeSelector": {"foo": "bar"}})), json!({}), "")),
            case("same labels", pod(json!({"nodeSelector": {"foo": "bar"}})), foo_bar.clone(), ""),
            case("node labels are superset", pod(json!({"nodeSelector": {"foo": "bar"}})), json!({"foo": "bar", "baz": "blah"}), ""),
            rejects(case("node labels are subset", pod(json!({"nodeSelector": {"foo": "bar", "baz": "blah"}})), foo_bar.clone(), "")),
            case(
                "Pod with matchExpressions using In operator that matches the existing node",
                pod(required(json!([{"matchExpressions": [expr("foo", "In", json!(["bar", "value2"]))]}]))),
                foo_bar.clone(),
                "",
            ),
            case(
                "Pod with matchExpressions using Gt operator that matches the existing node",
                pod(required(json!([{"matchExpressions": [expr("kernel-version", "Gt", json!(["0204"]))]}]))),
                json!({"kernel-version": "0206"}),
                "",
            ),
            case(
                "Pod with matchExpressions using NotIn operator that matches the existing node",
                pod(required(json!([{"matchExpressions": [expr("mem-type", "NotIn", json!(["DDR", "DDR2"]))]}]))),
                json!({"mem-type": "DDR3"}),
                "",
            ),
            case(
                "Pod with matchExpressions using Exists operator that matches the existing node",
                pod(required(json!([{"matchExpressions": [{"key": "GPU", "operator": "Exists"}]}]))),
                gpu.clone(),
                "",
            ),
            rejects(case(
                "Pod with affinity that don't match node's labels won't schedule onto the node",
                pod(required(json!([{"matchExpressions": [expr("foo", "In", json!(["value1", "value2"]))]}]))),
                foo_bar.clone(),
                "",
            )),
            rejects(case(
                "Pod with empty MatchExpressions is not a valid value will match no objects and won't schedule onto the node",
                pod(required(json!([{"matchExpressions": []}]))),
                foo_bar.clone(),
                "",
            )),
            FilterCase {
                pre_filter: Some(Status::skip()),
                ..case("Pod with no Affinity will schedule onto a node", pod(json!({})), foo_bar.clone(), "")
            },
            FilterCase {
                pre_filter: Some(Status::skip()),
                ..case(
                    "Pod with Affinity but nil NodeSelector will schedule onto a node",
                    pod(json!({"affinity": {"nodeAffinity": {}}})),
                    foo_bar.clone(),
                    "",
                )
            },
            case(
                "Pod with multiple matchExpressions ANDed that matches the existing node",
                pod(required(
                    json!([{"matchExpressions": [{"key": "GPU", "operator": "Exists"}, expr("GPU", "NotIn", json!(["AMD", "INTER"]))]}]),
                )),
                gpu.clone(),
                "",
            ),
            rejects(case(
                "Pod with multiple matchExpressions ANDed that doesn't match the existing node",
                pod(required(
                    json!([{"matchExpressions": [{"key": "GPU", "operator": "Exists"}, expr("GPU", "In", json!(["AMD", "INTER"]))]}]),
                )),
                gpu.clone(),
                "",
            )),
            case(
                "Pod with multiple NodeSelectorTerms ORed in affinity, matches the node's labels and will schedule onto the node",
                pod(required(json!([
                    {"matchExpressions": [expr("foo", "In", json!(["bar", "value2"]))]},
                    {"matchExpressions": [expr("diffkey", "In", json!(["wrong", "value2"]))]}
                ]))),
                foo_bar.clone(),
                "",
            ),
            case(
                "Pod with an Affinity and a PodSpec.NodeSelector(the old thing that we are deprecating) both are satisfied, will schedule onto the node",
                pod(
                    json!({"nodeSelector": {"foo": "bar"}, "affinity": required(json!([{"matchExpressions": [{"key": "foo", "operator": "Exists"}]}]))["affinity"]}),
                ),
                foo_bar.clone(),
                "",
            ),
            rejects(case(
                "Pod with an Affinity matches node's labels but the PodSpec.NodeSelector(the old thing that we are deprecating) is not satisfied, won't schedule onto the node",
                pod(
                    json!({"nodeSelector": {"foo": "bar"}, "affinity": required(json!([{"matchExpressions": [{"key": "foo", "operator": "Exists"}]}]))["affinity"]}),
                ),
                json!({"foo": "barrrrrr"}),
                "",
            )),
            rejects(case(
                "Pod with an invalid value in Affinity term won't be scheduled onto the node",
                pod(required(json!([{"matchExpressions": [expr("foo", "NotIn", json!(["invalid value: ___@#$%^"]))]}]))),
                foo_bar.clone(),
                "",
            )),
            case(
                "Pod with matchFields using In operator that matches the existing node",
                pod(required(json!([{"matchFields": [name_in(&["node1"])]}]))),
                json!({}),
                "node1",
            ),
            rejects(case(
                "Pod with matchFields using In operator that does not match the existing node",
                pod(required(json!([{"matchFields": [name_in(&["node1"])]}]))),
                json!({}),
                "node2",
            )),
            case(
                "Pod with two terms: matchFields does not match, but matchExpressions matches",
                pod(required(
                    json!([{"matchFields": [name_in(&["node1"]), name_in(&["node2"])]}, {"matchExpressions": [expr("foo", "In", json!(["bar"]))]}]),
                )),
                foo_bar.clone(),
                "node2",
            ),
            rejects(case(
                "Pod with one term: matchFields does not match, but matchExpressions matches",
                pod(required(json!([{"matchFields": [name_in(&["node1"])], "matchExpressions": [expr("foo", "In", json!(["bar"]))]}]))),
                foo_bar.clone(),
                "node2",
            )),
            case(
                "Pod with one term: both matchFields and matchExpressions match",
                pod(required(json!([{"matchFields": [name_in(&["node1"])], "matchExpressions": [expr("foo", "In", json!(["bar"]))]}]))),
                foo_bar.clone(),
                "node1",
            ),
            rejects(case(
                "Pod with two terms: both matchFields and matchExpressions do not match",
                pod(required(
                    json!([{"matchFields": [name_in(&["node1"])]}, {"matchExpressions": [expr("foo", "In", json!(["not-match-to-bar"]))]}]),
                )),
                foo_bar.clone(),
                "node2",
            )),
            case(
                "Pod with two terms of node.Name affinity",
                pod(required(json!([{"matchFields": [name_in(&["node1"])]}, {"matchFields": [name_in(&["node2"])]}]))),
                json!({}),
                "node2",
            ),
            FilterCase {
                pre_filter: Some(Status::unresolvable(ERR_REASON_CONFLICT)),
                ..rejects(case(
                    "Pod with two conflicting mach field requirements",
                    pod(required(json!([{"matchFields": [name_in(&["node1"]), name_in(&["node2"])]}]))),
                    foo_bar.clone(),
                    "node2",
                ))
            },
            FilterCase {
                args: Some(added_name.clone()),
                ..case(
                    "Matches added affinity and Pod's node affinity",
                    pod(required(json!([{"matchExpressions": [expr("zone", "In", json!(["foo"]))]}]))),
                    json!({"zone": "foo"}),
                    "node2",
                )
            },
            FilterCase {
                args: Some(added_name),
                ..rejects(case(
                    "Matches added affinity but not Pod's node affinity",
                    pod(required(json!([{"matchExpressions": [expr("zone", "In", json!(["bar"]))]}]))),
                    json!({"zone": "foo"}),
                    "node2",
                ))
            },
            FilterCase {
                args: Some(
                    json!({"addedAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [expr("zone", "In", json!(["bar"]))]}]}}}),
                ),
                filter: Some(Status::unresolvable(ERR_REASON_ENFORCED)),
                ..case("Doesn't match added affinity", pod(json!({})), json!({"zone": "foo"}), "node2")
            },
            FilterCase {
                run_pre_filter: false,
                ..case(
                    "Matches node selector correctly even if PreFilter is not called",
                    pod(json!({"nodeSelector": {"foo": "bar"}})),
                    json!({"foo": "bar", "baz": "blah"}),
                    "",
                )
            },
            FilterCase {
                run_pre_filter: false,
                ..case(
                    "Matches node affinity correctly even if PreFilter is not called",
                    pod(required(
                        json!([{"matchExpressions": [{"key": "GPU", "operator": "Exists"}, expr("GPU", "NotIn", json!(["AMD", "INTER"]))]}]),
                    )),
                    gpu.clone(),
                    "",
                )
            },
        ];
        for c in cases {
            let plugin = new(c.args.as_ref()).unwrap();
            let mut state = CycleState::default();
            if c.run_pre_filter {
                let got = plugin.pre_filter(&mut state, &c.pod, &Snapshot::default());
                assert_eq!(got, c.pre_filter.unwrap_or_else(Status::success), "{}: pre_filter", c.name);
            }
            let got = plugin.filter(&state, &c.pod, &node(c.node_name, c.labels));
            assert_eq!(got, c.filter.unwrap_or_else(Status::success), "{}: filter", c.name);
        }
    }

    fn preferred(terms: Value) -> Value {
        json!({"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": terms}}})
    }

    #[test]
    fn score() {
        let label1 = json!({"foo": "bar"});
        let label2 = json!({"key": "value"});
        let label3 = json!({"az": "az1"});
        let label4 = json!({"abc": "az11", "def": "az22"});
        let label5 = json!({"foo": "bar", "key": "value", "az": "az1"});
        let affinity1 = json!([{"weight": 2, "preference": {"matchExpressions": [expr("foo", "In", json!(["bar"]))]}}]);
        let affinity2 = json!([
            {"weight": 2, "preference": {"matchExpressions": [expr("foo", "In", json!(["bar"]))]}},
            {"weight": 4, "preference": {"matchExpressions": [expr("key", "In", json!(["value"]))]}},
            {"weight": 5, "preference": {"matchExpressions": [
                expr("foo", "In", json!(["bar"])), expr("key", "In", json!(["value"])), expr("az", "In", json!(["az1"]))]}}
        ]);
        let nodes = |ls: &[(&str, &Value)]| ls.iter().map(|(n, l)| node(n, (*l).clone())).collect::<Vec<_>>();
        let cases = vec![
            (
                "no node matches preferred scheduling requirements in NodeAffinity of pod so all nodes' priority is zero",
                pod(preferred(affinity1.clone())),
                nodes(&[("node1", &label4), ("node2", &label2), ("node3", &label3)]),
                None,
                vec![0, 0, 0],
            ),
            (
                "only node1 matches the preferred scheduling requirements of pod",
                pod(preferred(affinity1.clone())),
                nodes(&[("node1", &label1), ("node2", &label2), ("node3", &label3)]),
                None,
                vec![MAX_NODE_SCORE, 0, 0],
            ),
            (
                "all nodes matches the preferred scheduling requirements of pod but with different priorities",
                pod(preferred(affinity2)),
                nodes(&[("node1", &label1), ("node5", &label5), ("node2", &label2)]),
                None,
                vec![18, MAX_NODE_SCORE, 36],
            ),
            (
                "added affinity",
                pod(json!({})),
                nodes(&[("node1", &label1), ("node2", &label2)]),
                Some(json!({"addedAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": affinity1.clone()}})),
                vec![MAX_NODE_SCORE, 0],
            ),
            (
                "added affinity and pod has default affinity",
                pod(preferred(affinity1)),
                nodes(&[("node1", &label1), ("node2", &label2), ("node3", &label5)]),
                Some(json!({"addedAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 3, "preference": {"matchExpressions": [expr("key", "In", json!(["value"]))]}}]}})),
                vec![40, 60, MAX_NODE_SCORE],
            ),
        ];
        for (name, pod, nodes, args, want) in cases {
            let plugin = new(args.as_ref()).unwrap();
            let mut state = CycleState::default();
            assert!(plugin.pre_score(&mut state, &pod, &nodes, &Snapshot::default()).is_success(), "{name}");
            let mut scores: Vec<i64> = nodes.iter().map(|n| plugin.score(&state, &pod, n).unwrap()).collect();
            assert!(plugin.normalize_score(&state, &pod, &mut scores).is_success());
            assert_eq!(scores, want, "{name}");
            // Score recomputes what PreScore would have written.
            let mut fresh: Vec<i64> = nodes.iter().map(|n| plugin.score(&CycleState::default(), &pod, n).unwrap()).collect();
            plugin.normalize_score(&state, &pod, &mut fresh);
            assert_eq!(fresh, want, "{name} without PreScore");
        }
    }

    #[test]
    fn pre_score_skips_and_errors() {
        let plugin = new(None).unwrap();
        let nodes = [node("node1", json!({"foo": "bar"}))];
        let mut state = CycleState::default();
        assert_eq!(plugin.pre_score(&mut state, &pod(json!({})), &nodes, &Snapshot::default()), Status::skip());
        let broken =
            pod(preferred(json!([{"weight": 2, "preference": {"matchExpressions": [expr("invalid key", "In", json!(["bar"]))]}}])));
        let status = plugin.pre_score(&mut state, &broken, &nodes, &Snapshot::default());
        assert_eq!(status.code, Code::Error);
        assert!(
            status.reasons[0].starts_with(r#"[0].matchExpressions[0].key: Invalid value: "invalid key": name part must consist of"#),
            "{status:?}"
        );
    }

    #[test]
    fn args_validation() {
        let err = new(Some(&json!({"addedAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchFields": [name_in(&["a", "b"])]}]},
            "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "preference": {"matchExpressions": [{"key": "a", "operator": "Bad"}]}}]
        }})))
        .err()
        .unwrap();
        assert_eq!(
            err,
            r#"[addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].values: Invalid value: []string{"a", "b"}: must have one element, addedAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].matchExpressions[0].operator: Unsupported value: "Bad": supported values: "In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]"#
        );
        let err = new(Some(&json!({"addedAffinty": {}}))).err().unwrap();
        assert!(err.starts_with("decoding NodeAffinityArgs: unknown field `addedAffinty`"), "{err}");
        assert!(new(Some(&json!({"apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "NodeAffinityArgs"}))).is_ok());
    }
}
