//! The scheduler's cache (upstream `internal/cache`): nodes with the pods
//! bound or *assumed* on them. A pod is assumed on its node as soon as the
//! scheduler decides, before the binding is written, so the next decision
//! already counts it; the watch confirms it later, a failed binding
//! forgets it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod};

use crate::framework::{DraObjects, NodeInfo, PodInfo, Snapshot, WorkloadSelector};
use crate::preemption::Pdb;

struct PodState {
    node: String,
    info: Arc<PodInfo>,
    assumed: bool,
}

/// Nodes and the pods on them.
#[derive(Default)]
pub struct Cache {
    nodes: BTreeMap<String, Arc<NodeInfo>>,
    pods: HashMap<String, PodState>,
    namespaces: HashMap<String, BTreeMap<String, String>>,
    /// Services, ReplicationControllers, ReplicaSets, StatefulSets by (kind, namespace, name).
    workloads: BTreeMap<(String, String, String), WorkloadSelector>,
    pdbs: BTreeMap<String, Pdb>,
    dra: Arc<DraObjects>,
    generation: u64,
}

fn uid(pod: &Pod) -> &str {
    pod.metadata.uid.as_deref().unwrap_or_default()
}

impl Cache {
    fn node_mut(&mut self, name: &str) -> &mut NodeInfo {
        self.generation += 1;
        let generation = self.generation;
        let info = Arc::make_mut(self.nodes.entry(name.to_string()).or_default());
        info.generation = generation;
        info
    }

    fn place(&mut self, node: &str, info: Arc<PodInfo>, assumed: bool) {
        let id = info.uid().to_string();
        self.node_mut(node).add_pod(info.clone());
        self.pods.insert(id, PodState { node: node.to_string(), info, assumed });
    }

    fn unplace(&mut self, uid: &str) -> Option<PodState> {
        let state = self.pods.remove(uid)?;
        let node = self.node_mut(&state.node);
        node.remove_pod(uid);
        if node.node.is_none() && node.pods.is_empty() {
            self.nodes.remove(&state.node);
        }
        Some(state)
    }

    /// The scheduler decided: count the pod on `node` until the watch
    /// confirms or [`Cache::forget`] undoes it.
    pub fn assume(&mut self, pod: Arc<PodInfo>, node: &str) {
        self.unplace(pod.uid());
        self.place(node, pod, true);
    }

    /// The binding failed.
    pub fn forget(&mut self, uid: &str) {
        if self.pods.get(uid).is_some_and(|p| p.assumed) {
            self.unplace(uid);
        }
    }

    /// Whether the pod is assumed and not yet confirmed.
    pub fn is_assumed(&self, uid: &str) -> bool {
        self.pods.get(uid).is_some_and(|p| p.assumed)
    }

    /// A pod with `spec.nodeName` seen (added or updated) by the watch.
    /// Terminal pods (Succeeded, Failed) free their node's resources.
    pub fn add_or_update_pod(&mut self, pod: Arc<Pod>) {
        let id = uid(&pod).to_string();
        let node = pod.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_default();
        let terminal = matches!(pod.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Succeeded" | "Failed"));
        if node.is_empty() || terminal {
            self.unplace(&id);
            return;
        }
        if let Some(existing) = self.pods.get(&id)
            && existing.node == node
            && !existing.assumed
            && Arc::ptr_eq(&existing.info.pod, &pod)
        {
            return;
        }
        self.unplace(&id);
        self.place(&node, Arc::new(PodInfo::new(pod)), false);
    }

    /// A pod deleted (or no longer bound).
    pub fn remove_pod(&mut self, uid: &str) {
        self.unplace(uid);
    }

    /// Forgets confirmed pods whose uid `keep` rejects (after a watch
    /// re-list); assumed ones stay until bound or forgotten.
    pub fn retain_pods(&mut self, keep: impl Fn(&str) -> bool) {
        let gone: Vec<String> = self.pods.iter().filter(|(k, p)| !p.assumed && !keep(k)).map(|(k, _)| k.clone()).collect();
        for id in gone {
            self.unplace(&id);
        }
    }

    /// Forgets nodes whose name `keep` rejects (after a watch re-list).
    pub fn retain_nodes(&mut self, keep: impl Fn(&str) -> bool) {
        let gone: Vec<String> = self.nodes.iter().filter(|(k, n)| n.node.is_some() && !keep(k)).map(|(k, _)| k.clone()).collect();
        for name in gone {
            self.remove_node(&name);
        }
    }

    /// The node object as cached.
    pub fn node(&self, name: &str) -> Option<&Arc<Node>> {
        self.nodes.get(name).and_then(|n| n.node.as_ref())
    }

    pub fn add_or_update_node(&mut self, node: Arc<Node>) {
        let name = node.metadata.name.clone().unwrap_or_default();
        self.node_mut(&name).set_node(node);
    }

    /// The node is gone; its pods stay counted until they are deleted too
    /// (upstream keeps a "ghost" node for them), but it is no candidate.
    pub fn remove_node(&mut self, name: &str) {
        let info = self.node_mut(name);
        info.node = None;
        if info.pods.is_empty() {
            self.nodes.remove(name);
        }
    }

    pub fn set_namespace(&mut self, name: &str, labels: BTreeMap<String, String>) {
        self.namespaces.insert(name.to_string(), labels);
    }

    pub fn remove_namespace(&mut self, name: &str) {
        self.namespaces.remove(name);
    }

    /// A Service's, ReplicationController's, ReplicaSet's or StatefulSet's
    /// selector (for PodTopologySpread's default constraints); `None`
    /// forgets it (deleted, or it selects nothing).
    pub fn set_workload(&mut self, kind: &str, namespace: &str, name: &str, selector: Option<WorkloadSelector>) {
        let key = (kind.to_string(), namespace.to_string(), name.to_string());
        match selector {
            Some(s) => {
                self.workloads.insert(key, s);
            }
            None => {
                self.workloads.remove(&key);
            }
        }
    }

    /// Forgets workloads of `kind` whose (namespace, name) `keep` rejects.
    pub fn retain_workloads(&mut self, kind: &str, keep: impl Fn(&str, &str) -> bool) {
        self.workloads.retain(|(k, ns, n), _| k != kind || keep(ns, n));
    }

    /// A PodDisruptionBudget by `namespace/name`; `None` forgets it.
    pub fn set_pdb(&mut self, key: &str, pdb: Option<Pdb>) {
        match pdb {
            Some(p) => {
                self.pdbs.insert(key.to_string(), p);
            }
            None => {
                self.pdbs.remove(key);
            }
        }
    }

    pub fn retain_pdbs(&mut self, keep: impl Fn(&str) -> bool) {
        self.pdbs.retain(|k, _| keep(k));
    }

    pub fn pdbs(&self) -> Vec<Pdb> {
        self.pdbs.values().cloned().collect()
    }

    /// The ResourceClaims and DeviceClasses, to change (copied on write:
    /// snapshots taken earlier keep theirs).
    pub fn dra_mut(&mut self) -> &mut DraObjects {
        Arc::make_mut(&mut self.dra)
    }

    /// The nodes (that exist) as of now, cheap to take: the node infos are
    /// shared until the cache changes them.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            nodes: self.nodes.values().filter(|n| n.node.is_some()).cloned().collect(),
            namespace_labels: self.namespaces.clone(),
            workload_selectors: self.workloads.values().cloned().collect(),
            nominated: Default::default(),
            dra: self.dra.clone(),
        }
    }

    pub fn node_count(&self) -> usize {
        self.nodes.values().filter(|n| n.node.is_some()).count()
    }

    /// The node a pod is on (bound or assumed).
    pub fn node_of(&self, uid: &str) -> Option<&str> {
        self.pods.get(uid).map(|p| p.node.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(name: &str) -> Arc<Node> {
        Arc::new(
            serde_json::from_value(
                json!({"metadata": {"name": name}, "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}}),
            )
            .unwrap(),
        )
    }

    fn pod(name: &str, node: Option<&str>, cpu: &str) -> Arc<Pod> {
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": "default", "uid": name},
                "spec": {"nodeName": node, "containers": [{"name": "c", "image": "i", "resources": {"requests": {"cpu": cpu}}}]}
            }))
            .unwrap(),
        )
    }

    fn requested(c: &Cache, node: &str) -> i64 {
        c.snapshot().node(node).map(|n| n.requested.milli_cpu).unwrap_or(-1)
    }

    #[test]
    fn assumed_pods_count_until_confirmed_or_forgotten() {
        let mut c = Cache::default();
        c.add_or_update_node(node("n1"));
        c.assume(Arc::new(PodInfo::new(pod("a", None, "500m"))), "n1");
        assert_eq!(requested(&c, "n1"), 500);
        assert!(c.is_assumed("a"));
        // The watch confirms the binding.
        c.add_or_update_pod(pod("a", Some("n1"), "500m"));
        assert!(!c.is_assumed("a"));
        assert_eq!(requested(&c, "n1"), 500, "counted once");
        // A forgotten assumption frees the node.
        c.assume(Arc::new(PodInfo::new(pod("b", None, "1"))), "n1");
        assert_eq!(requested(&c, "n1"), 1500);
        c.forget("b");
        assert_eq!(requested(&c, "n1"), 500);
        // forget does nothing to a confirmed pod.
        c.forget("a");
        assert_eq!(requested(&c, "n1"), 500);
    }

    #[test]
    fn terminal_and_deleted_pods_free_their_node() {
        let mut c = Cache::default();
        c.add_or_update_node(node("n1"));
        c.add_or_update_pod(pod("a", Some("n1"), "1"));
        c.add_or_update_pod(pod("b", Some("n1"), "1"));
        assert_eq!(requested(&c, "n1"), 2000);
        let mut done = (*pod("a", Some("n1"), "1")).clone();
        done.status = Some(k8s_openapi::api::core::v1::PodStatus { phase: Some("Succeeded".into()), ..Default::default() });
        c.add_or_update_pod(Arc::new(done));
        assert_eq!(requested(&c, "n1"), 1000);
        c.remove_pod("b");
        assert_eq!(requested(&c, "n1"), 0);
    }

    #[test]
    fn snapshots_share_unchanged_nodes_and_see_only_existing_ones() {
        let mut c = Cache::default();
        c.add_or_update_node(node("n1"));
        c.add_or_update_node(node("n2"));
        c.add_or_update_pod(pod("ghost", Some("gone"), "1"));
        let s1 = c.snapshot();
        assert_eq!(s1.nodes.len(), 2, "a node only known from its pods is no candidate");
        c.add_or_update_pod(pod("a", Some("n2"), "1"));
        let s2 = c.snapshot();
        assert!(Arc::ptr_eq(&s1.nodes[0], &s2.nodes[0]), "n1 unchanged, shared");
        assert!(!Arc::ptr_eq(&s1.nodes[1], &s2.nodes[1]));
        assert_eq!(s1.nodes[1].requested.milli_cpu, 0, "an older snapshot does not change");
        c.remove_node("n1");
        assert_eq!(c.snapshot().nodes.len(), 1);
        assert_eq!(c.node_count(), 1);
    }
}
