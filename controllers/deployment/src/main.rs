//! `rudder-deployment-controller`: rolls Deployments out through their
//! ReplicaSets, as kube-controller-manager's deployment controller does.
//! The decisions are the library's (`rollout`, `util`, `hash`); this is the
//! I/O around them: caches of Deployments, ReplicaSets and Pods, claiming
//! ReplicaSets, carrying out each plan in upstream's order, status and
//! events.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, PostParams, Preconditions};
use kube::runtime::WatchStreamExt;
use kube::runtime::controller::Action;
use kube::runtime::reflector::{ObjectRef, Store};
use rudder_common::cache::{Indexer, by_controller, orphans_by_namespace};
use rudder_common::controller::Shell;
use rudder_common::controller_ref::{ControllerRefManager, controller_of, owners_to_sync};
use rudder_common::errors::{SyncError, has_status_cause, is_status, message};
use rudder_common::events::{EventType, Recorder, object_reference};
use rudder_common::flags::{self, CommonArgs, HasCommon};
use rudder_common::runtime::{self, Context};
use rudder_common::selector::Selector;
use rudder_common::workqueue::key_of;
use rudder_deployment::rollout::{self, ExistingNewReplicaSet, RecreatePlan, ScaleAction, StuckRequeue, SyncPath};
use rudder_deployment::util as du;

#[derive(Debug, Parser)]
#[command(name = "rudder-deployment-controller", version, about = "Rolls Deployments out through their ReplicaSets")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,

    /// Deployments synced at once (a Deployment is never synced twice at once).
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    concurrent_deployment_syncs: u16,
}

impl HasCommon for Args {
    fn common(&self) -> &CommonArgs {
        &self.common
    }
}

const BY_CONTROLLER: &str = "controller";
const ORPHANS: &str = "orphans";

struct State {
    client: kube::Client,
    replicasets: Indexer<ReplicaSet>,
    pods: Indexer<Pod>,
    recorder: Recorder,
}

/// One sync: the Deployment (a copy, replaced by what each write returns)
/// and its APIs.
struct Sync<'a> {
    s: &'a State,
    d: Deployment,
    deployments: Api<Deployment>,
    replicasets: Api<ReplicaSet>,
    now: jiff::Timestamp,
}

/// Upstream `syncDeployment`; returns when to look again, if ever.
async fn sync(d: Arc<Deployment>, s: Arc<State>) -> Result<Action, SyncError> {
    let (d, s) = (d.as_ref(), s.as_ref());
    let ns = d.namespace().unwrap_or_default();
    let mut x = Sync {
        s,
        d: d.clone(),
        deployments: Api::namespaced(s.client.clone(), &ns),
        replicasets: Api::namespaced(s.client.clone(), &ns),
        now: jiff::Timestamp::now(),
    };
    if let Some((event, update)) = rollout::selecting_all(&x.d) {
        x.event(&event);
        if let Some(status) = update {
            x.write_status(status).await?;
        }
        return Ok(Action::await_change());
    }
    let rs_list = x.claim_replicasets().await?;
    if x.d.metadata.deletion_timestamp.is_none()
        && let Some(status) = rollout::check_paused_conditions(&x.d, x.now)
    {
        x.write_status(status).await?;
    }
    let path = {
        let refs: Vec<&ReplicaSet> = rs_list.iter().collect();
        let new = du::find_new_replica_set(&x.d, &refs);
        let (_, old) = du::find_old_replica_sets(&x.d, &refs);
        rollout::sync_path(&x.d, new, &old)
    };
    let after = match path {
        SyncPath::StatusOnly => {
            let (new, old) = x.new_and_old(&rs_list, false).await?;
            let all = rollout::all_replica_sets(new.as_ref(), &old.iter().collect::<Vec<_>>());
            let status = rollout::calculate_status(&all, new.as_ref(), &x.d, x.now);
            x.write_status(status).await?;
            None
        }
        SyncPath::Scale => {
            x.sync_scale(&rs_list).await?;
            None
        }
        SyncPath::Rollback => {
            x.rollback(&rs_list).await?;
            None
        }
        SyncPath::Recreate => x.rollout_recreate(&rs_list).await?,
        SyncPath::RollingUpdate => x.rollout_rolling(&rs_list).await?,
        SyncPath::UnexpectedStrategy(msg) => return Err(SyncError(msg)),
    };
    Ok(after.map_or_else(Action::await_change, Action::requeue))
}

impl Sync<'_> {
    fn event(&self, e: &rollout::Event) {
        let type_ = if e.type_ == rollout::EVENT_WARNING { EventType::Warning } else { EventType::Normal };
        self.s.recorder.publish(&object_reference(&self.d), None, type_, e.reason, "Sync", &e.message);
    }

    /// Upstream `getReplicaSetsForDeployment`: the ReplicaSets this
    /// Deployment controls, after adopting matching orphans (not while it is
    /// being deleted) and releasing the ones that stopped matching.
    async fn claim_replicasets(&self) -> Result<Vec<ReplicaSet>, SyncError> {
        let selector = self.d.spec.as_ref().map(|sp| sp.selector.clone()).unwrap_or_default();
        let sel = Selector::from_label_selector(Some(&selector)).map_err(|e| SyncError(format!("invalid selector: {e}")))?;
        let uid = self.d.metadata.uid.clone().unwrap_or_default();
        let ns = self.d.namespace().unwrap_or_default();
        let owned = self.s.replicasets.by_index(BY_CONTROLLER, &uid);
        let orphans = self.s.replicasets.by_index(ORPHANS, &ns);
        let candidates: Vec<ReplicaSet> =
            owned.iter().chain(orphans.iter().filter(|rs| sel.matches(rs.labels()))).map(|rs| rs.as_ref().clone()).collect();
        let mut manager = ControllerRefManager::new(self.replicasets.clone(), self.deployments.clone(), &self.d, sel)?;
        manager.claim(candidates).await.into_result().map_err(SyncError::from)
    }

    /// Writes `status` (upstream UpdateStatus) unless it is what the
    /// Deployment shows; keeps what the server returns.
    async fn write_status(&mut self, status: DeploymentStatus) -> Result<(), SyncError> {
        if rollout::status_unchanged(&self.d, &status) {
            return Ok(());
        }
        let mut d = self.d.clone();
        d.status = Some(status);
        self.write_deployment_status(d).await
    }

    /// UpdateStatus of a whole Deployment: its status and, through the
    /// status subresource, metadata such as the revision annotation.
    async fn write_deployment_status(&mut self, d: Deployment) -> Result<(), SyncError> {
        match self.deployments.replace_status(&d.name_any(), &PostParams::default(), &d).await {
            Ok(written) => self.d = written,
            Err(e) if is_status(&e, 404) => {}
            Err(e) => return Err(SyncError(format!("updating the status of {}: {}", key_of(&self.d), message(&e)))),
        }
        Ok(())
    }

    /// Upstream `getAllReplicaSetsAndSyncRevision`: the new ReplicaSet
    /// (created when `create` and missing) and all the old ones.
    async fn new_and_old(&mut self, rs_list: &[ReplicaSet], create: bool) -> Result<(Option<ReplicaSet>, Vec<ReplicaSet>), SyncError> {
        let refs: Vec<&ReplicaSet> = rs_list.iter().collect();
        let (_, all_old) = du::find_old_replica_sets(&self.d, &refs);
        let old: Vec<ReplicaSet> = all_old.into_iter().cloned().collect();
        let existing = du::find_new_replica_set(&self.d, &refs).cloned();
        let new = self.new_replica_set(existing, &old, create).await?;
        Ok((new, old))
    }

    /// Upstream `getNewReplicaSet`.
    async fn new_replica_set(
        &mut self,
        existing: Option<ReplicaSet>,
        old: &[ReplicaSet],
        create: bool,
    ) -> Result<Option<ReplicaSet>, SyncError> {
        let old_refs: Vec<&ReplicaSet> = old.iter().collect();
        if let Some(existing) = existing {
            return match rollout::sync_existing_new_replica_set(&self.d, &existing, &old_refs, self.now) {
                ExistingNewReplicaSet::UpdateReplicaSet(rs) => {
                    Ok(Some(self.replicasets.replace(&rs.name_any(), &PostParams::default(), &rs).await?))
                }
                ExistingNewReplicaSet::UpdateDeployment(d) => {
                    self.write_deployment_status(d).await?;
                    Ok(Some(existing))
                }
                ExistingNewReplicaSet::Unchanged => Ok(Some(existing)),
            };
        }
        if !create {
            return Ok(None);
        }
        let revision = rollout::new_revision(&old_refs);
        let new_rs = rollout::new_replica_set(&self.d, &old_refs, &revision)?;
        let name = new_rs.name_any();
        let (created, already_exists) = match self.replicasets.create(&PostParams::default(), &new_rs).await {
            Ok(rs) => (rs, false),
            Err(e) if is_status(&e, 409) => {
                let existing = self.replicasets.get(&name).await?;
                if !rollout::is_own_new_replica_set(&self.d, &existing) {
                    // A hash collision: the next sync names it differently.
                    let status = rollout::bump_collision_count(&self.d);
                    let mut d = self.d.clone();
                    d.status = Some(status);
                    self.write_deployment_status(d).await?;
                    return Err(e.into());
                }
                (existing, true)
            }
            Err(e) if has_status_cause(&e, "NamespaceTerminating") => return Err(e.into()),
            Err(e) => {
                let (event, status) = rollout::new_replica_set_create_failed(&self.d, &name, &message(&e), self.now);
                if let Some(status) = status {
                    let _ = self.write_status(status).await;
                }
                self.event(&event);
                return Err(e.into());
            }
        };
        let done = rollout::new_replica_set_created(&self.d, &created, &revision, already_exists, self.now);
        if let Some(event) = &done.event {
            self.event(event);
        }
        if let Some(d) = done.update {
            self.write_deployment_status(d).await?;
        }
        Ok(Some(created))
    }

    /// Carries out scale actions in order (upstream `scaleReplicaSet`: an
    /// update with the cached resourceVersion, so a stale cache fails the
    /// sync, which is retried); the ScalingReplicaSet event for each resize.
    /// Returns whether any size changed.
    async fn apply(&self, actions: &[ScaleAction], rss: &[&ReplicaSet]) -> Result<bool, SyncError> {
        let mut resized = false;
        for action in actions {
            let Some(rs) = rss.iter().find(|rs| rs.metadata.uid == action.uid && rs.name_any() == action.name) else { continue };
            let copy = action.apply(rs, &self.d);
            self.replicasets.replace(&action.name, &PostParams::default(), &copy).await?;
            if let Some(event) = action.event() {
                self.event(&event);
                resized = true;
            }
        }
        Ok(resized)
    }

    /// Upstream `cleanupDeployment`'s deletes (uid precondition; gone is fine).
    async fn delete_replicasets(&self, doomed: &[&ReplicaSet]) -> Result<(), SyncError> {
        for rs in doomed {
            let dp = DeleteParams {
                preconditions: Some(Preconditions { uid: rs.metadata.uid.clone(), resource_version: None }),
                ..Default::default()
            };
            match self.replicasets.delete(&rs.name_any(), &dp).await {
                Ok(_) => {}
                Err(e) if is_status(&e, 404) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Upstream `sync`: proportional scaling (paused Deployments, scaling
    /// events), cleanup when paused, and the status computed over the
    /// ReplicaSets as they were before scaling (as upstream).
    async fn sync_scale(&mut self, rs_list: &[ReplicaSet]) -> Result<(), SyncError> {
        let (new, old) = self.new_and_old(rs_list, false).await?;
        let old_refs: Vec<&ReplicaSet> = old.iter().collect();
        let all = rollout::all_replica_sets(new.as_ref(), &old_refs);
        let actions = rollout::scale(&self.d, new.as_ref(), &old_refs);
        self.apply(&actions, &all).await?;
        if rollout::sync_cleans_up(&self.d) {
            self.delete_replicasets(&rollout::cleanup_deployment(&old_refs, &self.d)).await?;
        }
        let status = rollout::calculate_status(&all, new.as_ref(), &self.d, self.now);
        self.write_status(status).await
    }

    /// The legacy rollback annotation (`deprecated.deployment.rollback.to`).
    async fn rollback(&mut self, rs_list: &[ReplicaSet]) -> Result<(), SyncError> {
        let (new, old) = self.new_and_old(rs_list, true).await?;
        let all = rollout::all_replica_sets(new.as_ref(), &old.iter().collect::<Vec<_>>());
        let Some(plan) = rollout::plan_rollback(&self.d, &all) else { return Ok(()) };
        for event in &plan.events {
            self.event(event);
        }
        self.d = self.deployments.replace(&plan.deployment.name_any(), &PostParams::default(), &plan.deployment).await?;
        Ok(())
    }

    /// Upstream `rolloutRolling`.
    async fn rollout_rolling(&mut self, rs_list: &[ReplicaSet]) -> Result<Option<Duration>, SyncError> {
        let (new, old) = self.new_and_old(rs_list, true).await?;
        let old_refs: Vec<&ReplicaSet> = old.iter().collect();
        let all = rollout::all_replica_sets(new.as_ref(), &old_refs);
        if let Some(new_rs) = new.as_ref() {
            let plan = rollout::plan_rolling_update(&self.d, new_rs, &old_refs)?;
            self.apply(&plan.actions, &all).await?;
            if !plan.scaled {
                self.delete_replicasets(&plan.cleanup).await?;
            }
        }
        self.sync_rollout_status(&all, new.as_ref()).await
    }

    /// Upstream `rolloutRecreate`.
    async fn rollout_recreate(&mut self, rs_list: &[ReplicaSet]) -> Result<Option<Duration>, SyncError> {
        let (new, old) = self.new_and_old(rs_list, false).await?;
        let old_refs: Vec<&ReplicaSet> = old.iter().collect();
        let all = rollout::all_replica_sets(new.as_ref(), &old_refs);
        let pods: Vec<Arc<Pod>> =
            all.iter().flat_map(|rs| self.s.pods.by_index(BY_CONTROLLER, rs.metadata.uid.as_deref().unwrap_or_default())).collect();
        let pod_refs: Vec<&Pod> = pods.iter().map(|p| p.as_ref()).collect();
        let pod_map: BTreeMap<String, Vec<&Pod>> = rollout::pod_map_for_deployment(&all, &pod_refs);
        match rollout::plan_recreate(&self.d, new.as_ref(), &old_refs, &pod_map) {
            RecreatePlan::ScaleDownOld(actions) => {
                self.apply(&actions, &all).await?;
                self.sync_rollout_status(&all, new.as_ref()).await
            }
            RecreatePlan::WaitForOldPods => self.sync_rollout_status(&all, new.as_ref()).await,
            RecreatePlan::CreateNewReplicaSet => {
                let (new, old) = self.new_and_old(rs_list, true).await?;
                let old_refs: Vec<&ReplicaSet> = old.iter().collect();
                let all = rollout::all_replica_sets(new.as_ref(), &old_refs);
                if let Some(new_rs) = new.as_ref() {
                    self.scale_up_new(rollout::recreate_scale_up(&self.d, new_rs, &old_refs), &all).await?;
                }
                self.sync_rollout_status(&all, new.as_ref()).await
            }
            plan @ RecreatePlan::ScaleUpNew { .. } => {
                self.scale_up_new(plan, &all).await?;
                self.sync_rollout_status(&all, new.as_ref()).await
            }
        }
    }

    async fn scale_up_new(&self, plan: RecreatePlan<'_>, all: &[&ReplicaSet]) -> Result<(), SyncError> {
        if let RecreatePlan::ScaleUpNew { action, cleanup } = plan {
            self.apply(action.as_slice(), all).await?;
            self.delete_replicasets(&cleanup).await?;
        }
        Ok(())
    }

    /// Upstream `syncRolloutStatus`, then `requeueStuckDeployment`: the
    /// status with its conditions, and when to look again so that a
    /// progress deadline is noticed on time.
    async fn sync_rollout_status(&mut self, all: &[&ReplicaSet], new: Option<&ReplicaSet>) -> Result<Option<Duration>, SyncError> {
        let status = rollout::sync_rollout_status(all, new, &self.d, self.now);
        let requeue = rollout::requeue_stuck_deployment(&self.d, &status, self.now);
        self.write_status(status).await?;
        Ok(match requeue {
            StuckRequeue::Never => None,
            // Upstream's enqueueRateLimited, right after which a successful
            // sync forgets the key: the base delay of the rate limiter.
            StuckRequeue::Now => Some(Duration::from_millis(5)),
            StuckRequeue::After(_) => requeue.queue_after().and_then(|d| Duration::try_from(d).ok()),
        })
    }
}

/// The Deployment controlling a ReplicaSet.
fn owner_deployment(rs: &ReplicaSet) -> Option<ObjectRef<Deployment>> {
    let c = controller_of(&rs.metadata)?;
    (c.kind == "Deployment" && c.api_version.starts_with("apps/"))
        .then(|| ObjectRef::new(&c.name).within(&rs.namespace().unwrap_or_default()))
}

async fn work(ctx: Context, args: Args) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let shell = Shell::new(&ctx, "deployment", 3);
    let (d_reader, d_stream) = shell.primary::<Deployment>(|_| {});
    let replicasets = Indexer::new(vec![(BY_CONTROLLER, by_controller), (ORPHANS, orphans_by_namespace)]);
    let pods = Indexer::new(vec![(BY_CONTROLLER, by_controller)]);
    let state = Arc::new(State {
        client: client.clone(),
        replicasets: replicasets.clone(),
        pods: pods.clone(),
        recorder: Recorder::new(client.clone(), "deployment-controller", ctx.identity.clone()),
    });

    let rs_stream = replicasets.watch(Api::all(client.clone()), shell.synced_part()).touched_objects();
    let pod_stream = pods.watch(Api::all(client.clone()), shell.synced_part()).touched_objects();

    // A ReplicaSet maps to its controlling Deployment, or (an orphan) to
    // every Deployment of its namespace whose selector matches it.
    let d_store: Store<Deployment> = d_reader.clone();
    let rs_mapper =
        move |rs: ReplicaSet| owners_to_sync(&rs.metadata, &d_store.state(), |d: &Deployment| d.spec.as_ref().map(|s| &s.selector));
    // A pod going away wakes a Recreate Deployment waiting for its old pods
    // (upstream's deletePod handler).
    let d_store: Store<Deployment> = d_reader.clone();
    let pod_mapper = move |pod: Pod| -> Vec<ObjectRef<Deployment>> {
        let leaving = pod.metadata.deletion_timestamp.is_some()
            || matches!(pod.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Succeeded" | "Failed"));
        if !leaving {
            return vec![];
        }
        let Some(c) = controller_of(&pod.metadata).filter(|c| c.kind == "ReplicaSet") else { return vec![] };
        let Some(rs) = replicasets.get(&pod.namespace().unwrap_or_default(), &c.name) else { return vec![] };
        let Some(d) = owner_deployment(&rs) else { return vec![] };
        let recreate = d_store.get(&d).is_some_and(|d| du::strategy_type(&d) == du::RECREATE_STRATEGY);
        if recreate { vec![d] } else { vec![] }
    };

    shell
        .run(
            d_reader,
            d_stream,
            args.concurrent_deployment_syncs,
            state,
            |c| c.watches_stream(rs_stream, rs_mapper).watches_stream(pod_stream, pod_mapper),
            sync,
        )
        .await;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Args = flags::parse_or_exit();
    let common = args.common.clone();
    runtime::run(&common, "rudder-deployment-controller", |ctx| work(ctx, args)).await
}
