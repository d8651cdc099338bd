//! The LimitRanger admission rule of kube-apiserver v1.36
//! (`plugin/pkg/admission/limitranger`), as pure functions of the request
//! and of the namespace's LimitRanges.
//!
//! - [`handles`]: creates and updates of `Pod`s and `PersistentVolumeClaim`s,
//!   no subresource, except that a pod `UPDATE` is only looked at through the
//!   `resize` subresource (a plain pod update cannot change containers).
//! - [`mutate`] (upstream `Admit`): for every LimitRange, in order, the
//!   `Container` items' `defaultRequest` and `default` fill the requests and
//!   limits a container or init container lacks, and the pod is annotated
//!   `kubernetes.io/limit-ranger: LimitRanger plugin set: cpu, memory request
//!   for container a; cpu limit for init container b` (each range that sets
//!   something rewrites the annotation). PersistentVolumeClaims are never
//!   changed.
//! - [`validate`] (upstream `Validate`): `min`, `max` and
//!   `maxLimitRequestRatio` of `Container` items on every container and init
//!   container, of `Pod` items on the pod's totals (sidecar-aware init
//!   container arithmetic, pod-level `spec.resources` for cpu and memory
//!   overriding the sum), and `min`/`max` of `PersistentVolumeClaim` items on
//!   the claim's requests. The first LimitRange with violations refuses the
//!   request with all of its violations, joined as Go's
//!   `utilerrors.NewAggregate` prints them.
//! - Either half ignores a request whose old object is being deleted.
//!
//! LimitRanges are read as the API server stores them: their `Container`
//! items get the server's defaulting (`default` from `max`, `defaultRequest`
//! from `default`, then from `min`), which changes nothing on a stored range
//! and makes a range that skipped the server behave as a stored one would.
//!
//! Pods are taken as they reach admission: the API server's own pod
//! defaulting (a container's missing request defaults to its limit) has
//! already run and is not repeated here.
//!
//! Go iterates a `ResourceList` in random order; here every list is walked
//! by resource name, so the order of several violations is deterministic.

// The server's interface returns `Denial` (the Status it answers with) by
// value; it is big, and refusals are rare.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::LimitRange;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use rudder_common::quantity::{self, Format, Qty};
use serde_json::{Map, Value};

use crate::namespace_lifecycle::{Denial, Operation, forbidden};

/// The plugin's name in `--enable-admission-plugins`.
pub const PLUGIN_NAME: &str = "LimitRanger";

/// The annotation naming the defaults the plugin set on a pod.
pub const ANNOTATION: &str = "kubernetes.io/limit-ranger";

const LIMIT_TYPE_CONTAINER: &str = "Container";
const LIMIT_TYPE_POD: &str = "Pod";
const LIMIT_TYPE_PVC: &str = "PersistentVolumeClaim";

/// Upstream `resource.MaxMilliValue`: the largest whole value whose milli
/// value still fits an int64.
const MAX_MILLI_VALUE: i64 = i64::MAX / 1000;

/// What the admission attributes say about a request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub operation: Operation,
    /// The object's kind (group ""): `Pod`, `PersistentVolumeClaim`.
    pub kind: &'a str,
    /// The resource requested (plural): `pods`, `persistentvolumeclaims`.
    pub resource: &'a str,
    /// `""`, or the subresource (`status`, `resize`, ...).
    pub subresource: &'a str,
    /// The request's name (empty on creates with a generateName).
    pub name: &'a str,
    /// The object as received in the AdmissionReview.
    pub object: &'a Value,
    pub old_object: Option<&'a Value>,
}

/// Whether the plugin looks at this request at all (upstream's handled
/// operations, Create and Update, and `SupportsAttributes`).
pub fn handles(req: &Request<'_>) -> bool {
    if !matches!(req.operation, Operation::Create | Operation::Update) {
        return false;
    }
    // In-place resize of a pod's resources goes through pods/resize.
    if req.subresource == "resize" && req.kind == "Pod" && req.operation == Operation::Update {
        return true;
    }
    if !req.subresource.is_empty() {
        return false;
    }
    // Containers cannot be added or changed by a plain pod update.
    if req.kind == "Pod" && req.operation == Operation::Update {
        return false;
    }
    req.kind == "Pod" || req.kind == "PersistentVolumeClaim"
}

/// The mutating half (upstream `Admit`): `Ok(Some(new_object))` when defaults
/// changed the object, `Ok(None)` when nothing changes.
pub fn mutate(req: &Request<'_>, ranges: &[LimitRange]) -> Result<Option<Value>, Denial> {
    if !handles(req) || being_deleted(req)? || ranges.is_empty() {
        return Ok(None);
    }
    if req.resource != "pods" {
        return Ok(None);
    }
    let mut pod = req.object.clone();
    for range in ranges {
        let defaults = Defaults::of(&items(range));
        merge_pod(&mut pod, &defaults).map_err(|e| bad_request(req, &e))?;
    }
    Ok((pod != *req.object).then_some(pod))
}

/// The validating half (upstream `Validate`).
pub fn validate(req: &Request<'_>, ranges: &[LimitRange]) -> Result<(), Denial> {
    if !handles(req) || being_deleted(req)? || ranges.is_empty() {
        return Ok(());
    }
    let check: fn(&[Item], &Value) -> Result<Vec<String>, String> = match req.resource {
        "pods" => validate_pod,
        "persistentvolumeclaims" => validate_pvc,
        _ => return Ok(()),
    };
    for range in ranges {
        let errs = check(&items(range), req.object).map_err(|e| bad_request(req, &e))?;
        if let Some(why) = aggregate(&errs) {
            return Err(forbidden("", req.resource, &request_name(req), &why));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Requests

/// Whether the old object is marked for deletion (then the plugin stands
/// aside); an old object without metadata is refused as upstream's accessor
/// refuses it.
fn being_deleted(req: &Request<'_>) -> Result<bool, Denial> {
    match req.old_object {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Object(old)) => Ok(old.get("metadata").and_then(|m| m.get("deletionTimestamp")).is_some_and(|t| !t.is_null())),
        Some(_) => Err(forbidden("", req.resource, &request_name(req), "object does not implement the Object interfaces")),
    }
}

/// The name `admission.NewForbidden` gives a request: its name, else the
/// object's name, else its generateName, else `Unknown`.
fn request_name(req: &Request<'_>) -> String {
    if !req.name.is_empty() {
        return req.name.to_string();
    }
    let Some(obj) = req.object.as_object() else {
        return "Unknown/errorGettingName".into();
    };
    let field = |f: &str| obj.get("metadata").and_then(|m| m.get(f)).and_then(Value::as_str).filter(|s| !s.is_empty()).map(String::from);
    field("name").or_else(|| field("generateName")).unwrap_or_else(|| "Unknown".into())
}

/// The refusal of an object that does not decode as its kind (what the API
/// server answers before any admission plugin runs).
fn bad_request(req: &Request<'_>, detail: &str) -> Denial {
    let kind = if req.kind.is_empty() { "object" } else { req.kind };
    Denial {
        code: 400,
        reason: "BadRequest",
        message: format!("{kind} in version \"v1\" cannot be handled as a {kind}: {detail}"),
        group: String::new(),
        kind: String::new(),
        name: String::new(),
        causes: Vec::new(),
    }
}

/// Go's `utilerrors.NewAggregate(errs).Error()`: nothing for no errors, one
/// message plain, several distinct ones as `[a, b]`.
fn aggregate(errs: &[String]) -> Option<String> {
    let mut seen: Vec<&str> = Vec::new();
    for e in errs {
        if !seen.contains(&e.as_str()) {
            seen.push(e);
        }
    }
    match seen.len() {
        0 => None,
        1 => Some(seen[0].to_string()),
        _ => Some(format!("[{}]", seen.join(", "))),
    }
}

// ---------------------------------------------------------------------------
// LimitRanges

type List = BTreeMap<String, Qty>;

/// One LimitRangeItem, its quantities parsed (a malformed one, which the API
/// server never stores, is left out).
struct Item {
    type_: String,
    min: List,
    max: List,
    ratio: List,
    default: List,
    default_request: List,
}

fn parsed(list: &Option<BTreeMap<String, Quantity>>) -> List {
    list.iter().flatten().filter_map(|(k, v)| quantity::of(v).map(|q| (k.clone(), q))).collect()
}

/// The range's items, with the API server's defaulting of `Container` items.
fn items(range: &LimitRange) -> Vec<Item> {
    let Some(spec) = &range.spec else { return Vec::new() };
    spec.limits
        .iter()
        .map(|l| {
            let mut item = Item {
                type_: l.type_.clone(),
                min: parsed(&l.min),
                max: parsed(&l.max),
                ratio: parsed(&l.max_limit_request_ratio),
                default: parsed(&l.default),
                default_request: parsed(&l.default_request),
            };
            if item.type_ == LIMIT_TYPE_CONTAINER {
                for (k, v) in &item.max {
                    item.default.entry(k.clone()).or_insert(*v);
                }
                for (k, v) in &item.default {
                    item.default_request.entry(k.clone()).or_insert(*v);
                }
                for (k, v) in &item.min {
                    item.default_request.entry(k.clone()).or_insert(*v);
                }
            }
            item
        })
        .collect()
}

/// The requests and limits a range gives containers that lack them (the
/// last `Container` item naming a resource wins).
struct Defaults {
    requests: List,
    limits: List,
}

impl Defaults {
    fn of(items: &[Item]) -> Defaults {
        let mut d = Defaults { requests: List::new(), limits: List::new() };
        for item in items.iter().filter(|i| i.type_ == LIMIT_TYPE_CONTAINER) {
            d.requests.extend(item.default_request.iter().map(|(k, v)| (k.clone(), *v)));
            d.limits.extend(item.default.iter().map(|(k, v)| (k.clone(), *v)));
        }
        d
    }
}

// ---------------------------------------------------------------------------
// Mutation

/// The object's `field` as a list of containers: absent or null is none.
fn containers_mut<'v>(spec: Option<&'v mut Value>, field: &str) -> Result<Vec<&'v mut Value>, String> {
    let Some(Value::Object(spec)) = spec else { return Ok(Vec::new()) };
    match spec.get_mut(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(cs)) => Ok(cs.iter_mut().collect()),
        Some(_) => Err(format!("spec.{field}: expected an array")),
    }
}

/// Applies one range's defaults to every container and init container and
/// annotates the pod with what was set.
fn merge_pod(pod: &mut Value, defaults: &Defaults) -> Result<(), String> {
    let Value::Object(obj) = pod else { return Err("expected an object".into()) };
    let mut notes = Vec::new();
    match obj.get("spec") {
        None | Some(Value::Null | Value::Object(_)) => {}
        Some(_) => return Err("spec: expected an object".into()),
    }
    for (field, prefix) in [("containers", "container"), ("initContainers", "init container")] {
        for (i, c) in containers_mut(obj.get_mut("spec"), field)?.into_iter().enumerate() {
            merge_container(c, defaults, prefix, &mut notes).map_err(|e| format!("spec.{field}[{i}]{e}"))?;
        }
    }
    if notes.is_empty() {
        return Ok(());
    }
    let meta = obj.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
    if meta.is_null() {
        *meta = Value::Object(Map::new());
    }
    let Value::Object(meta) = meta else { return Err("metadata: expected an object".into()) };
    let annotations = meta.entry("annotations").or_insert_with(|| Value::Object(Map::new()));
    if annotations.is_null() {
        *annotations = Value::Object(Map::new());
    }
    let Value::Object(annotations) = annotations else { return Err("metadata.annotations: expected an object".into()) };
    annotations.insert(ANNOTATION.into(), Value::String(format!("LimitRanger plugin set: {}", notes.join("; "))));
    Ok(())
}

/// Upstream `mergeContainerResources`: fills missing limits, then missing
/// requests, and notes `cpu, memory request for container x` and `cpu limit
/// for container x`.
fn merge_container(c: &mut Value, defaults: &Defaults, prefix: &str, notes: &mut Vec<String>) -> Result<(), String> {
    let Value::Object(c) = c else { return Err(": expected an object".into()) };
    let name = match c.get("name") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(".name: expected a string".into()),
    };
    match c.get("resources") {
        None | Some(Value::Null | Value::Object(_)) => {}
        Some(_) => return Err(".resources: expected an object".into()),
    }
    let mut set_limits = Vec::new();
    let mut set_requests = Vec::new();
    for (field, wanted, set) in [("limits", &defaults.limits, &mut set_limits), ("requests", &defaults.requests, &mut set_requests)] {
        // Validate the list as Go's decoding would, before adding to it.
        let existing = c.get("resources").and_then(|r| r.get(field));
        read_list(existing).map_err(|e| format!(".resources.{field}{e}"))?;
        let missing: Vec<(&String, &Qty)> = wanted.iter().filter(|(k, _)| existing.and_then(|l| l.get(k.as_str())).is_none()).collect();
        if missing.is_empty() {
            continue;
        }
        let resources = c.entry("resources").or_insert_with(|| Value::Object(Map::new()));
        if resources.is_null() {
            *resources = Value::Object(Map::new());
        }
        let Value::Object(resources) = resources else { return Err(".resources: expected an object".into()) };
        let list = resources.entry(field).or_insert_with(|| Value::Object(Map::new()));
        if list.is_null() {
            *list = Value::Object(Map::new());
        }
        let Value::Object(list) = list else { return Err(format!(".resources.{field}: expected an object")) };
        for (k, v) in missing {
            list.insert(k.clone(), Value::String(v.to_string()));
            set.push(k.clone());
        }
    }
    // Both lists are already sorted: they follow the BTreeMap's order.
    if !set_requests.is_empty() {
        notes.push(format!("{} request for {prefix} {name}", set_requests.join(", ")));
    }
    if !set_limits.is_empty() {
        notes.push(format!("{} limit for {prefix} {name}", set_limits.join(", ")));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Reading quantities from JSON

fn zero() -> Qty {
    Qty { neg: false, mant: 0, scale: 0, format: Format::DecimalSI }
}

/// A quantity as the API accepts it in JSON: a string, or a bare number;
/// null decodes to zero as Go's `Quantity.UnmarshalJSON` leaves it.
fn read_qty(v: &Value) -> Result<Qty, String> {
    match v {
        Value::String(s) => quantity::parse(s.trim()).map_err(String::from),
        Value::Number(n) => quantity::parse(&n.to_string()).map_err(String::from),
        Value::Null => Ok(zero()),
        _ => Err("expected a quantity".into()),
    }
}

/// A `ResourceList`: absent or null is empty.
fn read_list(v: Option<&Value>) -> Result<List, String> {
    match v {
        None | Some(Value::Null) => Ok(List::new()),
        Some(Value::Object(m)) => m.iter().map(|(k, v)| read_qty(v).map(|q| (k.clone(), q)).map_err(|e| format!(".{k}: {e}"))).collect(),
        Some(_) => Err(": expected an object".into()),
    }
}

/// A container's requests and limits, and whether it is a sidecar
/// (`restartPolicy: Always`, meaningful on init containers).
struct Container {
    requests: List,
    limits: List,
    sidecar: bool,
}

fn read_resources(v: Option<&Value>) -> Result<(List, List), String> {
    match v {
        None | Some(Value::Null) => Ok((List::new(), List::new())),
        Some(r @ Value::Object(_)) => {
            let requests = read_list(r.get("requests")).map_err(|e| format!(".requests{e}"))?;
            let limits = read_list(r.get("limits")).map_err(|e| format!(".limits{e}"))?;
            Ok((requests, limits))
        }
        Some(_) => Err(": expected an object".into()),
    }
}

fn read_containers(spec: Option<&Value>, field: &str) -> Result<Vec<Container>, String> {
    let list = match spec.and_then(|s| s.get(field)) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(cs)) => cs,
        Some(_) => return Err(format!("spec.{field}: expected an array")),
    };
    list.iter()
        .enumerate()
        .map(|(i, c)| {
            if !c.is_object() {
                return Err(format!("spec.{field}[{i}]: expected an object"));
            }
            let (requests, limits) = read_resources(c.get("resources")).map_err(|e| format!("spec.{field}[{i}].resources{e}"))?;
            let sidecar = c.get("restartPolicy").and_then(Value::as_str) == Some("Always");
            Ok(Container { requests, limits, sidecar })
        })
        .collect()
}

/// The pod's containers, init containers and pod-level requests and limits.
struct Pod {
    containers: Vec<Container>,
    init_containers: Vec<Container>,
    pod_level: Option<(List, List)>,
}

fn read_pod(obj: &Value) -> Result<Pod, String> {
    if !obj.is_object() {
        return Err("expected an object".into());
    }
    let spec = match obj.get("spec") {
        None | Some(Value::Null) => None,
        Some(s @ Value::Object(_)) => Some(s),
        Some(_) => return Err("spec: expected an object".into()),
    };
    let pod_level = match spec.and_then(|s| s.get("resources")) {
        None | Some(Value::Null) => None,
        r => Some(read_resources(r).map_err(|e| format!("spec.resources{e}"))?),
    };
    Ok(Pod { containers: read_containers(spec, "containers")?, init_containers: read_containers(spec, "initContainers")?, pod_level })
}

// ---------------------------------------------------------------------------
// Constraints

/// Upstream `requestLimitEnforcedValues`: the three quantities as int64 milli
/// values when all fit, else as whole values (a missing one counts 0).
fn projected(req: Option<&Qty>, lim: Option<&Qty>, enforced: &Qty) -> (i64, i64, i64) {
    let whole = |q: Option<&Qty>| q.map_or(0, Qty::value);
    let milli = |q: Option<&Qty>| q.map_or(0, Qty::milli_value);
    let (r, l, e) = (whole(req), whole(lim), enforced.value());
    if r <= MAX_MILLI_VALUE && l <= MAX_MILLI_VALUE && e <= MAX_MILLI_VALUE {
        (milli(req), milli(lim), enforced.milli_value())
    } else {
        (r, l, e)
    }
}

fn min_constraint(limit_type: &str, name: &str, enforced: &Qty, requests: &List, limits: &List) -> Option<String> {
    let (req, lim) = (requests.get(name), limits.get(name));
    let (r, l, e) = projected(req, lim, enforced);
    let Some(req) = req else {
        return Some(format!("minimum {name} usage per {limit_type} is {enforced}.  No request is specified"));
    };
    if r < e {
        return Some(format!("minimum {name} usage per {limit_type} is {enforced}, but request is {req}"));
    }
    match lim {
        Some(lim) if l < e => Some(format!("minimum {name} usage per {limit_type} is {enforced}, but limit is {lim}")),
        _ => None,
    }
}

/// The max of a type whose limits are not user input (claims): on requests.
fn max_request_constraint(limit_type: &str, name: &str, enforced: &Qty, requests: &List) -> Option<String> {
    let req = requests.get(name);
    let (r, _, e) = projected(req, None, enforced);
    let Some(req) = req else {
        return Some(format!("maximum {name} usage per {limit_type} is {enforced}.  No request is specified"));
    };
    (r > e).then(|| format!("maximum {name} usage per {limit_type} is {enforced}, but request is {req}"))
}

fn max_constraint(limit_type: &str, name: &str, enforced: &Qty, requests: &List, limits: &List) -> Option<String> {
    let (req, lim) = (requests.get(name), limits.get(name));
    let (r, l, e) = projected(req, lim, enforced);
    let Some(lim) = lim else {
        return Some(format!("maximum {name} usage per {limit_type} is {enforced}.  No limit is specified"));
    };
    if l > e {
        return Some(format!("maximum {name} usage per {limit_type} is {enforced}, but limit is {lim}"));
    }
    match req {
        Some(req) if r > e => Some(format!("maximum {name} usage per {limit_type} is {enforced}, but request is {req}")),
        _ => None,
    }
}

/// Upstream's ratio check: the projected limit over the projected request,
/// as a float, against the enforced ratio in milli units when it fits; the
/// message shows the ratio with six decimals (Go's `%f`).
fn ratio_constraint(limit_type: &str, name: &str, enforced: &Qty, requests: &List, limits: &List) -> Option<String> {
    let (req, lim) = (requests.get(name), limits.get(name));
    let (r, l, _) = projected(req, lim, enforced);
    let head = format!("{name} max limit to request ratio per {limit_type} is {enforced}");
    if req.is_none() || r == 0 {
        return Some(format!("{head}, but no request is specified or request is 0"));
    }
    if lim.is_none() || l == 0 {
        return Some(format!("{head}, but no limit is specified or limit is 0"));
    }
    let shown = l as f64 / r as f64;
    let (observed, allowed) = if enforced.value() <= MAX_MILLI_VALUE {
        (shown * 1000.0, enforced.milli_value() as f64)
    } else {
        (shown, enforced.value() as f64)
    };
    (observed > allowed).then(|| format!("{head}, but provided ratio is {shown:.6}"))
}

/// Min, max and ratio of one item on one set of requests and limits.
fn check_all(item: &Item, requests: &List, limits: &List, errs: &mut Vec<String>) {
    let t = item.type_.as_str();
    errs.extend(item.min.iter().filter_map(|(k, v)| min_constraint(t, k, v, requests, limits)));
    errs.extend(item.max.iter().filter_map(|(k, v)| max_constraint(t, k, v, requests, limits)));
    errs.extend(item.ratio.iter().filter_map(|(k, v)| ratio_constraint(t, k, v, requests, limits)));
}

fn add_qty(a: &Qty, b: &Qty) -> Qty {
    // Past i128 the exact sum is out of reach; the larger operand stands in.
    a.add(b).unwrap_or(if a.cmp_value(b).is_ge() { *a } else { *b })
}

/// Upstream `addResourceList`.
fn add_list(list: &mut List, more: &List) {
    for (k, v) in more {
        let sum = list.get(k).map_or(*v, |cur| add_qty(cur, v));
        list.insert(k.clone(), sum);
    }
}

/// Upstream `maxResourceList`.
fn max_list(list: &mut List, more: &List) {
    for (k, v) in more {
        if list.get(k).is_none_or(|cur| v.cmp_value(cur).is_gt()) {
            list.insert(k.clone(), *v);
        }
    }
}

/// The pod's requests (`pick` = requests) or limits as upstream's local
/// `podRequests`/`podLimits` compute them from the spec: the containers'
/// sum, sidecars added to it, each init container (plus the sidecars
/// started before it) raising it to its own value, then pod-level cpu and
/// memory (the PodLevelResources gate, on by default in v1.36) replacing
/// the aggregate.
fn pod_total(pod: &Pod, pick: fn(&Container) -> &List, pod_level: Option<&List>) -> List {
    let mut total = List::new();
    for c in &pod.containers {
        add_list(&mut total, pick(c));
    }
    let mut sidecars = List::new();
    let mut init = List::new();
    for c in &pod.init_containers {
        if c.sidecar {
            add_list(&mut total, pick(c));
            add_list(&mut sidecars, pick(c));
            max_list(&mut init, &sidecars);
        } else {
            let mut tmp = List::new();
            add_list(&mut tmp, pick(c));
            add_list(&mut tmp, &sidecars);
            max_list(&mut init, &tmp);
        }
    }
    max_list(&mut total, &init);
    for (k, v) in pod_level.into_iter().flatten() {
        if k == "cpu" || k == "memory" {
            total.insert(k.clone(), *v);
        }
    }
    total
}

/// Upstream `PodValidateLimitFunc` for one range.
fn validate_pod(items: &[Item], obj: &Value) -> Result<Vec<String>, String> {
    let pod = read_pod(obj)?;
    let mut errs = Vec::new();
    for item in items {
        if item.type_ == LIMIT_TYPE_CONTAINER {
            for c in pod.containers.iter().chain(&pod.init_containers) {
                check_all(item, &c.requests, &c.limits, &mut errs);
            }
        }
        if item.type_ == LIMIT_TYPE_POD {
            let requests = pod_total(&pod, |c| &c.requests, pod.pod_level.as_ref().map(|(r, _)| r));
            let limits = pod_total(&pod, |c| &c.limits, pod.pod_level.as_ref().map(|(_, l)| l));
            check_all(item, &requests, &limits, &mut errs);
        }
    }
    Ok(errs)
}

/// Upstream `PersistentVolumeClaimValidateLimitFunc` for one range: min and
/// max on the claim's requests (its limits are not user input).
fn validate_pvc(items: &[Item], obj: &Value) -> Result<Vec<String>, String> {
    if !obj.is_object() {
        return Err("expected an object".into());
    }
    let spec = match obj.get("spec") {
        None | Some(Value::Null) => None,
        Some(s @ Value::Object(_)) => Some(s),
        Some(_) => return Err("spec: expected an object".into()),
    };
    let (requests, _) = read_resources(spec.and_then(|s| s.get("resources"))).map_err(|e| format!("spec.resources{e}"))?;
    let mut errs = Vec::new();
    for item in items.iter().filter(|i| i.type_ == LIMIT_TYPE_PVC) {
        let t = item.type_.as_str();
        errs.extend(item.min.iter().filter_map(|(k, v)| min_constraint(t, k, v, &requests, &List::new())));
        errs.extend(item.max.iter().filter_map(|(k, v)| max_request_constraint(t, k, v, &requests)));
    }
    Ok(errs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn range(limits: Value) -> LimitRange {
        serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "LimitRange",
            "metadata": {"name": "lr", "namespace": "n"},
            "spec": {"limits": limits}
        }))
        .expect("a LimitRange")
    }

    fn req<'a>(op: Operation, kind: &'a str, resource: &'a str, subresource: &'a str, obj: &'a Value) -> Request<'a> {
        Request { operation: op, kind, resource, subresource, name: "", object: obj, old_object: None }
    }

    fn pod_create(obj: &Value) -> Request<'_> {
        req(Operation::Create, "Pod", "pods", "", obj)
    }

    fn pvc_create(obj: &Value) -> Request<'_> {
        req(Operation::Create, "PersistentVolumeClaim", "persistentvolumeclaims", "", obj)
    }

    fn pod(containers: Value) -> Value {
        json!({"metadata": {"name": "p"}, "spec": {"containers": containers}})
    }

    fn ctr(name: &str, requests: Value, limits: Value) -> Value {
        json!({"name": name, "image": "nginx", "resources": {"requests": requests, "limits": limits}})
    }

    fn refusal(r: Result<(), Denial>) -> String {
        let d = r.expect_err("refused");
        assert_eq!((d.code, d.reason), (403, "Forbidden"), "{}", d.message);
        d.message
    }

    fn container_range(item: Value) -> Vec<LimitRange> {
        let mut item = item;
        item["type"] = json!("Container");
        vec![range(json!([item]))]
    }

    #[test]
    fn handled_requests() {
        let obj = json!({});
        let cases = [
            (Operation::Create, "Pod", "pods", "", true),
            (Operation::Update, "Pod", "pods", "", false),
            (Operation::Update, "Pod", "pods", "resize", true),
            (Operation::Create, "Pod", "pods", "resize", false),
            (Operation::Update, "Pod", "pods", "status", false),
            (Operation::Update, "Pod", "pods", "ephemeralcontainers", false),
            (Operation::Create, "Binding", "pods", "binding", false),
            (Operation::Delete, "Pod", "pods", "", false),
            (Operation::Connect, "Pod", "pods", "exec", false),
            (Operation::Create, "PersistentVolumeClaim", "persistentvolumeclaims", "", true),
            (Operation::Update, "PersistentVolumeClaim", "persistentvolumeclaims", "", true),
            (Operation::Update, "PersistentVolumeClaim", "persistentvolumeclaims", "status", false),
            (Operation::Delete, "PersistentVolumeClaim", "persistentvolumeclaims", "", false),
            (Operation::Create, "Deployment", "deployments", "", false),
            (Operation::Create, "LimitRange", "limitranges", "", false),
        ];
        for (op, kind, resource, sub, want) in cases {
            assert_eq!(handles(&req(op, kind, resource, sub, &obj)), want, "{op:?} {kind} {resource}/{sub}");
        }
    }

    #[test]
    fn defaults_fill_containers_and_init_containers_and_annotate() {
        let ranges = container_range(json!({
            "default": {"cpu": "1", "memory": "512Mi"},
            "defaultRequest": {"cpu": "100m", "memory": "128Mi"}
        }));
        let obj = json!({
            "metadata": {"name": "p", "labels": {"app": "web"}},
            "spec": {
                "containers": [{"name": "nginx", "image": "nginx", "ports": [{"containerPort": 80}]}],
                "initContainers": [{"name": "init", "resources": {"requests": {"cpu": "50m"}}}],
                "nodeSelector": {"disk": "ssd"},
                "someFutureField": {"x": 1}
            },
            "status": {}
        });
        let got = mutate(&pod_create(&obj), &ranges).unwrap().expect("changed");
        let want = json!({
            "metadata": {"name": "p", "labels": {"app": "web"}, "annotations": {
                "kubernetes.io/limit-ranger": "LimitRanger plugin set: cpu, memory request for container nginx; cpu, memory limit for container nginx; memory request for init container init; cpu, memory limit for init container init"
            }},
            "spec": {
                "containers": [{"name": "nginx", "image": "nginx", "ports": [{"containerPort": 80}], "resources": {
                    "requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}
                }}],
                "initContainers": [{"name": "init", "resources": {
                    "requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}
                }}],
                "nodeSelector": {"disk": "ssd"},
                "someFutureField": {"x": 1}
            },
            "status": {}
        });
        assert_eq!(got, want);
        // The defaulted pod passes, and mutating it again changes nothing.
        assert_eq!(mutate(&pod_create(&got), &ranges).unwrap(), None);
        assert!(validate(&pod_create(&got), &ranges).is_ok());
    }

    #[test]
    fn a_default_request_alone_sets_only_requests() {
        let ranges = container_range(json!({"defaultRequest": {"cpu": "250m"}}));
        let obj = pod(json!([{"name": "nginx", "resources": {}}]));
        let got = mutate(&pod_create(&obj), &ranges).unwrap().unwrap();
        assert_eq!(got["spec"]["containers"][0]["resources"], json!({"requests": {"cpu": "250m"}}));
        assert_eq!(got["metadata"]["annotations"][ANNOTATION], "LimitRanger plugin set: cpu request for container nginx");
    }

    #[test]
    fn the_default_request_defaults_to_the_default_limit_then_to_min_and_the_limit_to_max() {
        // As the API server defaults a stored LimitRange's Container items.
        let ranges = container_range(json!({"default": {"cpu": "2"}, "max": {"memory": "1Gi"}, "min": {"ephemeral-storage": "1Mi"}}));
        let obj = pod(json!([{"name": "nginx"}]));
        let got = mutate(&pod_create(&obj), &ranges).unwrap().unwrap();
        assert_eq!(
            got["spec"]["containers"][0]["resources"],
            json!({"limits": {"cpu": "2", "memory": "1Gi"}, "requests": {"cpu": "2", "ephemeral-storage": "1Mi", "memory": "1Gi"}})
        );
        assert_eq!(
            got["metadata"]["annotations"][ANNOTATION],
            "LimitRanger plugin set: cpu, ephemeral-storage, memory request for container nginx; cpu, memory limit for container nginx"
        );
    }

    #[test]
    fn set_values_are_kept_and_a_limit_only_container_gets_the_range_default_request() {
        // What the plugin alone does; the API server's pod defaulting, which
        // runs before admission, would already have set that request to 500m.
        let ranges = container_range(json!({"default": {"cpu": "1"}, "defaultRequest": {"cpu": "100m"}}));
        let obj = pod(json!([ctr("a", json!({}), json!({"cpu": "500m"})), ctr("b", json!({"cpu": "2"}), json!({"cpu": "3"}))]));
        let got = mutate(&pod_create(&obj), &ranges).unwrap().unwrap();
        assert_eq!(got["spec"]["containers"][0]["resources"], json!({"requests": {"cpu": "100m"}, "limits": {"cpu": "500m"}}));
        assert_eq!(got["spec"]["containers"][1], obj["spec"]["containers"][1]);
        assert_eq!(got["metadata"]["annotations"][ANNOTATION], "LimitRanger plugin set: cpu request for container a");
        // The request the default set is above the limit: validation is the API server's, not LimitRanger's.
        assert!(validate(&pod_create(&got), &ranges).is_ok());
    }

    #[test]
    fn quantities_are_written_in_canonical_form() {
        let ranges = container_range(json!({"default": {"cpu": "0.5", "memory": "1048576Ki"}}));
        let got = mutate(&pod_create(&pod(json!([{"name": "c"}]))), &ranges).unwrap().unwrap();
        assert_eq!(got["spec"]["containers"][0]["resources"]["limits"], json!({"cpu": "500m", "memory": "1Gi"}));
    }

    #[test]
    fn nothing_to_default_changes_nothing() {
        let full = pod(json!([ctr("c", json!({"cpu": "1", "memory": "1Gi"}), json!({"cpu": "1", "memory": "1Gi"}))]));
        let ranges = container_range(json!({"default": {"cpu": "2", "memory": "2Gi"}}));
        assert_eq!(mutate(&pod_create(&full), &ranges).unwrap(), None);
        let bare = pod(json!([{"name": "c"}]));
        assert_eq!(mutate(&pod_create(&bare), &[]).unwrap(), None);
        // Pod and claim items have no defaults.
        let pod_only =
            vec![range(json!([{"type": "Pod", "max": {"cpu": "4"}}, {"type": "PersistentVolumeClaim", "max": {"storage": "1Gi"}}]))];
        assert_eq!(mutate(&pod_create(&bare), &pod_only).unwrap(), None);
        // A container-less pod.
        assert_eq!(mutate(&pod_create(&json!({"metadata": {"name": "p"}})), &ranges).unwrap(), None);
        // Claims are never mutated.
        let claim = json!({"metadata": {"name": "c"}, "spec": {}});
        assert_eq!(mutate(&pvc_create(&claim), &ranges).unwrap(), None);
    }

    #[test]
    fn several_ranges_apply_in_order_and_the_last_to_set_something_writes_the_annotation() {
        let ranges = vec![
            range(json!([{"type": "Container", "default": {"cpu": "1"}}])),
            range(json!([{"type": "Container", "default": {"cpu": "3", "memory": "1Gi"}}])),
            range(json!([{"type": "Container", "default": {"cpu": "5"}}])),
        ];
        let obj = json!({"metadata": {"name": "p", "annotations": {"keep": "me"}}, "spec": {"containers": [{"name": "c"}]}});
        let got = mutate(&pod_create(&obj), &ranges).unwrap().unwrap();
        assert_eq!(got["spec"]["containers"][0]["resources"]["limits"], json!({"cpu": "1", "memory": "1Gi"}));
        assert_eq!(got["spec"]["containers"][0]["resources"]["requests"], json!({"cpu": "1", "memory": "1Gi"}));
        assert_eq!(
            got["metadata"]["annotations"],
            json!({"keep": "me", ANNOTATION: "LimitRanger plugin set: memory request for container c; memory limit for container c"})
        );
        // Within one range, the last Container item naming a resource wins.
        let one = vec![range(json!([{"type": "Container", "default": {"cpu": "1"}}, {"type": "Container", "default": {"cpu": "2"}}]))];
        let got = mutate(&pod_create(&pod(json!([{"name": "c"}]))), &one).unwrap().unwrap();
        assert_eq!(got["spec"]["containers"][0]["resources"]["limits"]["cpu"], "2");
    }

    #[test]
    fn container_max() {
        let ranges = container_range(json!({"max": {"cpu": "2"}}));
        let obj = pod(json!([ctr("c", json!({"cpu": "1"}), json!({"cpu": "4"}))]));
        let d = validate(&pod_create(&obj), &ranges).unwrap_err();
        assert_eq!(d.message, "pods \"p\" is forbidden: maximum cpu usage per Container is 2, but limit is 4");
        assert_eq!((d.code, d.reason, d.kind.as_str(), d.name.as_str()), (403, "Forbidden", "pods", "p"));
        let obj = pod(json!([ctr("c", json!({"cpu": "3"}), json!({"cpu": "2"}))]));
        assert_eq!(
            refusal(validate(&pod_create(&obj), &ranges)),
            "pods \"p\" is forbidden: maximum cpu usage per Container is 2, but request is 3"
        );
        let obj = pod(json!([ctr("c", json!({"cpu": "1"}), json!({}))]));
        assert_eq!(
            refusal(validate(&pod_create(&obj), &ranges)),
            "pods \"p\" is forbidden: maximum cpu usage per Container is 2.  No limit is specified"
        );
        let obj = pod(json!([ctr("c", json!({"cpu": "2"}), json!({"cpu": "2"}))]));
        assert!(validate(&pod_create(&obj), &ranges).is_ok());
    }

    #[test]
    fn container_min() {
        let ranges = container_range(json!({"min": {"memory": "64Mi"}}));
        let obj = pod(json!([ctr("c", json!({"memory": "32Mi"}), json!({"memory": "1Gi"}))]));
        assert_eq!(
            refusal(validate(&pod_create(&obj), &ranges)),
            "pods \"p\" is forbidden: minimum memory usage per Container is 64Mi, but request is 32Mi"
        );
        let obj = pod(json!([ctr("c", json!({"memory": "64Mi"}), json!({"memory": "32Mi"}))]));
        assert_eq!(
            refusal(validate(&pod_create(&obj), &ranges)),
            "pods \"p\" is forbidden: minimum memory usage per Container is 64Mi, but limit is 32Mi"
        );
        let obj = pod(json!([ctr("c", json!({}), json!({}))]));
        assert_eq!(
            refusal(validate(&pod_create(&obj), &ranges)),
            "pods \"p\" is forbidden: minimum memory usage per Container is 64Mi.  No request is specified"
        );
        let obj = pod(json!([ctr("c", json!({"memory": "64Mi"}), json!({}))]));
        assert!(validate(&pod_create(&obj), &ranges).is_ok());
    }

    #[test]
    fn comparisons_use_upstream_milli_projection() {
        // Upstream v1.36 compares MilliValue()s, rounded up: 0.9999 reads as 1.
        let ranges = container_range(json!({"min": {"memory": "1"}}));
        let obj = pod(json!([ctr("c", json!({"memory": "0.9999"}), json!({}))]));
        assert!(validate(&pod_create(&obj), &ranges).is_ok());
        let obj = pod(json!([ctr("c", json!({"memory": "0.998"}), json!({}))]));
        assert_eq!(
            refusal(validate(&pod_create(&obj), &ranges)),
            "pods \"p\" is forbidden: minimum memory usage per Container is 1, but request is 998m"
        );
    }

    #[test]
    fn container_limit_to_request_ratio() {
        let ranges = container_range(json!({"maxLimitRequestRatio": {"cpu": "2"}}));
        let check = |requests: Value, limits: Value| validate(&pod_create(&pod(json!([ctr("c", requests, limits)]))), &ranges);
        assert_eq!(
            refusal(check(json!({"cpu": "250m"}), json!({"cpu": "1"}))),
            "pods \"p\" is forbidden: cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000"
        );
        assert_eq!(
            refusal(check(json!({"cpu": "300m"}), json!({"cpu": "1"}))),
            "pods \"p\" is forbidden: cpu max limit to request ratio per Container is 2, but provided ratio is 3.333333"
        );
        assert_eq!(
            refusal(check(json!({"cpu": "0"}), json!({"cpu": "1"}))),
            "pods \"p\" is forbidden: cpu max limit to request ratio per Container is 2, but no request is specified or request is 0"
        );
        assert_eq!(
            refusal(check(json!({}), json!({"cpu": "1"}))),
            "pods \"p\" is forbidden: cpu max limit to request ratio per Container is 2, but no request is specified or request is 0"
        );
        assert_eq!(
            refusal(check(json!({"cpu": "1"}), json!({}))),
            "pods \"p\" is forbidden: cpu max limit to request ratio per Container is 2, but no limit is specified or limit is 0"
        );
        assert!(check(json!({"cpu": "500m"}), json!({"cpu": "1"})).is_ok());
        assert!(check(json!({"cpu": "1"}), json!({"cpu": "1"})).is_ok());
        // A fractional maximum compares in milli units.
        let ranges = container_range(json!({"maxLimitRequestRatio": {"memory": "1500m"}}));
        let check = |r: &str, l: &str| validate(&pod_create(&pod(json!([ctr("c", json!({"memory": r}), json!({"memory": l}))]))), &ranges);
        assert!(check("100Mi", "150Mi").is_ok());
        assert_eq!(
            refusal(check("100Mi", "151Mi")),
            "pods \"p\" is forbidden: memory max limit to request ratio per Container is 1500m, but provided ratio is 1.510000"
        );
    }

    #[test]
    fn init_containers_are_checked_as_containers() {
        let ranges = container_range(json!({"max": {"cpu": "1"}}));
        let obj = json!({"metadata": {"name": "p"}, "spec": {
            "containers": [ctr("c", json!({"cpu": "1"}), json!({"cpu": "1"}))],
            "initContainers": [ctr("i", json!({"cpu": "1"}), json!({"cpu": "2"}))]
        }});
        assert_eq!(
            refusal(validate(&pod_create(&obj), &ranges)),
            "pods \"p\" is forbidden: maximum cpu usage per Container is 1, but limit is 2"
        );
    }

    #[test]
    fn several_errors_are_joined_and_repeats_printed_once() {
        let ranges = container_range(json!({"min": {"cpu": "100m", "memory": "10Mi"}, "max": {"cpu": "1", "memory": "1Gi"}}));
        let obj = pod(json!([ctr("c", json!({"cpu": "50m", "memory": "5Mi"}), json!({"cpu": "2", "memory": "1Gi"}))]));
        assert_eq!(
            refusal(validate(&pod_create(&obj), &ranges)),
            "pods \"p\" is forbidden: [minimum cpu usage per Container is 100m, but request is 50m, minimum memory usage per Container is 10Mi, but request is 5Mi, maximum cpu usage per Container is 1, but limit is 2]"
        );
        // Two containers breaking the same constraint the same way: one message, no brackets.
        let obj = pod(json!([
            ctr("a", json!({"cpu": "1"}), json!({"cpu": "2", "memory": "1Gi"})),
            ctr("b", json!({"cpu": "1"}), json!({"cpu": "2", "memory": "1Gi"}))
        ]));
        let ranges = container_range(json!({"max": {"cpu": "1"}}));
        assert_eq!(
            refusal(validate(&pod_create(&obj), &ranges)),
            "pods \"p\" is forbidden: maximum cpu usage per Container is 1, but limit is 2"
        );
    }

    #[test]
    fn the_first_range_with_violations_decides() {
        let ranges = vec![
            range(json!([{"type": "Container", "max": {"cpu": "10"}}])),
            range(json!([{"type": "Container", "max": {"cpu": "1"}}])),
            range(json!([{"type": "Container", "max": {"cpu": "500m"}}])),
        ];
        let obj = pod(json!([ctr("c", json!({"cpu": "2"}), json!({"cpu": "2"}))]));
        assert_eq!(
            refusal(validate(&pod_create(&obj), &ranges)),
            "pods \"p\" is forbidden: maximum cpu usage per Container is 1, but limit is 2"
        );
    }

    #[test]
    fn pod_totals_sum_containers_and_sidecars_and_take_the_largest_init_container() {
        let ranges = vec![range(json!([{"type": "Pod", "max": {"cpu": "2", "memory": "2Gi"}}]))];
        let spec = |init: Value| {
            json!({"metadata": {"name": "p"}, "spec": {
                "containers": [ctr("a", json!({"cpu": "1", "memory": "1Gi"}), json!({"cpu": "1", "memory": "1Gi"})),
                               ctr("b", json!({"cpu": "500m", "memory": "512Mi"}), json!({"cpu": "500m", "memory": "512Mi"}))],
                "initContainers": init
            }})
        };
        assert!(validate(&pod_create(&spec(json!([]))), &ranges).is_ok());
        // A plain init container counts alone, against the containers' sum.
        let init = ctr("i", json!({"cpu": "2", "memory": "1Gi"}), json!({"cpu": "2", "memory": "1Gi"}));
        assert!(validate(&pod_create(&spec(json!([init.clone()]))), &ranges).is_ok());
        let big = ctr("i", json!({"cpu": "3"}), json!({"cpu": "3"}));
        assert_eq!(
            refusal(validate(&pod_create(&spec(json!([big]))), &ranges)),
            "pods \"p\" is forbidden: maximum cpu usage per Pod is 2, but limit is 3"
        );
        // A sidecar adds to the sum, and to every init container after it.
        let mut sidecar = ctr("s", json!({"cpu": "100m", "memory": "600Mi"}), json!({"cpu": "100m", "memory": "600Mi"}));
        sidecar["restartPolicy"] = json!("Always");
        assert_eq!(
            refusal(validate(&pod_create(&spec(json!([sidecar.clone()]))), &ranges)),
            "pods \"p\" is forbidden: maximum memory usage per Pod is 2Gi, but limit is 2136Mi"
        );
        assert_eq!(
            refusal(validate(&pod_create(&spec(json!([sidecar, init]))), &ranges)),
            "pods \"p\" is forbidden: [maximum cpu usage per Pod is 2, but limit is 2100m, maximum memory usage per Pod is 2Gi, but limit is 2136Mi]"
        );
    }

    #[test]
    fn pod_min_and_ratio_use_the_totals() {
        let ranges = vec![range(json!([{"type": "Pod", "min": {"cpu": "1"}, "maxLimitRequestRatio": {"cpu": "3"}}]))];
        let obj =
            pod(json!([ctr("a", json!({"cpu": "250m"}), json!({"cpu": "1"})), ctr("b", json!({"cpu": "250m"}), json!({"cpu": "1"}))]));
        assert_eq!(
            refusal(validate(&pod_create(&obj), &ranges)),
            "pods \"p\" is forbidden: [minimum cpu usage per Pod is 1, but request is 500m, cpu max limit to request ratio per Pod is 3, but provided ratio is 4.000000]"
        );
        // A resource one container lacks still totals the others.
        let obj = pod(json!([ctr("a", json!({"cpu": "1"}), json!({"cpu": "1"})), ctr("b", json!({}), json!({}))]));
        assert!(validate(&pod_create(&obj), &ranges).is_ok());
    }

    #[test]
    fn pod_level_cpu_and_memory_replace_the_container_totals() {
        let ranges = vec![range(json!([{"type": "Pod", "max": {"cpu": "2", "hugepages-2Mi": "2Mi"}}]))];
        let mut obj = pod(json!([ctr("a", json!({"cpu": "2", "hugepages-2Mi": "4Mi"}), json!({"cpu": "3", "hugepages-2Mi": "4Mi"}))]));
        obj["spec"]["resources"] =
            json!({"requests": {"cpu": "1", "hugepages-2Mi": "2Mi"}, "limits": {"cpu": "2", "hugepages-2Mi": "2Mi"}});
        // cpu comes from the pod level; hugepages are not a pod-level resource here.
        assert_eq!(
            refusal(validate(&pod_create(&obj), &ranges)),
            "pods \"p\" is forbidden: maximum hugepages-2Mi usage per Pod is 2Mi, but limit is 4Mi"
        );
        obj["spec"]["resources"]["limits"]["cpu"] = json!("2500m");
        obj["spec"]["containers"][0]["resources"] = json!({"requests": {"cpu": "100m"}, "limits": {"cpu": "100m"}});
        // The pod-level hugepages limit does not stand in for the containers' missing one.
        assert_eq!(
            refusal(validate(&pod_create(&obj), &ranges)),
            "pods \"p\" is forbidden: [maximum cpu usage per Pod is 2, but limit is 2500m, maximum hugepages-2Mi usage per Pod is 2Mi.  No limit is specified]"
        );
    }

    #[test]
    fn claims_min_and_max_on_requests() {
        let ranges = vec![range(json!([
            {"type": "PersistentVolumeClaim", "min": {"storage": "1Gi"}, "max": {"storage": "10Gi"}},
            {"type": "Container", "max": {"cpu": "1"}}
        ]))];
        let claim =
            |resources: Value| json!({"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": resources}});
        let check = |c: &Value| validate(&pvc_create(c), &ranges);
        assert!(check(&claim(json!({"requests": {"storage": "5Gi"}, "limits": {"storage": "100Gi"}}))).is_ok());
        assert_eq!(
            refusal(check(&claim(json!({"requests": {"storage": "20Gi"}})))),
            "persistentvolumeclaims \"data\" is forbidden: maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 20Gi"
        );
        assert_eq!(
            refusal(check(&claim(json!({"requests": {"storage": "500Mi"}})))),
            "persistentvolumeclaims \"data\" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi"
        );
        assert_eq!(
            refusal(check(&claim(json!({})))),
            "persistentvolumeclaims \"data\" is forbidden: [minimum storage usage per PersistentVolumeClaim is 1Gi.  No request is specified, maximum storage usage per PersistentVolumeClaim is 10Gi.  No request is specified]"
        );
        // Claim updates (an expansion) are checked too.
        let big = claim(json!({"requests": {"storage": "11Gi"}}));
        let update = Request { operation: Operation::Update, name: "data", ..pvc_create(&big) };
        assert!(
            refusal(validate(&update, &ranges)).ends_with("maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 11Gi")
        );
    }

    #[test]
    fn objects_being_deleted_are_left_alone() {
        let ranges = container_range(json!({"max": {"cpu": "1"}, "default": {"memory": "1Gi"}}));
        let obj = pod(json!([ctr("c", json!({"cpu": "2"}), json!({"cpu": "2"}))]));
        let old = json!({"metadata": {"name": "p", "deletionTimestamp": "2026-01-01T00:00:00Z"}});
        let resize = Request { old_object: Some(&old), name: "p", ..req(Operation::Update, "Pod", "pods", "resize", &obj) };
        assert!(validate(&resize, &ranges).is_ok());
        assert_eq!(mutate(&resize, &ranges).unwrap(), None);
        let live = json!({"metadata": {"name": "p", "deletionTimestamp": null}});
        let resize = Request { old_object: Some(&live), ..resize };
        assert!(validate(&resize, &ranges).is_err());
        let broken = json!("not an object");
        let resize = Request { old_object: Some(&broken), ..resize };
        assert_eq!(refusal(validate(&resize, &ranges)), "pods \"p\" is forbidden: object does not implement the Object interfaces");
    }

    #[test]
    fn resizes_are_defaulted_and_checked() {
        let ranges = container_range(json!({"max": {"cpu": "1"}, "defaultRequest": {"memory": "64Mi"}}));
        let obj = pod(json!([ctr("c", json!({"cpu": "2"}), json!({"cpu": "2"}))]));
        let old = pod(json!([ctr("c", json!({"cpu": "1"}), json!({"cpu": "1"}))]));
        let resize = Request { old_object: Some(&old), name: "p", ..req(Operation::Update, "Pod", "pods", "resize", &obj) };
        assert_eq!(refusal(validate(&resize, &ranges)), "pods \"p\" is forbidden: maximum cpu usage per Container is 1, but limit is 2");
        let got = mutate(&resize, &ranges).unwrap().unwrap();
        assert_eq!(got["spec"]["containers"][0]["resources"]["requests"], json!({"cpu": "2", "memory": "64Mi"}));
    }

    #[test]
    fn unhandled_requests_are_neither_changed_nor_refused() {
        let ranges = container_range(json!({"max": {"cpu": "1"}, "default": {"memory": "1Gi"}}));
        let obj = pod(json!([ctr("c", json!({"cpu": "2"}), json!({"cpu": "2"}))]));
        for r in [
            req(Operation::Update, "Pod", "pods", "", &obj),
            req(Operation::Update, "Pod", "pods", "status", &obj),
            req(Operation::Update, "Pod", "pods", "ephemeralcontainers", &obj),
            req(Operation::Delete, "Pod", "pods", "", &obj),
            req(Operation::Create, "PodTemplate", "podtemplates", "", &obj),
        ] {
            assert!(validate(&r, &ranges).is_ok(), "{r:?}");
            assert_eq!(mutate(&r, &ranges).unwrap(), None, "{r:?}");
        }
    }

    #[test]
    fn the_refusal_names_the_request_then_the_object() {
        let ranges = container_range(json!({"max": {"cpu": "1"}}));
        let c = json!([ctr("c", json!({"cpu": "2"}), json!({"cpu": "2"}))]);
        let generated = json!({"metadata": {"generateName": "web-"}, "spec": {"containers": c}});
        assert!(refusal(validate(&pod_create(&generated), &ranges)).starts_with("pods \"web-\" is forbidden: "));
        let nameless = json!({"spec": {"containers": c}});
        assert!(refusal(validate(&pod_create(&nameless), &ranges)).starts_with("pods \"Unknown\" is forbidden: "));
        let named = Request { name: "req-name", ..pod_create(&generated) };
        assert!(refusal(validate(&named, &ranges)).starts_with("pods \"req-name\" is forbidden: "));
    }

    #[test]
    fn malformed_objects_are_bad_requests() {
        let ranges = container_range(json!({"max": {"cpu": "1"}, "default": {"cpu": "1"}}));
        let bad = |obj: &Value| {
            let v = validate(&pod_create(obj), &ranges).unwrap_err();
            assert_eq!((v.code, v.reason), (400, "BadRequest"), "{}", v.message);
            let m = mutate(&pod_create(obj), &ranges).unwrap_err();
            assert_eq!((m.code, m.reason), (400, "BadRequest"), "{}", m.message);
            v.message
        };
        assert_eq!(
            bad(&json!({"metadata": {"name": "p"}, "spec": {"containers": "nginx"}})),
            "Pod in version \"v1\" cannot be handled as a Pod: spec.containers: expected an array"
        );
        assert_eq!(
            bad(&pod(json!([ctr("c", json!({"cpu": "lots"}), json!({}))]))),
            format!(
                "Pod in version \"v1\" cannot be handled as a Pod: spec.containers[0].resources.requests.cpu: {}",
                quantity::FORMAT_ERR
            )
        );
        bad(&pod(json!([{"name": "c", "resources": {"limits": ["cpu"]}}])));
        bad(&pod(json!([{"name": "c", "resources": "big"}])));
        bad(&pod(json!(["nginx"])));
        bad(&json!({"metadata": {"name": "p"}, "spec": "nope"}));
        bad(&json!("a pod"));
        bad(&json!({"metadata": {"name": "p"}, "spec": {"initContainers": [{"name": "i", "resources": {"requests": {"cpu": true}}}]}}));
        let claim = json!({"metadata": {"name": "d"}, "spec": {"resources": {"requests": {"storage": "x"}}}});
        let pvc_ranges = vec![range(json!([{"type": "PersistentVolumeClaim", "max": {"storage": "1Gi"}}]))];
        assert_eq!(validate(&pvc_create(&claim), &pvc_ranges).unwrap_err().code, 400);
        // Without LimitRanges the plugin reads nothing.
        let odd = json!({"spec": {"containers": 7}});
        assert!(validate(&pod_create(&odd), &[]).is_ok());
        assert_eq!(mutate(&pod_create(&odd), &[]).unwrap(), None);
    }

    #[test]
    fn bare_numbers_and_nulls_read_as_the_api_reads_them() {
        let ranges = container_range(json!({"max": {"cpu": "1"}, "default": {"cpu": "1", "memory": "1Gi"}}));
        let obj = pod(json!([{"name": "c", "resources": {"requests": {"cpu": 0.5}, "limits": {"cpu": 2, "memory": null}}}]));
        assert_eq!(
            refusal(validate(&pod_create(&obj), &ranges)),
            "pods \"p\" is forbidden: maximum cpu usage per Container is 1, but limit is 2"
        );
        // A null entry counts as present: no default replaces it.
        let got = mutate(&pod_create(&obj), &ranges).unwrap().unwrap();
        assert_eq!(got["spec"]["containers"][0]["resources"]["limits"], json!({"cpu": 2, "memory": null}));
        assert_eq!(got["spec"]["containers"][0]["resources"]["requests"], json!({"cpu": 0.5, "memory": "1Gi"}));
    }
}
