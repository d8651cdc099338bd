//! ResourceQuota's I/O: charging `status.used` before admitting, and the
//! reconciler that recomputes it from the live objects (the work of
//! kube-controller-manager's resourcequota controller).
//!
//! **Charging.** Admissions in one namespace are decided one at a time in
//! this process (upstream's evaluator has a worker per namespace), against
//! the newest quotas it knows: the cache, or what this process wrote last
//! when the cache has not caught up. A charge is a status update carrying
//! the quota's resourceVersion, so that two servers (or a server and the
//! reconciler) never both squeeze into the last unit: on a conflict, the
//! quotas still to charge are read live and the request evaluated again
//! against them. A dry run is evaluated and never written.
//!
//! **Reconciling.** Each quota is recomputed when it appears, when its
//! `spec.hard` changes or is not yet reflected in `status.hard`, when an
//! object it counts in its namespace is deleted or a pod there finishes
//! (upstream's replenishment), and every `--resource-quota-sync-period`.
//! Status changes alone (the charges above) do not trigger it: as upstream,
//! a recount on every charge would cost a namespace's lists per admission.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Pod, ResourceQuota, Secret, Service};
use kube::api::{ApiResource, DynamicObject, ListParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Resource, ResourceExt};
use rudder_common::controller::Shell;
use rudder_common::errors::{SyncError, is_status, message};
use serde_json::Value;
use tokio::time::Instant;

use super::{State, internal};
use crate::namespace_lifecycle::Denial;
use crate::resource_quota as rq;

/// When a quota whose limits just entered its status is counted again.
const RECOUNT_AFTER_NEW_LIMITS: Duration = Duration::from_secs(2);

/// How many times a charge is tried again after conflicts.
const CHARGE_ATTEMPTS: usize = 5;

fn key(q: &ResourceQuota) -> String {
    format!("{}/{}", q.namespace().unwrap_or_default(), q.name_any())
}

fn version(q: &ResourceQuota) -> Option<u64> {
    q.metadata.resource_version.as_deref()?.parse().ok()
}

/// The charging side.
#[derive(Default)]
pub struct Charger {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// The quotas this process wrote, by `namespace/name`, until the cache
    /// has them.
    written: Mutex<HashMap<String, ResourceQuota>>,
}

impl Charger {
    fn lock_of(&self, ns: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        // Drop the locks nobody holds, now and then.
        if locks.len() > 1024 {
            locks.retain(|_, l| Arc::strong_count(l) > 1);
        }
        locks.entry(ns.to_string()).or_default().clone()
    }

    /// Replaces cached quotas older than what this process wrote.
    fn newest(&self, quotas: Vec<ResourceQuota>) -> Vec<ResourceQuota> {
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        quotas
            .into_iter()
            .map(|q| {
                let k = key(&q);
                match written.get(&k) {
                    Some(w) if w.metadata.uid == q.metadata.uid && version(w) > version(&q) => w.clone(),
                    Some(_) => {
                        written.remove(&k);
                        q
                    }
                    None => q,
                }
            })
            .collect()
    }

    fn remember(&self, q: ResourceQuota) {
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        if written.len() > 4096 {
            written.clear();
        }
        written.insert(key(&q), q);
    }

    /// Evaluates `req` against the namespace's quotas and charges them.
    pub async fn charge(&self, state: &State, req: &rq::Request<'_>, dry_run: bool) -> Result<(), Denial> {
        let ns = req.namespace;
        let lock = self.lock_of(ns);
        let _one_at_a_time = lock.lock().await;
        let quotas = state.quotas_of(ns).await.map_err(|e| internal(message(&e)))?;
        if quotas.is_empty() {
            return Ok(());
        }
        let mut quotas = self.newest(quotas);
        let api: Api<ResourceQuota> = Api::namespaced(state.client.clone(), ns);
        for _ in 0..CHARGE_ATTEMPTS {
            let updated = rq::admit(req, &quotas, jiff::Timestamp::now())?;
            if updated.is_empty() || dry_run {
                return Ok(());
            }
            let mut conflicted = HashSet::new();
            for q in updated {
                let name = q.name_any();
                match api.replace_status(&name, &PostParams::default(), &q).await {
                    Ok(written) => self.remember(written),
                    Err(e) if is_status(&e, 409) => {
                        conflicted.insert(name);
                    }
                    Err(e) => return Err(internal(message(&e))),
                }
            }
            if conflicted.is_empty() {
                return Ok(());
            }
            // Only the quotas not yet charged are evaluated again, as they are now.
            let live = api.list(&ListParams::default()).await.map_err(|e| internal(message(&e)))?;
            quotas = live.items.into_iter().filter(|q| conflicted.contains(&q.name_any())).collect();
        }
        Err(internal(format!("quotas of namespace {ns} kept changing; gave up after {CHARGE_ATTEMPTS} attempts")))
    }
}

/// A quota's `spec.hard`.
type Hard = BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>;

/// What the reconciler's syncs share.
pub struct Reconciler {
    client: kube::Client,
    resync: Duration,
    /// Quotas to recount at their next sync (replenishment), by key.
    dirty: Mutex<HashSet<String>>,
    /// When each quota was last recounted, and its spec.hard then.
    counted: Mutex<HashMap<String, (Instant, Option<Hard>)>>,
    /// Discovered resources, by (group, resource).
    resources: Mutex<HashMap<(String, String), ApiResource>>,
}

impl Reconciler {
    pub fn new(client: kube::Client, resync: Duration) -> Arc<Reconciler> {
        Arc::new(Reconciler { client, resync, dirty: Mutex::default(), counted: Mutex::default(), resources: Mutex::default() })
    }

    async fn api_resource(&self, group: &str, resource: &str) -> Result<Option<ApiResource>, kube::Error> {
        let k = (group.to_string(), resource.to_string());
        if let Some(ar) = self.resources.lock().unwrap_or_else(|e| e.into_inner()).get(&k) {
            return Ok(Some(ar.clone()));
        }
        let found = match kube::discovery::group(&self.client, group).await {
            Ok(g) => g.recommended_resources().into_iter().map(|(ar, _)| ar).find(|ar| ar.plural == resource),
            Err(kube::Error::Discovery(_)) => None,
            Err(e) => return Err(e),
        };
        if let Some(ar) = &found {
            self.resources.lock().unwrap_or_else(|e| e.into_inner()).insert(k, ar.clone());
        }
        Ok(found)
    }

    /// Whether the quota must be recounted now.
    fn due(&self, q: &ResourceQuota) -> bool {
        let k = key(q);
        let spec_hard = q.spec.as_ref().and_then(|s| s.hard.clone());
        let status_hard = q.status.as_ref().and_then(|s| s.hard.clone());
        let used = q.status.as_ref().and_then(|s| s.used.clone()).unwrap_or_default();
        if self.dirty.lock().unwrap_or_else(|e| e.into_inner()).remove(&k) {
            return true;
        }
        if spec_hard.clone().unwrap_or_default() != status_hard.clone().unwrap_or_default() {
            return true;
        }
        if status_hard.unwrap_or_default().keys().any(|r| !used.contains_key(r)) {
            return true;
        }
        match self.counted.lock().unwrap_or_else(|e| e.into_inner()).get(&k) {
            Some((at, hard)) => at.elapsed() >= self.resync || *hard != spec_hard,
            None => true,
        }
    }

    /// One sync: recount if due, write the status if it changed.
    pub async fn sync(&self, q: Arc<ResourceQuota>) -> Result<Action, SyncError> {
        if q.metadata.deletion_timestamp.is_some() {
            return Ok(Action::await_change());
        }
        if !self.due(&q) {
            let k = key(&q);
            let left =
                self.counted.lock().unwrap_or_else(|e| e.into_inner()).get(&k).map(|(at, _)| self.resync.saturating_sub(at.elapsed()));
            return Ok(Action::requeue(left.unwrap_or(self.resync).max(Duration::from_secs(1))));
        }
        let ns = q.namespace().unwrap_or_default();
        let mut listed: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
        for (group, resource) in rq::resources_to_count(&q) {
            let Some(ar) = self.api_resource(&group, &resource).await? else {
                // Not served: nothing of it exists.
                listed.insert((group, resource), vec![]);
                continue;
            };
            let api: Api<DynamicObject> = Api::namespaced_with(self.client.clone(), &ns, &ar);
            let items = api.list(&ListParams::default()).await?.items;
            let items = items.into_iter().map(|o| serde_json::to_value(o).unwrap_or(Value::Null)).collect();
            listed.insert((group, resource), items);
        }
        let used = rq::calculate_used(&q, &listed, jiff::Timestamp::now());
        let status = rq::status(&q, &used);
        if q.status.as_ref() != Some(&status) {
            let mut updated = q.as_ref().clone();
            updated.status = Some(status);
            Api::<ResourceQuota>::namespaced(self.client.clone(), &ns)
                .replace_status(&q.name_any(), &PostParams::default(), &updated)
                .await?;
        }
        let spec_hard = q.spec.as_ref().and_then(|s| s.hard.clone());
        let hard_was_new = q.status.as_ref().and_then(|s| s.hard.clone()).unwrap_or_default() != spec_hard.clone().unwrap_or_default();
        self.counted.lock().unwrap_or_else(|e| e.into_inner()).insert(key(&q), (Instant::now(), spec_hard));
        if hard_was_new {
            // Objects admitted while the status did not yet say these
            // limits went uncharged, and may have been created after the
            // lists above: count once more shortly (upstream waits for its
            // next full recount).
            self.dirty.lock().unwrap_or_else(|e| e.into_inner()).insert(key(&q));
            return Ok(Action::requeue(RECOUNT_AFTER_NEW_LIMITS));
        }
        Ok(Action::requeue(self.resync))
    }

    /// Marks every quota of `ns` for a recount and names them.
    fn replenish(&self, store: &Store<ResourceQuota>, ns: &str) -> Vec<ObjectRef<ResourceQuota>> {
        let refs: Vec<ObjectRef<ResourceQuota>> =
            store.state().iter().filter(|q| q.namespace().as_deref() == Some(ns)).map(|q| ObjectRef::from_obj(q.as_ref())).collect();
        let mut dirty = self.dirty.lock().unwrap_or_else(|e| e.into_inner());
        for r in &refs {
            dirty.insert(format!("{ns}/{}", r.name));
        }
        refs
    }
}

/// Whether a pod no longer counts (upstream: terminal, or past its
/// deletion grace period; the latter is caught by the periodic recount).
fn pod_released(p: &Pod) -> bool {
    matches!(p.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Succeeded" | "Failed"))
}

/// The objects of `K` released: deleted, or (pods) finished. The initial
/// list is not a release.
fn releases<K>(client: &kube::Client, released: fn(&K) -> bool) -> impl Stream<Item = Result<K, watcher::Error>> + Send + 'static
where
    K: Resource<DynamicType = ()> + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + Sync + 'static,
{
    watcher(Api::<K>::all(client.clone()), watcher::Config::default()).default_backoff().filter_map(move |e| async move {
        match e {
            Ok(watcher::Event::Delete(o)) => Some(Ok(o)),
            Ok(watcher::Event::Apply(o)) if released(&o) => Some(Ok(o)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        }
    })
}

fn always<K>(_: &K) -> bool {
    true
}

/// Runs the reconciler until `shell` stops.
pub async fn run(shell: Shell, reconciler: Arc<Reconciler>, workers: u16) {
    let client = shell.client.clone();
    let (store, stream) = shell.primary::<ResourceQuota>(|_| {});
    let (r, s) = (reconciler.clone(), store.clone());
    let to_quotas = move |ns: Option<String>| r.replenish(&s, &ns.unwrap_or_default());
    let (pods, services, claims, config_maps, secrets) = (
        releases::<Pod>(&client, pod_released),
        releases::<Service>(&client, always),
        releases::<PersistentVolumeClaim>(&client, always),
        releases::<ConfigMap>(&client, always),
        releases::<Secret>(&client, always),
    );
    let configure = move |c: kube::runtime::Controller<ResourceQuota>| {
        let (f1, f2, f3, f4, f5) = (to_quotas.clone(), to_quotas.clone(), to_quotas.clone(), to_quotas.clone(), to_quotas);
        c.watches_stream(pods, move |o: Pod| f1(o.metadata.namespace))
            .watches_stream(services, move |o: Service| f2(o.metadata.namespace))
            .watches_stream(claims, move |o: PersistentVolumeClaim| f3(o.metadata.namespace))
            .watches_stream(config_maps, move |o: ConfigMap| f4(o.metadata.namespace))
            .watches_stream(secrets, move |o: Secret| f5(o.metadata.namespace))
    };
    shell.run(store, stream, workers, reconciler, configure, |q, r: Arc<Reconciler>| async move { r.sync(q).await }).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn quota(rv: &str, hard: Value, status: Value) -> ResourceQuota {
        serde_json::from_value(json!({"metadata": {"name": "q", "namespace": "ns", "uid": "u1", "resourceVersion": rv},
            "spec": {"hard": hard}, "status": status}))
        .unwrap()
    }

    fn reconciler() -> Arc<Reconciler> {
        let client = kube::Client::try_from(kube::Config::new("http://127.0.0.1:1".parse().unwrap())).unwrap();
        Reconciler::new(client, Duration::from_secs(300))
    }

    #[tokio::test]
    async fn a_quota_is_recounted_when_new_changed_released_or_due() {
        let r = reconciler();
        let synced = quota("1", json!({"pods": "3"}), json!({"hard": {"pods": "3"}, "used": {"pods": "1"}}));
        assert!(r.due(&synced), "never counted");
        r.counted.lock().unwrap().insert(key(&synced), (Instant::now(), synced.spec.as_ref().unwrap().hard.clone()));
        assert!(!r.due(&synced), "a charge (status only) does not recount");
        assert!(r.due(&quota("2", json!({"pods": "4"}), json!({"hard": {"pods": "3"}, "used": {"pods": "1"}}))), "spec.hard not in status");
        assert!(r.due(&quota("2", json!({"pods": "3"}), json!({"hard": {"pods": "3"}}))), "a limit without usage");
        r.dirty.lock().unwrap().insert(key(&synced));
        assert!(r.due(&synced), "released");
        assert!(!r.due(&synced), "released once");
        r.counted
            .lock()
            .unwrap()
            .insert(key(&synced), (Instant::now() - Duration::from_secs(301), synced.spec.as_ref().unwrap().hard.clone()));
        assert!(r.due(&synced), "the sync period passed");
    }

    #[test]
    fn the_newest_of_cache_and_own_writes_is_charged() {
        let charger = Charger::default();
        let cached = quota("5", json!({"pods": "3"}), json!({"hard": {"pods": "3"}, "used": {"pods": "1"}}));
        let written = quota("7", json!({"pods": "3"}), json!({"hard": {"pods": "3"}, "used": {"pods": "2"}}));
        charger.remember(written.clone());
        assert_eq!(charger.newest(vec![cached.clone()]), std::slice::from_ref(&written), "the cache is behind");
        let caught_up = quota("9", json!({"pods": "3"}), json!({"hard": {"pods": "3"}, "used": {"pods": "2"}}));
        assert_eq!(charger.newest(vec![caught_up.clone()]), [caught_up], "the cache caught up");
        assert!(charger.written.lock().unwrap().is_empty(), "and the own copy is dropped");
        // A quota deleted and created again (another uid) is never shadowed.
        charger.remember(written);
        let mut recreated = cached;
        recreated.metadata.uid = Some("u2".into());
        assert_eq!(charger.newest(vec![recreated.clone()]), [recreated]);
    }
}
