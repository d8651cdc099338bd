//! Validation as kube-apiserver v1.36 does it on create and update, for the
//! kinds Rudder's controllers and their users rely on: object metadata,
//! pods and pod templates, the apps/v1 workloads, Jobs, CronJobs, HPAs,
//! Namespaces, Services, ConfigMaps, Secrets, PodDisruptionBudgets,
//! PriorityClasses, Leases and Events (both APIs).
//!
//! Objects arrive already defaulted (and so known to decode into the typed
//! structs); validation reads them as JSON, so that a missing field and an
//! empty one stay apart as they do for upstream. Messages follow upstream's
//! wording (`pkg/apis/*/validation`), because clients match on them; a value
//! upstream prints with Go's `%#v` is rendered in that form.
//!
//! What is not validated here is accepted as stored; kinds with no rules of
//! their own get the metadata checks only.

use std::collections::{BTreeMap, BTreeSet};

use rudder_common::field::{FieldError, FieldPath, Rendered, go_quote};
use rudder_common::selector::{
    Selector, is_dns1035_label, is_dns1123_label, is_dns1123_subdomain, is_label_key, validate_label_selector, validate_labels,
};
use serde_json::Value;

use crate::defaults::quantity::{self, Qty};

type Errs = Vec<FieldError>;

/// Validates `obj` of (group, version, kind); `old` is the stored object on
/// update. Empty means valid.
pub fn validate(group: &str, version: &str, kind: &str, obj: &Value, old: Option<&Value>) -> Errs {
    if kind == "Event" && (group.is_empty() || group == "events.k8s.io") {
        return event(group, obj, old);
    }
    let mut e = Errs::new();
    let name_rule = name_rule(group, kind);
    meta(obj, name_rule, &mut e);
    if let Some(old) = old {
        meta_update(obj, old, &mut e);
    }
    let spec = FieldPath::root("spec");
    match (group, kind) {
        ("", "Pod") => {
            pod_spec(get(obj, "spec"), &spec, &mut e);
            if let Some(old) = old {
                pod_update(obj, old, &mut e);
            }
        }
        ("", "PodTemplate") => pod_template(get(obj, "template"), &FieldPath::root("template"), &mut e),
        ("", "ReplicationController") => replication_controller(obj, &mut e),
        ("", "Namespace") => {}
        ("", "Service") => {
            service(obj, &mut e);
            if let Some(old) = old {
                service_cluster_ips_update(obj, old, &mut e);
            }
        }
        ("", "ConfigMap") => config_map(obj, &mut e),
        ("", "Secret") => secret(obj, old, &mut e),
        ("apps", "Deployment" | "ReplicaSet" | "DaemonSet" | "StatefulSet") => {
            match kind {
                "Deployment" => deployment(obj, &mut e),
                "ReplicaSet" => replica_set(obj, &mut e),
                "DaemonSet" => daemon_set(obj, &mut e),
                _ => stateful_set(obj, &mut e),
            }
            immutable_selector(obj, old, &mut e);
        }
        ("batch", "Job") => {
            job_spec(get(obj, "spec"), &spec, &mut e);
            if let Some(old) = old {
                job_update(obj, old, &mut e);
            }
        }
        ("batch", "CronJob") => cron_job(obj, &mut e),
        ("autoscaling", "HorizontalPodAutoscaler") => hpa(version, obj, &mut e),
        ("policy", "PodDisruptionBudget") => pdb(obj, &mut e),
        ("scheduling.k8s.io", "PriorityClass") => priority_class(obj, old, &mut e),
        ("coordination.k8s.io", "Lease") => lease(obj, &mut e),
        ("resource.k8s.io", "ResourceClaim") => {
            claim_spec(get(obj, "spec"), &spec, &mut e);
            immutable_spec(obj, old, &mut e);
        }
        ("resource.k8s.io", "ResourceClaimTemplate") => {
            claim_spec(at(obj, "/spec/spec"), &spec.child("spec"), &mut e);
            immutable_spec(obj, old, &mut e);
        }
        _ => {}
    }
    e
}

// ---------------------------------------------------------------------------
// JSON access

fn get<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.get(key).unwrap_or(&Value::Null)
}

fn at<'a>(v: &'a Value, ptr: &str) -> &'a Value {
    v.pointer(ptr).unwrap_or(&Value::Null)
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn items(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object().map(|m| m.iter().map(|(k, v)| (k.clone(), str_of(v).to_string())).collect()).unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Go renderings of values upstream prints with %#v

fn go_string_map(m: &BTreeMap<String, String>) -> String {
    if m.is_empty() {
        return "map[string]string(nil)".into();
    }
    let body: Vec<String> = m.iter().map(|(k, v)| format!("{}:{}", go_quote(k), go_quote(v))).collect();
    format!("map[string]string{{{}}}", body.join(", "))
}

fn go_strings(v: &Value) -> String {
    match v.as_array() {
        None => "[]string(nil)".into(),
        Some(a) => format!("[]string{{{}}}", a.iter().map(|s| go_quote(str_of(s))).collect::<Vec<_>>().join(", ")),
    }
}

/// A `*metav1.LabelSelector` as `%#v` prints it (upstream dereferences the pointer).
fn go_selector(sel: &Value) -> Rendered {
    if sel.is_null() {
        return Rendered("null".into());
    }
    let labels = if get(sel, "matchLabels").is_null() {
        "map[string]string(nil)".into()
    } else {
        go_string_map(&string_map(get(sel, "matchLabels")))
    };
    let exprs = match get(sel, "matchExpressions").as_array() {
        None => "[]v1.LabelSelectorRequirement(nil)".to_string(),
        Some(a) => {
            let reqs: Vec<String> = a
                .iter()
                .map(|r| {
                    format!(
                        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{}}}",
                        go_quote(str_of(get(r, "key"))),
                        go_quote(str_of(get(r, "operator"))),
                        go_strings(get(r, "values"))
                    )
                })
                .collect();
            format!("[]v1.LabelSelectorRequirement{{{}}}", reqs.join(", "))
        }
    };
    Rendered(format!("v1.LabelSelector{{MatchLabels:{labels}, MatchExpressions:{exprs}}}"))
}

/// An `intstr.IntOrString` as `%#v` prints it.
fn go_int_or_string(v: &Value) -> Rendered {
    match v {
        Value::String(s) => Rendered(format!("intstr.IntOrString{{Type:1, IntVal:0, StrVal:{}}}", go_quote(s))),
        other => Rendered(format!("intstr.IntOrString{{Type:0, IntVal:{}, StrVal:\"\"}}", other.as_i64().unwrap_or(0))),
    }
}

// ---------------------------------------------------------------------------
// common field rules

const NONNEGATIVE: &str = "must be greater than or equal to 0";
const IMMUTABLE: &str = "field is immutable";

fn nonnegative(v: &Value, path: &FieldPath, e: &mut Errs) {
    if let Some(n) = v.as_i64()
        && n < 0
    {
        e.push(FieldError::invalid(path, n, NONNEGATIVE));
    }
}

fn positive(v: &Value, path: &FieldPath, e: &mut Errs) {
    if let Some(n) = v.as_i64()
        && n <= 0
    {
        e.push(FieldError::invalid(path, n, "must be greater than 0"));
    }
}

fn names_errs(path: &FieldPath, value: &str, msgs: Vec<String>, e: &mut Errs) {
    for m in msgs {
        e.push(FieldError::invalid(path, value, m));
    }
}

fn qualified_name(v: &str, path: &FieldPath, e: &mut Errs) {
    names_errs(path, v, is_label_key(v), e);
}

/// `^[0-9]+%$` (upstream `IsValidPercent`).
fn is_percent(s: &str) -> bool {
    s.strip_suffix('%').is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Upstream `ValidatePositiveIntOrPercent`.
fn int_or_percent(v: &Value, path: &FieldPath, e: &mut Errs) {
    match v {
        Value::String(s) if !is_percent(s) => {
            e.push(FieldError::invalid(path, s.as_str(), "must be an integer or percentage (e.g '5%')"));
        }
        Value::Number(_) => nonnegative(v, path, e),
        _ => {}
    }
}

/// The integer or percentage of an int-or-string (upstream `getIntOrPercentValue`).
fn int_or_percent_value(v: &Value) -> i64 {
    match v {
        Value::String(s) => s.trim_end_matches('%').parse().unwrap_or(0),
        other => other.as_i64().unwrap_or(0),
    }
}

fn not_more_than_100_percent(v: &Value, path: &FieldPath, e: &mut Errs) {
    if let Value::String(s) = v
        && is_percent(s)
        && int_or_percent_value(v) > 100
    {
        e.push(FieldError::invalid(path, s.as_str(), "must not be greater than 100%"));
    }
}

// ---------------------------------------------------------------------------
// metadata

/// How a kind's names are checked (upstream's `ValidateNameFunc`s).
#[derive(Clone, Copy)]
enum NameRule {
    Subdomain,
    Label,
    Dns1035,
    PathSegment,
}

fn name_rule(group: &str, kind: &str) -> NameRule {
    match (group, kind) {
        ("", "Namespace") => NameRule::Label,
        ("", "Service") => NameRule::Dns1035,
        ("rbac.authorization.k8s.io", _) => NameRule::PathSegment,
        _ => NameRule::Subdomain,
    }
}

fn check_name(rule: NameRule, name: &str, prefix: bool) -> Vec<String> {
    // A generateName prefix is checked as a name with its trailing dash cut.
    let name = if prefix { name.strip_suffix('-').unwrap_or(name) } else { name };
    match rule {
        NameRule::Subdomain => is_dns1123_subdomain(name),
        NameRule::Label => is_dns1123_label(name),
        NameRule::Dns1035 => is_dns1035_label(name),
        NameRule::PathSegment => {
            let mut m = Vec::new();
            if name == "." || name == ".." {
                m.push(format!("may not be '{name}'"));
            }
            for bad in ["/", "%"] {
                if name.contains(bad) {
                    m.push(format!("may not contain '{bad}'"));
                }
            }
            m
        }
    }
}

const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

fn meta(obj: &Value, rule: NameRule, e: &mut Errs) {
    let m = get(obj, "metadata");
    let path = FieldPath::root("metadata");
    let name = str_of(get(m, "name"));
    let generate = str_of(get(m, "generateName"));
    if !generate.is_empty() {
        names_errs(&path.child("generateName"), generate, check_name(rule, generate, true), e);
    }
    if name.is_empty() {
        e.push(FieldError::required(path.child("name"), "name or generateName is required"));
    } else {
        names_errs(&path.child("name"), name, check_name(rule, name, false), e);
    }
    let ns = str_of(get(m, "namespace"));
    if !ns.is_empty() {
        names_errs(&path.child("namespace"), ns, is_dns1123_label(ns), e);
    }
    e.extend(validate_labels(&string_map(get(m, "labels")), "metadata.labels"));
    let annotations = path.child("annotations");
    let mut size = 0;
    if let Some(a) = get(m, "annotations").as_object() {
        for (k, v) in a {
            qualified_name(&k.to_lowercase(), &annotations, e);
            size += k.len() + str_of(v).len();
        }
    }
    if size > TOTAL_ANNOTATION_SIZE_LIMIT {
        e.push(FieldError::too_long(&annotations, TOTAL_ANNOTATION_SIZE_LIMIT));
    }
    let finalizers = path.child("finalizers");
    let mut seen = BTreeSet::new();
    for (i, f) in items(get(m, "finalizers")).iter().enumerate() {
        let f = str_of(f);
        qualified_name(f, &finalizers.index(i), e);
        if !seen.insert(f) {
            e.push(FieldError::duplicate(finalizers.index(i), f));
        }
    }
    owner_references(get(m, "ownerReferences"), &path.child("ownerReferences"), e);
}

fn owner_references(refs: &Value, path: &FieldPath, e: &mut Errs) {
    let mut controllers = Vec::new();
    for r in items(refs) {
        let api_version = str_of(get(r, "apiVersion"));
        if api_version.is_empty() || str_of(get(r, "kind")).is_empty() {
            let gvk = format!("{}, Kind={}", api_version, str_of(get(r, "kind")));
            e.push(FieldError::invalid(path, gvk, "version must not be empty"));
        }
        if str_of(get(r, "name")).is_empty() {
            e.push(FieldError::invalid(path.child("name"), "", "name must not be empty"));
        }
        if str_of(get(r, "uid")).is_empty() {
            e.push(FieldError::invalid(path.child("uid"), "", "uid must not be empty"));
        }
        if get(r, "controller").as_bool() == Some(true) {
            controllers.push(format!("Kind={}, Name={}", str_of(get(r, "kind")), str_of(get(r, "name"))));
        }
    }
    if controllers.len() > 1 {
        e.push(FieldError::invalid(
            path,
            Rendered(format!("{refs}")),
            format!("Only one reference can have Controller set to true. Found \"true\" in references for {}", controllers.join(" and ")),
        ));
    }
}

fn meta_update(new: &Value, old: &Value, e: &mut Errs) {
    let path = FieldPath::root("metadata");
    for k in ["name", "namespace", "uid"] {
        let (n, o) = (str_of(at(new, &format!("/metadata/{k}"))), str_of(at(old, &format!("/metadata/{k}"))));
        if n != o {
            e.push(FieldError::invalid(path.child(k), n, IMMUTABLE));
        }
    }
}

// ---------------------------------------------------------------------------
// pods

const RESTART_POLICIES: [&str; 3] = ["Always", "OnFailure", "Never"];
const DNS_POLICIES: [&str; 4] = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
const PULL_POLICIES: [&str; 3] = ["Always", "IfNotPresent", "Never"];
const PROTOCOLS: [&str; 3] = ["SCTP", "TCP", "UDP"];

fn pod_template(t: &Value, path: &FieldPath, e: &mut Errs) {
    if t.is_null() {
        e.push(FieldError::required(path, ""));
        return;
    }
    let m = get(t, "metadata");
    e.extend(validate_labels(&string_map(get(m, "labels")), &path.child("metadata").child("labels").render()));
    pod_spec(get(t, "spec"), &path.child("spec"), e);
}

fn pod_spec(spec: &Value, path: &FieldPath, e: &mut Errs) {
    let mut names = BTreeSet::new();
    let containers = get(spec, "containers");
    if items(containers).is_empty() {
        e.push(FieldError::required(path.child("containers"), ""));
    }
    for (list, key) in [("initContainers", "initContainers"), ("containers", "containers")] {
        for (i, c) in items(get(spec, list)).iter().enumerate() {
            container(c, &path.child(key).index(i), &mut names, e);
        }
    }
    required_enum(spec, "restartPolicy", &RESTART_POLICIES, path, e);
    required_enum(spec, "dnsPolicy", &DNS_POLICIES, path, e);
    let node = str_of(get(spec, "nodeName"));
    if !node.is_empty() {
        names_errs(&path.child("nodeName"), node, is_dns1123_subdomain(node), e);
    }
    e.extend(validate_labels(&string_map(get(spec, "nodeSelector")), &path.child("nodeSelector").render()));
    nonnegative(get(spec, "terminationGracePeriodSeconds"), &path.child("terminationGracePeriodSeconds"), e);
    if let Some(n) = get(spec, "activeDeadlineSeconds").as_i64()
        && n <= 0
    {
        e.push(FieldError::invalid(path.child("activeDeadlineSeconds"), n, "must be between 1 and 2147483647, inclusive"));
    }
    for (i, t) in items(get(spec, "tolerations")).iter().enumerate() {
        toleration(t, &path.child("tolerations").index(i), e);
    }
    let mut volumes = BTreeSet::new();
    for (i, v) in items(get(spec, "volumes")).iter().enumerate() {
        let p = path.child("volumes").index(i);
        let name = str_of(get(v, "name"));
        if name.is_empty() {
            e.push(FieldError::required(p.child("name"), ""));
        } else {
            names_errs(&p.child("name"), name, is_dns1123_label(name), e);
            if !volumes.insert(name) {
                e.push(FieldError::duplicate(p.child("name"), name));
            }
        }
    }
}

/// A required field with a fixed set of values: Required when empty,
/// Unsupported when outside the set.
fn required_enum(spec: &Value, key: &str, valid: &[&str], path: &FieldPath, e: &mut Errs) {
    let v = str_of(get(spec, key));
    if v.is_empty() {
        e.push(FieldError::required(path.child(key), ""));
    } else if !valid.contains(&v) {
        e.push(FieldError::not_supported(path.child(key), v, valid));
    }
}

fn container<'a>(c: &'a Value, path: &FieldPath, names: &mut BTreeSet<&'a str>, e: &mut Errs) {
    let name = str_of(get(c, "name"));
    if name.is_empty() {
        e.push(FieldError::required(path.child("name"), ""));
    } else {
        names_errs(&path.child("name"), name, is_dns1123_label(name), e);
        if !names.insert(name) {
            e.push(FieldError::duplicate(path.child("name"), name));
        }
    }
    if str_of(get(c, "image")).trim().is_empty() {
        e.push(FieldError::required(path.child("image"), ""));
    }
    let pull = str_of(get(c, "imagePullPolicy"));
    if !pull.is_empty() && !PULL_POLICIES.contains(&pull) {
        e.push(FieldError::not_supported(path.child("imagePullPolicy"), pull, &PULL_POLICIES));
    }
    let mut port_names = BTreeSet::new();
    for (i, p) in items(get(c, "ports")).iter().enumerate() {
        let pp = path.child("ports").index(i);
        if let Some(n) = get(p, "containerPort").as_i64() {
            if !(1..=65535).contains(&n) {
                e.push(FieldError::invalid(pp.child("containerPort"), n, "must be between 1 and 65535, inclusive"));
            }
        } else {
            e.push(FieldError::required(pp.child("containerPort"), ""));
        }
        if let Some(n) = get(p, "hostPort").as_i64()
            && n != 0
            && !(1..=65535).contains(&n)
        {
            e.push(FieldError::invalid(pp.child("hostPort"), n, "must be between 1 and 65535, inclusive"));
        }
        let proto = str_of(get(p, "protocol"));
        if !proto.is_empty() && !PROTOCOLS.contains(&proto) {
            e.push(FieldError::not_supported(pp.child("protocol"), proto, &PROTOCOLS));
        }
        let pname = str_of(get(p, "name"));
        if !pname.is_empty() && !port_names.insert(pname) {
            e.push(FieldError::duplicate(pp.child("name"), pname));
        }
    }
    for (i, env) in items(get(c, "env")).iter().enumerate() {
        if str_of(get(env, "name")).is_empty() {
            e.push(FieldError::required(path.child("env").index(i).child("name"), ""));
        }
    }
    resources(get(c, "resources"), &path.child("resources"), e);
}

/// Upstream `ValidateResourceRequirements`: quantities non-negative,
/// requests not above limits, integers for extended resources.
fn resources(r: &Value, path: &FieldPath, e: &mut Errs) {
    let parse = |v: &Value| quantity::parse(str_of(v)).ok().or_else(|| v.as_i64().and_then(|n| quantity::parse(&n.to_string()).ok()));
    let mut limits: BTreeMap<&str, Qty> = BTreeMap::new();
    for (part, map) in [("limits", get(r, "limits")), ("requests", get(r, "requests"))] {
        let Some(m) = map.as_object() else { continue };
        for (name, v) in m {
            let p = path.child(part).key(name);
            let Some(q) = parse(v) else { continue };
            let shown = Rendered(go_quote(str_of(v)));
            if q.sign() < 0 {
                e.push(FieldError::invalid(&p, shown.clone(), NONNEGATIVE));
            }
            if !crate::defaults::native_resource(name) && !name.starts_with("requests.") && !q.is_integer() {
                e.push(FieldError::invalid(&p, shown.clone(), "must be an integer"));
            }
            if part == "limits" {
                limits.insert(name.as_str(), q);
            } else if let Some(l) = limits.get(name.as_str()) {
                if q.cmp_value(l).is_gt() {
                    let limit = str_of(at(r, &format!("/limits/{name}")));
                    e.push(FieldError::invalid(&p, shown, format!("must be less than or equal to {name} limit of {limit}")));
                }
            } else if !crate::defaults::overcommit_allowed(name) && !crate::defaults::native_resource(name) {
                e.push(FieldError::forbidden(&p, "Limit must be set for non overcommitable resources"));
            }
        }
    }
}

const TOLERATION_OPERATORS: [&str; 2] = ["Equal", "Exists"];
const TAINT_EFFECTS: [&str; 3] = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

fn toleration(t: &Value, path: &FieldPath, e: &mut Errs) {
    let key = str_of(get(t, "key"));
    if !key.is_empty() {
        qualified_name(key, &path.child("key"), e);
    }
    let op = str_of(get(t, "operator"));
    if key.is_empty() && op != "Exists" {
        e.push(FieldError::invalid(
            path.child("operator"),
            op,
            "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
        ));
    }
    if t.get("tolerationSeconds").is_some_and(|v| !v.is_null()) && str_of(get(t, "effect")) != "NoExecute" {
        e.push(FieldError::invalid(
            path.child("effect"),
            str_of(get(t, "effect")),
            "effect must be 'NoExecute' when `tolerationSeconds` is set",
        ));
    }
    match op {
        "" | "Equal" => {
            let v = str_of(get(t, "value"));
            names_errs(&path.child("operator"), v, rudder_common::selector::is_label_value(v), e);
        }
        "Exists" => {
            if !str_of(get(t, "value")).is_empty() {
                e.push(FieldError::invalid(
                    path.child("operator"),
                    Rendered(format!("{t}")),
                    "value must be empty when `operator` is 'Exists'",
                ));
            }
        }
        other => e.push(FieldError::not_supported(path.child("operator"), other, &TOLERATION_OPERATORS)),
    }
    let effect = str_of(get(t, "effect"));
    if !effect.is_empty() && !TAINT_EFFECTS.contains(&effect) {
        e.push(FieldError::not_supported(path.child("effect"), effect, &TAINT_EFFECTS));
    }
}

const POD_UPDATE_MESSAGE: &str = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/// Upstream `ValidatePodUpdate`: the spec is immutable but for images,
/// activeDeadlineSeconds (set, or lowered), additions to tolerations and
/// removals of scheduling gates.
fn pod_update(new: &Value, old: &Value, e: &mut Errs) {
    let (ns, os) = (get(new, "spec"), get(old, "spec"));
    let path = FieldPath::root("spec");
    if let (Some(n), Some(o)) = (get(ns, "activeDeadlineSeconds").as_i64(), get(os, "activeDeadlineSeconds").as_i64())
        && n > o
    {
        e.push(FieldError::invalid(path.child("activeDeadlineSeconds"), n, "must be less than or equal to previous value"));
    }
    if get(ns, "activeDeadlineSeconds").is_null() && !get(os, "activeDeadlineSeconds").is_null() {
        e.push(FieldError::invalid(
            path.child("activeDeadlineSeconds"),
            Rendered("null".into()),
            "must not update from a positive integer to nil value",
        ));
    }
    let old_tolerations = items(get(os, "tolerations"));
    for t in old_tolerations {
        if !items(get(ns, "tolerations")).contains(t) {
            e.push(FieldError::forbidden(
                path.child("tolerations"),
                "existing toleration can not be modified except its tolerationSeconds",
            ));
            break;
        }
    }
    let old_gates: Vec<&Value> = items(get(os, "schedulingGates")).iter().collect();
    if items(get(ns, "schedulingGates")).iter().any(|g| !old_gates.contains(&g)) {
        e.push(FieldError::forbidden(path.child("schedulingGates"), "only deletion is allowed, but found new scheduling gate"));
    }
    let strip = |spec: &Value| {
        let mut s = spec.clone();
        if let Some(m) = s.as_object_mut() {
            for k in ["activeDeadlineSeconds", "tolerations", "schedulingGates"] {
                m.remove(k);
            }
            if m.get("terminationGracePeriodSeconds").and_then(Value::as_i64).is_some_and(|n| n < 0) {
                m.insert("terminationGracePeriodSeconds".into(), Value::from(1));
            }
            for list in ["containers", "initContainers"] {
                if let Some(cs) = m.get_mut(list).and_then(Value::as_array_mut) {
                    for c in cs {
                        if let Some(c) = c.as_object_mut() {
                            c.remove("image");
                        }
                    }
                }
            }
        }
        s
    };
    if strip(ns) != strip(os) {
        e.push(FieldError::forbidden(&path, POD_UPDATE_MESSAGE));
    }
}

// ---------------------------------------------------------------------------
// apps/v1

/// The selector of a workload: required, valid, not empty; its errors and
/// the parsed selector when it is usable.
fn workload_selector(spec: &Value, path: &FieldPath, what: &str, e: &mut Errs) -> Option<Selector> {
    let sel = get(spec, "selector");
    let p = path.child("selector");
    if sel.is_null() {
        e.push(FieldError::required(&p, ""));
        return None;
    }
    let typed: k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector = serde_json::from_value(sel.clone()).ok()?;
    let errs = validate_label_selector(&typed, &p.render());
    let ok = errs.is_empty();
    e.extend(errs);
    if items(get(sel, "matchExpressions")).is_empty() && get(sel, "matchLabels").as_object().is_none_or(|m| m.is_empty()) {
        e.push(FieldError::invalid(&p, go_selector(sel), format!("empty selector is invalid for {what}")));
        return None;
    }
    if !ok {
        return None;
    }
    match Selector::from_label_selector(Some(&typed)) {
        Ok(s) => Some(s),
        Err(_) => {
            e.push(FieldError::invalid(&p, go_selector(sel), "invalid label selector"));
            None
        }
    }
}

/// Upstream `ValidatePodTemplateSpecForReplicaSet` (also used for
/// Deployments and, without the restart policy rule, elsewhere).
fn template_matching(spec: &Value, sel: Option<&Selector>, path: &FieldPath, e: &mut Errs) {
    let t = get(spec, "template");
    let p = path.child("template");
    if t.is_null() {
        e.push(FieldError::required(&p, ""));
        return;
    }
    let labels = string_map(at(t, "/metadata/labels"));
    if let Some(sel) = sel
        && !sel.is_empty()
        && !sel.matches(&labels)
    {
        e.push(FieldError::invalid(
            p.child("metadata").child("labels"),
            Rendered(go_string_map(&labels)),
            "`selector` does not match template `labels`",
        ));
    }
    pod_template(t, &p, e);
}

fn restart_always(spec: &Value, path: &FieldPath, e: &mut Errs) {
    let rp = str_of(at(spec, "/template/spec/restartPolicy"));
    if !rp.is_empty() && rp != "Always" {
        e.push(FieldError::not_supported(path.child("template").child("spec").child("restartPolicy"), rp, &["Always"]));
    }
}

fn no_active_deadline(spec: &Value, path: &FieldPath, kind: &str, e: &mut Errs) {
    if !at(spec, "/template/spec/activeDeadlineSeconds").is_null() {
        e.push(FieldError::forbidden(
            path.child("template").child("spec").child("activeDeadlineSeconds"),
            format!("activeDeadlineSeconds in {kind} is not Supported"),
        ));
    }
}

fn replica_set(obj: &Value, e: &mut Errs) {
    let spec = get(obj, "spec");
    let path = FieldPath::root("spec");
    nonnegative(get(spec, "replicas"), &path.child("replicas"), e);
    nonnegative(get(spec, "minReadySeconds"), &path.child("minReadySeconds"), e);
    let sel = workload_selector(spec, &path, "deployment", e);
    template_matching(spec, sel.as_ref(), &path, e);
    restart_always(spec, &path, e);
    no_active_deadline(spec, &path, "ReplicaSet", e);
}

/// Upstream `ValidateReplicationControllerSpec`: the selector is a plain
/// label map (defaulted from the template's labels), required and matching
/// the template.
fn replication_controller(obj: &Value, e: &mut Errs) {
    let spec = get(obj, "spec");
    let path = FieldPath::root("spec");
    nonnegative(get(spec, "replicas"), &path.child("replicas"), e);
    nonnegative(get(spec, "minReadySeconds"), &path.child("minReadySeconds"), e);
    let selector = string_map(get(spec, "selector"));
    let sel = if selector.is_empty() {
        e.push(FieldError::required(path.child("selector"), ""));
        None
    } else {
        match Selector::from_set_validated(&selector) {
            Ok(s) => Some(s),
            Err(err) => {
                e.push(FieldError::invalid(path.child("selector"), Rendered(go_string_map(&selector)), err.message().to_string()));
                None
            }
        }
    };
    template_matching(spec, sel.as_ref(), &path, e);
    restart_always(spec, &path, e);
    no_active_deadline(spec, &path, "ReplicationController", e);
}

fn deployment(obj: &Value, e: &mut Errs) {
    let spec = get(obj, "spec");
    let path = FieldPath::root("spec");
    nonnegative(get(spec, "replicas"), &path.child("replicas"), e);
    let sel = workload_selector(spec, &path, "deployment", e);
    template_matching(spec, sel.as_ref(), &path, e);
    restart_always(spec, &path, e);
    no_active_deadline(spec, &path, "ReplicaSet", e);
    let strategy = get(spec, "strategy");
    let sp = path.child("strategy");
    match str_of(get(strategy, "type")) {
        "Recreate" => {
            if !get(strategy, "rollingUpdate").is_null() {
                e.push(FieldError::forbidden(sp.child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"));
            }
        }
        "RollingUpdate" => {
            let ru = get(strategy, "rollingUpdate");
            if ru.is_null() {
                e.push(FieldError::required(sp.child("rollingUpdate"), "this should be defaulted and never be nil"));
            } else {
                rolling_update(ru, &sp.child("rollingUpdate"), false, e);
            }
        }
        other => e.push(FieldError::not_supported(sp.child("type"), other, &["Recreate", "RollingUpdate"])),
    }
    let min_ready = get(spec, "minReadySeconds");
    nonnegative(min_ready, &path.child("minReadySeconds"), e);
    nonnegative(get(spec, "revisionHistoryLimit"), &path.child("revisionHistoryLimit"), e);
    let pds = get(spec, "progressDeadlineSeconds");
    nonnegative(pds, &path.child("progressDeadlineSeconds"), e);
    if let Some(p) = pds.as_i64()
        && p <= min_ready.as_i64().unwrap_or(0)
    {
        e.push(FieldError::invalid(path.child("progressDeadlineSeconds"), p, "must be greater than minReadySeconds"));
    }
}

/// maxUnavailable and maxSurge of a rolling update: integers or percentages,
/// not both zero, maxUnavailable (and for DaemonSets maxSurge) at most 100%.
fn rolling_update(ru: &Value, path: &FieldPath, surge_capped: bool, e: &mut Errs) {
    let (mu, ms) = (get(ru, "maxUnavailable"), get(ru, "maxSurge"));
    int_or_percent(mu, &path.child("maxUnavailable"), e);
    int_or_percent(ms, &path.child("maxSurge"), e);
    if int_or_percent_value(mu) == 0 && int_or_percent_value(ms) == 0 {
        e.push(FieldError::invalid(path.child("maxUnavailable"), go_int_or_string(mu), "may not be 0 when `maxSurge` is 0"));
    }
    not_more_than_100_percent(mu, &path.child("maxUnavailable"), e);
    if surge_capped {
        not_more_than_100_percent(ms, &path.child("maxSurge"), e);
    }
}

fn daemon_set(obj: &Value, e: &mut Errs) {
    let spec = get(obj, "spec");
    let path = FieldPath::root("spec");
    let sel = workload_selector(spec, &path, "daemonset", e);
    template_matching(spec, sel.as_ref(), &path, e);
    restart_always(spec, &path, e);
    no_active_deadline(spec, &path, "DaemonSet", e);
    nonnegative(get(spec, "minReadySeconds"), &path.child("minReadySeconds"), e);
    nonnegative(get(spec, "revisionHistoryLimit"), &path.child("revisionHistoryLimit"), e);
    let strategy = get(spec, "updateStrategy");
    let sp = path.child("updateStrategy");
    match str_of(get(strategy, "type")) {
        "OnDelete" => {}
        "RollingUpdate" => {
            rolling_update(get(strategy, "rollingUpdate"), &sp.child("rollingUpdate"), true, e);
        }
        other => e.push(FieldError::not_supported(sp.child("type"), other, &["OnDelete", "RollingUpdate"])),
    }
}

fn stateful_set(obj: &Value, e: &mut Errs) {
    let spec = get(obj, "spec");
    let path = FieldPath::root("spec");
    nonnegative(get(spec, "replicas"), &path.child("replicas"), e);
    nonnegative(get(spec, "minReadySeconds"), &path.child("minReadySeconds"), e);
    let sel = workload_selector(spec, &path, "statefulset", e);
    template_matching(spec, sel.as_ref(), &path, e);
    restart_always(spec, &path, e);
    no_active_deadline(spec, &path, "StatefulSet", e);
}

/// apps/v1 selectors cannot change.
fn immutable_selector(new: &Value, old: Option<&Value>, e: &mut Errs) {
    let Some(old) = old else { return };
    let (n, o) = (at(new, "/spec/selector"), at(old, "/spec/selector"));
    if n != o {
        e.push(FieldError::invalid("spec.selector", go_selector(n), IMMUTABLE));
    }
}

// ---------------------------------------------------------------------------
// batch/v1

const JOB_RESTART: [&str; 2] = ["OnFailure", "Never"];

fn job_spec(spec: &Value, path: &FieldPath, e: &mut Errs) {
    for k in ["parallelism", "completions", "backoffLimit", "ttlSecondsAfterFinished"] {
        nonnegative(get(spec, k), &path.child(k), e);
    }
    positive(get(spec, "activeDeadlineSeconds"), &path.child("activeDeadlineSeconds"), e);
    nonnegative(get(spec, "backoffLimitPerIndex"), &path.child("backoffLimitPerIndex"), e);
    let mode = str_of(get(spec, "completionMode"));
    match mode {
        "" | "NonIndexed" => {
            if !get(spec, "backoffLimitPerIndex").is_null() {
                e.push(FieldError::forbidden(path.child("backoffLimitPerIndex"), "requires indexed completion mode"));
            }
        }
        "Indexed" => {
            if get(spec, "completions").is_null() {
                e.push(FieldError::required(path.child("completions"), "when completion mode is Indexed"));
            }
            if let Some(p) = get(spec, "parallelism").as_i64()
                && p > 100_000
            {
                e.push(FieldError::invalid(
                    path.child("parallelism"),
                    p,
                    "must be less than or equal to 100000 when completion mode is Indexed",
                ));
            }
        }
        other => e.push(FieldError::not_supported(path.child("completionMode"), other, &["NonIndexed", "Indexed"])),
    }
    let sel = if get(spec, "selector").is_null() {
        e.push(FieldError::required(path.child("selector"), ""));
        None
    } else {
        workload_selector(spec, path, "job", e)
    };
    template_matching(spec, sel.as_ref(), path, e);
    let rp = str_of(at(spec, "/template/spec/restartPolicy"));
    if !JOB_RESTART.contains(&rp) {
        e.push(FieldError::not_supported(path.child("template").child("spec").child("restartPolicy"), rp, &JOB_RESTART));
    }
    if let Some(pfp) = get(spec, "podFailurePolicy").as_object() {
        if rp != "Never" {
            e.push(FieldError::invalid(
                path.child("template").child("spec").child("restartPolicy"),
                rp,
                "only \"Never\" is supported when podFailurePolicy is specified",
            ));
        }
        let rules = path.child("podFailurePolicy").child("rules");
        for (i, r) in items(pfp.get("rules").unwrap_or(&Value::Null)).iter().enumerate() {
            let action = str_of(get(r, "action"));
            const ACTIONS: [&str; 4] = ["Count", "FailIndex", "FailJob", "Ignore"];
            if !ACTIONS.contains(&action) {
                e.push(FieldError::not_supported(rules.index(i).child("action"), action, &ACTIONS));
            }
            let (codes, conds) = (get(r, "onExitCodes"), get(r, "onPodConditions"));
            if codes.is_null() == conds.is_null() {
                e.push(FieldError::invalid(
                    rules.index(i),
                    Rendered("specifying one of OnExitCodes and OnPodConditions is required".into()),
                    "",
                ));
            }
        }
    }
    let sp = str_of(get(spec, "podReplacementPolicy"));
    if !sp.is_empty() && sp != "Failed" && sp != "TerminatingOrFailed" {
        e.push(FieldError::not_supported(path.child("podReplacementPolicy"), sp, &["Failed", "TerminatingOrFailed"]));
    }
}

/// Upstream `ValidateJobSpecUpdate`: selector, completionMode and (but for
/// elastic indexed jobs) completions are immutable; the template is
/// immutable but for the scheduling directives of a suspended job that
/// never started.
fn job_update(new: &Value, old: &Value, e: &mut Errs) {
    let (ns, os) = (get(new, "spec"), get(old, "spec"));
    let path = FieldPath::root("spec");
    if get(ns, "selector") != get(os, "selector") {
        e.push(FieldError::invalid(path.child("selector"), go_selector(get(ns, "selector")), IMMUTABLE));
    }
    if get(ns, "completionMode") != get(os, "completionMode") {
        e.push(FieldError::invalid(path.child("completionMode"), str_of(get(ns, "completionMode")), IMMUTABLE));
    }
    let elastic = str_of(get(ns, "completionMode")) == "Indexed" && get(ns, "completions") == get(ns, "parallelism");
    if get(ns, "completions") != get(os, "completions") && !elastic {
        let shown = get(ns, "completions").as_i64().map(|n| n.to_string()).unwrap_or_else(|| "null".into());
        e.push(FieldError::invalid(path.child("completions"), Rendered(shown), IMMUTABLE));
    }
    let (nt, ot) = (get(ns, "template"), get(os, "template"));
    if nt != ot {
        let suspended_unstarted = get(os, "suspend").as_bool() == Some(true) && at(old, "/status/startTime").is_null();
        let strip = |t: &Value| {
            let mut t = t.clone();
            if suspended_unstarted {
                if let Some(s) = t.get_mut("spec").and_then(Value::as_object_mut) {
                    for k in ["nodeSelector", "affinity", "tolerations", "schedulingGates"] {
                        s.remove(k);
                    }
                }
                if let Some(m) = t.get_mut("metadata").and_then(Value::as_object_mut) {
                    m.remove("labels");
                    m.remove("annotations");
                }
            }
            t
        };
        if strip(nt) != strip(ot) {
            e.push(FieldError::invalid(path.child("template"), Rendered("core.PodTemplateSpec{...}".into()), IMMUTABLE));
        }
    }
}

/// Upstream `ValidateJobStatusUpdate` with the options the Job status
/// strategy sets (v1.36, JobManagedBy GA): most rules apply only when the
/// fields they read changed, so a status already off (after a spec change)
/// can still be written while the controller fixes it.
pub fn validate_status(group: &str, kind: &str, new: &Value, old: &Value) -> Errs {
    let mut e = Errs::new();
    if (group, kind) == ("batch", "Job") {
        job_status_update(new, old, &mut e);
    }
    e
}

fn condition_true(job: &Value, type_: &str) -> bool {
    items(at(job, "/status/conditions")).iter().any(|c| str_of(get(c, "type")) == type_ && str_of(get(c, "status")) == "True")
}

/// An `Invalid value` error that shows no value (upstream `field.OmitValueType`).
fn invalid_no_value(field: FieldPath, detail: impl Into<String>) -> FieldError {
    FieldError { bad_value: None, ..FieldError::invalid(field, 0, detail) }
}

/// Upstream `parseIndexInterval`.
fn index_interval(s: &str, completions: i64) -> Result<(i64, i64), String> {
    let limits: Vec<&str> = s.split('-').collect();
    if limits.len() > 2 {
        return Err(format!(
            "the fragment {} violates the requirement that an index interval can have at most two parts separated by '-'",
            go_quote(s)
        ));
    }
    let num = |t: &str| t.parse::<i64>().map_err(|_| format!("cannot convert string to integer for index: {}", go_quote(t)));
    let x = num(limits[0])?;
    if x >= completions {
        return Err(format!("too large index: {}", go_quote(limits[0])));
    }
    let Some(second) = limits.get(1) else { return Ok((x, x)) };
    let y = num(second)?;
    if y >= completions {
        return Err(format!("too large index: {}", go_quote(second)));
    }
    if x >= y {
        return Err(format!("non-increasing order, previous: {x}, current: {y}"));
    }
    Ok((x, y))
}

/// Upstream `validateIndexesFormat`: the intervals, or the first problem.
fn indexes_format(s: &str, completions: i64) -> Result<Vec<(i64, i64)>, String> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    let mut out: Vec<(i64, i64)> = Vec::new();
    for part in s.split(',') {
        let (x, y) = index_interval(part, completions)?;
        if let Some((_, last)) = out.last()
            && *last >= x
        {
            return Err(format!("non-increasing order, previous: {last}, current: {x}"));
        }
        out.push((x, y));
    }
    Ok(out)
}

/// Upstream `validateFailedIndexesNotOverlapCompleted` (intervals that do
/// not parse are skipped; the format rules report them).
fn indexes_overlap(completed: &str, failed: &str, completions: i64) -> Option<String> {
    if completed.is_empty() || failed.is_empty() {
        return None;
    }
    let parse = |s: &str| s.split(',').filter_map(|p| index_interval(p, completions).ok()).collect::<Vec<_>>();
    let (c, f) = (parse(completed), parse(failed));
    let (mut i, mut j) = (0, 0);
    while i < c.len() && j < f.len() {
        let ((cx, cy), (fx, fy)) = (c[i], f[j]);
        if cx <= fy && fx <= cy {
            return Some(format!("failedIndexes and completedIndexes overlap at index: {}", cx.max(fx)));
        }
        if cx <= fx {
            i += 1;
        } else {
            j += 1;
        }
    }
    None
}

fn job_status_update(new: &Value, old: &Value, e: &mut Errs) {
    let path = FieldPath::root("status");
    let (st, ost) = (get(new, "status"), get(old, "status"));
    let spec = get(new, "spec");
    let int = |v: &Value, k: &str| get(v, k).as_i64();
    let changed = |k: &str| get(st, k) != get(ost, k);
    let finished = |j: &Value| condition_true(j, "Complete") || condition_true(j, "Failed");
    let (complete, failed) = (condition_true(new, "Complete"), condition_true(new, "Failed"));
    let (failure_target, scm) = (condition_true(new, "FailureTarget"), condition_true(new, "SuccessCriteriaMet"));
    let is_finished = finished(new);
    let finished_changed = is_finished != finished(old);
    let complete_changed = complete != condition_true(old, "Complete");
    let failed_changed = failed != condition_true(old, "Failed");
    let failure_target_changed = failure_target != condition_true(old, "FailureTarget");
    let scm_changed = scm != condition_true(old, "SuccessCriteriaMet");
    let indexed = str_of(get(spec, "completionMode")) == "Indexed";
    let completions = get(spec, "completions").as_i64();
    let per_index = !get(spec, "backoffLimitPerIndex").is_null();

    // validateJobStatus
    for k in ["active", "succeeded", "failed", "ready", "terminating"] {
        nonnegative(get(st, k), &path.child(k), e);
    }
    let uncounted = get(st, "uncountedTerminatedPods");
    let mut seen = BTreeSet::new();
    for list in ["succeeded", "failed"] {
        for (i, uid) in items(get(uncounted, list)).iter().enumerate() {
            let p = path.child("uncountedTerminatedPods").child(list).index(i);
            let uid = str_of(uid);
            if uid.is_empty() {
                e.push(FieldError::invalid(p, uid, "must not be empty"));
            } else if !seen.insert(uid) {
                e.push(FieldError::duplicate(p, uid));
            }
        }
    }
    let conditions = || path.child("conditions");
    if (complete_changed || failed_changed) && complete && failed {
        e.push(invalid_no_value(conditions(), "cannot set Complete=True and Failed=true conditions"));
    }
    if (complete_changed || failure_target_changed) && complete && failure_target {
        e.push(invalid_no_value(conditions(), "cannot set Complete=True and FailureTarget=true conditions"));
    }
    let completion_time = get(st, "completionTime");
    let start_time = get(st, "startTime");
    let time_changed = changed("completionTime");
    if (complete_changed || time_changed) && !completion_time.is_null() && !complete {
        e.push(FieldError::invalid(
            path.child("completionTime"),
            str_of(completion_time),
            "cannot set completionTime when there is no Complete=True condition",
        ));
    }
    if (complete_changed || time_changed) && completion_time.is_null() && complete {
        e.push(FieldError::required(path.child("completionTime"), "completionTime is required for Complete jobs"));
    }
    let parse_time = |v: &Value| str_of(v).parse::<jiff::Timestamp>().ok();
    if (changed("startTime") || time_changed)
        && let (Some(s), Some(c)) = (parse_time(start_time), parse_time(completion_time))
        && c < s
    {
        e.push(FieldError::invalid(path.child("completionTime"), str_of(completion_time), "completionTime cannot be set before startTime"));
    }
    if (failed_changed || failure_target_changed) && failed && !failure_target {
        e.push(invalid_no_value(conditions(), "cannot set Failed=True condition without the FailureTarget=true condition"));
    }
    if (complete_changed || scm_changed) && complete && !scm {
        e.push(invalid_no_value(conditions(), "cannot set Complete=True condition without the SuccessCriteriaMet=true condition"));
    }
    let active = int(st, "active").unwrap_or(0);
    if (finished_changed || changed("active")) && active > 0 && is_finished {
        e.push(FieldError::invalid(path.child("active"), active, "active>0 is invalid for finished job"));
    }
    if (finished_changed || changed("startTime")) && start_time.is_null() && is_finished {
        e.push(FieldError::required(path.child("startTime"), "startTime is required for finished job"));
    }
    let uncounted_n = items(get(uncounted, "succeeded")).len() + items(get(uncounted, "failed")).len();
    if (finished_changed
        || get(uncounted, "succeeded") != at(ost, "/uncountedTerminatedPods/succeeded")
        || get(uncounted, "failed") != at(ost, "/uncountedTerminatedPods/failed"))
        && is_finished
        && uncounted_n > 0
    {
        e.push(FieldError::invalid(
            path.child("uncountedTerminatedPods"),
            Rendered(uncounted.to_string()),
            "uncountedTerminatedPods needs to be empty for finished job",
        ));
    }
    let completed = str_of(get(st, "completedIndexes"));
    let failed_indexes = get(st, "failedIndexes");
    if changed("completedIndexes")
        && let Some(c) = completions
        && let Err(err) = indexes_format(completed, c)
    {
        e.push(FieldError::invalid(path.child("completedIndexes"), completed, format!("error parsing completedIndexes: {err}")));
    }
    if changed("failedIndexes")
        && per_index
        && let (Some(c), Some(f)) = (completions, failed_indexes.as_str())
        && let Err(err) = indexes_format(f, c)
    {
        e.push(FieldError::invalid(path.child("failedIndexes"), f, format!("error parsing failedIndexes: {err}")));
    }
    if changed("completedIndexes") && !completed.is_empty() && !indexed {
        e.push(FieldError::invalid(
            path.child("completedIndexes"),
            completed,
            "cannot set non-empty completedIndexes when non-indexed completion mode",
        ));
    }
    if changed("failedIndexes")
        && !per_index
        && let Some(f) = failed_indexes.as_str()
    {
        e.push(FieldError::invalid(path.child("failedIndexes"), f, "cannot set non-null failedIndexes when backoffLimitPerIndex is null"));
    }
    if (changed("failedIndexes") || changed("completedIndexes"))
        && let (Some(c), Some(f)) = (completions, failed_indexes.as_str())
        && let Some(err) = indexes_overlap(completed, f, c)
    {
        e.push(FieldError::invalid(path.child("failedIndexes"), f, err));
    }
    let terminating = int(st, "terminating").unwrap_or(0);
    if (finished_changed || changed("terminating")) && terminating > 0 && is_finished {
        e.push(FieldError::invalid(path.child("terminating"), terminating, "terminating>0 is invalid for finished job"));
    }
    if (changed("ready") || changed("active"))
        && let Some(ready) = int(st, "ready")
        && ready > active
    {
        e.push(FieldError::invalid(path.child("ready"), ready, "cannot set more ready pods than active"));
    }
    if scm && failed {
        e.push(invalid_no_value(conditions(), "cannot set SuccessCriteriaMet=True and Failed=true conditions"));
    }
    if scm && failure_target {
        e.push(invalid_no_value(conditions(), "cannot set SuccessCriteriaMet=True and FailureTarget=true conditions"));
    }
    if !get(spec, "successPolicy").is_null() && !scm && complete {
        e.push(invalid_no_value(conditions(), "cannot set Complete=True for Job with SuccessPolicy unless SuccessCriteriaMet=True"));
    }

    // ValidateJobStatusUpdate
    for type_ in ["Failed", "Complete", "FailureTarget"] {
        if condition_true(old, type_) && !condition_true(new, type_) {
            e.push(invalid_no_value(conditions(), format!("cannot disable the terminal {type_}=True condition")));
        }
    }
    let (f, of) = (int(st, "failed").unwrap_or(0), int(ost, "failed").unwrap_or(0));
    if f < of {
        e.push(FieldError::invalid(path.child("failed"), f, "cannot decrease the failed counter"));
    }
    // Indexed Jobs scaled down (completions == parallelism) may lose succeeded indexes.
    let scalable = indexed && completions.is_some() && completions == get(spec, "parallelism").as_i64();
    let (s, os) = (int(st, "succeeded").unwrap_or(0), int(ost, "succeeded").unwrap_or(0));
    if !scalable && s < os {
        e.push(FieldError::invalid(path.child("succeeded"), s, "cannot decrease the succeeded counter"));
    }
    if !completion_time.is_null() && !get(ost, "completionTime").is_null() && time_changed {
        e.push(FieldError::invalid(path.child("completionTime"), str_of(completion_time), "completionTime cannot be mutated"));
    }
    if !get(ost, "startTime").is_null() && changed("startTime") && get(spec, "suspend").as_bool() != Some(true) {
        e.push(FieldError::required(path.child("startTime"), "startTime cannot be removed for unsuspended job"));
    }
    if condition_true(old, "SuccessCriteriaMet") && !scm {
        e.push(invalid_no_value(conditions(), "cannot disable the SuccessCriteriaMet=True condition"));
    }
    if condition_true(old, "Complete") && !condition_true(old, "SuccessCriteriaMet") && scm {
        e.push(invalid_no_value(conditions(), "cannot set SuccessCriteriaMet=True for Job already has Complete=true conditions"));
    }
}

fn cron_job(obj: &Value, e: &mut Errs) {
    let spec = get(obj, "spec");
    let path = FieldPath::root("spec");
    if str_of(get(spec, "schedule")).trim().is_empty() {
        e.push(FieldError::required(path.child("schedule"), ""));
    }
    let cp = str_of(get(spec, "concurrencyPolicy"));
    if !["Allow", "Forbid", "Replace"].contains(&cp) {
        e.push(FieldError::not_supported(path.child("concurrencyPolicy"), cp, &["Allow", "Forbid", "Replace"]));
    }
    for k in ["startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"] {
        nonnegative(get(spec, k), &path.child(k), e);
    }
    let js = at(spec, "/jobTemplate/spec");
    let jp = path.child("jobTemplate").child("spec");
    for k in ["parallelism", "completions", "backoffLimit"] {
        nonnegative(get(js, k), &jp.child(k), e);
    }
    template_matching(js, None, &jp, e);
    let rp = str_of(at(js, "/template/spec/restartPolicy"));
    if !JOB_RESTART.contains(&rp) {
        e.push(FieldError::not_supported(jp.child("template").child("spec").child("restartPolicy"), rp, &JOB_RESTART));
    }
}

// ---------------------------------------------------------------------------
// autoscaling

fn hpa(version: &str, obj: &Value, e: &mut Errs) {
    let spec = get(obj, "spec");
    let path = FieldPath::root("spec");
    let r = get(spec, "scaleTargetRef");
    let rp = path.child("scaleTargetRef");
    if str_of(get(r, "kind")).is_empty() {
        e.push(FieldError::required(rp.child("kind"), ""));
    }
    if str_of(get(r, "name")).is_empty() {
        e.push(FieldError::required(rp.child("name"), ""));
    }
    let min = get(spec, "minReplicas").as_i64();
    if let Some(m) = min
        && m < 1
    {
        e.push(FieldError::invalid(path.child("minReplicas"), m, "must be greater than or equal to 1"));
    }
    let max = get(spec, "maxReplicas").as_i64().unwrap_or(0);
    if max < 1 {
        e.push(FieldError::invalid(path.child("maxReplicas"), max, "must be greater than 0"));
    }
    if let Some(m) = min
        && max < m
    {
        e.push(FieldError::invalid(path.child("maxReplicas"), max, "must be greater than or equal to `minReplicas`"));
    }
    if version == "v1" {
        if let Some(t) = get(spec, "targetCPUUtilizationPercentage").as_i64()
            && t < 1
        {
            e.push(FieldError::invalid(path.child("targetCPUUtilizationPercentage"), t, "must be greater than 0"));
        }
        return;
    }
    for (i, m) in items(get(spec, "metrics")).iter().enumerate() {
        hpa_metric(m, &path.child("metrics").index(i), e);
    }
    let b = get(spec, "behavior");
    for dir in ["scaleUp", "scaleDown"] {
        let rules = get(b, dir);
        if rules.is_null() {
            continue;
        }
        let p = path.child("behavior").child(dir);
        if let Some(w) = get(rules, "stabilizationWindowSeconds").as_i64()
            && !(0..=3600).contains(&w)
        {
            let msg = if w < 0 { NONNEGATIVE } else { "must be less than or equal to 3600" };
            e.push(FieldError::invalid(p.child("stabilizationWindowSeconds"), w, msg));
        }
        let sp = str_of(get(rules, "selectPolicy"));
        if !sp.is_empty() && !["Max", "Min", "Disabled"].contains(&sp) {
            e.push(FieldError::not_supported(p.child("selectPolicy"), sp, &["Disabled", "Max", "Min"]));
        }
        let policies = get(rules, "policies");
        if sp != "Disabled" && policies.as_array().is_some_and(Vec::is_empty) {
            e.push(FieldError::required(p.child("policies"), "must specify at least one Policy"));
        }
        for (i, pol) in items(policies).iter().enumerate() {
            let pp = p.child("policies").index(i);
            let ty = str_of(get(pol, "type"));
            if !["Pods", "Percent"].contains(&ty) {
                e.push(FieldError::not_supported(pp.child("type"), ty, &["Percent", "Pods"]));
            }
            positive(get(pol, "value"), &pp.child("value"), e);
            let period = get(pol, "periodSeconds").as_i64().unwrap_or(0);
            if period <= 0 {
                e.push(FieldError::invalid(pp.child("periodSeconds"), period, "must be greater than zero"));
            } else if period > 1800 {
                e.push(FieldError::invalid(pp.child("periodSeconds"), period, "must be less than or equal to 1800"));
            }
        }
    }
}

fn hpa_metric(m: &Value, path: &FieldPath, e: &mut Errs) {
    const TYPES: [&str; 5] = ["ContainerResource", "External", "Object", "Pods", "Resource"];
    let ty = str_of(get(m, "type"));
    let (key, target_ok): (&str, &[&str]) = match ty {
        "Object" => ("object", &["Value", "AverageValue"]),
        "Pods" => ("pods", &["AverageValue"]),
        "Resource" => ("resource", &["Utilization", "AverageValue"]),
        "ContainerResource" => ("containerResource", &["Utilization", "AverageValue"]),
        "External" => ("external", &["Value", "AverageValue"]),
        "" => {
            e.push(FieldError::required(path.child("type"), "must specify a metric source type"));
            return;
        }
        other => {
            e.push(FieldError::not_supported(path.child("type"), other, &TYPES));
            return;
        }
    };
    let src = get(m, key);
    let sp = path.child(key);
    if src.is_null() {
        e.push(FieldError::required(sp, format!("must populate information for the given metric source (only allowed when type is {ty})")));
        return;
    }
    for other in ["object", "pods", "resource", "containerResource", "external"] {
        if other != key && !get(m, other).is_null() {
            e.push(FieldError::forbidden(path.child(other), "must populate the given metric source only"));
        }
    }
    match ty {
        "Resource" | "ContainerResource" => {
            if str_of(get(src, "name")).is_empty() {
                e.push(FieldError::required(sp.child("name"), "must specify a resource name"));
            }
            if ty == "ContainerResource" && str_of(get(src, "container")).is_empty() {
                e.push(FieldError::required(sp.child("container"), "must specify a container"));
            }
        }
        _ => {
            if str_of(at(src, "/metric/name")).is_empty() {
                e.push(FieldError::required(sp.child("metric").child("name"), "must specify a metric name"));
            }
        }
    }
    if ty == "Object" {
        let d = get(src, "describedObject");
        if str_of(get(d, "kind")).is_empty() {
            e.push(FieldError::required(sp.child("describedObject").child("kind"), ""));
        }
        if str_of(get(d, "name")).is_empty() {
            e.push(FieldError::required(sp.child("describedObject").child("name"), ""));
        }
    }
    let target = get(src, "target");
    let tp = sp.child("target");
    let tty = str_of(get(target, "type"));
    if tty.is_empty() {
        e.push(FieldError::required(tp.child("type"), "must specify a metric target type"));
    } else if !target_ok.contains(&tty) {
        e.push(FieldError::not_supported(tp.child("type"), tty, target_ok));
    }
    if let Some(u) = get(target, "averageUtilization").as_i64()
        && u < 1
    {
        e.push(FieldError::invalid(tp.child("averageUtilization"), u, "must be greater than 0"));
    }
    for k in ["value", "averageValue"] {
        if let Some(q) = get(target, k).as_str().and_then(|s| quantity::parse(s).ok())
            && q.sign() <= 0
        {
            e.push(FieldError::invalid(tp.child(k), Rendered(go_quote(str_of(get(target, k)))), "must be positive"));
        }
    }
    let wanted = match tty {
        "Utilization" => "averageUtilization",
        "Value" => "value",
        "AverageValue" => "averageValue",
        _ => return,
    };
    if get(target, wanted).is_null() {
        e.push(FieldError::required(tp.child(wanted), format!("must set {wanted} when metric target type is {tty}")));
    }
}

// ---------------------------------------------------------------------------
// core/v1 others

fn service(obj: &Value, e: &mut Errs) {
    let spec = get(obj, "spec");
    let path = FieldPath::root("spec");
    const TYPES: [&str; 4] = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
    let ty = str_of(get(spec, "type"));
    if !TYPES.contains(&ty) {
        e.push(FieldError::not_supported(path.child("type"), ty, &TYPES));
    }
    let ports = items(get(spec, "ports"));
    let headless = str_of(get(spec, "clusterIP")) == "None";
    if ports.is_empty() && ty != "ExternalName" && !headless {
        e.push(FieldError::required(path.child("ports"), ""));
    }
    let mut names = BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        let pp = path.child("ports").index(i);
        let name = str_of(get(p, "name"));
        if ports.len() > 1 && name.is_empty() {
            e.push(FieldError::required(pp.child("name"), ""));
        } else if !name.is_empty() {
            names_errs(&pp.child("name"), name, is_dns1123_label(name), e);
            if !names.insert(name) {
                e.push(FieldError::duplicate(pp.child("name"), name));
            }
        }
        let port = get(p, "port").as_i64().unwrap_or(0);
        if !(1..=65535).contains(&port) {
            e.push(FieldError::invalid(pp.child("port"), port, "must be between 1 and 65535, inclusive"));
        }
        let proto = str_of(get(p, "protocol"));
        if !proto.is_empty() && !PROTOCOLS.contains(&proto) {
            e.push(FieldError::not_supported(pp.child("protocol"), proto, &PROTOCOLS));
        }
    }
    e.extend(validate_labels(&string_map(get(spec, "selector")), "spec.selector"));
}

/// A Service's ClusterIPs may not change once set, but for a change to or
/// from ExternalName (upstream `validateUpgradeDowngradeClusterIPs`, for a
/// single-stack cluster).
fn service_cluster_ips_update(obj: &Value, old: &Value, e: &mut Errs) {
    let ty = |o: &Value| str_of(at(o, "/spec/type")).to_string();
    if ty(obj) == "ExternalName" || ty(old) == "ExternalName" {
        return;
    }
    let ips = |o: &Value| -> Vec<String> { items(at(o, "/spec/clusterIPs")).iter().map(|v| str_of(v).to_string()).collect() };
    let (new_ips, old_ips) = (ips(obj), ips(old));
    let headless = |v: &[String]| v.first().is_some_and(|s| s == "None");
    if headless(&new_ips) && headless(&old_ips) {
        return;
    }
    let path = FieldPath::root("spec").child("clusterIPs").index(0);
    let value = || Rendered(go_strings(at(obj, "/spec/clusterIPs")));
    if new_ips.is_empty() && !old_ips.is_empty() {
        e.push(FieldError::invalid(path, value(), "primary clusterIP can not be unset"));
    } else if let (Some(n), Some(o)) = (new_ips.first(), old_ips.first())
        && n != o
    {
        e.push(FieldError::invalid(path, value(), "may not change once set"));
    }
}

/// `[-._a-zA-Z0-9]+` (upstream `IsConfigMapKey`).
fn config_key(k: &str, path: &FieldPath, e: &mut Errs) {
    let mut msgs = Vec::new();
    if k.len() > 253 {
        msgs.push("must be no more than 253 bytes".to_string());
    }
    if k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_')) {
        msgs.push("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')".into());
    }
    if k == "." || k == ".." {
        msgs.push(format!("must not be '{k}'"));
    } else if k.starts_with("..") {
        msgs.push("must not start with '..'".into());
    }
    names_errs(path, k, msgs, e);
}

const MAX_DATA_SIZE: usize = 1024 * 1024;

fn config_map(obj: &Value, e: &mut Errs) {
    let mut size = 0;
    let mut keys = BTreeSet::new();
    for field in ["data", "binaryData"] {
        if let Some(m) = get(obj, field).as_object() {
            for (k, v) in m {
                let p = FieldPath::root(field).key(k);
                config_key(k, &p, e);
                if !keys.insert(k.as_str()) {
                    e.push(FieldError::invalid(&p, k.as_str(), "duplicate of key present in data"));
                }
                size += str_of(v).len();
            }
        }
    }
    if size > MAX_DATA_SIZE {
        e.push(FieldError::too_long("", MAX_DATA_SIZE));
    }
}

fn secret(obj: &Value, old: Option<&Value>, e: &mut Errs) {
    let mut size = 0;
    if let Some(m) = get(obj, "data").as_object() {
        for (k, v) in m {
            config_key(k, &FieldPath::root("data").key(k), e);
            size += str_of(v).len() * 3 / 4;
        }
    }
    if size > MAX_DATA_SIZE {
        e.push(FieldError::too_long("data", MAX_DATA_SIZE));
    }
    if let Some(old) = old {
        if get(old, "type") != get(obj, "type") {
            e.push(FieldError::invalid("type", str_of(get(obj, "type")), IMMUTABLE));
        }
        if get(old, "immutable").as_bool() == Some(true) {
            if get(obj, "immutable").as_bool() != Some(true) {
                e.push(FieldError::forbidden("immutable", "field is immutable when `immutable` is set"));
            }
            if get(obj, "data") != get(old, "data") {
                e.push(FieldError::forbidden("data", "field is immutable when `immutable` is set"));
            }
        }
    }
}

fn pdb(obj: &Value, e: &mut Errs) {
    let spec = get(obj, "spec");
    let path = FieldPath::root("spec");
    let (min, max) = (get(spec, "minAvailable"), get(spec, "maxUnavailable"));
    if !min.is_null() && !max.is_null() {
        e.push(FieldError::invalid(&path, Rendered(spec.to_string()), "minAvailable and maxUnavailable cannot be both set"));
    }
    for (k, v) in [("minAvailable", min), ("maxUnavailable", max)] {
        if !v.is_null() {
            int_or_percent(v, &path.child(k), e);
            not_more_than_100_percent(v, &path.child(k), e);
        }
    }
    if let Ok(sel) = serde_json::from_value(get(spec, "selector").clone()) {
        e.extend(validate_label_selector(&sel, "spec.selector"));
    }
    let policy = str_of(get(spec, "unhealthyPodEvictionPolicy"));
    if !policy.is_empty() && policy != "IfHealthyBudget" && policy != "AlwaysAllow" {
        e.push(FieldError::not_supported(path.child("unhealthyPodEvictionPolicy"), policy, &["AlwaysAllow", "IfHealthyBudget"]));
    }
}

const HIGHEST_USER_DEFINABLE_PRIORITY: i64 = 1_000_000_000;

fn priority_class(obj: &Value, old: Option<&Value>, e: &mut Errs) {
    let name = str_of(at(obj, "/metadata/name"));
    let value = get(obj, "value").as_i64().unwrap_or(0);
    let system = [crate::defaults::SYSTEM_CLUSTER_CRITICAL, crate::defaults::SYSTEM_NODE_CRITICAL].iter().any(|(n, _)| *n == name);
    if name.starts_with("system-") && !system && old.is_none() {
        e.push(FieldError::forbidden("metadata.name", "priority class names with 'system-' prefix are reserved"));
    }
    if value > HIGHEST_USER_DEFINABLE_PRIORITY && !system {
        e.push(FieldError::forbidden(
            "value",
            format!("maximum allowed value of a user defined priority is {HIGHEST_USER_DEFINABLE_PRIORITY}"),
        ));
    }
    if let Some(old) = old {
        if get(old, "value") != get(obj, "value") {
            e.push(FieldError::forbidden("value", "may not be changed in an update."));
        }
        if get(old, "preemptionPolicy") != get(obj, "preemptionPolicy") {
            e.push(FieldError::invalid("preemptionPolicy", str_of(get(obj, "preemptionPolicy")), IMMUTABLE));
        }
    }
}

// ---------------------------------------------------------------------------
// Events (core/v1 and events.k8s.io/v1)

const REPORTING_INSTANCE_LENGTH_LIMIT: usize = 128;
const ACTION_LENGTH_LIMIT: usize = 128;
const REASON_LENGTH_LIMIT: usize = 128;
const NOTE_LENGTH_LIMIT: usize = 1024;

/// Upstream's event strategy (`pkg/apis/core/validation/events.go`), on the
/// internal (core) form of the Event whichever API it came through:
/// `ValidateEventCreate` / `ValidateEventUpdate` for the request's API
/// (events.k8s.io/v1 is strict, core/v1 only gets the legacy checks), and
/// the metadata checks every resource gets, with path-segment names:
/// `rest.BeforeCreate` runs them only when the strategy found nothing,
/// `rest.BeforeUpdate` first.
fn event(group: &str, obj: &Value, old: Option<&Value>) -> Errs {
    let strict = group == "events.k8s.io";
    let obj = crate::convert::to_core_event(obj);
    let old = old.map(crate::convert::to_core_event);
    let mut e = Errs::new();
    let Some(old) = old else {
        legacy_event(&obj, strict, &mut e);
        if strict {
            meta(&obj, NameRule::Subdomain, &mut e);
            event_series(&obj, &mut e);
            if get(&obj, "eventTime").is_null() {
                e.push(FieldError::required("eventTime", ""));
            }
            let t = str_of(get(&obj, "type"));
            if t != "Normal" && t != "Warning" {
                e.push(FieldError::invalid("type", "", format!("has invalid value: {t}")));
            }
            for k in ["firstTimestamp", "lastTimestamp"] {
                if !get(&obj, k).is_null() {
                    e.push(FieldError::invalid(k, "", "needs to be unset"));
                }
            }
            if get(&obj, "count").as_i64().is_some_and(|c| c != 0) {
                e.push(FieldError::invalid("count", "", "needs to be unset"));
            }
            let source = get(&obj, "source");
            if !str_of(get(source, "component")).is_empty() || !str_of(get(source, "host")).is_empty() {
                e.push(FieldError::invalid("source", "", "needs to be unset"));
            }
        }
        if e.is_empty() {
            meta(&obj, NameRule::PathSegment, &mut e);
        }
        return e;
    };
    meta(&obj, NameRule::PathSegment, &mut e);
    meta_update(&obj, &old, &mut e);
    legacy_event(&obj, strict, &mut e);
    if !strict {
        return e;
    }
    meta_update(&obj, &old, &mut e);
    if get(&obj, "series") != get(&old, "series") {
        event_series(&obj, &mut e);
    }
    // In upstream's order (reason twice, as upstream checks it twice).
    let immutable = [
        "involvedObject",
        "reason",
        "message",
        "source",
        "firstTimestamp",
        "lastTimestamp",
        "count",
        "reason",
        "type",
        "eventTime",
        "action",
        "related",
        "reportingComponent",
        "reportingInstance",
    ];
    for k in immutable {
        let v = get(&obj, k);
        if v == get(&old, k) {
            continue;
        }
        let rendered = match k {
            "involvedObject" => go_object_reference(v),
            "related" if v.is_null() => Rendered("null".into()),
            "related" => go_object_reference(v),
            "source" => go_event_source(v),
            "firstTimestamp" | "lastTimestamp" | "eventTime" => go_time(v),
            "count" => Rendered(v.as_i64().unwrap_or(0).to_string()),
            _ => Rendered(go_quote(str_of(v))),
        };
        // Upstream names the internal field: reportingController.
        let path = if k == "reportingComponent" { "reportingController" } else { k };
        e.push(FieldError::invalid(path, rendered, IMMUTABLE));
    }
    e
}

/// Upstream `legacyValidateEvent`: what every Event must satisfy, through
/// either API (which names the reporting controller field its own way).
fn legacy_event(obj: &Value, strict: bool, e: &mut Errs) {
    let ns = str_of(at(obj, "/metadata/namespace"));
    let involved_ns = str_of(at(obj, "/involvedObject/namespace"));
    let mismatch = || FieldError::invalid("involvedObject.namespace", involved_ns, "does not match event.namespace");
    if get(obj, "eventTime").is_null() {
        // Old-style events: the event's namespace is the object's (or "default").
        if (involved_ns.is_empty() && !ns.is_empty() && ns != "default") || (!involved_ns.is_empty() && ns != involved_ns) {
            e.push(mismatch());
        }
    } else {
        if involved_ns.is_empty() && ns != "default" && ns != "kube-system" {
            e.push(mismatch());
        }
        let controller_field = FieldPath::root(if strict { "reportingController" } else { "reportingComponent" });
        let controller = str_of(get(obj, "reportingComponent"));
        if controller.is_empty() {
            e.push(FieldError::required(&controller_field, ""));
        }
        qualified_name(controller, &controller_field, e);
        let limited = |k: &str, limit: usize, required: bool, e: &mut Errs| {
            let v = str_of(get(obj, k));
            if required && v.is_empty() {
                e.push(FieldError::required(k, ""));
            }
            if v.len() > limit {
                e.push(FieldError::invalid(k, "", format!("can have at most {limit} characters")));
            }
        };
        limited("reportingInstance", REPORTING_INSTANCE_LENGTH_LIMIT, true, e);
        limited("action", ACTION_LENGTH_LIMIT, true, e);
        limited("reason", REASON_LENGTH_LIMIT, true, e);
        limited("message", NOTE_LENGTH_LIMIT, false, e);
    }
    names_errs(&FieldPath::root("namespace"), ns, is_dns1123_subdomain(ns), e);
}

/// Upstream `validateV1EventSeries`.
fn event_series(obj: &Value, e: &mut Errs) {
    let series = get(obj, "series");
    if series.is_null() {
        return;
    }
    if get(series, "count").as_i64().unwrap_or(0) < 2 {
        e.push(FieldError::invalid("series.count", "", "should be at least 2"));
    }
    if get(series, "lastObservedTime").is_null() {
        e.push(FieldError::required("series.lastObservedTime", ""));
    }
}

/// A `core.ObjectReference` as `%#v` prints it.
fn go_object_reference(r: &Value) -> Rendered {
    let f = |k: &str| go_quote(str_of(get(r, k)));
    Rendered(format!(
        "core.ObjectReference{{Kind:{}, Namespace:{}, Name:{}, UID:{}, APIVersion:{}, ResourceVersion:{}, FieldPath:{}}}",
        f("kind"),
        f("namespace"),
        f("name"),
        f("uid"),
        f("apiVersion"),
        f("resourceVersion"),
        f("fieldPath")
    ))
}

/// A `core.EventSource` as `%#v` prints it.
fn go_event_source(s: &Value) -> Rendered {
    Rendered(format!("core.EventSource{{Component:{}, Host:{}}}", go_quote(str_of(get(s, "component"))), go_quote(str_of(get(s, "host")))))
}

/// A `metav1.Time` or `metav1.MicroTime` as its `String()` prints it (in UTC).
fn go_time(v: &Value) -> Rendered {
    let t = str_of(v).parse::<jiff::Timestamp>().ok();
    Rendered(match t {
        None => "0001-01-01 00:00:00 +0000 UTC".into(),
        Some(t) => {
            let base = t.strftime("%Y-%m-%d %H:%M:%S").to_string();
            let nanos = t.subsec_nanosecond();
            let frac = if nanos == 0 { String::new() } else { format!(".{nanos:09}").trim_end_matches('0').to_string() };
            format!("{base}{frac} +0000 UTC")
        }
    })
}

fn lease(obj: &Value, e: &mut Errs) {
    let spec = get(obj, "spec");
    positive(get(spec, "leaseDurationSeconds"), &FieldPath::root("spec").child("leaseDurationSeconds"), e);
    nonnegative(get(spec, "leaseTransitions"), &FieldPath::root("spec").child("leaseTransitions"), e);
}

// ---------------------------------------------------------------------------
// resource.k8s.io/v1: the requests of a claim (what the scheduler reads);
// selectors, constraints and configs are not checked.

fn claim_spec(spec: &Value, path: &FieldPath, e: &mut Errs) {
    let requests = path.child("devices").child("requests");
    let mut seen = std::collections::BTreeSet::new();
    for (i, r) in items(at(spec, "/devices/requests")).iter().enumerate() {
        let p = requests.index(i);
        request_name(r, &p, e);
        let name = str_of(get(r, "name"));
        if !name.is_empty() && !seen.insert(name) {
            e.push(FieldError::duplicate(p.child("name"), name));
        }
        let exactly = get(r, "exactly");
        let first = items(get(r, "firstAvailable"));
        match (exactly.is_null(), first.is_empty()) {
            (true, true) => e.push(FieldError::required(&p, "exactly one of `exactly` or `firstAvailable` is required")),
            (false, false) => e.push(FieldError::invalid(
                &p,
                Rendered("null".into()),
                "exactly one of `exactly` or `firstAvailable` is required, but multiple fields are set",
            )),
            (false, true) => device_class_name(exactly, &p.child("exactly"), e),
            (true, false) => {
                for (j, s) in first.iter().enumerate() {
                    let sp = p.child("firstAvailable").index(j);
                    request_name(s, &sp, e);
                    device_class_name(s, &sp, e);
                }
            }
        }
    }
}

fn request_name(r: &Value, path: &FieldPath, e: &mut Errs) {
    let name = str_of(get(r, "name"));
    if name.is_empty() {
        e.push(FieldError::required(path.child("name"), ""));
    } else {
        names_errs(&path.child("name"), name, is_dns1123_label(name), e);
    }
}

fn device_class_name(r: &Value, path: &FieldPath, e: &mut Errs) {
    let class = str_of(get(r, "deviceClassName"));
    if class.is_empty() {
        e.push(FieldError::required(path.child("deviceClassName"), ""));
    } else {
        names_errs(&path.child("deviceClassName"), class, is_dns1123_subdomain(class), e);
    }
}

/// A claim's (or template's) spec never changes. Upstream prints the old Go
/// struct as the value; the sandbox prints `spec`'s JSON.
fn immutable_spec(new: &Value, old: Option<&Value>, e: &mut Errs) {
    let Some(old) = old else { return };
    if get(new, "spec") != get(old, "spec") {
        e.push(FieldError::invalid("spec", Rendered(get(new, "spec").to_string()), IMMUTABLE));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn msgs(errs: &[FieldError]) -> Vec<String> {
        errs.iter().map(ToString::to_string).collect()
    }

    fn pod_spec_ok() -> Value {
        json!({"containers": [{"name": "c", "image": "nginx", "imagePullPolicy": "Always", "resources": {}}],
               "restartPolicy": "Always", "dnsPolicy": "ClusterFirst"})
    }

    fn deployment(replicas: i64, sel: Value, labels: Value) -> Value {
        json!({"metadata": {"name": "web", "namespace": "default"},
               "spec": {"replicas": replicas, "selector": sel,
                        "template": {"metadata": {"labels": labels}, "spec": pod_spec_ok()},
                        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                        "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600}})
    }

    #[test]
    fn a_valid_deployment_passes() {
        let d = deployment(3, json!({"matchLabels": {"app": "web"}}), json!({"app": "web"}));
        assert_eq!(msgs(&validate("apps", "v1", "Deployment", &d, None)), Vec::<String>::new());
    }

    #[test]
    fn names_follow_each_kinds_rule() {
        let cm = json!({"metadata": {"name": "Bad_Name", "namespace": "default"}});
        assert_eq!(
            msgs(&validate("", "v1", "ConfigMap", &cm, None)),
            [
                "metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
            ]
        );
        let ns = json!({"metadata": {"name": "a.b"}});
        let m = msgs(&validate("", "v1", "Namespace", &ns, None));
        assert_eq!(m.len(), 1);
        assert!(m[0].starts_with("metadata.name: Invalid value: \"a.b\": a lowercase RFC 1123 label must consist of"), "{m:?}");
        let svc = json!({"metadata": {"name": "1abc", "namespace": "d"}, "spec": {"type": "ClusterIP", "ports": [{"port": 80, "protocol": "TCP"}]}});
        let m = msgs(&validate("", "v1", "Service", &svc, None));
        assert!(m[0].contains("a DNS-1035 label must consist of"), "{m:?}");
        let none = json!({"metadata": {}});
        assert_eq!(
            msgs(&validate("", "v1", "ConfigMap", &none, None)),
            ["metadata.name: Required value: name or generateName is required"]
        );
    }

    #[test]
    fn selector_must_match_template_labels() {
        let d = deployment(1, json!({"matchLabels": {"app": "web"}}), json!({"app": "other"}));
        assert_eq!(
            msgs(&validate("apps", "v1", "Deployment", &d, None)),
            [
                "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`"
            ]
        );
    }

    #[test]
    fn missing_and_empty_selectors() {
        let mut d = deployment(1, json!({"matchLabels": {"app": "web"}}), json!({"app": "web"}));
        d["spec"].as_object_mut().unwrap().remove("selector");
        assert_eq!(msgs(&validate("apps", "v1", "ReplicaSet", &d, None)), ["spec.selector: Required value"]);
        let d = deployment(1, json!({}), json!({"app": "web"}));
        assert_eq!(
            msgs(&validate("apps", "v1", "Deployment", &d, None)),
            [
                "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"
            ]
        );
    }

    #[test]
    fn replicas_must_not_be_negative() {
        let d = deployment(-1, json!({"matchLabels": {"app": "web"}}), json!({"app": "web"}));
        assert_eq!(
            msgs(&validate("apps", "v1", "Deployment", &d, None)),
            ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"]
        );
    }

    #[test]
    fn selectors_are_immutable_in_apps_v1() {
        let old = deployment(1, json!({"matchLabels": {"app": "web"}}), json!({"app": "web", "v": "2"}));
        let new = deployment(1, json!({"matchLabels": {"app": "web", "v": "2"}}), json!({"app": "web", "v": "2"}));
        assert_eq!(
            msgs(&validate("apps", "v1", "Deployment", &new, Some(&old))),
            [
                "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web\", \"v\":\"2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
            ]
        );
    }

    #[test]
    fn max_surge_and_max_unavailable_cannot_both_be_zero() {
        let mut d = deployment(1, json!({"matchLabels": {"app": "web"}}), json!({"app": "web"}));
        d["spec"]["strategy"]["rollingUpdate"] = json!({"maxUnavailable": 0, "maxSurge": "0%"});
        assert_eq!(
            msgs(&validate("apps", "v1", "Deployment", &d, None)),
            [
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}: may not be 0 when `maxSurge` is 0"
            ]
        );
        d["spec"]["strategy"]["rollingUpdate"] = json!({"maxUnavailable": "120%", "maxSurge": "x"});
        assert_eq!(
            msgs(&validate("apps", "v1", "Deployment", &d, None)),
            [
                "spec.strategy.rollingUpdate.maxSurge: Invalid value: \"x\": must be an integer or percentage (e.g '5%')",
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"120%\": must not be greater than 100%"
            ]
        );
    }

    #[test]
    fn workloads_need_restart_policy_always_and_jobs_never_it() {
        let mut d = deployment(1, json!({"matchLabels": {"app": "web"}}), json!({"app": "web"}));
        d["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
        assert_eq!(
            msgs(&validate("apps", "v1", "ReplicaSet", &d, None)),
            ["spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""]
        );
        let job = json!({"metadata": {"name": "j", "namespace": "d"}, "spec": {
            "selector": {"matchLabels": {"a": "b"}}, "completionMode": "NonIndexed",
            "template": {"metadata": {"labels": {"a": "b"}}, "spec": pod_spec_ok()}}});
        assert_eq!(
            msgs(&validate("batch", "v1", "Job", &job, None)),
            ["spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\""]
        );
    }

    #[test]
    fn pods_need_containers_and_valid_enums() {
        let pod = json!({"metadata": {"name": "p", "namespace": "d"}, "spec": {"containers": [], "restartPolicy": "Sometimes", "dnsPolicy": "ClusterFirst"}});
        assert_eq!(
            msgs(&validate("", "v1", "Pod", &pod, None)),
            [
                "spec.containers: Required value",
                "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\""
            ]
        );
        let pod = json!({"metadata": {"name": "p", "namespace": "d"}, "spec": {"containers": [
            {"name": "c", "image": ""}, {"name": "c", "image": "x", "resources": {"limits": {"cpu": "1"}, "requests": {"cpu": "2", "memory": "-1"}}}],
            "restartPolicy": "Always", "dnsPolicy": "ClusterFirst"}});
        assert_eq!(
            msgs(&validate("", "v1", "Pod", &pod, None)),
            [
                "spec.containers[0].image: Required value",
                "spec.containers[1].name: Duplicate value: \"c\"",
                "spec.containers[1].resources.requests[cpu]: Invalid value: \"2\": must be less than or equal to cpu limit of 1",
                "spec.containers[1].resources.requests[memory]: Invalid value: \"-1\": must be greater than or equal to 0",
            ]
        );
    }

    #[test]
    fn pod_specs_are_immutable_but_for_images() {
        let old = json!({"metadata": {"name": "p", "namespace": "d"}, "spec": pod_spec_ok()});
        let mut new = old.clone();
        new["spec"]["containers"][0]["image"] = json!("nginx:2");
        assert!(validate("", "v1", "Pod", &new, Some(&old)).is_empty());
        new["spec"]["containers"][0]["name"] = json!("d");
        assert_eq!(msgs(&validate("", "v1", "Pod", &new, Some(&old))), [format!("spec: Forbidden: {POD_UPDATE_MESSAGE}")]);
    }

    fn job_with_status(spec: Value, status: Value) -> Value {
        let mut base = json!({"completions": 4, "parallelism": 2, "template": {}});
        json_patch::merge(&mut base, &spec);
        json!({"metadata": {"name": "j", "namespace": "d"}, "spec": base, "status": status})
    }

    fn status_msgs(spec: Value, old: Value, new: Value) -> Vec<String> {
        msgs(&validate_status("batch", "Job", &job_with_status(spec.clone(), new), &job_with_status(spec, old)))
    }

    fn cond(type_: &str) -> Value {
        json!({"type": type_, "status": "True"})
    }

    #[test]
    fn job_status_rules_as_upstream() {
        let t0 = "2026-01-01T00:00:00Z";
        let started = json!({"startTime": t0, "active": 1});
        // Counters never decrease (succeeded may for an elastic Indexed Job).
        assert_eq!(
            status_msgs(json!({}), json!({"succeeded": 2, "failed": 1}), json!({"succeeded": 1, "failed": 0})),
            [
                "status.failed: Invalid value: 0: cannot decrease the failed counter",
                "status.succeeded: Invalid value: 1: cannot decrease the succeeded counter"
            ]
        );
        let elastic = json!({"completionMode": "Indexed", "completions": 2, "parallelism": 2});
        assert!(
            status_msgs(elastic, json!({"succeeded": 2, "completedIndexes": "0-1"}), json!({"succeeded": 1, "completedIndexes": "0"}))
                .is_empty()
        );
        // Terminal conditions need their companions, and stay.
        let complete = json!({"startTime": t0, "completionTime": t0, "conditions": [cond("Complete")]});
        assert_eq!(
            status_msgs(json!({}), started.clone(), complete.clone()),
            ["status.conditions: Invalid value: cannot set Complete=True condition without the SuccessCriteriaMet=true condition"]
        );
        assert_eq!(
            status_msgs(json!({}), started.clone(), json!({"startTime": t0, "conditions": [cond("Failed")]})),
            ["status.conditions: Invalid value: cannot set Failed=True condition without the FailureTarget=true condition"]
        );
        let done = json!({"startTime": t0, "completionTime": t0, "conditions": [cond("SuccessCriteriaMet"), cond("Complete")]});
        assert!(status_msgs(json!({}), started.clone(), done.clone()).is_empty());
        assert_eq!(
            status_msgs(json!({}), done, json!({"startTime": t0, "completionTime": t0, "conditions": [cond("SuccessCriteriaMet")]})),
            [
                "status.completionTime: Invalid value: \"2026-01-01T00:00:00Z\": cannot set completionTime when there is no Complete=True condition",
                "status.conditions: Invalid value: cannot disable the terminal Complete=True condition"
            ]
        );
        // A finished Job has nothing active, uncounted or terminating.
        let finishing = json!({"startTime": t0, "active": 1, "terminating": 1, "uncountedTerminatedPods": {"failed": ["u1"]},
                               "conditions": [cond("FailureTarget"), cond("Failed")]});
        assert_eq!(
            status_msgs(json!({}), started.clone(), finishing),
            [
                "status.active: Invalid value: 1: active>0 is invalid for finished job",
                "status.uncountedTerminatedPods: Invalid value: {\"failed\":[\"u1\"]}: uncountedTerminatedPods needs to be empty for finished job",
                "status.terminating: Invalid value: 1: terminating>0 is invalid for finished job"
            ]
        );
        // Indexes: their format, their mode, no overlap; uids once; ready <= active.
        let indexed = json!({"completionMode": "Indexed", "backoffLimitPerIndex": 1});
        assert_eq!(
            status_msgs(indexed.clone(), json!({}), json!({"completedIndexes": "1,0", "failedIndexes": "4"})),
            [
                "status.completedIndexes: Invalid value: \"1,0\": error parsing completedIndexes: non-increasing order, previous: 1, current: 0",
                "status.failedIndexes: Invalid value: \"4\": error parsing failedIndexes: too large index: \"4\""
            ]
        );
        assert_eq!(
            status_msgs(indexed, json!({}), json!({"completedIndexes": "0-2", "failedIndexes": "2"})),
            ["status.failedIndexes: Invalid value: \"2\": failedIndexes and completedIndexes overlap at index: 2"]
        );
        assert_eq!(
            status_msgs(json!({}), json!({}), json!({"completedIndexes": "0", "failedIndexes": ""})),
            [
                "status.completedIndexes: Invalid value: \"0\": cannot set non-empty completedIndexes when non-indexed completion mode",
                "status.failedIndexes: Invalid value: \"\": cannot set non-null failedIndexes when backoffLimitPerIndex is null"
            ]
        );
        assert_eq!(
            status_msgs(
                json!({}),
                json!({}),
                json!({"active": 1, "ready": 2, "uncountedTerminatedPods": {"succeeded": ["a"], "failed": ["a", ""]}})
            ),
            [
                "status.uncountedTerminatedPods.failed[0]: Duplicate value: \"a\"",
                "status.uncountedTerminatedPods.failed[1]: Invalid value: \"\": must not be empty",
                "status.ready: Invalid value: 2: cannot set more ready pods than active"
            ]
        );
        // startTime stays while the Job runs; it may change while suspended.
        assert_eq!(
            status_msgs(json!({}), started.clone(), json!({"startTime": "2026-01-01T00:01:00Z", "active": 1})),
            ["status.startTime: Required value: startTime cannot be removed for unsuspended job"]
        );
        assert!(status_msgs(json!({"suspend": true}), started, json!({"startTime": null, "active": 1})).is_empty());
    }

    #[test]
    fn jobs_keep_their_template() {
        let old = json!({"metadata": {"name": "j", "namespace": "d"}, "spec": {
            "selector": {"matchLabels": {"a": "b"}}, "completions": 2, "parallelism": 1, "completionMode": "NonIndexed",
            "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "x"}], "restartPolicy": "Never", "dnsPolicy": "ClusterFirst"}}}});
        let mut new = old.clone();
        new["spec"]["parallelism"] = json!(3);
        assert!(validate("batch", "v1", "Job", &new, Some(&old)).is_empty());
        new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("y");
        new["spec"]["completions"] = json!(3);
        assert_eq!(
            msgs(&validate("batch", "v1", "Job", &new, Some(&old))),
            [
                "spec.completions: Invalid value: 3: field is immutable",
                "spec.template: Invalid value: core.PodTemplateSpec{...}: field is immutable"
            ]
        );
    }

    #[test]
    fn hpa_bounds() {
        let h = json!({"metadata": {"name": "h", "namespace": "d"}, "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 5, "maxReplicas": 2,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization"}}}]}});
        assert_eq!(
            msgs(&validate("autoscaling", "v2", "HorizontalPodAutoscaler", &h, None)),
            [
                "spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`",
                "spec.metrics[0].resource.target.averageUtilization: Required value: must set averageUtilization when metric target type is Utilization"
            ]
        );
    }

    #[test]
    fn owner_references_allow_one_controller() {
        let cm = json!({"metadata": {"name": "c", "namespace": "d", "ownerReferences": [
            {"apiVersion": "v1", "kind": "A", "name": "a", "uid": "1", "controller": true},
            {"apiVersion": "v1", "kind": "B", "name": "b", "uid": "2", "controller": true}]}});
        let m = msgs(&validate("", "v1", "ConfigMap", &cm, None));
        assert_eq!(m.len(), 1);
        assert!(
            m[0].ends_with(
                "Only one reference can have Controller set to true. Found \"true\" in references for Kind=A, Name=a and Kind=B, Name=b"
            ),
            "{m:?}"
        );
    }

    #[test]
    fn config_map_keys() {
        let cm = json!({"metadata": {"name": "c", "namespace": "d"}, "data": {"a b": "x"}});
        let m = msgs(&validate("", "v1", "ConfigMap", &cm, None));
        assert_eq!(m.len(), 1);
        assert!(m[0].starts_with("data[a b]: Invalid value: \"a b\": a valid config key must consist of"), "{m:?}");
    }

    #[test]
    fn priority_classes() {
        let pc = json!({"metadata": {"name": "system-mine"}, "value": 2_000_000_000i64});
        assert_eq!(
            msgs(&validate("scheduling.k8s.io", "v1", "PriorityClass", &pc, None)),
            [
                "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved",
                "value: Forbidden: maximum allowed value of a user defined priority is 1000000000"
            ]
        );
    }

    fn new_event() -> Value {
        json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "web.17f", "namespace": "default"},
            "eventTime": "2026-01-02T03:04:05.123456Z",
            "reportingController": "replicaset-controller", "reportingInstance": "replicaset-controller-a",
            "action": "Create", "reason": "SuccessfulCreate", "type": "Normal", "note": "Created pod: web-x",
            "regarding": {"kind": "ReplicaSet", "namespace": "default", "name": "web"},
            "deprecatedSource": {},
        })
    }

    #[test]
    fn events_k8s_io_events_are_validated_strictly() {
        assert_eq!(msgs(&validate("events.k8s.io", "v1", "Event", &new_event(), None)), Vec::<String>::new());
        let bare = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e", "namespace": "team"},
                          "regarding": {}, "deprecatedSource": {"component": "kubelet"}, "deprecatedCount": 3});
        assert_eq!(
            msgs(&validate("events.k8s.io", "v1", "Event", &bare, None)),
            [
                "involvedObject.namespace: Invalid value: \"\": does not match event.namespace",
                "eventTime: Required value",
                "type: Invalid value: \"\": has invalid value: ",
                "count: Invalid value: \"\": needs to be unset",
                "source: Invalid value: \"\": needs to be unset",
            ]
        );
        let mut e = new_event();
        e["reportingController"] = json!("");
        e["action"] = json!("x".repeat(129));
        e["series"] = json!({"count": 1});
        e["metadata"]["name"] = json!("Web");
        let m = msgs(&validate("events.k8s.io", "v1", "Event", &e, None));
        assert_eq!(m[0], "reportingController: Required value");
        assert!(m[1].starts_with("reportingController: Invalid value: \"\": name part must be non-empty"), "{m:?}");
        assert!(m.contains(&"action: Invalid value: \"\": can have at most 128 characters".to_string()), "{m:?}");
        assert!(m.iter().any(|x| x.starts_with("metadata.name: Invalid value: \"Web\": a lowercase RFC 1123 subdomain")), "{m:?}");
        assert!(m.contains(&"series.count: Invalid value: \"\": should be at least 2".to_string()), "{m:?}");
        assert!(m.contains(&"series.lastObservedTime: Required value".to_string()), "{m:?}");
    }

    #[test]
    fn core_events_get_the_legacy_checks_only() {
        let legacy = json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "Pod.Name.1", "namespace": "default"},
                            "involvedObject": {"kind": "Pod", "name": "p"}, "source": {"component": "kubelet"}, "count": 3});
        assert_eq!(msgs(&validate("", "v1", "Event", &legacy, None)), Vec::<String>::new(), "path-segment names");
        let mut wrong_ns = legacy.clone();
        wrong_ns["involvedObject"]["namespace"] = json!("other");
        assert_eq!(
            msgs(&validate("", "v1", "Event", &wrong_ns, None)),
            ["involvedObject.namespace: Invalid value: \"other\": does not match event.namespace"]
        );
        let mut timed = legacy.clone();
        timed["eventTime"] = json!("2026-01-02T03:04:05.000000Z");
        assert_eq!(
            msgs(&validate("", "v1", "Event", &timed, None))[..2],
            [
                "reportingComponent: Required value".to_string(),
                "reportingComponent: Invalid value: \"\": name part must be non-empty".into()
            ]
        );
        let mut bad_name = legacy.clone();
        bad_name["metadata"]["name"] = json!("a/b");
        assert_eq!(msgs(&validate("", "v1", "Event", &bad_name, None)), ["metadata.name: Invalid value: \"a/b\": may not contain '/'"]);
    }

    #[test]
    fn events_k8s_io_updates_keep_what_was_reported() {
        let old = new_event();
        let mut series = old.clone();
        series["series"] = json!({"count": 2, "lastObservedTime": "2026-01-02T03:05:05.000000Z"});
        assert_eq!(msgs(&validate("events.k8s.io", "v1", "Event", &series, Some(&old))), Vec::<String>::new());
        let mut changed = old.clone();
        changed["note"] = json!("other");
        changed["regarding"]["name"] = json!("db");
        changed["deprecatedCount"] = json!(2);
        assert_eq!(
            msgs(&validate("events.k8s.io", "v1", "Event", &changed, Some(&old))),
            [
                "involvedObject: Invalid value: core.ObjectReference{Kind:\"ReplicaSet\", Namespace:\"default\", Name:\"db\", UID:\"\", APIVersion:\"\", ResourceVersion:\"\", FieldPath:\"\"}: field is immutable",
                "message: Invalid value: \"other\": field is immutable",
                "count: Invalid value: 2: field is immutable",
            ]
        );
        // Through core v1, only the legacy checks.
        let core = crate::convert::to_core_event(&changed);
        let core_old = crate::convert::to_core_event(&old);
        assert_eq!(msgs(&validate("", "v1", "Event", &core, Some(&core_old))), Vec::<String>::new());
    }
}
