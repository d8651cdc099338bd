//! A DaemonSet's pods and nodes, as upstream's `pkg/controller/daemon/util`
//! and `NodeShouldRunDaemonPod` decide them (Kubernetes v1.36): the
//! tolerations every daemon pod gets, the node affinity that pins a pod to
//! its node (the scheduler places it, as upstream since 1.12), the pod
//! template with its revision labels, and whether a node should run (and
//! keep running) the DaemonSet's pod.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{
    Affinity, Node, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod, PodSpec, PodTemplateSpec, Toleration,
};
use rudder_common::scheduling::{RequiredNodeAffinity, find_matching_untolerated_taint};

/// The label with the hash of the DaemonSet revision a pod belongs to
/// (upstream `DefaultDaemonSetUniqueLabelKey`, the ControllerRevision's).
pub const REVISION_HASH_LABEL: &str = "controller-revision-hash";
/// The legacy label with the template generation (upstream
/// `DaemonSetTemplateGenerationKey`).
pub const TEMPLATE_GENERATION_LABEL: &str = "pod-template-generation";
/// The annotation in which apps/v1 carries the template generation (upstream
/// `DeprecatedTemplateGeneration`), set by the API server.
pub const TEMPLATE_GENERATION_ANNOTATION: &str = "deprecated.daemonset.template.generation";

const NO_SCHEDULE: &str = "NoSchedule";
const NO_EXECUTE: &str = "NoExecute";

/// The tolerations upstream adds to every daemon pod
/// (`AddOrUpdateDaemonPodTolerations`), in upstream's order: (key, effect);
/// all with operator `Exists`. `network-unavailable` only for host-network pods.
const DAEMON_TOLERATIONS: [(&str, &str); 6] = [
    ("node.kubernetes.io/not-ready", NO_EXECUTE),
    ("node.kubernetes.io/unreachable", NO_EXECUTE),
    ("node.kubernetes.io/disk-pressure", NO_SCHEDULE),
    ("node.kubernetes.io/memory-pressure", NO_SCHEDULE),
    ("node.kubernetes.io/pid-pressure", NO_SCHEDULE),
    ("node.kubernetes.io/unschedulable", NO_SCHEDULE),
];
const NETWORK_UNAVAILABLE: &str = "node.kubernetes.io/network-unavailable";

/// Upstream `AddOrUpdateTolerationInPodSpec`: a toleration equal in key,
/// operator, value and effect to one already there replaces it (unless it
/// is the same), otherwise it is appended.
fn add_or_update_toleration(spec: &mut PodSpec, t: Toleration) {
    let list = spec.tolerations.get_or_insert_with(Vec::new);
    let same = |a: &Toleration| {
        a.key == t.key && a.effect == t.effect && a.value.as_deref().unwrap_or_default() == t.value.as_deref().unwrap_or_default() && {
            let op = |o: &Option<String>| o.as_deref().filter(|o| !o.is_empty()).unwrap_or("Equal").to_string();
            op(&a.operator) == op(&t.operator)
        }
    };
    match list.iter_mut().find(|a| same(a)) {
        Some(existing) => *existing = t,
        None => list.push(t),
    }
}

/// Upstream `AddOrUpdateDaemonPodTolerations`.
pub fn add_daemon_tolerations(spec: &mut PodSpec) {
    let exists = |key: &str, effect: &str| Toleration {
        key: Some(key.into()),
        operator: Some("Exists".into()),
        effect: Some(effect.into()),
        ..Default::default()
    };
    for (key, effect) in DAEMON_TOLERATIONS {
        add_or_update_toleration(spec, exists(key, effect));
    }
    if spec.host_network == Some(true) {
        add_or_update_toleration(spec, exists(NETWORK_UNAVAILABLE, NO_SCHEDULE));
    }
}

/// Upstream `ReplaceDaemonSetPodNodeNameNodeAffinity`: the pod's required
/// node affinity becomes the single term `metadata.name In [node]`
/// (matchFields), whatever required terms it had; the rest of the affinity
/// is kept.
pub fn pin_to_node(affinity: Option<Affinity>, node: &str) -> Affinity {
    let term = NodeSelectorTerm {
        match_fields: Some(vec![NodeSelectorRequirement {
            key: "metadata.name".into(),
            operator: "In".into(),
            values: Some(vec![node.into()]),
        }]),
        ..Default::default()
    };
    let mut affinity = affinity.unwrap_or_default();
    let node_affinity = affinity.node_affinity.get_or_insert_with(NodeAffinity::default);
    match node_affinity.required_during_scheduling_ignored_during_execution.as_mut() {
        Some(required) => required.node_selector_terms = vec![term],
        None => node_affinity.required_during_scheduling_ignored_during_execution = Some(NodeSelector { node_selector_terms: vec![term] }),
    }
    affinity
}

/// The template generation the API server keeps in the DaemonSet's
/// annotation (upstream `GetTemplateGeneration`); `Err` when it is not a
/// number.
pub fn template_generation(ds: &DaemonSet) -> Result<Option<i64>, String> {
    match ds.metadata.annotations.as_ref().and_then(|a| a.get(TEMPLATE_GENERATION_ANNOTATION)) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|e| format!("invalid {TEMPLATE_GENERATION_ANNOTATION} annotation {v:?}: {e}")),
    }
}

/// Upstream `CreatePodTemplate`: the DaemonSet's template with the daemon
/// tolerations, the template generation label (when known) and the
/// revision hash label.
pub fn pod_template(template: &PodTemplateSpec, generation: Option<i64>, hash: &str) -> PodTemplateSpec {
    let mut t = template.clone();
    add_daemon_tolerations(t.spec.get_or_insert_with(PodSpec::default));
    let labels = t.metadata.get_or_insert_with(Default::default).labels.get_or_insert_with(BTreeMap::new);
    if let Some(g) = generation {
        labels.insert(TEMPLATE_GENERATION_LABEL.into(), g.to_string());
    }
    if !hash.is_empty() {
        labels.insert(REVISION_HASH_LABEL.into(), hash.into());
    }
    t
}

/// Upstream `NewPod`: the pod the DaemonSet would run on `node`, as the
/// predicates see it (template, daemon tolerations, nodeName).
pub fn new_pod(ds: &DaemonSet, node: &str) -> Pod {
    let template = ds.spec.as_ref().map(|s| s.template.clone()).unwrap_or_default();
    let mut spec = template.spec.unwrap_or_default();
    spec.node_name = Some(node.into());
    add_daemon_tolerations(&mut spec);
    Pod { metadata: template.metadata.unwrap_or_default(), spec: Some(spec), status: None }
}

/// What decides where a DaemonSet's pod runs, read once from the DaemonSet
/// (the template's nodeName, its required node affinity, the tolerations
/// with the daemon ones added) and then asked per node.
pub struct Placement {
    node_name: String,
    affinity: RequiredNodeAffinity,
    tolerations: Vec<Toleration>,
}

impl Placement {
    pub fn of(ds: &DaemonSet) -> Placement {
        let pod = new_pod(ds, "");
        let spec = ds.spec.as_ref().and_then(|s| s.template.spec.as_ref());
        Placement {
            node_name: spec.and_then(|s| s.node_name.clone()).unwrap_or_default(),
            affinity: RequiredNodeAffinity::of_pod(&pod),
            tolerations: pod.spec.and_then(|s| s.tolerations).unwrap_or_default(),
        }
    }

    /// Upstream `NodeShouldRunDaemonPod`: (should run, should continue
    /// running). A template nodeName or required node affinity
    /// (nodeSelector, affinity) that excludes the node: neither. A
    /// NoSchedule or NoExecute taint not tolerated: not run, but a pod
    /// already there keeps running unless a NoExecute taint is not tolerated.
    pub fn verdict(&self, node: &Node) -> (bool, bool) {
        let name = node.metadata.name.as_deref().unwrap_or_default();
        if !self.node_name.is_empty() && self.node_name != name {
            return (false, false);
        }
        if !self.affinity.matches(node) {
            return (false, false);
        }
        let taints = node.spec.as_ref().and_then(|s| s.taints.as_deref()).unwrap_or_default();
        let untolerated = |effects: &[&str]| {
            find_matching_untolerated_taint(taints, &self.tolerations, |t| effects.contains(&t.effect.as_str())).is_some()
        };
        if untolerated(&[NO_SCHEDULE, NO_EXECUTE]) {
            return (false, !untolerated(&[NO_EXECUTE]));
        }
        (true, true)
    }

    /// Whether a node event concerns the DaemonSet, as upstream's `addNode`
    /// and `updateNode` decide: a new node (`old` None) when the DaemonSet
    /// should run on it; a changed node when the verdict on it changed.
    pub fn node_change_concerns(&self, old: Option<&Node>, new: &Node) -> bool {
        let now = self.verdict(new);
        match old {
            None => now.0,
            Some(old) => self.verdict(old) != now,
        }
    }
}

/// [`Placement::verdict`] for one node (a sync over many nodes makes the
/// [`Placement`] once).
pub fn node_should_run_daemon_pod(node: &Node, ds: &DaemonSet) -> (bool, bool) {
    Placement::of(ds).verdict(node)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn ds(template_spec: Value) -> DaemonSet {
        let mut spec = json!({"containers": [{"name": "c", "image": "agent"}]});
        json_merge(&mut spec, &template_spec);
        serde_json::from_value(json!({"metadata": {"name": "agent", "namespace": "kube-system"},
            "spec": {"selector": {"matchLabels": {"app": "agent"}},
                     "template": {"metadata": {"labels": {"app": "agent"}}, "spec": spec}}}))
        .unwrap()
    }

    fn json_merge(base: &mut Value, extra: &Value) {
        if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
    }

    fn node(name: &str, labels: Value, taints: Value) -> Node {
        serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}, "spec": {"taints": taints}})).unwrap()
    }

    #[test]
    fn node_changes_concern_the_daemonsets_whose_verdict_they_change() {
        let p = Placement::of(&ds(json!({})));
        let plain = node("n", json!({}), json!([]));
        assert!(p.node_change_concerns(None, &plain), "a new node the DaemonSet runs on");
        // Unreachable: the NoSchedule taint (not tolerated) stops new pods, the
        // NoExecute one (tolerated) keeps the running pod: the verdict goes
        // from (run, continue) to (not run, continue), whatever the pods do.
        let unreachable = node(
            "n",
            json!({}),
            json!([
            {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"},
            {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}]),
        );
        assert!(p.node_change_concerns(Some(&plain), &unreachable));
        assert!(p.node_change_concerns(Some(&unreachable), &plain), "and back");
        let labelled = node("n", json!({"team": "a"}), json!([]));
        assert!(!p.node_change_concerns(Some(&plain), &labelled), "a label nothing selects on");
        let selective = Placement::of(&ds(json!({"nodeSelector": {"team": "a"}})));
        assert!(selective.node_change_concerns(Some(&plain), &labelled));
        assert!(!selective.node_change_concerns(None, &plain), "a new node it does not select");
    }

    #[test]
    fn daemon_pods_tolerate_node_conditions() {
        let mut spec = PodSpec { host_network: Some(true), ..Default::default() };
        spec.tolerations = Some(vec![Toleration {
            key: Some("node.kubernetes.io/not-ready".into()),
            operator: Some("Exists".into()),
            effect: Some("NoExecute".into()),
            toleration_seconds: Some(30),
            ..Default::default()
        }]);
        add_daemon_tolerations(&mut spec);
        let t = spec.tolerations.unwrap();
        let keys: Vec<(&str, &str, Option<i64>)> =
            t.iter().map(|t| (t.key.as_deref().unwrap(), t.effect.as_deref().unwrap(), t.toleration_seconds)).collect();
        assert_eq!(
            keys,
            [
                ("node.kubernetes.io/not-ready", "NoExecute", None),
                ("node.kubernetes.io/unreachable", "NoExecute", None),
                ("node.kubernetes.io/disk-pressure", "NoSchedule", None),
                ("node.kubernetes.io/memory-pressure", "NoSchedule", None),
                ("node.kubernetes.io/pid-pressure", "NoSchedule", None),
                ("node.kubernetes.io/unschedulable", "NoSchedule", None),
                ("node.kubernetes.io/network-unavailable", "NoSchedule", None),
            ],
            "the user's toleration with the same key, operator and effect is replaced"
        );
        let mut plain = PodSpec::default();
        add_daemon_tolerations(&mut plain);
        assert_eq!(plain.tolerations.unwrap().len(), 6);
    }

    #[test]
    fn the_pod_is_pinned_to_its_node_by_metadata_name() {
        let pinned = pin_to_node(None, "n1");
        let terms = pinned.node_affinity.unwrap().required_during_scheduling_ignored_during_execution.unwrap().node_selector_terms;
        assert_eq!(
            serde_json::to_value(&terms).unwrap(),
            json!([{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}])
        );
        // Existing required terms are replaced; preferred ones and pod affinity stay.
        let existing: Affinity = serde_json::from_value(json!({
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]},
                "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "preference": {"matchExpressions": [{"key": "ssd", "operator": "Exists"}]}}]
            },
            "podAntiAffinity": {}
        }))
        .unwrap();
        let v = serde_json::to_value(pin_to_node(Some(existing), "n2")).unwrap();
        assert_eq!(
            v["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]["matchFields"][0]["values"],
            json!(["n2"])
        );
        assert_eq!(v["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"].as_array().unwrap().len(), 1);
        assert_eq!(v["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]["weight"], 1);
        assert!(v.get("podAntiAffinity").is_some());
    }

    #[test]
    fn the_template_gets_tolerations_and_revision_labels() {
        let d = ds(json!({}));
        let t = pod_template(&d.spec.as_ref().unwrap().template, Some(3), "5d8f7b9c4");
        let labels = t.metadata.unwrap().labels.unwrap();
        assert_eq!(labels.get(REVISION_HASH_LABEL).map(String::as_str), Some("5d8f7b9c4"));
        assert_eq!(labels.get(TEMPLATE_GENERATION_LABEL).map(String::as_str), Some("3"));
        assert_eq!(labels.get("app").map(String::as_str), Some("agent"));
        assert_eq!(t.spec.unwrap().tolerations.unwrap().len(), 6);
        let mut annotated = d.clone();
        annotated.metadata.annotations = Some([(TEMPLATE_GENERATION_ANNOTATION.to_string(), "2".to_string())].into());
        assert_eq!(template_generation(&annotated), Ok(Some(2)));
        assert_eq!(template_generation(&d), Ok(None));
        annotated.metadata.annotations = Some([(TEMPLATE_GENERATION_ANNOTATION.to_string(), "two".to_string())].into());
        assert!(template_generation(&annotated).is_err());
    }

    #[test]
    fn which_nodes_run_the_daemon_pod() {
        let plain = ds(json!({}));
        let n = |taints: Value| node("n1", json!({"disk": "ssd"}), taints);
        assert_eq!(node_should_run_daemon_pod(&n(json!([])), &plain), (true, true));
        // nodeSelector and required node affinity.
        assert_eq!(node_should_run_daemon_pod(&n(json!([])), &ds(json!({"nodeSelector": {"disk": "hdd"}}))), (false, false));
        let affinity = json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
            {"nodeSelectorTerms": [{"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}]}}}});
        assert_eq!(node_should_run_daemon_pod(&n(json!([])), &ds(affinity)), (true, true));
        // A template naming another node.
        assert_eq!(node_should_run_daemon_pod(&n(json!([])), &ds(json!({"nodeName": "n2"}))), (false, false));
        // Taints: NoSchedule keeps new pods off but lets running ones be; NoExecute evicts.
        let no_schedule = json!([{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]);
        let no_execute = json!([{"key": "dedicated", "value": "db", "effect": "NoExecute"}]);
        assert_eq!(node_should_run_daemon_pod(&n(no_schedule.clone()), &plain), (false, true));
        assert_eq!(node_should_run_daemon_pod(&n(no_execute.clone()), &plain), (false, false));
        let tolerating = ds(json!({"tolerations": [{"key": "dedicated", "operator": "Exists"}]}));
        assert_eq!(node_should_run_daemon_pod(&n(no_execute), &tolerating), (true, true));
        // PreferNoSchedule is no obstacle; the tolerations every daemon pod has cover unschedulable and not-ready nodes.
        assert_eq!(node_should_run_daemon_pod(&n(json!([{"key": "k", "effect": "PreferNoSchedule"}])), &plain), (true, true));
        let conditions = json!([{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"},
                                {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"},
                                {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}]);
        assert_eq!(node_should_run_daemon_pod(&n(conditions), &plain), (true, true));
        // network-unavailable only for host-network pods.
        let net = json!([{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}]);
        assert_eq!(node_should_run_daemon_pod(&n(net.clone()), &plain), (false, true));
        assert_eq!(node_should_run_daemon_pod(&n(net), &ds(json!({"hostNetwork": true}))), (true, true));
        let _ = no_schedule;
    }
}
