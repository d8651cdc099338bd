//! An indexed cache of watched objects (client-go's `Indexer`).
//!
//! kube-runtime's reflector `Store` has no indices: finding "the pods
//! controlled by this ReplicaSet" means scanning every pod. An [`Indexer`]
//! is fed the same watcher events (call [`Indexer::apply`] from the watch
//! stream) and keeps, beside the objects, one map per index function from
//! each value the function gives to the objects giving it, so such lookups
//! cost what they return.
//!
//! As the reflector store does, a relist (`Init` .. `InitApply`* ..
//! `InitDone`) is buffered and swapped in whole at `InitDone`: readers see
//! the old state until then, never half a list.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use kube::Resource;
use kube::runtime::watcher;

/// An index function: the values an object is filed under (none, one or
/// several).
pub type IndexFn<K> = fn(&K) -> Vec<String>;

/// The cache. Cheap to clone (the clones share the state).
pub struct Indexer<K> {
    indices: Arc<Vec<(&'static str, IndexFn<K>)>>,
    state: Arc<RwLock<State<K>>>,
}

impl<K> Clone for Indexer<K> {
    fn clone(&self) -> Self {
        Indexer { indices: self.indices.clone(), state: self.state.clone() }
    }
}

struct State<K> {
    objects: HashMap<String, Arc<K>>,
    /// Per index (in the order of `indices`): value → object key → object.
    index: Vec<HashMap<String, HashMap<String, Arc<K>>>>,
    /// A relist in progress.
    building: Option<HashMap<String, Arc<K>>>,
    synced: bool,
}

/// `namespace/name`, or `name` for cluster-scoped objects.
fn key<K: Resource>(o: &K) -> String {
    let m = o.meta();
    match m.namespace.as_deref() {
        Some(ns) if !ns.is_empty() => format!("{ns}/{}", m.name.as_deref().unwrap_or_default()),
        _ => m.name.clone().unwrap_or_default(),
    }
}

impl<K: Resource + Clone> Indexer<K> {
    /// An empty cache with these indices (name, function).
    pub fn new(indices: Vec<(&'static str, IndexFn<K>)>) -> Indexer<K> {
        let index = indices.iter().map(|_| HashMap::new()).collect();
        Indexer {
            indices: Arc::new(indices),
            state: Arc::new(RwLock::new(State { objects: HashMap::new(), index, building: None, synced: false })),
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State<K>> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State<K>> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies one watcher event.
    pub fn apply(&self, event: &watcher::Event<K>) {
        let mut s = self.write();
        match event {
            watcher::Event::Init => s.building = Some(HashMap::new()),
            watcher::Event::InitApply(o) => {
                let o = Arc::new(o.clone());
                match &mut s.building {
                    Some(b) => {
                        b.insert(key(o.as_ref()), o);
                    }
                    // An InitApply outside a relist: take it as an update.
                    None => self.upsert(&mut s, o),
                }
            }
            watcher::Event::InitDone => {
                if let Some(objects) = s.building.take() {
                    s.index = self.indices.iter().map(|_| HashMap::new()).collect();
                    for o in objects.values() {
                        self.file(&mut s, o);
                    }
                    s.objects = objects;
                }
                s.synced = true;
            }
            watcher::Event::Apply(o) => self.upsert(&mut s, Arc::new(o.clone())),
            watcher::Event::Delete(o) => {
                if let Some(old) = s.objects.remove(&key(o)) {
                    self.unfile(&mut s, &old);
                }
            }
        }
    }

    fn upsert(&self, s: &mut State<K>, o: Arc<K>) {
        if let Some(old) = s.objects.insert(key(o.as_ref()), o.clone()) {
            self.unfile(s, &old);
        }
        self.file(s, &o);
    }

    fn file(&self, s: &mut State<K>, o: &Arc<K>) {
        let k = key(o.as_ref());
        for (i, (_, f)) in self.indices.iter().enumerate() {
            for v in f(o) {
                s.index[i].entry(v).or_default().insert(k.clone(), o.clone());
            }
        }
    }

    fn unfile(&self, s: &mut State<K>, o: &Arc<K>) {
        let k = key(o.as_ref());
        for (i, (_, f)) in self.indices.iter().enumerate() {
            for v in f(o) {
                if let Some(set) = s.index[i].get_mut(&v) {
                    set.remove(&k);
                    if set.is_empty() {
                        s.index[i].remove(&v);
                    }
                }
            }
        }
    }

    /// The objects the index `name` files under `value` (none for an
    /// unknown index).
    pub fn by_index(&self, name: &str, value: &str) -> Vec<Arc<K>> {
        let Some(i) = self.indices.iter().position(|(n, _)| *n == name) else {
            return vec![];
        };
        self.read().index[i].get(value).map(|m| m.values().cloned().collect()).unwrap_or_default()
    }

    /// One object by namespace (empty for cluster-scoped) and name.
    pub fn get(&self, namespace: &str, name: &str) -> Option<Arc<K>> {
        let k = if namespace.is_empty() { name.to_string() } else { format!("{namespace}/{name}") };
        self.read().objects.get(&k).cloned()
    }

    /// Every object.
    pub fn list(&self) -> Vec<Arc<K>> {
        self.read().objects.values().cloned().collect()
    }

    /// How many objects there are.
    pub fn len(&self) -> usize {
        self.read().objects.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True once a first list was applied whole.
    pub fn synced(&self) -> bool {
        self.read().synced
    }
}

impl<K> Indexer<K>
where
    K: Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
{
    /// The watch of `api` that feeds this cache: kube's default backoff,
    /// managedFields dropped as objects arrive (kube-controller-manager's
    /// informers drop them too: no controller reads them, and they are a
    /// good part of each object), every event applied here, and `synced`
    /// called at each `InitDone`. The events go on, for the caller's
    /// triggers (e.g. `.touched_objects()`).
    pub fn watch(
        &self,
        api: kube::Api<K>,
        mut synced: impl FnMut() + Send + 'static,
    ) -> impl futures::Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Send + 'static {
        use futures::TryStreamExt;
        use kube::runtime::WatchStreamExt;
        let cache = self.clone();
        watcher(api, watcher::Config::default()).default_backoff().modify(|o| o.meta_mut().managed_fields = None).inspect_ok(move |e| {
            cache.apply(e);
            if matches!(e, watcher::Event::InitDone) {
                synced();
            }
        })
    }
}

/// Index function: the namespace.
pub fn by_namespace<K: Resource>(o: &K) -> Vec<String> {
    o.meta().namespace.clone().into_iter().collect()
}

/// Index function: the uid of the controller (the owner reference with
/// `controller: true`).
pub fn by_controller<K: Resource>(o: &K) -> Vec<String> {
    crate::controller_ref::controller_of(o.meta()).map(|c| c.uid.clone()).into_iter().collect()
}

/// Index function: the namespace of objects with no controller (orphans,
/// which controllers may adopt).
pub fn orphans_by_namespace<K: Resource>(o: &K) -> Vec<String> {
    if crate::controller_ref::controller_of(o.meta()).is_some() {
        return vec![];
    }
    by_namespace(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Pod;
    use serde_json::json;

    fn pod(ns: &str, name: &str, owner: Option<&str>) -> Pod {
        let refs = owner.map(|uid| json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": uid, "controller": true}]));
        serde_json::from_value(json!({"metadata": {"namespace": ns, "name": name, "ownerReferences": refs}})).unwrap()
    }

    fn names(v: Vec<Arc<Pod>>) -> Vec<String> {
        let mut n: Vec<String> = v.iter().map(|p| p.metadata.name.clone().unwrap()).collect();
        n.sort();
        n
    }

    fn indexer() -> Indexer<Pod> {
        Indexer::new(vec![("namespace", by_namespace), ("controller", by_controller), ("orphans", orphans_by_namespace)])
    }

    #[test]
    fn objects_are_found_by_each_index_and_move_when_they_change() {
        let ix = indexer();
        ix.apply(&watcher::Event::Apply(pod("a", "p1", Some("u1"))));
        ix.apply(&watcher::Event::Apply(pod("a", "p2", None)));
        ix.apply(&watcher::Event::Apply(pod("b", "p3", Some("u1"))));
        assert_eq!(names(ix.by_index("namespace", "a")), ["p1", "p2"]);
        assert_eq!(names(ix.by_index("controller", "u1")), ["p1", "p3"]);
        assert_eq!(names(ix.by_index("orphans", "a")), ["p2"]);
        // p2 adopted, p1 released: both move.
        ix.apply(&watcher::Event::Apply(pod("a", "p2", Some("u1"))));
        ix.apply(&watcher::Event::Apply(pod("a", "p1", None)));
        assert_eq!(names(ix.by_index("controller", "u1")), ["p2", "p3"]);
        assert_eq!(names(ix.by_index("orphans", "a")), ["p1"]);
        ix.apply(&watcher::Event::Delete(pod("b", "p3", Some("u1"))));
        assert_eq!(names(ix.by_index("controller", "u1")), ["p2"]);
        assert_eq!(ix.len(), 2);
        assert!(ix.by_index("no such index", "a").is_empty());
        assert_eq!(ix.get("a", "p1").and_then(|p| p.metadata.name.clone()).as_deref(), Some("p1"));
    }

    #[test]
    fn a_relist_is_swapped_in_whole_at_init_done() {
        let ix = indexer();
        assert!(!ix.synced());
        ix.apply(&watcher::Event::Init);
        ix.apply(&watcher::Event::InitApply(pod("a", "p1", Some("u1"))));
        assert!(ix.is_empty(), "nothing visible before InitDone");
        ix.apply(&watcher::Event::InitDone);
        assert!(ix.synced());
        assert_eq!(names(ix.by_index("controller", "u1")), ["p1"]);
        // A relist that no longer has p1 but has p2.
        ix.apply(&watcher::Event::Init);
        ix.apply(&watcher::Event::InitApply(pod("a", "p2", Some("u1"))));
        assert_eq!(names(ix.by_index("controller", "u1")), ["p1"], "old state until InitDone");
        ix.apply(&watcher::Event::InitDone);
        assert_eq!(names(ix.by_index("controller", "u1")), ["p2"]);
        assert_eq!(names(ix.list()), ["p2"]);
    }
}
