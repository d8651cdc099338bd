//! The in-memory storage: objects by resource, one global resourceVersion
//! counter, a bounded event history per resource for watches from a
//! resourceVersion, and live watchers.
//!
//! Everything that changes stored state goes through [`Store`], under one
//! lock, so every change gets a unique, increasing resourceVersion and every
//! watcher sees changes in that order.
//!
//! Resources served at several groups or versions share one table (see
//! [`registry::storage_of`]): objects are stored as objects of the storage
//! resource, converted from the caller's resource on the way in and back to
//! it on the way out ([`crate::convert`]), so callers always see their own
//! resource's version. Events (for watchers and observers) carry the objects
//! as stored, with the storage resource; see [`Event::view`].

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use tokio::sync::mpsc;

use crate::registry::{self, RESOURCES, ResourceType};
use crate::status::ApiError;

/// A stored object. Stored objects are never changed in place.
pub type Obj = Arc<Value>;

/// The key of a stored object: namespace ("" for cluster-scoped) and name.
pub type Key = (String, String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change to one object.
#[derive(Debug)]
pub struct Event {
    pub kind: EventType,
    pub rv: u64,
    /// The object after the change (for a deletion, the last state with the
    /// deletion's resourceVersion).
    pub obj: Obj,
    /// The object before the change.
    pub prev: Option<Obj>,
    /// The storage resource: `obj` and `prev` are objects of it.
    pub resource: &'static ResourceType,
}

impl Event {
    /// The object after and before the change, as objects of `r` (a
    /// resource sharing this event's storage).
    pub fn view(&self, r: &ResourceType) -> (Obj, Option<Obj>) {
        (view(self.resource, r, &self.obj), self.prev.as_ref().map(|p| view(self.resource, r, p)))
    }
}

/// What a watcher receives: events, or the end of the watch because the
/// history it stands on was compacted away (the client must relist).
#[derive(Debug, Clone)]
pub enum WatchMsg {
    Event(Arc<Event>),
    Expired { from: u64, oldest: u64 },
}

pub type WatchRx = mpsc::Receiver<WatchMsg>;

const WATCH_BUFFER: usize = 8192;

/// The default number of events kept per resource for watches from a
/// resourceVersion.
pub const DEFAULT_HISTORY: usize = 10_000;

struct Table {
    objects: BTreeMap<Key, Obj>,
    history: VecDeque<Arc<Event>>,
    /// Every event with a resourceVersion above this one is in `history`.
    oldest_rv: u64,
    watchers: Vec<mpsc::Sender<WatchMsg>>,
}

struct Inner {
    rv: u64,
    tables: HashMap<(&'static str, &'static str), Table>,
    history_limit: usize,
    /// Internal observers (garbage collector, namespace controller) see every event.
    observers: Vec<mpsc::UnboundedSender<Arc<Event>>>,
}

/// The sandbox's storage.
pub struct Store {
    inner: Mutex<Inner>,
}

fn tkey(r: &ResourceType) -> (&'static str, &'static str) {
    // One table per storage resource: versions of a resource share it.
    let r = registry::storage_of(r);
    (r.group, r.plural)
}

/// A stored object (of `storage`) as an object of `r`.
fn view(storage: &ResourceType, r: &ResourceType, obj: &Obj) -> Obj {
    if storage.group == r.group && storage.version == r.version { obj.clone() } else { Arc::new(crate::convert::convert(obj, storage, r)) }
}

/// An object of `r` as the storage resource stores it.
fn to_storage(r: &ResourceType, obj: Value) -> Value {
    let storage = registry::storage_of(r);
    if storage.group == r.group && storage.version == r.version { obj } else { crate::convert::convert(&obj, r, storage) }
}

fn views(r: &ResourceType, objects: Vec<Obj>) -> Vec<Obj> {
    let storage = registry::storage_of(r);
    objects.iter().map(|o| view(storage, r, o)).collect()
}

/// The resourceVersion of a stored object.
pub fn rv_of(obj: &Value) -> u64 {
    obj.pointer("/metadata/resourceVersion").and_then(Value::as_str).and_then(|s| s.parse().ok()).unwrap_or(0)
}

pub fn key_of(obj: &Value) -> Key {
    let ns = obj.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default();
    let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
    (ns.to_string(), name.to_string())
}

/// Why a write failed.
#[derive(Debug, PartialEq)]
pub enum WriteError {
    NotFound,
    AlreadyExists,
    /// The stored object's resourceVersion is not the expected one.
    Conflict,
}

impl WriteError {
    pub fn into_api(self, r: &ResourceType, name: &str) -> ApiError {
        match self {
            WriteError::NotFound => ApiError::not_found(r.group, r.plural, name),
            WriteError::AlreadyExists => ApiError::already_exists(r.group, r.plural, name),
            WriteError::Conflict => ApiError::stale(r.group, r.plural, name),
        }
    }
}

/// The start of a watch: the events to replay, then live ones from `rx`.
pub struct WatchStart {
    pub replay: Vec<Arc<Event>>,
    pub rx: WatchRx,
    /// The resourceVersion the replay reaches.
    pub rv: u64,
}

impl Default for Store {
    fn default() -> Self {
        Self::new(DEFAULT_HISTORY)
    }
}

impl Store {
    pub fn new(history_limit: usize) -> Self {
        let mut tables = HashMap::new();
        for r in RESOURCES {
            tables.entry(tkey(r)).or_insert_with(|| Table {
                objects: BTreeMap::new(),
                history: VecDeque::new(),
                oldest_rv: 0,
                watchers: Vec::new(),
            });
        }
        Self { inner: Mutex::new(Inner { rv: 1, tables, history_limit, observers: Vec::new() }) }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves no half-made change behind
        // (every change is made with owned values, then swapped in), so a
        // poisoned lock is safe to use.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current global resourceVersion.
    pub fn current_rv(&self) -> u64 {
        self.lock().rv
    }

    /// Every event of every resource, from now on.
    pub fn observe(&self) -> mpsc::UnboundedReceiver<Arc<Event>> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.lock().observers.push(tx);
        rx
    }

    pub fn get(&self, r: &ResourceType, ns: &str, name: &str) -> Option<Obj> {
        let found = self.lock().tables[&tkey(r)].objects.get(&(ns.to_string(), name.to_string())).cloned();
        found.map(|o| view(registry::storage_of(r), r, &o))
    }

    /// All objects of a resource, in a namespace or all of them, sorted by
    /// namespace and name, with the resourceVersion of the snapshot.
    pub fn list(&self, r: &ResourceType, ns: Option<&str>) -> (u64, Vec<Obj>) {
        let (rv, objects) = {
            let inner = self.lock();
            let t = &inner.tables[&tkey(r)];
            (inner.rv, select(&t.objects, ns))
        };
        (rv, views(r, objects))
    }

    /// The objects as they were at resourceVersion `at`, if the history
    /// still reaches back that far.
    pub fn list_at(&self, r: &ResourceType, ns: Option<&str>, at: u64) -> Result<Vec<Obj>, u64> {
        let objects = {
            let inner = self.lock();
            let t = &inner.tables[&tkey(r)];
            if at < t.oldest_rv {
                return Err(t.oldest_rv);
            }
            let mut objects = t.objects.clone();
            for e in t.history.iter().rev().take_while(|e| e.rv > at) {
                let k = key_of(&e.obj);
                match &e.prev {
                    Some(p) => objects.insert(k, p.clone()),
                    None => objects.remove(&k),
                };
            }
            select(&objects, ns)
        };
        Ok(views(r, objects))
    }

    /// Writes a new object of `r`. `obj` must have its name (and namespace
    /// when the resource is namespaced) set; its resourceVersion is set here.
    /// Returns the stored object, as an object of `r`.
    pub fn create(&self, r: &'static ResourceType, obj: Value) -> Result<Obj, WriteError> {
        let mut obj = to_storage(r, obj);
        let stored = {
            let mut inner = self.lock();
            let k = key_of(&obj);
            if inner.tables[&tkey(r)].objects.contains_key(&k) {
                return Err(WriteError::AlreadyExists);
            }
            let rv = inner.next_rv();
            set_rv(&mut obj, rv);
            let obj = Arc::new(obj);
            inner.tables.get_mut(&tkey(r)).expect("table").objects.insert(k, obj.clone());
            inner.emit(r, EventType::Added, rv, obj.clone(), None);
            obj
        };
        Ok(view(registry::storage_of(r), r, &stored))
    }

    /// Replaces a stored object if its resourceVersion is still `expect_rv`.
    /// `obj` and the result are objects of `r`.
    pub fn replace(&self, r: &'static ResourceType, expect_rv: u64, obj: Value) -> Result<Obj, WriteError> {
        let mut obj = to_storage(r, obj);
        let stored = {
            let mut inner = self.lock();
            let k = key_of(&obj);
            let prev = inner.tables[&tkey(r)].objects.get(&k).cloned().ok_or(WriteError::NotFound)?;
            if rv_of(&prev) != expect_rv {
                return Err(WriteError::Conflict);
            }
            let rv = inner.next_rv();
            set_rv(&mut obj, rv);
            let obj = Arc::new(obj);
            inner.tables.get_mut(&tkey(r)).expect("table").objects.insert(k, obj.clone());
            inner.emit(r, EventType::Modified, rv, obj.clone(), Some(prev));
            obj
        };
        Ok(view(registry::storage_of(r), r, &stored))
    }

    /// Removes a stored object if its resourceVersion is still `expect_rv`.
    /// Returns the object (of `r`) with the deletion's resourceVersion.
    pub fn remove(&self, r: &'static ResourceType, ns: &str, name: &str, expect_rv: Option<u64>) -> Result<Obj, WriteError> {
        let gone = {
            let mut inner = self.lock();
            let k = (ns.to_string(), name.to_string());
            let prev = inner.tables[&tkey(r)].objects.get(&k).cloned().ok_or(WriteError::NotFound)?;
            if expect_rv.is_some_and(|rv| rv != rv_of(&prev)) {
                return Err(WriteError::Conflict);
            }
            inner.tables.get_mut(&tkey(r)).expect("table").objects.remove(&k);
            let rv = inner.next_rv();
            let mut gone = (*prev).clone();
            set_rv(&mut gone, rv);
            let gone = Arc::new(gone);
            inner.emit(r, EventType::Deleted, rv, gone.clone(), Some(prev));
            gone
        };
        Ok(view(registry::storage_of(r), r, &gone))
    }

    /// Starts a watch of resource `r` after resourceVersion `from`: the
    /// events since then are replayed. Fails with the oldest resourceVersion
    /// still known when `from` is older. The events carry stored objects
    /// (see [`Event::view`]).
    pub fn watch_from(&self, r: &ResourceType, from: u64) -> Result<WatchStart, u64> {
        let mut inner = self.lock();
        let rv = inner.rv;
        let t = inner.tables.get_mut(&tkey(r)).expect("table");
        if from < t.oldest_rv {
            return Err(t.oldest_rv);
        }
        let replay: Vec<Arc<Event>> = t.history.iter().filter(|e| e.rv > from).cloned().collect();
        let (tx, rx) = mpsc::channel(WATCH_BUFFER);
        t.watchers.push(tx);
        Ok(WatchStart { replay, rx, rv })
    }

    /// Starts a watch of resource `r` with the current objects as the
    /// initial state (returned as they are now), then live events.
    pub fn watch_with_state(&self, r: &'static ResourceType, ns: Option<&str>) -> (Vec<Obj>, WatchStart) {
        let (objects, start) = {
            let mut inner = self.lock();
            let rv = inner.rv;
            let t = inner.tables.get_mut(&tkey(r)).expect("table");
            let objects = select(&t.objects, ns);
            let (tx, rx) = mpsc::channel(WATCH_BUFFER);
            t.watchers.push(tx);
            (objects, WatchStart { replay: Vec::new(), rx, rv })
        };
        (views(r, objects), start)
    }

    /// Forgets all history: a watch from any resourceVersion before now
    /// answers 410 Gone, as after an etcd compaction.
    pub fn compact(&self) {
        let mut inner = self.lock();
        let rv = inner.rv;
        for t in inner.tables.values_mut() {
            t.history.clear();
            t.oldest_rv = rv;
        }
    }

    /// Forgets all history and ends every open watch with 410 Expired, as
    /// kube-apiserver does when a watcher falls out of its watch cache:
    /// clients must relist.
    pub fn compact_and_expire_watches(&self) {
        let mut inner = self.lock();
        let rv = inner.rv;
        for t in inner.tables.values_mut() {
            t.history.clear();
            t.oldest_rv = rv;
            for w in t.watchers.drain(..) {
                let _ = w.try_send(WatchMsg::Expired { from: rv.saturating_sub(1), oldest: rv });
            }
        }
    }

    /// Ends every open watch (clients see their watch close and re-watch).
    pub fn close_watches(&self) {
        let mut inner = self.lock();
        for t in inner.tables.values_mut() {
            t.watchers.clear();
        }
    }
}

fn select(objects: &BTreeMap<Key, Obj>, ns: Option<&str>) -> Vec<Obj> {
    match ns {
        None => objects.values().cloned().collect(),
        Some(ns) => objects.range((ns.to_string(), String::new())..).take_while(|((n, _), _)| n == ns).map(|(_, o)| o.clone()).collect(),
    }
}

fn set_rv(obj: &mut Value, rv: u64) {
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        m.insert("resourceVersion".into(), Value::String(rv.to_string()));
    }
}

impl Inner {
    fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    /// Records a change of a stored object (`obj`, `prev` as stored).
    fn emit(&mut self, r: &'static ResourceType, kind: EventType, rv: u64, obj: Obj, prev: Option<Obj>) {
        let e = Arc::new(Event { kind, rv, obj, prev, resource: registry::storage_of(r) });
        let limit = self.history_limit;
        let t = self.tables.get_mut(&tkey(r)).expect("table");
        t.history.push_back(e.clone());
        while t.history.len() > limit {
            if let Some(old) = t.history.pop_front() {
                t.oldest_rv = old.rv;
            }
        }
        // A watcher that cannot keep up is dropped, as kube-apiserver drops
        // slow watchers: its client sees the watch end and watches again.
        t.watchers.retain(|w| w.try_send(WatchMsg::Event(e.clone())).is_ok());
        self.observers.retain(|o| o.send(e.clone()).is_ok());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::find;
    use serde_json::json;

    fn cm(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"}})
    }

    #[test]
    fn resource_versions_increase_and_conflicts_are_detected() {
        let s = Store::default();
        let r = find("", "v1", "configmaps").unwrap();
        let a = s.create(r, cm("a")).unwrap();
        let b = s.create(r, cm("b")).unwrap();
        assert!(rv_of(&b) > rv_of(&a));
        assert_eq!(s.create(r, cm("a")).unwrap_err(), WriteError::AlreadyExists);
        let a2 = s.replace(r, rv_of(&a), cm("a")).unwrap();
        assert_eq!(s.replace(r, rv_of(&a), cm("a")).unwrap_err(), WriteError::Conflict);
        assert_eq!(s.remove(r, "default", "a", Some(rv_of(&a))).unwrap_err(), WriteError::Conflict);
        let gone = s.remove(r, "default", "a", Some(rv_of(&a2))).unwrap();
        assert!(rv_of(&gone) > rv_of(&a2));
        assert!(s.get(r, "default", "a").is_none());
    }

    #[test]
    fn list_at_an_old_version_undoes_later_changes() {
        let s = Store::default();
        let r = find("", "v1", "configmaps").unwrap();
        s.create(r, cm("a")).unwrap();
        let at = s.current_rv();
        s.create(r, cm("b")).unwrap();
        s.remove(r, "default", "a", None).unwrap();
        let old = s.list_at(r, Some("default"), at).unwrap();
        assert_eq!(old.len(), 1);
        assert_eq!(old[0]["metadata"]["name"], "a");
        s.compact();
        assert!(s.list_at(r, None, at).is_err());
        assert!(s.watch_from(r, at).is_err());
    }

    #[test]
    fn history_is_bounded() {
        let s = Store::new(2);
        let r = find("", "v1", "configmaps").unwrap();
        let first = s.current_rv();
        for i in 0..5 {
            s.create(r, cm(&format!("c{i}"))).unwrap();
        }
        assert!(s.watch_from(r, first).is_err());
        let w = s.watch_from(r, s.current_rv() - 1).unwrap();
        assert_eq!(w.replay.len(), 1);
    }

    #[test]
    fn both_event_apis_share_one_table() {
        let s = Store::default();
        let core = find("", "v1", "events").unwrap();
        let new = find("events.k8s.io", "v1", "events").unwrap();
        let mut w = s.observe();
        let made = s
            .create(
                new,
                json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e", "namespace": "default"},
                       "regarding": {"kind": "Pod", "name": "p"}, "note": "hi", "deprecatedSource": {}}),
            )
            .unwrap();
        assert_eq!(made["apiVersion"], "events.k8s.io/v1", "the writer gets its own version back");
        let seen = s.get(core, "default", "e").unwrap();
        assert_eq!((seen["apiVersion"].as_str(), seen["message"].as_str()), (Some("v1"), Some("hi")));
        assert_eq!(seen["metadata"]["resourceVersion"], made["metadata"]["resourceVersion"]);
        let e = w.try_recv().unwrap();
        assert!(std::ptr::eq(e.resource, core), "events carry the stored (core) objects");
        assert_eq!(e.view(new).0["note"], "hi");
        let (_, listed) = s.list(new, Some("default"));
        assert_eq!(listed[0]["regarding"]["name"], "p");
        s.remove(core, "default", "e", None).unwrap();
        assert!(s.get(new, "default", "e").is_none());
    }
}
