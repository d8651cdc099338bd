//! The Deployment controller (with the ReplicaSet controller and the
//! scheduler, on simulated nodes), each scenario of its issue a test.
//! Written against the public API and kubectl only, so it runs unchanged on
//! a cluster given by E2E_KUBECONFIG. Rollouts that must never become ready
//! use an image under `.invalid`, which no node can pull.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{ListParams, PostParams};
use kube::runtime::watcher;
use rudder_e2e::{World, eventually};
use serde_json::{Value, json};

const CONTROLLERS: [&str; 3] = ["rudder-deployment-controller", "rudder-replicaset-controller", "rudder-scheduler"];
const UNPULLABLE: &str = "registry.invalid/web:404";

async fn world() -> World {
    World::start(&CONTROLLERS).await.expect("world")
}

/// A Deployment of `replicas` pods of image `nginx:1`, labelled `app=<name>`;
/// `spec` is merged into its spec.
fn deployment(name: &str, replicas: i32, spec: Value) -> Deployment {
    let mut d = json!({
        "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"terminationGracePeriodSeconds": 1, "containers": [{"name": "web", "image": "nginx:1"}]}}}
    });
    if let (Some(base), Some(extra)) = (d["spec"].as_object_mut(), spec.as_object()) {
        for (k, v) in extra {
            base.insert(k.clone(), v.clone());
        }
    }
    serde_json::from_value(d).expect("a Deployment")
}

struct Ctx {
    client: kube::Client,
    kubeconfig: std::path::PathBuf,
    ns: String,
    deployments: Api<Deployment>,
    rss: Api<ReplicaSet>,
    pods: Api<Pod>,
}

/// A fresh namespace of the world, and the APIs of the test.
async fn setup(world: &World) -> Ctx {
    let ns = world.namespace().await.expect("namespace");
    let c = world.client.clone();
    Ctx {
        deployments: Api::namespaced(c.clone(), &ns),
        rss: Api::namespaced(c.clone(), &ns),
        pods: Api::namespaced(c.clone(), &ns),
        client: c,
        kubeconfig: world.kubeconfig.clone(),
        ns,
    }
}

impl Ctx {
    async fn create(&self, d: &Deployment) {
        self.deployments.create(&PostParams::default(), d).await.expect("created");
    }

    async fn kubectl(&self, args: &[&str]) -> (std::process::ExitStatus, String) {
        rudder_e2e::kubectl_in(&self.kubeconfig, &self.ns, args).await
    }

    async fn kubectl_ok(&self, args: &[&str]) -> String {
        rudder_e2e::kubectl_in_ok(&self.kubeconfig, &self.ns, args).await
    }

    /// The ReplicaSets of the Deployment `name`, by name.
    async fn replicasets(&self, name: &str) -> BTreeMap<String, ReplicaSet> {
        let list = self.rss.list(&ListParams::default().labels(&format!("app={name}"))).await.expect("list");
        list.items.into_iter().map(|rs| (rs.metadata.name.clone().unwrap_or_default(), rs)).collect()
    }

    /// Waits until the Deployment is complete: its status observed its
    /// generation, every replica updated, available, and no old one left.
    async fn complete(&self, name: &str) -> Deployment {
        eventually(120, &format!("deployment {name} complete"), || async {
            let d = self.deployments.get(name).await.ok()?;
            let want = d.spec.as_ref()?.replicas.unwrap_or(1);
            let st = d.status.clone()?;
            let done = st.observed_generation == d.metadata.generation
                && st.updated_replicas.unwrap_or(0) == want
                && st.replicas.unwrap_or(0) == want
                && st.available_replicas.unwrap_or(0) == want
                && condition(&d, "Progressing").is_some_and(|c| c.reason.as_deref() == Some("NewReplicaSetAvailable"));
            done.then_some(d)
        })
        .await
    }

    async fn set_image(&self, name: &str, image: &str) {
        self.kubectl_ok(&["set", "image", &format!("deployment/{name}"), &format!("web={image}")]).await;
    }
}

fn condition(d: &Deployment, type_: &str) -> Option<DeploymentCondition> {
    d.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == type_).cloned()
}

fn annotation<'a>(rs: &'a ReplicaSet, key: &str) -> Option<&'a str> {
    rs.metadata.annotations.as_ref()?.get(key).map(String::as_str)
}

fn image_of(rs: &ReplicaSet) -> String {
    rs.spec
        .as_ref()
        .and_then(|s| s.template.as_ref())
        .and_then(|t| t.spec.as_ref())
        .and_then(|s| s.containers[0].image.clone())
        .unwrap_or_default()
}

fn spec_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0)
}

#[tokio::test]
async fn a_deployment_is_created_and_becomes_available() {
    let world = world().await;
    let t = setup(&world).await;
    t.create(&deployment("web", 3, json!({}))).await;
    let d = t.complete("web").await;
    let available = condition(&d, "Available").expect("Available");
    assert_eq!((available.status.as_str(), available.reason.as_deref()), ("True", Some("MinimumReplicasAvailable")));
    assert_eq!(available.message.as_deref(), Some("Deployment has minimum availability."));
    let progressing = condition(&d, "Progressing").expect("Progressing");
    let rss = t.replicasets("web").await;
    assert_eq!(rss.len(), 1, "{rss:?}");
    let (rs_name, rs) = rss.iter().next().unwrap();
    let hash = rs.metadata.labels.as_ref().and_then(|l| l.get("pod-template-hash")).expect("pod-template-hash label").clone();
    assert_eq!(rs_name, &format!("web-{hash}"));
    assert_eq!(progressing.message, Some(format!("ReplicaSet \"{rs_name}\" has successfully progressed.")));
    let selector = rs.spec.as_ref().unwrap().selector.match_labels.clone().unwrap_or_default();
    assert_eq!(selector.get("pod-template-hash"), Some(&hash));
    assert_eq!(annotation(rs, "deployment.kubernetes.io/revision"), Some("1"));
    assert_eq!(annotation(rs, "deployment.kubernetes.io/desired-replicas"), Some("3"));
    assert_eq!(annotation(rs, "deployment.kubernetes.io/max-replicas"), Some("4"));
    assert_eq!(d.metadata.annotations.as_ref().and_then(|a| a.get("deployment.kubernetes.io/revision")).map(String::as_str), Some("1"));
    let owner = rs.metadata.owner_references.as_ref().and_then(|o| o.first()).expect("owned");
    assert_eq!((owner.kind.as_str(), owner.controller), ("Deployment", Some(true)));
    let st = d.status.unwrap();
    assert_eq!((st.ready_replicas, st.unavailable_replicas), (Some(3), None));
}

/// Watches a Deployment and its ReplicaSets all along a rollout: every
/// observed state must keep the sum of the ReplicaSets' replicas at most
/// `max_total`, and the Deployment's available replicas at least
/// `min_available` (as upstream's e2e checks a rolling update).
struct Sampler {
    violations: Arc<Mutex<Vec<String>>>,
    samples: Arc<Mutex<usize>>,
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    fn start(t: &Ctx, name: &str, max_total: i32, min_available: i32) -> Sampler {
        let violations = Arc::new(Mutex::new(Vec::new()));
        let samples = Arc::new(Mutex::new(0));
        enum Seen {
            D(Deployment),
            Rs(ReplicaSet),
            RsGone(ReplicaSet),
        }
        let rs_stream = watcher(t.rss.clone(), watcher::Config::default().labels(&format!("app={name}"))).filter_map(|e| async move {
            match e.ok()? {
                watcher::Event::Apply(rs) | watcher::Event::InitApply(rs) => Some(Seen::Rs(rs)),
                watcher::Event::Delete(rs) => Some(Seen::RsGone(rs)),
                _ => None,
            }
        });
        let d_stream = watcher(t.deployments.clone(), watcher::Config::default().fields(&format!("metadata.name={name}"))).filter_map(
            |e| async move {
                match e.ok()? {
                    watcher::Event::Apply(d) | watcher::Event::InitApply(d) => Some(Seen::D(d)),
                    _ => None,
                }
            },
        );
        let merged = futures::stream::select(d_stream, rs_stream);
        let (v, n) = (violations.clone(), samples.clone());
        let task = tokio::spawn(async move {
            let mut rss: BTreeMap<String, i32> = BTreeMap::new();
            let mut available: Option<i32> = None;
            futures::pin_mut!(merged);
            while let Some(seen) = merged.next().await {
                match seen {
                    Seen::D(d) => available = d.status.and_then(|s| s.available_replicas).or(Some(0)),
                    Seen::Rs(rs) => {
                        rss.insert(rs.metadata.name.clone().unwrap_or_default(), spec_replicas(&rs));
                    }
                    Seen::RsGone(rs) => {
                        rss.remove(&rs.metadata.name.unwrap_or_default());
                    }
                }
                *n.lock().unwrap() += 1;
                let total: i32 = rss.values().sum();
                if total > max_total {
                    v.lock().unwrap().push(format!("{total} replicas in ReplicaSets {rss:?} > {max_total}"));
                }
                if let Some(a) = available
                    && a < min_available
                {
                    v.lock().unwrap().push(format!("{a} available < {min_available}"));
                }
            }
        });
        Sampler { violations, samples, task }
    }

    fn finish(self) {
        self.task.abort();
        let v = self.violations.lock().unwrap().clone();
        assert!(v.is_empty(), "the rollout broke its bounds: {v:?}");
        assert!(*self.samples.lock().unwrap() > 3, "too few observations");
    }
}

#[tokio::test]
async fn set_image_rolls_out_within_max_surge_and_max_unavailable() {
    let world = world().await;
    let t = setup(&world).await;
    let strategy = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 2, "maxUnavailable": 1}});
    t.create(&deployment("web", 6, json!({"strategy": strategy}))).await;
    t.complete("web").await;
    let sampler = Sampler::start(&t, "web", 8, 5);
    t.set_image("web", "nginx:2").await;
    let d = t.complete("web").await;
    sampler.finish();
    let rss = t.replicasets("web").await;
    let new: Vec<&ReplicaSet> = rss.values().filter(|rs| image_of(rs) == "nginx:2").collect();
    assert_eq!(new.len(), 1);
    assert_eq!(spec_replicas(new[0]), 6);
    assert_eq!(annotation(new[0], "deployment.kubernetes.io/revision"), Some("2"));
    assert!(rss.values().filter(|rs| image_of(rs) == "nginx:1").all(|rs| spec_replicas(rs) == 0));
    assert_eq!(d.metadata.annotations.as_ref().and_then(|a| a.get("deployment.kubernetes.io/revision")).map(String::as_str), Some("2"));
    // The events kubectl describe shows.
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(t.client.clone(), &t.ns);
    let notes: Vec<String> = events
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some("ScalingReplicaSet"))
        .filter_map(|e| e.note)
        .collect();
    let new_name = new[0].metadata.name.clone().unwrap();
    assert!(notes.iter().any(|n| n.starts_with(&format!("Scaled up replica set {new_name} from 0 to "))), "{notes:?}");
    assert!(notes.iter().any(|n| n.starts_with("Scaled down replica set web-")), "{notes:?}");
}

#[tokio::test]
async fn recreate_never_has_old_and_new_pods_at_once() {
    let world = world().await;
    let t = setup(&world).await;
    // Old pods keep running a second after their deletion (on the simulated
    // nodes; the grace period is 2 s): the new ones must wait for that.
    let mut d = deployment("web", 4, json!({"strategy": {"type": "Recreate"}}));
    let template = &mut d.spec.as_mut().unwrap().template;
    template.spec.as_mut().unwrap().termination_grace_period_seconds = Some(2);
    template.metadata.as_mut().unwrap().annotations = Some([("sim.rudder.dev/termination-delay".to_string(), "1s".to_string())].into());
    t.create(&d).await;
    t.complete("web").await;
    // Every pod that may be running (not Succeeded or Failed: upstream's
    // Recreate waits for old pods to stop running, not for their objects to
    // be removed), by uid, with its template hash, as the watch shows them.
    let live: Arc<Mutex<BTreeMap<String, String>>> = Arc::default();
    let mixed: Arc<Mutex<Vec<String>>> = Arc::default();
    let (l, m) = (live.clone(), mixed.clone());
    let watch = tokio::spawn(watcher(t.pods.clone(), watcher::Config::default().labels("app=web")).for_each(move |e| {
        let mut live = l.lock().unwrap();
        match e {
            Ok(watcher::Event::Apply(p) | watcher::Event::InitApply(p)) => {
                let hash = p.metadata.labels.as_ref().and_then(|l| l.get("pod-template-hash")).cloned().unwrap_or_default();
                let uid = p.metadata.uid.unwrap_or_default();
                if matches!(p.status.and_then(|s| s.phase).as_deref(), Some("Succeeded" | "Failed")) {
                    live.remove(&uid);
                } else {
                    live.insert(uid, hash);
                }
            }
            Ok(watcher::Event::Delete(p)) => {
                live.remove(&p.metadata.uid.unwrap_or_default());
            }
            _ => {}
        }
        let hashes: BTreeSet<&String> = live.values().collect();
        if hashes.len() > 1 {
            m.lock().unwrap().push(format!("{hashes:?}"));
        }
        futures::future::ready(())
    }));
    t.set_image("web", "nginx:2").await;
    t.complete("web").await;
    watch.abort();
    assert!(mixed.lock().unwrap().is_empty(), "old and new pods running at once: {:?}", mixed.lock().unwrap());
    let pods = t.pods.list(&ListParams::default().labels("app=web")).await.unwrap();
    assert!(pods.items.iter().all(|p| p.spec.as_ref().unwrap().containers[0].image.as_deref() == Some("nginx:2")));
}

#[tokio::test]
async fn scaling_in_the_middle_of_a_rollout_is_proportional() {
    let world = world().await;
    let t = setup(&world).await;
    let strategy = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 2}});
    t.create(&deployment("web", 10, json!({"strategy": strategy}))).await;
    t.complete("web").await;
    // A rollout that cannot finish: its pods never pull their image. It
    // stops with 8 old and 5 new replicas (10 - maxUnavailable available,
    // 10 + maxSurge in all), as upstream.
    t.set_image("web", UNPULLABLE).await;
    let sizes = |rss: &BTreeMap<String, ReplicaSet>| -> (i32, i32) {
        let of = |img: &str| rss.values().filter(|rs| image_of(rs) == img).map(spec_replicas).sum();
        (of("nginx:1"), of(UNPULLABLE))
    };
    eventually(60, "the rollout stuck at 8 old and 5 new", || async { (sizes(&t.replicasets("web").await) == (8, 5)).then_some(()) }).await;
    t.kubectl_ok(&["scale", "deployment/web", "--replicas=30"]).await;
    // 20 more replicas, spread in proportion (8/13 and 5/13 of 33 - 13).
    eventually(60, "proportional scale to 20 and 13", || async { (sizes(&t.replicasets("web").await) == (20, 13)).then_some(()) }).await;
    let rss = t.replicasets("web").await;
    for rs in rss.values() {
        assert_eq!(annotation(rs, "deployment.kubernetes.io/desired-replicas"), Some("30"));
        assert_eq!(annotation(rs, "deployment.kubernetes.io/max-replicas"), Some("33"));
    }
}

#[tokio::test]
async fn a_paused_deployment_rolls_out_only_when_resumed() {
    let world = world().await;
    let t = setup(&world).await;
    t.create(&deployment("web", 2, json!({}))).await;
    t.complete("web").await;
    t.kubectl_ok(&["rollout", "pause", "deployment/web"]).await;
    t.set_image("web", "nginx:2").await;
    // The controller has seen the change (observedGeneration) and rolled nothing out.
    let d = eventually(30, "the paused change observed", || async {
        let d = t.deployments.get("web").await.ok()?;
        (d.status.as_ref()?.observed_generation == d.metadata.generation).then_some(d)
    })
    .await;
    let progressing = condition(&d, "Progressing").expect("Progressing");
    assert_eq!((progressing.status.as_str(), progressing.reason.as_deref()), ("Unknown", Some("DeploymentPaused")));
    assert_eq!(progressing.message.as_deref(), Some("Deployment is paused"));
    assert_eq!(t.replicasets("web").await.len(), 1, "no new ReplicaSet while paused");
    // Scaling still works while paused.
    t.kubectl_ok(&["scale", "deployment/web", "--replicas=3"]).await;
    eventually(60, "scaled while paused", || async {
        let rss = t.replicasets("web").await;
        (rss.len() == 1 && rss.values().all(|rs| spec_replicas(rs) == 3)).then_some(())
    })
    .await;
    t.kubectl_ok(&["rollout", "resume", "deployment/web"]).await;
    t.complete("web").await;
    let rss = t.replicasets("web").await;
    assert!(rss.values().any(|rs| image_of(rs) == "nginx:2" && spec_replicas(rs) == 3), "{rss:?}");
}

#[tokio::test]
async fn rollout_undo_goes_back_to_a_revision_and_reuses_its_replicaset() {
    let world = world().await;
    let t = setup(&world).await;
    t.create(&deployment("web", 2, json!({}))).await;
    t.complete("web").await;
    let first = t.replicasets("web").await.into_keys().next().unwrap();
    t.set_image("web", "nginx:2").await;
    t.complete("web").await;
    t.set_image("web", "nginx:3").await;
    t.complete("web").await;
    let history = t.kubectl_ok(&["rollout", "history", "deployment/web"]).await;
    for rev in ["1", "2", "3"] {
        assert!(history.lines().any(|l| l.split_whitespace().next() == Some(rev)), "revision {rev} in\n{history}");
    }
    t.kubectl_ok(&["rollout", "undo", "deployment/web", "--to-revision=1"]).await;
    t.complete("web").await;
    let rss = t.replicasets("web").await;
    assert_eq!(rss.len(), 3, "no new ReplicaSet: revision 1's is reused");
    let back = &rss[&first];
    assert_eq!(image_of(back), "nginx:1");
    assert_eq!(spec_replicas(back), 2);
    assert_eq!(annotation(back, "deployment.kubernetes.io/revision"), Some("4"));
    assert_eq!(annotation(back, "deployment.kubernetes.io/revision-history"), Some("1"));
}

#[tokio::test]
async fn a_rollout_that_never_becomes_ready_exceeds_its_progress_deadline() {
    let world = world().await;
    let t = setup(&world).await;
    t.create(&deployment("web", 2, json!({"progressDeadlineSeconds": 3}))).await;
    t.complete("web").await;
    t.set_image("web", UNPULLABLE).await;
    let d = eventually(60, "ProgressDeadlineExceeded", || async {
        let d = t.deployments.get("web").await.ok()?;
        condition(&d, "Progressing").filter(|c| c.reason.as_deref() == Some("ProgressDeadlineExceeded")).map(|c| (d, c))
    })
    .await;
    let (d, c) = d;
    assert_eq!(c.status, "False");
    let new = t.replicasets("web").await.into_values().find(|rs| image_of(rs) == UNPULLABLE).expect("the new ReplicaSet");
    assert_eq!(c.message, Some(format!("ReplicaSet \"{}\" has timed out progressing.", new.metadata.name.unwrap())));
    // The old pods still serve: Available stays True.
    let available = condition(&d, "Available").expect("Available");
    assert_eq!(available.status, "True");
}

#[tokio::test]
async fn old_replicasets_beyond_the_revision_history_limit_are_deleted() {
    let world = world().await;
    let t = setup(&world).await;
    t.create(&deployment("web", 1, json!({"revisionHistoryLimit": 1}))).await;
    t.complete("web").await;
    for image in ["nginx:2", "nginx:3", "nginx:4"] {
        t.set_image("web", image).await;
        t.complete("web").await;
    }
    let rss = eventually(60, "two ReplicaSets left", || async {
        let rss = t.replicasets("web").await;
        (rss.len() == 2).then_some(rss)
    })
    .await;
    let images: BTreeSet<String> = rss.values().map(image_of).collect();
    assert_eq!(images, BTreeSet::from(["nginx:3".to_string(), "nginx:4".to_string()]), "the newest old one is kept");
}

#[tokio::test]
async fn kubectl_rollout_status_succeeds_or_reports_the_deadline() {
    let world = world().await;
    let t = setup(&world).await;
    t.create(&deployment("web", 2, json!({"progressDeadlineSeconds": 3}))).await;
    let out = t.kubectl_ok(&["rollout", "status", "deployment/web", "--timeout=120s"]).await;
    assert!(out.contains("deployment \"web\" successfully rolled out"), "{out}");
    t.set_image("web", UNPULLABLE).await;
    let (status, out) = t.kubectl(&["rollout", "status", "deployment/web", "--timeout=120s"]).await;
    assert!(!status.success(), "{out}");
    assert!(out.contains("error: deployment \"web\" exceeded its progress deadline"), "{out}");
}

#[tokio::test]
async fn a_controller_killed_mid_rollout_finishes_it_within_the_same_bounds() {
    let mut world = world().await;
    let t = setup(&world).await;
    // One pod at a time, each ready a second after it starts (on the
    // simulated nodes): the rollout takes a while.
    let strategy = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}});
    let mut d = deployment("web", 6, json!({"strategy": strategy}));
    d.spec.as_mut().unwrap().template.metadata.as_mut().unwrap().annotations =
        Some([("sim.rudder.dev/ready-after".to_string(), "1s".to_string())].into());
    t.create(&d).await;
    t.complete("web").await;
    let sampler = Sampler::start(&t, "web", 7, 6);
    t.set_image("web", "nginx:2").await;
    eventually(60, "the rollout under way", || async {
        let rss = t.replicasets("web").await;
        rss.values().any(|rs| image_of(rs) == "nginx:2" && spec_replicas(rs) >= 2).then_some(())
    })
    .await;
    world.restart("rudder-deployment-controller").await.expect("restarted");
    t.complete("web").await;
    sampler.finish();
}

#[tokio::test]
async fn kubectl_rollout_restart_rolls_every_pod() {
    let world = world().await;
    let t = setup(&world).await;
    t.create(&deployment("web", 2, json!({}))).await;
    t.complete("web").await;
    let before: BTreeSet<String> =
        t.pods.list(&ListParams::default().labels("app=web")).await.unwrap().items.into_iter().filter_map(|p| p.metadata.uid).collect();
    t.kubectl_ok(&["rollout", "restart", "deployment/web"]).await;
    // A new ReplicaSet (the template's restartedAt annotation changed) takes over.
    eventually(60, "a second ReplicaSet", || async { (t.replicasets("web").await.len() == 2).then_some(()) }).await;
    t.complete("web").await;
    let after = eventually(60, "only new pods", || async {
        let pods = t.pods.list(&ListParams::default().labels("app=web")).await.ok()?.items;
        let live: BTreeSet<String> =
            pods.into_iter().filter(|p| p.metadata.deletion_timestamp.is_none()).filter_map(|p| p.metadata.uid).collect();
        (live.len() == 2 && live.is_disjoint(&before)).then_some(live)
    })
    .await;
    assert_eq!(after.len(), 2);
    let rss = t.replicasets("web").await;
    let restarted = rss.values().find(|rs| spec_replicas(rs) == 2).expect("the new ReplicaSet");
    let template_annotations = restarted.spec.as_ref().unwrap().template.as_ref().unwrap().metadata.as_ref().unwrap().annotations.clone();
    assert!(template_annotations.unwrap_or_default().contains_key("kubectl.kubernetes.io/restartedAt"));
}

#[tokio::test]
async fn orphaned_replicasets_are_adopted_by_a_matching_deployment() {
    let world = world().await;
    let t = setup(&world).await;
    t.create(&deployment("web", 2, json!({}))).await;
    t.complete("web").await;
    let rs_name = t.replicasets("web").await.into_keys().next().unwrap();
    // Delete the Deployment, orphaning its ReplicaSet (and pods).
    let dp = kube::api::DeleteParams { propagation_policy: Some(kube::api::PropagationPolicy::Orphan), ..Default::default() };
    t.deployments.delete("web", &dp).await.unwrap();
    eventually(60, "the ReplicaSet orphaned", || async {
        let rs = t.rss.get(&rs_name).await.ok()?;
        rs.metadata.owner_references.as_ref().is_none_or(|o| o.is_empty()).then_some(())
    })
    .await;
    // The same Deployment again: it adopts the ReplicaSet (same template,
    // same pod-template-hash) instead of making a new one.
    t.create(&deployment("web", 2, json!({}))).await;
    t.complete("web").await;
    let rss = t.replicasets("web").await;
    assert_eq!(rss.keys().collect::<Vec<_>>(), vec![&rs_name]);
    let uid = t.deployments.get("web").await.unwrap().metadata.uid;
    let owner = rss[&rs_name].metadata.owner_references.as_ref().and_then(|o| o.first()).cloned().expect("adopted");
    assert_eq!((Some(owner.uid), owner.controller), (uid, Some(true)));
}
