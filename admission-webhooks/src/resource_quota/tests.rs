use super::*;
use serde_json::json;

fn now() -> jiff::Timestamp {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

fn q(s: &str) -> Qty {
    quantity::parse(s).unwrap()
}

/// A resource list as canonical text, to compare.
fn shown(l: &ResourceList) -> BTreeMap<String, String> {
    l.iter().map(|(k, v)| (k.clone(), v.to_string())).collect()
}

/// The canonical text of each quantity.
fn list(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), q(v).to_string())).collect()
}

/// A quota with `hard` in spec and status and `used` in status (`None`
/// leaves status.used out).
fn quota(name: &str, hard: &[(&str, &str)], used: Option<&[(&str, &str)]>, spec_extra: Value) -> ResourceQuota {
    let map = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>();
    let mut spec = json!({"hard": map(hard)});
    if let Value::Object(extra) = spec_extra {
        spec.as_object_mut().unwrap().extend(extra);
    }
    let mut status = json!({"hard": map(hard)});
    if let Some(u) = used {
        status["used"] = Value::Object(map(u));
    }
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ResourceQuota",
        "metadata": {"name": name, "namespace": "ns", "resourceVersion": "1"},
        "spec": spec, "status": status,
    }))
    .unwrap()
}

fn container(name: &str, requests: Value, limits: Value) -> Value {
    json!({"name": name, "image": "i", "resources": {"requests": requests, "limits": limits}})
}

fn pod(name: &str, containers: Vec<Value>) -> Value {
    json!({"metadata": {"name": name, "namespace": "ns"}, "spec": {"containers": containers}})
}

fn create<'a>(resource: &'a str, obj: &'a Value) -> Request<'a> {
    Request {
        operation: Operation::Create,
        group: "",
        version: "v1",
        resource,
        subresource: "",
        namespace: "ns",
        name: "",
        object: Some(obj),
        old_object: None,
    }
}

fn used_of(q: &ResourceQuota) -> BTreeMap<String, String> {
    q.status.as_ref().unwrap().used.as_ref().unwrap().iter().map(|(k, v)| (k.clone(), v.0.clone())).collect()
}

fn strs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

// ---- usage ----------------------------------------------------------------

#[test]
fn pod_usage_sums_containers_and_takes_the_largest_init_container() {
    let mut p = pod(
        "p",
        vec![
            container("a", json!({"cpu": "100m", "memory": "1Gi"}), json!({"cpu": "200m", "memory": "2Gi"})),
            container("b", json!({"cpu": "200m", "ephemeral-storage": "1Gi"}), json!({})),
        ],
    );
    p["spec"]["initContainers"] = json!([container("init", json!({"cpu": "1", "memory": "500Mi"}), json!({"cpu": "2"}))]);
    let u = pod_usage(&p, now()).unwrap();
    assert_eq!(
        shown(&u),
        list(&[
            ("count/pods", "1"),
            ("pods", "1"),
            ("cpu", "1"),
            ("requests.cpu", "1"),
            ("limits.cpu", "2"),
            ("memory", "1Gi"),
            ("requests.memory", "1Gi"),
            ("limits.memory", "2Gi"),
            ("ephemeral-storage", "1Gi"),
            ("requests.ephemeral-storage", "1Gi"),
        ])
    );
    assert_eq!(u["cpu"].to_string(), "1");
    assert_eq!(u["memory"].to_string(), "1Gi");
}

#[test]
fn sidecars_add_to_the_pod_and_to_later_init_containers() {
    let mut p = pod("p", vec![container("app", json!({"cpu": "100m"}), json!({}))]);
    let mut sidecar = container("side", json!({"cpu": "50m"}), json!({}));
    sidecar["restartPolicy"] = json!("Always");
    p["spec"]["initContainers"] = json!([sidecar, container("later", json!({"cpu": "120m"}), json!({}))]);
    // containers + sidecar = 150m; the later init container runs with the sidecar: 170m.
    assert_eq!(pod_usage(&p, now()).unwrap()["requests.cpu"].to_string(), "170m");
}

#[test]
fn overhead_pod_level_resources_hugepages_and_extended_resources() {
    let mut p = pod(
        "p",
        vec![container(
            "a",
            json!({"cpu": "100m", "memory": "100Mi", "hugepages-2Mi": "4Mi", "example.com/gpu": "2"}),
            json!({"cpu": "1", "example.com/gpu": "2"}),
        )],
    );
    p["spec"]["overhead"] = json!({"cpu": "10m", "memory": "1Mi"});
    let u = pod_usage(&p, now()).unwrap();
    assert_eq!(u["requests.cpu"].to_string(), "110m");
    assert_eq!(u["limits.cpu"].to_string(), "1010m");
    assert!(!u.contains_key("limits.memory"), "no memory limit, no overhead added to it");
    assert_eq!(u["requests.hugepages-2Mi"].to_string(), "4Mi");
    assert_eq!(u["hugepages-2Mi"].to_string(), "4Mi");
    assert_eq!(u["requests.example.com/gpu"].to_string(), "2");
    assert!(!u.contains_key("limits.example.com/gpu"));
    // Pod-level resources replace the containers' sum for CPU and memory.
    p["spec"]["resources"] = json!({"requests": {"cpu": "1"}, "limits": {"memory": "1Gi"}});
    let u = pod_usage(&p, now()).unwrap();
    assert_eq!(u["requests.cpu"].to_string(), "1010m");
    assert_eq!(u["requests.memory"].to_string(), "101Mi");
    assert_eq!(u["limits.memory"].to_string(), "1025Mi");
}

#[test]
fn resized_pods_count_the_larger_of_spec_and_status() {
    let mut p = pod("p", vec![container("a", json!({"cpu": "100m"}), json!({}))]);
    p["status"] =
        json!({"containerStatuses": [{"name": "a", "allocatedResources": {"cpu": "300m"}, "resources": {"requests": {"cpu": "200m"}}}]});
    assert_eq!(pod_usage(&p, now()).unwrap()["requests.cpu"].to_string(), "300m");
    // An infeasible resize does not count the spec.
    p["spec"]["containers"][0]["resources"]["requests"]["cpu"] = json!("1");
    p["status"]["conditions"] = json!([{"type": "PodResizePending", "status": "True", "reason": "Infeasible"}]);
    assert_eq!(pod_usage(&p, now()).unwrap()["requests.cpu"].to_string(), "300m");
}

#[test]
fn terminal_and_expired_pods_only_count_as_objects() {
    let base = pod("p", vec![container("a", json!({"cpu": "1"}), json!({}))]);
    for phase in ["Succeeded", "Failed"] {
        let mut p = base.clone();
        p["status"] = json!({"phase": phase});
        assert_eq!(shown(&pod_usage(&p, now()).unwrap()), list(&[("count/pods", "1")]));
    }
    let mut p = base.clone();
    p["metadata"]["deletionTimestamp"] = json!("2025-12-31T23:59:00Z");
    p["metadata"]["deletionGracePeriodSeconds"] = json!(30);
    assert_eq!(shown(&pod_usage(&p, now()).unwrap()), list(&[("count/pods", "1")]));
    p["metadata"]["deletionGracePeriodSeconds"] = json!(120);
    assert_eq!(pod_usage(&p, now()).unwrap()["pods"].to_string(), "1");
    let mut running = base;
    running["status"] = json!({"phase": "Running"});
    assert_eq!(pod_usage(&running, now()).unwrap()["requests.cpu"].to_string(), "1");
}

#[test]
fn service_usage_counts_load_balancers_and_node_ports() {
    let svc = |ty: &str, extra: Value| {
        let mut s = json!({"metadata": {"name": "s"}, "spec": {"type": ty, "ports": [{"port": 80}, {"port": 81, "nodePort": 30001}]}});
        if let Value::Object(e) = extra {
            s["spec"].as_object_mut().unwrap().extend(e);
        }
        s
    };
    let u = service_usage(&svc("ClusterIP", json!({})));
    assert_eq!(
        shown(&u),
        list(&[("count/services", "1"), ("services", "1"), ("services.loadbalancers", "0"), ("services.nodeports", "0")])
    );
    let u = service_usage(&svc("NodePort", json!({})));
    assert_eq!(u["services.nodeports"].to_string(), "2");
    assert_eq!(u["services.loadbalancers"].to_string(), "0");
    let u = service_usage(&svc("LoadBalancer", json!({})));
    assert_eq!((u["services.nodeports"].to_string(), u["services.loadbalancers"].to_string()), ("2".into(), "1".into()));
    let u = service_usage(&svc("LoadBalancer", json!({"allocateLoadBalancerNodePorts": false})));
    assert_eq!(u["services.nodeports"].to_string(), "1");
}

#[test]
fn pvc_usage_by_storage_class_in_whole_bytes() {
    let mut pvc = json!({"metadata": {"name": "c"}, "spec": {"storageClassName": "gold", "resources": {"requests": {"storage": "1.5"}}}});
    let u = pvc_usage(&pvc).unwrap();
    assert_eq!(
        shown(&u),
        list(&[
            ("persistentvolumeclaims", "1"),
            ("count/persistentvolumeclaims", "1"),
            ("gold.storageclass.storage.k8s.io/persistentvolumeclaims", "1"),
            ("requests.storage", "2"),
            ("gold.storageclass.storage.k8s.io/requests.storage", "2"),
        ])
    );
    // The beta annotation wins; a larger allocation counts.
    pvc["metadata"]["annotations"] = json!({"volume.beta.kubernetes.io/storage-class": "bronze"});
    pvc["spec"]["resources"]["requests"]["storage"] = json!("1Gi");
    pvc["status"] = json!({"allocatedResources": {"storage": "2Gi"}});
    let u = pvc_usage(&pvc).unwrap();
    assert_eq!(u["bronze.storageclass.storage.k8s.io/requests.storage"].to_string(), "2Gi");
    assert!(!u.contains_key("gold.storageclass.storage.k8s.io/requests.storage"));
    // No class: no class resources.
    let plain = json!({"spec": {"resources": {"requests": {"storage": "1Gi"}}}});
    assert_eq!(pvc_usage(&plain).unwrap().len(), 3);
}

// ---- scopes ---------------------------------------------------------------

fn req(scope: &str, op: &str, values: &[&str]) -> ScopeReq {
    ScopeReq { scope: scope.into(), operator: op.into(), values: values.iter().map(|s| s.to_string()).collect() }
}

#[test]
fn pod_scopes() {
    let best_effort = pod("p", vec![container("a", json!({}), json!({}))]);
    let mut burstable = pod("p", vec![container("a", json!({"cpu": "1"}), json!({}))]);
    burstable["spec"]["activeDeadlineSeconds"] = json!(10);
    let m = |s: &str, p: &Value| pod_matches_scope(&req(s, "Exists", &[]), p).unwrap();
    assert!(m("BestEffort", &best_effort) && !m("NotBestEffort", &best_effort));
    assert!(!m("BestEffort", &burstable) && m("NotBestEffort", &burstable));
    assert!(m("Terminating", &burstable) && !m("NotTerminating", &burstable));
    assert!(!m("Terminating", &best_effort) && m("NotTerminating", &best_effort));
    // status.qosClass, when set, is the pod's class.
    let mut declared = burstable.clone();
    declared["status"] = json!({"qosClass": "BestEffort"});
    assert!(m("BestEffort", &declared));
    // Cross-namespace affinity.
    assert!(!m("CrossNamespacePodAffinity", &best_effort));
    let mut affine = best_effort.clone();
    affine["spec"]["affinity"] = json!({"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 1, "podAffinityTerm": {"topologyKey": "k", "namespaceSelector": {}}}]}});
    assert!(m("CrossNamespacePodAffinity", &affine));
}

#[test]
fn priority_class_scope_selector_operators() {
    let mut high = pod("p", vec![]);
    high["spec"]["priorityClassName"] = json!("high");
    let none = pod("p", vec![]);
    let m = |op: &str, values: &[&str], p: &Value| pod_matches_scope(&req("PriorityClass", op, values), p);
    assert!(m("In", &["high", "mid"], &high).unwrap());
    assert!(!m("In", &["low"], &high).unwrap());
    assert!(!m("In", &["high"], &none).unwrap());
    assert!(!m("NotIn", &["high"], &high).unwrap());
    assert!(m("NotIn", &["low"], &high).unwrap());
    assert!(m("NotIn", &["high"], &none).unwrap());
    assert!(m("Exists", &[], &high).unwrap() && !m("Exists", &[], &none).unwrap());
    assert!(!m("DoesNotExist", &[], &high).unwrap() && m("DoesNotExist", &[], &none).unwrap());
    assert!(m("In", &[], &high).is_err());
    assert!(m("Bogus", &["x"], &high).is_err());
}

#[test]
fn volume_attributes_class_scope() {
    let mut pvc = json!({"spec": {"volumeAttributesClassName": "fast"}});
    let m = |op: &str, values: &[&str], p: &Value| pvc_matches_scope(&req("VolumeAttributesClass", op, values), p).unwrap();
    assert!(m("Exists", &[], &pvc) && m("In", &["fast"], &pvc) && !m("NotIn", &["fast"], &pvc));
    pvc["status"] = json!({"modifyVolumeStatus": {"targetVolumeAttributesClassName": "slow"}});
    assert!(m("NotIn", &["fast"], &pvc), "one of its classes is not excluded");
    let none = json!({"spec": {}});
    assert!(!m("Exists", &[], &none) && m("DoesNotExist", &[], &none));
    // Other scopes never match claims.
    assert!(!pvc_matches_scope(&req("BestEffort", "Exists", &[]), &pvc).unwrap());
}

// ---- calculate_used / status ----------------------------------------------

fn listed(entries: Vec<((&str, &str), Vec<Value>)>) -> BTreeMap<(String, String), Vec<Value>> {
    entries.into_iter().map(|((g, r), v)| ((g.to_string(), r.to_string()), v)).collect()
}

#[test]
fn calculate_used_counts_only_hard_resources_with_scopes() {
    let be = pod("a", vec![container("c", json!({}), json!({}))]);
    let burst = pod("b", vec![container("c", json!({"cpu": "250m"}), json!({}))]);
    let mut done = pod("d", vec![container("c", json!({"cpu": "4"}), json!({}))]);
    done["status"] = json!({"phase": "Succeeded"});
    let objects = listed(vec![(("", "pods"), vec![be, burst, done])]);
    let plain = quota("q", &[("pods", "10"), ("requests.cpu", "2"), ("count/pods", "10"), ("foo", "1")], None, json!({}));
    assert_eq!(resources_to_count(&plain), vec![("".to_string(), "pods".to_string())]);
    let used = calculate_used(&plain, &objects, now());
    assert_eq!(shown(&used), list(&[("pods", "2"), ("requests.cpu", "250m"), ("count/pods", "3")]));
    let scoped = quota("q", &[("pods", "10")], None, json!({"scopes": ["BestEffort"]}));
    assert_eq!(shown(&calculate_used(&scoped, &objects, now())), list(&[("pods", "1")]));
    let selected = quota(
        "q",
        &[("pods", "10")],
        None,
        json!({"scopeSelector": {"matchExpressions": [{"scopeName": "NotBestEffort", "operator": "Exists"}]}}),
    );
    assert_eq!(shown(&calculate_used(&selected, &objects, now())), list(&[("pods", "1")]));
    // A missing list leaves its resources out.
    assert!(calculate_used(&plain, &BTreeMap::new(), now()).is_empty());
}

#[test]
fn calculate_used_for_services_claims_and_object_counts() {
    let q = quota(
        "q",
        &[
            ("services.loadbalancers", "1"),
            ("services.nodeports", "5"),
            ("gold.storageclass.storage.k8s.io/requests.storage", "10Gi"),
            ("count/deployments.apps", "3"),
            ("secrets", "10"),
        ],
        None,
        json!({}),
    );
    let mut wanted = resources_to_count(&q);
    wanted.sort();
    let pairs = |v: &[(&str, &str)]| v.iter().map(|(g, r)| (g.to_string(), r.to_string())).collect::<Vec<_>>();
    assert_eq!(wanted, pairs(&[("", "persistentvolumeclaims"), ("", "secrets"), ("", "services"), ("apps", "deployments")]));
    let objects = listed(vec![
        (("", "services"), vec![json!({"spec": {"type": "LoadBalancer", "ports": [{"port": 1}]}}), json!({"spec": {"type": "ClusterIP"}})]),
        (
            ("", "persistentvolumeclaims"),
            vec![
                json!({"spec": {"storageClassName": "gold", "resources": {"requests": {"storage": "1Gi"}}}}),
                json!({"spec": {"storageClassName": "silver", "resources": {"requests": {"storage": "5Gi"}}}}),
            ],
        ),
        (("apps", "deployments"), vec![json!({}), json!({})]),
        (("", "secrets"), vec![]),
    ]);
    let used = calculate_used(&q, &objects, now());
    assert_eq!(
        shown(&used),
        list(&[
            ("services.loadbalancers", "1"),
            ("services.nodeports", "1"),
            ("gold.storageclass.storage.k8s.io/requests.storage", "1Gi"),
            ("count/deployments.apps", "2"),
            ("secrets", "0"),
        ])
    );
    let st = status(&q, &used);
    assert_eq!(st.hard.as_ref().unwrap().len(), 5);
    assert_eq!(st.used.as_ref().unwrap()["count/deployments.apps"].0, "2");
    assert_eq!(st.used.as_ref().unwrap()["gold.storageclass.storage.k8s.io/requests.storage"].0, "1Gi");
}

#[test]
fn status_keeps_untracked_usage_and_drops_resources_no_longer_hard() {
    let q = quota("q", &[("pods", "5"), ("foo", "1")], Some(&[("pods", "1"), ("foo", "1"), ("gone", "3")]), json!({}));
    let st = status(&q, &ResourceList::from([("pods".to_string(), quantity::parse("2").unwrap())]));
    let used: BTreeMap<String, String> = st.used.unwrap().into_iter().map(|(k, v)| (k, v.0)).collect();
    assert_eq!(used, strs(&[("pods", "2"), ("foo", "1")]));
}

// ---- admit ----------------------------------------------------------------

fn compute_quota(used_cpu: &str) -> ResourceQuota {
    quota("compute", &[("requests.cpu", "2"), ("pods", "10")], Some(&[("requests.cpu", used_cpu), ("pods", "3")]), json!({}))
}

#[test]
fn a_create_within_quota_charges_used() {
    let p = pod("x", vec![container("a", json!({"cpu": "500m"}), json!({}))]);
    let out = admit(&create("pods", &p), &[compute_quota("1")], now()).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(used_of(&out[0]), strs(&[("requests.cpu", "1500m"), ("pods", "4")]));
    assert_eq!(out[0].metadata.name.as_deref(), Some("compute"));
}

#[test]
fn a_create_over_quota_is_denied_with_upstreams_message() {
    let p = pod("x", vec![container("a", json!({"cpu": "500m"}), json!({}))]);
    let d = admit(&create("pods", &p), &[compute_quota("1800m")], now()).unwrap_err();
    assert_eq!((d.code, d.reason), (403, "Forbidden"));
    assert_eq!(
        d.message,
        "pods \"x\" is forbidden: exceeded quota: compute, requested: requests.cpu=500m, used: requests.cpu=1800m, limited: requests.cpu=2"
    );
    // Several exceeded resources are listed by name.
    let q =
        quota("q", &[("requests.memory", "1Gi"), ("limits.cpu", "1")], Some(&[("requests.memory", "1Gi"), ("limits.cpu", "1")]), json!({}));
    let p = pod("y", vec![container("a", json!({"memory": "1Mi"}), json!({"cpu": "1"}))]);
    let d = admit(&create("pods", &p), &[q], now()).unwrap_err();
    assert_eq!(
        d.message,
        "pods \"y\" is forbidden: exceeded quota: q, requested: limits.cpu=1,requests.memory=1Mi, used: limits.cpu=1,requests.memory=1Gi, limited: limits.cpu=1,requests.memory=1Gi"
    );
}

#[test]
fn the_denial_names_the_quota_that_refuses() {
    let p = pod("x", vec![container("a", json!({"cpu": "500m"}), json!({}))]);
    let roomy = quota("roomy", &[("requests.cpu", "10")], Some(&[("requests.cpu", "0")]), json!({}));
    let tight = quota("tight", &[("pods", "1")], Some(&[("pods", "1")]), json!({}));
    let d = admit(&create("pods", &p), &[roomy.clone(), tight], now()).unwrap_err();
    assert_eq!(d.message, "pods \"x\" is forbidden: exceeded quota: tight, requested: pods=1, used: pods=1, limited: pods=1");
    let other = quota("other", &[("services", "1")], Some(&[("services", "0")]), json!({}));
    let out = admit(&create("pods", &p), &[other, roomy], now()).unwrap();
    assert_eq!(out.len(), 1, "only the quota whose usage changes");
    assert_eq!(out[0].metadata.name.as_deref(), Some("roomy"));
}

#[test]
fn unknown_status_and_constraints_are_refused() {
    let p = pod("x", vec![container("a", json!({"cpu": "500m"}), json!({}))]);
    let unknown = quota("fresh", &[("requests.cpu", "2"), ("pods", "3"), ("services", "1")], None, json!({}));
    let d = admit(&create("pods", &p), &[unknown], now()).unwrap_err();
    assert_eq!(d.message, "pods \"x\" is forbidden: status unknown for quota: fresh, resources: pods,requests.cpu");

    let mut p = pod(
        "",
        vec![
            container("c1", json!({}), json!({"cpu": "1"})),
            container("c2", json!({"cpu": "1"}), json!({})),
            container("c3", json!({}), json!({})),
        ],
    );
    p["metadata"]["generateName"] = json!("web-");
    let q = quota(
        "compute",
        &[("requests.cpu", "10"), ("limits.memory", "10Gi")],
        Some(&[("requests.cpu", "0"), ("limits.memory", "0")]),
        json!({}),
    );
    let d = admit(&create("pods", &p), std::slice::from_ref(&q), now()).unwrap_err();
    assert_eq!(
        d.message,
        "pods \"web-\" is forbidden: failed quota: compute: must specify limits.memory for: c1,c2,c3; requests.cpu for: c1,c3"
    );
    // Pod-level resources waive the per-container rule.
    p["spec"]["resources"] = json!({"requests": {"cpu": "1"}, "limits": {"memory": "1Gi"}});
    assert_eq!(admit(&create("pods", &p), &[q], now()).unwrap().len(), 1);
}

#[test]
fn scoped_quotas_only_charge_matching_pods() {
    let be_quota = quota("be", &[("pods", "1")], Some(&[("pods", "1")]), json!({"scopes": ["BestEffort"]}));
    let burstable = pod("x", vec![container("a", json!({"cpu": "1"}), json!({}))]);
    assert_eq!(admit(&create("pods", &burstable), std::slice::from_ref(&be_quota), now()).unwrap(), vec![]);
    let be = pod("y", vec![container("a", json!({}), json!({}))]);
    assert!(admit(&create("pods", &be), &[be_quota], now()).unwrap_err().message.contains("exceeded quota: be"));
    let high = quota(
        "high",
        &[("pods", "5")],
        Some(&[("pods", "0")]),
        json!({"scopeSelector": {"matchExpressions": [{"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}]}}),
    );
    assert_eq!(admit(&create("pods", &be), std::slice::from_ref(&high), now()).unwrap(), vec![]);
    let mut prio = be.clone();
    prio["spec"]["priorityClassName"] = json!("high");
    assert_eq!(used_of(&admit(&create("pods", &prio), &[high], now()).unwrap()[0]), strs(&[("pods", "1")]));
    // Services never match scoped quotas.
    let svc_quota = quota("s", &[("services", "1")], Some(&[("services", "1")]), json!({"scopes": ["NotTerminating"]}));
    let svc = json!({"metadata": {"name": "s"}, "spec": {}});
    assert_eq!(admit(&create("services", &svc), &[svc_quota], now()).unwrap(), vec![]);
}

#[test]
fn updates_charge_only_the_increase() {
    let q = quota(
        "svc",
        &[("services.loadbalancers", "2"), ("services.nodeports", "2"), ("services", "5")],
        Some(&[("services.loadbalancers", "1"), ("services.nodeports", "0"), ("services", "1")]),
        json!({}),
    );
    let old = json!({"metadata": {"name": "s", "resourceVersion": "7"}, "spec": {"type": "ClusterIP", "ports": [{"port": 80}]}});
    let new = json!({"metadata": {"name": "s", "resourceVersion": "7"}, "spec": {"type": "NodePort", "ports": [{"port": 80}]}});
    let update = Request { operation: Operation::Update, name: "s", old_object: Some(&old), ..create("services", &new) };
    let out = admit(&update, std::slice::from_ref(&q), now()).unwrap();
    assert_eq!(used_of(&out[0]), strs(&[("services.loadbalancers", "1"), ("services.nodeports", "1"), ("services", "1")]));
    // Back to ClusterIP: nothing is charged (no negative charge either).
    let back = Request { operation: Operation::Update, name: "s", object: Some(&old), old_object: Some(&new), ..create("services", &new) };
    assert_eq!(admit(&back, std::slice::from_ref(&q), now()).unwrap(), vec![]);
    // A create-on-update (no resourceVersion on the old object) charges in full.
    let unstored = json!({"metadata": {"name": "s"}, "spec": {"type": "ClusterIP"}});
    let upsert = Request { operation: Operation::Update, name: "s", old_object: Some(&unstored), ..create("services", &new) };
    assert_eq!(used_of(&admit(&upsert, std::slice::from_ref(&q), now()).unwrap()[0])["services"], "2");
    // An update without the old object is refused.
    let orphan = Request { operation: Operation::Update, name: "s", ..create("services", &new) };
    assert_eq!(
        admit(&orphan, &[q], now()).unwrap_err().message,
        "services \"s\" is forbidden: unable to get previous usage since prior version of object was not found"
    );
}

#[test]
fn pvc_growth_is_charged_and_checked() {
    let q = quota("storage", &[("requests.storage", "10Gi")], Some(&[("requests.storage", "8Gi")]), json!({}));
    let claim =
        |size: &str| json!({"metadata": {"name": "c", "resourceVersion": "3"}, "spec": {"resources": {"requests": {"storage": size}}}});
    let (old, new) = (claim("1Gi"), claim("2Gi"));
    let update = Request { operation: Operation::Update, name: "c", old_object: Some(&old), ..create("persistentvolumeclaims", &new) };
    assert_eq!(used_of(&admit(&update, std::slice::from_ref(&q), now()).unwrap()[0]), strs(&[("requests.storage", "9Gi")]));
    let big = claim("4Gi");
    let grow = Request { object: Some(&big), ..update };
    assert_eq!(
        admit(&grow, &[q], now()).unwrap_err().message,
        "persistentvolumeclaims \"c\" is forbidden: exceeded quota: storage, requested: requests.storage=3Gi, used: requests.storage=8Gi, limited: requests.storage=10Gi"
    );
}

#[test]
fn pod_updates_are_charged_only_when_the_terminating_scope_changes() {
    let q = quota("t", &[("pods", "5")], Some(&[("pods", "0")]), json!({"scopes": ["Terminating"]}));
    let mut old = pod("x", vec![container("a", json!({}), json!({}))]);
    old["metadata"]["resourceVersion"] = json!("1");
    let same = old.clone();
    let update = Request { operation: Operation::Update, name: "x", old_object: Some(&old), ..create("pods", &same) };
    assert_eq!(admit(&update, std::slice::from_ref(&q), now()).unwrap(), vec![]);
    let mut terminating = old.clone();
    terminating["spec"]["activeDeadlineSeconds"] = json!(30);
    let update = Request { object: Some(&terminating), ..update };
    // The old pod did not match the Terminating quota: the pod is charged in full.
    assert_eq!(used_of(&admit(&update, &[q], now()).unwrap()[0]), strs(&[("pods", "1")]));
}

#[test]
fn deletes_subresources_and_ignored_resources_are_not_charged() {
    let tight = quota(
        "tight",
        &[("pods", "0"), ("count/events", "0"), ("configmaps", "0")],
        Some(&[("pods", "0"), ("configmaps", "0")]),
        json!({}),
    );
    let p = pod("x", vec![]);
    let del = Request { operation: Operation::Delete, name: "x", object: None, ..create("pods", &p) };
    assert_eq!(admit(&del, std::slice::from_ref(&tight), now()).unwrap(), vec![]);
    let connect = Request { operation: Operation::Connect, ..create("pods", &p) };
    assert_eq!(admit(&connect, std::slice::from_ref(&tight), now()).unwrap(), vec![]);
    let status = Request { operation: Operation::Update, subresource: "status", old_object: Some(&p), ..create("pods", &p) };
    assert_eq!(admit(&status, std::slice::from_ref(&tight), now()).unwrap(), vec![]);
    let binding = Request { subresource: "binding", ..create("pods", &p) };
    assert_eq!(admit(&binding, std::slice::from_ref(&tight), now()).unwrap(), vec![]);
    let ev = json!({"metadata": {"name": "e"}});
    assert_eq!(admit(&create("events", &ev), std::slice::from_ref(&tight), now()).unwrap(), vec![]);
    // Configmap updates do not count; creates do, under both names.
    let cm = json!({"metadata": {"name": "cm", "resourceVersion": "1"}});
    let update = Request { operation: Operation::Update, name: "cm", old_object: Some(&cm), ..create("configmaps", &cm) };
    assert_eq!(admit(&update, std::slice::from_ref(&tight), now()).unwrap(), vec![]);
    assert_eq!(
        admit(&create("configmaps", &cm), &[tight], now()).unwrap_err().message,
        "configmaps \"cm\" is forbidden: exceeded quota: tight, requested: configmaps=1, used: configmaps=0, limited: configmaps=0"
    );
    // A cluster-scoped request.
    let node = json!({"metadata": {"name": "n"}});
    let q = quota("q", &[("count/nodes", "0")], Some(&[("count/nodes", "0")]), json!({}));
    assert_eq!(admit(&Request { namespace: "", ..create("nodes", &node) }, &[q], now()).unwrap(), vec![]);
}

#[test]
fn object_counts_of_other_resources() {
    let q = quota("objects", &[("count/deployments.apps", "2")], Some(&[("count/deployments.apps", "1")]), json!({}));
    let d = json!({"metadata": {"name": "web"}});
    let req = Request { group: "apps", ..create("deployments", &d) };
    assert_eq!(used_of(&admit(&req, std::slice::from_ref(&q), now()).unwrap()[0]), strs(&[("count/deployments.apps", "2")]));
    let full = quota("objects", &[("count/deployments.apps", "1")], Some(&[("count/deployments.apps", "1")]), json!({}));
    assert_eq!(
        admit(&req, &[full], now()).unwrap_err().message,
        "deployments.apps \"web\" is forbidden: exceeded quota: objects, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1"
    );
}

#[test]
fn the_status_subresource_is_charged_without_the_limit_check() {
    let q = quota("storage", &[("requests.storage", "1Gi")], Some(&[("requests.storage", "1Gi")]), json!({}));
    let old = json!({"metadata": {"name": "c", "resourceVersion": "3"}, "spec": {"resources": {"requests": {"storage": "1Gi"}}}});
    let mut new = old.clone();
    new["status"] = json!({"allocatedResources": {"storage": "2Gi"}});
    let req = Request {
        operation: Operation::Update,
        subresource: "status",
        name: "c",
        old_object: Some(&old),
        ..create("persistentvolumeclaims", &new)
    };
    assert_eq!(used_of(&admit(&req, &[q], now()).unwrap()[0]), strs(&[("requests.storage", "2Gi")]));
}

#[test]
fn malformed_objects_are_refused_without_panicking() {
    let q = compute_quota("0");
    let junk = json!("not an object");
    assert_eq!(admit(&create("pods", &junk), std::slice::from_ref(&q), now()).unwrap_err().code, 400);
    let bad = pod("x", vec![container("a", json!({"cpu": "lots"}), json!({}))]);
    assert_eq!(admit(&create("pods", &bad), std::slice::from_ref(&q), now()).unwrap_err().code, 400);
    let nothing = Request { object: None, ..create("pods", &junk) };
    assert_eq!(admit(&nothing, std::slice::from_ref(&q), now()).unwrap_err().code, 400);
    // A quota selector that cannot be evaluated is the plugin's error.
    let broken = quota(
        "broken",
        &[("pods", "1")],
        Some(&[("pods", "0")]),
        json!({"scopeSelector": {"matchExpressions": [{"scopeName": "PriorityClass", "operator": "In"}]}}),
    );
    let p = pod("x", vec![]);
    let d = admit(&create("pods", &p), &[broken], now()).unwrap_err();
    assert_eq!(d.code, 500);
    assert!(d.message.starts_with("error matching scopes of quota broken, err: "), "{}", d.message);
}

#[test]
fn no_quotas_nothing_charged() {
    let p = pod("x", vec![container("a", json!({"cpu": "1"}), json!({}))]);
    assert_eq!(admit(&create("pods", &p), &[], now()).unwrap(), vec![]);
    // A quota on resources the pod does not use: nothing changes.
    let q = quota("storage", &[("requests.storage", "1Gi")], Some(&[("requests.storage", "0")]), json!({}));
    assert_eq!(admit(&create("pods", &p), &[q], now()).unwrap(), vec![]);
}
