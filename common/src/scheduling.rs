//! Node affinity and taint/toleration matching with the semantics of
//! upstream `k8s.io/component-helpers/scheduling/corev1` (and its
//! `nodeaffinity` package), Kubernetes v1.36: what the scheduler's
//! NodeAffinity, TaintToleration and NodeUnschedulable plugins and the
//! DaemonSet controller decide about a node.
//!
//! * [`NodeSelector`]: a `v1.NodeSelector` made ready for matching (terms
//!   ORed; inside a term, `matchExpressions` on labels and `matchFields` on
//!   `metadata.name` ANDed).
//! * [`PreferredSchedulingTerms`]: weighted terms for scoring.
//! * [`RequiredNodeAffinity`]: a pod's `nodeSelector` and required node
//!   affinity together.
//! * [`toleration_tolerates_taint`], [`tolerations_tolerate_taint`],
//!   [`find_matching_untolerated_taint`].
//!
//! Nothing here panics, whatever the input.

use k8s_openapi::api::core::v1::{
    Node, NodeSelector as ApiNodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod, PreferredSchedulingTerm, Taint, Toleration,
};

use crate::field::{FieldError, FieldPath, Rendered, go_quote};
use crate::selector::{FieldSelector, Operator, Requirement, Selector};

/// The only node field `matchFields` can select on.
pub const NODE_NAME_FIELD: &str = "metadata.name";
/// The taint a cordoned node carries (`node.kubernetes.io/unschedulable`).
pub const TAINT_NODE_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";
/// Taint effect `NoSchedule`.
pub const TAINT_EFFECT_NO_SCHEDULE: &str = "NoSchedule";
/// Taint effect `PreferNoSchedule`.
pub const TAINT_EFFECT_PREFER_NO_SCHEDULE: &str = "PreferNoSchedule";
/// Taint effect `NoExecute`.
pub const TAINT_EFFECT_NO_EXECUTE: &str = "NoExecute";

const LABEL_OPERATORS: [&str; 6] = ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"];
const FIELD_OPERATORS: [&str; 2] = ["In", "NotIn"];

// ---------------------------------------------------------------------------
// Node selector terms

/// One parsed `NodeSelectorTerm` (upstream `nodeSelectorTerm`): `None`
/// means that half of the term is absent and does not restrict.
#[derive(Debug, Clone, Default)]
struct Term {
    labels: Option<Selector>,
    fields: Option<Vec<FieldSelector>>,
    /// Parse errors; a term with errors matches nothing.
    errors: Vec<FieldError>,
}

impl Term {
    fn parse(term: &NodeSelectorTerm, path: &FieldPath) -> Term {
        let mut parsed = Term::default();
        let expressions = term.match_expressions.as_deref().unwrap_or_default();
        if !expressions.is_empty() {
            match label_selector(expressions, &path.child("matchExpressions")) {
                Ok(s) => parsed.labels = Some(s),
                Err(errs) => parsed.errors.extend(errs),
            }
        }
        let fields = term.match_fields.as_deref().unwrap_or_default();
        if !fields.is_empty() {
            match field_selectors(fields, &path.child("matchFields")) {
                Ok(s) => parsed.fields = Some(s),
                Err(errs) => parsed.errors.extend(errs),
            }
        }
        parsed
    }

    /// Labels and fields both match. A node without a name has no fields,
    /// and then `matchFields` is not checked (as upstream).
    fn matches(&self, node: &Node) -> bool {
        if !self.errors.is_empty() {
            return false;
        }
        let labels = node.metadata.labels.clone().unwrap_or_default();
        if self.labels.as_ref().is_some_and(|s| !s.matches(&labels)) {
            return false;
        }
        let name = node.metadata.name.as_deref().unwrap_or_default();
        let field = |f: &str| (f == NODE_NAME_FIELD).then(|| name.to_string());
        if !name.is_empty() && self.fields.as_ref().is_some_and(|fs| !fs.iter().all(|s| s.matches(field))) {
            return false;
        }
        true
    }
}

/// A term with neither expressions nor fields selects nothing and is
/// dropped.
fn is_empty_term(term: &NodeSelectorTerm) -> bool {
    term.match_expressions.as_deref().unwrap_or_default().is_empty() && term.match_fields.as_deref().unwrap_or_default().is_empty()
}

/// `matchExpressions` as a label selector (upstream
/// `nodeSelectorRequirementsAsSelector`).
fn label_selector(expressions: &[NodeSelectorRequirement], path: &FieldPath) -> Result<Selector, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut requirements = Vec::new();
    for (i, expr) in expressions.iter().enumerate() {
        let p = path.index(i);
        let operator = match expr.operator.as_str() {
            "In" => Operator::In,
            "NotIn" => Operator::NotIn,
            "Exists" => Operator::Exists,
            "DoesNotExist" => Operator::DoesNotExist,
            "Gt" => Operator::GreaterThan,
            "Lt" => Operator::LessThan,
            other => {
                errors.push(FieldError::not_supported(p.child("operator").render(), other, &LABEL_OPERATORS));
                continue;
            }
        };
        match Requirement::new(expr.key.clone(), operator, expr.values.clone().unwrap_or_default()) {
            Ok(r) => requirements.push(r),
            Err(e) if e.field_errors().is_empty() => errors.push(FieldError::invalid(p.render(), expr.key.as_str(), e.message())),
            Err(e) => errors.extend(e.field_errors().iter().map(|fe| prefixed(fe, &p))),
        }
    }
    if errors.is_empty() { Ok(Selector::from_requirements(requirements)) } else { Err(errors) }
}

/// `matchFields` as field selectors, ANDed (upstream
/// `nodeSelectorRequirementsAsFieldSelector`): only `In` and `NotIn`, with
/// exactly one value.
fn field_selectors(requirements: &[NodeSelectorRequirement], path: &FieldPath) -> Result<Vec<FieldSelector>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut selectors = Vec::new();
    for (i, r) in requirements.iter().enumerate() {
        let p = path.index(i);
        let values = r.values.as_deref().unwrap_or_default();
        let make = match r.operator.as_str() {
            "In" => FieldSelector::one_term_equal,
            "NotIn" => FieldSelector::one_term_not_equal,
            other => {
                errors.push(FieldError::not_supported(p.child("operator").render(), other, &FIELD_OPERATORS));
                continue;
            }
        };
        match values {
            [only] => selectors.push(make(r.key.clone(), only.clone())),
            _ => errors.push(FieldError::invalid(p.child("values").render(), Rendered(go_string_slice(values)), "must have one element")),
        }
    }
    if errors.is_empty() { Ok(selectors) } else { Err(errors) }
}

/// The error with its field path put under `path`.
fn prefixed(error: &FieldError, path: &FieldPath) -> FieldError {
    let mut e = error.clone();
    let base = path.render();
    e.field = if e.field.starts_with('[') { format!("{base}{}", e.field) } else { format!("{base}.{}", e.field) };
    e
}

/// Go's `%#v` of a `[]string`.
fn go_string_slice(values: &[String]) -> String {
    let items: Vec<String> = values.iter().map(|v| go_quote(v)).collect();
    format!("[]string{{{}}}", items.join(", "))
}

// ---------------------------------------------------------------------------
// Required and preferred terms

/// A `v1.NodeSelector` ready for matching: its non-empty terms, ORed
/// (upstream `nodeaffinity.NodeSelector` and `LazyErrorNodeSelector`).
#[derive(Debug, Clone, Default)]
pub struct NodeSelector {
    terms: Vec<Term>,
}

impl NodeSelector {
    /// Parses every term, failing with all the parse errors found (upstream
    /// `NewNodeSelector`); `path` prefixes the errors' fields.
    pub fn new(selector: &ApiNodeSelector, path: &FieldPath) -> Result<NodeSelector, Vec<FieldError>> {
        let parsed = NodeSelector::lazy(selector, path);
        let errors: Vec<FieldError> = parsed.terms.iter().flat_map(|t| t.errors.iter().cloned()).collect();
        if errors.is_empty() { Ok(parsed) } else { Err(errors) }
    }

    /// Parses the terms keeping the broken ones, which then match nothing
    /// (upstream `NewLazyErrorNodeSelector`, what pods' affinity uses).
    pub fn lazy(selector: &ApiNodeSelector, path: &FieldPath) -> NodeSelector {
        let terms_path = path.child("nodeSelectorTerms");
        let terms = selector
            .node_selector_terms
            .iter()
            .enumerate()
            .filter(|(_, t)| !is_empty_term(t))
            .map(|(i, t)| Term::parse(t, &terms_path.index(i)))
            .collect();
        NodeSelector { terms }
    }

    /// Whether any term matches the node's labels and name.
    pub fn matches(&self, node: &Node) -> bool {
        self.terms.iter().any(|t| t.matches(node))
    }
}

/// Weighted node selector terms (upstream
/// `nodeaffinity.PreferredSchedulingTerms`).
#[derive(Debug, Clone, Default)]
pub struct PreferredSchedulingTerms {
    terms: Vec<(Term, i64)>,
}

impl PreferredSchedulingTerms {
    /// Parses the terms, skipping those of weight 0 or without
    /// requirements; fails with all the parse errors found.
    pub fn new(terms: &[PreferredSchedulingTerm], path: &FieldPath) -> Result<PreferredSchedulingTerms, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut parsed = Vec::new();
        for (i, t) in terms.iter().enumerate() {
            if t.weight == 0 || is_empty_term(&t.preference) {
                continue;
            }
            let term = Term::parse(&t.preference, &path.index(i));
            if term.errors.is_empty() {
                parsed.push((term, i64::from(t.weight)));
            } else {
                errors.extend(term.errors);
            }
        }
        if errors.is_empty() { Ok(PreferredSchedulingTerms { terms: parsed }) } else { Err(errors) }
    }

    /// The sum of the weights of the terms the node matches.
    pub fn score(&self, node: &Node) -> i64 {
        self.terms.iter().filter(|(t, _)| t.matches(node)).map(|(_, w)| w).sum()
    }
}

/// A pod's `spec.nodeSelector` and required node affinity (upstream
/// `nodeaffinity.RequiredNodeAffinity`); parse errors in the affinity make
/// the broken terms match nothing.
#[derive(Debug, Clone, Default)]
pub struct RequiredNodeAffinity {
    node_selector: Option<Selector>,
    affinity: Option<NodeSelector>,
}

impl RequiredNodeAffinity {
    /// Upstream `GetRequiredNodeAffinity`.
    pub fn of_pod(pod: &Pod) -> RequiredNodeAffinity {
        let spec = pod.spec.as_ref();
        let node_selector = spec.and_then(|s| s.node_selector.as_ref()).filter(|m| !m.is_empty()).map(Selector::from_set);
        let affinity = spec
            .and_then(|s| s.affinity.as_ref())
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|a| a.required_during_scheduling_ignored_during_execution.as_ref())
            .map(|s| NodeSelector::lazy(s, &FieldPath::default()));
        RequiredNodeAffinity { node_selector, affinity }
    }

    /// Whether the node satisfies both the node selector and the required
    /// affinity.
    pub fn matches(&self, node: &Node) -> bool {
        let labels = node.metadata.labels.clone().unwrap_or_default();
        if self.node_selector.as_ref().is_some_and(|s| !s.matches(&labels)) {
            return false;
        }
        self.affinity.as_ref().is_none_or(|a| a.matches(node))
    }
}

/// Whether the pod's node selector and required node affinity admit the
/// node (upstream `PodMatchesNodeSelectorAndAffinityTerms`).
pub fn pod_matches_node_selector_and_affinity_terms(pod: &Pod, node: &Node) -> bool {
    RequiredNodeAffinity::of_pod(pod).matches(node)
}

// ---------------------------------------------------------------------------
// Taints and tolerations

/// Upstream `Toleration.ToleratesTaint`: the effects match (an empty
/// toleration effect matches all), the keys match (an empty toleration key
/// matches all), and `Exists` tolerates any value while `Equal` (the
/// default) needs the same value. `Lt`/`Gt` are behind the alpha feature
/// gate `TaintTolerationComparisonOperators`, off in v1.36, so they
/// tolerate nothing.
pub fn toleration_tolerates_taint(toleration: &Toleration, taint: &Taint) -> bool {
    let effect = toleration.effect.as_deref().unwrap_or_default();
    if !effect.is_empty() && effect != taint.effect {
        return false;
    }
    let key = toleration.key.as_deref().unwrap_or_default();
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match toleration.operator.as_deref().unwrap_or_default() {
        "" | "Equal" => toleration.value.as_deref().unwrap_or_default() == taint.value.as_deref().unwrap_or_default(),
        "Exists" => true,
        _ => false,
    }
}

/// Whether any of the tolerations tolerates the taint (upstream
/// `TolerationsTolerateTaint`).
pub fn tolerations_tolerate_taint(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| toleration_tolerates_taint(t, taint))
}

/// The first taint that `include` selects and no toleration tolerates
/// (upstream `FindMatchingUntoleratedTaint`).
pub fn find_matching_untolerated_taint<'a>(
    taints: &'a [Taint],
    tolerations: &[Toleration],
    include: impl Fn(&Taint) -> bool,
) -> Option<&'a Taint> {
    taints.iter().filter(|t| include(t)).find(|t| !tolerations_tolerate_taint(tolerations, t))
}

/// The taints that keep pods off a node: `NoSchedule` and `NoExecute`
/// (upstream `helper.DoNotScheduleTaintsFilterFunc`).
pub fn is_do_not_schedule_taint(taint: &Taint) -> bool {
    taint.effect == TAINT_EFFECT_NO_SCHEDULE || taint.effect == TAINT_EFFECT_NO_EXECUTE
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::aggregate_message;
    use serde_json::{Value, json};

    fn node(name: &str, labels: Value) -> Node {
        serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}})).unwrap()
    }

    fn selector(terms: Value) -> ApiNodeSelector {
        serde_json::from_value(json!({ "nodeSelectorTerms": terms })).unwrap()
    }

    fn pod(spec: Value) -> Pod {
        serde_json::from_value(json!({ "spec": spec })).unwrap()
    }

    fn required(terms: Value) -> Value {
        json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}})
    }

    #[test]
    fn node_selector_reports_every_parse_error() {
        let s = selector(json!([
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["host_1", "host_2"]}]},
            {"matchExpressions": [{"key": "label_1", "operator": "In", "values": ["label_1_val"]}],
             "matchFields": [{"key": "metadata.name", "operator": "In", "values": ["host_1"]}]},
            {"matchExpressions": [{"key": "invalid key", "operator": "In", "values": ["label_value"]}]},
        ]));
        let errs = NodeSelector::new(&s, &FieldPath::default()).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["nodeSelectorTerms[0].matchFields[0].values", "nodeSelectorTerms[2].matchExpressions[0].key"]);
        assert!(errs[0].to_string().ends_with(r#"Invalid value: []string{"host_1", "host_2"}: must have one element"#), "{}", errs[0]);
        let msg = aggregate_message(&errs);
        assert!(msg.starts_with('[') && msg.contains("name part must consist of alphanumeric characters"), "{msg}");
    }

    #[test]
    fn node_selector_unsupported_operators() {
        let s = selector(json!([
            {"matchExpressions": [{"key": "a", "operator": "Foo"}]},
            {"matchFields": [{"key": "metadata.name", "operator": "Exists"}]},
        ]));
        let errs = NodeSelector::new(&s, &FieldPath::root("spec")).unwrap_err();
        assert_eq!(
            errs[0].to_string(),
            r#"spec.nodeSelectorTerms[0].matchExpressions[0].operator: Unsupported value: "Foo": supported values: "In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt""#
        );
        assert_eq!(
            errs[1].to_string(),
            r#"spec.nodeSelectorTerms[1].matchFields[0].operator: Unsupported value: "Exists": supported values: "In", "NotIn""#
        );
    }

    #[test]
    fn node_selector_match() {
        let cases = [
            (
                "node matches field selector, but not labels",
                json!([{"matchExpressions": [{"key": "label_1", "operator": "In", "values": ["label_1_val"]}],
                        "matchFields": [{"key": "metadata.name", "operator": "In", "values": ["host_1"]}]}]),
                node("host_1", json!({})),
                false,
            ),
            (
                "node matches field selector and label selector",
                json!([{"matchExpressions": [{"key": "label_1", "operator": "In", "values": ["label_1_val"]}],
                        "matchFields": [{"key": "metadata.name", "operator": "In", "values": ["host_1"]}]}]),
                node("host_1", json!({"label_1": "label_1_val"})),
                true,
            ),
            (
                "second term matches",
                json!([{"matchExpressions": [{"key": "label_1", "operator": "In", "values": ["label_1_val"]}]},
                       {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["host_1"]}]}]),
                node("host_1", json!({})),
                true,
            ),
        ];
        for (name, terms, node, want) in cases {
            let s = NodeSelector::new(&selector(terms), &FieldPath::default()).unwrap();
            assert_eq!(s.matches(&node), want, "{name}");
        }
    }

    #[test]
    fn match_node_selector_terms() {
        let name_in = |v: &str| json!({"key": "metadata.name", "operator": "In", "values": [v]});
        let label_in = json!({"key": "label_1", "operator": "In", "values": ["label_1_val"]});
        let cases = [
            (
                "node label matches matchExpressions terms",
                json!([{"matchExpressions": [label_in]}]),
                node("", json!({"label_1": "label_1_val"})),
                true,
            ),
            ("node field matches matchFields terms", json!([{"matchFields": [name_in("host_1")]}]), node("host_1", json!({})), true),
            (
                "invalid node field requirement",
                json!([{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["host_1", "host_2"]}]}]),
                node("host_1", json!({})),
                false,
            ),
            (
                "fieldSelectorTerm with node labels",
                json!([{"matchFields": [name_in("host_1")]}]),
                node("not_host_1", json!({"metadata.name": "host_1"})),
                false,
            ),
            (
                "labelSelectorTerm with node fields",
                json!([{"matchExpressions": [{"key": "metadata.name", "operator": "In", "values": ["host_1"]}]}]),
                node("host_1", json!({})),
                false,
            ),
            (
                "labelSelectorTerm and fieldSelectorTerm was set, but only node fields",
                json!([{"matchExpressions": [label_in], "matchFields": [name_in("host_1")]}]),
                node("host_1", json!({})),
                false,
            ),
            (
                "labelSelectorTerm and fieldSelectorTerm was set, both node fields and labels (both matched)",
                json!([{"matchExpressions": [label_in], "matchFields": [name_in("host_1")]}]),
                node("host_1", json!({"label_1": "label_1_val"})),
                true,
            ),
            (
                "labelSelectorTerm and fieldSelectorTerm was set, both node fields and labels (one mismatched)",
                json!([{"matchExpressions": [label_in], "matchFields": [name_in("host_1")]}]),
                node("host_1", json!({"label_1": "label_1_val-failed"})),
                false,
            ),
            (
                "multi-selector was set, both node fields and labels (one mismatched)",
                json!([{"matchExpressions": [label_in]}, {"matchFields": [name_in("host_1")]}]),
                node("host_1", json!({"label_1": "label_1_val-failed"})),
                true,
            ),
        ];
        for (name, terms, node, want) in cases {
            assert_eq!(NodeSelector::lazy(&selector(terms), &FieldPath::default()).matches(&node), want, "{name}");
        }
    }

    #[test]
    fn preferred_scheduling_terms() {
        let terms: Vec<PreferredSchedulingTerm> = serde_json::from_value(json!([
            {"weight": 1, "preference": {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["host_1", "host_2"]}]}},
            {"weight": 1, "preference": {"matchExpressions": [{"key": "invalid key", "operator": "In", "values": ["label_value"]}]}},
        ]))
        .unwrap();
        let errs = PreferredSchedulingTerms::new(&terms, &FieldPath::default()).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["[0].matchFields[0].values", "[1].matchExpressions[0].key"]);

        let zero_weight: Vec<PreferredSchedulingTerm> = serde_json::from_value(json!([
            {"weight": 0, "preference": {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["host_1", "host_2"]}]}},
        ]))
        .unwrap();
        let parsed = PreferredSchedulingTerms::new(&zero_weight, &FieldPath::default()).unwrap();
        assert_eq!(parsed.score(&node("host_1", json!({}))), 0, "invalid field selector but no weight, error not reported");

        let terms: Vec<PreferredSchedulingTerm> = serde_json::from_value(json!([
            {"weight": 5, "preference": {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["host_1"]}]}},
            {"weight": 7, "preference": {"matchExpressions": [{"key": "unknown_label", "operator": "In", "values": ["unknown_label_val"]}]}},
            {"weight": 11, "preference": {"matchExpressions": [{"key": "label_1", "operator": "In", "values": ["label_1_val"]}]}},
        ]))
        .unwrap();
        let parsed = PreferredSchedulingTerms::new(&terms, &FieldPath::default()).unwrap();
        assert_eq!(parsed.score(&node("host_1", json!({"label_1": "label_1_val"}))), 16, "first and third term match");
    }

    #[test]
    fn pod_matches_node_selector_and_affinity() {
        let expr = |key: &str, op: &str, values: Value| json!({"key": key, "operator": op, "values": values});
        let name_in = json!({"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node_1"]}]});
        let foo_bar = json!({"matchExpressions": [expr("foo", "In", json!(["bar"]))]});
        let cases: Vec<(&str, Value, Value, &str, bool)> = vec![
            ("no selector", json!({}), json!({}), "", true),
            ("missing labels", json!({"nodeSelector": {"foo": "bar"}}), json!({}), "", false),
            ("same labels", json!({"nodeSelector": {"foo": "bar"}}), json!({"foo": "bar"}), "", true),
            ("node labels are superset", json!({"nodeSelector": {"foo": "bar"}}), json!({"foo": "bar", "baz": "blah"}), "", true),
            ("node labels are subset", json!({"nodeSelector": {"foo": "bar", "baz": "blah"}}), json!({"foo": "bar"}), "", false),
            (
                "In operator that matches the existing node",
                json!({"affinity": required(json!([{"matchExpressions": [expr("foo", "In", json!(["bar", "value2"]))]}]))}),
                json!({"foo": "bar"}),
                "",
                true,
            ),
            (
                "Gt operator that matches the existing node",
                json!({"affinity": required(json!([{"matchExpressions": [expr("kernel-version", "Gt", json!(["0204"]))]}]))}),
                json!({"kernel-version": "0206"}),
                "",
                true,
            ),
            (
                "NotIn operator that matches the existing node",
                json!({"affinity": required(json!([{"matchExpressions": [expr("mem-type", "NotIn", json!(["DDR", "DDR2"]))]}]))}),
                json!({"mem-type": "DDR3"}),
                "",
                true,
            ),
            (
                "Exists operator that matches the existing node",
                json!({"affinity": required(json!([{"matchExpressions": [{"key": "GPU", "operator": "Exists"}]}]))}),
                json!({"GPU": "NVIDIA-GRID-K1"}),
                "",
                true,
            ),
            (
                "affinity that don't match node's labels won't schedule onto the node",
                json!({"affinity": required(json!([{"matchExpressions": [expr("foo", "In", json!(["value1", "value2"]))]}]))}),
                json!({"foo": "bar"}),
                "",
                false,
            ),
            ("a nil []NodeSelectorTerm in affinity", json!({"affinity": required(Value::Null)}), json!({"foo": "bar"}), "", false),
            ("an empty []NodeSelectorTerm in affinity", json!({"affinity": required(json!([]))}), json!({"foo": "bar"}), "", false),
            (
                "empty MatchExpressions is not a valid value will match no objects",
                json!({"affinity": required(json!([{"matchExpressions": []}]))}),
                json!({"foo": "bar"}),
                "",
                false,
            ),
            ("no Affinity will schedule onto a node", json!({}), json!({"foo": "bar"}), "", true),
            (
                "Affinity but nil NodeSelector will schedule onto a node",
                json!({"affinity": {"nodeAffinity": {}}}),
                json!({"foo": "bar"}),
                "",
                true,
            ),
            (
                "multiple matchExpressions ANDed that matches the existing node",
                json!({"affinity": required(json!([{"matchExpressions": [{"key": "GPU", "operator": "Exists"}, expr("GPU", "NotIn", json!(["AMD", "INTER"]))]}]))}),
                json!({"GPU": "NVIDIA-GRID-K1"}),
                "",
                true,
            ),
            (
                "multiple matchExpressions ANDed that doesn't match the existing node",
                json!({"affinity": required(json!([{"matchExpressions": [{"key": "GPU", "operator": "Exists"}, expr("GPU", "In", json!(["AMD", "INTER"]))]}]))}),
                json!({"GPU": "NVIDIA-GRID-K1"}),
                "",
                false,
            ),
            (
                "multiple NodeSelectorTerms ORed in affinity, matches the node's labels",
                json!({"affinity": required(json!([
                    {"matchExpressions": [expr("foo", "In", json!(["bar", "value2"]))]},
                    {"matchExpressions": [expr("diffkey", "In", json!(["wrong", "value2"]))]}]))}),
                json!({"foo": "bar"}),
                "",
                true,
            ),
            (
                "an Affinity and a PodSpec.NodeSelector both are satisfied",
                json!({"nodeSelector": {"foo": "bar"}, "affinity": required(json!([{"matchExpressions": [{"key": "foo", "operator": "Exists"}]}]))}),
                json!({"foo": "bar"}),
                "",
                true,
            ),
            (
                "an Affinity matches node's labels but the PodSpec.NodeSelector is not satisfied",
                json!({"nodeSelector": {"foo": "bar"}, "affinity": required(json!([{"matchExpressions": [{"key": "foo", "operator": "Exists"}]}]))}),
                json!({"foo": "barrrrrr"}),
                "",
                false,
            ),
            (
                "an invalid value in Affinity term won't be scheduled onto the node",
                json!({"affinity": required(json!([{"matchExpressions": [expr("foo", "NotIn", json!(["invalid value: ___@#$%^"]))]}]))}),
                json!({"foo": "bar"}),
                "",
                false,
            ),
            (
                "matchFields using In operator that matches the existing node",
                json!({"affinity": required(json!([name_in]))}),
                json!({}),
                "node_1",
                true,
            ),
            (
                "matchFields using In operator that does not match the existing node",
                json!({"affinity": required(json!([name_in]))}),
                json!({}),
                "node_2",
                false,
            ),
            (
                "two terms: matchFields does not match, but matchExpressions matches",
                json!({"affinity": required(json!([name_in, foo_bar]))}),
                json!({"foo": "bar"}),
                "node_2",
                true,
            ),
            (
                "one term: matchFields does not match, but matchExpressions matches",
                json!({"affinity": required(json!([{"matchFields": name_in["matchFields"], "matchExpressions": foo_bar["matchExpressions"]}]))}),
                json!({"foo": "bar"}),
                "node_2",
                false,
            ),
            (
                "one term: both matchFields and matchExpressions match",
                json!({"affinity": required(json!([{"matchFields": name_in["matchFields"], "matchExpressions": foo_bar["matchExpressions"]}]))}),
                json!({"foo": "bar"}),
                "node_1",
                true,
            ),
            (
                "two terms: both matchFields and matchExpressions do not match",
                json!({"affinity": required(json!([name_in, {"matchExpressions": [expr("foo", "In", json!(["not-match-to-bar"]))]}]))}),
                json!({"foo": "bar"}),
                "node_2",
                false,
            ),
        ];
        for (name, spec, labels, node_name, want) in cases {
            assert_eq!(pod_matches_node_selector_and_affinity_terms(&pod(spec), &node(node_name, labels)), want, "{name}");
        }
    }

    fn taints(v: Value) -> Vec<Taint> {
        serde_json::from_value(v).unwrap()
    }

    fn tolerations(v: Value) -> Vec<Toleration> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn find_untolerated_taint() {
        let all = |_: &Taint| true;
        let none = |_: &Taint| false;
        let no_execute = |t: &Taint| t.effect == TAINT_EFFECT_NO_EXECUTE;
        let foo_exists = json!([{"key": "foo", "operator": "Exists", "effect": "NoSchedule"}]);
        type Filter<'a> = &'a dyn Fn(&Taint) -> bool;
        let cases: Vec<(&str, Value, Value, Filter, bool)> = vec![
            ("empty tolerations tolerate empty taints", json!([]), json!([]), &all, true),
            ("non-empty tolerations tolerate empty taints", foo_exists.clone(), json!([]), &all, true),
            (
                "tolerations match all taints, expect tolerated",
                foo_exists.clone(),
                json!([{"key": "foo", "effect": "NoSchedule"}]),
                &all,
                true,
            ),
            (
                "tolerations don't match taints, but no taints apply to the filter, expect tolerated",
                foo_exists.clone(),
                json!([{"key": "bar", "effect": "NoSchedule"}]),
                &none,
                true,
            ),
            (
                "all taints apply to the filter, tolerations don't match taints, expect untolerated",
                foo_exists.clone(),
                json!([{"key": "bar", "effect": "NoSchedule"}]),
                &all,
                false,
            ),
            (
                "tolerations match taints, expect tolerated",
                json!([{"key": "foo", "operator": "Exists", "effect": "NoExecute"}]),
                json!([{"key": "foo", "effect": "NoExecute"}, {"key": "bar", "effect": "NoSchedule"}]),
                &no_execute,
                true,
            ),
            (
                "numeric Gt operator is behind a disabled feature gate, expect not tolerated",
                json!([{"key": "node.kubernetes.io/sla", "operator": "Gt", "value": "750", "effect": "NoSchedule"}]),
                json!([{"key": "node.kubernetes.io/sla", "value": "950", "effect": "NoSchedule"}]),
                &all,
                false,
            ),
            (
                "a later toleration matches the taint",
                json!([{"key": "node.kubernetes.io/sla", "operator": "Gt", "value": "950", "effect": "NoSchedule"},
                       {"key": "node.kubernetes.io/sla", "operator": "Exists", "effect": "NoSchedule"}]),
                json!([{"key": "node.kubernetes.io/sla", "value": "high", "effect": "NoSchedule"}]),
                &all,
                true,
            ),
        ];
        for (name, tols, ts, filter, want_tolerated) in cases {
            let (tols, ts) = (tolerations(tols), taints(ts));
            assert_eq!(find_matching_untolerated_taint(&ts, &tols, filter).is_none(), want_tolerated, "{name}");
        }
    }

    #[test]
    fn toleration_rules() {
        let taint = &taints(json!([{"key": "dedicated", "value": "user1", "effect": "NoSchedule"}]))[0];
        let cases = [
            (json!({"key": "dedicated", "value": "user1", "effect": "NoSchedule"}), true),
            (json!({"key": "dedicated", "operator": "Equal", "value": "user2", "effect": "NoSchedule"}), false),
            (json!({"key": "dedicated", "operator": "Exists"}), true),
            (json!({"operator": "Exists"}), true),
            (json!({"key": "dedicated", "value": "user1", "effect": "PreferNoSchedule"}), false),
            (json!({"key": "dedicated", "value": "user1"}), true),
            (json!({"key": "other", "operator": "Exists"}), false),
            (json!({"key": "dedicated", "operator": "Bogus", "value": "user1"}), false),
        ];
        for (t, want) in cases {
            let t: Toleration = serde_json::from_value(t.clone()).unwrap();
            assert_eq!(toleration_tolerates_taint(&t, taint), want, "{t:?}");
        }
    }
}
