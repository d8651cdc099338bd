//! Controller references and the adopt/release protocol of upstream's
//! `ControllerRefManager` (`k8s.io/kubernetes/pkg/controller/controller_ref_manager.go`,
//! Kubernetes v1.36).
//!
//! A workload controller (ReplicaSet, Deployment, DaemonSet, Job, ...) owns
//! its dependents through the one owner reference with `controller: true`.
//! On every sync it *claims* the objects its selector could cover:
//!
//! | the object                                   | decision            |
//! | -------------------------------------------- | ------------------- |
//! | controlled by another owner (other uid)      | [`ClaimAction::Ignore`]  |
//! | controlled by us, labels match               | [`ClaimAction::Keep`] (even while we are being deleted) |
//! | controlled by us, labels no longer match     | [`ClaimAction::Release`], or `Ignore` while we are being deleted |
//! | orphan, labels match, nobody being deleted, same namespace | [`ClaimAction::Adopt`] |
//! | any other orphan                             | [`ClaimAction::Ignore`]  |
//!
//! [`claim_action`] is that table as a pure function. [`ControllerRefManager`]
//! is the thin I/O around it: adoption is a strategic merge patch adding our
//! controller reference with a `metadata.uid` precondition (so a deleted and
//! recreated namesake is never adopted by mistake), release is a strategic
//! merge patch deleting our reference by uid. Before the first adoption of a
//! claim pass the owner is read fresh from the API server ("canAdopt"): if it
//! was replaced (other uid) or is being deleted, every adoption of the pass
//! fails with upstream's error wording.
//!
//! Errors as upstream: an adoption of an object that is gone (404) is not an
//! error (the object is simply not claimed); a release answered 404 (gone) or
//! 422 (no such reference any more, or the uid precondition failed because the
//! object was recreated) counts as released. Any other failure is reported in
//! [`ClaimOutcome::errors`] and the controller should retry later.

use std::fmt::Debug;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use kube::api::{Api, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::errors::{is_status, message as error_message};
use crate::selector::Selector;

/// The owner reference of `meta` with `controller: true`, if any (upstream
/// `metav1.GetControllerOf`). When several claim to be the controller (the
/// API server forbids it) the first one wins, as upstream.
pub fn controller_of(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references.as_deref().unwrap_or_default().iter().find(|r| r.controller == Some(true))
}

/// True when `meta`'s controller reference points at the owner with uid `owner_uid`.
pub fn is_controlled_by(meta: &ObjectMeta, owner_uid: &str) -> bool {
    controller_of(meta).is_some_and(|r| r.uid == owner_uid)
}

/// A controller reference (`controller: true`, `blockOwnerDeletion: true`),
/// as upstream `metav1.NewControllerRef` builds for the objects a controller
/// creates or adopts.
pub fn new_controller_ref(
    api_version: impl Into<String>,
    kind: impl Into<String>,
    name: impl Into<String>,
    uid: impl Into<String>,
) -> OwnerReference {
    OwnerReference {
        api_version: api_version.into(),
        kind: kind.into(),
        name: name.into(),
        uid: uid.into(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// The controller reference for `owner` (its static apiVersion and kind, its
/// name and uid); `None` when the owner has no name or no uid yet (it was
/// never stored by the API server).
pub fn controller_ref_for<O: Resource<DynamicType = ()>>(owner: &O) -> Option<OwnerReference> {
    let meta = owner.meta();
    let name = meta.name.as_deref().filter(|n| !n.is_empty())?;
    let uid = meta.uid.as_deref().filter(|u| !u.is_empty())?;
    Some(new_controller_ref(O::api_version(&()), O::kind(&()), name, uid))
}

/// What a controller does with one candidate object (see the module
/// documentation for the table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimAction {
    /// Already ours and still selected: claimed, nothing to write.
    Keep,
    /// An orphan we select: take it with an adoption patch.
    Adopt,
    /// Ours but no longer selected: give it up with a release patch.
    Release,
    /// Not ours and not to be taken (owned by another controller, not
    /// selected, being deleted, another namespace, or we are being deleted).
    Ignore,
}

/// Upstream `ClaimObject` without its I/O: decides what the controller
/// `owner` does with `object`, given whether the object passes the
/// controller's selector and filters (`matches`).
pub fn claim_action(owner: &ObjectMeta, object: &ObjectMeta, matches: bool) -> ClaimAction {
    let owner_uid = owner.uid.as_deref().unwrap_or_default();
    let owner_deleting = owner.deletion_timestamp.is_some();
    if let Some(cref) = controller_of(object) {
        if cref.uid != owner_uid {
            return ClaimAction::Ignore;
        }
        if matches {
            // Claiming what we already own takes no write, so it is allowed
            // even while we are being deleted.
            return ClaimAction::Keep;
        }
        return if owner_deleting { ClaimAction::Ignore } else { ClaimAction::Release };
    }
    if owner_deleting || !matches || object.deletion_timestamp.is_some() {
        return ClaimAction::Ignore;
    }
    let owner_ns = owner.namespace.as_deref().unwrap_or_default();
    if !owner_ns.is_empty() && owner_ns != object.namespace.as_deref().unwrap_or_default() {
        return ClaimAction::Ignore;
    }
    ClaimAction::Adopt
}

/// The strategic merge patch that adds `controller_ref` to an object's owner
/// references, guarded by the object's uid, and adds `finalizers` (upstream
/// `ownerRefControllerPatch`; the Job controller adopts pods with its
/// tracking finalizer).
pub fn adopt_patch(controller_ref: &OwnerReference, object_uid: &str, finalizers: &[String]) -> Value {
    let mut patch = json!({
        "metadata": {
            "ownerReferences": [{
                "apiVersion": controller_ref.api_version,
                "kind": controller_ref.kind,
                "name": controller_ref.name,
                "uid": controller_ref.uid,
                "controller": true,
                "blockOwnerDeletion": true,
            }],
            "uid": object_uid,
        }
    });
    if !finalizers.is_empty() {
        patch["metadata"]["finalizers"] = json!(finalizers);
    }
    patch
}

/// The strategic merge patch that removes the owner reference with uid
/// `owner_uid`, guarded by the object's uid, and removes `finalizers`
/// (upstream `GenerateDeleteOwnerRefStrategicMergeBytes`).
pub fn release_patch(owner_uid: &str, object_uid: &str, finalizers: &[String]) -> Value {
    let mut patch = json!({
        "metadata": {
            "uid": object_uid,
            "ownerReferences": [{"$patch": "delete", "uid": owner_uid}],
        }
    });
    if !finalizers.is_empty() {
        patch["metadata"]["$deleteFromPrimitiveList/finalizers"] = json!(finalizers);
    }
    patch
}

/// Upstream's canAdopt check (the controllers' fresh GET wrapped in
/// `RecheckDeletionTimestamp`): `fresh` is the owner as just read from the
/// API server, `original` the copy the claim pass started from, `kind` its
/// kind. Errors carry upstream's wording, for example
/// `can't recheck DeletionTimestamp: original ReplicaSet default/web is gone: got uid b, wanted a`
/// or `default/web has just been deleted at 2024-05-01 10:00:00 +0000 UTC`.
pub fn check_fresh_owner(original: &ObjectMeta, kind: &str, fresh: &ObjectMeta) -> Result<(), String> {
    let ns = original.namespace.as_deref().unwrap_or_default();
    let name = original.name.as_deref().unwrap_or_default();
    let want = original.uid.as_deref().unwrap_or_default();
    let got = fresh.uid.as_deref().unwrap_or_default();
    if got != want {
        return Err(format!("can't recheck DeletionTimestamp: original {kind} {ns}/{name} is gone: got uid {got}, wanted {want}"));
    }
    if let Some(ts) = &fresh.deletion_timestamp {
        let (fns, fname) = (fresh.namespace.as_deref().unwrap_or_default(), fresh.name.as_deref().unwrap_or_default());
        return Err(format!("{fns}/{fname} has just been deleted at {}", go_time(ts)));
    }
    Ok(())
}

/// A timestamp as Go prints a `*metav1.Time` with `%v` (in UTC).
fn go_time(t: &Time) -> String {
    jiff::fmt::strtime::format("%Y-%m-%d %H:%M:%S%.f +0000 UTC", t.0).unwrap_or_else(|_| t.0.to_string())
}

/// Why a claim, adoption or release failed.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// The owner handed to [`ControllerRefManager::new`] has no name or no uid.
    #[error("the owner {0} has no name or no uid")]
    InvalidOwner(String),
    /// The canAdopt check refused adoptions for this pass.
    #[error("can't adopt {kind} {namespace}/{name} ({uid}): {reason}")]
    CannotAdopt {
        /// The dependent's kind.
        kind: String,
        /// The dependent's namespace.
        namespace: String,
        /// The dependent's name.
        name: String,
        /// The dependent's uid.
        uid: String,
        /// Why the owner may not adopt (upstream's wording).
        reason: String,
    },
    /// The adoption patch failed (other than 404).
    #[error("failed to adopt {kind} {namespace}/{name}: {source}")]
    Adopt {
        /// The dependent's kind.
        kind: String,
        /// The dependent's namespace.
        namespace: String,
        /// The dependent's name.
        name: String,
        /// The API error.
        #[source]
        source: Box<kube::Error>,
    },
    /// The release patch failed (other than 404 and 422).
    #[error("failed to release {kind} {namespace}/{name}: {source}")]
    Release {
        /// The dependent's kind.
        kind: String,
        /// The dependent's namespace.
        namespace: String,
        /// The dependent's name.
        name: String,
        /// The API error.
        #[source]
        source: Box<kube::Error>,
    },
}

/// The result of a claim pass (upstream returns the claimed list and an
/// aggregate error together; so does this).
#[derive(Debug)]
pub struct ClaimOutcome<K> {
    /// The objects the owner now controls: kept ones as given, adopted ones
    /// as the API server returned them after the patch.
    pub claimed: Vec<K>,
    /// The adoptions and releases that failed; retry the sync later.
    pub errors: Vec<ClaimError>,
}

impl<K> ClaimOutcome<K> {
    /// The claimed objects if nothing failed, else the errors (what upstream
    /// controllers do: a failed claim aborts the sync).
    pub fn into_result(self) -> Result<Vec<K>, Vec<ClaimError>> {
        if self.errors.is_empty() { Ok(self.claimed) } else { Err(self.errors) }
    }
}

/// Where a dependent's watch events go (upstream's informer handlers): to
/// its controller when that is an `O` (same kind and group), to nobody when
/// another kind controls it, and for an orphan to every `O` of its
/// namespace whose non-empty selector matches its labels, so that one of
/// them adopts it (upstream `getPodReplicaSets`, `getDeploymentsForReplicaSet`).
pub fn owners_to_sync<O>(
    dependent: &ObjectMeta,
    owners: &[std::sync::Arc<O>],
    selector_of: impl Fn(&O) -> Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
) -> Vec<kube::runtime::reflector::ObjectRef<O>>
where
    O: Resource<DynamicType = ()>,
{
    use kube::runtime::reflector::ObjectRef;
    let ns = dependent.namespace.clone().unwrap_or_default();
    if let Some(c) = controller_of(dependent) {
        let group = c.api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let ours = c.kind == O::kind(&()) && group == O::group(&());
        return if ours { vec![ObjectRef::new(&c.name).within(&ns)] } else { vec![] };
    }
    let empty = Default::default();
    let labels = dependent.labels.as_ref().unwrap_or(&empty);
    owners
        .iter()
        .filter(|o| o.meta().namespace.as_deref() == Some(ns.as_str()))
        .filter(|o| {
            selector_of(o)
                .and_then(|sel| Selector::from_label_selector(Some(sel)).ok())
                .is_some_and(|sel| !sel.is_empty() && sel.matches(labels))
        })
        .map(|o| ObjectRef::from_obj(o.as_ref()))
        .collect()
}

/// Adopts and releases dependents `K` for one owner `O` during one sync
/// (upstream `PodControllerRefManager` / `ReplicaSetControllerRefManager` /
/// `ControllerRevisionControllerRefManager`, generic over the kinds).
///
/// Build a new one per sync pass: the fresh-owner check runs at most once per
/// manager, before its first adoption, and its answer holds for the pass.
pub struct ControllerRefManager<K, O>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
    O: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    dependents: Api<K>,
    owners: Api<O>,
    owner: ObjectMeta,
    controller_ref: OwnerReference,
    selector: Selector,
    patch_params: PatchParams,
    finalizers: Vec<String>,
    can_adopt: Option<Result<(), String>>,
}

impl<K, O> ControllerRefManager<K, O>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
    O: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    /// A manager for `owner`'s dependents. `dependents` is the API of the
    /// dependents in the owner's namespace, `owners` the API the owner is
    /// read back from for the canAdopt check, `selector` the owner's
    /// (converted) label selector.
    pub fn new(dependents: Api<K>, owners: Api<O>, owner: &O, selector: Selector) -> Result<Self, ClaimError> {
        let controller_ref = controller_ref_for(owner)
            .ok_or_else(|| ClaimError::InvalidOwner(format!("{} {}", O::kind(&()), owner.meta().name.as_deref().unwrap_or_default())))?;
        Ok(ControllerRefManager {
            dependents,
            owners,
            owner: owner.meta().clone(),
            controller_ref,
            selector,
            patch_params: PatchParams::default(),
            finalizers: Vec::new(),
            can_adopt: None,
        })
    }

    /// Sets the field manager the patches are sent with.
    pub fn with_field_manager(mut self, manager: impl Into<String>) -> Self {
        self.patch_params.field_manager = Some(manager.into());
        self
    }

    /// Finalizers to add on adoption and remove on release (upstream's
    /// `finalizers` argument of `NewPodControllerRefManager`).
    pub fn with_finalizers(mut self, finalizers: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.finalizers = finalizers.into_iter().map(Into::into).collect();
        self
    }

    /// The controller reference adoptions add.
    pub fn controller_ref(&self) -> &OwnerReference {
        &self.controller_ref
    }

    /// What [`claim_action`] decides for `object`, by the selector alone.
    pub fn action_for(&self, object: &K) -> ClaimAction {
        claim_action(&self.owner, object.meta(), self.selector.matches_labels(object.labels()))
    }

    /// Claims `objects` by the selector (upstream `ClaimReplicaSets`,
    /// `ClaimControllerRevisions`, `ClaimPods` without filters).
    pub async fn claim(&mut self, objects: impl IntoIterator<Item = K>) -> ClaimOutcome<K> {
        self.claim_filtered(objects, |_| true).await
    }

    /// Claims `objects` that match the selector and `filter` (upstream
    /// `ClaimPods` with filters; the filter only runs on selected objects).
    pub async fn claim_filtered(&mut self, objects: impl IntoIterator<Item = K>, filter: impl Fn(&K) -> bool) -> ClaimOutcome<K> {
        let mut out = ClaimOutcome { claimed: Vec::new(), errors: Vec::new() };
        for obj in objects {
            let matches = self.selector.matches_labels(obj.labels()) && filter(&obj);
            match claim_action(&self.owner, obj.meta(), matches) {
                ClaimAction::Keep => out.claimed.push(obj),
                ClaimAction::Ignore => {}
                ClaimAction::Release => {
                    if let Err(e) = self.release(&obj).await {
                        out.errors.push(e);
                    }
                }
                ClaimAction::Adopt => match self.adopt(&obj).await {
                    Ok(Some(adopted)) => out.claimed.push(adopted),
                    Ok(None) => {}
                    Err(e) => out.errors.push(e),
                },
            }
        }
        out
    }

    /// Sends the adoption patch for `object` (after the canAdopt check).
    /// `Ok(None)` when the object is gone (404).
    pub async fn adopt(&mut self, object: &K) -> Result<Option<K>, ClaimError> {
        let meta = object.meta();
        let (ns, name, uid) =
            (meta.namespace.clone().unwrap_or_default(), meta.name.clone().unwrap_or_default(), meta.uid.clone().unwrap_or_default());
        if let Err(reason) = self.can_adopt().await {
            return Err(ClaimError::CannotAdopt { kind: K::kind(&()).into_owned(), namespace: ns, name, uid, reason });
        }
        let patch = adopt_patch(&self.controller_ref, &uid, &self.finalizers);
        match self.dependents.patch(&name, &self.patch_params, &Patch::Strategic(patch)).await {
            Ok(adopted) => Ok(Some(adopted)),
            Err(e) if is_status(&e, 404) => Ok(None),
            Err(source) => Err(ClaimError::Adopt { kind: K::kind(&()).into_owned(), namespace: ns, name, source: Box::new(source) }),
        }
    }

    /// Sends the release patch for `object`; a 404 (gone) or 422 (reference
    /// already gone, or the object was recreated) counts as released.
    pub async fn release(&self, object: &K) -> Result<(), ClaimError> {
        let meta = object.meta();
        let (ns, name, uid) =
            (meta.namespace.clone().unwrap_or_default(), meta.name.clone().unwrap_or_default(), meta.uid.clone().unwrap_or_default());
        tracing::debug!(
            kind = %K::kind(&()), namespace = %ns, name = %name,
            owner_kind = %self.controller_ref.kind, owner = %self.controller_ref.name,
            "patching to remove its controllerRef"
        );
        let patch = release_patch(&self.controller_ref.uid, &uid, &self.finalizers);
        match self.dependents.patch(&name, &self.patch_params, &Patch::Strategic(patch)).await {
            Ok(_) => Ok(()),
            Err(e) if is_status(&e, 404) || is_status(&e, 422) => Ok(()),
            Err(source) => Err(ClaimError::Release { kind: K::kind(&()).into_owned(), namespace: ns, name, source: Box::new(source) }),
        }
    }

    /// The canAdopt check, run at most once per manager.
    async fn can_adopt(&mut self) -> Result<(), String> {
        if let Some(r) = &self.can_adopt {
            return r.clone();
        }
        let name = self.owner.name.clone().unwrap_or_default();
        let r = match self.owners.get(&name).await {
            Ok(fresh) => check_fresh_owner(&self.owner, &O::kind(&()), fresh.meta()),
            Err(e) => Err(format!("can't recheck DeletionTimestamp: {}", error_message(&e))),
        };
        self.can_adopt = Some(r.clone());
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    use k8s_openapi::api::apps::v1::ReplicaSet;
    use k8s_openapi::api::core::v1::Pod;

    fn ts(s: &str) -> Time {
        Time(s.parse().expect("timestamp"))
    }

    fn owner(uid: &str) -> ObjectMeta {
        ObjectMeta { name: Some("web".into()), namespace: Some("default".into()), uid: Some(uid.into()), ..Default::default() }
    }

    fn object(controller: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            name: Some("web-abc".into()),
            namespace: Some("default".into()),
            uid: Some("pod-uid".into()),
            owner_references: controller.map(|uid| vec![new_controller_ref("apps/v1", "ReplicaSet", "x", uid)]),
            ..Default::default()
        }
    }

    #[test]
    fn controller_of_finds_the_controller_reference() {
        let mut m = ObjectMeta::default();
        assert!(controller_of(&m).is_none());
        m.owner_references = Some(vec![
            OwnerReference { uid: "a".into(), controller: None, ..Default::default() },
            OwnerReference { uid: "b".into(), controller: Some(false), ..Default::default() },
        ]);
        assert!(controller_of(&m).is_none());
        if let Some(refs) = m.owner_references.as_mut() {
            refs.push(OwnerReference { uid: "c".into(), controller: Some(true), ..Default::default() });
            refs.push(OwnerReference { uid: "d".into(), controller: Some(true), ..Default::default() });
        }
        assert_eq!(controller_of(&m).map(|r| r.uid.as_str()), Some("c"));
        assert!(is_controlled_by(&m, "c"));
        assert!(!is_controlled_by(&m, "a"));
    }

    #[test]
    fn controller_ref_for_an_owner() {
        let rs = ReplicaSet { metadata: owner("rs-uid"), ..Default::default() };
        let r = controller_ref_for(&rs).expect("ref");
        assert_eq!(r, new_controller_ref("apps/v1", "ReplicaSet", "web", "rs-uid"));
        assert_eq!(r.controller, Some(true));
        assert_eq!(r.block_owner_deletion, Some(true));
        let pod =
            Pod { metadata: ObjectMeta { name: Some("p".into()), uid: Some("u".into()), ..Default::default() }, ..Default::default() };
        assert_eq!(controller_ref_for(&pod).map(|r| (r.api_version, r.kind)), Some(("v1".into(), "Pod".into())));
        let unsaved = ReplicaSet { metadata: ObjectMeta { name: Some("web".into()), ..Default::default() }, ..Default::default() };
        assert!(controller_ref_for(&unsaved).is_none());
        let nameless = ReplicaSet { metadata: ObjectMeta { uid: Some("u".into()), ..Default::default() }, ..Default::default() };
        assert!(controller_ref_for(&nameless).is_none());
    }

    #[test]
    fn owned_objects_are_kept_or_released() {
        let me = owner("me");
        assert_eq!(claim_action(&me, &object(Some("me")), true), ClaimAction::Keep);
        assert_eq!(claim_action(&me, &object(Some("me")), false), ClaimAction::Release);
        let mut deleting = me.clone();
        deleting.deletion_timestamp = Some(ts("2024-05-01T10:00:00Z"));
        // Still claimed while being deleted, but never released then.
        assert_eq!(claim_action(&deleting, &object(Some("me")), true), ClaimAction::Keep);
        assert_eq!(claim_action(&deleting, &object(Some("me")), false), ClaimAction::Ignore);
        // Owned objects being deleted are still ours.
        let mut obj = object(Some("me"));
        obj.deletion_timestamp = Some(ts("2024-05-01T10:00:00Z"));
        assert_eq!(claim_action(&me, &obj, true), ClaimAction::Keep);
    }

    #[test]
    fn objects_of_other_controllers_are_ignored() {
        let me = owner("me");
        assert_eq!(claim_action(&me, &object(Some("other")), true), ClaimAction::Ignore);
        assert_eq!(claim_action(&me, &object(Some("other")), false), ClaimAction::Ignore);
        // A non-controller owner reference to us does not make it ours: it is an orphan.
        let mut obj = object(None);
        obj.owner_references = Some(vec![OwnerReference { uid: "me".into(), controller: Some(false), ..Default::default() }]);
        assert_eq!(claim_action(&me, &obj, true), ClaimAction::Adopt);
    }

    #[test]
    fn orphans_are_adopted_only_when_everything_allows() {
        let me = owner("me");
        assert_eq!(claim_action(&me, &object(None), true), ClaimAction::Adopt);
        assert_eq!(claim_action(&me, &object(None), false), ClaimAction::Ignore);
        let mut deleting = me.clone();
        deleting.deletion_timestamp = Some(ts("2024-05-01T10:00:00Z"));
        assert_eq!(claim_action(&deleting, &object(None), true), ClaimAction::Ignore);
        let mut obj = object(None);
        obj.deletion_timestamp = Some(ts("2024-05-01T10:00:00Z"));
        assert_eq!(claim_action(&me, &obj, true), ClaimAction::Ignore);
        let mut elsewhere = object(None);
        elsewhere.namespace = Some("kube-system".into());
        assert_eq!(claim_action(&me, &elsewhere, true), ClaimAction::Ignore);
        // A cluster-scoped owner adopts in any namespace.
        let mut cluster = me.clone();
        cluster.namespace = None;
        assert_eq!(claim_action(&cluster, &elsewhere, true), ClaimAction::Adopt);
    }

    #[test]
    fn empty_metadata_never_panics() {
        let empty = ObjectMeta::default();
        assert_eq!(claim_action(&empty, &empty, true), ClaimAction::Adopt);
        assert_eq!(claim_action(&empty, &empty, false), ClaimAction::Ignore);
        assert!(check_fresh_owner(&empty, "ReplicaSet", &empty).is_ok());
    }

    #[test]
    fn patches_have_upstreams_shape() {
        let r = new_controller_ref("apps/v1", "ReplicaSet", "web", "rs-uid");
        assert_eq!(
            adopt_patch(&r, "pod-uid", &[]),
            json!({"metadata": {"ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web",
                "uid": "rs-uid", "controller": true, "blockOwnerDeletion": true}], "uid": "pod-uid"}})
        );
        assert_eq!(
            release_patch("rs-uid", "pod-uid", &[]),
            json!({"metadata": {"ownerReferences": [{"$patch": "delete", "uid": "rs-uid"}], "uid": "pod-uid"}})
        );
        let fin = vec!["batch.kubernetes.io/job-tracking".to_string()];
        let job = new_controller_ref("batch/v1", "Job", "pi", "job-uid");
        assert_eq!(adopt_patch(&job, "pod-uid", &fin)["metadata"]["finalizers"], json!(["batch.kubernetes.io/job-tracking"]));
        assert_eq!(
            release_patch("job-uid", "pod-uid", &fin),
            json!({"metadata": {"ownerReferences": [{"$patch": "delete", "uid": "job-uid"}], "uid": "pod-uid",
                "$deleteFromPrimitiveList/finalizers": ["batch.kubernetes.io/job-tracking"]}})
        );
    }

    #[test]
    fn fresh_owner_check_uses_upstreams_wording() {
        let original = owner("a");
        assert_eq!(check_fresh_owner(&original, "ReplicaSet", &owner("a")), Ok(()));
        assert_eq!(
            check_fresh_owner(&original, "ReplicaSet", &owner("b")),
            Err("can't recheck DeletionTimestamp: original ReplicaSet default/web is gone: got uid b, wanted a".to_string())
        );
        let mut deleting = owner("a");
        deleting.deletion_timestamp = Some(ts("2024-05-01T10:00:00Z"));
        assert_eq!(
            check_fresh_owner(&original, "ReplicaSet", &deleting),
            Err("default/web has just been deleted at 2024-05-01 10:00:00 +0000 UTC".to_string())
        );
        deleting.deletion_timestamp = Some(ts("2024-05-01T10:00:00.5Z"));
        assert_eq!(
            check_fresh_owner(&original, "Deployment", &deleting),
            Err("default/web has just been deleted at 2024-05-01 10:00:00.5 +0000 UTC".to_string())
        );
    }

    #[test]
    fn claim_errors_read_like_upstream() {
        let e = ClaimError::CannotAdopt {
            kind: "Pod".into(),
            namespace: "default".into(),
            name: "web-abc".into(),
            uid: "pod-uid".into(),
            reason: "default/web has just been deleted at 2024-05-01 10:00:00 +0000 UTC".into(),
        };
        assert_eq!(
            e.to_string(),
            "can't adopt Pod default/web-abc (pod-uid): default/web has just been deleted at 2024-05-01 10:00:00 +0000 UTC"
        );
        let outcome: ClaimOutcome<Pod> = ClaimOutcome { claimed: vec![Pod::default()], errors: vec![e] };
        assert!(outcome.into_result().is_err());
        let outcome: ClaimOutcome<Pod> = ClaimOutcome { claimed: vec![Pod::default()], errors: vec![] };
        assert_eq!(outcome.into_result().map(|v| v.len()).ok(), Some(1));
    }

    #[test]
    fn selector_decides_matching() {
        // The manager matches by labels through crate::selector; a pod
        // without labels is matched only by an empty selector.
        let sel = Selector::from_set(&BTreeMap::from([("app".to_string(), "web".to_string())]));
        let pod = Pod::default();
        assert!(!sel.matches_labels(pod.labels()));
        assert!(Selector::everything().matches_labels(pod.labels()));
    }

    #[test]
    fn events_go_to_the_controller_or_to_every_owner_selecting_an_orphan() {
        use k8s_openapi::api::apps::v1::ReplicaSet;
        let rs = |name: &str, ns: &str, app: &str| -> std::sync::Arc<ReplicaSet> {
            std::sync::Arc::new(
                serde_json::from_value(json!({"metadata": {"name": name, "namespace": ns},
                    "spec": {"selector": {"matchLabels": {"app": app}}}}))
                .unwrap(),
            )
        };
        let owners = vec![rs("a", "ns", "web"), rs("b", "ns", "web"), rs("c", "ns", "db"), rs("d", "other", "web")];
        fn sel(r: &ReplicaSet) -> Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector> {
            r.spec.as_ref().map(|s| &s.selector)
        }
        let pod = |refs: Value| -> ObjectMeta {
            serde_json::from_value(json!({"namespace": "ns", "labels": {"app": "web"}, "ownerReferences": refs})).unwrap()
        };
        let names = |v: Vec<kube::runtime::reflector::ObjectRef<ReplicaSet>>| v.into_iter().map(|r| r.name).collect::<Vec<_>>();
        assert_eq!(names(owners_to_sync(&pod(json!([])), &owners, sel)), ["a", "b"]);
        let by_rs = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "z", "uid": "u", "controller": true}]);
        assert_eq!(names(owners_to_sync(&pod(by_rs), &owners, sel)), ["z"]);
        let by_job = json!([{"apiVersion": "batch/v1", "kind": "Job", "name": "j", "uid": "u", "controller": true}]);
        assert!(owners_to_sync(&pod(by_job), &owners, sel).is_empty());
    }
}
