//! The PostFilter extension point, run as kube-scheduler v1.36's framework
//! runs it (`RunPostFilterPlugins`) for a pod that fits nowhere.
//!
//! The default profile has two PostFilter plugins, in this order:
//! DynamicResources, then DefaultPreemption. Each returns a status:
//! - Success (preemption found victims): the run ends there, and whatever
//!   earlier plugins said is dropped, so the pod's message has no
//!   PostFilter part;
//! - UnschedulableAndUnresolvable: the run ends there with that status;
//! - Unschedulable: its reasons are kept and the next plugin runs.
//!
//! The message FitError appends is the final status' reasons joined with
//! `", "`: for a pod without claims on the default profile,
//! `no new claims to deallocate, preemption: 0/3 nodes are available: ...`.

use crate::framework::{Code, CycleState, PodInfo, Snapshot, Status};
use crate::plugins::dynamic_resources;
use crate::preemption::{self, Candidate, Decision, Pdb};
use crate::schedule::{FitError, Profile};

/// What the PostFilter plugins decided.
#[derive(Debug)]
pub struct PostFilterOutcome {
    /// Upstream `Diagnosis.PostFilterMsg`: appended to the FitError's
    /// message; `None` when empty.
    pub message: Option<String>,
    /// Preemption succeeded: evict these and nominate the node.
    pub preempt: Option<Candidate>,
    /// The pod's nominated node should be cleared (preemption found no
    /// candidate).
    pub clear_nomination: bool,
    /// DefaultPreemption ran (upstream counts `scheduler_preemption_attempts_total`).
    pub preemption_ran: bool,
    /// The overall status' label for the extension point's metric.
    pub status: &'static str,
    /// DynamicResources asks for this claim's deallocation; the message
    /// assumes the write succeeds (the caller replaces it, and drops the
    /// preemption, when it fails: upstream's PostFilter returns an Error
    /// then and preemption does not run).
    pub deallocate: Option<std::sync::Arc<k8s_openapi::api::resource::v1::ResourceClaim>>,
}

/// Runs the profile's PostFilter plugins for `pod`, which `fit` says fits
/// nowhere. `rand(n)` is preemption's random start among candidate nodes.
pub fn run(
    profile: &Profile,
    state: &CycleState,
    pod: &PodInfo,
    snapshot: &Snapshot,
    fit: &FitError,
    pdbs: &[Pdb],
    rand: impl FnMut(usize) -> usize,
) -> PostFilterOutcome {
    let mut out = PostFilterOutcome {
        message: None,
        preempt: None,
        clear_nomination: false,
        preemption_ran: false,
        status: "Unschedulable",
        deallocate: None,
    };
    let mut reasons: Vec<String> = Vec::new();
    if profile.dynamic_resources {
        let dynamic_resources::PostFilter { status: st, deallocate } = dynamic_resources::post_filter(state, pod, snapshot, fit);
        out.deallocate = deallocate;
        if let Some(end) = ends_the_run(&st) {
            out.status = end;
            out.message = joined(st.reasons);
            return out;
        }
        reasons.extend(st.reasons);
    }
    if profile.preemption {
        out.preemption_ran = true;
        match preemption::preempt(profile, state, pod, snapshot, fit, pdbs, rand) {
            Decision::Preempt(c) => {
                out.preempt = Some(c);
                out.status = "Success";
                return out;
            }
            Decision::NotHelpful { message, clear_nomination } => {
                reasons.push(format!("preemption: {message}"));
                out.clear_nomination = clear_nomination;
            }
        }
    }
    out.message = joined(reasons);
    out
}

/// Whether a plugin's status ends the run (and with which metric label).
fn ends_the_run(st: &Status) -> Option<&'static str> {
    match st.code {
        Code::Success | Code::Skip => Some("Success"),
        Code::UnschedulableAndUnresolvable => Some("UnschedulableAndUnresolvable"),
        Code::Error => Some("Error"),
        Code::Unschedulable => None,
    }
}

fn joined(reasons: Vec<String>) -> Option<String> {
    (!reasons.is_empty()).then(|| reasons.join(", "))
}

#[cfg(test)]
mod tests {
    //! Each message is the text kube-scheduler v1.36 writes for the same
    //! cluster: the FitError histogram, then DynamicResources' part, then
    //! DefaultPreemption's (upstream `FitError.Error`, `RunPostFilterPlugins`,
    //! `DefaultPreemption.PostFilter`), as real clusters show them.
    use super::*;
    use crate::preemption::tests::{node, pod, profile, snapshot};
    use crate::schedule::{Outcome, schedule_pod};
    use k8s_openapi::api::core::v1::Node;
    use serde_json::json;
    use std::sync::Arc;

    /// The pod's FitError message after PostFilter, and the outcome.
    fn attempt(prof: &Profile, snap: &Snapshot, p: &PodInfo) -> (String, PostFilterOutcome) {
        let mut start = 0;
        let (out, state) = schedule_pod(prof, p, snap, &mut start, |_| 0);
        let Outcome::Unschedulable(mut fit) = out else { panic!("expected no fit: {out:?}") };
        let post = run(prof, &state, p, snap, &fit, &[], |_| 0);
        fit.post_filter_msg = post.message.clone();
        (fit.message(), post)
    }

    fn tainted(name: &str) -> Arc<Node> {
        let mut n = (*node(name, "4")).clone();
        n.spec = Some(serde_json::from_value(json!({"taints": [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]})).unwrap());
        Arc::new(n)
    }

    #[test]
    fn no_victims_anywhere() {
        let snap = snapshot(vec![(node("a", "2"), vec![pod("same", 10, "2", json!({}))])]);
        let (msg, post) = attempt(&profile(), &snap, &pod("p", 10, "1", json!({})));
        assert_eq!(
            msg,
            "0/1 nodes are available: 1 Insufficient cpu. no new claims to deallocate, preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
        );
        assert!(post.preemption_ran && post.clear_nomination && post.preempt.is_none());
        assert_eq!(post.status, "Unschedulable");
    }

    #[test]
    fn preemption_not_helpful_anywhere_clears_the_nomination() {
        let snap = snapshot(vec![(node("a", "2"), vec![]), (node("b", "2"), vec![])]);
        let mut p = pod("picky", 10, "1", json!({"nodeSelector": {"disk": "ssd"}}));
        let mut with_nomination = (*p.pod).clone();
        with_nomination.status = Some(serde_json::from_value(json!({"nominatedNodeName": "a"})).unwrap());
        p = PodInfo::new(Arc::new(with_nomination));
        let (msg, post) = attempt(&profile(), &snap, &p);
        assert_eq!(
            msg,
            "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. no new claims to deallocate, preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
        );
        assert!(post.clear_nomination);
    }

    #[test]
    fn some_nodes_tried_by_preemption() {
        // As seen on a real v1.36 cluster: a tainted node preemption cannot
        // help, two where no lower-priority pod could make room.
        let snap = snapshot(vec![
            (tainted("t"), vec![]),
            (node("a", "2"), vec![pod("a-peer", 10, "2", json!({}))]),
            (node("b", "2"), vec![pod("b-peer", 10, "2", json!({}))]),
        ]);
        let (msg, _) = attempt(&profile(), &snap, &pod("p", 10, "1", json!({})));
        assert_eq!(
            msg,
            "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu. no new claims to deallocate, preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod."
        );
    }

    #[test]
    fn a_pod_that_never_preempts() {
        let snap = snapshot(vec![(node("a", "2"), vec![pod("low", 1, "2", json!({}))])]);
        let (msg, post) = attempt(&profile(), &snap, &pod("polite", 10, "2", json!({"preemptionPolicy": "Never"})));
        assert_eq!(
            msg,
            "0/1 nodes are available: 1 Insufficient cpu. no new claims to deallocate, preemption: not eligible due to preemptionPolicy=Never."
        );
        assert!(!post.clear_nomination, "the nomination is left alone");
    }

    #[test]
    fn a_terminating_victim_on_the_nominated_node() {
        let mut victim = (*pod("going", 1, "2", json!({})).pod).clone();
        victim.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::UNIX_EPOCH));
        let snap = snapshot(vec![(node("a", "2"), vec![PodInfo::new(Arc::new(victim))])]);
        let mut p = (*pod("p", 10, "2", json!({})).pod).clone();
        p.status = Some(serde_json::from_value(json!({"nominatedNodeName": "a"})).unwrap());
        let (msg, post) = attempt(&profile(), &snap, &PodInfo::new(Arc::new(p)));
        assert_eq!(
            msg,
            "0/1 nodes are available: 1 Insufficient cpu. no new claims to deallocate, preemption: not eligible due to a terminating pod on the nominated node."
        );
        assert!(!post.clear_nomination && post.preempt.is_none());
    }

    #[test]
    fn successful_preemption_leaves_no_post_filter_part() {
        let snap = snapshot(vec![(node("a", "2"), vec![pod("low", 1, "2", json!({}))])]);
        let (msg, post) = attempt(&profile(), &snap, &pod("high", 10, "2", json!({})));
        assert_eq!(msg, "0/1 nodes are available: 1 Insufficient cpu.");
        assert_eq!(post.preempt.map(|c| c.node), Some("a".to_string()));
        assert_eq!(post.status, "Success");
    }

    #[test]
    fn a_prefilter_rejection_before_dynamic_resources_ends_in_its_missing_state() {
        // NodeAffinity's PreFilter rejects (terms naming no node at all)
        // before DynamicResources' PreFilter runs: its PostFilter finds no
        // state, the framework's "not found" Error ends the run, and
        // preemption is not tried (upstream v1.36 does exactly this).
        let snap = snapshot(vec![(node("a", "2"), vec![])]);
        let conflict = json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["a"]}, {"key": "metadata.name", "operator": "In", "values": ["b"]}]}
        ]}}}});
        let (msg, post) = attempt(&profile(), &snap, &pod("p", 10, "1", conflict));
        assert_eq!(msg, "0/1 nodes are available: pod affinity terms conflict. not found");
        assert!(!post.preemption_ran);
        assert_eq!(post.status, "Error");
    }

    #[test]
    fn disabled_post_filter_plugins_say_nothing() {
        let snap = snapshot(vec![(node("a", "2"), vec![pod("same", 10, "2", json!({}))])]);
        let p = pod("p", 10, "1", json!({}));
        let mut prof = profile();
        prof.dynamic_resources = false;
        let (msg, _) = attempt(&prof, &snap, &p);
        assert_eq!(
            msg,
            "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
        );
        prof.dynamic_resources = true;
        prof.preemption = false;
        let (msg, post) = attempt(&prof, &snap, &p);
        assert_eq!(msg, "0/1 nodes are available: 1 Insufficient cpu. no new claims to deallocate");
        assert!(!post.preemption_ran);
        prof.dynamic_resources = false;
        let (msg, post) = attempt(&prof, &snap, &p);
        assert_eq!(msg, "0/1 nodes are available: 1 Insufficient cpu.");
        assert_eq!(post.message, None);
    }
}
