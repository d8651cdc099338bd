//! The DaemonSet controller (with the scheduler, on simulated nodes), each
//! scenario of its issue a test. Every world has three nodes
//! (`sim-node-0..2`); tests that change nodes get their own. Written against
//! the public API and kubectl only.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use rudder_e2e::{World, eventually};
use rudder_sandbox::sim::SimConfig;
use serde_json::{Value, json};

const CONTROLLERS: [&str; 2] = ["rudder-daemonset-controller", "rudder-scheduler"];
const HASH: &str = "controller-revision-hash";

async fn world() -> World {
    World::start(&CONTROLLERS).await.expect("world")
}

/// A DaemonSet `name` of image `agent:1`; `spec` is merged into its spec,
/// `template_spec` into its pod template's spec.
fn daemonset(name: &str, spec: Value, template_spec: Value) -> DaemonSet {
    let mut pod_spec = json!({"terminationGracePeriodSeconds": 1, "containers": [{"name": "agent", "image": "agent:1"}]});
    merge(&mut pod_spec, &template_spec);
    let mut s = json!({"selector": {"matchLabels": {"app": name}},
                       "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec}});
    merge(&mut s, &spec);
    serde_json::from_value(json!({"metadata": {"name": name}, "spec": s})).expect("a DaemonSet")
}

fn merge(base: &mut Value, extra: &Value) {
    if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
}

struct Ctx {
    client: kube::Client,
    kubeconfig: std::path::PathBuf,
    ns: String,
    daemonsets: Api<DaemonSet>,
    pods: Api<Pod>,
    nodes: Api<Node>,
}

async fn setup(world: &World) -> Ctx {
    let ns = world.namespace().await.expect("namespace");
    let c = world.client.clone();
    Ctx {
        daemonsets: Api::namespaced(c.clone(), &ns),
        pods: Api::namespaced(c.clone(), &ns),
        nodes: Api::all(c.clone()),
        client: c,
        kubeconfig: world.kubeconfig.clone(),
        ns,
    }
}

fn node_of(p: &Pod) -> String {
    p.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_default()
}

fn ready(p: &Pod) -> bool {
    p.status.as_ref().and_then(|s| s.conditions.as_ref()).is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn hash_of(p: &Pod) -> String {
    p.metadata.labels.as_ref().and_then(|l| l.get(HASH)).cloned().unwrap_or_default()
}

impl Ctx {
    async fn create(&self, ds: &DaemonSet) {
        self.daemonsets.create(&PostParams::default(), ds).await.expect("created");
    }

    async fn kubectl_ok(&self, args: &[&str]) -> String {
        rudder_e2e::kubectl_in_ok(&self.kubeconfig, &self.ns, args).await
    }

    /// The DaemonSet's live pods (not being deleted).
    async fn pods_of(&self, name: &str) -> Vec<Pod> {
        let lp = ListParams::default().labels(&format!("app={name}"));
        self.pods.list(&lp).await.expect("list").items.into_iter().filter(|p| p.metadata.deletion_timestamp.is_none()).collect()
    }

    /// Waits until exactly `nodes` run one ready pod each, and the status says so for the current generation.
    async fn settled_on(&self, name: &str, nodes: &[&str]) -> Vec<Pod> {
        let want: BTreeSet<String> = nodes.iter().map(|n| n.to_string()).collect();
        eventually(90, &format!("{name} running on {want:?}"), || async {
            let ds = self.daemonsets.get(name).await.ok()?;
            let st = ds.status.clone()?;
            let pods = self.pods_of(name).await;
            let on: BTreeSet<String> = pods.iter().filter(|p| ready(p)).map(node_of).collect();
            let n = want.len() as i32;
            (on == want
                && pods.len() == want.len()
                && st.observed_generation == ds.metadata.generation
                && st.desired_number_scheduled == n
                && st.current_number_scheduled == n
                && st.number_ready == n
                && st.updated_number_scheduled == Some(n)
                && st.number_available == Some(n)
                && st.number_misscheduled == 0)
                .then_some(pods)
        })
        .await
    }

    async fn patch_node(&self, node: &str, patch: Value) {
        self.nodes.patch(node, &PatchParams::default(), &Patch::Merge(patch)).await.expect("node patched");
    }

    async fn set_image(&self, name: &str, image: &str) {
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "agent", "image": image}]}}}});
        self.daemonsets.patch(name, &PatchParams::default(), &Patch::Strategic(patch)).await.expect("image set");
    }
}

const ALL: [&str; 3] = ["sim-node-0", "sim-node-1", "sim-node-2"];

#[tokio::test]
async fn one_pod_on_every_node() {
    let world = world().await;
    let t = setup(&world).await;
    t.create(&daemonset("agent", json!({}), json!({}))).await;
    let pods = t.settled_on("agent", &ALL).await;
    let ds = t.daemonsets.get("agent").await.unwrap();
    let uid = ds.metadata.uid.clone().unwrap();
    // The revision: `<ds>-<hash>`, revision 1, the hash on every pod.
    let revisions: Api<ControllerRevision> = Api::namespaced(t.client.clone(), &t.ns);
    let revs = revisions.list(&ListParams::default().labels("app=agent")).await.unwrap().items;
    assert_eq!(revs.len(), 1);
    let hash = revs[0].metadata.labels.as_ref().unwrap()[HASH].clone();
    assert_eq!(revs[0].metadata.name.as_deref(), Some(format!("agent-{hash}").as_str()));
    assert_eq!(revs[0].revision, 1);
    for p in &pods {
        assert_eq!(hash_of(p), hash);
        assert_eq!(p.metadata.labels.as_ref().unwrap().get("pod-template-generation").map(String::as_str), Some("1"));
        assert_eq!(p.metadata.generate_name.as_deref(), Some("agent-"));
        let owner = &p.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!((owner.kind.as_str(), owner.uid.as_str(), owner.controller), ("DaemonSet", uid.as_str(), Some(true)));
        let spec = p.spec.as_ref().unwrap();
        let terms = &spec.affinity.as_ref().unwrap().node_affinity.as_ref().unwrap().required_during_scheduling_ignored_during_execution;
        let field = &terms.as_ref().unwrap().node_selector_terms[0].match_fields.as_ref().unwrap()[0];
        assert_eq!((field.key.as_str(), field.values.as_ref().unwrap()), ("metadata.name", &vec![node_of(p)]), "pinned to its node");
        let keys: Vec<&str> = spec.tolerations.as_ref().unwrap().iter().filter_map(|t| t.key.as_deref()).collect();
        assert!(keys.contains(&"node.kubernetes.io/unreachable") && keys.contains(&"node.kubernetes.io/unschedulable"), "{keys:?}");
    }
    let out = t.kubectl_ok(&["rollout", "status", "daemonset/agent", "--timeout=60s"]).await;
    assert!(out.contains("daemon set \"agent\" successfully rolled out"), "{out}");
}

#[tokio::test]
async fn a_node_selector_limits_the_pods_to_a_subset() {
    let world = world().await;
    let t = setup(&world).await;
    t.patch_node("sim-node-1", json!({"metadata": {"labels": {"role": "agent"}}})).await;
    t.create(&daemonset("agent", json!({}), json!({"nodeSelector": {"role": "agent"}}))).await;
    t.settled_on("agent", &["sim-node-1"]).await;
}

#[tokio::test]
async fn a_new_node_gets_a_pod_and_a_removed_label_removes_it() {
    let world = world().await;
    let t = setup(&world).await;
    t.create(&daemonset("agent", json!({}), json!({"nodeSelector": {"role": "agent"}}))).await;
    t.settled_on("agent", &[]).await;
    // A node joining with the label.
    let cfg = SimConfig { count: 1, prefix: "extra".into(), heartbeat: Duration::from_millis(500), ..rudder_e2e::sim_config() };
    let _extra = world.add_nodes(cfg);
    let joined = eventually(30, "the new node", || async { t.nodes.get("extra-0").await.ok() }).await;
    assert!(joined.metadata.labels.as_ref().is_none_or(|l| !l.contains_key("role")));
    t.patch_node("extra-0", json!({"metadata": {"labels": {"role": "agent"}}})).await;
    t.settled_on("agent", &["extra-0"]).await;
    t.patch_node("sim-node-2", json!({"metadata": {"labels": {"role": "agent"}}})).await;
    t.settled_on("agent", &["extra-0", "sim-node-2"]).await;
    // The label removed: its pod goes.
    t.patch_node("extra-0", json!({"metadata": {"labels": {"role": null}}})).await;
    t.settled_on("agent", &["sim-node-2"]).await;
}

#[tokio::test]
async fn a_no_schedule_taint_is_skipped_and_a_no_execute_taint_evicts() {
    let world = world().await;
    let t = setup(&world).await;
    t.create(&daemonset("running", json!({}), json!({}))).await;
    t.settled_on("running", &ALL).await;
    t.patch_node("sim-node-0", json!({"spec": {"taints": [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]}})).await;
    // A DaemonSet made now skips the node; the one already there keeps its pod.
    t.create(&daemonset("late", json!({}), json!({}))).await;
    t.settled_on("late", &["sim-node-1", "sim-node-2"]).await;
    // As upstream: the node should no longer run `running`'s pod (its verdict
    // changed, so the DaemonSet is synced), but the pod may stay: it is
    // counted as misscheduled.
    eventually(90, "running's pod on sim-node-0 kept and counted misscheduled", || async {
        let st = t.daemonsets.get("running").await.ok()?.status?;
        let on: BTreeSet<String> = t.pods_of("running").await.iter().filter(|p| ready(p)).map(node_of).collect();
        (on.len() == 3 && st.desired_number_scheduled == 2 && st.current_number_scheduled == 2 && st.number_misscheduled == 1).then_some(())
    })
    .await;
    // Tolerating it: the node is back in.
    let tolerating = daemonset("tolerant", json!({}), json!({"tolerations": [{"key": "dedicated", "operator": "Exists"}]}));
    t.create(&tolerating).await;
    t.settled_on("tolerant", &ALL).await;
    // NoExecute: the pods that do not tolerate it go.
    t.patch_node("sim-node-0", json!({"spec": {"taints": [{"key": "dedicated", "value": "db", "effect": "NoExecute"}]}})).await;
    t.settled_on("running", &["sim-node-1", "sim-node-2"]).await;
    t.settled_on("tolerant", &ALL).await;
}

/// Samples the DaemonSet's pods with a watch; calls `check` on the pods
/// alive after every event and keeps what it reports.
struct Sampler {
    found: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    fn start(t: &Ctx, name: &str, check: impl Fn(&BTreeMap<String, Pod>) -> Option<String> + Send + 'static) -> Sampler {
        let found: Arc<Mutex<Vec<String>>> = Arc::default();
        let f = found.clone();
        let mut live: BTreeMap<String, Pod> = BTreeMap::new();
        let mut listed = false;
        let cfg = watcher::Config::default().labels(&format!("app={name}"));
        let task = tokio::spawn(watcher(t.pods.clone(), cfg).for_each(move |e| {
            match e {
                Ok(watcher::Event::Apply(p) | watcher::Event::InitApply(p)) => {
                    live.insert(p.metadata.uid.clone().unwrap_or_default(), p);
                }
                Ok(watcher::Event::Delete(p)) => {
                    live.remove(p.metadata.uid.as_deref().unwrap_or_default());
                }
                Ok(watcher::Event::InitDone) => listed = true,
                _ => {}
            }
            // Judged once the initial list is complete.
            if !listed {
                return futures::future::ready(());
            }
            if let Some(problem) = check(&live) {
                f.lock().unwrap().push(problem);
            }
            futures::future::ready(())
        }));
        Sampler { found, task }
    }

    fn finish(self) -> Vec<String> {
        self.task.abort();
        self.found.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn a_rolling_update_with_max_unavailable_1_leaves_at_most_one_node_without_an_available_pod() {
    let world = world().await;
    let t = setup(&world).await;
    let strategy = json!({"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}, "minReadySeconds": 1});
    t.create(&daemonset("agent", strategy, json!({}))).await;
    let before = t.settled_on("agent", &ALL).await;
    let old_hash = hash_of(&before[0]);
    // A pod counts on its node while it is ready and not being deleted.
    let sampler = Sampler::start(&t, "agent", |live| {
        let covered: BTreeSet<String> =
            live.values().filter(|p| p.metadata.deletion_timestamp.is_none() && ready(p)).map(node_of).collect();
        (covered.len() < 2).then(|| format!("only {covered:?} covered"))
    });
    t.set_image("agent", "agent:2").await;
    let after = eventually(120, "every pod replaced", || async {
        let pods = t.settled_on("agent", &ALL).await;
        pods.iter().all(|p| hash_of(p) != old_hash).then_some(pods)
    })
    .await;
    let problems = sampler.finish();
    assert!(problems.is_empty(), "more than one node without an available pod: {problems:?}");
    assert!(after.iter().all(|p| p.spec.as_ref().unwrap().containers[0].image.as_deref() == Some("agent:2")));
}

#[tokio::test]
async fn max_surge_runs_the_old_and_the_new_pod_side_by_side() {
    let world = world().await;
    let t = setup(&world).await;
    // New pods take 2 s to turn ready: the old one keeps serving meanwhile.
    let strategy = json!({"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}});
    let mut ds = daemonset("agent", strategy, json!({}));
    ds.spec.as_mut().unwrap().template.metadata.as_mut().unwrap().annotations =
        Some([("sim.rudder.dev/ready-after".to_string(), "2s".to_string())].into());
    t.create(&ds).await;
    let before = t.settled_on("agent", &ALL).await;
    let old_hash = hash_of(&before[0]);
    let both = Arc::new(Mutex::new(false));
    let b = both.clone();
    let sampler = Sampler::start(&t, "agent", move |live| {
        let mut hashes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for p in live.values().filter(|p| p.metadata.deletion_timestamp.is_none()) {
            hashes.entry(node_of(p)).or_default().insert(hash_of(p));
        }
        if hashes.values().any(|h| h.len() == 2) {
            *b.lock().unwrap() = true;
        }
        // maxUnavailable 0: every node keeps a ready pod throughout.
        let covered: BTreeSet<String> =
            live.values().filter(|p| p.metadata.deletion_timestamp.is_none() && ready(p)).map(node_of).collect();
        (covered.len() < 3).then(|| format!("only {covered:?} covered"))
    });
    t.set_image("agent", "agent:2").await;
    eventually(120, "every pod replaced", || async {
        let pods = t.settled_on("agent", &ALL).await;
        pods.iter().all(|p| hash_of(p) != old_hash).then_some(())
    })
    .await;
    let problems = sampler.finish();
    assert!(*both.lock().unwrap(), "no node ran the old and the new pod at once");
    assert!(problems.is_empty(), "a node without a ready pod: {problems:?}");
}

#[tokio::test]
async fn on_delete_waits_for_pods_to_be_deleted_by_hand() {
    let world = world().await;
    let t = setup(&world).await;
    t.create(&daemonset("agent", json!({"updateStrategy": {"type": "OnDelete"}}), json!({}))).await;
    let before = t.settled_on("agent", &ALL).await;
    let old_hash = hash_of(&before[0]);
    t.set_image("agent", "agent:2").await;
    // The status sees the new revision; no pod is replaced.
    eventually(30, "the new generation observed", || async {
        let ds = t.daemonsets.get("agent").await.ok()?;
        let st = ds.status?;
        (st.observed_generation == ds.metadata.generation && st.updated_number_scheduled == Some(0)).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pods = t.pods_of("agent").await;
    assert_eq!(pods.len(), 3);
    assert!(pods.iter().all(|p| hash_of(p) == old_hash), "OnDelete replaced a pod on its own");
    // One deleted by hand comes back new.
    let victim = before.iter().find(|p| node_of(p) == "sim-node-1").unwrap().metadata.name.clone().unwrap();
    t.pods.delete(&victim, &Default::default()).await.unwrap();
    eventually(60, "sim-node-1's pod replaced with the new template", || async {
        let pods = t.pods_of("agent").await;
        let on1: Vec<&Pod> = pods.iter().filter(|p| node_of(p) == "sim-node-1" && ready(p)).collect();
        (on1.len() == 1 && hash_of(on1[0]) != old_hash && pods.iter().filter(|p| hash_of(p) == old_hash).count() == 2).then_some(())
    })
    .await;
}

#[tokio::test]
async fn rollback_through_the_history() {
    let world = world().await;
    let t = setup(&world).await;
    t.create(&daemonset("agent", json!({}), json!({}))).await;
    let v1 = t.settled_on("agent", &ALL).await;
    let hash1 = hash_of(&v1[0]);
    t.kubectl_ok(&["annotate", "daemonset/agent", "kubernetes.io/change-cause=image agent:2"]).await;
    t.set_image("agent", "agent:2").await;
    eventually(120, "agent:2 everywhere", || async {
        let pods = t.settled_on("agent", &ALL).await;
        pods.iter().all(|p| hash_of(p) != hash1).then_some(())
    })
    .await;
    let history = t.kubectl_ok(&["rollout", "history", "daemonset/agent"]).await;
    assert!(history.contains("REVISION") && history.contains("CHANGE-CAUSE"), "{history}");
    assert!(history.lines().any(|l| l.starts_with("1 ")), "{history}");
    assert!(history.lines().any(|l| l.starts_with("2 ") && l.contains("image agent:2")), "{history}");
    let out = t.kubectl_ok(&["rollout", "undo", "daemonset/agent"]).await;
    assert!(out.contains("rolled back"), "{out}");
    let back = eventually(120, "agent:1 everywhere again", || async {
        let pods = t.settled_on("agent", &ALL).await;
        pods.iter().all(|p| hash_of(p) == hash1).then_some(pods)
    })
    .await;
    assert!(back.iter().all(|p| p.spec.as_ref().unwrap().containers[0].image.as_deref() == Some("agent:1")));
    // The first revision is current again, renumbered after the second.
    let revisions: Api<ControllerRevision> = Api::namespaced(t.client.clone(), &t.ns);
    eventually(30, "revision 3", || async {
        let revs = revisions.list(&ListParams::default().labels("app=agent")).await.ok()?.items;
        let r1 = revs.iter().find(|r| r.metadata.labels.as_ref().and_then(|l| l.get(HASH)) == Some(&hash1))?;
        (revs.len() == 2 && r1.revision == 3).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_node_that_stops_keeps_its_pod_counted() {
    let world = world().await;
    let t = setup(&world).await;
    // Nodes of this test turn Unknown 2 s after they stop heart-beating.
    let cfg = SimConfig { count: 1, prefix: "fragile".into(), heartbeat: Duration::from_millis(500), ..rudder_e2e::sim_config() };
    let _fragile = world.add_nodes(cfg);
    eventually(30, "the fragile node", || async { t.nodes.get("fragile-0").await.ok() }).await;
    t.create(&daemonset("agent", json!({}), json!({}))).await;
    let before = t.settled_on("agent", &["fragile-0", "sim-node-0", "sim-node-1", "sim-node-2"]).await;
    let on_fragile = before.iter().find(|p| node_of(p) == "fragile-0").unwrap().metadata.uid.clone();
    rudder_sandbox::sim::set_stopped(t.client.clone(), "fragile-0", true).await.expect("stopped");
    // Unreachable: NoExecute taint. Daemon pods tolerate it: the pod stays and counts.
    eventually(60, "the node tainted unreachable", || async {
        let n = t.nodes.get("fragile-0").await.ok()?;
        n.spec?.taints?.iter().any(|t| t.key == "node.kubernetes.io/unreachable" && t.effect == "NoExecute").then_some(())
    })
    .await;
    // As upstream: the unreachable NoSchedule taint (which daemon pods do
    // not tolerate) takes the node out of the desired ones, the NoExecute
    // one (tolerated) lets the pod stay: it is counted as misscheduled once
    // its pod is marked not ready (the node lifecycle controller's
    // MarkPodsNotReady) and the DaemonSet synced.
    let st = eventually(60, "the status counting the stranded pod", || async {
        let st = t.daemonsets.get("agent").await.ok()?.status?;
        (st.number_misscheduled == 1).then_some(st)
    })
    .await;
    assert_eq!((st.desired_number_scheduled, st.current_number_scheduled, st.number_ready), (3, 3, 3));
    assert_eq!((st.number_available, st.number_unavailable), (Some(3), Some(0)));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pods = t.pods_of("agent").await;
    let still: Vec<&Pod> = pods.iter().filter(|p| node_of(p) == "fragile-0").collect();
    assert_eq!(still.len(), 1, "no replacement, no eviction");
    assert_eq!(still[0].metadata.uid, on_fragile);
}

#[tokio::test]
async fn a_failed_daemon_pod_is_replaced_with_an_event() {
    let world = world().await;
    let t = setup(&world).await;
    t.create(&daemonset("agent", json!({}), json!({}))).await;
    let before = t.settled_on("agent", &ALL).await;
    // The kubelet rejects the pod on sim-node-0 (as for a missing resource): phase Failed.
    let victim = before.iter().find(|p| node_of(p) == "sim-node-0").unwrap();
    let name = victim.metadata.name.clone().unwrap();
    let status = json!({"status": {"phase": "Failed", "reason": "OutOfcpu", "message": "Pod was rejected"}});
    t.pods.patch_status(&name, &PatchParams::default(), &Patch::Merge(status)).await.expect("failed");
    let after = eventually(60, "a new pod on sim-node-0", || async {
        let pods = t.settled_on("agent", &ALL).await;
        pods.iter().any(|p| node_of(p) == "sim-node-0" && p.metadata.name.as_deref() != Some(name.as_str())).then_some(pods)
    })
    .await;
    assert_eq!(after.len(), 3);
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(t.client.clone(), &t.ns);
    let note = eventually(30, "the FailedDaemonPod event", || async {
        let list = events.list(&ListParams::default()).await.ok()?;
        list.items.into_iter().find(|e| e.reason.as_deref() == Some("FailedDaemonPod")).and_then(|e| e.note)
    })
    .await;
    assert_eq!(note, format!("Found failed daemon pod {}/{name} on node sim-node-0, will try to kill it", t.ns));
}
