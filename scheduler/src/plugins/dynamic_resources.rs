//! `DynamicResources` (upstream `pkg/scheduler/framework/plugins/dynamicresources`),
//! as far as Rudder has it. Dynamic resource allocation is on by default in
//! v1.36, so every unschedulable pod's message carries this plugin's
//! PostFilter part (`no new claims to deallocate` for a pod without claims).
//!
//! For a pod with `spec.resourceClaims`:
//! - PreEnqueue: every claim must exist (a template's claim once the
//!   resourceclaim controller has recorded it in
//!   `status.resourceClaimStatuses`), be the pod's own when made from a
//!   template, and not be deleted; until then the pod waits without a
//!   scheduling attempt, event or condition, as upstream's.
//! - PreFilter: a claim allocated and reserved to its limit for other pods
//!   is `resourceclaim in use`; an unallocated claim needs its requests'
//!   DeviceClasses (`request gpu: device class x does not exist`).
//! - Filter: Rudder does not allocate devices, so a pod with an
//!   unallocated claim fits no node (`cannot allocate all claims`, what
//!   upstream says when no ResourceSlice offers the devices); an allocated
//!   claim limits the pod to the nodes of its allocation's node selector
//!   (`resourceclaim not available on the node`).
//! - PostFilter: an allocated claim unavailable on some node and reserved
//!   for nobody else is deallocated (`deallocation of ResourceClaim
//!   completed`, the caller writes it), else `still not schedulable`.
//! - PreBind: the pod is added to its claims' `status.reservedFor` (the
//!   caller writes it) before the binding.
//!
//! Rejections are UnschedulableAndUnresolvable, as in v1.36 (DRA-aware
//! preemption came later), so preemption is never tried for them.

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::resource::v1::ResourceClaim;
use rudder_common::field::FieldPath;
use rudder_common::scheduling::NodeSelector;

use crate::framework::{Code, CycleState, NodeInfo, Plugin, PodInfo, Snapshot, Status};
use crate::schedule::FitError;

/// The upstream plugin name.
pub const NAME: &str = "DynamicResources";

/// PostFilter's answer for a pod without claims: there is nothing it could
/// deallocate to make room.
pub const NO_CLAIMS_TO_DEALLOCATE: &str = "no new claims to deallocate";
pub const CANNOT_ALLOCATE: &str = "cannot allocate all claims";
pub const NOT_AVAILABLE: &str = "resourceclaim not available on the node";
pub const IN_USE: &str = "resourceclaim in use";
pub const DEALLOCATED: &str = "deallocation of ResourceClaim completed";
pub const STILL_NOT_SCHEDULABLE: &str = "still not schedulable";
/// What upstream's framework says when a plugin's cycle state is missing
/// (`fwk.ErrNotFound`): PostFilter after another PreFilter rejected the pod
/// before this one ran.
pub const STATE_NOT_FOUND: &str = "not found";
/// Upstream `ResourceClaimReservedForMaxSize`.
const RESERVED_FOR_MAX: usize = 256;

const STATE_KEY: &str = "DynamicResources";

/// One claim of the pod, resolved.
#[derive(Clone)]
struct PodClaim {
    claim: Arc<ResourceClaim>,
    /// The allocation's node selector, for an allocated claim that has one.
    available_on: Option<Arc<NodeSelector>>,
}

/// What PreFilter leaves for Filter and PostFilter.
#[derive(Clone, Default)]
struct State {
    claims: Vec<PodClaim>,
}

impl State {
    fn unallocated(&self) -> bool {
        self.claims.iter().any(|c| allocation(&c.claim).is_none())
    }
}

fn allocation(c: &ResourceClaim) -> Option<&k8s_openapi::api::resource::v1::AllocationResult> {
    c.status.as_ref().and_then(|s| s.allocation.as_ref())
}

fn reserved_for(c: &ResourceClaim) -> &[k8s_openapi::api::resource::v1::ResourceClaimConsumerReference] {
    c.status.as_ref().and_then(|s| s.reserved_for.as_deref()).unwrap_or_default()
}

fn is_reserved_for(pod: &Pod, c: &ResourceClaim) -> bool {
    let uid = pod.metadata.uid.as_deref().unwrap_or_default();
    reserved_for(c).iter().any(|r| r.resource == "pods" && r.uid == uid)
}

/// Whether the pod references ResourceClaims (`spec.resourceClaims`).
pub fn has_claims(pod: &Pod) -> bool {
    pod.spec.as_ref().and_then(|s| s.resource_claims.as_ref()).is_some_and(|c| !c.is_empty())
}

/// The pod's claims, looked up as upstream's `foreachPodResourceClaim`
/// does; a claim whose template produced none on purpose is left out.
fn pod_claims(pod: &Pod, claims: &HashMap<String, Arc<ResourceClaim>>) -> Result<Vec<Arc<ResourceClaim>>, String> {
    let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    let statuses = pod.status.as_ref().and_then(|s| s.resource_claim_statuses.as_deref()).unwrap_or_default();
    let mut out = Vec::new();
    for pc in pod.spec.as_ref().and_then(|s| s.resource_claims.as_deref()).unwrap_or_default() {
        let (claim_name, from_template) = if let Some(n) = &pc.resource_claim_name {
            (n.clone(), false)
        } else if pc.resource_claim_template_name.is_some() {
            match statuses.iter().find(|s| s.name == pc.name) {
                None => return Err(format!("pod \"{ns}/{name}\": ResourceClaim not created yet")),
                Some(s) => match &s.resource_claim_name {
                    None => continue,
                    Some(n) => (n.clone(), true),
                },
            }
        } else {
            return Err(format!("pod \"{ns}/{name}\", spec.resourceClaim {:?}: none of the supported fields are set", pc.name));
        };
        let Some(claim) = claims.get(&format!("{ns}/{claim_name}")) else {
            return Err(format!("could not find ResourceClaim \"{ns}/{claim_name}\""));
        };
        if claim.metadata.deletion_timestamp.is_some() {
            return Err(format!("resourceclaim {claim_name:?} is being deleted"));
        }
        if from_template {
            let uid = pod.metadata.uid.as_deref().unwrap_or_default();
            let owned = claim.metadata.owner_references.iter().flatten().any(|o| o.controller == Some(true) && o.uid == uid);
            if !owned {
                return Err(format!("ResourceClaim {claim_name} was not created for pod {ns}/{name} (pod is not owner)"));
            }
        }
        out.push(claim.clone());
    }
    Ok(out)
}

/// PreEnqueue: `Err` with upstream's reason while a claim is missing.
pub fn pre_enqueue(pod: &Pod, snapshot: &Snapshot) -> Result<(), String> {
    if !has_claims(pod) {
        return Ok(());
    }
    pod_claims(pod, &snapshot.dra.claims).map(|_| ())
}

/// The plugin; it has no arguments Rudder reads.
pub struct DynamicResources;

pub fn new(_args: Option<&serde_json::Value>) -> Result<Box<dyn Plugin>, String> {
    Ok(Box::new(DynamicResources))
}

impl Plugin for DynamicResources {
    fn name(&self) -> &'static str {
        NAME
    }

    fn filters(&self) -> bool {
        true
    }

    fn pre_filter(&self, state: &mut CycleState, pod: &PodInfo, snapshot: &Snapshot) -> Status {
        // Written first: PostFilter finds an empty state when this rejects.
        state.write(STATE_KEY, State::default());
        if !has_claims(&pod.pod) {
            return Status::skip();
        }
        let claims = match pod_claims(&pod.pod, &snapshot.dra.claims) {
            Ok(c) => c,
            Err(e) => return Status::unresolvable(e),
        };
        if claims.is_empty() {
            return Status::skip();
        }
        let mut resolved = Vec::new();
        for claim in claims {
            match allocation(&claim) {
                Some(a) => {
                    if reserved_for(&claim).len() >= RESERVED_FOR_MAX && !is_reserved_for(&pod.pod, &claim) {
                        return Status::unresolvable(IN_USE);
                    }
                    let available_on = match &a.node_selector {
                        None => None,
                        Some(sel) => match NodeSelector::new(sel, &FieldPath::root("nodeSelector")) {
                            Ok(s) => Some(Arc::new(s)),
                            Err(errs) => {
                                return Status::error(errs.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "));
                            }
                        },
                    };
                    resolved.push(PodClaim { claim, available_on });
                }
                None => {
                    if let Err(why) = device_classes_exist(&claim, snapshot) {
                        return Status::unresolvable(why);
                    }
                    resolved.push(PodClaim { claim, available_on: None });
                }
            }
        }
        state.write(STATE_KEY, State { claims: resolved });
        Status::success()
    }

    fn filter(&self, state: &CycleState, _pod: &PodInfo, node: &NodeInfo) -> Status {
        let st = match state.require::<State>(STATE_KEY) {
            Ok(s) => s,
            Err(e) => return e,
        };
        if st.unallocated() {
            return Status::unresolvable(CANNOT_ALLOCATE);
        }
        if st.claims.iter().any(|c| !available_on(c, node)) {
            return Status::unresolvable(NOT_AVAILABLE);
        }
        Status::success()
    }
}

fn available_on(c: &PodClaim, node: &NodeInfo) -> bool {
    match (&c.available_on, node.node.as_deref()) {
        (Some(sel), Some(n)) => sel.matches(n),
        _ => true,
    }
}

/// Every request of an unallocated claim names a DeviceClass that exists.
fn device_classes_exist(claim: &ResourceClaim, snapshot: &Snapshot) -> Result<(), String> {
    for r in &claim.spec.devices.as_ref().map(|d| d.requests.clone()).unwrap_or_default().unwrap_or_default() {
        let mut wanted: Vec<(String, String)> = Vec::new();
        if let Some(e) = &r.exactly {
            wanted.push((r.name.clone(), e.device_class_name.clone()));
        }
        for s in r.first_available.iter().flatten() {
            wanted.push((format!("{}/{}", r.name, s.name), s.device_class_name.clone()));
        }
        if r.exactly.is_none() && r.first_available.as_ref().is_none_or(|f| f.is_empty()) {
            return Err(format!("request {}: unsupported request type", r.name));
        }
        for (name, class) in wanted {
            if !snapshot.dra.classes.contains(&class) {
                return Err(format!("request {name}: device class {class} does not exist"));
            }
        }
    }
    Ok(())
}

/// What PostFilter decided: the status, and a claim to deallocate (the
/// caller writes the update; its failure replaces the status by an Error).
pub struct PostFilter {
    pub status: Status,
    pub deallocate: Option<Arc<ResourceClaim>>,
}

/// PostFilter, for a pod that fits nowhere.
pub fn post_filter(state: &CycleState, pod: &PodInfo, snapshot: &Snapshot, fit: &FitError) -> PostFilter {
    let Some(st) = state.read::<State>(STATE_KEY) else {
        return PostFilter { status: Status::error(STATE_NOT_FOUND), deallocate: None };
    };
    if st.claims.is_empty() {
        return PostFilter { status: Status::unschedulable(NO_CLAIMS_TO_DEALLOCATE), deallocate: None };
    }
    // The claims this plugin's Filter found unavailable on some node.
    let rejected_nodes: Vec<&Arc<NodeInfo>> = fit
        .node_statuses
        .iter()
        .filter(|(_, s)| s.plugin == NAME && s.reasons.iter().any(|r| r == NOT_AVAILABLE))
        .filter_map(|(n, _)| snapshot.node(n))
        .collect();
    let uid = pod.uid();
    for c in &st.claims {
        if !rejected_nodes.iter().any(|n| !available_on(c, n)) {
            continue;
        }
        let reserved = reserved_for(&c.claim);
        if reserved.is_empty() || (reserved.len() == 1 && reserved[0].uid == uid) {
            return PostFilter { status: Status::unschedulable(DEALLOCATED), deallocate: Some(c.claim.clone()) };
        }
    }
    PostFilter { status: Status::unschedulable(STILL_NOT_SCHEDULABLE), deallocate: None }
}

/// The claims PreBind must reserve for the pod (allocated, not yet
/// reserved for it), from the cycle's state.
pub fn to_reserve(state: &CycleState, pod: &Pod) -> Vec<Arc<ResourceClaim>> {
    let Some(st) = state.read::<State>(STATE_KEY) else { return Vec::new() };
    st.claims.iter().filter(|c| allocation(&c.claim).is_some() && !is_reserved_for(pod, &c.claim)).map(|c| c.claim.clone()).collect()
}

/// Whether a status says the pod waits for this plugin (for requeueing on
/// claim and class events).
pub fn rejected(st: &Status) -> bool {
    st.plugin == NAME && st.code != Code::Success
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::DraObjects;
    use serde_json::{Value, json};

    fn pod(claims: Value, statuses: Value) -> PodInfo {
        PodInfo::new(Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": "p", "namespace": "ns", "uid": "pod-uid"},
                "spec": {"containers": [], "resourceClaims": claims},
                "status": {"resourceClaimStatuses": statuses}
            }))
            .unwrap(),
        ))
    }

    fn claim(name: &str, extra: Value) -> Arc<ResourceClaim> {
        let mut c = json!({"metadata": {"name": name, "namespace": "ns"},
            "spec": {"devices": {"requests": [{"name": "gpu", "exactly": {"deviceClassName": "gpu.example.com"}}]}}});
        if let Value::Object(m) = extra {
            for (k, v) in m {
                c[k] = v;
            }
        }
        Arc::new(serde_json::from_value(c).unwrap())
    }

    fn snapshot(claims: Vec<Arc<ResourceClaim>>, classes: &[&str]) -> Snapshot {
        let dra = DraObjects {
            claims: claims.into_iter().map(|c| (format!("ns/{}", c.metadata.name.clone().unwrap()), c)).collect(),
            classes: classes.iter().map(|c| c.to_string()).collect(),
        };
        let nodes = ["n1", "n2"]
            .iter()
            .map(|n| Arc::new(NodeInfo::new(Arc::new(serde_json::from_value(json!({"metadata": {"name": n}})).unwrap()))))
            .collect();
        Snapshot { nodes, dra: Arc::new(dra), ..Default::default() }
    }

    #[test]
    fn a_pod_without_claims_is_skipped_and_has_nothing_to_deallocate() {
        let p = PodInfo::new(Arc::new(serde_json::from_value(json!({"spec": {"containers": []}})).unwrap()));
        let snap = snapshot(vec![], &[]);
        assert!(pre_enqueue(&p.pod, &snap).is_ok());
        let mut state = CycleState::default();
        assert_eq!(DynamicResources.pre_filter(&mut state, &p, &snap).code, Code::Skip);
        let fit = FitError { num_all_nodes: 2, pre_filter: None, node_statuses: Default::default(), post_filter_msg: None };
        let post = post_filter(&state, &p, &snap, &fit);
        assert_eq!((post.status.code, post.status.reasons), (Code::Unschedulable, vec![NO_CLAIMS_TO_DEALLOCATE.to_string()]));
        // Without PreFilter having run: upstream's framework error.
        let post = post_filter(&CycleState::default(), &p, &snap, &fit);
        assert_eq!((post.status.code, post.status.reasons), (Code::Error, vec![STATE_NOT_FOUND.to_string()]));
    }

    #[test]
    fn missing_claims_keep_the_pod_out_of_the_queue_with_upstreams_reasons() {
        let snap = snapshot(vec![claim("mine", json!({}))], &[]);
        let named = pod(json!([{"name": "gpu", "resourceClaimName": "absent"}]), json!([]));
        assert_eq!(pre_enqueue(&named.pod, &snap).unwrap_err(), "could not find ResourceClaim \"ns/absent\"");
        let templated = pod(json!([{"name": "gpu", "resourceClaimTemplateName": "t"}]), json!([]));
        assert_eq!(pre_enqueue(&templated.pod, &snap).unwrap_err(), "pod \"ns/p\": ResourceClaim not created yet");
        // A template's claim must be the pod's own.
        let recorded =
            pod(json!([{"name": "gpu", "resourceClaimTemplateName": "t"}]), json!([{"name": "gpu", "resourceClaimName": "mine"}]));
        assert_eq!(pre_enqueue(&recorded.pod, &snap).unwrap_err(), "ResourceClaim mine was not created for pod ns/p (pod is not owner)");
        let owned = claim(
            "mine",
            json!({"metadata": {"name": "mine", "namespace": "ns",
            "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": "p", "uid": "pod-uid", "controller": true}]}}),
        );
        assert!(pre_enqueue(&recorded.pod, &snapshot(vec![owned], &[])).is_ok());
        // No claim needed after all (the controller recorded none).
        let none = pod(json!([{"name": "gpu", "resourceClaimTemplateName": "t"}]), json!([{"name": "gpu"}]));
        assert!(pre_enqueue(&none.pod, &snap).is_ok());
        let going = claim("going", json!({"metadata": {"name": "going", "namespace": "ns", "deletionTimestamp": "2026-01-01T00:00:00Z"}}));
        let p = pod(json!([{"name": "gpu", "resourceClaimName": "going"}]), json!([]));
        assert_eq!(pre_enqueue(&p.pod, &snapshot(vec![going], &[])).unwrap_err(), "resourceclaim \"going\" is being deleted");
    }

    #[test]
    fn an_unallocated_claim_needs_its_device_class_and_then_fits_nowhere() {
        let p = pod(json!([{"name": "gpu", "resourceClaimName": "c"}]), json!([]));
        let mut state = CycleState::default();
        let st = DynamicResources.pre_filter(&mut state, &p, &snapshot(vec![claim("c", json!({}))], &[]));
        assert_eq!(
            (st.code, st.reasons.clone()),
            (Code::UnschedulableAndUnresolvable, vec!["request gpu: device class gpu.example.com does not exist".into()])
        );
        let fit = FitError { num_all_nodes: 2, pre_filter: Some(st), node_statuses: Default::default(), post_filter_msg: None };
        let snap = snapshot(vec![claim("c", json!({}))], &["gpu.example.com"]);
        assert_eq!(post_filter(&state, &p, &snap, &fit).status.reasons, [NO_CLAIMS_TO_DEALLOCATE]);
        let first = claim(
            "c",
            json!({"spec": {"devices": {"requests": [{"name": "acc", "firstAvailable": [{"name": "big", "deviceClassName": "big.example.com"}]}]}}}),
        );
        let st = DynamicResources.pre_filter(&mut CycleState::default(), &p, &snapshot(vec![first], &[]));
        assert_eq!(st.reasons, ["request acc/big: device class big.example.com does not exist"]);
        // With the class there, Rudder cannot allocate: every node says so.
        let mut state = CycleState::default();
        assert!(DynamicResources.pre_filter(&mut state, &p, &snap).is_success());
        let st = DynamicResources.filter(&state, &p, &snap.nodes[0]);
        assert_eq!((st.code, st.reasons.clone()), (Code::UnschedulableAndUnresolvable, vec![CANNOT_ALLOCATE.to_string()]));
        let mut statuses = std::collections::BTreeMap::new();
        statuses.insert("n1".to_string(), Status { plugin: NAME, ..st.clone() });
        statuses.insert("n2".to_string(), Status { plugin: NAME, ..st });
        let fit = FitError { num_all_nodes: 2, pre_filter: None, node_statuses: statuses, post_filter_msg: None };
        let post = post_filter(&state, &p, &snap, &fit);
        assert_eq!(post.status.reasons, [STILL_NOT_SCHEDULABLE]);
        assert!(post.deallocate.is_none());
    }

    fn allocated(reserved: Value) -> Arc<ResourceClaim> {
        claim(
            "c",
            json!({"status": {"reservedFor": reserved, "allocation": {"devices": {"results": []},
            "nodeSelector": {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]}}}}),
        )
    }

    #[test]
    fn an_allocated_claim_keeps_the_pod_to_its_nodes_and_is_deallocated_when_free() {
        let p = pod(json!([{"name": "gpu", "resourceClaimName": "c"}]), json!([]));
        let snap = snapshot(vec![allocated(json!([]))], &[]);
        let mut state = CycleState::default();
        assert!(DynamicResources.pre_filter(&mut state, &p, &snap).is_success());
        assert!(DynamicResources.filter(&state, &p, &snap.nodes[0]).is_success());
        let st = DynamicResources.filter(&state, &p, &snap.nodes[1]);
        assert_eq!(st.reasons, [NOT_AVAILABLE]);
        assert_eq!(to_reserve(&state, &p.pod).len(), 1, "PreBind reserves it for the pod");
        // n1 is taken by something else, n2 is not where the claim is.
        let mut statuses = std::collections::BTreeMap::new();
        statuses.insert("n1".to_string(), Status { plugin: "NodeResourcesFit", ..Status::unschedulable("Insufficient cpu") });
        statuses.insert("n2".to_string(), Status { plugin: NAME, ..st });
        let fit = FitError { num_all_nodes: 2, pre_filter: None, node_statuses: statuses.clone(), post_filter_msg: None };
        let post = post_filter(&state, &p, &snap, &fit);
        assert_eq!(post.status.reasons, [DEALLOCATED]);
        assert_eq!(post.deallocate.map(|c| c.metadata.name.clone().unwrap()).as_deref(), Some("c"));
        // Reserved for another pod: left alone.
        let other = json!([{"resource": "pods", "name": "q", "uid": "other"}]);
        let snap = snapshot(vec![allocated(other)], &[]);
        let mut state = CycleState::default();
        assert!(DynamicResources.pre_filter(&mut state, &p, &snap).is_success());
        let fit = FitError { num_all_nodes: 2, pre_filter: None, node_statuses: statuses, post_filter_msg: None };
        assert_eq!(post_filter(&state, &p, &snap, &fit).status.reasons, [STILL_NOT_SCHEDULABLE]);
    }

    #[test]
    fn a_claim_reserved_to_its_limit_for_others_is_in_use() {
        let full: Vec<Value> =
            (0..RESERVED_FOR_MAX).map(|i| json!({"resource": "pods", "name": format!("q{i}"), "uid": format!("u{i}")})).collect();
        let p = pod(json!([{"name": "gpu", "resourceClaimName": "c"}]), json!([]));
        let st = DynamicResources.pre_filter(&mut CycleState::default(), &p, &snapshot(vec![allocated(json!(full))], &[]));
        assert_eq!((st.code, st.reasons), (Code::UnschedulableAndUnresolvable, vec![IN_USE.to_string()]));
    }
}
