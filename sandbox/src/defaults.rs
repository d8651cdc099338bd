//! Defaulting and two admission steps, as kube-apiserver v1.36 applies them to
//! objects on create and update.
//!
//! Objects arrive as JSON; they are decoded into the typed `k8s-openapi`
//! structs, defaulted, and encoded back. Decoding errors are worded as
//! upstream's (`Deployment in version "v1" cannot be handled as a Deployment:
//! json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas
//! of type int32`). Quantities are put in canonical form on the way through,
//! as upstream's encoder does, and resource lists are rounded up to milli
//! units where upstream's `SetDefaults_ResourceList` applies.
//!
//! Beyond the `SetDefaults_*` functions, a few things upstream does at decode
//! or create time and that decide what a stored object looks like are done
//! here too: the Secret `stringData` merge (a conversion step), the Job
//! selector and label generation (the Job strategy), the Namespace
//! `kubernetes` finalizer and `Active` phase (the Namespace strategy), the
//! Service `clusterIPs`/`ipFamilies`/`ipFamilyPolicy` fields (the Service
//! strategy and IP allocator, for a single-stack IPv4 cluster; the ClusterIP
//! and NodePorts themselves are allocated by `crate::alloc`), and the empty structs Go always encodes
//! (`status: {}`, container `resources: {}`, template `metadata: {}`).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::autoscaling::v1 as asv1;
use k8s_openapi::api::autoscaling::v2 as asv2;
use k8s_openapi::api::batch::v1 as batch;
use k8s_openapi::api::coordination::v1 as coordination;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::policy::v1 as policy;
use k8s_openapi::api::scheduling::v1 as scheduling;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

/// Applies upstream v1.36 defaulting to an object given as JSON: decode it to
/// the typed k8s-openapi struct for (group, version, kind), apply defaults,
/// encode back. Unknown (group, version, kind): returns `Ok(obj)` unchanged.
/// Decode errors -> `Err(message)` worded as upstream's decoding errors (the
/// API server turns it into 400 BadRequest).
pub fn apply_defaults(group: &str, version: &str, kind: &str, obj: Value) -> Result<Value, String> {
    match (group, version, kind) {
        ("", "v1", "Pod") => run(obj, kind, version, default_pod),
        ("", "v1", "PodTemplate") => run(obj, kind, version, default_pod_template),
        ("", "v1", "ReplicationController") => run(obj, kind, version, default_replication_controller),
        ("", "v1", "Service") => run(obj, kind, version, default_service),
        ("", "v1", "Namespace") => run(obj, kind, version, default_namespace),
        ("", "v1", "Node") => run(obj, kind, version, default_node),
        ("", "v1", "ConfigMap") => run(obj, kind, version, |_: &mut core::ConfigMap| Ok(())),
        ("", "v1", "Secret") => run(obj, kind, version, default_secret),
        ("", "v1", "ServiceAccount") => run(obj, kind, version, |_: &mut core::ServiceAccount| Ok(())),
        ("", "v1", "LimitRange") => run(obj, kind, version, default_limit_range),
        ("", "v1", "ResourceQuota") => run(obj, kind, version, default_resource_quota),
        ("", "v1", "PersistentVolumeClaim") => run(obj, kind, version, default_pvc),
        ("", "v1", "Event") => core_event(obj, kind, version),
        ("events.k8s.io", "v1", "Event") => events_event(obj, kind, version),
        ("apps", "v1", "Deployment") => keep_absent_selector(obj, |o| run(o, kind, version, default_deployment)),
        ("apps", "v1", "ReplicaSet") => keep_absent_selector(obj, |o| run(o, kind, version, default_replica_set)),
        ("apps", "v1", "DaemonSet") => keep_absent_selector(obj, |o| run(o, kind, version, default_daemon_set)),
        ("apps", "v1", "StatefulSet") => keep_absent_selector(obj, |o| run(o, kind, version, default_stateful_set)),
        ("apps", "v1", "ControllerRevision") => run(obj, kind, version, |_: &mut apps::ControllerRevision| Ok(())),
        ("batch", "v1", "Job") => run(obj, kind, version, default_job),
        ("batch", "v1", "CronJob") => run(obj, kind, version, default_cron_job),
        ("autoscaling", "v2", "HorizontalPodAutoscaler") => run(obj, kind, version, default_hpa_v2),
        ("autoscaling", "v1", "HorizontalPodAutoscaler") => run(obj, kind, version, default_hpa_v1),
        ("policy", "v1", "PodDisruptionBudget") => run(obj, kind, version, default_pdb),
        ("coordination.k8s.io", "v1", "Lease") => run(obj, kind, version, |_: &mut coordination::Lease| Ok(())),
        ("scheduling.k8s.io", "v1", "PriorityClass") => run(obj, kind, version, default_priority_class),
        _ => Ok(obj),
    }
}

/// Decodes, defaults and encodes one object.
fn run<T>(mut obj: Value, kind: &str, version: &str, f: impl FnOnce(&mut T) -> Result<(), String>) -> Result<Value, String>
where
    T: serde::de::DeserializeOwned + serde::Serialize + k8s_openapi::Resource,
{
    let wrap = |e: String| format!("{kind} in version \"{version}\" cannot be handled as a {kind}: {e}");
    // The server has already decided the kind from the request; the typed
    // decoder insists on seeing it.
    if let Value::Object(m) = &mut obj {
        m.insert("apiVersion".into(), Value::String(T::API_VERSION.into()));
        m.insert("kind".into(), Value::String(T::KIND.into()));
    }
    let mut typed: T = decode::decode(obj, version).map_err(wrap)?;
    f(&mut typed).map_err(wrap)?;
    serde_json::to_value(&typed).map_err(|e| e.to_string())
}

/// The typed structs cannot tell a missing `spec.selector` from an empty one;
/// upstream keeps it missing (and validation then asks for it).
fn keep_absent_selector(obj: Value, f: impl FnOnce(Value) -> Result<Value, String>) -> Result<Value, String> {
    let absent = obj.get("spec").map(|s| s.get("selector").is_none_or(Value::is_null)).unwrap_or(true);
    let mut out = f(obj)?;
    if absent && let Some(spec) = out.get_mut("spec").and_then(Value::as_object_mut) {
        spec.remove("selector");
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// small helpers

fn empty(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(str::is_empty)
}

fn set_if_empty(s: &mut Option<String>, v: &str) {
    if empty(s) {
        *s = Some(v.to_string());
    }
}

fn zero_i32(v: Option<i32>) -> bool {
    v.is_none_or(|v| v == 0)
}

type ResourceList = BTreeMap<String, Quantity>;

/// Canonicalizes the quantities of a resource list; `round` rounds them up to
/// milli units as `SetDefaults_ResourceList` does. Empty lists are dropped, as
/// Go's `omitempty` drops them.
fn canon_list(list: &mut Option<ResourceList>, round: bool) -> Result<(), String> {
    if let Some(l) = list {
        for q in l.values_mut() {
            canon_quantity(q, round)?;
        }
        if l.is_empty() {
            *list = None;
        }
    }
    Ok(())
}

fn canon_quantity(q: &mut Quantity, round: bool) -> Result<(), String> {
    let mut parsed = quantity::parse(q.0.trim()).map_err(str::to_string)?;
    if round {
        parsed = parsed.round_up(-3);
    }
    q.0 = parsed.to_string();
    Ok(())
}

fn canon_opt_quantity(q: &mut Option<Quantity>, round: bool) -> Result<(), String> {
    if let Some(q) = q {
        canon_quantity(q, round)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// core/v1: pods and pod templates

const DEFAULT_TERMINATION_MESSAGE_PATH: &str = "/dev/termination-log";

fn default_pod(pod: &mut core::Pod) -> Result<(), String> {
    let spec = pod.spec.get_or_insert_with(Default::default);

    // SetDefaults_Pod: container requests default to limits (pods only, not
    // templates), for regular and init containers.
    for c in spec.containers.iter_mut().chain(spec.init_containers.iter_mut().flatten()) {
        if let Some(res) = &mut c.resources
            && let Some(limits) = &res.limits
        {
            let requests = res.requests.get_or_insert_with(BTreeMap::new);
            for (k, v) in limits {
                requests.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
    default_pod_spec(spec)?;
    pod_level_resources::default(spec);
    if spec.enable_service_links.is_none() {
        spec.enable_service_links = Some(true);
    }
    if spec.host_network == Some(true) {
        for c in spec.containers.iter_mut().chain(spec.init_containers.iter_mut().flatten()) {
            for p in c.ports.iter_mut().flatten() {
                if zero_i32(p.host_port) {
                    p.host_port = Some(p.container_port);
                }
            }
        }
    }
    if let Some(status) = &mut pod.status {
        for cs in status
            .container_statuses
            .iter_mut()
            .flatten()
            .chain(status.init_container_statuses.iter_mut().flatten())
            .chain(status.ephemeral_container_statuses.iter_mut().flatten())
        {
            canon_list(&mut cs.allocated_resources, true)?;
            if let Some(r) = &mut cs.resources {
                canon_list(&mut r.limits, true)?;
                canon_list(&mut r.requests, true)?;
            }
        }
        canon_list(&mut status.allocated_resources, false)?;
        if let Some(r) = &mut status.resources {
            canon_list(&mut r.limits, false)?;
            canon_list(&mut r.requests, false)?;
        }
    } else {
        pod.status = Some(Default::default());
    }
    Ok(())
}

fn default_pod_template(t: &mut core::PodTemplate) -> Result<(), String> {
    default_template(t.template.get_or_insert_with(Default::default))
}

/// Defaults a pod template embedded in another object: pod spec defaults, not
/// pod defaults (no `enableServiceLinks`, no requests from limits).
fn default_template(t: &mut core::PodTemplateSpec) -> Result<(), String> {
    t.metadata.get_or_insert_with(Default::default);
    default_pod_spec(t.spec.get_or_insert_with(Default::default))
}

/// SetDefaults_PodSpec and the defaults of everything a pod spec holds.
fn default_pod_spec(spec: &mut core::PodSpec) -> Result<(), String> {
    set_if_empty(&mut spec.dns_policy, "ClusterFirst");
    set_if_empty(&mut spec.restart_policy, "Always");
    if spec.security_context.is_none() {
        spec.security_context = Some(Default::default());
    }
    if spec.termination_grace_period_seconds.is_none() {
        spec.termination_grace_period_seconds = Some(30);
    }
    set_if_empty(&mut spec.scheduler_name, "default-scheduler");
    for v in spec.volumes.iter_mut().flatten() {
        default_volume(v)?;
    }
    for c in spec.init_containers.iter_mut().flatten() {
        default_container(c)?;
    }
    for c in spec.containers.iter_mut() {
        default_container(c)?;
    }
    for c in spec.ephemeral_containers.iter_mut().flatten() {
        default_ephemeral_container(c)?;
    }
    canon_list(&mut spec.overhead, true)?;
    if let Some(r) = &mut spec.resources {
        canon_list(&mut r.limits, true)?;
        canon_list(&mut r.requests, true)?;
    }
    Ok(())
}

/// The pull policy upstream picks for an image: `Always` for `:latest` or no
/// tag (and no digest), `IfNotPresent` otherwise, including names that do not
/// parse.
pub(crate) fn default_pull_policy(image: &str) -> &'static str {
    match image_ref::tag(image) {
        Some(t) if t == "latest" => "Always",
        _ => "IfNotPresent",
    }
}

macro_rules! container_defaults {
    ($c:expr) => {{
        let c = $c;
        if empty(&c.image_pull_policy) {
            c.image_pull_policy = Some(default_pull_policy(c.image.as_deref().unwrap_or("")).to_string());
        }
        set_if_empty(&mut c.termination_message_path, DEFAULT_TERMINATION_MESSAGE_PATH);
        set_if_empty(&mut c.termination_message_policy, "File");
        for p in c.ports.iter_mut().flatten() {
            set_if_empty(&mut p.protocol, "TCP");
        }
        for e in c.env.iter_mut().flatten() {
            if let Some(vf) = &mut e.value_from {
                if let Some(fr) = &mut vf.field_ref {
                    set_if_empty(&mut fr.api_version, "v1");
                }
                if let Some(rf) = &mut vf.resource_field_ref {
                    canon_opt_quantity(&mut rf.divisor, false)?;
                }
            }
        }
        let res = c.resources.get_or_insert_with(Default::default);
        canon_list(&mut res.limits, true)?;
        canon_list(&mut res.requests, true)?;
        for p in [&mut c.liveness_probe, &mut c.readiness_probe, &mut c.startup_probe].into_iter().flatten() {
            default_probe(p);
        }
        if let Some(l) = &mut c.lifecycle {
            for h in [&mut l.post_start, &mut l.pre_stop].into_iter().flatten() {
                if let Some(g) = &mut h.http_get {
                    default_http_get(g);
                }
            }
        }
    }};
}

fn default_container(c: &mut core::Container) -> Result<(), String> {
    container_defaults!(c);
    Ok(())
}

fn default_ephemeral_container(c: &mut core::EphemeralContainer) -> Result<(), String> {
    container_defaults!(c);
    Ok(())
}

fn default_probe(p: &mut core::Probe) {
    if zero_i32(p.timeout_seconds) {
        p.timeout_seconds = Some(1);
    }
    if zero_i32(p.period_seconds) {
        p.period_seconds = Some(10);
    }
    if zero_i32(p.success_threshold) {
        p.success_threshold = Some(1);
    }
    if zero_i32(p.failure_threshold) {
        p.failure_threshold = Some(3);
    }
    if let Some(g) = &mut p.http_get {
        default_http_get(g);
    }
    if let Some(g) = &mut p.grpc
        && g.service.is_none()
    {
        g.service = Some(String::new());
    }
}

fn default_http_get(g: &mut core::HTTPGetAction) {
    set_if_empty(&mut g.path, "/");
    set_if_empty(&mut g.scheme, "HTTP");
}

fn volume_has_source(v: &core::Volume) -> bool {
    v.aws_elastic_block_store.is_some()
        || v.azure_disk.is_some()
        || v.azure_file.is_some()
        || v.cephfs.is_some()
        || v.cinder.is_some()
        || v.config_map.is_some()
        || v.csi.is_some()
        || v.downward_api.is_some()
        || v.empty_dir.is_some()
        || v.ephemeral.is_some()
        || v.fc.is_some()
        || v.flex_volume.is_some()
        || v.flocker.is_some()
        || v.gce_persistent_disk.is_some()
        || v.git_repo.is_some()
        || v.glusterfs.is_some()
        || v.host_path.is_some()
        || v.image.is_some()
        || v.iscsi.is_some()
        || v.nfs.is_some()
        || v.persistent_volume_claim.is_some()
        || v.photon_persistent_disk.is_some()
        || v.portworx_volume.is_some()
        || v.projected.is_some()
        || v.quobyte.is_some()
        || v.rbd.is_some()
        || v.scale_io.is_some()
        || v.secret.is_some()
        || v.storageos.is_some()
        || v.vsphere_volume.is_some()
}

const DEFAULT_VOLUME_MODE: i32 = 0o644;

fn default_volume(v: &mut core::Volume) -> Result<(), String> {
    if !volume_has_source(v) {
        v.empty_dir = Some(Default::default());
    }
    if let Some(e) = &mut v.empty_dir {
        canon_opt_quantity(&mut e.size_limit, false)?;
    }
    if let Some(img) = &mut v.image
        && empty(&img.pull_policy)
    {
        img.pull_policy = Some(default_pull_policy(img.reference.as_deref().unwrap_or("")).to_string());
    }
    if let Some(h) = &mut v.host_path
        && h.type_.is_none()
    {
        h.type_ = Some(String::new());
    }
    if let Some(s) = &mut v.secret {
        s.default_mode.get_or_insert(DEFAULT_VOLUME_MODE);
    }
    if let Some(s) = &mut v.config_map {
        s.default_mode.get_or_insert(DEFAULT_VOLUME_MODE);
    }
    if let Some(d) = &mut v.downward_api {
        d.default_mode.get_or_insert(DEFAULT_VOLUME_MODE);
        for item in d.items.iter_mut().flatten() {
            default_downward_file(item)?;
        }
    }
    if let Some(p) = &mut v.projected {
        p.default_mode.get_or_insert(DEFAULT_VOLUME_MODE);
        for src in p.sources.iter_mut().flatten() {
            if let Some(d) = &mut src.downward_api {
                for item in d.items.iter_mut().flatten() {
                    default_downward_file(item)?;
                }
            }
            if let Some(t) = &mut src.service_account_token {
                t.expiration_seconds.get_or_insert(3600);
            }
        }
    }
    if let Some(i) = &mut v.iscsi {
        set_if_empty(&mut i.iscsi_interface, "default");
    }
    if let Some(r) = &mut v.rbd {
        set_if_empty(&mut r.pool, "rbd");
        set_if_empty(&mut r.user, "admin");
        set_if_empty(&mut r.keyring, "/etc/ceph/keyring");
    }
    if let Some(a) = &mut v.azure_disk {
        a.caching_mode.get_or_insert_with(|| "ReadWrite".into());
        a.kind.get_or_insert_with(|| "Shared".into());
        a.fs_type.get_or_insert_with(|| "ext4".into());
        a.read_only.get_or_insert(false);
    }
    if let Some(s) = &mut v.scale_io {
        set_if_empty(&mut s.storage_mode, "ThinProvisioned");
        set_if_empty(&mut s.fs_type, "xfs");
    }
    if let Some(e) = &mut v.ephemeral
        && let Some(t) = &mut e.volume_claim_template
    {
        default_pvc_spec(&mut t.spec)?;
    }
    Ok(())
}

fn default_downward_file(item: &mut core::DownwardAPIVolumeFile) -> Result<(), String> {
    if let Some(fr) = &mut item.field_ref {
        set_if_empty(&mut fr.api_version, "v1");
    }
    if let Some(rf) = &mut item.resource_field_ref {
        canon_opt_quantity(&mut rf.divisor, false)?;
    }
    Ok(())
}

fn default_pvc_spec(spec: &mut core::PersistentVolumeClaimSpec) -> Result<(), String> {
    if spec.volume_mode.is_none() {
        spec.volume_mode = Some("Filesystem".into());
    }
    if let Some(r) = &mut spec.resources {
        canon_list(&mut r.limits, true)?;
        canon_list(&mut r.requests, true)?;
    }
    Ok(())
}

/// Pod-level resources (PodLevelResources, on by default in v1.36): pod
/// requests and limits defaulted from the containers'.
mod pod_level_resources {
    use super::quantity::Qty;
    use super::*;

    type Parsed = BTreeMap<String, Qty>;

    fn parse_list(l: &Option<ResourceList>) -> Parsed {
        let mut out = Parsed::new();
        for (k, v) in l.iter().flatten() {
            if let Ok(q) = quantity::parse(v.0.trim()) {
                out.insert(k.clone(), q);
            }
        }
        out
    }

    fn add_into(acc: &mut Parsed, l: &Parsed) {
        for (k, v) in l {
            match acc.get(k) {
                Some(a) => {
                    if let Some(s) = a.add(v) {
                        acc.insert(k.clone(), s);
                    }
                }
                None => {
                    acc.insert(k.clone(), *v);
                }
            }
        }
    }

    fn max_into(acc: &mut Parsed, l: &Parsed) {
        for (k, v) in l {
            match acc.get(k) {
                Some(a) if a.cmp_value(v) != Ordering::Less => {}
                _ => {
                    acc.insert(k.clone(), *v);
                }
            }
        }
    }

    fn restartable(c: &core::Container) -> bool {
        c.restart_policy.as_deref() == Some("Always")
    }

    /// resourcehelper.AggregateContainerRequests / Limits: the sum of the
    /// regular and sidecar containers against the largest init container step.
    fn aggregate(spec: &core::PodSpec, pick: fn(&core::ResourceRequirements) -> &Option<ResourceList>) -> Parsed {
        let get = |c: &core::Container| c.resources.as_ref().map(|r| parse_list(pick(r))).unwrap_or_default();
        let mut reqs = Parsed::new();
        for c in &spec.containers {
            add_into(&mut reqs, &get(c));
        }
        let mut sidecars = Parsed::new();
        let mut init = Parsed::new();
        for c in spec.init_containers.iter().flatten() {
            let mut step = get(c);
            if restartable(c) {
                add_into(&mut reqs, &step);
                add_into(&mut sidecars, &step);
                step = sidecars.clone();
            } else {
                add_into(&mut step, &sidecars);
            }
            max_into(&mut init, &step);
        }
        max_into(&mut reqs, &init);
        reqs
    }

    fn supported(k: &str) -> bool {
        k == "cpu" || k == "memory" || k.starts_with("hugepages-")
    }

    fn all_have_limit(spec: &core::PodSpec, key: &str) -> bool {
        spec.containers
            .iter()
            .chain(spec.init_containers.iter().flatten())
            .all(|c| c.resources.as_ref().and_then(|r| r.limits.as_ref()).is_some_and(|l| l.contains_key(key)))
    }

    fn q(v: &Qty) -> Quantity {
        Quantity(v.to_string())
    }

    pub(super) fn default(spec: &mut core::PodSpec) {
        let Some(res) = spec.resources.clone() else { return };
        let aggr_limits = aggregate(spec, |r| &r.limits);
        let aggr_requests = aggregate(spec, |r| &r.requests);
        let mut res = res;

        // defaultHugePagePodLimits
        let has_limits = res.limits.as_ref().is_some_and(|l| !l.is_empty());
        let has_requests = res.requests.as_ref().is_some_and(|l| !l.is_empty());
        if has_limits || has_requests {
            let mut lims = res.limits.clone().unwrap_or_default();
            for (k, v) in &aggr_limits {
                if !supported(k) || !k.starts_with("hugepages-") {
                    continue;
                }
                if res.requests.as_ref().is_some_and(|r| r.contains_key(k)) {
                    continue;
                }
                lims.entry(k.clone()).or_insert_with(|| q(v));
            }
            if !lims.is_empty() {
                res.limits = Some(lims);
            }
        }

        // defaultPodRequests
        if res.limits.as_ref().is_some_and(|l| !l.is_empty()) {
            let mut reqs = res.requests.clone().unwrap_or_default();
            for (k, v) in &aggr_requests {
                if supported(k) && super::overcommit_allowed(k) {
                    reqs.entry(k.clone()).or_insert_with(|| q(v));
                }
            }
            for (k, v) in res.limits.iter().flatten() {
                if supported(k) {
                    reqs.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
            if !reqs.is_empty() {
                res.requests = Some(reqs);
            }
        }

        // defaultPodLimits
        let limits_set = res.limits.as_ref().is_some_and(|l| !l.is_empty());
        let requests_set = res.requests.as_ref().is_some_and(|l| !l.is_empty());
        if !limits_set && requests_set {
            let mut lims = ResourceList::new();
            for (k, v) in &aggr_limits {
                if supported(k) && super::overcommit_allowed(k) && all_have_limit(spec, k) {
                    lims.insert(k.clone(), q(v));
                }
            }
            if !lims.is_empty() {
                res.limits = Some(lims);
            }
        }
        spec.resources = Some(res);
    }
}

/// Whether requests may be below limits for a resource: native resources
/// except huge pages (`helper.IsOvercommitAllowed`).
pub(crate) fn overcommit_allowed(name: &str) -> bool {
    native_resource(name) && !name.starts_with("hugepages-")
}

/// A resource without a domain, or in the `kubernetes.io` domain.
pub(crate) fn native_resource(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

// ---------------------------------------------------------------------------
// core/v1: other kinds

fn default_replication_controller(rc: &mut core::ReplicationController) -> Result<(), String> {
    let spec = rc.spec.get_or_insert_with(Default::default);
    if let Some(t) = &mut spec.template {
        let labels = t.metadata.as_ref().and_then(|m| m.labels.clone());
        if let Some(labels) = labels {
            if spec.selector.as_ref().is_none_or(BTreeMap::is_empty) {
                spec.selector = Some(labels.clone());
            }
            if rc.metadata.labels.as_ref().is_none_or(BTreeMap::is_empty) {
                rc.metadata.labels = Some(labels);
            }
        }
        default_template(t)?;
    }
    spec.replicas.get_or_insert(1);
    rc.status.get_or_insert_with(Default::default);
    Ok(())
}

/// Whether a service is reachable from outside the cluster
/// (`service.ExternallyAccessible`).
fn externally_accessible(spec: &core::ServiceSpec) -> bool {
    match spec.type_.as_deref() {
        Some("LoadBalancer") | Some("NodePort") => true,
        Some("ClusterIP") => spec.external_ips.as_ref().is_some_and(|v| !v.is_empty()),
        _ => false,
    }
}

fn default_service(svc: &mut core::Service) -> Result<(), String> {
    let spec = svc.spec.get_or_insert_with(Default::default);
    set_if_empty(&mut spec.session_affinity, "None");
    match spec.session_affinity.as_deref() {
        Some("None") => spec.session_affinity_config = None,
        Some("ClientIP") => {
            let has_timeout =
                spec.session_affinity_config.as_ref().and_then(|c| c.client_ip.as_ref()).is_some_and(|c| c.timeout_seconds.is_some());
            if !has_timeout {
                spec.session_affinity_config =
                    Some(core::SessionAffinityConfig { client_ip: Some(core::ClientIPConfig { timeout_seconds: Some(10800) }) });
            }
        }
        _ => {}
    }
    set_if_empty(&mut spec.type_, "ClusterIP");
    for p in spec.ports.iter_mut().flatten() {
        set_if_empty(&mut p.protocol, "TCP");
        let unset = match &p.target_port {
            None => true,
            Some(IntOrString::Int(0)) => true,
            Some(IntOrString::String(s)) => s.is_empty(),
            Some(IntOrString::Int(_)) => false,
        };
        if unset {
            p.target_port = Some(IntOrString::Int(p.port));
        }
    }
    if externally_accessible(spec) {
        set_if_empty(&mut spec.external_traffic_policy, "Cluster");
    }
    let ty = spec.type_.clone().unwrap_or_default();
    if spec.internal_traffic_policy.is_none() && matches!(ty.as_str(), "NodePort" | "LoadBalancer" | "ClusterIP") {
        spec.internal_traffic_policy = Some("Cluster".into());
    }
    if ty == "LoadBalancer" {
        spec.allocate_load_balancer_node_ports.get_or_insert(true);
        if let Some(lb) = svc.status.as_mut().and_then(|s| s.load_balancer.as_mut()) {
            for ing in lb.ingress.iter_mut().flatten() {
                if !empty(&ing.ip) && ing.ip_mode.is_none() {
                    ing.ip_mode = Some("VIP".into());
                }
            }
        }
    }

    // The strategy keeps clusterIP and clusterIPs in step, and the allocator
    // fills in the IP families (a single-stack IPv4 cluster here).
    if ty != "ExternalName" {
        let ip = spec.cluster_ip.clone().unwrap_or_default();
        let ips_empty = spec.cluster_ips.as_ref().is_none_or(Vec::is_empty);
        if !ip.is_empty() && ips_empty {
            spec.cluster_ips = Some(vec![ip.clone()]);
        } else if ip.is_empty() && !ips_empty {
            spec.cluster_ip = spec.cluster_ips.as_ref().and_then(|v| v.first().cloned());
        }
        let headless = spec.cluster_ip.as_deref() == Some("None");
        let selectorless = spec.selector.as_ref().is_none_or(BTreeMap::is_empty);
        if spec.ip_family_policy.is_none() {
            let p = if headless && selectorless { "RequireDualStack" } else { "SingleStack" };
            spec.ip_family_policy = Some(p.into());
        }
        if spec.ip_families.as_ref().is_none_or(Vec::is_empty) {
            let family = match spec.cluster_ip.as_deref() {
                Some(ip) if ip.contains(':') => "IPv6",
                _ => "IPv4",
            };
            spec.ip_families = Some(vec![family.into()]);
        }
    }
    let status = svc.status.get_or_insert_with(Default::default);
    status.load_balancer.get_or_insert_with(Default::default);
    Ok(())
}

pub(crate) const LABEL_METADATA_NAME: &str = "kubernetes.io/metadata.name";

fn default_namespace(ns: &mut core::Namespace) -> Result<(), String> {
    if let Some(name) = ns.metadata.name.clone().filter(|n| !n.is_empty()) {
        ns.metadata.labels.get_or_insert_with(BTreeMap::new).insert(LABEL_METADATA_NAME.into(), name);
    }
    let status = ns.status.get_or_insert_with(Default::default);
    set_if_empty(&mut status.phase, "Active");
    // The strategy adds the `kubernetes` finalizer on create only (it may be
    // removed later through the finalize subresource). A create carries no
    // resourceVersion; a stored object always does.
    let creating = empty(&ns.metadata.resource_version) && ns.metadata.deletion_timestamp.is_none();
    if creating {
        let fins = ns.spec.get_or_insert_with(Default::default).finalizers.get_or_insert_with(Vec::new);
        if !fins.iter().any(|f| f == "kubernetes") {
            fins.push("kubernetes".into());
        }
    }
    Ok(())
}

fn default_node(node: &mut core::Node) -> Result<(), String> {
    if let Some(status) = &mut node.status {
        if status.allocatable.is_none() && status.capacity.is_some() {
            status.allocatable = status.capacity.clone();
        }
        canon_list(&mut status.capacity, true)?;
        canon_list(&mut status.allocatable, true)?;
    }
    Ok(())
}

fn default_secret(s: &mut core::Secret) -> Result<(), String> {
    set_if_empty(&mut s.type_, "Opaque");
    // Conversion: stringData overwrites data and is never stored.
    if let Some(sd) = s.string_data.take()
        && !sd.is_empty()
    {
        let data = s.data.get_or_insert_with(BTreeMap::new);
        for (k, v) in sd {
            data.insert(k, k8s_openapi::ByteString(v.into_bytes()));
        }
    }
    Ok(())
}

fn default_limit_range(lr: &mut core::LimitRange) -> Result<(), String> {
    let spec = lr.spec.get_or_insert_with(Default::default);
    for item in &mut spec.limits {
        if item.type_ == "Container" {
            let mut default = item.default.clone().unwrap_or_default();
            let mut default_request = item.default_request.clone().unwrap_or_default();
            for (k, v) in item.max.iter().flatten() {
                default.entry(k.clone()).or_insert_with(|| v.clone());
            }
            for (k, v) in &default {
                default_request.entry(k.clone()).or_insert_with(|| v.clone());
            }
            for (k, v) in item.min.iter().flatten() {
                default_request.entry(k.clone()).or_insert_with(|| v.clone());
            }
            item.default = Some(default);
            item.default_request = Some(default_request);
        }
        canon_list(&mut item.max, true)?;
        canon_list(&mut item.min, true)?;
        canon_list(&mut item.default, true)?;
        canon_list(&mut item.default_request, true)?;
        canon_list(&mut item.max_limit_request_ratio, true)?;
    }
    Ok(())
}

fn default_resource_quota(rq: &mut core::ResourceQuota) -> Result<(), String> {
    if let Some(spec) = &mut rq.spec {
        canon_list(&mut spec.hard, true)?;
    }
    let status = rq.status.get_or_insert_with(Default::default);
    canon_list(&mut status.hard, true)?;
    canon_list(&mut status.used, true)?;
    Ok(())
}

fn default_pvc(pvc: &mut core::PersistentVolumeClaim) -> Result<(), String> {
    default_pvc_spec(pvc.spec.get_or_insert_with(Default::default))?;
    let status = pvc.status.get_or_insert_with(Default::default);
    set_if_empty(&mut status.phase, "Pending");
    canon_list(&mut status.capacity, true)?;
    canon_list(&mut status.allocated_resources, true)?;
    Ok(())
}

/// A core v1 Event: no defaults, but Go's decoding and encoding (a missing
/// `involvedObject` is an empty one, which k8s-openapi's type cannot
/// decode; empty values as [`crate::convert::normalize_event`] writes them).
fn core_event(mut obj: Value, kind: &str, version: &str) -> Result<Value, String> {
    if let Value::Object(m) = &mut obj
        && m.get("involvedObject").is_none_or(Value::is_null)
    {
        m.insert("involvedObject".into(), Value::Object(Default::default()));
    }
    let mut out = run(obj, kind, version, |_: &mut core::Event| Ok(()))?;
    crate::convert::normalize_event(&mut out, false);
    Ok(out)
}

/// An events.k8s.io/v1 Event, likewise. Its `series.count` and
/// `series.lastObservedTime` are required by k8s-openapi's type but zero
/// values to Go's decoder (validation then reports them), so `series` is
/// decoded on its own with both optional.
fn events_event(mut obj: Value, kind: &str, version: &str) -> Result<Value, String> {
    /// Named as the Go struct whose field `series` is, for decoding errors.
    #[derive(serde::Deserialize)]
    struct Event {
        series: Option<core::EventSeries>,
    }
    let series = obj.as_object_mut().and_then(|m| m.remove("series")).filter(|s| !s.is_null());
    let mut out = run(obj, kind, version, |_: &mut k8s_openapi::api::events::v1::Event| Ok(()))?;
    if let Some(series) = series {
        let mut holder = serde_json::Map::new();
        holder.insert("series".into(), series);
        let decoded: Event = decode::decode(Value::Object(holder), version)
            .map_err(|e| format!("{kind} in version \"{version}\" cannot be handled as a {kind}: {e}"))?;
        if let (Some(s), Some(m)) = (decoded.series, out.as_object_mut()) {
            m.insert("series".into(), serde_json::to_value(s).map_err(|e| e.to_string())?);
        }
    }
    crate::convert::normalize_event(&mut out, true);
    Ok(out)
}

// ---------------------------------------------------------------------------
// apps/v1

fn int_or_percent(s: &str) -> IntOrString {
    IntOrString::String(s.into())
}

fn default_deployment(d: &mut apps::Deployment) -> Result<(), String> {
    let spec = d.spec.get_or_insert_with(Default::default);
    spec.replicas.get_or_insert(1);
    let strategy = spec.strategy.get_or_insert_with(Default::default);
    set_if_empty(&mut strategy.type_, "RollingUpdate");
    if strategy.type_.as_deref() == Some("RollingUpdate") {
        let ru = strategy.rolling_update.get_or_insert_with(Default::default);
        ru.max_unavailable.get_or_insert_with(|| int_or_percent("25%"));
        ru.max_surge.get_or_insert_with(|| int_or_percent("25%"));
    }
    spec.revision_history_limit.get_or_insert(10);
    spec.progress_deadline_seconds.get_or_insert(600);
    default_template(&mut spec.template)?;
    d.status.get_or_insert_with(Default::default);
    Ok(())
}

fn default_replica_set(rs: &mut apps::ReplicaSet) -> Result<(), String> {
    let spec = rs.spec.get_or_insert_with(Default::default);
    spec.replicas.get_or_insert(1);
    default_template(spec.template.get_or_insert_with(Default::default))?;
    rs.status.get_or_insert_with(Default::default);
    Ok(())
}

fn default_daemon_set(ds: &mut apps::DaemonSet) -> Result<(), String> {
    let spec = ds.spec.get_or_insert_with(Default::default);
    let us = spec.update_strategy.get_or_insert_with(Default::default);
    set_if_empty(&mut us.type_, "RollingUpdate");
    if us.type_.as_deref() == Some("RollingUpdate") {
        let ru = us.rolling_update.get_or_insert_with(Default::default);
        ru.max_unavailable.get_or_insert(IntOrString::Int(1));
        ru.max_surge.get_or_insert(IntOrString::Int(0));
    }
    spec.revision_history_limit.get_or_insert(10);
    default_template(&mut spec.template)?;
    ds.status.get_or_insert_with(Default::default);
    Ok(())
}

fn default_stateful_set(ss: &mut apps::StatefulSet) -> Result<(), String> {
    let spec = ss.spec.get_or_insert_with(Default::default);
    set_if_empty(&mut spec.pod_management_policy, "OrderedReady");
    let us = spec.update_strategy.get_or_insert_with(Default::default);
    if empty(&us.type_) {
        us.type_ = Some("RollingUpdate".into());
        us.rolling_update.get_or_insert_with(Default::default);
    }
    if us.type_.as_deref() == Some("RollingUpdate")
        && let Some(ru) = &mut us.rolling_update
    {
        ru.partition.get_or_insert(0);
    }
    let policy = spec.persistent_volume_claim_retention_policy.get_or_insert_with(Default::default);
    set_if_empty(&mut policy.when_deleted, "Retain");
    set_if_empty(&mut policy.when_scaled, "Retain");
    spec.replicas.get_or_insert(1);
    spec.revision_history_limit.get_or_insert(10);
    default_template(&mut spec.template)?;
    for pvc in spec.volume_claim_templates.iter_mut().flatten() {
        default_pvc(pvc)?;
    }
    ss.status.get_or_insert_with(Default::default);
    Ok(())
}

// ---------------------------------------------------------------------------
// batch/v1

pub(crate) const LEGACY_JOB_NAME_LABEL: &str = "job-name";
pub(crate) const JOB_NAME_LABEL: &str = "batch.kubernetes.io/job-name";
pub(crate) const LEGACY_CONTROLLER_UID_LABEL: &str = "controller-uid";
pub(crate) const CONTROLLER_UID_LABEL: &str = "batch.kubernetes.io/controller-uid";

fn default_job(job: &mut batch::Job) -> Result<(), String> {
    let spec = job.spec.get_or_insert_with(Default::default);
    if spec.completions.is_none() && spec.parallelism.is_none() {
        spec.completions = Some(1);
        spec.parallelism = Some(1);
    }
    spec.parallelism.get_or_insert(1);
    if spec.backoff_limit.is_none() {
        spec.backoff_limit = Some(if spec.backoff_limit_per_index.is_some() { i32::MAX } else { 6 });
    }
    set_if_empty(&mut spec.completion_mode, "NonIndexed");
    spec.suspend.get_or_insert(false);
    if let Some(pfp) = &mut spec.pod_failure_policy {
        for rule in &mut pfp.rules {
            for pattern in rule.on_pod_conditions.iter_mut().flatten() {
                set_if_empty(&mut pattern.status, "True");
            }
        }
    }
    if spec.pod_replacement_policy.is_none() {
        let p = if spec.pod_failure_policy.is_some() { "Failed" } else { "TerminatingOrFailed" };
        spec.pod_replacement_policy = Some(p.into());
    }
    spec.manual_selector.get_or_insert(false);
    default_template(&mut spec.template)?;

    default_job_labels(job);
    job.status.get_or_insert_with(Default::default);
    Ok(())
}

/// Job labels default to the template's.
fn default_job_labels(job: &mut batch::Job) {
    let template_labels = job.spec.as_ref().and_then(|s| s.template.metadata.as_ref()).and_then(|m| m.labels.clone());
    if let Some(labels) = template_labels
        && job.metadata.labels.as_ref().is_none_or(BTreeMap::is_empty)
    {
        job.metadata.labels = Some(labels);
    }
}

/// The Job strategy's selector generation on create, which needs the UID
/// (upstream runs it in the strategy's Validate): unless
/// `spec.manualSelector`, the template gets the job-name and controller-uid
/// labels (legacy and `batch.kubernetes.io/` ones) and the selector the
/// controller-uid one; values the user set are kept, so a conflict fails
/// validation. The Job's labels then default to the template's, as they do
/// when upstream reads the Job back from storage.
pub(crate) fn generate_job_selector(obj: Value) -> Result<Value, String> {
    run(obj, "Job", "v1", |job: &mut batch::Job| {
        let uid = job.metadata.uid.clone().unwrap_or_default();
        let name = job.metadata.name.clone().unwrap_or_default();
        let spec = job.spec.get_or_insert_with(Default::default);
        if spec.manual_selector != Some(true) && !uid.is_empty() {
            let labels = spec.template.metadata.get_or_insert_with(Default::default).labels.get_or_insert_with(BTreeMap::new);
            for key in [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL] {
                labels.entry(key.into()).or_insert_with(|| name.clone());
            }
            for key in [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL] {
                labels.entry(key.into()).or_insert_with(|| uid.clone());
            }
            let selector = spec.selector.get_or_insert_with(Default::default);
            selector.match_labels.get_or_insert_with(BTreeMap::new).entry(CONTROLLER_UID_LABEL.into()).or_insert(uid);
        }
        default_job_labels(job);
        Ok(())
    })
}

fn default_cron_job(cj: &mut batch::CronJob) -> Result<(), String> {
    let spec = &mut cj.spec;
    set_if_empty(&mut spec.concurrency_policy, "Allow");
    spec.suspend.get_or_insert(false);
    spec.successful_jobs_history_limit.get_or_insert(3);
    spec.failed_jobs_history_limit.get_or_insert(1);
    spec.job_template.metadata.get_or_insert_with(Default::default);
    let job_spec = spec.job_template.spec.get_or_insert_with(Default::default);
    default_template(&mut job_spec.template)?;
    cj.status.get_or_insert_with(Default::default);
    Ok(())
}

// ---------------------------------------------------------------------------
// autoscaling

fn default_hpa_v2(hpa: &mut asv2::HorizontalPodAutoscaler) -> Result<(), String> {
    let spec = &mut hpa.spec;
    spec.min_replicas.get_or_insert(1);
    if spec.metrics.as_ref().is_none_or(Vec::is_empty) {
        spec.metrics = Some(vec![asv2::MetricSpec {
            type_: "Resource".into(),
            resource: Some(asv2::ResourceMetricSource {
                name: "cpu".into(),
                target: asv2::MetricTarget { type_: "Utilization".into(), average_utilization: Some(80), ..Default::default() },
            }),
            ..Default::default()
        }]);
    }
    // Behavior is only filled in when the user gave one.
    if let Some(b) = &mut spec.behavior {
        b.scale_up = Some(scaling_rules(b.scale_up.take(), scale_up_defaults()));
        b.scale_down = Some(scaling_rules(b.scale_down.take(), scale_down_defaults()));
    }
    for m in spec.metrics.iter_mut().flatten() {
        hpa_metric_quantities(m)?;
    }
    if let Some(b) = &mut spec.behavior {
        for r in [&mut b.scale_up, &mut b.scale_down].into_iter().flatten() {
            canon_opt_quantity(&mut r.tolerance, false)?;
        }
    }
    hpa.status.get_or_insert_with(Default::default);
    Ok(())
}

fn hpa_metric_quantities(m: &mut asv2::MetricSpec) -> Result<(), String> {
    let targets = [
        m.object.as_mut().map(|s| &mut s.target),
        m.pods.as_mut().map(|s| &mut s.target),
        m.resource.as_mut().map(|s| &mut s.target),
        m.container_resource.as_mut().map(|s| &mut s.target),
        m.external.as_mut().map(|s| &mut s.target),
    ];
    for t in targets.into_iter().flatten() {
        canon_opt_quantity(&mut t.value, false)?;
        canon_opt_quantity(&mut t.average_value, false)?;
    }
    Ok(())
}

fn policy(type_: &str, value: i32, period: i32) -> asv2::HPAScalingPolicy {
    asv2::HPAScalingPolicy { type_: type_.into(), value, period_seconds: period }
}

fn scale_up_defaults() -> asv2::HPAScalingRules {
    asv2::HPAScalingRules {
        stabilization_window_seconds: Some(0),
        select_policy: Some("Max".into()),
        policies: Some(vec![policy("Pods", 4, 15), policy("Percent", 100, 15)]),
        tolerance: None,
    }
}

fn scale_down_defaults() -> asv2::HPAScalingRules {
    // The scale-down stabilization window is left to the controller's flag.
    asv2::HPAScalingRules {
        stabilization_window_seconds: None,
        select_policy: Some("Max".into()),
        policies: Some(vec![policy("Percent", 100, 15)]),
        tolerance: None,
    }
}

fn scaling_rules(from: Option<asv2::HPAScalingRules>, mut to: asv2::HPAScalingRules) -> asv2::HPAScalingRules {
    if let Some(from) = from {
        if from.select_policy.is_some() {
            to.select_policy = from.select_policy;
        }
        if from.stabilization_window_seconds.is_some() {
            to.stabilization_window_seconds = from.stabilization_window_seconds;
        }
        if from.policies.is_some() {
            to.policies = from.policies;
        }
        if from.tolerance.is_some() {
            to.tolerance = from.tolerance;
        }
    }
    to
}

fn default_hpa_v1(hpa: &mut asv1::HorizontalPodAutoscaler) -> Result<(), String> {
    let spec = &mut hpa.spec;
    spec.min_replicas.get_or_insert(1);
    hpa.status.get_or_insert_with(Default::default);
    Ok(())
}

// ---------------------------------------------------------------------------
// policy, scheduling

fn default_pdb(pdb: &mut policy::PodDisruptionBudget) -> Result<(), String> {
    pdb.spec.get_or_insert_with(Default::default);
    pdb.status.get_or_insert_with(Default::default);
    Ok(())
}

fn default_priority_class(pc: &mut scheduling::PriorityClass) -> Result<(), String> {
    set_if_empty(&mut pc.preemption_policy, "PreemptLowerPriority");
    Ok(())
}

// ---------------------------------------------------------------------------
// admission

/// The built-in priority classes the API server creates at start-up.
pub(crate) const SYSTEM_CLUSTER_CRITICAL: (&str, i32) = ("system-cluster-critical", 2_000_000_000);
pub(crate) const SYSTEM_NODE_CRITICAL: (&str, i32) = ("system-node-critical", 2_000_001_000);

/// Priority admission on pod create: resolve `spec.priorityClassName` via
/// `lookup` (name -> (value, preemptionPolicy)); no name -> the globalDefault
/// class if `global_default` returns one, else 0; the built-in
/// system-cluster-critical (2000000000) and system-node-critical (2000001000)
/// classes; unknown class -> `Err("no PriorityClass with name X was found")`
/// (403 Forbidden). Sets `spec.priority` and `spec.preemptionPolicy` as
/// upstream, and rejects a pod that asks for a different priority or policy
/// than its class gives.
/// A PriorityClass as priority admission sees it: value and preemptionPolicy.
pub type PriorityOf = Option<(i32, Option<String>)>;

pub fn admit_pod_priority(
    pod: &mut Value,
    lookup: &dyn Fn(&str) -> PriorityOf,
    global_default: &dyn Fn() -> Option<(String, i32, Option<String>)>,
) -> Result<(), String> {
    let Some(pod_obj) = pod.as_object_mut() else { return Ok(()) };
    let spec = pod_obj.entry("spec").or_insert_with(|| Value::Object(Default::default()));
    let Some(spec) = spec.as_object_mut() else { return Ok(()) };
    let class_name = spec.get("priorityClassName").and_then(Value::as_str).unwrap_or("").to_string();

    let (priority, preemption): (i32, Option<String>) = if class_name.is_empty() {
        match global_default() {
            Some((name, value, policy)) => {
                spec.insert("priorityClassName".into(), Value::String(name));
                (value, policy)
            }
            None => (0, Some("PreemptLowerPriority".into())),
        }
    } else {
        match lookup(&class_name) {
            Some(found) => found,
            None if class_name == SYSTEM_CLUSTER_CRITICAL.0 => (SYSTEM_CLUSTER_CRITICAL.1, Some("PreemptLowerPriority".into())),
            None if class_name == SYSTEM_NODE_CRITICAL.0 => (SYSTEM_NODE_CRITICAL.1, Some("PreemptLowerPriority".into())),
            None => return Err(format!("no PriorityClass with name {class_name} was found")),
        }
    };

    if let Some(given) = spec.get("priority").and_then(Value::as_i64)
        && given != i64::from(priority)
    {
        return Err(format!(
            "the integer value of priority ({given}) must not be provided in pod spec; priority admission controller computed {priority} from the given PriorityClass name"
        ));
    }
    spec.insert("priority".into(), Value::from(priority));
    if let Some(policy) = preemption {
        if let Some(given) = spec.get("preemptionPolicy").and_then(Value::as_str)
            && given != policy
        {
            return Err(format!(
                "the string value of PreemptionPolicy ({given}) must not be provided in pod spec; priority admission controller computed {policy} from the given PriorityClass name"
            ));
        }
        spec.insert("preemptionPolicy".into(), Value::String(policy));
    }
    Ok(())
}

pub(crate) const TAINT_NODE_NOT_READY: &str = "node.kubernetes.io/not-ready";
pub(crate) const TAINT_NODE_UNREACHABLE: &str = "node.kubernetes.io/unreachable";

/// DefaultTolerationSeconds on pod create: adds the not-ready/unreachable
/// NoExecute tolerations with tolerationSeconds 300 unless already tolerated.
pub fn admit_default_toleration_seconds(pod: &mut Value) {
    let Some(pod_obj) = pod.as_object_mut() else { return };
    let spec = pod_obj.entry("spec").or_insert_with(|| Value::Object(Default::default()));
    let Some(spec) = spec.as_object_mut() else { return };
    let tolerations = spec.entry("tolerations").or_insert_with(|| Value::Array(vec![]));
    if tolerations.is_null() {
        *tolerations = Value::Array(vec![]);
    }
    let Some(list) = tolerations.as_array_mut() else { return };

    let covers = |t: &Value, key: &str| {
        let k = t.get("key").and_then(Value::as_str).unwrap_or("");
        let e = t.get("effect").and_then(Value::as_str).unwrap_or("");
        (k == key || k.is_empty()) && (e == "NoExecute" || e.is_empty())
    };
    let not_ready = list.iter().any(|t| covers(t, TAINT_NODE_NOT_READY));
    let unreachable = list.iter().any(|t| covers(t, TAINT_NODE_UNREACHABLE));
    for (tolerated, key) in [(not_ready, TAINT_NODE_NOT_READY), (unreachable, TAINT_NODE_UNREACHABLE)] {
        if !tolerated {
            list.push(serde_json::json!({
                "key": key,
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            }));
        }
    }
}

// ---------------------------------------------------------------------------
// image references

/// Just enough of the container image reference grammar to find the tag the
/// way upstream's `parsers.ParseImageName` does.
mod image_ref {
    fn is_lower_alnum(c: u8) -> bool {
        c.is_ascii_lowercase() || c.is_ascii_digit()
    }

    /// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
    fn path_component(s: &str) -> bool {
        let b = s.as_bytes();
        if b.is_empty() || !is_lower_alnum(b[0]) || !is_lower_alnum(b[b.len() - 1]) {
            return false;
        }
        let mut i = 0;
        while i < b.len() {
            if is_lower_alnum(b[i]) {
                i += 1;
                continue;
            }
            // a separator run
            let start = i;
            while i < b.len() && !is_lower_alnum(b[i]) {
                i += 1;
            }
            let sep = &s[start..i];
            let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|c| c == b'-');
            if !ok {
                return false;
            }
        }
        true
    }

    fn domain(s: &str) -> bool {
        let (host, port) = match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        };
        if let Some(p) = port
            && (p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()))
        {
            return false;
        }
        if host.starts_with('[') {
            return host.ends_with(']');
        }
        !host.is_empty()
            && host.split('.').all(|l| {
                let b = l.as_bytes();
                !b.is_empty()
                    && b[0].is_ascii_alphanumeric()
                    && b[b.len() - 1].is_ascii_alphanumeric()
                    && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
            })
    }

    fn tag_ok(t: &str) -> bool {
        let b = t.as_bytes();
        !b.is_empty()
            && b.len() <= 128
            && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
            && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
    }

    fn digest_ok(d: &str) -> bool {
        let Some((algo, hex)) = d.split_once(':') else { return false };
        !algo.is_empty()
            && algo.as_bytes()[0].is_ascii_alphabetic()
            && algo.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'+' | b'.'))
            && hex.len() >= 32
            && hex.bytes().all(|c| c.is_ascii_hexdigit())
    }

    /// The tag of a reference: the given tag, `latest` when neither tag nor
    /// digest is given, `None` for a digest-only or unparsable reference.
    pub(super) fn tag(image: &str) -> Option<String> {
        let (name_tag, digest) = match image.split_once('@') {
            Some((n, d)) => (n, Some(d)),
            None => (image, None),
        };
        if let Some(d) = digest
            && !digest_ok(d)
        {
            return None;
        }
        let last_slash = name_tag.rfind('/');
        let (name, tag) = match name_tag.rfind(':') {
            Some(i) if last_slash.is_none_or(|s| i > s) => (&name_tag[..i], Some(&name_tag[i + 1..])),
            _ => (name_tag, None),
        };
        if let Some(t) = tag
            && !tag_ok(t)
        {
            return None;
        }
        if name.is_empty() || name.len() > 255 {
            return None;
        }
        let parts: Vec<&str> = name.split('/').collect();
        let first = parts[0];
        let has_domain = parts.len() > 1
            && (first.contains('.') || first.contains(':') || first == "localhost" || first.bytes().any(|c| c.is_ascii_uppercase()));
        let path = if has_domain {
            if !domain(first) {
                return None;
            }
            &parts[1..]
        } else {
            &parts[..]
        };
        if path.is_empty() || !path.iter().all(|p| path_component(p)) {
            return None;
        }
        match (tag, digest) {
            (Some(t), _) => Some(t.to_string()),
            (None, Some(_)) => None,
            (None, None) => Some("latest".to_string()),
        }
    }
}

// ---------------------------------------------------------------------------
// quantities

/// `resource.Quantity` parsing, comparison and canonical formatting, exact
/// over 128-bit integers.
pub(crate) use rudder_common::quantity;

// ---------------------------------------------------------------------------
// decoding with upstream's error wording

/// Decodes a JSON value into a typed struct, tracking where in the document
/// the decoder is, so a type mismatch can be reported as Go's encoding/json
/// reports it: `json: cannot unmarshal string into Go struct field
/// DeploymentSpec.spec.replicas of type int32`.
pub(crate) mod decode {
    use std::cell::RefCell;
    use std::fmt;

    use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
    use serde_json::Value;

    #[derive(Clone, Copy, PartialEq)]
    enum SegKind {
        Field,
        Index,
        Key,
    }

    #[derive(Clone)]
    struct Seg {
        kind: SegKind,
        name: String,
        ty: &'static str,
    }

    #[derive(Default)]
    struct Track {
        path: RefCell<Vec<Seg>>,
        structs: RefCell<Vec<&'static str>>,
        last_str: RefCell<Option<String>>,
        failure: RefCell<Option<(Vec<Seg>, Option<&'static str>)>>,
    }

    impl Track {
        fn snapshot(&self) {
            let mut f = self.failure.borrow_mut();
            if f.is_none() {
                *f = Some((self.path.borrow().clone(), self.structs.borrow().last().copied()));
            }
        }
    }

    /// Decodes `value`; on failure returns the message upstream would give.
    /// `version` is the object's API version, for Go type names.
    pub(crate) fn decode<T: de::DeserializeOwned>(value: Value, version: &str) -> Result<T, String> {
        let track = Track::default();
        match T::deserialize(TrackDe { de: value, t: &track }) {
            Ok(v) => Ok(v),
            Err(e) => Err(describe(&e.to_string(), &track, version)),
        }
    }

    fn describe(msg: &str, track: &Track, version: &str) -> String {
        // base64 payloads ([]byte fields) report as Go's decoder does.
        if let Some(rest) = msg.strip_prefix("Invalid symbol ").or_else(|| msg.strip_prefix("Invalid last symbol ")) {
            let offset = rest.split("offset ").nth(1).map(|o| o.trim_end_matches('.')).unwrap_or("0");
            return format!("illegal base64 data at input byte {offset}");
        }
        if msg.starts_with("Invalid input length") || msg.starts_with("Invalid padding") {
            return "illegal base64 data at input byte 0".to_string();
        }
        let Some((path, strukt)) = track.failure.borrow().clone() else {
            return msg.to_string();
        };
        let Some(last) = path.last() else { return msg.to_string() };
        let go_ty = go_type(last.ty, version);
        let Some(found) = found(msg) else { return msg.to_string() };
        // Types with their own unmarshalers report without the field.
        if go_ty == "resource.Quantity" {
            return super::quantity::FORMAT_ERR.to_string();
        }
        if go_ty == "intstr.IntOrString" {
            let word = found.split(' ').next().unwrap_or("");
            return format!("json: cannot unmarshal {word} into Go value of type int32");
        }
        let fields: Vec<&str> = path.iter().filter(|s| s.kind == SegKind::Field).map(|s| s.name.as_str()).collect();
        match strukt {
            Some(s) if !fields.is_empty() => {
                format!("json: cannot unmarshal {found} into Go struct field {s}.{} of type {go_ty}", fields.join("."))
            }
            _ => format!("json: cannot unmarshal {found} into Go value of type {go_ty}"),
        }
    }

    /// What was found, in Go's words, from serde's `invalid type`/`invalid
    /// value` messages: `string`, `number`, `number 1.5`, `bool`, `object`,
    /// `array`.
    fn found(msg: &str) -> Option<String> {
        let (rest, invalid_value) = if let Some(r) = msg.strip_prefix("invalid type: ") {
            (r, false)
        } else if let Some(r) = msg.strip_prefix("invalid value: ") {
            (r, true)
        } else {
            return None;
        };
        let (unexpected, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        let expected_int = {
            let b = expected.as_bytes();
            b.len() > 1 && (b[0] == b'i' || b[0] == b'u') && b[1..].iter().all(u8::is_ascii_digit)
        };
        let literal = unexpected.split('`').nth(1).unwrap_or("");
        let word = if unexpected.starts_with("string") {
            "string".to_string()
        } else if unexpected.starts_with("integer") {
            if invalid_value { format!("number {literal}") } else { "number".to_string() }
        } else if unexpected.starts_with("floating point") {
            if expected_int || invalid_value { format!("number {literal}") } else { "number".to_string() }
        } else if unexpected.starts_with("boolean") {
            "bool".to_string()
        } else if unexpected.starts_with("map") {
            "object".to_string()
        } else if unexpected.starts_with("sequence") {
            "array".to_string()
        } else if unexpected.starts_with("null") || unexpected.starts_with("unit") {
            "null".to_string()
        } else {
            return None;
        };
        Some(word)
    }

    /// The Go type name for a Rust type name (`core::option::Option<i32>` ->
    /// `int32`, `...::apps::v1::deployment_spec::DeploymentSpec` ->
    /// `v1.DeploymentSpec`).
    fn go_type(rust: &str, version: &str) -> String {
        let t = rust.trim();
        if let Some(inner) = generic(t, "core::option::Option<") {
            return go_type(inner, version);
        }
        if let Some(inner) = generic(t, "alloc::vec::Vec<") {
            return format!("[]{}", go_type(inner, version));
        }
        if let Some(inner) = generic(t, "alloc::collections::btree::map::BTreeMap<") {
            let (k, v) = split_top(inner);
            return format!("map[{}]{}", go_type(k, version), go_type(v, version));
        }
        match t {
            "alloc::string::String" | "&str" => return "string".into(),
            "i32" => return "int32".into(),
            "i64" => return "int64".into(),
            "u32" => return "uint32".into(),
            "u64" => return "uint64".into(),
            "f32" => return "float32".into(),
            "f64" => return "float64".into(),
            "bool" => return "bool".into(),
            _ => {}
        }
        let segs: Vec<&str> = t.split("::").collect();
        let name = segs.last().copied().unwrap_or(t);
        match name {
            "ByteString" => return "[]uint8".into(),
            "IntOrString" => return "intstr.IntOrString".into(),
            "Quantity" => return "resource.Quantity".into(),
            "RawExtension" => return "runtime.RawExtension".into(),
            "Value" => return "interface {}".into(),
            _ => {}
        }
        let pkg = segs
            .iter()
            .rev()
            .skip(1)
            .find(|s| s.len() >= 2 && s.starts_with('v') && s.as_bytes()[1].is_ascii_digit() && !s.contains('_'))
            .copied()
            .unwrap_or(version);
        format!("{pkg}.{name}")
    }

    fn generic<'a>(t: &'a str, prefix: &str) -> Option<&'a str> {
        t.strip_prefix(prefix).and_then(|r| r.strip_suffix('>'))
    }

    fn split_top(s: &str) -> (&str, &str) {
        let mut depth = 0;
        for (i, c) in s.char_indices() {
            match c {
                '<' => depth += 1,
                '>' => depth -= 1,
                ',' if depth == 0 => return (s[..i].trim(), s[i + 1..].trim()),
                _ => {}
            }
        }
        (s, "")
    }

    // --- the tracking wrappers

    struct TrackDe<'t, D> {
        de: D,
        t: &'t Track,
    }

    struct TrackVisitor<'t, V> {
        v: V,
        t: &'t Track,
        strukt: Option<&'static str>,
    }

    struct TrackSeed<'t, S> {
        s: S,
        t: &'t Track,
    }

    struct TrackMap<'t, A> {
        m: A,
        t: &'t Track,
        is_struct: bool,
        key: String,
    }

    struct TrackSeq<'t, A> {
        s: A,
        t: &'t Track,
        index: usize,
    }

    impl<'t, V> TrackVisitor<'t, V> {
        fn new(v: V, t: &'t Track) -> Self {
            TrackVisitor { v, t, strukt: None }
        }
    }

    macro_rules! forward {
        ($($method:ident),*) => {
            $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
                self.de.$method(TrackVisitor::new(visitor, self.t))
            })*
        };
    }

    impl<'de, 't, D: Deserializer<'de>> Deserializer<'de> for TrackDe<'t, D> {
        type Error = D::Error;

        forward!(
            deserialize_any,
            deserialize_bool,
            deserialize_i8,
            deserialize_i16,
            deserialize_i32,
            deserialize_i64,
            deserialize_i128,
            deserialize_u8,
            deserialize_u16,
            deserialize_u32,
            deserialize_u64,
            deserialize_u128,
            deserialize_f32,
            deserialize_f64,
            deserialize_char,
            deserialize_str,
            deserialize_string,
            deserialize_bytes,
            deserialize_byte_buf,
            deserialize_option,
            deserialize_unit,
            deserialize_seq,
            deserialize_map,
            deserialize_identifier,
            deserialize_ignored_any
        );

        fn deserialize_unit_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, Self::Error> {
            self.de.deserialize_unit_struct(name, TrackVisitor::new(visitor, self.t))
        }

        fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, Self::Error> {
            self.de.deserialize_newtype_struct(name, TrackVisitor::new(visitor, self.t))
        }

        fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Self::Error> {
            self.de.deserialize_tuple(len, TrackVisitor::new(visitor, self.t))
        }

        fn deserialize_tuple_struct<V: Visitor<'de>>(self, name: &'static str, len: usize, visitor: V) -> Result<V::Value, Self::Error> {
            self.de.deserialize_tuple_struct(name, len, TrackVisitor::new(visitor, self.t))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            name: &'static str,
            fields: &'static [&'static str],
            visitor: V,
        ) -> Result<V::Value, Self::Error> {
            self.de.deserialize_struct(name, fields, TrackVisitor { v: visitor, t: self.t, strukt: Some(name) })
        }

        fn deserialize_enum<V: Visitor<'de>>(
            self,
            name: &'static str,
            variants: &'static [&'static str],
            visitor: V,
        ) -> Result<V::Value, Self::Error> {
            self.de.deserialize_enum(name, variants, TrackVisitor::new(visitor, self.t))
        }

        fn is_human_readable(&self) -> bool {
            self.de.is_human_readable()
        }
    }

    macro_rules! visit_plain {
        ($($method:ident: $ty:ty),*) => {
            $(fn $method<E: de::Error>(self, v: $ty) -> Result<Self::Value, E> {
                self.v.$method(v)
            })*
        };
    }

    impl<'de, 't, V: Visitor<'de>> Visitor<'de> for TrackVisitor<'t, V> {
        type Value = V::Value;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.v.expecting(f)
        }

        visit_plain!(
            visit_bool: bool,
            visit_i8: i8,
            visit_i16: i16,
            visit_i32: i32,
            visit_i64: i64,
            visit_i128: i128,
            visit_u8: u8,
            visit_u16: u16,
            visit_u32: u32,
            visit_u64: u64,
            visit_u128: u128,
            visit_f32: f32,
            visit_f64: f64,
            visit_char: char,
            visit_bytes: &[u8],
            visit_byte_buf: Vec<u8>
        );

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            *self.t.last_str.borrow_mut() = Some(v.to_string());
            self.v.visit_str(v)
        }

        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            *self.t.last_str.borrow_mut() = Some(v.to_string());
            self.v.visit_borrowed_str(v)
        }

        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            *self.t.last_str.borrow_mut() = Some(v.clone());
            self.v.visit_string(v)
        }

        fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Self::Value, E> {
            self.v.visit_borrowed_bytes(v)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            self.v.visit_none()
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            self.v.visit_some(TrackDe { de: d, t: self.t })
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            self.v.visit_unit()
        }

        fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            self.v.visit_newtype_struct(TrackDe { de: d, t: self.t })
        }

        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            self.v.visit_seq(TrackSeq { s: seq, t: self.t, index: 0 })
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            if let Some(s) = self.strukt {
                self.t.structs.borrow_mut().push(s);
            }
            let r = self.v.visit_map(TrackMap { m: map, t: self.t, is_struct: self.strukt.is_some(), key: String::new() });
            if r.is_ok() && self.strukt.is_some() {
                self.t.structs.borrow_mut().pop();
            }
            r
        }

        fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
            self.v.visit_enum(data)
        }
    }

    impl<'de, 't, S: DeserializeSeed<'de>> DeserializeSeed<'de> for TrackSeed<'t, S> {
        type Value = S::Value;

        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            self.s.deserialize(TrackDe { de: d, t: self.t })
        }
    }

    impl<'de, 't, A: MapAccess<'de>> MapAccess<'de> for TrackMap<'t, A> {
        type Error = A::Error;

        fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Self::Error> {
            *self.t.last_str.borrow_mut() = None;
            let r = self.m.next_key_seed(TrackSeed { s: seed, t: self.t });
            self.key = self.t.last_str.borrow_mut().take().unwrap_or_default();
            r
        }

        fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Self::Error> {
            let kind = if self.is_struct { SegKind::Field } else { SegKind::Key };
            self.t.path.borrow_mut().push(Seg { kind, name: self.key.clone(), ty: std::any::type_name::<V::Value>() });
            let r = self.m.next_value_seed(TrackSeed { s: seed, t: self.t });
            match &r {
                Ok(_) => {
                    self.t.path.borrow_mut().pop();
                }
                Err(_) => self.t.snapshot(),
            }
            r
        }

        fn size_hint(&self) -> Option<usize> {
            self.m.size_hint()
        }
    }

    impl<'de, 't, A: SeqAccess<'de>> SeqAccess<'de> for TrackSeq<'t, A> {
        type Error = A::Error;

        fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Self::Error> {
            self.t.path.borrow_mut().push(Seg {
                kind: SegKind::Index,
                name: self.index.to_string(),
                ty: std::any::type_name::<T::Value>(),
            });
            self.index += 1;
            let r = self.s.next_element_seed(TrackSeed { s: seed, t: self.t });
            match &r {
                Ok(_) => {
                    self.t.path.borrow_mut().pop();
                }
                Err(_) => self.t.snapshot(),
            }
            r
        }

        fn size_hint(&self) -> Option<usize> {
            self.s.size_hint()
        }
    }
}
