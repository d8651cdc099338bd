//! Conformance: Service ClusterIP and NodePort allocation (10.96.0.0/16,
//! 30000-32767), as kube-apiserver's Service storage does it on create and
//! update, released with the Service.

mod util;

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use util::{start, status};

fn svc(name: &str, spec: Value) -> Service {
    let mut spec = spec;
    if spec.get("ports").is_none() {
        spec["ports"] = json!([{"port": 80}]);
    }
    serde_json::from_value(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec})).unwrap()
}

fn ip_of(s: &Service) -> String {
    s.spec.as_ref().and_then(|s| s.cluster_ip.clone()).unwrap_or_default()
}

fn ips_of(s: &Service) -> Vec<String> {
    s.spec.as_ref().and_then(|s| s.cluster_ips.clone()).unwrap_or_default()
}

fn node_ports(s: &Service) -> Vec<i32> {
    s.spec.as_ref().and_then(|s| s.ports.clone()).unwrap_or_default().iter().filter_map(|p| p.node_port).collect()
}

fn in_service_cidr(ip: &str) -> bool {
    let a: Ipv4Addr = ip.parse().unwrap_or_else(|_| panic!("{ip:?} is an IPv4 address"));
    let o = a.octets();
    o[0] == 10 && o[1] == 96 && a != Ipv4Addr::new(10, 96, 0, 0) && a != Ipv4Addr::new(10, 96, 255, 255) && a != Ipv4Addr::new(10, 96, 0, 1)
}

fn pp() -> PostParams {
    PostParams::default()
}

fn dry() -> PostParams {
    PostParams { dry_run: true, ..Default::default() }
}

#[tokio::test]
async fn cluster_ips_are_allocated_unique_and_in_range() {
    let (_s, c) = start().await;
    let svcs: Api<Service> = Api::default_namespaced(c);
    let mut seen = BTreeSet::new();
    for i in 0..40 {
        let ty = ["ClusterIP", "NodePort", "LoadBalancer"][i % 3];
        let made = svcs.create(&pp(), &svc(&format!("s{i}"), json!({"type": ty}))).await.unwrap();
        let ip = ip_of(&made);
        assert!(in_service_cidr(&ip), "{ty} service got {ip:?}");
        assert_eq!(ips_of(&made), vec![ip.clone()], "clusterIPs follow clusterIP");
        assert!(seen.insert(ip.clone()), "{ip} given twice");
        let got = svcs.get(&format!("s{i}")).await.unwrap();
        assert_eq!(ip_of(&got), ip, "the stored service has the address");
    }
}

#[tokio::test]
async fn headless_and_external_name_services_get_no_address() {
    let (_s, c) = start().await;
    let svcs: Api<Service> = Api::default_namespaced(c);
    let h = svcs.create(&pp(), &svc("h", json!({"clusterIP": "None", "selector": {"app": "a"}}))).await.unwrap();
    assert_eq!((ip_of(&h), ips_of(&h)), ("None".to_string(), vec!["None".to_string()]));
    let x = svcs.create(&pp(), &svc("x", json!({"type": "ExternalName", "externalName": "example.com", "ports": []}))).await.unwrap();
    assert_eq!((ip_of(&x), ips_of(&x)), (String::new(), vec![]));
    assert!(node_ports(&x).is_empty());
}

#[tokio::test]
async fn a_requested_cluster_ip_is_honoured_once_and_must_be_in_range() {
    let (_s, c) = start().await;
    let svcs: Api<Service> = Api::default_namespaced(c);
    let a = svcs.create(&pp(), &svc("a", json!({"clusterIP": "10.96.7.7"}))).await.unwrap();
    assert_eq!((ip_of(&a), ips_of(&a)), ("10.96.7.7".to_string(), vec!["10.96.7.7".to_string()]));
    // clusterIPs alone is a request too.
    let b = svcs.create(&pp(), &svc("b", json!({"clusterIPs": ["10.96.7.8"]}))).await.unwrap();
    assert_eq!(ip_of(&b), "10.96.7.8");

    let e = status(svcs.create(&pp(), &svc("c", json!({"clusterIP": "10.96.7.7"}))).await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (422, "Invalid"));
    assert_eq!(
        e.message,
        "Service \"c\" is invalid: spec.clusterIPs: Invalid value: []string{\"10.96.7.7\"}: failed to allocate IP 10.96.7.7: provided IP is already allocated"
    );
    let cause = &e.details.unwrap().causes[0];
    assert_eq!((cause.field.as_str(), cause.reason.as_str()), ("spec.clusterIPs", "FieldValueInvalid"));

    // The kubernetes Service's address is taken.
    let e = status(svcs.create(&pp(), &svc("k", json!({"clusterIP": "10.96.0.1"}))).await.unwrap_err());
    assert!(e.message.ends_with("failed to allocate IP 10.96.0.1: provided IP is already allocated"), "{}", e.message);

    for ip in ["10.97.0.5", "10.96.0.0", "10.96.255.255"] {
        let e = status(svcs.create(&pp(), &svc("d", json!({"clusterIP": ip}))).await.unwrap_err());
        assert_eq!(e.code, 422);
        assert_eq!(
            e.message,
            format!(
                "Service \"d\" is invalid: spec.clusterIPs: Invalid value: []string{{\"{ip}\"}}: failed to allocate IP {ip}: the provided network does not match the current range"
            )
        );
    }
    // A single-stack IPv4 cluster.
    let e = status(svcs.create(&pp(), &svc("d", json!({"clusterIP": "fd00::5"}))).await.unwrap_err());
    assert_eq!(
        e.message,
        "Service \"d\" is invalid: spec.clusterIPs[0]: Invalid value: []string{\"fd00::5\"}: IPv6 is not configured on this cluster"
    );
    let e = status(svcs.create(&pp(), &svc("d", json!({"ipFamilyPolicy": "RequireDualStack"}))).await.unwrap_err());
    assert_eq!(
        e.message,
        "Service \"d\" is invalid: spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster is not configured for dual-stack services"
    );
    let e = status(svcs.create(&pp(), &svc("d", json!({"clusterIP": "nope"}))).await.unwrap_err());
    assert_eq!(
        e.message,
        "Service \"d\" is invalid: spec.clusterIPs[0]: Invalid value: \"nope\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
    );
}

#[tokio::test]
async fn deleting_a_service_releases_its_address_and_ports() {
    let (_s, c) = start().await;
    let svcs: Api<Service> = Api::default_namespaced(c);
    let spec = json!({"type": "NodePort", "clusterIP": "10.96.3.3", "ports": [{"port": 80, "nodePort": 30080}]});
    svcs.create(&pp(), &svc("a", spec.clone())).await.unwrap();
    assert_eq!(status(svcs.create(&pp(), &svc("b", spec.clone())).await.unwrap_err()).code, 422);
    svcs.delete("a", &DeleteParams::default()).await.unwrap();
    let b = svcs.create(&pp(), &svc("b", spec)).await.unwrap();
    assert_eq!((ip_of(&b), node_ports(&b)), ("10.96.3.3".to_string(), vec![30080]));
}

#[tokio::test]
async fn dry_runs_allocate_nothing() {
    let (_s, c) = start().await;
    let svcs: Api<Service> = Api::default_namespaced(c);
    // Upstream's dry-run allocators show placeholders.
    let d = svcs
        .create(&dry(), &svc("a", json!({"type": "NodePort", "ports": [{"name": "a", "port": 80}, {"name": "b", "port": 81}]})))
        .await
        .unwrap();
    assert_eq!(ip_of(&d), "10.96.0.0");
    assert_eq!(node_ports(&d), vec![32769, 32770]);
    // A requested address and port are free after a dry run.
    let spec = json!({"type": "NodePort", "clusterIP": "10.96.4.4", "ports": [{"port": 80, "nodePort": 30444}]});
    let d = svcs.create(&dry(), &svc("b", spec.clone())).await.unwrap();
    assert_eq!((ip_of(&d), node_ports(&d)), ("10.96.4.4".to_string(), vec![30444]));
    let b = svcs.create(&pp(), &svc("b", spec)).await.unwrap();
    assert_eq!((ip_of(&b), node_ports(&b)), ("10.96.4.4".to_string(), vec![30444]));
    // A dry-run delete keeps them.
    svcs.delete("b", &DeleteParams { dry_run: true, ..Default::default() }).await.unwrap();
    let e = status(svcs.create(&pp(), &svc("c", json!({"clusterIP": "10.96.4.4"}))).await.unwrap_err());
    assert!(e.message.ends_with("provided IP is already allocated"), "{}", e.message);
    // A dry-run checks a requested address against the range only.
    let e = status(svcs.create(&dry(), &svc("c", json!({"clusterIP": "10.97.0.1"}))).await.unwrap_err());
    assert!(
        e.message.ends_with(
            "failed to allocate IP 10.97.0.1: the provided IP (10.97.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/16"
        ),
        "{}",
        e.message
    );
    // A dry-run type change allocates nothing either.
    let p = PatchParams { dry_run: true, ..Default::default() };
    svcs.create(&pp(), &svc("x", json!({"type": "ExternalName", "externalName": "example.com", "ports": []}))).await.unwrap();
    let d = svcs
        .patch("x", &p, &Patch::Merge(json!({"spec": {"type": "ClusterIP", "externalName": null, "ports": [{"port": 80}]}})))
        .await
        .unwrap();
    assert_eq!(ip_of(&d), "10.96.0.0");
    assert_eq!(ip_of(&svcs.get("x").await.unwrap()), "");
}

#[tokio::test]
async fn node_ports_are_allocated_in_range_and_unique() {
    let (_s, c) = start().await;
    let svcs: Api<Service> = Api::default_namespaced(c);
    let mut seen = BTreeSet::new();
    for i in 0..20 {
        let ty = if i % 2 == 0 { "NodePort" } else { "LoadBalancer" };
        let spec = json!({"type": ty, "ports": [{"name": "http", "port": 80}, {"name": "https", "port": 443}]});
        let made = svcs.create(&pp(), &svc(&format!("s{i}"), spec)).await.unwrap();
        let ports = node_ports(&made);
        assert_eq!(ports.len(), 2, "{ty}: {ports:?}");
        for p in ports {
            assert!((30000..=32767).contains(&p), "{p}");
            assert!(seen.insert(p), "{p} given twice");
        }
    }
    // ClusterIP services get none; nor LoadBalancers that ask for none.
    let c = svcs.create(&pp(), &svc("c", json!({}))).await.unwrap();
    assert!(node_ports(&c).is_empty());
    let lb = svcs.create(&pp(), &svc("lb", json!({"type": "LoadBalancer", "allocateLoadBalancerNodePorts": false}))).await.unwrap();
    assert!(node_ports(&lb).is_empty());
    // Same port number over TCP and UDP: one node port.
    let dns = json!({"type": "NodePort", "ports": [{"name": "tcp", "port": 53, "protocol": "TCP"}, {"name": "udp", "port": 53, "protocol": "UDP"}]});
    let dns = svcs.create(&pp(), &svc("dns", dns)).await.unwrap();
    let p = node_ports(&dns);
    assert_eq!((p.len(), p[0]), (2, p[1]));
}

#[tokio::test]
async fn requested_node_ports_are_honoured_once_and_must_be_in_range() {
    let (_s, c) = start().await;
    let svcs: Api<Service> = Api::default_namespaced(c);
    let a = svcs.create(&pp(), &svc("a", json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 31000}]}))).await.unwrap();
    assert_eq!(node_ports(&a), vec![31000]);
    let lb = json!({"type": "LoadBalancer", "allocateLoadBalancerNodePorts": false, "ports": [{"port": 80, "nodePort": 31001}]});
    assert_eq!(node_ports(&svcs.create(&pp(), &svc("lb", lb)).await.unwrap()), vec![31001]);

    let e =
        status(svcs.create(&pp(), &svc("b", json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 31000}]}))).await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (422, "Invalid"));
    assert_eq!(e.message, "Service \"b\" is invalid: spec.ports[0].nodePort: Invalid value: 31000: provided port is already allocated");
    let e =
        status(svcs.create(&pp(), &svc("b", json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 8080}]}))).await.unwrap_err());
    assert_eq!(
        e.message,
        "Service \"b\" is invalid: spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767"
    );
    // A failed create leaks nothing: its address is free again.
    let spec = json!({"type": "NodePort", "clusterIP": "10.96.9.9", "ports": [{"port": 80, "nodePort": 31000}]});
    assert_eq!(status(svcs.create(&pp(), &svc("c", spec)).await.unwrap_err()).code, 422);
    assert_eq!(ip_of(&svcs.create(&pp(), &svc("c", json!({"clusterIP": "10.96.9.9"}))).await.unwrap()), "10.96.9.9");
}

#[tokio::test]
async fn health_check_node_port_for_local_load_balancers() {
    let (_s, c) = start().await;
    let svcs: Api<Service> = Api::default_namespaced(c);
    let lb = svcs.create(&pp(), &svc("lb", json!({"type": "LoadBalancer", "externalTrafficPolicy": "Local"}))).await.unwrap();
    let hc = lb.spec.as_ref().unwrap().health_check_node_port.expect("a health check node port");
    assert!((30000..=32767).contains(&hc) && !node_ports(&lb).contains(&hc));
    let np = svcs.create(&pp(), &svc("np", json!({"type": "NodePort", "externalTrafficPolicy": "Local"}))).await.unwrap();
    assert_eq!(np.spec.unwrap().health_check_node_port, None);
    let e = status(svcs.create(&pp(), &svc("x", json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": hc}]}))).await.unwrap_err());
    assert!(e.message.ends_with("provided port is already allocated"), "{}", e.message);
}

#[tokio::test]
async fn updates_keep_release_and_allocate_as_the_type_changes() {
    let (_s, c) = start().await;
    let svcs: Api<Service> = Api::default_namespaced(c);
    let made = svcs.create(&pp(), &svc("a", json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30500}]}))).await.unwrap();
    let ip = ip_of(&made);

    // Resubmitting the original object keeps what was allocated.
    let mut again = svc("a", json!({"type": "NodePort", "ports": [{"port": 80}]}));
    again.metadata.resource_version = made.metadata.resource_version.clone();
    let kept = svcs.replace("a", &pp(), &again).await.unwrap();
    assert_eq!((ip_of(&kept), node_ports(&kept)), (ip.clone(), vec![30500]));

    // The ClusterIP may not change.
    let e = status(
        svcs.patch("a", &PatchParams::default(), &Patch::Merge(json!({"spec": {"clusterIP": "10.96.8.8", "clusterIPs": ["10.96.8.8"]}})))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.message, "Service \"a\" is invalid: spec.clusterIPs[0]: Invalid value: []string{\"10.96.8.8\"}: may not change once set");

    // NodePort -> ClusterIP releases the node port; the address stays.
    let to_cip = svcs.patch("a", &PatchParams::default(), &Patch::Merge(json!({"spec": {"type": "ClusterIP"}}))).await.unwrap();
    assert_eq!((ip_of(&to_cip), node_ports(&to_cip)), (ip.clone(), vec![]));
    let b = svcs.create(&pp(), &svc("b", json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30500}]}))).await.unwrap();
    assert_eq!(node_ports(&b), vec![30500]);

    // ClusterIP -> NodePort allocates one.
    let to_np = svcs.patch("a", &PatchParams::default(), &Patch::Merge(json!({"spec": {"type": "NodePort"}}))).await.unwrap();
    let p = node_ports(&to_np);
    assert!(p.len() == 1 && p[0] != 30500 && (30000..=32767).contains(&p[0]), "{p:?}");

    // -> ExternalName releases the address, and back allocates one.
    let patch = json!({"spec": {"type": "ExternalName", "externalName": "example.com"}});
    let x = svcs.patch("a", &PatchParams::default(), &Patch::Merge(patch)).await.unwrap();
    assert_eq!((ip_of(&x), node_ports(&x)), (String::new(), vec![]));
    let c2 = svcs.create(&pp(), &svc("c", json!({"clusterIP": ip}))).await.unwrap();
    assert_eq!(ip_of(&c2), ip);
    let back = svcs
        .patch("a", &PatchParams::default(), &Patch::Merge(json!({"spec": {"type": "ClusterIP", "externalName": null}})))
        .await
        .unwrap();
    assert!(in_service_cidr(&ip_of(&back)) && ip_of(&back) != ip, "{}", ip_of(&back));
}
