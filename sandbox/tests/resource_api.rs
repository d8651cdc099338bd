//! resource.k8s.io/v1 (dynamic resource allocation, GA in v1.36): the
//! sandbox serves DeviceClasses, ResourceClaims (with their status
//! subresource), ResourceClaimTemplates and ResourceSlices, validates a
//! claim's requests and keeps its spec immutable, as kube-apiserver does.

mod util;

use serde_json::{Value, json};
use util::{Tool, ToolEnv, raw, start};

async fn send(c: &kube::Client, method: &str, path: &str, body: Value) -> (u16, Value) {
    raw(c, method, path, "application/json", &body.to_string()).await
}

const CLAIMS: &str = "/apis/resource.k8s.io/v1/namespaces/default/resourceclaims";

fn claim(name: &str, request: Value) -> Value {
    json!({"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim", "metadata": {"name": name},
        "spec": {"devices": {"requests": [request]}}})
}

#[tokio::test]
async fn discovery_lists_the_resource_group_as_kube_apiserver_does() {
    let (_s, c) = start().await;
    let (code, list) = raw(&c, "GET", "/apis/resource.k8s.io/v1", "application/json", "").await;
    assert_eq!(code, 200, "{list}");
    let resources: Vec<(String, bool)> = list["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].as_str().unwrap().to_string(), r["namespaced"].as_bool().unwrap()))
        .collect();
    for want in [
        ("deviceclasses", false),
        ("resourceclaims", true),
        ("resourceclaims/status", true),
        ("resourceclaimtemplates", true),
        ("resourceslices", false),
    ] {
        assert!(resources.contains(&(want.0.to_string(), want.1)), "{want:?} in {resources:?}");
    }
}

#[tokio::test]
async fn claims_are_validated_and_their_spec_is_immutable() {
    let (_s, c) = start().await;
    let (code, s) = send(&c, "POST", CLAIMS, claim("no-class", json!({"name": "gpu", "exactly": {}}))).await;
    assert_eq!(code, 422, "{s}");
    assert_eq!(
        s["message"],
        "ResourceClaim.resource.k8s.io \"no-class\" is invalid: spec.devices.requests[0].exactly.deviceClassName: Required value"
    );
    let (code, s) = send(&c, "POST", CLAIMS, claim("neither", json!({"name": "gpu"}))).await;
    assert_eq!(code, 422, "{s}");
    assert_eq!(
        s["message"],
        "ResourceClaim.resource.k8s.io \"neither\" is invalid: spec.devices.requests[0]: Required value: exactly one of `exactly` or `firstAvailable` is required"
    );
    let ok = claim("gpu", json!({"name": "gpu", "exactly": {"deviceClassName": "gpu.example.com"}}));
    let (code, created) = send(&c, "POST", CLAIMS, ok).await;
    assert_eq!(code, 201, "{created}");
    let mut changed = created.clone();
    changed["spec"]["devices"]["requests"][0]["exactly"]["deviceClassName"] = json!("other.example.com");
    let (code, s) = send(&c, "PUT", &format!("{CLAIMS}/gpu"), changed).await;
    assert_eq!(code, 422, "{s}");
    let message = s["message"].as_str().unwrap();
    assert!(message.starts_with("ResourceClaim.resource.k8s.io \"gpu\" is invalid: spec: Invalid value: "), "{message}");
    assert!(message.ends_with(": field is immutable"), "{message}");
}

#[tokio::test]
async fn a_claims_status_is_written_through_its_subresource_only() {
    let (_s, c) = start().await;
    let (code, created) =
        send(&c, "POST", CLAIMS, claim("gpu", json!({"name": "gpu", "exactly": {"deviceClassName": "gpu.example.com"}}))).await;
    assert_eq!(code, 201, "{created}");
    let allocation = json!({"devices": {"results": [{"request": "gpu", "driver": "gpu.example.com", "pool": "n1", "device": "gpu-0"}]},
        "nodeSelector": {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]}});
    // Through the main resource the status is taken back from storage.
    let mut main = created.clone();
    main["status"] = json!({"allocation": allocation});
    let (code, s) = send(&c, "PUT", &format!("{CLAIMS}/gpu"), main).await;
    assert_eq!(code, 200, "{s}");
    assert!(s["status"].get("allocation").is_none(), "{s}");
    // Through /status it is kept.
    let mut status = s.clone();
    status["status"] = json!({"allocation": allocation});
    let (code, s) = send(&c, "PUT", &format!("{CLAIMS}/gpu/status"), status).await;
    assert_eq!(code, 200, "{s}");
    assert_eq!(s["status"]["allocation"], allocation);
}

#[tokio::test]
async fn kubectl_lists_device_classes_and_claims() {
    let env = ToolEnv::start().await;
    let manifest = r#"
apiVersion: resource.k8s.io/v1
kind: DeviceClass
metadata: {name: gpu.example.com}
spec:
  selectors:
    - cel: {expression: 'device.driver == "gpu.example.com"'}
---
apiVersion: resource.k8s.io/v1
kind: ResourceClaim
metadata: {name: gpu}
spec:
  devices:
    requests:
      - name: gpu
        exactly: {deviceClassName: gpu.example.com}
"#;
    let (ok, out, err) = env.run_tool(Tool::Kubectl, &["apply", "-f", "-"], manifest).await;
    assert!(ok, "{err}\n{out}");
    assert!(out.contains("deviceclass.resource.k8s.io/gpu.example.com created"), "{out}");
    assert!(out.contains("resourceclaim.resource.k8s.io/gpu created"), "{out}");
    let (ok, out, err) = env.run_tool(Tool::Kubectl, &["get", "resourceclaims", "-o", "name"], "").await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "resourceclaim.resource.k8s.io/gpu");
    let (ok, out, err) = env.run_tool(Tool::Kubectl, &["get", "deviceclasses", "-o", "name"], "").await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "deviceclass.resource.k8s.io/gpu.example.com");
}
