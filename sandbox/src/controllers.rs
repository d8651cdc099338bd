//! What kube-controller-manager does in a real cluster that every client
//! relies on, done inside the sandbox: the system namespaces, each
//! namespace's `default` ServiceAccount, garbage collection by
//! ownerReference (Background, Foreground and Orphan), and namespace
//! deletion (its own task, [`crate::namespace_controller`], which the
//! garbage collector's index tells when a terminating namespace empties).
//!
//! The controllers follow the store's event stream in order and act through
//! the same write pipeline as API requests.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Value, json};

use crate::api::{Api, DeleteOptions, Propagation};
use crate::meta;
use crate::registry::{self, RESOURCES, ResourceType};
use crate::store::{Event, EventType, Obj};

/// The namespaces every cluster has.
pub const SYSTEM_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Creates the system namespaces and starts the controllers.
pub async fn start(api: Arc<Api>) -> Vec<tokio::task::JoinHandle<()>> {
    let events = api.store.observe();
    let ns_r = registry::find("", "v1", "namespaces").expect("namespaces");
    for name in SYSTEM_NAMESPACES {
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        if let Err(e) = api.create_internal(ns_r, None, ns, "kube-apiserver").await {
            tracing::error!(namespace = name, error = %e, "cannot create system namespace");
        }
    }
    let mut events = events;
    let (namespaces, ns_task) = crate::namespace_controller::start(api.clone());
    let task = tokio::spawn(async move {
        let mut gc = Controllers { api, owners: HashMap::new(), uids: HashMap::new(), counts: HashMap::new(), namespaces };
        while let Some(e) = events.recv().await {
            gc.handle(&e).await;
            // Act on everything already queued before yielding, in order.
            while let Ok(e) = events.try_recv() {
                gc.handle(&e).await;
            }
        }
    });
    vec![task, ns_task]
}

/// A stored object's identity.
type Ref = (&'static ResourceType, String, String);

struct Controllers {
    api: Arc<Api>,
    /// owner uid -> dependents.
    owners: HashMap<String, HashSet<(usize, String, String)>>,
    /// uid -> object, for every stored object.
    uids: HashMap<String, (usize, String, String)>,
    /// How many objects each namespace holds.
    counts: HashMap<String, usize>,
    /// The namespace controller's queue.
    namespaces: crate::namespace_controller::Queue,
}

fn index_of(r: &ResourceType) -> usize {
    RESOURCES.iter().position(|x| std::ptr::eq(x, r)).unwrap_or(0)
}

fn owner_uids(o: &Value) -> Vec<String> {
    meta::owner_refs(o).iter().filter_map(|r| r.get("uid").and_then(Value::as_str)).map(String::from).collect()
}

impl Controllers {
    async fn handle(&mut self, e: &Event) {
        let emptied = self.index(e);
        let r = e.resource;
        if r.group.is_empty() && r.kind == "Namespace" {
            self.namespace_event(e).await;
        }
        if let Some(ns) = emptied {
            // The last object of a terminating namespace is gone: finish it now.
            let ns_r = registry::find("", "v1", "namespaces").expect("namespaces");
            if self.api.store.get(ns_r, "", &ns).is_some_and(|o| meta::is_deleting(&o)) {
                self.namespaces.add_after(&ns, std::time::Duration::ZERO);
            }
        }
        if e.kind == EventType::Deleted {
            self.owner_gone(&e.obj).await;
            for uid in owner_uids(&e.obj) {
                self.maybe_finish_foreground(&uid).await;
            }
        } else {
            if meta::is_deleting(&e.obj) {
                let f = meta::finalizers(&e.obj);
                if f.iter().any(|f| f == "orphan") {
                    self.orphan_dependents(r, &e.obj).await;
                }
                if f.iter().any(|f| f == "foregroundDeletion") {
                    self.delete_dependents_foreground(&e.obj).await;
                }
            }
            if e.kind == EventType::Added && !owner_uids(&e.obj).is_empty() {
                self.check_owners(r, &e.obj).await;
            }
            if e.kind == EventType::Modified {
                // A dependent that lost its owner references may unblock a foreground deletion.
                if let Some(prev) = &e.prev {
                    for uid in owner_uids(prev) {
                        if !owner_uids(&e.obj).contains(&uid) {
                            self.maybe_finish_foreground(&uid).await;
                        }
                    }
                }
            }
        }
    }

    /// What the namespace controller must hear of a Namespace event: a
    /// deletion starts it at once; later updates of a terminating namespace
    /// requeue it after upstream's grace period.
    async fn namespace_event(&self, e: &Event) {
        let name = meta::name(&e.obj);
        match e.kind {
            EventType::Added => {
                self.ensure_service_account(name).await;
                if meta::is_deleting(&e.obj) {
                    self.namespaces.add_after(name, std::time::Duration::ZERO);
                }
            }
            EventType::Modified if meta::is_deleting(&e.obj) => {
                let started = e.prev.as_ref().is_none_or(|p| !meta::is_deleting(p));
                let delay = if started { std::time::Duration::ZERO } else { crate::namespace_controller::NAMESPACE_UPDATE_DELAY };
                self.namespaces.add_after(name, delay);
            }
            _ => {}
        }
    }

    /// Keeps the indexes; returns the namespace this event emptied, if any.
    fn index(&mut self, e: &Event) -> Option<String> {
        let me = (index_of(e.resource), meta::namespace(&e.obj).to_string(), meta::name(&e.obj).to_string());
        if let Some(prev) = &e.prev {
            for uid in owner_uids(prev) {
                if let Some(s) = self.owners.get_mut(&uid) {
                    s.remove(&me);
                    if s.is_empty() {
                        self.owners.remove(&uid);
                    }
                }
            }
        }
        let ns = meta::namespace(&e.obj).to_string();
        if e.kind == EventType::Deleted {
            if self.uids.remove(meta::uid(&e.obj)).is_some()
                && !ns.is_empty()
                && let Some(n) = self.counts.get_mut(&ns)
            {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.counts.remove(&ns);
                    return Some(ns);
                }
            }
        } else {
            if self.uids.insert(meta::uid(&e.obj).to_string(), me.clone()).is_none() && !ns.is_empty() {
                *self.counts.entry(ns).or_default() += 1;
            }
            for uid in owner_uids(&e.obj) {
                self.owners.entry(uid).or_default().insert(me.clone());
            }
        }
        None
    }

    fn dependents(&self, uid: &str) -> Vec<Ref> {
        self.owners.get(uid).map(|s| s.iter().map(|(i, ns, name)| (&RESOURCES[*i], ns.clone(), name.clone())).collect()).unwrap_or_default()
    }

    fn get(&self, (r, ns, name): &Ref) -> Option<Obj> {
        self.api.store.get(r, ns, name)
    }

    /// Whether the owner an ownerReference names exists (same uid).
    fn owner_exists(&self, dependent_ns: &str, oref: &Value) -> bool {
        let av = oref.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
        let (group, version) = av.split_once('/').unwrap_or(("", av));
        let kind = oref.get("kind").and_then(Value::as_str).unwrap_or_default();
        let name = oref.get("name").and_then(Value::as_str).unwrap_or_default();
        let uid = oref.get("uid").and_then(Value::as_str).unwrap_or_default();
        let Some(r) = registry::find_kind(group, version, kind) else {
            // An owner of a kind the sandbox does not serve cannot be checked: keep the dependent.
            return true;
        };
        let ns = if r.namespaced { dependent_ns } else { "" };
        self.api.store.get(r, ns, name).is_some_and(|o| meta::uid(&o) == uid)
    }

    async fn ensure_service_account(&self, ns: &str) {
        let sa_r = registry::find("", "v1", "serviceaccounts").expect("serviceaccounts");
        if self.api.store.get(sa_r, ns, "default").is_some() {
            return;
        }
        let sa = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": ns}});
        if let Err(e) = self.api.create_internal(sa_r, Some(ns), sa, crate::api::INTERNAL_MANAGER).await
            && e.code != 409
        {
            tracing::warn!(namespace = ns, error = %e, "cannot create the default ServiceAccount");
        }
    }

    /// A dependent created with owners: if none of them exists, it is garbage.
    async fn check_owners(&self, r: &'static ResourceType, o: &Value) {
        let ns = meta::namespace(o);
        if meta::owner_refs(o).iter().all(|oref| !self.owner_exists(ns, oref)) {
            self.delete(r, ns, meta::name(o), Propagation::Background).await;
        }
    }

    /// The owner with this object's uid is gone: its dependents with no
    /// other owner left are deleted; the others lose the reference.
    async fn owner_gone(&self, owner: &Value) {
        let uid = meta::uid(owner);
        for d in self.dependents(uid) {
            let Some(obj) = self.get(&d) else { continue };
            let refs = meta::owner_refs(&obj);
            let others_alive =
                refs.iter().any(|oref| oref.get("uid").and_then(Value::as_str) != Some(uid) && self.owner_exists(&d.1, oref));
            if others_alive {
                let uid = uid.to_string();
                self.modify(&d, move |v| remove_owner_ref(v, &uid)).await;
            } else {
                // Dependents of an owner deleted in the foreground were deleted in the foreground.
                let foreground = meta::finalizers(owner).iter().any(|f| f == "foregroundDeletion");
                self.delete(d.0, &d.1, &d.2, if foreground { Propagation::Foreground } else { Propagation::Background }).await;
            }
        }
    }

    async fn orphan_dependents(&self, r: &'static ResourceType, owner: &Value) {
        let uid = meta::uid(owner).to_string();
        for d in self.dependents(&uid) {
            let u = uid.clone();
            self.modify(&d, move |v| remove_owner_ref(v, &u)).await;
        }
        let owner_ref = (r, meta::namespace(owner).to_string(), meta::name(owner).to_string());
        self.modify(&owner_ref, |v| {
            let f: Vec<String> = meta::finalizers(v).into_iter().filter(|f| f != "orphan").collect();
            meta::set_finalizers(v, &f);
        })
        .await;
    }

    async fn delete_dependents_foreground(&self, owner: &Value) {
        let uid = meta::uid(owner);
        for d in self.dependents(uid) {
            if let Some(obj) = self.get(&d)
                && !meta::is_deleting(&obj)
            {
                self.delete(d.0, &d.1, &d.2, Propagation::Foreground).await;
            }
        }
        self.maybe_finish_foreground(uid).await;
    }

    /// Removes the foregroundDeletion finalizer of the owner with `uid` once
    /// no dependent blocks it.
    async fn maybe_finish_foreground(&self, uid: &str) {
        let Some(owner) = self.find_by_uid_among_deleting(uid) else { return };
        let blocking = self.dependents(uid).iter().any(|d| {
            self.get(d).is_some_and(|o| {
                meta::owner_refs(&o).iter().any(|r| {
                    r.get("uid").and_then(Value::as_str) == Some(uid) && r.get("blockOwnerDeletion").and_then(Value::as_bool) == Some(true)
                })
            })
        });
        if blocking {
            return;
        }
        self.modify(&owner, |v| {
            let f: Vec<String> = meta::finalizers(v).into_iter().filter(|f| f != "foregroundDeletion").collect();
            meta::set_finalizers(v, &f);
        })
        .await;
    }

    /// The object with `uid`, if it is waiting for its dependents' foreground deletion.
    fn find_by_uid_among_deleting(&self, uid: &str) -> Option<Ref> {
        let (i, ns, name) = self.uids.get(uid)?;
        let o = self.api.store.get(&RESOURCES[*i], ns, name)?;
        (meta::uid(&o) == uid && meta::finalizers(&o).iter().any(|f| f == "foregroundDeletion"))
            .then(|| (&RESOURCES[*i], ns.clone(), name.clone()))
    }

    async fn delete(&self, r: &'static ResourceType, ns: &str, name: &str, p: Propagation) {
        let opts = DeleteOptions { propagation: Some(p), ..DeleteOptions::default() };
        if let Err(e) = self.api.delete_object(r, ns, name, &opts, false, &crate::rbac::ADMIN).await
            && e.code != 404
        {
            tracing::warn!(resource = r.plural, namespace = ns, name, error = %e, "garbage collector cannot delete");
        }
    }

    async fn modify(&self, (r, ns, name): &Ref, f: impl Fn(&mut Value)) {
        if let Err(e) = self.api.modify_internal(r, ns, name, f).await
            && e.code != 404
        {
            tracing::warn!(resource = r.plural, namespace = ns, name, error = %e, "garbage collector cannot update");
        }
    }
}

fn remove_owner_ref(v: &mut Value, uid: &str) {
    let m = meta::meta_mut(v);
    if let Some(Value::Array(refs)) = m.get_mut("ownerReferences") {
        refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(uid));
        if refs.is_empty() {
            m.remove("ownerReferences");
        }
    }
}
