//! The ResourceQuota admission rule of kube-apiserver v1.36
//! (`k8s.io/apiserver/pkg/admission/plugin/resourcequota`) and the usage
//! computation the quota controller of kube-controller-manager shares with
//! it (`pkg/quota/v1/evaluator/core`, `k8s.io/apiserver/pkg/quota/v1`), as
//! pure functions.
//!
//! - [`admit`] is upstream's `checkRequest` for one request against every
//!   quota of its namespace: which quotas match the object (resources named in
//!   `status.hard`, scopes and scope selectors), their constraints (`must
//!   specify requests.cpu for: ...`), whether their usage is known (`status
//!   unknown for quota`), the object's usage (for updates the increase over the
//!   old object only) and whether it fits (`exceeded quota`). It answers the
//!   quotas whose `status.used` must be written, or the refusal.
//! - [`resources_to_count`], [`calculate_used`] and [`status`] are the quota
//!   controller's recalculation (`CalculateUsage`, then `syncResourceQuota`).
//!
//! Usage is measured by evaluators as upstream registers them: pods (compute
//! resources, extended resources, hugepages, `pods`, `count/pods`), services
//! (`services`, `services.loadbalancers`, `services.nodeports`), persistent
//! volume claims (storage, per storage class), the legacy object counts
//! (`configmaps`, `secrets`, `replicationcontrollers`, `resourcequotas`) and
//! `count/<resource>.<group>` for everything else.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use k8s_openapi::api::core::v1::{ResourceQuota, ResourceQuotaStatus};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use rudder_common::quantity::{self, Format, Qty};
use serde_json::Value;

use crate::namespace_lifecycle::{Denial, Operation, forbidden};

/// The plugin's name in `--enable-admission-plugins`.
pub const PLUGIN_NAME: &str = "ResourceQuota";

/// Resource name to quantity, ordered by name (upstream sorts names in its
/// messages).
pub type ResourceList = BTreeMap<String, Qty>;

/// What the admission attributes say about a request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub operation: Operation,
    pub group: &'a str,
    pub version: &'a str,
    /// The resource (plural), without the subresource.
    pub resource: &'a str,
    pub subresource: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    /// The object of a create or update, JSON as in the AdmissionReview.
    pub object: Option<&'a Value>,
    /// The object before an update.
    pub old_object: Option<&'a Value>,
}

// ---------------------------------------------------------------------------
// Resource names.

const STORAGE_CLASS_SUFFIX: &str = ".storageclass.storage.k8s.io/";
const REQUESTS_PREFIX: &str = "requests.";
const HUGEPAGES_PREFIX: &str = "hugepages-";
const REQUESTS_HUGEPAGES_PREFIX: &str = "requests.hugepages-";
const DEVICE_CLASS_PREFIX: &str = "deviceclass.resource.kubernetes.io/";

const POD_RESOURCES: [&str; 11] = [
    "count/pods",
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
];

/// Resources whose quota obliges every container to state them (upstream's
/// backward-compatible "validation set").
const VALIDATION_SET: [&str; 6] = ["cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"];

const SERVICE_RESOURCES: [&str; 4] = ["count/services", "services", "services.loadbalancers", "services.nodeports"];

const PVC_RESOURCES: [&str; 2] = ["persistentvolumeclaims", "requests.storage"];

/// Resources quota never looks at: virtual ones and events.
const IGNORED: [(&str, &str); 10] = [
    ("", "bindings"),
    ("", "componentstatuses"),
    ("authentication.k8s.io", "tokenreviews"),
    ("authentication.k8s.io", "selfsubjectreviews"),
    ("authorization.k8s.io", "subjectaccessreviews"),
    ("authorization.k8s.io", "selfsubjectaccessreviews"),
    ("authorization.k8s.io", "localsubjectaccessreviews"),
    ("authorization.k8s.io", "selfsubjectrulesreviews"),
    ("", "events"),
    ("events.k8s.io", "events"),
];

/// The object counts that also answer to a legacy name.
const LEGACY_ALIASES: [(&str, &str); 4] = [
    ("configmaps", "configmaps"),
    ("resourcequotas", "resourcequotas"),
    ("replicationcontrollers", "replicationcontrollers"),
    ("secrets", "secrets"),
];

/// `count/<resource>` or `count/<resource>.<group>`.
fn object_count_name(group: &str, resource: &str) -> String {
    if group.is_empty() { format!("count/{resource}") } else { format!("count/{resource}.{group}") }
}

/// A native resource: unprefixed, or prefixed with `kubernetes.io/`.
fn is_native(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

/// Upstream's `IsExtendedResourceName` (the qualified-name check left out:
/// names in an object the API server accepted are valid).
fn is_extended(name: &str) -> bool {
    !is_native(name) && !name.starts_with(REQUESTS_PREFIX)
}

/// Extended resources, including the implicit ones of device classes.
fn is_dra_extended(name: &str) -> bool {
    is_extended(name) || name.starts_with(DEVICE_CLASS_PREFIX)
}

/// Extended resources are quota'd as `requests.<name>` only.
fn is_extended_for_quota(name: &str) -> bool {
    let implicit = name.starts_with(&format!("{REQUESTS_PREFIX}{DEVICE_CLASS_PREFIX}"));
    (!is_native(name) || implicit) && name.starts_with(REQUESTS_PREFIX)
}

fn is_pod_level_resource(name: &str) -> bool {
    name == "cpu" || name == "memory" || name.starts_with(HUGEPAGES_PREFIX)
}

// ---------------------------------------------------------------------------
// Quantities and resource lists.

fn qty(n: u128) -> Qty {
    Qty { neg: false, mant: n, scale: 0, format: Format::DecimalSI }
}

fn zero() -> Qty {
    qty(0)
}

fn neg(q: &Qty) -> Qty {
    Qty { neg: !q.neg && q.mant != 0, ..*q }
}

fn sum(a: &Qty, b: &Qty) -> Qty {
    a.add(b).unwrap_or(*a)
}

fn diff(a: &Qty, b: &Qty) -> Qty {
    sum(a, &neg(b))
}

fn add(a: &ResourceList, b: &ResourceList) -> ResourceList {
    let mut out = a.clone();
    for (k, v) in b {
        let n = match out.get(k) {
            Some(x) => sum(x, v),
            None => *v,
        };
        out.insert(k.clone(), n);
    }
    out
}

/// `a - b`, each result at least zero; names only in `b` become zero.
fn subtract_non_negative(a: &ResourceList, b: &ResourceList) -> ResourceList {
    let mut out = ResourceList::new();
    for (k, v) in a {
        let d = match b.get(k) {
            Some(x) => diff(v, x),
            None => *v,
        };
        out.insert(k.clone(), if d.sign() > 0 { d } else { zero() });
    }
    for k in b.keys() {
        out.entry(k.clone()).or_insert_with(zero);
    }
    out
}

fn mask<'a>(list: &ResourceList, names: impl IntoIterator<Item = &'a String>) -> ResourceList {
    let names: BTreeSet<&String> = names.into_iter().collect();
    list.iter().filter(|(k, _)| names.contains(k)).map(|(k, v)| (k.clone(), *v)).collect()
}

fn remove_zeros(list: &ResourceList) -> ResourceList {
    list.iter().filter(|(_, v)| !v.is_zero()).map(|(k, v)| (k.clone(), *v)).collect()
}

/// The names of `b` whose value in `a` exceeds it.
fn exceeding(a: &ResourceList, b: &ResourceList) -> Vec<String> {
    b.iter().filter(|(k, v)| a.get(*k).is_some_and(|x| x.cmp_value(v).is_gt())).map(|(k, _)| k.clone()).collect()
}

fn equal(a: &ResourceList, b: &ResourceList) -> bool {
    a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|x| x.cmp_value(v).is_eq()))
}

/// `name=value,...`, by name.
fn pretty(list: &ResourceList) -> String {
    list.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}

fn pretty_names<'a>(names: impl IntoIterator<Item = &'a String>) -> String {
    let set: BTreeSet<&String> = names.into_iter().collect();
    set.into_iter().map(String::as_str).collect::<Vec<_>>().join(",")
}

/// Raises each resource of `list` to its value in `other`.
fn max_into(list: &mut ResourceList, other: &ResourceList) {
    for (k, v) in other {
        match list.get(k) {
            Some(x) if v.cmp_value(x).is_le() => {}
            _ => {
                list.insert(k.clone(), *v);
            }
        }
    }
}

fn add_into(list: &mut ResourceList, other: &ResourceList) {
    *list = add(list, other);
}

fn typed_list(list: Option<&BTreeMap<String, Quantity>>) -> ResourceList {
    list.into_iter().flatten().filter_map(|(k, v)| quantity::of(v).map(|q| (k.clone(), q))).collect()
}

fn to_quantities(list: &ResourceList) -> BTreeMap<String, Quantity> {
    list.iter().map(|(k, v)| (k.clone(), Quantity(v.to_string()))).collect()
}

/// A ResourceList of an object (JSON); `None` when absent or null, an error
/// naming the field when a quantity does not parse.
fn json_list(v: Option<&Value>, field: &str) -> Result<Option<ResourceList>, String> {
    let Some(v) = v.filter(|v| !v.is_null()) else { return Ok(None) };
    let Some(map) = v.as_object() else { return Err(format!("{field}: expected a map of quantities")) };
    let mut out = ResourceList::new();
    for (k, q) in map {
        let text = match q {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return Err(format!("{field}.{k}: {}", quantity::FORMAT_ERR)),
        };
        let q = quantity::parse(text.trim()).map_err(|e| format!("{field}.{k}: {e}"))?;
        out.insert(k.clone(), q);
    }
    Ok(Some(out))
}

fn list_or_empty(v: Option<&Value>, field: &str) -> Result<ResourceList, String> {
    Ok(json_list(v, field)?.unwrap_or_default())
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn array_at<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
    v.pointer(pointer).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

// ---------------------------------------------------------------------------
// Scopes.

/// One scope requirement: a quota's `spec.scopes` entry (operator `Exists`)
/// or a `spec.scopeSelector.matchExpressions` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ScopeReq {
    scope: String,
    operator: String,
    values: Vec<String>,
}

fn scope_selectors(q: &ResourceQuota) -> Vec<ScopeReq> {
    let spec = q.spec.as_ref();
    let mut out: Vec<ScopeReq> = spec
        .and_then(|s| s.scopes.as_ref())
        .into_iter()
        .flatten()
        .map(|s| ScopeReq { scope: s.clone(), operator: "Exists".into(), values: Vec::new() })
        .collect();
    if let Some(sel) = spec.and_then(|s| s.scope_selector.as_ref()) {
        for e in sel.match_expressions.iter().flatten() {
            out.push(ScopeReq { scope: e.scope_name.clone(), operator: e.operator.clone(), values: e.values.clone().unwrap_or_default() });
        }
    }
    out
}

/// The label-selector reading of a scope requirement against the object's
/// values for that scope (none, one, or several for a PVC's classes).
fn selector_matches(req: &ScopeReq, values: &BTreeSet<String>) -> Result<bool, String> {
    match req.operator.as_str() {
        "In" | "NotIn" if req.values.is_empty() => Err(format!("for 'in', 'notin' operators, values set can't be empty: {}", req.scope)),
        "Exists" | "DoesNotExist" if !req.values.is_empty() => {
            Err(format!("values set must be empty for exists and does not exist: {}", req.scope))
        }
        "In" => Ok(values.iter().any(|v| req.values.contains(v))),
        // With several values, the object matches when one of its label sets does.
        "NotIn" => Ok(values.is_empty() || values.iter().any(|v| !req.values.contains(v))),
        "Exists" => Ok(!values.is_empty()),
        "DoesNotExist" => Ok(values.is_empty()),
        op => Err(format!("{op:?} is not a valid scope selector operator")),
    }
}

fn is_terminating(pod: &Value) -> bool {
    pod.pointer("/spec/activeDeadlineSeconds").and_then(Value::as_i64).is_some_and(|s| s >= 0)
}

fn positive_cpu_memory(list: &ResourceList) -> bool {
    list.iter().any(|(k, v)| (k == "cpu" || k == "memory") && v.sign() > 0)
}

/// The pod's QoS class is BestEffort: its status says so, or (when unset) no
/// container, nor the pod level when set, requests or limits CPU or memory.
fn is_best_effort(pod: &Value) -> bool {
    let class = str_at(pod, "/status/qosClass");
    if !class.is_empty() {
        return class == "BestEffort";
    }
    let get = |c: &Value, f: &str| list_or_empty(c.pointer(&format!("/resources/{f}")), f).unwrap_or_default();
    if pod_level_set(pod) {
        let spec = pod.get("spec").unwrap_or(&Value::Null);
        return !positive_cpu_memory(&get(spec, "requests")) && !positive_cpu_memory(&get(spec, "limits"));
    }
    let containers = array_at(pod, "/spec/containers").iter().chain(array_at(pod, "/spec/initContainers"));
    !containers.into_iter().any(|c| positive_cpu_memory(&get(c, "requests")) || positive_cpu_memory(&get(c, "limits")))
}

fn cross_namespace_term(term: &Value) -> bool {
    term.get("namespaces").and_then(Value::as_array).is_some_and(|n| !n.is_empty())
        || term.get("namespaceSelector").is_some_and(|s| !s.is_null())
}

fn uses_cross_namespace_affinity(pod: &Value) -> bool {
    ["podAffinity", "podAntiAffinity"].iter().any(|kind| {
        let base = format!("/spec/affinity/{kind}");
        array_at(pod, &format!("{base}/requiredDuringSchedulingIgnoredDuringExecution")).iter().any(cross_namespace_term)
            || array_at(pod, &format!("{base}/preferredDuringSchedulingIgnoredDuringExecution"))
                .iter()
                .any(|w| w.get("podAffinityTerm").is_some_and(cross_namespace_term))
    })
}

fn pod_matches_scope(req: &ScopeReq, pod: &Value) -> Result<bool, String> {
    Ok(match req.scope.as_str() {
        "Terminating" => is_terminating(pod),
        "NotTerminating" => !is_terminating(pod),
        "BestEffort" => is_best_effort(pod),
        "NotBestEffort" => !is_best_effort(pod),
        "PriorityClass" => {
            let class = str_at(pod, "/spec/priorityClassName");
            if req.operator == "Exists" {
                !class.is_empty()
            } else {
                let values = if class.is_empty() { BTreeSet::new() } else { BTreeSet::from([class.to_string()]) };
                selector_matches(req, &values)?
            }
        }
        "CrossNamespacePodAffinity" => uses_cross_namespace_affinity(pod),
        _ => false,
    })
}

fn volume_attributes_classes(pvc: &Value) -> BTreeSet<String> {
    [
        "/spec/volumeAttributesClassName",
        "/status/currentVolumeAttributesClassName",
        "/status/modifyVolumeStatus/targetVolumeAttributesClassName",
    ]
    .iter()
    .map(|p| str_at(pvc, p))
    .filter(|s| !s.is_empty())
    .map(String::from)
    .collect()
}

fn pvc_matches_scope(req: &ScopeReq, pvc: &Value) -> Result<bool, String> {
    if req.scope != "VolumeAttributesClass" {
        return Ok(false);
    }
    let classes = volume_attributes_classes(pvc);
    if req.operator == "Exists" {
        return Ok(!classes.is_empty());
    }
    if classes.is_empty() {
        return selector_matches(req, &classes);
    }
    for c in classes {
        if selector_matches(req, &BTreeSet::from([c]))? {
            return Ok(true);
        }
    }
    Ok(false)
}

// ---------------------------------------------------------------------------
// Pod usage.

fn container_status<'a>(pod: &'a Value, name: &str) -> Option<&'a Value> {
    array_at(pod, "/status/containerStatuses")
        .iter()
        .chain(array_at(pod, "/status/initContainerStatuses"))
        .find(|s| s.get("name").and_then(Value::as_str) == Some(name))
}

fn resize_infeasible(pod: &Value) -> bool {
    array_at(pod, "/status/conditions")
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some("PodResizePending"))
        .is_some_and(|c| c.get("reason").and_then(Value::as_str) == Some("Infeasible"))
}

/// Which list of a container to aggregate: what its spec asks, what the
/// kubelet allocated, what is actuated.
#[derive(Clone, Copy)]
enum Pick {
    SpecRequests,
    AllocatedRequests,
    ActuatedRequests,
    SpecLimits,
    ActuatedLimits,
}

fn pick(c: &Value, cs: Option<&Value>, infeasible: bool, which: Pick) -> Result<ResourceList, String> {
    let spec_requests = || list_or_empty(c.pointer("/resources/requests"), "resources.requests");
    let spec_limits = || list_or_empty(c.pointer("/resources/limits"), "resources.limits");
    let allocated = || json_list(cs.and_then(|s| s.get("allocatedResources")), "allocatedResources");
    let actuated = |f: &str| json_list(cs.and_then(|s| s.pointer(&format!("/resources/{f}"))), f);
    let fallback = |spec: ResourceList| if infeasible { ResourceList::new() } else { spec };
    match which {
        Pick::SpecRequests => spec_requests(),
        Pick::SpecLimits => spec_limits(),
        Pick::AllocatedRequests => match allocated()? {
            Some(a) => Ok(a),
            None => Ok(fallback(spec_requests()?)),
        },
        Pick::ActuatedRequests => match (actuated("requests")?, allocated()?) {
            (Some(a), _) | (None, Some(a)) => Ok(a),
            (None, None) => Ok(fallback(spec_requests()?)),
        },
        Pick::ActuatedLimits => match actuated("limits")? {
            Some(a) => Ok(a),
            None => Ok(fallback(spec_limits()?)),
        },
    }
}

/// Containers add up; init containers run one at a time, each alongside the
/// sidecars (restartable init containers) started before it, and the pod
/// needs the larger of the two.
fn aggregate(pod: &Value, infeasible: bool, which: Pick) -> Result<ResourceList, String> {
    let mut result = ResourceList::new();
    for c in array_at(pod, "/spec/containers") {
        let cs = container_status(pod, str_at(c, "/name"));
        add_into(&mut result, &pick(c, cs, infeasible, which)?);
    }
    let mut sidecars = ResourceList::new();
    let mut init = ResourceList::new();
    for c in array_at(pod, "/spec/initContainers") {
        let cs = container_status(pod, str_at(c, "/name"));
        let own = pick(c, cs, infeasible, which)?;
        let during = if str_at(c, "/restartPolicy") == "Always" {
            add_into(&mut result, &own);
            add_into(&mut sidecars, &own);
            sidecars.clone()
        } else {
            add(&own, &sidecars)
        };
        max_into(&mut init, &during);
    }
    max_into(&mut result, &init);
    Ok(result)
}

fn pod_level_named(pod: &Value, field: &str) -> bool {
    pod.pointer(&format!("/spec/resources/{field}")).and_then(Value::as_object).is_some_and(|m| m.keys().any(|k| is_pod_level_resource(k)))
}

fn pod_level_set(pod: &Value) -> bool {
    pod_level_named(pod, "requests") || pod_level_named(pod, "limits")
}

fn apply_pod_level(list: &mut ResourceList, pod: &Value, field: &str) -> Result<(), String> {
    let pod_level = list_or_empty(pod.pointer(&format!("/spec/resources/{field}")), field)?;
    for (k, v) in pod_level {
        if is_pod_level_resource(&k) {
            list.insert(k, v);
        }
    }
    Ok(())
}

/// The pod's requests: the larger of what its containers ask, were allocated
/// and run with (in-place resize), pod-level requests for the resources they
/// set, plus the pod overhead.
fn pod_requests(pod: &Value) -> Result<ResourceList, String> {
    let infeasible = resize_infeasible(pod);
    let spec = aggregate(pod, infeasible, Pick::SpecRequests)?;
    let allocated = aggregate(pod, infeasible, Pick::AllocatedRequests)?;
    let actuated = aggregate(pod, infeasible, Pick::ActuatedRequests)?;
    let mut reqs = if infeasible { actuated.clone() } else { spec };
    if !infeasible {
        max_into(&mut reqs, &actuated);
    }
    max_into(&mut reqs, &allocated);
    if pod_level_named(pod, "requests") {
        apply_pod_level(&mut reqs, pod, "requests")?;
    }
    add_into(&mut reqs, &list_or_empty(pod.pointer("/spec/overhead"), "overhead")?);
    Ok(reqs)
}

/// The pod's limits; the overhead is added to the limits that are set.
fn pod_limits(pod: &Value) -> Result<ResourceList, String> {
    let infeasible = resize_infeasible(pod);
    let actuated = aggregate(pod, infeasible, Pick::ActuatedLimits)?;
    let mut limits = if infeasible { actuated.clone() } else { aggregate(pod, infeasible, Pick::SpecLimits)? };
    if !infeasible {
        max_into(&mut limits, &actuated);
    }
    if pod_level_set(pod) {
        apply_pod_level(&mut limits, pod, "limits")?;
    }
    for (k, v) in list_or_empty(pod.pointer("/spec/overhead"), "overhead")? {
        if let Some(l) = limits.get(&k).filter(|l| !l.is_zero()) {
            let n = sum(l, &v);
            limits.insert(k, n);
        }
    }
    Ok(limits)
}

/// The quota names charged for the given requests and limits.
fn compute_usage(requests: &ResourceList, limits: &ResourceList) -> ResourceList {
    let mut out = ResourceList::new();
    out.insert("pods".into(), qty(1));
    for r in ["cpu", "memory", "ephemeral-storage"] {
        if let Some(q) = requests.get(r) {
            out.insert(r.into(), *q);
            out.insert(format!("requests.{r}"), *q);
        }
        if let Some(q) = limits.get(r) {
            out.insert(format!("limits.{r}"), *q);
        }
    }
    for (k, q) in requests {
        if k.starts_with(HUGEPAGES_PREFIX) {
            out.insert(k.clone(), *q);
            out.insert(format!("{REQUESTS_PREFIX}{k}"), *q);
        }
        if is_dra_extended(k) {
            out.insert(format!("{REQUESTS_PREFIX}{k}"), *q);
        }
    }
    out
}

/// Whether the pod still counts: not in a terminal phase, and not past its
/// deletion grace period.
fn pod_counts(pod: &Value, now: jiff::Timestamp) -> bool {
    if matches!(str_at(pod, "/status/phase"), "Failed" | "Succeeded") {
        return false;
    }
    let deleted = pod.pointer("/metadata/deletionTimestamp").and_then(Value::as_str).and_then(|t| jiff::Timestamp::from_str(t).ok());
    let grace = pod.pointer("/metadata/deletionGracePeriodSeconds").and_then(Value::as_i64);
    if let (Some(deleted), Some(grace)) = (deleted, grace)
        && let Ok(end) = deleted.checked_add(jiff::SignedDuration::from_secs(grace))
        && now > end
    {
        return false;
    }
    true
}

fn pod_usage(pod: &Value, now: jiff::Timestamp) -> Result<ResourceList, String> {
    let mut out = ResourceList::from([("count/pods".to_string(), qty(1))]);
    if !pod_counts(pod, now) {
        return Ok(out);
    }
    add_into(&mut out, &compute_usage(&pod_requests(pod)?, &pod_limits(pod)?));
    Ok(out)
}

/// Every container (and init container) must state the CPU and memory
/// requests or limits a matching quota limits, unless the pod sets pod-level
/// resources.
fn pod_constraints(required: &[String], pod: &Value) -> Result<(), String> {
    if pod_level_set(pod) {
        return Ok(());
    }
    let required: BTreeSet<&str> = required.iter().map(String::as_str).filter(|r| VALIDATION_SET.contains(r)).collect();
    let mut missing: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for c in array_at(pod, "/spec/containers").iter().chain(array_at(pod, "/spec/initContainers")) {
        let requests = list_or_empty(c.pointer("/resources/requests"), "resources.requests")?;
        let limits = list_or_empty(c.pointer("/resources/limits"), "resources.limits")?;
        let has = compute_usage(&requests, &limits);
        for r in &required {
            if !has.contains_key(*r) {
                missing.entry(r).or_default().insert(str_at(c, "/name"));
            }
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let parts: Vec<String> =
        missing.iter().map(|(r, names)| format!("{r} for: {}", names.iter().copied().collect::<Vec<_>>().join(","))).collect();
    Err(format!("must specify {}", parts.join("; ")))
}

// ---------------------------------------------------------------------------
// Services and persistent volume claims.

fn service_usage(svc: &Value) -> ResourceList {
    let ports = array_at(svc, "/spec/ports");
    let mut out = ResourceList::new();
    out.insert("count/services".into(), qty(1));
    out.insert("services".into(), qty(1));
    out.insert("services.loadbalancers".into(), zero());
    out.insert("services.nodeports".into(), zero());
    match str_at(svc, "/spec/type") {
        "NodePort" => {
            out.insert("services.nodeports".into(), qty(ports.len() as u128));
        }
        "LoadBalancer" => {
            let node_ports = if svc.pointer("/spec/allocateLoadBalancerNodePorts").and_then(Value::as_bool) == Some(false) {
                ports.iter().filter(|p| p.get("nodePort").and_then(Value::as_i64).is_some_and(|n| n != 0)).count()
            } else {
                ports.len()
            };
            out.insert("services.nodeports".into(), qty(node_ports as u128));
            out.insert("services.loadbalancers".into(), qty(1));
        }
        _ => {}
    }
    out
}

/// The claim's class: the beta annotation, else `spec.storageClassName`.
fn pvc_class(pvc: &Value) -> &str {
    match pvc.pointer("/metadata/annotations/volume.beta.kubernetes.io~1storage-class").and_then(Value::as_str) {
        Some(c) => c,
        None => str_at(pvc, "/spec/storageClassName"),
    }
}

fn pvc_usage(pvc: &Value) -> Result<ResourceList, String> {
    let mut out = ResourceList::new();
    out.insert("persistentvolumeclaims".into(), qty(1));
    out.insert("count/persistentvolumeclaims".into(), qty(1));
    let class = pvc_class(pvc);
    if !class.is_empty() {
        out.insert(format!("{class}{STORAGE_CLASS_SUFFIX}persistentvolumeclaims"), qty(1));
    }
    // Whole bytes, the larger of the request and what was allocated.
    let requested = list_or_empty(pvc.pointer("/spec/resources/requests"), "spec.resources.requests")?;
    let allocated = list_or_empty(pvc.pointer("/status/allocatedResources"), "status.allocatedResources")?;
    let mut storage = requested.get("storage").map(|q| q.round_up(0));
    if let (Some(s), Some(a)) = (storage, allocated.get("storage"))
        && a.cmp_value(&s).is_gt()
    {
        storage = Some(a.round_up(0));
    }
    if let Some(s) = storage {
        out.insert("requests.storage".into(), s);
        if !class.is_empty() {
            out.insert(format!("{class}{STORAGE_CLASS_SUFFIX}requests.storage"), s);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Evaluators.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Pods,
    Services,
    Claims,
    /// Counts objects under these names.
    Count(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Evaluator {
    group: String,
    resource: String,
    kind: Kind,
}

impl Evaluator {
    /// The evaluator upstream's registry gives a group and resource.
    fn of(group: &str, resource: &str) -> Evaluator {
        let kind = match (group, resource) {
            ("", "pods") => Kind::Pods,
            ("", "services") => Kind::Services,
            ("", "persistentvolumeclaims") => Kind::Claims,
            _ => {
                let mut names = vec![object_count_name(group, resource)];
                if group.is_empty()
                    && let Some((_, alias)) = LEGACY_ALIASES.iter().find(|(r, _)| *r == resource)
                {
                    names.push(alias.to_string());
                }
                Kind::Count(names)
            }
        };
        Evaluator { group: group.into(), resource: resource.into(), kind }
    }

    /// The evaluators the quota controller knows for a quota's resources:
    /// the static ones, plus an object count for each `count/` name.
    fn for_names(names: &[String]) -> Vec<Evaluator> {
        let mut out: Vec<Evaluator> = [("", "pods"), ("", "services"), ("", "persistentvolumeclaims")]
            .iter()
            .chain(LEGACY_ALIASES.iter().map(|(r, _)| ("", *r)).collect::<Vec<_>>().iter())
            .map(|(g, r)| Evaluator::of(g, r))
            .collect();
        for n in names {
            let Some(rest) = n.strip_prefix("count/") else { continue };
            let (resource, group) = rest.split_once('.').unwrap_or((rest, ""));
            if resource.is_empty() || IGNORED.contains(&(group, resource)) {
                continue;
            }
            let e = Evaluator::of(group, resource);
            if !out.contains(&e) {
                out.push(e);
            }
        }
        out
    }

    fn matching_resources(&self, input: &[String]) -> Vec<String> {
        let within = |set: &[&str]| -> Vec<String> {
            let mut v: Vec<String> = input.iter().filter(|n| set.contains(&n.as_str())).cloned().collect();
            v.sort();
            v.dedup();
            v
        };
        match &self.kind {
            Kind::Pods => {
                let mut out = within(&POD_RESOURCES);
                for n in input {
                    if n.starts_with(HUGEPAGES_PREFIX) || n.starts_with(REQUESTS_HUGEPAGES_PREFIX) {
                        out.push(n.clone());
                    }
                    if is_extended_for_quota(n) {
                        out.push(n.clone());
                    }
                }
                out
            }
            Kind::Services => within(&SERVICE_RESOURCES),
            Kind::Claims => input
                .iter()
                .filter(|n| {
                    n.as_str() == "count/persistentvolumeclaims"
                        || PVC_RESOURCES.contains(&n.as_str())
                        || PVC_RESOURCES.iter().any(|r| n.ends_with(&format!("{STORAGE_CLASS_SUFFIX}{r}")))
                })
                .cloned()
                .collect(),
            Kind::Count(names) => within(&names.iter().map(String::as_str).collect::<Vec<_>>()),
        }
    }

    fn matches_scope(&self, req: &ScopeReq, obj: &Value) -> Result<bool, String> {
        match self.kind {
            Kind::Pods => pod_matches_scope(req, obj),
            Kind::Claims => pvc_matches_scope(req, obj),
            Kind::Services | Kind::Count(_) => Ok(false),
        }
    }

    /// The scope requirements the object satisfies (only pods and claims
    /// answer to scopes).
    fn matching_scopes(&self, obj: &Value, reqs: &[ScopeReq]) -> Result<Vec<ScopeReq>, String> {
        let mut out = Vec::new();
        for r in reqs {
            let m = self.matches_scope(r, obj).map_err(|e| format!("error on matching scope {}: {e}", go_scope(r)))?;
            if m {
                out.push(r.clone());
            }
        }
        Ok(out)
    }

    /// The quota limits a resource of this evaluator and its scopes all
    /// match the object.
    fn matches(&self, q: &ResourceQuota, obj: &Value) -> Result<bool, String> {
        let hard = status_hard_names(q);
        let resource = !self.matching_resources(&hard).is_empty();
        let mut scopes = true;
        for r in scope_selectors(q) {
            scopes = scopes && self.matches_scope(&r, obj)?;
        }
        Ok(resource && scopes)
    }

    fn usage(&self, obj: &Value, now: jiff::Timestamp) -> Result<ResourceList, String> {
        match &self.kind {
            Kind::Pods => pod_usage(obj, now),
            Kind::Services => Ok(service_usage(obj)),
            Kind::Claims => pvc_usage(obj),
            Kind::Count(names) => Ok(names.iter().map(|n| (n.clone(), qty(1))).collect()),
        }
    }

    fn constraints(&self, required: &[String], obj: &Value) -> Result<(), String> {
        match self.kind {
            Kind::Pods => pod_constraints(required, obj),
            _ => Ok(()),
        }
    }

    /// Whether the request can change this evaluator's usage.
    fn handles(&self, req: &Request<'_>) -> bool {
        let op = req.operation;
        match (&self.kind, req.subresource) {
            (Kind::Pods, "") => {
                if op == Operation::Update
                    && let (Some(new), Some(old)) = (req.object, req.old_object)
                    && new.is_object()
                    && old.is_object()
                    && is_terminating(new) != is_terminating(old)
                {
                    return true;
                }
                op == Operation::Create
            }
            (Kind::Pods, "resize") => op == Operation::Update,
            (Kind::Claims, "") | (Kind::Services, "") => matches!(op, Operation::Create | Operation::Update),
            // Upstream compares two freshly allocated pointers here, so any
            // status update of a claim is measured.
            (Kind::Claims, "status") => op == Operation::Update && req.object.is_some() && req.old_object.is_some(),
            (Kind::Count(_), "") => op == Operation::Create,
            _ => false,
        }
    }
}

/// A scope requirement as Go's `%v` prints the struct.
fn go_scope(r: &ScopeReq) -> String {
    format!("{{{} {} [{}]}}", r.scope, r.operator, r.values.join(" "))
}

fn status_hard_names(q: &ResourceQuota) -> Vec<String> {
    q.status.as_ref().and_then(|s| s.hard.as_ref()).map(|h| h.keys().cloned().collect()).unwrap_or_default()
}

fn quota_name(q: &ResourceQuota) -> &str {
    q.metadata.name.as_deref().unwrap_or("")
}

/// Every resource of the quota's hard limits that is tracked has a usage.
fn has_usage_stats(q: &ResourceQuota, interesting: &[String]) -> bool {
    let status = q.status.as_ref();
    let used = status.and_then(|s| s.used.as_ref());
    status_hard_names(q).iter().filter(|n| interesting.contains(n)).all(|n| used.is_some_and(|u| u.contains_key(n)))
}

// ---------------------------------------------------------------------------
// Admission.

/// The name `admission.NewForbidden` gives: the object's name, else its
/// generateName, else `Unknown`.
fn forbidden_name(req: &Request<'_>) -> String {
    let field = |f: &str| req.object.map(|o| str_at(o, &format!("/metadata/{f}"))).filter(|s| !s.is_empty()).map(String::from);
    field("name").or_else(|| field("generateName")).unwrap_or_else(|| "Unknown".into())
}

fn deny(req: &Request<'_>, why: &str) -> Denial {
    forbidden(req.group, req.resource, &forbidden_name(req), why)
}

/// A plain error of the plugin, which the API server answers as a 500.
fn plain_error(message: String) -> Denial {
    Denial { code: 500, reason: "", message, group: String::new(), kind: String::new(), name: String::new(), causes: Vec::new() }
}

/// An object that cannot be read (the API server decodes objects before
/// admission, so this is a Rudder-only answer).
fn bad_object(req: &Request<'_>, why: &str) -> Denial {
    let what = if req.group.is_empty() { req.resource.to_string() } else { format!("{}.{}", req.resource, req.group) };
    Denial {
        code: 400,
        reason: "BadRequest",
        message: format!("unable to read the {what} object: {why}"),
        group: String::new(),
        kind: String::new(),
        name: String::new(),
        causes: Vec::new(),
    }
}

fn is_ignored(req: &Request<'_>) -> bool {
    IGNORED.contains(&(req.group, req.resource))
}

/// Upstream's checkRequest over all quotas of the request's namespace:
/// `Ok(updated)` lists the quotas whose `status.used` must change (clones
/// with the new `status.used`), in input order, and is empty when nothing
/// is charged; `Err` is upstream's refusal.
// The server's interface returns the Denial by value, as namespace_lifecycle's.
#[allow(clippy::result_large_err)]
pub fn admit(req: &Request<'_>, quotas: &[ResourceQuota], now: jiff::Timestamp) -> Result<Vec<ResourceQuota>, Denial> {
    // Cluster-scoped objects, namespaces and ignored resources.
    if req.namespace.is_empty() || (req.group.is_empty() && req.resource == "namespaces") || is_ignored(req) {
        return Ok(Vec::new());
    }
    let evaluator = Evaluator::of(req.group, req.resource);
    if !evaluator.handles(req) || quotas.is_empty() {
        return Ok(Vec::new());
    }
    let obj = match req.object {
        Some(o) if o.is_object() => o,
        Some(_) => return Err(bad_object(req, "not a JSON object")),
        None => return Err(bad_object(req, "the request has no object")),
    };

    // Quantities that do not parse are the object's fault, not a constraint.
    if evaluator.kind == Kind::Pods {
        pod_requests(obj).and_then(|_| pod_limits(obj)).map_err(|e| bad_object(req, &e))?;
    }

    // The quotas that concern the object.
    let mut interesting: Vec<usize> = Vec::new();
    for (i, q) in quotas.iter().enumerate() {
        let selectors = scope_selectors(q);
        evaluator
            .matching_scopes(obj, &selectors)
            .map_err(|e| plain_error(format!("error matching scopes of quota {}, err: {e}", quota_name(q))))?;
        if !evaluator.matches(q, obj).map_err(plain_error)? {
            continue;
        }
        let restricted = evaluator.matching_resources(&status_hard_names(q));
        if let Err(e) = evaluator.constraints(&restricted, obj) {
            return Err(deny(req, &format!("failed quota: {}: {e}", quota_name(q))));
        }
        if !has_usage_stats(q, &restricted) {
            return Err(deny(req, &format!("status unknown for quota: {}, resources: {}", quota_name(q), pretty_names(&restricted))));
        }
        interesting.push(i);
    }

    let input = evaluator.usage(obj, now).map_err(|e| bad_object(req, &e))?;
    let negative: Vec<String> = input.iter().filter(|(_, v)| v.sign() < 0).map(|(k, _)| k.clone()).collect();
    if !negative.is_empty() {
        return Err(deny(req, &format!("quota usage is negative for resource(s): {}", pretty_names(&negative))));
    }

    let mut deltas: BTreeMap<usize, ResourceList> = interesting.iter().map(|i| (*i, input.clone())).collect();
    if req.operation == Operation::Update {
        let Some(old) = req.old_object else {
            return Err(deny(req, "unable to get previous usage since prior version of object was not found"));
        };
        // Only an old object that was stored (has a resourceVersion) is
        // subtracted; otherwise this is a create-on-update, charged in full.
        if old.is_object() && !str_at(old, "/metadata/resourceVersion").is_empty() {
            let previous = evaluator.usage(old, now).map_err(|e| bad_object(req, &e))?;
            let delta = subtract_non_negative(&input, &previous);
            for i in &interesting {
                if evaluator.matches(&quotas[*i], old).map_err(plain_error)? {
                    deltas.insert(*i, delta.clone());
                }
            }
        }
    }
    let deltas: BTreeMap<usize, ResourceList> =
        deltas.into_iter().map(|(i, d)| (i, remove_zeros(&d))).filter(|(_, d)| !d.is_empty()).collect();

    let mut updated = Vec::new();
    for i in interesting {
        let Some(delta) = deltas.get(&i) else { continue };
        let q = &quotas[i];
        let status = q.status.clone().unwrap_or_default();
        let hard = typed_list(status.hard.as_ref());
        let used = typed_list(status.used.as_ref());
        let requested = mask(delta, hard.keys());
        let new_used = add(&used, &requested);
        if req.subresource != "status" {
            let exceeded = exceeding(&mask(&new_used, requested.keys()), &hard);
            if !exceeded.is_empty() {
                return Err(deny(
                    req,
                    &format!(
                        "exceeded quota: {}, requested: {}, used: {}, limited: {}",
                        quota_name(q),
                        pretty(&mask(&requested, &exceeded)),
                        pretty(&mask(&used, &exceeded)),
                        pretty(&mask(&hard, &exceeded))
                    ),
                ));
            }
        }
        if equal(&used, &new_used) {
            continue;
        }
        // Quantities not charged keep their stored text.
        let mut used_text = status.used.clone().unwrap_or_default();
        for k in requested.keys() {
            used_text.insert(k.clone(), Quantity(new_used[k].to_string()));
        }
        let mut out = q.clone();
        out.status = Some(ResourceQuotaStatus { used: Some(used_text), ..status });
        updated.push(out);
    }
    Ok(updated)
}

// ---------------------------------------------------------------------------
// The quota controller.

fn spec_hard_names(q: &ResourceQuota) -> Vec<String> {
    q.spec.as_ref().and_then(|s| s.hard.as_ref()).map(|h| h.keys().cloned().collect()).unwrap_or_default()
}

/// The `(group, resource)` lists the quota controller reads to compute the
/// quota's usage: those of the evaluators tracking a resource of
/// `spec.hard`.
pub fn resources_to_count(quota: &ResourceQuota) -> Vec<(String, String)> {
    let hard = spec_hard_names(quota);
    Evaluator::for_names(&hard).into_iter().filter(|e| !e.matching_resources(&hard).is_empty()).map(|e| (e.group, e.resource)).collect()
}

/// `status.used` for `quota` from the namespace's live objects,
/// `listed[(group, resource)]` (JSON), for the resources of `spec.hard` its
/// evaluators track, scopes applied. A list missing from `listed` counts as
/// a failed listing: its resources are left out, as upstream leaves out the
/// resources of an evaluator whose listing failed.
pub fn calculate_used(quota: &ResourceQuota, listed: &BTreeMap<(String, String), Vec<Value>>, now: jiff::Timestamp) -> ResourceList {
    let hard = spec_hard_names(quota);
    let evaluators = Evaluator::for_names(&hard);
    let mut matched: BTreeSet<String> = evaluators.iter().flat_map(|e| e.matching_resources(&hard)).filter(|n| hard.contains(n)).collect();
    let spec = quota.spec.as_ref();
    // Upstream reads `spec.scopes` here as requirements without an operator.
    let mut scopes: Vec<ScopeReq> = spec
        .and_then(|s| s.scopes.as_ref())
        .into_iter()
        .flatten()
        .map(|s| ScopeReq { scope: s.clone(), operator: String::new(), values: Vec::new() })
        .collect();
    let selector_start = scopes.len();
    scopes.extend(scope_selectors(quota).into_iter().skip(selector_start));

    let mut used = ResourceList::new();
    'evaluators: for e in &evaluators {
        let names: Vec<String> = matched.iter().cloned().collect();
        let tracked = e.matching_resources(&names);
        if tracked.is_empty() {
            continue;
        }
        let Some(items) = listed.get(&(e.group.clone(), e.resource.clone())) else {
            for n in &tracked {
                matched.remove(n);
            }
            continue;
        };
        let mut stats: ResourceList = tracked.iter().map(|n| (n.clone(), zero())).collect();
        'items: for item in items {
            let mut all = true;
            for s in &scopes {
                match e.matches_scope(s, item) {
                    Ok(m) => all = all && m,
                    // Upstream stops counting at a scope it cannot evaluate.
                    Err(_) => break 'items,
                }
            }
            if all {
                match e.usage(item, now) {
                    Ok(u) => add_into(&mut stats, &u),
                    Err(_) => {
                        // A usage error fails the evaluator: its resources are left out.
                        for n in &tracked {
                            matched.remove(n);
                        }
                        continue 'evaluators;
                    }
                }
            }
        }
        add_into(&mut used, &stats);
    }
    mask(&used, &matched)
}

/// The status the quota controller writes: `hard` is `spec.hard`; `used` is
/// the stored usage updated with `used`, for the resources of `spec.hard`.
pub fn status(quota: &ResourceQuota, used: &ResourceList) -> ResourceQuotaStatus {
    let hard = quota.spec.as_ref().and_then(|s| s.hard.clone()).unwrap_or_default();
    let mut out: BTreeMap<String, Quantity> = quota.status.as_ref().and_then(|s| s.used.clone()).unwrap_or_default();
    out.extend(to_quantities(used));
    out.retain(|k, _| hard.contains_key(k));
    ResourceQuotaStatus { hard: Some(hard), used: Some(out) }
}

#[cfg(test)]
mod tests;
